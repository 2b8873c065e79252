/* cluster.c - cluster mode at run time. Once every node of a group that
 * is being created serves, fogbank joins them into one Redis Cluster over
 * their control sockets, as redis-cli --cluster create would, but with
 * the shards fogbank stored: each primary takes its shard's slots (those
 * it does not hold yet: a node seeded from a snapshot claims the slots of
 * its keys at start), the nodes MEET each other, and each replica
 * REPLICATEs its shard's primary as soon as it knows it. The group is
 * available when every node reports cluster_state:ok, every node's view
 * shows the topology fogbank asked for, and every replica's link is up. Each step is idempotent, so a join that a
 * restart interrupted simply runs again.
 *
 * Afterwards Redis Cluster runs itself (its own failover included);
 * cluster_roles.c follows the roles. */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

#define JOIN_POLL_MS 20
#define JOIN_POLLS 1500 /* 30 s, then the join is retried from the tick */
#define JOIN_MESH_MAX 24

enum join_step { JOIN_MYID, JOIN_SLOTS, JOIN_MEET, JOIN_SETTLE };

struct join_node {
	int64_t id, shard;
	int primary;
	char addr[16];
	int port;
	char nid[48];
	const char *slots; /* a primary's shard slots (join arena) */
	int leaving;	   /* its shard is being removed (reshard.c) */
	const char *pnid;  /* a replica's primary's node id */
};

struct join {
	int64_t rg_id;
	int creating; /* a new group (slots assigned), else a restart or reshard */
	enum join_step step;
	int pending, failed, waiting, polls;
	size_t n;
	struct join_node *v;
	struct arena *a;
	struct join *next;
};

/* One command of a join, to node v[i]. */
struct join_op {
	struct join *j;
	size_t i;
};

static struct join *joins;

static void join_advance(struct join *j);

/* join_end: the join is over (ok, or failed and left for the tick). */
static void join_end(struct join *j, int ok)
{
	struct fogbank *fb = ec_rt_fb();
	for (struct join **p = &joins; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	struct ec_rg rg;
	if (ec_rg_load(fb->db, j->a, j->rg_id, &rg) == 0) {
		if (ok && !j->creating) /* slots to move, shards to let go */
			ec_reshard_start(j->rg_id);
		else if (ok && ec_rg_set_status(fb->db, j->rg_id, EC_AVAILABLE, EC_CREATING))
			ec_event(fb->db, rg.account, rg.region, rg.name, "replication-group",
				 "Replication group created: %zu nodes joined in one Redis Cluster",
				 j->n);
		else if (!ok)
			log_warn("elasticache: %s: cluster join failed; retrying", rg.name);
	}
	arena_free(j->a);
	free(j);
	ec_rg_reconcile();
}

/* join_send: one command to v[i] whose reply goes to cb; a node that is
 * not running fails the step. */
static void join_send(struct join *j, size_t i, int argc, const char *const *argv,
		      redis_reply_cb *cb)
{
	struct ec_node *n = ec_node_get(j->v[i].id);
	if (!n || !n->r) {
		j->failed = 1;
		return;
	}
	struct join_op *op = malloc(sizeof(*op));
	if (!op)
		fb_die("out of memory");
	op->j = j;
	op->i = i;
	j->pending++;
	redis_command(n->r, argc, argv, cb, op);
}

/* join_reply_done: bookkeeping after any reply; the last one advances. */
static void join_reply_done(struct join_op *op)
{
	struct join *j = op->j;
	free(op);
	if (--j->pending == 0)
		join_advance(j);
}

/* myid_reply: CLUSTER MYID of v[i]: its node id. */
static void myid_reply(void *arg, int ok, const char *p, size_t len)
{
	struct join_op *op = arg;
	struct join_node *v = &op->j->v[op->i];
	if (ok == 1 && p && len < sizeof(v->nid))
		snprintf(v->nid, sizeof(v->nid), "%.*s", (int)len, p);
	else
		op->j->failed = 1;
	join_reply_done(op);
}

/* soft_reply: a step whose errors are expected on a rerun (MEET of a
 * known node, SET-CONFIG-EPOCH of a joined one); the polls decide. */
static void soft_reply(void *arg, int ok, const char *p, size_t len)
{
	struct join_op *op = arg;
	if (ok != 1)
		log_debug("elasticache: cluster join: %.*s", (int)len, p ? p : "no reply");
	/* REPLICATE answers "Unknown node" until gossip brought the primary */
	join_reply_done(op);
}

/* hard_reply: a step whose error fails the join (ADDSLOTSRANGE). */
static void hard_reply(void *arg, int ok, const char *p, size_t len)
{
	struct join_op *op = arg;
	if (ok != 1) {
		log_warn("elasticache: cluster join: %.*s", (int)len, p ? p : "no reply");
		op->j->failed = 1;
	}
	join_reply_done(op);
}

/* owned_slots: marks in map the slots the "myself" line of CLUSTER NODES
 * text (p, len) assigns; lines are copied into a (a fragmented slot list
 * makes them long). */
static void owned_slots(struct arena *a, const char *p, size_t len, int16_t *map)
{
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - p) : len;
		char *line = arena_strndup(a, p + i, end - i);
		i = end + 1;
		char *save = NULL, *f = strtok_r(line, " \r", &save);
		for (int k = 1; f && k < 3; k++)
			f = strtok_r(NULL, " \r", &save);
		if (!f || !strstr(f, "myself"))
			continue;
		for (int k = 3; f && k < 8; k++)
			f = strtok_r(NULL, " \r", &save);
		while ((f = strtok_r(NULL, " \r", &save)))
			if (f[0] != '[') /* migrating/importing marks are not owned */
				ec_slots_mark(f, map, 1);
	}
}

