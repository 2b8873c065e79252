/* internal.h - what the files of src/svc/kms share: the key row, key
 * resolution, the keyring's AES-GCM primitives and cache, the ciphertext
 * blob format. Not for other services (they use kms.h). */
#ifndef FB_SVC_KMS_INTERNAL_H
#define FB_SVC_KMS_INTERNAL_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/str.h"
#include "aws/call.h"
#include "svc/kms/kms.h"

#define KMS_KEY_BYTES 32 /* AES-256 key material */
#define KMS_IV_BYTES 12
#define KMS_TAG_BYTES 16
#define KMS_ID_LEN 36 /* a key id is a lowercase UUID */
/* wrapped key material: version, iv, ciphertext, tag */
#define KMS_WRAPPED_LEN (1 + KMS_IV_BYTES + KMS_KEY_BYTES + KMS_TAG_BYTES)
/* ciphertext blob: version, key id, iv, ciphertext, tag */
#define KMS_BLOB_VERSION 1
#define KMS_BLOB_HEAD (1 + KMS_ID_LEN)
#define KMS_BLOB_OVERHEAD (KMS_BLOB_HEAD + KMS_IV_BYTES + KMS_TAG_BYTES)

enum kms_state {
	KMS_STATE_ENABLED = 1,
	KMS_STATE_DISABLED = 2,
	KMS_STATE_PENDING_DELETION = 3,
};

/* A row of kms_keys; strings live in the call's arena. */
struct kms_key {
	const char *id;
	const char *account;
	const char *region;
	const char *arn;
	const char *description;
	const char *policy; /* NULL: the default policy */
	int state;	    /* enum kms_state */
	int aws_managed;    /* KeyManager AWS */
	int rotation;	    /* automatic rotation enabled */
	double created;	    /* epoch seconds */
	double deletion_date;
	int pending_days;
};

/* --- keys.c: resolution and metadata --- */

/* kms_key_find: resolves ref (key id, key ARN, and when allow_alias also an
 * alias name or alias ARN) in the call's account and region into *k; a key
 * whose deletion window has passed is purged and not found. Returns 0, or
 * -1 with NotFoundException (or ValidationException for an alias where
 * only keys are accepted) set. */
int kms_key_find(struct aws_call *c, const char *ref, int allow_alias, struct kms_key *k);
/* kms_key_load: loads key id into *k regardless of account; 1 found, 0 not. */
int kms_key_load(struct aws_call *c, const char *id, struct kms_key *k);
/* kms_key_check_usable: 0 when k can encrypt/decrypt, else -1 with
 * DisabledException or KMSInvalidStateException set. */
int kms_key_check_usable(struct aws_call *c, const struct kms_key *k);
/* kms_key_check_not_pending: -1 with KMSInvalidStateException when k is
 * pending deletion, else 0 (for management operations). */
int kms_key_check_not_pending(struct aws_call *c, const struct kms_key *k);
/* kms_key_metadata: the KeyMetadata structure for k (arena). */
struct jv *kms_key_metadata(struct aws_call *c, const struct kms_key *k);
/* kms_key_arn: "arn:aws:kms:<region>:<account>:key/<id>" in arena a. */
const char *kms_key_arn(struct arena *a, const char *region, const char *account, const char *id);
/* kms_key_insert: creates a key row with fresh wrapped material; *id_out
 * gets the new id (arena). Returns 0 or -1 with KMSInternalException. No
 * transaction of its own. */
int kms_key_insert(struct aws_call *c, const char *description, int aws_managed, const char *policy,
		   const char **id_out);
/* kms_fail_db: records KMSInternalException for a failed statement (rc). */
int kms_fail_db(struct aws_call *c, int rc);
/* kms_tx_begin / kms_tx_end: a transaction around a handler's writes.
 * kms_tx_end commits when ok is 0 (returning -1 with an error if the
 * commit fails) and rolls back otherwise; returns ok's outcome. */
