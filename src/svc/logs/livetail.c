/* livetail.c - StartLiveTail: a session streams the events ingested into
 * up to 10 log groups, as AWS event-stream messages on the response: one
 * sessionStart, then a sessionUpdate every second (empty when nothing
 * arrived, which also keeps clients' read timeouts at bay), at most 500
 * events each (more are sampled: the first 500 kept, sampled=true), and
 * a SessionTimeoutException after three hours.
 *
 * Events reach sessions from the two append paths (PutLogEvents and
 * logs_put_internal, i.e. the ECS awslogs driver) after they commit, so a
 * session never shows an event the store does not have. With no session
 * open the hook costs one comparison. Sessions live in memory only: like
 * AWS's, they end with the connection (or with fogbank). */
#include "core/compat.h"
#include "aws/eventstream.h"
#include "aws/fmt.h"
#include "aws/gen/logs_ops.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "http/server.h"
#include "svc/logs/filter.h"
#include "svc/logs/internal.h"
#include <stdlib.h>

#define TAIL_MAX_GROUPS 10
#define TAIL_MAX_PER_ACCOUNT 15		    /* AWS's concurrent sessions quota */
#define TAIL_UPDATE_EVENTS 500		    /* per sessionUpdate, as AWS */
#define TAIL_PENDING_BYTES (4u << 20)	    /* message bytes held between updates */
#define TAIL_SESSION_MS (3 * 3600 * 1000LL) /* sessions time out after 3 h */

/* One event waiting for the next update. */
struct tail_event {
	int64_t ts, ingested;
	int group;    /* index into the session's groups */
	char *stream; /* malloc'd */
	char *msg;    /* malloc'd */
	size_t msg_n;
};

struct tail_session {
	struct fogbank *fb;
	struct arena *a; /* the session's own strings and compiled filter */
	char account[16];
	int ngroups;
	int64_t group_ids[TAIL_MAX_GROUPS];
	const char *group_idents[TAIL_MAX_GROUPS];
	const char **names, **prefixes; /* stream filters (NULL-terminated) */
	const char *pattern;
	const struct logs_filter *filter;
	const struct jv *start; /* the sessionStart payload, built by the handler */
	struct http_stream *st;
	uint64_t timer;
	int64_t started_ms;
	struct tail_event *ev;
	size_t nev, pending_bytes, matched;
	struct tail_session *next;
};

static struct tail_session *sessions; /* open sessions (loop thread) */

/* pending_clear: frees the events waiting in s. */
static void pending_clear(struct tail_session *s)
{
	for (size_t i = 0; i < s->nev; i++) {
		free(s->ev[i].stream);
		free(s->ev[i].msg);
	}
	s->nev = s->pending_bytes = s->matched = 0;
}

