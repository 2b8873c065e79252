/* store.c - group and stream lookups, transactions, ARNs and the paging
 * tokens every list and read shares. Tokens are opaque to clients but
 * plain here: a kind prefix, then hex, so a token from one operation or
 * ordering is refused by another. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "svc/logs/internal.h"
#include <inttypes.h>

int logs_fail_db(struct aws_call *c, int rc)
{
	log_error("logs: store error: %s", sqlite3_errstr(rc));
	return aws_fail(c, 500, "ServiceUnavailableException",
			"The service cannot complete the request.");
}

int logs_bad_param(struct aws_call *c, const char *msg)
{
	return aws_fail(c, 400, "InvalidParameterException", "%s", msg);
}

int logs_tx_begin(struct aws_call *c)
{
	int rc = db_begin(c->fb->db);
	return rc == SQLITE_OK ? 0 : logs_fail_db(c, rc);
}

int logs_tx_end(struct aws_call *c, int ok)
{
	if (ok == 0) {
		int rc = db_commit(c->fb->db);
		if (rc == SQLITE_OK)
			return 0;
		db_rollback(c->fb->db);
		return logs_fail_db(c, rc);
	}
	db_rollback(c->fb->db);
	return -1;
}

int64_t logs_group_id(struct db *db, const char *account, const char *region, const char *name)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT id FROM logs_groups WHERE account = ?1 AND "
				       "region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return id;
}

/* col_dup: text column i as an arena string, NULL when SQL NULL. */
static const char *col_dup(struct arena *a, sqlite3_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? arena_strndup(a, s, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

int logs_group_find(struct aws_call *c, const char *name, struct logs_group *g)
{
	memset(g, 0, sizeof(*g));
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id, name, created, retention_days, "
					      "kms_key_id, stored_bytes FROM logs_groups WHERE "
					      "account = ?1 AND region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		g->id = sqlite3_column_int64(st, 0);
		g->name = col_dup(c->a, st, 1);
		g->created = sqlite3_column_int64(st, 2);
		g->retention = sqlite3_column_int(st, 3);
		g->kms_key_id = col_dup(c->a, st, 4);
		g->stored_bytes = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 400, "ResourceNotFoundException",
				"The specified log group does not exist.");
	return 0;
}

const char *logs_arn_group(struct aws_call *c, const char *arn)
{
	const char *f[6], *p = arn;
	size_t len[6];
	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return NULL;
	/* arn:<partition>:logs:<region>:<account>:log-group:<name>[:*] */
	for (int i = 0; i < 6; i++) {
		const char *e = strchr(p, ':');
		if (!e)
			return NULL;
		f[i] = p;
		len[i] = (size_t)(e - p);
		p = e + 1;
	}
	if (len[2] != 4 || memcmp(f[2], "logs", 4) || len[5] != 9 || memcmp(f[5], "log-group", 9))
		return NULL;
	if (strlen(c->region) != len[3] || memcmp(f[3], c->region, len[3]) ||
	    strlen(c->account) != len[4] || memcmp(f[4], c->account, len[4]))
		return NULL;
	size_t n = strlen(p);
	if (n >= 2 && strcmp(p + n - 2, ":*") == 0)
		n -= 2;
	return n && !memchr(p, ':', n) ? arena_strndup(c->a, p, n) : NULL;
}

int logs_group_arg(struct aws_call *c, struct logs_group *g)
{
	const char *name = jv_get_str(c->in, "logGroupName");
	const char *ident = jv_get_str(c->in, "logGroupIdentifier");
	if (name && ident)
		return logs_bad_param(c, "LogGroup name and LogGroup ARN are mutually exclusive "
					 "parameters.");
	if (ident) {
		name = strncmp(ident, "arn:", 4) == 0 ? logs_arn_group(c, ident) : ident;
		if (!name)
			return aws_fail(c, 400, "ResourceNotFoundException",
					"The specified log group does not exist.");
	}
	if (!name)
		return logs_bad_param(c, "Either logGroupName or logGroupIdentifier is required.");
	return logs_group_find(c, name, g);
}

const char *logs_group_arn(struct aws_call *c, const char *name)
{
	return arena_sprintf(c->a, "arn:aws:logs:%s:%s:log-group:%s", c->region, c->account, name);
}

int64_t logs_stream_id(struct db *db, int64_t group_id, const char *name)
{
	sqlite3_stmt *st =
	    db_stmt(db, "SELECT id FROM logs_streams WHERE group_id = ?1 AND name = ?2");
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return id;
}

int logs_stream_find(struct aws_call *c, const struct logs_group *g, const char *name,
		     struct logs_stream *s)
{
	memset(s, 0, sizeof(*s));
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id, name, created, first_event, "
					      "last_event, last_ingestion, seq FROM logs_streams "
					      "WHERE group_id = ?1 AND name = ?2");
	sqlite3_bind_int64(st, 1, g->id);
	sqlite3_bind_text(st, 2, name ? name : "", -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		s->id = sqlite3_column_int64(st, 0);
		s->name = col_dup(c->a, st, 1);
		s->created = sqlite3_column_int64(st, 2);
		s->has_events = sqlite3_column_type(st, 3) != SQLITE_NULL;
		s->first = sqlite3_column_int64(st, 3);
		s->last = sqlite3_column_int64(st, 4);
		s->ingested = sqlite3_column_int64(st, 5);
		s->seq = sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 400, "ResourceNotFoundException",
				"The specified log stream does not exist.");
	return 0;
}

