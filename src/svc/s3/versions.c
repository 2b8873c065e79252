/* versions.c - object versions in s3_objects: loading one, adding the
 * newest (versioning Enabled: a new id; unversioned or Suspended: the
 * "null" version, replacing the previous one), removing one for good (the
 * next newest becomes the latest), DeleteObject's semantics (delete
 * markers), and readers of a version's bytes. All inside the caller's
 * transaction. */
#include "core/compat.h"
#include "fb.h"
#include "svc/s3/internal.h"

/* col: column i as an arena string or NULL. */
static const char *col(struct aws_call *c, sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
							 : arena_strdup(c->a, db_col_text(st, i));
}

void s3_object_from_row(struct aws_call *c, sqlite3_stmt *st, struct s3_object *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, 0);
	o->bucket_id = sqlite3_column_int64(st, 1);
	o->key = col(c, st, 2);
	o->version_id = col(c, st, 3);
	o->is_latest = sqlite3_column_int(st, 4);
	o->delete_marker = sqlite3_column_int(st, 5);
	o->size = sqlite3_column_int64(st, 6);
	o->etag = col(c, st, 7);
	o->mtime_ms = sqlite3_column_int64(st, 8);
	o->noncurrent_ms = sqlite3_column_int64(st, 9);
	o->storage_class = col(c, st, 10);
	o->headers = col(c, st, 11);
	o->meta = col(c, st, 12);
	o->tags = col(c, st, 13);
	o->cks_algo = col(c, st, 14);
	o->cks = col(c, st, 15);
	o->sse = col(c, st, 16);
	o->kms_key = col(c, st, 17);
	o->enc_ctx = col(c, st, 18);
	if (sqlite3_column_type(st, 19) == SQLITE_BLOB) {
		size_t n = (size_t)sqlite3_column_bytes(st, 19);
		char *p = arena_alloc(c->a, n + 1);
		memcpy(p, sqlite3_column_blob(st, 19), n);
		o->data_key = (struct str){p, n};
	}
	o->bucket_key = sqlite3_column_int(st, 20);
	o->file = col(c, st, 21);
	o->parts = col(c, st, 22);
	o->restore = col(c, st, 23);
	if (!o->storage_class)
		o->storage_class = "STANDARD";
}

int s3_object_load(struct aws_call *c, int64_t bucket_id, const char *key, const char *version_id,
		   struct s3_object *o)
{
	sqlite3_stmt *st;
	int rc;
	if (version_id)
		st = db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
					"o.bucket_id = ?1 AND o.key = ?2 AND o.version_id = ?3");
	else
		st = db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
					"o.bucket_id = ?1 AND o.key = ?2 AND o.is_latest = 1");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, key ? key : "", -1, SQLITE_STATIC);
	if (version_id)
		sqlite3_bind_text(st, 3, version_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s3_object_from_row(c, st, o);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	s3_fail_db(c, rc);
	return -1;
}

