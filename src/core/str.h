/* str.h - length-carrying string views for wire data (never NUL-terminated
 * by contract; the bytes belong to whoever owns the buffer they point into). */
#ifndef FB_STR_H
#define FB_STR_H
#include "core/compat.h"
#include <strings.h>

struct str {
	const char *p;
	size_t n;
};

#define STR_LIT(s) ((struct str){(s), sizeof(s) - 1})
#define STR_NULL ((struct str){NULL, 0})

/* str_c: view of a NUL-terminated C string (NULL gives the empty view). */
static inline struct str str_c(const char *s)
{
	return (struct str){s, s ? strlen(s) : 0};
}

/* str_eq: 1 when a and b hold the same bytes. */
static inline int str_eq(struct str a, struct str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* str_eq_c: 1 when a equals the C string s. */
static inline int str_eq_c(struct str a, const char *s)
{
	return str_eq(a, str_c(s));
}

/* str_case_eq_c: ASCII case-insensitive compare with a C string. */
static inline int str_case_eq_c(struct str a, const char *s)
{
	size_t n = strlen(s);
	return a.n == n && strncasecmp(a.p, s, n) == 0;
}

/* str_has_prefix_c: 1 when a starts with the C string s. */
static inline int str_has_prefix_c(struct str a, const char *s)
{
	size_t n = strlen(s);
	return a.n >= n && memcmp(a.p, s, n) == 0;
}
#endif
