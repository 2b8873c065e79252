/* snapshots.c - CreateSnapshot (of a cluster, or of a group's primary),
 * DescribeSnapshots, DeleteSnapshot, CopySnapshot, and the snapshot rows
 * final snapshots and restores use. The RDB work is in snapjob.c. */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "fb.h"
#include "svc/elasticache/internal.h"
#include <unistd.h>

#define SNAP_COLS                                                                                  \
	"SELECT id, name, status, source, cluster_name, rg_name, rg_description, node_type, "      \
	"engine_version, port, param_group, subnet_group, az, maint_window, snap_window, "         \
	"num_clusters, auto_failover, kms_key_id, cluster_created, IFNULL(created, 0), "           \
	"size_bytes, cluster_mode FROM ec_snapshots WHERE account = ?1 AND region = ?2 "

/* shards_insert: a cluster-mode snapshot's shard rows (the group's
 * layout at the time) and its mode and node count. */
static int shards_insert(struct aws_call *c, int64_t id, const struct ec_rg *rg)
{
	struct db *db = c->fb->db;
	sqlite3_stmt *st = db_stmt(db, "INSERT INTO ec_snapshot_shards(snap_id, shard, slots) "
				       "SELECT ?1, shard, slots FROM ec_shards WHERE rg_id = ?2");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, rg->id);
	int rc = db_step_done(st);
	if (rc == SQLITE_DONE) {
		st = db_stmt(db, "UPDATE ec_snapshots SET cluster_mode = 1, num_clusters = (SELECT "
				 "COUNT(*) FROM ec_clusters WHERE rg_id = ?2) WHERE id = ?1");
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, rg->id);
		rc = db_step_done(st);
	}
	return rc == SQLITE_DONE ? 0 : ec_fail_db(c, rc);
}

/* ec_snapshot_insert: see internal.h. */
int ec_snapshot_insert(struct aws_call *c, const char *name, const struct ec_cluster *cl,
		       const struct ec_rg *rg, const char *source, int64_t *id)
{
	struct db *db = c->fb->db;
	sqlite3_stmt *st = db_stmt(
	    db, "INSERT INTO ec_snapshots(account, region, name, status, source, cluster_name, "
		"rg_name, rg_description, node_type, engine_version, port, param_group, "
		"subnet_group, az, maint_window, snap_window, num_clusters, auto_failover, "
		"kms_key_id, cluster_created) VALUES(?1, ?2, ?3, 'creating', ?4, ?5, ?6, ?7, ?8, "
		"?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	if (!rg)
		sqlite3_bind_text(st, 5, cl->name, -1, SQLITE_STATIC);
	if (rg) {
		sqlite3_bind_text(st, 6, rg->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, rg->description, -1, SQLITE_STATIC);
		if (rg->kms_key_id)
			sqlite3_bind_text(st, 18, rg->kms_key_id, -1, SQLITE_STATIC);
	}
	sqlite3_bind_text(st, 8, cl->node_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, cl->engine_version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, cl->port);
	sqlite3_bind_text(st, 11, cl->param_group, -1, SQLITE_STATIC);
	if (cl->subnet_group)
		sqlite3_bind_text(st, 12, cl->subnet_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, cl->az, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, cl->maint_window, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, cl->snap_window, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 16, 1);
	sqlite3_bind_int(st, 17, rg ? rg->auto_failover : 0);
	sqlite3_bind_double(st, 19, cl->created);
	int rc = db_step_done(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return aws_fail(c, 400, "SnapshotAlreadyExistsFault", "Snapshot %s already exists.",
				name);
	if (rc != SQLITE_DONE)
		return ec_fail_db(c, rc);
	*id = sqlite3_last_insert_rowid(db_sqlite(db));
	if (rg && rg->cluster_mode && shards_insert(c, *id, rg) < 0)
		return -1;
	return ec_tags_put(c, ec_arn(c->a, c->region, c->account, "snapshot", name),
			   jv_get(c->in, "Tags"));
}

/* ec_snapshot_usable: see internal.h. */
int ec_snapshot_usable(struct aws_call *c, const char *name, int64_t *id)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id, status FROM ec_snapshots WHERE "
					      "account = ?1 AND region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	int ok = found && !strcmp(db_col_text(st, 1), "available");
	*id = found ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 404, "SnapshotNotFoundFault", "Snapshot %s not found.", name);
	if (!ok)
		return aws_fail(c, 400, "InvalidSnapshotState", "Snapshot %s is not available.",
				name);
	return 0;
}

