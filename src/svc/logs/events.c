/* events.c - writing events: PutLogEvents with AWS's batch rules, and
 * the same append path for other services (logs_put_internal). A batch is
 * one transaction with one prepared insert, so it is durable (and fsynced
 * once) before the response goes out.
 *
 * AWS's rules, as documented: events in chronological order (else the
 * whole batch fails), at most 10,000 events and 1,048,576 bytes counting
 * 26 bytes per event, a batch may not span more than 24 hours; events
 * more than 14 days old, older than the group's retention or more than 2
 * hours in the future are skipped and reported in rejectedLogEventsInfo.
 * The 24-hour rule is applied to the events that are kept. Sequence
 * tokens are accepted and ignored, as AWS does now. */
#include "core/compat.h"
#include "aws/gen/logs_ops.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "svc/logs/internal.h"

#define TOO_OLD_MS (14 * LOGS_DAY_MS)
#define TOO_NEW_MS (2 * 3600 * 1000LL)

const char *logs_seq_token(struct arena *a, int64_t seq)
{
	return arena_sprintf(a, "%056lld", (long long)seq);
}

int logs_append(struct db *db, int64_t group_id, int64_t stream_id, const int64_t *ts,
		const struct str *msgs, size_t n, int64_t now_ms)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, bytes = 0;
	int rc = SQLITE_DONE;
	if (n == 0)
		return SQLITE_DONE;
	sqlite3_stmt *st = db_stmt(db, "INSERT INTO logs_events(group_id, stream_id, ts, "
				       "ingested, message) VALUES(?1, ?2, ?3, ?4, ?5)");
	/* ids and ingestion time stay bound across steps; only ts and message change */
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, stream_id);
	sqlite3_bind_int64(st, 4, now_ms);
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(st, 3, ts[i]);
		sqlite3_bind_text(st, 5, msgs[i].p ? msgs[i].p : "", (int)msgs[i].n, SQLITE_STATIC);
		rc = db_step_done(st);
		lo = ts[i] < lo ? ts[i] : lo;
		hi = ts[i] > hi ? ts[i] : hi;
		bytes += (int64_t)msgs[i].n;
	}
	sqlite3_clear_bindings(st); /* the messages are the caller's */
	if (rc != SQLITE_DONE)
		return rc;
	st =
	    db_stmt(db, "UPDATE logs_streams SET first_event = min(coalesce(first_event, ?2), ?2), "
			"last_event = max(coalesce(last_event, ?3), ?3), last_ingestion = ?4, "
			"seq = seq + 1 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, stream_id);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	sqlite3_bind_int64(st, 4, now_ms);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return rc;
	st = db_stmt(db, "UPDATE logs_groups SET stored_bytes = stored_bytes + ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, bytes);
	return db_step_done(st);
}

/* A PutLogEvents batch after the rules: events [keep_from, keep_to) are
 * stored; the rest are reported. */
struct batch {
	size_t n;
	int64_t *ts;
	struct str *msgs;
	size_t too_old_end, expired_end, too_new_start;
	size_t keep_from, keep_to;
};

/* batch_read: the logEvents input into b, checking order and sizes. */
static int batch_read(struct aws_call *c, struct batch *b)
{
	const struct jv *events = jv_get(c->in, "logEvents");
	size_t bytes = 0;
	b->n = jv_len(events);
	b->ts = arena_alloc(c->a, (b->n ? b->n : 1) * sizeof(*b->ts));
	b->msgs = arena_alloc(c->a, (b->n ? b->n : 1) * sizeof(*b->msgs));
	for (size_t i = 0; i < b->n; i++) {
		const struct jv *e = jv_at(events, i);
		b->ts[i] = jv_get_int(e, "timestamp", 0);
		b->msgs[i] = jv_get_strv(e, "message");
		if (!b->msgs[i].p)
			b->msgs[i] = (struct str){"", 0};
		if (i && b->ts[i] < b->ts[i - 1])
			return logs_bad_param(c, "Log events in a single PutLogEvents request must "
						 "be in chronological order.");
		if (b->msgs[i].n + LOGS_EVENT_OVERHEAD > LOGS_EVENT_MAX_BYTES)
			return aws_fail(c, 400, "InvalidParameterException",
					"Log event too large: %zu bytes exceeds limit of %d",
					b->msgs[i].n + LOGS_EVENT_OVERHEAD, LOGS_EVENT_MAX_BYTES);
		bytes += b->msgs[i].n + LOGS_EVENT_OVERHEAD;
	}
	if (bytes > LOGS_BATCH_MAX_BYTES)
		return aws_fail(c, 400, "InvalidParameterException",
				"Upload too large: %zu bytes exceeds limit of %d", bytes,
				LOGS_BATCH_MAX_BYTES);
	return 0;
}

/* batch_sort_out: finds the too old, expired and too new events (the
 * batch is in order, so they are a prefix and a suffix) and applies the
 * 24-hour rule to the rest. */
static int batch_sort_out(struct aws_call *c, const struct logs_group *g, struct batch *b)
{
	int64_t old = c->now_ms - TOO_OLD_MS, expired = logs_visible_from(g, c->now_ms);
	size_t i = 0;
	while (i < b->n && b->ts[i] < old)
		i++;
	b->too_old_end = i;
	i = 0;
	while (g->retention > 0 && i < b->n && b->ts[i] < expired)
		i++;
	b->expired_end = i;
	b->keep_from = b->too_old_end > b->expired_end ? b->too_old_end : b->expired_end;
	i = b->n;
	while (i > b->keep_from && b->ts[i - 1] > c->now_ms + TOO_NEW_MS)
		i--;
	b->too_new_start = i;
	b->keep_to = i;
	if (b->keep_to > b->keep_from && b->ts[b->keep_to - 1] - b->ts[b->keep_from] > LOGS_DAY_MS)
		return logs_bad_param(c, "The batch of log events in a single PutLogEvents "
					 "request cannot span more than 24 hours.");
	return 0;
}

int logs_op_put_log_events(struct aws_call *c)
{
	struct logs_group g;
	struct logs_stream s;
	struct batch b;
	memset(&b, 0, sizeof(b));
	if (batch_read(c, &b) < 0 || logs_tx_begin(c) < 0)
		return -1;
	int ok = logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g);
	if (ok == 0)
		ok = logs_stream_find(c, &g, jv_get_str(c->in, "logStreamName"), &s);
	if (ok == 0)
		ok = batch_sort_out(c, &g, &b);
	if (ok == 0 && b.keep_to > b.keep_from) {
		int rc = logs_append(c->fb->db, g.id, s.id, b.ts + b.keep_from,
				     b.msgs + b.keep_from, b.keep_to - b.keep_from, c->now_ms);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
		s.seq++;
	}
	if (logs_tx_end(c, ok) < 0)
		return -1;
	if (b.keep_to > b.keep_from)
		logs_tail_offer(g.id, jv_get_str(c->in, "logStreamName"), b.ts + b.keep_from,
				b.msgs + b.keep_from, b.keep_to - b.keep_from, c->now_ms);
	struct jv *out = aws_out(c);
	jv_set_str(c->a, out, "nextSequenceToken", logs_seq_token(c->a, s.seq));
	if (b.too_old_end || b.expired_end || b.too_new_start < b.n) {
		struct jv *r = jv_object(c->a);
		if (b.too_old_end)
			jv_set_int(c->a, r, "tooOldLogEventEndIndex", (int64_t)b.too_old_end);
		if (b.expired_end)
			jv_set_int(c->a, r, "expiredLogEventEndIndex", (int64_t)b.expired_end);
		if (b.too_new_start < b.n)
			jv_set_int(c->a, r, "tooNewLogEventStartIndex", (int64_t)b.too_new_start);
		jv_set(c->a, out, "rejectedLogEventsInfo", r);
	}
	return 0;
}

