/* uploads.c - blob uploads: monolithic (POST or PUT with ?digest=),
 * chunked (POST, PATCH..., PUT ?digest=), cross-repository mount (POST
 * ?mount=&from=), status (GET) and cancel (DELETE).
 *
 * An upload in progress is the file <data_dir>/registry/uploads/<uuid>
 * plus an ecr_uploads row whose size is the acknowledged length: each
 * PATCH is fsynced before its size is committed and acknowledged, and
 * bytes past that size (a write a crash interrupted) are cut off on the
 * next access. The SHA-256 is kept running in memory while the chunks
 * arrive in order, and recomputed from the file otherwise (a restart). */
#include "core/compat.h"
#include "aws/fmt.h"
#include "core/log.h"
#include "fb.h"
#include "registry/internal.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (256 * 1024)
#define HASH_SLOTS 16

/* Running digests of recent uploads (loop thread only). */
static struct hash_slot {
	char uuid[40];
	EVP_MD_CTX *ctx;
	uint64_t hashed; /* bytes fed so far */
} hashes[HASH_SLOTS];
static unsigned hash_next;

/* hash_get: the running digest of uuid when it covers exactly at bytes,
 * else a fresh slot (reset) for uuid when at is 0, else NULL. */
static struct hash_slot *hash_get(const char *uuid, uint64_t at)
{
	for (int i = 0; i < HASH_SLOTS; i++)
		if (hashes[i].ctx && !strcmp(hashes[i].uuid, uuid)) {
			if (hashes[i].hashed == at)
				return &hashes[i];
			hashes[i].uuid[0] = 0;
		}
	if (at != 0)
		return NULL;
	struct hash_slot *h = &hashes[hash_next++ % HASH_SLOTS];
	if (!h->ctx && !(h->ctx = EVP_MD_CTX_new()))
		fb_die("registry: out of memory");
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		fb_die("registry: sha256 init failed");
	snprintf(h->uuid, sizeof(h->uuid), "%s", uuid);
	h->hashed = 0;
	return h;
}

/* hash_drop: forgets uuid's running digest. */
static void hash_drop(const char *uuid)
{
	for (int i = 0; i < HASH_SLOTS; i++)
		if (!strcmp(hashes[i].uuid, uuid))
			hashes[i].uuid[0] = 0;
}

/* digest_hex: finishes h into "sha256:<hex>" (out, 72 bytes). */
static void digest_hex(EVP_MD_CTX *ctx, char out[72])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32)
		fb_die("registry: sha256 failed");
	memcpy(out, "sha256:", 7);
	fmt_hex(out + 7, md, 32);
}

/* file_digest: SHA-256 of the first size bytes of fd. 0 or -1. */
static int file_digest(int fd, uint64_t size, char out[72])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *buf = malloc(COPY_CHUNK);
	if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		fb_die("registry: out of memory");
	uint64_t done = 0;
	while (done < size) {
		size_t want = size - done < COPY_CHUNK ? (size_t)(size - done) : COPY_CHUNK;
		ssize_t r = pread(fd, buf, want, (off_t)done);
		if (r <= 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		done += (uint64_t)r;
	}
	if (done == size)
		digest_hex(ctx, out);
	EVP_MD_CTX_free(ctx);
	free(buf);
	return done == size ? 0 : -1;
}

