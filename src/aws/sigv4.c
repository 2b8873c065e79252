/* sigv4.c - AWS Signature Version 4 parsing, canonicalisation and
 * verification (AWS4-HMAC-SHA256, header and presigned-query forms).
 *
 * Parsers are pure and allocate nothing. Canonicalisation follows what
 * botocore and the Go SDKs send (single-encoded S3 paths, double-encoded
 * and dot-normalised paths elsewhere, decode-then-encode query strings).
 * Verification derives the signing key once per (secret, date, region,
 * service) and keeps it in a per-thread cache; secrets are never stored. */
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 but kept through
 * 3.x; they are plain structs (an HMAC's keyed states copy by assignment)
 * and skip EVP's provider dispatch, which costs more than the hashing of a
 * canonical request. Must come before any OpenSSL header. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "aws/sigv4.h"
#include "aws/sigv2.h"
#include "core/log.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <sys/random.h>

#define KC_SLOTS 256
#define KC_NAME_MAX 32

static const char hex_upper[] = "0123456789ABCDEF";

/* A signing key made ready for HMAC: SHA-256 states that have absorbed
 * the key XOR ipad and XOR opad, so each signature costs no key setup. */
struct hmac_key {
	SHA256_CTX inner, outer;
};

/* One derived signing key. fp is a keyed 128-bit hash of the secret: it
 * tells secrets apart without keeping them. */
struct kc_slot {
	uint64_t fp[2];
	int used;
	uint8_t region_n;
	uint8_t service_n;
	char date[8];
	char region[KC_NAME_MAX];
	char service[KC_NAME_MAX];
	struct hmac_key key;
};

struct sigv4_key_cache {
	uint64_t sip_key[2];
	struct buf text;       /* canonical request, then string to sign */
	struct kc_slot *slots; /* KC_SLOTS, allocated by the first verify */
};

/* ---- small helpers ------------------------------------------------------ */

/* put: appends n bytes to out without NUL-terminating (callers end with
 * terminate). Inline because buf_append lives in another file and the
 * canonical request is built from many short pieces. */
static inline void put(struct buf *out, const void *p, size_t n)
{
	if (out->cap - out->n <= n)
		buf_reserve(out, n);
	if (n)
		memcpy(out->p + out->n, p, n);
	out->n += n;
}

/* put_c: appends one byte (see put). */
static inline void put_c(struct buf *out, char c)
{
	if (out->cap - out->n <= 1)
		buf_reserve(out, 1);
	out->p[out->n++] = c;
}

/* terminate: restores the NUL that struct buf promises after put/put_c
 * (put always leaves room for it). */
static inline void terminate(struct buf *out)
{
	if (!out->p)
		buf_reserve(out, 0);
	out->p[out->n] = 0;
}

/* Character classes, one table lookup each on the hot path. */
enum { CC_HEX = 1, CC_TOKEN = 2, CC_UNRESERVED = 4, CC_SCOPE = 8 };
/* CC_HEX: [0-9a-fA-F]. CC_TOKEN: HTTP token characters (SignedHeaders
 * entries). CC_UNRESERVED: RFC 3986 unreserved, never percent-encoded.
 * CC_SCOPE: allowed in a credential scope part (no controls, spaces,
 * ',' or '/', which would smuggle in scope changes). */
static const unsigned char char_class[256] = {
    0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,
    0,	0,  0,	0,  0,	0,  0,	0,  0,	10, 8,	10, 10, 10, 10, 10, 8,	8,  10, 10, 0,	14, 14, 0,
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 8,	8,  8,	8,  8,	8,  8,	15, 15, 15, 15, 15, 15, 14,
    14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 8,  8,	8,  10, 14,
    10, 15, 15, 15, 15, 15, 15, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
    14, 14, 14, 8,  10, 8,  14, 0,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,
    8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,
    8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,
    8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,
    8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,
    8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,  8,	8,
};

/* is_hex: 1 for [0-9a-fA-F]. */
static int is_hex(int c)
{
	return char_class[c & 0xff] & CC_HEX;
}

/* hex_val: value of a hex digit already checked with is_hex. */
static int hex_val(int c)
{
	if (c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

/* is_unreserved: RFC 3986 unreserved, the bytes SigV4 never encodes. */
static int is_unreserved(int c)
{
	return char_class[c & 0xff] & CC_UNRESERVED;
}

/* is_space: the whitespace "trimall" collapses in header values. */
static int is_space(int c)
{
	return c == ' ' || c == '\t';
}

/* is_digits: 1 when s is n ASCII digits (n > 0). */
static int is_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* lower: ASCII lower case of c. */
static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* str_case_eq: ASCII case-insensitive equality of two views. */
static int str_case_eq(struct str a, struct str b)
{
	if (a.n != b.n)
		return 0;
	for (size_t i = 0; i < a.n; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return 0;
	return 1;
}

/* find_header: first header named name (case-insensitive) in req, or NULL. */
static const struct http_header *find_header(const struct sigv4_request *req, const char *name)
{
	struct str n = str_c(name);
	for (size_t i = 0; i < req->nheaders; i++)
		if (str_case_eq(req->headers[i].name, n))
			return &req->headers[i];
	return NULL;
}

/* ---- time ------------------------------------------------------------- */

/* days_from_civil: days since 1970-01-01 of a proleptic Gregorian date
 * (Hinnant's algorithm; no libc, no locale, no time zone). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* days_in_month: 28..31 for month m (1..12) of year y. */
static int days_in_month(int64_t y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* num: value of n digits at s (already checked). */
static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* make_time: Unix seconds of a validated civil date/time, or -1 when a
 * field is out of range (month 13, Feb 30, 24:00:00, leap seconds). */
static int64_t make_time(int y, int mo, int d, int h, int mi, int s)
{
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59)
		return -1;
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* parse_iso_basic: "yyyymmddThhmmssZ" to Unix seconds, or -1. */
static int64_t parse_iso_basic(struct str v)
{
	const char *p = v.p;
	if (v.n != 16 || p[8] != 'T' || p[15] != 'Z' || !is_digits(p, 8) || !is_digits(p + 9, 6))
		return -1;
	return make_time(num(p, 4), num(p + 4, 2), num(p + 6, 2), num(p + 9, 2), num(p + 11, 2),
			 num(p + 13, 2));
}

/* parse_rfc1123: "Sun, 22 Nov 2026 04:05:44 GMT" (also "+0000"/"-0000",
 * which Python's formatdate writes) to Unix seconds, or -1. */
static int64_t parse_rfc1123(struct str v)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *p = v.p;
	if (v.n < 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
	    p[19] != ':' || p[22] != ':' || p[25] != ' ')
		return -1;
	struct str zone = {p + 26, v.n - 26};
	if (!str_eq_c(zone, "GMT") && !str_eq_c(zone, "UTC") && !str_eq_c(zone, "+0000") &&
	    !str_eq_c(zone, "-0000"))
		return -1;
	if (!is_digits(p + 5, 2) || !is_digits(p + 12, 4) || !is_digits(p + 17, 2) ||
	    !is_digits(p + 20, 2) || !is_digits(p + 23, 2))
		return -1;
	int mo = 0;
	for (int i = 0; i < 12; i++)
		if (memcmp(months + 3 * i, p + 8, 3) == 0)
			mo = i + 1;
	if (!mo)
		return -1;
	return make_time(num(p + 12, 4), mo, num(p + 5, 2), num(p + 17, 2), num(p + 20, 2),
			 num(p + 23, 2));
}

/* put_digits: writes the n low decimal digits of v (>= 0) at d. */
static void put_digits(char *d, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		d[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* format_iso_basic: writes t as "yyyymmddThhmmssZ" plus NUL into out. */
static void format_iso_basic(int64_t t, char out[17])
{
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* civil_from_days, Hinnant's inverse of days_from_civil */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	int y = (int)(yoe + era * 400 + (m <= 2));
	put_digits(out, y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, (int)(secs / 3600), 2);
	put_digits(out + 11, (int)(secs / 60 % 60), 2);
	put_digits(out + 13, (int)(secs % 60), 2);
	out[15] = 'Z';
	out[16] = 0;
}

/* request_time: the signing time of a request: auth->amz_date when set,
 * else the X-Amz-Date header, else the Date header (each may be ISO basic
 * or RFC 1123). Sets *t and iso (the form the string to sign uses).
 * Returns 0, SIGV4_ERR_NO_DATE when absent or unparsable. */
static int request_time(const struct sigv4_request *req, const struct sigv4_auth *auth, int64_t *t,
			char iso[17])
{
	struct str v = auth->amz_date;
	if (!v.n) {
		const struct http_header *h = find_header(req, "x-amz-date");
		if (!h)
			h = find_header(req, "date");
		if (!h)
			return SIGV4_ERR_NO_DATE;
		v = h->value;
	}
	int64_t r = parse_iso_basic(v);
	if (r < 0)
		r = parse_rfc1123(v);
	if (r < 0)
		return SIGV4_ERR_NO_DATE;
	*t = r;
	format_iso_basic(r, iso);
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

/* all_class: 1 when every byte of s has class bit cc. */
static int all_class(struct str s, int cc)
{
	for (size_t i = 0; i < s.n; i++)
		if (!(char_class[(unsigned char)s.p[i]] & cc))
			return 0;
	return 1;
}

/* name_cmp: ASCII case-insensitive order of two header names. */
static int name_cmp(struct str a, struct str b)
{
	size_t n = a.n < b.n ? a.n : b.n;
	for (size_t i = 0; i < n; i++) {
		int x = lower((unsigned char)a.p[i]), y = lower((unsigned char)b.p[i]);
		if (x != y)
			return x - y;
	}
	return (a.n > b.n) - (a.n < b.n);
}

/* valid_signed_headers: 1 when s is ';'-separated HTTP tokens in strictly
 * ascending order. Every SDK sorts them, as AWS requires; refusing
 * repeats also bounds the canonical request by the size of the headers. */
static int valid_signed_headers(struct str s)
{
	struct str prev = STR_NULL;
	size_t i = 0;
	if (!s.n)
		return 0;
	while (i <= s.n) {
		size_t start = i;
		while (i < s.n && s.p[i] != ';') {
			if (!(char_class[(unsigned char)s.p[i]] & CC_TOKEN))
				return 0;
			i++;
		}
		struct str name = {s.p + start, i - start};
		if (!name.n || (prev.n && name_cmp(prev, name) >= 0))
			return 0;
		prev = name;
		i++;
	}
	return 1;
}

/* valid_signature: 1 when s is 64 hex digits. */
static int valid_signature(struct str s)
{
	return s.n == 64 && all_class(s, CC_HEX);
}

/* parse_credential: splits "AKID/yyyymmdd/region/service/aws4_request"
 * into out. Returns 0 or SIGV4_ERR_MALFORMED. */
static int parse_credential(struct str v, struct sigv4_auth *out)
{
	struct str part[5];
	const char *p = v.p, *end = v.p + v.n;
	for (size_t i = 0; i < 5; i++) {
		const char *slash = i < 4 ? memchr(p, '/', (size_t)(end - p)) : end;
		if (!slash)
			return SIGV4_ERR_MALFORMED;
		part[i] = (struct str){p, (size_t)(slash - p)};
		if (!part[i].n || !all_class(part[i], CC_SCOPE))
			return SIGV4_ERR_MALFORMED; /* also catches a sixth part */
		p = slash + 1;
	}
	if (part[1].n != 8 || !is_digits(part[1].p, 8) || !str_eq_c(part[4], "aws4_request"))
		return SIGV4_ERR_MALFORMED;
	out->access_key = part[0];
	out->date = part[1];
	out->region = part[2];
	out->service = part[3];
	return 0;
}

/* sigv4_parse_header: Authorization value to out; 0 or a sigv4_err (sigv4.h). */
int sigv4_parse_header(struct str authorization, struct sigv4_auth *out)
{
	const char *p = authorization.p, *end = p + authorization.n;
	int seen_cred = 0, seen_sh = 0, seen_sig = 0;
	memset(out, 0, sizeof(*out));
	out->expires_s = -1;
	while (p < end && is_space((unsigned char)*p))
		p++;
	const char *alg = p;
	while (p < end && !is_space((unsigned char)*p))
		p++;
	if (p == alg)
		return SIGV4_ERR_MALFORMED;
	if (!str_eq_c((struct str){alg, (size_t)(p - alg)}, "AWS4-HMAC-SHA256"))
		return SIGV4_ERR_ALGORITHM;
	for (;;) {
		while (p < end && is_space((unsigned char)*p))
			p++;
		const char *name = p;
		while (p < end && *p != '=' && *p != ',' && !is_space((unsigned char)*p))
			p++;
		if (p == end || *p != '=')
			return SIGV4_ERR_MALFORMED;
		struct str n = {name, (size_t)(p - name)};
		const char *val = ++p;
		p = memchr(val, ',', (size_t)(end - val));
		if (!p)
			p = end;
		struct str v = {val, (size_t)(p - val)};
		while (v.n && is_space((unsigned char)v.p[v.n - 1]))
			v.n--;
		if (str_eq_c(n, "Credential") && !seen_cred++) {
			if (parse_credential(v, out) < 0)
				return SIGV4_ERR_MALFORMED;
		} else if (str_eq_c(n, "SignedHeaders") && !seen_sh++) {
			if (!valid_signed_headers(v))
				return SIGV4_ERR_MALFORMED;
			out->signed_headers = v;
		} else if (str_eq_c(n, "Signature") && !seen_sig++) {
			if (!valid_signature(v))
				return SIGV4_ERR_MALFORMED;
			out->signature = v;
		} else {
			return SIGV4_ERR_MALFORMED; /* unknown or repeated part */
		}
		if (p == end)
			break;
		p++; /* ',' : another part must follow */
	}
	if (!seen_cred || !seen_sh || !seen_sig)
		return SIGV4_ERR_MALFORMED;
	return 0;
}

/* url_decode_into: percent-decodes s ('+' as space, a stray '%' kept) into
 * scratch at *used. Sets *out to the decoded view. Returns 0, or -1 when
 * scratch is full. */
static int url_decode_into(struct str s, char *scratch, size_t scratch_n, size_t *used,
			   struct str *out)
{
	char *dst = scratch ? scratch + *used : NULL;
	size_t k = 0;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < s.n && is_hex((unsigned char)s.p[i + 1]) &&
			   is_hex((unsigned char)s.p[i + 2])) {
			c = (unsigned char)(hex_val((unsigned char)s.p[i + 1]) << 4 |
					    hex_val((unsigned char)s.p[i + 2]));
			i += 2;
		}
		if (*used + k >= scratch_n)
			return -1;
		dst[k++] = (char)c;
	}
	*out = (struct str){dst, k};
	*used += k;
	return 0;
}

/* The query parameters of a presigned URL, in the order of the slots. */
static const char *const presign_keys[] = {
    "X-Amz-Algorithm",	   "X-Amz-Credential", "X-Amz-Date",	       "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token",
};
enum { PK_ALG, PK_CRED, PK_DATE, PK_EXPIRES, PK_SH, PK_SIG, PK_TOKEN, PK_N };

/* next_pair: splits the next "k=v" off *q (a raw query, consumed as it
 * goes; q->p NULL once done). Empty pairs ("a&&b") are skipped unless
 * keep_empty. Returns 1 with k and v set, 0 at the end. */
static int next_pair(struct str *q, struct str *k, struct str *v, int keep_empty)
{
	while (q->p) {
		const char *amp = memchr(q->p, '&', q->n);
		size_t len = amp ? (size_t)(amp - q->p) : q->n;
		struct str pair = {q->p, len};
		if (amp) {
			q->p += len + 1;
			q->n -= len + 1;
		} else {
			*q = STR_NULL;
		}
		if (!len && !keep_empty)
			continue;
		const char *eq = memchr(pair.p, '=', pair.n);
		if (eq) {
			*k = (struct str){pair.p, (size_t)(eq - pair.p)};
			*v = (struct str){eq + 1, pair.n - k->n - 1};
		} else {
			*k = pair;
			*v = (struct str){pair.p + pair.n, 0};
		}
		return 1;
	}
	return 0;
}

/* presign_key_index: which of presign_keys k is, or -1. */
static int presign_key_index(struct str k)
{
	if (k.n < 10 || memcmp(k.p, "X-Amz-", 6) != 0)
		return -1;
	for (int i = 0; i < PK_N; i++)
		if (str_eq_c(k, presign_keys[i]))
			return i;
	return -1;
}

/* sigv4_parse_presigned: X-Amz-* query auth to out, decoded values in
 * scratch; 0 or a sigv4_err (sigv4.h). */
int sigv4_parse_presigned(struct str query, struct sigv4_auth *out, char *scratch, size_t scratch_n)
{
	struct str val[PK_N] = {{0}};
	int seen[PK_N] = {0};
	size_t used = 0;
	struct str k, v, q = query;
	memset(out, 0, sizeof(*out));
	out->expires_s = -1;
	if (!q.p)
		q.p = "";
	while (next_pair(&q, &k, &v, 0)) {
		int i = presign_key_index(k);
		if (i < 0)
			continue;
		if (seen[i]++)
			return SIGV4_ERR_MALFORMED; /* which one would be signed? */
		if (url_decode_into(v, scratch, scratch_n, &used, &val[i]) < 0)
			return SIGV4_ERR_MALFORMED;
	}
	if (!seen[PK_ALG] && !seen[PK_CRED] && !seen[PK_SIG])
		return SIGV4_ERR_NO_AUTH;
	if (!seen[PK_ALG] || !seen[PK_CRED] || !seen[PK_DATE] || !seen[PK_SH] || !seen[PK_SIG])
		return SIGV4_ERR_MALFORMED;
	if (!str_eq_c(val[PK_ALG], "AWS4-HMAC-SHA256"))
		return SIGV4_ERR_ALGORITHM;
	if (parse_credential(val[PK_CRED], out) < 0 || !valid_signed_headers(val[PK_SH]) ||
	    !valid_signature(val[PK_SIG]) || !val[PK_DATE].n)
		return SIGV4_ERR_MALFORMED;
	if (seen[PK_EXPIRES]) {
		struct str e = val[PK_EXPIRES];
		if (!is_digits(e.p, e.n))
			return SIGV4_ERR_MALFORMED;
		/* more than 10 digits is out of range anyway; clamp rather
		 * than overflow */
		int64_t x = 0;
		for (size_t j = 0; j < e.n && x <= SIGV4_MAX_EXPIRES; j++)
			x = x * 10 + (e.p[j] - '0');
		out->expires_s = x;
	}
	out->signed_headers = val[PK_SH];
	out->signature = val[PK_SIG];
	out->amz_date = val[PK_DATE];
	out->security_token = val[PK_TOKEN];
	out->presigned = 1;
	return 0;
}

/* sigv4_parse_request: header or presigned auth of req to out; 0 or a
 * sigv4_err (sigv4.h). */
int sigv4_parse_request(const struct sigv4_request *req, struct sigv4_auth *out, char *scratch,
			size_t scratch_n)
{
	const struct http_header *authz = NULL, *amz_date = NULL, *date = NULL, *token = NULL;
	/* one pass over the headers; the length test rejects most names */
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		switch (h->name.n) { /* the length rejects most names without a compare */
		case 13:
			if (str_case_eq(h->name, STR_LIT("authorization"))) {
				if (authz)
					return SIGV4_ERR_MALFORMED;
				authz = h;
			}
			break;
		case 10:
			if (!amz_date && str_case_eq(h->name, STR_LIT("x-amz-date")))
				amz_date = h;
			break;
		case 4:
			if (!date && str_case_eq(h->name, STR_LIT("date")))
				date = h;
			break;
		case 20:
			if (!token && str_case_eq(h->name, STR_LIT("x-amz-security-token")))
				token = h;
			break;
		}
	}
	int rc = sigv4_parse_presigned(req->query, out, scratch, scratch_n);
	if (rc != SIGV4_ERR_NO_AUTH) {
		if (authz)
			return SIGV4_ERR_MALFORMED; /* AWS allows one mechanism */
		return rc;
	}
	/* S3 still accepts SigV2 ("AWS key:sig", ?AWSAccessKeyId=&Signature=) */
	if (req->s3 && (rc = sigv2_parse(req, out, scratch, scratch_n)) != SIGV4_ERR_NO_AUTH)
		return rc;
	if (!authz)
		return SIGV4_ERR_NO_AUTH;
	rc = sigv4_parse_header(authz->value, out);
	if (rc < 0)
		return rc;
	if (amz_date || date)
		out->amz_date = (amz_date ? amz_date : date)->value;
	if (token)
		out->security_token = token->value;
	return 0;
}

/* ---- canonical request ------------------------------------------------------ */

/* append_encoded: appends s with every byte except unreserved ones (and
 * '/' when keep_slash) as %XX; this is AWS's UriEncode. */
static void append_encoded(struct buf *out, const char *s, size_t n, int keep_slash)
{
	buf_reserve(out, 3 * n);
	char *d = out->p + out->n;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c) || (keep_slash && c == '/')) {
			*d++ = (char)c;
		} else {
			*d++ = '%';
			*d++ = hex_upper[c >> 4];
			*d++ = hex_upper[c & 15];
		}
	}
	out->n = (size_t)(d - out->p);
	out->p[out->n] = 0;
}

/* path_is_normal: 1 when dot-segment/empty-segment removal would not
 * change path (then the normalised and raw canonical URIs agree). */
static int path_is_normal(struct str path)
{
	size_t start = 0;
	if (!path.n || path.p[0] != '/')
		return path.n == 0;
	for (size_t i = 1; i <= path.n; i++) {
		if (i < path.n && path.p[i] != '/')
			continue;
		size_t len = i - start - 1;
		const char *seg = path.p + start + 1;
		int last = i == path.n;
		if ((len == 0 && !last) || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		start = i;
	}
	return 1;
}

/* append_canonical_uri: the CanonicalURI line. S3: the path as sent.
 * Others: botocore's remove_dot_segments (also dropping empty segments)
 * when normalise, then UriEncode of every byte but '/', which encodes an
 * already-encoded path a second time. */
static void append_canonical_uri(struct buf *out, struct str path, int s3, int normalise)
{
	if (!path.n) {
		put_c(out, '/');
		return;
	}
	if (s3) {
		put(out, path.p, path.n);
		return;
	}
	if (!normalise) {
		append_encoded(out, path.p, path.n, 1);
		return;
	}
	size_t base = out->n;
	size_t i = 0;
	while (i < path.n) {
		while (i < path.n && path.p[i] == '/')
			i++;
		size_t s = i;
		while (i < path.n && path.p[i] != '/')
			i++;
		size_t len = i - s;
		if (len == 0 || (len == 1 && path.p[s] == '.'))
			continue;
		if (len == 2 && path.p[s] == '.' && path.p[s + 1] == '.') {
			/* pop: encoded segments hold no raw '/', so the last one
			 * starts at the last '/' written */
			while (out->n > base && out->p[out->n - 1] != '/')
				out->n--;
			if (out->n > base)
				out->n--;
			continue;
		}
		put_c(out, '/');
		append_encoded(out, path.p + s, len, 0);
	}
	if (out->n == base || path.p[path.n - 1] == '/')
		put_c(out, '/');
	out->p[out->n] = 0;
}

/* A query key or value read back in its canonical encoding, one byte at a
 * time: decoded ('+' is a space, a stray '%' is itself), then UriEncoded.
 * Lets the sort compare canonical forms without building them. */
struct qenc {
	const char *p, *end;
	char pend[2];
	int npend;
};

/* qenc_next: next byte of the canonical form, or -1 at the end. */
static int qenc_next(struct qenc *it)
{
	if (it->npend)
		return (unsigned char)it->pend[2 - it->npend--];
	if (it->p == it->end)
		return -1;
	unsigned c = (unsigned char)*it->p++;
	if (c == '+') {
		c = ' ';
	} else if (c == '%' && it->end - it->p >= 2 && is_hex((unsigned char)it->p[0]) &&
		   is_hex((unsigned char)it->p[1])) {
		c = (unsigned)(hex_val((unsigned char)it->p[0]) << 4 |
			       hex_val((unsigned char)it->p[1]));
		it->p += 2;
	}
	if (is_unreserved((int)c))
		return (int)c;
	it->pend[0] = hex_upper[c >> 4];
	it->pend[1] = hex_upper[c & 15];
	it->npend = 2;
	return '%';
}

/* qenc_cmp: compares the canonical encodings of raw a and b (memcmp order). */
static int qenc_cmp(struct str a, struct str b)
{
	struct qenc x = {a.p, a.p + a.n, {0, 0}, 0}, y = {b.p, b.p + b.n, {0, 0}, 0};
	for (;;) {
		int c = qenc_next(&x), d = qenc_next(&y);
		if (c != d)
			return c < d ? -1 : 1;
		if (c < 0)
			return 0;
	}
}

/* append_qenc: appends the canonical encoding of raw query text s. */
static void append_qenc(struct buf *out, struct str s)
{
	struct qenc it = {s.p, s.p + s.n, {0, 0}, 0};
	buf_reserve(out, 3 * s.n);
	int c;
	while ((c = qenc_next(&it)) >= 0)
		out->p[out->n++] = (char)c;
	out->p[out->n] = 0;
}

struct qpair {
	struct str k, v;
};

/* qpair_cmp: qsort order of canonical query pairs: by encoded key, then
 * encoded value (AWS sorts by name, then value for repeated names). */
static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int r = qenc_cmp(x->k, y->k);
	return r ? r : qenc_cmp(x->v, y->v);
}

/* raw_cmp: memcmp order of two views, shorter first on a tie. */
static int raw_cmp(struct str a, struct str b)
{
	int r = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
	return r ? r : (a.n > b.n) - (a.n < b.n);
}

/* qpair_raw_cmp: botocore's order for a query signed as sent. */
static int qpair_raw_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int r = raw_cmp(x->k, y->k);
	return r ? r : raw_cmp(x->v, y->v);
}

