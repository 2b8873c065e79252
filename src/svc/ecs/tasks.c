/* tasks.c - RunTask, StartTask, StopTask, DescribeTasks, ListTasks, and the task rows
 * they and the service reconciler share. The processes themselves are
 * run.c's business; this file only places tasks and reports them. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/ecs_ops.h"
#include "core/log.h"
#include "fb.h"
#include "store/addr.h"
#include "svc/ecs/internal.h"

/* checked: 1 when an essential container of defs has a health check (a
 * service then waits for the task to be HEALTHY, as ECS does). */
static int checked(const struct jv *defs)
{
	for (size_t i = 0; i < jv_len(defs); i++) {
		const struct jv *d = jv_at(defs, i);
		const struct jv *cmd = jv_get(jv_get(d, "healthCheck"), "command");
		const struct jv *c0 = jv_len(cmd) ? jv_at(cmd, 0) : NULL;
		if (jv_get_bool(d, "essential", 1) && c0 &&
		    !(c0->type == JV_STRING && !strcmp(c0->u.s.p, "NONE")))
			return 1;
	}
	return 0;
}

int ecs_task_create(struct fogbank *fb, struct arena *a, const struct ecs_task_req *r,
		    int64_t now_ms, const char **arn_out)
{
	char id[33], addr[16];
	ecs_new_id(id);
	const char *arn = ecs_arn(a, r->region, r->account, "task",
				  arena_sprintf(a, "%s/%s", r->cluster_name, id));
	if (addr_alloc(fb->db, arena_sprintf(a, "ecs:%s", arn), addr) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(
	    fb->db,
	    "INSERT INTO ecs_tasks(account, region, task_id, arn, cluster_arn, taskdef_arn, "
	    "family, grp, started_by, service_id, deployment_id, launch_type, addr, "
	    "last_status, desired_status, created, overrides, health, checked) VALUES(?1, ?2, "
	    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 'PROVISIONING', 'RUNNING', ?14, "
	    "?15, 'UNKNOWN', ?16)");
	sqlite3_bind_text(st, 1, r->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->cluster_arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->td->arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->td->family, -1, SQLITE_STATIC);
	ecs_bind_opt(st, 8, r->group);
	ecs_bind_opt(st, 9, r->started_by);
	if (r->service_id) {
		sqlite3_bind_int64(st, 10, r->service_id);
		sqlite3_bind_int64(st, 11, r->deployment_id);
	}
	ecs_bind_opt(st, 12, r->launch_type);
	sqlite3_bind_text(st, 13, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 14, now_ms);
	ecs_bind_opt(st, 15, ecs_json(a, r->overrides));
	const struct jv *defs = jv_get(r->td->body, "containerDefinitions");
	sqlite3_bind_int(st, 16, checked(defs));
	if (db_step_done(st) != SQLITE_DONE)
		return -1;
	for (size_t i = 0; i < jv_len(defs); i++) {
		const struct jv *d = jv_at(defs, i);
		char u[37];
		fmt_uuid4(u);
		st = db_stmt(fb->db,
			     "INSERT INTO ecs_containers(task_arn, idx, name, image, arn, "
			     "last_status, essential) VALUES(?1, ?2, ?3, ?4, ?5, 'PENDING', ?6)");
		sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_text(st, 3, jv_get_str(d, "name"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, jv_get_str(d, "image"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5,
				  ecs_arn(a, r->region, r->account, "container",
					  arena_sprintf(a, "%s/%s/%s", r->cluster_name, id, u)),
				  -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, jv_get_bool(d, "essential", 1));
		if (db_step_done(st) != SQLITE_DONE)
			return -1;
	}
	*arn_out = arn;
	return 0;
}

/* set_ts: sets key to the ms timestamp in column i when not NULL. */
static void set_ts(struct arena *a, struct jv *o, const char *key, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		jv_set(a, o, key, ecs_ts(a, sqlite3_column_int64(st, i)));
}

/* containers_out: the containers[] of task arn. */
static struct jv *containers_out(struct fogbank *fb, struct arena *a, const char *arn,
				 const char *addr)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT name, image, arn, last_status, exit_code, "
					   "reason, coalesce(health, 'UNKNOWN') FROM "
					   "ecs_containers WHERE task_arn = ?1 ORDER BY idx");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	struct jv *arr = jv_array(a);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *o = jv_object(a);
		jv_set_str(a, o, "containerArn", db_col_text(st, 2));
		jv_set_str(a, o, "taskArn", arn);
		jv_set_str(a, o, "name", db_col_text(st, 0));
		jv_set_str(a, o, "image", db_col_text(st, 1));
		jv_set_str(a, o, "lastStatus", db_col_text(st, 3));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			jv_set_int(a, o, "exitCode", sqlite3_column_int64(st, 4));
		jv_set_str(a, o, "reason", db_col_text(st, 5));
		struct jv *nis = jv_array(a), *ni = jv_object(a);
		jv_set_str(a, ni, "privateIpv4Address", addr);
		jv_push(a, nis, ni);
		jv_set(a, o, "networkInterfaces", nis);
		jv_set_str(a, o, "healthStatus", db_col_text(st, 6));
		jv_push(a, arr, o);
	}
	sqlite3_reset(st);
	return arr;
}

