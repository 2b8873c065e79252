/* loadgen.c - a lean HTTP/1.1 load generator for the 1 MiB S3 figures of
 * bench/s3_bench.py. wrk reads responses 8 KiB per read() and its Lua layer
 * costs more CPU than the fastest server spends sending a 1 MiB body, so on
 * GET 1 MiB wrk itself was the limit. This replays the same presigned
 * requests as the wrk script in s3_bench.py (one "METHOD path" per line of
 * LIST_FILE; PUT lines carry BODY_FILE) over keep-alive connections to
 * loopback, one epoll loop per thread, and reads bodies with a plain copying
 * recv() into 256 KiB per connection, as a real client would. While a body
 * of known length is coming, SO_RCVLOWAT makes epoll wake it per 256 KiB
 * rather than per segment (see set_lowat; --no-rcvlowat turns that off).
 * Not part of the daemon; `make bench` builds it as $(BUILD)/loadgen.
 *
 *   loadgen -t THREADS -c CONNS -d SECONDS [--timeout SECONDS] [--once]
 *           [--no-rcvlowat] HOST:PORT LIST_FILE BODY_FILE|-
 *
 * Timed mode: thread tid starts at line floor(n*tid/THREADS) and cycles
 * through the list for SECONDS. --once: every line is sent exactly once,
 * the threads taking contiguous shares (SECONDS is then only a safety cap,
 * by default 600 + lines/20).
 * Prints one line, the fields of the wrk script's done():
 *   RESULT <requests/s> <p99 ms> <status errors> <socket errors> <requests>
 * Status errors are answers >= 400 (as wrk counts them); socket errors are
 * failed connects, reads, writes, timeouts and unparsable answers. With
 * BENCH_S3_DEBUG set, the first error answers and socket errors, and the
 * body bytes received, go to stderr. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (256 * 1024) /* per connection: few recv() per 1 MiB body */
#define LINE_MAX_KEEP 128      /* chunk-size and trailer lines: the rest is ignored */
#define DEBUG_MAX 5	       /* error answers / socket errors shown with BENCH_S3_DEBUG */
#define DEBUG_BODY 300	       /* bytes of an error answer's body shown */
#define RETRY_NS 10000000ull   /* 10 ms before reconnecting after a failed connect */
/* latency histogram: microseconds, 32 linear sub-buckets per power of two
 * (3% resolution) up to 2^40 us */
#define SUB_BITS 5
#define SUB (1u << SUB_BITS)
#define MAX_US ((1ull << 40) - 1)
#define NBUCKETS ((40 - SUB_BITS) * SUB + 2 * SUB)

enum conn_state { C_IDLE, C_CONNECTING, C_ACTIVE, C_DONE };
enum resp_state { R_HEAD, R_LENGTH, R_CHUNK_SIZE, R_CHUNK_DATA, R_CHUNK_END, R_TRAILER, R_EOF };

struct req_line {
	size_t head_off, head_len; /* the prebuilt request head in heads */
	bool has_body;
};

struct conn {
	int fd;
	unsigned gen; /* bumped on every close: an event of an older socket is stale */
	enum conn_state state;
	uint32_t events; /* the epoll interest registered for fd */
	uint64_t retry_at;
	/* the request in flight */
	const char *head, *body;
	size_t head_len, body_len, sent;
	bool writing;
	uint64_t t_start;
	/* the answer being read */
	enum resp_state rstate;
	char *rbuf;
	size_t rlen; /* bytes of the head in rbuf (R_HEAD only) */
	uint64_t remaining, body_bytes;
	int status;
	bool close_after;
	char line[LINE_MAX_KEEP];
	size_t line_len;
	int lowat;	 /* SO_RCVLOWAT of fd (1, Linux's default, on a new socket) */
	bool debug_body; /* this error answer's body is shown */
	char dbg[DEBUG_BODY];
	size_t dbg_len;
};

