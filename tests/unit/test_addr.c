/* test_addr.c - loopback address allocation. */
#include "store/addr.h"
#include "test.h"
#include <stdlib.h>

static const struct db_migration *const migs[] = {addr_migrations, NULL};

/* octets: parses a dotted quad. */
static void octets(const char *a, int o[4])
{
	CHECK(sscanf(a, "%d.%d.%d.%d", &o[0], &o[1], &o[2], &o[3]) == 4);
}

TEST(addr_alloc_reuse_free)
{
	char *err = NULL;
	struct db *db = db_open(":memory:", migs, &err);
	CHECK(db != NULL);
	char a[16], b[16], c[16], again[16];
	int oa[4], ob[4];
	CHECK(addr_alloc(db, "rds:1", a) == 0);
	octets(a, oa);
	/* a random /24 of 127/8, never 127.0.x.x, first host .1 */
	CHECK(oa[0] == 127 && oa[1] >= 1 && oa[1] <= 254 && oa[3] == 1);
	CHECK(addr_alloc(db, "rds:2", b) == 0);
	octets(b, ob);
	CHECK(ob[1] == oa[1] && ob[2] == oa[2] && ob[3] == 2);
	CHECK(addr_alloc(db, "rds:1", again) == 0 && strcmp(again, a) == 0);
	CHECK(addr_free(db, "rds:1") == 0);
	CHECK(addr_lookup(db, "rds:1", again) == -1);
	CHECK(addr_alloc(db, "redis:1", c) == 0 && strcmp(c, a) == 0); /* lowest free again */
	/* the /24 fills up, then allocation moves on, skipping .255 and .0 */
	for (int i = 3; i <= 254; i++) {
		char owner[32], out[16];
		snprintf(owner, sizeof(owner), "t:%d", i);
		CHECK(addr_alloc(db, owner, out) == 0);
	}
	char next[16];
	int on[4];
	CHECK(addr_alloc(db, "t:next", next) == 0);
	octets(next, on);
	CHECK(on[3] == 1 && on[2] * 256 + on[1] * 65536 == oa[2] * 256 + oa[1] * 65536 + 256);
	db_close(db);
}

TEST(addr_base_differs_between_data_dirs)
{
	/* two stores pick their /24 independently: over a few tries at
	 * least two differ (65,024 possible bases each, so 8 equal picks are
	 * vanishingly unlikely) */
	char first[16] = "", addr[16];
	int differs = 0;
	for (int i = 0; i < 8 && !differs; i++) {
		char *err = NULL;
		struct db *db = db_open(":memory:", migs, &err);
		CHECK(db && addr_alloc(db, "x", addr) == 0);
		if (!first[0])
			memcpy(first, addr, sizeof(first));
		else
			differs = strcmp(first, addr) != 0;
		db_close(db);
	}
	CHECK(differs);
}
