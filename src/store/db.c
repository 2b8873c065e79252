/* db.c - SQLite state store. One connection, used only from the loop
 * thread; statements are prepared once and cached by SQL pointer. */
#include "store/db.h"
#include "core/log.h"
#include "store/walbuf.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define DB_STMT_SLOTS 512
#define DB_WATCH_MAX 8

struct db_stmt_slot {
	const char *sql; /* key: the caller's literal */
	sqlite3_stmt *st;
};

/* A change counter for the tables whose names start with prefix. */
struct db_watch {
	const char *prefix;
	size_t prefix_n;
	uint64_t gen;
};

struct db {
	sqlite3 *conn;
	int unsynced; /* a commit since the last db_sync */
	/* the batch (db_batch_begin): an open transaction shared by the
	 * batched transactions of one loop iteration */
	int batch_open;
	int batch_depth;  /* a batched transaction is open inside it */
	int batch_failed; /* a batch's COMMIT failed since db_sync_start */
	void (*on_batch)(void *arg);
	void *on_batch_arg;
	int wal_fd; /* db_wal_fd's descriptor, -1 until asked for */
	struct db *next_open;
	struct db_watch watch[DB_WATCH_MAX];
	size_t nwatch;
	struct db_stmt_slot stmts[DB_STMT_SLOTS];
};

static char *db_errdup(const char *what, sqlite3 *conn)
{
	const char *m = conn ? sqlite3_errmsg(conn) : "unknown error";
	size_t n = strlen(what) + strlen(m) + 3;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s: %s", what, m);
	return s;
}

/* update_cb: SQLite's update hook: a row of table changed; bumps the
 * counters watching it. Runs inside sqlite3_step on the loop thread. */
static void update_cb(void *arg, int op, const char *dbname, const char *table, sqlite3_int64 rowid)
{
	struct db *db = arg;
	for (size_t i = 0; i < db->nwatch; i++)
		if (strncmp(table, db->watch[i].prefix, db->watch[i].prefix_n) == 0)
			db->watch[i].gen++;
}

/* rollback_cb: a transaction was rolled back; whatever a watcher read
 * inside it may have been undone, so every counter moves. */
static void rollback_cb(void *arg)
{
	struct db *db = arg;
	for (size_t i = 0; i < db->nwatch; i++)
		db->watch[i].gen++;
}

/* commit_cb: SQLite's commit hook: a write transaction is committing.
 * With synchronous=NORMAL its WAL frames reach the OS, not the disk, so
 * the store owes a sync before anyone is told. Returns 0 (go on). */
static int commit_cb(void *arg)
{
	((struct db *)arg)->unsynced = 1;
	return 0;
}

/* The WAL size in frames past which a commit checkpoints (SQLite's own
 * default, which its default WAL hook applies and wal_cb replaces). */
#define DB_AUTOCHECKPOINT 1000

