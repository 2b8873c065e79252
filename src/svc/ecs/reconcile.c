/* reconcile.c - the service scheduler, run from its own loop timer: keeps
 * each service's PRIMARY deployment at the desired count, drains older
 * deployments within minimumHealthyPercent / maximumPercent, replaces
 * failed tasks with exponential backoff, and trips the deployment circuit
 * breaker (rolling back to the last completed task definition when
 * asked). Also the restore at start. Load balancer target registration
 * will hook in where tasks reach RUNNING and before they are stopped
 * (lb_hook below). */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "runtime/runtime.h"
#include "store/addr.h"
#include "svc/ecs/internal.h"
#include <stdlib.h>

#define TICK_MS 500
#define BACKOFF_BASE_MS 1000
#define BACKOFF_MAX_MS 30000
#define HEALTH_REASON "Task failed container health checks"
/* A task counts towards a deployment's healthy tasks once RUNNING and,
 * when an essential container has a health check, HEALTHY (as ECS). */
#define HEALTHY "(last_status = 'RUNNING' AND (checked = 0 OR health = 'HEALTHY'))"

/* One service as the reconciler sees it (arena strings). */
struct svc {
	int64_t id, desired, min_pct, max_pct;
	int breaker, rollback, draining, steady;
	const char *account, *region, *name, *arn, *cluster_arn, *launch_type;
};

/* One non-INACTIVE deployment. */
struct dep {
	int64_t id, failed, live, running, last_stop;
	const char *dep_id, *taskdef, *rollout;
	int primary;
};

/* scalar: one integer from a prepared query with ?1 = id, ?2 = s. */
static int64_t scalar(struct fogbank *fb, const char *sql, int64_t id, const char *s)
{
	sqlite3_stmt *st = db_stmt(fb->db, sql);
	sqlite3_bind_int64(st, 1, id);
	ecs_bind_opt(st, 2, s);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return n;
}

/* launch: places and starts one task of deployment d. */
static void launch(struct fogbank *fb, struct arena *a, const struct svc *s, const struct dep *d,
		   int64_t now)
{
	struct ecs_taskdef td;
	if (ecs_taskdef_get(fb, a, s->account, s->region, d->taskdef, &td) != 1)
		return;
	const char *cname = ecs_arn_tail(s->cluster_arn, "cluster"), *arn = NULL;
	struct ecs_task_req r = {.account = s->account,
				 .region = s->region,
				 .cluster_arn = s->cluster_arn,
				 .cluster_name = cname,
				 .td = &td,
				 .group = arena_sprintf(a, "service:%s", s->name),
				 .started_by = d->dep_id,
				 .launch_type = s->launch_type,
				 .service_id = s->id,
				 .deployment_id = d->id};
	if (db_begin(fb->db) != SQLITE_OK)
		return;
	if (ecs_task_create(fb, a, &r, now, &arn) < 0 || db_commit(fb->db) != SQLITE_OK) {
		db_rollback(fb->db);
		return;
	}
	const char *tid = strrchr(arn, '/') + 1;
	ecs_event(fb, s->id, s->name, now,
		  arena_sprintf(a, "has started 1 tasks: (task %s).", tid));
	ecs_task_launch(fb, arn);
}

/* lb_hook: where target group (de)registration goes once ELB exists. */
static void lb_hook(struct fogbank *fb, const struct svc *s, const char *task_arn, int up)
{
	(void)fb, (void)s, (void)task_arn, (void)up;
}

/* stop_some: stops up to n live tasks of deployment dep (not healthy
 * ones first); returns how many healthy ones it stopped. */
static int64_t stop_some(struct fogbank *fb, struct arena *a, const struct svc *s, int64_t dep,
			 int64_t n, int only_unhealthy, const char *by)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT arn, " HEALTHY " FROM ecs_tasks WHERE "
					   "deployment_id = ?1 AND desired_status = 'RUNNING' "
					   "ORDER BY " HEALTHY ", id LIMIT ?2");
	sqlite3_bind_int64(st, 1, dep);
	sqlite3_bind_int64(st, 2, n);
	const char *arns[64];
	int running[64];
	int k = 0;
	while (k < 64 && sqlite3_step(st) == SQLITE_ROW) {
		running[k] = sqlite3_column_int(st, 1);
		if (only_unhealthy && running[k])
			break;
		arns[k++] = ecs_col(a, st, 0);
	}
	sqlite3_reset(st);
	int64_t stopped_running = 0;
	for (int i = 0; i < k; i++) {
		lb_hook(fb, s, arns[i], 0);
		ecs_task_stop(
		    fb, arns[i], "ServiceSchedulerInitiated",
		    arena_sprintf(a, "Scaling activity initiated by (deployment %s)", by));
		ecs_event(fb, s->id, s->name, fb_wall_ms(),
			  arena_sprintf(a, "has stopped 1 running tasks: (task %s).",
					strrchr(arns[i], '/') + 1));
		stopped_running += running[i];
	}
	return stopped_running;
}

