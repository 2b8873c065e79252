/* runtime.c - one supervised redis-server per cache cluster. A node is
 * (re)started from its row, so a restart always reflects the stored
 * settings (role, token, parameter group). Status follows the server:
 * available only at the first PONG (a replica: once its link to the
 * primary is up); a server that dies is reported (event, status) and
 * restarted, with a growing delay when it keeps dying young. */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "store/addr.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>
#include <sys/wait.h>

#define EC_YOUNG_MS 5000 /* dying sooner than this after start counts as a crash loop */
#define EC_BACKOFF_MAX_MS 30000
#define EC_SYNC_POLL_MS 10
#define EC_SYNC_POLLS 300 /* a replica waits 3 s at most for its link */

static struct fogbank *rt_fb;
static struct ec_node *nodes;

void ec_rt_attach(struct fogbank *fb)
{
	rt_fb = fb;
}

struct fogbank *ec_rt_fb(void)
{
	return rt_fb;
}

struct ec_node *ec_node_get(int64_t id)
{
	for (struct ec_node *n = nodes; n; n = n->next)
		if (n->id == id)
			return n;
	return NULL;
}

struct ec_node *ec_node_list(void)
{
	return nodes;
}

static void node_free(struct ec_node *n)
{
	free(n->name);
	free(n->account);
	free(n->region);
	free(n);
}

/* node_unregister: takes n off the list and frees it (its server is gone). */
static void node_unregister(struct ec_node *n)
{
	for (struct ec_node **p = &nodes; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			break;
		}
	if (n->restart_timer)
		loop_timer_cancel(rt_fb->loop, n->restart_timer);
	node_free(n);
}

/* node_register: the runtime node of cluster row cl, created on first use. */
static struct ec_node *node_register(const struct ec_cluster *cl)
{
	struct ec_node *n = ec_node_get(cl->id);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			fb_die("out of memory");
		n->id = cl->id;
		n->name = strdup(cl->name);
		n->account = strdup(cl->account);
		n->region = strdup(cl->region);
		n->next = nodes;
		nodes = n;
	}
	n->rg_id = cl->rg_id;
	n->member_no = cl->member_no;
	n->shard = cl->shard;
	n->cluster = cl->cluster_mode;
	n->port = (int)cl->port;
	n->is_primary = cl->role && !strcmp(cl->role, "primary");
	snprintf(n->addr, sizeof(n->addr), "%s", cl->addr);
	return n;
}

static void node_event(struct redis *r, enum redis_event ev, int status, void *arg);

/* primary_of: the address of the primary member of group rg_id ("" when
 * none is known). */
static void primary_of(struct arena *a, int64_t rg_id, char out[16])
{
	struct ec_cluster *m;
	size_t k = ec_clusters_of_rg(rt_fb->db, a, rg_id, &m);
	out[0] = 0;
	for (size_t i = 0; i < k; i++)
		if (m[i].role && !strcmp(m[i].role, "primary"))
			snprintf(out, 16, "%s", m[i].addr);
}

static void schedule_restart(struct ec_node *n);

/* node_spawn: starts n's server from its row. */
static void node_spawn(struct ec_node *n)
{
	struct arena *a = arena_new(8192);
	struct ec_cluster cl;
	if (ec_cluster_load(rt_fb->db, a, n->id, &cl) < 0) {
		arena_free(a);
		return;
	}
	node_register(&cl);
	char primary[16] = "", *err = NULL;
	struct ec_rg rg = {0};
	if (cl.rg_id && ec_rg_load(rt_fb->db, a, cl.rg_id, &rg) == 0) {
		snprintf(n->primary_addr, sizeof(n->primary_addr), "%s", rg.primary_addr);
		snprintf(n->reader_addr, sizeof(n->reader_addr), "%s", rg.reader_addr);
		snprintf(n->cfg_addr, sizeof(n->cfg_addr), "%s", rg.cfg_addr);
		/* a cluster node finds its primary in nodes.conf, not replicaof */
		if (!n->is_primary && !n->cluster)
			primary_of(a, cl.rg_id, primary);
	}
	const char *dir = ec_node_dir(a, rt_fb->data_dir, n->id);
	struct redis_spec spec = {
	    .name = arena_sprintf(a, "elasticache/%s", cl.name),
	    .dir = dir,
	    .bind = cl.addr,
	    .source_addr = cl.addr,
	    .port = (int)cl.port,
	    .password = cl.auth_token,
	    .password_old = cl.auth_token_old,
	    .primary_host = primary[0] ? primary : NULL,
	    .primary_port = (int)cl.port,
	    .maxmemory = ec_node_type_memory(cl.node_type),
	    .params = ec_params_conf(rt_fb->db, a, cl.account, cl.region, cl.param_group),
	    .cluster = n->cluster,
	    .announce_ip = cl.addr,
	};
	if (cl.auth_unreadable) {
		err = strdup("its auth token does not open with this master.key");
	} else if (fs_mkdir_p(dir, 0700) < 0) {
		err = strdup("cannot create the node directory");
	} else if (cl.transit && ec_tls_files(rt_fb, a, &cl, &rg, &spec) < 0) {
		err = strdup("cannot issue the node's TLS certificate");
	} else {
		n->r = redis_start(rt_fb->loop, &spec, node_event, n, &err);
		if (n->r) {
			n->ready = 0;
			n->gen++;
			n->started_ms = fb_mono_ms();
			n->bind[0] = 0;
			snprintf(n->bind, sizeof(n->bind), "%s", cl.addr);
		}
	}
	if (!n->r) {
		ec_event(rt_fb->db, cl.account, cl.region, cl.name, "cache-cluster",
			 "Cache node %s could not be started: %s", EC_NODE_ID, err ? err : "?");
		n->crashes++;
		schedule_restart(n);
	}
	free(err);
	arena_free(a);
}

