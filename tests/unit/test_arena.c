/* test_arena.c - the request arena: alignment, growth past the first
 * block, big allocations, and reuse across resets. */
#include "core/arena.h"
#include "test.h"
#include <stdint.h>

TEST(arena_grows_resets_and_reuses)
{
	struct arena *a = arena_new(1024);
	for (int round = 0; round < 4; round++) {
		char *p[64];
		/* 64 x 100 bytes: several blocks; each stays intact */
		for (int i = 0; i < 64; i++) {
			p[i] = arena_alloc(a, 100);
			CHECK(((uintptr_t)p[i] & 15) == 0);
			memset(p[i], i, 100);
		}
		/* a big one gets its own block */
		char *big = arena_alloc(a, 5000);
		memset(big, 0xab, 5000);
		for (int i = 0; i < 64; i++)
			CHECK(p[i][0] == (char)i && p[i][99] == (char)i);
		CHECK((unsigned char)big[4999] == 0xab);
		CHECK_STREQ(arena_sprintf(a, "%s-%d", "x", round), round == 0	? "x-0"
								   : round == 1 ? "x-1"
								   : round == 2 ? "x-2"
										: "x-3");
		arena_reset(a);
	}
	char *z = arena_zalloc(a, 2000);
	for (int i = 0; i < 2000; i++)
		CHECK(z[i] == 0);
	arena_free(a);
}