/* write_all: pwrite of n bytes at off. 0 or -1. */
static int write_all(int fd, const char *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* append_body: writes the request body to fd at offset at (feeding h
 * when not NULL) and fsyncs. Returns 0 or -1 (errno). */
static int append_body(const struct http_request *req, int fd, uint64_t at, EVP_MD_CTX *h)
{
	if (req->body_fd < 0) {
		if (write_all(fd, req->body.p, req->body.n, at) < 0)
			return -1;
		if (h)
			EVP_DigestUpdate(h, req->body.p, req->body.n);
		return fsync(fd);
	}
	char *buf = malloc(COPY_CHUNK);
	if (!buf)
		fb_die("registry: out of memory");
	uint64_t done = 0;
	int rc = 0;
	while (rc == 0 && done < req->body_len) {
		ssize_t r = pread(req->body_fd, buf, COPY_CHUNK, (off_t)done);
		if (r <= 0 || write_all(fd, buf, (size_t)r, at + done) < 0) {
			rc = -1;
			break;
		}
		if (h)
			EVP_DigestUpdate(h, buf, (size_t)r);
		done += (uint64_t)r;
	}
	free(buf);
	return rc == 0 ? fsync(fd) : -1;
}

/* upload_path: <data_dir>/registry/uploads/<name> into out. 0 or -1. */
static int upload_path(struct registry_ctx *x, const char *name, char out[4096])
{
	char dir[4096];
	if (registry_dir(x->fb, "uploads", dir) < 0)
		return -1;
	return snprintf(out, 4096, "%s/%s", dir, name) < 4096 ? 0 : -1;
}

/* created: answers 201 for a blob now in the repository. */
static void created(struct registry_ctx *x, const char *digest)
{
	x->resp->status = 201;
	registry_header(x, "Location", "/v2/%s/blobs/%s", x->name, digest);
	registry_header(x, "Docker-Content-Digest", "%s", digest);
}

/* monolithic: the whole blob is this request's body; verify and store. */
static void monolithic(struct registry_ctx *x, const char *digest)
{
	const struct http_request *req = x->req;
	char got[72], tmp[4096], name[64];
	if (req->body_fd >= 0 && req->body_sha256[0]) {
		snprintf(got, sizeof(got), "sha256:%s", req->body_sha256);
	} else if (req->body_fd >= 0) {
		if (file_digest(req->body_fd, req->body_len, got) < 0) {
			registry_error(x, 500, "UNKNOWN", "cannot read the upload");
			return;
		}
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
			fb_die("registry: out of memory");
		EVP_DigestUpdate(ctx, req->body.p, req->body.n);
		digest_hex(ctx, got);
		EVP_MD_CTX_free(ctx);
	}
	if (strcmp(got, digest) != 0) {
		registry_error(x, 400, "DIGEST_INVALID",
			       "provided digest %s does not match the uploaded content (%s)",
			       digest, got);
		return;
	}
	if (req->body_fd >= 0) { /* the spool becomes the blob: written once */
		if (fsync(req->body_fd) < 0 ||
		    registry_blob_commit(x, req->body_path, digest, req->body_len, NULL) < 0)
			return;
		if (req->body_taken)
			*req->body_taken = 1;
		created(x, digest);
		return;
	}
	char uuid[37];
	fmt_uuid4(uuid);
	snprintf(name, sizeof(name), "mono-%s", uuid);
	int fd = upload_path(x, name, tmp) == 0
		     ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
		     : -1;
	if (fd < 0 || append_body(req, fd, 0, NULL) < 0) {
		log_error("registry: cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		registry_error(x, 500, "UNKNOWN", "cannot store the blob");
		return;
	}
	close(fd);
	if (registry_blob_commit(x, tmp, digest, req->body.n, NULL) < 0)
		unlink(tmp);
	else
		created(x, digest);
}

/* mount: links blob digest from repository from (same account and
 * region) into x->repo. 1 when mounted (answered), 0 when not possible. */
static int mount(struct registry_ctx *x, const char *digest, const char *from)
{
	struct registry_ctx src = *x;
	int64_t size;
	if (!ecr_valid_digest(digest) ||
	    ecr_repo_get(x->fb, x->a, x->account, x->region, from, &src.repo) != 1 ||
	    registry_blob_linked(&src, digest, &size) != 1)
		return 0;
	if (registry_link(x, digest, (uint64_t)size) != SQLITE_DONE) {
		registry_error(x, 500, "UNKNOWN", "cannot record the blob");
		return 1;
	}
	created(x, digest);
	return 1;
}

/* progress: the headers of a 202/204 about upload uuid at size bytes. */
static void progress(struct registry_ctx *x, int status, const char *uuid, int64_t size)
{
	x->resp->status = status;
	registry_header(x, "Location", "/v2/%s/blobs/uploads/%s", x->name, uuid);
	registry_header(x, "Range", "0-%lld", (long long)(size > 0 ? size - 1 : 0));
	registry_header(x, "Docker-Upload-UUID", "%s", uuid);
}

/* start: POST /v2/<name>/blobs/uploads/. */
static void start(struct registry_ctx *x)
{
	const char *digest = registry_query(x, "digest"), *from = registry_query(x, "from");
	const char *mnt = registry_query(x, "mount");
	if (mnt && from && mount(x, mnt, from))
		return;
	if (digest) {
		if (!ecr_valid_digest(digest))
			registry_error(x, 400, "DIGEST_INVALID", "unsupported or malformed digest");
		else
			monolithic(x, digest);
		return;
	}
	char uuid[37];
	fmt_uuid4(uuid);
	sqlite3_stmt *st = db_stmt(x->fb->db, "INSERT INTO ecr_uploads(uuid, repo_id, size, "
					      "created_ms, updated_ms) VALUES(?1, ?2, 0, ?3, ?3)");
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, x->repo.id);
	sqlite3_bind_int64(st, 3, x->now_ms);
	if (db_step_done(st) != SQLITE_DONE) {
		registry_error(x, 500, "UNKNOWN", "cannot start the upload");
		return;
	}
	progress(x, 202, uuid, 0);
}

/* upload_size: the acknowledged size of upload uuid in x->repo, or -1
 * having answered BLOB_UPLOAD_UNKNOWN. */
static int64_t upload_size(struct registry_ctx *x, const char *uuid)
{
	sqlite3_stmt *st = db_stmt(x->fb->db, "SELECT size FROM ecr_uploads WHERE uuid = ?1 AND "
					      "repo_id = ?2");
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, x->repo.id);
	int64_t size = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (size < 0)
		registry_error(x, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
	return size;
}

/* drop_upload: deletes upload uuid (row and file). */
static void drop_upload(struct registry_ctx *x, const char *uuid)
{
	char path[4096];
	sqlite3_stmt *st = db_stmt(x->fb->db, "DELETE FROM ecr_uploads WHERE uuid = ?1");
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	db_step_done(st);
	if (upload_path(x, uuid, path) == 0)
		unlink(path);
	hash_drop(uuid);
}

/* append: adds this request's body to upload uuid (acknowledged size
 * *size, updated). Returns the open file (caller closes), or -1 having
 * answered an error. */
static int append(struct registry_ctx *x, const char *uuid, int64_t *size)
{
	char path[4096];
	const struct http_header *cr = http_find_header(&x->req->h, "content-range");
	if (cr && x->req->body_len) {
		/* "<start>-<end>": the chunk must continue where we are */
		char tmp[48];
		size_t n = cr->value.n < sizeof(tmp) - 1 ? cr->value.n : sizeof(tmp) - 1;
		memcpy(tmp, cr->value.p, n);
		tmp[n] = 0;
		const char *s = strncmp(tmp, "bytes ", 6) ? tmp : tmp + 6;
		if (strtoll(s, NULL, 10) != *size) {
			progress(x, 416, uuid, *size);
			registry_error(x, 416, "BLOB_UPLOAD_INVALID",
				       "Content-Range does not continue the upload at %lld",
				       (long long)*size);
			return -1;
		}
	}
	int fd =
	    upload_path(x, uuid, path) == 0 ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size < *size) {
		if (fd >= 0)
			close(fd);
		registry_error(x, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload data is gone");
		return -1;
	}
	if (sb.st_size > *size && ftruncate(fd, *size) < 0) /* unacknowledged bytes */
		goto fail;
	if (*size == 0) /* maybe just created: make its directory entry durable too */
		registry_fsync_dir(path);
	if (!x->req->body_len)
		return fd;
	struct hash_slot *h = hash_get(uuid, (uint64_t)*size);
	if (append_body(x->req, fd, (uint64_t)*size, h ? h->ctx : NULL) < 0)
		goto fail;
	*size += (int64_t)x->req->body_len;
	if (h)
		h->hashed = (uint64_t)*size;
	sqlite3_stmt *st = db_stmt(x->fb->db, "UPDATE ecr_uploads SET size = ?2, updated_ms = ?3 "
					      "WHERE uuid = ?1");
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, *size);
	sqlite3_bind_int64(st, 3, x->now_ms);
	if (db_step_done(st) == SQLITE_DONE)
		return fd;
fail:
	log_error("registry: upload %s: %s", uuid, strerror(errno));
	hash_drop(uuid);
	close(fd);
	registry_error(x, 500, "UNKNOWN", "cannot store the upload");
	return -1;
}