/* stop_unhealthy: stops the service's tasks whose health check failed;
 * the pass that follows replaces them (ECS: "If the task reports as
 * unhealthy then the task will be stopped and the service scheduler will
 * replace it"). */
static void stop_unhealthy(struct fogbank *fb, struct arena *a, const struct svc *s)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT arn FROM ecs_tasks WHERE service_id = ?1 AND "
					   "desired_status = 'RUNNING' AND health = 'UNHEALTHY'");
	sqlite3_bind_int64(st, 1, s->id);
	const char *arns[64];
	int k = 0;
	while (k < 64 && sqlite3_step(st) == SQLITE_ROW)
		arns[k++] = ecs_col(a, st, 0);
	sqlite3_reset(st);
	for (int i = 0; i < k; i++) {
		const char *tid = strrchr(arns[i], '/') + 1;
		lb_hook(fb, s, arns[i], 0);
		ecs_task_stop(fb, arns[i], "ServiceSchedulerInitiated", HEALTH_REASON);
		ecs_event(fb, s->id, s->name, fb_wall_ms(),
			  arena_sprintf(a, "(task %s) failed container health checks.", tid));
		ecs_event(fb, s->id, s->name, fb_wall_ms(),
			  arena_sprintf(a, "has stopped 1 running tasks: (task %s).", tid));
	}
}

