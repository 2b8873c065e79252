/* buf.c - growable byte buffer. */
#include "core/buf.h"
#include "core/log.h"
#include <stdarg.h>
#include <stdlib.h>

void buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap - b->n > extra)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->n <= extra) {
		if (cap > SIZE_MAX / 2)
			fb_die("buffer too large");
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p)
		fb_die("out of memory (buffer of %zu bytes)", cap);
	b->p = p;
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = 0;
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->n++] = c;
	b->p[b->n] = 0;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	buf_reserve(b, 64);
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (n < 0)
		fb_die("buf_printf: bad format");
	if ((size_t)n >= b->cap - b->n) {
		buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
	}
	b->n += (size_t)n;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->n) {
		buf_clear(b);
		return;
	}
	memmove(b->p, b->p + n, b->n - n);
	b->n -= n;
	b->p[b->n] = 0;
}

void buf_release(struct buf *b)
{
	free(b->p);
	*b = BUF_INIT;
}
