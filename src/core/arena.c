/* arena.c - bump allocator in a chain of blocks. */
#include "core/arena.h"
#include "core/log.h"
#include <stdarg.h>
#include <stdlib.h>

struct arena_block {
	struct arena_block *next;
	size_t cap, used;
	_Alignas(16) char data[];
};

struct arena {
	struct arena_block *head;  /* current block; first block is last in chain */
	struct arena_block *spare; /* a standard block kept by arena_reset, or NULL */
	size_t block_size;
};

static struct arena_block *block_new(size_t cap)
{
	struct arena_block *b = malloc(sizeof(*b) + cap);
	if (!b)
		fb_die("out of memory (arena block of %zu bytes)", cap);
	b->next = NULL;
	b->cap = cap;
	b->used = 0;
	return b;
}

struct arena *arena_new(size_t block_size)
{
	struct arena *a = malloc(sizeof(*a));
	if (!a)
		fb_die("out of memory (arena)");
	a->block_size = block_size < 256 ? 256 : block_size;
	a->head = block_new(a->block_size);
	a->spare = NULL;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *n = b->next;
		free(b);
		b = n;
	}
	free(a->spare);
	free(a);
}

void arena_reset(struct arena *a)
{
	while (a->head->next) {
		struct arena_block *n = a->head->next;
		/* one standard block is kept, so a request that outgrows the
		 * first block does not cost a malloc and a free every time */
		if (!a->spare && a->head->cap == a->block_size)
			a->spare = a->head;
		else
			free(a->head);
		a->head = n;
	}
	a->head->used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;
	if (need < n)
		fb_die("arena allocation overflow");
	struct arena_block *b = a->head;
	if (b->cap - b->used < need) {
		/* Big requests get their own block so small ones keep packing. */
		size_t cap = need > a->block_size / 2 ? need : a->block_size;
		struct arena_block *nb;
		if (cap == a->block_size && a->spare) {
			nb = a->spare;
			a->spare = NULL;
			nb->next = NULL;
			nb->used = 0;
		} else {
			nb = block_new(cap);
		}
		if (cap == need && b->used < b->cap / 2) {
			/* keep the roomy current block at the head */
			nb->next = b->next;
			b->next = nb;
			nb->used = need;
			return nb->data;
		}
		nb->next = b;
		a->head = b = nb;
	}
	void *p = b->data + b->used;
	b->used += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

void *arena_realloc(struct arena *a, void *p, size_t old_n, size_t new_n)
{
	if (new_n <= old_n)
		return p;
	void *q = arena_alloc(a, new_n);
	if (p && old_n)
		memcpy(q, p, old_n);
	return q;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_sprintf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fb_die("arena_sprintf: bad format");
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
