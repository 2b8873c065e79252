/* fuzz_form.c - libFuzzer target for src/aws/form.c: iterate the input as a
 * form body, decoding every key and value in place both ways; and check
 * url_encode output always decodes back to the input. */
#include "core/compat.h"
#include "core/buf.h"
#include "aws/form.h"
#include <stdlib.h>

/* LLVMFuzzerTestOneInput: one input; aborts on a broken invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf enc;
	char *tmp = malloc(size ? size : 1);
	struct str cur = {(const char *)data, size}, k, v;
	size_t seen = 0;
	while (form_next(&cur, &k, &v)) {
		if (k.p < (const char *)data || v.p + v.n > (const char *)data + size)
			abort();
		seen += k.n + v.n;
		for (int plus = 0; plus < 2; plus++) {
			memcpy(tmp, k.p, k.n);
			ssize_t n = url_decode(tmp, tmp, k.n, plus);
			if (n > (ssize_t)k.n)
				abort();
			memcpy(tmp, v.p, v.n);
			n = url_decode(tmp, tmp, v.n, plus);
			if (n > (ssize_t)v.n)
				abort();
		}
	}
	if (seen > size || cur.n != 0)
		abort();
	for (int slash = 0; slash < 2; slash++) {
		buf_clear(&enc);
		url_encode(&enc, (const char *)data, size, slash);
		char *dec = malloc(enc.n ? enc.n : 1);
		ssize_t n = url_decode(dec, enc.p, enc.n, 1);
		if (n != (ssize_t)size || (size && memcmp(dec, data, size) != 0))
			abort();
		free(dec);
	}
	free(tmp);
	return 0;
}
