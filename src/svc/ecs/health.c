/* health.c - container health checks, with Docker's semantics (which ECS
 * uses): the first probe runs one interval after the container starts,
 * the next one an interval after the previous ended; a probe is the
 * check's command run inside the container (`runc exec`, or in its root
 * for the fallbacks), as its user and with its environment; exit 0 passes, anything else (or running past the
 * timeout, which kills it) fails. Failures inside startPeriod do not
 * count until a probe has passed; `retries` consecutive counted failures
 * make the container UNHEALTHY, one pass makes it HEALTHY. Images' own
 * HEALTHCHECKs are ignored, as ECS ignores them.
 *
 * FOGBANK_ECS_HEALTH_SECOND_MS (default 1000) is the length of one
 * healthCheck "second" (interval, timeout, startPeriod), so tests can
 * use valid ECS values and still run quickly. */
#include "core/compat.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "store/db.h"
#include "svc/ecs/live.h"
#include <stdlib.h>
#include <sys/wait.h>

/* second_ms: the length of a healthCheck second (read once). */
static int64_t second_ms(void)
{
	static int64_t v;
	if (!v) {
		const char *e = getenv("FOGBANK_ECS_HEALTH_SECOND_MS");
		long long x = e && *e ? strtoll(e, NULL, 10) : 1000;
		v = x > 0 ? x : 1000;
	}
	return v;
}

const char *ecs_health_name(enum ecs_health h)
{
	return h == ECS_H_HEALTHY ? "HEALTHY" : h == ECS_H_UNHEALTHY ? "UNHEALTHY" : "UNKNOWN";
}

enum ecs_health ecs_task_health_of(const struct ecs_health_view *v, size_t n)
{
	int counted = 0, unknown = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].essential || !v[i].has_check)
			continue;
		counted++;
		if (v[i].status == ECS_H_UNHEALTHY)
			return ECS_H_UNHEALTHY;
		unknown |= v[i].status == ECS_H_UNKNOWN;
	}
	return counted && !unknown ? ECS_H_HEALTHY : ECS_H_UNKNOWN;
}

void ecs_health_init(struct live *t, struct live_ctr *k)
{
	const struct jv *hc = jv_get(k->def, "healthCheck");
	const struct jv *cmd = jv_get(hc, "command");
	struct ecs_hc *h = &k->hc;
	*h = (struct ecs_hc){0};
	if (!cmd || cmd->type != JV_ARRAY || jv_len(cmd) < 1)
		return;
	size_t n = jv_len(cmd);
	const char *kind = jv_at(cmd, 0)->type == JV_STRING ? jv_at(cmd, 0)->u.s.p : "";
	char **argv = arena_zalloc(t->a, (n + 3) * sizeof(char *));
	size_t k2 = 0;
	if (!strcmp(kind, "CMD-SHELL")) {
		/* Docker joins the rest into one shell command */
		const char *s = "";
		for (size_t i = 1; i < n; i++)
			if (jv_at(cmd, i)->type == JV_STRING)
				s = arena_sprintf(t->a, "%s%s%s", s, i > 1 ? " " : "",
						  jv_at(cmd, i)->u.s.p);
		argv[k2++] = "/bin/sh";
		argv[k2++] = "-c";
		argv[k2++] = (char *)s;
	} else {
		/* "CMD" and the exec form without a keyword */
		for (size_t i = !strcmp(kind, "CMD"); i < n; i++)
			if (jv_at(cmd, i)->type == JV_STRING)
				argv[k2++] = (char *)jv_at(cmd, i)->u.s.p;
	}
	if (!k2 || !strcmp(kind, "NONE"))
		return;
	int64_t sec = second_ms();
	h->on = 1;
	h->argv = argv;
	h->interval_ms = jv_get_int(hc, "interval", 30) * sec;
	h->timeout_ms = jv_get_int(hc, "timeout", 5) * sec;
	h->start_period_ms = jv_get_int(hc, "startPeriod", 0) * sec;
	h->retries = jv_get_int(hc, "retries", 3);
	if (h->retries < 1)
		h->retries = 1;
}

void ecs_health_write(struct live *t, struct live_ctr *k)
{
	sqlite3_stmt *st = db_stmt(t->fb->db, "UPDATE ecs_containers SET health = ?3 WHERE "
					      "task_arn = ?1 AND idx = ?2");
	sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, k->idx);
	sqlite3_bind_text(st, 3, ecs_health_name(k->hc.status), -1, SQLITE_STATIC);
	db_step_done(st);
	struct ecs_health_view v[64];
	size_t n = t->n < FB_ARRAY_LEN(v) ? t->n : FB_ARRAY_LEN(v);
	for (size_t i = 0; i < n; i++)
		v[i] =
		    (struct ecs_health_view){t->c[i].essential, t->c[i].hc.on, t->c[i].hc.status};
	enum ecs_health h = ecs_task_health_of(v, n);
	if (h == t->health)
		return;
	t->health = h;
	st = db_stmt(t->fb->db, "UPDATE ecs_tasks SET health = ?2 WHERE arn = ?1");
	sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ecs_health_name(h), -1, SQLITE_STATIC);
	db_step_done(st);
	if (h == ECS_H_UNHEALTHY)
		log_info("ecs: task %s is UNHEALTHY (container %s)", t->task_id, k->name);
}

