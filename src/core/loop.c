/* loop.c - epoll backend. fd callbacks live in a table indexed by fd;
 * timers in a small binary heap ordered by due time. */
#include "core/loop.h"
#include "core/log.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct loop_fd {
	loop_io_cb *cb;
	void *arg;
	unsigned events;
};

struct loop_timer {
	int64_t due_ms; /* monotonic */
	uint64_t id;
	loop_timer_cb *cb;
	void *arg;
};

struct loop_sig {
	int signo;
	loop_signal_cb *cb;
	void *arg;
};

struct loop {
	int epfd;
	int sigfd;
	sigset_t sigmask;
	struct loop_fd *fds;
	size_t nfds;
	struct loop_timer *heap;
	size_t nheap, capheap;
	uint64_t next_timer_id;
	struct loop_sig sigs[8];
	size_t nsigs;
	int stop;
	int64_t now_ms;
};

int64_t fb_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t fb_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		fb_die("out of memory");
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->now_ms = fb_wall_ms();
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

int loop_watch(struct loop *l, int fd, unsigned events, loop_io_cb *cb, void *arg)
{
	if (fd < 0)
		return -1;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct loop_fd *f = realloc(l->fds, n * sizeof(*f));
		if (!f)
			fb_die("out of memory");
		memset(f + l->nfds, 0, (n - l->nfds) * sizeof(*f));
		l->fds = f;
		l->nfds = n;
	}
	struct loop_fd *slot = &l->fds[fd];
	if (slot->events == events && slot->cb == cb && slot->arg == arg)
		return 0; /* unchanged: spare the epoll_ctl syscall */
	struct epoll_event ev = {0};
	ev.data.fd = fd;
	if (events & LOOP_READ)
		ev.events |= EPOLLIN | EPOLLRDHUP;
	if (events & LOOP_WRITE)
		ev.events |= EPOLLOUT;
	int op = slot->events ? (events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL) : EPOLL_CTL_ADD;
	if (!slot->events && !events)
		return 0;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return -1;
	slot->events = events;
	slot->cb = events ? cb : NULL;
	slot->arg = events ? arg : NULL;
	return 0;
}

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p].due_ms <= l->heap[i].due_ms)
			break;
		heap_swap(l, p, i);
		i = p;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c].due_ms < l->heap[m].due_ms)
			m = c;
		if (c + 1 < l->nheap && l->heap[c + 1].due_ms < l->heap[m].due_ms)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

uint64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_cb *cb, void *arg)
{
	if (l->nheap == l->capheap) {
		l->capheap = l->capheap ? l->capheap * 2 : 16;
		l->heap = realloc(l->heap, l->capheap * sizeof(*l->heap));
		if (!l->heap)
			fb_die("out of memory");
	}
	struct loop_timer *t = &l->heap[l->nheap];
	t->due_ms = fb_mono_ms() + (delay_ms < 0 ? 0 : delay_ms);
	t->id = ++l->next_timer_id;
	t->cb = cb;
	t->arg = arg;
	heap_up(l, l->nheap++);
	return l->next_timer_id;
}

void loop_timer_cancel(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->nheap; i++) {
		if (l->heap[i].id != id)
			continue;
		l->heap[i] = l->heap[--l->nheap];
		if (i < l->nheap) {
			heap_down(l, i);
			heap_up(l, i);
		}
		return;
	}
}

static void signal_ready_cb(struct loop *l, int fd, unsigned events, void *arg)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (size_t i = 0; i < l->nsigs; i++)
			if (l->sigs[i].signo == (int)si.ssi_signo)
				l->sigs[i].cb(l, (int)si.ssi_signo, l->sigs[i].arg);
	}
}

int loop_on_signal(struct loop *l, int signo, loop_signal_cb *cb, void *arg)
{
	if (l->nsigs == FB_ARRAY_LEN(l->sigs))
		return -1;
	l->sigs[l->nsigs++] = (struct loop_sig){signo, cb, arg};
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return -1;
	int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		return loop_watch(l, fd, LOOP_READ, signal_ready_cb, NULL);
	}
	return 0;
}

static void run_timers(struct loop *l)
{
	int64_t now = fb_mono_ms();
	while (l->nheap && l->heap[0].due_ms <= now) {
		struct loop_timer t = l->heap[0];
		l->heap[0] = l->heap[--l->nheap];
		heap_down(l, 0);
		t.cb(l, t.arg);
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[256];
	l->stop = 0;
	while (!l->stop) {
		int timeout = -1;
		if (l->nheap) {
			int64_t d = l->heap[0].due_ms - fb_mono_ms();
			timeout = d < 0 ? 0 : (d > 60000 ? 60000 : (int)d);
		}
		int n = epoll_wait(l->epfd, evs, (int)FB_ARRAY_LEN(evs), timeout);
		if (n < 0 && errno != EINTR)
			fb_die("epoll_wait: %s", strerror(errno));
		l->now_ms = fb_wall_ms();
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if ((size_t)fd >= l->nfds || !l->fds[fd].cb)
				continue; /* closed by an earlier callback this round */
			unsigned ev = 0;
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
				ev |= LOOP_READ;
			if (evs[i].events & EPOLLOUT)
				ev |= LOOP_WRITE;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				ev |= LOOP_ERROR;
			l->fds[fd].cb(l, fd, ev, l->fds[fd].arg);
		}
		run_timers(l);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

int64_t loop_now_ms(struct loop *l)
{
	return l->now_ms;
}
