/* fuzz_logs_filter.c - libFuzzer target for src/svc/logs/filter.c and
 * regex.c: the input is "pattern\0message" (no NUL: the whole input is
 * both). Parsing must not crash; a parsed filter must answer 0 or 1, the
 * same twice, and a blank pattern must match everything. */
#include "core/compat.h"
#include "core/arena.h"
#include "svc/logs/filter.h"
#include <stdlib.h>

/* LLVMFuzzerTestOneInput: one input; aborts on a broken invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	if (!a)
		a = arena_new(1 << 16);
	arena_reset(a);
	const char *p = (const char *)data, *nul = memchr(p, 0, size);
	size_t pn = nul ? (size_t)(nul - p) : size;
	const char *msg = nul ? nul + 1 : p;
	size_t mn = nul ? size - pn - 1 : size;
	const char *err = NULL;
	struct logs_filter *f = logs_filter_parse(a, p, pn, &err);
	if (!f)
		return err ? 0 : (abort(), 0);
	int r1 = logs_filter_match(f, a, msg, mn), r2 = logs_filter_match(f, a, msg, mn);
	if ((r1 != 0 && r1 != 1) || r1 != r2 || (logs_filter_matches_all(f) && !r1))
		abort();
	return 0;
}
