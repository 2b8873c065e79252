/* snapjob.c - taking and seeding snapshots. A snapshot is a real RDB:
 * BGSAVE SCHEDULE on the node (it waits for an AOF rewrite instead of
 * failing), INFO persistence polled until rdb_saves moves past its value
 * before the request, then dump.rdb copied durably (temp, fsync, rename,
 * fsync of the directory; a hard link when possible, since redis never
 * rewrites an RDB in place) to elasticache/snapshots/<id>.rdb. Seeding a
 * new node puts that RDB in its directory as the AOF base file with a
 * one-line manifest, so redis-server loads it at start and keeps AOF
 * persistence from there. */
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

struct snap_job {
	int64_t snap_id, id;
	uint64_t gen;
	int then_delete;
	long long saves_before;
	int step; /* 0: reading rdb_saves, 1: BGSAVE sent, 2: polling */
};

/* snap_done: records the outcome on the snapshot and the cluster. */
static void snap_done(struct snap_job *j, int ok, const char *why)
{
	struct fogbank *fb = ec_rt_fb();
	struct arena *a = arena_new(4096);
	struct ec_cluster cl;
	int have = ec_cluster_load(fb->db, a, j->id, &cl) == 0;
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT name FROM ec_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, j->snap_id);
	const char *name =
	    sqlite3_step(st) == SQLITE_ROW ? arena_strdup(a, db_col_text(st, 0)) : "?";
	sqlite3_reset(st);
	int64_t size = 0;
	if (ok) {
		struct stat sb;
		if (stat(ec_snapshot_path(a, fb->data_dir, j->snap_id), &sb) == 0)
			size = (int64_t)sb.st_size;
	}
	st = db_stmt(fb->db, "UPDATE ec_snapshots SET status = ?2, size_bytes = ?3, created = ?4 "
			     "WHERE id = ?1");
	sqlite3_bind_int64(st, 1, j->snap_id);
	sqlite3_bind_text(st, 2, ok ? "available" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, size);
	sqlite3_bind_double(st, 4, (double)fb_wall_ms() / 1000.0);
	db_step_done(st);
	if (have) {
		if (ok)
			ec_event(fb->db, cl.account, cl.region, cl.name, "cache-cluster",
				 "Snapshot succeeded for snapshot with ID '%s' of cache cluster "
				 "'%s'",
				 name, cl.name);
		else
			ec_event(fb->db, cl.account, cl.region, cl.name, "cache-cluster",
				 "Snapshot failed for snapshot with ID '%s': %s", name, why);
		if (cl.rg_id)
			ec_rg_set_status(fb->db, cl.rg_id, EC_AVAILABLE, EC_SNAPSHOTTING);
	}
	arena_free(a);
	if (j->then_delete && ok) {
		ec_node_delete(j->id, 0);
	} else {
		if (j->then_delete)
			log_warn("elasticache: final snapshot failed; the cluster is kept");
		ec_set_status(fb->db, j->id, EC_AVAILABLE, EC_SNAPSHOTTING "|" EC_DELETING);
	}
	free(j);
}

static void snap_send(struct snap_job *j);

static void snap_timer_cb(struct loop *l, void *arg)
{
	snap_send(arg);
}

/* snap_copy: the save is done: the durable copy. */
static void snap_copy(struct snap_job *j)
{
	struct fogbank *fb = ec_rt_fb();
	struct arena *a = arena_new(4096);
	const char *src = arena_sprintf(a, "%s/dump.rdb", ec_node_dir(a, fb->data_dir, j->id));
	const char *dst = ec_snapshot_path(a, fb->data_dir, j->snap_id);
	int ok = ec_mkdirs(arena_sprintf(a, "%s/elasticache/snapshots", fb->data_dir)) == 0 &&
		 ec_copy_durable(src, dst) == 0;
	const char *why = ok ? NULL : arena_strdup(a, strerror(errno));
	if (ok)
		unlink(src); /* the snapshot holds the only name of those bytes */
	snap_done(j, ok, why);
	arena_free(a);
}

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

void ec_snapshot_run(int64_t snap_id, int64_t id, int then_delete)
{
	struct snap_job *j = calloc(1, sizeof(*j));
	if (!j)
		fb_die("out of memory");
	j->snap_id = snap_id;
	j->id = id;
	j->then_delete = then_delete;
	struct ec_node *n = ec_node_get(id);
	j->gen = n ? n->gen : 0;
	snap_send(j);
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

int ec_snapshot_seed(struct fogbank *fb, int64_t snap_id, const char *node_dir)
{
	struct arena *a = arena_new(4096);
	const char *aof = arena_sprintf(a, "%s/appendonlydir", node_dir);
	int rc = -1;
	if (ec_mkdirs(aof) == 0 &&
	    ec_copy_durable(ec_snapshot_path(a, fb->data_dir, snap_id),
			    arena_sprintf(a, "%s/appendonly.aof.1.base.rdb", aof)) == 0 &&
	    write_manifest(aof) == 0)
		rc = 0;
	arena_free(a);
	return rc;
}

void ec_snapshots_interrupted(struct db *db)
{
	struct fogbank *fb = ec_rt_fb();
	sqlite3_stmt *st = db_stmt(db, "SELECT id, account, region, name FROM ec_snapshots "
				       "WHERE status = 'creating'");
	struct arena *a = arena_new(4096);
	while (sqlite3_step(st) == SQLITE_ROW) {
		unlink(ec_snapshot_path(a, fb->data_dir, sqlite3_column_int64(st, 0)));
		log_warn("elasticache: snapshot %s was interrupted by a restart: failed",
			 db_col_text(st, 3));
	}
	sqlite3_reset(st);
	arena_free(a);
	db_exec(db, "UPDATE ec_snapshots SET status = 'failed' WHERE status = 'creating'");
}
