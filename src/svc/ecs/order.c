/* order.c - when a task's containers start: dependsOn with ECS's
 * conditions (START: the dependency is running; COMPLETE: it ran and
 * exited; SUCCESS: it exited 0; HEALTHY: its health check passed), as the
 * ECS agent resolves them: a condition that can no longer hold fails the
 * waiting container at once (the agent's "fail fast"), and one that does
 * not hold within the container's startTimeout (default 3 minutes, as on
 * Fargate) fails it too. A failed essential container stops the task
 * (TaskFailedToStart). Containers with nothing to wait for start in
 * definition order. */
#include "core/compat.h"
#include "core/loop.h"
#include "fb.h"
#include "svc/ecs/live.h"

#define START_TIMEOUT_S 180

int ecs_dep_eval(const char *condition, const struct ecs_dep_view *d)
{
	int stopped = d->state == ECS_CTR_STOPPED;
	if (!condition)
		return -1;
	if (!strcmp(condition, "START"))
		return d->ran ? 1 : stopped ? -1 : 0;
	if (!strcmp(condition, "COMPLETE"))
		return stopped ? (d->ran ? 1 : -1) : 0;
	if (!strcmp(condition, "SUCCESS"))
		return stopped ? (d->ran && d->exited && d->exit_code == 0 ? 1 : -1) : 0;
	if (!strcmp(condition, "HEALTHY")) {
		if (!d->has_check)
			return -1;
		if (d->health == ECS_H_HEALTHY)
			return 1;
		return stopped ? -1 : 0;
	}
	return -1;
}

/* by_name: the container of t named name, or NULL. */
static struct live_ctr *by_name(struct live *t, const char *name)
{
	for (size_t i = 0; name && i < t->n; i++)
		if (!strcmp(t->c[i].name, name))
			return &t->c[i];
	return NULL;
}

/* ready: whether every dependsOn of k holds: 1 yes, 0 not yet, -1 never
 * (*why, arena, says which, in the agent's words). */
static int ready(struct live *t, struct live_ctr *k, const char **why)
{
	const struct jv *deps = jv_get(k->def, "dependsOn");
	int r = 1;
	for (size_t i = 0; i < jv_len(deps); i++) {
		const char *dn = jv_get_str(jv_at(deps, i), "containerName");
		const char *cond = jv_get_str(jv_at(deps, i), "condition");
		struct live_ctr *d = by_name(t, dn);
		struct ecs_dep_view v = {0};
		if (d)
			v = (struct ecs_dep_view){d->state,	d->ran,	  d->exited,
						  d->exit_code, d->hc.on, d->hc.status};
		int e = d ? ecs_dep_eval(cond, &v) : -1;
		if (e < 0) {
			*why =
			    arena_sprintf(t->a,
					  "CannotStartContainerError: dependency graph: failed to "
					  "resolve container ordering dependency [%s] (%s) for "
					  "target [%s]",
					  dn ? dn : "?", cond ? cond : "?", k->name);
			return -1;
		}
		if (e == 0)
			r = 0;
	}
	return r;
}

/* fail: waiting container k will never start; an essential one stops
 * the task. */
static void fail(struct live *t, struct live_ctr *k, const char *why)
{
	ecs_order_cancel(k);
	k->state = ECS_CTR_STOPPED;
	ecs_live_ctr_row(t, k, "STOPPED", 0, 0, why);
	if (k->essential)
		ecs_live_stop(t, "TaskFailedToStart", why);
}

/* timeout_cb: k's startTimeout passed while it still waited. */
static void timeout_cb(struct loop *l, void *arg)
{
	struct live_ctr *k = arg;
	struct live *t = k->t;
	k->wait_timer = 0;
	if (k->state != ECS_CTR_WAITING || t->stopping)
		return;
	fail(t, k,
	     arena_sprintf(t->a,
			   "CannotStartContainerError: dependency graph: container ordering "
			   "dependency for target [%s] has timed out",
			   k->name));
	ecs_live_advance(t);
	ecs_live_maybe_release(t);
}

void ecs_order_cancel(struct live_ctr *k)
{
	if (k->wait_timer) {
		loop_timer_cancel(k->t->fb->loop, k->wait_timer);
		k->wait_timer = 0;
	}
}

void ecs_live_advance(struct live *t)
{
	if (!t->prepared || t->stopping || t->unpacking)
		return;
	/* a start or a failure can unblock another container: loop until
	 * nothing changes */
	for (int changed = 1; changed && !t->stopping;) {
		changed = 0;
		for (size_t i = 0; i < t->n && !t->stopping; i++) {
			struct live_ctr *k = &t->c[i];
			const char *why = NULL;
			if (k->state != ECS_CTR_WAITING)
				continue;
			int r = ready(t, k, &why);
			if (r == 0) {
				if (!k->wait_timer)
					k->wait_timer = loop_timer_add(
					    t->fb->loop,
					    jv_get_int(k->def, "startTimeout", START_TIMEOUT_S) *
						1000,
					    timeout_cb, k);
				continue;
			}
			if (r > 0)
				ecs_live_start_one(t, k);
			else
				fail(t, k, why);
			changed = 1;
		}
	}
	if (t->stopping || t->running)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->c[i].state == ECS_CTR_WAITING || t->c[i].state == ECS_CTR_STARTING)
			return;
	t->running = 1;
	ecs_task_status(t->fb, t->arn, "RUNNING");
}
