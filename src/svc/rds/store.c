/* store.c - the instance and snapshot rows: lookups, transactions,
 * identifiers and directories. */
#include "core/compat.h"
#include "aws/json.h"
#include "core/log.h"
#include "fb.h"
#include "svc/rds/internal.h"
#include <ctype.h>

#define INST_COLS                                                                                  \
	"SELECT id, account, region, ident, arn, resource_id, status, engine_version, klass, "     \
	"master_user, db_name, address, kms_key_id, param_group, subnet_group, secret_arn, "       \
	"attrs, pending, source, replica_of, port, storage, retention, deletion_protection, "      \
	"encrypted, multi_az, want_running, provisioned, created, primary_node FROM "              \
	"rds_instances "

#define SNAP_COLS                                                                                  \
	"SELECT id, account, region, ident, arn, status, snap_type, instance_ident, "              \
	"engine_version, master_user, db_name, kms_key_id, source_snap, attrs, port, storage, "    \
	"progress, encrypted, created, instance_created, instance_id FROM rds_snapshots "

int rds_fail_db(struct aws_call *c, int rc)
{
	log_error("rds: store error: %s", sqlite3_errstr(rc));
	return aws_fail(c, 500, "InternalFailure", "An internal error occurred.");
}

int rds_tx_begin(struct aws_call *c)
{
	int rc = db_begin(c->fb->db);
	return rc == SQLITE_OK ? 0 : rds_fail_db(c, rc);
}

int rds_tx_end(struct aws_call *c, int ok)
{
	if (ok == 0) {
		int rc = db_commit(c->fb->db);
		if (rc == SQLITE_OK)
			return 0;
		db_rollback(c->fb->db);
		return rds_fail_db(c, rc);
	}
	db_rollback(c->fb->db);
	return -1;
}

/* col: text column i as an arena string, NULL when SQL NULL. */
static const char *col(struct arena *a, sqlite3_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? arena_strndup(a, s, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* read_inst: fills r from a row of INST_COLS. */
static void read_inst(struct arena *a, sqlite3_stmt *st, struct rds_inst *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	const char **s[] = {&r->account,     &r->region,       &r->ident,	   &r->arn,
			    &r->resource_id, &r->status,       &r->engine_version, &r->klass,
			    &r->master_user, &r->db_name,      &r->address,	   &r->kms_key_id,
			    &r->param_group, &r->subnet_group, &r->secret_arn,	   &r->attrs,
			    &r->pending,     &r->source,       &r->replica_of};
	for (size_t i = 0; i < FB_ARRAY_LEN(s); i++)
		*s[i] = col(a, st, (int)i + 1);
	int *n[] = {&r->port,	   &r->storage,	 &r->retention,	   &r->deletion_protection,
		    &r->encrypted, &r->multi_az, &r->want_running, &r->provisioned};
	for (size_t i = 0; i < FB_ARRAY_LEN(n); i++)
		*n[i] = sqlite3_column_int(st, (int)i + 20);
	r->created = sqlite3_column_double(st, 28);
	r->primary_node = sqlite3_column_int(st, 29);
}

static void read_snap(struct arena *a, sqlite3_stmt *st, struct rds_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	const char **p[] = {&s->account,     &s->region,    &s->ident,		&s->arn,
			    &s->status,	     &s->snap_type, &s->instance_ident, &s->engine_version,
			    &s->master_user, &s->db_name,   &s->kms_key_id,	&s->source_snap,
			    &s->attrs};
	for (size_t i = 0; i < FB_ARRAY_LEN(p); i++)
		*p[i] = col(a, st, (int)i + 1);
	s->port = sqlite3_column_int(st, 14);
	s->storage = sqlite3_column_int(st, 15);
	s->progress = sqlite3_column_int(st, 16);
	s->encrypted = sqlite3_column_int(st, 17);
	s->created = sqlite3_column_double(st, 18);
	s->instance_created = sqlite3_column_double(st, 19);
	s->instance_id = sqlite3_column_int64(st, 20);
}

int rds_inst_find(struct aws_call *c, const char *ident, struct rds_inst *r)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, INST_COLS "WHERE account = ?1 AND region = ?2 AND "
							"(ident = lower(?3) OR arn = ?3)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ident ? ident : "", -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		read_inst(c->a, st, r);
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 404, "DBInstanceNotFound", "DBInstance %s not found.",
				ident ? ident : "");
	return 0;
}

