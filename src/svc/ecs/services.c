/* services.c - CreateService, UpdateService (desired count, a new task
 * definition, forceNewDeployment), DeleteService (force), DescribeServices
 * and ListServices. Handlers only record intent (desired count, a new
 * PRIMARY deployment); reconcile.c makes the tasks follow. loadBalancers
 * are stored and returned; target registration is reconcile.c's hook. */
#include "core/compat.h"
#include "aws/gen/ecs_ops.h"
#include "fb.h"
#include "svc/ecs/internal.h"
#include <stdlib.h>
#include <openssl/rand.h>

void ecs_event(struct fogbank *fb, int64_t service_id, const char *name, int64_t now_ms,
	       const char *msg)
{
	char text[1024];
	snprintf(text, sizeof(text), "(service %s) %s", name, msg);
	sqlite3_stmt *st = db_stmt(
	    fb->db, "INSERT INTO ecs_events(service_id, created, message) VALUES(?1, ?2, ?3)");
	sqlite3_bind_int64(st, 1, service_id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
	db_step_done(st);
}

int ecs_deployment_new(struct fogbank *fb, int64_t service_id, const char *taskdef_arn,
		       int64_t now_ms)
{
	sqlite3_stmt *st =
	    db_stmt(fb->db, "UPDATE ecs_deployments SET status = 'ACTIVE', updated = "
			    "?2 WHERE service_id = ?1 AND status = 'PRIMARY'");
	sqlite3_bind_int64(st, 1, service_id);
	sqlite3_bind_int64(st, 2, now_ms);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return rc;
	char dep[40];
	/* ECS deployment ids are ecs-svc/ plus 19 random digits; rand() would
	 * repeat the same sequence after every restart */
	uint64_t r = 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return SQLITE_ERROR;
	r %= 10000000000000000000ull;
	snprintf(dep, sizeof(dep), "ecs-svc/%019llu", (unsigned long long)r);
	st = db_stmt(fb->db,
		     "INSERT INTO ecs_deployments(service_id, dep_id, status, taskdef_arn, "
		     "rollout, rollout_reason, created, updated) VALUES(?1, ?2, 'PRIMARY', ?3, "
		     "'IN_PROGRESS', 'ECS deployment ' || ?2 || ' in progress.', ?4, ?4)");
	sqlite3_bind_int64(st, 1, service_id);
	sqlite3_bind_text(st, 2, dep, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, taskdef_arn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now_ms);
	return db_step_done(st);
}

/* count_tasks: live (desired RUNNING) tasks of a deployment with status. */
static int64_t count_tasks(struct fogbank *fb, int64_t dep, const char *status)
{
	sqlite3_stmt *st =
	    db_stmt(fb->db, "SELECT count(*) FROM ecs_tasks WHERE deployment_id = ?1 "
			    "AND desired_status = 'RUNNING' AND (?2 IS NULL AND "
			    "last_status <> 'RUNNING' OR last_status = ?2)");
	sqlite3_bind_int64(st, 1, dep);
	ecs_bind_opt(st, 2, status);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return n;
}

#define SVC_COLS                                                                                   \
	"SELECT id, arn, name, cluster_arn, status, desired, taskdef_arn, launch_type, "           \
	"min_healthy, max_percent, breaker, rollback, load_balancers, network, created, "          \
	"created_by, coalesce(az_rebalancing, 'DISABLED') FROM ecs_services "

/* service_out: the Service shape of the SVC_COLS row in st. */
static struct jv *service_out(struct aws_call *c, sqlite3_stmt *st)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a);
	int64_t id = sqlite3_column_int64(st, 0);
	jv_set_str(a, o, "serviceArn", db_col_text(st, 1));
	jv_set_str(a, o, "serviceName", db_col_text(st, 2));
	jv_set_str(a, o, "clusterArn", db_col_text(st, 3));
	jv_set_str(a, o, "status", db_col_text(st, 4));
	jv_set_int(a, o, "desiredCount", sqlite3_column_int64(st, 5));
	jv_set_str(a, o, "taskDefinition", db_col_text(st, 6));
	const char *lt = ecs_col(a, st, 7);
	jv_set_str(a, o, "launchType", lt);
	struct jv *dc = jv_object(a), *cb = jv_object(a);
	jv_set_int(a, dc, "minimumHealthyPercent", sqlite3_column_int64(st, 8));
	jv_set_int(a, dc, "maximumPercent", sqlite3_column_int64(st, 9));
	jv_set_bool(a, cb, "enable", sqlite3_column_int(st, 10));
	jv_set_bool(a, cb, "rollback", sqlite3_column_int(st, 11));
	jv_set(a, dc, "deploymentCircuitBreaker", cb);
	jv_set(a, o, "deploymentConfiguration", dc);
	struct jv *lbs = ecs_parse(a, db_col_text(st, 12));
	jv_set(a, o, "loadBalancers", lbs ? lbs : jv_array(a));
	struct jv *net = ecs_parse(a, db_col_text(st, 13));
	if (net)
		jv_set(a, o, "networkConfiguration", net);
	jv_set(a, o, "createdAt", ecs_ts(a, sqlite3_column_int64(st, 14)));
	jv_set_str(a, o, "createdBy", db_col_text(st, 15));
	jv_set_str(a, o, "schedulingStrategy", "REPLICA");
	struct jv *ctl = jv_object(a);
	jv_set_str(a, ctl, "type", "ECS");
	jv_set(a, o, "deploymentController", ctl);
	jv_set_str(a, o, "propagateTags", "NONE");
	/* newer than Debian's botocore model: serialized only once the
	 * generated model has the member */
	jv_set_str(a, o, "availabilityZoneRebalancing", db_col_text(st, 16));
	jv_set_bool(a, o, "enableECSManagedTags", 0);
	jv_set_bool(a, o, "enableExecuteCommand", 0);
	jv_set(a, o, "placementConstraints", jv_array(a));
	jv_set(a, o, "placementStrategy", jv_array(a));
	int64_t running = 0, pending = 0;
	struct jv *deps = jv_array(a);
	sqlite3_stmt *d = db_stmt(c->fb->db, "SELECT id, dep_id, status, taskdef_arn, rollout, "
					     "rollout_reason, failed, created, updated FROM "
					     "ecs_deployments WHERE service_id = ?1 AND status <> "
					     "'INACTIVE' ORDER BY id DESC");
	sqlite3_bind_int64(d, 1, id);
	while (sqlite3_step(d) == SQLITE_ROW) {
		struct jv *x = jv_object(a);
		int64_t did = sqlite3_column_int64(d, 0);
		int primary = !strcmp(db_col_text(d, 2), "PRIMARY");
		int64_t r = count_tasks(c->fb, did, "RUNNING"), p = count_tasks(c->fb, did, NULL);
		running += r;
		pending += p;
		jv_set_str(a, x, "id", db_col_text(d, 1));
		jv_set_str(a, x, "status", db_col_text(d, 2));
		jv_set_str(a, x, "taskDefinition", db_col_text(d, 3));
		jv_set_int(a, x, "desiredCount", primary ? sqlite3_column_int64(st, 5) : 0);
		jv_set_int(a, x, "runningCount", r);
		jv_set_int(a, x, "pendingCount", p);
		jv_set_int(a, x, "failedTasks", sqlite3_column_int64(d, 6));
		jv_set(a, x, "createdAt", ecs_ts(a, sqlite3_column_int64(d, 7)));
		jv_set(a, x, "updatedAt", ecs_ts(a, sqlite3_column_int64(d, 8)));
		jv_set_str(a, x, "launchType", lt);
		jv_set_str(a, x, "rolloutState", db_col_text(d, 4));
		jv_set_str(a, x, "rolloutStateReason", db_col_text(d, 5));
		if (net)
			jv_set(a, x, "networkConfiguration", net);
		jv_push(a, deps, x);
	}
	sqlite3_reset(d);
	jv_set(a, o, "deployments", deps);
	jv_set_int(a, o, "runningCount", running);
	jv_set_int(a, o, "pendingCount", pending);
	struct jv *evs = jv_array(a);
	d = db_stmt(c->fb->db, "SELECT id, created, message FROM ecs_events WHERE service_id = ?1 "
			       "ORDER BY id DESC LIMIT 100");
	sqlite3_bind_int64(d, 1, id);
	while (sqlite3_step(d) == SQLITE_ROW) {
		struct jv *e = jv_object(a);
		jv_set_str(a, e, "id", arena_sprintf(a, "%lld", sqlite3_column_int64(d, 0)));
		jv_set(a, e, "createdAt", ecs_ts(a, sqlite3_column_int64(d, 1)));
		jv_set_str(a, e, "message", db_col_text(d, 2));
		jv_push(a, evs, e);
	}
	sqlite3_reset(d);
	jv_set(a, o, "events", evs);
	return o;
}

