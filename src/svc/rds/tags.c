/* tags.c - tags on RDS resources, keyed by ARN: AddTagsToResource,
 * RemoveTagsFromResource, ListTagsForResource, and the TagList of
 * instances and snapshots. */
#include "core/compat.h"
#include "aws/gen/rds_ops.h"
#include "fb.h"
#include "svc/rds/internal.h"

int rds_tags_put(struct aws_call *c, const char *arn, const struct jv *tags)
{
	for (size_t i = 0; i < jv_len(tags); i++) {
		const char *k = jv_get_str(jv_at(tags, i), "Key");
		const char *v = jv_get_str(jv_at(tags, i), "Value");
		if (!k || !*k)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Tag key must not be empty.");
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "INSERT INTO rds_tags(arn, tag_key, tag_value) "
				       "VALUES(?1, ?2, ?3) ON CONFLICT(arn, tag_key) "
				       "DO UPDATE SET tag_value = excluded.tag_value");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v ? v : "", -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return rds_fail_db(c, rc);
	}
	return 0;
}

struct jv *rds_tags_of(struct aws_call *c, const char *arn)
{
	struct jv *list = jv_array(c->a);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT tag_key, tag_value FROM rds_tags WHERE "
					      "arn = ?1 ORDER BY tag_key");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *t = jv_object(c->a);
		jv_set_str(c->a, t, "Key", db_col_text(st, 0));
		jv_set_str(c->a, t, "Value", db_col_text(st, 1));
		jv_push(c->a, list, t);
	}
	sqlite3_reset(st);
	return list;
}

void rds_tags_drop(struct db *db, const char *arn)
{
	sqlite3_stmt *st = db_stmt(db, "DELETE FROM rds_tags WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	db_step_done(st);
}

/* resource_exists: 1 when arn names an instance, snapshot, parameter or
 * subnet group of the call's account and region. */
static int resource_exists(struct aws_call *c, const char *arn)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT 1 FROM rds_instances WHERE arn = ?1 UNION ALL "
			       "SELECT 1 FROM rds_snapshots WHERE arn = ?1 UNION ALL "
			       "SELECT 1 FROM rds_param_groups WHERE arn = ?1 UNION ALL "
			       "SELECT 1 FROM rds_subnet_groups WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* check_arn: the ResourceName argument must name an existing resource. */
static const char *check_arn(struct aws_call *c)
{
	const char *arn = jv_get_str(c->in, "ResourceName");
	if (!arn || strncmp(arn, "arn:aws:rds:", 12) != 0) {
		aws_fail(c, 400, "InvalidParameterValue", "Invalid resource name: %s",
			 arn ? arn : "");
		return NULL;
	}
	if (!resource_exists(c, arn)) {
		aws_fail(c, 404,
			 strstr(arn, ":snapshot:") ? "DBSnapshotNotFound" : "DBInstanceNotFound",
			 "Resource %s not found.", arn);
		return NULL;
	}
	return arn;
}

int rds_op_add_tags_to_resource(struct aws_call *c)
{
	const char *arn = check_arn(c);
	if (!arn || rds_tx_begin(c) < 0)
		return -1;
	return rds_tx_end(c, rds_tags_put(c, arn, jv_get(c->in, "Tags")));
}

int rds_op_remove_tags_from_resource(struct aws_call *c)
{
	const char *arn = check_arn(c);
	if (!arn || rds_tx_begin(c) < 0)
		return -1;
	struct jv *keys = jv_get(c->in, "TagKeys");
	for (size_t i = 0; i < jv_len(keys); i++) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "DELETE FROM rds_tags WHERE arn = ?1 AND tag_key = ?2");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jv_at(keys, i)->u.s.p, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return rds_tx_end(c, rds_fail_db(c, rc));
	}
	return rds_tx_end(c, 0);
}

int rds_op_list_tags_for_resource(struct aws_call *c)
{
	const char *arn = check_arn(c);
	if (!arn)
		return -1;
	jv_set(c->a, aws_out(c), "TagList", rds_tags_of(c, arn));
	return 0;
}
