/* test_s3_sigv2.c - S3 Signature Version 2 (src/aws/sigv2.c) against the
 * examples of AWS's "Authenticating requests (AWS signature version 2)":
 * the header form, the query form, sub-resources, x-amz-* headers,
 * tampering, clocks and parse errors. */
#include "core/compat.h"
#include "aws/sigv2.h"
#include "http/parse.h"
#include "test.h"

#define DOC_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct wire {
	char text[4096];
	struct http_header headers[32];
	struct sigv4_request req;
};

/* wire_parse: parses raw request head <raw> with the real HTTP parser into
 * w->req (an S3 request). Returns 0 or -1. */
static int wire_parse(const char *raw, struct wire *w)
{
	struct http_head h;
	size_t n = strlen(raw);
	if (n >= sizeof(w->text))
		return -1;
	memcpy(w->text, raw, n + 1);
	if (http_parse_request(w->text, n, &h, w->headers, 32) <= 0)
		return -1;
	memset(&w->req, 0, sizeof(w->req));
	w->req.method = h.method;
	w->req.path = h.path;
	w->req.query = h.query;
	w->req.headers = h.headers;
	w->req.nheaders = h.nheaders;
	w->req.s3 = 1;
	return 0;
}

/* verify: parse + verify of raw at now_s with secret; the sigv4_err. */
static int verify(const char *raw, const char *secret, int64_t now_s)
{
	struct wire w;
	struct sigv4_auth a;
	char scratch[1024];
	if (wire_parse(raw, &w) < 0)
		return 99;
	int rc = sigv2_parse(&w.req, &a, scratch, sizeof(scratch));
	if (rc < 0)
		return rc;
	return sigv2_verify(&w.req, &a, secret, strlen(secret), now_s);
}

/* 2007-03-27T19:36:42Z, the Date of AWS's examples */
#define DOC_NOW 1175024202

TEST(sigv2_header_form_aws_example)
{
	const char *get =
	    "GET /photos/puppy.jpg HTTP/1.1\r\n"
	    "Host: johnsmith.s3.amazonaws.com\r\n"
	    "Date: Tue, 27 Mar 2007 19:36:42 +0000\r\n"
	    "Authorization: AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=\r\n\r\n";
	struct wire w;
	struct sigv4_auth a;
	struct buf sts = BUF_INIT;
	char scratch[256];
	CHECK(wire_parse(get, &w) == 0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == 0);
	CHECK(a.v2 && !a.presigned && str_eq_c(a.access_key, "AKIAIOSFODNN7EXAMPLE"));
	sigv2_string_to_sign(&sts, &w.req, &a);
	CHECK(str_eq_c(buf_str(&sts),
		       "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg"));
	buf_release(&sts);
	CHECK(verify(get, DOC_SECRET, DOC_NOW) == 0);
	CHECK(verify(get, DOC_SECRET, DOC_NOW + 899) == 0);
	CHECK(verify(get, DOC_SECRET, DOC_NOW + 901) == SIGV4_ERR_SKEW);
	CHECK(verify(get, "another secret", DOC_NOW) == SIGV4_ERR_MISMATCH);
}

TEST(sigv2_query_form_aws_example)
{
	const char *q = "GET /photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&"
			"Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620 HTTP/1.1\r\n"
			"Host: johnsmith.s3.amazonaws.com\r\n\r\n";
	CHECK(verify(q, DOC_SECRET, 1175139620) == 0);
	CHECK(verify(q, DOC_SECRET, 1175139621) == SIGV4_ERR_EXPIRED);
	/* path-style: the bucket is in the path instead of the Host */
	const char *ps =
	    "GET /johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&"
	    "Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:4566\r\n\r\n";
	CHECK(verify(ps, DOC_SECRET, 1175139000) == 0);
	const char *moved =
	    "GET /johnsmith/photos/kitten.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&"
	    "Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:4566\r\n\r\n";
	CHECK(verify(moved, DOC_SECRET, 1175139000) == SIGV4_ERR_MISMATCH);
	const char *later =
	    "GET /johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&"
	    "Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139999 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:4566\r\n\r\n";
	CHECK(verify(later, DOC_SECRET, 1175139000) == SIGV4_ERR_MISMATCH);
}