/* query_is_canonical: 1 when decoding and re-encoding changes nothing in
 * query (every byte unreserved, '&', one '=' per pair, or an upper-case
 * %XX of a byte that must stay encoded; no empty pairs), so the as-sent
 * form is the same. */
static int query_is_canonical(struct str q)
{
	int seen_eq = 0; /* a second '=' in a pair is encoded as %3D */
	for (size_t i = 0; i < q.n; i++) {
		unsigned char c = (unsigned char)q.p[i];
		if (c == '&') {
			if (i == 0 || i + 1 == q.n || q.p[i + 1] == '&')
				return 0;
			seen_eq = 0;
			continue;
		}
		if (c == '=' && seen_eq++)
			return 0;
		if (is_unreserved(c) || c == '=')
			continue;
		if (c != '%' || i + 2 >= q.n)
			return 0;
		int h = (unsigned char)q.p[i + 1], l = (unsigned char)q.p[i + 2];
		if (!is_hex(h) || !is_hex(l) || (h >= 'a' && h <= 'f') || (l >= 'a' && l <= 'f') ||
		    is_unreserved(hex_val(h) << 4 | hex_val(l)))
			return 0;
		i += 2;
	}
	return 1;
}

/* append_canonical_query: the CanonicalQueryString line: pairs decoded and
 * re-encoded, sorted, joined with '&'; X-Amz-Signature left out of
 * presigned requests. With as_sent, pairs are kept exactly as sent (empty
 * ones too) and sorted bytewise: what botocore signs for a hand-made URL.
 * Allocates only beyond 64 parameters. */
