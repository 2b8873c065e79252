/* server.c - connections of the HTTP server.
 *
 * A connection reads into one buffer and parses the head in place. The
 * body is then received in one of three ways: left in the buffer (small
 * Content-Length bodies), decoded into a side buffer (small chunked
 * bodies), or streamed to a spool file with MD5 and SHA-256 computed on
 * the way (bodies over HTTP_SPOOL_THRESHOLD), so memory stays flat however
 * large the upload. The head stays at the start of the buffer until the
 * handler has run, so its views remain valid. Responses are appended to an
 * output buffer; a file body is sent with sendfile and a pull body in
 * chunks, and no later pipelined request is answered before they finish.
 *
 * A handler may defer its answer (http_defer): the connection then keeps
 * the request exactly as it was and neither reads nor parses anything more
 * until http_deferred_end. A deferred connection that must close (error,
 * server stop) becomes a zombie: its socket goes, but the request's memory
 * stays until the answer arrives, since a worker may still be reading it. */
#include "http/server.h"
#include "core/loop.h"
#include "core/log.h"
#include "http/chunked.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_HEADERS 100
#define HTTP_READ_CHUNK 65536
#define HTTP_OUT_HIGH_WATER (4u << 20) /* stop reading while this much is unsent */
#define HTTP_PULL_CHUNK 65536

/* A streamed response in progress; lives inside its connection. */
struct http_stream {
	struct http_conn *c;
	void (*closed)(void *ctx);
	void *ctx;
	int active;
};

/* The handle of a deferred answer; lives inside its connection. */
struct http_deferred {
	struct http_conn *c;
};

struct http_conn {
	struct http_server *srv;
	int fd;
	struct buf in;
	struct buf out;
	size_t out_off;
	/* the request being received: its head is in[0..head_len) */
	size_t head_len;       /* 0: waiting for a head */
	struct http_head head; /* parsed head; valid while in.p == head_base */
	const char *head_base;
	struct http_header headers[HTTP_MAX_HEADERS];
	int chunked;
	uint64_t clen; /* Content-Length, when not chunked */
	uint64_t got;  /* decoded body bytes received */
	struct http_dechunk dc;
	struct buf body; /* decoded chunked body, while in memory */
	int spool_fd;	 /* >= 0: the body is going to a spool file */
	char spool_path[512];
	EVP_MD_CTX *md5, *sha;
	int want_sha;	   /* SHA-256 of the body will be checked */
	int sent_continue; /* 100 Continue sent for the current request */
	/* the response body still being sent */
	int send_fd;
	off_t send_off;
	uint64_t send_left;
	http_pull_fn *pull;
	void *pull_ctx;
	uint64_t pull_left;
	void (*pull_free)(void *ctx);
	struct http_stream stream; /* a pushed chunked response, when active */
	int closing;		   /* close once out is flushed */
	int held;		   /* out waits for a sync: HELD_NEXT or HELD_RUNNING */
	struct http_conn *held_next;
	int64_t last_ms; /* last activity (monotonic) */
	struct http_conn *prev, *next;
	/* the request being handled: handlers get &req, so a deferred
	 * answer still has it (its views point into in, body or headers) */
	struct http_request req;
	int taken;	 /* the handler took the spool file */
	size_t consumed; /* bytes of in the request occupies */
	int handling;	 /* the handler of req is running */
	int deferred;	 /* the answer comes with http_deferred_end */
	int zombie;	 /* closed while deferred: freed at http_deferred_end */
	struct http_deferred dfr;
};

struct http_server {
	struct loop *loop;
	int fd;
	int port;
	struct http_server_config cfg;
	struct http_conn *conns;
	struct http_conn *held;	   /* connections whose answers wait for the next sync */
	struct http_conn *syncing; /* ... for the sync that is running */
	int sync_running;	   /* a durable_sync_start has not called back yet */
	int nzombies;		   /* closed connections still owed a deferred answer */
	int stopped;		   /* http_server_stop ran; the last zombie (or the
				      running sync) frees s */
	uint64_t sweep_timer;
	uint64_t release_timer;	   /* the end-of-iteration sync, when armed */
	struct http_response resp; /* reused between requests */
};

