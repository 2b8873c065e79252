/* multipart.c - multipart uploads: Create, UploadPart, UploadPartCopy
 * (with source ranges), Complete (part list validated as AWS does:
 * InvalidPartOrder, InvalidPart, EntityTooSmall) and Abort (the listings
 * are in uploads.c). Each part is its own data file (encrypted with its
 * own data key when the upload is); Complete streams the parts into the
 * object's one data file (in the kernel when nothing is encrypted), then
 * commits the object and drops the parts in one transaction. The ETag is
 * the MD5 of the parts' MD5s with "-N"; checksums are composite. SSE-C
 * parts share the upload's key and are concatenated as stored. A part
 * whose body workers store answers later, if its upload still exists. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/s3_ops.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>

/* col: column i as an arena string or NULL. */
static const char *col(struct aws_call *c, sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
							 : arena_strdup(c->a, db_col_text(st, i));
}

void s3_upload_from_row(struct aws_call *c, sqlite3_stmt *st, struct s3_upload *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	u->upload_id = col(c, st, 1);
	u->key = col(c, st, 2);
	u->owner = col(c, st, 3);
	u->storage_class = col(c, st, 4);
	u->headers = col(c, st, 5);
	u->meta = col(c, st, 6);
	u->tags = col(c, st, 7);
	u->cks_algo = col(c, st, 8);
	u->sse.sse = col(c, st, 9);
	u->sse.kms_key = col(c, st, 10);
	u->sse.enc_ctx = col(c, st, 11);
	u->sse.bucket_key = sqlite3_column_int(st, 12);
	u->initiated_ms = sqlite3_column_int64(st, 13);
	u->ssec = STR_NULL;
	if (sqlite3_column_type(st, 14) == SQLITE_BLOB) {
		size_t n = (size_t)sqlite3_column_bytes(st, 14);
		char *p = arena_alloc(c->a, n);
		memcpy(p, sqlite3_column_blob(st, 14), n);
		u->ssec = (struct str){p, n};
	}
}

int s3_upload_find(struct aws_call *c, const struct s3_bucket *b, struct s3_upload *u)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT " S3_UPLOAD_COLS " FROM s3_uploads WHERE "
					      "upload_id = ?1 AND bucket_id = ?2 AND key = ?3");
	int rc;
	sqlite3_bind_text(st, 1, jv_get_str(c->in, "UploadId"), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, b->id);
	sqlite3_bind_text(st, 3, jv_get_str(c->in, "Key"), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s3_upload_from_row(c, st, u);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return s3_fail_db(c, rc);
	return aws_fail(c, 404, "NoSuchUpload",
			"The specified upload does not exist. The upload ID may be invalid, or the "
			"upload may have been aborted or completed.");
}

int s3_op_create_multipart_upload(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_sse sse;
	const char *key = jv_get_str(c->in, "Key"), *tags,
		   *algo = jv_get_str(c->in, "ChecksumAlgorithm");
	const char *uid;
	sqlite3_stmt *st;
	struct jv *out;
	struct str ssec = STR_NULL;
	int bad, rc;

	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (strlen(key) > S3_MAX_KEY)
		return aws_fail(c, 400, "KeyTooLongError", "Your key is too long");
	tags = s3_parse_tagging(c, jv_get_str(c->in, "Tagging"), &bad);
	if (bad || s3_sse_choose(c, &b, &sse) < 0 || s3_sse_resolve(c, &sse) < 0)
		return -1;
	/* SSE-C: parts must come with the same key; only its check is kept */
	rc = s3_is_ssec(sse.sse) ? s3_ssec_seal(c, &sse.ssec, NULL, &ssec) : 0;
	OPENSSL_cleanse(sse.ssec.key, sizeof(sse.ssec.key));
	if (rc < 0)
		return -1;
	if (algo && !s3_cks_from_name(str_c(algo)))
		return aws_fail(c, 400, "InvalidRequest", "Checksum algorithm %s is not supported",
				algo);
	uid = arena_sprintf(c->a, "%s%s", s3_version_id_new(c), s3_version_id_new(c));
	st = db_stmt(
	    c->fb->db,
	    "INSERT INTO s3_uploads(upload_id, bucket_id, key, initiated, owner, "
	    "storage_class, headers, meta, tags, cks_algo, sse, kms_key, enc_ctx, "
	    "bucket_key, ssec) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	    "?15)");
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, b.id);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->now_ms);
	sqlite3_bind_text(st, 5, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6,
			  jv_get_str(c->in, "StorageClass") ? jv_get_str(c->in, "StorageClass")
							    : "STANDARD",
			  -1, SQLITE_STATIC);
	const char *vals[] = {s3_put_headers(c),
			      s3_json_text(c, jv_get(c->in, "Metadata")),
			      tags,
			      algo ? s3_cks_name(s3_cks_from_name(str_c(algo))) : NULL,
			      sse.sse,
			      sse.kms_key,
			      sse.enc_ctx};
	for (int i = 0; i < 7; i++)
		if (vals[i])
			sqlite3_bind_text(st, 7 + i, vals[i], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, sse.bucket_key);
	if (ssec.n)
		sqlite3_bind_blob(st, 15, ssec.p, (int)ssec.n, SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return s3_fail_db(c, rc);
	out = aws_out(c);
	jv_set_str(c->a, out, "Bucket", b.name);
	jv_set_str(c->a, out, "Key", key);
	jv_set_str(c->a, out, "UploadId", uid);
	if (algo)
		jv_set_str(c->a, out, "ChecksumAlgorithm", vals[3]);
	s3_sse_out(c, sse.sse, sse.kms_key, sse.bucket_key);
	s3_cors_actual(c, &b);
	return 0;
}

