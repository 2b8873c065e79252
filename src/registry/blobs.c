/* blobs.c - the blob store on disk and the blob endpoints.
 *
 * A blob is the file <data_dir>/registry/blobs/sha256/<first 2 hex>/<hex>,
 * written once: the bytes are fsynced in a temp file, their SHA-256
 * checked against the digest, the file renamed into place and its
 * directory fsynced, and only then the ecr_blobs row committed, so a row
 * always has its file. A file without a row (a crash in between) is
 * removed by registry_gc. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "registry/internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int registry_dir(struct fogbank *fb, const char *sub, char out[4096])
{
	int n = snprintf(out, 4096, "%s/registry/%s", fb->data_dir ? fb->data_dir : ".", sub);
	if (n < 0 || n >= 4096)
		return -1;
	/* create each component below the data dir; a new directory's entry
	 * is made durable (its parent fsynced) before anything goes in it */
	size_t base = strlen(fb->data_dir ? fb->data_dir : ".");
	for (char *p = out + base + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char end = *p;
		*p = 0;
		int rc = mkdir(out, 0700);
		if (rc == 0)
			registry_fsync_dir(out);
		*p = end;
		if (rc < 0 && errno != EEXIST)
			return -1;
		if (!end)
			return 0;
	}
}

void registry_fsync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	if (n == 0 || n >= sizeof(dir))
		return;
	memcpy(dir, path, n);
	dir[n] = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

void registry_blob_file(struct fogbank *fb, const char *digest, char out[4096])
{
	const char *hex = digest + 7;
	snprintf(out, 4096, "%s/registry/blobs/sha256/%.2s/%s", fb->data_dir ? fb->data_dir : ".",
		 hex, hex);
}

int registry_blob_path(struct fogbank *fb, const char *digest, char *out, size_t cap)
{
	char p[4096];
	if (!ecr_valid_digest(digest))
		return -1;
	registry_blob_file(fb, digest, p);
	if (strlen(p) >= cap)
		return -1;
	memcpy(out, p, strlen(p) + 1);
	return 0;
}

int registry_blob_linked(struct registry_ctx *x, const char *digest, int64_t *size)
{
	sqlite3_stmt *st = db_stmt(x->fb->db, "SELECT b.size, l.linked_ms FROM ecr_repo_blobs l "
					      "JOIN ecr_blobs b ON b.digest = l.digest WHERE "
					      "l.repo_id = ?1 AND l.digest = ?2");
	sqlite3_bind_int64(st, 1, x->repo.id);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t linked = 0;
	if (rc == SQLITE_ROW) {
		*size = sqlite3_column_int64(st, 0);
		linked = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	/* a client checking a layer is about to reference it: keep it from
	 * collection (a write at most once per half grace period) */
	if (x->now_ms - linked > registry_grace_ms() / 2) {
		st = db_stmt(x->fb->db, "UPDATE ecr_repo_blobs SET linked_ms = ?3 WHERE repo_id = "
					"?1 AND digest = ?2");
		sqlite3_bind_int64(st, 1, x->repo.id);
		sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, x->now_ms);
		db_step_done(st);
	}
	return 1;
}

/* link_blob: records blob digest (size bytes) and links it to repo_id;
 * inside the caller's transaction. SQLITE_DONE or an error code. */
static int link_blob(struct fogbank *fb, int64_t repo_id, const char *digest, uint64_t size,
		     int64_t now_ms)
{
	sqlite3_stmt *st = db_stmt(fb->db, "INSERT OR IGNORE INTO ecr_blobs(digest, size, "
					   "created_ms) VALUES(?1, ?2, ?3)");
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)size);
	sqlite3_bind_int64(st, 3, now_ms);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return rc;
	st = db_stmt(fb->db, "INSERT INTO ecr_repo_blobs(repo_id, digest, linked_ms) VALUES(?1, "
			     "?2, ?3) ON CONFLICT(repo_id, digest) DO UPDATE SET linked_ms = "
			     "excluded.linked_ms");
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	return db_step_done(st);
}

int registry_link(struct registry_ctx *x, const char *digest, uint64_t size)
{
	return link_blob(x->fb, x->repo.id, digest, size, x->now_ms);
}

