/* test_pool.c - the worker pool: waited jobs, jobs run inline when no
 * worker is free, done callbacks delivered on the loop, and pool_free
 * draining what is left. */
#include "core/compat.h"
#include "core/loop.h"
#include "core/pool.h"
#include "test.h"
#include <unistd.h>

struct count_job {
	struct pool_job j;
	int *counter;
	int ran;
	int fd; /* >= 0: read one byte from it first (blocks the worker) */
};

/* count_work: reads the gate byte when asked, then marks the job ran. */
static void count_work(struct pool_job *j)
{
	struct count_job *c = (struct count_job *)j;
	char b;
	if (c->fd >= 0 && read(c->fd, &b, 1) != 1)
		c->ran = -1;
	else
		c->ran = 1;
}

/* count_done: counts callbacks; stops the loop after the tenth. */
static void count_done(struct pool_job *j)
{
	struct count_job *c = (struct count_job *)j;
	struct loop *l = j->arg;
	CHECK(c->ran == 1);
	if (++*c->counter == 10 && l)
		loop_stop(l);
}

TEST(pool_wait_runs_every_job)
{
	struct pool *p = pool_new(NULL, 3);
	struct count_job jobs[32];
	for (int i = 0; i < 32; i++) {
		jobs[i] = (struct count_job){.j = {.work = count_work}, .fd = -1};
		pool_submit(p, &jobs[i].j);
	}
	for (int i = 31; i >= 0; i--)
		pool_wait(p, &jobs[i].j);
	for (int i = 0; i < 32; i++)
		CHECK(jobs[i].ran == 1);
	pool_free(p);
}

TEST(pool_wait_runs_queued_job_inline)
{
	/* the only worker is stuck on A: waiting for B must not deadlock */
	int gate[2];
	CHECK(pipe(gate) == 0);
	struct pool *p = pool_new(NULL, 1);
	struct count_job a = {.j = {.work = count_work}, .fd = gate[0]};
	struct count_job b = {.j = {.work = count_work}, .fd = -1};
	pool_submit(p, &a.j);
	pool_submit(p, &b.j);
	pool_wait(p, &b.j);
	CHECK(b.ran == 1);
	CHECK(write(gate[1], "x", 1) == 1);
	pool_wait(p, &a.j);
	CHECK(a.ran == 1);
	pool_free(p);
	close(gate[0]);
	close(gate[1]);
}

/* watchdog_cb: a hang guard (never a timing assertion): fails and stops. */
static void watchdog_cb(struct loop *l, void *arg)
{
	CHECK(!"done callbacks never arrived");
	loop_stop(l);
}

TEST(pool_done_callbacks_on_the_loop)
{
	struct loop *l = loop_new();
	struct pool *p = pool_new(l, 2);
	struct count_job jobs[10];
	int counter = 0;
	for (int i = 0; i < 10; i++) {
		jobs[i] =
		    (struct count_job){.j = {.work = count_work, .done = count_done, .arg = l},
				       .counter = &counter,
				       .fd = -1};
		pool_submit(p, &jobs[i].j);
	}
	CHECK(pool_pending(p) == 10);
	uint64_t t = loop_timer_add(l, 30000, watchdog_cb, NULL);
	loop_run(l);
	loop_timer_cancel(l, t);
	CHECK(counter == 10);
	CHECK(pool_pending(p) == 0);
	pool_free(p);
	loop_free(l);
}

TEST(pool_without_threads_and_free_drains)
{
	int counter = 0;
	struct count_job jobs[10];
	/* no threads, no loop: work and callback both run inside submit */
	struct pool *p = pool_new(NULL, 0);
	for (int i = 0; i < 10; i++) {
		jobs[i] = (struct count_job){
		    .j = {.work = count_work, .done = count_done}, .counter = &counter, .fd = -1};
		pool_submit(p, &jobs[i].j);
		CHECK(counter == i + 1);
	}
	pool_free(p);
	/* threads and a loop that never runs: pool_free delivers the rest */
	struct loop *l = loop_new();
	counter = 0;
	p = pool_new(l, 2);
	for (int i = 0; i < 10; i++) {
		jobs[i] = (struct count_job){
		    .j = {.work = count_work, .done = count_done}, .counter = &counter, .fd = -1};
		pool_submit(p, &jobs[i].j);
	}
	pool_free(p);
	CHECK(counter == 10);
	loop_free(l);
}

TEST(pool_drain_waits_for_queued_work)
{
	int gate[2];
	CHECK(pipe(gate) == 0);
	struct pool *p = pool_new(NULL, 1);
	struct count_job a = {.j = {.work = count_work}, .fd = gate[0]};
	struct count_job b = {.j = {.work = count_work}, .fd = -1};
	pool_submit(p, &a.j);
	pool_submit(p, &b.j);
	CHECK(write(gate[1], "x", 1) == 1);
	pool_drain(p);
	CHECK(a.ran == 1 && b.ran == 1);
	pool_free(p);
	close(gate[0]);
	close(gate[1]);
}
