/* test_elasticache.c - the pure parts of the ElastiCache service: AWS's
 * identifier rule, the Redis 7 parameter table and its validation, node
 * type memory, cluster-mode slot ranges, the automated snapshot schedule
 * and the sealing of auth tokens. */
#include "aws/call.h"
#include "svc/elasticache/internal.h"
#include "test.h"
#include <stdlib.h>
#include <unistd.h>

TEST(ec_valid_id)
{
	char a[] = "Orders-Cache", b[] = "1abc", c[] = "a--b", d[] = "abc-", e[] = "ok-1";
	CHECK(ec_valid_id(a, 50) && !strcmp(a, "orders-cache"));
	CHECK(!ec_valid_id(b, 50));
	CHECK(!ec_valid_id(c, 50));
	CHECK(!ec_valid_id(d, 50));
	CHECK(ec_valid_id(e, 50));
	CHECK(!ec_valid_id(e, 3));
}

/* check: ec_param_check's verdict on value for parameter name. */
static int check(const char *name, const char *value)
{
	struct arena *a = arena_new(4096);
	struct aws_call c = {.a = a};
	const struct ec_param_def *d = ec_param_def_find(name);
	int rc = d ? ec_param_check(&c, d, value) : -2;
	arena_free(a);
	return rc;
}

TEST(ec_param_check)
{
	CHECK(check("maxmemory-policy", "allkeys-lru") == 0);
	CHECK(check("maxmemory-policy", "noeviction") == 0);
	CHECK(check("maxmemory-policy", "lru") == -1);
	CHECK(check("timeout", "0") == 0);
	CHECK(check("timeout", "10") == -1); /* 0, or 20 and up */
	CHECK(check("timeout", "300") == 0);
	CHECK(check("timeout", "x") == -1);
	CHECK(check("list-max-listpack-size", "-5") == 0);
	CHECK(check("list-max-listpack-size", "-6") == -1);
	CHECK(check("slowlog-log-slower-than", "-1") == 0);
	CHECK(check("notify-keyspace-events", "KEA") == 0);
	CHECK(check("notify-keyspace-events", "KEAQ") == -1);
	CHECK(check("activedefrag", "yes") == 0);
	CHECK(check("activedefrag", "maybe") == -1);
	CHECK(check("maxclients", "10") == -1); /* not modifiable */
	CHECK(check("no-such-parameter", "1") == -2);
}

TEST(ec_param_table)
{
	size_t n;
	const struct ec_param_def *d = ec_param_defs(&n);
	CHECK(n > 40);
	for (size_t i = 0; i < n; i++) {
		CHECK(ec_param_def_find(d[i].name) == &d[i]);
		/* every default is itself valid, or the group could not be reset */
		if (d[i].modifiable)
			CHECK(check(d[i].name, d[i].def) == 0);
	}
	CHECK(ec_node_type_memory("cache.t4g.micro") == 536870912);
	CHECK(ec_node_type_memory("cache.unknown.size") == 0);
}

TEST(ec_slots)
{
	struct arena *a = arena_new(4096);
	CHECK_STREQ(ec_slots_even(a, 0, 3), "0-5460");
	CHECK_STREQ(ec_slots_even(a, 2, 3), "10922-16383");
	CHECK_STREQ(ec_slots_even(a, 0, 1), "0-16383");
	int16_t *map = arena_zalloc(a, EC_SLOTS * sizeof(*map));
	CHECK(ec_slots_mark("0-99,200", map, 1) == 0);
	CHECK(map[0] == 1 && map[99] == 1 && map[100] == 0 && map[200] == 1);
	CHECK(ec_slots_mark("50-60", map, 2) == -1);	   /* already shard 1's */
	CHECK(ec_slots_mark("16000-16384", map, 2) == -1); /* out of range */
	CHECK(ec_slots_mark("9-3", map, 2) == -1);
	CHECK(ec_slots_mark("x", map, 2) == -1);
	CHECK(ec_slots_mark("", map, 2) == -1);
	CHECK(ec_slots_mark("300-400", map, 2) == 0 && map[400] == 2);
	arena_free(a);
}

TEST(ec_autosnap_due)
{
	const int64_t day = 86400000, h = 3600000;
	/* created at 10:00 with the window at 06:30: the next day's window */
	CHECK(!ec_autosnap_due("06:30-07:30", 10 * h, 20 * h, day));
	CHECK(!ec_autosnap_due("06:30-07:30", 10 * h, day + 6 * h, day));
	CHECK(ec_autosnap_due("06:30-07:30", 10 * h, day + 7 * h, day));
	/* created before the window opens: that same day */
	CHECK(ec_autosnap_due("06:30-07:30", 5 * h, 7 * h, day));
	/* one a day: taken at 06:31, not again until tomorrow's window */
	CHECK(!ec_autosnap_due("06:30-07:30", day + 6 * h + 31 * 60000, day + 23 * h, day));
	/* a 4 s test day: the window's start scales with it */
	CHECK(ec_autosnap_due("00:00-01:00", 1000, 4000, 4000));
	CHECK(!ec_autosnap_due("00:00-01:00", 1000, 3999, 4000));
}

TEST(ec_seal)
{
	char dir[] = "/tmp/fb-ec-seal-XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/master.key", dir);
	FILE *f = fopen(path, "w");
	CHECK(f && fwrite("0123456789abcdef0123456789abcdef", 1, 32, f) == 32);
	if (f)
		fclose(f);
	struct arena *a = arena_new(4096);
	size_t n = 0;
	const char *aad = ec_seal_aad(a, "000000000000", "us-east-1", "cache");
	void *blob = ec_seal(a, dir, aad, "s3cret-token-0123456789", &n);
	CHECK(blob && n == 1 + 12 + 23 + 16);
	CHECK(blob && !memmem(blob, n, "s3cret", 6));
	char *back = ec_unseal(a, dir, aad, blob, n);
	CHECK(back && !strcmp(back, "s3cret-token-0123456789"));
	/* bound to its cluster: another name's aad does not open it */
	CHECK(!ec_unseal(a, dir, ec_seal_aad(a, "000000000000", "us-east-1", "other"), blob, n));
	((unsigned char *)blob)[20] ^= 1;
	CHECK(!ec_unseal(a, dir, aad, blob, n));
	ec_seal_reset();
	arena_free(a);
	unlink(path);
	rmdir(dir);
}