int64_t logs_visible_from(const struct logs_group *g, int64_t now_ms)
{
	return g->retention > 0 ? now_ms - (int64_t)g->retention * LOGS_DAY_MS : 0;
}

const char *logs_hex_token(struct aws_call *c, const char *prefix, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t k = strlen(prefix);
	char *t = arena_alloc(c->a, k + 2 * n + 1);
	memcpy(t, prefix, k);
	for (size_t i = 0; i < n; i++) {
		t[k + 2 * i] = hex[(unsigned char)p[i] >> 4];
		t[k + 2 * i + 1] = hex[(unsigned char)p[i] & 15];
	}
	t[k + 2 * n] = 0;
	return t;
}

/* hexval: the value of hex digit ch, -1 for anything else (lower case
 * only: tokens are ours). */
static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int logs_unhex_token(struct aws_call *c, const char *tok, const char *prefix, struct str *out)
{
	size_t k = strlen(prefix), n;
	if (!tok || strncmp(tok, prefix, k) != 0 || ((n = strlen(tok + k)) & 1))
		return -1;
	char *b = arena_alloc(c->a, n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(tok[k + 2 * i]), lo = hexval(tok[k + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		b[i] = (char)(hi << 4 | lo);
	}
	b[n / 2] = 0;
	*out = (struct str){b, n / 2};
	return 0;
}

const char *logs_key_token(struct aws_call *c, const char *prefix, int64_t ts, int64_t id)
{
	return arena_sprintf(c->a, "%s%016" PRIx64 "%016" PRIx64, prefix, (uint64_t)ts,
			     (uint64_t)id);
}

int logs_key_untoken(const char *tok, const char *prefix, int64_t *ts, int64_t *id)
{
	size_t k = strlen(prefix);
	uint64_t v[2] = {0, 0};
	if (!tok || strncmp(tok, prefix, k) != 0 || strlen(tok + k) != 32)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int d = hexval(tok[k + i]);
		if (d < 0)
			return -1;
		v[i / 16] = v[i / 16] << 4 | (uint64_t)d;
	}
	*ts = (int64_t)v[0];
	*id = (int64_t)v[1];
	return 0;
}

int logs_bad_token(struct aws_call *c)
{
	return logs_bad_param(c, "The specified nextToken is invalid.");
}