static void restart_cb(struct loop *l, void *arg)
{
	struct ec_node *n = arg;
	n->restart_timer = 0;
	if (n->want == EC_WANT_GONE)
		ec_node_finish_delete(n->id);
	else if (!n->r)
		node_spawn(n);
}

/* schedule_restart: starts n again at once, or after 100 ms doubling per
 * consecutive young death (30 s at most). */
static void schedule_restart(struct ec_node *n)
{
	int64_t delay = 0;
	if (n->crashes > 1) {
		delay = 100;
		for (int i = 2; i < n->crashes && delay < EC_BACKOFF_MAX_MS; i++)
			delay *= 2;
		if (delay > EC_BACKOFF_MAX_MS)
			delay = EC_BACKOFF_MAX_MS;
	}
	if (n->restart_timer)
		loop_timer_cancel(rt_fb->loop, n->restart_timer);
	n->restart_timer = loop_timer_add(rt_fb->loop, delay, restart_cb, n);
}

/* node_available: n serves: the row becomes available, with the event its
 * previous status calls for. */
static void node_available(struct ec_node *n)
{
	n->ready = 1;
	struct arena *a = arena_new(4096);
	struct ec_cluster cl;
	if (ec_cluster_load(rt_fb->db, a, n->id, &cl) == 0) {
		const char *was = cl.status;
		if (ec_set_status(rt_fb->db, n->id, EC_AVAILABLE,
				  EC_CREATING "|" EC_REBOOTING "|" EC_MODIFYING)) {
			if (!strcmp(was, EC_CREATING))
				ec_event(rt_fb->db, n->account, n->region, n->name, "cache-cluster",
					 "Cache cluster created");
			else
				ec_event(rt_fb->db, n->account, n->region, n->name, "cache-cluster",
					 "Cache node %s restarted", EC_NODE_ID);
		}
		sqlite3_stmt *st = db_stmt(rt_fb->db, "UPDATE ec_clusters SET param_status = "
						      "'in-sync' WHERE id = ?1");
		sqlite3_bind_int64(st, 1, n->id);
		db_step_done(st);
	}
	arena_free(a);
	log_info("elasticache: %s serves on %s:%d (%lld ms after start)", n->name, n->addr, n->port,
		 (long long)(fb_mono_ms() - n->started_ms));
	if (n->cluster)
		ec_cluster_kick(n->rg_id);
	else if (n->rg_id && n->is_primary)
		for (struct ec_node *m = nodes; m; m = m->next)
			if (m->rg_id == n->rg_id && m->await_primary) {
				m->await_primary = 0;
				if (!m->r && m->want == EC_WANT_RUN)
					node_spawn(m);
			}
	if (n->rg_id)
		ec_rg_reconcile();
}

/* A replica's wait for its replication link, bound to one run. */
struct sync_wait {
	int64_t id;
	uint64_t gen;
	int polls;
};

static void sync_poll(struct sync_wait *w);

static void sync_timer_cb(struct loop *l, void *arg)
{
	sync_poll(arg);
}

static void sync_reply(void *arg, int ok, const char *p, size_t len)
{
	struct sync_wait *w = arg;
	struct ec_node *n = ec_node_get(w->id);
	if (!n || n->gen != w->gen || !n->r) {
		free(w);
		return;
	}
	char *link = ok == 1 && p ? redis_info_field(p, len, "master_link_status") : NULL;
	char *role = ok == 1 && p ? redis_info_field(p, len, "role") : NULL;
	int up = (link && !strcmp(link, "up")) || (role && !strcmp(role, "master"));
	free(link);
	free(role);
	if (up || ++w->polls >= EC_SYNC_POLLS) {
		if (!up)
			log_warn("elasticache: %s: replication link still down; available anyway",
				 n->name);
		free(w);
		node_available(n);
		return;
	}
	loop_timer_add(rt_fb->loop, EC_SYNC_POLL_MS, sync_timer_cb, w);
}

