/* run.c - live tasks: from a committed PROVISIONING row to processes and
 * back to STOPPED. Per task: resolve every container's image (a missing
 * one stops the task with CannotPullContainerError), unpack (PENDING),
 * resolve secrets, spawn the containers (RUNNING); an essential
 * container's exit stops the rest (EssentialContainerExited); the last
 * exit marks the task STOPPED. Lines go to CloudWatch Logs through the
 * awslogs options, batched and flushed from a timer. */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "runtime/runtime.h"
#include "store/addr.h"
#include "svc/ecs/run.h"
#include "svc/logs/logs.h"
#include <stdlib.h>
#include <sys/wait.h>

#define LOG_FLUSH_MS 200
#define LOG_BATCH_MAX 1000

struct live;

struct live_ctr {
	struct live *t;
	int idx, essential, started;
	struct child *ch;
	const struct jv *def; /* the container definition */
	struct rt_image img;
	const char *rootfs;
	const char *group, *stream, *log_region; /* NULL: no awslogs */
	int create_group;
};

struct log_ev {
	int64_t ts;
	int ctr;
	char *msg;
	size_t n;
};

struct live {
	struct live *next;
	struct fogbank *fb;
	struct arena *a;
	const char *arn, *account, *region, *task_id, *addr, *overrides;
	struct live_ctr *c;
	size_t n, unpacking, alive;
	int stopping, failed;
	const char *stop_code, *reason;
	struct log_ev *ev;
	size_t nev, cap;
	uint64_t flush_timer;
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

/* container_state: updates one container row. */
static void container_state(struct live *t, int idx, const char *status, int has_code, int code,
			    const char *reason)
{
	sqlite3_stmt *st =
	    db_stmt(t->fb->db, "UPDATE ecs_containers SET last_status = ?3, "
			       "exit_code = CASE WHEN ?4 THEN ?5 ELSE exit_code END, "
			       "reason = coalesce(?6, reason) WHERE task_arn = ?1 AND "
			       "idx = ?2");
	sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, idx);
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
	flush(t);
	free(t->ev);
	ecs_task_finish(t->fb, t->arn, t->stop_code ? t->stop_code : "EssentialContainerExited",
			t->reason ? t->reason : "Essential container in task exited");
	arena_free(t->a);
	free(t);
}

/* begin_stop: first stop request wins the code and reason; stops every
 * live container (SIGTERM, then SIGKILL after its stopTimeout). */
static void begin_stop(struct live *t, const char *code, const char *reason)
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
	for (size_t i = 0; i < t->n; i++)
		if (t->c[i].ch)
			child_stop(t->c[i].ch);
}

/* release_cb: release from a timer: child.c drains a child's last lines
 * (on_line) after its on_exit, so the task must outlive the callback. */
static void release_cb(struct loop *l, void *arg)
{
	release(arg);
}

static void ctr_exit(struct child *ch, int status, void *arg)
{
	struct live_ctr *k = arg;
	struct live *t = k->t;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	k->ch = NULL;
	t->alive--;
	container_state(t, k->idx, "STOPPED", 1, code, NULL);
	if (k->essential)
		begin_stop(t, "EssentialContainerExited", "Essential container in task exited");
	if (t->alive == 0)
		loop_timer_add(t->fb->loop, 0, release_cb, t);
}

/* strv: a JV_ARRAY of strings as a NULL-terminated argv (arena), or NULL. */
static char **strv(struct arena *a, const struct jv *arr)
{
	if (!arr || arr->type != JV_ARRAY)
		return NULL;
	char **v = arena_zalloc(a, (jv_len(arr) + 1) * sizeof(char *));
	for (size_t i = 0; i < jv_len(arr); i++)
		v[i] = jv_at(arr, i)->type == JV_STRING ? (char *)jv_at(arr, i)->u.s.p : "";
	return v;
}

