/* store.c - the secret row: resolving a SecretId (name, full ARN, partial
 * ARN), transactions, the purge of secrets past their recovery window,
 * and the DescribeSecret / ListSecrets entry. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "svc/secretsmanager/internal.h"

#define SM_SECRET_COLS                                                                             \
	"SELECT id, arn, name, description, kms_key_id, policy, created, last_changed, "           \
	"last_accessed, deleted_date, purge_at FROM sm_secrets WHERE "

static const char sql_by_name[] = SM_SECRET_COLS "account = ?1 AND region = ?2 AND name = ?3";
static const char sql_by_arn[] = SM_SECRET_COLS "arn = ?1";

int sm_fail_db(struct aws_call *c, int rc)
{
	log_error("secretsmanager: store error: %s", sqlite3_errstr(rc));
	return aws_fail(c, 500, "InternalServiceError", "An error occurred on the server side.");
}

int sm_not_found(struct aws_call *c)
{
	return aws_fail(c, 400, "ResourceNotFoundException",
			"Secrets Manager can't find the specified secret.");
}

int sm_check_live(struct aws_call *c, const struct sm_secret *s)
{
	if (s->deleted_date > 0)
		return aws_fail(c, 400, "InvalidRequestException",
				"You can't perform this operation on the secret because it was "
				"marked for deletion.");
	return 0;
}

int sm_tx_begin(struct aws_call *c)
{
	sm_hot_invalidate(); /* the update hook misses WITHOUT ROWID sm_stages */
	int rc = db_begin(c->fb->db);
	return rc == SQLITE_OK ? 0 : sm_fail_db(c, rc);
}

int sm_tx_end(struct aws_call *c, int ok)
{
	/* also after: a read inside the transaction may have cached its
	 * uncommitted state */
	sm_hot_invalidate();
	if (ok == 0) {
		int rc = db_commit(c->fb->db);
		if (rc == SQLITE_OK)
			return 0;
		db_rollback(c->fb->db);
		return sm_fail_db(c, rc);
	}
	db_rollback(c->fb->db);
	return -1;
}

/* col_dup: text column i as an arena string, NULL when SQL NULL. */
static const char *col_dup(struct arena *a, sqlite3_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? arena_strndup(a, s, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* read_row: fills s from a row of SM_SECRET_COLS. */
static void read_row(struct arena *a, sqlite3_stmt *st, struct sm_secret *s)
{
	s->id = sqlite3_column_int64(st, 0);
	s->arn = col_dup(a, st, 1);
	s->name = col_dup(a, st, 2);
	s->description = col_dup(a, st, 3);
	s->kms_key_id = col_dup(a, st, 4);
	s->policy = col_dup(a, st, 5);
	s->created = sqlite3_column_double(st, 6);
	s->last_changed = sqlite3_column_double(st, 7);
	s->last_accessed = sqlite3_column_double(st, 8);
	s->deleted_date = sqlite3_column_double(st, 9);
	s->purge_at = sqlite3_column_double(st, 10);
}

int sm_parse_arn(struct arena *a, const char *secret_id, const char **region, const char **account,
		 const char **rest)
{
	static const char prefix[] = "arn:";
	if (strncmp(secret_id, prefix, 4) != 0)
		return -1;
	const char *f[6], *p = secret_id;
	size_t len[6];
	/* six ':'-terminated fields; the resource name after "secret:" may
	 * hold anything but a colon */
	for (int i = 0; i < 6; i++) {
		const char *e = strchr(p, ':');
		if (!e)
			return -1;
		f[i] = p;
		len[i] = (size_t)(e - p);
		p = e + 1;
	}
	if (len[2] != 14 || memcmp(f[2], "secretsmanager", 14) || len[5] != 6 ||
	    memcmp(f[5], "secret", 6))
		return -1;
	*region = arena_strndup(a, f[3], len[3]);
	*account = arena_strndup(a, f[4], len[4]);
	*rest = p;
	return 0;
}

/* lookup: runs one of the two secret queries; 1 when a row was read. */
static int lookup(struct aws_call *c, const char *sql, const char *a1, const char *a2,
		  const char *a3, struct sm_secret *s)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, sql);
	sqlite3_bind_text(st, 1, a1, -1, SQLITE_STATIC);
	if (a2) {
		sqlite3_bind_text(st, 2, a2, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a3, -1, SQLITE_STATIC);
	}
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		read_row(c->a, st, s);
	sqlite3_reset(st);
	return found;
}

