/* fuzz_http.c - libFuzzer target for the HTTP head and chunk parsers. */
#include "http/chunked.h"
#include "http/parse.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head h;
	struct http_header hs[16];
	/* copy so ASan catches any read past size */
	char *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	int n = http_parse_request(p, size, &h, hs, 16);
	if (n > 0) {
		if ((size_t)n > size || h.nheaders > 16)
			abort();
		for (size_t i = 0; i < h.nheaders; i++)
			if (hs[i].name.p < p || hs[i].value.p + hs[i].value.n > p + size)
				abort();
		http_find_header(&h, "content-length");
		uint64_t sz;
		http_parse_chunk_size(p + n, size - (size_t)n, &sz);
	}
	uint64_t sz;
	int k = http_parse_chunk_size(p, size, &sz);
	if (k > 0 && (size_t)k > size)
		abort();
	/* the incremental chunked decoder, fed in two pieces */
	struct http_dechunk d = HTTP_DECHUNK_INIT;
	size_t cut = size ? data[0] % (size + 1) : 0, pos = 0, avail = cut;
	for (int guard = 0; guard < 100000; guard++) {
		size_t used;
		struct str span;
		int rc = http_dechunk_step(&d, p + pos, avail - pos, &used, &span);
		if (used > avail - pos || (span.n && (span.p < p || span.p + span.n > p + avail)))
			abort();
		pos += used;
		if (rc == HTTP_DECHUNK_DATA)
			continue;
		if (rc != HTTP_DECHUNK_MORE || avail == size)
			break;
		avail = size;
	}
	free(p);
	return 0;
}
