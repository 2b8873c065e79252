/* failover.c - replication groups at run time: the endpoint addresses
 * follow the roles, and a dead primary is replaced by a replica.
 *
 * Design: a group's PrimaryEndpoint and ReaderEndpoint are loopback
 * addresses of their own. No proxy forwards them: the primary's server
 * listens on its node address and the primary endpoint address (CONFIG
 * SET bind), and the reader endpoint address is held by the first ready
 * replica (the primary when none is). Moving an address is two phases
 * over all groups at once: first every server that must let go of an
 * address rebinds without it, then every server that must take one binds
 * it, so two servers never race for the same address and port. A dead
 * server's sockets are closed by the kernel before fogbank reaps it, so
 * a failover can bind the primary address at once. Reconciling runs after
 * every start, death and promotion; requests for it while one is running
 * are folded into one more pass. */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "store/addr.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

static int rc_busy, rc_dirty, rc_phase, rc_pending;
/* a CONFIG SET bind failed in this pass; the retry's delay (ms) */
static int rc_failed, rc_backoff_ms;

/* holds: 1 when the space-separated list has word w. */
static int holds(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, " ");
		if (k == n && !memcmp(p, w, n))
			return 1;
		p += k + (p[k] == ' ');
	}
	return 0;
}

/* reader_of: the node that holds group rg's reader address: its first
 * ready replica by member number, else its ready primary. */
static struct ec_node *reader_of(int64_t rg)
{
	struct ec_node *best = NULL, *primary = NULL;
	for (struct ec_node *n = ec_node_list(); n; n = n->next) {
		if (n->rg_id != rg || !n->ready || !n->r)
			continue;
		if (n->is_primary)
			primary = n;
		else if (!best || n->member_no < best->member_no)
			best = n;
	}
	return best ? best : primary;
}

/* cfg_holder: the node that holds cluster-mode group rg's configuration
 * endpoint: its first serving primary by member number, else any serving
 * node (every node answers with MOVED to the right one). */
static struct ec_node *cfg_holder(int64_t rg)
{
	struct ec_node *best = NULL;
	for (struct ec_node *n = ec_node_list(); n; n = n->next) {
		if (n->rg_id != rg || !n->ready || !n->r || n->want != EC_WANT_RUN)
			continue;
		if (!best || (n->is_primary && !best->is_primary) ||
		    (n->is_primary == best->is_primary && n->member_no < best->member_no))
			best = n;
	}
	return best;
}

/* desired: the bind list node n should have. */
static void desired(struct ec_node *n, char out[64])
{
	snprintf(out, 64, "%s", n->addr);
	if (n->cluster) {
		if (n->cfg_addr[0] && cfg_holder(n->rg_id) == n)
			snprintf(out, 64, "%s %s", n->addr, n->cfg_addr);
		return;
	}
	size_t o = strlen(out);
	if (n->is_primary && n->primary_addr[0])
		o += (size_t)snprintf(out + o, 64 - o, " %s", n->primary_addr);
	if (n->reader_addr[0] && reader_of(n->rg_id) == n)
		snprintf(out + o, 64 - o, " %s", n->reader_addr);
}

struct bind_op {
	int64_t id;
	uint64_t gen;
	char bind[64];
};

static void rc_step(void);

static void rc_finish(void);

static void bind_reply(void *arg, int ok, const char *p, size_t len)
{
	struct bind_op *op = arg;
	struct ec_node *n = ec_node_get(op->id);
	if (ok == 1 && n && n->gen == op->gen) {
		snprintf(n->bind, sizeof(n->bind), "%s", op->bind);
	} else if (n && n->r) {
		/* e.g. EADDRINUSE while a just-forked child (an AOF rewrite after
		 * a sync) still holds the listening sockets: the server may now
		 * listen nowhere, and n->bind still differs from what it wants */
		log_warn("elasticache: %s: CONFIG SET bind %s failed: %.*s", n->name, op->bind,
			 (int)len, p ? p : "");
		rc_failed = 1;
	}
	free(op);
	if (--rc_pending > 0)
		return;
	if (rc_phase == 1) {
		rc_phase = 2;
		rc_step();
	} else {
		rc_finish();
	}
}

