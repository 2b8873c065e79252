/* fmt.h - wire forms of scalar values: timestamps, base64, hex, UUIDs, and
 * the UTF-8 sequence check the text codecs (json, xml) share. */
#ifndef FB_FMT_H
#define FB_FMT_H
#include "core/compat.h"
#include <sys/types.h>

/* fmt_iso8601: "2026-01-01T00:00:00.000Z" (UTC, milliseconds rounded to
 * nearest) into out. Times outside years 0000..9999 are clamped to them;
 * NaN prints the epoch. */
void fmt_iso8601(char out[32], double epoch_s);
/* fmt_rfc822: "Thu, 01 Jan 2026 00:00:00 GMT" (seconds truncated toward the
 * past), clamped like fmt_iso8601. */
void fmt_rfc822(char out[40], double epoch_s);
/* fmt_parse_timestamp: parses p[0..n) as one of
 *   ISO-8601 / RFC 3339: 2026-01-01T00:00:00[.fff...](Z|+hh:mm|-hhmm|none=UTC)
 *     ('t', 'z' and a space separator accepted too; seconds up to 60),
 *   RFC 822/1123: [Thu, ]1 Jan 2026 00:00[:00] (GMT|UT|UTC|Z|+hhmm),
 *   epoch seconds: -?digits[.digits]
 * into seconds since the epoch. Returns 0, or -1 when malformed or out of
 * range (day 31 of a 30-day month, hour 24, ...). */
int fmt_parse_timestamp(const char *p, size_t n, double *out);

/* fmt_b64_encode: standard alphabet, padded, NUL-terminated. out must hold
 * 4*((n+2)/3)+1 bytes. Returns the length written (without the NUL). */
size_t fmt_b64_encode(char *out, const void *in, size_t n);
/* fmt_b64_decode: strict standard padded base64 (length a multiple of 4,
 * '=' only as the last one or two characters, no whitespace, no URL
 * alphabet). Unused low bits of the last character are ignored, as Java's
 * decoder (and so AWS) does. out must hold 3*(n/4) bytes; it may equal in.
 * Returns the decoded length, or -1. */
ssize_t fmt_b64_decode(void *out, const char *in, size_t n);
/* fmt_hex: lowercase hex of in[0..n) plus a NUL; out holds 2n+1 bytes. */
void fmt_hex(char *out, const void *in, size_t n);
/* fmt_uuid4: a random RFC 4122 version-4 UUID, lowercase, NUL-terminated
 * (36 characters). Aborts if the OpenSSL CSPRNG fails. */
void fmt_uuid4(char out[37]);

/* fmt_utf8_seq: length (2..4) of the well-formed UTF-8 sequence at p, whose
 * first byte is >= 0x80, given n >= 1 bytes available; 0 when it is
 * ill-formed (stray continuation, overlong, surrogate, > U+10FFFF, cut
 * short). Inline because the codecs call it for every non-ASCII char. */
static inline size_t fmt_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0) /* overlong */
			return 0;
		if (c == 0xed && p[1] >= 0xa0) /* UTF-16 surrogate */
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90) /* overlong */
			return 0;
		if (c == 0xf4 && p[1] >= 0x90) /* > U+10FFFF */
			return 0;
		return 4;
	}
	return 0;
}

/* fmt_utf8_put: encodes code point cp (<= 0x10FFFF, not a surrogate) at
 * out; returns the byte count (1..4). */
static inline size_t fmt_utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
/* fmt_request_id: a v4-shaped UUID for x-amzn-RequestId. Not for secrets
 * or anything guessable-sensitive: a xoshiro256** stream seeded once from
 * RAND_bytes, about 40x cheaper than fmt_uuid4 on the request hot path. */
void fmt_request_id(char out[37]);

#endif
