/* output.c - the CacheCluster and ReplicationGroup shapes, as the model
 * names their members; the query protocol layer writes the XML. */
#include "core/compat.h"
#include "fb.h"
#include "svc/elasticache/internal.h"

/* endpoint: an Endpoint shape. */
static struct jv *endpoint(struct aws_call *c, const char *addr, int64_t port)
{
	struct jv *e = jv_object(c->a);
	jv_set_str(c->a, e, "Address", addr);
	jv_set_int(c->a, e, "Port", port);
	return e;
}

/* node_status: a node's status follows its cluster's. */
static const char *node_status(const char *cluster_status)
{
	if (!strcmp(cluster_status, EC_CREATING) || !strcmp(cluster_status, EC_DELETING))
		return cluster_status;
	if (!strcmp(cluster_status, EC_REBOOTING))
		return "rebooting";
	return EC_AVAILABLE;
}

/* security_groups: the SecurityGroups list from the newline-joined ids. */
static struct jv *security_groups(struct aws_call *c, const char *ids)
{
	struct jv *list = jv_array(c->a);
	for (const char *p = ids ? ids : ""; *p;) {
		size_t n = strcspn(p, "\n");
		if (n) {
			struct jv *m = jv_object(c->a);
			jv_set_strn(c->a, m, "SecurityGroupId", p, n);
			jv_set_str(c->a, m, "Status", "active");
			jv_push(c->a, list, m);
		}
		p += n + (p[n] == '\n');
	}
	return list;
}

struct jv *ec_cluster_jv(struct aws_call *c, const struct ec_cluster *cl, int show_nodes)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a);
	jv_set_str(a, o, "CacheClusterId", cl->name);
	jv_set_str(a, o, "ClientDownloadLandingPage",
		   "https://console.aws.amazon.com/elasticache/home#client-download:");
	jv_set_str(a, o, "CacheNodeType", cl->node_type);
	jv_set_str(a, o, "Engine", "redis");
	jv_set_str(a, o, "EngineVersion", cl->engine_version);
	jv_set_str(a, o, "CacheClusterStatus", cl->status);
	jv_set_int(a, o, "NumCacheNodes", 1);
	jv_set_str(a, o, "PreferredAvailabilityZone", cl->az);
	jv_set_double(a, o, "CacheClusterCreateTime", cl->created);
	jv_set_str(a, o, "PreferredMaintenanceWindow", cl->maint_window);
	jv_set(a, o, "PendingModifiedValues", jv_object(a));
	if (cl->notification_arn) {
		struct jv *nc = jv_object(a);
		jv_set_str(a, nc, "TopicArn", cl->notification_arn);
		jv_set_str(a, nc, "TopicStatus", "active");
		jv_set(a, o, "NotificationConfiguration", nc);
	}
	jv_set(a, o, "CacheSecurityGroups", jv_array(a));
	struct jv *pg = jv_object(a);
	jv_set_str(a, pg, "CacheParameterGroupName", cl->param_group);
	jv_set_str(a, pg, "ParameterApplyStatus", cl->param_status);
	struct jv *reboot = jv_array(a);
	if (!strcmp(cl->param_status, "pending-reboot"))
		jv_push(a, reboot, jv_string_c(a, EC_NODE_ID));
	jv_set(a, pg, "CacheNodeIdsToReboot", reboot);
	jv_set(a, o, "CacheParameterGroup", pg);
	jv_set_str(a, o, "CacheSubnetGroupName", cl->subnet_group);
	if (show_nodes) {
		struct jv *nodes = jv_array(a), *n = jv_object(a);
		jv_set_str(a, n, "CacheNodeId", EC_NODE_ID);
		jv_set_str(a, n, "CacheNodeStatus", node_status(cl->status));
		jv_set_double(a, n, "CacheNodeCreateTime", cl->created);
		jv_set(a, n, "Endpoint", endpoint(c, cl->addr, cl->port));
		jv_set_str(a, n, "ParameterGroupStatus", cl->param_status);
		jv_set_str(a, n, "CustomerAvailabilityZone", cl->az);
		jv_push(a, nodes, n);
		jv_set(a, o, "CacheNodes", nodes);
	}
	jv_set_bool(a, o, "AutoMinorVersionUpgrade", cl->auto_minor);
	jv_set(a, o, "SecurityGroups", security_groups(c, cl->security_groups));
	jv_set_str(a, o, "ReplicationGroupId", cl->rg_name);
	jv_set_int(a, o, "SnapshotRetentionLimit", cl->snap_retention);
	jv_set_str(a, o, "SnapshotWindow", cl->snap_window);
	jv_set_bool(a, o, "AuthTokenEnabled", cl->auth_token || cl->auth_unreadable);
	if (cl->auth_modified > 0)
		jv_set_double(a, o, "AuthTokenLastModifiedDate", cl->auth_modified);
	jv_set_bool(a, o, "TransitEncryptionEnabled", cl->transit);
	jv_set_bool(a, o, "AtRestEncryptionEnabled", cl->at_rest);
	jv_set_str(a, o, "ARN", ec_arn(a, cl->region, cl->account, "cluster", cl->name));
	jv_set_bool(a, o, "ReplicationGroupLogDeliveryEnabled", 0);
	jv_set(a, o, "LogDeliveryConfigurations", jv_array(a));
	jv_set_str(a, o, "NetworkType", "ipv4");
	jv_set_str(a, o, "IpDiscovery", "ipv4");
	return o;
}