static void append_canonical_query(struct buf *out, struct str query, int presigned, int as_sent)
{
	struct qpair stack[64], *pairs = stack;
	size_t n = 0, cap = FB_ARRAY_LEN(stack);
	struct str k, v, q = query;
	if (!q.n)
		return;
	while (next_pair(&q, &k, &v, as_sent)) {
		if (presigned && (as_sent ? str_eq_c(k, "X-Amz-Signature")
					  : qenc_cmp(k, STR_LIT("X-Amz-Signature")) == 0))
			continue;
		if (n == cap) {
			struct qpair *np = malloc(2 * cap * sizeof(*np));
			if (!np)
				fb_die("out of memory (query of %zu bytes)", query.n);
			memcpy(np, pairs, n * sizeof(*np));
			if (pairs != stack)
				free(pairs);
			pairs = np;
			cap *= 2;
		}
		pairs[n++] = (struct qpair){k, v};
	}
	if (n > 1)
		qsort(pairs, n, sizeof(*pairs), as_sent ? qpair_raw_cmp : qpair_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_c(out, '&');
		if (as_sent) {
			put(out, pairs[i].k.p, pairs[i].k.n);
			put_c(out, '=');
			put(out, pairs[i].v.p, pairs[i].v.n);
		} else {
			append_qenc(out, pairs[i].k);
			put_c(out, '=');
			append_qenc(out, pairs[i].v);
		}
	}
	if (pairs != stack)
		free(pairs);
}