struct jv *ecs_task_out(struct fogbank *fb, struct arena *a, const char *arn)
{
	sqlite3_stmt *st = db_stmt(
	    fb->db, "SELECT arn, cluster_arn, taskdef_arn, grp, started_by, launch_type, addr, "
		    "last_status, desired_status, created, pull_started, pull_stopped, started, "
		    "stopping, stopped, stop_code, stopped_reason, overrides, service_id, "
		    "coalesce(health, 'UNKNOWN') FROM ecs_tasks WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return NULL;
	}
	struct jv *o = jv_object(a);
	const char *addr = ecs_col(a, st, 6);
	jv_set_str(a, o, "taskArn", db_col_text(st, 0));
	jv_set_str(a, o, "clusterArn", db_col_text(st, 1));
	jv_set_str(a, o, "taskDefinitionArn", db_col_text(st, 2));
	jv_set_str(a, o, "group", db_col_text(st, 3));
	jv_set_str(a, o, "startedBy", db_col_text(st, 4));
	jv_set_str(a, o, "launchType", db_col_text(st, 5));
	jv_set_str(a, o, "lastStatus", db_col_text(st, 7));
	jv_set_str(a, o, "desiredStatus", db_col_text(st, 8));
	set_ts(a, o, "createdAt", st, 9);
	set_ts(a, o, "pullStartedAt", st, 10);
	set_ts(a, o, "pullStoppedAt", st, 11);
	set_ts(a, o, "startedAt", st, 12);
	set_ts(a, o, "stoppingAt", st, 13);
	set_ts(a, o, "stoppedAt", st, 14);
	set_ts(a, o, "executionStoppedAt", st, 14);
	jv_set_str(a, o, "stopCode", db_col_text(st, 15));
	jv_set_str(a, o, "stoppedReason", db_col_text(st, 16));
	struct jv *ov = ecs_parse(a, db_col_text(st, 17));
	if (!ov) {
		ov = jv_object(a);
		jv_set(a, ov, "containerOverrides", jv_array(a));
	}
	jv_set(a, o, "overrides", ov);
	jv_set_int(a, o, "version", 1);
	jv_set_str(a, o, "availabilityZone", "us-east-1a");
	jv_set_str(a, o, "connectivity", "CONNECTED");
	jv_set_str(a, o, "healthStatus", db_col_text(st, 19));
	const char *task_arn = ecs_col(a, st, 0);
	sqlite3_reset(st);
	/* the awsvpc ENI, whose address is the task's own loopback address */
	struct jv *att = jv_object(a), *det = jv_array(a), *kv = jv_object(a);
	jv_set_str(a, att, "type", "ElasticNetworkInterface");
	jv_set_str(a, att, "status", "ATTACHED");
	jv_set_str(a, kv, "name", "privateIPv4Address");
	jv_set_str(a, kv, "value", addr);
	jv_push(a, det, kv);
	jv_set(a, att, "details", det);
	struct jv *atts = jv_array(a);
	jv_push(a, atts, att);
	jv_set(a, o, "attachments", atts);
	jv_set(a, o, "containers", containers_out(fb, a, task_arn, addr));
	return o;
}

