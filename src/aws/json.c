/* json.c - recursive-descent JSON parser into jv, and the compact writer.
 * Hot loops (string bodies, whitespace, digits) are inline byte tests; the
 * string scanner checks eight bytes at a time for anything that is not
 * plain ASCII text, which is nearly all of a typical AWS payload. */
#include "aws/json.h"
#include "aws/fmt.h"
#include <math.h>
#include <stdlib.h>

struct jp {
	const unsigned char *p, *end;
	struct arena *a;
	const char *err;
	int depth;
};

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* special8: nonzero when one of the 8 bytes in x is '"', '\\', < 0x20 or
 * >= 0x80. Borrows can only flag a byte above a truly special one, which is
 * fine for an any-byte test. */
static inline uint64_t special8(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
	return (((q - ONES) & ~q) | ((b - ONES) & ~b) | (x - ONES * 0x20) | x) & HIGHS;
}

/* str_special: the same set as special8, one byte at a time. */
static const unsigned char str_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* fail: records the first error; returns NULL for `return fail(...)`. */
static void *fail(struct jp *j, const char *msg)
{
	if (!j->err)
		j->err = msg;
	return NULL;
}

/* fail_i: fail for functions returning int; returns -1. */
static int fail_i(struct jp *j, const char *msg)
{
	fail(j, msg);
	return -1;
}

/* skip_ws: advances over the four JSON whitespace bytes. */
static inline void skip_ws(struct jp *j)
{
	const unsigned char *p = j->p, *end = j->end;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	j->p = p;
}

/* hex4: the value of 4 hex digits at s, or -1. */
static int32_t hex4(const unsigned char *s)
{
	int32_t v = 0;
	for (int k = 0; k < 4; k++) {
		unsigned c = s[k];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | (int32_t)c;
	}
	return v;
}

/* unescape: decodes the escaped body s[0..n) (already scanned: no raw
 * quote, control byte or bad UTF-8) into out; returns the length, or -1 on
 * a bad escape. out needs n bytes: every escape shrinks or keeps size. */
static ssize_t unescape(char *out, const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n;
	char *o = out;
	while (s < end) {
		const unsigned char *bs = memchr(s, '\\', (size_t)(end - s));
		size_t run = bs ? (size_t)(bs - s) : (size_t)(end - s);
		memcpy(o, s, run);
		o += run;
		s += run;
		if (!bs)
			break;
		if (end - s < 2)
			return -1;
		unsigned char c = s[1];
		s += 2;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*o++ = (char)c;
			continue;
		case 'b':
			*o++ = '\b';
			continue;
		case 'f':
			*o++ = '\f';
			continue;
		case 'n':
			*o++ = '\n';
			continue;
		case 'r':
			*o++ = '\r';
			continue;
		case 't':
			*o++ = '\t';
			continue;
		case 'u':
			break;
		default:
			return -1;
		}
		int32_t cp = end - s >= 4 ? hex4(s) : -1;
		if (cp < 0)
			return -1;
		s += 4;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			int32_t lo = end - s >= 6 && s[0] == '\\' && s[1] == 'u' ? hex4(s + 2) : -1;
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else {
				cp = 0xfffd; /* lone high surrogate; what follows is parsed anew */
			}
		} else if (cp >= 0xdc00 && cp <= 0xdfff) {
			cp = 0xfffd; /* lone low surrogate */
		}
		o += fmt_utf8_put(o, (uint32_t)cp);
	}
	return o - out;
}

/* parse_string: at the opening quote; sets *out and *outn to the decoded bytes
 * and *owned to 1 when they are a fresh NUL-terminated arena copy, 0 when
 * they point into the input (no escapes). Returns 0 or -1. */