/* has_inner_blanks: 1 when v holds a tab or two spaces in a row, the
 * only things Trimall changes in a value already trimmed at its ends. */
static int has_inner_blanks(struct str v)
{
	if (memchr(v.p, '\t', v.n))
		return 1;
	const char *p = v.p, *end = v.p + v.n;
	while ((p = memchr(p, ' ', (size_t)(end - p))) != NULL) {
		if (++p < end && *p == ' ')
			return 1;
	}
	return 0;
}

/* append_trimmed: appends a header value with leading/trailing blanks
 * removed and inner runs of blanks collapsed to one space ("Trimall"). */
static void append_trimmed(struct buf *out, struct str v)
{
	/* the HTTP parser trims the ends; most values have nothing inside */
	if (!v.n || (!is_space((unsigned char)v.p[0]) && !is_space((unsigned char)v.p[v.n - 1]) &&
		     !has_inner_blanks(v))) {
		put(out, v.p, v.n);
		return;
	}
	buf_reserve(out, v.n);
	size_t i = 0;
	int pending_space = 0;
	while (i < v.n && is_space((unsigned char)v.p[i]))
		i++;
	for (; i < v.n; i++) {
		if (is_space((unsigned char)v.p[i])) {
			pending_space = 1;
			continue;
		}
		if (pending_space)
			out->p[out->n++] = ' ';
		pending_space = 0;
		out->p[out->n++] = v.p[i];
	}
	out->p[out->n] = 0;
}

