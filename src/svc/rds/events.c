/* events.c - RDS events: recorded when something really happens to an
 * instance or snapshot (created, backed up, restarted, failed ...) and
 * served by DescribeEvents. Kept 14 days, as AWS does. */
#include "core/compat.h"
#include "aws/gen/rds_ops.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "svc/rds/internal.h"
#include <stdarg.h>
#include <stdlib.h>

#define EVENT_KEEP_S (14 * 86400.0)

void rds_event(struct fogbank *fb, const char *account, const char *region, const char *type,
	       const char *source_id, const char *category, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("rds: %s %s: %s", type, source_id, msg);
	double now = (double)fb_wall_ms() / 1000.0;
	sqlite3_stmt *st = db_stmt(fb->db, "INSERT INTO rds_events(account, region, source_type, "
					   "source_id, category, message, date) "
					   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, msg, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 7, now);
	db_step_done(st);
	st = db_stmt(fb->db, "DELETE FROM rds_events WHERE date < ?1");
	sqlite3_bind_double(st, 1, now - EVENT_KEEP_S);
	db_step_done(st);
}

int rds_op_describe_events(struct aws_call *c)
{
	double now = (double)c->now_ms / 1000.0;
	double start = jv_get_double(c->in, "StartTime", 0);
	double end = jv_get_double(c->in, "EndTime", 0);
	int64_t minutes = jv_get_int(c->in, "Duration", 60);
	if (!start)
		start = (end ? end : now) - (double)minutes * 60.0;
	if (!end)
		end = now + 1;
	const char *sid = jv_get_str(c->in, "SourceIdentifier");
	const char *stype = jv_get_str(c->in, "SourceType");
	int64_t max = jv_get_int(c->in, "MaxRecords", 100);
	int64_t off = jv_get_str(c->in, "Marker") ? atoll(jv_get_str(c->in, "Marker")) : 0;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT source_type, source_id, category, message, date FROM "
			       "rds_events WHERE account = ?1 AND region = ?2 AND date >= ?3 AND "
			       "date <= ?4 AND (?5 IS NULL OR source_id = lower(?5)) AND "
			       "(?6 IS NULL OR source_type = ?6) ORDER BY id LIMIT ?7 OFFSET ?8");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, start);
	sqlite3_bind_double(st, 4, end);
	if (sid)
		sqlite3_bind_text(st, 5, sid, -1, SQLITE_STATIC);
	if (stype)
		sqlite3_bind_text(st, 6, stype, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, max + 1);
	sqlite3_bind_int64(st, 8, off);
	struct jv *list = jv_array(c->a);
	int64_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == max) {
			jv_set_str(c->a, aws_out(c), "Marker",
				   arena_sprintf(c->a, "%lld", (long long)(off + max)));
			break;
		}
		struct jv *e = jv_object(c->a);
		jv_set_str(c->a, e, "SourceIdentifier", db_col_text(st, 1));
		jv_set_str(c->a, e, "SourceType", db_col_text(st, 0));
		jv_set_str(c->a, e, "Message", db_col_text(st, 3));
		struct jv *cats = jv_array(c->a);
		jv_push(c->a, cats, jv_string_c(c->a, db_col_text(st, 2)));
		jv_set(c->a, e, "EventCategories", cats);
		jv_set_double(c->a, e, "Date", sqlite3_column_double(st, 4));
		jv_push(c->a, list, e);
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "Events", list);
	return 0;
}
