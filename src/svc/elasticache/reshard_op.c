/* reshard_op.c - the ModifyReplicationGroupShardConfiguration call: which
 * shards stay (NodeGroupsToRemove / NodeGroupsToRetain when shrinking),
 * the new ones (numbered after the highest, with the group's replica
 * count), and the even split of the 16384 slots over them, all stored
 * before anything moves; the nodes and the slots follow at run time
 * (cluster.c joins new nodes, reshard.c moves the slots). */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "fb.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

/* listed: 1 when shard (as "0001") is in the NodeGroupId list l. */
static int listed(struct aws_call *c, const struct jv *l, int64_t shard)
{
	const char *id = arena_sprintf(c->a, "%04lld", (long long)shard);
	for (size_t i = 0; i < jv_len(l); i++)
		if (jv_at(l, i)->type == JV_STRING && !strcmp(jv_at(l, i)->u.s.p, id))
			return 1;
	return 0;
}

/* keep_mask: which of the n shards stay when the group goes to m; 0 or
 * -1 with AWS's error. */
static int keep_mask(struct aws_call *c, const struct ec_shard *sh, size_t n, int64_t m, int *keep)
{
	const struct jv *rm = jv_get(c->in, "NodeGroupsToRemove");
	const struct jv *rt = jv_get(c->in, "NodeGroupsToRetain");
	for (size_t i = 0; i < n; i++)
		keep[i] = 1;
	if ((int64_t)n <= m) {
		if (jv_len(rm) || jv_len(rt))
			return aws_fail(
			    c, 400, "InvalidParameterCombination",
			    "NodeGroupsToRemove and NodeGroupsToRetain are for reducing "
			    "NodeGroupCount.");
		return 0;
	}
	if (!jv_len(rm) == !jv_len(rt))
		return aws_fail(c, 400, "InvalidParameterValue",
				"Reducing NodeGroupCount needs exactly one of NodeGroupsToRemove "
				"and NodeGroupsToRetain.");
	int64_t kept = 0, hits = 0;
	for (size_t i = 0; i < n; i++) {
		int in = listed(c, jv_len(rm) ? rm : rt, sh[i].shard);
		hits += in;
		keep[i] = jv_len(rm) ? !in : in;
		kept += keep[i];
	}
	if (hits != (int64_t)jv_len(jv_len(rm) ? rm : rt) || kept != m)
		return aws_fail(c, 400, "InvalidParameterValue",
				"The node groups listed must exist, and %lld of them must stay.",
				(long long)m);
	return 0;
}

/* store_layout: the new layout in the transaction: slots of the shards
 * that stay, the removed ones' rows gone, the new shards and members. */
static int store_layout(struct aws_call *c, const struct ec_rg *rg, const struct ec_shard *sh,
			size_t n, const int *keep, int64_t m, int64_t *ids, int64_t *count)
{
	struct ec_cluster *mem;
	size_t k = ec_clusters_of_rg(c->fb->db, c->a, rg->id, &mem);
	int64_t top = 0, reps = -1, no = 0, slot_i = 0;
	for (size_t i = 0; i < k; i++) {
		reps += mem[i].shard == mem[0].shard;
		no = mem[i].member_no > no ? mem[i].member_no : no;
	}
	for (size_t i = 0; i < n; i++) {
		top = sh[i].shard > top ? sh[i].shard : top;
		/* a removed shard's row goes; its nodes stay until their slots
		 * have moved (reshard.c deletes them) */
		sqlite3_stmt *st =
		    keep[i] ? db_stmt(c->fb->db, "UPDATE ec_shards SET slots = ?3 WHERE rg_id = "
						 "?1 AND shard = ?2")
			    : db_stmt(c->fb->db,
				      "DELETE FROM ec_shards WHERE rg_id = ?1 AND shard = ?2");
		sqlite3_bind_int64(st, 1, rg->id);
		sqlite3_bind_int64(st, 2, sh[i].shard);
		if (keep[i])
			sqlite3_bind_text(st, 3, ec_slots_even(c->a, slot_i++, m), -1,
					  SQLITE_TRANSIENT);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return ec_fail_db(c, rc);
	}
	int64_t add = m - slot_i;
	if (add <= 0)
		return 0;
	struct ec_shard_plan *p = arena_zalloc(c->a, (size_t)add * sizeof(*p));
	for (int64_t i = 0; i < add; i++) {
		p[i].shard = top + i + 1;
		p[i].replicas = reps < 0 ? 0 : reps;
		p[i].slots = ec_slots_even(c->a, slot_i++, m);
	}
	if ((int64_t)k + add * (p[0].replicas + 1) > EC_MAX_NODES)
		return aws_fail(c, 400, "NodeQuotaForClusterExceeded",
				"The group would have more than %d nodes.", EC_MAX_NODES);
	const struct ec_cluster *f = &mem[0];
	struct ec_new_cluster nc = {
	    .node_type = f->node_type,
	    .engine_version = f->engine_version,
	    .param_group = f->param_group,
	    .subnet_group = f->subnet_group,
	    .security_groups = f->security_groups,
	    .az = f->az,
	    .maint_window = f->maint_window,
	    .snap_window = f->snap_window,
	    .auth_token = f->auth_token,
	    .port = f->port,
	    .snap_retention = f->snap_retention,
	    .member_no = no,
	    .rg_id = rg->id,
	    .transit = f->transit,
	    .at_rest = f->at_rest,
	    .auto_minor = f->auto_minor,
	};
	if (ec_shards_insert(c, rg->id, p, add) < 0)
		return -1;
	return ec_shard_members_insert(c, rg->name, &nc, p, add, ids, count);
}