/* append_canonical_headers: one "name:value\n" line per SignedHeaders
 * entry, in the order the client listed them; repeated headers joined with
 * ',' in request order. A signed header the request lacks gives "name:". */
static void append_canonical_headers(struct buf *out, const struct sigv4_request *req,
				     struct str signed_headers)
{
	size_t i = 0;
	while (i < signed_headers.n) {
		size_t s = i;
		while (i < signed_headers.n && signed_headers.p[i] != ';')
			i++;
		struct str name = {signed_headers.p + s, i - s};
		i++;
		buf_reserve(out, name.n + 1);
		for (size_t j = 0; j < name.n; j++)
			out->p[out->n++] = (char)lower((unsigned char)name.p[j]);
		out->p[out->n++] = ':';
		int first = 1;
		for (size_t j = 0; j < req->nheaders; j++) {
			if (req->headers[j].name.n != name.n ||
			    !str_case_eq(req->headers[j].name, name))
				continue;
			if (!first)
				put_c(out, ',');
			first = 0;
			append_trimmed(out, req->headers[j].value);
		}
		put_c(out, '\n');
	}
}

/* Variants of the canonical request, for clients that deviate from AWS's
 * rules in ways botocore or the Go SDK do. 0 is the standard form. */
enum { VAR_RAW_PATH = 1, VAR_RAW_QUERY = 2 };

