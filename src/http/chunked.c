/* chunked.c - state machine over: size line, data, CRLF, ..., "0" line,
 * trailer lines, empty line. */
#include "http/chunked.h"
#include "http/parse.h"

enum { ST_SIZE, ST_DATA, ST_DATA_END, ST_TRAILER, ST_DONE };

#define LINE_MAX_BYTES 4096

int http_dechunk_step(struct http_dechunk *d, const char *p, size_t n, size_t *used,
		      struct str *data)
{
	size_t i = 0;
	*data = (struct str){p, 0};
	for (;;) {
		switch (d->state) {
		case ST_SIZE: {
			uint64_t sz;
			int k = http_parse_chunk_size(p + i, n - i, &sz);
			if (k == HTTP_PARSE_INCOMPLETE) {
				*used = i;
				return n - i > LINE_MAX_BYTES ? HTTP_DECHUNK_ERROR
							      : HTTP_DECHUNK_MORE;
			}
			if (k < 0)
				return *used = i, HTTP_DECHUNK_ERROR;
			i += (size_t)k;
			d->left = sz;
			d->state = sz ? ST_DATA : ST_TRAILER;
			break;
		}
		case ST_DATA: {
			size_t take = n - i < d->left ? n - i : (size_t)d->left;
			*data = (struct str){p + i, take};
			d->left -= take;
			i += take;
			if (!d->left)
				d->state = ST_DATA_END;
			*used = i;
			return take ? HTTP_DECHUNK_DATA : HTTP_DECHUNK_MORE;
		}
		case ST_DATA_END:
			if (n - i < 2)
				return *used = i, HTTP_DECHUNK_MORE;
			if (p[i] != '\r' || p[i + 1] != '\n')
				return *used = i, HTTP_DECHUNK_ERROR;
			i += 2;
			d->state = ST_SIZE;
			break;
		case ST_TRAILER: {
			const char *nl = memchr(p + i, '\n', n - i);
			if (!nl) {
				*used = i;
				return n - i > LINE_MAX_BYTES ? HTTP_DECHUNK_ERROR
							      : HTTP_DECHUNK_MORE;
			}
			size_t len = (size_t)(nl - (p + i));
			if (len == 0 || nl[-1] != '\r')
				return *used = i, HTTP_DECHUNK_ERROR;
			i += len + 1;
			if (len == 1) {
				d->state = ST_DONE;
				return *used = i, HTTP_DECHUNK_DONE;
			}
			break; /* a trailer field: skipped */
		}
		default:
			return *used = i, HTTP_DECHUNK_DONE;
		}
	}
}
