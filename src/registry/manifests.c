/* manifests.c - manifests by tag or digest (GET, HEAD, PUT, DELETE) and
 * the tag list. Storage, validation and tag immutability are ECR's
 * (ecr_manifest_put), so a push through the registry and PutImage obey
 * the same rules; this file maps the outcomes to the registry's errors. */
#include "core/compat.h"
#include "aws/json.h"
#include "core/log.h"
#include "fb.h"
#include "registry/internal.h"
#include <stdlib.h>
#include <unistd.h>

int registry_body(struct registry_ctx *x, size_t max, struct str *out)
{
	const struct http_request *req = x->req;
	if (req->body_len > max)
		return -1;
	if (req->body_fd < 0) {
		*out = req->body;
		return 0;
	}
	char *p = arena_alloc(x->a, (size_t)req->body_len + 1);
	size_t done = 0;
	while (done < req->body_len) {
		ssize_t r =
		    pread(req->body_fd, p + done, (size_t)req->body_len - done, (off_t)done);
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	p[done] = 0;
	*out = (struct str){p, done};
	return 0;
}

/* put: PUT /v2/<name>/manifests/<ref>. */
static void put(struct registry_ctx *x, const char *ref)
{
	struct str body;
	struct ecr_put_result res;
	if (registry_body(x, REGISTRY_MANIFEST_MAX, &body) < 0) {
		registry_error(x, 400, "SIZE_INVALID", "manifests are limited to %u bytes",
			       REGISTRY_MANIFEST_MAX);
		return;
	}
	int by_digest = strncmp(ref, "sha256:", 7) == 0;
	if (!by_digest && !ecr_valid_tag(ref)) {
		registry_error(x, 400, "TAG_INVALID", "invalid tag '%s'", ref);
		return;
	}
	const struct http_header *ct = http_find_header(&x->req->h, "content-type");
	const char *mt = NULL;
	if (ct) { /* "type; charset=..." -> "type" */
		size_t n = 0;
		while (n < ct->value.n && ct->value.p[n] != ';' && ct->value.p[n] != ' ')
			n++;
		mt = arena_strndup(x->a, ct->value.p, n);
		/* generic types say nothing: let the document's mediaType decide */
		if (!strcmp(mt, "application/json") || !strcmp(mt, "application/octet-stream"))
			mt = NULL;
	}
	ecr_manifest_put(x->fb, x->a, &x->repo, body, mt, by_digest ? NULL : ref,
			 by_digest ? ref : NULL, 0, x->now_ms, &res);
	switch (res.status) {
	case ECR_PUT_OK:
	case ECR_PUT_EXISTS:
		x->resp->status = 201;
		registry_header(x, "Location", "/v2/%s/manifests/%s", x->name, res.digest);
		registry_header(x, "Docker-Content-Digest", "%s", res.digest);
		return;
	case ECR_PUT_DIGEST_MISMATCH:
		registry_error(x, 400, "DIGEST_INVALID",
			       "provided digest %s does not match the manifest's digest %s", ref,
			       res.digest);
		return;
	case ECR_PUT_INVALID:
		registry_error(x, 400, "MANIFEST_INVALID", "manifest invalid: %s", res.message);
		return;
	case ECR_PUT_TAG_INVALID:
		registry_error(x, 400, "TAG_INVALID", "invalid tag '%s'", ref);
		return;
	case ECR_PUT_TAG_IMMUTABLE:
		registry_error(
		    x, 400, "TAG_INVALID",
		    "The image tag '%s' already exists in the '%s' repository and cannot be "
		    "overwritten because the repository is immutable.",
		    ref, x->name);
		return;
	case ECR_PUT_BLOB_UNKNOWN:
	case ECR_PUT_MANIFEST_UNKNOWN:
		registry_error(x, 400, "MANIFEST_BLOB_UNKNOWN",
			       "manifest references %s %s, which is not in repository '%s'",
			       res.status == ECR_PUT_BLOB_UNKNOWN ? "blob" : "manifest",
			       res.missing, x->name);
		return;
	default:
		registry_error(x, 500, "UNKNOWN", "store error");
	}
}

/* del: DELETE by digest removes the image (and its tags); by tag only
 * the tag, as the distribution spec allows. */
static void del(struct registry_ctx *x, const char *ref, const struct ecr_image *img)
{
	int rc;
	if (strncmp(ref, "sha256:", 7) != 0) {
		rc = ecr_tag_delete(x->fb, x->repo.id, ref) < 0 ? SQLITE_ERROR : SQLITE_DONE;
	} else if (ecr_image_referenced(x->fb, x->repo.id, img->digest)) {
		registry_error(x, 409, "DENIED", "the image is referenced by a manifest list");
		return;
	} else {
		rc = ecr_image_delete(x->fb, img->id);
	}
	if (rc != SQLITE_DONE) {
		registry_error(x, 500, "UNKNOWN", "store error");
		return;
	}
	x->resp->status = 202;
}

void registry_manifest_op(struct registry_ctx *x, const char *ref)
{
	const char *m = arena_str(x->a, x->req->h.method);
	if (!strcmp(m, "PUT")) {
		put(x, ref);
		return;
	}
	int get = !strcmp(m, "GET"), head = !strcmp(m, "HEAD");
	if (!get && !head && strcmp(m, "DELETE")) {
		registry_error(x, 405, "UNSUPPORTED", "the operation is unsupported");
		return;
	}
	if (!strncmp(ref, "sha256:", 7) ? !ecr_valid_digest(ref) : !ecr_valid_tag(ref)) {
		registry_error(x, 404, "MANIFEST_UNKNOWN", "manifest unknown: bad reference '%s'",
			       ref);
		return;
	}
	struct ecr_image img;
	int found = ecr_image_get(x->fb, x->a, x->repo.id, ref, &img);
	if (found <= 0) {
		if (found < 0)
			registry_error(x, 500, "UNKNOWN", "store error");
		else
			registry_error(x, 404, "MANIFEST_UNKNOWN",
				       "Requested image not found: %s in repository '%s'", ref,
				       x->name);
		return;
	}
	if (!get && !head) {
		del(x, ref, &img);
		return;
	}
	x->resp->content_type = arena_strdup(x->a, img.media_type);
	registry_header(x, "Docker-Content-Digest", "%s", img.digest);
	registry_header(x, "ETag", "\"%s\"", img.digest);
	buf_append(&x->resp->body, img.manifest.p, img.manifest.n);
	if (get)
		ecr_image_pulled(x->fb, img.id, x->now_ms);
}

void registry_tags_list(struct registry_ctx *x)
{
	const char *nq = registry_query(x, "n"), *last = registry_query(x, "last");
	long long n = nq ? atoll(nq) : 1000;
	if (n < 0 || n > 1000)
		n = 1000;
	sqlite3_stmt *st = db_stmt(x->fb->db, "SELECT tag FROM ecr_image_tags WHERE repo_id = ?1 "
					      "AND tag > ?2 ORDER BY tag LIMIT ?3");
	sqlite3_bind_int64(st, 1, x->repo.id);
	sqlite3_bind_text(st, 2, last ? last : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, n + 1);
	struct buf *b = &x->resp->body;
	buf_puts(b, "{\"name\":");
	json_write_str(b, x->name, strlen(x->name));
	buf_puts(b, ",\"tags\":[");
	long long k = 0;
	const char *tag = NULL;
	int more = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (k == n) {
			more = 1;
			break;
		}
		tag = db_col_text(st, 0);
		if (k++)
			buf_putc(b, ',');
		json_write_str(b, tag, strlen(tag));
		tag = arena_strdup(x->a, tag);
	}
	sqlite3_reset(st);
	buf_puts(b, "]}");
	x->resp->content_type = "application/json";
	if (more && tag)
		registry_header(x, "Link", "</v2/%s/tags/list?n=%lld&last=%s>; rel=\"next\"",
				x->name, n, tag);
}
