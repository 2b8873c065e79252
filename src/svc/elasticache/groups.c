/* groups.c - replication groups: CreateReplicationGroup (cluster mode
 * disabled: a primary "<id>-001" and replicas "<id>-00N", each a cache
 * cluster of its own with real replication; cluster mode enabled: the
 * shards of shards.c), adding a replica through CreateCacheCluster,
 * DescribeReplicationGroups and DeleteReplicationGroup (with a final
 * snapshot). */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "fb.h"
#include "store/addr.h"
#include "svc/elasticache/internal.h"

/* member_count: how many clusters the call asks for (1..6). */
static int64_t member_count(struct aws_call *c)
{
	int64_t n = jv_get_int(c->in, "NumCacheClusters", 0);
	if (n)
		return n;
	if (jv_get(c->in, "ReplicasPerNodeGroup"))
		return jv_get_int(c->in, "ReplicasPerNodeGroup", 0) + 1;
	const struct jv *ngc = jv_at(jv_get(c->in, "NodeGroupConfiguration"), 0);
	if (ngc && jv_get(ngc, "ReplicaCount"))
		return jv_get_int(ngc, "ReplicaCount", 0) + 1;
	return 1;
}

/* ec_rg_insert: see internal.h. */
int ec_rg_insert(struct aws_call *c, const char *name, int auto_failover, int multi_az,
		 int cluster_mode, int64_t *id)
{
	struct db *db = c->fb->db;
	sqlite3_stmt *st = db_stmt(
	    db, "INSERT INTO ec_rgs(account, region, name, description, status, "
		"auto_failover, multi_az, kms_key_id, created, cluster_mode) VALUES(?1, ?2, "
		"?3, ?4, 'creating', ?5, ?6, ?7, ?8, ?9)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, jv_get_str(c->in, "ReplicationGroupDescription"), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int(st, 5, auto_failover);
	sqlite3_bind_int(st, 6, multi_az);
	if (jv_get_str(c->in, "KmsKeyId"))
		sqlite3_bind_text(st, 7, jv_get_str(c->in, "KmsKeyId"), -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 8, (double)c->now_ms / 1000.0);
	sqlite3_bind_int(st, 9, cluster_mode);
	int rc = db_step_done(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return aws_fail(c, 400, "ReplicationGroupAlreadyExists",
				"Replication group %s already exists.", name);
	if (rc != SQLITE_DONE)
		return ec_fail_db(c, rc);
	*id = sqlite3_last_insert_rowid(db_sqlite(db));
	/* cluster mode: one configuration endpoint; else primary and reader */
	static const char *const both[] = {"primary", "reader", NULL}, *const cfg[] = {"config",
										       NULL};
	char addr[16];
	for (const char *const *w = cluster_mode ? cfg : both; *w; w++)
		if (addr_alloc(db, ec_rg_owner(c->a, c->account, c->region, name, *w), addr) < 0)
			return aws_fail(c, 400, "InsufficientCacheClusterCapacity",
					"No loopback address is free for the group's endpoints.");
	return ec_tags_put(c, ec_arn(c->a, c->region, c->account, "replicationgroup", name),
			   jv_get(c->in, "Tags"));
}

/* create_members: the rows of a cluster-mode-disabled group: count
 * members, the first the primary (seeded from snapshot seed). */
static int create_members(struct aws_call *c, const char *name, struct ec_new_cluster *nc,
			  int64_t rg_id, int64_t count, int64_t seed, int64_t *ids)
{
	for (int64_t i = 0; i < count; i++) {
		nc->name = arena_sprintf(c->a, "%s-%03lld", name, (long long)(i + 1));
		nc->rg_id = rg_id;
		nc->member_no = i + 1;
		nc->role = i == 0 ? "primary" : "replica";
		nc->seed_snapshot = i == 0 ? seed : 0;
		if (ec_cluster_insert(c, nc, &ids[i]) < 0)
			return -1;
	}
	return 0;
}

/* mode_check: the arguments that depend on the group's mode (cluster
 * mode comes from the parameter group, as on AWS); fills *count (cluster
 * mode disabled) or the shard plan. 0 or -1 with the error. */
static int mode_check(struct aws_call *c, int cm, int af, int maz, int64_t *count,
		      struct ec_shard_plan **plan, int64_t *shards)
{
	if (maz && !af)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Multi-AZ requires automatic failover.");
	if (cm) {
		if (!af)
			return aws_fail(c, 400, "InvalidParameterCombination",
					"Redis with cluster mode enabled cannot be created with "
					"automatic failover disabled.");
		return ec_shard_plan(c, plan, shards);
	}
	if (jv_get_int(c->in, "NumNodeGroups", 1) != 1 ||
	    jv_len(jv_get(c->in, "NodeGroupConfiguration")) > 1)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"More than one node group needs cluster mode: a parameter group "
				"with cluster-enabled yes (e.g. " EC_DEFAULT_CLUSTER_PARAM_GROUP
				").");
	*count = member_count(c);
	if (*count < 1 || *count > 6)
		return aws_fail(c, 400, "InvalidParameterValue",
				"NumCacheClusters must be between 1 and 6.");
	if (af && *count < 2)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Automatic failover requires at least one replica "
				"(NumCacheClusters >= 2).");
	return 0;
}

