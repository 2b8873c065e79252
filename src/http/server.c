/* server.c - connections of the HTTP server. A connection reads into one
 * buffer, parses heads in place, waits for the whole body, runs the
 * handler and appends the response to its output buffer; pipelined
 * requests are answered in order because handlers are synchronous. */
#include "http/server.h"
#include "core/loop.h"
#include "core/log.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_HEADERS 100
#define HTTP_READ_CHUNK 65536
#define HTTP_OUT_HIGH_WATER (4u << 20) /* stop reading while this much is unsent */

struct http_conn {
	struct http_server *srv;
	int fd;
	struct buf in;
	struct buf out;
	size_t out_off;
	struct buf body;   /* de-chunked body */
	int sent_continue; /* 100 Continue sent for the current request */
	int closing;	   /* close once out is flushed */
	int64_t last_ms;   /* last activity (monotonic) */
	struct http_conn *prev, *next;
};

struct http_server {
	struct loop *loop;
	int fd;
	int port;
	struct http_server_config cfg;
	struct http_conn *conns;
	uint64_t sweep_timer;
	struct http_response resp; /* reused between requests */
};

static void conn_io_cb(struct loop *l, int fd, unsigned events, void *arg);

void http_response_header(struct http_response *r, const char *name, const char *value)
{
	buf_puts(&r->headers, name);
	buf_append(&r->headers, ": ", 2);
	buf_puts(&r->headers, value);
	buf_append(&r->headers, "\r\n", 2);
}

static const char *status_text(int s)
{
	switch (s) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 416:
		return "Range Not Satisfiable";
	case 417:
		return "Expectation Failed";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Status";
	}
}