/* task_arn_of: the ARN of ref (an ARN or a task id) in cluster cl. */
static const char *task_arn_of(struct aws_call *c, const struct ecs_cluster *cl, const char *ref)
{
	if (!ref || !strncmp(ref, "arn:", 4))
		return ref;
	return ecs_arn(c->a, c->region, c->account, "task",
		       arena_sprintf(c->a, "%s/%s", cl->name, ref));
}

int ecs_op_run_task(struct aws_call *c)
{
	struct ecs_cluster cl;
	struct ecs_taskdef td;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	int r = ecs_taskdef_get(c->fb, c->a, c->account, c->region,
				jv_get_str(c->in, "taskDefinition"), &td);
	if (r < 0)
		return ecs_fail_db(c, SQLITE_ERROR);
	if (r == 0 || strcmp(td.status, "ACTIVE"))
		return aws_fail(c, 400, "ClientException",
				"TaskDefinition not found or not active.");
	int64_t count = jv_get_int(c->in, "count", 1);
	if (count < 1 || count > 10)
		return ecs_invalid(c, "The count parameter must be between 1 and 10.");
	const char *lt = jv_get_str(c->in, "launchType");
	struct ecs_task_req req = {
	    .account = c->account,
	    .region = c->region,
	    .cluster_arn = cl.arn,
	    .cluster_name = cl.name,
	    .td = &td,
	    .group = jv_get_str(c->in, "group"),
	    .started_by = jv_get_str(c->in, "startedBy"),
	    .launch_type = lt					       ? lt
			   : jv_get(c->in, "capacityProviderStrategy") ? NULL
								       : "FARGATE",
	    .overrides = jv_get(c->in, "overrides"),
	};
	if (!req.group)
		req.group = arena_sprintf(c->a, "family:%s", td.family);
	const char **arns = arena_zalloc(c->a, (size_t)count * sizeof(char *));
	if (ecs_tx_begin(c) < 0)
		return -1;
	int ok = 0;
	for (int64_t i = 0; i < count && ok == 0; i++) {
		ok = ecs_task_create(c->fb, c->a, &req, c->now_ms, &arns[i]);
		if (ok == 0)
			ok =
			    ecs_tags_put(c, arns[i], jv_get(c->in, "tags")) == SQLITE_DONE ? 0 : -1;
	}
	if (ecs_tx_end(c, ok) < 0)
		return ok == 0 ? -1 : ecs_fail_db(c, SQLITE_ERROR);
	struct jv *tasks = jv_array(c->a);
	for (int64_t i = 0; i < count; i++) {
		jv_push(c->a, tasks, ecs_task_out(c->fb, c->a, arns[i]));
		ecs_task_launch(c->fb, arns[i]);
	}
	jv_set(c->a, aws_out(c), "tasks", tasks);
	jv_set(c->a, aws_out(c), "failures", jv_array(c->a));
	return 0;
}

/* ecs_op_start_task: StartTask places tasks on the container instances
 * named. A fogbank cluster is Fargate-only and has no container instances
 * (registeredContainerInstancesCount is 0), so, as ECS answers for an
 * instance that does not exist, every one named is a MISSING failure and
 * no task starts: RunTask is the way to run tasks. 0 or -1. */
int ecs_op_start_task(struct aws_call *c)
{
	struct ecs_cluster cl;
	struct ecs_taskdef td;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	int r = ecs_taskdef_get(c->fb, c->a, c->account, c->region,
				jv_get_str(c->in, "taskDefinition"), &td);
	if (r < 0)
		return ecs_fail_db(c, SQLITE_ERROR);
	if (r == 0 || strcmp(td.status, "ACTIVE"))
		return aws_fail(c, 400, "ClientException",
				"TaskDefinition not found or not active.");
	const struct jv *refs = jv_get(c->in, "containerInstances");
	if (jv_len(refs) == 0)
		return ecs_invalid(c, "Container instances cannot be empty.");
	if (jv_len(refs) > 10)
		return ecs_invalid(c, "The list of container instances must contain at most 10 "
				      "elements.");
	struct jv *fail = jv_array(c->a);
	for (size_t i = 0; i < jv_len(refs); i++) {
		const struct jv *ref = jv_at(refs, i);
		const char *s = ref->type == JV_STRING ? ref->u.s.p : "";
		struct jv *f = jv_object(c->a);
		jv_set_str(c->a, f, "arn",
			   !strncmp(s, "arn:", 4)
			       ? s
			       : ecs_arn(c->a, c->region, c->account, "container-instance",
					 arena_sprintf(c->a, "%s/%s", cl.name, s)));
		jv_set_str(c->a, f, "reason", "MISSING");
		jv_push(c->a, fail, f);
	}
	jv_set(c->a, aws_out(c), "tasks", jv_array(c->a));
	jv_set(c->a, aws_out(c), "failures", fail);
	return 0;
}