int registry_blob_commit(struct registry_ctx *x, const char *tmp, const char *digest, uint64_t size,
			 const char *upload_uuid)
{
	char dir[4096], path[4096];
	char sub[32];
	snprintf(sub, sizeof(sub), "blobs/sha256/%.2s", digest + 7);
	registry_blob_file(x->fb, digest, path);
	if (registry_dir(x->fb, sub, dir) < 0) {
		log_error("registry: cannot create %s: %s", dir, strerror(errno));
		return registry_error(x, 500, "UNKNOWN", "cannot store the blob");
	}
	struct stat sb;
	if (stat(path, &sb) == 0 && (uint64_t)sb.st_size == size) {
		unlink(tmp); /* same digest, same bytes: already stored */
	} else if (rename(tmp, path) < 0) {
		log_error("registry: rename %s -> %s: %s", tmp, path, strerror(errno));
		return registry_error(x, 500, "UNKNOWN", "cannot store the blob");
	}
	registry_fsync_dir(path);
	int rc = db_begin(x->fb->db);
	if (rc == SQLITE_OK && link_blob(x->fb, x->repo.id, digest, size, x->now_ms) != SQLITE_DONE)
		rc = SQLITE_ERROR;
	if (rc == SQLITE_OK && upload_uuid) {
		sqlite3_stmt *st = db_stmt(x->fb->db, "DELETE FROM ecr_uploads WHERE uuid = ?1");
		sqlite3_bind_text(st, 1, upload_uuid, -1, SQLITE_STATIC);
		if (db_step_done(st) != SQLITE_DONE)
			rc = SQLITE_ERROR;
	}
	if (rc == SQLITE_OK)
		rc = db_commit(x->fb->db);
	if (rc != SQLITE_OK) {
		db_rollback(x->fb->db);
		log_error("registry: store error recording %s", digest);
		return registry_error(x, 500, "UNKNOWN", "cannot record the blob");
	}
	return 0;
}

void registry_send_file(struct registry_ctx *x, int fd, uint64_t off, uint64_t len)
{
	/* the server sends the range with sendfile (none for HEAD) and closes fd */
	x->resp->body_fd = fd;
	x->resp->body_off = off;
	x->resp->body_len = len;
}

/* parse_range: "bytes=a-b" / "bytes=a-" against size into [*from, *to].
 * Returns 1 for a satisfiable range, 0 for none given or not understood
 * (send it all), -1 for an unsatisfiable one. */
static int parse_range(struct str v, uint64_t size, uint64_t *from, uint64_t *to)
{
	char buf[64];
	if (v.n >= sizeof(buf) || !str_has_prefix_c(v, "bytes="))
		return 0;
	memcpy(buf, v.p + 6, v.n - 6);
	buf[v.n - 6] = 0;
	char *dash = strchr(buf, '-'), *end;
	if (!dash || strchr(buf, ','))
		return 0;
	*dash = 0;
	if (!buf[0]) { /* suffix: the last N bytes */
		unsigned long long k = strtoull(dash + 1, &end, 10);
		if (*end || !k || !size)
			return -1;
		*from = k >= size ? 0 : size - k;
		*to = size - 1;
		return 1;
	}
	*from = strtoull(buf, &end, 10);
	if (*end)
		return 0;
	*to = dash[1] ? strtoull(dash + 1, &end, 10) : size - 1;
	if (dash[1] && *end)
		return 0;
	if (*from >= size || *to < *from)
		return -1;
	if (*to >= size)
		*to = size - 1;
	return 1;
}

void registry_blob_op(struct registry_ctx *x, const char *digest)
{
	const char *m = arena_str(x->a, x->req->h.method);
	int head = !strcmp(m, "HEAD");
	if (!strcmp(m, "DELETE")) {
		registry_error(x, 405, "UNSUPPORTED", "blobs are deleted by garbage collection");
		return;
	}
	if (!head && strcmp(m, "GET")) {
		registry_error(x, 405, "UNSUPPORTED", "the operation is unsupported");
		return;
	}
	if (!ecr_valid_digest(digest)) {
		registry_error(x, 400, "DIGEST_INVALID", "unsupported or malformed digest '%s'",
			       digest);
		return;
	}
	int64_t size = 0;
	int linked = registry_blob_linked(x, digest, &size);
	char path[4096];
	registry_blob_file(x->fb, digest, path);
	int fd = linked == 1 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0) {
		if (linked == 1)
			log_error("registry: blob %s recorded but unreadable: %s", digest,
				  strerror(errno));
		registry_error(x, 404, "BLOB_UNKNOWN", "blob unknown to registry");
		return;
	}
	uint64_t from = 0, to = size ? (uint64_t)size - 1 : 0;
	const struct http_header *rh = http_find_header(&x->req->h, "range");
	int ranged = rh ? parse_range(rh->value, (uint64_t)size, &from, &to) : 0;
	if (ranged < 0) {
		close(fd);
		registry_header(x, "Content-Range", "bytes */%lld", (long long)size);
		registry_error(x, 416, "RANGE_INVALID", "the requested range is not satisfiable");
		return;
	}
	x->resp->status = ranged ? 206 : 200;
	x->resp->content_type = "application/octet-stream";
	registry_header(x, "Docker-Content-Digest", "%s", digest);
	registry_header(x, "ETag", "\"%s\"", digest);
	registry_header(x, "Accept-Ranges", "bytes");
	registry_header(x, "Cache-Control", "max-age=31536000");
	if (ranged)
		registry_header(x, "Content-Range", "bytes %llu-%llu/%lld",
				(unsigned long long)from, (unsigned long long)to, (long long)size);
	registry_send_file(x, fd, from, size ? to - from + 1 : 0);
}