struct thread_ctx {
	int tid, epfd;
	struct conn *conns;
	int nconns;
	size_t next, lo, hi; /* next line; --once: this thread's lines are [lo, hi) */
	uint64_t deadline;
	uint64_t requests, status_errors, socket_errors, body_bytes;
	uint64_t hist[NBUCKETS];
	pthread_t thread;
};

/* the run's settings and the request list, read-only once threads start */
static struct {
	struct sockaddr_in addr;
	char *heads;
	struct req_line *lines;
	size_t nlines;
	char *body;
	size_t body_len;
	bool once, debug, rcvlowat;
	uint64_t timeout_ns;
} g = {.rcvlowat = true};

static atomic_int debug_shown;

/* now_ns: monotonic wall time in nanoseconds (latency is what a client
 * waits, not CPU time). */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* die: prints a usage or set-up error and exits 2 (the caller sees no RESULT). */
static void die(const char *what, const char *detail)
{
	fprintf(stderr, "loadgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

/* bucket_of: the histogram bucket of a latency of us microseconds; values
 * below SUB have their own bucket, above, SUB per power of two. */
static unsigned bucket_of(uint64_t us)
{
	if (us > MAX_US)
		us = MAX_US;
	if (us < 2 * SUB)
		return (unsigned)us;
	unsigned shift = (unsigned)(63 - __builtin_clzll(us)) - SUB_BITS;
	return shift * SUB + (unsigned)(us >> shift);
}

/* bucket_top: the largest latency in microseconds that falls in bucket b
 * (reported like HdrHistogram's highest equivalent value). */
static uint64_t bucket_top(unsigned b)
{
	if (b < 2 * SUB)
		return b;
	unsigned shift = (b - 2 * SUB) / SUB + 1;
	uint64_t low = (uint64_t)(b - shift * SUB) << shift;
	return low + (1ull << shift) - 1;
}

/* debug_slot: true for the first DEBUG_MAX callers when BENCH_S3_DEBUG is
 * set, so a broken run shows a few causes, not thousands. */
static bool debug_slot(void)
{
	return g.debug && atomic_fetch_add(&debug_shown, 1) < DEBUG_MAX;
}

/* set_events: registers interest ev for c's socket, with a syscall only
 * when it changes (GETs never leave EPOLLIN). */
static void set_events(struct thread_ctx *t, struct conn *c, uint32_t ev)
{
	if (c->events == ev)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = c};
	if (epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->events = ev;
}

/* conn_close: closes c's socket (which leaves the epoll set) and makes any
 * event still queued for it stale. */
static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->gen++;
	c->state = C_IDLE;
	c->writing = false;
}

/* set_lowat: before c waits for more of a body of known length, asks the
 * kernel (SO_RCVLOWAT) to wake it only when a buffer's worth, or the rest of
 * the body, is there; back to 1 for the next head. On loopback the sender's
 * sendfile() delivers into our socket and pays for waking us: woken per
 * 64 KiB segment, fogbank spent most of its core waking the client. */
static void set_lowat(struct conn *c)
{
	if (!g.rcvlowat)
		return;
	int want = 1;
	if (c->rstate == R_LENGTH)
		want = c->remaining < RBUF_SIZE ? (int)c->remaining : RBUF_SIZE;
	if (want < 1)
		want = 1;
	if (want != c->lowat &&
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want)) == 0)
		c->lowat = want;
}

/* sock_error: counts a socket error on c (shown with BENCH_S3_DEBUG), drops
 * the connection and its request; it reconnects, after a pause when
 * delay. */
static void sock_error(struct thread_ctx *t, struct conn *c, const char *what, int err, bool delay)
{
	t->socket_errors++;
	if (debug_slot())
		fprintf(stderr, "loadgen: socket error: %s%s%s\n", what, err ? ": " : "",
			err ? strerror(err) : "");
	conn_close(c);
	c->retry_at = delay ? now_ns() + RETRY_NS : 0;
}

