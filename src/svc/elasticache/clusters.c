/* clusters.c - cache clusters: CreateCacheCluster (one Redis node, from a
 * snapshot when SnapshotName is given, or a new replica of a group),
 * DescribeCacheClusters, ModifyCacheCluster, DeleteCacheCluster (with a
 * final snapshot), RebootCacheCluster. A handler commits the row, then
 * asks the runtime to act; statuses move on as the server does. */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "fb.h"
#include "store/addr.h"
#include "core/buf.h"
#include "svc/elasticache/internal.h"
#include <ctype.h>

char *ec_lower(struct aws_call *c, const char *s)
{
	char *low = arena_strdup(c->a, s);
	for (char *p = low; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return low;
}

int ec_valid_id(char *id, size_t max)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 1 || n > max || !isalpha((unsigned char)id[0]) || id[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)id[i]) && id[i] != '-')
			return 0;
		if (id[i] == '-' && id[i + 1] == '-')
			return 0;
		id[i] = (char)tolower((unsigned char)id[i]);
	}
	return 1;
}

char *ec_id_arg(struct aws_call *c, const char *key, size_t max)
{
	char *id = arena_strdup(c->a, jv_get_str(c->in, key));
	if (!ec_valid_id(id, max)) {
		aws_fail(
		    c, 400, "InvalidParameterValue",
		    "The parameter %s is not a valid identifier. Identifiers must begin with a "
		    "letter; must contain only ASCII letters, digits, and hyphens; and must not "
		    "end with a hyphen or contain two consecutive hyphens.",
		    key);
		return NULL;
	}
	return id;
}

int ec_auth_token_check(struct aws_call *c, const char *t)
{
	size_t n = strlen(t);
	int ok = n >= 16 && n <= 128;
	for (size_t i = 0; ok && i < n; i++)
		if (t[i] <= ' ' || t[i] > '~' || strchr("\"/@", t[i]))
			ok = 0;
	if (!ok)
		return aws_fail(c, 400, "InvalidParameterValue",
				"Invalid AuthToken provided: it must be 16 to 128 printable "
				"characters, without spaces, '\"', '/' or '@'.");
	return 0;
}

