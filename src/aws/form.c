/* form.c - form-body iteration and percent-encoding. */
#include "aws/form.h"

/* form_next: see form.h. */
int form_next(struct str *cursor, struct str *key, struct str *val)
{
	if (cursor->n == 0)
		return 0; /* also keeps NULL + 0 out of the pointer math below */
	const char *p = cursor->p, *end = p + cursor->n;
	while (p < end && *p == '&')
		p++;
	if (p >= end) {
		*cursor = (struct str){end, 0};
		return 0;
	}
	const char *amp = memchr(p, '&', (size_t)(end - p));
	const char *stop = amp ? amp : end;
	const char *eq = memchr(p, '=', (size_t)(stop - p));
	if (eq) {
		*key = (struct str){p, (size_t)(eq - p)};
		*val = (struct str){eq + 1, (size_t)(stop - eq - 1)};
	} else {
		*key = (struct str){p, (size_t)(stop - p)};
		*val = (struct str){stop, 0};
	}
	*cursor = (struct str){stop, (size_t)(end - stop)};
	return 1;
}

/* hexval: 0..15 for a hex digit, -1 otherwise. */
static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* url_decode: see form.h. The write index never passes the read index, so
 * dst == src is safe. */
ssize_t url_decode(char *dst, const char *src, size_t n, int plus_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			if (n - i < 3)
				return -1;
			int hi = hexval((unsigned char)src[i + 1]);
			int lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		dst[o++] = c;
	}
	return (ssize_t)o;
}

/* unreserved: RFC 3986 unreserved characters, the ones SigV4 keeps. */
static const unsigned char unreserved[256] = {
    ['-'] = 1, ['_'] = 1, ['.'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* url_encode: see form.h. Kept bytes are appended in runs. */
void url_encode(struct buf *b, const char *p, size_t n, int keep_slash)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t run = 0;
	if (n == 0)
		return;
	buf_reserve(b, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (unreserved[c] || (c == '/' && keep_slash))
			continue;
		buf_append(b, p + run, i - run);
		char esc[3] = {'%', hx[c >> 4], hx[c & 15]};
		buf_append(b, esc, 3);
		run = i + 1;
	}
	buf_append(b, p + run, n - run);
}
