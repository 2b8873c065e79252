/* keys.h - what the core needs from IAM: the identity behind an access key
 * (called by the SigV4 check on every request) and IAM's schema.
 *
 * Accepted credentials (LocalStack's conventions, which users rely on):
 *   "test" / "test"            root of account 000000000000
 *   any 12 digits / "test"     root of that account
 *   AKIA... from CreateAccessKey   the key's user (or root for root keys)
 *   ASIA... from STS           the assumed role / the GetSessionToken
 *                              caller, with the matching session token
 * The first two never touch SQLite; minted keys are one indexed SELECT,
 * then served from an in-memory cache. */
#ifndef FB_SVC_IAM_KEYS_H
#define FB_SVC_IAM_KEYS_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/str.h"
#include "store/db.h"

struct fogbank;
struct identity;

/* Results of iam_resolve_key besides 0. */
#define IAM_KEY_UNKNOWN -1  /* InvalidClientTokenId / UnrecognizedClientException */
#define IAM_KEY_INACTIVE -2 /* deactivated key: InvalidClientTokenId too */
/* temporary key: session token missing or wrong (AWS: InvalidClientTokenId) */
#define IAM_KEY_BAD_TOKEN -3
#define IAM_KEY_EXPIRED -4 /* temporary key past its expiry (AWS: ExpiredToken) */

/* iam_resolve_key: finds the secret and identity for access key id akid
 * (and session token, for temporary keys). Returns 0 and sets *secret
 * (arena string) and *who (arena strings), or -1 when the key is unknown
 * (InvalidClientTokenId / UnrecognizedClientException), -2 when the key is
 * inactive, -3 when the session token is missing/wrong for a temporary
 * key, -4 when the temporary key has expired (so callers treating every
 * other negative as "bad token" stay right). session_token is ignored for
 * long-term keys. */
int iam_resolve_key(struct fogbank *fb, struct arena *a, struct str akid, struct str session_token,
		    int64_t now_ms, const char **secret, struct identity *who);

/* iam_cache_reset: empties the resolve cache (wiping cached secrets). The
 * cache also empties itself when it sees a different fb->db, so this is
 * only needed before freeing the process or in tests. */
void iam_cache_reset(void);

/* iam_key_used: records that access key akid just signed a request to
 * <service> in <region> (long-term AKIA keys only; others are ignored).
 * Memory only until iam_usage_flush. Loop thread. */
void iam_key_used(struct fogbank *fb, struct str akid, struct str service, struct str region,
		  int64_t now_ms);
/* iam_usage_flush: writes the recorded uses to the store, in one
 * transaction (skipped while another one is open). For the daemon's
 * timer and shutdown. */
void iam_usage_flush(struct fogbank *fb);
/* iam_key_last_used: the use of akid recorded since the last flush into
 * the out parameters (static strings, valid until the next use); 1, or 0
 * when there is none in memory (the store has the rest). */
int iam_key_last_used(const char *akid, int64_t *ms, const char **service, const char **region);

/* IAM and STS tables (users, roles, tags, access keys, STS sessions), for
 * db_open; ended by {NULL}. */
extern const struct db_migration iam_migrations[];
#endif
