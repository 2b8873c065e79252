/* uploads.c - the listings of multipart uploads: ListParts (one upload's
 * parts, paged by part number) and ListMultipartUploads (a bucket's
 * uploads by key and initiation, with prefix, delimiter and markers). */
#include "core/compat.h"
#include "aws/gen/s3_ops.h"
#include "fb.h"
#include "svc/s3/internal.h"

int s3_op_list_parts(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_upload u;
	int64_t marker = jv_get_int(c->in, "PartNumberMarker", 0);
	int64_t max = jv_get_int(c->in, "MaxParts", 1000);
	struct jv *out, *parts = jv_array(c->a), *init;
	sqlite3_stmt *st;
	int64_t last = 0, n = 0;
	int more = 0;

	if (s3_bucket_arg(c, &b) < 0 || s3_upload_find(c, &b, &u) < 0)
		return -1;
	if (max < 0 || max > 1000)
		max = 1000;
	st = db_stmt(c->fb->db, "SELECT part_number, size, etag, cks, mtime FROM s3_parts WHERE "
				"upload = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3");
	sqlite3_bind_int64(st, 1, u.id);
	sqlite3_bind_int64(st, 2, marker);
	sqlite3_bind_int64(st, 3, max + 1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *p;
		if (n == max) {
			more = 1;
			break;
		}
		p = jv_object(c->a);
		last = sqlite3_column_int64(st, 0);
		jv_set_int(c->a, p, "PartNumber", last);
		jv_set_int(c->a, p, "Size", sqlite3_column_int64(st, 1));
		jv_set_str(c->a, p, "ETag", s3_quoted_etag(c, db_col_text(st, 2)));
		jv_set_double(c->a, p, "LastModified",
			      (double)sqlite3_column_int64(st, 4) / 1000.0);
		if (u.cks_algo && sqlite3_column_type(st, 3) != SQLITE_NULL)
			jv_set_str(c->a, p, s3_cks_member(s3_cks_from_name(str_c(u.cks_algo))),
				   db_col_text(st, 3));
		jv_push(c->a, parts, p);
		n++;
	}
	sqlite3_reset(st);
	out = aws_out(c);
	jv_set_str(c->a, out, "Bucket", b.name);
	jv_set_str(c->a, out, "Key", u.key);
	jv_set_str(c->a, out, "UploadId", u.upload_id);
	jv_set_int(c->a, out, "PartNumberMarker", marker);
	if (more)
		jv_set_int(c->a, out, "NextPartNumberMarker", last);
	jv_set_int(c->a, out, "MaxParts", max);
	jv_set_bool(c->a, out, "IsTruncated", more);
	if (jv_len(parts))
		jv_set(c->a, out, "Parts", parts);
	init = s3_owner(c, u.owner);
	jv_set(c->a, out, "Initiator", init);
	jv_set(c->a, out, "Owner", s3_owner(c, b.account));
	jv_set_str(c->a, out, "StorageClass", u.storage_class ? u.storage_class : "STANDARD");
	if (u.cks_algo)
		jv_set_str(c->a, out, "ChecksumAlgorithm", u.cks_algo);
	return 0;
}

int s3_op_list_multipart_uploads(struct aws_call *c)
{
	struct s3_bucket b;
	const char *prefix = jv_get_str(c->in, "Prefix") ? jv_get_str(c->in, "Prefix") : "";
	const char *delim = jv_get_str(c->in, "Delimiter");
	const char *kmark = jv_get_str(c->in, "KeyMarker") ? jv_get_str(c->in, "KeyMarker") : "";
	const char *umark = jv_get_str(c->in, "UploadIdMarker");
	int64_t max = jv_get_int(c->in, "MaxUploads", 1000);
	struct jv *out, *ups = jv_array(c->a), *cps = jv_array(c->a);
	const char *last_key = NULL, *last_uid = NULL, *last_cp = NULL;
	size_t plen = strlen(prefix);
	sqlite3_stmt *st;
	int64_t n = 0;
	int more = 0;

	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (max < 0 || max > 1000)
		max = 1000;
	/* uploads of one bucket are few: a key-ordered walk from the marker */
	st =
	    db_stmt(c->fb->db, "SELECT " S3_UPLOAD_COLS " FROM s3_uploads WHERE bucket_id = ?1 AND "
			       "key >= ?2 ORDER BY key, id");
	sqlite3_bind_int64(st, 1, b.id);
	sqlite3_bind_text(st, 2, kmark, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct s3_upload u;
		struct jv *e;
		s3_upload_from_row(c, st, &u);
		if (strncmp(u.key, prefix, plen) != 0)
			continue;
		if (*kmark && !strcmp(u.key, kmark)) {
			/* with an upload-id marker, later uploads of the marker key follow */
			if (!umark || strcmp(u.upload_id, umark) <= 0)
				continue;
		}
		if (delim && *delim) {
			const char *d = strstr(u.key + plen, delim);
			if (d) {
				const char *cp =
				    arena_strndup(c->a, u.key, (size_t)(d - u.key) + strlen(delim));
				if (last_cp && !strcmp(cp, last_cp))
					continue;
				if (n == max) {
					more = 1;
					break;
				}
				e = jv_object(c->a);
				jv_set_str(c->a, e, "Prefix", cp);
				jv_push(c->a, cps, e);
				last_cp = cp;
				last_key = cp;
				last_uid = NULL;
				n++;
				continue;
			}
		}
		if (n == max) {
			more = 1;
			break;
		}
		e = jv_object(c->a);
		jv_set_str(c->a, e, "Key", u.key);
		jv_set_str(c->a, e, "UploadId", u.upload_id);
		jv_set_double(c->a, e, "Initiated", (double)u.initiated_ms / 1000.0);
		jv_set_str(c->a, e, "StorageClass", u.storage_class ? u.storage_class : "STANDARD");
		jv_set(c->a, e, "Owner", s3_owner(c, b.account));
		jv_set(c->a, e, "Initiator", s3_owner(c, u.owner));
		if (u.cks_algo)
			jv_set_str(c->a, e, "ChecksumAlgorithm", u.cks_algo);
		jv_push(c->a, ups, e);
		last_key = u.key;
		last_uid = u.upload_id;
		n++;
	}
	sqlite3_reset(st);
	out = aws_out(c);
	jv_set_str(c->a, out, "Bucket", b.name);
	jv_set_str(c->a, out, "KeyMarker", kmark);
	jv_set_str(c->a, out, "UploadIdMarker", umark ? umark : "");
	if (*prefix)
		jv_set_str(c->a, out, "Prefix", prefix);
	if (delim)
		jv_set_str(c->a, out, "Delimiter", delim);
	jv_set_int(c->a, out, "MaxUploads", max);
	jv_set_bool(c->a, out, "IsTruncated", more);
	if (more && last_key) {
		jv_set_str(c->a, out, "NextKeyMarker", last_key);
		if (last_uid)
			jv_set_str(c->a, out, "NextUploadIdMarker", last_uid);
	}
	if (jv_len(ups))
		jv_set(c->a, out, "Uploads", ups);
	if (jv_len(cps))
		jv_set(c->a, out, "CommonPrefixes", cps);
	return 0;
}
