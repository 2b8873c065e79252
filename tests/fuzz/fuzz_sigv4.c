/* fuzz_sigv4.c - libFuzzer target for src/aws/sigv4.c. The input is lines:
 * Authorization value, raw query, raw path, then "name:value" headers.
 * Parses both auth forms, builds the canonical request (whose query line
 * must be fully encoded), and verifies against a fixed secret and clock. */
#include "core/compat.h"
#include "aws/sigv4.h"
#include <stdlib.h>

/* in_range: 1 when the view s lies inside [lo, lo + n), or is empty. */
static int in_range(struct str s, const void *lo, size_t n)
{
	const char *b = lo;
	return s.n == 0 || (s.p >= b && s.p + s.n <= b + n);
}

/* check_query_line: aborts unless q is what AWS's UriEncode can produce:
 * unreserved bytes, '&', '=', and upper-case %XX. */
static void check_query_line(const char *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = q[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c && strchr("-_.~&=", c)))
			continue;
		if (c != '%' || i + 2 >= n || !strchr("0123456789ABCDEF", q[i + 1]) ||
		    !strchr("0123456789ABCDEF", q[i + 2]) || !q[i + 1] || !q[i + 2])
			abort();
		i += 2;
	}
}

/* LLVMFuzzerTestOneInput: one input; aborts on a broken invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sigv4_key_cache *kc;
	static struct buf cr, sts;
	struct str line[3] = {STR_LIT(""), STR_LIT(""), STR_LIT("")};
	struct http_header h[16];
	size_t nh = 0, nl = 0;
	const char *p = (const char *)data, *end = p + size;
	char scratch[512];
	struct sigv4_auth a;
	if (!kc)
		kc = sigv4_key_cache_new();
	while (p < end) {
		const char *nl_at = memchr(p, '\n', (size_t)(end - p));
		struct str l = {p, (size_t)((nl_at ? nl_at : end) - p)};
		p = nl_at ? nl_at + 1 : end;
		if (nl < 3) {
			line[nl++] = l;
		} else if (nh < FB_ARRAY_LEN(h)) {
			const char *colon = memchr(l.p, ':', l.n);
			size_t k = colon ? (size_t)(colon - l.p) : l.n;
			h[nh].name = (struct str){l.p, k};
			h[nh++].value = colon ? (struct str){colon + 1, l.n - k - 1} : STR_LIT("");
		}
	}
	if (sigv4_parse_header(line[0], &a) == 0 &&
	    (!in_range(a.access_key, data, size) || !in_range(a.signature, data, size) ||
	     a.signature.n != 64 || a.date.n != 8 || !in_range(a.signed_headers, data, size)))
		abort();
	if (sigv4_parse_presigned(line[1], &a, scratch, sizeof(scratch)) == 0 &&
	    (!in_range(a.signature, scratch, sizeof(scratch)) || a.signature.n != 64 ||
	     !in_range(a.security_token, scratch, sizeof(scratch))))
		abort();

	struct sigv4_request req = {
	    .method = STR_LIT("GET"),
	    .path = line[2],
	    .query = line[1],
	    .headers = h,
	    .nheaders = nh,
	    .body = {(const char *)data, size},
	    /* S3 rules when the scope says s3, as the router would decide */
	    .s3 = memmem(data, size, "/s3/", 4) || memmem(data, size, "%2Fs3%2F", 8),
	};
	int rc = sigv4_parse_request(&req, &a, scratch, sizeof(scratch));
	if (rc != 0) {
		/* canonicalise anyway: error messages print unverified requests */
		memset(&a, 0, sizeof(a));
		a.signed_headers = STR_LIT("content-type;host;x-amz-date");
	}
	buf_clear(&cr);
	sigv4_canonical_request(&cr, &req, &a);
	const char *q = memchr(cr.p, '\n', cr.n);
	q = q ? memchr(q + 1, '\n', cr.n - (size_t)(q + 1 - cr.p)) : NULL;
	if (!q)
		abort();
	const char *qe = memchr(q + 1, '\n', cr.n - (size_t)(q + 1 - cr.p));
	if (!qe)
		abort();
	check_query_line(q + 1, (size_t)(qe - q - 1));
	buf_clear(&sts);
	if (rc == 0) {
		sigv4_string_to_sign(&sts, &req, &a, buf_str(&cr));
		/* the seeds from tools/sigv4_vectors.py verify at this time */
		rc = sigv4_verify(kc, &req, &a, "test", 4, 1795320344);
		if (rc > 0 || rc < SIGV4_ERR_HOST_UNSIGNED)
			abort();
	}
	return 0;
}