/* connect_failed: counts a failed connect, retried after a pause; with
 * --once the line it was for is given up, so a server that is down ends the
 * run with one error per line rather than at the safety cap. */
static void connect_failed(struct thread_ctx *t, struct conn *c, const char *what, int err)
{
	sock_error(t, c, what, err, true);
	if (g.once && t->next < t->hi)
		t->next++;
}

/* next_line: the index of the line c's next request replays, or -1 when
 * --once has handed out all of this thread's lines. */
static long next_line(struct thread_ctx *t)
{
	if (g.once) {
		if (t->next >= t->hi)
			return -1;
		return (long)t->next++;
	}
	size_t i = t->next;
	t->next = (t->next + 1) % g.nlines;
	return (long)i;
}

static void conn_write(struct thread_ctx *t, struct conn *c);

/* start_request: puts the next request on c (connected, idle); with none
 * left, closes c for good. */
static void start_request(struct thread_ctx *t, struct conn *c)
{
	long i = next_line(t);
	if (i < 0) {
		conn_close(c);
		c->state = C_DONE;
		return;
	}
	const struct req_line *l = &g.lines[i];
	c->head = g.heads + l->head_off;
	c->head_len = l->head_len;
	c->body = l->has_body ? g.body : NULL;
	c->body_len = l->has_body ? g.body_len : 0;
	c->sent = 0;
	c->writing = true;
	c->state = C_ACTIVE;
	c->rstate = R_HEAD;
	set_lowat(c);
	c->rlen = 0;
	c->body_bytes = 0;
	c->line_len = 0;
	c->debug_body = false;
	c->dbg_len = 0;
	c->t_start = now_ns();
	conn_write(t, c);
}

/* conn_connect: opens a non-blocking connection for c; the request starts
 * once it is established (at once on loopback, usually). */
static void conn_connect(struct thread_ctx *t, struct conn *c)
{
	if (g.once && t->next >= t->hi) {
		c->state = C_DONE; /* nothing left to send: no connection needed */
		return;
	}
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		connect_failed(t, c, "socket", errno);
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->lowat = 1;
	c->events = EPOLLIN | EPOLLOUT;
	struct epoll_event e = {.events = c->events, .data.ptr = c};
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
		connect_failed(t, c, "epoll_ctl", errno);
		return;
	}
	c->t_start = now_ns(); /* the connect timeout counts from here */
	if (connect(c->fd, (const struct sockaddr *)&g.addr, sizeof(g.addr)) == 0) {
		start_request(t, c);
		return;
	}
	if (errno != EINPROGRESS) {
		connect_failed(t, c, "connect", errno);
		return;
	}
	c->state = C_CONNECTING;
}

/* conn_connected: EPOLLOUT on a connecting socket: starts the request, or
 * counts the failed connect. */
static void conn_connected(struct thread_ctx *t, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		connect_failed(t, c, "connect", err);
		return;
	}
	start_request(t, c);
}

/* conn_write: sends as much of the request head and body as the socket
 * takes (the body from the one shared copy); EPOLLOUT stays registered
 * only while some is left. */
static void conn_write(struct thread_ctx *t, struct conn *c)
{
	while (c->writing) {
		struct iovec iov[2];
		int n = 0;
		if (c->sent < c->head_len) {
			iov[n].iov_base = (char *)c->head + c->sent;
			iov[n++].iov_len = c->head_len - c->sent;
			if (c->body_len) {
				iov[n].iov_base = (char *)c->body;
				iov[n++].iov_len = c->body_len;
			}
		} else {
			iov[n].iov_base = (char *)c->body + (c->sent - c->head_len);
			iov[n++].iov_len = c->head_len + c->body_len - c->sent;
		}
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_events(t, c, EPOLLIN | EPOLLOUT);
				return;
			}
			sock_error(t, c, "write", errno, false);
			return;
		}
		c->sent += (size_t)w;
		if (c->sent == c->head_len + c->body_len)
			c->writing = false;
	}
	set_events(t, c, EPOLLIN);
}

