/* manifest.c - images as both the ECR API and the registry endpoint see
 * them: a manifest stored whole under the digest of its exact bytes, tags
 * pointing at images, and the references (layers, config, child manifests)
 * that must exist in the repository before a manifest is accepted. Tag
 * immutability is enforced here, so PutImage and `docker push` agree. */
#include "core/compat.h"
#include "aws/json.h"
#include "aws/fmt.h"
#include "core/log.h"
#include "fb.h"
#include "svc/ecr/ecr.h"
#include <openssl/evp.h>

#define MT_DOCKER_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

int ecr_valid_digest(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return 0;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int ecr_valid_repo_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int prev_alnum = 0; /* the previous character was [a-z0-9] */
	if (n < 2 || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (!alnum && (!prev_alnum || !strchr("._-/", ch)))
			return 0;
		prev_alnum = alnum;
	}
	return prev_alnum;
}

/* tag_char: [A-Za-z0-9_] plus, after the first, '.' and '-'. */
static int tag_char(char ch, int first)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	    ch == '_')
		return 1;
	return !first && (ch == '.' || ch == '-');
}

int ecr_valid_tag(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!tag_char(s[i], i == 0))
			return 0;
	return 1;
}

/* digest_of: "sha256:<hex>" of bytes m into out. */
static void digest_of(struct str m, char out[72])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_Digest(m.p, m.n, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		fb_die("ecr: sha256 failed");
	memcpy(out, "sha256:", 7);
	fmt_hex(out + 7, md, 32);
}

#define IMAGE_COLS                                                                                 \
	"SELECT i.id, i.digest, i.media_type, i.artifact_type, i.manifest, i.size, i.pushed_ms, "  \
	"i.pulled_ms FROM ecr_images i "

static const char sql_image_by_digest[] = IMAGE_COLS "WHERE i.repo_id = ?1 AND i.digest = ?2";
static const char sql_image_by_tag[] =
    IMAGE_COLS "JOIN ecr_image_tags t ON t.image_id = i.id WHERE t.repo_id = ?1 AND t.tag = ?2";

int ecr_image_get(struct fogbank *fb, struct arena *a, int64_t repo_id, const char *ref,
		  struct ecr_image *img)
{
	int by_digest = strncmp(ref, "sha256:", 7) == 0;
	sqlite3_stmt *st = db_stmt(fb->db, by_digest ? sql_image_by_digest : sql_image_by_tag);
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW) {
		found = 1;
		img->id = sqlite3_column_int64(st, 0);
		img->digest = arena_strdup(a, db_col_text(st, 1));
		img->media_type = arena_strdup(a, db_col_text(st, 2));
		img->artifact_type = arena_strdup(a, db_col_text(st, 3));
		size_t n = (size_t)sqlite3_column_bytes(st, 4);
		char *m = arena_alloc(a, n + 1);
		if (n)
			memcpy(m, sqlite3_column_blob(st, 4), n);
		m[n] = 0;
		img->manifest = (struct str){m, n};
		img->size = sqlite3_column_int64(st, 5);
		img->pushed_ms = sqlite3_column_int64(st, 6);
		img->pulled_ms = sqlite3_column_int64(st, 7);
	} else if (rc != SQLITE_DONE) {
		log_error("ecr: store error: %s", sqlite3_errstr(rc));
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

void ecr_image_pulled(struct fogbank *fb, int64_t image_id, int64_t now_ms)
{
	sqlite3_stmt *st = db_stmt(fb->db, "UPDATE ecr_images SET pulled_ms = ?2 WHERE id = ?1 "
					   "AND (pulled_ms IS NULL OR pulled_ms < ?2 - 60000)");
	sqlite3_bind_int64(st, 1, image_id);
	sqlite3_bind_int64(st, 2, now_ms);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		log_warn("ecr: cannot record pull time: %s", sqlite3_errstr(rc));
}

int ecr_image_referenced(struct fogbank *fb, int64_t repo_id, const char *digest)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT 1 FROM ecr_image_refs r JOIN ecr_images p ON "
					   "p.id = r.image_id WHERE r.digest = ?2 AND r.kind = 1 "
					   "AND p.repo_id = ?1 LIMIT 1");
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	int hit = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return hit;
}