/* node_snapshot: the size and times of a NodeSnapshot from the current
 * SNAP_COLS row. */
static void node_snapshot(struct aws_call *c, struct jv *ns, sqlite3_stmt *st, int64_t bytes)
{
	struct arena *a = c->a;
	jv_set_str(a, ns, "CacheSize",
		   arena_sprintf(a, "%lld MB", (long long)((bytes + (1 << 20) - 1) >> 20)));
	jv_set_double(a, ns, "CacheNodeCreateTime", sqlite3_column_double(st, 18));
	if (sqlite3_column_double(st, 19) > 0)
		jv_set_double(a, ns, "SnapshotCreateTime", sqlite3_column_double(st, 19));
}

/* cluster_mode_nodes: the NodeSnapshots of a cluster-mode snapshot, one
 * per shard with its slots; NULL for other snapshots. */
static struct jv *cluster_mode_nodes(struct aws_call *c, sqlite3_stmt *row)
{
	if (!sqlite3_column_int(row, 21))
		return NULL;
	struct arena *a = c->a;
	struct jv *list = jv_array(a);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT shard, slots, size_bytes FROM "
			       "ec_snapshot_shards WHERE snap_id = ?1 ORDER BY shard");
	sqlite3_bind_int64(st, 1, sqlite3_column_int64(row, 0));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *ns = jv_object(a), *cfg = jv_object(a);
		const char *id = arena_sprintf(a, "%04lld", (long long)sqlite3_column_int64(st, 0));
		jv_set_str(a, ns, "NodeGroupId", id);
		jv_set_str(a, cfg, "NodeGroupId", id);
		jv_set_str(a, cfg, "Slots", db_col_text(st, 1));
		jv_set(a, ns, "NodeGroupConfiguration", cfg);
		node_snapshot(c, ns, row, sqlite3_column_int64(st, 2));
		jv_push(a, list, ns);
	}
	sqlite3_reset(st);
	return list;
}

/* snapshot_jv: the Snapshot shape of the current SNAP_COLS row. */
static struct jv *snapshot_jv(struct aws_call *c, sqlite3_stmt *st)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a);
	const char *name = db_col_text(st, 1), *rg = db_col_text(st, 5);
	const char *cluster = db_col_text(st, 4);
	jv_set_str(a, o, "SnapshotName", name);
	jv_set_str(a, o, "ReplicationGroupId", rg);
	jv_set_str(a, o, "ReplicationGroupDescription", db_col_text(st, 6));
	jv_set_str(a, o, "CacheClusterId", cluster);
	jv_set_str(a, o, "SnapshotStatus", db_col_text(st, 2));
	jv_set_str(a, o, "SnapshotSource", db_col_text(st, 3));
	jv_set_str(a, o, "CacheNodeType", db_col_text(st, 7));
	jv_set_str(a, o, "Engine", "redis");
	jv_set_str(a, o, "EngineVersion", db_col_text(st, 8));
	if (!rg)
		jv_set_int(a, o, "NumCacheNodes", 1);
	jv_set_str(a, o, "PreferredAvailabilityZone", db_col_text(st, 12));
	jv_set_double(a, o, "CacheClusterCreateTime", sqlite3_column_double(st, 18));
	jv_set_str(a, o, "PreferredMaintenanceWindow", db_col_text(st, 13));
	jv_set_int(a, o, "Port", sqlite3_column_int64(st, 9));
	jv_set_str(a, o, "CacheParameterGroupName", db_col_text(st, 10));
	jv_set_str(a, o, "CacheSubnetGroupName", db_col_text(st, 11));
	jv_set_bool(a, o, "AutoMinorVersionUpgrade", 1);
	jv_set_int(a, o, "SnapshotRetentionLimit", 0);
	jv_set_str(a, o, "SnapshotWindow", db_col_text(st, 14));
	struct jv *nodes = cluster_mode_nodes(c, st);
	if (!nodes) {
		nodes = jv_array(a);
		struct jv *ns = jv_object(a);
		if (rg)
			jv_set_str(a, ns, "NodeGroupId", EC_NODE_GROUP_ID);
		else
			jv_set_str(a, ns, "CacheNodeId", EC_NODE_ID);
		node_snapshot(c, ns, st, sqlite3_column_int64(st, 20));
		jv_push(a, nodes, ns);
	}
	if (rg) {
		jv_set_int(a, o, "NumNodeGroups", (int64_t)jv_len(nodes));
		jv_set_str(a, o, "AutomaticFailover",
			   sqlite3_column_int(st, 16) ? "enabled" : "disabled");
	}
	jv_set(a, o, "NodeSnapshots", nodes);
	jv_set_str(a, o, "KmsKeyId", db_col_text(st, 17));
	jv_set_str(a, o, "ARN", ec_arn(a, c->region, c->account, "snapshot", name));
	jv_set_str(a, o, "DataTiering", "disabled");
	return o;
}

