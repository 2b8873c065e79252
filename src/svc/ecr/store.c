/* store.c - the repository row: lookups with and without an aws_call,
 * transactions, the Repository output shape, image listing with tags,
 * and the paging tokens the list operations share. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "svc/ecr/internal.h"
#include <stdlib.h>

#define REPO_COLS                                                                                  \
	"SELECT id, account, region, name, created_ms, immutable, scan_on_push, encryption_type, " \
	"kms_key, policy, lifecycle, lifecycle_evaluated_ms FROM ecr_repos "

static const char sql_repo_by_name[] = REPO_COLS "WHERE account = ?1 AND region = ?2 AND name = ?3";

int ecr_fail_db(struct aws_call *c, int rc)
{
	log_error("ecr: store error: %s", sqlite3_errstr(rc));
	return aws_fail(c, 500, "ServerException", "An error occurred on the server side.");
}

int ecr_tx_begin(struct aws_call *c)
{
	int rc = db_begin(c->fb->db);
	return rc == SQLITE_OK ? 0 : ecr_fail_db(c, rc);
}

int ecr_tx_end(struct aws_call *c, int ok)
{
	if (ok == 0) {
		int rc = db_commit(c->fb->db);
		if (rc == SQLITE_OK)
			return 0;
		db_rollback(c->fb->db);
		return ecr_fail_db(c, rc);
	}
	db_rollback(c->fb->db);
	return -1;
}

/* col_dup: text column i as an arena string, NULL when SQL NULL. */
static const char *col_dup(struct arena *a, sqlite3_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? arena_strndup(a, s, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* read_repo: fills r from a REPO_COLS row. */
static void read_repo(struct arena *a, sqlite3_stmt *st, struct ecr_repo *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->account = col_dup(a, st, 1);
	r->region = col_dup(a, st, 2);
	r->name = col_dup(a, st, 3);
	r->created_ms = sqlite3_column_int64(st, 4);
	r->immutable = sqlite3_column_int(st, 5);
	r->scan_on_push = sqlite3_column_int(st, 6);
	r->encryption_type = col_dup(a, st, 7);
	r->kms_key = col_dup(a, st, 8);
	r->policy = col_dup(a, st, 9);
	r->lifecycle = col_dup(a, st, 10);
	r->lifecycle_evaluated_ms = sqlite3_column_int64(st, 11);
}

int ecr_repo_get(struct fogbank *fb, struct arena *a, const char *account, const char *region,
		 const char *name, struct ecr_repo *r)
{
	sqlite3_stmt *st = db_stmt(fb->db, sql_repo_by_name);
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW) {
		read_repo(a, st, r);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		log_error("ecr: store error: %s", sqlite3_errstr(rc));
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

const char *ecr_registry_id(struct aws_call *c)
{
	const char *rid = jv_get_str(c->in, "registryId");
	if (rid && strcmp(rid, c->account) != 0) {
		const char *name = jv_get_str(c->in, "repositoryName");
		if (name)
			return aws_fail(c, 400, "RepositoryNotFoundException",
					"The repository with name '%s' does not exist in the "
					"registry with id '%s'",
					name, rid),
			       NULL;
		return aws_fail(c, 400, "InvalidParameterException",
				"Invalid parameter at 'registryId' failed to satisfy constraint: "
				"'registry %s is not accessible to account %s'",
				rid, c->account),
		       NULL;
	}
	return c->account;
}

int ecr_repo_not_found(struct aws_call *c, const char *name)
{
	return aws_fail(c, 400, "RepositoryNotFoundException",
			"The repository with name '%s' does not exist in the registry with id "
			"'%s'",
			name ? name : "", c->account);
}

int ecr_repo_find(struct aws_call *c, struct ecr_repo *r)
{
	if (!ecr_registry_id(c))
		return -1;
	const char *name = jv_get_str(c->in, "repositoryName");
	int found = name ? ecr_repo_get(c->fb, c->a, c->account, c->region, name, r) : 0;
	if (found < 0)
		return ecr_fail_db(c, SQLITE_ERROR);
	return found ? 0 : ecr_repo_not_found(c, name);
}

const char *ecr_repo_arn(struct arena *a, const struct ecr_repo *r)
{
	return arena_sprintf(a, "arn:aws:ecr:%s:%s:repository/%s", r->region, r->account, r->name);
}

const char *ecr_repo_uri(struct fogbank *fb, struct arena *a, const char *name)
{
	const char *h = fb->host ? fb->host : "127.0.0.1";
	return strchr(h, ':') ? arena_sprintf(a, "[%s]:%d/%s", h, fb->port, name)
			      : arena_sprintf(a, "%s:%d/%s", h, fb->port, name);
}

struct jv *ecr_repo_entry(struct aws_call *c, const struct ecr_repo *r)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a);
	jv_set_str(a, o, "repositoryArn", ecr_repo_arn(a, r));
	jv_set_str(a, o, "registryId", r->account);
	jv_set_str(a, o, "repositoryName", r->name);
	jv_set_str(a, o, "repositoryUri", ecr_repo_uri(c->fb, a, r->name));
	jv_set_double(a, o, "createdAt", (double)r->created_ms / 1000.0);
	jv_set_str(a, o, "imageTagMutability", r->immutable ? "IMMUTABLE" : "MUTABLE");
	struct jv *scan = jv_object(a);
	jv_set_bool(a, scan, "scanOnPush", r->scan_on_push);
	jv_set(a, o, "imageScanningConfiguration", scan);
	struct jv *enc = jv_object(a);
	jv_set_str(a, enc, "encryptionType", r->encryption_type);
	jv_set_str(a, enc, "kmsKey", r->kms_key);
	jv_set(a, o, "encryptionConfiguration", enc);
	return o;
}

void ecr_out_repo_ids(struct aws_call *c, const struct ecr_repo *r)
{
	jv_set_str(c->a, aws_out(c), "registryId", r->account);
	jv_set_str(c->a, aws_out(c), "repositoryName", r->name);
}

struct jv *ecr_image_tags(struct aws_call *c, int64_t image_id)
{
	struct jv *list = jv_array(c->a);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT tag FROM ecr_image_tags WHERE image_id = ?1 ORDER BY tag");
	sqlite3_bind_int64(st, 1, image_id);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(c->a, list, jv_string_c(c->a, db_col_text(st, 0)));
	sqlite3_reset(st);
	return list;
}

int ecr_page_args(struct aws_call *c, size_t def, size_t *offset, size_t *limit)
{
	const char *tok = jv_get_str(c->in, "nextToken");
	*offset = 0;
	if (tok) {
		char *end = NULL;
		unsigned long long v = strtoull(tok, &end, 10);
		if (!*tok || *end || v > 100000000ull)
			return aws_fail(c, 400, "InvalidParameterException",
					"Invalid parameter at 'nextToken' failed to satisfy "
					"constraint: 'The token is not valid'");
		*offset = (size_t)v;
	}
	int64_t m = jv_get_int(c->in, "maxResults", (int64_t)def);
	*limit = m < 1 ? 1 : (size_t)m;
	return 0;
}

void ecr_page_token(struct aws_call *c, size_t offset, size_t total)
{
	if (offset < total)
		jv_set_str(c->a, aws_out(c), "nextToken", arena_sprintf(c->a, "%zu", offset));
}

struct id_slot {
	int64_t id;
	size_t idx;
};

/* id_slot_cmp: qsort/bsearch order of id_slot by image id. */
static int id_slot_cmp(const void *x, const void *y)
{
	const struct id_slot *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* load_tags: attaches the tags of every image in imgs[0..n) with one
 * query over the repository (images found by binary search on id). */
static int load_tags(struct fogbank *fb, struct arena *a, int64_t repo_id,
		     struct ecr_image_row *imgs, size_t n)
{
	struct id_slot *ix = arena_alloc(a, (n ? n : 1) * sizeof(*ix));
	for (size_t i = 0; i < n; i++)
		ix[i] = (struct id_slot){imgs[i].id, i};
	qsort(ix, n, sizeof(*ix), id_slot_cmp);
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT image_id, tag FROM ecr_image_tags WHERE "
					   "repo_id = ?1 ORDER BY image_id, tag");
	sqlite3_bind_int64(st, 1, repo_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct id_slot key = {sqlite3_column_int64(st, 0), 0};
		struct id_slot *hit = bsearch(&key, ix, n, sizeof(*ix), id_slot_cmp);
		if (!hit)
			continue;
		struct ecr_image_row *im = &imgs[hit->idx];
		/* an image's tags arrive together and sorted: grow by one */
		const char **t = arena_alloc(a, (im->ntags + 1) * sizeof(*t));
		if (im->ntags)
			memcpy(t, im->tags, im->ntags * sizeof(*t));
		t[im->ntags++] = col_dup(a, st, 1);
		im->tags = t;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

ssize_t ecr_images_load(struct fogbank *fb, struct arena *a, int64_t repo_id,
			struct ecr_image_row **out)
{
	sqlite3_stmt *st = db_stmt(
	    fb->db, "SELECT i.id, i.digest, i.media_type, i.artifact_type, i.size, i.pushed_ms, "
		    "i.pulled_ms, EXISTS (SELECT 1 FROM ecr_image_refs r JOIN ecr_images p ON "
		    "p.id = r.image_id WHERE r.digest = i.digest AND r.kind = 1 AND p.repo_id = "
		    "i.repo_id) FROM ecr_images i WHERE i.repo_id = ?1 ORDER BY i.pushed_ms DESC, "
		    "i.id DESC");
	sqlite3_bind_int64(st, 1, repo_id);
	size_t n = 0, cap = 16;
	struct ecr_image_row *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			v = arena_realloc(a, v, cap * sizeof(*v), 2 * cap * sizeof(*v));
			cap *= 2;
		}
		struct ecr_image_row *im = &v[n++];
		memset(im, 0, sizeof(*im));
		im->id = sqlite3_column_int64(st, 0);
		im->digest = col_dup(a, st, 1);
		im->media_type = col_dup(a, st, 2);
		im->artifact_type = col_dup(a, st, 3);
		im->size = sqlite3_column_int64(st, 4);
		im->pushed_ms = sqlite3_column_int64(st, 5);
		im->pulled_ms = sqlite3_column_int64(st, 6);
		im->referenced = sqlite3_column_int(st, 7);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || load_tags(fb, a, repo_id, v, n) < 0) {
		log_error("ecr: store error loading images of repository %lld", (long long)repo_id);
		return -1;
	}
	*out = v;
	return (ssize_t)n;
}