/* lookup: the newest service named name (or ARN) in cluster arn, not
 * INACTIVE unless any; its Service shape, *id set. NULL when none. */
static struct jv *lookup(struct aws_call *c, const char *cluster_arn, const char *ref, int any,
			 int64_t *id)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, SVC_COLS "WHERE cluster_arn = ?1 AND name = ?2 AND "
						       "(?3 OR status <> 'INACTIVE') ORDER BY id "
						       "DESC LIMIT 1");
	sqlite3_bind_text(st, 1, cluster_arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ecs_arn_tail(ref, "service"), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, any);
	const char *tail = ecs_arn_tail(ref, "service"), *slash = strchr(tail, '/');
	if (slash) /* arn:...:service/<cluster>/<name> */
		sqlite3_bind_text(st, 2, slash + 1, -1, SQLITE_STATIC);
	struct jv *o = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		o = service_out(c, st);
	}
	sqlite3_reset(st);
	return o;
}

/* dep_config: minimum/maximum percent and the breaker from the input. */
static void dep_config(struct aws_call *c, int64_t *min, int64_t *max, int *brk, int *rb)
{
	const struct jv *dc = jv_get(c->in, "deploymentConfiguration");
	const struct jv *cb = jv_get(dc, "deploymentCircuitBreaker");
	*min = jv_get_int(dc, "minimumHealthyPercent", *min);
	*max = jv_get_int(dc, "maximumPercent", *max);
	*brk = jv_get_bool(cb, "enable", *brk);
	*rb = jv_get_bool(cb, "rollback", *rb);
}