static void sync_poll(struct sync_wait *w)
{
	struct ec_node *n = ec_node_get(w->id);
	if (!n || n->gen != w->gen || !n->r) {
		free(w);
		return;
	}
	const char *info[] = {"INFO", "replication"};
	redis_command(n->r, 2, info, sync_reply, w);
}

/* node_exited: the server of n is gone: finish a delete, continue a
 * reboot, or report the death and restart (failing over first when n
 * was a primary with automatic failover). */
static void node_exited(struct ec_node *n, int status)
{
	n->r = NULL;
	n->ready = 0;
	n->bind[0] = 0;
	for (struct ec_node *m = nodes; n->is_primary && m; m = m->next)
		if (m->rg_id == n->rg_id && m->await_primary) { /* no point waiting now */
			m->await_primary = 0;
			if (!m->r && m->want == EC_WANT_RUN)
				schedule_restart(m);
		}
	if (n->want == EC_WANT_GONE) {
		ec_node_finish_delete(n->id);
		return;
	}
	if (n->want == EC_WANT_RESTART) {
		n->want = EC_WANT_RUN;
		n->crashes = 0;
		node_spawn(n);
		return;
	}
	char how[64];
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	ec_event(rt_fb->db, n->account, n->region, n->name, "cache-cluster",
		 "Cache node %s failed (%s); recovering", EC_NODE_ID, how);
	ec_set_status(rt_fb->db, n->id, EC_REBOOTING,
		      EC_AVAILABLE "|" EC_MODIFYING "|" EC_SNAPSHOTTING);
	n->crashes = fb_mono_ms() - n->started_ms < EC_YOUNG_MS ? n->crashes + 1 : 1;
	if (n->rg_id) {
		if (!n->cluster) /* Redis Cluster elects its own primaries */
			ec_rg_node_down(n);
		ec_rg_reconcile();
	}
	schedule_restart(n);
}

static void node_event(struct redis *r, enum redis_event ev, int status, void *arg)
{
	struct ec_node *n = arg;
	if (ev == REDIS_EXIT) {
		node_exited(n, status);
		return;
	}
	if (n->want != EC_WANT_RUN)
		return;
	if (n->rg_id && !n->is_primary && !n->cluster) {
		struct sync_wait *w = calloc(1, sizeof(*w));
		if (!w)
			fb_die("out of memory");
		w->id = n->id;
		w->gen = n->gen;
		sync_poll(w);
		return;
	}
	node_available(n);
}

/* primary_starting: 1 when n is a replica whose group's primary is
 * starting right now: redis would retry its first sync only a second
 * later, so n starts when the primary serves (node_available). */
static int primary_starting(const struct ec_node *n)
{
	if (!n->rg_id || n->is_primary || n->cluster)
		return 0;
	for (struct ec_node *p = nodes; p; p = p->next)
		if (p->rg_id == n->rg_id && p->is_primary && p->r && !p->ready)
			return 1;
	return 0;
}

void ec_node_start(int64_t id)
{
	struct ec_node *n = ec_node_get(id);
	if (n && (n->r || n->restart_timer || n->await_primary))
		return;
	if (!n) {
		struct arena *a = arena_new(4096);
		struct ec_cluster cl;
		if (ec_cluster_load(rt_fb->db, a, id, &cl) == 0)
			n = node_register(&cl);
		arena_free(a);
		if (!n)
			return;
	}
	if (primary_starting(n)) {
		n->await_primary = 1;
		return;
	}
	node_spawn(n);
}

void ec_node_reboot(int64_t id)
{
	struct ec_node *n = ec_node_get(id);
	if (!n || !n->r) {
		ec_node_start(id);
		return;
	}
	n->want = EC_WANT_RESTART;
	redis_stop(n->r);
}

void ec_node_delete(int64_t id, int64_t snap_id)
{
	struct ec_node *n = ec_node_get(id);
	if (snap_id && n && n->r && n->ready) {
		ec_snapshot_run(snap_id, id, 1);
		return;
	}
	if (snap_id) { /* no server to save from: the final snapshot fails */
		sqlite3_stmt *st = db_stmt(rt_fb->db, "UPDATE ec_snapshots SET status = 'failed' "
						      "WHERE id = ?1");
		sqlite3_bind_int64(st, 1, snap_id);
		db_step_done(st);
		log_warn("elasticache: final snapshot of cluster %lld failed: the node is down",
			 (long long)id);
	}
	if (!n) {
		struct arena *a = arena_new(4096);
		struct ec_cluster cl;
		if (ec_cluster_load(rt_fb->db, a, id, &cl) == 0)
			n = node_register(&cl);
		arena_free(a);
		if (!n)
			return;
	}
	n->want = EC_WANT_GONE;
	if (n->r)
		redis_stop(n->r);
	else /* from the loop: the caller's response still shows "deleting" */
		schedule_restart(n);
}