/* header_is: true when the header line [p, end) is named name
 * (case-insensitively); *value is then its trimmed value. */
static bool header_is(const char *p, const char *end, const char *name, const char **value,
		      size_t *vlen)
{
	size_t n = strlen(name);
	if ((size_t)(end - p) <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return false;
	const char *v = p + n + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	const char *e = end;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*value = v;
	*vlen = (size_t)(e - v);
	return true;
}

/* contains_token: true when the header value [v, v+n) holds token
 * (case-insensitively), as in "Connection: keep-alive, close". */
static bool contains_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);
	for (size_t i = 0; i + tl <= n; i++)
		if (strncasecmp(v + i, token, tl) == 0)
			return true;
	return false;
}

/* parse_head: parses the status line and headers in [p, p+n) (ending in
 * the blank line) and sets how the body is framed; -1 when unparsable.
 * Returns 1 for an interim 1xx answer, whose head is then skipped. */
static int parse_head(struct conn *c, const char *p, size_t n)
{
	const char *end = p + n;
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return -1;
	bool http10 = p[7] == '0';
	int status = 0;
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		status = status * 10 + (p[i] - '0');
	}
	if (status >= 100 && status < 200 && status != 101)
		return 1;
	c->status = status;
	c->close_after = http10; /* HTTP/1.0 closes unless it says keep-alive */
	bool chunked = false, have_length = false;
	uint64_t length = 0;
	const char *l = memchr(p, '\n', n);
	while (l && ++l < end) {
		const char *e = memchr(l, '\n', (size_t)(end - l));
		if (!e)
			break;
		const char *v;
		size_t vl;
		if (header_is(l, e, "content-length", &v, &vl)) {
			if (vl == 0)
				return -1;
			length = 0;
			for (size_t i = 0; i < vl; i++) {
				if (v[i] < '0' || v[i] > '9' || length > UINT64_MAX / 20)
					return -1;
				length = length * 10 + (uint64_t)(v[i] - '0');
			}
			have_length = true;
		} else if (header_is(l, e, "transfer-encoding", &v, &vl)) {
			chunked = contains_token(v, vl, "chunked");
		} else if (header_is(l, e, "connection", &v, &vl)) {
			if (contains_token(v, vl, "close"))
				c->close_after = true;
			else if (contains_token(v, vl, "keep-alive"))
				c->close_after = false;
		}
		l = e;
	}
	if (status == 204 || status == 304) {
		c->rstate = R_LENGTH;
		c->remaining = 0;
	} else if (chunked) {
		c->rstate = R_CHUNK_SIZE;
		c->line_len = 0;
	} else if (have_length) {
		c->rstate = R_LENGTH;
		c->remaining = length;
	} else {
		c->rstate = R_EOF; /* no framing: the body ends when the server closes */
		c->close_after = true;
	}
	return 0;
}

/* take_line: adds [p, p+n) up to a newline to c's line (its first
 * LINE_MAX_KEEP - 1 bytes kept, without the CR); returns the bytes used, and
 * *done when the newline was among them. */
static size_t take_line(struct conn *c, const char *p, size_t n, bool *done)
{
	const char *nl = memchr(p, '\n', n);
	size_t used = nl ? (size_t)(nl - p) + 1 : n;
	size_t data = nl ? (size_t)(nl - p) : n;
	for (size_t i = 0; i < data && c->line_len < LINE_MAX_KEEP - 1; i++)
		if (p[i] != '\r')
			c->line[c->line_len++] = p[i];
	*done = nl != NULL;
	return used;
}

/* body_data: notes n bytes of body (the first bytes of an error answer are
 * kept for BENCH_S3_DEBUG). */
static void body_data(struct conn *c, const char *p, size_t n)
{
	c->body_bytes += n;
	if (c->debug_body && c->dbg_len < DEBUG_BODY) {
		size_t k = n < DEBUG_BODY - c->dbg_len ? n : DEBUG_BODY - c->dbg_len;
		memcpy(c->dbg + c->dbg_len, p, k);
		c->dbg_len += k;
	}
}