/* nodes_reply: a primary's CLUSTER NODES: adds the slots of its shard it
 * does not hold yet (one ADDSLOTSRANGE with every missing range). */
static void nodes_reply(void *arg, int ok, const char *p, size_t len)
{
	struct join_op *op = arg;
	struct join *j = op->j;
	struct join_node *v = &j->v[op->i];
	if (ok != 1 || !p) {
		j->failed = 1;
		join_reply_done(op);
		return;
	}
	int16_t *have = arena_zalloc(j->a, EC_SLOTS * sizeof(*have));
	int16_t *want = arena_zalloc(j->a, EC_SLOTS * sizeof(*want));
	owned_slots(j->a, p, len, have);
	ec_slots_mark(v->slots, want, 1);
	const char **argv = arena_alloc(j->a, (2 + EC_SLOTS) * sizeof(*argv));
	int argc = 0;
	argv[argc++] = "CLUSTER";
	argv[argc++] = "ADDSLOTSRANGE";
	for (int s = 0; s < EC_SLOTS; s++) {
		if (!want[s] || have[s])
			continue;
		int e = s;
		while (e + 1 < EC_SLOTS && want[e + 1] && !have[e + 1])
			e++;
		argv[argc++] = arena_sprintf(j->a, "%d", s);
		argv[argc++] = arena_sprintf(j->a, "%d", e);
		s = e;
	}
	if (argc > 2)
		join_send(j, op->i, argc, argv, hard_reply);
	join_reply_done(op);
}

/* view_ok: 1 when CLUSTER NODES text (p, len) of one node shows the
 * topology fogbank wants: every member known and not failing, primaries
 * as masters, each replica a slave of its own shard's primary. Gossip
 * spreads a REPLICATE to the other nodes only over time, and a client
 * asking any of them must get the final answer. */
static int view_ok(const struct join *j, const char *p, size_t len)
{
	size_t seen = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - p) : len;
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)(end - i), p + i);
		i = end + 1;
		char *save = NULL, *id = strtok_r(line, " \r", &save);
		char *addr = id ? strtok_r(NULL, " \r", &save) : NULL;
		char *flags = addr ? strtok_r(NULL, " \r", &save) : NULL;
		char *master = flags ? strtok_r(NULL, " \r", &save) : NULL;
		if (!master)
			continue;
		if (strstr(flags, "fail") || strstr(flags, "handshake") || strstr(flags, "noaddr"))
			return 0;
		for (size_t k = 0; k < j->n; k++) {
			const struct join_node *v = &j->v[k];
			if (strcmp(id, v->nid))
				continue;
			seen++;
			if (v->primary
				? !strstr(flags, "master")
				: !strstr(flags, "slave") || !v->pnid || strcmp(master, v->pnid))
				return 0;
		}
	}
	return seen == j->n;
}

