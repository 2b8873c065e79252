/* log.h - leveled logging to stderr, one line per call; batched per loop
 * iteration once a loop is attached. */
#ifndef FB_LOG_H
#define FB_LOG_H
#include "core/compat.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_min_level;

/* log_msg: writes "<iso time> <LEVEL> <message>\n" when level is enabled. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_min_level <= LOG_DEBUG)                                                    \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* log_request: the per-request line "<service> <op> <status> <ms>ms[ <err>]"
 * at INFO (ERROR for status >= 500), as log_msg with "%s %s %d %.3fms%s%s"
 * would write it, but formatted without printf; ns is the latency in
 * nanoseconds, err may be NULL. */
void log_request(const char *service, const char *op, int status, int64_t ns, const char *err);

struct loop;
/* log_attach_loop: from now on lines below ERROR are written once per
 * iteration of loop l (one write(2) for all of them, before l sleeps),
 * instead of one write(2) each; NULL goes back to writing at once. Either
 * way pending lines are flushed first. Call with NULL before freeing l. */
void log_attach_loop(struct loop *l);
/* log_flush: writes pending lines now. */
void log_flush(void);

/* fb_die: logs and aborts; for impossible states and out of memory. */
void fb_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#endif