/* part_number: the input's PartNumber, or -1 with InvalidArgument. */
static int part_number(struct aws_call *c)
{
	int64_t n = jv_get_int(c->in, "PartNumber", 0);
	if (n < 1 || n > S3_MAX_PARTS)
		return aws_fail(c, 400, "InvalidArgument",
				"Part number must be an integer between 1 and 10000, inclusive");
	return (int)n;
}

/* part_key: how a new part of u is sealed: a fresh KMS data key (SSE-S3,
 * SSE-KMS; KMS ciphertext in *wrapped), or for SSE-C the upload's file
 * key from the request's customer key with a random nonce prefix (8 bytes
 * in *wrapped, kept as the part's data_key, since all parts share the
 * key). SSE-C members on a part of a non-SSE-C upload, none on an SSE-C
 * one, or another key get AWS's 400s. 0 or -1. */
static int part_key(struct aws_call *c, const struct s3_bucket *b, struct s3_upload *u,
		    unsigned char dk[32], struct str *wrapped, uint64_t *prefix)
{
	struct s3_ssec k;
	const char *arn = NULL;
	unsigned char *p;
	int ok;
	*prefix = 0;
	*wrapped = STR_NULL;
	if (s3_ssec_parse(c, 0, 0, &k) < 0)
		return -1;
	if (k.given != s3_is_ssec(u->sse.sse)) {
		OPENSSL_cleanse(k.key, sizeof(k.key));
		return aws_fail(
		    c, 400, "InvalidRequest",
		    "The multipart upload initiate requested encryption. Subsequent "
		    "part requests must include the appropriate encryption parameters.");
	}
	if (!k.given)
		return u->sse.sse ? s3_sse_new_key(c, &u->sse, b->name, u->key, dk, wrapped, &arn)
				  : 0;
	ok = s3_ssec_matches(&k, u->ssec, dk);
	OPENSSL_cleanse(k.key, sizeof(k.key));
	if (!ok)
		return aws_fail(c, 400, "InvalidRequest",
				"The provided encryption parameters did not match the ones used "
				"originally.");
	p = arena_alloc(c->a, 8);
	if (RAND_bytes(p, 8) != 1)
		return aws_fail(c, 500, "InternalError", "no randomness");
	for (int i = 0; i < 8; i++)
		*prefix = *prefix << 8 | p[i];
	*wrapped = (struct str){(const char *)p, 8};
	return 0;
}

