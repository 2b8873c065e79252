/* internal.h - what the files of src/svc/secretsmanager share: the secret
 * row, SecretId resolution (name, full ARN, partial ARN), the version and
 * staging-label machinery, value encryption through KMS, and the list
 * filters. */
#ifndef FB_SVC_SM_INTERNAL_H
#define FB_SVC_SM_INTERNAL_H
#include "core/compat.h"
#include "core/str.h"
#include "aws/call.h"
#include "svc/secretsmanager/secretsmanager.h"

#define SM_CURRENT "AWSCURRENT"
#define SM_PREVIOUS "AWSPREVIOUS"
#define SM_PENDING "AWSPENDING"
#define SM_MANAGED_ALIAS "aws/secretsmanager"
#define SM_MAX_DEPRECATED 100 /* versions without labels kept per secret */
#define SM_MAX_TAGS 50

/* A row of sm_secrets; strings live in the call's arena. */
struct sm_secret {
	int64_t id;
	const char *arn;
	const char *name;
	const char *description; /* NULL when never set */
	const char *kms_key_id;	 /* as given; NULL: the aws/secretsmanager key */
	const char *policy;	 /* NULL when none */
	double created, last_changed, last_accessed; /* 0: never */
	double deleted_date, purge_at;		     /* 0: not scheduled */
};

/* --- store.c --- */

/* sm_fail_db: records InternalServiceError for sqlite error rc. */
int sm_fail_db(struct aws_call *c, int rc);
/* sm_not_found: ResourceNotFoundException for a missing secret. */
int sm_not_found(struct aws_call *c);
/* sm_check_live: InvalidRequestException when s is scheduled for deletion. */
int sm_check_live(struct aws_call *c, const struct sm_secret *s);
/* sm_tx_begin / sm_tx_end: a handler's transaction; sm_tx_end commits when
 * ok is 0 (returning -1 if the commit fails) and rolls back otherwise. */
int sm_tx_begin(struct aws_call *c);
int sm_tx_end(struct aws_call *c, int ok);
/* sm_secret_find: resolves SecretId (name, full ARN, or partial ARN: the
 * ARN without its 6-character suffix) in the call's account and region.
 * A secret whose recovery window has passed is purged and not found.
 * Returns 0, or -1 with ResourceNotFoundException. */
int sm_secret_find(struct aws_call *c, const char *secret_id, struct sm_secret *s);
/* sm_parse_arn: for "arn:<p>:secretsmanager:<region>:<account>:secret:<x>"
 * sets region, account (arena) and the resource after "secret:"; -1 if
 * secret_id is not such an ARN. */
int sm_parse_arn(struct arena *a, const char *secret_id, const char **region, const char **account,
		 const char **rest);
/* sm_purge_one: deletes secret id and everything it owns (joins an open
 * transaction, else uses its own). SQLITE_DONE or an error code. */
int sm_purge_one(struct db *db, int64_t id);
/* sm_touch: sets last_changed of secret id to the call's time. */
int sm_touch(struct aws_call *c, int64_t id);
/* sm_secret_entry: the DescribeSecret / SecretListEntry fields of s into
 * o; stages_key names the version map ("VersionIdsToStages" or
 * "SecretVersionsToStages"). */
void sm_secret_entry(struct aws_call *c, const struct sm_secret *s, struct jv *o,
		     const char *stages_key);
/* sm_arn_name: sets ARN and Name on the output. */
void sm_out_arn_name(struct aws_call *c, const struct sm_secret *s);

/* --- versions.c --- */

/* A secret value as handlers pass it around. */
struct sm_value {
	int binary;	/* 1: SecretBinary, 0: SecretString */
	struct str val; /* the bytes */
};
/* sm_value_arg: reads SecretString / SecretBinary from the input. Returns
 * 1 when one is present, 0 when neither, -1 when both (with
 * InvalidParameterException). */
int sm_value_arg(struct aws_call *c, struct sm_value *v);
/* sm_token_arg: ClientRequestToken or a fresh UUID (arena); NULL with
 * InvalidParameterException when malformed. */
const char *sm_token_arg(struct aws_call *c);
/* sm_version_exists: 1 if version_id exists; when it does and v is given,
 * compares the stored value with v: different -> -1 with
 * ResourceExistsException (versions are immutable), decryption failure ->
 * -1. 0 when it does not exist. */
int sm_version_exists(struct aws_call *c, const struct sm_secret *s, const char *version_id,
		      const struct sm_value *v);
/* sm_version_add: encrypts v under the secret's KMS key (bound to the
 * secret ARN and version id) and stores version version_id with the labels
 * in stages (NULL: AWSCURRENT), moving them off other versions; moving
 * AWSCURRENT hands AWSPREVIOUS to the version that had it. Trims
 * deprecated versions. No transaction of its own. */
int sm_version_add(struct aws_call *c, const struct sm_secret *s, const char *version_id,
		   const struct sm_value *v, const struct jv *stages);
/* sm_stage_attach: points label stage of secret id at version_id, with the
 * AWSCURRENT -> AWSPREVIOUS rule. */
