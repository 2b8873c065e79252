/* cluster_roles.c - a cluster-mode group after its join: Redis Cluster
 * elects its own primaries (a dead primary's replica takes over, a
 * TestFailover is a real CLUSTER FAILOVER), and fogbank follows: ROLE of
 * every serving node on each tick, a change stored and reported, so
 * DescribeReplicationGroups, the configuration endpoint's holder and
 * snapshots track the primaries. The tick also retries joins that did
 * not finish. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

struct role_op {
	int64_t id;
	uint64_t gen;
};

/* role_reply: ROLE's first element; a change is stored, reported, and
 * moves the configuration endpoint when needed. */
static void role_reply(void *arg, int ok, const char *p, size_t len)
{
	struct role_op *op = arg;
	struct ec_node *n = ec_node_get(op->id);
	size_t head = len < 32 ? len : 32;
	int master = ok == 1 && p && memmem(p, head, "master", 6);
	int slave = ok == 1 && p && memmem(p, head, "slave", 5);
	int same = !n || n->gen != op->gen || (!master && !slave) || master == n->is_primary;
	free(op);
	if (same)
		return;
	struct fogbank *fb = ec_rt_fb();
	n->is_primary = master;
	sqlite3_stmt *st = db_stmt(fb->db, "UPDATE ec_clusters SET role = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, n->id);
	sqlite3_bind_text(st, 2, master ? "primary" : "replica", -1, SQLITE_STATIC);
	if (db_step_done(st) != SQLITE_DONE)
		log_error("elasticache: cannot record the role of %s", n->name);
	struct arena *a = arena_new(2048);
	struct ec_rg rg;
	if (master && ec_rg_load(fb->db, a, n->rg_id, &rg) == 0)
		ec_event(fb->db, rg.account, rg.region, rg.name, "replication-group",
			 "Failover to replica node %s-%s completed in node group %04lld", n->name,
			 EC_NODE_ID, (long long)n->shard);
	arena_free(a);
	ec_rg_reconcile();
}

/* ec_cluster_tick: see internal.h. */
void ec_cluster_tick(void)
{
	struct fogbank *fb = ec_rt_fb();
	int64_t seen[64];
	size_t ns = 0;
	for (struct ec_node *n = ec_node_list(); n; n = n->next) {
		if (!n->cluster || !n->rg_id)
			continue;
		size_t i = 0;
		while (i < ns && seen[i] != n->rg_id)
			i++;
		if (i < ns || ns == FB_ARRAY_LEN(seen))
			continue;
		seen[ns++] = n->rg_id;
	}
	struct arena *a = arena_new(2048);
	for (size_t i = 0; i < ns; i++) {
		struct ec_rg rg;
		arena_reset(a);
		if (ec_rg_load(fb->db, a, seen[i], &rg) < 0)
			continue;
		if (!strcmp(rg.status, EC_CREATING) || !strcmp(rg.status, EC_MODIFYING)) {
			ec_cluster_kick(rg.id); /* a join that failed or was never started */
			continue;
		}
		if (!strcmp(rg.status, EC_DELETING))
			continue;
		for (struct ec_node *n = ec_node_list(); n; n = n->next) {
			if (n->rg_id != rg.id || !n->r || !n->ready)
				continue;
			struct role_op *op = malloc(sizeof(*op));
			if (!op)
				fb_die("out of memory");
			op->id = n->id;
			op->gen = n->gen;
			const char *argv[] = {"ROLE"};
			redis_command(n->r, 1, argv, role_reply, op);
		}
	}
	arena_free(a);
}

/* ec_cluster_failover: see internal.h. */
int ec_cluster_failover(int64_t rg_id, int64_t shard)
{
	for (struct ec_node *n = ec_node_list(); n; n = n->next)
		if (n->rg_id == rg_id && n->shard == shard && !n->is_primary && n->r && n->ready) {
			/* a manual failover: the replica catches up, then takes over */
			const char *argv[] = {"CLUSTER", "FAILOVER"};
			ec_node_send(n, 2, argv);
			return 0;
		}
	return -1;
}