/* finish: PUT /v2/<name>/blobs/uploads/<uuid>?digest=. */
static void finish(struct registry_ctx *x, const char *uuid, int64_t size)
{
	const char *digest = registry_query(x, "digest");
	if (!ecr_valid_digest(digest)) {
		registry_error(x, 400, "DIGEST_INVALID", "a sha256 digest parameter is required");
		return;
	}
	int fd = append(x, uuid, &size);
	if (fd < 0)
		return;
	char got[72], path[4096];
	struct hash_slot *h = hash_get(uuid, (uint64_t)size);
	int ok = 0;
	if (h && size > 0) {
		digest_hex(h->ctx, got);
		ok = 1;
	} else {
		ok = file_digest(fd, (uint64_t)size, got) == 0;
	}
	hash_drop(uuid);
	close(fd);
	if (!ok) {
		registry_error(x, 500, "UNKNOWN", "cannot read the upload");
		return;
	}
	if (strcmp(got, digest) != 0) {
		drop_upload(x, uuid);
		registry_error(x, 400, "DIGEST_INVALID",
			       "provided digest %s does not match the uploaded content (%s)",
			       digest, got);
		return;
	}
	if (upload_path(x, uuid, path) == 0 &&
	    registry_blob_commit(x, path, digest, (uint64_t)size, uuid) == 0)
		created(x, digest);
}

void registry_upload_op(struct registry_ctx *x, const char *uuid)
{
	const char *m = arena_str(x->a, x->req->h.method);
	if (!*uuid) {
		if (!strcmp(m, "POST"))
			start(x);
		else
			registry_error(x, 405, "UNSUPPORTED", "the operation is unsupported");
		return;
	}
	if (strlen(uuid) != 36 || strspn(uuid, "0123456789abcdef-") != 36) {
		registry_error(x, 404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry");
		return;
	}
	int64_t size = upload_size(x, uuid);
	if (size < 0)
		return;
	if (!strcmp(m, "GET")) {
		progress(x, 204, uuid, size);
	} else if (!strcmp(m, "PATCH")) {
		int fd = append(x, uuid, &size);
		if (fd >= 0) {
			close(fd);
			progress(x, 202, uuid, size);
		}
	} else if (!strcmp(m, "PUT")) {
		finish(x, uuid, size);
	} else if (!strcmp(m, "DELETE")) {
		drop_upload(x, uuid);
		x->resp->status = 204;
	} else {
		registry_error(x, 405, "UNSUPPORTED", "the operation is unsupported");
	}
}
