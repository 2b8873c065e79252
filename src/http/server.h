/* server.h - HTTP/1.1 server on the event loop: keep-alive, pipelining,
 * chunked request bodies, Expect: 100-continue, head/body size limits.
 * Each complete request is handed to one handler, which answers at once
 * or defers its answer (http_defer). */
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
	/* Group commit (both NULL: answers go out at once). After each
	 * handler, durable_pending(ctx) says whether state it may have seen
	 * or written is not yet on disk; if so the answer is held. At the end
	 * of the loop iteration durable_sync_start(ctx, done, arg) starts a
	 * sync covering every commit so far (after which durable_pending is 0
	 * until the next commit) and calls done(arg, 1) on the loop thread
	 * once it is on disk, possibly before returning. While it runs,
	 * answers that saw only what it covers wait for it, the rest for the
	 * next one, so commits go on meanwhile. done(arg, 0): what they saw
	 * was lost, so their connections are closed unanswered (a client
	 * retries; nothing lost was acknowledged). Answers still held when
	 * the server stops are never sent. */
	int (*durable_pending)(void *ctx);
	void (*durable_sync_start)(void *ctx, void (*done)(void *arg, int ok), void *arg);
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

/* Deferred answers. A handler that must wait (for a worker thread, say)
 * calls http_defer(req) before it returns and leaves the response alone.
 * The connection then keeps the request exactly as it was (head, body in
 * memory or spool file, *body_taken) and reads, parses and answers
 * nothing more until the owner of the handle fills the response from
 * http_deferred_response and calls http_deferred_end; pipelined requests
 * then follow in order. If the connection closes meanwhile (client error,
 * http_server_stop), the request stays valid all the same and the answer
 * is dropped at http_deferred_end. Every handle must be ended exactly
 * once. Loop thread only. */
struct http_deferred;
/* http_defer: defers the answer to <req>, the request the running handler
 * was given (or a copy of it), from within that handler. Returns the handle (owned by the connection,
 * valid until http_deferred_end). Dies when called twice or elsewhere. */
struct http_deferred *http_defer(const struct http_request *req);
/* http_deferred_response: the response to fill for <d>, reset (status
 * 200, nothing else); it belongs to the server. */
struct http_response *http_deferred_response(struct http_deferred *d);
/* http_deferred_end: sends the response filled since
 * http_deferred_response as the answer (held for the store's sync like
 * any other) and goes on with the connection; <d> is invalid afterwards.
 * May run handlers of pipelined requests before it returns. */
void http_deferred_end(struct http_deferred *d);

/* http_server_stop: closes the listener and every connection. A
 * connection whose answer is deferred keeps its request (and s its
 * memory) until its http_deferred_end. */
void http_server_stop(struct http_server *s);
#endif
