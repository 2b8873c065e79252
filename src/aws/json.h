/* json.h - RFC 8259 JSON <-> jv (the awsJson / restJson wire format).
 *
 * Parser choices, all deliberate:
 *   - strict grammar: no comments, no trailing commas, no leading zeros,
 *     no NaN/Infinity, nothing but whitespace after the value;
 *   - the input must be UTF-8: malformed UTF-8 and raw control characters
 *     inside strings are errors;
 *   - a \u escape naming a lone UTF-16 surrogate decodes to U+FFFD (a
 *     proper \uD83D\uDE00 pair decodes to one code point);
 *   - an integer that fits int64 is JV_INT; every other number is
 *     JV_DOUBLE ("-0" is JV_DOUBLE -0.0 so the sign survives); a number
 *     that overflows a double (1e400) is an error, underflow gives 0;
 *   - nesting deeper than JSON_MAX_DEPTH arrays/objects is an error;
 *   - duplicate keys are all kept in order; jv_get sees the last one.
 * Numbers go through strtod/snprintf, so the process must stay in the "C"
 * locale (fogbank never calls setlocale). */
#ifndef FB_JSON_H
#define FB_JSON_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "aws/value.h"

#define JSON_MAX_DEPTH 128

/* json_parse: parses p[0..n) (NUL not needed; never read past n) into a
 * tree allocated from a (strings copied, so p may die afterwards). Returns
 * the root, or NULL with *err (if err) set to a static message. */
struct jv *json_parse(struct arena *a, const char *p, size_t n, const char **err);

/* json_write: appends v as compact JSON (no spaces). A NULL v writes null,
 * as do NaN and infinite doubles. An integral double below 2^53 prints as
 * an integer (1.0 -> 1; -0.0 stays -0); any other the shortest of
 * %.15g..%.17g that reads back to the same value. Strings go through
 * json_write_str. Output is always valid JSON that json_parse accepts. */
void json_write(struct buf *b, const struct jv *v);

/* json_write_str: appends p[0..n) as a quoted JSON string: escapes '"',
 * '\\' and control characters (\n-style where one exists, else \u00XX),
 * passes well-formed UTF-8 through, and writes \ufffd for each byte that
 * is not part of a well-formed UTF-8 sequence. */
void json_write_str(struct buf *b, const char *p, size_t n);
#endif
