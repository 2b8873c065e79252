/* snapjob.c - taking and seeding snapshots. A snapshot is a real RDB:
 * BGSAVE SCHEDULE on the node (it waits for an AOF rewrite instead of
 * failing), INFO persistence polled until rdb_saves moves past its value
 * before the request, then dump.rdb copied durably (temp, fsync, rename,
 * fsync of the directory; a hard link when possible, since redis never
 * rewrites an RDB in place) to elasticache/snapshots/<id>.rdb. A snapshot
 * of a cluster-mode group is one such RDB per shard, taken from every
 * shard's primary at once (<id>-<shard>.rdb); it is available when all
 * are. Seeding a new node puts an RDB in its directory as the AOF base
 * file with a one-line manifest, so redis-server loads it at start and
 * keeps AOF persistence from there. */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_POLL_MS 10

/* One snapshot being taken: one job per node saved. */
struct snap_set {
	int64_t snap_id;
	int64_t rg_id; /* a cluster-mode group's snapshot: its id; else 0 */
	int64_t first; /* the (first) cluster saved, for events */
	int then_delete;
	int pending, failed;
	int64_t bytes;
	char why[200];
	size_t n;
	int64_t *ids; /* the clusters saved (their status goes back) */
};

struct snap_job {
	struct snap_set *set;
	int64_t id, shard; /* shard: 0 unless a cluster-mode snapshot */
	uint64_t gen;
	long long saves_before;
	int step; /* 0: reading rdb_saves, 1: BGSAVE sent, 2: polling */
};

/* set_event: the snapshot's outcome as an event of its cluster. */
static void set_event(struct snap_set *s, int ok)
{
	struct fogbank *fb = ec_rt_fb();
	struct arena *a = arena_new(4096);
	struct ec_cluster cl;
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT name FROM ec_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, s->snap_id);
	const char *name =
	    sqlite3_step(st) == SQLITE_ROW ? arena_strdup(a, db_col_text(st, 0)) : "?";
	sqlite3_reset(st);
	if (ec_cluster_load(fb->db, a, s->first, &cl) == 0) {
		const char *src = cl.rg_name && s->rg_id ? cl.rg_name : cl.name;
		const char *type = cl.rg_name && s->rg_id ? "replication-group" : "cache-cluster";
		if (ok)
			ec_event(fb->db, cl.account, cl.region, src, type,
				 "Snapshot succeeded for snapshot with ID '%s' of %s '%s'", name,
				 s->rg_id ? "replication group" : "cache cluster", src);
		else
			ec_event(fb->db, cl.account, cl.region, src, type,
				 "Snapshot failed for snapshot with ID '%s': %s", name, s->why);
		if (cl.rg_id)
			ec_rg_set_status(fb->db, cl.rg_id, EC_AVAILABLE, EC_SNAPSHOTTING);
	}
	arena_free(a);
}

/* set_finish: every job is done: records the outcome, then deletes what
 * was being deleted (only when the final snapshot is safe) or gives the
 * clusters their status back. Frees s. */