/* env_add: sets NAME=value in the growing environment (later wins). */
static void env_add(struct arena *a, char ***env, size_t *n, const char *name, size_t nn,
		    const char *val)
{
	for (size_t i = 0; i < *n; i++)
		if (!strncmp((*env)[i], name, nn) && (*env)[i][nn] == '=') {
			(*env)[i] = arena_sprintf(a, "%.*s=%s", (int)nn, name, val);
			return;
		}
	*env = arena_realloc(a, *env, (*n + 1) * sizeof(char *), (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = arena_sprintf(a, "%.*s=%s", (int)nn, name, val);
	(*env)[*n] = NULL;
}

/* env_list: adds an environment [{name, value}] list. */
static void env_list(struct arena *a, char ***env, size_t *n, const struct jv *list)
{
	for (size_t i = 0; i < jv_len(list); i++) {
		const char *k = jv_get_str(jv_at(list, i), "name");
		const char *v = jv_get_str(jv_at(list, i), "value");
		if (k)
			env_add(a, env, n, k, strlen(k), v ? v : "");
	}
}

/* override_of: the containerOverrides entry for container name, or NULL. */
static const struct jv *override_of(struct live *t, const char *name)
{
	const struct jv *list = jv_get(ecs_parse(t->a, t->overrides), "containerOverrides");
	for (size_t i = 0; i < jv_len(list); i++) {
		const char *n = jv_get_str(jv_at(list, i), "name");
		if (n && !strcmp(n, name))
			return jv_at(list, i);
	}
	return NULL;
}

/* start_one: spawns container k. 0, or -1 having begun the stop. */
static int start_one(struct live *t, struct live_ctr *k)
{
	struct arena *a = t->a;
	const struct jv *d = k->def, *conf = k->img.config;
	const char *name = jv_get_str(d, "name");
	const struct jv *ov = override_of(t, name);
	char **env = arena_zalloc(a, sizeof(char *));
	size_t nenv = 0;
	const struct jv *ienv = jv_get(conf, "Env");
	for (size_t i = 0; i < jv_len(ienv); i++) {
		const char *e = jv_at(ienv, i)->u.s.p, *eq = e ? strchr(e, '=') : NULL;
		if (eq)
			env_add(a, &env, &nenv, e, (size_t)(eq - e), eq + 1);
	}
	env_list(a, &env, &nenv, jv_get(d, "environment"));
	env_list(a, &env, &nenv, jv_get(ov, "environment"));
	const struct jv *secrets = jv_get(d, "secrets");
	for (size_t i = 0; i < jv_len(secrets); i++) {
		const char *sn = jv_get_str(jv_at(secrets, i), "name"), *err = NULL;
		const char *vf = jv_get_str(jv_at(secrets, i), "valueFrom");
		const char *v =
		    vf ? ecs_secret_value(t->fb, a, t->account, t->region, vf, &err) : NULL;
		if (!v) {
			begin_stop(t, "TaskFailedToStart", err ? err : "invalid secret");
			return -1;
		}
		env_add(a, &env, &nenv, sn, strlen(sn), v);
	}
	/* what a task needs to reach fogbank and to know where to listen */
	const char *endpoint = arena_sprintf(a, "http://%s:%d", t->fb->host, t->fb->port);
	env_add(a, &env, &nenv, "AWS_ENDPOINT_URL", 16, endpoint);
	env_add(a, &env, &nenv, "AWS_REGION", 10, t->region);
	env_add(a, &env, &nenv, "AWS_DEFAULT_REGION", 18, t->region);
	env_add(a, &env, &nenv, "FOGBANK_TASK_IP", 15, t->addr);
	env_add(a, &env, &nenv, "ECS_TASK_ARN", 12, t->arn);
	/* Docker semantics: an entryPoint given resets the image's Cmd */
	char **ep = strv(a, jv_get(d, "entryPoint"));
	char **cmd = strv(a, jv_get(ov, "command"));
	if (!cmd)
		cmd = strv(a, jv_get(d, "command"));
	if (!ep)
		ep = strv(a, jv_get(conf, "Entrypoint"));
	if (!cmd && !jv_get(d, "entryPoint"))
		cmd = strv(a, jv_get(conf, "Cmd"));
	size_t ne = 0, nc = 0;
	while (ep && ep[ne])
		ne++;
	while (cmd && cmd[nc])
		nc++;
	char **argv = arena_zalloc(a, (ne + nc + 1) * sizeof(char *));
	memcpy(argv, ep ? ep : argv, ne * sizeof(char *));
	if (nc)
		memcpy(argv + ne, cmd, nc * sizeof(char *));
	if (ne + nc == 0) {
		begin_stop(t, "TaskFailedToStart",
			   "CannotStartContainerError: no command specified");
		return -1;
	}
	const char *cwd = jv_get_str(d, "workingDirectory");
	struct rt_proc p = {
	    .name = arena_sprintf(a, "ecs/%s/%s", t->task_id, name),
	    .rootfs = k->rootfs,
	    .argv = argv,
	    .envp = env,
	    .cwd = cwd ? cwd : jv_get_str(conf, "WorkingDir"),
	    .stop_timeout_ms = jv_get_int(d, "stopTimeout", 30) * 1000,
	};
	char *err = NULL;
	k->ch = rt_spawn(t->fb, &p, ctr_exit, on_line, k, &err);
	if (!k->ch) {
		const char *why = arena_sprintf(a, "%s", err ? err : "cannot start");
		free(err);
		container_state(t, k->idx, "STOPPED", 0, 0, why);
		begin_stop(t, "TaskFailedToStart", why);
		return -1;
	}
	t->alive++;
	container_state(t, k->idx, "RUNNING", 0, 0, NULL);
	return 0;
}

/* start_all: every image is unpacked: start the containers. */
static void start_all(struct live *t)
{
	int64_t now = fb_wall_ms();
	sqlite3_stmt *st =
	    db_stmt(t->fb->db, "UPDATE ecs_tasks SET pull_stopped = ?2 WHERE arn = ?1");
	sqlite3_bind_text(st, 1, t->arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	db_step_done(st);
	for (size_t i = 0; i < t->n && !t->stopping; i++)
		start_one(t, &t->c[i]);
	if (t->alive == 0) {
		release(t);
		return;
	}
	if (t->stopping)
		return;
	ecs_task_status(t->fb, t->arn, "RUNNING");
}

static void unpacked(struct fogbank *fb, void *arg, const char *rootfs, const char *err)
{
	struct live_ctr *k = arg;
	struct live *t = k->t;
	if (rootfs)
		k->rootfs = arena_strdup(t->a, rootfs);
	else if (!t->stopping)
		begin_stop(t, "TaskFailedToStart",
			   arena_sprintf(t->a, "CannotPullContainerError: %s", err));
	if (--t->unpacking)
		return;
	if (t->stopping)
		release(t);
	else
		start_all(t);
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
		begin_stop(t, "TaskFailedToStart", "task definition not found");
		release(t);
		return;
	}
	const struct jv *defs = jv_get(td.body, "containerDefinitions");
	t->n = jv_len(defs);
	t->c = arena_zalloc(a, t->n * sizeof(*t->c));
	for (size_t i = 0; i < t->n; i++) {
		struct live_ctr *k = &t->c[i];
		const struct jv *d = jv_at(defs, i), *lc = jv_get(d, "logConfiguration");
		const char *drv = jv_get_str(lc, "logDriver");
		const struct jv *opt = jv_get(lc, "options");
		k->t = t;
		k->idx = (int)i;
		k->def = d;
		k->essential = jv_get_bool(d, "essential", 1);
		if (drv && !strcmp(drv, "awslogs") && jv_get_str(opt, "awslogs-group")) {
			const char *prefix = jv_get_str(opt, "awslogs-stream-prefix");
			const char *cg = jv_get_str(opt, "awslogs-create-group");
			const char *rg = jv_get_str(opt, "awslogs-region");
			k->group = jv_get_str(opt, "awslogs-group");
			k->stream = prefix ? arena_sprintf(a, "%s/%s/%s", prefix,
							   jv_get_str(d, "name"), t->task_id)
					   : t->task_id;
			k->create_group = cg && !strcasecmp(cg, "true");
			k->log_region = rg ? rg : t->region;
		}
	}
	ecs_task_status(fb, arn, "PENDING");
	/* resolve every image first: a missing one fails the task before any
	 * unpacking starts */
	for (size_t i = 0; i < t->n; i++) {
		const char *err = NULL;
		const char *image = jv_get_str(t->c[i].def, "image");
		if (rt_image_resolve(fb, a, t->account, t->region, image, &t->c[i].img, &err) < 0) {
			container_state(t, (int)i, "STOPPED", 0, 0, err);
			begin_stop(t, "TaskFailedToStart", err);
			release(t);
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
		begin_stop(t, stop_code, reason);
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
