/* syncer.c - the store's asynchronous group commit (see syncer.h). */
#include "store/syncer.h"
#include "core/log.h"
#include "core/pool.h"
#include "store/db.h"
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct db_syncer {
	struct pool *pool; /* one thread: syncs are serial anyway */
	struct db *db;
	struct pool_job job;
	int fd;	 /* the WAL (db_wal_fd) */
	int err; /* errno of the worker's fdatasync, 0 when it worked */
	void (*done)(void *arg, int ok);
	void *arg;
};

struct db_syncer *db_syncer_new(struct loop *l, struct db *db)
{
	struct db_syncer *y = calloc(1, sizeof(*y));
	if (!y)
		fb_die("out of memory");
	y->pool = pool_new(l, 1);
	y->db = db;
	return y;
}

/* sync_work: the worker's half: one fdatasync of the WAL. */
static void sync_work(struct pool_job *j)
{
	struct db_syncer *y = j->arg;
	y->err = fdatasync(y->fd) < 0 ? errno : 0;
}

/* sync_done: back on the loop: the commits are on disk, or fogbank stops
 * (after a failed fsync the kernel may have dropped the dirty pages, so
 * nothing since the last sync can be vouched for: PostgreSQL's rule). */
static void sync_done(struct pool_job *j)
{
	struct db_syncer *y = j->arg;
	if (y->err)
		fb_die("store: fsync of the write-ahead log failed: %s", strerror(y->err));
	y->done(y->arg, 1);
}

void db_syncer_start(struct db_syncer *y, void (*done)(void *arg, int ok), void *arg)
{
	int fd = db_sync_start(y->db);
	if (fd < 0) {
		done(arg, fd == -1); /* -2: a batch was lost */
		return;
	}
	y->fd = fd;
	y->done = done;
	y->arg = arg;
	memset(&y->job, 0, sizeof(y->job));
	y->job.work = sync_work;
	y->job.done = sync_done;
	y->job.arg = y;
	pool_submit(y->pool, &y->job);
}

void db_syncer_free(struct db_syncer *y)
{
	if (!y)
		return;
	pool_free(y->pool);
	free(y);
}
