/* resolve.c - iam_resolve_key, on the hot path of every signed request.
 *
 * "test" and 12-digit keys are answered from the key itself. Minted keys
 * (AKIA from CreateAccessKey, ASIA from STS) take one indexed SELECT and
 * an AES-GCM open, and are then kept in a small in-process cache, so a
 * client reusing a key costs a hash probe. The cache is emptied whenever a
 * key changes (iam_cache_forget), when it fills up, and when fb->db
 * changes; temporary keys are still checked against their token and
 * expiry on every hit. */
#include "svc/iam/keys.h"
#include "svc/iam/iam.h"
#include "core/log.h"
#include "fb.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>

#define CACHE_SLOTS 1024 /* power of two */
#define CACHE_FILL 768	 /* flush when this many are held */

struct cache_entry {
	char akid[IAM_ID_LEN + 1]; /* "" when the slot is free */
	int active;
	int temporary;
	int is_root;
	int64_t expires_ms;
	unsigned char token_sha[SHA256_DIGEST_LENGTH];
	char *mem; /* one malloc block holding the four strings below */
	const char *secret, *account, *arn, *user_id;
	size_t mem_n;
};

static struct {
	const struct db *db;
	size_t count;
	struct cache_entry e[CACHE_SLOTS];
} cache;

/* cache_clear: empties every slot, wiping secrets before freeing them;
 * the owning db is kept. */
static void cache_clear(void)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cache_entry *e = &cache.e[i];
		if (e->mem) {
			OPENSSL_cleanse(e->mem, e->mem_n);
			free(e->mem);
		}
		memset(e, 0, sizeof(*e));
	}
	cache.count = 0;
}

/* iam_cache_reset: see keys.h. */
void iam_cache_reset(void)
{
	cache_clear();
	cache.db = NULL;
}

/* iam_cache_forget: see iam.h. Key changes are rare, so this simply
 * empties the whole cache rather than unlinking one open-addressing slot. */
void iam_cache_forget(const char *akid)
{
	FB_UNUSED(akid);
	cache_clear();
}

/* slot_of: first probe position for akid (FNV-1a). */
static size_t slot_of(const char *akid, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)akid[i]) * 16777619u;
	return h & (CACHE_SLOTS - 1);
}

/* cache_find: the entry for akid, or NULL. */
static struct cache_entry *cache_find(struct str akid)
{
	for (size_t i = slot_of(akid.p, akid.n), k = 0; k < CACHE_SLOTS;
	     k++, i = (i + 1) & (CACHE_SLOTS - 1)) {
		struct cache_entry *e = &cache.e[i];
		if (!e->akid[0])
			return NULL;
		if (str_eq_c(akid, e->akid))
			return e;
	}
	return NULL;
}

/* cache_put: stores a copy of *src (strings copied into one block).
 * Returns the stored entry, or src itself when out of memory. */
static struct cache_entry *cache_put(struct cache_entry *src)
{
	if (cache.count >= CACHE_FILL)
		cache_clear();
	size_t ls = strlen(src->secret) + 1, la = strlen(src->account) + 1;
	size_t lr = strlen(src->arn) + 1, lu = strlen(src->user_id) + 1;
	char *m = malloc(ls + la + lr + lu);
	if (!m)
		return src;
	size_t i = slot_of(src->akid, strlen(src->akid));
	while (cache.e[i].akid[0])
		i = (i + 1) & (CACHE_SLOTS - 1);
	struct cache_entry *e = &cache.e[i];
	*e = *src;
	e->mem = m;
	e->mem_n = ls + la + lr + lu;
	e->secret = memcpy(m, src->secret, ls);
	e->account = memcpy(m + ls, src->account, la);
	e->arn = memcpy(m + ls + la, src->arn, lr);
	e->user_id = memcpy(m + ls + la + lr, src->user_id, lu);
	cache.count++;
	return e;
}

/* load_long_term: fills *e from iam_access_keys (joined with the owner).
 * Returns 1 found, 0 unknown (or undecryptable), -1 database error. */