/* feed_body: consumes the body bytes [p, p+n) of c's answer by its
 * framing; returns the bytes used, -1 on bad chunked framing. *done is set
 * when the answer is complete (more bytes after it are the caller's
 * problem). */
static long feed_body(struct conn *c, const char *p, size_t n, bool *done)
{
	size_t off = 0;
	*done = false;
	while (!*done && (off < n || (c->rstate == R_LENGTH && c->remaining == 0))) {
		size_t left = n - off, k;
		bool eol;
		switch (c->rstate) {
		case R_LENGTH:
		case R_CHUNK_DATA:
			k = left < c->remaining ? left : (size_t)c->remaining;
			body_data(c, p + off, k);
			off += k;
			c->remaining -= k;
			if (c->remaining == 0) {
				if (c->rstate == R_LENGTH)
					*done = true;
				else
					c->rstate = R_CHUNK_END;
				c->line_len = 0;
			}
			break;
		case R_CHUNK_SIZE: {
			off += take_line(c, p + off, left, &eol);
			if (!eol)
				break;
			uint64_t size = 0;
			size_t i = 0;
			for (; i < c->line_len; i++) {
				char ch = c->line[i];
				int d = ch >= '0' && ch <= '9'	 ? ch - '0'
					: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
					: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
								 : -1;
				if (d < 0)
					break;
				if (size >> 59)
					return -1;
				size = size * 16 + (uint64_t)d;
			}
			if (i == 0)
				return -1;
			c->line_len = 0;
			c->remaining = size;
			c->rstate = size ? R_CHUNK_DATA : R_TRAILER;
			break;
		}
		case R_CHUNK_END:
			off += take_line(c, p + off, left, &eol);
			if (!eol)
				break;
			if (c->line_len)
				return -1; /* chunk data must end in CRLF */
			c->rstate = R_CHUNK_SIZE;
			break;
		case R_TRAILER:
			off += take_line(c, p + off, left, &eol);
			if (!eol)
				break;
			if (c->line_len == 0)
				*done = true; /* the blank line after the trailers */
			c->line_len = 0;
			break;
		case R_EOF:
			body_data(c, p + off, left);
			off = n;
			break;
		case R_HEAD:
			return -1;
		}
	}
	return (long)off;
}

/* complete: counts c's finished answer (latency, status) and puts the next
 * request on the connection, or a new connection when the server closes
 * it or answered before it had the whole request. */
static void complete(struct thread_ctx *t, struct conn *c)
{
	uint64_t us = (now_ns() - c->t_start) / 1000;
	t->hist[bucket_of(us)]++;
	t->requests++;
	t->body_bytes += c->body_bytes;
	if (c->status >= 400) {
		t->status_errors++;
		if (c->debug_body)
			fprintf(stderr, "loadgen: %d %.*s\n", c->status, (int)c->dbg_len, c->dbg);
	}
	if (c->close_after || c->writing) {
		conn_close(c);
		conn_connect(t, c);
		return;
	}
	start_request(t, c);
}

/* conn_read: reads what the socket has for c's answer: the head into
 * rbuf, then the body through rbuf, discarded (copied, as a real client's
 * would be). */
