/* streams.c - log streams: CreateLogStream, DeleteLogStream (with its
 * events) and DescribeLogStreams, ordered by name or by last event time,
 * either way up or down, in keyset pages whose token remembers the order
 * it belongs to. */
#include "core/compat.h"
#include "aws/gen/logs_ops.h"
#include "fb.h"
#include "svc/logs/internal.h"

int logs_op_create_log_stream(struct aws_call *c)
{
	struct logs_group g;
	const char *name = jv_get_str(c->in, "logStreamName");
	if (logs_tx_begin(c) < 0)
		return -1;
	int ok = logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g);
	if (ok == 0 && logs_stream_id(c->fb->db, g.id, name))
		ok = aws_fail(c, 400, "ResourceAlreadyExistsException",
			      "The specified log stream already exists");
	if (ok == 0) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO logs_streams(group_id, name, "
						      "created) VALUES(?1, ?2, ?3)");
		sqlite3_bind_int64(st, 1, g.id);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, c->now_ms);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
	}
	return logs_tx_end(c, ok);
}

int logs_op_delete_log_stream(struct aws_call *c)
{
	static const char *const sqls[] = {
	    /* the group stops holding the stream's bytes */
	    "UPDATE logs_groups SET stored_bytes = max(0, stored_bytes - (SELECT "
	    "coalesce(sum(length(CAST(message AS BLOB))), 0) FROM logs_events WHERE "
	    "group_id = ?1 AND stream_id = ?2)) WHERE id = ?1",
	    "DELETE FROM logs_events WHERE group_id = ?1 AND stream_id = ?2",
	    "DELETE FROM logs_streams WHERE id = ?2",
	};
	struct logs_group g;
	struct logs_stream s;
	if (logs_tx_begin(c) < 0)
		return -1;
	int ok = logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g);
	if (ok == 0)
		ok = logs_stream_find(c, &g, jv_get_str(c->in, "logStreamName"), &s);
	for (size_t i = 0; ok == 0 && i < FB_ARRAY_LEN(sqls); i++) {
		sqlite3_stmt *st = db_stmt(c->fb->db, sqls[i]);
		sqlite3_bind_int64(st, 1, g.id);
		sqlite3_bind_int64(st, 2, s.id);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
	}
	return logs_tx_end(c, ok);
}

#define STREAM_COLS "SELECT id, name, created, first_event, last_event, last_ingestion, seq "

/* The four orders. By name: after/before the token's name ?3, names
 * starting with ?4. By last event time: key (last event or -1, id) past
 * (?3, ?4). */
static const char *const sql_streams[2][2] = {
    {STREAM_COLS "FROM logs_streams WHERE group_id = ?1 AND name > ?3 AND name >= ?4 AND "
		 "substr(name, 1, length(?4)) = ?4 ORDER BY name LIMIT ?2",
     STREAM_COLS "FROM logs_streams WHERE group_id = ?1 AND (?5 OR name < ?3) AND "
		 "substr(name, 1, length(?4)) = ?4 ORDER BY name DESC LIMIT ?2"},
    {STREAM_COLS "FROM logs_streams WHERE group_id = ?1 AND (coalesce(last_event, -1), id) > "
		 "(?3, ?4) ORDER BY coalesce(last_event, -1), id LIMIT ?2",
     STREAM_COLS "FROM logs_streams WHERE group_id = ?1 AND (coalesce(last_event, -1), id) < "
		 "(?3, ?4) ORDER BY coalesce(last_event, -1) DESC, id DESC LIMIT ?2"},
};

/* stream_entry: a LogStream of group g from a STREAM_COLS row. */
static struct jv *stream_entry(struct aws_call *c, const struct logs_group *g, sqlite3_stmt *st)
{
	struct jv *o = jv_object(c->a);
	const char *name = db_col_text(st, 1);
	jv_set_str(c->a, o, "logStreamName", name);
	jv_set_int(c->a, o, "creationTime", sqlite3_column_int64(st, 2));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		jv_set_int(c->a, o, "firstEventTimestamp", sqlite3_column_int64(st, 3));
		jv_set_int(c->a, o, "lastEventTimestamp", sqlite3_column_int64(st, 4));
		jv_set_int(c->a, o, "lastIngestionTime", sqlite3_column_int64(st, 5));
	}
	if (sqlite3_column_int64(st, 6) > 0)
		jv_set_str(c->a, o, "uploadSequenceToken",
			   logs_seq_token(c->a, sqlite3_column_int64(st, 6)));
	jv_set_str(c->a, o, "arn",
		   arena_sprintf(c->a, "%s:log-stream:%s", logs_group_arn(c, g->name), name));
	jv_set_int(c->a, o, "storedBytes", 0); /* AWS has reported 0 since 2019 */
	return o;
}

int logs_op_describe_log_streams(struct aws_call *c)
{
	struct logs_group g;
	const char *order = jv_get_str(c->in, "orderBy");
	const char *prefix = jv_get_str(c->in, "logStreamNamePrefix");
	const char *tok = jv_get_str(c->in, "nextToken");
	int by_time = order && strcmp(order, "LastEventTime") == 0;
	int desc = jv_get_bool(c->in, "descending", 0);
	int64_t limit = jv_get_int(c->in, "limit", 50);
	static const char *const kinds[2][2] = {{"na", "nd"}, {"ta", "td"}};
	const char *kind = kinds[by_time][desc];
	struct str after = {"", 0};
	int64_t kts = desc ? INT64_MAX : INT64_MIN, kid = desc ? INT64_MAX : INT64_MIN;
	if (by_time && prefix)
		return logs_bad_param(c, "Cannot order by LastEventTime with a "
					 "logStreamNamePrefix.");
	if (tok && (by_time ? logs_key_untoken(tok, kind, &kts, &kid)
			    : logs_unhex_token(c, tok, kind, &after)) < 0)
		return logs_bad_token(c);
	if (logs_group_arg(c, &g) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, sql_streams[by_time][desc]);
	sqlite3_bind_int64(st, 1, g.id);
	sqlite3_bind_int64(st, 2, limit + 1); /* one more: is there a next page? */
	if (by_time) {
		sqlite3_bind_int64(st, 3, kts);
		sqlite3_bind_int64(st, 4, kid);
	} else {
		sqlite3_bind_text(st, 3, after.p, (int)after.n, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, prefix ? prefix : "", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, !tok); /* descending, first page: no bound */
	}
	struct jv *list = jv_array(c->a);
	int more = 0;
	const char *last_name = NULL;
	int64_t last_ts = 0, last_id = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((int64_t)jv_len(list) == limit) {
			more = 1;
			break;
		}
		jv_push(c->a, list, stream_entry(c, &g, st));
		last_name = arena_strdup(c->a, db_col_text(st, 1));
		last_id = sqlite3_column_int64(st, 0);
		last_ts =
		    sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "logStreams", list);
	if (more)
		jv_set_str(c->a, aws_out(c), "nextToken",
			   by_time ? logs_key_token(c, kind, last_ts, last_id)
				   : logs_hex_token(c, kind, last_name, strlen(last_name)));
	return 0;
}