/* shard_groups: the NodeGroups of a cluster-mode group: one per shard
 * with its slots and members (no per-shard endpoints: clients go through
 * the ConfigurationEndpoint, as on AWS). */
static struct jv *shard_groups(struct aws_call *c, const struct ec_rg *rg,
			       const struct ec_cluster *m, size_t n)
{
	struct arena *a = c->a;
	struct ec_shard *sh;
	size_t k = ec_shards_of_rg(c->fb->db, a, rg->id, &sh);
	struct jv *groups = jv_array(a);
	for (size_t g = 0; g < k; g++) {
		struct jv *ng = jv_object(a), *members = jv_array(a);
		jv_set_str(a, ng, "NodeGroupId",
			   arena_sprintf(a, "%04lld", (long long)sh[g].shard));
		jv_set_str(a, ng, "Status", rg->status);
		jv_set_str(a, ng, "Slots", sh[g].slots);
		for (size_t i = 0; i < n; i++) {
			if (m[i].shard != sh[g].shard)
				continue;
			struct jv *mem = jv_object(a);
			jv_set_str(a, mem, "CacheClusterId", m[i].name);
			jv_set_str(a, mem, "CacheNodeId", EC_NODE_ID);
			jv_set_str(a, mem, "PreferredAvailabilityZone", m[i].az);
			jv_push(a, members, mem);
		}
		jv_set(a, ng, "NodeGroupMembers", members);
		jv_push(a, groups, ng);
	}
	return groups;
}

/* pending: PendingModifiedValues: a cluster-mode group's slot migration. */
static struct jv *pending(struct aws_call *c, const struct ec_rg *rg)
{
	struct jv *o = jv_object(c->a);
	int pct = rg->cluster_mode ? ec_reshard_progress(rg->id) : -1;
	if (pct < 0)
		return o;
	struct jv *rs = jv_object(c->a), *sm = jv_object(c->a);
	jv_set_double(c->a, sm, "ProgressPercentage", pct);
	jv_set(c->a, rs, "SlotMigration", sm);
	jv_set(c->a, o, "Resharding", rs);
	return o;
}