int elasticache_op_create_replication_group(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	char *name = ec_id_arg(c, "ReplicationGroupId", 40);
	if (!name)
		return -1;
	if (jv_get_str(c->in, "PrimaryClusterId") || jv_get_str(c->in, "GlobalReplicationGroupId"))
		return aws_fail(c, 400, "InvalidParameterValue",
				"fogbank creates replication groups from new clusters only "
				"(PrimaryClusterId and global groups are not served).");
	struct ec_new_cluster nc = {0};
	if (ec_cluster_settings_check(c, &nc) < 0)
		return -1;
	int cm = ec_param_cluster_mode(c->fb->db, c->a, c->account, c->region, nc.param_group);
	int af = jv_get_bool(c->in, "AutomaticFailoverEnabled", cm);
	int maz = jv_get_bool(c->in, "MultiAZEnabled", 0);
	int64_t count = 0, shards = 0;
	struct ec_shard_plan *plan = NULL;
	if (mode_check(c, cm, af, maz, &count, &plan, &shards) < 0)
		return -1;
	const char *snap = jv_get_str(c->in, "SnapshotName");
	int64_t seed = 0;
	if (snap && ec_snapshot_usable(c, snap, &seed) < 0)
		return -1;
	if (seed && ec_snapshot_fits(c, seed, cm, plan, shards) < 0)
		return -1;
	int64_t rg_id = 0, *ids = arena_zalloc(c->a, EC_MAX_NODES * sizeof(*ids));
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = ec_rg_insert(c, name, af, maz, cm, &rg_id);
	if (ok == 0 && cm) {
		nc.rg_id = rg_id;
		nc.seed_snapshot = seed;
		ok = ec_shards_insert(c, rg_id, plan, shards);
		if (ok == 0)
			ok = ec_shard_members_insert(c, name, &nc, plan, shards, ids, &count);
	} else if (ok == 0) {
		ok = create_members(c, name, &nc, rg_id, count, seed, ids);
	}
	if (ok < 0)
		for (int64_t i = 0; i < count; i++)
			if (ids[i])
				ec_rm_rf(ec_node_dir(c->a, c->fb->data_dir, ids[i]));
	if (ec_tx_end(c, ok) < 0)
		return -1;
	for (int64_t i = 0; i < count; i++)
		ec_node_start(ids[i]);
	struct ec_rg rg;
	if (ec_rg_find(c, name, &rg) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "ReplicationGroup", ec_rg_jv(c, &rg));
	return 0;
}

/* ec_create_member: see internal.h. */
int ec_create_member(struct aws_call *c, struct ec_new_cluster *nc, const char *rg_name)
{
	struct ec_rg rg;
	struct ec_cluster *m;
	if (ec_rg_find(c, rg_name, &rg) < 0)
		return -1;
	if (strcmp(rg.status, EC_AVAILABLE))
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s is not available.", rg.name);
	if (rg.cluster_mode)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Replication group %s runs in cluster mode: its nodes change with "
				"ModifyReplicationGroupShardConfiguration (IncreaseReplicaCount "
				"is not served yet).",
				rg.name);
	size_t k = ec_clusters_of_rg(c->fb->db, c->a, rg.id, &m);
	if (k == 0 || k >= 6)
		return aws_fail(c, 400, "NodeQuotaForClusterExceeded",
				"A replication group has at most 6 clusters.");
	const struct ec_cluster *p = &m[0];
	if (p->auth_unreadable)
		return aws_fail(c, 500, "InternalFailure",
				"The group's auth token cannot be read.");
	*nc = (struct ec_new_cluster){
	    .name = nc->name,
	    .node_type = p->node_type,
	    .engine_version = p->engine_version,
	    .param_group = p->param_group,
	    .subnet_group = p->subnet_group,
	    .security_groups = p->security_groups,
	    .az = p->az,
	    .maint_window = p->maint_window,
	    .snap_window = p->snap_window,
	    .auth_token = p->auth_token,
	    .role = "replica",
	    .port = p->port,
	    .rg_id = rg.id,
	    .member_no = m[k - 1].member_no + 1,
	    .transit = p->transit,
	    .at_rest = p->at_rest,
	    .auto_minor = p->auto_minor,
	};
	if (ec_tags_check(c, jv_get(c->in, "Tags")) < 0)
		return -1;
	int64_t id = 0;
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = ec_cluster_insert(c, nc, &id);
	if (ok == 0)
		ec_rg_set_status(c->fb->db, rg.id, EC_MODIFYING, NULL);
	if (ec_tx_end(c, ok) < 0)
		return -1;
	ec_node_start(id);
	struct ec_cluster cl;
	if (ec_cluster_find(c, nc->name, &cl) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "CacheCluster", ec_cluster_jv(c, &cl, 0));
	return 0;
}

