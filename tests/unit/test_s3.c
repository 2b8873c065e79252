/* test_s3.c - S3's pure parts: CRC32/CRC32C vectors, ETags of multipart
 * objects, Range parsing, ETag lists, bucket names, continuation tokens
 * and prefix ends, SigV4 chunk signatures (AWS's published example) and
 * the aws-chunked decoder (signed, unsigned with trailers, fed byte by
 * byte, tampered, truncated). */
#include "core/compat.h"
#include "test.h"
#include "aws/fmt.h"
#include "aws/sigv4_chunked.h"
#include "core/arena.h"
#include "svc/s3/internal.h"
#include <openssl/evp.h>

TEST(s3_crc32_vectors)
{
	CHECK(s3_crc32(0, "123456789", 9) == 0xcbf43926u);
	CHECK(s3_crc32(0, "", 0) == 0);
	/* incremental equals one shot, across the 8-byte fast path */
	const char *s = "The quick brown fox jumps over the lazy dog";
	uint32_t a = s3_crc32(0, s, 7);
	a = s3_crc32(a, s + 7, strlen(s) - 7);
	CHECK(a == s3_crc32(0, s, strlen(s)));
	CHECK(a == 0x414fa339u);
}

TEST(s3_crc32c_vectors)
{
	unsigned char zeros[32] = {0}, ones[32];
	memset(ones, 0xff, sizeof(ones));
	CHECK(s3_crc32c(0, "123456789", 9) == 0xe3069283u);
	/* RFC 3720 B.4 test vectors */
	CHECK(s3_crc32c(0, zeros, 32) == 0x8a9136aau);
	CHECK(s3_crc32c(0, ones, 32) == 0x62a8ab43u);
	uint32_t a = s3_crc32c(0, "12345", 5);
	CHECK(s3_crc32c(a, "6789", 4) == 0xe3069283u);
}

TEST(s3_checksum_digest_and_names)
{
	unsigned char d[32];
	CHECK(s3_cks_digest(S3_CKS_CRC32, "hello world\n", 12, d) == 4);
	/* "rwg7LQ==" is what botocore sent for this body (aws-protocols.md) */
	char b64[16];
	fmt_b64_encode(b64, d, 4);
	CHECK_STREQ(b64, "rwg7LQ==");
	CHECK(s3_cks_from_name(STR_LIT("crc32c")) == S3_CKS_CRC32C);
	CHECK(s3_cks_from_name(STR_LIT("SHA256")) == S3_CKS_SHA256);
	CHECK(s3_cks_from_name(STR_LIT("MD5")) == S3_CKS_NONE);
	CHECK_STREQ(s3_cks_header(S3_CKS_SHA1), "x-amz-checksum-sha1");
	CHECK_STREQ(s3_cks_member(S3_CKS_CRC32), "ChecksumCRC32");
	CHECK(s3_cks_len(S3_CKS_SHA256) == 32);
}

TEST(s3_multipart_etag_math)
{
	struct arena *a = arena_new(4096);
	unsigned char md5s[32];
	unsigned int n;
	/* two parts "a" and "b": md5(md5("a") || md5("b")) + "-2" */
	EVP_Digest("a", 1, md5s, &n, EVP_md5(), NULL);
	EVP_Digest("b", 1, md5s + 16, &n, EVP_md5(), NULL);
	const char *e = s3_multipart_etag(a, md5s, 2);
	CHECK(strlen(e) == 34 && !strcmp(e + 32, "-2"));
	unsigned char want[16];
	char hex[33];
	EVP_Digest(md5s, 32, want, &n, EVP_md5(), NULL);
	s3_md5_hex(want, hex);
	CHECK(!strncmp(e, hex, 32));
	arena_free(a);
}

TEST(s3_range_forms)
{
	uint64_t s, n;
	CHECK(s3_range_parse(STR_LIT("bytes=0-9"), 100, &s, &n) == 1 && s == 0 && n == 10);
	CHECK(s3_range_parse(STR_LIT("bytes=90-"), 100, &s, &n) == 1 && s == 90 && n == 10);
	CHECK(s3_range_parse(STR_LIT("bytes=-5"), 100, &s, &n) == 1 && s == 95 && n == 5);
	CHECK(s3_range_parse(STR_LIT("bytes=-500"), 100, &s, &n) == 1 && s == 0 && n == 100);
	CHECK(s3_range_parse(STR_LIT("bytes=50-500"), 100, &s, &n) == 1 && s == 50 && n == 50);
	CHECK(s3_range_parse(STR_LIT("bytes=100-"), 100, &s, &n) == -1);
	CHECK(s3_range_parse(STR_LIT("bytes=100-200"), 100, &s, &n) == -1);
	CHECK(s3_range_parse(STR_LIT("bytes=-0"), 100, &s, &n) == -1);
	CHECK(s3_range_parse(STR_LIT("bytes=0-"), 0, &s, &n) == -1);
	/* not a single byte range: served whole */
	CHECK(s3_range_parse(STR_LIT("bytes=5-2"), 100, &s, &n) == 0);
	CHECK(s3_range_parse(STR_LIT("bytes=0-1,5-6"), 100, &s, &n) == 0);
	CHECK(s3_range_parse(STR_LIT("items=0-1"), 100, &s, &n) == 0);
	CHECK(s3_range_parse(STR_LIT("bytes=abc"), 100, &s, &n) == 0);
	CHECK(s3_range_parse(STR_NULL, 100, &s, &n) == 0);
}

