/* read.c - reading events: GetLogEvents (one stream, forward and
 * backward tokens exactly as AWS pages) and FilterLogEvents (a group, or
 * some of its streams, interleaved by time, through a filter pattern).
 *
 * Both walk an index in (timestamp, id) order from a keyset position the
 * token carries, never an OFFSET, so a page costs the same at the end of a
 * million events as at the start. Events older than the group's retention
 * are hidden even before the sweep deletes them. */
#include "core/compat.h"
#include "aws/gen/logs_ops.h"
#include "core/buf.h"
#include "fb.h"
#include "svc/logs/filter.h"
#include "svc/logs/internal.h"
#include <stdlib.h>

#define LOGS_PAGE_MAX 10000  /* events in one response */
#define LOGS_SCAN_MAX 100000 /* rows FilterLogEvents examines per call */
#define LOGS_TOKEN_DIGITS 28 /* per number in f/... b/... tokens */

/* ---- GetLogEvents ---------------------------------------------------- */

/* An AWS-shaped GetLogEvents token: "f/" or "b/", 56 digits (timestamp
 * and id, 28 each) and "/s". f/(t,i) reads events after (t,i); b/(t,i)
 * reads events before it. */
static const char *pos_token(struct aws_call *c, char dir, int64_t ts, int64_t id)
{
	return arena_sprintf(c->a, "%c/%0*lld%0*lld/s", dir, LOGS_TOKEN_DIGITS, (long long)ts,
			     LOGS_TOKEN_DIGITS, (long long)id);
}

/* pos_untoken: parses a pos_token ("/s" optional); -1 when malformed. */
static int pos_untoken(const char *t, char *dir, int64_t *ts, int64_t *id)
{
	size_t n = strlen(t);
	int64_t v[2] = {0, 0};
	if (n != 2 + 2 * LOGS_TOKEN_DIGITS && n != 4 + 2 * LOGS_TOKEN_DIGITS)
		return -1;
	if ((t[0] != 'f' && t[0] != 'b') || t[1] != '/' || (n > 58 && strcmp(t + 58, "/s")))
		return -1;
	for (int k = 0; k < 2; k++) {
		const char *d = t + 2 + k * LOGS_TOKEN_DIGITS;
		for (int i = 0; i < LOGS_TOKEN_DIGITS; i++) {
			if (d[i] < '0' || d[i] > '9' || v[k] > (INT64_MAX - 9) / 10)
				return -1;
			v[k] = v[k] * 10 + (d[i] - '0');
		}
	}
	*dir = t[0];
	*ts = v[0];
	*id = v[1];
	return 0;
}

static const char sql_get_fwd[] =
    "SELECT id, ts, ingested, message FROM logs_events INDEXED BY logs_events_stream "
    "WHERE group_id = ?1 AND stream_id = ?2 AND ts >= ?3 AND ts <= ?4 AND (ts, id) > (?5, ?6) "
    "ORDER BY ts, id LIMIT ?7";
static const char sql_get_bwd[] =
    "SELECT id, ts, ingested, message FROM logs_events INDEXED BY logs_events_stream "
    "WHERE group_id = ?1 AND stream_id = ?2 AND ts >= ?3 AND ts <= ?4 AND (ts, id) < (?5, ?6) "
    "ORDER BY ts DESC, id DESC LIMIT ?7";

