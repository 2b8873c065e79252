/* tags.c - tags on any ElastiCache resource, keyed by its ARN:
 * AddTagsToResource, ListTagsForResource, RemoveTagsFromResource. The
 * resource must exist, in the caller's account and region. */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "fb.h"
#include "svc/elasticache/internal.h"

int ec_tags_check(struct aws_call *c, const struct jv *tags)
{
	if (jv_len(tags) > EC_MAX_TAGS)
		return aws_fail(c, 400, "TagQuotaPerResourceExceeded",
				"A resource can have at most %d tags.", EC_MAX_TAGS);
	for (size_t i = 0; i < jv_len(tags); i++) {
		struct str k = jv_get_strv(jv_at(tags, i), "Key");
		struct str v = jv_get_strv(jv_at(tags, i), "Value");
		if (!k.p || k.n < 1 || k.n > 128 || v.n > 256)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Tag keys must be 1 to 128 characters and values at most "
					"256.");
		if (k.n >= 4 && strncasecmp(k.p, "aws:", 4) == 0)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Tag keys starting with aws: are reserved.");
	}
	return 0;
}

int ec_tags_put(struct aws_call *c, const char *arn, const struct jv *tags)
{
	for (size_t i = 0; i < jv_len(tags); i++) {
		const struct jv *t = jv_at(tags, i);
		const char *v = jv_get_str(t, "Value");
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "INSERT INTO ec_tags(arn, tag_key, tag_value) "
				       "VALUES(?1, ?2, ?3) ON CONFLICT(arn, tag_key) DO "
				       "UPDATE SET tag_value = excluded.tag_value");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jv_get_str(t, "Key"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v ? v : "", -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return ec_fail_db(c, rc);
	}
	return 0;
}

int ec_tags_drop(struct db *db, const char *arn)
{
	sqlite3_stmt *st = db_stmt(db, "DELETE FROM ec_tags WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	return db_step_done(st) == SQLITE_DONE ? 0 : -1;
}

/* resource_check: ResourceName names an existing resource of the caller's
 * account and region. 0, or -1 with InvalidARN or the kind's not-found
 * error. */
static int resource_check(struct aws_call *c, const char *arn)
{
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "arn:aws:elasticache:%s:%s:", c->region, c->account);
	size_t pn = strlen(prefix);
	if (!arn || strncmp(arn, prefix, pn) || !strchr(arn + pn, ':'))
		return aws_fail(c, 400, "InvalidARN", "The ARN %s is not valid.", arn ? arn : "");
	const char *kind = arn + pn, *name = strchr(kind, ':') + 1;
	size_t kn = (size_t)(name - 1 - kind);
	static const struct {
		const char *kind, *sql, *code;
		int status;
	} kinds[] = {
	    {"cluster",
	     "SELECT 1 FROM ec_clusters WHERE account = ?1 AND region = ?2 AND name = ?3",
	     "CacheClusterNotFound", 404},
	    {"replicationgroup",
	     "SELECT 1 FROM ec_rgs WHERE account = ?1 AND region = ?2 AND name = ?3",
	     "ReplicationGroupNotFoundFault", 404},
	    {"snapshot",
	     "SELECT 1 FROM ec_snapshots WHERE account = ?1 AND region = ?2 AND name = ?3",
	     "SnapshotNotFoundFault", 404},
	    {"subnetgroup",
	     "SELECT 1 FROM ec_subnet_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
	     "CacheSubnetGroupNotFoundFault", 400},
	    {"parametergroup",
	     "SELECT 1 FROM ec_param_groups WHERE account = ?1 AND region = ?2 AND name = ?3 "
	     "UNION ALL SELECT 1 WHERE ?3 IN ('" EC_DEFAULT_PARAM_GROUP
	     "', '" EC_DEFAULT_CLUSTER_PARAM_GROUP "')",
	     "CacheParameterGroupNotFound", 404},
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(kinds); i++) {
		if (strlen(kinds[i].kind) != kn || memcmp(kinds[i].kind, kind, kn))
			continue;
		sqlite3_stmt *st = db_stmt(c->fb->db, kinds[i].sql);
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		int found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (!found)
			return aws_fail(c, kinds[i].status, kinds[i].code, "%s not found.", arn);
		return 0;
	}
	return aws_fail(c, 400, "InvalidARN", "The ARN %s is not valid.", arn);
}

/* tag_list: the TagList output of arn. */
static void tag_list(struct aws_call *c, const char *arn)
{
	struct jv *list = jv_array(c->a);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT tag_key, tag_value FROM ec_tags WHERE "
					      "arn = ?1 ORDER BY rowid");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *t = jv_object(c->a);
		jv_set_str(c->a, t, "Key", db_col_text(st, 0));
		jv_set_str(c->a, t, "Value", db_col_text(st, 1));
		jv_push(c->a, list, t);
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "TagList", list);
}

int elasticache_op_add_tags_to_resource(struct aws_call *c)
{
	const char *arn = jv_get_str(c->in, "ResourceName");
	const struct jv *tags = jv_get(c->in, "Tags");
	if (resource_check(c, arn) < 0 || ec_tags_check(c, tags) < 0 || ec_tx_begin(c) < 0)
		return -1;
	int ok = ec_tags_put(c, arn, tags);
	if (ok == 0) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "SELECT COUNT(*) FROM ec_tags WHERE arn = ?1");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (n > EC_MAX_TAGS)
			ok = aws_fail(c, 400, "TagQuotaPerResourceExceeded",
				      "A resource can have at most %d tags.", EC_MAX_TAGS);
	}
	if (ec_tx_end(c, ok) < 0)
		return -1;
	tag_list(c, arn);
	return 0;
}

int elasticache_op_list_tags_for_resource(struct aws_call *c)
{
	const char *arn = jv_get_str(c->in, "ResourceName");
	if (resource_check(c, arn) < 0)
		return -1;
	tag_list(c, arn);
	return 0;
}

int elasticache_op_remove_tags_from_resource(struct aws_call *c)
{
	const char *arn = jv_get_str(c->in, "ResourceName");
	const struct jv *keys = jv_get(c->in, "TagKeys");
	if (resource_check(c, arn) < 0 || ec_tx_begin(c) < 0)
		return -1;
	int ok = 0;
	for (size_t i = 0; ok == 0 && i < jv_len(keys); i++) {
		const struct jv *k = jv_at(keys, i);
		if (k->type != JV_STRING)
			continue;
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "DELETE FROM ec_tags WHERE arn = ?1 AND tag_key = ?2");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, k->u.s.p, (int)k->u.s.n, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ec_fail_db(c, rc);
	}
	if (ec_tx_end(c, ok) < 0)
		return -1;
	tag_list(c, arn);
	return 0;
}