/* build_canonical: the whole canonical request for req/auth with the
 * given payload hash and variant bits, appended to out. */
static void build_canonical(struct buf *out, const struct sigv4_request *req,
			    const struct sigv4_auth *auth, struct str payload, int variant)
{
	put(out, req->method.p, req->method.n);
	put_c(out, '\n');
	append_canonical_uri(out, req->path, req->s3, !(variant & VAR_RAW_PATH));
	put_c(out, '\n');
	append_canonical_query(out, req->query, auth->presigned, variant & VAR_RAW_QUERY);
	put_c(out, '\n');
	append_canonical_headers(out, req, auth->signed_headers);
	put_c(out, '\n');
	put(out, auth->signed_headers.p, auth->signed_headers.n);
	put_c(out, '\n');
	put(out, payload.p, payload.n);
	terminate(out);
}

/* declared_payload: the payload hash the client declared, if any:
 * req->payload_hash, else the x-amz-content-sha256 header. Empty if none. */
static struct str declared_payload(const struct sigv4_request *req)
{
	if (req->payload_hash.n)
		return req->payload_hash;
	const struct http_header *h = find_header(req, "x-amz-content-sha256");
	return h ? h->value : STR_NULL;
}

/* ---- crypto --------------------------------------------------------------------- */

/* sha256: digest of p[0..n) into out. */
static void sha256(const void *p, size_t n, unsigned char out[32])
{
	SHA256_CTX x;
	if (!SHA256_Init(&x) || !SHA256_Update(&x, p, n) || !SHA256_Final(out, &x))
		fb_die("sigv4: SHA-256 failed");
}

