/* buf.h - growable byte buffer on the heap (sds-like, but a plain struct).
 * Growth never fails: out of memory aborts. buf_release frees the bytes. */
#ifndef FB_BUF_H
#define FB_BUF_H
#include "core/compat.h"
#include "core/str.h"

struct buf {
	char *p;
	size_t n;
	size_t cap;
};

#define BUF_INIT ((struct buf){NULL, 0, 0})

/* buf_reserve: makes room for at least extra more bytes (plus a NUL). */
void buf_reserve(struct buf *b, size_t extra);
/* buf_append: appends n bytes; the buffer stays NUL-terminated. */
void buf_append(struct buf *b, const void *p, size_t n);
/* buf_puts: appends a C string. */
void buf_puts(struct buf *b, const char *s);
/* buf_putc: appends one byte. */
void buf_putc(struct buf *b, char c);
/* buf_printf: appends formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_consume: drops the first n bytes (memmove of the rest). */
void buf_consume(struct buf *b, size_t n);
/* buf_clear: empties the buffer, keeping its memory. */
static inline void buf_clear(struct buf *b)
{
	b->n = 0;
	if (b->p)
		b->p[0] = 0;
}
/* buf_release: frees the memory; the buffer is BUF_INIT afterwards. */
void buf_release(struct buf *b);
/* buf_str: view of the contents. */
static inline struct str buf_str(const struct buf *b)
{
	return (struct str){b->p, b->n};
}
#endif
