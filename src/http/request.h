/* request.h - a complete HTTP request and the response being built for it,
 * as the server hands them to the AWS layer. */
#ifndef FB_HTTP_REQUEST_H
#define FB_HTTP_REQUEST_H
#include "core/compat.h"
#include "core/buf.h"
#include "http/parse.h"

struct http_request {
	struct http_head h; /* views into the connection's buffer */
	struct str body;    /* the whole body, de-chunked */
	int64_t recv_ms;    /* when the head arrived */
};

struct http_response {
	int status;
	const char *content_type; /* NULL: no Content-Type header */
	struct buf headers;	  /* extra "Name: value\r\n" lines */
	struct buf body;
};

/* http_response_header: appends one "name: value\r\n" line. */
void http_response_header(struct http_response *r, const char *name, const char *value);
#endif
