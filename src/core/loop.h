/* loop.h - single-threaded event loop (ae/libuv-style) on epoll, with
 * millisecond timers and signals delivered through signalfd so handlers
 * only ever run from the loop. */
#ifndef FB_LOOP_H
#define FB_LOOP_H
#include "core/compat.h"

#define LOOP_READ 0x1
#define LOOP_WRITE 0x2
#define LOOP_ERROR 0x4 /* hang-up or error on the fd */

struct loop;
typedef void loop_io_cb(struct loop *l, int fd, unsigned events, void *arg);
typedef void loop_timer_cb(struct loop *l, void *arg);
typedef void loop_signal_cb(struct loop *l, int signo, void *arg);

/* loop_new: a new loop, or NULL when epoll is unavailable. */
struct loop *loop_new(void);
/* loop_free: closes the epoll and signal fds; watched fds stay open. */
void loop_free(struct loop *l);
/* loop_watch: starts or changes watching fd for events (LOOP_READ/WRITE);
 * events == 0 stops watching. Returns 0 or -1 (errno set). */
int loop_watch(struct loop *l, int fd, unsigned events, loop_io_cb *cb, void *arg);
/* loop_timer_add: runs cb once after delay_ms; returns a timer id (> 0). */
uint64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_cb *cb, void *arg);
/* loop_timer_cancel: cancels a pending timer; unknown ids are ignored. */
void loop_timer_cancel(struct loop *l, uint64_t id);
/* loop_on_signal: blocks signo and calls cb from the loop when it arrives. */
int loop_on_signal(struct loop *l, int signo, loop_signal_cb *cb, void *arg);
/* loop_run: runs until loop_stop; returns 0. */
int loop_run(struct loop *l);
/* loop_stop: makes loop_run return after the current iteration. */
void loop_stop(struct loop *l);
/* loop_now_ms: wall-clock milliseconds, cached per iteration. */
int64_t loop_now_ms(struct loop *l);
/* fb_wall_ms / fb_mono_ms: uncached clocks. */
int64_t fb_wall_ms(void);
int64_t fb_mono_ms(void);
#endif
