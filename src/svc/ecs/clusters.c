/* clusters.c - CreateCluster, DescribeClusters, ListClusters, DeleteCluster,
 * UpdateCluster(Settings), PutClusterCapacityProviders. Clusters are
 * bookkeeping: every task runs on this machine whatever the capacity
 * provider (FARGATE and FARGATE_SPOT are accepted and stored). */
#include "core/compat.h"
#include "aws/gen/ecs_ops.h"
#include "fb.h"
#include "svc/ecs/internal.h"

/* check_providers: FARGATE / FARGATE_SPOT are the providers fogbank knows. */
static int check_providers(struct aws_call *c, const struct jv *list)
{
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *p = jv_at(list, i);
		const char *s = p->type == JV_STRING ? p->u.s.p : jv_get_str(p, "capacityProvider");
		if (!s || (strcmp(s, "FARGATE") && strcmp(s, "FARGATE_SPOT")))
			return ecs_invalid(c, "The specified capacity provider does not exist. "
					      "Specify a valid capacity provider and try again.");
	}
	return 0;
}

/* count: a single integer from sql bound to arn. */
static int64_t count(struct fogbank *fb, const char *sql, const char *arn)
{
	sqlite3_stmt *st = db_stmt(fb->db, sql);
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_STATIC);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return n;
}

/* cluster_out: the Cluster shape of the row in st (SELECT_COLS order). */
static struct jv *cluster_out(struct aws_call *c, sqlite3_stmt *st, int with_tags)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a);
	const char *arn = ecs_col(a, st, 1);
	jv_set_str(a, o, "clusterArn", arn);
	jv_set_str(a, o, "clusterName", db_col_text(st, 0));
	jv_set_str(a, o, "status", db_col_text(st, 2));
	jv_set_int(a, o, "registeredContainerInstancesCount", 0);
	jv_set_int(a, o, "runningTasksCount",
		   count(c->fb,
			 "SELECT count(*) FROM ecs_tasks WHERE cluster_arn = ?1 AND "
			 "last_status = 'RUNNING'",
			 arn));
	jv_set_int(a, o, "pendingTasksCount",
		   count(c->fb,
			 "SELECT count(*) FROM ecs_tasks WHERE cluster_arn = ?1 AND "
			 "last_status IN ('PROVISIONING','PENDING','ACTIVATING')",
			 arn));
	jv_set_int(a, o, "activeServicesCount",
		   count(c->fb,
			 "SELECT count(*) FROM ecs_services WHERE cluster_arn = ?1 AND "
			 "status = 'ACTIVE'",
			 arn));
	jv_set(a, o, "statistics", jv_array(a));
	struct jv *settings = ecs_parse(a, db_col_text(st, 3));
	if (!settings) {
		settings = jv_array(a);
		struct jv *s = jv_object(a);
		jv_set_str(a, s, "name", "containerInsights");
		jv_set_str(a, s, "value", "disabled");
		jv_push(a, settings, s);
	}
	jv_set(a, o, "settings", settings);
	struct jv *conf = ecs_parse(a, db_col_text(st, 4));
	if (conf)
		jv_set(a, o, "configuration", conf);
	struct jv *cp = ecs_parse(a, db_col_text(st, 5));
	jv_set(a, o, "capacityProviders", cp ? cp : jv_array(a));
	struct jv *strat = ecs_parse(a, db_col_text(st, 6));
	jv_set(a, o, "defaultCapacityProviderStrategy", strat ? strat : jv_array(a));
	jv_set(a, o, "attachments", jv_array(a));
	if (with_tags)
		jv_set(a, o, "tags", ecs_tags_of(c, arn));
	return o;
}

#define SELECT_COLS                                                                                \
	"SELECT name, arn, status, settings, configuration, capacity_providers, strategy FROM "    \
	"ecs_clusters "

/* out_by_arn: the Cluster shape of arn, or NULL. */
static struct jv *out_by_arn(struct aws_call *c, const char *arn, int with_tags)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, SELECT_COLS "WHERE arn = ?1");
	sqlite3_bind_text(st, 1, arn, -1, SQLITE_TRANSIENT);
	struct jv *o = sqlite3_step(st) == SQLITE_ROW ? cluster_out(c, st, with_tags) : NULL;
	sqlite3_reset(st);
	return o;
}

int ecs_op_create_cluster(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "clusterName");
	if (!name)
		name = "default";
	size_t n = strlen(name);
	if (n < 1 || n > 255 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_") != n)
		return ecs_invalid(c, "Invalid cluster name. Up to 255 letters (uppercase and "
				      "lowercase), numbers, underscores, and hyphens are allowed.");
	const struct jv *cps = jv_get(c->in, "capacityProviders");
	if (check_providers(c, cps) < 0 ||
	    check_providers(c, jv_get(c->in, "defaultCapacityProviderStrategy")) < 0)
		return -1;
	const char *arn = ecs_arn(c->a, c->region, c->account, "cluster", name);
	if (ecs_tx_begin(c) < 0)
		return -1;
	/* CreateCluster is idempotent on AWS: an existing cluster is returned
	 * (and an INACTIVE one comes back to life). */
	sqlite3_stmt *st = db_stmt(
	    c->fb->db,
	    "INSERT INTO ecs_clusters(account, region, name, arn, status, created, settings, "
	    "configuration, capacity_providers, strategy) VALUES(?1, ?2, ?3, ?4, 'ACTIVE', ?5, ?6, "
	    "?7, ?8, ?9) ON CONFLICT(account, region, name) DO UPDATE SET status = 'ACTIVE' "
	    "WHERE status = 'INACTIVE'");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->now_ms);
	ecs_bind_opt(st, 6, ecs_json(c->a, jv_get(c->in, "settings")));
	ecs_bind_opt(st, 7, ecs_json(c->a, jv_get(c->in, "configuration")));
	ecs_bind_opt(st, 8, ecs_json(c->a, cps));
	ecs_bind_opt(st, 9, ecs_json(c->a, jv_get(c->in, "defaultCapacityProviderStrategy")));
	int rc = db_step_done(st);
	if (rc == SQLITE_DONE)
		rc = ecs_tags_put(c, arn, jv_get(c->in, "tags"));
	if (ecs_tx_end(c, rc == SQLITE_DONE ? 0 : -1) < 0)
		return rc == SQLITE_DONE ? -1 : ecs_fail_db(c, rc);
	jv_set(c->a, aws_out(c), "cluster", out_by_arn(c, arn, 1));
	return 0;
}

