/* fuzz_http.c - libFuzzer target for the HTTP head and chunk parsers. */
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
	free(p);
	return 0;
}