int sm_stage_attach(struct aws_call *c, int64_t id, const char *stage, const char *version_id);
/* sm_stages_sync: refreshes sm_versions.stages (the denormalized label
 * list GetSecretValue reads) of every version of secret id; call after
 * changing its labels. */
int sm_stages_sync(struct aws_call *c, int64_t id);
/* sm_version_stages: the labels of one version as a JV_ARRAY. */
struct jv *sm_version_stages(struct aws_call *c, int64_t id, const char *version_id);
/* sm_encrypt / sm_decrypt: a value's ciphertext under key_ref (NULL: the
 * managed key), bound to arn + version id; errors become EncryptionFailure
 * / DecryptionFailure. sm_encrypt sets *key_label to the label shown in
 * KmsKeyIds. */
int sm_encrypt(struct aws_call *c, const char *key_ref, const char *arn, const char *version_id,
	       struct str plaintext, struct str *blob, const char **key_label);
int sm_decrypt(struct aws_call *c, const char *arn, const char *version_id, struct str blob,
	       struct str *plaintext);
/* sm_reencrypt_labelled: re-encrypts the AWSCURRENT, AWSPREVIOUS and
 * AWSPENDING versions of s under key_ref (after a KmsKeyId change). */
int sm_reencrypt_labelled(struct aws_call *c, const struct sm_secret *s, const char *key_ref);

/* --- tags.c --- */

/* sm_tags_check: validates a TagListType (NULL fine); InvalidParameterException. */
int sm_tags_check(struct aws_call *c, const struct jv *tags);
/* sm_tags_put: upserts tags on secret id (no transaction of its own). */
int sm_tags_put(struct aws_call *c, int64_t id, const struct jv *tags);
/* sm_tags_of: the secret's tags as a TagListType array (arena). */
struct jv *sm_tags_of(struct aws_call *c, int64_t id);

/* --- list.c --- */

/* sm_filters_check: validates a Filters list; InvalidParameterException. */
int sm_filters_check(struct aws_call *c, const struct jv *filters);
/* sm_filters_match: 1 when s (with tags, a TagListType array) passes every
 * filter. */
int sm_filters_match(const struct jv *filters, const struct sm_secret *s, const struct jv *tags);
/* sm_list_load: the secrets of the call's account and region, ordered by
 * creation (desc when desc), deleted ones only with include_deleted.
 * Returns the count; *out is an arena array. */
size_t sm_list_load(struct aws_call *c, int desc, int include_deleted, struct sm_secret **out);
/* sm_page_token: NextToken (an offset) into *offset; -1 with
 * InvalidNextTokenException. */
int sm_page_token(struct aws_call *c, size_t *offset);

/* --- hot.c: the GetSecretValue cache (ciphertext only, never plaintext) --- */

/* One cached value query: what sm_value_entry needs to answer without
 * SQLite. The views point into data[] and live until the next
 * sm_hot_insert or cache use after a change (so copy what must outlive the
 * current sm_value_entry call). */
struct sm_hot {
	uint64_t hash;
	size_t size; /* bytes of this allocation */
	struct str key;
	int64_t id;
	double deleted_date, purge_at, last_accessed, created;
	int has_version, binary;
	struct str arn, name, version_id, blob, stages;
	char data[];
};
/* sm_hot_hash: the hash sm_hot_find and sm_hot_insert use for a key. */
uint64_t sm_hot_hash(const char *p, size_t n);
/* sm_hot_find: the entry for key (hash = sm_hot_hash(key)) in db's cache,
 * or NULL; empties the cache first when anything changed since it was
 * filled. */
const struct sm_hot *sm_hot_find(struct db *db, struct str key, uint64_t hash);
/* sm_hot_alloc: an entry with data_n bytes of data[] for the caller to
 * fill (hash, key and the views); NULL when too big to cache. Zeroed
 * header; pass it to sm_hot_insert (which owns it from then on). */
struct sm_hot *sm_hot_alloc(size_t data_n);
/* sm_hot_insert: adds e, evicting what it must to stay in bounds. Call
 * only with data read at the current generation (no write since). */
void sm_hot_insert(struct db *db, struct sm_hot *e);
/* sm_hot_invalidate: every entry is stale (call around every write). */
void sm_hot_invalidate(void);
/* sm_hot_generation: the current generation (flushing a stale cache). */
uint64_t sm_hot_generation(struct db *db);
/* sm_hot_accessed: after GetSecretValue's LastAccessedDate update of
 * secret id to day, begun at generation before: when that update was the
 * only change, keeps the entries (with the new day) instead of losing them. */
void sm_hot_accessed(struct db *db, uint64_t before, int64_t id, double day);
/* sm_hot_count / sm_hot_contains: entries held, and whether needle (n
 * bytes) occurs in any of them; for tests and diagnostics. */
size_t sm_hot_count(void);
int sm_hot_contains(const void *needle, size_t n);

/* --- values.c --- */

/* sm_value_entry: the GetSecretValue output for secret_id (VersionId /
 * VersionStage may be NULL: AWSCURRENT) into o. 0 or -1 with the error. */
int sm_value_entry(struct aws_call *c, const char *secret_id, const char *version_id,
		   const char *version_stage, struct jv *o);
#endif