void ec_node_finish_delete(int64_t id)
{
	struct ec_node *n = ec_node_get(id);
	struct db *db = rt_fb->db;
	struct arena *a = arena_new(4096);
	struct ec_cluster cl;
	int64_t rg_id = 0;
	if (ec_cluster_load(db, a, id, &cl) == 0) {
		rg_id = cl.rg_id;
		db_begin(db);
		ec_tags_drop(db, ec_arn(a, cl.region, cl.account, "cluster", cl.name));
		addr_free(db, ec_node_owner(a, cl.account, cl.region, cl.name));
		sqlite3_stmt *st = db_stmt(db, "DELETE FROM ec_clusters WHERE id = ?1");
		sqlite3_bind_int64(st, 1, id);
		db_step_done(st);
		ec_event(db, cl.account, cl.region, cl.name, "cache-cluster",
			 "Cache cluster deleted");
		if (rg_id)
			ec_rg_finish_delete(db, a, rg_id);
		else /* as on AWS: automated snapshots go with their cluster */
			ec_autosnap_drop(db, a, cl.account, cl.region, cl.name, NULL);
		if (db_commit(db) != SQLITE_OK) {
			db_rollback(db);
			log_error("elasticache: cannot delete %s from the store", cl.name);
		}
	}
	ec_rm_rf(ec_node_dir(a, rt_fb->data_dir, id));
	arena_free(a);
	if (n)
		node_unregister(n);
	if (rg_id)
		ec_rg_reconcile();
}

/* send_reply: the outcome of a fire-and-forget command. */
static void send_reply(void *arg, int ok, const char *p, size_t n)
{
	char *what = arg;
	if (ok != 1)
		log_warn("elasticache: %s failed: %.*s", what, (int)n, p ? p : "");
	free(what);
}

void ec_node_send(struct ec_node *n, int argc, const char *const *argv)
{
	if (!n->r)
		return;
	char *what = NULL;
	if (asprintf(&what, "%s: %s %s", n->name, argv[0], argc > 1 ? argv[1] : "") < 0)
		fb_die("out of memory");
	redis_command(n->r, argc, argv, send_reply, what);
}

void elasticache_restore_all(struct fogbank *fb)
{
	ec_rt_attach(fb);
	struct db *db = fb->db;
	ec_seal_legacy(db, fb->data_dir);
	ec_snapshots_interrupted(db);
	/* a cluster-mode group is available again when its cluster is: every
	 * node back, agreeing on the topology (cluster.c) */
	db_exec(db, "UPDATE ec_rgs SET status = 'modifying' WHERE cluster_mode = 1 AND status IN "
		    "('available', 'snapshotting')");
	ec_tick_start();
	/* primaries first: their replicas wait for them (primary_starting) */
	sqlite3_stmt *st = db_stmt(db, "SELECT id, status FROM ec_clusters ORDER BY "
				       "IFNULL(role, 'primary') != 'primary', id");
	size_t k = 0, cap = 16;
	int64_t *ids = malloc(cap * sizeof(*ids));
	int *gone = malloc(cap * sizeof(*gone));
	while (ids && gone && sqlite3_step(st) == SQLITE_ROW) {
		if (k == cap) {
			cap *= 2;
			ids = realloc(ids, cap * sizeof(*ids));
			gone = realloc(gone, cap * sizeof(*gone));
			if (!ids || !gone)
				fb_die("out of memory");
		}
		ids[k] = sqlite3_column_int64(st, 0);
		gone[k++] = !strcmp(db_col_text(st, 1), EC_DELETING);
	}
	sqlite3_reset(st);
	if (!ids || !gone)
		fb_die("out of memory");
	for (size_t i = 0; i < k; i++) {
		if (gone[i]) {
			ec_node_delete(ids[i], 0);
			continue;
		}
		/* honest until the first PONG: the node is starting again */
		ec_set_status(db, ids[i], EC_REBOOTING,
			      EC_AVAILABLE "|" EC_MODIFYING "|" EC_SNAPSHOTTING);
		ec_node_start(ids[i]);
	}
	if (k)
		log_info("elasticache: restoring %zu cache cluster(s)", k);
	free(ids);
	free(gone);
}

void elasticache_shutdown(void)
{
	ec_cluster_shutdown();
	ec_reshard_shutdown();
	ec_tick_stop();
	ec_seal_reset();
	while (nodes) {
		struct ec_node *n = nodes;
		nodes = n->next;
		if (n->r)
			redis_release(n->r);
		node_free(n);
	}
	redis_release(NULL);
}