int logs_op_get_log_events(struct aws_call *c)
{
	struct logs_group g;
	struct logs_stream s;
	const char *tok = jv_get_str(c->in, "nextToken");
	int64_t limit = jv_get_int(c->in, "limit", LOGS_PAGE_MAX);
	int64_t lo = jv_get_int(c->in, "startTime", 0);
	int64_t hi = jv_get(c->in, "endTime") ? jv_get_int(c->in, "endTime", 0) - 1 : INT64_MAX;
	char dir = jv_get_bool(c->in, "startFromHead", 0) ? 'f' : 'b';
	int64_t kts = dir == 'f' ? 0 : INT64_MAX, kid = dir == 'f' ? 0 : INT64_MAX;
	if (tok && pos_untoken(tok, &dir, &kts, &kid) < 0)
		return logs_bad_token(c);
	if (logs_group_arg(c, &g) < 0 ||
	    logs_stream_find(c, &g, jv_get_str(c->in, "logStreamName"), &s) < 0)
		return -1;
	if (lo < logs_visible_from(&g, c->now_ms))
		lo = logs_visible_from(&g, c->now_ms);
	if (!tok && dir == 'f')
		kts = lo; /* key > (lo, 0): from the first event at lo */
	sqlite3_stmt *st = db_stmt(c->fb->db, dir == 'f' ? sql_get_fwd : sql_get_bwd);
	sqlite3_bind_int64(st, 1, g.id);
	sqlite3_bind_int64(st, 2, s.id);
	/* one bound per side: SQLite ranges an index on one of several */
	sqlite3_bind_int64(st, 3, dir == 'f' && kts > lo ? kts : lo);
	sqlite3_bind_int64(st, 4, dir == 'b' && kts < hi ? kts : hi);
	sqlite3_bind_int64(st, 5, kts);
	sqlite3_bind_int64(st, 6, kid);
	sqlite3_bind_int64(st, 7, limit);
	struct jv *list = jv_array(c->a), *out = aws_out(c);
	int64_t first[2] = {0, 0}, last[2] = {0, 0}; /* (ts, id) of the page's ends */
	size_t bytes = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 3);
		if (jv_len(list) && bytes + len + LOGS_EVENT_OVERHEAD > LOGS_BATCH_MAX_BYTES)
			break;
		bytes += len + LOGS_EVENT_OVERHEAD;
		struct jv *o = jv_object(c->a);
		jv_set_int(c->a, o, "timestamp", sqlite3_column_int64(st, 1));
		jv_set_strn(c->a, o, "message", db_col_text(st, 3), len);
		jv_set_int(c->a, o, "ingestionTime", sqlite3_column_int64(st, 2));
		jv_push(c->a, list, o);
		int64_t *end = dir == 'f' ? last : first; /* rows come in reading order */
		end[0] = sqlite3_column_int64(st, 1);
		end[1] = sqlite3_column_int64(st, 0);
		if (jv_len(list) == 1)
			memcpy(dir == 'f' ? first : last, end, sizeof(first));
	}
	sqlite3_reset(st);
	size_t n = jv_len(list);
	for (size_t i = 0; dir == 'b' && i < n / 2; i++) { /* oldest first */
		struct jv *t = list->u.arr.v[i];
		list->u.arr.v[i] = list->u.arr.v[n - 1 - i];
		list->u.arr.v[n - 1 - i] = t;
	}
	jv_set(c->a, out, "events", list);
	if (n) {
		jv_set_str(c->a, out, "nextForwardToken", pos_token(c, 'f', last[0], last[1]));
		jv_set_str(c->a, out, "nextBackwardToken", pos_token(c, 'b', first[0], first[1]));
	} else if (tok) {
		/* at the end: the same token again, and one for the other way
		 * that starts where this one stands */
		jv_set_str(c->a, out, dir == 'f' ? "nextForwardToken" : "nextBackwardToken", tok);
		if (dir == 'f')
			jv_set_str(c->a, out, "nextBackwardToken",
				   kid < INT64_MAX ? pos_token(c, 'b', kts, kid + 1)
						   : pos_token(c, 'b', kts, kid));
		else
			jv_set_str(c->a, out, "nextForwardToken",
				   pos_token(c, 'f', kts, kid > 0 ? kid - 1 : 0));
	} else {
		jv_set_str(c->a, out, "nextForwardToken", pos_token(c, 'f', lo, 0));
		jv_set_str(c->a, out, "nextBackwardToken", pos_token(c, 'b', lo, 0));
	}
	return 0;
}

/* ---- FilterLogEvents ------------------------------------------------- */

/* The streams a FilterLogEvents call searches, by ascending id. */
struct scope {
	int64_t *ids;
	const char **names;
	size_t n;
	int all; /* every stream of the group */
};

/* in_list: 1 when name is one of the strings of array list. */
static int in_list(const struct jv *list, const char *name)
{
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *v = jv_at(list, i);
		if (v && v->type == JV_STRING && strcmp(v->u.s.p, name) == 0)
			return 1;
	}
	return 0;
}