TEST(s3_etag_lists)
{
	const char *e = "9b2cf535f27731c974343645a3985328";
	CHECK(s3_etag_match(STR_LIT("\"9b2cf535f27731c974343645a3985328\""), e));
	CHECK(s3_etag_match(STR_LIT("9b2cf535f27731c974343645a3985328"), e));
	CHECK(s3_etag_match(STR_LIT("*"), e));
	CHECK(s3_etag_match(STR_LIT("\"x\", W/\"9b2cf535f27731c974343645a3985328\""), e));
	CHECK(!s3_etag_match(STR_LIT("\"9b2cf535f27731c974343645a398532\""), e));
	CHECK(!s3_etag_match(STR_LIT(""), e));
}

TEST(s3_bucket_names)
{
	CHECK(s3_valid_bucket_name("my-bucket"));
	CHECK(s3_valid_bucket_name("a.b.c"));
	CHECK(s3_valid_bucket_name("abc"));
	CHECK(!s3_valid_bucket_name("ab"));
	CHECK(!s3_valid_bucket_name("My-Bucket"));
	CHECK(!s3_valid_bucket_name("-abc"));
	CHECK(!s3_valid_bucket_name("abc-"));
	CHECK(!s3_valid_bucket_name("a..b"));
	CHECK(!s3_valid_bucket_name("a.-b"));
	CHECK(!s3_valid_bucket_name("192.168.5.4"));
	CHECK(!s3_valid_bucket_name("xn--abc"));
	CHECK(!s3_valid_bucket_name("abc-s3alias"));
	CHECK(!s3_valid_bucket_name("under_score"));
	CHECK(!s3_valid_bucket_name(NULL));
}

TEST(s3_tokens_and_prefix_ends)
{
	struct arena *a = arena_new(4096);
	const char *k;
	int p;
	const char *t = s3_token_encode(a, "photos/2024/ü.jpg", 0);
	CHECK(s3_token_decode(a, t, &k, &p) == 0 && !p && !strcmp(k, "photos/2024/ü.jpg"));
	t = s3_token_encode(a, "photos/", 1);
	CHECK(s3_token_decode(a, t, &k, &p) == 0 && p && !strcmp(k, "photos/"));
	CHECK(s3_token_decode(a, "!!", &k, &p) < 0);
	CHECK(s3_token_decode(a, "", &k, &p) < 0);
	CHECK(s3_token_decode(a, "eA==", &k, &p) < 0); /* "x": no type byte */
	CHECK_STREQ(s3_prefix_end(a, "a/", 2), "a0");
	CHECK_STREQ(s3_prefix_end(a, "ab\xff", 3), "ac");
	CHECK(s3_prefix_end(a, "\xff\xff", 2) == NULL);
	CHECK(s3_prefix_end(a, "", 0) == NULL);
	arena_free(a);
}

/* The example of AWS's "Transferring Payload in Multiple Chunks" page:
 * 65 KiB of 'a' sent as a 64 KiB and a 1 KiB chunk. */
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EX_SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define EX_SIG1 "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define EX_SIG2 "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define EX_SIG3 "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"

/* ex_signer: the signer of the AWS example request. */
static void ex_signer(struct sigv4_chunk_signer *s)
{
	CHECK(sigv4_chunk_signer_init(s, EX_SECRET, strlen(EX_SECRET), STR_LIT("20130524"),
				      STR_LIT("us-east-1"), STR_LIT("s3"),
				      STR_LIT("20130524T000000Z")) == 0);
}

TEST(s3_chunk_signatures_aws_example)
{
	struct sigv4_chunk_signer s;
	static char data[65536];
	unsigned char h[32];
	unsigned int n;
	char sig[65];
	ex_signer(&s);
	memset(data, 'a', sizeof(data));
	EVP_Digest(data, 65536, h, &n, EVP_sha256(), NULL);
	sigv4_chunk_signature(&s, EX_SEED, h, sig);
	CHECK_STREQ(sig, EX_SIG1);
	EVP_Digest(data, 1024, h, &n, EVP_sha256(), NULL);
	sigv4_chunk_signature(&s, EX_SIG1, h, sig);
	CHECK_STREQ(sig, EX_SIG2);
	EVP_Digest("", 0, h, &n, EVP_sha256(), NULL);
	sigv4_chunk_signature(&s, EX_SIG2, h, sig);
	CHECK_STREQ(sig, EX_SIG3);
	CHECK(sigv4_sig_equal(EX_SIG3, sig));
	CHECK(!sigv4_sig_equal(EX_SIG2, sig));
}