static void conn_read(struct thread_ctx *t, struct conn *c)
{
	for (;;) {
		char *dst = c->rbuf;
		size_t room = RBUF_SIZE;
		if (c->rstate == R_HEAD) {
			dst += c->rlen;
			room -= c->rlen;
			if (room == 0) {
				sock_error(t, c, "answer head over 256 KiB", 0, false);
				return;
			}
		}
		ssize_t r = recv(c->fd, dst, room, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sock_error(t, c, "read", errno, false);
			else
				set_lowat(c); /* drained: the wake-up mark must fit what is left */
			return;
		}
		if (r == 0) {
			if (c->rstate == R_EOF) {
				c->close_after = true;
				complete(t, c);
			} else {
				sock_error(t, c,
					   c->rstate == R_HEAD && c->rlen == 0
					       ? "server closed the connection"
					       : "server closed mid-answer",
					   0, false);
			}
			return;
		}
		const char *p = dst;
		size_t n = (size_t)r;
		while (c->rstate == R_HEAD) {
			c->rlen += n;
			size_t from = c->rlen - n >= 3 ? c->rlen - n - 3 : 0;
			char *end = memmem(c->rbuf + from, c->rlen - from, "\r\n\r\n", 4);
			if (!end)
				break; /* more head to come */
			size_t head_len = (size_t)(end + 4 - c->rbuf);
			int rc = parse_head(c, c->rbuf, head_len);
			if (rc < 0) {
				sock_error(t, c, "unparsable answer head", 0, false);
				return;
			}
			p = c->rbuf + head_len;
			n = c->rlen - head_len;
			if (rc == 1) {
				/* interim 1xx: its head goes, the real one follows */
				memmove(c->rbuf, p, n);
				c->rlen = 0;
				p = c->rbuf;
				continue;
			}
			c->debug_body = c->status >= 400 && debug_slot();
		}
		if (c->rstate == R_HEAD) {
			if ((size_t)r < room)
				return;
			continue;
		}
		bool done = false;
		long used = feed_body(c, p, n, &done);
		if (used < 0) {
			sock_error(t, c, "bad chunked framing", 0, false);
			return;
		}
		if (done) {
			if ((size_t)used != n) {
				sock_error(t, c, "bytes after the answer", 0, false);
				return;
			}
			complete(t, c);
			return;
		}
		/* a short read means the socket is drained: back to epoll */
		if ((size_t)r < room) {
			set_lowat(c);
			return;
		}
	}
}

/* sweep: reconnects connections whose pause after a failed connect is
 * over and fails requests older than the timeout; returns the epoll wait
 * in ms until the next thing to do. */
static int sweep(struct thread_ctx *t, uint64_t now)
{
	uint64_t wake = t->deadline;
	for (int i = 0; i < t->nconns; i++) {
		struct conn *c = &t->conns[i];
		if (c->state == C_IDLE && c->retry_at <= now)
			conn_connect(t, c);
		if (c->state == C_IDLE && c->retry_at < wake)
			wake = c->retry_at;
		if (c->state == C_CONNECTING && now > c->t_start + g.timeout_ns) {
			connect_failed(t, c, "connect timeout", 0);
		} else if (c->state == C_ACTIVE && now > c->t_start + g.timeout_ns) {
			sock_error(t, c, "timeout", 0, false);
			conn_connect(t, c);
		}
	}
	/* check timeouts at least every 100 ms */
	uint64_t ms = wake > now ? (wake - now + 999999) / 1000000 : 0;
	return ms > 100 ? 100 : (int)ms;
}

/* thread_busy: true while --once still has lines to send or answers to
 * wait for on this thread. */
static bool thread_busy(const struct thread_ctx *t)
{
	if (!g.once)
		return true;
	for (int i = 0; i < t->nconns; i++)
		if (t->conns[i].state != C_DONE)
			return true;
	return false;
}

/* thread_main: one thread's epoll loop over its connections, until the
 * deadline (or, with --once, until its lines are all answered). */
