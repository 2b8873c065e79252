/* chunked.h - incremental decoder for Transfer-Encoding: chunked. Pure:
 * it keeps a few words of state, allocates nothing and hands back views
 * of the decoded data inside the caller's input. */
#ifndef FB_HTTP_CHUNKED_H
#define FB_HTTP_CHUNKED_H
#include "core/compat.h"
#include "core/str.h"

enum http_dechunk_rc {
	HTTP_DECHUNK_ERROR = -1,
	HTTP_DECHUNK_MORE = 0, /* need more input */
	HTTP_DECHUNK_DATA = 1, /* *data holds decoded bytes; call again */
	HTTP_DECHUNK_DONE = 2, /* last chunk and trailers consumed */
};

struct http_dechunk {
	int state;
	uint64_t left; /* bytes left in the current chunk */
};

#define HTTP_DECHUNK_INIT ((struct http_dechunk){0, 0})

/* http_dechunk_step: decodes from p[0..n). Always sets *used (bytes of p
 * consumed) and *data (a view into p, empty unless DATA is returned).
 * Chunk-size lines and trailer lines longer than 4 KiB are errors. */
int http_dechunk_step(struct http_dechunk *d, const char *p, size_t n, size_t *used,
		      struct str *data);
#endif