int ec_cluster_settings_check(struct aws_call *c, struct ec_new_cluster *nc)
{
	struct db *db = c->fb->db;
	if (ec_engine_check(c, &nc->engine_version) < 0)
		return -1;
	nc->node_type = jv_get_str(c->in, "CacheNodeType");
	if (!nc->node_type || strncmp(nc->node_type, "cache.", 6))
		return aws_fail(c, 400, "InvalidParameterValue",
				"The parameter CacheNodeType must be provided and must be a cache "
				"node type (cache.<family>.<size>).");
	nc->param_group = jv_get_str(c->in, "CacheParameterGroupName");
	if (!nc->param_group)
		nc->param_group = EC_DEFAULT_PARAM_GROUP;
	if (!ec_param_group_exists(db, c->account, c->region, nc->param_group))
		return aws_fail(c, 404, "CacheParameterGroupNotFound",
				"CacheParameterGroup %s not found.", nc->param_group);
	nc->subnet_group = jv_get_str(c->in, "CacheSubnetGroupName");
	if (nc->subnet_group &&
	    !ec_subnet_group_exists(db, c->account, c->region, nc->subnet_group))
		return aws_fail(c, 400, "CacheSubnetGroupNotFoundFault",
				"Cache subnet group '%s' does not exist.", nc->subnet_group);
	nc->port = jv_get_int(c->in, "Port", EC_DEFAULT_PORT);
	if (nc->port < 1 || nc->port > 65535)
		return aws_fail(c, 400, "InvalidParameterValue", "Invalid port %lld.",
				(long long)nc->port);
	nc->transit = jv_get_bool(c->in, "TransitEncryptionEnabled", 0);
	nc->at_rest = jv_get_bool(c->in, "AtRestEncryptionEnabled", 0);
	nc->auth_token = jv_get_str(c->in, "AuthToken");
	if (nc->auth_token && ec_auth_token_check(c, nc->auth_token) < 0)
		return -1;
	if (nc->auth_token && !nc->transit)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"The AUTH token can only be set when TransitEncryptionEnabled is "
				"true.");
	nc->az = jv_get_str(c->in, "PreferredAvailabilityZone");
	if (!nc->az)
		nc->az = arena_sprintf(c->a, "%sa", c->region);
	nc->maint_window = jv_get_str(c->in, "PreferredMaintenanceWindow");
	if (!nc->maint_window)
		nc->maint_window = "sun:05:00-sun:06:00";
	nc->snap_window = jv_get_str(c->in, "SnapshotWindow");
	if (!nc->snap_window)
		nc->snap_window = "06:30-07:30";
	nc->snap_retention = jv_get_int(c->in, "SnapshotRetentionLimit", 0);
	nc->auto_minor = jv_get_bool(c->in, "AutoMinorVersionUpgrade", 1);
	nc->notification_arn = jv_get_str(c->in, "NotificationTopicArn");
	struct buf sg = BUF_INIT;
	const struct jv *ids = jv_get(c->in, "SecurityGroupIds");
	for (size_t i = 0; i < jv_len(ids); i++) {
		const struct jv *v = jv_at(ids, i);
		if (v->type == JV_STRING) {
			buf_append(&sg, v->u.s.p, v->u.s.n);
			buf_putc(&sg, '\n');
		}
	}
	nc->security_groups = arena_strdup(c->a, sg.p ? sg.p : "");
	buf_release(&sg);
	return ec_tags_check(c, jv_get(c->in, "Tags"));
}

