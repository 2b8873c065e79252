/* shards.c - cluster mode at creation: the shard layout a
 * CreateReplicationGroup asks for (NumNodeGroups, ReplicasPerNodeGroup,
 * or NodeGroupConfiguration with Slots and ReplicaCount), validated as AWS
 * does, and its rows: one ec_shards row per node group with its slots,
 * members named <group>-<shard:04>-<member:03> as on AWS. Joining the
 * servers into a Redis Cluster happens at run time (cluster.c). */
#include "core/compat.h"
#include "fb.h"
#include "store/addr.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

/* ec_slots_even: see internal.h. */
char *ec_slots_even(struct arena *a, int64_t i, int64_t n)
{
	int64_t lo = i * EC_SLOTS / n, hi = (i + 1) * EC_SLOTS / n - 1;
	return arena_sprintf(a, "%lld-%lld", (long long)lo, (long long)hi);
}

/* ec_slots_mark: see internal.h. */
int ec_slots_mark(const char *spec, int16_t *map, int16_t shard)
{
	const char *p = spec;
	if (!p || !*p)
		return -1;
	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;
		if (end == p || lo < 0)
			return -1;
		if (*end == '-') {
			const char *q = end + 1;
			hi = strtol(q, &end, 10);
			if (end == q)
				return -1;
		}
		if (hi < lo || hi >= EC_SLOTS || (*end && *end != ','))
			return -1;
		for (long s = lo; s <= hi; s++) {
			if (map[s])
				return -1; /* two shards claim it */
			map[s] = shard;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* plan_slots: fills every shard's slots: the given ones, which must all
 * be present and cover 0..16383 exactly once, or an even split. */
static int plan_slots(struct aws_call *c, struct ec_shard_plan *p, int64_t n, int given)
{
	if (!given) {
		for (int64_t i = 0; i < n; i++)
			p[i].slots = ec_slots_even(c->a, i, n);
		return 0;
	}
	int16_t *map = arena_zalloc(c->a, EC_SLOTS * sizeof(*map));
	for (int64_t i = 0; i < n; i++)
		if (ec_slots_mark(p[i].slots, map, (int16_t)(i + 1)) < 0)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Invalid Slots \"%s\" for node group %04lld: ranges "
					"start-end within 0-16383, not overlapping, are expected.",
					p[i].slots ? p[i].slots : "", (long long)p[i].shard);
	for (int s = 0; s < EC_SLOTS; s++)
		if (!map[s])
			return aws_fail(c, 400, "InvalidParameterValue",
					"The Slots of the node groups must cover all 16384 slots "
					"(slot %d is in none).",
					s);
	return 0;
}

/* shard_id: a NodeGroupId ("0001", 1 to 4 digits) as a number; 0 when bad. */
static int64_t shard_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 1 || n > 4 || id[strspn(id, "0123456789")])
		return 0;
	return atoll(id);
}