/* settle_reply: CLUSTER NODES and CLUSTER INFO of any node, or INFO
 * replication of a replica (REPLICATEd again while it is still a master). */
static void settle_reply(void *arg, int ok, const char *p, size_t len)
{
	struct join_op *op = arg;
	struct join *j = op->j;
	struct join_node *v = &j->v[op->i];
	char *state = ok == 1 && p ? redis_info_field(p, len, "cluster_state") : NULL;
	char *role = ok == 1 && p ? redis_info_field(p, len, "role") : NULL;
	char *link = ok == 1 && p ? redis_info_field(p, len, "master_link_status") : NULL;
	if (ok != 1 || !p)
		j->waiting = 1;
	else if (!state && !role && !view_ok(j, p, len))
		j->waiting = 1; /* the CLUSTER NODES reply */
	if (state && strcmp(state, "ok"))
		j->waiting = 1;
	if (v->leaving) {
		/* its role is Redis's business until it is deleted */
	} else if (role && !strcmp(role, "master") && !v->pnid) {
		j->failed = 1; /* its shard has no primary in the store */
	} else if (role && !strcmp(role, "master")) {
		const char *argv[] = {"CLUSTER", "REPLICATE", v->pnid};
		join_send(j, op->i, 3, argv, soft_reply);
		j->waiting = 1;
	} else if (role && !v->leaving && (!link || strcmp(link, "up"))) {
		j->waiting = 1;
	}
	free(state);
	free(role);
	free(link);
	join_reply_done(op);
}

/* join_poll: one round of the SETTLE poll. */
static void join_poll(struct join *j)
{
	j->waiting = 0;
	j->pending++; /* held while sending: replies may fail at once */
	for (size_t i = 0; i < j->n; i++) {
		const char *nodes[] = {"CLUSTER", "NODES"}, *info[] = {"CLUSTER", "INFO"};
		const char *repl[] = {"INFO", "replication"};
		join_send(j, i, 2, info, settle_reply);
		join_send(j, i, 2, nodes, settle_reply);
		if (!j->v[i].primary)
			join_send(j, i, 2, repl, settle_reply);
	}
	if (--j->pending == 0)
		join_advance(j);
}

/* poll_timer_cb: the next round of the SETTLE poll. */
static void poll_timer_cb(struct loop *l, void *arg)
{
	join_poll(arg);
}

/* join_advance: every reply of the current step is in: the next step. */
static void join_advance(struct join *j)
{
	if (j->failed) {
		join_end(j, 0);
		return;
	}
	if (j->step == JOIN_SETTLE && j->waiting) {
		if (++j->polls > JOIN_POLLS) {
			join_end(j, 0);
			return;
		}
		loop_timer_add(ec_rt_fb()->loop, JOIN_POLL_MS, poll_timer_cb, j);
		return;
	}
	if (j->step == JOIN_SETTLE) {
		join_end(j, 1);
		return;
	}
	j->step++;
	j->polls = 0;
	j->pending++;
	if (j->step == JOIN_SLOTS) {
		/* only a new group takes slots here: in a running cluster they
		 * move by migration (reshard.c), never by a second claim */
		for (size_t i = 0; i < j->n; i++) {
			for (size_t k = 0; !j->v[i].primary && k < j->n; k++)
				if (j->v[k].primary && j->v[k].shard == j->v[i].shard)
					j->v[i].pnid = j->v[k].nid;
			const char *nodes[] = {"CLUSTER", "NODES"};
			if (j->v[i].primary && j->creating)
				join_send(j, i, 2, nodes, nodes_reply);
		}
	} else if (j->step == JOIN_MEET) {
		/* every pair meets directly (gossip would take a second a hop);
		 * a large group meets through its first node */
		size_t from_max = j->n <= JOIN_MESH_MAX ? j->n : 1;
		for (size_t f = 0; f < from_max; f++)
			for (size_t i = f + 1; i < j->n; i++) {
				char port[16];
				snprintf(port, sizeof(port), "%d", j->v[i].port);
				const char *argv[] = {"CLUSTER", "MEET", j->v[i].addr, port};
				join_send(j, f, 4, argv, soft_reply);
			}
	} else {
		j->pending--;
		join_poll(j);
		return;
	}
	if (--j->pending == 0)
		join_advance(j);
}