/* ModifyReplicationGroupShardConfiguration: the new layout stored, the
 * group modifying, new nodes started; 0 or -1 with AWS's error. */
int elasticache_op_modify_replication_group_shard_configuration(struct aws_call *c)
{
	ec_rt_attach(c->fb);
	struct ec_rg rg;
	struct ec_shard *sh;
	if (ec_rg_find(c, ec_lower(c, jv_get_str(c->in, "ReplicationGroupId")), &rg) < 0)
		return -1;
	if (!rg.cluster_mode)
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s is not in cluster mode.", rg.name);
	if (strcmp(rg.status, EC_AVAILABLE))
		return aws_fail(c, 400, "InvalidReplicationGroupState",
				"Replication group %s is not available.", rg.name);
	if (!jv_get_bool(c->in, "ApplyImmediately", 0))
		return aws_fail(c, 400, "InvalidParameterValue",
				"ApplyImmediately must be true: resharding happens at once.");
	int64_t m = jv_get_int(c->in, "NodeGroupCount", 0);
	if (m < 1 || m > EC_MAX_SHARDS)
		return aws_fail(c, 400, "NodeGroupsPerReplicationGroupQuotaExceeded",
				"NodeGroupCount must be between 1 and %d.", EC_MAX_SHARDS);
	size_t n = ec_shards_of_rg(c->fb->db, c->a, rg.id, &sh);
	int *keep = arena_zalloc(c->a, (n ? n : 1) * sizeof(*keep));
	if (keep_mask(c, sh, n, m, keep) < 0)
		return -1;
	int64_t *ids = arena_zalloc(c->a, EC_MAX_NODES * sizeof(*ids)), count = 0;
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = store_layout(c, &rg, sh, n, keep, m, ids, &count);
	if (ok == 0 && !ec_rg_set_status(c->fb->db, rg.id, EC_MODIFYING, NULL))
		ok = aws_fail(c, 500, "InternalFailure", "cannot update the group");
	if (ok < 0)
		for (int64_t i = 0; i < count; i++)
			if (ids[i])
				ec_rm_rf(ec_node_dir(c->a, c->fb->data_dir, ids[i]));
	if (ec_tx_end(c, ok) < 0)
		return -1;
	ec_reshard_request(rg.id);
	ec_event(c->fb->db, c->account, c->region, rg.name, "replication-group",
		 "Resharding to %lld node groups started", (long long)m);
	for (int64_t i = 0; i < count; i++)
		ec_node_start(ids[i]);
	ec_cluster_kick(rg.id); /* nothing new to start: the slots move at once */
	if (ec_rg_find(c, rg.name, &rg) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "ReplicationGroup", ec_rg_jv(c, &rg));
	return 0;
}
