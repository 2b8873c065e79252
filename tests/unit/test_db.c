/* test_db.c - the store's change counters (db_watch), which in-memory
 * caches in front of SQLite rely on to notice every write, its batched
 * transactions (db_batch_begin), and that a commit reaches the OS before
 * it returns although walbuf gathers its WAL writes. */
#include "store/db.h"
#include "test.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const struct db_migration db_test_steps[] = {
    {"dbtest", 1,
     "CREATE TABLE sm_a(id INTEGER PRIMARY KEY, v TEXT);"
     "CREATE TABLE sm_b(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;"
     "CREATE TABLE other(id INTEGER PRIMARY KEY, v TEXT);"
     /* checked only when the outermost transaction commits */
     "CREATE TABLE fk_child(id INTEGER PRIMARY KEY,"
     " parent INTEGER REFERENCES sm_a(id) DEFERRABLE INITIALLY DEFERRED);"},
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

static int count_rows(struct db *db, const char *sql)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

static int batch_opens;
static void count_open(void *arg)
{
	batch_opens++;
}

TEST(db_batch_shares_one_transaction_and_undoes_only_its_own)
{
	struct db *db = open_test_db();
	batch_opens = 0;
	db_batch_hook(db, count_open, NULL);
	CHECK(db_batch_begin(db) == SQLITE_OK);
	CHECK(db_in_tx(db) == 1);
	CHECK(db_batch_begin(db) == SQLITE_MISUSE); /* no nesting */
	CHECK(db_step_done(db_stmt(db, "INSERT INTO sm_a(v) VALUES ('kept')")) == SQLITE_DONE);
	CHECK(db_batch_commit(db) == SQLITE_OK);
	CHECK(db_in_tx(db) == 0);
	CHECK(db_unsynced(db) == 1); /* the open batch holds answers */
	CHECK(sqlite3_get_autocommit(db_sqlite(db)) == 0);
	CHECK(db_batch_begin(db) == SQLITE_OK); /* joins the same batch */
	CHECK(batch_opens == 1);
	CHECK(db_step_done(db_stmt(db, "INSERT INTO sm_a(v) VALUES ('undone')")) == SQLITE_DONE);
	db_batch_rollback(db);
	CHECK(db_batch_flush(db) == 0);
	CHECK(sqlite3_get_autocommit(db_sqlite(db)) == 1);
	CHECK(count_rows(db, "SELECT count(*) FROM sm_a WHERE v = 'kept'") == 1);
	CHECK(count_rows(db, "SELECT count(*) FROM sm_a WHERE v = 'undone'") == 0);
	CHECK(db_batch_begin(db) == SQLITE_OK); /* a new batch */
	CHECK(batch_opens == 2);
	db_batch_rollback(db);
	db_close(db);
}

TEST(db_batch_commits_before_any_other_writer)
{
	struct db *db = open_test_db();
	CHECK(db_batch_begin(db) == SQLITE_OK);
	CHECK(db_step_done(db_stmt(db, "INSERT INTO sm_a(v) VALUES ('b')")) == SQLITE_DONE);
	CHECK(db_batch_commit(db) == SQLITE_OK);
	/* a reader shares the batch (and sees it) */
	CHECK(count_rows(db, "SELECT count(*) FROM sm_a") == 1);
	CHECK(sqlite3_get_autocommit(db_sqlite(db)) == 0);
	/* a writer outside it gets the batch committed first, so its own
	 * statement autocommits (or its db_begin works) */
	sqlite3_stmt *st = db_stmt(db, "INSERT INTO other(v) VALUES ('o')");
	CHECK(sqlite3_get_autocommit(db_sqlite(db)) == 1);
	CHECK(db_step_done(st) == SQLITE_DONE);
	CHECK(db_batch_begin(db) == SQLITE_OK);
	CHECK(db_batch_commit(db) == SQLITE_OK);
	CHECK(db_begin(db) == SQLITE_OK); /* commits the batch, then begins */
	CHECK(db_in_tx(db) == 1);
	CHECK(db_batch_begin(db) == SQLITE_MISUSE); /* not inside a db_begin */
	CHECK(db_commit(db) == SQLITE_OK);
	CHECK(count_rows(db, "SELECT count(*) FROM other") == 1);
	db_close(db);
}

TEST(db_batch_rollback_moves_watch)
{
	struct db *db = open_test_db();
	int w = db_watch(db, "sm_");
	CHECK(db_batch_begin(db) == SQLITE_OK);
	CHECK(db_exec(db, "INSERT INTO sm_b(k, v) VALUES ('k', 'v')") == SQLITE_OK);
	uint64_t g = db_watch_gen(db, w); /* WITHOUT ROWID: no update hook */
	db_batch_rollback(db);
	CHECK(db_watch_gen(db, w) != g);
	CHECK(db_batch_flush(db) == 0);
	CHECK(count_rows(db, "SELECT count(*) FROM sm_b") == 0);
	db_close(db);
}

