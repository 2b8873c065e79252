/* fmt.c - timestamps, base64, hex and UUIDs in their AWS wire forms.
 * Calendar math is done by hand (proleptic Gregorian, Hinnant's
 * days_from_civil) so it needs neither gmtime_r nor timegm nor TZ. */
#include "aws/fmt.h"
#include "core/log.h"
#include <math.h>
#include <stdlib.h>
#include <openssl/rand.h>

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in milliseconds: the
 * range a four-digit year can print. */
#define MIN_MS (-62167219200000LL)
#define MAX_MS (253402300799999LL)

static const char wday_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* floor_div: a / b rounded toward minus infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && a < 0);
}

/* days_from_civil: days since 1970-01-01 of y-m-d (m 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* civil_from_days: the inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* days_in_month: 28..31 for month m (1..12) of year y. */
static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

/* to_ms: epoch seconds as clamped milliseconds; round selects rounding to
 * nearest (else toward minus infinity at whole seconds). NaN -> 0. */
static int64_t to_ms(double epoch_s, int round)
{
	if (epoch_s != epoch_s)
		return 0;
	double ms = round ? floor(epoch_s * 1000.0 + 0.5) : floor(epoch_s) * 1000.0;
	if (ms < (double)MIN_MS)
		return MIN_MS;
	if (ms > (double)MAX_MS)
		return round ? MAX_MS : MAX_MS - 999;
	return (int64_t)ms;
}

/* split: breaks ms since the epoch into calendar fields. */
static void split(int64_t ms, int64_t *y, unsigned *mo, unsigned *d, unsigned *sod, unsigned *msec,
		  unsigned *wday)
{
	int64_t secs = floor_div(ms, 1000);
	int64_t days = floor_div(secs, 86400);
	*msec = (unsigned)(ms - secs * 1000);
	*sod = (unsigned)(secs - days * 86400);
	*wday = (unsigned)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
	civil_from_days(days, y, mo, d);
}

/* fmt_iso8601: see fmt.h. */
void fmt_iso8601(char out[32], double epoch_s)
{
	int64_t y;
	unsigned mo, d, sod, msec, wd;
	split(to_ms(epoch_s, 1), &y, &mo, &d, &sod, &msec, &wd);
	snprintf(out, 32, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)y, mo, d, sod / 3600,
		 sod / 60 % 60, sod % 60, msec);
}

/* fmt_rfc822: see fmt.h. */
void fmt_rfc822(char out[40], double epoch_s)
{
	int64_t y;
	unsigned mo, d, sod, msec, wd;
	split(to_ms(epoch_s, 0), &y, &mo, &d, &sod, &msec, &wd);
	snprintf(out, 40, "%s, %02u %s %04d %02u:%02u:%02u GMT", wday_names[wd], d,
		 month_names[mo - 1], (int)y, sod / 3600, sod / 60 % 60, sod % 60);
}

/* digits: reads exactly k decimal digits at p[*i] into *v; 0 or -1. */
static int digits(const char *p, size_t n, size_t *i, unsigned k, unsigned *v)
{
	unsigned x = 0;
	if (n - *i < k)
		return -1;
	for (unsigned j = 0; j < k; j++) {
		unsigned c = (unsigned char)p[*i + j] - '0';
		if (c > 9)
			return -1;
		x = x * 10 + c;
	}
	*i += k;
	*v = x;
	return 0;
}