/* ec_snapshot_take: see internal.h. */
int ec_snapshot_take(struct aws_call *c, const char *name, const struct ec_cluster *cl,
		     const struct ec_rg *rg, const char *source)
{
	int64_t snap = 0;
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = ec_snapshot_insert(c, name, cl, rg, source, &snap);
	if (ok == 0) {
		ec_set_status(c->fb->db, cl->id, EC_SNAPSHOTTING, EC_AVAILABLE);
		if (rg)
			ec_rg_set_status(c->fb->db, rg->id, EC_SNAPSHOTTING, EC_AVAILABLE);
	}
	if (ec_tx_end(c, ok) < 0)
		return -1;
	if (rg && rg->cluster_mode)
		ec_snapshot_run_shards(snap, rg->id, 0);
	else
		ec_snapshot_run(snap, cl->id, 0);
	return 0;
}

/* snapshot_out: sets key on the output to snapshot name's shape. */
static int snapshot_out(struct aws_call *c, const char *name, const char *key)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, SNAP_COLS "AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		jv_set(c->a, aws_out(c), key, snapshot_jv(c, st));
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 404, "SnapshotNotFoundFault", "Snapshot %s not found.", name);
	return 0;
}

int elasticache_op_create_snapshot(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	const char *name = jv_get_str(c->in, "SnapshotName");
	const char *cid = jv_get_str(c->in, "CacheClusterId");
	const char *rid = jv_get_str(c->in, "ReplicationGroupId");
	if (!cid == !rid)
		return aws_fail(
		    c, 400, "InvalidParameterCombination",
		    "Exactly one of CacheClusterId and ReplicationGroupId is required.");
	struct ec_cluster cl;
	struct ec_rg rg;
	if (rid) {
		struct ec_cluster *m;
		if (ec_rg_find(c, ec_lower(c, rid), &rg) < 0)
			return -1;
		if (strcmp(rg.status, EC_AVAILABLE))
			return aws_fail(c, 400, "InvalidReplicationGroupState",
					"Replication group %s is not available.", rg.name);
		size_t k = ec_clusters_of_rg(c->fb->db, c->a, rg.id, &m);
		size_t p = 0;
		while (p < k && (!m[p].role || strcmp(m[p].role, "primary")))
			p++;
		if (p == k)
			return aws_fail(c, 400, "InvalidReplicationGroupState",
					"Replication group %s has no primary.", rg.name);
		cl = m[p];
	} else if (ec_cluster_find(c, ec_lower(c, cid), &cl) < 0) {
		return -1;
	} else if (cl.cluster_mode) {
		return aws_fail(c, 400, "InvalidParameterCombination",
				"%s is a node of the cluster-mode group %s: snapshot the group "
				"(ReplicationGroupId), which saves every shard.",
				cl.name, cl.rg_name);
	}
	if (strcmp(cl.status, EC_AVAILABLE))
		return aws_fail(c, 400, "InvalidCacheClusterState",
				"Cache cluster %s is not in the available state (%s).", cl.name,
				cl.status);
	if (ec_tags_check(c, jv_get(c->in, "Tags")) < 0)
		return -1;
	if (ec_snapshot_take(c, name, &cl, rid ? &rg : NULL, "manual") < 0)
		return -1;
	return snapshot_out(c, name, "Snapshot");
}

