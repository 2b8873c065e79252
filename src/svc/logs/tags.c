/* tags.c - log group tags, through both API generations: TagLogGroup /
 * UntagLogGroup / ListTagsLogGroup (by name) and TagResource /
 * UntagResource / ListTagsForResource (by log-group ARN). At most 50
 * tags; keys starting with aws: are reserved. */
#include "core/compat.h"
#include "aws/gen/logs_ops.h"
#include "fb.h"
#include "svc/logs/internal.h"

int logs_tags_check(struct aws_call *c, const struct jv *tags)
{
	for (size_t i = 0; tags && tags->type == JV_OBJECT && i < tags->u.obj.n; i++)
		if (tags->u.obj.m[i].key.n >= 4 &&
		    strncasecmp(tags->u.obj.m[i].key.p, "aws:", 4) == 0)
			return logs_bad_param(c, "Tag keys starting with aws: are reserved.");
	return 0;
}

/* tag_count: how many tags group_id has. */
static int64_t tag_count(struct aws_call *c, int64_t group_id)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT count(*) FROM logs_tags WHERE group_id = ?1");
	sqlite3_bind_int64(st, 1, group_id);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return n;
}

int logs_tags_put(struct aws_call *c, int64_t group_id, const struct jv *tags,
		  const char *too_many_code)
{
	if (logs_tags_check(c, tags) < 0)
		return -1;
	for (size_t i = 0; tags && tags->type == JV_OBJECT && i < tags->u.obj.n; i++) {
		const struct jv_member *m = &tags->u.obj.m[i];
		struct str v = m->val && m->val->type == JV_STRING ? m->val->u.s : STR_LIT("");
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "INSERT INTO logs_tags(group_id, tag_key, tag_value) "
				       "VALUES(?1, ?2, ?3) ON CONFLICT(group_id, tag_key) DO "
				       "UPDATE SET tag_value = excluded.tag_value");
		sqlite3_bind_int64(st, 1, group_id);
		sqlite3_bind_text(st, 2, m->key.p, (int)m->key.n, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v.p, (int)v.n, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return logs_fail_db(c, rc);
	}
	if (tag_count(c, group_id) > LOGS_MAX_TAGS)
		return aws_fail(c, 400, too_many_code ? too_many_code : "InvalidParameterException",
				"A resource can have no more than %d tags.", LOGS_MAX_TAGS);
	return 0;
}

/* tags_of: the group's tags as a Tags map. */
static struct jv *tags_of(struct aws_call *c, int64_t group_id)
{
	struct jv *map = jv_object(c->a);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT tag_key, tag_value FROM logs_tags WHERE "
					      "group_id = ?1 ORDER BY tag_key");
	sqlite3_bind_int64(st, 1, group_id);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_set_str(c->a, map, db_col_text(st, 0), db_col_text(st, 1));
	sqlite3_reset(st);
	return map;
}

/* untag: removes the keys (a list of strings) from group_id. */
static int untag(struct aws_call *c, int64_t group_id, const struct jv *keys)
{
	for (size_t i = 0; i < jv_len(keys); i++) {
		const struct jv *k = jv_at(keys, i);
		if (!k || k->type != JV_STRING)
			continue;
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM logs_tags WHERE group_id = ?1 "
						      "AND tag_key = ?2");
		sqlite3_bind_int64(st, 1, group_id);
		sqlite3_bind_text(st, 2, k->u.s.p, (int)k->u.s.n, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return logs_fail_db(c, rc);
	}
	return 0;
}

/* by_arn: the group named by resourceArn; ResourceNotFoundException for
 * anything that is not one of this account's log groups. */
static int by_arn(struct aws_call *c, struct logs_group *g)
{
	const char *arn = jv_get_str(c->in, "resourceArn");
	const char *name = logs_arn_group(c, arn);
	if (!name)
		return aws_fail(c, 400, "ResourceNotFoundException",
				"The specified resource does not exist: %s", arn ? arn : "");
	return logs_group_find(c, name, g);
}

/* change: one tag change in a transaction; by_name picks the group by
 * logGroupName, else by resourceArn. */
static int change(struct aws_call *c, int by_name, const struct jv *add, const struct jv *remove,
		  const char *too_many_code)
{
	struct logs_group g;
	if (logs_tx_begin(c) < 0)
		return -1;
	int ok =
	    by_name ? logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g) : by_arn(c, &g);
	if (ok == 0 && add)
		ok = logs_tags_put(c, g.id, add, too_many_code);
	if (ok == 0 && remove)
		ok = untag(c, g.id, remove);
	return logs_tx_end(c, ok);
}

int logs_op_tag_log_group(struct aws_call *c)
{
	return change(c, 1, jv_get(c->in, "tags"), NULL, NULL);
}

int logs_op_untag_log_group(struct aws_call *c)
{
	return change(c, 1, NULL, jv_get(c->in, "tags"), NULL);
}

int logs_op_tag_resource(struct aws_call *c)
{
	return change(c, 0, jv_get(c->in, "tags"), NULL, "TooManyTagsException");
}

int logs_op_untag_resource(struct aws_call *c)
{
	return change(c, 0, NULL, jv_get(c->in, "tagKeys"), NULL);
}

int logs_op_list_tags_log_group(struct aws_call *c)
{
	struct logs_group g;
	if (logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "tags", tags_of(c, g.id));
	return 0;
}

int logs_op_list_tags_for_resource(struct aws_call *c)
{
	struct logs_group g;
	if (by_arn(c, &g) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "tags", tags_of(c, g.id));
	return 0;
}
