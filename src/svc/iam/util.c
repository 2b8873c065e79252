/* util.c - small helpers every IAM handler and STS share: ids, ARNs,
 * input checks, transactions, the caller's user and List* paging. */
#include "svc/iam/iam.h"
#include "aws/fmt.h"
#include "core/log.h"
#include "fb.h"
#include "store/db.h"
#include <openssl/rand.h>

/* iam_new_id: see iam.h. 10 random bytes are exactly 16 base32 digits. */
void iam_new_id(char out[IAM_ID_LEN + 1], const char *prefix)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char r[10];
	if (RAND_bytes(r, sizeof(r)) != 1)
		fb_die("iam: RAND_bytes failed");
	memcpy(out, prefix, 4);
	uint64_t acc = 0;
	int bits = 0;
	size_t o = 4;
	for (size_t i = 0; i < sizeof(r); i++) {
		acc = (acc << 8) | r[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32[(acc >> bits) & 31];
		}
	}
	out[o] = 0;
}

/* iam_new_secret: see iam.h. */
void iam_new_secret(char out[IAM_SECRET_LEN + 1])
{
	unsigned char r[30];
	if (RAND_bytes(r, sizeof(r)) != 1)
		fb_die("iam: RAND_bytes failed");
	fmt_b64_encode(out, r, sizeof(r));
}

/* iam_arn: see iam.h. The path keeps its slashes, so "/" gives
 * "user/name" and "/a/b/" gives "user/a/b/name". */
char *iam_arn(struct arena *a, const char *account, const char *kind, const char *path,
	      const char *name)
{
	return arena_sprintf(a, "arn:aws:iam::%s:%s%s%s", account, kind, path, name);
}

/* iam_valid_name: see iam.h. */
int iam_valid_name(struct str s, size_t max)
{
	if (s.n < 1 || s.n > max)
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("_+=,.@-", ch)) ||
		    ch == 0)
			return 0;
	}
	return 1;
}

/* iam_valid_path: see iam.h. */
int iam_valid_path(struct str s)
{
	if (s.n < 1 || s.n > 512 || s.p[0] != '/' || s.p[s.n - 1] != '/')
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] < 0x21 || (unsigned char)s.p[i] > 0x7e)
			return 0;
	return 1;
}

/* iam_url_encode: see iam.h. */
char *iam_url_encode(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = arena_alloc(a, 3 * n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = 0;
	return out;
}

/* iam_begin: see iam.h. */
int iam_begin(struct aws_call *c)
{
	if (db_begin(c->fb->db) != SQLITE_OK)
		return aws_fail(c, 500, "ServiceFailure", "cannot start a transaction: %s",
				sqlite3_errmsg(db_sqlite(c->fb->db)));
	return 0;
}

/* iam_commit: see iam.h. */
int iam_commit(struct aws_call *c)
{
	if (db_commit(c->fb->db) != SQLITE_OK)
		return iam_db_error(c, "commit");
	return 0;
}

/* iam_abort: see iam.h. */
int iam_abort(struct aws_call *c)
{
	db_rollback(c->fb->db);
	return -1;
}

/* iam_db_error: see iam.h. The message is read before the rollback,
 * which would replace it. */
int iam_db_error(struct aws_call *c, const char *what)
{
	const char *msg = arena_strdup(c->a, sqlite3_errmsg(db_sqlite(c->fb->db)));
	db_rollback(c->fb->db);
	return aws_fail(c, 500, "ServiceFailure", "%s failed: %s", what, msg);
}

/* iam_caller_user: see iam.h. A user's ARN ends in "user/<path><name>",
 * so the name is what follows the last slash; this also covers session
 * credentials from GetSessionToken, which carry the user's own ARN. */
int iam_caller_user(struct aws_call *c, const char **name)
{
	const char *arn = c->who.arn;
	if (c->who.is_root || !arn) {
		*name = NULL;
		return 0;
	}
	const char *u = strstr(arn, ":user/");
	if (!u)
		return aws_fail(c, 400, "ValidationError",
				"Must specify userName when calling with non-User credentials");
	*name = strrchr(u, '/') + 1;
	return 0;
}

/* iam_user_exists: see iam.h. */
int iam_user_exists(struct aws_call *c, const char *name, const char **canon)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT name FROM iam_users WHERE account = ?1 AND name = ?2");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && canon)
		*canon = arena_strdup(c->a, db_col_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	aws_fail(c, 500, "ServiceFailure", "user lookup failed: %s",
		 sqlite3_errmsg(db_sqlite(c->fb->db)));
	return -1;
}

/* iam_page_get: see iam.h. */
int iam_page_get(struct aws_call *c, struct iam_page *pg)
{
	pg->max = jv_get_int(c->in, "MaxItems", 100);
	if (pg->max < 1 || pg->max > 1000)
		return aws_fail(c, 400, "ValidationError",
				"1 validation error detected: Value '%lld' at 'maxItems' failed to "
				"satisfy constraint: Member must have value between 1 and 1000",
				(long long)pg->max);
	pg->marker = jv_get_str(c->in, "Marker");
	return 0;
}

/* iam_json_object: see iam.h. SQLite's JSON1 does the parsing (strict
 * RFC 8259 in the SQLite Debian ships). */
int iam_json_object(struct fogbank *fb, struct str doc)
{
	if (!doc.p)
		return 0;
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT CASE WHEN json_valid(?1) "
					   "THEN json_type(?1) = 'object' ELSE 0 END");
	sqlite3_bind_text(st, 1, doc.p, (int)doc.n, SQLITE_STATIC);
	int ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_reset(st);
	return ok;
}