/* set_rollout: records a deployment's rollout state and reason. */
static void set_rollout(struct fogbank *fb, int64_t dep, const char *state, const char *reason,
			int64_t now)
{
	sqlite3_stmt *st =
	    db_stmt(fb->db, "UPDATE ecs_deployments SET rollout = ?2, rollout_reason "
			    "= ?3, updated = ?4 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, dep);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	db_step_done(st);
}

/* breaker: counts primary's failed tasks; trips the circuit breaker.
 * Returns 1 when launching must wait (backoff or a failed rollout). */
static int breaker(struct fogbank *fb, struct arena *a, const struct svc *s, struct dep *p,
		   int64_t now)
{
	static const char failed_sql[] =
	    "SELECT count(*), max(stopped) FROM ecs_tasks WHERE "
	    "deployment_id = ?1 AND (stop_code IN ('TaskFailedToStart', "
	    "'EssentialContainerExited') OR stopped_reason = '" HEALTH_REASON "')";
	sqlite3_stmt *st = db_stmt(fb->db, failed_sql);
	sqlite3_bind_int64(st, 1, p->id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		p->failed = sqlite3_column_int64(st, 0);
		p->last_stop = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	st = db_stmt(fb->db,
		     "UPDATE ecs_deployments SET failed = ?2 WHERE id = ?1 AND failed <> ?2");
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, p->failed);
	db_step_done(st);
	if (!strcmp(p->rollout, "FAILED"))
		return 1;
	int64_t threshold = (s->desired + 1) / 2;
	threshold = threshold < 3 ? 3 : threshold > 200 ? 200 : threshold;
	if (s->breaker && !strcmp(p->rollout, "IN_PROGRESS") && p->failed >= threshold) {
		set_rollout(fb, p->id, "FAILED",
			    "ECS deployment circuit breaker: tasks failed to start.", now);
		ecs_event(fb, s->id, s->name, now,
			  arena_sprintf(a,
					"deployment %s deployment failed: tasks failed to start.",
					p->dep_id));
		st = db_stmt(fb->db, "SELECT taskdef_arn FROM ecs_deployments WHERE service_id = "
				     "?1 AND rollout = 'COMPLETED' AND id <> ?2 ORDER BY id DESC "
				     "LIMIT 1");
		sqlite3_bind_int64(st, 1, s->id);
		sqlite3_bind_int64(st, 2, p->id);
		const char *prev = sqlite3_step(st) == SQLITE_ROW ? ecs_col(a, st, 0) : NULL;
		sqlite3_reset(st);
		if (s->rollback && prev) {
			ecs_deployment_new(fb, s->id, prev, now);
			st = db_stmt(fb->db,
				     "UPDATE ecs_services SET taskdef_arn = ?2 WHERE id = ?1");
			sqlite3_bind_int64(st, 1, s->id);
			sqlite3_bind_text(st, 2, prev, -1, SQLITE_STATIC);
			db_step_done(st);
			ecs_event(
			    fb, s->id, s->name, now,
			    arena_sprintf(a, "rolling back to deployment with task definition %s.",
					  prev));
		}
		return 1;
	}
	if (p->failed == 0)
		return 0;
	int64_t wait = BACKOFF_BASE_MS << (p->failed > 5 ? 5 : p->failed - 1);
	return now < p->last_stop + (wait > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait);
}

/* reconcile: one pass over service s. */
static void reconcile(struct fogbank *fb, struct arena *a, struct svc *s, int64_t now)
{
	struct dep deps[16];
	size_t nd = 0;
	struct dep *p = NULL;
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT id, dep_id, taskdef_arn, rollout, status = "
					   "'PRIMARY' FROM ecs_deployments WHERE service_id = ?1 "
					   "AND status <> 'INACTIVE' ORDER BY id DESC LIMIT 16");
	sqlite3_bind_int64(st, 1, s->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct dep *d = &deps[nd++];
		*d = (struct dep){.id = sqlite3_column_int64(st, 0),
				  .dep_id = ecs_col(a, st, 1),
				  .taskdef = ecs_col(a, st, 2),
				  .rollout = ecs_col(a, st, 3),
				  .primary = sqlite3_column_int(st, 4)};
		if (d->primary)
			p = d;
	}
	sqlite3_reset(st);
	stop_unhealthy(fb, a, s);
	int64_t total_live = 0, total_running = 0;
	for (size_t i = 0; i < nd; i++) {
		deps[i].live = scalar(fb,
				      "SELECT count(*) FROM ecs_tasks WHERE deployment_id = ?1 "
				      "AND desired_status = 'RUNNING'",
				      deps[i].id, NULL);
		deps[i].running = scalar(fb,
					 "SELECT count(*) FROM ecs_tasks WHERE deployment_id = "
					 "?1 AND desired_status = 'RUNNING' AND " HEALTHY,
					 deps[i].id, NULL);
		total_live += deps[i].live;
		total_running += deps[i].running;
	}
	int64_t desired = s->draining ? 0 : s->desired;
	int64_t max_total = desired * s->max_pct / 100,
		min_healthy = (desired * s->min_pct + 99) / 100;
	if (max_total < desired)
		max_total = desired;
	if (p && !s->draining) {
		int hold = breaker(fb, a, s, p, now);
		while (!hold && p->live < desired && total_live < max_total) {
			launch(fb, a, s, p, now);
			p->live++;
			total_live++;
		}
		if (p->live > desired)
			total_running -=
			    stop_some(fb, a, s, p->id, p->live - desired, 0, p->dep_id);
	}
	for (size_t i = 0; i < nd; i++) {
		struct dep *d = &deps[i];
		if (d == p && !s->draining)
			continue;
		/* drain: tasks not running go at once, running ones only while
		 * enough stay healthy */
		total_running -= stop_some(fb, a, s, d->id, d->live, 1, p ? p->dep_id : d->dep_id);
		int64_t can = total_running - min_healthy;
		if (can > 0)
			total_running -=
			    stop_some(fb, a, s, d->id, can, 0, p ? p->dep_id : d->dep_id);
		if (scalar(fb,
			   "SELECT count(*) FROM ecs_tasks WHERE deployment_id = ?1 AND "
			   "last_status <> 'STOPPED'",
			   d->id, NULL) == 0 &&
		    d != p) {
			st = db_stmt(fb->db,
				     "UPDATE ecs_deployments SET status = 'INACTIVE', updated "
				     "= ?2 WHERE id = ?1");
			sqlite3_bind_int64(st, 1, d->id);
			sqlite3_bind_int64(st, 2, now);
			db_step_done(st);
			d->live = -1; /* gone */
		}
	}
	if (s->draining) {
		if (scalar(fb,
			   "SELECT count(*) FROM ecs_tasks WHERE service_id = ?1 AND last_status "
			   "<> 'STOPPED'",
			   s->id, NULL) == 0) {
			st = db_stmt(fb->db,
				     "UPDATE ecs_services SET status = 'INACTIVE' WHERE id = ?1");
			sqlite3_bind_int64(st, 1, s->id);
			db_step_done(st);
		}
		return;
	}
	if (!p)
		return;
	int others = 0;
	for (size_t i = 0; i < nd; i++)
		others |= &deps[i] != p && deps[i].live >= 0;
	p->running = scalar(fb,
			    "SELECT count(*) FROM ecs_tasks WHERE deployment_id = ?1 AND "
			    "desired_status = 'RUNNING' AND " HEALTHY,
			    p->id, NULL);
	int steady = !others && p->running == desired && p->live == desired;
	if (steady && !strcmp(p->rollout, "IN_PROGRESS")) {
		set_rollout(fb, p->id, "COMPLETED",
			    arena_sprintf(a, "ECS deployment %s completed.", p->dep_id), now);
		ecs_event(fb, s->id, s->name, now,
			  arena_sprintf(a, "deployment %s deployment completed.", p->dep_id));
	}
	if (steady != s->steady) {
		if (steady)
			ecs_event(fb, s->id, s->name, now, "has reached a steady state.");
		st = db_stmt(fb->db, "UPDATE ecs_services SET steady = ?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, s->id);
		sqlite3_bind_int(st, 2, steady);
		db_step_done(st);
	}
}

void ecs_tick(struct fogbank *fb, int64_t now_ms)
{
	struct arena *a = arena_new(16384);
	sqlite3_stmt *st =
	    db_stmt(fb->db, "SELECT id, desired, min_healthy, max_percent, breaker, "
			    "rollback, status = 'DRAINING', steady, account, region, "
			    "name, arn, cluster_arn, launch_type FROM ecs_services "
			    "WHERE status <> 'INACTIVE'");
	struct svc *v = NULL;
	size_t n = 0, cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			v = arena_realloc(a, v, cap * sizeof(*v), nc * sizeof(*v));
			cap = nc;
		}
		v[n++] = (struct svc){.id = sqlite3_column_int64(st, 0),
				      .desired = sqlite3_column_int64(st, 1),
				      .min_pct = sqlite3_column_int64(st, 2),
				      .max_pct = sqlite3_column_int64(st, 3),
				      .breaker = sqlite3_column_int(st, 4),
				      .rollback = sqlite3_column_int(st, 5),
				      .draining = sqlite3_column_int(st, 6),
				      .steady = sqlite3_column_int(st, 7),
				      .account = ecs_col(a, st, 8),
				      .region = ecs_col(a, st, 9),
				      .name = ecs_col(a, st, 10),
				      .arn = ecs_col(a, st, 11),
				      .cluster_arn = ecs_col(a, st, 12),
				      .launch_type = ecs_col(a, st, 13)};
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++)
		reconcile(fb, a, &v[i], now_ms);
	arena_free(a);
}