static int load_long_term(struct fogbank *fb, struct arena *a, const char *akid,
			  struct cache_entry *e)
{
	sqlite3_stmt *st =
	    db_stmt(fb->db, "SELECT k.account, k.user_name, k.active, k.secret_enc, u.path, u.id "
			    "FROM iam_access_keys k LEFT JOIN iam_users u ON "
			    "u.account = k.account AND u.name = k.user_name WHERE k.akid = ?1");
	sqlite3_bind_text(st, 1, akid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW) {
		const char *account = arena_strdup(a, db_col_text(st, 0));
		const char *user = db_col_text(st, 1);
		e->active = sqlite3_column_int(st, 2);
		e->secret = iam_unseal(fb, a, akid, sqlite3_column_blob(st, 3),
				       (size_t)sqlite3_column_bytes(st, 3));
		e->account = account;
		if (user && !*user) {
			e->is_root = 1;
			e->arn = arena_sprintf(a, "arn:aws:iam::%s:root", account);
			e->user_id = account;
		} else if (user && db_col_text(st, 4)) {
			e->arn = iam_arn(a, account, "user", db_col_text(st, 4), user);
			e->user_id = arena_strdup(a, db_col_text(st, 5));
		}
		found = e->secret && e->arn;
		if (!e->secret)
			log_warn("iam: cannot open the sealed secret of %s (master.key changed?)",
				 akid);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? found : rc == SQLITE_DONE ? 0 : -1;
}

/* load_temporary: fills *e from sts_sessions. Returns 1, 0 or -1 as
 * load_long_term. */
static int load_temporary(struct fogbank *fb, struct arena *a, const char *akid,
			  struct cache_entry *e)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT account, arn, user_id, is_root, token_sha256, "
					   "secret_enc, expires_ms FROM sts_sessions "
					   "WHERE akid = ?1");
	sqlite3_bind_text(st, 1, akid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 4) == SHA256_DIGEST_LENGTH) {
		e->temporary = 1;
		e->active = 1;
		e->account = arena_strdup(a, db_col_text(st, 0));
		e->arn = arena_strdup(a, db_col_text(st, 1));
		e->user_id = arena_strdup(a, db_col_text(st, 2));
		e->is_root = sqlite3_column_int(st, 3);
		memcpy(e->token_sha, sqlite3_column_blob(st, 4), SHA256_DIGEST_LENGTH);
		e->secret = iam_unseal(fb, a, akid, sqlite3_column_blob(st, 5),
				       (size_t)sqlite3_column_bytes(st, 5));
		e->expires_ms = sqlite3_column_int64(st, 6);
		found = e->secret != NULL;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? found : rc == SQLITE_DONE ? 0 : -1;
}

/* minted_shape: 1 when akid looks like a key fogbank mints: AKIA/ASIA and
 * 16 more of [A-Z0-9]. Anything else is refused before touching SQLite. */
static int minted_shape(struct str akid)
{
	if (akid.n != IAM_ID_LEN ||
	    !(str_has_prefix_c(akid, "AKIA") || str_has_prefix_c(akid, "ASIA")))
		return 0;
	for (size_t i = 4; i < akid.n; i++)
		if (!((akid.p[i] >= 'A' && akid.p[i] <= 'Z') ||
		      (akid.p[i] >= '0' && akid.p[i] <= '9')))
			return 0;
	return 1;
}

/* twelve_digits: 1 when s is exactly 12 ASCII digits. */
static int twelve_digits(struct str s)
{
	if (s.n != 12)
		return 0;
	for (size_t i = 0; i < 12; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return 1;
}

/* iam_resolve_key: see keys.h. */
int iam_resolve_key(struct fogbank *fb, struct arena *a, struct str akid, struct str session_token,
		    int64_t now_ms, const char **secret, struct identity *who)
{
	memset(who, 0, sizeof(*who));
	if (str_eq_c(akid, "test") || twelve_digits(akid)) {
		/* the hot path of every default-credential request: no printf */
		static const char pre[] = "arn:aws:iam::", post[] = ":root";
		const char *account = twelve_digits(akid) ? arena_str(a, akid) : "000000000000";
		char *arn = arena_alloc(a, sizeof(pre) - 1 + 12 + sizeof(post));
		memcpy(arn, pre, sizeof(pre) - 1);
		memcpy(arn + sizeof(pre) - 1, account, 12);
		memcpy(arn + sizeof(pre) - 1 + 12, post, sizeof(post));
		who->access_key = akid.n == 4 ? "test" : account;
		who->account = account;
		who->arn = arn;
		who->user_id = account;
		who->is_root = 1;
		*secret = "test";
		return 0;
	}
	if (!minted_shape(akid) || !fb || !fb->db)
		return IAM_KEY_UNKNOWN;

	if (cache.db != fb->db) {
		iam_cache_reset();
		cache.db = fb->db;
	}
	struct cache_entry *e = cache_find(akid), tmp;
	if (!e) {
		memset(&tmp, 0, sizeof(tmp));
		memcpy(tmp.akid, akid.p, akid.n);
		int rc = akid.p[0] == 'A' && akid.p[1] == 'S'
			     ? load_temporary(fb, a, tmp.akid, &tmp)
			     : load_long_term(fb, a, tmp.akid, &tmp);
		if (rc < 0)
			log_error("iam: key lookup failed: %s", sqlite3_errmsg(db_sqlite(fb->db)));
		if (rc <= 0)
			return IAM_KEY_UNKNOWN;
		e = cache_put(&tmp);
	}
	if (!e->active)
		return IAM_KEY_INACTIVE;
	if (e->temporary) {
		unsigned char sha[SHA256_DIGEST_LENGTH];
		if (!session_token.n)
			return IAM_KEY_BAD_TOKEN;
		SHA256((const unsigned char *)session_token.p, session_token.n, sha);
		if (CRYPTO_memcmp(sha, e->token_sha, sizeof(sha)) != 0)
			return IAM_KEY_BAD_TOKEN;
		if (now_ms >= e->expires_ms)
			return IAM_KEY_EXPIRED;
		who->session_token = arena_str(a, session_token);
	}
	who->access_key = arena_strdup(a, e->akid);
	who->account = arena_strdup(a, e->account);
	who->arn = arena_strdup(a, e->arn);
	who->user_id = arena_strdup(a, e->user_id);
	who->is_root = e->is_root;
	*secret = arena_strdup(a, e->secret);
	return 0;
}