/* store_part: records part n of u (replacing an earlier upload of it). */
static int store_part(struct aws_call *c, const struct s3_upload *u, int n, uint64_t size,
		      const char *etag, const char *cks, const char *file, struct str data_key)
{
	sqlite3_stmt *st;
	int rc = 0;
	if (s3_tx_begin(c) < 0) {
		s3_store_tx_done(0);
		return -1;
	}
	/* a deferred UploadPart commits later: the upload may be gone */
	st = db_stmt(c->fb->db, "SELECT 1 FROM s3_uploads WHERE id = ?1");
	sqlite3_bind_int64(st, 1, u->id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return s3_tx_end(
		    c, rc == SQLITE_DONE
			   ? aws_fail(c, 404, "NoSuchUpload",
				      "The specified upload does not exist. The upload ID may be "
				      "invalid, or the upload may have been aborted or completed.")
			   : s3_fail_db(c, rc));
	rc = 0;
	st = db_stmt(c->fb->db, "SELECT file FROM s3_parts WHERE upload = ?1 AND part_number = ?2");
	sqlite3_bind_int64(st, 1, u->id);
	sqlite3_bind_int(st, 2, n);
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = s3_store_unlink_later(c->fb->db, db_col_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_OK)
		return s3_tx_end(c, s3_fail_db(c, rc));
	st = db_stmt(c->fb->db,
		     "INSERT OR REPLACE INTO s3_parts(upload, part_number, size, etag, "
		     "cks, mtime, file, data_key) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	sqlite3_bind_int64(st, 1, u->id);
	sqlite3_bind_int(st, 2, n);
	sqlite3_bind_int64(st, 3, (int64_t)size);
	sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
	if (cks)
		sqlite3_bind_text(st, 5, cks, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, c->now_ms);
	sqlite3_bind_text(st, 7, file, -1, SQLITE_STATIC);
	if (data_key.n)
		sqlite3_bind_blob(st, 8, data_key.p, (int)data_key.n, SQLITE_STATIC);
	rc = db_step_done(st);
	return s3_tx_end(c, rc == SQLITE_DONE ? 0 : s3_fail_db(c, rc));
}

/* What UploadPart knows before the body is stored (arena). */
struct part_state {
	struct s3_bucket b;
	struct s3_upload u;
	int n;
	struct str wrapped;
};

/* part_commit: records the stored part <sb> (its file registered for
 * publication) and sets the output. 0 or -1. */
static int part_commit(struct aws_call *c, struct part_state *ps, struct s3_stored *sb)
{
	struct s3_upload *u = &ps->u;
	char md5hex[33];
	s3_writer_release(&sb->w);
	if (u->cks_algo && sb->cks_algo && strcmp(u->cks_algo, sb->cks_algo) != 0) {
		s3_store_tx_done(0);
		return aws_fail(c, 400, "InvalidRequest",
				"Checksum Type mismatch occurred, expected checksum Type: %s, "
				"actual checksum Type: %s",
				u->cks_algo, sb->cks_algo);
	}
	s3_md5_hex(sb->d.md5, md5hex);
	if (store_part(c, u, ps->n, sb->size, md5hex, u->cks_algo ? sb->cks : NULL, sb->w.id,
		       ps->wrapped) < 0)
		return -1;
	struct jv *out = aws_out(c);
	jv_set_str(c->a, out, "ETag", s3_quoted_etag(c, md5hex));
	if (sb->cks_algo)
		jv_set_str(c->a, out, s3_cks_member(s3_cks_from_name(str_c(sb->cks_algo))),
			   sb->cks);
	s3_sse_out(c, u->sse.sse, u->sse.kms_key, u->sse.bucket_key);
	s3_cors_actual(c, &ps->b);
	return 0;
}

/* part_stored: s3_body_cb of a deferred UploadPart. */
static void part_stored(struct aws_call *c, struct s3_stored *sb, void *arg)
{
	if (sb)
		part_commit(c, arg, sb);
	aws_resume(c);
}

int s3_op_upload_part(struct aws_call *c)
{
	struct part_state *ps = arena_zalloc(c->a, sizeof(*ps));
	struct s3_stored sb;
	unsigned char dk[32];
	uint64_t prefix;
	int rc, algo;

	if (s3_bucket_arg(c, &ps->b) < 0 || s3_upload_find(c, &ps->b, &ps->u) < 0 ||
	    (ps->n = part_number(c)) < 0)
		return -1;
	if (part_key(c, &ps->b, &ps->u, dk, &ps->wrapped, &prefix) < 0)
		return -1;
	algo = ps->u.cks_algo ? s3_cks_from_name(str_c(ps->u.cks_algo)) : S3_CKS_NONE;
	if (!ps->u.sse.sse) {
		rc = s3_body_store_async(c, 0, algo, part_stored, ps);
		if (rc != 0)
			return rc < 0 ? -1 : 0; /* 1: part_stored answers */
	}
	rc = s3_body_store(c, ps->u.sse.sse ? dk : NULL, prefix, 0, algo, &sb);
	memset(dk, 0, sizeof(dk));
	if (rc < 0)
		return -1;
	return part_commit(c, ps, &sb);
}

/* copy_range: the x-amz-copy-source-range of a source of <size> bytes. */
static int copy_range(struct aws_call *c, int64_t size, uint64_t *start, uint64_t *len)
{
	struct str r = jv_get_strv(c->in, "CopySourceRange");
	unsigned long long a, e;
	char tail;
	*start = 0;
	*len = (uint64_t)size;
	if (!r.p)
		return 0;
	if (sscanf(arena_str(c->a, r), "bytes=%llu-%llu%c", &a, &e, &tail) != 2 || e < a)
		return aws_fail(
		    c, 400, "InvalidArgument",
		    "The x-amz-copy-source-range value must be of the form "
		    "bytes=first-last where first and last are the zero-based offsets of "
		    "the first and last bytes to copy");
	if ((int64_t)e >= size)
		return aws_fail(c, 400, "InvalidRange", "The requested range is not satisfiable");
	*start = a;
	*len = e - a + 1;
	return 0;
}

int s3_op_upload_part_copy(struct aws_call *c)
{
	struct s3_bucket b, sb;
	struct s3_object so;
	struct s3_upload u;
	struct s3_reader r;
	struct s3_writer w;
	struct s3_digests d;
	unsigned char dk[32];
	struct str wrapped = STR_NULL;
	const char *cks = NULL;
	uint64_t start, len, prefix;
	char md5hex[33];
	int n, rc, algo;

	if (s3_bucket_arg(c, &b) < 0 || s3_upload_find(c, &b, &u) < 0 || (n = part_number(c)) < 0 ||
	    s3_copy_source(c, &sb, &so) < 0 || copy_range(c, so.size, &start, &len) < 0)
		return -1;
	if (len > S3_MAX_PART)
		return aws_fail(c, 400, "EntityTooLarge",
				"Your proposed upload exceeds the maximum allowed size");
	if (part_key(c, &b, &u, dk, &wrapped, &prefix) < 0)
		return -1;
	algo = u.cks_algo ? s3_cks_from_name(str_c(u.cks_algo)) : S3_CKS_NONE;
	if (s3_object_reader(c, &sb, &so, 1, &r) < 0)
		return -1;
	if (s3_writer_open(&w, c->fb, len, 0, u.sse.sse ? dk : NULL, 1, algo) < 0) {
		s3_reader_close(&r);
		return aws_fail(c, 500, "InternalError", "cannot create a data file");
	}
	w.iv_prefix = prefix;
	memset(dk, 0, sizeof(dk));
	rc = s3_copy(&r, start, len, &w);
	s3_reader_close(&r);
	if (rc < 0) {
		s3_writer_abort(&w, c->fb);
		return aws_fail(c, 500, "InternalError", "cannot copy the object data");
	}
	if (s3_writer_finish(&w, c->fb, &d) < 0)
		return aws_fail(c, 500, "InternalError", "cannot write the part data");
	s3_writer_release(&w);
	s3_md5_hex(d.md5, md5hex);
	if (algo)
		cks = s3_b64(c, d.cks, d.cks_n);
	if (store_part(c, &u, n, len, md5hex, cks, w.id, wrapped) < 0)
		return -1;
	struct jv *out = aws_out(c), *res = jv_object(c->a);
	jv_set_str(c->a, res, "ETag", s3_quoted_etag(c, md5hex));
	jv_set_double(c->a, res, "LastModified", (double)c->now_ms / 1000.0);
	if (cks)
		jv_set_str(c->a, res, s3_cks_member(algo), cks);
	jv_set(c->a, out, "CopyPartResult", res);
	if (strcmp(so.version_id, S3_NULL_VERSION) != 0)
		jv_set_str(c->a, out, "CopySourceVersionId", so.version_id);
	s3_sse_out(c, u.sse.sse, u.sse.kms_key, u.sse.bucket_key);
	return 0;
}

/* A stored part, as Complete reads it. */
struct part {
	int number;
	uint64_t size;
	const char *etag, *cks, *file;
	struct str data_key;
};

/* load_parts: every part of u by number (arena array); -1 on db error. */
static ssize_t load_parts(struct aws_call *c, const struct s3_upload *u, struct part **out)
{
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT part_number, size, etag, cks, file, data_key "
			       "FROM s3_parts WHERE upload = ?1 ORDER BY part_number");
	size_t n = 0, cap = 16;
	struct part *v = arena_alloc(c->a, cap * sizeof(*v));
	sqlite3_bind_int64(st, 1, u->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			v = arena_realloc(c->a, v, cap * sizeof(*v), 2 * cap * sizeof(*v));
			cap *= 2;
		}
		v[n].number = sqlite3_column_int(st, 0);
		v[n].size = (uint64_t)sqlite3_column_int64(st, 1);
		v[n].etag = col(c, st, 2);
		v[n].cks = col(c, st, 3);
		v[n].file = col(c, st, 4);
		v[n].data_key = STR_NULL;
		if (sqlite3_column_type(st, 5) == SQLITE_BLOB) {
			size_t k = (size_t)sqlite3_column_bytes(st, 5);
			char *p = arena_alloc(c->a, k);
			memcpy(p, sqlite3_column_blob(st, 5), k);
			v[n].data_key = (struct str){p, k};
		}
		n++;
	}
	sqlite3_reset(st);
	*out = v;
	return (ssize_t)n;
}