/* ensure: the id of group/stream, creating what is missing (the group
 * only when create_group); 0 with *gid and *sid set, or -1. */
static int ensure(struct fogbank *fb, const char *account, const char *region, const char *group,
		  const char *stream, int create_group, int64_t *gid, int64_t *sid)
{
	struct db *db = fb->db;
	int64_t now = fb_wall_ms();
	*gid = logs_group_id(db, account, region, group);
	if (!*gid && create_group) {
		sqlite3_stmt *st = db_stmt(db, "INSERT INTO logs_groups(account, region, name, "
					       "created) VALUES(?1, ?2, ?3, ?4)");
		sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now);
		if (db_step_done(st) != SQLITE_DONE)
			return -1;
		*gid = sqlite3_last_insert_rowid(db_sqlite(db));
	}
	if (!*gid)
		return -1;
	*sid = logs_stream_id(db, *gid, stream);
	if (!*sid) {
		sqlite3_stmt *st = db_stmt(db, "INSERT INTO logs_streams(group_id, name, created) "
					       "VALUES(?1, ?2, ?3)");
		sqlite3_bind_int64(st, 1, *gid);
		sqlite3_bind_text(st, 2, stream, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		if (db_step_done(st) != SQLITE_DONE)
			return -1;
		*sid = sqlite3_last_insert_rowid(db_sqlite(db));
	}
	return 0;
}

int logs_put_internal(struct fogbank *fb, const char *account, const char *region,
		      const char *group, const char *stream, int create_group, const int64_t *ts,
		      const struct str *msgs, size_t n)
{
	int64_t gid, sid, now = fb_wall_ms();
	int own = !db_in_tx(fb->db);
	if (own && db_begin(fb->db) != SQLITE_OK)
		return -1;
	int rc = ensure(fb, account, region, group, stream, create_group, &gid, &sid) < 0
		     ? SQLITE_ERROR
		     : logs_append(fb->db, gid, sid, ts, msgs, n, now);
	if (own && rc == SQLITE_DONE && db_commit(fb->db) != SQLITE_OK)
		rc = SQLITE_ERROR;
	if (rc != SQLITE_DONE) {
		if (own)
			db_rollback(fb->db);
		log_warn("logs: cannot append %zu event(s) to %s/%s", n, group, stream);
		return -1;
	}
	/* a caller's open transaction may still roll back; the awslogs
	 * driver's appends are its own (own == 1) */
	logs_tail_offer(gid, stream, ts, msgs, n, now);
	return 0;
}