/* send_bind: CONFIG SET bind on n. */
static void send_bind(struct ec_node *n, const char *bind)
{
	struct bind_op *op = calloc(1, sizeof(*op));
	if (!op)
		fb_die("out of memory");
	op->id = n->id;
	op->gen = n->gen;
	snprintf(op->bind, sizeof(op->bind), "%s", bind);
	const char *argv[] = {"CONFIG", "SET", "bind", bind};
	rc_pending++;
	redis_command(n->r, 4, argv, bind_reply, op);
}

/* rc_step: sends one phase's commands; with none to send, moves on. */
static void rc_step(void)
{
	for (struct ec_node *n = ec_node_list(); n; n = n->next) {
		if (!n->rg_id || !n->r || !n->ready)
			continue;
		char want[64], keep[64] = "";
		desired(n, want);
		if (!strcmp(want, n->bind))
			continue;
		if (rc_phase == 2) {
			send_bind(n, want);
			continue;
		}
		/* phase 1: drop what it must give up, keep the rest */
		int drops = 0;
		for (const char *p = n->bind; *p;) {
			size_t k = strcspn(p, " ");
			char w[20];
			snprintf(w, sizeof(w), "%.*s", (int)k, p);
			if (holds(want, w))
				snprintf(keep + strlen(keep), sizeof(keep) - strlen(keep), "%s%s",
					 keep[0] ? " " : "", w);
			else
				drops = 1;
			p += k + (p[k] == ' ');
		}
		if (drops)
			send_bind(n, keep[0] ? keep : n->addr);
	}
	if (rc_pending == 0) {
		if (rc_phase == 1) {
			rc_phase = 2;
			rc_step();
		} else {
			rc_finish();
		}
	}
}

/* rc_retry_cb: a pass again after a failed CONFIG SET bind. */
static void rc_retry_cb(struct loop *l, void *arg)
{
	ec_rg_reconcile();
}

/* rc_finish: groups whose members all serve and whose primary holds the
 * primary address become available; then a pass asked for meanwhile. */
static void rc_finish(void)
{
	struct fogbank *fb = ec_rt_fb();
	for (struct ec_node *n = ec_node_list(); n; n = n->next) {
		/* a cluster-mode group is available when its cluster is (cluster.c) */
		if (!n->rg_id || n->cluster || !n->is_primary || !n->ready ||
		    !holds(n->bind, n->primary_addr))
			continue;
		int all = 1;
		for (struct ec_node *m = ec_node_list(); m; m = m->next)
			if (m->rg_id == n->rg_id && (!m->ready || m->want != EC_WANT_RUN))
				all = 0;
		if (all &&
		    ec_rg_set_status(fb->db, n->rg_id, EC_AVAILABLE, EC_CREATING "|" EC_MODIFYING))
			log_info("elasticache: replication group of %s available", n->name);
	}
	rc_busy = 0;
	if (rc_failed) {
		/* retried until it takes, backing off to once every 5 s */
		rc_failed = 0;
		rc_backoff_ms = rc_backoff_ms ? rc_backoff_ms * 2 : 50;
		if (rc_backoff_ms > 5000)
			rc_backoff_ms = 5000;
		loop_timer_add(fb->loop, rc_backoff_ms, rc_retry_cb, NULL);
	} else {
		rc_backoff_ms = 0;
	}
	if (rc_dirty)
		ec_rg_reconcile();
}

void ec_rg_reconcile(void)
{
	if (rc_busy) {
		rc_dirty = 1;
		return;
	}
	rc_busy = 1;
	rc_dirty = 0;
	rc_phase = 1;
	rc_pending = 0;
	rc_step();
}