int elasticache_op_describe_snapshots(struct aws_call *c)
{
	int64_t max, off;
	if (ec_page(c, &max, &off) < 0)
		return -1;
	const char *name = jv_get_str(c->in, "SnapshotName");
	const char *cid = ec_lower(c, jv_get_str(c->in, "CacheClusterId"));
	const char *rid = ec_lower(c, jv_get_str(c->in, "ReplicationGroupId"));
	const char *source = jv_get_str(c->in, "SnapshotSource");
	if (cid) {
		struct ec_cluster cl;
		if (ec_cluster_find(c, cid, &cl) < 0)
			return -1;
	}
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, SNAP_COLS "AND (?3 IS NULL OR name = ?3) AND (?4 IS NULL OR "
					 "cluster_name = ?4) AND (?5 IS NULL OR rg_name = ?5) "
					 "AND (?6 IS NULL OR source = ?6) ORDER BY name "
					 "LIMIT ?7 OFFSET ?8");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	const char *opt[] = {name, cid, rid, source};
	for (int i = 0; i < 4; i++)
		if (opt[i])
			sqlite3_bind_text(st, i + 3, opt[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, max + 1);
	sqlite3_bind_int64(st, 8, off);
	struct jv *list = jv_array(c->a);
	int64_t k = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (k++ < max)
			jv_push(c->a, list, snapshot_jv(c, st));
	sqlite3_reset(st);
	if (name && k == 0)
		return aws_fail(c, 404, "SnapshotNotFoundFault", "Snapshot %s not found.", name);
	if (k > max)
		ec_page_marker(c, aws_out(c), off + max);
	jv_set(c->a, aws_out(c), "Snapshots", list);
	return 0;
}

int elasticache_op_delete_snapshot(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "SnapshotName");
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id, status FROM ec_snapshots WHERE "
					      "account = ?1 AND region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	int64_t id = found ? sqlite3_column_int64(st, 0) : 0;
	int busy = found && !strcmp(db_col_text(st, 1), "creating");
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 404, "SnapshotNotFoundFault", "Snapshot %s not found.", name);
	if (busy)
		return aws_fail(c, 400, "InvalidSnapshotState", "Snapshot %s is being created.",
				name);
	if (snapshot_out(c, name, "Snapshot") < 0)
		return -1;
	jv_set_str(c->a, jv_get(aws_out(c), "Snapshot"), "SnapshotStatus", "deleting");
	const char **files = ec_snapshot_files(c->fb->db, c->a, c->fb->data_dir, id);
	if (ec_tx_begin(c) < 0)
		return -1;
	st = db_stmt(c->fb->db, "DELETE FROM ec_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	int rc = db_step_done(st);
	int ok =
	    rc == SQLITE_DONE
		? ec_tags_drop(c->fb->db, ec_arn(c->a, c->region, c->account, "snapshot", name))
		: ec_fail_db(c, rc);
	if (ec_tx_end(c, ok) < 0)
		return -1;
	ec_unlink_all(files);
	return 0;
}

/* copy_files: snapshot from's shard rows and RDB files as snapshot to's
 * (inside the transaction). 0 or -1 with the error. */
static int copy_files(struct aws_call *c, int64_t from, int64_t to)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "INSERT INTO ec_snapshot_shards(snap_id, shard, slots, size_bytes) "
			       "SELECT ?2, shard, slots, size_bytes FROM ec_snapshot_shards WHERE "
			       "snap_id = ?1");
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return ec_fail_db(c, rc);
	const char *const *src = ec_snapshot_files(c->fb->db, c->a, c->fb->data_dir, from);
	const char *const *dst = ec_snapshot_files(c->fb->db, c->a, c->fb->data_dir, to);
	/* [0] is the one-node RDB, absent in a cluster-mode snapshot (then
	 * the shards follow, in the same order in both lists) */
	for (size_t i = 0; src[i] && dst[i]; i++)
		if ((i > 0 || access(src[0], F_OK) == 0) && ec_copy_durable(src[i], dst[i]) < 0)
			return aws_fail(c, 500, "InternalFailure",
					"cannot copy the snapshot's data");
	return 0;
}