int elasticache_op_describe_replication_groups(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct jv *list = jv_array(c->a), *o = aws_out(c);
	const char *name = jv_get_str(c->in, "ReplicationGroupId");
	struct ec_rg rg;
	if (name) {
		if (ec_rg_find(c, ec_lower(c, name), &rg) < 0)
			return -1;
		jv_push(c->a, list, ec_rg_jv(c, &rg));
		jv_set(c->a, o, "ReplicationGroups", list);
		return 0;
	}
	int64_t max, off;
	if (ec_page(c, &max, &off) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT name FROM ec_rgs WHERE account = ?1 AND "
					      "region = ?2 ORDER BY name LIMIT ?3 OFFSET ?4");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, max + 1);
	sqlite3_bind_int64(st, 4, off);
	const char *names[101];
	int64_t k = 0;
	while (k < max + 1 && sqlite3_step(st) == SQLITE_ROW)
		names[k++] = arena_strdup(c->a, db_col_text(st, 0));
	sqlite3_reset(st);
	for (int64_t i = 0; i < k && i < max; i++) {
		if (ec_rg_find(c, names[i], &rg) < 0)
			return -1;
		jv_push(c->a, list, ec_rg_jv(c, &rg));
	}
	if (k > max)
		ec_page_marker(c, o, off + max);
	jv_set(c->a, o, "ReplicationGroups", list);
	return 0;
}

int elasticache_op_delete_replication_group(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_rg rg;
	struct ec_cluster *m;
	if (ec_rg_find(c, ec_lower(c, jv_get_str(c->in, "ReplicationGroupId")), &rg) < 0)
		return -1;
	if (!strcmp(rg.status, EC_DELETING))
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s is already being deleted.", rg.name);
	if (jv_get_bool(c->in, "RetainPrimaryCluster", 0))
		return aws_fail(c, 400, "InvalidParameterValue",
				"RetainPrimaryCluster is not served by fogbank.");
	size_t k = ec_clusters_of_rg(c->fb->db, c->a, rg.id, &m);
	const struct ec_cluster *primary = NULL;
	for (size_t i = 0; i < k; i++)
		if (m[i].role && !strcmp(m[i].role, "primary"))
			primary = &m[i];
	const char *final = jv_get_str(c->in, "FinalSnapshotIdentifier");
	int64_t snap = 0;
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = final && primary ? ec_snapshot_insert(c, final, primary, &rg, "manual", &snap) : 0;
	if (ok == 0) {
		ec_rg_set_status(c->fb->db, rg.id, EC_DELETING, NULL);
		for (size_t i = 0; i < k; i++)
			ec_set_status(c->fb->db, m[i].id, EC_DELETING, NULL);
	}
	if (ec_tx_end(c, ok) < 0)
		return -1;
	if (k == 0) { /* nothing left to stop: remove the group now */
		db_begin(c->fb->db);
		ec_rg_finish_delete(c->fb->db, c->a, rg.id);
		db_commit(c->fb->db);
	}
	if (rg.cluster_mode && snap) /* every shard first; the members go after */
		ec_snapshot_run_shards(snap, rg.id, 1);
	else
		for (size_t i = 0; i < k; i++)
			ec_node_delete(m[i].id, &m[i] == primary ? snap : 0);
	rg.status = EC_DELETING;
	jv_set(c->a, aws_out(c), "ReplicationGroup", ec_rg_jv(c, &rg));
	return 0;
}