/* lit: consumes the byte c at p[*i]; 0 or -1. */
static int lit(const char *p, size_t n, size_t *i, char c)
{
	if (*i >= n || p[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

/* combine: validates the calendar fields and returns the epoch seconds. */
static int combine(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
		   double frac, int off_s, double *out)
{
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
		return -1;
	int64_t days = days_from_civil(y, mo, d);
	*out = (double)(days * 86400 + h * 3600 + mi * 60 + s - off_s) + frac;
	return 0;
}

/* parse_offset: "+hh:mm", "+hhmm" or "+hh" at p[*i] through the end, as
 * seconds east of UTC; 0 or -1. */
static int parse_offset(const char *p, size_t n, size_t *i, int *off)
{
	unsigned oh, om = 0;
	int sign = p[*i] == '-' ? -1 : 1;
	(*i)++;
	if (digits(p, n, i, 2, &oh) < 0)
		return -1;
	if (*i < n) {
		if (p[*i] == ':')
			(*i)++;
		if (digits(p, n, i, 2, &om) < 0)
			return -1;
	}
	if (oh > 23 || om > 59 || *i != n)
		return -1;
	*off = sign * (int)(oh * 3600 + om * 60);
	return 0;
}

/* parse_iso: ISO-8601 / RFC 3339 date-time; 0 or -1. */
static int parse_iso(const char *p, size_t n, double *out)
{
	size_t i = 0;
	unsigned y, mo, d, h, mi, s;
	double frac = 0;
	int off = 0;
	if (digits(p, n, &i, 4, &y) || lit(p, n, &i, '-') || digits(p, n, &i, 2, &mo) ||
	    lit(p, n, &i, '-') || digits(p, n, &i, 2, &d))
		return -1;
	if (i >= n || (p[i] != 'T' && p[i] != 't' && p[i] != ' '))
		return -1;
	i++;
	if (digits(p, n, &i, 2, &h) || lit(p, n, &i, ':') || digits(p, n, &i, 2, &mi) ||
	    lit(p, n, &i, ':') || digits(p, n, &i, 2, &s))
		return -1;
	if (i < n && p[i] == '.') {
		/* nine digits (ns) are plenty; more are checked, not used */
		uint64_t fv = 0, scale = 1;
		size_t start = ++i;
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
			if (i - start < 9) {
				fv = fv * 10 + (uint64_t)(p[i] - '0');
				scale *= 10;
			}
		}
		if (i == start)
			return -1;
		frac = (double)fv / (double)scale;
	}
	if (i < n) {
		if (p[i] == 'Z' || p[i] == 'z') {
			if (++i != n)
				return -1;
		} else if (p[i] == '+' || p[i] == '-') {
			if (parse_offset(p, n, &i, &off) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return combine(y, mo, d, h, mi, s, frac, off, out);
}

/* name_index: index of the 3-letter name at p[*i] in names (case-
 * insensitive), consuming it; -1 when none matches. */
static int name_index(const char *p, size_t n, size_t *i, const char (*names)[4], int count)
{
	if (n - *i < 3)
		return -1;
	for (int k = 0; k < count; k++) {
		if (strncasecmp(p + *i, names[k], 3) == 0) {
			*i += 3;
			return k;
		}
	}
	return -1;
}

/* parse_rfc822: "[Wdy, ]D[D] Mon YYYY HH:MM[:SS] [zone]"; 0 or -1. */
static int parse_rfc822(const char *p, size_t n, double *out)
{
	size_t i = 0;
	unsigned d, y, h, mi, s = 0;
	int off = 0, mo;
	if (n > 0 && p[0] > '9') {
		if (name_index(p, n, &i, wday_names, 7) < 0 || lit(p, n, &i, ',') ||
		    lit(p, n, &i, ' '))
			return -1;
	}
	if (digits(p, n, &i, 2, &d) < 0 && digits(p, n, &i, 1, &d) < 0)
		return -1;
	if (lit(p, n, &i, ' ') || (mo = name_index(p, n, &i, month_names, 12)) < 0 ||
	    lit(p, n, &i, ' ') || digits(p, n, &i, 4, &y) || lit(p, n, &i, ' ') ||
	    digits(p, n, &i, 2, &h) || lit(p, n, &i, ':') || digits(p, n, &i, 2, &mi))
		return -1;
	if (i < n && p[i] == ':' && (++i, digits(p, n, &i, 2, &s) < 0))
		return -1;
	if (i < n) {
		struct {
			const char *name;
			size_t len;
		} zones[] = {{" GMT", 4}, {" UTC", 4}, {" UT", 3}, {" Z", 2}};
		size_t k;
		for (k = 0; k < FB_ARRAY_LEN(zones); k++)
			if (n - i == zones[k].len &&
			    memcmp(p + i, zones[k].name, zones[k].len) == 0)
				break;
		if (k == FB_ARRAY_LEN(zones)) {
			if (p[i] != ' ' || ++i >= n || (p[i] != '+' && p[i] != '-') || n - i != 5 ||
			    parse_offset(p, n, &i, &off) < 0)
				return -1;
		}
	}
	return combine(y, (unsigned)mo + 1, d, h, mi, s, 0, off, out);
}

/* parse_epoch: "-?digits[.digits]" seconds; 0 or -1. */
static int parse_epoch(const char *p, size_t n, double *out)
{
	char tmp[64];
	size_t i = 0, nd = 0;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	if (p[0] == '-')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		nd++;
	if (nd == 0)
		return -1;
	if (i < n && p[i] == '.') {
		size_t start = ++i;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == start)
			return -1;
	}
	if (i != n)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	*out = strtod(tmp, NULL);
	return 0;
}

/* fmt_parse_timestamp: see fmt.h. Each grammar rejects the others' forms,
 * so trying them in turn is unambiguous. */
int fmt_parse_timestamp(const char *p, size_t n, double *out)
{
	if (parse_iso(p, n, out) == 0 || parse_rfc822(p, n, out) == 0 ||
	    parse_epoch(p, n, out) == 0)
		return 0;
	return -1;
}

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* fmt_b64_encode: see fmt.h. */
size_t fmt_b64_encode(char *out, const void *in, size_t n)
{
	const unsigned char *s = in;
	char *o = out;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = b64_chars[(v >> 6) & 63];
		*o++ = b64_chars[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64_chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = 0;
	return (size_t)(o - out);
}

/* b64_dec: 1 + the 6-bit value of each byte, 65 for '=', 0 when invalid
 * (bytes >= 0x80 default to 0). */
static const unsigned char b64_dec[256] = {
    0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,
    0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	0,  0,	63,
    0,	0,  0,	64, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 0,	0,  0,	65, 0,	0,  0,	1,
    2,	3,  4,	5,  6,	7,  8,	9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
    24, 25, 26, 0,  0,	0,  0,	0,  0,	27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39,
    40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 0,  0,	0,  0,	0,
};

/* fmt_b64_decode: see fmt.h. Reads each quad fully before writing its
 * three bytes, so decoding in place is safe. */
ssize_t fmt_b64_decode(void *out, const char *in, size_t n)
{
	unsigned char *o = out;
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		unsigned a = b64_dec[(unsigned char)in[i]] - 1u;
		unsigned b = b64_dec[(unsigned char)in[i + 1]] - 1u;
		unsigned c = b64_dec[(unsigned char)in[i + 2]] - 1u;
		unsigned d = b64_dec[(unsigned char)in[i + 3]] - 1u;
		/* invalid bytes wrapped to UINT_MAX, so one range test covers them */
		if (a > 63 || b > 63 || c > 64 || d > 64)
			return -1;
		if (c == 64 || d == 64) {
			/* padding: only in the final quad, "x=" never followed by a char */
			if (i + 4 != n || (c == 64 && d != 64))
				return -1;
		}
		uint32_t v = a << 18 | b << 12 | (c & 63) << 6 | (d & 63);
		*o++ = (unsigned char)(v >> 16);
		if (c != 64)
			*o++ = (unsigned char)(v >> 8);
		if (d != 64)
			*o++ = (unsigned char)v;
	}
	return (ssize_t)(o - (unsigned char *)out);
}

/* fmt_hex: see fmt.h. */
void fmt_hex(char *out, const void *in, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *s = in;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[s[i] >> 4];
		out[2 * i + 1] = hx[s[i] & 15];
	}
	out[2 * n] = 0;
}

/* fmt_uuid4: see fmt.h. */
void fmt_uuid4(char out[37])
{
	unsigned char r[16];
	char h[33];
	if (RAND_bytes(r, sizeof(r)) != 1)
		fb_die("RAND_bytes failed");
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	fmt_hex(h, r, sizeof(r));
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* xoshiro256** (Blackman & Vigna): state seeded once per process. */
static uint64_t rid_state[4];
static int rid_seeded;

static uint64_t rid_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rid_next(void)
{
	uint64_t *s = rid_state;
	uint64_t result = rid_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rid_rotl(s[3], 45);
	return result;
}

void fmt_request_id(char out[37])
{
	if (!rid_seeded) {
		if (RAND_bytes((unsigned char *)rid_state, sizeof(rid_state)) != 1)
			fb_die("RAND_bytes failed");
		rid_state[0] |= 1; /* never the all-zero state */
		rid_seeded = 1;
	}
	static const char hex[] = "0123456789abcdef";
	uint64_t a = rid_next(), b = rid_next();
	unsigned char u[16];
	for (int i = 0; i < 8; i++) {
		u[i] = (unsigned char)(a >> (8 * i));
		u[8 + i] = (unsigned char)(b >> (8 * i));
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[u[i] >> 4];
		*o++ = hex[u[i] & 15];
	}
	*o = 0;
}
