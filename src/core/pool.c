/* pool.c - worker threads behind one mutex: a FIFO of queued jobs, a list
 * of finished jobs waiting for their done callback, and an eventfd that
 * wakes the loop when that list becomes non-empty. The threads block every
 * signal, so signals keep reaching the loop's signalfd only. */
#include "core/pool.h"
#include "core/log.h"
#include "core/loop.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define POOL_MAX_THREADS 16

enum { JOB_QUEUED = 1, JOB_RUNNING, JOB_FINISHED };

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a job was queued, or stop */
	pthread_cond_t done_cv; /* a job finished (for pool_wait) */
	struct pool_job *head, *tail;
	struct pool_job *finished; /* done callbacks still to run, newest first */
	struct loop *loop;
	int efd; /* eventfd the loop watches; -1 without a loop */
	int stop;
	int pending; /* submitted jobs with a done callback not yet called */
	int running; /* jobs a worker is running now */
	int nthreads;
	pthread_t threads[POOL_MAX_THREADS];
};

/* finish: marks <j> done under the lock; queues its callback and wakes the
 * loop when it has one. Called with p->mu held. */
static void finish(struct pool *p, struct pool_job *j)
{
	j->state = JOB_FINISHED;
	if (j->done) {
		int was_empty = p->finished == NULL;
		j->next = p->finished;
		p->finished = j;
		if (was_empty && p->efd >= 0) {
			uint64_t one = 1;
			/* a full counter still wakes the loop: nothing to handle */
			if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				log_warn("pool: eventfd write: %s", strerror(errno));
		}
	}
	pthread_cond_broadcast(&p->done_cv);
}

/* worker_main: takes jobs until stop is set and the queue is empty. */
static void *worker_main(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work_cv, &p->mu);
		struct pool_job *j = p->head;
		if (!j)
			break; /* stop, and nothing left */
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		j->state = JOB_RUNNING;
		p->running++;
		pthread_mutex_unlock(&p->mu);
		j->work(j);
		pthread_mutex_lock(&p->mu);
		p->running--;
		finish(p, j);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* run_done: calls the done callbacks of finished jobs, oldest first. Loop
 * thread only. */
static void run_done(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	struct pool_job *list = p->finished, *rev = NULL;
	p->finished = NULL;
	pthread_mutex_unlock(&p->mu);
	while (list) {
		struct pool_job *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	while (rev) {
		struct pool_job *n = rev->next;
		p->pending--;
		rev->done(rev); /* may free rev */
		rev = n;
	}
}

/* efd_cb: the loop's side of the eventfd. */
static void efd_cb(struct loop *l, int fd, unsigned events, void *arg)
{
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("pool: eventfd read: %s", strerror(errno));
	run_done(arg);
}

struct pool *pool_new(struct loop *l, int nthreads)
{
	struct pool *p = calloc(1, sizeof(*p));
	sigset_t all, old;
	if (!p)
		fb_die("out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	p->efd = -1;
	p->loop = l;
	if (l) {
		p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (p->efd < 0 || loop_watch(l, p->efd, LOOP_READ, efd_cb, p) < 0) {
			log_warn("pool: no eventfd (%s): jobs run inline", strerror(errno));
			if (p->efd >= 0)
				close(p->efd);
			p->efd = -1;
			p->loop = NULL;
			return p;
		}
	}
	if (nthreads > POOL_MAX_THREADS)
		nthreads = POOL_MAX_THREADS;
	/* workers inherit the mask: block everything so signals stay the loop's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
			log_warn("pool: started %d of %d threads", i, nthreads);
			break;
		}
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* without threads (or after they left) the queue is ours */
	while (p->head) {
		struct pool_job *j = p->head;
		p->head = j->next;
		j->work(j);
		pthread_mutex_lock(&p->mu);
		finish(p, j);
		pthread_mutex_unlock(&p->mu);
	}
	run_done(p);
	if (p->efd >= 0) {
		loop_watch(p->loop, p->efd, 0, NULL, NULL);
		close(p->efd);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	free(p);
}

void pool_submit(struct pool *p, struct pool_job *j)
{
	if (!j->work)
		fb_die("pool: job without work");
	j->next = NULL;
	if (j->done)
		p->pending++;
	if (!p->nthreads) {
		/* no workers: do it now; the callback still comes from the loop */
		j->work(j);
		pthread_mutex_lock(&p->mu);
		finish(p, j);
		pthread_mutex_unlock(&p->mu);
		if (!p->loop && j->done)
			run_done(p);
		return;
	}
	pthread_mutex_lock(&p->mu);
	j->state = JOB_QUEUED;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
}

void pool_wait(struct pool *p, struct pool_job *j)
{
	if (j->done)
		fb_die("pool: pool_wait on a job with a done callback");
	pthread_mutex_lock(&p->mu);
	if (j->state == JOB_QUEUED) {
		/* nobody took it: unlink it from the queue and run it here */
		struct pool_job **pp = &p->head, *prev = NULL;
		while (*pp != j) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		*pp = j->next;
		if (p->tail == j)
			p->tail = prev;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&p->mu);
		j->work(j);
		pthread_mutex_lock(&p->mu);
		finish(p, j);
	}
	while (j->state != JOB_FINISHED)
		pthread_cond_wait(&p->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void pool_drain(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->head || p->running)
		pthread_cond_wait(&p->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

int pool_pending(const struct pool *p)
{
	return p ? p->pending : 0;
}
