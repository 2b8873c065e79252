/* arena.h - request-scoped bump allocator (nginx pools, h2o mem_pool).
 * Everything allocated from an arena is freed at once by arena_free or
 * arena_reset. Allocation never fails: out of memory aborts the process. */
#ifndef FB_ARENA_H
#define FB_ARENA_H
#include "core/compat.h"
#include "core/str.h"

struct arena;

/* arena_new: a new arena whose first block holds block_size bytes. */
struct arena *arena_new(size_t block_size);
/* arena_free: releases the arena and everything allocated from it. */
void arena_free(struct arena *a);
/* arena_reset: frees all but the first block (keeping one more standard
 * block aside for reuse); the arena is reusable. */
void arena_reset(struct arena *a);
/* arena_alloc: n bytes, 16-byte aligned, uninitialised. */
void *arena_alloc(struct arena *a, size_t n);
/* arena_zalloc: n zeroed bytes. */
void *arena_zalloc(struct arena *a, size_t n);
/* arena_realloc: grows p (old_n bytes, from this arena) to new_n bytes. */
void *arena_realloc(struct arena *a, void *p, size_t old_n, size_t new_n);
/* arena_strndup: NUL-terminated copy of n bytes. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* arena_strdup: NUL-terminated copy of a C string (NULL stays NULL). */
char *arena_strdup(struct arena *a, const char *s);
/* arena_sprintf: printf into the arena; returns the NUL-terminated text. */
char *arena_sprintf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* arena_str: NUL-terminated copy of a view. */
static inline char *arena_str(struct arena *a, struct str s)
{
	return arena_strndup(a, s.p, s.n);
}
#endif
