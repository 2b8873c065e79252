/* walbuf.c - the WAL write-gathering VFS shim (see walbuf.h). */
#include "store/walbuf.h"
#include "core/log.h"
#include <stdlib.h>

/* Gathered bytes per WAL file; a longer run of writes goes out in pieces
 * of this size, a single bigger write straight through. */
#define WALBUF_CAP (1u << 20)
/* The most the unix VFS writes in one call: it masks a length with
 * 0x1ffff (its callers never write more), so a flush goes in pieces. */
#define WALBUF_PIECE 0x1ffff

/* A WAL file of the shim; the real VFS's file object follows it in the
 * same allocation (the shim's szOsFile covers both). */
struct walbuf_file {
	sqlite3_file base;
	sqlite3_file *real;
	char *buf; /* WALBUF_CAP bytes once the first write came */
	size_t n;  /* gathered bytes, for offsets off .. off+n */
	sqlite3_int64 off;
};

static sqlite3_vfs shim_vfs;
static sqlite3_vfs *real_vfs;
static const sqlite3_io_methods shim_methods;

/* real_of: the real file object of a shim file. */
static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct walbuf_file *)f)->real;
}

void walbuf_flush(sqlite3_file *f)
{
	if (!f || f->pMethods != &shim_methods)
		return;
	struct walbuf_file *w = (struct walbuf_file *)f;
	if (!w->n)
		return;
	for (size_t done = 0; done < w->n;) {
		size_t k = w->n - done < WALBUF_PIECE ? w->n - done : WALBUF_PIECE;
		int rc = w->real->pMethods->xWrite(w->real, w->buf + done, (int)k,
						   w->off + (sqlite3_int64)done);
		if (rc != SQLITE_OK)
			fb_die("store: write of the write-ahead log failed: %s",
			       sqlite3_errstr(rc));
		done += k;
	}
	w->n = 0;
}

/* shim_write: gathers a write that continues the gathered run; anything
 * else first sends the run on its way. */
static int shim_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off)
{
	struct walbuf_file *w = (struct walbuf_file *)f;
	if (w->n && (off != w->off + (sqlite3_int64)w->n || w->n + (size_t)amt > WALBUF_CAP))
		walbuf_flush(f);
	if ((size_t)amt > WALBUF_PIECE)
		return w->real->pMethods->xWrite(w->real, p, amt, off);
	if (!w->buf && !(w->buf = malloc(WALBUF_CAP)))
		return w->real->pMethods->xWrite(w->real, p, amt, off);
	if (!w->n)
		w->off = off;
	memcpy(w->buf + w->n, p, (size_t)amt);
	w->n += (size_t)amt;
	return SQLITE_OK;
}

/* The other methods pass through, after a flush wherever the real file's
 * contents or size could be seen. */
static int shim_close(sqlite3_file *f)
{
	struct walbuf_file *w = (struct walbuf_file *)f;
	walbuf_flush(f);
	free(w->buf);
	w->buf = NULL;
	return w->real->pMethods->xClose(w->real);
}

static int shim_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 off)
{
	walbuf_flush(f);
	return real_of(f)->pMethods->xRead(real_of(f), p, amt, off);
}

static int shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	walbuf_flush(f);
	return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int shim_sync(sqlite3_file *f, int flags)
{
	walbuf_flush(f);
	return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int shim_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	walbuf_flush(f);
	return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int shim_lock(sqlite3_file *f, int lock)
{
	return real_of(f)->pMethods->xLock(real_of(f), lock);
}

static int shim_unlock(sqlite3_file *f, int lock)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), lock);
}

static int shim_check_reserved(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int shim_file_control(sqlite3_file *f, int op, void *arg)
{
	walbuf_flush(f);
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int shim_sector_size(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int shim_device_characteristics(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

/* version 1: a WAL file is never memory-mapped nor asked for shared
 * memory (that is the database file's business) */
static const sqlite3_io_methods shim_methods = {
    1,
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_file_size,
    shim_lock,
    shim_unlock,
    shim_check_reserved,
    shim_file_control,
    shim_sector_size,
    shim_device_characteristics,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

/* shim_open: the real VFS opens every file; only a WAL gets wrapped. A
 * file that is not a WAL is the real VFS's object in place, so SQLite
 * talks to it directly. */
static int shim_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
		     int *out_flags)
{
	(void)vfs;
	if (!(flags & SQLITE_OPEN_WAL))
		return real_vfs->xOpen(real_vfs, name, f, flags, out_flags);
	struct walbuf_file *w = (struct walbuf_file *)f;
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	int rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out_flags);
	/* on failure SQLite calls no method of f, not even xClose */
	w->base.pMethods = rc == SQLITE_OK ? &shim_methods : NULL;
	return rc;
}

const char *walbuf_vfs(void)
{
	if (!real_vfs) {
		real_vfs = sqlite3_vfs_find(NULL);
		if (!real_vfs)
			fb_die("store: SQLite has no default VFS");
		/* everything but xOpen is the real VFS's, pAppData included:
		 * unix's functions find their settings there */
		shim_vfs = *real_vfs;
		shim_vfs.pNext = NULL;
		shim_vfs.zName = "fogbank-walbuf";
		shim_vfs.szOsFile = (int)sizeof(struct walbuf_file) + real_vfs->szOsFile;
		shim_vfs.xOpen = shim_open;
		if (sqlite3_vfs_register(&shim_vfs, 0) != SQLITE_OK)
			fb_die("store: cannot register the WAL VFS");
	}
	return shim_vfs.zName;
}