/* scope_load: the group's streams named in logStreamNames or starting
 * with logStreamNamePrefix (all when neither). */
static void scope_load(struct aws_call *c, int64_t gid, struct scope *sc)
{
	const struct jv *names = jv_get(c->in, "logStreamNames");
	const char *prefix = jv_get_str(c->in, "logStreamNamePrefix");
	size_t cap = 16, plen = prefix ? strlen(prefix) : 0;
	sc->all = !names && !prefix;
	sc->n = 0;
	sc->ids = arena_alloc(c->a, cap * sizeof(*sc->ids));
	sc->names = arena_alloc(c->a, cap * sizeof(*sc->names));
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT id, name FROM logs_streams WHERE group_id = ?1 ORDER BY id");
	sqlite3_bind_int64(st, 1, gid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = db_col_text(st, 1);
		if ((names && !in_list(names, name)) || (prefix && strncmp(name, prefix, plen)))
			continue;
		if (sc->n == cap) {
			sc->ids = arena_realloc(c->a, sc->ids, cap * sizeof(*sc->ids),
						2 * cap * sizeof(*sc->ids));
			sc->names = arena_realloc(c->a, sc->names, cap * sizeof(*sc->names),
						  2 * cap * sizeof(*sc->names));
			cap *= 2;
		}
		sc->ids[sc->n] = sqlite3_column_int64(st, 0);
		sc->names[sc->n++] = arena_strdup(c->a, name);
	}
	sqlite3_reset(st);
}