/* ec_shard_plan: see internal.h. */
int ec_shard_plan(struct aws_call *c, struct ec_shard_plan **out, int64_t *count)
{
	const struct jv *ngc = jv_get(c->in, "NodeGroupConfiguration");
	int64_t k = (int64_t)jv_len(ngc);
	int64_t n = jv_get_int(c->in, "NumNodeGroups", k ? k : 1);
	int64_t reps = jv_get_int(c->in, "ReplicasPerNodeGroup", 0);
	if (jv_get(c->in, "NumCacheClusters"))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"NumCacheClusters is for cluster mode disabled; use NumNodeGroups "
				"and ReplicasPerNodeGroup.");
	if (n < 1 || n > EC_MAX_SHARDS)
		return aws_fail(c, 400, "NodeGroupsPerReplicationGroupQuotaExceeded",
				"NumNodeGroups must be between 1 and %d.", EC_MAX_SHARDS);
	if (k && k != n)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"NumNodeGroups (%lld) does not match the %lld entries of "
				"NodeGroupConfiguration.",
				(long long)n, (long long)k);
	struct ec_shard_plan *p = arena_zalloc(c->a, (size_t)n * sizeof(*p));
	int64_t nodes = 0, given = 0;
	for (int64_t i = 0; i < n; i++) {
		const struct jv *g = jv_at(ngc, (size_t)i);
		const char *id = g ? jv_get_str(g, "NodeGroupId") : NULL;
		p[i].shard = id ? shard_id(id) : i + 1;
		p[i].replicas = g ? jv_get_int(g, "ReplicaCount", reps) : reps;
		p[i].slots = g ? jv_get_str(g, "Slots") : NULL;
		given += p[i].slots != NULL;
		if (!p[i].shard)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Invalid NodeGroupId %s: 1 to 4 digits are expected.", id);
		for (int64_t j = 0; j < i; j++)
			if (p[j].shard == p[i].shard)
				return aws_fail(c, 400, "InvalidParameterValue",
						"NodeGroupId %04lld is given twice.",
						(long long)p[i].shard);
		if (p[i].replicas < 0 || p[i].replicas > 5)
			return aws_fail(c, 400, "InvalidParameterValue",
					"ReplicaCount and ReplicasPerNodeGroup must be between 0 "
					"and 5.");
		nodes += p[i].replicas + 1;
	}
	if (nodes > EC_MAX_NODES)
		return aws_fail(c, 400, "NodeQuotaForClusterExceeded",
				"The group would have %lld nodes; the quota is %d.",
				(long long)nodes, EC_MAX_NODES);
	if (given && given != n)
		return aws_fail(c, 400, "InvalidParameterValue",
				"Slots must be given for every node group or for none.");
	if (plan_slots(c, p, n, given != 0) < 0)
		return -1;
	*out = p;
	*count = n;
	return 0;
}

/* ec_shards_insert: see internal.h. */
int ec_shards_insert(struct aws_call *c, int64_t rg_id, const struct ec_shard_plan *p, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO ec_shards(rg_id, shard, slots) "
						      "VALUES(?1, ?2, ?3)");
		sqlite3_bind_int64(st, 1, rg_id);
		sqlite3_bind_int64(st, 2, p[i].shard);
		sqlite3_bind_text(st, 3, p[i].slots, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return ec_fail_db(c, rc);
	}
	return 0;
}

/* ec_shard_members_insert: see internal.h. */
int ec_shard_members_insert(struct aws_call *c, const char *name, struct ec_new_cluster *nc,
			    const struct ec_shard_plan *p, int64_t n, int64_t *ids, int64_t *count)
{
	int64_t k = 0, seed = nc->seed_snapshot, base = nc->member_no;
	for (int64_t i = 0; i < n; i++)
		for (int64_t m = 0; m <= p[i].replicas; m++) {
			nc->name = arena_sprintf(c->a, "%s-%04lld-%03lld", name,
						 (long long)p[i].shard, (long long)(m + 1));
			nc->shard = p[i].shard;
			nc->member_no = base + k + 1;
			nc->role = m == 0 ? "primary" : "replica";
			/* replicas get their data from their primary */
			nc->seed_snapshot = m == 0 ? seed : 0;
			nc->seed_shard = p[i].seed_shard;
			int rc = ec_cluster_insert(c, nc, &ids[k]);
			*count = ++k;
			if (rc < 0)
				return -1;
		}
	return 0;
}

/* ec_shards_of_rg: see internal.h. */
size_t ec_shards_of_rg(struct db *db, struct arena *a, int64_t rg_id, struct ec_shard **out)
{
	size_t n = 0, cap = 4;
	struct ec_shard *v = arena_alloc(a, cap * sizeof(*v));
	sqlite3_stmt *st =
	    db_stmt(db, "SELECT shard, slots FROM ec_shards WHERE rg_id = ?1 ORDER BY shard");
	sqlite3_bind_int64(st, 1, rg_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			v = arena_realloc(a, v, cap * sizeof(*v), cap * 2 * sizeof(*v));
			cap *= 2;
		}
		v[n].shard = sqlite3_column_int64(st, 0);
		v[n].slots = arena_strdup(a, db_col_text(st, 1));
		n++;
	}
	sqlite3_reset(st);
	*out = v;
	return n;
}