static void probe_cb(struct loop *l, void *arg);

/* result: one probe's verdict on k; updates the status and schedules
 * the next probe while k runs. */
static void result(struct live_ctr *k, int pass)
{
	struct ecs_hc *h = &k->hc;
	struct live *t = k->t;
	enum ecs_health before = h->status;
	if (pass) {
		h->passed = 1;
		h->failures = 0;
		h->status = ECS_H_HEALTHY;
	} else if (h->passed || fb_wall_ms() >= h->started_ms + h->start_period_ms) {
		if (++h->failures >= h->retries)
			h->status = ECS_H_UNHEALTHY;
	}
	if (h->status != before) {
		ecs_health_write(t, k);
		ecs_live_advance(t); /* a HEALTHY dependsOn may now hold */
	}
	if (k->state == ECS_CTR_RUNNING && !t->stopping && !h->timer)
		h->timer = loop_timer_add(t->fb->loop, h->interval_ms, probe_cb, k);
}

/* probe_exit: a probe ended (or was killed at its timeout). */
static void probe_exit(struct child *ch, int status, void *arg)
{
	struct live_ctr *k = arg;
	struct ecs_hc *h = &k->hc;
	struct live *t = k->t;
	int timed_out = h->timed_out;
	h->probe = NULL;
	h->timed_out = 0;
	t->probes--;
	if (h->timer) {
		loop_timer_cancel(t->fb->loop, h->timer);
		h->timer = 0;
	}
	if (k->state == ECS_CTR_RUNNING && !t->stopping)
		result(k, !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ecs_live_maybe_release(t);
}

/* timeout_cb: the probe ran past the check's timeout: kill it; its exit
 * counts as a failure. */
static void timeout_cb(struct loop *l, void *arg)
{
	struct live_ctr *k = arg;
	k->hc.timer = 0;
	if (k->hc.probe) {
		k->hc.timed_out = 1;
		child_signal(k->hc.probe, SIGKILL);
	}
}

/* probe_line: a probe's output is not kept (ECS shows none of it). */
static void probe_line(struct child *ch, int stream, const char *p, size_t n, void *arg)
{
	log_debug("[%s] %.*s", child_name(ch), (int)n, p);
}

/* probe_cb: time for k's next probe. */
static void probe_cb(struct loop *l, void *arg)
{
	struct live_ctr *k = arg;
	struct ecs_hc *h = &k->hc;
	struct live *t = k->t;
	h->timer = 0;
	if (k->state != ECS_CTR_RUNNING || t->stopping || !k->ctr)
		return;
	struct rt_proc p = {
	    .name = arena_sprintf(t->a, "ecs/%s/%s/health", t->task_id, k->name),
	    .rootfs = k->rootfs,
	    .argv = h->argv,
	    .envp = k->envp,
	    .cwd = k->cwd,
	    .stop_timeout_ms = 1000,
	    .set_ids = k->set_ids,
	    .uid = k->uid,
	    .gid = k->gid,
	};
	char *err = NULL;
	h->probe = rt_exec(t->fb, k->ctr, &p, probe_exit, probe_line, k, &err);
	if (!h->probe) {
		/* a probe that cannot run is a failed probe, as in Docker */
		log_debug("ecs: %s/%s health probe: %s", t->task_id, k->name, err ? err : "?");
		free(err);
		result(k, 0);
		return;
	}
	t->probes++;
	h->timer = loop_timer_add(t->fb->loop, h->timeout_ms, timeout_cb, k);
}

void ecs_health_start(struct live_ctr *k)
{
	struct ecs_hc *h = &k->hc;
	if (!h->on)
		return;
	h->started_ms = fb_wall_ms();
	h->timer = loop_timer_add(k->t->fb->loop, h->interval_ms, probe_cb, k);
}

void ecs_health_stop(struct live_ctr *k)
{
	struct ecs_hc *h = &k->hc;
	if (h->timer && !h->probe) {
		loop_timer_cancel(k->t->fb->loop, h->timer);
		h->timer = 0;
	}
	if (h->probe)
		child_signal(h->probe, SIGKILL);
}