/* scope_name: the name of stream id (bsearch), or NULL. */
static const char *scope_name(const struct scope *sc, int64_t id)
{
	size_t lo = 0, hi = sc->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sc->ids[mid] == id)
			return sc->names[mid];
		if (sc->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

#define EV_COLS "SELECT id, stream_id, ts, ingested, message FROM logs_events "
#define EV_KEY "ts >= ?2 AND ts <= ?3 AND (ts, id) > (?4, ?5) "
static const char sql_filter_all[] = EV_COLS "INDEXED BY logs_events_group WHERE group_id = ?1 "
					     "AND " EV_KEY "ORDER BY ts, id";
static const char sql_filter_one[] = EV_COLS "INDEXED BY logs_events_stream WHERE group_id = "
					     "?1 AND stream_id = ?6 AND " EV_KEY "ORDER BY ts, id";
static const char sql_filter_some[] =
    EV_COLS "INDEXED BY logs_events_group WHERE group_id = ?1 AND " EV_KEY
	    "AND stream_id IN (SELECT value FROM json_each(?6)) ORDER BY ts, id";

/* filter_stmt: the statement walking the scope's events after (kts, kid)
 * within [lo, hi]. */
static sqlite3_stmt *filter_stmt(struct aws_call *c, int64_t gid, const struct scope *sc,
				 int64_t lo, int64_t hi, int64_t kts, int64_t kid)
{
	sqlite3_stmt *st;
	if (sc->all) {
		st = db_stmt(c->fb->db, sql_filter_all);
	} else if (sc->n == 1) {
		st = db_stmt(c->fb->db, sql_filter_one);
		sqlite3_bind_int64(st, 6, sc->ids[0]);
	} else {
		struct buf b = BUF_INIT;
		buf_putc(&b, '[');
		for (size_t i = 0; i < sc->n; i++)
			buf_printf(&b, "%s%lld", i ? "," : "", (long long)sc->ids[i]);
		buf_putc(&b, ']');
		st = db_stmt(c->fb->db, sql_filter_some);
		sqlite3_bind_text(st, 6, arena_strndup(c->a, b.p, b.n), (int)b.n, SQLITE_STATIC);
		buf_release(&b);
	}
	sqlite3_bind_int64(st, 1, gid);
	/* one lower bound: SQLite ranges an index on only one of several */
	sqlite3_bind_int64(st, 2, kts > lo ? kts : lo);
	sqlite3_bind_int64(st, 3, hi);
	sqlite3_bind_int64(st, 4, kts);
	sqlite3_bind_int64(st, 5, kid);
	return st;
}

/* filtered_event: a FilteredLogEvent from the current row. */
static struct jv *filtered_event(struct aws_call *c, sqlite3_stmt *st, const char *stream)
{
	struct jv *o = jv_object(c->a);
	jv_set_str(c->a, o, "logStreamName", stream);
	jv_set_int(c->a, o, "timestamp", sqlite3_column_int64(st, 2));
	jv_set_strn(c->a, o, "message", db_col_text(st, 4), (size_t)sqlite3_column_bytes(st, 4));
	jv_set_int(c->a, o, "ingestionTime", sqlite3_column_int64(st, 3));
	/* 56 digits, as AWS shows them; ids are never reused */
	jv_set_str(c->a, o, "eventId",
		   arena_sprintf(c->a, "%056lld", (long long)sqlite3_column_int64(st, 0)));
	return o;
}

int logs_op_filter_log_events(struct aws_call *c)
{
	struct logs_group g;
	struct scope sc;
	const char *tok = jv_get_str(c->in, "nextToken");
	struct str pat = jv_get_strv(c->in, "filterPattern");
	int64_t limit = jv_get_int(c->in, "limit", LOGS_PAGE_MAX);
	int64_t lo = jv_get_int(c->in, "startTime", 0);
	int64_t hi = jv_get(c->in, "endTime") ? jv_get_int(c->in, "endTime", 0) : INT64_MAX;
	int64_t kts = 0, kid = 0;
	if (jv_get(c->in, "logStreamNames") && jv_get(c->in, "logStreamNamePrefix"))
		return logs_bad_param(c, "Parameters logStreamNames and logStreamNamePrefix are "
					 "mutually exclusive.");
	if (tok && logs_key_untoken(tok, "e", &kts, &kid) < 0)
		return logs_bad_token(c);
	struct logs_filter *f = logs_filter_parse(c->a, pat.p ? pat.p : "", pat.n, NULL);
	if (!f)
		return logs_bad_param(c, "Invalid filter pattern");
	if (logs_group_arg(c, &g) < 0)
		return -1;
	if (lo < logs_visible_from(&g, c->now_ms))
		lo = logs_visible_from(&g, c->now_ms);
	scope_load(c, g.id, &sc);
	struct jv *list = jv_array(c->a), *out = aws_out(c);
	int more = 0;
	if (sc.n) {
		struct arena *scratch = arena_new(1 << 16);
		sqlite3_stmt *st = filter_stmt(c, g.id, &sc, lo, hi, kts, kid);
		size_t scanned = 0, bytes = 0;
		int64_t last_ts = kts, last_id = kid;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *msg = db_col_text(st, 4);
			size_t len = (size_t)sqlite3_column_bytes(st, 4);
			if ((int64_t)jv_len(list) == limit || scanned == LOGS_SCAN_MAX ||
			    bytes + len + LOGS_EVENT_OVERHEAD > LOGS_BATCH_MAX_BYTES) {
				more = 1; /* resume after the last row looked at */
				break;
			}
			scanned++;
			last_ts = sqlite3_column_int64(st, 2);
			last_id = sqlite3_column_int64(st, 0);
			if (!logs_filter_matches_all(f)) {
				int hit = logs_filter_match(f, scratch, msg ? msg : "", len);
				arena_reset(scratch);
				if (!hit)
					continue;
			}
			const char *stream = scope_name(&sc, sqlite3_column_int64(st, 1));
			jv_push(c->a, list, filtered_event(c, st, stream ? stream : ""));
			bytes += len + LOGS_EVENT_OVERHEAD;
		}
		sqlite3_reset(st);
		arena_free(scratch);
		if (more)
			jv_set_str(c->a, out, "nextToken",
				   logs_key_token(c, "e", last_ts, last_id));
	}
	jv_set(c->a, out, "events", list);
	struct jv *searched = jv_array(c->a);
	for (size_t i = 0; i < sc.n; i++) {
		struct jv *o = jv_object(c->a);
		jv_set_str(c->a, o, "logStreamName", sc.names[i]);
		jv_set_bool(c->a, o, "searchedCompletely", !more);
		jv_push(c->a, searched, o);
	}
	jv_set(c->a, out, "searchedLogStreams", searched);
	return 0;
}
