/* internal.h - what the files of src/registry share: the per-request
 * context, the registry's error format, query parameters, bodies in
 * memory or spooled, and the blob store on disk. */
#ifndef FB_REGISTRY_INTERNAL_H
#define FB_REGISTRY_INTERNAL_H
#include "core/compat.h"
#include "core/arena.h"
#include "registry/registry.h"
#include "svc/ecr/ecr.h"

#define REGISTRY_MANIFEST_MAX (4u << 20) /* ECR's manifest size limit */

/* One registry request. */
struct registry_ctx {
	struct fogbank *fb;
	struct arena *a;
	const struct http_request *req;
	struct http_response *resp;
	const char *account; /* from the token (or the defaults with --auth off) */
	const char *region;
	const char *name; /* repository name from the path */
	struct ecr_repo repo;
	int64_t now_ms;
};

/* --- registry.c --- */

/* registry_error: answers {"errors":[{"code","message"}]} with status. Returns -1. */
int registry_error(struct registry_ctx *x, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* registry_header: adds a response header (value formatted). */
void registry_header(struct registry_ctx *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* registry_query: the decoded value of query parameter key (arena), or NULL. */
const char *registry_query(struct registry_ctx *x, const char *key);
/* registry_repo: loads x->repo for x->name. Returns 0, or -1 having answered
 * NAME_UNKNOWN (or a 500). */
int registry_repo(struct registry_ctx *x);
/* registry_grace_ms: the collection grace period (FOGBANK_REGISTRY_GC_GRACE_SECONDS). */
int64_t registry_grace_ms(void);

/* --- blobs.c --- */

/* registry_blob_file: the blob file of a valid digest into out (PATH_MAX). */
void registry_blob_file(struct fogbank *fb, const char *digest, char out[4096]);
/* registry_dir: <data_dir>/registry/<sub> into out, created (0700) when
 * missing. Returns 0 or -1. */
int registry_dir(struct fogbank *fb, const char *sub, char out[4096]);
/* registry_fsync_dir: fsyncs the directory holding path. */
void registry_fsync_dir(const char *path);
/* registry_blob_linked: 1 and *size when digest is linked into x->repo (the link's
 * use time refreshed when it is getting old), 0 when not, -1 on error. */
int registry_blob_linked(struct registry_ctx *x, const char *digest, int64_t *size);
/* registry_blob_commit: moves the fsynced file tmp (size bytes, whose SHA-256
 * was verified to be digest) into the store and records the blob and its
 * link to x->repo, durably, deleting upload row upload_uuid (NULL: none)
 * in the same transaction. Returns 0, or -1 having answered an error. */
int registry_blob_commit(struct registry_ctx *x, const char *tmp, const char *digest, uint64_t size,
			 const char *upload_uuid);
/* registry_link: links an existing blob (digest, size) into x->repo. SQLITE_DONE
 * or an error code; inside the caller's transaction, if any. */
int registry_link(struct registry_ctx *x, const char *digest, uint64_t size);
/* registry_send_file: makes the response body [off, off+len) of fd (which it
 * takes over and closes). */
void registry_send_file(struct registry_ctx *x, int fd, uint64_t off, uint64_t len);
/* registry_blob_op: GET / HEAD / DELETE /v2/<name>/blobs/<digest>. */
void registry_blob_op(struct registry_ctx *x, const char *digest);

/* --- uploads.c --- */

/* registry_upload_op: the /v2/<name>/blobs/uploads/[<uuid>] endpoints; uuid is ""
 * for the collection (POST). */
void registry_upload_op(struct registry_ctx *x, const char *uuid);

/* --- manifests.c --- */

/* registry_manifest_op: GET / HEAD / PUT / DELETE /v2/<name>/manifests/<ref>. */
void registry_manifest_op(struct registry_ctx *x, const char *ref);
/* registry_tags_list: GET /v2/<name>/tags/list (n, last; Link for the next page). */
void registry_tags_list(struct registry_ctx *x);
/* registry_body: the request body in memory (reading a spooled one), at most
 * max bytes. Returns 0, or -1 when larger or unreadable. */
int registry_body(struct registry_ctx *x, size_t max, struct str *out);
#endif