static void *thread_main(void *arg)
{
	struct thread_ctx *t = arg;
	struct epoll_event ev[64];
	for (int i = 0; i < t->nconns; i++)
		conn_connect(t, &t->conns[i]);
	for (;;) {
		uint64_t now = now_ns();
		if (now >= t->deadline || !thread_busy(t))
			break;
		int wait_ms = sweep(t, now);
		int n = epoll_wait(t->epfd, ev, 64, wait_ms);
		if (n < 0 && errno != EINTR) {
			perror("loadgen: epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			unsigned gen = c->gen;
			uint32_t e = ev[i].events;
			if (c->state == C_CONNECTING) {
				conn_connected(t, c);
				continue;
			}
			if (c->state != C_ACTIVE)
				continue;
			if ((e & EPOLLOUT) && c->writing)
				conn_write(t, c);
			/* the server may answer early (an error before the whole
			 * body): read whenever there is something */
			if (c->gen == gen && c->state == C_ACTIVE &&
			    (e & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				conn_read(t, c);
		}
	}
	for (int i = 0; i < t->nconns; i++) {
		conn_close(&t->conns[i]);
		free(t->conns[i].rbuf);
	}
	return NULL;
}

/* read_file: the whole of path in a malloc'd buffer (one extra NUL byte). */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open", path);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (!buf)
			die("out of memory", NULL);
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap + 1);
	}
	if (ferror(f))
		die("cannot read", path);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* load_list: reads LIST_FILE and prebuilds every request head into one
 * buffer, so a request costs no formatting while measuring. */
static void load_list(const char *path, const char *host)
{
	size_t len;
	char *text = read_file(path, &len);
	size_t used = 0;
	for (size_t i = 0; i < len; i++)
		g.nlines += text[i] == '\n';
	g.nlines++; /* a last line without a newline */
	g.lines = calloc(g.nlines, sizeof(*g.lines));
	size_t extra = strlen(host) + 96;
	g.heads = malloc(len + g.nlines * extra);
	if (!g.lines || !g.heads)
		die("out of memory", NULL);
	size_t n = 0;
	for (char *l = text, *next; l < text + len; l = next) {
		char *nl = memchr(l, '\n', (size_t)(text + len - l));
		next = nl ? nl + 1 : text + len;
		char *e = nl ? nl : text + len;
		if (e > l && e[-1] == '\r')
			e--;
		if (e == l)
			continue;
		char *sp = memchr(l, ' ', (size_t)(e - l));
		if (!sp || sp == l || sp + 1 == e)
			die("a line is not \"METHOD path\"", path);
		bool put = sp - l == 3 && memcmp(l, "PUT", 3) == 0;
		struct req_line *r = &g.lines[n++];
		r->head_off = used;
		r->has_body = put;
		int w;
		if (put)
			w = sprintf(g.heads + used,
				    "%.*s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n\r\n",
				    (int)(e - l), l, host, g.body_len);
		else
			w = sprintf(g.heads + used, "%.*s HTTP/1.1\r\nHost: %s\r\n\r\n",
				    (int)(e - l), l, host);
		r->head_len = (size_t)w;
		used += (size_t)w;
	}
	g.nlines = n;
	free(text);
	if (n == 0)
		die("no requests in", path);
}

/* parse_target: HOST:PORT, where HOST must be loopback (an IPv4 127/8
 * address or localhost): this only ever loads the local machine. */
static void parse_target(const char *target)
{
	const char *colon = strrchr(target, ':');
	if (!colon || colon == target)
		die("want HOST:PORT, not", target);
	char host[64];
	size_t hl = (size_t)(colon - target);
	if (hl >= sizeof(host))
		die("host too long", target);
	memcpy(host, target, hl);
	host[hl] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		die("bad port in", target);
	g.addr.sin_family = AF_INET;
	g.addr.sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &g.addr.sin_addr) != 1 ||
	    (ntohl(g.addr.sin_addr.s_addr) >> 24) != 127)
		die("only loopback IPv4 targets, not", target);
}

/* positive: argument s as a positive integer, or a usage error. */
static long positive(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v <= 0)
		die(what, s);
	return v;
}

/* usage: the synopsis on stderr, exit 2. */
static void usage(void)
{
	fprintf(stderr, "usage: loadgen -t THREADS -c CONNS -d SECONDS [--timeout SECONDS] "
			"[--once] [--no-rcvlowat] HOST:PORT LIST_FILE BODY_FILE|-\n");
	exit(2);
}

