/* server.h - HTTP/1.1 server on the event loop: keep-alive, pipelining,
 * chunked request bodies, Expect: 100-continue, head/body size limits.
 * Each complete request is handed to one synchronous handler. */
#ifndef FB_HTTP_SERVER_H
#define FB_HTTP_SERVER_H
#include "core/compat.h"
#include "http/request.h"

struct loop;
struct http_server;

typedef void http_handler_fn(void *ctx, const struct http_request *req, struct http_response *resp);

struct http_server_config {
	const char *host;      /* loopback literal */
	int port;	       /* 0: ephemeral */
	size_t head_max;       /* bytes; larger heads get 431 */
	size_t body_max;       /* bytes; larger bodies get 413 */
	const char *spool_dir; /* where bodies over HTTP_SPOOL_THRESHOLD go */
	int64_t idle_ms;       /* idle keep-alive connections are closed */
	http_handler_fn *handler;
	void *ctx;
	/* Group commit (NULL: answers go out at once). After each handler,
	 * durable_pending(ctx) says whether state it may have seen or written
	 * is not yet on disk; if so the answer is held, and at the end of the
	 * loop iteration one durable_sync(ctx) releases every held answer. */
	int (*durable_pending)(void *ctx);
	void (*durable_sync)(void *ctx);
};

/* http_server_start: binds, listens and registers with the loop. Returns
 * the server or NULL (logged). */
struct http_server *http_server_start(struct loop *l, const struct http_server_config *cfg);
/* http_server_port: the bound port (useful with port 0). */
int http_server_port(const struct http_server *s);
/* http_stream_write: queues p[0..n) as one chunk of a streamed response
 * (n > 0); it is sent from the loop. Returns 0, or -1 without queuing
 * when the client has fallen more than HTTP_STREAM_BACKLOG bytes behind
 * (the producer decides what to drop). Loop thread only. */
int http_stream_write(struct http_stream *st, const void *p, size_t n);
/* http_stream_end: queues the last chunk; the connection then goes on
 * with the next request. st is invalid afterwards, and stream_closed is
 * not called. */
void http_stream_end(struct http_stream *st);
#define HTTP_STREAM_BACKLOG (4u << 20)

/* http_server_stop: closes the listener and every connection. */
void http_server_stop(struct http_server *s);
#endif