static int parse_string(struct jp *j, const char **out, size_t *outn, int *owned)
{
	const unsigned char *s = j->p + 1, *start = s, *end = j->end;
	int escaped = 0;
	for (;;) {
		while (end - s >= 8) {
			uint64_t x;
			memcpy(&x, s, 8);
			if (special8(x))
				break;
			s += 8;
		}
		while (s < end && !str_special[*s])
			s++;
		if (s >= end)
			return fail_i(j, "json: unterminated string");
		unsigned char c = *s;
		if (c == '"')
			break;
		if (c == '\\') {
			/* the escape itself is checked by unescape; here only skip it
			 * so an escaped quote does not end the string */
			if (end - s < 2)
				return fail_i(j, "json: unterminated string");
			escaped = 1;
			s += 2;
		} else if (c < 0x20) {
			return fail_i(j, "json: control character in string");
		} else {
			size_t k = fmt_utf8_seq(s, (size_t)(end - s));
			if (!k)
				return fail_i(j, "json: invalid UTF-8 in string");
			s += k;
		}
	}
	size_t n = (size_t)(s - start);
	j->p = s + 1;
	if (!escaped) {
		*out = (const char *)start;
		*outn = n;
		*owned = 0;
		return 0;
	}
	char *buf = arena_alloc(j->a, n + 1);
	ssize_t m = unescape(buf, start, n);
	if (m < 0)
		return fail_i(j, "json: bad escape in string");
	buf[m] = 0;
	*out = buf;
	*outn = (size_t)m;
	*owned = 1;
	return 0;
}

/* parse_number: at '-' or a digit; JV_INT when integral and in int64. */
static struct jv *parse_number(struct jp *j)
{
	const unsigned char *p = j->p, *end = j->end, *start = p;
	int neg = 0, integral = 1, overflow = 0;
	uint64_t mag = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return fail(j, "json: bad number");
	if (*p == '0') {
		p++;
	} else {
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			unsigned d = *p - '0';
			if (mag > (UINT64_MAX - d) / 10)
				overflow = 1;
			else
				mag = mag * 10 + d;
		}
	}
	if (p < end && *p == '.') {
		integral = 0;
		const unsigned char *f = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == f)
			return fail(j, "json: bad number");
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		integral = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		const unsigned char *e = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == e)
			return fail(j, "json: bad number");
	}
	j->p = p;
	if (integral && !overflow) {
		if (!neg && mag <= (uint64_t)INT64_MAX)
			return jv_int(j->a, (int64_t)mag);
		if (neg && mag != 0 && mag <= (uint64_t)INT64_MAX + 1)
			return jv_int(j->a, (int64_t)(0 - mag)); /* wraps to INT64_MIN exactly */
	}
	/* strtod needs a NUL; numbers are short, long ones go to the arena */
	char tmp[64];
	size_t len = (size_t)(p - start);
	char *s = len < sizeof(tmp) ? tmp : arena_alloc(j->a, len + 1);
	memcpy(s, start, len);
	s[len] = 0;
	double d = strtod(s, NULL);
	if (isinf(d))
		return fail(j, "json: number out of range");
	return jv_double(j->a, d);
}

/* literal: matches word (n bytes) at the cursor; 0 or -1. */
static int literal(struct jp *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static struct jv *parse_value(struct jp *j);

/* parse_array: at '['. */
static struct jv *parse_array(struct jp *j)
{
	struct jv *arr = jv_array(j->a);
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return arr;
	}
	for (;;) {
		struct jv *v = parse_value(j);
		if (!v)
			return NULL;
		jv_push(j->a, arr, v);
		skip_ws(j);
		if (j->p >= j->end)
			return fail(j, "json: unterminated array");
		if (*j->p == ']') {
			j->p++;
			return arr;
		}
		if (*j->p != ',')
			return fail(j, "json: expected ',' or ']'");
		j->p++;
		skip_ws(j);
	}
}

/* parse_object: at '{'. Members are appended in order, duplicates kept. */
static struct jv *parse_object(struct jp *j)
{
	struct jv *obj = jv_object(j->a);
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return obj;
	}
	for (;;) {
		const char *k;
		size_t kn;
		int owned;
		if (j->p >= j->end || *j->p != '"')
			return fail(j, "json: expected a string key");
		if (parse_string(j, &k, &kn, &owned) < 0)
			return NULL;
		skip_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return fail(j, "json: expected ':'");
		j->p++;
		skip_ws(j);
		struct jv *v = parse_value(j);
		if (!v)
			return NULL;
		jv_add_n(j->a, obj, k, kn, v);
		skip_ws(j);
		if (j->p >= j->end)
			return fail(j, "json: unterminated object");
		if (*j->p == '}') {
			j->p++;
			return obj;
		}
		if (*j->p != ',')
			return fail(j, "json: expected ',' or '}'");
		j->p++;
		skip_ws(j);
	}
}