TEST(sigv2_canonical_resource_and_amz_headers)
{
	/* sub-resources sorted and decoded, other parameters left out;
	 * x-amz-* lower-cased, sorted, repeats joined with ',' */
	const char *put = "PUT /b/k?uploadId=U1&partNumber=2&foo=bar&response-content-type=a%2Fb "
			  "HTTP/1.1\r\n"
			  "Host: 127.0.0.1\r\n"
			  "Content-Type: text/plain\r\n"
			  "Content-MD5: 4gJE4saaMU4BqNR0kLY+lw==\r\n"
			  "X-Amz-Meta-B: two\r\n"
			  "x-amz-meta-a:  one \r\n"
			  "X-AMZ-META-B: three\r\n"
			  "X-Amz-Date: Tue, 27 Mar 2007 21:15:45 +0000\r\n"
			  "Date: ignored when x-amz-date is sent\r\n"
			  "Authorization: AWS AKID:c2lnbmF0dXJlc2lnbmF0dXJlc2k=\r\n\r\n";
	struct wire w;
	struct sigv4_auth a;
	struct buf sts = BUF_INIT;
	char scratch[256];
	CHECK(wire_parse(put, &w) == 0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == 0);
	sigv2_string_to_sign(&sts, &w.req, &a);
	CHECK(str_eq_c(buf_str(&sts), "PUT\n4gJE4saaMU4BqNR0kLY+lw==\ntext/plain\n\n"
				      "x-amz-date:Tue, 27 Mar 2007 21:15:45 +0000\n"
				      "x-amz-meta-a:one\nx-amz-meta-b:two,three\n"
				      "/b/k?partNumber=2&response-content-type=a/b&uploadId=U1"));
	buf_release(&sts);
}

TEST(sigv2_parse_errors)
{
	struct wire w;
	struct sigv4_auth a;
	char scratch[256];
	/* no SigV2 at all, SigV4 instead, both forms, and incomplete forms */
	CHECK(wire_parse("GET /b/k HTTP/1.1\r\nHost: h\r\n\r\n", &w) == 0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == SIGV4_ERR_NO_AUTH);
	CHECK(wire_parse("GET /b/k HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 x\r\n\r\n", &w) ==
	      0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == SIGV4_ERR_NO_AUTH);
	CHECK(wire_parse("GET /b/k?AWSAccessKeyId=A&Signature=S&Expires=1 HTTP/1.1\r\n"
			 "Authorization: AWS A:S\r\n\r\n",
			 &w) == 0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == SIGV4_ERR_MALFORMED);
	CHECK(wire_parse("GET /b/k?AWSAccessKeyId=A&Signature=S HTTP/1.1\r\n\r\n", &w) == 0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == SIGV4_ERR_MALFORMED);
	CHECK(wire_parse("GET /b/k?AWSAccessKeyId=A&Signature=S&Expires=soon HTTP/1.1\r\n\r\n",
			 &w) == 0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == SIGV4_ERR_MALFORMED);
	CHECK(wire_parse("GET /b/k HTTP/1.1\r\nAuthorization: AWS nocolon\r\n\r\n", &w) == 0);
	CHECK(sigv2_parse(&w.req, &a, scratch, sizeof(scratch)) == SIGV4_ERR_MALFORMED);
	/* a header form without any date cannot be checked */
	CHECK(
	    verify("GET /b/k HTTP/1.1\r\nAuthorization: AWS A:bWq2s1WEIj+Ydj0vQ697zp+IXMU=\r\n\r\n",
		   "s", DOC_NOW) == SIGV4_ERR_NO_DATE);
}