int ecs_op_create_service(struct aws_call *c)
{
	struct ecs_cluster cl;
	struct ecs_taskdef td;
	int64_t id, min = 100, max = 200;
	int brk = 0, rb = 0;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	const char *name = jv_get_str(c->in, "serviceName");
	if (lookup(c, cl.arn, name, 0, &id))
		return ecs_invalid(c, "Creation of service was not idempotent.");
	int r = ecs_taskdef_get(c->fb, c->a, c->account, c->region,
				jv_get_str(c->in, "taskDefinition"), &td);
	if (r <= 0 || strcmp(td.status, "ACTIVE"))
		return r < 0 ? ecs_fail_db(c, SQLITE_ERROR)
			     : aws_fail(c, 400, "ClientException",
					"TaskDefinition not found or not active.");
	dep_config(c, &min, &max, &brk, &rb);
	const char *lt = jv_get_str(c->in, "launchType");
	const char *arn = ecs_arn(c->a, c->region, c->account, "service",
				  arena_sprintf(c->a, "%s/%s", cl.name, name));
	if (ecs_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(
	    c->fb->db,
	    "INSERT INTO ecs_services(account, region, cluster_arn, name, arn, status, desired, "
	    "taskdef_arn, launch_type, min_healthy, max_percent, breaker, rollback, "
	    "load_balancers, network, strategy, created, created_by, az_rebalancing) VALUES(?1, "
	    "?2, ?3, ?4, ?5, 'ACTIVE', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	    "?18)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cl.arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, jv_get_int(c->in, "desiredCount", 0));
	sqlite3_bind_text(st, 7, td.arn, -1, SQLITE_STATIC);
	ecs_bind_opt(st, 8, lt ? lt : jv_get(c->in, "capacityProviderStrategy") ? NULL : "FARGATE");
	sqlite3_bind_int64(st, 9, min);
	sqlite3_bind_int64(st, 10, max);
	sqlite3_bind_int(st, 11, brk);
	sqlite3_bind_int(st, 12, rb);
	ecs_bind_opt(st, 13, ecs_json(c->a, jv_get(c->in, "loadBalancers")));
	ecs_bind_opt(st, 14, ecs_json(c->a, jv_get(c->in, "networkConfiguration")));
	ecs_bind_opt(st, 15, ecs_json(c->a, jv_get(c->in, "capacityProviderStrategy")));
	sqlite3_bind_int64(st, 16, c->now_ms);
	ecs_bind_opt(st, 17, c->who.arn);
	ecs_bind_opt(st, 18, jv_get_str(c->in, "availabilityZoneRebalancing"));
	int rc = db_step_done(st);
	id = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
	if (rc == SQLITE_DONE)
		rc = ecs_deployment_new(c->fb, id, td.arn, c->now_ms);
	if (rc == SQLITE_DONE)
		rc = ecs_tags_put(c, arn, jv_get(c->in, "tags"));
	if (ecs_tx_end(c, rc == SQLITE_DONE ? 0 : -1) < 0)
		return rc == SQLITE_DONE ? -1 : ecs_fail_db(c, rc);
	jv_set(c->a, aws_out(c), "service", lookup(c, cl.arn, name, 0, &id));
	return 0;
}

