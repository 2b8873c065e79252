/* test.h - the unit-test harness (Redis testhelp.h-sized). A TEST registers
 * itself at load time; CHECK records a failure and goes on. */
#ifndef FB_TEST_H
#define FB_TEST_H
#include "core/compat.h"

typedef void test_fn(void);
void test_register(const char *name, test_fn *fn);
void test_fail(const char *file, int line, const char *expr);

#define TEST(name)                                                                                 \
	static void test_##name(void);                                                             \
	__attribute__((constructor)) static void test_reg_##name(void)                             \
	{                                                                                          \
		test_register(#name, test_##name);                                                 \
	}                                                                                          \
	static void test_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail(__FILE__, __LINE__, #cond);                                      \
	} while (0)
#define CHECK_STREQ(a, b) CHECK(strcmp((a), (b)) == 0)
#endif