/* A sink collecting decoded bytes. */
struct collect {
	struct buf b;
};

/* collect_cb: s3_sink_fn appending to a struct collect. */
static int collect_cb(void *ctx, const void *p, size_t n)
{
	buf_append(&((struct collect *)ctx)->b, p, n);
	return 0;
}

/* ex_body: the aws-chunked body of the AWS example. */
static void ex_body(struct buf *b)
{
	static char data[65536];
	memset(data, 'a', sizeof(data));
	buf_puts(b, "10000;chunk-signature=" EX_SIG1 "\r\n");
	buf_append(b, data, 65536);
	buf_puts(b, "\r\n400;chunk-signature=" EX_SIG2 "\r\n");
	buf_append(b, data, 1024);
	buf_puts(b, "\r\n0;chunk-signature=" EX_SIG3 "\r\n\r\n");
}

TEST(s3_chunked_signed_decode)
{
	struct sigv4_chunk_signer s;
	struct s3_chunked d;
	struct buf body = BUF_INIT;
	struct collect out = {BUF_INIT};
	ex_signer(&s);
	ex_body(&body);
	/* whole */
	s3_chunked_init(&d, 1, 0, &s, EX_SEED);
	CHECK(s3_chunked_feed(&d, body.p, body.n, collect_cb, &out) == 0);
	CHECK(s3_chunked_done(&d) && d.decoded == 66560 && out.b.n == 66560);
	s3_chunked_free(&d);
	/* byte by byte */
	buf_clear(&out.b);
	s3_chunked_init(&d, 1, 0, &s, EX_SEED);
	for (size_t i = 0; i < body.n; i++)
		CHECK(s3_chunked_feed(&d, body.p + i, 1, collect_cb, &out) == 0);
	CHECK(s3_chunked_done(&d) && out.b.n == 66560);
	s3_chunked_free(&d);
	/* one flipped data byte breaks the chain */
	body.p[100] ^= 1;
	s3_chunked_init(&d, 1, 0, &s, EX_SEED);
	CHECK(s3_chunked_feed(&d, body.p, body.n, collect_cb, &out) < 0 && d.bad_sig);
	s3_chunked_free(&d);
	body.p[100] ^= 1;
	/* a wrong seed too */
	s3_chunked_init(&d, 1, 0, &s, EX_SIG1);
	CHECK(s3_chunked_feed(&d, body.p, body.n, collect_cb, &out) < 0 && d.bad_sig);
	s3_chunked_free(&d);
	/* truncated: never done */
	s3_chunked_init(&d, 1, 0, &s, EX_SEED);
	CHECK(s3_chunked_feed(&d, body.p, body.n - 30, collect_cb, &out) == 0);
	CHECK(!s3_chunked_done(&d));
	s3_chunked_free(&d);
	buf_release(&body);
	buf_release(&out.b);
}

TEST(s3_chunked_unsigned_trailer)
{
	struct s3_chunked d;
	struct collect out = {BUF_INIT};
	const char *body = "5\r\nhello\r\n6\r\n world\r\n0\r\n"
			   "X-Amz-Checksum-Crc32:DUoRhQ==\r\n\r\n";
	s3_chunked_init(&d, 0, 0, NULL, NULL);
	CHECK(s3_chunked_feed(&d, body, strlen(body), collect_cb, &out) == 0);
	CHECK(s3_chunked_done(&d));
	CHECK(out.b.n == 11 && !memcmp(out.b.p, "hello world", 11));
	struct str t = s3_chunked_trailer(&d, "x-amz-checksum-crc32");
	CHECK(t.n == 8 && !memcmp(t.p, "DUoRhQ==", 8));
	CHECK(!s3_chunked_trailer(&d, "x-amz-checksum-sha1").p);
	s3_chunked_free(&d);
	/* malformed pieces */
	const char *bad[] = {"zz\r\n", "5\r\nhelloXX",
			     "5;chunk-signature=short\r\nhello\r\n0\r\n\r\n"};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++) {
		s3_chunked_init(&d, i == 2, 0, NULL, NULL);
		int rc = s3_chunked_feed(&d, bad[i], strlen(bad[i]), collect_cb, &out);
		CHECK(rc < 0 && d.err);
		s3_chunked_free(&d);
	}
	buf_release(&out.b);
}