/* values of http_conn.held */
enum { HELD_NO, HELD_NEXT, HELD_RUNNING };

static void conn_io_cb(struct loop *l, int fd, unsigned events, void *arg);
static int process(struct http_conn *c);
static void server_free(struct http_server *s);

/* held_unlink: takes c off the list of answers waiting for a sync. */
static void held_unlink(struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct http_conn **pp = c->held == HELD_RUNNING ? &s->syncing : &s->held;
	for (; c->held && *pp; pp = &(*pp)->held_next)
		if (*pp == c) {
			*pp = c->held_next;
			break;
		}
	c->held = HELD_NO;
	c->held_next = NULL;
}

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

/* spool_drop: closes and removes the spool file unless the handler took it. */
static void spool_drop(struct http_conn *c, int taken)
{
	if (c->spool_fd < 0)
		return;
	close(c->spool_fd);
	if (!taken)
		unlink(c->spool_path);
	c->spool_fd = -1;
}

/* send_drop: abandons a response body still being sent. */
static void send_drop(struct http_conn *c)
{
	if (c->send_fd >= 0)
		close(c->send_fd);
	c->send_fd = -1;
	c->send_left = 0;
	if (c->pull && c->pull_free)
		c->pull_free(c->pull_ctx);
	c->pull = NULL;
	c->pull_left = 0;
}

/* request_drop: forgets the request just answered: its reopened body
 * descriptor, its spool file (unless the handler took it) and its bytes
 * in the input buffer; pipelined bytes after it stay. */
static void request_drop(struct http_conn *c)
{
	if (c->req.body_fd >= 0)
		close(c->req.body_fd);
	c->req.body_fd = -1;
	spool_drop(c, c->taken);
	c->taken = 0;
	buf_consume(&c->in, c->consumed);
	c->consumed = 0;
	buf_clear(&c->body);
	c->head_len = 0;
	c->sent_continue = 0;
}

/* conn_free: frees what is left of a closed connection (socket already
 * gone, unlinked from the server). */
static void conn_free(struct http_conn *c)
{
	spool_drop(c, c->taken);
	if (c->req.body_fd >= 0)
		close(c->req.body_fd);
	EVP_MD_CTX_free(c->md5);
	EVP_MD_CTX_free(c->sha);
	buf_release(&c->in);
	buf_release(&c->out);
	buf_release(&c->body);
	free(c);
}

/* conn_close: closes c's socket and unlinks it from the server. A
 * connection whose answer is deferred becomes a zombie instead of being
 * freed: the request it holds may still be read by whoever will answer
 * it, and http_deferred_end frees it. */
