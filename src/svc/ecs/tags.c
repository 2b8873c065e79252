/* tags.c - TagResource, UntagResource, ListTagsForResource, and the tag
 * rows the other handlers write when a resource is created with tags. */
#include "core/compat.h"
#include "aws/gen/ecs_ops.h"
#include "fb.h"
#include "svc/ecs/internal.h"

int ecs_tags_put(struct aws_call *c, const char *arn, const struct jv *tags)
{
	for (size_t i = 0; i < jv_len(tags); i++) {
		const struct jv *t = jv_at(tags, i);
		const char *k = jv_get_str(t, "key"), *v = jv_get_str(t, "value");
		if (!k)
			continue;
		sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT OR REPLACE INTO ecs_tags(arn, key, "
						      "value) VALUES(?1, ?2, ?3)");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v ? v : "", -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return rc;
	}
	return SQLITE_DONE;
}

struct jv *ecs_tags_of(struct aws_call *c, const char *arn)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT key, value FROM ecs_tags WHERE arn = ?1 ORDER BY key");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	struct jv *arr = jv_array(c->a);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *t = jv_object(c->a);
		jv_set_str(c->a, t, "key", db_col_text(st, 0));
		jv_set_str(c->a, t, "value", db_col_text(st, 1));
		jv_push(c->a, arr, t);
	}
	sqlite3_reset(st);
	return arr;
}

void ecs_tags_drop(struct fogbank *fb, const char *arn)
{
	sqlite3_stmt *st = db_stmt(fb->db, "DELETE FROM ecs_tags WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	db_step_done(st);
}

/* known: 1 when arn names a cluster, task definition, service or task. */
static int known(struct aws_call *c, const char *arn)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT 1 FROM ecs_clusters WHERE arn = ?1 UNION ALL SELECT 1 FROM "
			       "ecs_taskdefs WHERE arn = ?1 UNION ALL SELECT 1 FROM ecs_services "
			       "WHERE arn = ?1 UNION ALL SELECT 1 FROM ecs_tasks WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	int r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return r;
}

int ecs_op_tag_resource(struct aws_call *c)
{
	const char *arn = jv_get_str(c->in, "resourceArn");
	if (!known(c, arn))
		return aws_fail(c, 400, "InvalidParameterException",
				"The specified resource is not valid.");
	int rc = ecs_tags_put(c, arn, jv_get(c->in, "tags"));
	return rc == SQLITE_DONE ? 0 : ecs_fail_db(c, rc);
}

int ecs_op_untag_resource(struct aws_call *c)
{
	const char *arn = jv_get_str(c->in, "resourceArn");
	if (!known(c, arn))
		return aws_fail(c, 400, "InvalidParameterException",
				"The specified resource is not valid.");
	const struct jv *keys = jv_get(c->in, "tagKeys");
	for (size_t i = 0; i < jv_len(keys); i++) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "DELETE FROM ecs_tags WHERE arn = ?1 AND key = ?2");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jv_at(keys, i)->u.s.p, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return ecs_fail_db(c, rc);
	}
	return 0;
}

int ecs_op_list_tags_for_resource(struct aws_call *c)
{
	const char *arn = jv_get_str(c->in, "resourceArn");
	if (!known(c, arn))
		return aws_fail(c, 400, "InvalidParameterException",
				"The specified resource is not valid.");
	jv_set(c->a, aws_out(c), "tags", ecs_tags_of(c, arn));
	return 0;
}