int ecs_op_stop_task(struct aws_call *c)
{
	struct ecs_cluster cl;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	const char *arn = task_arn_of(c, &cl, jv_get_str(c->in, "task"));
	const char *reason = jv_get_str(c->in, "reason");
	struct jv *before = ecs_task_out(c->fb, c->a, arn);
	if (!before)
		return ecs_invalid(c, "The referenced task was not found.");
	ecs_task_stop(c->fb, arn, "UserInitiated", reason ? reason : "Task stopped by user");
	jv_set(c->a, aws_out(c), "task", ecs_task_out(c->fb, c->a, arn));
	return 0;
}

int ecs_op_describe_tasks(struct aws_call *c)
{
	struct ecs_cluster cl;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	const struct jv *refs = jv_get(c->in, "tasks");
	int tags = 0;
	const struct jv *inc = jv_get(c->in, "include");
	for (size_t i = 0; i < jv_len(inc); i++)
		tags |= jv_at(inc, i)->type == JV_STRING && str_eq_c(jv_at(inc, i)->u.s, "TAGS");
	struct jv *out = jv_array(c->a), *fail = jv_array(c->a);
	for (size_t i = 0; i < jv_len(refs); i++) {
		const char *arn = task_arn_of(c, &cl, jv_at(refs, i)->u.s.p);
		struct jv *t = ecs_task_out(c->fb, c->a, arn);
		if (t && !strcmp(jv_get_str(t, "clusterArn"), cl.arn)) {
			if (tags)
				jv_set(c->a, t, "tags", ecs_tags_of(c, arn));
			jv_push(c->a, out, t);
			continue;
		}
		struct jv *f = jv_object(c->a);
		jv_set_str(c->a, f, "arn", arn);
		jv_set_str(c->a, f, "reason", "MISSING");
		jv_push(c->a, fail, f);
	}
	jv_set(c->a, aws_out(c), "tasks", out);
	jv_set(c->a, aws_out(c), "failures", fail);
	return 0;
}

int ecs_op_list_tasks(struct aws_call *c)
{
	struct ecs_cluster cl;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	const char *svc = jv_get_str(c->in, "serviceName");
	const char *desired = jv_get_str(c->in, "desiredStatus");
	sqlite3_stmt *st = db_stmt(
	    c->fb->db,
	    "SELECT t.arn FROM ecs_tasks t LEFT JOIN ecs_services s ON s.id = t.service_id "
	    "WHERE t.cluster_arn = ?1 AND t.desired_status = ?2 AND (?3 IS NULL OR t.family = ?3) "
	    "AND (?4 IS NULL OR s.name = ?4 OR s.arn = ?4) AND (?5 IS NULL OR t.started_by = ?5) "
	    "AND (?6 IS NULL OR t.launch_type = ?6) ORDER BY t.id");
	sqlite3_bind_text(st, 1, cl.arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, desired ? desired : "RUNNING", -1, SQLITE_STATIC);
	ecs_bind_opt(st, 3, jv_get_str(c->in, "family"));
	ecs_bind_opt(st, 4, svc);
	ecs_bind_opt(st, 5, jv_get_str(c->in, "startedBy"));
	ecs_bind_opt(st, 6, jv_get_str(c->in, "launchType"));
	struct jv *arr = jv_array(c->a);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(c->a, arr, jv_string_c(c->a, db_col_text(st, 0)));
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "taskArns", arr);
	return 0;
}