struct jv *ec_rg_jv(struct aws_call *c, const struct ec_rg *rg)
{
	struct arena *a = c->a;
	struct ec_cluster *m = NULL;
	size_t n = ec_clusters_of_rg(c->fb->db, a, rg->id, &m);
	struct jv *o = jv_object(a);
	jv_set_str(a, o, "ReplicationGroupId", rg->name);
	jv_set_str(a, o, "Description", rg->description);
	jv_set_str(a, o, "Status", rg->status);
	jv_set(a, o, "PendingModifiedValues", pending(c, rg));
	struct jv *ids = jv_array(a);
	const struct ec_cluster *first = n ? &m[0] : NULL;
	int64_t port = first ? first->port : EC_DEFAULT_PORT;
	for (size_t i = 0; i < n; i++)
		jv_push(a, ids, jv_string_c(a, m[i].name));
	jv_set(a, o, "MemberClusters", ids);
	if (rg->cluster_mode) {
		jv_set(a, o, "NodeGroups", shard_groups(c, rg, m, n));
		jv_set(a, o, "ConfigurationEndpoint", endpoint(c, rg->cfg_addr, port));
	} else {
		struct jv *groups = jv_array(a), *ng = jv_object(a), *members = jv_array(a);
		for (size_t i = 0; i < n; i++) {
			struct jv *mem = jv_object(a);
			jv_set_str(a, mem, "CacheClusterId", m[i].name);
			jv_set_str(a, mem, "CacheNodeId", EC_NODE_ID);
			jv_set(a, mem, "ReadEndpoint", endpoint(c, m[i].addr, m[i].port));
			jv_set_str(a, mem, "PreferredAvailabilityZone", m[i].az);
			jv_set_str(a, mem, "CurrentRole", m[i].role ? m[i].role : "replica");
			jv_push(a, members, mem);
		}
		jv_set_str(a, ng, "NodeGroupId", EC_NODE_GROUP_ID);
		jv_set_str(a, ng, "Status", rg->status);
		jv_set(a, ng, "PrimaryEndpoint", endpoint(c, rg->primary_addr, port));
		jv_set(a, ng, "ReaderEndpoint", endpoint(c, rg->reader_addr, port));
		jv_set(a, ng, "NodeGroupMembers", members);
		jv_push(a, groups, ng);
		jv_set(a, o, "NodeGroups", groups);
	}
	if (rg->snapshotting)
		jv_set_str(a, o, "SnapshottingClusterId", rg->snapshotting);
	jv_set_str(a, o, "AutomaticFailover", rg->auto_failover ? "enabled" : "disabled");
	jv_set_str(a, o, "MultiAZ", rg->multi_az ? "enabled" : "disabled");
	if (first) {
		jv_set_int(a, o, "SnapshotRetentionLimit", first->snap_retention);
		jv_set_str(a, o, "SnapshotWindow", first->snap_window);
		jv_set_str(a, o, "CacheNodeType", first->node_type);
		jv_set_bool(a, o, "AuthTokenEnabled", first->auth_token || first->auth_unreadable);
		if (first->auth_modified > 0)
			jv_set_double(a, o, "AuthTokenLastModifiedDate", first->auth_modified);
		jv_set_bool(a, o, "TransitEncryptionEnabled", first->transit);
		jv_set_bool(a, o, "AtRestEncryptionEnabled", first->at_rest);
		jv_set_bool(a, o, "AutoMinorVersionUpgrade", first->auto_minor);
	}
	jv_set_bool(a, o, "ClusterEnabled", rg->cluster_mode);
	jv_set_str(a, o, "KmsKeyId", rg->kms_key_id);
	jv_set_str(a, o, "ARN", ec_arn(a, rg->region, rg->account, "replicationgroup", rg->name));
	jv_set(a, o, "UserGroupIds", jv_array(a));
	jv_set(a, o, "LogDeliveryConfigurations", jv_array(a));
	jv_set_double(a, o, "ReplicationGroupCreateTime", rg->created);
	jv_set_str(a, o, "DataTiering", "disabled");
	jv_set_str(a, o, "NetworkType", "ipv4");
	jv_set_str(a, o, "IpDiscovery", "ipv4");
	return o;
}