int ec_cluster_insert(struct aws_call *c, const struct ec_new_cluster *nc, int64_t *id)
{
	struct db *db = c->fb->db;
	sqlite3_stmt *st = db_stmt(
	    db,
	    "INSERT INTO ec_clusters(account, region, name, status, node_type, engine_version, "
	    "port, param_group, subnet_group, security_groups, az, maint_window, snap_window, "
	    "snap_retention, auto_minor, notification_arn, auth_sealed, auth_modified, transit, "
	    "at_rest, rg_id, role, member_no, created, shard) VALUES(?1, ?2, ?3, 'creating', ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, IIF(?16 IS NULL, NULL, ?17), "
	    "?18, ?19, ?20, ?21, ?22, ?17, ?23)");
	const char *text[] = {c->account,	   c->region, nc->name,		nc->node_type,
			      nc->engine_version,  NULL,      nc->param_group,	nc->subnet_group,
			      nc->security_groups, nc->az,    nc->maint_window, nc->snap_window};
	for (int i = 0; i < 12; i++)
		if (text[i])
			sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, nc->port);
	sqlite3_bind_int64(st, 13, nc->snap_retention);
	sqlite3_bind_int(st, 14, nc->auto_minor);
	if (nc->notification_arn)
		sqlite3_bind_text(st, 15, nc->notification_arn, -1, SQLITE_STATIC);
	if (nc->auth_token) {
		size_t n = 0;
		void *blob =
		    ec_seal(c->a, c->fb->data_dir,
			    ec_seal_aad(c->a, c->account, c->region, nc->name), nc->auth_token, &n);
		if (!blob)
			return aws_fail(c, 500, "InternalFailure", "cannot seal the auth token");
		sqlite3_bind_blob(st, 16, blob, (int)n, SQLITE_STATIC);
	}
	sqlite3_bind_double(st, 17, (double)c->now_ms / 1000.0);
	sqlite3_bind_int(st, 18, nc->transit);
	sqlite3_bind_int(st, 19, nc->at_rest);
	if (nc->rg_id) {
		sqlite3_bind_int64(st, 20, nc->rg_id);
		sqlite3_bind_text(st, 21, nc->role, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 22, nc->member_no);
	sqlite3_bind_int64(st, 23, nc->shard ? nc->shard : 1);
	int rc = db_step_done(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return aws_fail(c, 400, "CacheClusterAlreadyExists",
				"Cache cluster %s already exists.", nc->name);
	if (rc != SQLITE_DONE)
		return ec_fail_db(c, rc);
	*id = sqlite3_last_insert_rowid(db_sqlite(db));
	char addr[16];
	if (addr_alloc(db, ec_node_owner(c->a, c->account, c->region, nc->name), addr) < 0)
		return aws_fail(c, 400, "InsufficientCacheClusterCapacity",
				"No loopback address is free for a new cache node.");
	if (ec_tags_put(c, ec_arn(c->a, c->region, c->account, "cluster", nc->name),
			jv_get(c->in, "Tags")) < 0)
		return -1;
	/* a directory left by a create that crashed before its commit has
	 * the same id: start from nothing */
	const char *dir = ec_node_dir(c->a, c->fb->data_dir, *id);
	ec_rm_rf(dir);
	if (fs_mkdir_p(dir, 0700) < 0)
		return aws_fail(c, 500, "InternalFailure", "cannot create the node directory");
	if (nc->seed_snapshot &&
	    ec_snapshot_seed(c->fb, nc->seed_snapshot, nc->seed_shard, dir) < 0)
		return aws_fail(c, 500, "InternalFailure", "cannot restore the snapshot's data");
	return 0;
}

int elasticache_op_create_cache_cluster(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_new_cluster nc = {0};
	nc.name = ec_id_arg(c, "CacheClusterId", 50);
	if (!nc.name)
		return -1;
	if (jv_get_int(c->in, "NumCacheNodes", 1) != 1)
		return aws_fail(c, 400, "InvalidParameterValue",
				"NumCacheNodes must be 1 for engine redis.");
	const char *rg_name = jv_get_str(c->in, "ReplicationGroupId");
	if (rg_name)
		return ec_create_member(c, &nc, rg_name);
	if (ec_cluster_settings_check(c, &nc) < 0)
		return -1;
	if (ec_param_cluster_mode(c->fb->db, c->a, c->account, c->region, nc.param_group))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"A cache cluster cannot use a parameter group with cluster-enabled "
				"yes: create a replication group for cluster mode.");
	const char *snap = jv_get_str(c->in, "SnapshotName");
	if (snap && ec_snapshot_usable(c, snap, &nc.seed_snapshot) < 0)
		return -1;
	if (nc.seed_snapshot && ec_snapshot_fits(c, nc.seed_snapshot, 0, NULL, 1) < 0)
		return -1;
	int64_t id = 0;
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = ec_cluster_insert(c, &nc, &id);
	if (ok < 0 && id)
		ec_rm_rf(ec_node_dir(c->a, c->fb->data_dir, id));
	if (ec_tx_end(c, ok) < 0)
		return -1;
	ec_node_start(id);
	struct ec_cluster cl;
	if (ec_cluster_find(c, nc.name, &cl) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "CacheCluster", ec_cluster_jv(c, &cl, 0));
	return 0;
}