/* main: reads the arguments and files, runs the threads, prints RESULT. */
int main(int argc, char **argv)
{
	long threads = 2, conns = 16, seconds = 0, timeout = 60;
	static const struct option opts[] = {
	    {"once", no_argument, NULL, 'o'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"no-rcvlowat", no_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "t:c:d:", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			threads = positive(optarg, "bad -t");
			break;
		case 'c':
			conns = positive(optarg, "bad -c");
			break;
		case 'd':
			seconds = positive(optarg, "bad -d");
			break;
		case 'T':
			timeout = positive(optarg, "bad --timeout");
			break;
		case 'o':
			g.once = true;
			break;
		case 'L':
			g.rcvlowat = false;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3)
		usage();
	if (threads > conns)
		threads = conns;
	parse_target(argv[optind]);
	if (strcmp(argv[optind + 2], "-") != 0)
		g.body = read_file(argv[optind + 2], &g.body_len);
	load_list(argv[optind + 1], argv[optind]);
	g.debug = getenv("BENCH_S3_DEBUG") != NULL;
	/* --once without -d: a cap that only a request never answered reaches */
	if (!seconds)
		seconds = g.once ? 600 + (long)(g.nlines / 20) : 10;
	g.timeout_ns = (uint64_t)timeout * 1000000000u;
	/* a write to a connection the server closed is an error, not a death */
	signal(SIGPIPE, SIG_IGN);

	struct thread_ctx *ts = calloc((size_t)threads, sizeof(*ts));
	if (!ts)
		die("out of memory", NULL);
	uint64_t t0 = now_ns();
	for (long i = 0; i < threads; i++) {
		struct thread_ctx *t = &ts[i];
		t->tid = (int)i;
		t->nconns = (int)(conns * (i + 1) / threads - conns * i / threads);
		t->conns = calloc((size_t)t->nconns, sizeof(*t->conns));
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (!t->conns || t->epfd < 0)
			die("cannot set up a thread", strerror(errno));
		for (int k = 0; k < t->nconns; k++) {
			t->conns[k].fd = -1;
			t->conns[k].rbuf = malloc(RBUF_SIZE);
			if (!t->conns[k].rbuf)
				die("out of memory", NULL);
		}
		t->lo = g.nlines * (size_t)i / (size_t)threads;
		t->hi = g.once ? g.nlines * (size_t)(i + 1) / (size_t)threads : g.nlines;
		t->next = t->lo;
		t->deadline = t0 + (uint64_t)seconds * 1000000000u;
		if (pthread_create(&t->thread, NULL, thread_main, t) != 0)
			die("pthread_create", NULL);
	}
	uint64_t requests = 0, status_errors = 0, socket_errors = 0, body_bytes = 0;
	static uint64_t hist[NBUCKETS];
	for (long i = 0; i < threads; i++) {
		struct thread_ctx *t = &ts[i];
		pthread_join(t->thread, NULL);
		requests += t->requests;
		status_errors += t->status_errors;
		socket_errors += t->socket_errors;
		body_bytes += t->body_bytes;
		for (unsigned b = 0; b < NBUCKETS; b++)
			hist[b] += t->hist[b];
		close(t->epfd);
		free(t->conns);
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	/* p99: the smallest latency at or under which 99% of answers came */
	uint64_t want = (requests * 99 + 99) / 100, seen = 0;
	double p99_ms = 0;
	for (unsigned b = 0; b < NBUCKETS && requests; b++) {
		seen += hist[b];
		if (seen >= want) {
			p99_ms = (double)bucket_top(b) / 1000.0;
			break;
		}
	}
	if (g.debug)
		fprintf(stderr, "loadgen: %llu answers, %llu body bytes in %.2f s\n",
			(unsigned long long)requests, (unsigned long long)body_bytes, secs);
	printf("RESULT %f %f %llu %llu %llu\n", (double)requests / secs, p99_ms,
	       (unsigned long long)status_errors, (unsigned long long)socket_errors,
	       (unsigned long long)requests);
	free(ts);
	free(g.lines);
	free(g.heads);
	free(g.body);
	return 0;
}
