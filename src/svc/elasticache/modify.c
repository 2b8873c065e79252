/* modify.c - ModifyCacheCluster, ModifyReplicationGroup (settings of every
 * member, automatic failover, a new primary) and TestFailover. Settings
 * are recorded at once (fogbank applies everything immediately, whatever
 * ApplyImmediately says); a new parameter group and auth token changes
 * reach the running servers live (live.c), the cluster showing
 * "modifying" until they did. */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "core/buf.h"
#include "fb.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"

/* What a modify call changes on each cluster it touches. */
struct ec_change {
	const char *param_group, *security_groups, *maint_window, *notification_arn;
	const char *engine_version, *snap_window, *node_type;
	const char *strategy, *token; /* auth change; strategy NULL: none */
	int64_t snap_retention;	      /* -1: unchanged */
	int auto_minor;		      /* -1: unchanged */
	int reboot_params;	      /* the new group changes a static parameter */
};

/* change_args: validates and reads the modify arguments shared by both
 * operations (transit: whether the target has TLS on). */
static int change_args(struct aws_call *c, const struct ec_cluster *cl, struct ec_change *ch)
{
	struct db *db = c->fb->db;
	memset(ch, 0, sizeof(*ch));
	ch->param_group = jv_get_str(c->in, "CacheParameterGroupName");
	if (ch->param_group && !ec_param_group_exists(db, c->account, c->region, ch->param_group))
		return aws_fail(c, 404, "CacheParameterGroupNotFound",
				"CacheParameterGroup %s not found.", ch->param_group);
	if (ch->param_group &&
	    ec_param_cluster_mode(db, c->a, c->account, c->region, ch->param_group) !=
		ec_param_cluster_mode(db, c->a, c->account, c->region, cl->param_group))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"The new parameter group must keep cluster-enabled as it is (%s).",
				cl->cluster_mode ? "yes" : "no");
	if (ch->param_group && strcmp(ch->param_group, cl->param_group)) {
		size_t n;
		const struct ec_param_def *d = ec_param_defs(&n);
		for (size_t i = 0; i < n; i++)
			if (d[i].reboot && strcmp(ec_param_value(db, c->a, c->account, c->region,
								 ch->param_group, d[i].name),
						  ec_param_value(db, c->a, c->account, c->region,
								 cl->param_group, d[i].name)))
				ch->reboot_params = 1;
	} else {
		ch->param_group = NULL;
	}
	const struct jv *ids = jv_get(c->in, "SecurityGroupIds");
	if (ids) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < jv_len(ids); i++)
			if (jv_at(ids, i)->type == JV_STRING)
				buf_printf(&b, "%s\n", jv_at(ids, i)->u.s.p);
		ch->security_groups = arena_strdup(c->a, b.p ? b.p : "");
		buf_release(&b);
	}
	ch->maint_window = jv_get_str(c->in, "PreferredMaintenanceWindow");
	ch->notification_arn = jv_get_str(c->in, "NotificationTopicArn");
	ch->snap_window = jv_get_str(c->in, "SnapshotWindow");
	ch->node_type = jv_get_str(c->in, "CacheNodeType");
	ch->engine_version = jv_get_str(c->in, "EngineVersion");
	if (ch->engine_version && ec_engine_check(c, &ch->engine_version) < 0)
		return -1;
	ch->snap_retention = jv_get_int(c->in, "SnapshotRetentionLimit", -1);
	ch->auto_minor = jv_get_bool(c->in, "AutoMinorVersionUpgrade", -1);
	ch->token = jv_get_str(c->in, "AuthToken");
	ch->strategy = jv_get_str(c->in, "AuthTokenUpdateStrategy");
	if (ch->token && !ch->strategy)
		ch->strategy = "ROTATE";
	if (!ch->strategy)
		return 0;
	if (!cl->transit)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"The AUTH token can only be changed when transit encryption is "
				"enabled.");
	if (strcmp(ch->strategy, "DELETE") && !ch->token)
		return aws_fail(c, 400, "InvalidParameterValue",
				"AuthToken is required for strategy %s.", ch->strategy);
	if (!strcmp(ch->strategy, "DELETE") && ch->token)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"AuthToken must not be given with strategy DELETE.");
	return ch->token ? ec_auth_token_check(c, ch->token) : 0;
}

/* change_token: records ch's auth token change on cluster id (inside the
 * transaction): sealed for that cluster, the current one kept as the old
 * token on ROTATE. 0 or -1 with the error. */
