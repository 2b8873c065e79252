/* log.c - leveled logging to stderr (fd 2), one whole line per entry.
 *
 * Lines are formatted straight into one buffer (the timestamp's date and
 * time are re-formatted only when the second changes). Without a loop
 * every line is written at once, one write(2) each. Once log_attach_loop
 * is called, lines below ERROR are batched: the first line of a loop
 * iteration arms a zero-delay timer, and that timer writes everything
 * logged meanwhile in one write(2) before the loop sleeps again, so a busy
 * server pays one system call per iteration, not per request, and a line
 * still appears within the iteration that logged it. ERROR lines, a full
 * buffer, fb_die and exit flush at once. Loop thread only. */
#include "core/log.h"
#include "core/loop.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF 16384	  /* pending lines */
#define LOG_LINE_MAX 2048 /* longer messages are cut */

enum log_level log_min_level = LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static struct {
	char buf[LOG_BUF];
	size_t n;
	struct loop *loop; /* batching when set */
	int armed;	   /* the flush timer is pending */
	int atexit_set;
	time_t stamp_s; /* the second stamp holds */
	char stamp[20]; /* "2026-01-01T00:00:00" */
} lg;

/* flush: writes the pending lines; on a write error they are dropped
 * (there is nowhere else to report it). */
static void flush(void)
{
	size_t off = 0;
	while (off < lg.n) {
		ssize_t w = write(2, lg.buf + off, lg.n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	lg.n = 0;
}

static void flush_cb(struct loop *l, void *arg)
{
	lg.armed = 0;
	flush();
}

static void flush_at_exit(void)
{
	flush();
}

void log_flush(void)
{
	flush();
}

void log_attach_loop(struct loop *l)
{
	flush();
	lg.loop = l;
	lg.armed = 0; /* a timer of a previous loop dies with it */
	if (l && !lg.atexit_set) {
		atexit(flush_at_exit);
		lg.atexit_set = 1;
	}
}

/* put_digits: v as exactly n decimal digits at d. */
static void put_digits(char *d, long v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		d[i] = (char)('0' + v % 10);
}

/* line_begin: makes room for a line of at most LOG_LINE_MAX message bytes
 * and writes its "<stamp>.mmmZ LEVEL " head. Returns where the message
 * goes; line_end then finishes the line. */
static char *line_begin(enum log_level level)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec != lg.stamp_s || !lg.stamp[0]) {
		struct tm tm;
		gmtime_r(&now.tv_sec, &tm);
		strftime(lg.stamp, sizeof(lg.stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		lg.stamp_s = now.tv_sec;
	}
	size_t sn = strlen(lg.stamp), ln = strlen(level_names[level]);
	if (LOG_BUF - lg.n < sn + 6 + ln + 1 + LOG_LINE_MAX + 1)
		flush();
	char *p = lg.buf + lg.n;
	memcpy(p, lg.stamp, sn);
	p[sn] = '.';
	put_digits(p + sn + 1, now.tv_nsec / 1000000, 3);
	memcpy(p + sn + 4, "Z ", 2);
	p += sn + 6;
	memcpy(p, level_names[level], ln);
	p[ln] = ' ';
	return p + ln + 1;
}

/* line_end: ends the line whose message of n bytes ends at msg + n, then
 * writes it now or arms the per-iteration flush. */
static void line_end(enum log_level level, char *msg, size_t n)
{
	msg[n] = '\n';
	lg.n = (size_t)(msg + n + 1 - lg.buf);
	if (!lg.loop || level >= LOG_ERROR) {
		flush();
		return;
	}
	if (!lg.armed) {
		loop_timer_add(lg.loop, 0, flush_cb, NULL);
		lg.armed = 1;
	}
}

static void log_v(enum log_level level, const char *fmt, va_list ap)
{
	char *msg = line_begin(level);
	int m = vsnprintf(msg, LOG_LINE_MAX, fmt, ap);
	if (m < 0)
		m = 0;
	if (m >= LOG_LINE_MAX)
		m = LOG_LINE_MAX - 1; /* cut, as the old fixed buffer did */
	line_end(level, msg, (size_t)m);
}

/* put_str: copies at most max bytes of s to *p; returns the count. */
static size_t put_str(char *p, const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	memcpy(p, s, n);
	return n;
}

void log_request(const char *service, const char *op, int status, int64_t ns, const char *err)
{
	enum log_level level = status >= 500 ? LOG_ERROR : LOG_INFO;
	if (level < log_min_level)
		return;
	char *msg = line_begin(level), *p = msg;
	/* each part is bounded so the whole stays under LOG_LINE_MAX */
	p += put_str(p, service, 256);
	*p++ = ' ';
	p += put_str(p, op, 256);
	*p++ = ' ';
	put_digits(p, status < 0 ? 0 : status > 999 ? 999 : status, 3);
	p += 3;
	*p++ = ' ';
	int64_t us = ns < 0 ? 0 : (ns + 500) / 1000;
	char tmp[24];
	int k = 0;
	for (int64_t ms = us / 1000; k == 0 || ms; ms /= 10)
		tmp[k++] = (char)('0' + ms % 10);
	while (k)
		*p++ = tmp[--k];
	*p++ = '.';
	put_digits(p, (long)(us % 1000), 3);
	p += 3;
	*p++ = 'm';
	*p++ = 's';
	if (err) {
		*p++ = ' ';
		p += put_str(p, err, 256);
	}
	line_end(level, msg, (size_t)(p - msg));
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < log_min_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_v(level, fmt, ap);
	va_end(ap);
}

void fb_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(LOG_ERROR, fmt, ap); /* ERROR: flushes whatever was pending too */
	va_end(ap);
	abort();
}
