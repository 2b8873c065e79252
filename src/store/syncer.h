/* syncer.h - group commit beside the loop: one worker thread fdatasyncs
 * the store's write-ahead log while the loop goes on committing, so the
 * loop never waits for the disk to acknowledge a batch of writes. */
#ifndef FB_STORE_SYNCER_H
#define FB_STORE_SYNCER_H
#include "core/compat.h"

struct loop;
struct db;
struct db_syncer;

/* db_syncer_new: a syncer of <db> reporting to loop <l>. Aborts on out of
 * memory. Free it with db_syncer_free before db_close. */
struct db_syncer *db_syncer_new(struct loop *l, struct db *db);
/* db_syncer_start: makes every commit made so far durable on the worker
 * and then calls done(arg, 1) on the loop thread; at once (before
 * returning) when there is nothing to sync, and done(arg, 0) at once when
 * a batch failed to commit since the last sync (db_sync_start). One sync at a time: the caller waits for
 * done before it starts another. Dies when the fsync fails (as db_sync). */
void db_syncer_start(struct db_syncer *y, void (*done)(void *arg, int ok), void *arg);
/* db_syncer_free: waits for a running sync, calls its done, frees y
 * (NULL is fine). */
void db_syncer_free(struct db_syncer *y);
#endif
