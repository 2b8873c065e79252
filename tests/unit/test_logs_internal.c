/* test_logs_internal.c - the logs entry points the daemon and other
 * services call without HTTP: logs_put_internal (the awslogs driver's
 * append path) and logs_retention_sweep (the timer), on an in-memory
 * store with the logs schema. */
#include "core/compat.h"
#include "fb.h"
#include "store/db.h"
#include "svc/logs/logs.h"
#include "test.h"
#include <stdlib.h>

#define DAY_MS 86400000LL

/* open_fb: a fogbank whose store holds only the logs schema. */
static struct fogbank open_fb(void)
{
	static const struct db_migration *const migs[] = {logs_migrations, NULL};
	char *err = NULL;
	struct fogbank fb = {.default_region = "us-east-1"};
	fb.db = db_open(":memory:", migs, &err);
	free(err);
	return fb;
}

/* count: the single integer an SQL query answers (-1 on no row). */
static int64_t count(struct fogbank *fb, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db_sqlite(fb->db), sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

TEST(logs_internal_put_creates_group_and_stream)
{
	struct fogbank fb = open_fb();
	CHECK(fb.db != NULL);
	int64_t ts[3] = {1000, 3000, 2000}; /* order is not required here */
	struct str msgs[3] = {STR_LIT("one"), STR_LIT("two"), STR_LIT("three")};
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/ecs/app", "ecs/web/t1", 1, ts,
				msgs, 3) == 0);
	CHECK(count(&fb, "SELECT count(*) FROM logs_groups WHERE name = '/ecs/app'") == 1);
	CHECK(count(&fb, "SELECT count(*) FROM logs_streams WHERE name = 'ecs/web/t1'") == 1);
	CHECK(count(&fb, "SELECT count(*) FROM logs_events") == 3);
	CHECK(count(&fb, "SELECT first_event FROM logs_streams") == 1000);
	CHECK(count(&fb, "SELECT last_event FROM logs_streams") == 3000);
	CHECK(count(&fb, "SELECT stored_bytes FROM logs_groups") == 11);
	/* a second stream in the same group, then more events in the first */
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/ecs/app", "ecs/web/t2", 0, ts,
				msgs, 1) == 0);
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/ecs/app", "ecs/web/t1", 0, ts,
				msgs, 2) == 0);
	CHECK(count(&fb, "SELECT count(*) FROM logs_groups") == 1);
	CHECK(count(&fb, "SELECT count(*) FROM logs_streams") == 2);
	CHECK(count(&fb, "SELECT count(*) FROM logs_events") == 6);
	CHECK(count(&fb, "SELECT seq FROM logs_streams WHERE name = 'ecs/web/t1'") == 2);
	/* the same names in another account are another group */
	CHECK(logs_put_internal(&fb, "111111111111", "us-east-1", "/ecs/app", "ecs/web/t1", 1, ts,
				msgs, 1) == 0);
	CHECK(count(&fb, "SELECT count(*) FROM logs_groups") == 2);
	db_close(fb.db);
}

TEST(logs_internal_missing_group_is_not_created_unless_asked)
{
	struct fogbank fb = open_fb();
	int64_t ts = 1;
	struct str m = STR_LIT("x");
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/nope", "s", 0, &ts, &m, 1) ==
	      -1);
	CHECK(count(&fb, "SELECT count(*) FROM logs_groups") == 0);
	CHECK(count(&fb, "SELECT count(*) FROM logs_streams") == 0);
	/* nothing left open: a later call works */
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/nope", "s", 1, &ts, &m, 1) ==
	      0);
	db_close(fb.db);
}

TEST(logs_internal_retention_sweep_deletes_expired)
{
	struct fogbank fb = open_fb();
	int64_t now = 100 * DAY_MS;
	int64_t ts[4] = {now - 3 * DAY_MS, now - 2 * DAY_MS, now - 1000, now};
	struct str msgs[4] = {STR_LIT("a"), STR_LIT("bb"), STR_LIT("ccc"), STR_LIT("dddd")};
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/r", "s", 1, ts, msgs, 4) == 0);
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/keep", "s", 1, ts, msgs, 4) ==
	      0);
	logs_retention_sweep(&fb, now); /* no retention anywhere: nothing goes */
	CHECK(count(&fb, "SELECT count(*) FROM logs_events") == 8);
	CHECK(db_exec(fb.db, "UPDATE logs_groups SET retention_days = 1 WHERE name = '/r'") ==
	      SQLITE_OK);
	logs_retention_sweep(&fb, now);
	CHECK(count(&fb, "SELECT count(*) FROM logs_events e JOIN logs_groups g ON g.id = "
			 "e.group_id WHERE g.name = '/r'") == 2);
	CHECK(count(&fb, "SELECT count(*) FROM logs_events e JOIN logs_groups g ON g.id = "
			 "e.group_id WHERE g.name = '/keep'") == 4);
	CHECK(count(&fb, "SELECT stored_bytes FROM logs_groups WHERE name = '/r'") == 7);
	logs_retention_sweep(&fb, now + DAY_MS + 1); /* a day later the rest has aged out */
	CHECK(count(&fb, "SELECT count(*) FROM logs_events e JOIN logs_groups g ON g.id = "
			 "e.group_id WHERE g.name = '/r'") == 0);
	CHECK(count(&fb, "SELECT stored_bytes FROM logs_groups WHERE name = '/r'") == 0);
	db_close(fb.db);
}

TEST(logs_internal_sweep_is_bounded_per_call)
{
	struct fogbank fb = open_fb();
	enum { N = 60000 };
	int64_t *ts = malloc(N * sizeof(*ts));
	struct str *msgs = malloc(N * sizeof(*msgs));
	for (int i = 0; i < N; i++) {
		ts[i] = i;
		msgs[i] = STR_LIT("m");
	}
	CHECK(logs_put_internal(&fb, "000000000000", "us-east-1", "/big", "s", 1, ts, msgs, N) ==
	      0);
	CHECK(db_exec(fb.db, "UPDATE logs_groups SET retention_days = 1") == SQLITE_OK);
	logs_retention_sweep(&fb, 10 * DAY_MS);
	int64_t left = count(&fb, "SELECT count(*) FROM logs_events");
	CHECK(left > 0 && left < N); /* one call deletes a bounded batch, oldest first */
	CHECK(count(&fb, "SELECT min(ts) FROM logs_events") == N - left);
	logs_retention_sweep(&fb, 10 * DAY_MS);
	CHECK(count(&fb, "SELECT count(*) FROM logs_events") == 0);
	free(ts);
	free(msgs);
	db_close(fb.db);
}