int elasticache_op_describe_cache_clusters(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	int show = jv_get_bool(c->in, "ShowCacheNodeInfo", 0);
	struct jv *list = jv_array(c->a), *o = aws_out(c);
	const char *name = jv_get_str(c->in, "CacheClusterId");
	if (name) {
		struct ec_cluster cl;
		if (ec_cluster_find(c, ec_lower(c, name), &cl) < 0)
			return -1;
		jv_push(c->a, list, ec_cluster_jv(c, &cl, show));
		jv_set(c->a, o, "CacheClusters", list);
		return 0;
	}
	int64_t max, off;
	if (ec_page(c, &max, &off) < 0)
		return -1;
	int solo = jv_get_bool(c->in, "ShowCacheClustersNotInReplicationGroups", 0);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT name FROM ec_clusters WHERE account = ?1 "
					      "AND region = ?2 AND (?3 = 0 OR rg_id IS NULL) "
					      "ORDER BY name LIMIT ?4 OFFSET ?5");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, solo);
	sqlite3_bind_int64(st, 4, max + 1);
	sqlite3_bind_int64(st, 5, off);
	const char *names[101];
	int64_t k = 0;
	while (k < max + 1 && sqlite3_step(st) == SQLITE_ROW)
		names[k++] = arena_strdup(c->a, db_col_text(st, 0));
	sqlite3_reset(st);
	for (int64_t i = 0; i < k && i < max; i++) {
		struct ec_cluster cl;
		if (ec_cluster_find(c, names[i], &cl) < 0)
			return -1;
		jv_push(c->a, list, ec_cluster_jv(c, &cl, show));
	}
	if (k > max)
		ec_page_marker(c, o, off + max);
	jv_set(c->a, o, "CacheClusters", list);
	return 0;
}

int elasticache_op_reboot_cache_cluster(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_cluster cl;
	const struct jv *ids = jv_get(c->in, "CacheNodeIdsToReboot");
	if (ec_cluster_find(c, ec_lower(c, jv_get_str(c->in, "CacheClusterId")), &cl) < 0)
		return -1;
	for (size_t i = 0; i < jv_len(ids); i++) {
		const struct jv *v = jv_at(ids, i);
		if (v->type != JV_STRING || strcmp(v->u.s.p, EC_NODE_ID))
			return aws_fail(c, 400, "InvalidParameterValue",
					"Cache node %s does not exist in cluster %s.",
					v->type == JV_STRING ? v->u.s.p : "?", cl.name);
	}
	if (strcmp(cl.status, EC_AVAILABLE))
		return aws_fail(c, 400, "InvalidCacheClusterState",
				"Cache cluster %s is not in the available state (%s).", cl.name,
				cl.status);
	ec_set_status(c->fb->db, cl.id, EC_REBOOTING, NULL);
	ec_node_reboot(cl.id);
	cl.status = EC_REBOOTING;
	jv_set(c->a, aws_out(c), "CacheCluster", ec_cluster_jv(c, &cl, 0));
	return 0;
}

int elasticache_op_delete_cache_cluster(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_cluster cl;
	if (ec_cluster_find(c, ec_lower(c, jv_get_str(c->in, "CacheClusterId")), &cl) < 0)
		return -1;
	if (!strcmp(cl.status, EC_DELETING))
		return aws_fail(c, 400, "InvalidCacheClusterState",
				"Cache cluster %s is already being deleted.", cl.name);
	if (cl.cluster_mode)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"%s is a node of the cluster-mode group %s: delete the group, or "
				"remove its shard with ModifyReplicationGroupShardConfiguration.",
				cl.name, cl.rg_name);
	if (cl.rg_id && cl.role && !strcmp(cl.role, "primary"))
		return aws_fail(c, 400, "InvalidCacheClusterState",
				"Cannot delete the primary cluster %s of replication group %s: "
				"delete the replication group.",
				cl.name, cl.rg_name);
	const char *final = jv_get_str(c->in, "FinalSnapshotIdentifier");
	int64_t snap = 0;
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = final ? ec_snapshot_insert(c, final, &cl, NULL, "manual", &snap) : 0;
	if (ok == 0 && !ec_set_status(c->fb->db, cl.id, EC_DELETING, NULL))
		ok = aws_fail(c, 500, "InternalFailure", "cannot update the cluster");
	if (ec_tx_end(c, ok) < 0)
		return -1;
	ec_node_delete(cl.id, snap);
	cl.status = EC_DELETING;
	jv_set(c->a, aws_out(c), "CacheCluster", ec_cluster_jv(c, &cl, 0));
	return 0;
}