static void set_finish(struct snap_set *s)
{
	struct fogbank *fb = ec_rt_fb();
	int ok = !s->failed;
	sqlite3_stmt *st = db_stmt(fb->db, "UPDATE ec_snapshots SET status = ?2, size_bytes = ?3, "
					   "created = ?4 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, s->snap_id);
	sqlite3_bind_text(st, 2, ok ? "available" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s->bytes);
	sqlite3_bind_double(st, 4, (double)fb_wall_ms() / 1000.0);
	db_step_done(st);
	set_event(s, ok);
	if (s->then_delete && ok) {
		if (s->rg_id) { /* every member goes now that the data is safe */
			struct arena *a = arena_new(4096);
			struct ec_cluster *m;
			size_t k = ec_clusters_of_rg(fb->db, a, s->rg_id, &m);
			for (size_t i = 0; i < k; i++)
				ec_node_delete(m[i].id, 0);
			arena_free(a);
		} else {
			ec_node_delete(s->first, 0);
		}
	} else {
		if (s->then_delete)
			log_warn("elasticache: final snapshot failed; the cluster is kept");
		for (size_t i = 0; i < s->n; i++)
			ec_set_status(fb->db, s->ids[i], EC_AVAILABLE,
				      EC_SNAPSHOTTING "|" EC_DELETING);
		if (s->then_delete && s->rg_id)
			ec_rg_set_status(fb->db, s->rg_id, EC_AVAILABLE, EC_DELETING);
	}
	free(s->ids);
	free(s);
}

/* snap_done: one node's part is over; the last one finishes the set. */
static void snap_done(struct snap_job *j, int ok, const char *why)
{
	struct snap_set *s = j->set;
	if (!ok && !s->failed) {
		s->failed = 1;
		snprintf(s->why, sizeof(s->why), "%s", why ? why : "?");
	}
	free(j);
	if (--s->pending == 0)
		set_finish(s);
}

/* snap_send: the command of the job's current step (fails the job when
 * its node is not running any more). */
static void snap_send(struct snap_job *j);

/* snap_timer_cb: the next INFO persistence poll of a save. */
static void snap_timer_cb(struct loop *l, void *arg)
{
	snap_send(arg);
}

/* snap_copy: the save is done: the durable copy, its size recorded. */
static void snap_copy(struct snap_job *j)
{
	struct fogbank *fb = ec_rt_fb();
	struct arena *a = arena_new(4096);
	const char *src = arena_sprintf(a, "%s/dump.rdb", ec_node_dir(a, fb->data_dir, j->id));
	const char *dst = ec_snapshot_path(a, fb->data_dir, j->set->snap_id, j->shard);
	int ok =
	    fs_mkdir_p(arena_sprintf(a, "%s/elasticache/snapshots", fb->data_dir), 0700) == 0 &&
	    ec_copy_durable(src, dst) == 0;
	const char *why = ok ? NULL : arena_strdup(a, strerror(errno));
	struct stat sb;
	if (ok) {
		unlink(src); /* the snapshot holds the only name of those bytes */
		int64_t size = stat(dst, &sb) == 0 ? (int64_t)sb.st_size : 0;
		j->set->bytes += size;
		sqlite3_stmt *st = db_stmt(fb->db, "UPDATE ec_snapshot_shards SET size_bytes = ?3 "
						   "WHERE snap_id = ?1 AND shard = ?2");
		sqlite3_bind_int64(st, 1, j->set->snap_id);
		sqlite3_bind_int64(st, 2, j->shard);
		sqlite3_bind_int64(st, 3, size);
		db_step_done(st);
	}
	snap_done(j, ok, why);
	arena_free(a);
}

/* snap_reply: a step of one node's save: rdb_saves read, BGSAVE
 * accepted, or a poll until the save is done and copied. */
static void snap_reply(void *arg, int ok, const char *p, size_t len)
{
	struct snap_job *j = arg;
	struct ec_node *n = ec_node_get(j->id);
	if (!n || n->gen != j->gen || ok != 1) {
		char why[200];
		snprintf(why, sizeof(why), "%.*s", (int)(len < 150 ? len : 150),
			 ok == 0 && p ? p : "the node is not running");
		snap_done(j, 0, why);
		return;
	}
	if (j->step == 1) { /* BGSAVE accepted */
		j->step = 2;
		snap_send(j);
		return;
	}
	char *saves = p ? redis_info_field(p, len, "rdb_saves") : NULL;
	char *busy = p ? redis_info_field(p, len, "rdb_bgsave_in_progress") : NULL;
	char *last = p ? redis_info_field(p, len, "rdb_last_bgsave_status") : NULL;
	long long s = saves ? atoll(saves) : -1;
	int in_progress = busy && strcmp(busy, "0");
	int failed = last && strcmp(last, "ok");
	free(saves);
	free(busy);
	free(last);
	if (j->step == 0) {
		j->saves_before = s;
		j->step = 1;
		snap_send(j);
	} else if (s > j->saves_before && !in_progress) {
		if (failed)
			snap_done(j, 0, "BGSAVE failed (see the node's log)");
		else
			snap_copy(j);
	} else {
		loop_timer_add(ec_rt_fb()->loop, SNAP_POLL_MS, snap_timer_cb, j);
	}
}

static void snap_send(struct snap_job *j)
{
	struct ec_node *n = ec_node_get(j->id);
	if (!n || !n->r || n->gen != j->gen) {
		snap_done(j, 0, "the node is not running");
		return;
	}
	const char *info[] = {"INFO", "persistence"};
	const char *save[] = {"BGSAVE", "SCHEDULE"};
	if (j->step == 1)
		redis_command(n->r, 2, save, snap_reply, j);
	else
		redis_command(n->r, 2, info, snap_reply, j);
}

/* set_new: a snapshot set for snap_id over n clusters. */
static struct snap_set *set_new(int64_t snap_id, int64_t rg_id, int then_delete, size_t n)
{
	struct snap_set *s = calloc(1, sizeof(*s));
	if (!s || !(s->ids = calloc(n ? n : 1, sizeof(*s->ids))))
		fb_die("out of memory");
	s->snap_id = snap_id;
	s->rg_id = rg_id;
	s->then_delete = then_delete;
	return s;
}

/* set_add: starts the job saving cluster id (as shard) in s. */
static void set_add(struct snap_set *s, int64_t id, int64_t shard)
{
	struct snap_job *j = calloc(1, sizeof(*j));
	if (!j)
		fb_die("out of memory");
	j->set = s;
	j->id = id;
	j->shard = shard;
	struct ec_node *n = ec_node_get(id);
	j->gen = n ? n->gen : 0;
	if (!s->n)
		s->first = id;
	s->ids[s->n++] = id;
	s->pending++;
	snap_send(j);
}

/* ec_snapshot_run: see internal.h. */
void ec_snapshot_run(int64_t snap_id, int64_t id, int then_delete)
{
	struct snap_set *s = set_new(snap_id, 0, then_delete, 1);
	s->pending = 1; /* held until the job is added: it may finish at once */
	set_add(s, id, 0);
	if (--s->pending == 0)
		set_finish(s);
}

/* ec_snapshot_run_shards: see internal.h. */
void ec_snapshot_run_shards(int64_t snap_id, int64_t rg_id, int then_delete)
{
	struct fogbank *fb = ec_rt_fb();
	struct arena *a = arena_new(8192);
	struct ec_cluster *m;
	size_t k = ec_clusters_of_rg(fb->db, a, rg_id, &m);
	struct snap_set *s = set_new(snap_id, rg_id, then_delete, k);
	s->pending = 1;
	for (size_t i = 0; i < k; i++) {
		struct ec_node *n = ec_node_get(m[i].id);
		if (n && n->is_primary)
			set_add(s, m[i].id, m[i].shard);
	}
	if (s->n == 0) {
		s->failed = 1;
		snprintf(s->why, sizeof(s->why), "no shard primary is running");
	}
	arena_free(a);
	if (--s->pending == 0)
		set_finish(s);
}

/* write_manifest: the AOF manifest naming only the base file. */
static int write_manifest(const char *aof_dir)
{
	char path[4200], tmp[4210];
	snprintf(path, sizeof(path), "%s/appendonly.aof.manifest", aof_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	static const char line[] = "file appendonly.aof.1.base.rdb seq 1 type b\n";
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ok = fd >= 0 && write(fd, line, sizeof(line) - 1) == (ssize_t)(sizeof(line) - 1) &&
		 fsync(fd) == 0;
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0)
		return -1;
	int dfd = open(aof_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int rc = fsync(dfd);
	close(dfd);
	return rc;
}

/* ec_snapshot_seed: see internal.h. */
int ec_snapshot_seed(struct fogbank *fb, int64_t snap_id, int64_t shard, const char *node_dir)
{
	struct arena *a = arena_new(4096);
	const char *aof = arena_sprintf(a, "%s/appendonlydir", node_dir);
	int rc = -1;
	if (fs_mkdir_p(aof, 0700) == 0 &&
	    ec_copy_durable(ec_snapshot_path(a, fb->data_dir, snap_id, shard),
			    arena_sprintf(a, "%s/appendonly.aof.1.base.rdb", aof)) == 0 &&
	    write_manifest(aof) == 0)
		rc = 0;
	arena_free(a);
	return rc;
}

/* ec_snapshots_interrupted: see internal.h. */
void ec_snapshots_interrupted(struct db *db)
{
	struct fogbank *fb = ec_rt_fb();
	sqlite3_stmt *st = db_stmt(db, "SELECT id, account, region, name FROM ec_snapshots "
				       "WHERE status = 'creating'");
	struct arena *a = arena_new(4096);
	int64_t ids[256];
	size_t k = 0;
	while (k < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW) {
		ids[k++] = sqlite3_column_int64(st, 0);
		log_warn("elasticache: snapshot %s was interrupted by a restart: failed",
			 db_col_text(st, 3));
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < k; i++)
		ec_unlink_all(ec_snapshot_files(db, a, fb->data_dir, ids[i]));
	arena_free(a);
	db_exec(db, "UPDATE ec_snapshots SET status = 'failed' WHERE status = 'creating'");
}

/* ec_snapshot_files: see internal.h. */
const char **ec_snapshot_files(struct db *db, struct arena *a, const char *data_dir,
			       int64_t snap_id)
{
	size_t n = 0, cap = 8;
	const char **v = arena_alloc(a, cap * sizeof(*v));
	v[n++] = ec_snapshot_path(a, data_dir, snap_id, 0);
	sqlite3_stmt *st = db_stmt(db, "SELECT shard FROM ec_snapshot_shards WHERE snap_id = ?1 "
				       "ORDER BY shard");
	sqlite3_bind_int64(st, 1, snap_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n + 1 >= cap) {
			v = arena_realloc(a, v, cap * sizeof(*v), cap * 2 * sizeof(*v));
			cap *= 2;
		}
		v[n++] = ec_snapshot_path(a, data_dir, snap_id, sqlite3_column_int64(st, 0));
	}
	sqlite3_reset(st);
	v[n] = NULL;
	return v;
}

/* ec_unlink_all: see internal.h. */
void ec_unlink_all(const char *const *paths)
{
	db_barrier(); /* the commit that let go of these files comes first */
	for (size_t i = 0; paths && paths[i]; i++)
		unlink(paths[i]);
}