int ecs_op_update_service(struct aws_call *c)
{
	struct ecs_cluster cl;
	struct ecs_taskdef td;
	int64_t id;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	struct jv *cur = lookup(c, cl.arn, jv_get_str(c->in, "service"), 0, &id);
	if (!cur || strcmp(jv_get_str(cur, "status"), "ACTIVE"))
		return aws_fail(c, 400,
				cur ? "ServiceNotActiveException" : "ServiceNotFoundException",
				cur ? "Service was not ACTIVE." : "Service not found.");
	const char *new_td = jv_get_str(c->in, "taskDefinition");
	const char *td_arn = jv_get_str(cur, "taskDefinition");
	if (new_td) {
		int r = ecs_taskdef_get(c->fb, c->a, c->account, c->region, new_td, &td);
		if (r <= 0 || strcmp(td.status, "ACTIVE"))
			return r < 0 ? ecs_fail_db(c, SQLITE_ERROR)
				     : aws_fail(c, 400, "ClientException",
						"TaskDefinition not found or not active.");
	}
	const struct jv *dc = jv_get(cur, "deploymentConfiguration");
	int64_t min = jv_get_int(dc, "minimumHealthyPercent", 100);
	int64_t max = jv_get_int(dc, "maximumPercent", 200);
	int brk = jv_get_bool(jv_get(dc, "deploymentCircuitBreaker"), "enable", 0);
	int rb = jv_get_bool(jv_get(dc, "deploymentCircuitBreaker"), "rollback", 0);
	dep_config(c, &min, &max, &brk, &rb);
	int redeploy =
	    jv_get_bool(c->in, "forceNewDeployment", 0) || (new_td && strcmp(td.arn, td_arn));
	if (ecs_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db,
		    "UPDATE ecs_services SET desired = ?2, taskdef_arn = ?3, min_healthy = ?4, "
		    "max_percent = ?5, breaker = ?6, rollback = ?7, load_balancers = coalesce(?8, "
		    "load_balancers), network = coalesce(?9, network), az_rebalancing = "
		    "coalesce(?10, az_rebalancing), steady = 0 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2,
			   jv_get_int(c->in, "desiredCount", jv_get_int(cur, "desiredCount", 0)));
	sqlite3_bind_text(st, 3, new_td ? td.arn : td_arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, min);
	sqlite3_bind_int64(st, 5, max);
	sqlite3_bind_int(st, 6, brk);
	sqlite3_bind_int(st, 7, rb);
	ecs_bind_opt(st, 8, ecs_json(c->a, jv_get(c->in, "loadBalancers")));
	ecs_bind_opt(st, 9, ecs_json(c->a, jv_get(c->in, "networkConfiguration")));
	ecs_bind_opt(st, 10, jv_get_str(c->in, "availabilityZoneRebalancing"));
	int rc = db_step_done(st);
	if (rc == SQLITE_DONE && redeploy)
		rc = ecs_deployment_new(c->fb, id, new_td ? td.arn : td_arn, c->now_ms);
	if (ecs_tx_end(c, rc == SQLITE_DONE ? 0 : -1) < 0)
		return rc == SQLITE_DONE ? -1 : ecs_fail_db(c, rc);
	jv_set(c->a, aws_out(c), "service",
	       lookup(c, cl.arn, jv_get_str(cur, "serviceName"), 0, &id));
	return 0;
}

