/* request.h - a complete HTTP request and the response being built for it,
 * as the server hands them to the AWS layer.
 *
 * Bodies: small bodies arrive whole in memory (body). Bodies larger than
 * HTTP_SPOOL_THRESHOLD are streamed to a spool file under the data dir as
 * they arrive (never held whole in memory), with MD5 and SHA-256 computed
 * on the way; the handler then sees body_fd >= 0. A handler may take the
 * spool file (rename body_path into place and set *body_taken) — S3 does
 * this so an object is written once; otherwise the server unlinks it.
 *
 * Response bodies are either bytes in body, or a file range (body_fd,
 * sent with sendfile and closed by the server), or a pull callback that
 * produces exactly pull_len bytes (e.g. decrypting an object as it goes). */
#ifndef FB_HTTP_REQUEST_H
#define FB_HTTP_REQUEST_H
#include "core/compat.h"
#include "core/buf.h"
#include "http/parse.h"

#define HTTP_SPOOL_THRESHOLD (1u << 20)

struct http_request {
	struct http_head h;	    /* views into the connection's buffer */
	struct str body;	    /* the whole body when in memory (body_fd < 0) */
	int body_fd;		    /* spooled body, read-only, positioned at 0; else -1 */
	const char *body_path;	    /* path of the spool file (same dir as the data dir) */
	int *body_taken;	    /* set to 1 when the handler renamed body_path away */
	uint64_t body_len;	    /* length of the body, in memory or spooled */
	unsigned char body_md5[16]; /* MD5 of a spooled body (computed on the way in);
				       in-memory bodies are hashed by whoever needs it */
	char body_sha256[65];	    /* hex SHA-256 of a spooled body, "" when not computed
					  (x-amz-content-sha256 is UNSIGNED-PAYLOAD/STREAMING-*) */
	int64_t recv_ms;	    /* when the head arrived */
	struct http_conn *conn;	    /* private to the server (http_defer) */
};

/* A response pushed in chunks for as long as its producer likes (AWS
 * event streams, e.g. CloudWatch Logs StartLiveTail). The producer gets
 * the stream from stream_open once the head is queued and then calls
 * http_stream_write / http_stream_end (server.h); if the client goes away
 * first, stream_closed(ctx) is called and the stream is gone. */
struct http_conn;
struct http_stream;
typedef void http_stream_open_fn(void *ctx, struct http_stream *st);

/* Pull callback for streamed response bodies: fills up to cap bytes of buf
 * and returns how many (> 0), or -1 on error (the connection is closed,
 * since the status line is already sent). Called from the loop. */
typedef ssize_t http_pull_fn(void *ctx, char *buf, size_t cap);

struct http_response {
	int status;
	const char *content_type; /* NULL: no Content-Type header */
	struct buf headers;	  /* extra "Name: value\r\n" lines */
	struct buf body;	  /* in-memory body (when no file / pull body) */
	int body_fd;		  /* >= 0: send [body_off, body_off+body_len) of this
				     file; the server closes it */
	uint64_t body_off, body_len;
	http_pull_fn *pull; /* non-NULL: pull_len bytes come from pull() */
	void *pull_ctx;
	uint64_t pull_len;
	void (*pull_free)(void *ctx); /* called once when done or aborted */
	/* non-NULL: a chunked body pushed later (see struct http_stream),
	 * body (if any) being its first chunk; exactly one of stream_open /
	 * stream_closed is called */
	http_stream_open_fn *stream_open;
	void (*stream_closed)(void *ctx);
	void *stream_ctx;
};

/* http_response_header: appends one "name: value\r\n" line. */
void http_response_header(struct http_response *r, const char *name, const char *value);
#endif