int sm_secret_find(struct aws_call *c, const char *secret_id, struct sm_secret *s)
{
	const char *region, *account, *rest;
	int found = 0;
	memset(s, 0, sizeof(*s));
	if (!secret_id || !*secret_id)
		return sm_not_found(c);
	if (sm_parse_arn(c->a, secret_id, &region, &account, &rest) == 0) {
		if (strcmp(region, c->region) || strcmp(account, c->account))
			return sm_not_found(c);
		/* a full ARN first; else the ARN without its suffix names the secret */
		found = lookup(c, sql_by_arn, secret_id, NULL, NULL, s) ||
			lookup(c, sql_by_name, c->account, c->region, rest, s);
	} else {
		found = lookup(c, sql_by_name, c->account, c->region, secret_id, s);
	}
	if (!found)
		return sm_not_found(c);
	if (s->purge_at > 0 && s->purge_at * 1000.0 <= (double)c->now_ms) {
		sm_purge_one(c->fb->db, s->id);
		return sm_not_found(c);
	}
	return 0;
}

int sm_purge_one(struct db *db, int64_t id)
{
	static const char *const sqls[] = {
	    "DELETE FROM sm_stages WHERE secret_id = ?1",
	    "DELETE FROM sm_versions WHERE secret_id = ?1",
	    "DELETE FROM sm_tags WHERE secret_id = ?1",
	    "DELETE FROM sm_secrets WHERE id = ?1",
	};
	int own = !db_in_tx(db);
	sm_hot_invalidate();
	if (own && db_begin(db) != SQLITE_OK)
		return SQLITE_BUSY;
	int rc = SQLITE_DONE;
	for (size_t i = 0; rc == SQLITE_DONE && i < FB_ARRAY_LEN(sqls); i++) {
		sqlite3_stmt *st = db_stmt(db, sqls[i]);
		sqlite3_bind_int64(st, 1, id);
		rc = db_step_done(st);
	}
	if (own) {
		if (rc == SQLITE_DONE) {
			int crc = db_commit(db);
			if (crc != SQLITE_OK)
				rc = crc;
		}
		if (rc != SQLITE_DONE)
			db_rollback(db);
	}
	return rc;
}

void secretsmanager_purge(struct fogbank *fb, int64_t now_ms)
{
	int64_t ids[128];
	size_t n = 0;
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT id FROM sm_secrets WHERE purge_at IS NOT NULL "
					   "AND purge_at <= ?1 LIMIT 128");
	sqlite3_bind_double(st, 1, (double)now_ms / 1000.0);
	while (n < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		int rc = sm_purge_one(fb->db, ids[i]);
		if (rc != SQLITE_DONE)
			log_error("secretsmanager: purge of secret %lld failed: %s",
				  (long long)ids[i], sqlite3_errstr(rc));
	}
	if (n)
		log_info("secretsmanager: purged %zu secret(s) past their recovery window", n);
}

int sm_touch(struct aws_call *c, int64_t id)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE sm_secrets SET last_changed = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_double(st, 2, (double)c->now_ms / 1000.0);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
}

void sm_out_arn_name(struct aws_call *c, const struct sm_secret *s)
{
	jv_set_str(c->a, aws_out(c), "ARN", s->arn);
	jv_set_str(c->a, aws_out(c), "Name", s->name);
}

/* version_map: {version id: [labels]} of the labelled versions of s. */
static struct jv *version_map(struct aws_call *c, const struct sm_secret *s)
{
	struct jv *map = jv_object(c->a);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT g.version_id, g.stage FROM sm_stages g JOIN "
					      "sm_versions v ON v.secret_id = g.secret_id AND "
					      "v.version_id = g.version_id WHERE g.secret_id = ?1 "
					      "ORDER BY v.created, v.rowid, g.stage");
	sqlite3_bind_int64(st, 1, s->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *vid = db_col_text(st, 0);
		struct jv *list = jv_get(map, vid);
		if (!list) {
			list = jv_array(c->a);
			jv_set(c->a, map, vid, list);
		}
		jv_push(c->a, list, jv_string_c(c->a, db_col_text(st, 1)));
	}
	sqlite3_reset(st);
	return map;
}

void sm_secret_entry(struct aws_call *c, const struct sm_secret *s, struct jv *o,
		     const char *stages_key)
{
	struct arena *a = c->a;
	jv_set_str(a, o, "ARN", s->arn);
	jv_set_str(a, o, "Name", s->name);
	jv_set_str(a, o, "Description", s->description);
	/* AWS reports KmsKeyId only for a customer managed key */
	jv_set_str(a, o, "KmsKeyId", s->kms_key_id);
	jv_set_double(a, o, "LastChangedDate", s->last_changed);
	if (s->last_accessed > 0)
		jv_set_double(a, o, "LastAccessedDate", s->last_accessed);
	if (s->deleted_date > 0)
		jv_set_double(a, o, "DeletedDate", s->deleted_date);
	struct jv *tags = sm_tags_of(c, s->id);
	if (jv_len(tags))
		jv_set(a, o, "Tags", tags);
	struct jv *map = version_map(c, s);
	if (jv_len(map))
		jv_set(a, o, stages_key, map);
	jv_set_double(a, o, "CreatedDate", s->created);
}
