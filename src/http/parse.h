/* parse.h - pure, zero-allocation HTTP/1.x request head parser
 * (picohttpparser's contract): views point into the caller's buffer. */
#ifndef FB_HTTP_PARSE_H
#define FB_HTTP_PARSE_H
#include "core/compat.h"
#include "core/str.h"

struct http_header {
	struct str name;
	struct str value; /* trimmed of surrounding whitespace */
};

struct http_head {
	struct str method;
	struct str target; /* request-target as sent */
	struct str path;   /* target up to '?' */
	struct str query;  /* after '?', without it (empty when none) */
	int minor_version; /* 0 or 1 */
	struct http_header *headers;
	size_t nheaders;
};

#define HTTP_PARSE_ERROR (-1)
#define HTTP_PARSE_INCOMPLETE (-2)
#define HTTP_PARSE_TOO_MANY_HEADERS (-3)

/* http_parse_request: parses the request line and headers of buf[0..len).
 * headers points at max_headers slots. Returns the length of the head
 * (through the blank line) on success, HTTP_PARSE_INCOMPLETE when more
 * bytes are needed, or a negative error. Never allocates, never reads past
 * len. */
int http_parse_request(const char *buf, size_t len, struct http_head *out,
		       struct http_header *headers, size_t max_headers);

/* http_find_header: first header named name (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_head *h, const char *name);

/* http_parse_chunk_size: parses "HEX[;ext]\r\n" at buf. Returns bytes
 * consumed and sets *size, or HTTP_PARSE_INCOMPLETE / HTTP_PARSE_ERROR. */
int http_parse_chunk_size(const char *buf, size_t len, uint64_t *size);
#endif