/* parse_value: one value at the cursor (whitespace already skipped). */
static struct jv *parse_value(struct jp *j)
{
	if (j->p >= j->end)
		return fail(j, "json: unexpected end of input");
	switch (*j->p) {
	case '{':
	case '[': {
		if (++j->depth > JSON_MAX_DEPTH)
			return fail(j, "json: nesting too deep");
		struct jv *v = *j->p == '{' ? parse_object(j) : parse_array(j);
		j->depth--;
		return v;
	}
	case '"': {
		const char *s;
		size_t n;
		int owned;
		if (parse_string(j, &s, &n, &owned) < 0)
			return NULL;
		if (!owned)
			return jv_string(j->a, s, n);
		struct jv *v = arena_alloc(j->a, sizeof(*v));
		v->type = JV_STRING;
		v->u.s = (struct str){s, n};
		return v;
	}
	case 't':
		return literal(j, "true", 4) ? fail(j, "json: bad literal") : jv_bool(j->a, 1);
	case 'f':
		return literal(j, "false", 5) ? fail(j, "json: bad literal") : jv_bool(j->a, 0);
	case 'n':
		return literal(j, "null", 4) ? fail(j, "json: bad literal") : jv_null(j->a);
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return parse_number(j);
	default:
		return fail(j, "json: unexpected character");
	}
}

/* json_parse: see json.h. */
struct jv *json_parse(struct arena *a, const char *p, size_t n, const char **err)
{
	static const char empty[1];
	if (!p)
		p = empty; /* NULL + 0 is undefined; n must be 0 then anyway */
	struct jp j = {(const unsigned char *)p, (const unsigned char *)p + n, a, NULL, 0};
	skip_ws(&j);
	struct jv *v = parse_value(&j);
	if (v) {
		skip_ws(&j);
		if (j.p != j.end)
			v = fail(&j, "json: trailing data after the value");
	}
	if (!v && err)
		*err = j.err ? j.err : "json: parse error";
	return v;
}

/* put: appends n bytes without the NUL buf_append writes each time; the
 * public writers terminate once at the end (buf_reserve keeps room). */
static inline void put(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->n <= n)
		buf_reserve(b, n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* put1: appends one byte, unterminated like put. */
static inline void put1(struct buf *b, char c)
{
	if (b->cap - b->n <= 1)
		buf_reserve(b, 1);
	b->p[b->n++] = c;
}

/* write_str: json_write_str without the final NUL. Runs of plain bytes
 * (ASCII text and well-formed UTF-8) are copied in one go. */
static void write_str(struct buf *b, const char *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	if (n == 0) {
		put(b, "\"\"", 2);
		return;
	}
	const unsigned char *s = (const unsigned char *)p, *end = s + n, *run = s;
	if (b->cap - b->n <= n + 2)
		buf_reserve(b, n + 2);
	put1(b, '"');
	while (s < end) {
		while (end - s >= 8) {
			uint64_t x;
			memcpy(&x, s, 8);
			if (special8(x))
				break;
			s += 8;
		}
		while (s < end && !str_special[*s])
			s++;
		if (s >= end)
			break;
		unsigned char c = *s;
		if (c >= 0x80) {
			size_t k = fmt_utf8_seq(s, (size_t)(end - s));
			if (k) {
				s += k; /* well-formed: stays in the run */
				continue;
			}
		}
		put(b, run, (size_t)(s - run));
		char esc[6] = {'\\', 0};
		size_t en = 2;
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			if (c >= 0x80) {
				memcpy(esc, "\\ufffd", 6);
			} else {
				memcpy(esc, "\\u00", 4);
				esc[4] = hx[c >> 4];
				esc[5] = hx[c & 15];
			}
			en = 6;
		}
		put(b, esc, en);
		run = ++s;
	}
	put(b, run, (size_t)(end - run));
	put1(b, '"');
}