/* promote_reply: the new primary left replication: move the addresses. */
static void promote_reply(void *arg, int ok, const char *p, size_t len)
{
	char *name = arg;
	if (ok != 1)
		log_warn("elasticache: %s: REPLICAOF NO ONE failed: %.*s", name, (int)len,
			 p ? p : "");
	free(name);
	ec_rg_reconcile();
}

void ec_rg_promote(int64_t rg_id, int64_t id)
{
	struct fogbank *fb = ec_rt_fb();
	struct ec_node *np = ec_node_get(id);
	if (!np)
		return;
	sqlite3_stmt *st =
	    db_stmt(fb->db, "UPDATE ec_clusters SET role = CASE WHEN id = ?2 THEN 'primary' "
			    "ELSE 'replica' END WHERE rg_id = ?1");
	sqlite3_bind_int64(st, 1, rg_id);
	sqlite3_bind_int64(st, 2, id);
	if (db_step_done(st) != SQLITE_DONE)
		log_error("elasticache: cannot record the new primary %s", np->name);
	for (struct ec_node *n = ec_node_list(); n; n = n->next) {
		if (n->rg_id != rg_id)
			continue;
		n->is_primary = n == np;
		if (n == np || !n->r)
			continue;
		char port[16];
		snprintf(port, sizeof(port), "%d", np->port);
		const char *argv[] = {"REPLICAOF", np->addr, port};
		ec_node_send(n, 3, argv);
	}
	if (np->r) {
		const char *argv[] = {"REPLICAOF", "NO", "ONE"};
		redis_command(np->r, 3, argv, promote_reply, strdup(np->name));
	}
}

int ec_rg_node_down(struct ec_node *dead)
{
	struct fogbank *fb = ec_rt_fb();
	if (!dead->is_primary)
		return 0;
	struct arena *a = arena_new(4096);
	struct ec_rg rg;
	int auto_failover = ec_rg_load(fb->db, a, dead->rg_id, &rg) == 0 && rg.auto_failover;
	struct ec_node *best = NULL;
	for (struct ec_node *n = ec_node_list(); auto_failover && n; n = n->next)
		if (n->rg_id == dead->rg_id && n != dead && n->ready && n->r &&
		    (!best || n->member_no < best->member_no))
			best = n;
	if (best) {
		ec_event(fb->db, rg.account, rg.region, rg.name, "replication-group",
			 "Failover from primary node %s-%s to replica node %s-%s completed",
			 dead->name, EC_NODE_ID, best->name, EC_NODE_ID);
		ec_rg_promote(dead->rg_id, best->id);
	}
	arena_free(a);
	return best != NULL;
}

void ec_rg_finish_delete(struct db *db, struct arena *a, int64_t rg_id)
{
	struct ec_rg rg;
	if (ec_rg_load(db, a, rg_id, &rg) < 0 || strcmp(rg.status, EC_DELETING))
		return;
	sqlite3_stmt *st = db_stmt(db, "SELECT COUNT(*) FROM ec_clusters WHERE rg_id = ?1");
	sqlite3_bind_int64(st, 1, rg_id);
	int64_t left = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 1;
	sqlite3_reset(st);
	if (left)
		return;
	addr_free(db, ec_rg_owner(a, rg.account, rg.region, rg.name, "primary"));
	addr_free(db, ec_rg_owner(a, rg.account, rg.region, rg.name, "reader"));
	addr_free(db, ec_rg_owner(a, rg.account, rg.region, rg.name, "config"));
	ec_autosnap_drop(db, a, rg.account, rg.region, NULL, rg.name);
	ec_tags_drop(db, ec_arn(a, rg.region, rg.account, "replicationgroup", rg.name));
	st = db_stmt(db, "DELETE FROM ec_rgs WHERE id = ?1");
	sqlite3_bind_int64(st, 1, rg_id);
	db_step_done(st);
	ec_event(db, rg.account, rg.region, rg.name, "replication-group",
		 "Replication group deleted");
}
