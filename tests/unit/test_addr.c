/* test_addr.c - loopback address allocation. */
#include "store/addr.h"
#include "test.h"
#include <stdlib.h>

static const struct db_migration *const migs[] = {addr_migrations, NULL};

TEST(addr_alloc_reuse_free)
{
	char *err = NULL;
	struct db *db = db_open(":memory:", migs, &err);
	CHECK(db != NULL);
	char a[16], b[16], c[16], again[16];
	CHECK(addr_alloc(db, "rds:1", a) == 0 && strcmp(a, "127.0.1.1") == 0);
	CHECK(addr_alloc(db, "rds:2", b) == 0 && strcmp(b, "127.0.1.2") == 0);
	CHECK(addr_alloc(db, "rds:1", again) == 0 && strcmp(again, a) == 0);
	CHECK(addr_free(db, "rds:1") == 0);
	CHECK(addr_lookup(db, "rds:1", again) == -1);
	CHECK(addr_alloc(db, "redis:1", c) == 0 && strcmp(c, "127.0.1.1") == 0);
	/* skip host .255 and .0 */
	for (int i = 3; i <= 254; i++) {
		char owner[32], out[16];
		snprintf(owner, sizeof(owner), "t:%d", i);
		CHECK(addr_alloc(db, owner, out) == 0);
	}
	char next[16];
	CHECK(addr_alloc(db, "t:next", next) == 0 && strcmp(next, "127.0.2.1") == 0);
	db_close(db);
}