int kms_tx_begin(struct aws_call *c);
int kms_tx_end(struct aws_call *c, int ok);
/* kms_check_policy: 0 when policy is NULL or a JSON object, else -1 with
 * MalformedPolicyDocumentException. */
int kms_check_policy(struct aws_call *c, const char *policy);
/* kms_page_args: Limit (default 100, 1..1000) and Marker (a rowid) of a
 * List* call; -1 with ValidationException / InvalidMarkerException. */
int kms_page_args(struct aws_call *c, int64_t *after, int64_t *limit);
/* kms_page_finish: sets Truncated and, when more, NextMarker = last. */
int kms_page_finish(struct aws_call *c, int more, int64_t last);

/* --- tags.c --- */

/* kms_tags_check: validates a TagList (NULL is fine): keys 1..128 chars not
 * starting with "aws:", at most 50. -1 with TagException. */
int kms_tags_check(struct aws_call *c, const struct jv *tags);
/* kms_tags_put: upserts tags on key id (no transaction of its own). */
int kms_tags_put(struct aws_call *c, const char *id, const struct jv *tags);

/* --- keyring.c: master key, AES-GCM and the material cache --- */

/* kms_aead_seal: AES-256-GCM of pt[0..n) into ct (n bytes) and tag. */
int kms_aead_seal(struct kms_keyring *kr, const unsigned char *key, const unsigned char *iv,
		  const void *aad, size_t aad_n, const void *pt, size_t n, unsigned char *ct,
		  unsigned char *tag);
/* kms_aead_open: the inverse; -1 when the tag does not verify. */
int kms_aead_open(struct kms_keyring *kr, const unsigned char *key, const unsigned char *iv,
		  const void *aad, size_t aad_n, const void *ct, size_t n, const unsigned char *tag,
		  unsigned char *pt);
/* kms_keyring_wrap: encrypts material under the master key, bound to id. */
int kms_keyring_wrap(struct kms_keyring *kr, const char *id, const unsigned char *material,
		     unsigned char *wrapped);
/* kms_keyring_unwrap: inverse of kms_keyring_wrap; -1 if the master key is
 * not the one that wrapped it or the bytes were altered. */
int kms_keyring_unwrap(struct kms_keyring *kr, const char *id, const unsigned char *wrapped,
		       size_t n, unsigned char *material);
/* A cached key: enough to decrypt without touching the database. */
struct kms_cached_key {
	char id[KMS_ID_LEN + 1];
	char account[16];
	char region[48];
	int state;
	int live; /* 0: slot unused or forgotten */
	unsigned char material[KMS_KEY_BYTES];
};
/* kms_keyring_get: the cached entry for key id (KMS_ID_LEN bytes), loading
 * it from the database on a miss. NULL when no such key exists; -1-style
 * failure (master key mismatch) also gives NULL with KMSInternalException
 * set, so callers check c->err_code. The pointer is valid until the next
 * keyring call. */
const struct kms_cached_key *kms_keyring_get(struct aws_call *c, const char *id);
/* kms_keyring_forget: drops key id from the cache (after a state change). */
void kms_keyring_forget(struct kms_keyring *kr, const char *id);
/* kms_random: n random bytes from the OpenSSL CSPRNG; -1 on failure. */
int kms_random(void *out, size_t n);

/* --- envelope.c: ciphertext blobs --- */

/* kms_context_aad: the canonical encoding of an encryption context (pairs
 * sorted by key, each length-prefixed) appended after head[0..head_n), in
 * arena a; NULL/empty context gives just the head. */
struct str kms_context_aad(struct arena *a, const void *head, size_t head_n,
			   const struct jv *context);
/* kms_seal: a blob for plaintext under key material key (key id id). */
int kms_seal(struct kms_keyring *kr, struct arena *a, const char *id, const unsigned char *key,
	     struct str plaintext, const struct jv *context, struct str *blob);
/* kms_open: decrypts blob with key; -1 when the blob is malformed, the
 * context differs or anything was altered. */
int kms_open(struct kms_keyring *kr, struct arena *a, const unsigned char *key, struct str blob,
	     const struct jv *context, struct str *plaintext);
#endif