static void conn_close(struct http_conn *c)
{
	struct http_server *s = c->srv;
	held_unlink(c);
	loop_watch(s->loop, c->fd, 0, NULL, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	send_drop(c);
	if (c->stream.active) { /* the producer forgets the stream now */
		c->stream.active = 0;
		c->stream.closed(c->stream.ctx);
	}
	if (c->deferred) {
		c->zombie = 1;
		s->nzombies++;
		return;
	}
	conn_free(c);
}

static int sending_body(const struct http_conn *c)
{
	return c->send_left > 0 || c->pull_left > 0 || c->stream.active;
}

/* conn_rearm: watches for what c can use now: writability while output
 * is pending, readability unless too much is unsent or a body is being
 * sent. A streamed response keeps reading (so a client that goes away is
 * noticed at once) until a head's worth of pipelined bytes is waiting. */
static void conn_rearm(struct http_conn *c)
{
	unsigned want = 0;
	int busy = c->out.n - c->out_off >= HTTP_OUT_HIGH_WATER || c->send_left || c->pull_left ||
		   (c->stream.active && c->in.n > c->srv->cfg.head_max);
	/* while an answer is deferred the input buffer must not move: the
	 * request's views (and a worker) point into it */
	if (!busy && !c->closing && !c->deferred)
		want |= LOOP_READ;
	if (!c->held && (c->out_off < c->out.n || c->send_left || c->pull_left))
		want |= LOOP_WRITE;
	loop_watch(c->srv->loop, c->fd, want, conn_io_cb, c);
}

/* conn_flush: writes pending output, then any file or pull body. Returns
 * -1 when the connection was closed, 0 otherwise. */
static int conn_flush(struct http_conn *c)
{
	while (!c->held) {
		if (c->out_off < c->out.n) {
			ssize_t w =
			    send(c->fd, c->out.p + c->out_off, c->out.n - c->out_off, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				break;
			if (w < 0) {
				conn_close(c);
				return -1;
			}
			c->out_off += (size_t)w;
			continue;
		}
		buf_clear(&c->out);
		c->out_off = 0;
		if (c->send_left) {
			size_t want = c->send_left > (1u << 20) ? (1u << 20) : (size_t)c->send_left;
			ssize_t w = sendfile(c->fd, c->send_fd, &c->send_off, want);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				break;
			if (w <= 0) {
				/* the file shrank or failed: the length is promised, so
				 * the only honest thing left is to close */
				log_warn("http: file body ended early: %s",
					 w < 0 ? strerror(errno) : "EOF");
				conn_close(c);
				return -1;
			}
			c->send_left -= (uint64_t)w;
			if (!c->send_left)
				send_drop(c);
			continue;
		}
		if (c->pull_left) {
			size_t want =
			    c->pull_left > HTTP_PULL_CHUNK ? HTTP_PULL_CHUNK : (size_t)c->pull_left;
			buf_reserve(&c->out, want);
			ssize_t r = c->pull(c->pull_ctx, c->out.p, want);
			if (r <= 0 || (uint64_t)r > c->pull_left) {
				log_warn("http: pull body failed");
				conn_close(c);
				return -1;
			}
			c->out.n = (size_t)r;
			c->pull_left -= (uint64_t)r;
			if (!c->pull_left)
				send_drop(c);
			continue;
		}
		if (c->closing && !c->deferred) {
			conn_close(c);
			return -1;
		}
		break;
	}
	conn_rearm(c);
	return 0;
}

int http_stream_write(struct http_stream *st, const void *p, size_t n)
{
	struct http_conn *c = st->c;
	if (!st->active || !n)
		return -1;
	if (c->out.n - c->out_off > HTTP_STREAM_BACKLOG)
		return -1;
	char line[24];
	int k = snprintf(line, sizeof(line), "%zx\r\n", n);
	buf_append(&c->out, line, (size_t)k);
	buf_append(&c->out, p, n);
	buf_append(&c->out, "\r\n", 2);
	conn_rearm(c); /* sent when the loop sees the socket writable */
	return 0;
}

void http_stream_end(struct http_stream *st)
{
	struct http_conn *c = st->c;
	if (!st->active)
		return;
	st->active = 0;
	buf_puts(&c->out, "0\r\n\r\n");
	conn_rearm(c);
}

/* emit: appends the status line and headers (and an in-memory body) of r
 * to c->out, and arms a file or pull body. */
static void emit(struct http_conn *c, struct http_response *r, int head_only)
{
	uint64_t len = r->body_fd >= 0 ? r->body_len : r->pull ? r->pull_len : r->body.n;
	/* no snprintf per response: two of them cost more than the rest of
	 * the head */
	int st = r->status >= 100 && r->status <= 999 ? r->status : 500;
	char head[13] = "HTTP/1.1 000 ";
	head[9] = (char)('0' + st / 100);
	head[10] = (char)('0' + st / 10 % 10);
	head[11] = (char)('0' + st % 10);
	buf_append(&c->out, head, sizeof(head));
	buf_puts(&c->out, status_text(r->status));
	buf_append(&c->out, "\r\n", 2);
	buf_puts(&c->out, date_header());
	if (r->content_type) {
		buf_puts(&c->out, "Content-Type: ");
		buf_puts(&c->out, r->content_type);
		buf_append(&c->out, "\r\n", 2);
	}
	buf_append(&c->out, r->headers.p ? r->headers.p : "", r->headers.n);
	if (r->stream_open) {
		buf_puts(&c->out, "Transfer-Encoding: chunked\r\n");
	} else {
		char digits[24], *e = digits + sizeof(digits), *q = e;
		do
			*--q = (char)('0' + len % 10);
		while (len /= 10);
		buf_append(&c->out, "Content-Length: ", 16);
		buf_append(&c->out, q, (size_t)(e - q));
		buf_append(&c->out, "\r\n", 2);
	}
	if (c->closing)
		buf_puts(&c->out, "Connection: close\r\n");
	buf_append(&c->out, "\r\n", 2);
	if (r->body_fd >= 0) {
		c->send_fd = r->body_fd;
		c->send_off = (off_t)r->body_off;
		c->send_left = head_only ? 0 : r->body_len;
		r->body_fd = -1;
		if (!c->send_left)
			send_drop(c);
	} else if (r->pull) {
		c->pull = r->pull;
		c->pull_ctx = r->pull_ctx;
		c->pull_free = r->pull_free;
		c->pull_left = head_only ? 0 : r->pull_len;
		r->pull = NULL;
		if (!c->pull_left)
			send_drop(c);
	} else if (r->stream_open && r->body.n && !head_only) {
		char sz[24]; /* a streamed response's first chunk */
		int n = snprintf(sz, sizeof(sz), "%zx\r\n", r->body.n);
		buf_append(&c->out, sz, (size_t)n);
		buf_append(&c->out, r->body.p, r->body.n);
		buf_append(&c->out, "\r\n", 2);
	} else if (!head_only && !r->stream_open) {
		buf_append(&c->out, r->body.p ? r->body.p : "", r->body.n);
	}
}

/* simple_error: a plain error answer, then close (the stream is unusable). */
static void simple_error(struct http_conn *c, int status, const char *msg)
{
	struct http_response *r = &c->srv->resp;
	r->status = status;
	r->content_type = "text/plain";
	r->body_fd = -1;
	r->pull = NULL;
	r->stream_open = NULL;
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

/* query_has_param: 1 when query string q has a parameter named key. */
static int query_has_param(struct str q, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i + n < q.n; i++)
		if ((i == 0 || q.p[i - 1] == '&') && q.p[i + n] == '=' && !memcmp(q.p + i, key, n))
			return 1;
	return 0;
}

/* presigned: 1 when <query> carries a SigV4 or SigV2 query signature. */
static int presigned(struct str query)
{
	return query_has_param(query, "X-Amz-Signature") || query_has_param(query, "Signature");
}

/* spool_open: starts spooling the body to a new file. 0 or -1 (logged). */
static int spool_open(struct http_conn *c)
{
	snprintf(c->spool_path, sizeof(c->spool_path), "%s/spool-XXXXXX", c->srv->cfg.spool_dir);
	c->spool_fd = mkostemp(c->spool_path, O_CLOEXEC);
	if (c->spool_fd < 0) {
		log_error("http: cannot create spool file in %s: %s", c->srv->cfg.spool_dir,
			  strerror(errno));
		return -1;
	}
	if (!c->md5) {
		c->md5 = EVP_MD_CTX_new();
		c->sha = EVP_MD_CTX_new();
		if (!c->md5 || !c->sha)
			fb_die("out of memory");
	}
	EVP_DigestInit_ex(c->md5, EVP_md5(), NULL);
	if (c->want_sha)
		EVP_DigestInit_ex(c->sha, EVP_sha256(), NULL);
	return 0;
}

/* spool_write: appends body bytes to the spool file and the digests. */
static int spool_write(struct http_conn *c, const char *p, size_t n)
{
	EVP_DigestUpdate(c->md5, p, n);
	if (c->want_sha)
		EVP_DigestUpdate(c->sha, p, n);
	while (n) {
		ssize_t w = write(c->spool_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_error("http: spool write: %s", strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* cut_in: removes in[at..at+n), keeping the head before and anything
 * pipelined after. */
static void cut_in(struct http_conn *c, size_t at, size_t n)
{
	memmove(c->in.p + at, c->in.p + at + n, c->in.n - at - n);
	c->in.n -= n;
	c->in.p[c->in.n] = 0;
}

/* start_request: parses a new head. Returns 1 when the head is complete
 * and the body state is set up, 0 when more bytes are needed, -1 after an
 * error answer. */
static int start_request(struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct http_head h;
	int hl = http_parse_request(c->in.p, c->in.n, &h, c->headers, HTTP_MAX_HEADERS);
	if (hl == HTTP_PARSE_INCOMPLETE) {
		if (c->in.n > s->cfg.head_max)
			return simple_error(c, 431, "request head too large"), -1;
		return 0;
	}
	if (hl == HTTP_PARSE_TOO_MANY_HEADERS || (hl > 0 && (size_t)hl > s->cfg.head_max))
		return simple_error(c, 431, "too many or too large headers"), -1;
	if (hl < 0)
		return simple_error(c, 400, "malformed request"), -1;
	const struct http_header *te = http_find_header(&h, "transfer-encoding");
	const struct http_header *cl = http_find_header(&h, "content-length");
	const struct http_header *ex = http_find_header(&h, "expect");
	c->chunked = 0;
	c->clen = 0;
	c->got = 0;
	if (te) {
		/* both framings at once is a request-smuggling vector */
		if (cl)
			return simple_error(c, 400, "both content-length and transfer-encoding"),
			       -1;
		if (!header_has_token(te->value, "chunked"))
			return simple_error(c, 501, "unsupported transfer-encoding"), -1;
		c->chunked = 1;
		c->dc = HTTP_DECHUNK_INIT;
		buf_clear(&c->body);
	} else if (cl) {
		size_t i = 0;
		for (; i < cl->value.n && i < 19 && cl->value.p[i] >= '0' && cl->value.p[i] <= '9';
		     i++)
			c->clen = c->clen * 10 + (uint64_t)(cl->value.p[i] - '0');
		if (i == 0 || i != cl->value.n)
			return simple_error(c, 400, "bad content-length"), -1;
		if (c->clen > s->cfg.body_max)
			return simple_error(c, 413, "request body too large"), -1;
	}
	if (ex && !str_case_eq_c(ex->value, "100-continue"))
		return simple_error(c, 417, "unsupported expectation"), -1;
	/* the body's SHA-256 is needed when it is signed as a hex digest, or
	 * when no x-amz-content-sha256 says otherwise (RPC services hash the
	 * body); UNSIGNED-PAYLOAD and STREAMING-* uploads skip the work, and
	 * so do presigned URLs (S3 signs them UNSIGNED-PAYLOAD) */
	const struct http_header *ps = http_find_header(&h, "x-amz-content-sha256");
	c->want_sha = ps ? ps->value.n == 64 : !presigned(h.query);
	c->head_len = (size_t)hl;
	c->head = h;
	c->head_base = c->in.p;
	if (!c->chunked && c->clen > HTTP_SPOOL_THRESHOLD && spool_open(c) < 0)
		return simple_error(c, 500, "cannot store request body"), -1;
	/* The client waits for 100 Continue before sending the body. It is
	 * sent even for an empty body or one that already arrived: botocore,
	 * seeing a final status where it expected 100, keeps that status line
	 * for the connection and misreads the next 100-continue exchange on
	 * it (a hang until its read timeout). RFC 9110 lets us send it. */
	if (ex && !c->sent_continue) {
		buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		c->sent_continue = 1;
	}
	return 1;
}

/* receive_body: moves the body bytes available in c->in to where they
 * belong. Returns 1 when the body is complete, 0 when more is needed, -1
 * after an error answer. */
static int receive_body(struct http_conn *c)
{
	struct http_server *s = c->srv;
	size_t hl = c->head_len;
	if (!c->chunked) {
		size_t avail = c->in.n - hl;
		if (c->spool_fd < 0)
			return avail >= c->clen;
		size_t take =
		    (uint64_t)avail < c->clen - c->got ? avail : (size_t)(c->clen - c->got);
		if (take && spool_write(c, c->in.p + hl, take) < 0)
			return simple_error(c, 500, "cannot store request body"), -1;
		cut_in(c, hl, take);
		c->got += take;
		return c->got == c->clen;
	}
	size_t pos = hl;
	for (;;) {
		size_t used;
		struct str data;
		int rc = http_dechunk_step(&c->dc, c->in.p + pos, c->in.n - pos, &used, &data);
		pos += used;
		if (rc == HTTP_DECHUNK_ERROR) {
			cut_in(c, hl, pos - hl);
			return simple_error(c, 400, "malformed chunked body"), -1;
		}
		if (rc == HTTP_DECHUNK_DATA) {
			c->got += data.n;
			if (c->got > s->cfg.body_max) {
				cut_in(c, hl, pos - hl);
				return simple_error(c, 413, "request body too large"), -1;
			}
			if (c->spool_fd < 0 && c->body.n + data.n > HTTP_SPOOL_THRESHOLD) {
				/* grew past the threshold: move to a spool file */
				if (spool_open(c) < 0 || spool_write(c, c->body.p, c->body.n) < 0) {
					cut_in(c, hl, pos - hl);
					return simple_error(c, 500, "cannot store request body"),
					       -1;
				}
				buf_clear(&c->body);
			}
			if (c->spool_fd >= 0) {
				if (spool_write(c, data.p, data.n) < 0) {
					cut_in(c, hl, pos - hl);
					return simple_error(c, 500, "cannot store request body"),
					       -1;
				}
			} else {
				buf_append(&c->body, data.p, data.n);
			}
			continue;
		}
		cut_in(c, hl, pos - hl);
		return rc == HTTP_DECHUNK_DONE;
	}
}

/* release_list: sends the answers of the connections on *list, whose
 * sync is done, and goes on with their pipelined requests. */
static void release_list(struct http_conn **list)
{
	while (*list) {
		struct http_conn *c = *list;
		*list = c->held_next;
		c->held = HELD_NO;
		c->held_next = NULL;
		/* pipelined requests parked behind a full buffer go on too */
		if (conn_flush(c) == 0 && c->in.n && !sending_body(c) && c->out.n == 0)
			process(c);
	}
}

static void release_cb(struct loop *l, void *arg);

/* sync_done: the running sync is on disk (loop thread): its answers go
 * out, or, when what they saw was lost (!ok), their connections close
 * unanswered; the answers held meanwhile get the next sync. */
static void sync_done(void *arg, int ok)
{
	struct http_server *s = arg;
	s->sync_running = 0;
	if (s->stopped) { /* the connections are gone; s waited for this */
		if (!s->nzombies)
			server_free(s);
		return;
	}
	if (!ok) {
		log_warn("http: closing the connections whose answers saw a lost commit");
		while (s->syncing)
			conn_close(s->syncing); /* unlinks it */
	}
	release_list(&s->syncing);
	if (s->held && !s->release_timer)
		s->release_timer = loop_timer_add(s->loop, 0, release_cb, s);
}

/* release_cb: the end of a loop iteration in which answers were held:
 * one sync, beside the loop, makes every write behind them durable, and
 * sync_done sends them; answers held while it runs wait for sync_done
 * to start the next. */
static void release_cb(struct loop *l, void *arg)
{
	struct http_server *s = arg;
	s->release_timer = 0;
	if (s->sync_running || !s->held)
		return;
	/* the held answers become the running sync's */
	for (struct http_conn *c = s->held; c; c = c->held_next)
		c->held = HELD_RUNNING;
	s->syncing = s->held;
	s->held = NULL;
	s->sync_running = 1;
	s->cfg.durable_sync_start(s->cfg.ctx, sync_done, s);
}

/* hold: c's output (the answer just produced and anything after it)
 * waits for a sync (group commit): the next one when the store has
 * commits no sync covers yet, else the running one, if any. */
static void hold(struct http_conn *c)
{
	struct http_server *s = c->srv;
	if (s->cfg.durable_pending(s->cfg.ctx)) {
		if (c->held == HELD_NEXT)
			return;
		held_unlink(c); /* from the running sync's list, if there */
		c->held = HELD_NEXT;
		c->held_next = s->held;
		s->held = c;
		/* a zero-delay timer runs after every event of this iteration */
		if (!s->release_timer)
			s->release_timer = loop_timer_add(s->loop, 0, release_cb, s);
	} else if (s->sync_running && c->held == HELD_NO) {
		/* it saw only commits the running sync covers */
		c->held = HELD_RUNNING;
		c->held_next = s->syncing;
		s->syncing = c;
	}
}

/* response_reset: the server's response object, cleared for a new answer. */
static struct http_response *response_reset(struct http_server *s)
{
	struct http_response *r = &s->resp;
	r->status = 200;
	r->content_type = NULL;
	r->body_fd = -1;
	r->pull = NULL;
	r->stream_open = NULL;
	buf_clear(&r->headers);
	buf_clear(&r->body);
	return r;
}

/* answer: queues r as the answer to c's current request (held while the
 * store has unsynced commits), opens a streamed response, then forgets
 * the request. */
static void answer(struct http_conn *c, struct http_response *r)
{
	struct http_server *s = c->srv;
	int head_only = str_eq_c(c->req.h.method, "HEAD");
	emit(c, r, head_only);
	if (s->cfg.durable_pending)
		hold(c);
	if (r->stream_open) {
		http_stream_open_fn *open = r->stream_open;
		r->stream_open = NULL;
		if (head_only) {
			buf_puts(&c->out, "0\r\n\r\n");
			r->stream_closed(r->stream_ctx);
		} else {
			c->stream = (struct http_stream){c, r->stream_closed, r->stream_ctx, 1};
			open(r->stream_ctx, &c->stream);
		}
	}
	request_drop(c);
}

/* finish_request: runs the handler on the complete request and queues
 * the response, then forgets the request; unless the handler deferred
 * its answer, in which case the request stays as it is. */
static void finish_request(struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct http_request *req = &c->req;
	memset(req, 0, sizeof(*req));
	if (c->in.p == c->head_base)
		req->h = c->head; /* views still point at the head */
	else			  /* the buffer moved while the body arrived: parse again */
		http_parse_request(c->in.p, c->head_len, &req->h, c->headers, HTTP_MAX_HEADERS);
	c->taken = 0;
	req->body_fd = -1;
	req->body_taken = &c->taken;
	req->conn = c;
	c->consumed = c->head_len;
	if (c->spool_fd >= 0) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		EVP_DigestFinal_ex(c->md5, req->body_md5, &n);
		if (c->want_sha) {
			EVP_DigestFinal_ex(c->sha, md, &n);
			for (unsigned i = 0; i < n; i++)
				snprintf(req->body_sha256 + 2 * i, 3, "%02x", md[i]);
		}
		req->body_fd = open(c->spool_path, O_RDONLY | O_CLOEXEC);
		req->body_path = c->spool_path;
		req->body_len = c->got;
		req->body = (struct str){"", 0};
		if (req->body_fd < 0) {
			simple_error(c, 500, "cannot reopen request body");
			spool_drop(c, 0);
			return;
		}
	} else if (c->chunked) {
		req->body = buf_str(&c->body);
		req->body_len = req->body.n;
	} else {
		req->body = (struct str){c->in.p + c->head_len, (size_t)c->clen};
		req->body_len = c->clen;
		c->consumed += (size_t)c->clen;
	}
	const struct http_header *conn_h = http_find_header(&req->h, "connection");
	if (req->h.minor_version == 0 ? !(conn_h && header_has_token(conn_h->value, "keep-alive"))
				      : (conn_h && header_has_token(conn_h->value, "close")))
		c->closing = 1;
	req->recv_ms = fb_wall_ms();
	struct http_response *r = response_reset(s);
	c->handling = 1;
	s->cfg.handler(s->cfg.ctx, req, r);
	c->handling = 0;
	if (c->deferred)
		return; /* http_deferred_end answers */
	answer(c, r);
}

struct http_deferred *http_defer(const struct http_request *req)
{
	struct http_conn *c = req->conn;
	if (!c || !c->handling || c->deferred)
		fb_die("http_defer: not a request being handled");
	c->deferred = 1;
	c->dfr.c = c;
	return &c->dfr;
}

struct http_response *http_deferred_response(struct http_deferred *d)
{
	return response_reset(d->c->srv);
}

/* server_free: releases s itself (its connections are gone). */
static void server_free(struct http_server *s)
{
	buf_release(&s->resp.headers);
	buf_release(&s->resp.body);
	free(s);
}

void http_deferred_end(struct http_deferred *d)
{
	struct http_conn *c = d->c;
	struct http_server *s = c->srv;
	struct http_response *r = &s->resp;
	if (!c->deferred)
		fb_die("http_deferred_end: no deferred answer");
	c->deferred = 0;
	d->c = NULL;
	if (c->zombie) {
		/* nobody to answer: release what the response holds */
		if (r->body_fd >= 0)
			close(r->body_fd);
		r->body_fd = -1;
		if (r->pull && r->pull_free)
			r->pull_free(r->pull_ctx);
		r->pull = NULL;
		if (r->stream_open) {
			r->stream_open = NULL;
			r->stream_closed(r->stream_ctx);
		}
		request_drop(c);
		conn_free(c);
		if (--s->nzombies == 0 && s->stopped && !s->sync_running)
			server_free(s);
		return;
	}
	answer(c, r);
	c->last_ms = fb_mono_ms();
	process(c); /* pipelined requests, then the socket is armed again */
}

/* process: answers every complete request in c->in, in order. Returns -1
 * when the connection was closed. */
static int process(struct http_conn *c)
{
	while (!c->closing && !c->deferred && !sending_body(c) && c->out.n < HTTP_OUT_HIGH_WATER) {
		if (!c->head_len) {
			if (!c->in.n)
				break;
			int rc = start_request(c);
			if (rc <= 0)
				break;
		}
		int rc = receive_body(c);
		if (rc <= 0)
			break;
		finish_request(c);
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
		if (!(events & (LOOP_READ | LOOP_ERROR))) {
			if (c->in.n && !sending_body(c) && c->out.n == 0)
				process(c);
			return;
		}
	}
	if (!(events & (LOOP_READ | LOOP_ERROR)))
		return;
	if (c->deferred) {
		/* nothing is read while an answer is deferred (a stale read
		 * event of this round); a dead socket makes c a zombie */
		if (events & LOOP_ERROR)
			conn_close(c);
		return;
	}
	for (;;) {
		buf_reserve(&c->in, HTTP_READ_CHUNK);
		ssize_t r = recv(fd, c->in.p + c->in.n, c->in.cap - c->in.n - 1, 0);
		if (r > 0) {
			c->in.n += (size_t)r;
			c->in.p[c->in.n] = 0;
			/* keep reading only while the buffer is what we hand on */
			if ((size_t)r < HTTP_READ_CHUNK ||
			    c->in.n > HTTP_SPOOL_THRESHOLD + (1u << 20))
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
		c->spool_fd = -1;
		c->send_fd = -1;
		c->req.body_fd = -1;
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
		if (now - c->last_ms > s->cfg.idle_ms && c->out.n == 0 && !sending_body(c) &&
		    !c->deferred)
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
	s->resp.body_fd = -1;
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
	/* held answers are dropped unsent with their connections: nothing
	 * they saw was acknowledged, and the store syncs when it closes */
	if (s->release_timer)
		loop_timer_cancel(s->loop, s->release_timer);
	while (s->conns)
		conn_close(s->conns);
	if (s->nzombies || s->sync_running) {
		/* answers still owed, or a sync that will call back: the last
		 * http_deferred_end or sync_done frees s */
		s->stopped = 1;
		return;
	}
	server_free(s);
}
