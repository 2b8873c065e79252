/* iam.h - internals shared by the IAM handlers (users.c, keys.c, roles.c,
 * tags.c), identity resolution (resolve.c) and STS (src/svc/sts/sts.c).
 *
 * IAM is global per account: every table is keyed by account and the
 * region is ignored. Entity names compare case-insensitively (COLLATE
 * NOCASE), as IAM does, but keep the case they were created with. */
#ifndef FB_SVC_IAM_IAM_H
#define FB_SVC_IAM_IAM_H
#include "core/compat.h"
#include "aws/call.h"

struct fogbank;

/* Length of a generated id: 4-letter prefix + 16 base32 characters. */
#define IAM_ID_LEN 20
/* Length of a generated secret access key. */
#define IAM_SECRET_LEN 40

/* iam_account: the caller's account (the core always sets it; the fallback
 * keeps a misconfigured call from writing rows with a NULL account). */
static inline const char *iam_account(const struct aws_call *c)
{
	return c->account ? c->account : "000000000000";
}

/* iam_new_id: writes prefix (4 chars: AIDA, AROA, AKIA, ASIA) followed by
 * 16 random characters of [A-Z2-7] and a NUL into out. Aborts if the
 * CSPRNG fails. */
void iam_new_id(char out[IAM_ID_LEN + 1], const char *prefix);
/* iam_new_secret: 40 random base64 characters (30 random bytes) and a NUL. */
void iam_new_secret(char out[IAM_SECRET_LEN + 1]);

/* iam_seal: encrypts plain[0..n) with AES-256-GCM under the data dir's
 * master key, bound to aad (the key id) so a sealed blob cannot be moved to
 * another row. Returns an arena blob of *out_n bytes, or NULL when the
 * master key is unavailable (logged). */
unsigned char *iam_seal(struct fogbank *fb, struct arena *a, const char *aad, const char *plain,
			size_t n, size_t *out_n);
/* iam_unseal: the inverse of iam_seal. Returns the plaintext as an arena
 * NUL-terminated string, or NULL when blob is damaged or the key wrong. */
char *iam_unseal(struct fogbank *fb, struct arena *a, const char *aad, const void *blob, size_t n);
/* iam_sealer_reset: forgets the cached master key (tests, data dir change). */
void iam_sealer_reset(void);

/* iam_arn: "arn:aws:iam::<account>:<kind><path><name>" for kind "user" or
 * "role" and a path like "/" or "/a/b/". Arena string. */
char *iam_arn(struct arena *a, const char *account, const char *kind, const char *path,
	      const char *name);
/* iam_valid_name: 1 when s is 1..max characters of [A-Za-z0-9_+=,.@-]. */
int iam_valid_name(struct str s, size_t max);
/* iam_valid_path: 1 when s is "/" or "/x.../" with characters 0x21..0x7E,
 * at most 512 long. */
int iam_valid_path(struct str s);
/* iam_url_encode: percent-encodes every byte but A-Za-z0-9-_.~ (how IAM
 * returns policy documents). Arena string. */
char *iam_url_encode(struct arena *a, const char *s);

/* iam_json_object: 1 when doc is well-formed JSON whose top level is an
 * object (a policy document's minimum), else 0. */
int iam_json_object(struct fogbank *fb, struct str doc);

/* iam_begin: starts the handler's write transaction. Returns 0, or -1 with
 * a ServiceFailure recorded on c. */
int iam_begin(struct aws_call *c);
/* iam_commit: commits; on failure rolls back and records ServiceFailure.
 * Returns 0 or -1. */
int iam_commit(struct aws_call *c);
/* iam_abort: rolls back (if a transaction is open) and returns -1; the
 * error must already be recorded with aws_fail. */
int iam_abort(struct aws_call *c);
/* iam_db_error: rolls back, records ServiceFailure (500) naming what failed
 * and returns -1. */
int iam_db_error(struct aws_call *c, const char *what);

/* iam_caller_user: the IAM user name the caller acts as, for operations
 * whose UserName defaults to the caller. Sets *name to the user name, or to
 * NULL for the account root. Returns 0, or -1 with ValidationError recorded
 * when the caller is not a user (an assumed role). */
int iam_caller_user(struct aws_call *c, const char **name);

/* iam_user_exists: looks up user name in c's account. Returns 1 and sets
 * *canon (arena, the stored spelling) when found, 0 when not, -1 on a
 * database error (ServiceFailure recorded). canon may be NULL. */
int iam_user_exists(struct aws_call *c, const char *name, const char **canon);

/* The page window of a List* call: MaxItems (default 100) and Marker. */
struct iam_page {
	int64_t max;
	const char *marker; /* NULL: from the start */
};
/* iam_page_get: reads MaxItems and Marker from c->in. Returns 0, or -1 with
 * ValidationError recorded when MaxItems is outside 1..1000. */
int iam_page_get(struct aws_call *c, struct iam_page *pg);

/* Tags of users and roles (kind "user" or "role"); keys compare
 * case-insensitively, as IAM does for users and roles. */
/* iam_tags_validate: checks a Tags input list (keys 1..128, values
 * 0..256, no duplicate keys, at most 50). Returns 0, or -1 with the error
 * recorded. */
int iam_tags_validate(struct aws_call *c, const struct jv *tags);
/* iam_tags_put: adds or replaces tags (validated) on an entity inside the
 * caller's transaction, then enforces the 50-tag limit (LimitExceeded).
 * Returns 0 or -1 (error recorded; the caller rolls back). */
int iam_tags_put(struct aws_call *c, const char *kind, const char *name, const struct jv *tags);
/* iam_tags_list: the entity's tags as a JV_ARRAY of {Key, Value} in key
 * order, or NULL (error recorded) on a database error. */
struct jv *iam_tags_list(struct aws_call *c, const char *kind, const char *name);
/* iam_tags_drop: deletes all tags of an entity (inside the caller's
 * transaction). Returns 0 or -1 (error recorded). */
int iam_tags_drop(struct aws_call *c, const char *kind, const char *name);

/* A role as STS needs it. Strings live in the arena given to the lookup. */
struct iam_role {
	const char *name;
	const char *path;
	const char *id; /* AROA... */
	const char *arn;
	int64_t max_session_s;
};
/* iam_role_find: looks up role name in account. Returns 1 and fills *out,
 * 0 when there is no such role, -1 on a database error. */
int iam_role_find(struct fogbank *fb, struct arena *a, const char *account, const char *name,
		  struct iam_role *out);

/* iam_cache_forget: drops access key akid from the resolve cache; call it
 * whenever a key's row changes or goes away. */
void iam_cache_forget(const char *akid);
#endif