/* hmac_key_init: RFC 2104 key setup of key[0..key_n) into *hk. */
static void hmac_key_init(struct hmac_key *hk, const void *key, size_t key_n)
{
	unsigned char k[64] = {0}, pad[64];
	if (key_n > 64)
		sha256(key, key_n, k);
	else
		memcpy(k, key, key_n);
	for (size_t i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	if (!SHA256_Init(&hk->inner) || !SHA256_Update(&hk->inner, pad, 64))
		fb_die("sigv4: HMAC failed");
	for (size_t i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	if (!SHA256_Init(&hk->outer) || !SHA256_Update(&hk->outer, pad, 64))
		fb_die("sigv4: HMAC failed");
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* hmac_final: HMAC-SHA-256 of msg under the prepared key hk. */
static void hmac_final(const struct hmac_key *hk, const void *msg, size_t msg_n,
		       unsigned char out[32])
{
	SHA256_CTX x = hk->inner;
	unsigned char inner[32];
	if (!SHA256_Update(&x, msg, msg_n) || !SHA256_Final(inner, &x))
		fb_die("sigv4: HMAC failed");
	x = hk->outer;
	if (!SHA256_Update(&x, inner, 32) || !SHA256_Final(out, &x))
		fb_die("sigv4: HMAC failed");
	OPENSSL_cleanse(&x, sizeof(x));
}

/* hmac_sha256: one-off HMAC-SHA-256 of msg under key (the key chain). */
static void hmac_sha256(const void *key, size_t key_n, const void *msg, size_t msg_n,
			unsigned char out[32])
{
	struct hmac_key hk;
	hmac_key_init(&hk, key, key_n);
	hmac_final(&hk, msg, msg_n, out);
	OPENSSL_cleanse(&hk, sizeof(hk));
}

/* to_hex: 2n lower-case hex digits of p plus NUL into out. */
static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char pairs[] =
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a"
	    "2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455"
	    "565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80"
	    "8182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaab"
	    "acadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6"
	    "d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	for (size_t i = 0; i < n; i++)
		memcpy(out + 2 * i, pairs + 2 * p[i], 2);
	out[2 * n] = 0;
}

/* sigv4_sha256_hex: hex SHA-256 into out; usable from any thread. */
void sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	sha256(p, n, md);
	to_hex(md, 32, out);
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

/* siphash128: SipHash-2-4 with 128-bit output of p[0..n) under k. Used as
 * the secret's fingerprint: keyed with a per-cache random key, so stored
 * fingerprints say nothing about the secrets, yet costs ~20 ns instead of a
 * SHA-256. */
static void siphash128(const uint64_t k[2], const void *p, size_t n, uint64_t out[2])
{
	const unsigned char *m = p;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
	uint64_t b = (uint64_t)n << 56;
	v1 ^= 0xee;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = 0;
		for (int j = 7; j >= 0; j--)
			w = w << 8 | m[i + (size_t)j];
		v3 ^= w;
		SIPROUND;
		SIPROUND;
		v0 ^= w;
	}
	for (int j = 0; i + (size_t)j < n; j++)
		b |= (uint64_t)m[i + (size_t)j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xee;
	for (int r = 0; r < 4; r++)
		SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xdd;
	for (int r = 0; r < 4; r++)
		SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

/* sigv4_key_cache_new: empty cache with a fresh random fingerprint key
 * from the kernel: no OpenSSL initialisation at start, whose default
 * provider alone makes ~2 MB resident. The caller frees it with
 * sigv4_key_cache_free. */
struct sigv4_key_cache *sigv4_key_cache_new(void)
{
	struct sigv4_key_cache *kc = calloc(1, sizeof(*kc));
	if (!kc)
		fb_die("out of memory (sigv4 key cache)");
	unsigned char *k = (unsigned char *)kc->sip_key;
	size_t got = 0;
	while (got < sizeof(kc->sip_key)) {
		ssize_t r = getrandom(k + got, sizeof(kc->sip_key) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fb_die("sigv4: getrandom: %s", strerror(errno));
		got += (size_t)r;
	}
	kc->text = BUF_INIT;
	return kc;
}

/* sigv4_key_cache_free: releases kc and wipes the keys in it. */
void sigv4_key_cache_free(struct sigv4_key_cache *kc)
{
	if (!kc)
		return;
	buf_release(&kc->text);
	if (kc->slots) {
		OPENSSL_cleanse(kc->slots, KC_SLOTS * sizeof(*kc->slots));
		free(kc->slots);
	}
	OPENSSL_cleanse(kc, sizeof(*kc));
	free(kc);
}

/* derive_key: the SigV4 signing key HMAC chain "AWS4"+secret -> date ->
 * region -> service -> "aws4_request", prepared for signing into *out. */
static void derive_key(const char *secret, size_t secret_n, const struct sigv4_auth *auth,
		       struct hmac_key *out)
{
	unsigned char k[32];
	/* "AWS4"+secret on the stack when it fits; secrets are 40 bytes */
	unsigned char first[4 + 128], *fp = first;
	if (secret_n > 128) {
		fp = malloc(4 + secret_n);
		if (!fp)
			fb_die("out of memory (sigv4 secret)");
	}
	memcpy(fp, "AWS4", 4);
	if (secret_n)
		memcpy(fp + 4, secret, secret_n);
	hmac_sha256(fp, 4 + secret_n, auth->date.p, auth->date.n, k);
	OPENSSL_cleanse(fp, 4 + secret_n);
	if (fp != first)
		free(fp);
	hmac_sha256(k, 32, auth->region.p, auth->region.n, k);
	hmac_sha256(k, 32, auth->service.p, auth->service.n, k);
	hmac_sha256(k, 32, "aws4_request", 12, k);
	hmac_key_init(out, k, 32);
	OPENSSL_cleanse(k, sizeof(k));
}

/* signing_key: the prepared signing key for secret and auth's scope, from
 * the cache or derived and cached. Scopes with names over 32 bytes bypass
 * the cache: they are derived into *tmp. Returns the key to sign with,
 * valid until the next call. */
static const struct hmac_key *signing_key(struct sigv4_key_cache *kc, const char *secret,
					  size_t secret_n, const struct sigv4_auth *auth,
					  struct hmac_key *tmp)
{
	if (auth->region.n > KC_NAME_MAX || auth->service.n > KC_NAME_MAX || auth->date.n != 8) {
		derive_key(secret, secret_n, auth, tmp);
		return tmp;
	}
	if (!kc->slots && !(kc->slots = calloc(KC_SLOTS, sizeof(*kc->slots))))
		fb_die("out of memory (sigv4 key cache)");
	uint64_t fp[2];
	siphash128(kc->sip_key, secret, secret_n, fp);
	/* FNV-1a of the scope, seeded with the fingerprint, picks the slot */
	uint64_t h = fp[0] ^ 0xcbf29ce484222325ULL;
	const struct str parts[3] = {auth->date, auth->region, auth->service};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < parts[i].n; j++)
			h = (h ^ (unsigned char)parts[i].p[j]) * 0x100000001b3ULL;
	h ^= h >> 29;
	struct kc_slot *s = &kc->slots[h % KC_SLOTS];
	if (s->used && s->fp[0] == fp[0] && s->fp[1] == fp[1] &&
	    memcmp(s->date, auth->date.p, 8) == 0 && s->region_n == auth->region.n &&
	    memcmp(s->region, auth->region.p, auth->region.n) == 0 &&
	    s->service_n == auth->service.n &&
	    memcmp(s->service, auth->service.p, auth->service.n) == 0)
		return &s->key;
	derive_key(secret, secret_n, auth, &s->key);
	s->used = 1;
	s->fp[0] = fp[0];
	s->fp[1] = fp[1];
	memcpy(s->date, auth->date.p, 8);
	s->region_n = (uint8_t)auth->region.n;
	memcpy(s->region, auth->region.p, auth->region.n);
	s->service_n = (uint8_t)auth->service.n;
	memcpy(s->service, auth->service.p, auth->service.n);
	return &s->key;
}

/* append_string_to_sign: "AWS4-HMAC-SHA256\n<iso>\n<scope>\n<hex>". */
static void append_string_to_sign(struct buf *out, const char iso[17],
				  const struct sigv4_auth *auth, const char canon_hex[65])
{
	buf_reserve(out, 17 + 17 + auth->date.n + auth->region.n + auth->service.n + 16 + 64);
	put(out, "AWS4-HMAC-SHA256\n", 17);
	put(out, iso, 16);
	put_c(out, '\n');
	put(out, auth->date.p, auth->date.n);
	put_c(out, '/');
	put(out, auth->region.p, auth->region.n);
	put_c(out, '/');
	put(out, auth->service.p, auth->service.n);
	put(out, "/aws4_request\n", 14);
	put(out, canon_hex, 64);
	terminate(out);
}

/* ---- verification ----------------------------------------------------------------- */

/* check_auth_fields: 1 when auth holds what verify needs, in valid form
 * (it may have been filled by hand rather than by a parser). */
static int check_auth_fields(const struct sigv4_auth *auth)
{
	/* the signature's digits are checked as verify lowercases them */
	return auth->signature.n == 64 && valid_signed_headers(auth->signed_headers) &&
	       auth->date.n == 8 && is_digits(auth->date.p, 8) && auth->region.n &&
	       auth->service.n && auth->access_key.n;
}

/* host_signed: 1 when "host" is one of the SignedHeaders. */
static int host_signed(struct str sh)
{
	size_t i = 0;
	while (i < sh.n) {
		size_t s = i;
		while (i < sh.n && sh.p[i] != ';')
			i++;
		if (str_case_eq((struct str){sh.p + s, i - s}, STR_LIT("host")))
			return 1;
		i++;
	}
	return 0;
}

/* check_time: the clock rules. Header-signed: within 15 minutes of now.
 * Presigned: X-Amz-Expires at most 7 days, not more than 15 minutes in the
 * future, and now <= X-Amz-Date + X-Amz-Expires (15 minutes when absent).
 * Returns 0 or the sigv4_err. */
static int check_time(const struct sigv4_auth *auth, int64_t t, int64_t now_s)
{
	if (!auth->presigned) {
		int64_t d = now_s - t;
		return (d > SIGV4_MAX_SKEW_S || d < -SIGV4_MAX_SKEW_S) ? SIGV4_ERR_SKEW : 0;
	}
	if (auth->expires_s > SIGV4_MAX_EXPIRES)
		return SIGV4_ERR_EXPIRES_RANGE;
	if (t - now_s > SIGV4_MAX_SKEW_S)
		return SIGV4_ERR_SKEW;
	int64_t exp = auth->expires_s >= 0 ? auth->expires_s : SIGV4_MAX_SKEW_S;
	return now_s > t + exp ? SIGV4_ERR_EXPIRED : 0;
}

/* try_signature: builds the canonical request with payload/variant into
 * kc->text, signs it with key and compares with want (the signature's 32
 * bytes) in constant time. Returns 1 on a match. */
static int try_signature(struct sigv4_key_cache *kc, const struct sigv4_request *req,
			 const struct sigv4_auth *auth, struct str payload, int variant,
			 const struct hmac_key *key, const char iso[17],
			 const unsigned char want[32])
{
	unsigned char md[32];
	char hex[65];
	buf_clear(&kc->text);
	build_canonical(&kc->text, req, auth, payload, variant);
	sha256(kc->text.p, kc->text.n, md);
	to_hex(md, 32, hex);
	buf_clear(&kc->text);
	append_string_to_sign(&kc->text, iso, auth, hex);
	hmac_final(key, kc->text.p, kc->text.n, md);
	return CRYPTO_memcmp(md, want, 32) == 0;
}

/* sigv4_verify: 0 when auth is a valid, current signature of req under
 * secret, else a sigv4_err (sigv4.h). */
int sigv4_verify(struct sigv4_key_cache *kc, const struct sigv4_request *req,
		 const struct sigv4_auth *auth, const char *secret, size_t secret_len,
		 int64_t now_s)
{
	if (auth->v2)
		return sigv2_verify(req, auth, secret, secret_len, now_s);
	if (!kc) {
		struct sigv4_key_cache *tmp = sigv4_key_cache_new();
		int rc = sigv4_verify(tmp, req, auth, secret, secret_len, now_s);
		sigv4_key_cache_free(tmp);
		return rc;
	}
	if (!check_auth_fields(auth))
		return SIGV4_ERR_MALFORMED;
	if (!host_signed(auth->signed_headers))
		return SIGV4_ERR_HOST_UNSIGNED;
	int64_t t;
	char iso[17];
	int rc = request_time(req, auth, &t, iso);
	if (rc < 0)
		return rc;
	if (memcmp(auth->date.p, iso, 8) != 0)
		return SIGV4_ERR_SCOPE_DATE;
	rc = check_time(auth, t, now_s);
	if (rc < 0)
		return rc;

	/* compared as bytes: either case of hex digits decodes the same */
	unsigned char want[32];
	for (size_t i = 0; i < 32; i++) {
		unsigned char hi = (unsigned char)auth->signature.p[2 * i];
		unsigned char lo = (unsigned char)auth->signature.p[2 * i + 1];
		if (!is_hex(hi) || !is_hex(lo))
			return SIGV4_ERR_MALFORMED;
		want[i] = (unsigned char)(hex_val(hi) << 4 | hex_val(lo));
	}
	struct hmac_key tmp;
	const struct hmac_key *key = signing_key(kc, secret, secret_len, auth, &tmp);

	/* Candidates, most likely first. What the client hashed is certain
	 * only when it declared it; a presigned non-S3 URL is signed over the
	 * body hash by botocore and Go v1 but UNSIGNED-PAYLOAD by others. */
	struct str payloads[2];
	size_t np = 0;
	char body_hex[65];
	struct str declared = declared_payload(req);
	if (declared.n) {
		payloads[np++] = declared;
	} else if (auth->presigned && req->s3) {
		payloads[np++] = STR_LIT("UNSIGNED-PAYLOAD");
	} else {
		unsigned char md[32];
		sha256(req->body.p ? req->body.p : "", req->body.n, md);
		to_hex(md, 32, body_hex);
		payloads[np++] = (struct str){body_hex, 64};
		if (auth->presigned)
			payloads[np++] = STR_LIT("UNSIGNED-PAYLOAD");
	}
	/* botocore and Java drop dot and empty path segments before signing,
	 * Go does not; botocore signs a query as sent, AWS decodes and
	 * re-encodes it. Where that makes a difference, accept either. Only
	 * unusual requests that fail the first try pay for the others. */
	int allowed = 0;
	if (!req->s3 && !path_is_normal(req->path))
		allowed |= VAR_RAW_PATH;
	if (!query_is_canonical(req->query))
		allowed |= VAR_RAW_QUERY;
	int ok = 0;
	for (size_t i = 0; i < np && !ok; i++)
		for (int var = 0; var <= (VAR_RAW_PATH | VAR_RAW_QUERY) && !ok; var++)
			if ((var & allowed) == var)
				ok = try_signature(kc, req, auth, payloads[i], var, key, iso, want);
	if (key == &tmp)
		OPENSSL_cleanse(&tmp, sizeof(tmp));
	return ok ? 0 : SIGV4_ERR_MISMATCH;
}

/* sigv4_canonical_request: appends the standard canonical request (the
 * first form verify tries) to out. */
void sigv4_canonical_request(struct buf *out, const struct sigv4_request *req,
			     const struct sigv4_auth *auth)
{
	char body_hex[65];
	struct str payload = declared_payload(req);
	if (!payload.n) {
		if (auth->presigned && req->s3) {
			payload = STR_LIT("UNSIGNED-PAYLOAD");
		} else {
			sigv4_sha256_hex(req->body.p ? req->body.p : "", req->body.n, body_hex);
			payload = (struct str){body_hex, 64};
		}
	}
	build_canonical(out, req, auth, payload, 0);
}

/* sigv4_string_to_sign: appends the string to sign over canonical to out;
 * 0 or SIGV4_ERR_NO_DATE. */
int sigv4_string_to_sign(struct buf *out, const struct sigv4_request *req,
			 const struct sigv4_auth *auth, struct str canonical)
{
	int64_t t;
	char iso[17], hex[65];
	if (request_time(req, auth, &t, iso) < 0)
		return SIGV4_ERR_NO_DATE;
	sigv4_sha256_hex(canonical.p, canonical.n, hex);
	append_string_to_sign(out, iso, auth, hex);
	return 0;
}

/* sigv4_strerror: static English text for err. */
const char *sigv4_strerror(int err)
{
	switch (err) {
	case SIGV4_OK:
		return "ok";
	case SIGV4_ERR_NO_AUTH:
		return "request is not signed";
	case SIGV4_ERR_MALFORMED:
		return "malformed signature";
	case SIGV4_ERR_ALGORITHM:
		return "unsupported signing algorithm (only AWS4-HMAC-SHA256)";
	case SIGV4_ERR_MISMATCH:
		return "signature does not match";
	case SIGV4_ERR_SKEW:
		return "request time too far from server time";
	case SIGV4_ERR_EXPIRED:
		return "presigned request has expired";
	case SIGV4_ERR_EXPIRES_RANGE:
		return "X-Amz-Expires must be at most 604800 seconds";
	case SIGV4_ERR_SCOPE_DATE:
		return "credential scope date does not match the request date";
	case SIGV4_ERR_NO_DATE:
		return "missing or invalid X-Amz-Date / Date";
	case SIGV4_ERR_HOST_UNSIGNED:
		return "host header is not signed";
	}
	return "unknown sigv4 error";
}