/* find_part: the stored part numbered n (binary search), or NULL. */
static const struct part *find_part(const struct part *v, size_t nv, int n)
{
	size_t lo = 0, hi = nv;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid].number == n)
			return &v[mid];
		if (v[mid].number < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* strip_quotes: an ETag without surrounding quotes (arena). */
static const char *strip_quotes(struct aws_call *c, const char *e)
{
	size_t n = e ? strlen(e) : 0;
	if (n >= 2 && e[0] == '"' && e[n - 1] == '"')
		return arena_strndup(c->a, e + 1, n - 2);
	return e ? e : "";
}

/* drop_upload: deletes u's rows and schedules its part files' removal. */
static int drop_upload(struct aws_call *c, const struct s3_upload *u, const struct part *v,
		       size_t nv)
{
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	for (size_t i = 0; i < nv && rc == SQLITE_OK; i++)
		rc = s3_store_unlink_later(c->fb->db, v[i].file);
	if (rc != SQLITE_OK)
		return s3_fail_db(c, rc);
	st = db_stmt(c->fb->db, "DELETE FROM s3_parts WHERE upload = ?1");
	sqlite3_bind_int64(st, 1, u->id);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return s3_fail_db(c, rc);
	st = db_stmt(c->fb->db, "DELETE FROM s3_uploads WHERE id = ?1");
	sqlite3_bind_int64(st, 1, u->id);
	rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : s3_fail_db(c, rc);
}

/* assemble: streams the chosen parts into one new data file (or inline
 * bytes) of the object, <total> bytes, sealed with <key> (NULL: plain);
 * its writer is returned finished in *w. SSE-C parts (sealed) are copied
 * as stored: without the customer's key they cannot be re-encrypted. */
static int assemble(struct aws_call *c, const struct s3_bucket *b, const struct s3_upload *u,
		    const struct part **chosen, size_t n, uint64_t total, const unsigned char *key,
		    int sealed, struct s3_writer *w)
{
	struct s3_digests d;
	if (s3_writer_open(w, c->fb, total, 1, key, 0, S3_CKS_NONE) < 0)
		return aws_fail(c, 500, "InternalError", "cannot create a data file");
	for (size_t i = 0; i < n; i++) {
		struct s3_reader r;
		unsigned char pk[32];
		uint64_t size = sealed ? s3_enc_stored_size(chosen[i]->size) : chosen[i]->size;
		int rc, dec = u->sse.sse && !sealed;
		if (dec && s3_sse_open_key(c, u->sse.enc_ctx, b->name, u->key, chosen[i]->data_key,
					   pk) < 0) {
			s3_writer_abort(w, c->fb);
			return -1;
		}
		rc = s3_reader_open(&r, chosen[i]->file, STR_NULL, size, dec ? pk : NULL);
		memset(pk, 0, sizeof(pk));
		if (rc == 0) {
			rc = s3_copy(&r, 0, size, w);
			s3_reader_close(&r);
		}
		if (rc < 0) {
			s3_writer_abort(w, c->fb);
			return aws_fail(c, 500, "InternalError", "cannot read part %d",
					chosen[i]->number);
		}
	}
	if (s3_writer_finish(w, c->fb, &d) < 0)
		return aws_fail(c, 500, "InternalError", "cannot write the object data");
	return 0;
}

/* ssec_parts: the data_key of an SSE-C multipart object: the upload's
 * salt and check, then each chosen part's nonce prefix; *stored is the
 * parts' stored (sealed) size. 0 or -1. */
static int ssec_parts(struct aws_call *c, const struct s3_upload *u, const struct part **chosen,
		      size_t n, struct str *blob, uint64_t *stored)
{
	char *p = arena_alloc(c->a, S3_SSEC_BLOB + 8 * n);
	if (u->ssec.n != S3_SSEC_BLOB)
		return aws_fail(c, 500, "InternalError", "the upload has no key check");
	memcpy(p, u->ssec.p, S3_SSEC_BLOB);
	*stored = 0;
	for (size_t i = 0; i < n; i++) {
		if (chosen[i]->data_key.n != 8)
			return aws_fail(c, 500, "InternalError", "part %d has no nonce prefix",
					chosen[i]->number);
		memcpy(p + S3_SSEC_BLOB + 8 * i, chosen[i]->data_key.p, 8);
		*stored += s3_enc_stored_size(chosen[i]->size);
	}
	*blob = (struct str){p, S3_SSEC_BLOB + 8 * n};
	return 0;
}

int s3_op_complete_multipart_upload(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_upload u;
	struct part *v;
	struct jv *list = jv_get(jv_get(c->in, "MultipartUpload"), "Parts");
	size_t n = jv_len(list), nv;
	const struct part **chosen;
	unsigned char *md5s, *raws = NULL, dk[32];
	struct buf sizes = BUF_INIT;
	uint64_t total = 0;
	struct s3_object o, cur;
	struct s3_writer w;
	const char *arn = NULL;
	int algo, prev = 0, rc, found;
	ssize_t k;

	if (s3_bucket_arg(c, &b) < 0 || s3_upload_find(c, &b, &u) < 0)
		return -1;
	if (n == 0)
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	if ((k = load_parts(c, &u, &v)) < 0)
		return -1;
	nv = (size_t)k;
	algo = u.cks_algo ? s3_cks_from_name(str_c(u.cks_algo)) : S3_CKS_NONE;
	chosen = arena_alloc(c->a, n * sizeof(*chosen));
	md5s = arena_alloc(c->a, n * 16);
	if (algo)
		raws = arena_alloc(c->a, n * s3_cks_len(algo));
	for (size_t i = 0; i < n; i++) {
		struct jv *p = jv_at(list, i);
		int num = (int)jv_get_int(p, "PartNumber", 0);
		const struct part *sp;
		if (num <= prev)
			return aws_fail(c, 400, "InvalidPartOrder",
					"The list of parts was not in ascending order. Parts must "
					"be ordered by part number.");
		prev = num;
		sp = find_part(v, nv, num);
		if (!sp || strcmp(strip_quotes(c, jv_get_str(p, "ETag")), sp->etag) != 0)
			return aws_fail(c, 400, "InvalidPart",
					"One or more of the specified parts could not be found.  "
					"The part may not have been uploaded, or the specified "
					"entity tag may not match the part's entity tag.");
		chosen[i] = sp;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char raw[32];
		if (i + 1 < n && chosen[i]->size < S3_MIN_PART)
			return aws_fail(c, 400, "EntityTooSmall",
					"Your proposed upload is smaller than the minimum allowed "
					"object size.");
		for (int j = 0; j < 16; j++) {
			unsigned int x;
			sscanf(chosen[i]->etag + 2 * j, "%2x", &x);
			md5s[16 * i + (size_t)j] = (unsigned char)x;
		}
		if (algo) {
			ssize_t rn = chosen[i]->cks ? fmt_b64_decode(raw, chosen[i]->cks,
								     strlen(chosen[i]->cks))
						    : -1;
			if (rn != (ssize_t)s3_cks_len(algo))
				return aws_fail(c, 400, "InvalidPart", "Part %d has no %s checksum",
						chosen[i]->number, u.cks_algo);
			memcpy(raws + i * s3_cks_len(algo), raw, (size_t)rn);
		}
		total += chosen[i]->size;
		buf_printf(&sizes, "%s%llu", i ? "," : "", (unsigned long long)chosen[i]->size);
	}
	memset(&o, 0, sizeof(o));
	o.parts = arena_strndup(c->a, sizes.p, sizes.n);
	buf_release(&sizes);
	found = s3_object_load(c, b.id, u.key, NULL, &cur);
	if (found < 0)
		return -1;
	if (s3_header(c, "if-none-match").p && found == 1 && !cur.delete_marker)
		return aws_fail(c, 412, "PreconditionFailed",
				"At least one of the pre-conditions you specified did not hold");
	if (s3_is_ssec(u.sse.sse)) {
		uint64_t stored = 0;
		if (ssec_parts(c, &u, chosen, n, &o.data_key, &stored) < 0)
			return -1;
		rc = assemble(c, &b, &u, chosen, n, stored, NULL, 1, &w);
	} else {
		if (u.sse.sse &&
		    s3_sse_new_key(c, &u.sse, b.name, u.key, dk, &o.data_key, &arn) < 0)
			return -1;
		rc = assemble(c, &b, &u, chosen, n, total, u.sse.sse ? dk : NULL, 0, &w);
	}
	memset(dk, 0, sizeof(dk));
	if (rc < 0)
		return -1;
	o.key = u.key;
	o.size = (int64_t)total;
	o.etag = s3_multipart_etag(c->a, md5s, n);
	o.mtime_ms = c->now_ms;
	o.storage_class = u.storage_class;
	o.headers = u.headers;
	o.meta = u.meta;
	o.tags = u.tags;
	if (algo) {
		o.cks_algo = u.cks_algo;
		o.cks = s3_cks_composite(c, algo, raws, n);
	}
	o.sse = u.sse.sse;
	o.kms_key = u.sse.sse && u.sse.sse[0] == 'a' ? arn : NULL;
	o.enc_ctx = u.sse.enc_ctx;
	o.bucket_key = u.sse.bucket_key;
	o.file = w.id[0] ? arena_strdup(c->a, w.id) : NULL;
	if (s3_tx_begin(c) < 0) {
		s3_writer_release(&w);
		buf_release(&w.mem);
		return -1;
	}
	rc = s3_object_insert(c, &b, &o, o.file ? STR_NULL : buf_str(&w.mem));
	if (rc == 0)
		rc = drop_upload(c, &u, v, nv);
	s3_writer_release(&w);
	buf_release(&w.mem);
	if (s3_tx_end(c, rc) < 0)
		return -1;
	struct jv *out = aws_out(c);
	struct str host = s3_header(c, "host");
	jv_set_str(c->a, out, "Location",
		   arena_sprintf(c->a, "http://%.*s/%s/%s", (int)host.n, host.p ? host.p : "",
				 b.name, u.key));
	jv_set_str(c->a, out, "Bucket", b.name);
	jv_set_str(c->a, out, "Key", u.key);
	jv_set_str(c->a, out, "ETag", s3_quoted_etag(c, o.etag));
	if (b.versioning != S3_VER_NONE)
		jv_set_str(c->a, out, "VersionId", o.version_id);
	if (o.cks_algo)
		jv_set_str(c->a, out, s3_cks_member(algo), o.cks);
	s3_sse_out(c, o.sse, o.kms_key, o.bucket_key);
	s3_cors_actual(c, &b);
	return 0;
}

int s3_op_abort_multipart_upload(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_upload u;
	struct part *v;
	ssize_t k;
	if (s3_bucket_arg(c, &b) < 0 || s3_upload_find(c, &b, &u) < 0 ||
	    (k = load_parts(c, &u, &v)) < 0)
		return -1;
	if (s3_tx_begin(c) < 0)
		return -1;
	if (s3_tx_end(c, drop_upload(c, &u, v, (size_t)k)) < 0)
		return -1;
	aws_out(c);
	return 0;
}
