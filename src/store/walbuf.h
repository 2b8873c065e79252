/* walbuf.h - a VFS shim that gathers the writes of one SQLite commit to its
 * write-ahead log into one pwrite. SQLite writes each WAL frame as two
 * calls (a 24-byte header, then the page), so a batch of small S3 PUTs
 * cost some fifty write(2)s per commit; the shim keeps contiguous writes
 * in memory and hands them to the real file at once. The store flushes it
 * when each commit ends (db.c's WAL hook), so a commit is in the OS (and
 * survives kill -9) when sqlite3_step returns, exactly as without it;
 * anything that reads, syncs, sizes or truncates the WAL flushes first.
 * Only the WAL goes through the shim: other files get the real VFS's own
 * file objects. Loop thread only, like the store. */
#ifndef FB_STORE_WALBUF_H
#define FB_STORE_WALBUF_H
#include "core/compat.h"
#include <sqlite3.h>

/* walbuf_vfs: registers the shim over the default VFS (once; not as the
 * default) and returns its name for sqlite3_open_v2. Aborts when SQLite
 * has no default VFS. */
const char *walbuf_vfs(void);
/* walbuf_flush: writes the gathered bytes of WAL file <f> (a file the shim
 * opened; others are left alone). Dies when the write fails: SQLite
 * already counts those frames as written, so the database can no longer
 * be vouched for (the rule of a failed fsync). */
void walbuf_flush(sqlite3_file *f);
#endif
