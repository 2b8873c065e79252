/* events.c - DescribeEvents over what the runtime recorded (creations,
 * restarts, failures, failovers, snapshots, deletions), newest first, and
 * DescribeCacheEngineVersions (the one engine fogbank serves). */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "fb.h"
#include "svc/elasticache/internal.h"

int elasticache_op_describe_events(struct aws_call *c)
{
	int64_t max, off;
	if (ec_page(c, &max, &off) < 0)
		return -1;
	double now = (double)c->now_ms / 1000.0;
	double end = jv_get_double(c->in, "EndTime", now);
	double start = jv_get_double(c->in, "StartTime", 0);
	int64_t minutes = jv_get_int(c->in, "Duration", 0);
	if (!start) /* Duration minutes before the end; 60 by default */
		start = end - (double)(minutes > 0 ? minutes : 60) * 60.0;
	const char *source = jv_get_str(c->in, "SourceType");
	const char *id = jv_get_str(c->in, "SourceIdentifier");
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT source_id, source_type, message, date FROM "
			       "ec_events WHERE account = ?1 AND region = ?2 AND "
			       "date >= ?3 AND date <= ?4 AND (?5 IS NULL OR "
			       "source_type = ?5) AND (?6 IS NULL OR source_id = ?6) "
			       "ORDER BY date DESC, id DESC LIMIT ?7 OFFSET ?8");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, start);
	sqlite3_bind_double(st, 4, end);
	if (source)
		sqlite3_bind_text(st, 5, source, -1, SQLITE_STATIC);
	if (id)
		sqlite3_bind_text(st, 6, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, max + 1);
	sqlite3_bind_int64(st, 8, off);
	struct jv *list = jv_array(c->a);
	int64_t k = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (k++ >= max)
			continue;
		struct jv *e = jv_object(c->a);
		jv_set_str(c->a, e, "SourceIdentifier", db_col_text(st, 0));
		jv_set_str(c->a, e, "SourceType", db_col_text(st, 1));
		jv_set_str(c->a, e, "Message", db_col_text(st, 2));
		jv_set_double(c->a, e, "Date", sqlite3_column_double(st, 3));
		jv_push(c->a, list, e);
	}
	sqlite3_reset(st);
	if (k > max)
		ec_page_marker(c, aws_out(c), off + max);
	jv_set(c->a, aws_out(c), "Events", list);
	return 0;
}

int elasticache_op_describe_cache_engine_versions(struct aws_call *c)
{
	const char *engine = jv_get_str(c->in, "Engine");
	const char *family = jv_get_str(c->in, "CacheParameterGroupFamily");
	const char *version = jv_get_str(c->in, "EngineVersion");
	struct jv *list = jv_array(c->a);
	if ((!engine || !strcmp(engine, "redis")) && (!family || !strcmp(family, EC_FAMILY)) &&
	    (!version || !strncmp(version, "7.", 2))) {
		struct jv *v = jv_object(c->a);
		jv_set_str(c->a, v, "Engine", "redis");
		jv_set_str(c->a, v, "EngineVersion", version ? version : "7.0.15");
		jv_set_str(c->a, v, "CacheParameterGroupFamily", EC_FAMILY);
		jv_set_str(c->a, v, "CacheEngineDescription", "Redis");
		jv_set_str(c->a, v, "CacheEngineVersionDescription",
			   "redis version 7 (Debian's redis-server 7.0)");
		jv_push(c->a, list, v);
	}
	jv_set(c->a, aws_out(c), "CacheEngineVersions", list);
	return 0;
}
