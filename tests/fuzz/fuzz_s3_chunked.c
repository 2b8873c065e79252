/* fuzz_s3_chunked.c - libFuzzer target for S3's aws-chunked decoder (fed
 * in two pieces, signed and unsigned) and its Range parser. */
#include "aws/sigv4_chunked.h"
#include "svc/s3/internal.h"
#include <stdlib.h>

/* count: a sink that checks and counts the decoded bytes. */
static int count(void *ctx, const void *p, size_t n)
{
	*(uint64_t *)ctx += n;
	return p || !n ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sigv4_chunk_signer s;
	static int ready;
	char *p = malloc(size ? size : 1);
	uint64_t got = 0, start, len;
	struct s3_chunked d;
	size_t cut = size ? data[0] % (size + 1) : 0;
	if (!ready)
		ready = sigv4_chunk_signer_init(&s, "test", 4, STR_LIT("20260101"),
						STR_LIT("us-east-1"), STR_LIT("s3"),
						STR_LIT("20260101T000000Z")) == 0;
	memcpy(p, data, size);
	s3_chunked_init(&d, size && (data[0] & 1), 0, size && (data[0] & 2) ? &s : NULL,
			"0000000000000000000000000000000000000000000000000000000000000000");
	if (s3_chunked_feed(&d, p, cut, count, &got) == 0)
		s3_chunked_feed(&d, p + cut, size - cut, count, &got);
	if (got != d.decoded || got > size)
		abort();
	s3_chunked_trailer(&d, "x-amz-checksum-crc32");
	s3_chunked_free(&d);
	if (s3_range_parse((struct str){p, size}, 1000, &start, &len) == 1 &&
	    (len == 0 || start + len > 1000))
		abort();
	free(p);
	return 0;
}
