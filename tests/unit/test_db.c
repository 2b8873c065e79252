/* test_db.c - the store's change counters (db_watch), which in-memory
 * caches in front of SQLite rely on to notice every write. */
#include "store/db.h"
#include "test.h"
#include <stdlib.h>

static const struct db_migration db_test_steps[] = {
    {"dbtest", 1,
     "CREATE TABLE sm_a(id INTEGER PRIMARY KEY, v TEXT);"
     "CREATE TABLE sm_b(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;"
     "CREATE TABLE other(id INTEGER PRIMARY KEY, v TEXT);"},
    {NULL},
};
static const struct db_migration *const db_test_migs[] = {db_test_steps, NULL};

static struct db *open_test_db(void)
{
	char *err = NULL;
	struct db *db = db_open(":memory:", db_test_migs, &err);
	CHECK(db != NULL);
	free(err);
	return db;
}

TEST(db_watch_counts_writes_to_its_tables)
{
	struct db *db = open_test_db();
	int w = db_watch(db, "sm_");
	CHECK(db_watch(db, "sm_") == w); /* one counter per prefix */
	uint64_t g = db_watch_gen(db, w);
	CHECK(db_exec(db, "INSERT INTO other(v) VALUES ('x')") == SQLITE_OK);
	CHECK(db_watch_gen(db, w) == g); /* not watched */
	CHECK(db_exec(db, "INSERT INTO sm_a(v) VALUES ('x')") == SQLITE_OK);
	CHECK(db_watch_gen(db, w) == g + 1);
	CHECK(db_exec(db, "UPDATE sm_a SET v = 'y'") == SQLITE_OK);
	CHECK(db_watch_gen(db, w) == g + 2);
	CHECK(db_exec(db, "DELETE FROM sm_a WHERE id > 0") == SQLITE_OK);
	CHECK(db_watch_gen(db, w) == g + 3);
	db_close(db);
}

TEST(db_watch_moves_on_rollback)
{
	struct db *db = open_test_db();
	int w = db_watch(db, "sm_");
	uint64_t g = db_watch_gen(db, w);
	/* a WITHOUT ROWID table escapes the update hook (callers invalidate
	 * explicitly), but a rollback still moves the counter: whatever was
	 * read inside the transaction may be gone */
	CHECK(db_begin(db) == SQLITE_OK);
	CHECK(db_exec(db, "INSERT INTO sm_b(k, v) VALUES ('k', 'v')") == SQLITE_OK);
	CHECK(db_watch_gen(db, w) == g);
	db_rollback(db);
	CHECK(db_watch_gen(db, w) != g);
	db_close(db);
}

TEST(db_watch_counters_differ_between_connections)
{
	struct db *a = open_test_db(), *b = open_test_db();
	uint64_t ga = db_watch_gen(a, db_watch(a, "sm_"));
	uint64_t gb = db_watch_gen(b, db_watch(b, "sm_"));
	CHECK(ga != gb);
	db_close(a);
	/* a connection opened where a closed one was must not look like it */
	struct db *c = open_test_db();
	CHECK(db_watch_gen(c, db_watch(c, "sm_")) != ga);
	db_close(b);
	db_close(c);
}
