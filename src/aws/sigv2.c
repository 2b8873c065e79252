/* sigv2.c - S3 Signature Version 2: parsing both forms, the string to
 * sign, and verification. The string to sign is built from the request
 * as sent (raw path, raw query), decoding only the values AWS decodes
 * (sub-resource values and x-amz-* query parameters). */
#include "aws/sigv2.h"
#include "aws/fmt.h"
#include "aws/proto_rest.h"
#include "http/request.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#define SIGV2_MAX_AMZ 64 /* x-amz-* headers in one signature */

/* The query parameters that are part of the canonical resource (botocore's
 * HmacV1Auth.QSAOfInterest, which is what S3 clients sign). */
static const char *const subresources[] = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

/* is_space: HTTP whitespace. */
static int is_space(int c)
{
	return c == ' ' || c == '\t';
}

/* trim: v without leading and trailing whitespace. */
static struct str trim(struct str v)
{
	while (v.n && is_space((unsigned char)v.p[0]))
		v.p++, v.n--;
	while (v.n && is_space((unsigned char)v.p[v.n - 1]))
		v.n--;
	return v;
}

/* hex_val: value of hex digit c, or -1. */
static int hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decode_into: percent-decodes v into dst (at least v.n bytes); '+' stays
 * '+' (botocore's unquote, and base64 signatures sent unescaped). Returns
 * the decoded length. */
static size_t decode_into(char *dst, struct str v)
{
	size_t k = 0;
	for (size_t i = 0; i < v.n; i++) {
		int hi, lo;
		if (v.p[i] == '%' && i + 2 < v.n &&
		    (hi = hex_val((unsigned char)v.p[i + 1])) >= 0 &&
		    (lo = hex_val((unsigned char)v.p[i + 2])) >= 0) {
			dst[k++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dst[k++] = v.p[i];
		}
	}
	return k;
}

/* append_decoded: appends the percent-decoded v to out. */
static void append_decoded(struct buf *out, struct str v)
{
	buf_reserve(out, v.n + 1);
	out->n += decode_into(out->p + out->n, v);
	out->p[out->n] = 0;
}

/* next_param: splits the next "k=v" off *q (raw query, consumed). *has_eq
 * says whether '=' was present. Returns 0 at the end. */
static int next_param(struct str *q, struct str *k, struct str *v, int *has_eq)
{
	while (q->n) {
		const char *amp = memchr(q->p, '&', q->n);
		size_t len = amp ? (size_t)(amp - q->p) : q->n;
		struct str pair = {q->p, len};
		q->p += amp ? len + 1 : len;
		q->n -= amp ? len + 1 : len;
		if (!len)
			continue;
		const char *eq = memchr(pair.p, '=', pair.n);
		*has_eq = eq != NULL;
		*k = eq ? (struct str){pair.p, (size_t)(eq - pair.p)} : pair;
		*v =
		    eq ? (struct str){eq + 1, pair.n - k->n - 1} : (struct str){pair.p + pair.n, 0};
		return 1;
	}
	return 0;
}

/* query_value: the raw value of parameter <name> in query, or STR_NULL. */
static struct str query_value(struct str query, const char *name)
{
	struct str q = query, k, v;
	int eq;
	while (next_param(&q, &k, &v, &eq))
		if (str_eq_c(k, name))
			return v;
	return STR_NULL;
}

/* find_header: the first request header named <name> (any case). */
static const struct http_header *find_header(const struct sigv4_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (str_case_eq_c(req->headers[i].name, name))
			return &req->headers[i];
	return NULL;
}

int sigv2_parse(const struct sigv4_request *req, struct sigv4_auth *out, char *scratch,
		size_t scratch_n)
{
	const struct http_header *authz = find_header(req, "authorization");
	const struct http_header *tok = find_header(req, "x-amz-security-token");
	struct str ak = query_value(req->query, "AWSAccessKeyId");
	struct str sig = query_value(req->query, "Signature");
	struct str exp = query_value(req->query, "Expires");
	int header = authz && authz->value.n > 4 && !memcmp(authz->value.p, "AWS ", 4);

	memset(out, 0, sizeof(*out));
	out->expires_s = -1;
	out->v2 = 1;
	if (!header && !ak.p && !sig.p)
		return SIGV4_ERR_NO_AUTH;
	if (header && (ak.p || sig.p))
		return SIGV4_ERR_MALFORMED; /* AWS allows one mechanism */
	if (tok)
		out->security_token = trim(tok->value);
	if (header) {
		struct str v = trim((struct str){authz->value.p + 4, authz->value.n - 4});
		const char *colon = memrchr(v.p, ':', v.n);
		if (!colon || colon == v.p || colon + 1 == v.p + v.n)
			return SIGV4_ERR_MALFORMED;
		out->access_key = (struct str){v.p, (size_t)(colon - v.p)};
		out->signature = (struct str){colon + 1, (size_t)(v.p + v.n - colon - 1)};
		return 0;
	}
	if (!ak.p || !sig.p || !exp.p || !ak.n || !sig.n || !exp.n || ak.n + sig.n + 64 > scratch_n)
		return SIGV4_ERR_MALFORMED;
	size_t used = decode_into(scratch, ak);
	out->access_key = (struct str){scratch, used};
	out->signature = (struct str){scratch + used, decode_into(scratch + used, sig)};
	used += out->signature.n;
	int64_t e = 0;
	for (size_t i = 0; i < exp.n; i++) {
		if (exp.p[i] < '0' || exp.p[i] > '9' || i >= 12)
			return SIGV4_ERR_MALFORMED;
		e = e * 10 + (exp.p[i] - '0');
	}
	out->expires_s = e;
	out->presigned = 1;
	if (!tok) {
		struct str t = query_value(req->query, "x-amz-security-token");
		if (t.p && t.n <= scratch_n - used) {
			out->security_token =
			    (struct str){scratch + used, decode_into(scratch + used, t)};
			used += out->security_token.n;
		}
	}
	return 0;
}

/* ---- string to sign ---- */

/* One x-amz-* entry: name and value are views into the request, value
 * raw (percent-encoded) when from the query. */
struct amz {
	struct str name, value;
	int from_query;
};

/* amz_cmp: qsort order of x-amz-* names, case-insensitive, then by
 * position (kept in from_query's upper bits) so repeats join in order. */
static int amz_cmp(const void *a, const void *b)
{
	const struct amz *x = a, *y = b;
	size_t n = x->name.n < y->name.n ? x->name.n : y->name.n;
	int c = strncasecmp(x->name.p, y->name.p, n);
	if (c)
		return c;
	if (x->name.n != y->name.n)
		return x->name.n < y->name.n ? -1 : 1;
	return x->from_query < y->from_query ? -1 : x->from_query > y->from_query;
}

/* std_value: Content-MD5 / Content-Type for the string to sign: the
 * header, else (presigned, as botocore moves them there) the query. */
static void append_std(struct buf *out, const struct sigv4_request *req, const char *name,
		       int presigned)
{
	const struct http_header *h = find_header(req, name);
	if (h) {
		struct str v = trim(h->value);
		buf_append(out, v.p, v.n);
	} else if (presigned) {
		struct str v = query_value(req->query, name);
		if (v.p)
			append_decoded(out, v);
	}
	buf_putc(out, '\n');
}

/* append_amz: the CanonicalizedAmzHeaders lines. */
static void append_amz(struct buf *out, const struct sigv4_request *req, int presigned)
{
	struct amz v[SIGV2_MAX_AMZ];
	size_t n = 0;
	for (size_t i = 0; i < req->nheaders && n < SIGV2_MAX_AMZ; i++) {
		struct str name = req->headers[i].name;
		if (name.n > 6 && !strncasecmp(name.p, "x-amz-", 6)) {
			v[n] = (struct amz){name, trim(req->headers[i].value), (int)n << 1};
			n++;
		}
	}
	if (presigned) {
		struct str q = req->query, k, val;
		int eq;
		while (n < SIGV2_MAX_AMZ && next_param(&q, &k, &val, &eq))
			if (k.n > 6 && !strncasecmp(k.p, "x-amz-", 6)) {
				v[n] = (struct amz){k, val, (int)n << 1 | 1};
				n++;
			}
	}
	qsort(v, n, sizeof(v[0]), amz_cmp);
	for (size_t i = 0; i < n; i++) {
		int same = i && v[i].name.n == v[i - 1].name.n &&
			   !strncasecmp(v[i].name.p, v[i - 1].name.p, v[i].name.n);
		if (same) {
			buf_putc(out, ',');
		} else {
			if (i)
				buf_putc(out, '\n');
			for (size_t j = 0; j < v[i].name.n; j++) {
				char ch = v[i].name.p[j];
				buf_putc(out, (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
			}
			buf_putc(out, ':');
		}
		if (v[i].from_query & 1)
			append_decoded(out, v[i].value);
		else
			buf_append(out, v[i].value.p, v[i].value.n);
	}
	if (n)
		buf_putc(out, '\n');
}

/* subresource_cmp: qsort order of query pairs by name. */
static int subresource_cmp(const void *a, const void *b)
{
	const struct amz *x = a, *y = b;
	size_t n = x->name.n < y->name.n ? x->name.n : y->name.n;
	int c = memcmp(x->name.p, y->name.p, n);
	if (c)
		return c;
	return x->name.n < y->name.n ? -1 : x->name.n > y->name.n;
}

/* is_subresource: 1 when query key k is in the canonical resource. */
static int is_subresource(struct str k)
{
	for (size_t i = 0; i < FB_ARRAY_LEN(subresources); i++)
		if (str_eq_c(k, subresources[i]))
			return 1;
	return 0;
}

/* Forms of the canonical resource verify accepts: AWS's, and two that
 * botocore 1.29 signs (HmacV1Auth with its authPath): "/bucket/" for a
 * path-style bucket request, and the operation URI's literal query
 * ("?list-type=2", "?uploads") kept in front of the sub-resources. */
enum { VAR_AWS, VAR_BUCKET_SLASH, VAR_URI_QUERY };

/* append_resource: "/bucket" for virtual-hosted style, the raw path, then
 * "?name[=decoded value]&..." of the sub-resources, sorted by name; in
 * the form <variant>. */
static void append_resource(struct buf *out, const struct sigv4_request *req, int variant)
{
	struct http_request hr;
	struct str bucket, q = req->query, k, v;
	struct amz sub[SIGV2_MAX_AMZ];
	size_t n = 0;
	int eq;

	memset(&hr, 0, sizeof(hr));
	hr.h.headers = (struct http_header *)req->headers;
	hr.h.nheaders = req->nheaders;
	if (proto_rest_host_bucket(&hr, &bucket)) {
		buf_putc(out, '/');
		buf_append(out, bucket.p, bucket.n);
	}
	buf_append(out, req->path.p, req->path.n);
	if (variant == VAR_BUCKET_SLASH)
		buf_putc(out, '/');
	if (variant == VAR_URI_QUERY && next_param(&q, &k, &v, &eq)) {
		/* the model URI's literal query, as botocore's authPath has it */
		buf_putc(out, '?');
		buf_append(out, k.p, (size_t)(v.p + v.n - k.p));
		q = req->query;
	}
	while (n < SIGV2_MAX_AMZ && next_param(&q, &k, &v, &eq))
		if (is_subresource(k))
			sub[n++] = (struct amz){k, v, eq};
	qsort(sub, n, sizeof(sub[0]), subresource_cmp);
	for (size_t i = 0; i < n; i++) {
		buf_putc(out, i ? '&' : '?');
		buf_append(out, sub[i].name.p, sub[i].name.n);
		if (sub[i].from_query) {
			buf_putc(out, '=');
			append_decoded(out, sub[i].value);
		}
	}
}

/* build: the string to sign with the canonical resource in form
 * <variant>. */
static void build(struct buf *out, const struct sigv4_request *req, const struct sigv4_auth *auth,
		  int variant)
{
	buf_append(out, req->method.p, req->method.n);
	buf_putc(out, '\n');
	append_std(out, req, "content-md5", auth->presigned);
	append_std(out, req, "content-type", auth->presigned);
	if (auth->presigned) {
		struct str e = query_value(req->query, "Expires");
		buf_append(out, e.p ? e.p : "", e.n);
	} else if (!find_header(req, "x-amz-date")) {
		/* with x-amz-date, AWS signs an empty Date line */
		const struct http_header *d = find_header(req, "date");
		if (d) {
			struct str v = trim(d->value);
			buf_append(out, v.p, v.n);
		}
	}
	buf_putc(out, '\n');
	append_amz(out, req, auth->presigned);
	append_resource(out, req, variant);
}

void sigv2_string_to_sign(struct buf *out, const struct sigv4_request *req,
			  const struct sigv4_auth *auth)
{
	build(out, req, auth, VAR_AWS);
}

/* bucket_only: 1 for a path-style bucket request ("/bucket"). */
static int bucket_only(struct str path)
{
	return path.n > 1 && path.p[0] == '/' && !memchr(path.p + 1, '/', path.n - 1);
}

/* matches: 1 when HMAC-SHA1(secret, string to sign in form <variant>) is
 * want[0..20). */
static int matches(const struct sigv4_request *req, const struct sigv4_auth *auth,
		   const char *secret, size_t secret_len, const unsigned char want[20], int variant)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_n = 0;
	struct buf sts = BUF_INIT;
	build(&sts, req, auth, variant);
	HMAC(EVP_sha1(), secret, (int)secret_len, (const unsigned char *)(sts.p ? sts.p : ""),
	     sts.n, md, &md_n);
	buf_release(&sts);
	return md_n == 20 && CRYPTO_memcmp(md, want, 20) == 0;
}

/* ---- verification ---- */

/* header_time: the request time of the header form (x-amz-date, else
 * Date) as Unix seconds, or -1. */
static int64_t header_time(const struct sigv4_request *req)
{
	const struct http_header *h = find_header(req, "x-amz-date");
	char tmp[64];
	struct tm tm;
	if (!h)
		h = find_header(req, "date");
	if (!h || h->value.n >= sizeof(tmp))
		return -1;
	memcpy(tmp, h->value.p, h->value.n);
	tmp[h->value.n] = 0;
	/* RFC 1123 with "GMT" or a numeric zone ("+0000", as AWS's own
	 * examples write it), or ISO 8601 basic */
	static const char *const forms[] = {"%a, %d %b %Y %H:%M:%S GMT", "%a, %d %b %Y %H:%M:%S %z",
					    "%Y%m%dT%H%M%SZ"};
	for (size_t i = 0; i < FB_ARRAY_LEN(forms); i++) {
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(tmp, forms[i], &tm);
		if (end && !*end)
			return (int64_t)timegm(&tm) - (int64_t)tm.tm_gmtoff;
	}
	return -1;
}

int sigv2_verify(const struct sigv4_request *req, const struct sigv4_auth *auth, const char *secret,
		 size_t secret_len, int64_t now_s)
{
	unsigned char want[32];
	ssize_t want_n;

	if (!auth->v2 || !auth->access_key.n || !auth->signature.n || auth->signature.n > 40)
		return SIGV4_ERR_MALFORMED;
	if (auth->presigned) {
		if (now_s > auth->expires_s)
			return SIGV4_ERR_EXPIRED;
	} else {
		int64_t t = header_time(req);
		if (t < 0)
			return SIGV4_ERR_NO_DATE;
		if (now_s - t > SIGV4_MAX_SKEW_S || t - now_s > SIGV4_MAX_SKEW_S)
			return SIGV4_ERR_SKEW;
	}
	want_n = fmt_b64_decode(want, auth->signature.p, auth->signature.n);
	if (want_n != 20)
		return SIGV4_ERR_MISMATCH; /* not a base64 SHA-1: cannot match */
	/* AWS's form first; botocore's only for requests that fail it */
	if (matches(req, auth, secret, secret_len, want, VAR_AWS) ||
	    (bucket_only(req->path) &&
	     matches(req, auth, secret, secret_len, want, VAR_BUCKET_SLASH)) ||
	    (!auth->presigned && req->query.n &&
	     matches(req, auth, secret, secret_len, want, VAR_URI_QUERY)))
		return 0;
	return SIGV4_ERR_MISMATCH;
}
