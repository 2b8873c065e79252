/* gc.c - garbage collection of the blob store. Order matters for crash
 * safety: a row is deleted (committed) before its file, so a crash leaves
 * at worst a file without a row, which the orphan scan removes; never a
 * row without its file. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "registry/internal.h"
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#define GC_BATCH 512
#define GC_ORPHAN_AGE_MS 60000 /* files younger may belong to a request in flight */

/* stale_links: drops links nothing references that were not used within
 * the grace period. */
static void stale_links(struct fogbank *fb, int64_t cutoff)
{
	sqlite3_stmt *st = db_stmt(
	    fb->db, "DELETE FROM ecr_repo_blobs WHERE linked_ms < ?1 AND NOT EXISTS (SELECT 1 "
		    "FROM ecr_image_refs r JOIN ecr_images i ON i.id = r.image_id WHERE r.digest = "
		    "ecr_repo_blobs.digest AND i.repo_id = ecr_repo_blobs.repo_id)");
	sqlite3_bind_int64(st, 1, cutoff);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		log_error("registry: gc: %s", sqlite3_errstr(rc));
}

/* unlinked_blobs: deletes up to GC_BATCH blobs no repository links
 * (rows, then files). Returns how many. */
static int unlinked_blobs(struct fogbank *fb, struct arena *a, int64_t cutoff)
{
	const char *dg[GC_BATCH];
	int n = 0;
	if (db_begin(fb->db) != SQLITE_OK)
		return 0;
	sqlite3_stmt *st =
	    db_stmt(fb->db, "DELETE FROM ecr_blobs WHERE digest IN (SELECT digest "
			    "FROM ecr_blobs b WHERE b.created_ms < ?1 AND NOT "
			    "EXISTS (SELECT 1 FROM ecr_repo_blobs l WHERE l.digest = "
			    "b.digest) LIMIT ?2) RETURNING digest");
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int(st, 2, GC_BATCH);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < GC_BATCH)
		dg[n++] = arena_strdup(a, db_col_text(st, 0));
	sqlite3_reset(st);
	if ((rc != SQLITE_DONE && rc != SQLITE_ROW) || db_commit(fb->db) != SQLITE_OK) {
		db_rollback(fb->db);
		return 0;
	}
	if (n)
		db_sync(fb->db); /* were the delete lost, rows would name no file */
	for (int i = 0; i < n; i++) {
		char path[4096];
		registry_blob_file(fb, dg[i], path);
		if (unlink(path) < 0 && errno != ENOENT)
			log_warn("registry: gc: unlink %s: %s", path, strerror(errno));
	}
	if (n)
		log_info("registry: gc removed %d unreferenced blob(s)", n);
	return n;
}

/* stale_uploads: cancels uploads idle since before cutoff. */
static void stale_uploads(struct fogbank *fb, struct arena *a, int64_t cutoff)
{
	const char *ids[GC_BATCH];
	int n = 0;
	sqlite3_stmt *st = db_stmt(fb->db, "DELETE FROM ecr_uploads WHERE updated_ms < ?1 "
					   "RETURNING uuid");
	sqlite3_bind_int64(st, 1, cutoff);
	while (sqlite3_step(st) == SQLITE_ROW && n < GC_BATCH)
		ids[n++] = arena_strdup(a, db_col_text(st, 0));
	sqlite3_reset(st);
	char dir[4096], path[4200];
	if (registry_dir(fb, "uploads", dir) < 0)
		return;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ids[i]);
		unlink(path);
	}
}

/* has_row: 1 when sql (?1 = key) finds a row. */
static int has_row(struct fogbank *fb, const char *sql, const char *key)
{
	sqlite3_stmt *st = db_stmt(fb->db, sql);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc != SQLITE_DONE; /* errors count as "has": never delete on doubt */
}

static const char sql_upload_row[] = "SELECT 1 FROM ecr_uploads WHERE uuid = ?1";
static const char sql_blob_row[] = "SELECT 1 FROM ecr_blobs WHERE digest = 'sha256:' || ?1";

/* orphans: removes files in dir older than GC_ORPHAN_AGE_MS whose name
 * sql does not find. */
static void orphans(struct fogbank *fb, const char *dir, const char *sql, int64_t now_ms)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[4096 + 512];
	while ((e = readdir(d))) {
		struct stat sb;
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
		    now_ms - (int64_t)sb.st_mtime * 1000 < GC_ORPHAN_AGE_MS)
			continue;
		if (!has_row(fb, sql, e->d_name) && unlink(path) == 0)
			log_info("registry: gc removed orphan %s", path);
	}
	closedir(d);
}

/* blob_orphans: the orphan scan over every blob directory (once per run
 * of the daemon: only a crash leaves blob files without rows). */
static void blob_orphans(struct fogbank *fb, int64_t now_ms)
{
	char root[4096], sub[4096 + 8];
	if (registry_dir(fb, "blobs/sha256", root) < 0)
		return;
	DIR *d = opendir(root);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) != 2)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%.2s", root, e->d_name) >= (int)sizeof(sub))
			continue;
		orphans(fb, sub, sql_blob_row, now_ms);
	}
	closedir(d);
}

void registry_gc(struct fogbank *fb, int64_t now_ms)
{
	static int scanned;
	static int64_t first_ms;
	struct arena *a = arena_new(8192);
	int64_t cutoff = now_ms - registry_grace_ms();
	char dir[4096];
	stale_links(fb, cutoff);
	while (unlinked_blobs(fb, a, cutoff) == GC_BATCH)
		;
	stale_uploads(fb, a, cutoff);
	if (registry_dir(fb, "uploads", dir) == 0)
		orphans(fb, dir, sql_upload_row, now_ms);
	/* once per run, when files a crash left before this start are old
	 * enough to be told from uploads in flight */
	if (!first_ms)
		first_ms = now_ms;
	if (!scanned && now_ms - first_ms >= GC_ORPHAN_AGE_MS) {
		blob_orphans(fb, now_ms);
		scanned = 1;
	}
	arena_free(a);
}
