/* db.h - fogbank's state store: one SQLite database (WAL,
 * synchronous=NORMAL) under the data dir, used only from the event loop
 * thread. A change survives kill -9 when db_commit (or a single
 * autocommit statement) returns, and power loss once db_sync has run:
 * the HTTP server holds every answer until then (group commit). */
#ifndef FB_DB_H
#define FB_DB_H
#include "core/compat.h"
#include <sqlite3.h>

struct db;

/* A versioned schema step owned by one component. Steps of a component run
 * in ascending version order, exactly once; db_open applies every pending
 * step of every component in one transaction. */
struct db_migration {
	const char *component; /* e.g. "kms" */
	int version;	       /* 1, 2, ... */
	const char *sql;       /* one or more statements */
};

/* db_open: opens (creating) path, sets WAL + synchronous=FULL + foreign
 * keys, applies pending migrations from every list in migrations (a
 * NULL-terminated array of arrays, each ended by a {NULL} row). Returns the
 * handle, or NULL with *err set to a malloc'd message (caller frees). */
struct db *db_open(const char *path, const struct db_migration *const *migrations, char **err);
/* db_close: finalizes cached statements and closes. NULL is fine. */
void db_close(struct db *db);
/* db_sqlite: the raw connection. */
sqlite3 *db_sqlite(struct db *db);
/* db_stmt: the prepared statement for sql, prepared once and cached by the
 * pointer value of sql (pass string literals); returned reset and with
 * bindings cleared. Aborts on a prepare error (a programming error). */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);
/* db_watch: registers (once per prefix) a change counter for the tables
 * whose names start with prefix (a string literal), for in-memory caches
 * in front of those tables. Returns its index for db_watch_gen. */
int db_watch(struct db *db, const char *prefix);
/* db_watch_gen: the counter of watch. It moves whenever a row of a
 * watched table is inserted, updated or deleted through this connection
 * (SQLite's update hook: not for WITHOUT ROWID tables, rows REPLACE
 * removes, or a DELETE without WHERE, so callers also invalidate
 * explicitly) and on every rollback.
 * A cache filled at one value is stale once it differs; counters of
 * different connections (or watches) never share values. */
uint64_t db_watch_gen(const struct db *db, int watch);
/* db_begin/db_commit/db_rollback: BEGIN IMMEDIATE / COMMIT / ROLLBACK.
 * Return SQLITE_OK or an sqlite error code. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
/* Batched transactions: the short transactions of one loop iteration
 * (S3's small PUTs, say) share one SQLite transaction, each inside a
 * savepoint, so their index pages are written to the WAL once per batch
 * instead of once each. The batch commits when the iteration ends (the
 * db_batch_hook's job), at the next sync, or before any other writer: a
 * db_begin, db_exec or a writing db_stmt outside a batched transaction.
 * Until then nothing of it survives kill -9, so, like an unsynced commit,
 * an open batch holds every answer (db_unsynced).
 *
 * db_batch_hook: fn(arg) runs whenever a batch opens; it must see that
 * db_batch_flush runs before the loop iteration ends. */
void db_batch_hook(struct db *db, void (*fn)(void *arg), void *arg);
/* db_batch_begin: opens a batched transaction (joining or opening the
 * batch). Not inside another transaction. SQLITE_OK or an error code. */
int db_batch_begin(struct db *db);
/* db_batch_commit: ends the batched transaction, keeping its changes in
 * the batch (on failure they are rolled back). SQLITE_OK or an error. */
int db_batch_commit(struct db *db);
/* db_batch_rollback: undoes the batched transaction (not the batch). */
void db_batch_rollback(struct db *db);
/* db_batch_flush: commits the open batch unless a batched transaction is
 * inside it. 0, or -1 when the COMMIT failed: the batch is rolled back
 * and the next db_sync_start says so. */
int db_batch_flush(struct db *db);
/* db_in_tx: 1 inside a db_begin or batched transaction (where a helper
 * should join its caller's transaction), 0 otherwise. */
int db_in_tx(const struct db *db);
/* db_unsynced: 1 when a change is not yet on disk: a commit since the
 * last db_sync, or an open batch. */
int db_unsynced(const struct db *db);
/* db_sync: makes every commit so far durable (one fdatasync of the WAL);
 * does nothing when there is none. Dies when the fsync fails. */
void db_sync(struct db *db);
/* db_barrier: db_sync of every open database. Call it before destroying
 * anything (files, directories, key material) that a commit just stopped
 * naming: if that commit were lost, the state would name what is gone. */
void db_barrier(void);
/* db_wal_fd: a read-only descriptor of the WAL (owned by db, valid until
 * db_close) that any thread may fdatasync to make the commits made before
 * the call durable: the barrier of a worker that destroys what a commit
 * stopped naming (S3's unlinks). */
int db_wal_fd(struct db *db);
/* db_sync_start: the first half of an asynchronous db_sync. Commits the
 * batch, clears the unsynced mark and returns the descriptor (db_wal_fd)
 * that a worker must fdatasync before any answer that saw the commits so
 * far goes out; -1 when there is nothing to sync; -2 when a batch failed
 * to commit since the last call (no answer that saw it may go out). Commits made after the call mark the
 * store unsynced again and need a later sync. */
int db_sync_start(struct db *db);
/* db_exec: runs statements with no results; SQLITE_OK or an error code. */
int db_exec(struct db *db, const char *sql);
/* db_step_done: steps a write statement to completion and resets it;
 * SQLITE_DONE on success, else the sqlite error code. */
int db_step_done(sqlite3_stmt *st);
/* db_col_text: column i as a NUL-terminated string, or NULL. */
static inline const char *db_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}
#endif
