/* test_elasticache.c - the pure parts of the ElastiCache service: AWS's
 * identifier rule, the Redis 7 parameter table and its validation, and
 * node type memory. */
#include "aws/call.h"
#include "svc/elasticache/internal.h"
#include "test.h"

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