int ecs_op_delete_service(struct aws_call *c)
{
	struct ecs_cluster cl;
	int64_t id;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	struct jv *cur = lookup(c, cl.arn, jv_get_str(c->in, "service"), 0, &id);
	if (!cur)
		return aws_fail(c, 400, "ServiceNotFoundException", "Service not found.");
	if (jv_get_int(cur, "desiredCount", 0) > 0 && !jv_get_bool(c->in, "force", 0))
		return ecs_invalid(c, "The service cannot be stopped while it is scaled above 0.");
	/* DRAINING: the reconciler stops the tasks, then makes it INACTIVE */
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE ecs_services SET status = 'DRAINING', "
					      "desired = 0 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return ecs_fail_db(c, rc);
	jv_set(c->a, aws_out(c), "service",
	       lookup(c, cl.arn, jv_get_str(cur, "serviceName"), 1, &id));
	return 0;
}

int ecs_op_describe_services(struct aws_call *c)
{
	struct ecs_cluster cl;
	int64_t id;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	const struct jv *refs = jv_get(c->in, "services");
	const struct jv *inc = jv_get(c->in, "include");
	int tags = 0;
	for (size_t i = 0; i < jv_len(inc); i++)
		tags |= jv_at(inc, i)->type == JV_STRING && str_eq_c(jv_at(inc, i)->u.s, "TAGS");
	struct jv *out = jv_array(c->a), *fail = jv_array(c->a);
	for (size_t i = 0; i < jv_len(refs); i++) {
		const char *ref = jv_at(refs, i)->u.s.p;
		struct jv *s = lookup(c, cl.arn, ref, 1, &id);
		if (s) {
			/* Terraform reads a service's tags this way */
			if (tags)
				jv_set(c->a, s, "tags",
				       ecs_tags_of(c, jv_get_str(s, "serviceArn")));
			jv_push(c->a, out, s);
			continue;
		}
		struct jv *f = jv_object(c->a);
		jv_set_str(c->a, f, "arn",
			   !strncmp(ref, "arn:", 4)
			       ? ref
			       : ecs_arn(c->a, c->region, c->account, "service",
					 arena_sprintf(c->a, "%s/%s", cl.name, ref)));
		jv_set_str(c->a, f, "reason", "MISSING");
		jv_push(c->a, fail, f);
	}
	jv_set(c->a, aws_out(c), "services", out);
	jv_set(c->a, aws_out(c), "failures", fail);
	return 0;
}

int ecs_op_list_services(struct aws_call *c)
{
	struct ecs_cluster cl;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT arn FROM ecs_services WHERE cluster_arn = ?1 "
					      "AND status <> 'INACTIVE' ORDER BY name");
	sqlite3_bind_text(st, 1, cl.arn, -1, SQLITE_STATIC);
	struct jv *arr = jv_array(c->a);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(c->a, arr, jv_string_c(c->a, db_col_text(st, 0)));
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "serviceArns", arr);
	return 0;
}