/* session_free: unlinks s (when linked), stops its timer, frees it. */
static void session_free(struct tail_session *s)
{
	for (struct tail_session **p = &sessions; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	if (s->timer)
		loop_timer_cancel(s->fb->loop, s->timer);
	pending_clear(s);
	free(s->ev);
	arena_free(s->a);
	free(s);
}

/* send_event: writes event <name> with payload v to s's stream. Returns
 * the http_stream_write result (-1: the client is too far behind). */
static int send_event(struct tail_session *s, struct arena *a, const char *name, const struct jv *v)
{
	const struct model_service *svc = model_find_service("logs");
	const struct model_op *op = model_find_op(svc, "StartLiveTail", 13);
	struct buf b = {0};
	aws_event_append(a, svc, op, name, v, &b);
	int rc = http_stream_write(s->st, b.p, b.n);
	buf_release(&b);
	return rc;
}

/* tick_cb: the once-a-second update, or the timeout at three hours. */
static void tick_cb(struct loop *l, void *arg)
{
	struct tail_session *s = arg;
	struct arena *a = arena_new(16384);
	s->timer = 0;
	if (fb_wall_ms() - s->started_ms >= TAIL_SESSION_MS) {
		struct jv *e = jv_object(a);
		jv_set_str(a, e, "message", "Session timed out after 3 hours.");
		send_event(s, a, "SessionTimeoutException", e);
		http_stream_end(s->st);
		arena_free(a);
		session_free(s);
		return;
	}
	struct jv *u = jv_object(a), *meta = jv_object(a), *res = jv_array(a);
	jv_set_bool(a, meta, "sampled", s->matched > s->nev);
	for (size_t i = 0; i < s->nev; i++) {
		struct tail_event *e = &s->ev[i];
		struct jv *o = jv_object(a);
		jv_set_str(a, o, "logStreamName", e->stream);
		jv_set_str(a, o, "logGroupIdentifier", s->group_idents[e->group]);
		jv_set_strn(a, o, "message", e->msg, e->msg_n);
		jv_set_int(a, o, "timestamp", e->ts);
		jv_set_int(a, o, "ingestionTime", e->ingested);
		jv_push(a, res, o);
	}
	jv_set(a, u, "sessionMetadata", meta);
	jv_set(a, u, "sessionResults", res);
	/* a client too far behind loses this update, as AWS drops the
	 * oldest buffered events */
	send_event(s, a, "sessionUpdate", u);
	pending_clear(s);
	arena_free(a);
	s->timer = loop_timer_add(l, 1000, tick_cb, s);
}

/* stream_open: the head is out: start the session. */
static void stream_open(void *ctx, struct http_stream *st)
{
	struct tail_session *s = ctx;
	struct arena *a = arena_new(4096);
	s->st = st;
	s->started_ms = fb_wall_ms();
	s->next = sessions;
	sessions = s;
	send_event(s, a, "sessionStart", s->start);
	arena_free(a);
	s->timer = loop_timer_add(s->fb->loop, 1000, tick_cb, s);
}

/* stream_closed: the client left (or the response was never streamed). */
static void stream_closed(void *ctx)
{
	session_free(ctx);
}

/* stream_wanted: 1 when stream name passes s's name or prefix filter. */
static int stream_wanted(const struct tail_session *s, const char *stream)
{
	if (s->names) {
		for (const char **n = s->names; *n; n++)
			if (!strcmp(*n, stream))
				return 1;
		return 0;
	}
	if (s->prefixes) {
		for (const char **p = s->prefixes; *p; p++)
			if (!strncmp(*p, stream, strlen(*p)))
				return 1;
		return 0;
	}
	return 1;
}

void logs_tail_offer(int64_t group_id, const char *stream, const int64_t *ts,
		     const struct str *msgs, size_t n, int64_t ingested)
{
	if (!sessions)
		return;
	struct arena *scratch = NULL;
	for (struct tail_session *s = sessions; s; s = s->next) {
		int g = 0;
		while (g < s->ngroups && s->group_ids[g] != group_id)
			g++;
		if (g == s->ngroups || !stream_wanted(s, stream))
			continue;
		for (size_t i = 0; i < n; i++) {
			if (!logs_filter_matches_all(s->filter)) {
				if (!scratch)
					scratch = arena_new(16384);
				int hit =
				    logs_filter_match(s->filter, scratch, msgs[i].p, msgs[i].n);
				arena_reset(scratch);
				if (!hit)
					continue;
			}
			s->matched++;
			if (s->nev == TAIL_UPDATE_EVENTS ||
			    s->pending_bytes + msgs[i].n > TAIL_PENDING_BYTES)
				continue; /* sampled: the first ones of the second are kept */
			if (!s->ev && !(s->ev = calloc(TAIL_UPDATE_EVENTS, sizeof(*s->ev))))
				fb_die("out of memory");
			struct tail_event *e = &s->ev[s->nev++];
			e->ts = ts[i];
			e->ingested = ingested;
			e->group = g;
			e->stream = strdup(stream);
			e->msg = malloc(msgs[i].n + 1);
			if (!e->stream || !e->msg)
				fb_die("out of memory");
			memcpy(e->msg, msgs[i].p, msgs[i].n);
			e->msg[msgs[i].n] = 0;
			e->msg_n = msgs[i].n;
			s->pending_bytes += msgs[i].n;
		}
	}
	if (scratch)
		arena_free(scratch);
}

/* copy_list: the strings of list member <key> of c->in as a
 * NULL-terminated array in a, or NULL when absent. */
static const char **copy_list(struct aws_call *c, struct arena *a, const char *key)
{
	const struct jv *l = jv_get(c->in, key);
	if (!l)
		return NULL;
	size_t n = jv_len(l);
	const char **out = arena_zalloc(a, (n + 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct jv *v = jv_at(l, i);
		out[i] = arena_strndup(a, v->u.s.p, v->u.s.n);
	}
	return out;
}

/* count_sessions: open sessions of account. */
static int count_sessions(const char *account)
{
	int n = 0;
	for (struct tail_session *s = sessions; s; s = s->next)
		n += !strcmp(s->account, account);
	return n;
}

int logs_op_start_live_tail(struct aws_call *c)
{
	const struct jv *ids = jv_get(c->in, "logGroupIdentifiers");
	size_t nids = jv_len(ids);
	int has_names = jv_get(c->in, "logStreamNames") != NULL;
	int has_prefixes = jv_get(c->in, "logStreamNamePrefixes") != NULL;
	if (has_names && has_prefixes)
		return logs_bad_param(c, "logStreamNames and logStreamNamePrefixes are mutually "
					 "exclusive.");
	if ((has_names || has_prefixes) && nids != 1)
		return logs_bad_param(c, "logStreamNames and logStreamNamePrefixes can only be "
					 "used with a single log group.");
	int64_t gids[TAIL_MAX_GROUPS];
	for (size_t i = 0; i < nids; i++) {
		const char *ident = jv_at(ids, i)->u.s.p;
		size_t n = strlen(ident);
		if (strncmp(ident, "arn:", 4) != 0 || (n && ident[n - 1] == '*'))
			return logs_bad_param(c,
					      "logGroupIdentifiers must be log group ARNs that do "
					      "not end with '*'.");
		const char *name = logs_arn_group(c, ident);
		struct logs_group g;
		if (!name)
			return aws_fail(c, 400, "ResourceNotFoundException",
					"The specified log group does not exist.");
		if (logs_group_find(c, name, &g) < 0)
			return -1;
		gids[i] = g.id;
	}
	const char *perr = NULL;
	struct arena *a = arena_new(4096);
	/* the compiled filter keeps views into its text: both live in a */
	const char *pattern = jv_get_str(c->in, "logEventFilterPattern");
	pattern = pattern ? arena_strdup(a, pattern) : NULL;
	const struct logs_filter *f =
	    logs_filter_parse(a, pattern ? pattern : "", pattern ? strlen(pattern) : 0, &perr);
	if (!f) {
		arena_free(a);
		return logs_bad_param(c, "Invalid character(s) in term");
	}
	if (count_sessions(c->account) >= TAIL_MAX_PER_ACCOUNT) {
		arena_free(a);
		return aws_fail(c, 400, "LimitExceededException",
				"You have reached the maximum number of concurrent Live Tail "
				"sessions.");
	}
	struct tail_session *s = calloc(1, sizeof(*s));
	if (!s)
		fb_die("out of memory");
	s->fb = c->fb;
	s->a = a;
	s->filter = f;
	snprintf(s->account, sizeof(s->account), "%s", c->account);
	s->ngroups = (int)nids;
	for (size_t i = 0; i < nids; i++) {
		s->group_ids[i] = gids[i];
		s->group_idents[i] = arena_strdup(a, jv_at(ids, i)->u.s.p);
	}
	s->names = copy_list(c, a, "logStreamNames");
	s->prefixes = copy_list(c, a, "logStreamNamePrefixes");
	s->pattern = pattern;
	/* the sessionStart payload is built now, from the request */
	char sid[37];
	fmt_uuid4(sid);
	struct jv *st = jv_object(a), *groups = jv_array(a);
	jv_set_str(a, st, "requestId", c->request_id);
	jv_set_str(a, st, "sessionId", sid);
	for (int i = 0; i < s->ngroups; i++)
		jv_push(a, groups, jv_string_c(a, s->group_idents[i]));
	jv_set(a, st, "logGroupIdentifiers", groups);
	if (s->names || s->prefixes) {
		struct jv *l = jv_array(a);
		for (const char **p = s->names ? s->names : s->prefixes; *p; p++)
			jv_push(a, l, jv_string_c(a, *p));
		jv_set(a, st, s->names ? "logStreamNames" : "logStreamNamePrefixes", l);
	}
	if (s->pattern)
		jv_set_str(a, st, "logEventFilterPattern", s->pattern);
	s->start = st;
	aws_stream(c, stream_open, stream_closed, s);
	return 0;
}
