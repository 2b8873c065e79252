/* fuzz_fmt.c - libFuzzer target for src/aws/fmt.c: timestamps that parse
 * must print and parse back to within a millisecond; base64 must decode
 * what it encodes, and re-encode whatever it accepted. */
#include "core/compat.h"
#include "aws/fmt.h"
#include <math.h>
#include <stdlib.h>

/* LLVMFuzzerTestOneInput: one input; aborts on a broken invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double t, t2;
	char s[40];
	if (fmt_parse_timestamp((const char *)data, size, &t) == 0 && isfinite(t) &&
	    t > -62167219200.0 && t < 253402300799.0) {
		fmt_iso8601(s, t);
		if (fmt_parse_timestamp(s, strlen(s), &t2) != 0 || fabs(t2 - t) > 0.0006)
			abort();
		fmt_rfc822(s, t);
		if (fmt_parse_timestamp(s, strlen(s), &t2) != 0 || t2 != floor(t))
			abort();
	}
	char *enc = malloc(4 * ((size + 2) / 3) + 1);
	unsigned char *dec = malloc(size + 1);
	size_t m = fmt_b64_encode(enc, data, size);
	if (fmt_b64_decode(dec, enc, m) != (ssize_t)size || (size && memcmp(dec, data, size) != 0))
		abort();
	ssize_t n = fmt_b64_decode(dec, (const char *)data, size);
	if (n >= 0) {
		char *re = malloc(4 * (((size_t)n + 2) / 3) + 1);
		m = fmt_b64_encode(re, dec, (size_t)n);
		if (m != size)
			abort();
		free(re);
	}
	free(enc);
	free(dec);
	return 0;
}