int ecs_op_describe_clusters(struct aws_call *c)
{
	const struct jv *names = jv_get(c->in, "clusters");
	const struct jv *inc = jv_get(c->in, "include");
	int with_tags = 0;
	for (size_t i = 0; i < jv_len(inc); i++)
		if (jv_at(inc, i)->type == JV_STRING && str_eq_c(jv_at(inc, i)->u.s, "TAGS"))
			with_tags = 1;
	struct jv *out = jv_array(c->a), *fail = jv_array(c->a);
	size_t n = names ? jv_len(names) : 1;
	for (size_t i = 0; i < n; i++) {
		const char *ref = names ? jv_at(names, i)->u.s.p : "default";
		const char *name = ecs_arn_tail(ref, "cluster");
		const char *arn = ecs_arn(c->a, c->region, c->account, "cluster", name);
		struct jv *o = out_by_arn(c, arn, with_tags);
		if (o) {
			jv_push(c->a, out, o);
			continue;
		}
		struct jv *f = jv_object(c->a);
		jv_set_str(c->a, f, "arn", arn);
		jv_set_str(c->a, f, "reason", "MISSING");
		jv_push(c->a, fail, f);
	}
	jv_set(c->a, aws_out(c), "clusters", out);
	jv_set(c->a, aws_out(c), "failures", fail);
	return 0;
}

int ecs_op_list_clusters(struct aws_call *c)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT arn FROM ecs_clusters WHERE account = ?1 AND "
					      "region = ?2 AND status = 'ACTIVE' ORDER BY arn");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	struct jv *arr = jv_array(c->a);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(c->a, arr, jv_string_c(c->a, db_col_text(st, 0)));
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "clusterArns", arr);
	return 0;
}

int ecs_op_delete_cluster(struct aws_call *c)
{
	struct ecs_cluster cl;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT count(*) FROM ecs_tasks WHERE cluster_arn = ?1 "
			       "AND last_status <> 'STOPPED'");
	sqlite3_bind_text(st, 1, cl.arn, -1, SQLITE_STATIC);
	int64_t tasks = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	st = db_stmt(c->fb->db, "SELECT count(*) FROM ecs_services WHERE cluster_arn = ?1 AND "
				"status <> 'INACTIVE'");
	sqlite3_bind_text(st, 1, cl.arn, -1, SQLITE_STATIC);
	int64_t svcs = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (svcs)
		return aws_fail(c, 400, "ClusterContainsServicesException",
				"The Cluster cannot be deleted while Services are active.");
	if (tasks)
		return aws_fail(c, 400, "ClusterContainsTasksException",
				"The Cluster cannot be deleted while Tasks are active.");
	st = db_stmt(c->fb->db, "UPDATE ecs_clusters SET status = 'INACTIVE' WHERE id = ?1");
	sqlite3_bind_int64(st, 1, cl.id);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return ecs_fail_db(c, rc);
	jv_set(c->a, aws_out(c), "cluster", out_by_arn(c, cl.arn, 0));
	return 0;
}

/* set_column: stores input member key as JSON in column col of cluster. */
static int update_json(struct aws_call *c, const char *sql, const char *key, const char *key2)
{
	struct ecs_cluster cl;
	if (ecs_cluster_find(c, "cluster", &cl) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, sql);
	sqlite3_bind_int64(st, 1, cl.id);
	ecs_bind_opt(st, 2, ecs_json(c->a, jv_get(c->in, key)));
	ecs_bind_opt(st, 3, key2 ? ecs_json(c->a, jv_get(c->in, key2)) : NULL);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return ecs_fail_db(c, rc);
	jv_set(c->a, aws_out(c), "cluster", out_by_arn(c, cl.arn, 1));
	return 0;
}

int ecs_op_update_cluster_settings(struct aws_call *c)
{
	return update_json(c, "UPDATE ecs_clusters SET settings = ?2 WHERE id = ?1", "settings",
			   NULL);
}

int ecs_op_update_cluster(struct aws_call *c)
{
	return update_json(c,
			   "UPDATE ecs_clusters SET settings = coalesce(?2, settings), "
			   "configuration = coalesce(?3, configuration) WHERE id = ?1",
			   "settings", "configuration");
}

int ecs_op_put_cluster_capacity_providers(struct aws_call *c)
{
	if (check_providers(c, jv_get(c->in, "capacityProviders")) < 0 ||
	    check_providers(c, jv_get(c->in, "defaultCapacityProviderStrategy")) < 0)
		return -1;
	return update_json(c,
			   "UPDATE ecs_clusters SET capacity_providers = ?2, strategy = ?3 "
			   "WHERE id = ?1",
			   "capacityProviders", "defaultCapacityProviderStrategy");
}