/* date_header: "Date: <rfc1123>\r\n", formatted at most once a second. */
static const char *date_header(void)
{
	static char cached[64];
	static time_t cached_at;
	time_t now = time(NULL);
	if (now != cached_at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(cached, sizeof(cached), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		cached_at = now;
	}
	return cached;
}

static void conn_close(struct http_conn *c)
{
	struct http_server *s = c->srv;
	loop_watch(s->loop, c->fd, 0, NULL, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	buf_release(&c->in);
	buf_release(&c->out);
	buf_release(&c->body);
	free(c);
}

/* conn_flush: writes pending output. Returns -1 when the connection was
 * closed (error, or done and closing), 0 otherwise. */
static int conn_flush(struct http_conn *c)
{
	while (c->out_off < c->out.n) {
		ssize_t w = send(c->fd, c->out.p + c->out_off, c->out.n - c->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(c);
			return -1;
		}
		c->out_off += (size_t)w;
	}
	if (c->out_off == c->out.n) {
		buf_clear(&c->out);
		c->out_off = 0;
		if (c->closing) {
			conn_close(c);
			return -1;
		}
	}
	unsigned want = 0;
	if (c->out.n - c->out_off < HTTP_OUT_HIGH_WATER && !c->closing)
		want |= LOOP_READ;
	if (c->out_off < c->out.n)
		want |= LOOP_WRITE;
	loop_watch(c->srv->loop, c->fd, want, conn_io_cb, c);
	return 0;
}

/* emit: appends a full response for the current request to c->out. */
static void emit(struct http_conn *c, const struct http_response *r, int head_only)
{
	char line[128];
	int n =
	    snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", r->status, status_text(r->status));
	buf_append(&c->out, line, (size_t)n);
	buf_puts(&c->out, date_header());
	if (r->content_type) {
		buf_puts(&c->out, "Content-Type: ");
		buf_puts(&c->out, r->content_type);
		buf_append(&c->out, "\r\n", 2);
	}
	buf_append(&c->out, r->headers.p ? r->headers.p : "", r->headers.n);
	n = snprintf(line, sizeof(line), "Content-Length: %zu\r\n", r->body.n);
	buf_append(&c->out, line, (size_t)n);
	if (c->closing)
		buf_puts(&c->out, "Connection: close\r\n");
	buf_append(&c->out, "\r\n", 2);
	if (!head_only)
		buf_append(&c->out, r->body.p ? r->body.p : "", r->body.n);
}

/* simple_error: a plain error answer, then close (the stream is unusable). */
static void simple_error(struct http_conn *c, int status, const char *msg)
{
	struct http_response *r = &c->srv->resp;
	r->status = status;
	r->content_type = "text/plain";
	buf_clear(&r->headers);
	buf_clear(&r->body);
	buf_puts(&r->body, msg);
	c->closing = 1;
	emit(c, r, 0);
}

/* header_has_token: 1 when a comma-separated header value contains tok. */
static int header_has_token(struct str v, const char *tok)
{
	size_t n = strlen(tok);
	for (size_t i = 0; i + n <= v.n; i++)
		if (strncasecmp(v.p + i, tok, n) == 0 &&
		    (i == 0 || v.p[i - 1] == ' ' || v.p[i - 1] == ',') &&
		    (i + n == v.n || v.p[i + n] == ',' || v.p[i + n] == ' ' || v.p[i + n] == ';'))
			return 1;
	return 0;
}

/* dechunk: decodes a chunked body starting at p into c->body. Returns
 * bytes consumed (through the trailers), -2 when incomplete, -1 on error,
 * -3 when the body exceeds the limit. */
static ssize_t dechunk(struct http_conn *c, const char *p, size_t n)
{
	size_t i = 0;
	buf_clear(&c->body);
	for (;;) {
		uint64_t sz;
		int k = http_parse_chunk_size(p + i, n - i, &sz);
		if (k == HTTP_PARSE_INCOMPLETE)
			return -2;
		if (k < 0)
			return -1;
		i += (size_t)k;
		if (sz == 0)
			break;
		if (c->body.n + sz > c->srv->cfg.body_max)
			return -3;
		if (n - i < sz + 2)
			return -2;
		if (p[i + sz] != '\r' || p[i + sz + 1] != '\n')
			return -1;
		buf_append(&c->body, p + i, (size_t)sz);
		i += (size_t)sz + 2;
	}
	/* trailers, ended by an empty line */
	for (;;) {
		const char *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			return (n - i > 8192) ? -1 : -2;
		size_t len = (size_t)(nl - (p + i));
		i += len + 1;
		if (len == 0 || (len == 1 && nl[-1] == '\r'))
			return (ssize_t)i;
	}
}

/* process: answers every complete request in c->in. Returns -1 when the
 * connection was closed. */
static int process(struct http_conn *c)
{
	struct http_server *s = c->srv;
	while (c->in.n && !c->closing) {
		struct http_header headers[HTTP_MAX_HEADERS];
		struct http_request req;
		memset(&req, 0, sizeof(req));
		req.body_fd = -1;
		int hl = http_parse_request(c->in.p, c->in.n, &req.h, headers, HTTP_MAX_HEADERS);
		if (hl == HTTP_PARSE_INCOMPLETE) {
			if (c->in.n > s->cfg.head_max)
				simple_error(c, 431, "request head too large");
			break;
		}
		if (hl == HTTP_PARSE_TOO_MANY_HEADERS || (hl > 0 && (size_t)hl > s->cfg.head_max)) {
			simple_error(c, 431, "too many or too large headers");
			break;
		}
		if (hl < 0) {
			simple_error(c, 400, "malformed request");
			break;
		}
		const struct http_header *te = http_find_header(&req.h, "transfer-encoding");
		const struct http_header *cl = http_find_header(&req.h, "content-length");
		const struct http_header *ex = http_find_header(&req.h, "expect");
		size_t total;
		int chunked = 0;
		if (te) {
			if (!header_has_token(te->value, "chunked") || cl) {
				/* unknown coding, or both framings: request smuggling risk */
				simple_error(c, te && cl ? 400 : 501,
					     "unsupported transfer-encoding");
				break;
			}
			chunked = 1;
		}
		uint64_t clen = 0;
		if (cl && !chunked) {
			if (cl->value.n == 0 || cl->value.n > 19) {
				simple_error(c, 400, "bad content-length");
				break;
			}
			size_t i = 0;
			for (; i < cl->value.n && cl->value.p[i] >= '0' && cl->value.p[i] <= '9';
			     i++)
				clen = clen * 10 + (uint64_t)(cl->value.p[i] - '0');
			if (i != cl->value.n) {
				simple_error(c, 400, "bad content-length");
				break;
			}
			if (clen > s->cfg.body_max) {
				simple_error(c, 413, "request body too large");
				break;
			}
		}
		if (ex && !c->sent_continue) {
			if (!str_case_eq_c(ex->value, "100-continue")) {
				simple_error(c, 417, "unsupported expectation");
				break;
			}
			if ((chunked || clen > 0) && c->in.n - (size_t)hl == 0) {
				buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
				c->sent_continue = 1;
			}
		}
		if (chunked) {
			ssize_t used = dechunk(c, c->in.p + hl, c->in.n - (size_t)hl);
			if (used == -2)
				break;
			if (used == -3) {
				simple_error(c, 413, "request body too large");
				break;
			}
			if (used < 0) {
				simple_error(c, 400, "malformed chunked body");
				break;
			}
			req.body = buf_str(&c->body);
			req.body_len = req.body.n;
			total = (size_t)hl + (size_t)used;
		} else {
			if (c->in.n - (size_t)hl < clen)
				break; /* wait for the rest of the body */
			req.body = (struct str){c->in.p + hl, (size_t)clen};
			req.body_len = clen;
			total = (size_t)hl + (size_t)clen;
		}
		const struct http_header *conn_h = http_find_header(&req.h, "connection");
		if (req.h.minor_version == 0
			? !(conn_h && header_has_token(conn_h->value, "keep-alive"))
			: (conn_h && header_has_token(conn_h->value, "close")))
			c->closing = 1;
		req.recv_ms = fb_wall_ms();
		struct http_response *r = &s->resp;
		r->status = 200;
		r->content_type = NULL;
		r->body_fd = -1;
		r->pull = NULL;
		buf_clear(&r->headers);
		buf_clear(&r->body);
		s->cfg.handler(s->cfg.ctx, &req, r);
		emit(c, r, str_eq_c(req.h.method, "HEAD"));
		buf_consume(&c->in, total);
		c->sent_continue = 0;
		if (c->out.n > HTTP_OUT_HIGH_WATER)
			break;
	}
	return conn_flush(c);
}

static void conn_io_cb(struct loop *l, int fd, unsigned events, void *arg)
{
	struct http_conn *c = arg;
	c->last_ms = fb_mono_ms();
	if (events & LOOP_WRITE) {
		if (conn_flush(c) < 0)
			return;
		if (c->in.n && !c->closing && c->out.n == 0 && process(c) < 0)
			return;
	}
	if (!(events & (LOOP_READ | LOOP_ERROR)))
		return;
	for (;;) {
		buf_reserve(&c->in, HTTP_READ_CHUNK);
		ssize_t r = recv(fd, c->in.p + c->in.n, c->in.cap - c->in.n - 1, 0);
		if (r > 0) {
			c->in.n += (size_t)r;
			c->in.p[c->in.n] = 0;
			if ((size_t)r < HTTP_READ_CHUNK)
				break;
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (errno == EAGAIN)
			break;
	}
	process(c);
}

static void accept_cb(struct loop *l, int fd, unsigned events, void *arg)
{
	struct http_server *s = arg;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("http: accept: %s", strerror(errno));
			return;
		}
		int one = 1;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct http_conn *c = calloc(1, sizeof(*c));
		if (!c)
			fb_die("out of memory");
		c->srv = s;
		c->fd = cfd;
		c->last_ms = fb_mono_ms();
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		if (loop_watch(l, cfd, LOOP_READ, conn_io_cb, c) < 0)
			conn_close(c);
	}
}

/* sweep_cb: closes idle keep-alive connections. */
static void sweep_cb(struct loop *l, void *arg)
{
	struct http_server *s = arg;
	int64_t now = fb_mono_ms();
	for (struct http_conn *c = s->conns, *n; c; c = n) {
		n = c->next;
		if (now - c->last_ms > s->cfg.idle_ms && c->out.n == 0)
			conn_close(c);
	}
	s->sweep_timer = loop_timer_add(l, 1000, sweep_cb, s);
}

struct http_server *http_server_start(struct loop *l, const struct http_server_config *cfg)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg->host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)cfg->port);
		sl = sizeof(*in4);
	} else if (inet_pton(AF_INET6, cfg->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)cfg->port);
		sl = sizeof(*in6);
	} else {
		log_error("http: bad listen address %s", cfg->host);
		return NULL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 4096) < 0) {
		log_error("http: cannot listen on %s:%d: %s", cfg->host, cfg->port,
			  strerror(errno));
		close(fd);
		return NULL;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s)
		fb_die("out of memory");
	s->loop = l;
	s->fd = fd;
	s->cfg = *cfg;
	s->port = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
	loop_watch(l, fd, LOOP_READ, accept_cb, s);
	s->sweep_timer = loop_timer_add(l, 1000, sweep_cb, s);
	return s;
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	loop_watch(s->loop, s->fd, 0, NULL, NULL);
	close(s->fd);
	loop_timer_cancel(s->loop, s->sweep_timer);
	while (s->conns)
		conn_close(s->conns);
	buf_release(&s->resp.headers);
	buf_release(&s->resp.body);
	free(s);
}