int ecr_image_delete(struct fogbank *fb, int64_t image_id)
{
	/* tags and refs go by ON DELETE CASCADE; the repository keeps its
	 * blob links until collection finds them unreferenced */
	sqlite3_stmt *st = db_stmt(fb->db, "DELETE FROM ecr_images WHERE id = ?1");
	sqlite3_bind_int64(st, 1, image_id);
	return db_step_done(st);
}

int ecr_tag_delete(struct fogbank *fb, int64_t repo_id, const char *tag)
{
	sqlite3_stmt *st =
	    db_stmt(fb->db, "DELETE FROM ecr_image_tags WHERE repo_id = ?1 AND tag = ?2");
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db_sqlite(fb->db)) > 0;
}

/* A reference a manifest makes. */
struct mref {
	const char *digest;
	int kind;    /* 0 blob, 1 manifest */
	int foreign; /* a layer with urls: fetched elsewhere, not checked */
};

/* A parsed manifest. */
struct parsed {
	const char *media_type;
	const char *artifact_type;
	struct mref *refs;
	size_t nrefs;
	int64_t size;
	int is_index;
};

/* fail: sets an ECR_PUT_INVALID message; returns the status. */
static enum ecr_put_status fail(struct ecr_put_result *res, const char *msg)
{
	res->status = ECR_PUT_INVALID;
	res->message = msg;
	return ECR_PUT_INVALID;
}

/* add_ref: appends descriptor d (an object with digest and size) to p.
 * Returns 0, or -1 when the descriptor is malformed. */
static int add_ref(struct arena *a, struct parsed *p, const struct jv *d, int kind)
{
	const char *dg = jv_get_str(d, "digest");
	if (!d || d->type != JV_OBJECT || !ecr_valid_digest(dg) || jv_get_int(d, "size", -1) < 0)
		return -1;
	p->refs = arena_realloc(a, p->refs, p->nrefs * sizeof(*p->refs),
				(p->nrefs + 1) * sizeof(*p->refs));
	p->refs[p->nrefs++] = (struct mref){dg, kind, jv_len(jv_get(d, "urls")) > 0};
	return 0;
}

/* parse_manifest: checks the document's shape for its media type and
 * collects what it references. Returns ECR_PUT_OK or ECR_PUT_INVALID. */