/* drop_data: forgets the bytes of version row <o> (file or inline). */
static int drop_data(struct aws_call *c, const struct s3_object *o)
{
	sqlite3_stmt *st;
	int rc;
	if (o->file)
		rc = s3_store_unlink_later(c->fb->db, o->file);
	else {
		st = db_stmt(c->fb->db, "DELETE FROM s3_data WHERE object_id = ?1");
		sqlite3_bind_int64(st, 1, o->id);
		rc = db_step_done(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	return rc == SQLITE_OK ? 0 : s3_fail_db(c, rc);
}

int s3_object_remove(struct aws_call *c, const struct s3_object *o)
{
	sqlite3_stmt *st;
	int rc;
	if (drop_data(c, o) < 0)
		return -1;
	st = db_stmt(c->fb->db, "DELETE FROM s3_objects WHERE id = ?1");
	sqlite3_bind_int64(st, 1, o->id);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return s3_fail_db(c, rc);
	if (!o->is_latest)
		return 0;
	st = db_stmt(c->fb->db, "UPDATE s3_objects SET is_latest = 1, noncurrent_since = NULL "
				"WHERE id = (SELECT id FROM s3_objects WHERE bucket_id = ?1 AND "
				"key = ?2 ORDER BY id DESC LIMIT 1)");
	sqlite3_bind_int64(st, 1, o->bucket_id);
	sqlite3_bind_text(st, 2, o->key, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : s3_fail_db(c, rc);
}

/* bind_opt: binds text or NULL. */
static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* bind_version: binds what a new version row holds, ?4 .. ?20 of the
 * INSERT and UPDATE statements below (the UPDATE keeps the row's marker
 * flag, so it leaves ?4 unused). */
static void bind_version(sqlite3_stmt *st, const struct s3_object *o)
{
	sqlite3_bind_int(st, 4, o->delete_marker);
	sqlite3_bind_int64(st, 5, o->size);
	sqlite3_bind_text(st, 6, o->etag ? o->etag : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, o->mtime_ms);
	sqlite3_bind_text(st, 8, o->storage_class ? o->storage_class : "STANDARD", -1,
			  SQLITE_STATIC);
	bind_opt(st, 9, o->headers);
	bind_opt(st, 10, o->meta);
	bind_opt(st, 11, o->tags);
	bind_opt(st, 12, o->cks_algo);
	bind_opt(st, 13, o->cks);
	bind_opt(st, 14, o->sse);
	bind_opt(st, 15, o->kms_key);
	bind_opt(st, 16, o->enc_ctx);
	if (o->data_key.n)
		sqlite3_bind_blob(st, 17, o->data_key.p, (int)o->data_key.n, SQLITE_STATIC);
	sqlite3_bind_int(st, 18, o->bucket_key);
	bind_opt(st, 19, o->file);
	bind_opt(st, 20, o->parts);
}

/* put_data: stores the inline bytes of version <o> (a file or a delete
 * marker has none); <had> says whether an s3_data row already exists for
 * its id (then it is overwritten in place: same-size bytes rewrite the
 * same pages). 0 or -1. */
static int put_data(struct aws_call *c, const struct s3_object *o, int had, struct str data)
{
	sqlite3_stmt *st;
	int rc;
	if (o->file || o->delete_marker) {
		if (!had)
			return 0;
		st = db_stmt(c->fb->db, "DELETE FROM s3_data WHERE object_id = ?1");
	} else if (had) {
		st = db_stmt(c->fb->db, "UPDATE s3_data SET data = ?2 WHERE object_id = ?1");
	} else {
		st = db_stmt(c->fb->db, "INSERT INTO s3_data(object_id, data) VALUES(?1, ?2)");
	}
	sqlite3_bind_int64(st, 1, o->id);
	if (!o->file && !o->delete_marker)
		sqlite3_bind_blob(st, 2, data.p ? data.p : "", (int)data.n, SQLITE_STATIC);
	rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : s3_fail_db(c, rc);
}

/* replace_in_place: a PUT over the only version of a key in a bucket that
 * never had versioning: the row <old> (latest, not a marker) is rewritten
 * in place instead of deleted and inserted again. Its id, key, version id
 * and flags stay, so the indexes on them are left alone (an UPDATE skips
 * the indexes whose columns and WHERE terms it does not set); no one can
 * tell the difference, since such a key never has another version to be
 * ordered against. 0 or -1. */
static int replace_in_place(struct aws_call *c, const struct s3_object *old, struct s3_object *o,
			    struct str inline_data)
{
	int rc;
	if (old->file && (rc = s3_store_unlink_later(c->fb->db, old->file)) != SQLITE_OK)
		return s3_fail_db(c, rc);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db,
		    "UPDATE s3_objects SET size = ?5, "
		    "etag = ?6, mtime = ?7, noncurrent_since = NULL, storage_class = ?8, "
		    "headers = ?9, meta = ?10, tags = ?11, cks_algo = ?12, cks = ?13, sse = ?14, "
		    "kms_key = ?15, enc_ctx = ?16, data_key = ?17, bucket_key = ?18, file = ?19, "
		    "parts = ?20, restore = NULL WHERE id = ?1");
	sqlite3_bind_int64(st, 1, old->id);
	bind_version(st, o);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return s3_fail_db(c, rc);
	o->id = old->id;
	o->is_latest = 1;
	return put_data(c, o, !old->file, inline_data);
}

/* null_version: what replacing the null version of <key> needs of it (id,
 * latest, marker, file), without copying its other columns out. 1 found,
 * 0 none, -1 on a store error. */
static int null_version(struct aws_call *c, int64_t bucket_id, const char *key, struct s3_object *o)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id, is_latest, delete_marker, file "
					      "FROM s3_objects WHERE bucket_id = ?1 AND key = ?2 "
					      "AND version_id = '" S3_NULL_VERSION "'");
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(o, 0, sizeof(*o));
		o->id = sqlite3_column_int64(st, 0);
		o->bucket_id = bucket_id;
		o->key = key;
		o->version_id = S3_NULL_VERSION;
		o->is_latest = sqlite3_column_int(st, 1);
		o->delete_marker = sqlite3_column_int(st, 2);
		o->file = col(c, st, 3);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc == SQLITE_ROW;
	s3_fail_db(c, rc);
	return -1;
}

int s3_object_insert(struct aws_call *c, const struct s3_bucket *b, struct s3_object *o,
		     struct str inline_data)
{
	struct s3_object old;
	sqlite3_stmt *st;
	int rc, r;