/* json_write_str: see json.h. */
void json_write_str(struct buf *b, const char *p, size_t n)
{
	write_str(b, p, n);
	b->p[b->n] = 0;
}

/* write_int: appends the decimal form of i. */
static void write_int(struct buf *b, int64_t i)
{
	char tmp[24], *e = tmp + sizeof(tmp), *q = e;
	uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		*--q = '-';
	put(b, q, (size_t)(e - q));
}

/* write_short_decimal: writes d as m/10^k for the smallest k in 1..6 whose
 * integer m reproduces d, and returns 1; 0 when there is none. Because m
 * and 10^k are exact doubles, m / 10^k is correctly rounded, just as
 * strtod rounds the printed decimal, so equality proves the round trip.
 * This skips snprintf+strtod for the usual short decimals (1.5, epoch
 * seconds with milliseconds). */
static int write_short_decimal(struct buf *b, double d)
{
	static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
	static const uint64_t u10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
	for (int k = 1; k <= 6; k++) {
		double t = d * p10[k];
		if (!(t > -9007199254740992.0 && t < 9007199254740992.0))
			return 0;
		int64_t m = (int64_t)t;
		if ((double)m != t || (double)m / p10[k] != d)
			continue;
		char tmp[32], *e = tmp + sizeof(tmp), *q = e;
		uint64_t u = m < 0 ? 0 - (uint64_t)m : (uint64_t)m;
		uint64_t ip = u / u10[k], fp = u % u10[k];
		int nz = 0; /* k is minimal, so the last fraction digit is nonzero */
		for (int i = 0; i < k; i++, fp /= 10) {
			*--q = (char)('0' + fp % 10);
			nz |= fp % 10 != 0;
		}
		*--q = '.';
		do {
			*--q = (char)('0' + ip % 10);
			ip /= 10;
		} while (ip);
		if (m < 0)
			*--q = '-';
		if (!nz)
			return 0;
		put(b, q, (size_t)(e - q));
		return 1;
	}
	return 0;
}

/* write_double: integral values below 2^53 as integers (exact, and the
 * common case: timestamps); others as the shortest %.Ng (N = 15..17)
 * that reads back to the same double. */
static void write_double(struct buf *b, double d)
{
	char tmp[40];
	if (!isfinite(d)) {
		put(b, "null", 4);
		return;
	}
	if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(int64_t)d &&
	    (d != 0 || !signbit(d))) {
		write_int(b, (int64_t)d);
		return;
	}
	if (d != 0 && write_short_decimal(b, d))
		return;
	int len = 0;
	for (int prec = 15; prec <= 17; prec++) {
		len = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (prec == 17 || strtod(tmp, NULL) == d)
			break;
	}
	put(b, tmp, (size_t)len);
}

/* write_value: json_write without the final NUL. */
static void write_value(struct buf *b, const struct jv *v)
{
	if (!v) {
		put(b, "null", 4);
		return;
	}
	switch (v->type) {
	case JV_NULL:
		put(b, "null", 4);
		break;
	case JV_BOOL:
		if (v->u.b)
			put(b, "true", 4);
		else
			put(b, "false", 5);
		break;
	case JV_INT:
		write_int(b, v->u.i);
		break;
	case JV_DOUBLE:
		write_double(b, v->u.d);
		break;
	case JV_STRING:
		write_str(b, v->u.s.p, v->u.s.n);
		break;
	case JV_ARRAY:
		put1(b, '[');
		for (size_t i = 0; i < v->u.arr.n; i++) {
			if (i)
				put1(b, ',');
			write_value(b, v->u.arr.v[i]);
		}
		put1(b, ']');
		break;
	case JV_OBJECT:
		put1(b, '{');
		for (size_t i = 0; i < v->u.obj.n; i++) {
			if (i)
				put1(b, ',');
			write_str(b, v->u.obj.m[i].key.p, v->u.obj.m[i].key.n);
			put1(b, ':');
			write_value(b, v->u.obj.m[i].val);
		}
		put1(b, '}');
		break;
	}
}

/* json_write: see json.h. */
void json_write(struct buf *b, const struct jv *v)
{
	write_value(b, v);
	b->p[b->n] = 0;
}
