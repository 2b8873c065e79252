/* test_http.c - the request head parser and chunk-size parser. */
#include "http/parse.h"
#include "test.h"

static int parse(const char *s, struct http_head *h, struct http_header *hs, size_t max)
{
	return http_parse_request(s, strlen(s), h, hs, max);
}

TEST(http_parse_simple)
{
	struct http_head h;
	struct http_header hs[8];
	const char *req = "POST /a/b?x=1&y HTTP/1.1\r\nHost: 127.0.0.1:4566\r\n"
			  "Content-Length:  5 \r\nX-Empty:\r\n\r\nhello";
	int n = parse(req, &h, hs, 8);
	CHECK(n == (int)(strlen(req) - 5));
	CHECK(str_eq_c(h.method, "POST"));
	CHECK(str_eq_c(h.target, "/a/b?x=1&y"));
	CHECK(str_eq_c(h.path, "/a/b"));
	CHECK(str_eq_c(h.query, "x=1&y"));
	CHECK(h.minor_version == 1);
	CHECK(h.nheaders == 3);
	CHECK(str_eq_c(hs[1].value, "5"));
	CHECK(hs[2].value.n == 0);
	const struct http_header *f = http_find_header(&h, "content-length");
	CHECK(f && str_eq_c(f->value, "5"));
	CHECK(http_find_header(&h, "missing") == NULL);
}

TEST(http_parse_no_query_and_http10)
{
	struct http_head h;
	struct http_header hs[4];
	CHECK(parse("GET / HTTP/1.0\n\n", &h, hs, 4) == 16);
	CHECK(str_eq_c(h.path, "/") && h.query.n == 0 && h.minor_version == 0);
}

TEST(http_parse_incomplete)
{
	struct http_head h;
	struct http_header hs[4];
	const char *full = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
	for (size_t i = 0; i < strlen(full); i++)
		CHECK(http_parse_request(full, i, &h, hs, 4) == HTTP_PARSE_INCOMPLETE);
	CHECK(http_parse_request(full, strlen(full), &h, hs, 4) == (int)strlen(full));
}

TEST(http_parse_errors)
{
	struct http_head h;
	struct http_header hs[2];
	const char *bad[] = {
	    "GET /x HTTP/2.0\r\n\r\n",
	    "GET  /x HTTP/1.1\r\n\r\n",
	    "GET /x\r\n\r\n",
	    "G(T /x HTTP/1.1\r\n\r\n",
	    "GET /x HTTP/1.1\r\nNo colon\r\n\r\n",
	    "GET /x HTTP/1.1\r\n folded: x\r\n\r\n",
	    "GET /x HTTP/1.1\r\nBad : x\r\n\r\n",
	    "GET /\x01 HTTP/1.1\r\n\r\n",
	    "GET /x HTTP/1.1\r\nA: \x7f\r\n\r\n",
	    " GET /x HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(parse(bad[i], &h, hs, 2) == HTTP_PARSE_ERROR);
	CHECK(parse("GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n", &h, hs, 2) ==
	      HTTP_PARSE_TOO_MANY_HEADERS);
}

TEST(http_chunk_size)
{
	uint64_t sz;
	CHECK(http_parse_chunk_size("1a\r\n", 4, &sz) == 4 && sz == 26);
	CHECK(http_parse_chunk_size("0\r\n", 3, &sz) == 3 && sz == 0);
	CHECK(http_parse_chunk_size("10;chunk-signature=abc\r\n", 24, &sz) == 24 && sz == 16);
	CHECK(http_parse_chunk_size("5\n", 2, &sz) == HTTP_PARSE_ERROR);
	CHECK(http_parse_chunk_size("1a", 2, &sz) == HTTP_PARSE_INCOMPLETE);
	CHECK(http_parse_chunk_size("1a\r", 3, &sz) == HTTP_PARSE_INCOMPLETE);
	CHECK(http_parse_chunk_size("zz\r\n", 4, &sz) == HTTP_PARSE_ERROR);
	CHECK(http_parse_chunk_size("1234567890abcdef0\r\n", 19, &sz) == HTTP_PARSE_ERROR);
	CHECK(http_parse_chunk_size("1x\r\n", 4, &sz) == HTTP_PARSE_ERROR);
}

#include "http/chunked.h"

/* dechunk_all: decodes in, feeding it in pieces of at most step bytes as a
 * socket would deliver them; returns the final rc and the decoded text. */
static int dechunk_all(const char *in, size_t step, char *out, size_t *out_n)
{
	struct http_dechunk d = HTTP_DECHUNK_INIT;
	size_t avail = 0, pos = 0, n = strlen(in);
	*out_n = 0;
	for (;;) {
		if (avail < n)
			avail = avail + step > n ? n : avail + step;
		size_t used;
		struct str data;
		int rc = http_dechunk_step(&d, in + pos, avail - pos, &used, &data);
		pos += used;
		if (rc == HTTP_DECHUNK_DATA) {
			memcpy(out + *out_n, data.p, data.n);
			*out_n += data.n;
			continue;
		}
		if (rc != HTTP_DECHUNK_MORE || avail == n)
			return rc;
	}
}

TEST(http_dechunk_any_split)
{
	const char *in = "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nx-trailer: 1\r\n\r\n";
	for (size_t step = 1; step <= strlen(in); step++) {
		char out[64];
		size_t n;
		CHECK(dechunk_all(in, step, out, &n) == HTTP_DECHUNK_DONE);
		CHECK(n == 12 && memcmp(out, "hello world!", 12) == 0);
	}
}

TEST(http_dechunk_errors)
{
	const char *bad[] = {"5\r\nhelloXX", "zz\r\n", "5\r\nhello\r\n0\r\nbad\n\r\n",
			     "5\nhello\r\n"};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++) {
		char out[64];
		size_t n;
		CHECK(dechunk_all(bad[i], 64, out, &n) == HTTP_DECHUNK_ERROR);
	}
	char out[64];
	size_t n;
	CHECK(dechunk_all("5\r\nhel", 64, out, &n) == HTTP_DECHUNK_MORE);
}