/* join_start: the join of group rg_id when every member serves; members
 * are listed from the store, their state from the runtime. */
static void join_start(int64_t rg_id)
{
	struct fogbank *fb = ec_rt_fb();
	struct join *j = calloc(1, sizeof(*j));
	if (!j)
		fb_die("out of memory");
	j->rg_id = rg_id;
	j->a = arena_new(16384);
	struct ec_rg rg;
	j->creating = ec_rg_load(fb->db, j->a, rg_id, &rg) == 0 && !strcmp(rg.status, EC_CREATING);
	struct ec_cluster *m;
	struct ec_shard *sh;
	size_t k = ec_clusters_of_rg(fb->db, j->a, rg_id, &m);
	size_t ns = ec_shards_of_rg(fb->db, j->a, rg_id, &sh);
	j->v = arena_zalloc(j->a, (k ? k : 1) * sizeof(*j->v));
	int ready = k > 0;
	for (size_t i = 0; i < k; i++) {
		struct ec_node *n = ec_node_get(m[i].id);
		ready = ready && n && n->r && n->ready && n->want == EC_WANT_RUN;
		struct join_node *v = &j->v[i];
		v->id = m[i].id;
		v->shard = m[i].shard;
		v->primary = m[i].role && !strcmp(m[i].role, "primary");
		v->port = (int)m[i].port;
		snprintf(v->addr, sizeof(v->addr), "%s", m[i].addr);
		v->leaving = 1;
		for (size_t s = 0; s < ns; s++)
			if (sh[s].shard == v->shard) {
				v->slots = sh[s].slots;
				v->leaving = 0;
			}
		ready = ready && (!j->creating || !v->primary || v->slots);
	}
	j->n = k;
	if (!ready) {
		arena_free(j->a);
		free(j);
		return;
	}
	j->next = joins;
	joins = j;
	log_info("elasticache: joining %zu nodes into one Redis Cluster", k);
	j->pending++;
	for (size_t i = 0; i < k; i++) {
		const char *myid[] = {"CLUSTER", "MYID"};
		join_send(j, i, 2, myid, myid_reply);
		/* distinct epochs up front spare the collision rounds */
		char epoch[24];
		snprintf(epoch, sizeof(epoch), "%zu", i + 1);
		const char *argv[] = {"CLUSTER", "SET-CONFIG-EPOCH", epoch};
		if (j->v[i].primary && j->creating)
			join_send(j, i, 3, argv, soft_reply);
	}
	if (--j->pending == 0)
		join_advance(j);
}

/* ec_cluster_kick: see internal.h. */
void ec_cluster_kick(int64_t rg_id)
{
	for (struct join *j = joins; j; j = j->next)
		if (j->rg_id == rg_id)
			return;
	if (ec_reshard_busy(rg_id))
		return;
	struct fogbank *fb = ec_rt_fb();
	struct arena *a = arena_new(2048);
	struct ec_rg rg;
	int due = ec_rg_load(fb->db, a, rg_id, &rg) == 0 && rg.cluster_mode &&
		  (!strcmp(rg.status, EC_CREATING) || !strcmp(rg.status, EC_MODIFYING));
	arena_free(a);
	if (due)
		join_start(rg_id);
}

/* ec_cluster_shutdown: see internal.h. */
void ec_cluster_shutdown(void)
{
	while (joins) {
		struct join *j = joins;
		joins = j->next;
		arena_free(j->a);
		free(j);
	}
}