static int change_token(struct aws_call *c, int64_t id, const struct ec_change *ch)
{
	struct ec_cluster cl;
	struct arena *a = c->a;
	if (ec_cluster_load(c->fb->db, a, id, &cl) < 0)
		return ec_fail_db(c, SQLITE_NOTFOUND);
	void *blob = NULL;
	size_t n = 0;
	if (ch->token) {
		blob = ec_seal(a, c->fb->data_dir, ec_seal_aad(a, cl.account, cl.region, cl.name),
			       ch->token, &n);
		if (!blob)
			return aws_fail(c, 500, "InternalFailure", "cannot seal the auth token");
	}
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, "UPDATE ec_clusters SET auth_sealed_old = CASE ?2 WHEN 'ROTATE' THEN "
		       "auth_sealed ELSE NULL END, auth_sealed = ?3, auth_modified = ?4 WHERE "
		       "id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, ch->strategy, -1, SQLITE_STATIC);
	if (blob)
		sqlite3_bind_blob(st, 3, blob, (int)n, SQLITE_STATIC);
	sqlite3_bind_double(st, 4, (double)c->now_ms / 1000.0);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return ec_fail_db(c, rc);
	ec_set_status(c->fb->db, id, EC_MODIFYING, EC_AVAILABLE);
	return 0;
}

/* change_apply: records ch on cluster id (inside the transaction). */
static int change_apply(struct aws_call *c, int64_t id, const struct ec_change *ch)
{
	sqlite3_stmt *st = db_stmt(
	    c->fb->db,
	    "UPDATE ec_clusters SET param_group = IFNULL(?2, param_group), security_groups = "
	    "IFNULL(?3, security_groups), maint_window = IFNULL(?4, maint_window), "
	    "notification_arn = IFNULL(?5, notification_arn), engine_version = IFNULL(?6, "
	    "engine_version), snap_window = IFNULL(?7, snap_window), node_type = IFNULL(?8, "
	    "node_type), snap_retention = IIF(?9 < 0, snap_retention, ?9), auto_minor = IIF(?10 "
	    "< 0, auto_minor, ?10), param_status = IIF(?11, 'pending-reboot', param_status) "
	    "WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	const char *t[] = {ch->param_group,	 ch->security_groups, ch->maint_window,
			   ch->notification_arn, ch->engine_version,  ch->snap_window,
			   ch->node_type};
	for (int i = 0; i < 7; i++)
		if (t[i])
			sqlite3_bind_text(st, i + 2, t[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, ch->snap_retention);
	sqlite3_bind_int(st, 10, ch->auto_minor);
	sqlite3_bind_int(st, 11, ch->reboot_params);
	int rc = db_step_done(st);
	if (rc == SQLITE_DONE && ch->strategy)
		return change_token(c, id, ch);
	if (rc != SQLITE_DONE)
		return ec_fail_db(c, rc);
	if (ch->param_group)
		ec_set_status(c->fb->db, id, EC_MODIFYING, EC_AVAILABLE);
	return 0;
}

/* change_live: after the commit, what must reach the running server. */
static void change_live(int64_t id, const struct ec_change *ch)
{
	if (ch->param_group)
		ec_live_apply(id);
	if (ch->strategy)
		ec_live_auth(id, ch->strategy, ch->token);
}

int elasticache_op_modify_cache_cluster(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_cluster cl;
	struct ec_change ch;
	if (ec_cluster_find(c, ec_lower(c, jv_get_str(c->in, "CacheClusterId")), &cl) < 0)
		return -1;
	if (strcmp(cl.status, EC_AVAILABLE) && strcmp(cl.status, EC_MODIFYING))
		return aws_fail(c, 400, "InvalidCacheClusterState",
				"Cache cluster %s is not in the available state (%s).", cl.name,
				cl.status);
	if (jv_get_int(c->in, "NumCacheNodes", 1) != 1)
		return aws_fail(c, 400, "InvalidParameterValue",
				"NumCacheNodes must be 1 for engine redis.");
	if (change_args(c, &cl, &ch) < 0 || ec_tx_begin(c) < 0)
		return -1;
	if (ec_tx_end(c, change_apply(c, cl.id, &ch)) < 0)
		return -1;
	change_live(cl.id, &ch);
	if (ec_cluster_find(c, cl.name, &cl) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "CacheCluster", ec_cluster_jv(c, &cl, 0));
	return 0;
}

int elasticache_op_modify_replication_group(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_rg rg;
	struct ec_cluster *m;
	struct ec_change ch;
	if (ec_rg_find(c, ec_lower(c, jv_get_str(c->in, "ReplicationGroupId")), &rg) < 0)
		return -1;
	size_t k = ec_clusters_of_rg(c->fb->db, c->a, rg.id, &m);
	if (strcmp(rg.status, EC_AVAILABLE) || k == 0)
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s is not in the available state (%s).", rg.name,
				rg.status);
	int af = jv_get_bool(c->in, "AutomaticFailoverEnabled", rg.auto_failover);
	int maz = jv_get_bool(c->in, "MultiAZEnabled", rg.multi_az && af);
	if (af && k < 2)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Automatic failover requires at least one replica.");
	if (maz && !af)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Multi-AZ requires automatic failover.");
	if (rg.cluster_mode && (!af || jv_get_str(c->in, "PrimaryClusterId")))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"In cluster mode automatic failover stays on and primaries change "
				"with TestFailover, not PrimaryClusterId.");
	const char *new_primary = ec_lower(c, jv_get_str(c->in, "PrimaryClusterId"));
	int64_t promote = 0;
	int member = 0;
	for (size_t i = 0; new_primary && i < k; i++)
		if (!strcmp(m[i].name, new_primary)) {
			member = 1;
			if (!m[i].role || strcmp(m[i].role, "primary"))
				promote = m[i].id;
		}
	if (new_primary && !member)
		return aws_fail(c, 404, "CacheClusterNotFound",
				"CacheCluster %s is not a member of replication group %s.",
				new_primary, rg.name);
	if (change_args(c, &m[0], &ch) < 0 || ec_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE ec_rgs SET description = IFNULL(?2, "
			       "description), auto_failover = ?3, multi_az = ?4, "
			       "snapshotting = IFNULL(?5, snapshotting) WHERE id = ?1");
	sqlite3_bind_int64(st, 1, rg.id);
	if (jv_get_str(c->in, "ReplicationGroupDescription"))
		sqlite3_bind_text(st, 2, jv_get_str(c->in, "ReplicationGroupDescription"), -1,
				  SQLITE_STATIC);
	sqlite3_bind_int(st, 3, af);
	sqlite3_bind_int(st, 4, maz);
	if (jv_get_str(c->in, "SnapshottingClusterId"))
		sqlite3_bind_text(st, 5, jv_get_str(c->in, "SnapshottingClusterId"), -1,
				  SQLITE_STATIC);
	int rc = db_step_done(st);
	int ok = rc == SQLITE_DONE ? 0 : ec_fail_db(c, rc);
	for (size_t i = 0; ok == 0 && i < k; i++)
		ok = change_apply(c, m[i].id, &ch);
	if (ec_tx_end(c, ok) < 0)
		return -1;
	for (size_t i = 0; i < k; i++)
		change_live(m[i].id, &ch);
	if (promote) {
		ec_event(c->fb->db, c->account, c->region, rg.name, "replication-group",
			 "Primary node changed to %s-%s", new_primary, EC_NODE_ID);
		ec_rg_promote(rg.id, promote);
	}
	if (ec_rg_find(c, rg.name, &rg) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "ReplicationGroup", ec_rg_jv(c, &rg));
	return 0;
}

