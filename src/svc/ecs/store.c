/* store.c - helpers every ECS handler uses: transactions, errors, ARNs,
 * JSON columns, and the cluster and task definition lookups. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/json.h"
#include "core/buf.h"
#include "core/log.h"
#include "fb.h"
#include "svc/ecs/internal.h"
#include <stdlib.h>

int ecs_fail_db(struct aws_call *c, int rc)
{
	log_error("ecs: store error: %s", sqlite3_errstr(rc));
	return aws_fail(c, 500, "ServerException", "An error occurred on the server side.");
}

int ecs_invalid(struct aws_call *c, const char *msg)
{
	return aws_fail(c, 400, "InvalidParameterException", "%s", msg);
}

int ecs_tx_begin(struct aws_call *c)
{
	int rc = db_begin(c->fb->db);
	return rc == SQLITE_OK ? 0 : ecs_fail_db(c, rc);
}

int ecs_tx_end(struct aws_call *c, int ok)
{
	if (ok == 0) {
		int rc = db_commit(c->fb->db);
		if (rc == SQLITE_OK)
			return 0;
		db_rollback(c->fb->db);
		return ecs_fail_db(c, rc);
	}
	db_rollback(c->fb->db);
	return -1;
}

const char *ecs_arn(struct arena *a, const char *region, const char *account, const char *kind,
		    const char *rest)
{
	return arena_sprintf(a, "arn:aws:ecs:%s:%s:%s/%s", region, account, kind, rest);
}

const char *ecs_arn_tail(const char *s, const char *kind)
{
	if (!s || strncmp(s, "arn:", 4))
		return s;
	const char *p = strstr(s, ":ecs:");
	size_t k = strlen(kind);
	if (!p)
		return s;
	/* skip region and account */
	p = strchr(p + 5, ':');
	p = p ? strchr(p + 1, ':') : NULL;
	if (!p || strncmp(p + 1, kind, k) || p[1 + k] != '/')
		return s;
	return p + 2 + k;
}

const char *ecs_col(struct arena *a, sqlite3_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? arena_strndup(a, s, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

const char *ecs_json(struct arena *a, const struct jv *v)
{
	if (!v)
		return NULL;
	struct buf b = BUF_INIT;
	json_write(&b, v);
	const char *s = arena_strndup(a, b.p, b.n);
	buf_release(&b);
	return s;
}

struct jv *ecs_parse(struct arena *a, const char *text)
{
	return text ? json_parse(a, text, strlen(text), NULL) : NULL;
}

void ecs_bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

struct jv *ecs_ts(struct arena *a, int64_t ms)
{
	return jv_double(a, (double)ms / 1000.0);
}

void ecs_new_id(char out[33])
{
	char u[37];
	fmt_uuid4(u);
	size_t j = 0;
	for (size_t i = 0; u[i] && j < 32; i++)
		if (u[i] != '-')
			out[j++] = u[i];
	out[j] = 0;
}

int ecs_cluster_find(struct aws_call *c, const char *key, struct ecs_cluster *cl)
{
	const char *ref = jv_get_str(c->in, key);
	const char *name = ref ? ecs_arn_tail(ref, "cluster") : "default";
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id, name, arn, status FROM ecs_clusters "
					      "WHERE account = ?1 AND region = ?2 AND name = ?3 "
					      "AND status = 'ACTIVE'");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		cl->id = sqlite3_column_int64(st, 0);
		cl->name = ecs_col(c->a, st, 1);
		cl->arn = ecs_col(c->a, st, 2);
		cl->status = ecs_col(c->a, st, 3);
	}
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 400, "ClusterNotFoundException", "Cluster not found.");
	return 0;
}

#define TD_COLS                                                                                    \
	"SELECT id, arn, family, status, revision, registered, deregistered, registered_by, body " \
	"FROM ecs_taskdefs "

int ecs_taskdef_get(struct fogbank *fb, struct arena *a, const char *account, const char *region,
		    const char *ref, struct ecs_taskdef *td)
{
	static const char by_rev[] =
	    TD_COLS "WHERE account = ?1 AND region = ?2 AND family = ?3 AND revision = ?4";
	static const char latest[] = TD_COLS "WHERE account = ?1 AND region = ?2 AND family = ?3 "
					     "AND status = 'ACTIVE' ORDER BY revision DESC LIMIT 1";
	if (!ref)
		return 0;
	const char *fam = ecs_arn_tail(ref, "task-definition");
	const char *colon = strchr(fam, ':');
	sqlite3_stmt *st = db_stmt(fb->db, colon ? by_rev : latest);
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, fam, colon ? (int)(colon - fam) : -1, SQLITE_STATIC);
	if (colon)
		sqlite3_bind_int64(st, 4, strtoll(colon + 1, NULL, 10));
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW) {
		td->id = sqlite3_column_int64(st, 0);
		td->arn = ecs_col(a, st, 1);
		td->family = ecs_col(a, st, 2);
		td->status = ecs_col(a, st, 3);
		td->revision = sqlite3_column_int64(st, 4);
		td->registered = sqlite3_column_int64(st, 5);
		td->deregistered = sqlite3_column_int64(st, 6);
		td->registered_by = ecs_col(a, st, 7);
		td->body = ecs_parse(a, db_col_text(st, 8));
		found = td->body ? 1 : -1;
	} else if (rc != SQLITE_DONE) {
		log_error("ecs: store error: %s", sqlite3_errstr(rc));
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

struct jv *ecs_taskdef_out(struct arena *a, const struct ecs_taskdef *td)
{
	struct jv *o = jv_object(a);
	const struct jv *b = td->body;
	for (size_t i = 0; i < b->u.obj.n; i++) {
		struct str k = b->u.obj.m[i].key;
		if (str_eq_c(k, "tags"))
			continue;
		jv_set_n(a, o, k.p, k.n, b->u.obj.m[i].val);
	}
	jv_set_str(a, o, "taskDefinitionArn", td->arn);
	jv_set_int(a, o, "revision", td->revision);
	jv_set_str(a, o, "status", td->status);
	jv_set(a, o, "registeredAt", ecs_ts(a, td->registered));
	if (td->deregistered)
		jv_set(a, o, "deregisteredAt", ecs_ts(a, td->deregistered));
	jv_set_str(a, o, "registeredBy", td->registered_by);
	struct jv *compat = jv_array(a);
	jv_push(a, compat, jv_string_c(a, "EC2"));
	jv_push(a, compat, jv_string_c(a, "FARGATE"));
	jv_set(a, o, "compatibilities", compat);
	if (!jv_get(o, "networkMode"))
		jv_set_str(a, o, "networkMode", "awsvpc");
	return o;
}
