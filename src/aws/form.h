/* form.h - application/x-www-form-urlencoded bodies (the query and ec2
 * protocols) and the percent-encoding SigV4 and REST URIs use. */
#ifndef FB_FORM_H
#define FB_FORM_H
#include "core/compat.h"
#include "core/buf.h"
#include "core/str.h"
#include <sys/types.h>

/* form_next: takes the next "k=v" pair off the front of *cursor, setting
 * key and val to views of the still-encoded bytes (no allocation, nothing
 * decoded). A pair without '=' has an empty value; empty pairs ("a=1&&b=2",
 * a leading or trailing '&') are skipped. Returns 1 per pair, 0 when the
 * cursor is exhausted (it is then empty). */
int form_next(struct str *cursor, struct str *key, struct str *val);

/* url_decode: percent-decodes src[0..n) into dst (which may be src for in-
 * place decoding; it needs n bytes), turning '+' into ' ' when
 * plus_is_space. No NUL is added. Returns the decoded length, or -1 when a
 * '%' is not followed by two hex digits. */
ssize_t url_decode(char *dst, const char *src, size_t n, int plus_is_space);

/* url_encode: appends p[0..n) URI-encoded the SigV4 way: A-Z a-z 0-9 - _ .
 * ~ kept, '/' kept only when keep_slash, every other byte as %XX with
 * uppercase hex (so ' ' is %20, never '+'). */
void url_encode(struct buf *b, const char *p, size_t n, int keep_slash);
#endif