/* cluster_failover: TestFailover of shard ng of a cluster-mode group: a
 * real CLUSTER FAILOVER on one of its replicas (Redis Cluster moves the
 * slots; the roles follow on the next tick). 0 or -1 with the error. */
static int cluster_failover(struct aws_call *c, const struct ec_rg *rg, const char *ng)
{
	struct ec_shard *sh;
	size_t k = ec_shards_of_rg(c->fb->db, c->a, rg->id, &sh);
	int64_t shard = 0;
	for (size_t i = 0; ng && i < k; i++)
		if (!strcmp(arena_sprintf(c->a, "%04lld", (long long)sh[i].shard), ng))
			shard = sh[i].shard;
	if (!shard)
		return aws_fail(c, 404, "NodeGroupNotFoundFault", "Node group %s not found.",
				ng ? ng : "");
	if (strcmp(rg->status, EC_AVAILABLE))
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s is not available.", rg->name);
	if (ec_cluster_failover(rg->id, shard) < 0)
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Node group %s of %s has no serving replica to fail over to.", ng,
				rg->name);
	ec_event(c->fb->db, c->account, c->region, rg->name, "replication-group",
		 "Test Failover API called for node group %s", ng);
	jv_set(c->a, aws_out(c), "ReplicationGroup", ec_rg_jv(c, rg));
	return 0;
}

int elasticache_op_test_failover(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_rg rg;
	if (ec_rg_find(c, ec_lower(c, jv_get_str(c->in, "ReplicationGroupId")), &rg) < 0)
		return -1;
	const char *ng = jv_get_str(c->in, "NodeGroupId");
	if (rg.cluster_mode)
		return cluster_failover(c, &rg, ng);
	if (!ng || strcmp(ng, EC_NODE_GROUP_ID))
		return aws_fail(c, 404, "NodeGroupNotFoundFault", "Node group %s not found.",
				ng ? ng : "");
	if (!rg.auto_failover)
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Automatic failover is not enabled on replication group %s.",
				rg.name);
	if (strcmp(rg.status, EC_AVAILABLE))
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s is not available.", rg.name);
	struct ec_node *primary = NULL;
	for (struct ec_node *n = ec_node_list(); n; n = n->next)
		if (n->rg_id == rg.id && n->is_primary && n->r)
			primary = n;
	if (!primary)
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s has no running primary.", rg.name);
	ec_event(c->fb->db, c->account, c->region, rg.name, "replication-group",
		 "Test Failover API called for node group %s", EC_NODE_GROUP_ID);
	/* the real thing: the primary dies, supervision promotes a replica */
	redis_kill(primary->r);
	jv_set(c->a, aws_out(c), "ReplicationGroup", ec_rg_jv(c, &rg));
	return 0;
}