	o->bucket_id = b->id;
	o->version_id = b->versioning == S3_VER_ENABLED ? s3_version_id_new(c) : S3_NULL_VERSION;
	if (!strcmp(o->version_id, S3_NULL_VERSION)) {
		r = null_version(c, b->id, o->key, &old);
		if (r < 0)
			return -1;
		if (r == 1 && b->versioning == S3_VER_NONE && old.is_latest && !old.delete_marker &&
		    !o->delete_marker)
			return replace_in_place(c, &old, o, inline_data);
		if (r == 1) {
			/* the previous null version is replaced, not kept */
			old.is_latest = 0;
			if (s3_object_remove(c, &old) < 0)
				return -1;
		}
	}
	st = db_stmt(c->fb->db, "UPDATE s3_objects SET is_latest = 0, noncurrent_since = ?3 "
				"WHERE bucket_id = ?1 AND key = ?2 AND is_latest = 1");
	sqlite3_bind_int64(st, 1, b->id);
	sqlite3_bind_text(st, 2, o->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, o->mtime_ms);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return s3_fail_db(c, rc);
	st = db_stmt(
	    c->fb->db,
	    "INSERT INTO s3_objects(bucket_id, key, version_id, is_latest, delete_marker, "
	    "size, etag, mtime, storage_class, headers, meta, tags, cks_algo, cks, sse, "
	    "kms_key, enc_ctx, data_key, bucket_key, file, parts) VALUES(?1, ?2, ?3, 1, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)");
	sqlite3_bind_int64(st, 1, b->id);
	sqlite3_bind_text(st, 2, o->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->version_id, -1, SQLITE_STATIC);
	bind_version(st, o);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return s3_fail_db(c, rc);
	o->id = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
	o->is_latest = 1;
	return put_data(c, o, 0, inline_data);
}

/* valid_version_id: the shapes of version ids fogbank hands out. */
static int valid_version_id(const char *v)
{
	size_t n = strlen(v);
	if (!strcmp(v, S3_NULL_VERSION))
		return 1;
	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') ||
		      (v[i] >= 'A' && v[i] <= 'Z') || v[i] == '.' || v[i] == '_'))
			return 0;
	return 1;
}

int s3_delete_key(struct aws_call *c, const struct s3_bucket *b, const char *key,
		  const char *version_id, int *marker, const char **vid)
{
	struct s3_object o;
	int r;
	*marker = 0;
	*vid = NULL;
	if (version_id) {
		if (!valid_version_id(version_id))
			return aws_fail(c, 400, "InvalidArgument", "Invalid version id specified");
		r = s3_object_load(c, b->id, key, version_id, &o);
		if (r < 0)
			return -1;
		*vid = version_id;
		if (r == 0)
			return 0; /* deleting what is not there succeeds */
		*marker = o.delete_marker;
		return s3_object_remove(c, &o);
	}
	if (b->versioning == S3_VER_NONE) {
		r = s3_object_load(c, b->id, key, NULL, &o);
		if (r <= 0)
			return r;
		return s3_object_remove(c, &o);
	}
	/* versioned: a delete marker becomes the latest version */
	memset(&o, 0, sizeof(o));
	o.key = key;
	o.delete_marker = 1;
	o.mtime_ms = c->now_ms;
	if (s3_object_insert(c, b, &o, STR_NULL) < 0)
		return -1;
	*marker = 1;
	*vid = o.version_id;
	return 0;
}

int s3_object_reader(struct aws_call *c, const struct s3_bucket *b, const struct s3_object *o,
		     int copy_source, struct s3_reader *r)
{
	unsigned char key[32];
	struct str mem = STR_NULL;
	int rc, ssec = s3_is_ssec(o->sse);
	/* SSE-C members must fit the object, whatever its encryption */
	if (s3_ssec_object_key(c, o->sse, o->data_key, copy_source, key, NULL) < 0)
		return -1;
	if (o->sse && !ssec &&
	    s3_sse_open_key(c, o->enc_ctx, b->name, o->key, o->data_key, key) < 0)
		return -1;
	if (!o->file) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "SELECT data FROM s3_data WHERE object_id = ?1");
		sqlite3_bind_int64(st, 1, o->id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			size_t n = (size_t)sqlite3_column_bytes(st, 0);
			char *p = arena_alloc(c->a, n + 1);
			if (n)
				memcpy(p, sqlite3_column_blob(st, 0), n);
			mem = (struct str){p, n};
		}
		sqlite3_reset(st);
	}
	rc = s3_reader_open(r, o->file, mem, (uint64_t)o->size, o->sse ? key : NULL);
	memset(key, 0, sizeof(key));
	if (rc < 0)
		return aws_fail(c, 500, "InternalError", "The object data is missing on disk.");
	/* an SSE-C multipart object is its parts as uploaded, each with its
	 * own nonce prefix (after the salt and check in data_key) */
	if (ssec && o->parts &&
	    s3_reader_segments(
		r, o->parts,
		(struct str){o->data_key.p + S3_SSEC_BLOB, o->data_key.n - S3_SSEC_BLOB}) < 0) {
		s3_reader_close(r);
		return aws_fail(c, 500, "InternalError", "The object's parts do not add up.");
	}
	return 0;
}