static enum ecr_put_status parse_manifest(struct arena *a, struct str m, const char *media_type,
					  struct parsed *p, struct ecr_put_result *res)
{
	struct jv *doc = json_parse(a, m.p, m.n, NULL);
	if (!doc || doc->type != JV_OBJECT)
		return fail(res, "manifest is not a JSON object");
	const char *own = jv_get_str(doc, "mediaType");
	const char *mt = media_type && *media_type ? media_type : own;
	if (!mt) /* OCI allows leaving mediaType out: tell the kinds apart by shape */
		mt = jv_get(doc, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	if (own && strcmp(own, mt) != 0)
		return fail(res, "the manifest's mediaType does not match its content type");
	if (jv_get_int(doc, "schemaVersion", 0) != 2)
		return fail(res, "only schemaVersion 2 manifests are supported");
	p->media_type = arena_strdup(a, mt);
	if (!strcmp(mt, MT_DOCKER_V2) || !strcmp(mt, MT_OCI_MANIFEST)) {
		const struct jv *cfg = jv_get(doc, "config");
		const struct jv *layers = jv_get(doc, "layers");
		if (add_ref(a, p, cfg, 0) < 0)
			return fail(res, "config descriptor is missing or malformed");
		if (!layers || layers->type != JV_ARRAY)
			return fail(res, "layers must be an array");
		p->artifact_type = jv_get_str(cfg, "mediaType");
		for (size_t i = 0; i < jv_len(layers); i++) {
			if (add_ref(a, p, jv_at(layers, i), 0) < 0)
				return fail(res, "a layer descriptor is malformed");
			p->size += jv_get_int(jv_at(layers, i), "size", 0);
		}
		return ECR_PUT_OK;
	}
	if (!strcmp(mt, MT_DOCKER_LIST) || !strcmp(mt, MT_OCI_INDEX)) {
		const struct jv *list = jv_get(doc, "manifests");
		if (!list || list->type != JV_ARRAY)
			return fail(res, "manifests must be an array");
		for (size_t i = 0; i < jv_len(list); i++)
			if (add_ref(a, p, jv_at(list, i), 1) < 0)
				return fail(res, "a manifest descriptor is malformed");
		p->is_index = 1;
		return ECR_PUT_OK;
	}
	return fail(res, "unsupported manifest media type (schema 1 is not accepted)");
}

/* check_refs: every blob reference linked in the repository and every
 * child manifest an image of it; for an index, p->size becomes the largest
 * child's. Returns ECR_PUT_OK, an *_UNKNOWN status, or ECR_PUT_STORE_ERROR. */
static enum ecr_put_status check_refs(struct fogbank *fb, int64_t repo_id, struct parsed *p,
				      struct ecr_put_result *res)
{
	for (size_t i = 0; i < p->nrefs; i++) {
		const struct mref *r = &p->refs[i];
		if (r->foreign)
			continue;
		sqlite3_stmt *st =
		    r->kind ? db_stmt(fb->db, "SELECT size FROM ecr_images WHERE repo_id = ?1 AND "
					      "digest = ?2")
			    : db_stmt(fb->db, "SELECT 0 FROM ecr_repo_blobs WHERE repo_id = ?1 AND "
					      "digest = ?2");
		sqlite3_bind_int64(st, 1, repo_id);
		sqlite3_bind_text(st, 2, r->digest, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		int64_t sz = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return ECR_PUT_STORE_ERROR;
		if (rc == SQLITE_DONE) {
			res->missing = r->digest;
			return r->kind ? ECR_PUT_MANIFEST_UNKNOWN : ECR_PUT_BLOB_UNKNOWN;
		}
		if (r->kind && sz > p->size)
			p->size = sz;
	}
	return ECR_PUT_OK;
}

/* insert_image: the image row and its references (refreshing blob links
 * so collection leaves them be). Returns the new id, or -1. */
static int64_t insert_image(struct fogbank *fb, int64_t repo_id, struct str m, const char *digest,
			    const struct parsed *p, int64_t now_ms)
{
	sqlite3_stmt *st = db_stmt(fb->db, "INSERT INTO ecr_images(repo_id, digest, media_type, "
					   "artifact_type, manifest, size, pushed_ms) VALUES(?1, "
					   "?2, ?3, ?4, ?5, ?6, ?7)");
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->media_type, -1, SQLITE_STATIC);
	if (p->artifact_type)
		sqlite3_bind_text(st, 4, p->artifact_type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, m.p, (int)m.n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, p->size);
	sqlite3_bind_int64(st, 7, now_ms);
	if (db_step_done(st) != SQLITE_DONE)
		return -1;
	int64_t id = sqlite3_last_insert_rowid(db_sqlite(fb->db));
	for (size_t i = 0; i < p->nrefs; i++) {
		const struct mref *r = &p->refs[i];
		st = db_stmt(fb->db, "INSERT OR IGNORE INTO ecr_image_refs(image_id, digest, kind) "
				     "VALUES(?1, ?2, ?3)");
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, r->digest, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, r->kind);
		if (db_step_done(st) != SQLITE_DONE)
			return -1;
		if (r->kind || r->foreign)
			continue;
		st = db_stmt(fb->db, "UPDATE ecr_repo_blobs SET linked_ms = ?3 WHERE repo_id = ?1 "
				     "AND digest = ?2");
		sqlite3_bind_int64(st, 1, repo_id);
		sqlite3_bind_text(st, 2, r->digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms);
		if (db_step_done(st) != SQLITE_DONE)
			return -1;
	}
	return id;
}