int rds_inst_by_ident(struct db *db, struct arena *a, const char *account, const char *region,
		      const char *ident, struct rds_inst *r)
{
	sqlite3_stmt *st =
	    db_stmt(db, INST_COLS "WHERE account = ?1 AND region = ?2 AND ident = ?3");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ident, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		read_inst(a, st, r);
	sqlite3_reset(st);
	return found ? 0 : -1;
}

struct jv *rds_replicas_of(struct db *db, struct arena *a, const struct rds_inst *src)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT ident FROM rds_instances WHERE account = ?1 AND "
				       "region = ?2 AND replica_of = ?3 ORDER BY ident");
	sqlite3_bind_text(st, 1, src->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, src->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, src->ident, -1, SQLITE_STATIC);
	struct jv *list = jv_array(a);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(a, list, jv_string_c(a, arena_strdup(a, db_col_text(st, 0))));
	sqlite3_reset(st);
	return list;
}

int rds_inst_load(struct db *db, struct arena *a, int64_t id, struct rds_inst *r)
{
	sqlite3_stmt *st = db_stmt(db, INST_COLS "WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		read_inst(a, st, r);
	sqlite3_reset(st);
	return found ? 0 : -1;
}

size_t rds_inst_list(struct db *db, struct arena *a, const char *account, const char *region,
		     struct rds_inst **out)
{
	sqlite3_stmt *st = db_stmt(db, INST_COLS "WHERE (?1 IS NULL OR account = ?1) AND "
						 "(?2 IS NULL OR region = ?2) ORDER BY ident");
	if (account)
		sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	if (region)
		sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	size_t n = 0, cap = 8;
	struct rds_inst *v = arena_alloc(a, cap * sizeof(*v));
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			v = arena_realloc(a, v, cap * sizeof(*v), 2 * cap * sizeof(*v));
			cap *= 2;
		}
		read_inst(a, st, &v[n++]);
	}
	sqlite3_reset(st);
	*out = v;
	return n;
}

void rds_set_status(struct db *db, int64_t id, const char *status)
{
	sqlite3_stmt *st = db_stmt(db, "UPDATE rds_instances SET status = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (db_step_done(st) != SQLITE_DONE)
		log_error("rds: cannot record status %s of instance %lld", status, (long long)id);
}

int rds_snap_find(struct aws_call *c, const char *ident, struct rds_snap *s)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, SNAP_COLS "WHERE account = ?1 AND region = ?2 AND "
							"(ident = lower(?3) OR arn = ?3)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ident ? ident : "", -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		read_snap(c->a, st, s);
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 404, "DBSnapshotNotFound", "DBSnapshot %s not found.",
				ident ? ident : "");
	return 0;
}

int rds_snap_load(struct db *db, struct arena *a, int64_t id, struct rds_snap *s)
{
	sqlite3_stmt *st = db_stmt(db, SNAP_COLS "WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		read_snap(a, st, s);
	sqlite3_reset(st);
	return found ? 0 : -1;
}

struct jv *rds_json(struct arena *a, const char *text)
{
	struct jv *v = text ? json_parse(a, text, strlen(text), NULL) : NULL;
	return v && v->type == JV_OBJECT ? v : jv_object(a);
}

const char *rds_json_text(struct arena *a, const struct jv *v)
{
	struct buf b = BUF_INIT;
	json_write(&b, v);
	char *s = arena_strndup(a, b.p, b.n);
	buf_release(&b);
	return s;
}

void rds_inst_dir(const char *data_dir, int64_t id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/rds/i%lld", data_dir, (long long)id);
}

void rds_snap_dir(const char *data_dir, int64_t id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/rds/snap/s%lld", data_dir, (long long)id);
}

int rds_valid_ident(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 63 || !isalpha((unsigned char)s[0]) || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
		if (s[i] == '-' && i > 0 && s[i - 1] == '-')
			return 0;
	}
	return 1;
}

char *rds_lower(struct arena *a, const char *s)
{
	char *o = arena_strdup(a, s);
	for (char *p = o; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return o;
}
