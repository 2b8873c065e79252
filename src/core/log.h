/* log.h - leveled logging to stderr, one line per call. */
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

/* fb_die: logs and aborts; for impossible states and out of memory. */
void fb_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#endif
