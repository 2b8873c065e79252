/* run.c - live tasks: from a committed PROVISIONING row to processes and
 * back to STOPPED. Per task: resolve every container's image (a missing
 * one stops the task with CannotPullContainerError), unpack (PENDING),
 * mint task-role credentials, build every container's process (secrets,
 * environmentFiles: a failure stops the task before anything runs), then
 * start containers as their dependsOn allow (order.c; RUNNING once none
 * waits). An essential container's exit stops the rest ("Essential
 * container in task exited"); the last exit marks the task STOPPED. Lines
 * go to CloudWatch Logs through the awslogs options, batched and flushed
 * from a timer. */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "store/addr.h"
#include "svc/ecs/live.h"
#include "svc/logs/logs.h"
#include <stdlib.h>
#include <sys/wait.h>

#define LOG_FLUSH_MS 200
#define LOG_BATCH_MAX 1000

struct log_ev {
	int64_t ts;
	int ctr;
	char *msg;
	size_t n;
};

static struct live *lives;

/* find: the live task of arn, or NULL. */
static struct live *find(const char *arn)
{
	for (struct live *t = lives; t; t = t->next)
		if (!strcmp(t->arn, arn))
			return t;
	return NULL;
}

struct live *ecs_live_find_creds(const char *id)
{
	for (struct live *t = lives; t; t = t->next)
		if (t->creds && !strcmp(t->creds->id, id))
			return t;
	return NULL;
}

/* flush: hands buffered lines to CloudWatch Logs, one call per run of
 * lines of the same container. */
static void flush(struct live *t)
{
	size_t i = 0;
	while (i < t->nev) {
		size_t j = i;
		while (j < t->nev && t->ev[j].ctr == t->ev[i].ctr)
			j++;
		struct live_ctr *k = &t->c[t->ev[i].ctr];
		int64_t *ts = malloc((j - i) * sizeof(*ts));
		struct str *msgs = malloc((j - i) * sizeof(*msgs));
		if (!ts || !msgs)
			abort();
		for (size_t x = i; x < j; x++) {
			ts[x - i] = t->ev[x].ts;
			msgs[x - i] = (struct str){t->ev[x].msg, t->ev[x].n};
		}
		if (logs_put_internal(t->fb, t->account, k->log_region, k->group, k->stream,
				      k->create_group, ts, msgs, j - i) < 0)
			log_warn("ecs: %s: %zu log lines dropped (group %s)", t->task_id, j - i,
				 k->group);
		free(ts);
		free(msgs);
		i = j;
	}
	for (size_t x = 0; x < t->nev; x++)
		free(t->ev[x].msg);
	t->nev = 0;
}

/* flush_cb: the batching timer fired. */
static void flush_cb(struct loop *l, void *arg)
{
	struct live *t = arg;
	t->flush_timer = 0;
	flush(t);
}

/* on_line: one captured line; buffered when the container logs to awslogs. */
static void on_line(struct child *ch, int stream, const char *p, size_t n, void *arg)
{
	struct live_ctr *k = arg;
	struct live *t = k->t;
	if (!k->group) {
		log_info("[%s] %.*s", child_name(ch), (int)n, p);
		return;
	}
	if (t->nev == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->ev = realloc(t->ev, t->cap * sizeof(*t->ev));
		if (!t->ev)
			abort();
	}
	char *m = malloc(n + 1);
	if (!m)
		abort();
	memcpy(m, p, n);
	m[n] = 0;
	t->ev[t->nev++] = (struct log_ev){fb_wall_ms(), k->idx, m, n};
	if (t->nev >= LOG_BATCH_MAX)
		flush(t);
	else if (!t->flush_timer)
		t->flush_timer = loop_timer_add(t->fb->loop, LOG_FLUSH_MS, flush_cb, t);
}