/* wal_file: the connection's WAL file object (walbuf's shim). */
static sqlite3_file *wal_file(sqlite3 *conn)
{
	sqlite3_file *wal = NULL;
	if (sqlite3_file_control(conn, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK)
		return NULL;
	return wal && wal->pMethods ? wal : NULL;
}

/* wal_cb: SQLite's WAL hook, run once a commit is written: the frames
 * walbuf gathered go to the OS now (so the commit survives kill -9 when
 * sqlite3_step returns), then the default hook's work: a passive
 * checkpoint once the WAL holds DB_AUTOCHECKPOINT frames. Returns
 * SQLITE_OK (a checkpoint that cannot finish is retried next time). */
static int wal_cb(void *arg, sqlite3 *conn, const char *name, int frames)
{
	(void)arg;
	walbuf_flush(wal_file(conn));
	if (frames >= DB_AUTOCHECKPOINT)
		sqlite3_wal_checkpoint_v2(conn, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/* every open database, for db_barrier */
static struct db *open_dbs;

/* migrate_component: applies one component's pending steps inside the
 * caller's transaction. 0, or -1 with *err set. */
static int migrate_component(struct db *db, const struct db_migration *steps, char **err)
{
	const char *component = steps[0].component;
	sqlite3_stmt *get = db_stmt(db, "SELECT version FROM schema_versions WHERE component = ?1");
	sqlite3_bind_text(get, 1, component, -1, SQLITE_STATIC);
	int have = 0;
	if (sqlite3_step(get) == SQLITE_ROW)
		have = sqlite3_column_int(get, 0);
	sqlite3_reset(get);
	for (const struct db_migration *m = steps; m->component; m++) {
		if (m->version <= have)
			continue;
		if (db_exec(db, m->sql) != SQLITE_OK) {
			*err = db_errdup(component, db->conn);
			return -1;
		}
		sqlite3_stmt *set = db_stmt(db, "INSERT INTO schema_versions(component, version) "
						"VALUES (?1, ?2) ON CONFLICT(component) "
						"DO UPDATE SET version = excluded.version");
		sqlite3_bind_text(set, 1, component, -1, SQLITE_STATIC);
		sqlite3_bind_int(set, 2, m->version);
		if (db_step_done(set) != SQLITE_DONE) {
			*err = db_errdup(component, db->conn);
			return -1;
		}
		log_info("store: migrated %s to version %d", component, m->version);
		have = m->version;
	}
	return 0;
}

struct db *db_open(const char *path, const struct db_migration *const *migrations, char **err)
{
	struct db *db = calloc(1, sizeof(*db));
	if (!db)
		fb_die("out of memory");
	*err = NULL;
	/* fogbank never reads SQLite's memory statistics; keeping them costs a
	 * global mutex and counters on every allocation. Only possible before
	 * the library initialises; later calls fail harmlessly. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	db->wal_fd = -1;
	if (sqlite3_open_v2(path, &db->conn,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    walbuf_vfs()) != SQLITE_OK) {
		*err = db_errdup(path, db->conn);
		db_close(db);
		return NULL;
	}
	/* before the first commit (the pragmas' CREATE TABLE below) */
	sqlite3_wal_hook(db->conn, wal_cb, db);
	/* WAL + synchronous=NORMAL + group commit: a COMMIT writes the WAL
	 * (which alone survives kill -9: the OS holds the pages) and db_sync
	 * fsyncs it once for every commit made since; the HTTP server holds
	 * each answer until then, so an acknowledged write also survives
	 * power loss, at one fsync per loop iteration instead of one per
	 * transaction. */
	/* locking_mode=EXCLUSIVE: fogbank is the only process that opens the
	 * database, so take the lock once instead of fcntl() per transaction
	 * (and WAL then needs no shared-memory file). */
	/* temp_store=MEMORY: a batched transaction's savepoint journal (the
	 * pages it changed, to undo it alone) stays in memory instead of
	 * spilling into a temp file: that file is never needed after a crash,
	 * and writing it cost more than the WAL itself. */
	if (db_exec(db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; "
			"PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
			"PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
			"CREATE TABLE IF NOT EXISTS schema_versions("
			" component TEXT PRIMARY KEY, version INTEGER NOT NULL)") != SQLITE_OK) {
		*err = db_errdup(path, db->conn);
		db_close(db);
		return NULL;
	}
	sqlite3_update_hook(db->conn, update_cb, db);
	sqlite3_rollback_hook(db->conn, rollback_cb, db);
	sqlite3_commit_hook(db->conn, commit_cb, db);
	db->next_open = open_dbs;
	open_dbs = db;
	/* All pending steps in one transaction: one fsync at first start, and
	 * a crash mid-way leaves the previous schema intact. */
	if (db_begin(db) != SQLITE_OK) {
		*err = db_errdup(path, db->conn);
		db_close(db);
		return NULL;
	}
	for (size_t i = 0; migrations && migrations[i]; i++) {
		if (migrations[i][0].component && migrate_component(db, migrations[i], err) < 0) {
			db_rollback(db);
			db_close(db);
			return NULL;
		}
	}
	if (db_commit(db) != SQLITE_OK) {
		*err = db_errdup(path, db->conn);
		db_rollback(db);
		db_close(db);
		return NULL;
	}
	db_sync(db);
	return db;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (struct db **pp = &open_dbs; *pp; pp = &(*pp)->next_open)
		if (*pp == db) {
			*pp = db->next_open;
			break;
		}
	db_sync(db);
	if (db->wal_fd >= 0)
		close(db->wal_fd);
	for (size_t i = 0; i < DB_STMT_SLOTS; i++)
		if (db->stmts[i].st)
			sqlite3_finalize(db->stmts[i].st);
	sqlite3_close(db->conn);
	free(db);
}

sqlite3 *db_sqlite(struct db *db)
{
	return db->conn;
}

static int batch_flush(struct db *db);

/* stmt_ready: hands out st; a write outside the batched transactions
 * must not join the batch (its own commit, and any rollback, are the
 * caller's), so the batch commits first. */
static sqlite3_stmt *stmt_ready(struct db *db, sqlite3_stmt *st)
{
	if (db->batch_open && !db->batch_depth && !sqlite3_stmt_readonly(st))
		batch_flush(db);
	return st;
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
	uintptr_t h = (uintptr_t)sql;
	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15ull;
	size_t i = (size_t)(h >> 40) % DB_STMT_SLOTS;
	for (size_t probe = 0; probe < DB_STMT_SLOTS; probe++, i = (i + 1) % DB_STMT_SLOTS) {
		struct db_stmt_slot *s = &db->stmts[i];
		if (s->sql == sql) {
			sqlite3_reset(s->st);
			sqlite3_clear_bindings(s->st);
			return stmt_ready(db, s->st);
		}
		if (!s->sql) {
			if (sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st,
					       NULL) != SQLITE_OK)
				fb_die("store: cannot prepare [%s]: %s", sql,
				       sqlite3_errmsg(db->conn));
			s->sql = sql;
			return stmt_ready(db, s->st);
		}
	}
	fb_die("store: statement cache full");
}

int db_watch(struct db *db, const char *prefix)
{
	for (size_t i = 0; i < db->nwatch; i++)
		if (strcmp(db->watch[i].prefix, prefix) == 0)
			return (int)i;
	if (db->nwatch == DB_WATCH_MAX)
		fb_die("store: too many table watchers");
	/* counters of different connections never coincide, so a cache that
	 * outlives its database cannot mistake a new one for it */
	static uint64_t opened;
	db->watch[db->nwatch] = (struct db_watch){prefix, strlen(prefix), ++opened << 40};
	return (int)db->nwatch++;
}

uint64_t db_watch_gen(const struct db *db, int watch)
{
	return db->watch[watch].gen;
}

int db_begin(struct db *db)
{
	batch_flush(db);
	return sqlite3_step(db_stmt(db, "BEGIN IMMEDIATE")) == SQLITE_DONE
		   ? SQLITE_OK
		   : sqlite3_errcode(db->conn);
}

int db_commit(struct db *db)
{
	int rc = sqlite3_step(db_stmt(db, "COMMIT"));
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		sqlite3_step(db_stmt(db, "ROLLBACK"));
}

int db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	batch_flush(db);
	int rc = sqlite3_exec(db->conn, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		log_error("store: %s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

int db_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc;
}

int db_unsynced(const struct db *db)
{
	return db->unsynced || db->batch_open;
}

/* sync_due: commits the batch; 1 when a commit is not yet on disk, 0
 * when none is, or when the database lives in memory (unit tests). */
static int sync_due(struct db *db)
{
	batch_flush(db);
	const char *path = sqlite3_db_filename(db->conn, "main");
	if (!path || !*path)
		db->unsynced = 0;
	return db->unsynced;
}

void db_sync(struct db *db)
{
	if (!sync_due(db))
		return;
	/* the WAL's own file object: its xSync is SQLite's fdatasync, which
	 * also syncs the directory the first time after creating the file */
	sqlite3_file *wal = wal_file(db->conn);
	if (!wal)
		fb_die("store: no write-ahead log to sync");
	int rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
	/* after a failed fsync the kernel may have dropped the dirty pages:
	 * nothing since the last sync can be vouched for (PostgreSQL's rule) */
	if (rc != SQLITE_OK)
		fb_die("store: fsync of the write-ahead log failed: %s", sqlite3_errstr(rc));
	db->unsynced = 0;
}

void db_barrier(void)
{
	for (struct db *db = open_dbs; db; db = db->next_open)
		db_sync(db);
}

int db_wal_fd(struct db *db)
{
	batch_flush(db); /* "the commits made before the call" include the batch */
	if (db->wal_fd >= 0)
		return db->wal_fd;
	/* fogbank's own descriptor of the same file: fdatasync flushes the
	 * file's pages whoever wrote them, and a worker can use it without
	 * touching SQLite's objects. The WAL is never deleted while the
	 * (exclusive) connection is open, so the file stays the same. */
	db_sync(db); /* the first sync of a new WAL also syncs its directory */
	const char *wal = sqlite3_filename_wal(sqlite3_db_filename(db->conn, "main"));
	db->wal_fd = wal ? open(wal, O_RDONLY | O_CLOEXEC) : -1;
	if (db->wal_fd < 0)
		fb_die("store: cannot open the write-ahead log: %s", strerror(errno));
	return db->wal_fd;
}

int db_sync_start(struct db *db)
{
	int due = sync_due(db);
	if (db->batch_failed) {
		db->batch_failed = 0;
		return -2;
	}
	if (!due)
		return -1;
	int fd = db_wal_fd(db);
	/* every frame committed so far was written (write(2) returned) before
	 * this point, so an fdatasync that starts later covers them all */
	db->unsynced = 0;
	return fd;
}

/* batch_flush: commits the open batch, when no batched transaction is
 * inside it. On failure (a full disk, an I/O error) the batch is rolled
 * back and remembered for db_sync_start, which reports it so that no
 * answer that saw the batch goes out. Returns 0, or -1 when it failed. */
static int batch_flush(struct db *db)
{
	if (!db->batch_open || db->batch_depth)
		return 0;
	db->batch_open = 0;
	int rc = sqlite3_step(db_stmt(db, "COMMIT"));
	if (rc == SQLITE_DONE)
		return 0;
	log_error("store: commit of a batch failed: %s", sqlite3_errmsg(db->conn));
	db_rollback(db);
	rollback_cb(db); /* ROLLBACK may not run the hook if SQLite already did */
	db->batch_failed = 1;
	return -1;
}

void db_batch_hook(struct db *db, void (*fn)(void *arg), void *arg)
{
	db->on_batch = fn;
	db->on_batch_arg = arg;
}

int db_batch_begin(struct db *db)
{
	if (db->batch_depth)
		return SQLITE_MISUSE; /* batched transactions do not nest */
	if (!db->batch_open) {
		if (!sqlite3_get_autocommit(db->conn))
			return SQLITE_MISUSE; /* inside a caller's db_begin */
		int rc = sqlite3_step(db_stmt(db, "BEGIN IMMEDIATE"));
		if (rc != SQLITE_DONE)
			return sqlite3_errcode(db->conn);
		db->batch_open = 1;
		if (db->on_batch)
			db->on_batch(db->on_batch_arg);
	}
	int rc = sqlite3_step(db_stmt(db, "SAVEPOINT batched"));
	if (rc != SQLITE_DONE) {
		rc = sqlite3_errcode(db->conn);
		batch_flush(db);
		return rc;
	}
	db->batch_depth = 1;
	return SQLITE_OK;
}

int db_batch_commit(struct db *db)
{
	int rc = sqlite3_step(db_stmt(db, "RELEASE batched"));
	if (rc != SQLITE_DONE) {
		rc = sqlite3_errcode(db->conn);
		db_batch_rollback(db);
		return rc;
	}
	db->batch_depth = 0;
	return SQLITE_OK;
}

void db_batch_rollback(struct db *db)
{
	if (!db->batch_depth)
		return;
	sqlite3_step(db_stmt(db, "ROLLBACK TO batched"));
	sqlite3_step(db_stmt(db, "RELEASE batched"));
	db->batch_depth = 0;
	/* the update hook saw changes that are now undone: caches filled
	 * since must not be trusted (no rollback hook runs for a savepoint) */
	rollback_cb(db);
}

int db_batch_flush(struct db *db)
{
	return batch_flush(db);
}

int db_in_tx(const struct db *db)
{
	return db->batch_depth || (!db->batch_open && !sqlite3_get_autocommit(db->conn));
}