/* tag_owner: the image id tag points at in repo_id, 0 when none, -1 on error. */
static int64_t tag_owner(struct fogbank *fb, int64_t repo_id, const char *tag)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT image_id FROM ecr_image_tags WHERE repo_id = "
					   "?1 AND tag = ?2");
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st);
	return id;
}

/* store: the transaction body of ecr_manifest_put. */
static enum ecr_put_status store(struct fogbank *fb, struct arena *a, const struct ecr_repo *r,
				 struct str m, const char *tag, int exists_is_error, int64_t now_ms,
				 struct parsed *p, struct ecr_put_result *res)
{
	enum ecr_put_status s = check_refs(fb, r->id, p, res);
	if (s != ECR_PUT_OK)
		return s;
	struct ecr_image cur;
	int have = ecr_image_get(fb, a, r->id, res->digest, &cur);
	int64_t owner = tag ? tag_owner(fb, r->id, tag) : 0;
	if (have < 0 || owner < 0)
		return ECR_PUT_STORE_ERROR;
	if (have && (!tag || owner == cur.id)) /* nothing would change */
		return exists_is_error ? ECR_PUT_EXISTS : ECR_PUT_OK;
	if (owner && r->immutable)
		return ECR_PUT_TAG_IMMUTABLE;
	int64_t id = have ? cur.id : insert_image(fb, r->id, m, res->digest, p, now_ms);
	if (id < 0)
		return ECR_PUT_STORE_ERROR;
	if (tag) {
		sqlite3_stmt *st =
		    db_stmt(fb->db, "INSERT INTO ecr_image_tags(repo_id, tag, "
				    "image_id) VALUES(?1, ?2, ?3) ON CONFLICT(repo_id, "
				    "tag) DO UPDATE SET image_id = excluded.image_id");
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, id);
		if (db_step_done(st) != SQLITE_DONE)
			return ECR_PUT_STORE_ERROR;
	}
	return ECR_PUT_OK;
}

enum ecr_put_status ecr_manifest_put(struct fogbank *fb, struct arena *a, const struct ecr_repo *r,
				     struct str manifest, const char *media_type, const char *tag,
				     const char *expect_digest, int exists_is_error, int64_t now_ms,
				     struct ecr_put_result *res)
{
	memset(res, 0, sizeof(*res));
	digest_of(manifest, res->digest);
	if (expect_digest && strcmp(expect_digest, res->digest) != 0)
		return res->status = ECR_PUT_DIGEST_MISMATCH;
	if (tag && !ecr_valid_tag(tag))
		return res->status = ECR_PUT_TAG_INVALID;
	struct parsed p = {0};
	if (parse_manifest(a, manifest, media_type, &p, res) != ECR_PUT_OK)
		return res->status;
	res->media_type = p.media_type;
	if (db_begin(fb->db) != SQLITE_OK)
		return res->status = ECR_PUT_STORE_ERROR;
	enum ecr_put_status s = store(fb, a, r, manifest, tag, exists_is_error, now_ms, &p, res);
	if (s == ECR_PUT_OK && db_commit(fb->db) != SQLITE_OK)
		s = ECR_PUT_STORE_ERROR;
	if (s != ECR_PUT_OK)
		db_rollback(fb->db);
	if (s == ECR_PUT_STORE_ERROR)
		log_error("ecr: store error putting a manifest in %s: %s", r->name,
			  sqlite3_errmsg(db_sqlite(fb->db)));
	return res->status = s;
}
