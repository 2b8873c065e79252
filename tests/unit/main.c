/* main.c - runs every registered unit test; prints "N passed, N failed". */
#include "core/compat.h"
#include "test.h"
#include <stdlib.h>

struct test_entry {
	const char *name;
	test_fn *fn;
};

static struct test_entry tests[512];
static size_t ntests;
static int cur_failed;

void test_register(const char *name, test_fn *fn)
{
	if (ntests < FB_ARRAY_LEN(tests))
		tests[ntests++] = (struct test_entry){name, fn};
}

void test_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, expr);
	cur_failed = 1;
}

int main(int argc, char **argv)
{
	size_t passed = 0, failed = 0;
	for (size_t i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		cur_failed = 0;
		tests[i].fn();
		if (cur_failed) {
			failed++;
			fprintf(stderr, "FAIL %s\n", tests[i].name);
		} else {
			passed++;
		}
	}
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}