void ecs_live_ctr_row(struct live *t, struct live_ctr *k, const char *status, int has_code,
		      int code, const char *reason)
{
	sqlite3_stmt *st =
	    db_stmt(t->fb->db, "UPDATE ecs_containers SET last_status = ?3, "
			       "exit_code = CASE WHEN ?4 THEN ?5 ELSE exit_code END, "
			       "reason = coalesce(?6, reason) WHERE task_arn = ?1 AND "
			       "idx = ?2");
	sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, k->idx);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, has_code);
	sqlite3_bind_int(st, 5, code);
	ecs_bind_opt(st, 6, reason);
	db_step_done(st);
}

/* release: the task is over: flush logs, mark it STOPPED, free it. */
static void release(struct live *t)
{
	for (struct live **p = &lives; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	if (t->flush_timer)
		loop_timer_cancel(t->fb->loop, t->flush_timer);
	for (size_t i = 0; i < t->n; i++) {
		ecs_order_cancel(&t->c[i]);
		ecs_health_stop(&t->c[i]);
	}
	flush(t);
	free(t->ev);
	ecs_creds_release(t);
	ecs_task_finish(t->fb, t->arn, t->stop_code ? t->stop_code : "EssentialContainerExited",
			t->reason ? t->reason : "Essential container in task exited");
	arena_free(t->a);
	free(t);
}

/* release_cb: release from a timer: child.c drains a child's last lines
 * (on_line) after its on_exit, so the task must outlive the callback. */
static void release_cb(struct loop *l, void *arg)
{
	release(arg);
}

void ecs_live_maybe_release(struct live *t)
{
	if (t->releasing || t->alive || t->probes || t->unpacking)
		return;
	for (size_t i = 0; i < t->n && !t->stopping; i++)
		if (t->c[i].state != ECS_CTR_STOPPED)
			return; /* not stopping and something may still run */
	t->releasing = 1;
	loop_timer_add(t->fb->loop, 0, release_cb, t);
}

void ecs_live_stop(struct live *t, const char *code, const char *reason)
{
	if (!t->stopping) {
		t->stopping = 1;
		t->stop_code = arena_strdup(t->a, code);
		t->reason = arena_strdup(t->a, reason);
		sqlite3_stmt *st =
		    db_stmt(t->fb->db, "UPDATE ecs_tasks SET desired_status = 'STOPPED', "
				       "stopping = coalesce(stopping, ?2), stop_code = "
				       "coalesce(stop_code, ?3), stopped_reason = "
				       "coalesce(stopped_reason, ?4), last_status = CASE WHEN "
				       "last_status = 'RUNNING' THEN 'DEACTIVATING' ELSE "
				       "last_status END WHERE arn = ?1");
		sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, fb_wall_ms());
		sqlite3_bind_text(st, 3, code, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
		db_step_done(st);
	}
	for (size_t i = 0; i < t->n; i++) {
		struct live_ctr *k = &t->c[i];
		ecs_health_stop(k);
		ecs_order_cancel(k);
		if (k->state == ECS_CTR_WAITING)
			k->state = ECS_CTR_STOPPED; /* never to start */
		if (k->ctr)
			rt_stop(k->ctr);
	}
	ecs_live_maybe_release(t);
}

/* ctr_exit: container k's process ended (code -1: it never started;
 * reason: the runtime's, e.g. an out-of-memory kill). */
static void ctr_exit(void *arg, int code, const char *reason)
{
	struct live_ctr *k = arg;
	struct live *t = k->t;
	k->ctr = NULL;
	k->state = ECS_CTR_STOPPED;
	t->alive--;
	ecs_health_stop(k);
	if (code < 0) {
		/* as a failed start: no exit code, and no START for dependsOn */
		k->ran = 0;
		ecs_live_ctr_row(t, k, "STOPPED", 0, 0, reason);
		if (k->essential)
			ecs_live_stop(t, "TaskFailedToStart", reason);
		else
			ecs_live_advance(t);
		ecs_live_maybe_release(t);
		return;
	}
	k->exited = 1;
	k->exit_code = code;
	ecs_live_ctr_row(t, k, "STOPPED", 1, code, reason);
	if (k->essential)
		ecs_live_stop(t, "EssentialContainerExited", "Essential container in task exited");
	else
		ecs_live_advance(t); /* a COMPLETE or SUCCESS dependsOn may now hold */
	ecs_live_maybe_release(t);
}

int64_t ecs_task_units(const char *s)
{
	char *end = NULL;
	if (!s)
		return 0;
	double v = strtod(s, &end);
	if (end == s || !(v > 0) || v > 1e9)
		return 0;
	while (*end == ' ')
		end++;
	if (!*end)
		return (int64_t)v;
	if (!strcasecmp(end, "vcpu") || !strcasecmp(end, "gb"))
		return (int64_t)(v * 1024);
	return 0;
}

/* limits_of: k's cgroup limits as the ECS agent sets them: the
 * container's memory (hard) or else the task's, its memoryReservation
 * (soft), its cpu units as cpu shares, the task's cpu as a quota. */
static struct rt_limits limits_of(struct live *t, struct live_ctr *k)
{
	int64_t mem = jv_get_int(k->def, "memory", 0), cpu = jv_get_int(k->def, "cpu", 0);
	struct rt_limits l = {
	    .memory_mib = mem > 0 ? mem : t->memory_mib,
	    .reservation_mib = jv_get_int(k->def, "memoryReservation", 0),
	    .cpu_shares = cpu > 0 ? (cpu < 2 ? 2 : cpu) : 0,
	    .cpu_quota_us = t->cpu_units > 0 ? t->cpu_units * 100000 / 1024 : 0,
	};
	return l;
}

/* ctr_running: k's process exists: RUNNING, which a START dependsOn and
 * the task's own RUNNING wait for. Unless the task is stopping meanwhile
 * (then k only counts as having run). Called at most once per start. */
static void ctr_running(struct live *t, struct live_ctr *k)
{
	k->state = ECS_CTR_RUNNING;
	k->ran = 1;
	ecs_live_ctr_row(t, k, "RUNNING", 0, 0, NULL);
	if (t->stopping)
		return;
	ecs_health_start(k);
}

/* ctr_started: the runtime created k's process later than rt_start (runc). */
static void ctr_started(void *arg)
{
	struct live_ctr *k = arg;
	ctr_running(k->t, k);
	ecs_live_advance(k->t); /* a START dependsOn or the task's RUNNING */
}

int ecs_live_start_one(struct live *t, struct live_ctr *k)
{
	struct rt_proc p = {
	    .name = arena_sprintf(t->a, "ecs/%s/%s", t->task_id, k->name),
	    .rootfs = k->rootfs,
	    .argv = k->argv,
	    .envp = k->envp,
	    .cwd = k->cwd,
	    .stop_timeout_ms = jv_get_int(k->def, "stopTimeout", 30) * 1000,
	    .set_ids = k->set_ids,
	    .uid = k->uid,
	    .gid = k->gid,
	    .id = arena_sprintf(t->a, "%s-%s", t->task_id, k->name),
	    .hostname = rt_hostname_of(t->a, t->addr),
	    .readonly_root = jv_get_bool(k->def, "readonlyRootFilesystem", 0),
	    .lim = limits_of(t, k),
	};
	char *err = NULL;
	ecs_order_cancel(k);
	k->ctr = rt_start(t->fb, &p, ctr_exit, ctr_started, on_line, k, &err);
	if (!k->ctr) {
		const char *why = arena_sprintf(t->a, "%s", err ? err : "cannot start");
		free(err);
		k->state = ECS_CTR_STOPPED;
		ecs_live_ctr_row(t, k, "STOPPED", 0, 0, why);
		if (k->essential)
			ecs_live_stop(t, "TaskFailedToStart", why);
		return -1;
	}
	t->alive++;
	k->state = ECS_CTR_STARTING;
	if (rt_started(k->ctr))
		ctr_running(t, k);
	return 0;
}

/* task_role: the task's role ARN: the run's override, else the task
 * definition's; NULL when none. */
static const char *task_role(struct live *t, const struct ecs_taskdef *td)
{
	const char *r = jv_get_str(ecs_parse(t->a, t->overrides), "taskRoleArn");
	return r ? r : jv_get_str(td->body, "taskRoleArn");
}

/* start_all: every image is unpacked: credentials, then every container's
 * process, then the first containers dependsOn allows. */
static void start_all(struct live *t)
{
	int64_t now = fb_wall_ms();
	sqlite3_stmt *st =
	    db_stmt(t->fb->db, "UPDATE ecs_tasks SET pull_stopped = ?2 WHERE arn = ?1");
	sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	db_step_done(st);
	const char *why = NULL;
	if (t->role && ecs_creds_setup(t, t->role, &why) < 0) {
		ecs_live_stop(t, "TaskFailedToStart", why);
		return;
	}
	for (size_t i = 0; i < t->n; i++)
		if (ecs_prep(t, &t->c[i], &why) < 0) {
			ecs_live_ctr_row(t, &t->c[i], "STOPPED", 0, 0, why);
			ecs_live_stop(t, "TaskFailedToStart", why);
			return;
		}
	t->prepared = 1;
	ecs_live_advance(t);
}

/* unpacked: one container's rootfs is ready (or failed). */
static void unpacked(struct fogbank *fb, void *arg, const char *rootfs, const char *err)
{
	struct live_ctr *k = arg;
	struct live *t = k->t;
	if (rootfs)
		k->rootfs = arena_strdup(t->a, rootfs);
	else if (!t->stopping)
		ecs_live_stop(t, "TaskFailedToStart",
			      arena_sprintf(t->a, "CannotPullContainerError: %s", err));
	if (--t->unpacking)
		return;
	if (t->stopping) {
		ecs_live_maybe_release(t);
		return;
	}
	start_all(t);
}

/* ctr_init: fills container i of t from its definition d (awslogs options,
 * health check); nothing runs yet. */
static void ctr_init(struct live *t, size_t i, const struct jv *d)
{
	struct live_ctr *k = &t->c[i];
	const struct jv *lc = jv_get(d, "logConfiguration");
	const char *drv = jv_get_str(lc, "logDriver");
	const struct jv *opt = jv_get(lc, "options");
	k->t = t;
	k->idx = (int)i;
	k->def = d;
	k->name = jv_get_str(d, "name");
	k->essential = jv_get_bool(d, "essential", 1);
	k->state = ECS_CTR_WAITING;
	if (drv && !strcmp(drv, "awslogs") && jv_get_str(opt, "awslogs-group")) {
		const char *prefix = jv_get_str(opt, "awslogs-stream-prefix");
		const char *cg = jv_get_str(opt, "awslogs-create-group");
		const char *rg = jv_get_str(opt, "awslogs-region");
		k->group = jv_get_str(opt, "awslogs-group");
		k->stream = prefix ? arena_sprintf(t->a, "%s/%s/%s", prefix, k->name, t->task_id)
				   : t->task_id;
		k->create_group = cg && !strcasecmp(cg, "true");
		k->log_region = rg ? rg : t->region;
	}
	ecs_health_init(t, k);
}

void ecs_task_launch(struct fogbank *fb, const char *arn)
{
	struct live *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->fb = fb;
	t->a = arena_new(16384);
	struct arena *a = t->a;
	t->arn = arena_strdup(a, arn);
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT account, region, task_id, addr, taskdef_arn, "
					   "overrides FROM ecs_tasks WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	const char *td_arn = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		t->account = ecs_col(a, st, 0);
		t->region = ecs_col(a, st, 1);
		t->task_id = ecs_col(a, st, 2);
		t->addr = ecs_col(a, st, 3);
		td_arn = ecs_col(a, st, 4);
		t->overrides = ecs_col(a, st, 5);
	}
	sqlite3_reset(st);
	struct ecs_taskdef td;
	t->next = lives;
	lives = t;
	if (!td_arn || ecs_taskdef_get(fb, a, t->account, t->region, td_arn, &td) != 1) {
		ecs_live_stop(t, "TaskFailedToStart", "task definition not found");
		return;
	}
	const struct jv *defs = jv_get(td.body, "containerDefinitions");
	t->role = task_role(t, &td);
	/* strings in the API ("256", "1 vCPU"); numbers accepted too */
	t->cpu_units = jv_get_str(td.body, "cpu") ? ecs_task_units(jv_get_str(td.body, "cpu"))
						  : jv_get_int(td.body, "cpu", 0);
	t->memory_mib = jv_get_str(td.body, "memory")
			    ? ecs_task_units(jv_get_str(td.body, "memory"))
			    : jv_get_int(td.body, "memory", 0);
	t->n = jv_len(defs);
	t->c = arena_zalloc(a, t->n * sizeof(*t->c));
	for (size_t i = 0; i < t->n; i++)
		ctr_init(t, i, jv_at(defs, i));
	ecs_task_status(fb, arn, "PENDING");
	/* resolve every image first: a missing one fails the task before any
	 * unpacking starts */
	for (size_t i = 0; i < t->n; i++) {
		const char *err = NULL;
		const char *image = jv_get_str(t->c[i].def, "image");
		if (rt_image_resolve(fb, a, t->account, t->region, image, &t->c[i].img, &err) < 0) {
			ecs_live_ctr_row(t, &t->c[i], "STOPPED", 0, 0, err);
			ecs_live_stop(t, "TaskFailedToStart", err);
			return;
		}
	}
	st = db_stmt(fb->db, "UPDATE ecs_tasks SET pull_started = ?2 WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, fb_wall_ms());
	db_step_done(st);
	/* counted up front: rt_unpack may call back before it returns */
	t->unpacking = t->n;
	for (size_t i = 0; i < t->n; i++)
		rt_unpack(fb, &t->c[i].img, unpacked, &t->c[i]);
}

int ecs_task_stop(struct fogbank *fb, const char *arn, const char *stop_code, const char *reason)
{
	struct live *t = find(arn);
	if (t) {
		ecs_live_stop(t, stop_code, reason);
		return 0;
	}
	/* nothing runs for it (already stopped, or lost): just record it */
	ecs_task_finish(fb, arn, stop_code, reason);
	return 0;
}

void ecs_task_finish(struct fogbank *fb, const char *arn, const char *stop_code, const char *reason)
{
	int64_t now = fb_wall_ms();
	sqlite3_stmt *st = db_stmt(
	    fb->db,
	    "UPDATE ecs_tasks SET last_status = 'STOPPED', desired_status = 'STOPPED', "
	    "stopped = ?2, stopping = coalesce(stopping, ?2), stop_code = coalesce(stop_code, "
	    "?3), stopped_reason = coalesce(stopped_reason, ?4) WHERE arn = ?1 AND "
	    "last_status <> 'STOPPED'");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, stop_code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	db_step_done(st);
	st = db_stmt(fb->db,
		     "UPDATE ecs_containers SET last_status = 'STOPPED' WHERE task_arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	db_step_done(st);
	char owner[512];
	snprintf(owner, sizeof(owner), "ecs:%s", arn);
	addr_free(fb->db, owner);
}

void ecs_task_status(struct fogbank *fb, const char *arn, const char *status)
{
	sqlite3_stmt *st =
	    db_stmt(fb->db, "UPDATE ecs_tasks SET last_status = ?2, started = CASE "
			    "WHEN ?2 = 'RUNNING' THEN ?3 ELSE started END WHERE arn = "
			    "?1 AND last_status <> 'STOPPED'");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, fb_wall_ms());
	db_step_done(st);
}