TEST(db_batch_commit_failure_is_reported_to_the_next_sync)
{
	struct db *db = open_test_db();
	int w = db_watch(db, "sm_");
	CHECK(db_batch_begin(db) == SQLITE_OK);
	CHECK(db_exec(db, "INSERT INTO sm_a(v) VALUES ('lost')") == SQLITE_OK);
	CHECK(db_batch_commit(db) == SQLITE_OK);
	CHECK(db_batch_begin(db) == SQLITE_OK);
	/* a dangling deferred reference: fine until the batch's COMMIT */
	CHECK(db_exec(db, "INSERT INTO fk_child(parent) VALUES (999)") == SQLITE_OK);
	CHECK(db_batch_commit(db) == SQLITE_OK);
	uint64_t g = db_watch_gen(db, w);
	CHECK(db_batch_flush(db) == -1);
	CHECK(db_watch_gen(db, w) != g);
	CHECK(sqlite3_get_autocommit(db_sqlite(db)) == 1);
	/* the whole batch is gone, and the next sync says so once */
	CHECK(count_rows(db, "SELECT count(*) FROM sm_a") == 0);
	CHECK(count_rows(db, "SELECT count(*) FROM fk_child") == 0);
	CHECK(db_sync_start(db) == -2);
	CHECK(db_sync_start(db) == -1);
	db_close(db);
}

/* copy_file: copies src to dst (a missing src makes no dst); 0 or -1. */
static int copy_file(const char *src, const char *dst)
{
	FILE *in = fopen(src, "rb");
	if (!in)
		return 0;
	FILE *out = fopen(dst, "wb");
	char buf[65536];
	size_t n;
	int ok = out != NULL;
	while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = fwrite(buf, 1, n, out) == n;
	fclose(in);
	if (out && fclose(out) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* crash_copy_rows: what a kill -9 right now would leave: the database
 * and its WAL as the OS has them, copied and opened by plain SQLite;
 * returns count(*) and total(length(v)) of sm_a. */
static void crash_copy_rows(const char *dir, long long *rows, long long *bytes)
{
	char src[512], dst[512];
	snprintf(src, sizeof(src), "%s/state.db", dir);
	snprintf(dst, sizeof(dst), "%s/copy.db", dir);
	CHECK(copy_file(src, dst) == 0);
	snprintf(src, sizeof(src), "%s/state.db-wal", dir);
	snprintf(dst, sizeof(dst), "%s/copy.db-wal", dir);
	CHECK(copy_file(src, dst) == 0);
	snprintf(dst, sizeof(dst), "%s/copy.db", dir);
	sqlite3 *c = NULL;
	sqlite3_stmt *st = NULL;
	*rows = *bytes = -1;
	CHECK(sqlite3_open(dst, &c) == SQLITE_OK);
	if (sqlite3_prepare_v2(c, "SELECT count(*), total(length(v)) FROM sm_a", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*rows = sqlite3_column_int64(st, 0);
		*bytes = (long long)sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(c);
	snprintf(src, sizeof(src), "%s/copy.db", dir);
	unlink(src);
	snprintf(src, sizeof(src), "%s/copy.db-wal", dir);
	unlink(src);
	snprintf(src, sizeof(src), "%s/copy.db-shm", dir);
	unlink(src);
}

TEST(db_commit_is_in_the_os_when_it_returns)
{
	/* walbuf gathers a commit's WAL writes in memory; the WAL hook must
	 * hand them to the OS before the COMMIT returns, for commits of one
	 * page, of several 128 KiB pieces, and of more than the buffer */
	char dir[] = "/tmp/fogbank-dbtest-XXXXXX", path[512];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.db", dir);
	char *err = NULL;
	struct db *db = db_open(path, db_test_migs, &err);
	CHECK(db != NULL);
	free(err);
	long long rows, bytes, want_rows = 0, want_bytes = 0;
	static const int sizes[] = {10, 300 * 1024, 3 * 1024 * 1024};
	for (size_t i = 0; db && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sqlite3_stmt *st = db_stmt(db, "INSERT INTO sm_a(v) VALUES (?1)");
		char *v = malloc((size_t)sizes[i]);
		memset(v, 'a' + (int)i, (size_t)sizes[i]);
		CHECK(db_begin(db) == SQLITE_OK);
		sqlite3_bind_text(st, 1, v, sizes[i], SQLITE_TRANSIENT);
		CHECK(db_step_done(st) == SQLITE_DONE);
		CHECK(db_commit(db) == SQLITE_OK);
		free(v);
		want_rows++;
		want_bytes += sizes[i];
		crash_copy_rows(dir, &rows, &bytes);
		CHECK(rows == want_rows);
		CHECK(bytes == want_bytes);
	}
	db_close(db);
	/* and a clean close leaves it all in the database file */
	crash_copy_rows(dir, &rows, &bytes);
	CHECK(rows == want_rows && bytes == want_bytes);
	unlink(path);
	rmdir(dir);
}
