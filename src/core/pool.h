/* pool.h - a few worker threads for the blocking work the loop should not
 * do itself (fsync, unlink, hashing a large buffer).
 *
 * Jobs are caller-owned structs (no allocation here). A job either is
 * waited for by the thread that submitted it (pool_wait; done must be
 * NULL), or reports back: its done callback runs later on the loop thread,
 * woken through an eventfd the loop watches. Workers never touch the loop,
 * SQLite or anything else that is not the job's own. Submit and wait only
 * from the loop thread. */
#ifndef FB_POOL_H
#define FB_POOL_H
#include "core/compat.h"

struct loop;
struct pool;
struct pool_job;

typedef void pool_work_fn(struct pool_job *j); /* runs on a worker thread */
typedef void pool_done_fn(struct pool_job *j); /* runs on the loop thread */

struct pool_job {
	pool_work_fn *work;
	pool_done_fn *done; /* NULL: nobody is told; the submitter waits */
	void *arg;
	/* private to pool.c */
	int state;
	struct pool_job *next;
};

/* pool_new: <nthreads> workers (0 or a failure to start threads: every job
 * runs inline at submit) reporting to loop <l> (NULL: done callbacks run
 * inline after the work). Aborts on out of memory. */
struct pool *pool_new(struct loop *l, int nthreads);
/* pool_free: runs what is still queued, joins the workers, calls every
 * pending done callback, and frees the pool (NULL is fine). */
void pool_free(struct pool *p);
/* pool_submit: queues <j> (work set, done optional). The job must stay
 * valid until pool_wait returns or its done callback has run. */
void pool_submit(struct pool *p, struct pool_job *j);
/* pool_wait: returns once <j>'s work has run; when no worker has taken it
 * yet, runs it on the calling thread instead of waiting. Only for jobs
 * without a done callback. */
void pool_wait(struct pool *p, struct pool_job *j);
/* pool_drain: returns once the work of every job submitted so far has run
 * (done callbacks are not called). For exit paths where the loop is gone
 * but queued work (unlinks) should still happen. */
void pool_drain(struct pool *p);
/* pool_pending: jobs with a done callback whose callback has not run yet. */
int pool_pending(const struct pool *p);
#endif