int elasticache_op_copy_snapshot(struct aws_call *c)
{
	const char *src = jv_get_str(c->in, "SourceSnapshotName");
	const char *dst = jv_get_str(c->in, "TargetSnapshotName");
	int64_t from, to = 0;
	if (jv_get_str(c->in, "TargetBucket"))
		return aws_fail(c, 400, "InvalidParameterValue",
				"Exporting snapshots to S3 is not served by fogbank.");
	if (ec_snapshot_usable(c, src, &from) < 0)
		return -1;
	if (ec_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(
	    c->fb->db,
	    "INSERT INTO ec_snapshots(account, region, name, status, source, cluster_name, "
	    "rg_name, rg_description, node_type, engine_version, port, param_group, subnet_group, "
	    "az, maint_window, snap_window, num_clusters, auto_failover, kms_key_id, "
	    "cluster_created, created, size_bytes, cluster_mode) SELECT account, region, ?2, "
	    "'available', 'manual', cluster_name, rg_name, rg_description, node_type, "
	    "engine_version, port, param_group, subnet_group, az, maint_window, snap_window, "
	    "num_clusters, auto_failover, IFNULL(?3, kms_key_id), cluster_created, created, "
	    "size_bytes, cluster_mode FROM ec_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_text(st, 2, dst, -1, SQLITE_STATIC);
	if (jv_get_str(c->in, "KmsKeyId"))
		sqlite3_bind_text(st, 3, jv_get_str(c->in, "KmsKeyId"), -1, SQLITE_STATIC);
	int rc = db_step_done(st), ok = 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		ok = aws_fail(c, 400, "SnapshotAlreadyExistsFault", "Snapshot %s already exists.",
			      dst);
	else if (rc != SQLITE_DONE)
		ok = ec_fail_db(c, rc);
	if (ok == 0) {
		to = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
		ok = ec_tags_put(c, ec_arn(c->a, c->region, c->account, "snapshot", dst),
				 jv_get(c->in, "Tags"));
	}
	if (ok == 0)
		ok = copy_files(c, from, to);
	if (ec_tx_end(c, ok) < 0) {
		if (to)
			ec_unlink_all(ec_snapshot_files(c->fb->db, c->a, c->fb->data_dir, to));
		return -1;
	}
	return snapshot_out(c, dst, "Snapshot");
}

/* ec_snapshot_fits: see internal.h. */
int ec_snapshot_fits(struct aws_call *c, int64_t seed, int cm, struct ec_shard_plan *plan,
		     int64_t n)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT cluster_mode FROM ec_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, seed);
	int snap_cm = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (!snap_cm && cm && n != 1)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"A snapshot of one node seeds a cluster-mode group of one node "
				"group only.");
	if (!snap_cm)
		return 0;
	if (!cm)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"A snapshot of a cluster-mode group seeds cluster-mode groups only "
				"(a parameter group with cluster-enabled yes).");
	int given = jv_get_str(jv_at(jv_get(c->in, "NodeGroupConfiguration"), 0), "Slots") != NULL;
	st = db_stmt(
	    c->fb->db,
	    "SELECT shard, slots FROM ec_snapshot_shards WHERE snap_id = ?1 ORDER BY shard");
	sqlite3_bind_int64(st, 1, seed);
	int64_t k = 0;
	int same = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (k < n) {
			plan[k].seed_shard = sqlite3_column_int64(st, 0);
			if (given && strcmp(plan[k].slots, db_col_text(st, 1)))
				same = 0;
			else if (!given)
				plan[k].slots = arena_strdup(c->a, db_col_text(st, 1));
		}
		k++;
	}
	sqlite3_reset(st);
	/* keys live in the slots they hash to: a shard seeded with another
	 * layout's RDB would hold keys of slots it does not own */
	if (k != n || !same)
		return aws_fail(c, 400, "InvalidParameterValue",
				"The snapshot has %lld node groups with their own slots; the new "
				"group must have as many, with the same slots.",
				(long long)k);
	return 0;
}