static void tick_cb(struct loop *l, void *arg)
{
	struct fogbank *fb = arg;
	ecs_tick(fb, fb_wall_ms());
	loop_timer_add(l, TICK_MS, tick_cb, fb);
}

void ecs_restore_all(struct fogbank *fb)
{
	struct arena *a = arena_new(4096);
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT arn FROM ecs_tasks WHERE last_status <> "
					   "'STOPPED'");
	const char **arns = NULL;
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		arns = arena_realloc(a, arns, n * sizeof(char *), (n + 1) * sizeof(char *));
		arns[n++] = ecs_col(a, st, 0);
	}
	sqlite3_reset(st);
	/* PDEATHSIG took their processes with the previous fogbank */
	for (size_t i = 0; i < n; i++)
		ecs_task_finish(fb, arns[i], "TerminationNotice",
				"Task stopped: fogbank restarted and the task's processes did "
				"not survive it");
	if (n)
		log_info("ecs: %zu task(s) from before the restart marked STOPPED", n);
	arena_free(a);
	rt_mode(); /* chosen and logged once, at start */
	/* containers, mounts and bundles of a fogbank killed with SIGKILL */
	rt_cleanup_leftovers(fb);
	loop_timer_add(fb->loop, TICK_MS, tick_cb, fb);
}
