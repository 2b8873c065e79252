/* attrs.c - GetObjectAttributes (ETag, checksum, parts, storage class,
 * size in one call) and RestoreObject (archived objects become readable
 * at once: fogbank has no thaw delay). */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/s3_ops.h"
#include "aws/proto_rest.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <math.h>
#include <stdlib.h>

/* wants: 1 when attribute name is in the requested list. */
static int wants(const struct jv *list, const char *name)
{
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jv *v = jv_at(list, i);
		if (v && v->type == JV_STRING && !strcmp(v->u.s.p, name))
			return 1;
	}
	return 0;
}

/* version_arg: the version named by Key/VersionId, with S3's errors. */
static int version_arg(struct aws_call *c, struct s3_bucket *b, struct s3_object *o)
{
	const char *vid = jv_get_str(c->in, "VersionId");
	int r;
	if (s3_bucket_arg(c, b) < 0)
		return -1;
	r = s3_object_load(c, b->id, jv_get_str(c->in, "Key"), vid, o);
	if (r < 0)
		return -1;
	if (r == 0)
		return vid ? aws_fail(c, 404, "NoSuchVersion",
				      "The specified version does not exist.")
			   : s3_no_such_key(c);
	if (o->delete_marker)
		return vid ? aws_fail(c, 405, "MethodNotAllowed",
				      "The specified method is not allowed against this resource.")
			   : s3_no_such_key(c);
	return 0;
}

int s3_op_get_object_attributes(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_object o;
	struct jv *want = jv_get(c->in, "ObjectAttributes"), *out;
	if (version_arg(c, &b, &o) < 0 ||
	    s3_ssec_object_key(c, o.sse, o.data_key, 0, NULL, NULL) < 0)
		return -1;
	out = aws_out(c);
	jv_set_double(c->a, out, "LastModified", floor((double)o.mtime_ms / 1000.0));
	if (strcmp(o.version_id, S3_NULL_VERSION) != 0)
		jv_set_str(c->a, out, "VersionId", o.version_id);
	if (wants(want, "ETag"))
		jv_set_str(c->a, out, "ETag", o.etag);
	if (wants(want, "StorageClass"))
		jv_set_str(c->a, out, "StorageClass", o.storage_class);
	if (wants(want, "ObjectSize"))
		jv_set_int(c->a, out, "ObjectSize", o.size);
	if (wants(want, "Checksum") && o.cks_algo && o.cks) {
		struct jv *ck = jv_object(c->a);
		const char *v = o.cks, *dash = strchr(v, '-');
		/* a composite checksum is reported without its "-N" */
		jv_set_strn(c->a, ck, s3_cks_member(s3_cks_from_name(str_c(o.cks_algo))), v,
			    dash ? (size_t)(dash - v) : strlen(v));
		jv_set(c->a, out, "Checksum", ck);
	}
	if (wants(want, "ObjectParts") && o.parts) {
		struct jv *op = jv_object(c->a), *parts = jv_array(c->a);
		int64_t marker = jv_get_int(c->in, "PartNumberMarker", 0);
		int64_t max = jv_get_int(c->in, "MaxParts", 1000), num = 0, total = 0, shown = 0;
		const char *p = o.parts;
		int more = 0;
		while (*p) {
			uint64_t sz = strtoull(p, (char **)&p, 10);
			num++;
			total++;
			if (*p == ',')
				p++;
			if (num <= marker)
				continue;
			if (shown == max) {
				more = 1;
				continue;
			}
			struct jv *e = jv_object(c->a);
			jv_set_int(c->a, e, "PartNumber", num);
			jv_set_int(c->a, e, "Size", (int64_t)sz);
			jv_push(c->a, parts, e);
			shown++;
		}
		jv_set_int(c->a, op, "TotalPartsCount", total);
		jv_set_int(c->a, op, "PartNumberMarker", marker);
		jv_set_int(c->a, op, "MaxParts", max);
		jv_set_bool(c->a, op, "IsTruncated", more);
		if (more)
			jv_set_int(c->a, op, "NextPartNumberMarker", marker + shown);
		jv_set(c->a, op, "Parts", parts);
		jv_set(c->a, out, "ObjectParts", op);
	}
	return 0;
}

int s3_op_restore_object(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_object o;
	int64_t days = jv_get_int(jv_get(c->in, "RestoreRequest"), "Days", 1);
	char when[40];
	sqlite3_stmt *st;
	int rc, again;
	if (version_arg(c, &b, &o) < 0)
		return -1;
	if (strcmp(o.storage_class, "GLACIER") && strcmp(o.storage_class, "DEEP_ARCHIVE") &&
	    strcmp(o.storage_class, "GLACIER_IR"))
		return aws_fail(c, 403, "InvalidObjectState",
				"Restore is not allowed for the object's current storage class");
	again = o.restore != NULL;
	fmt_rfc822(when, (double)(c->now_ms + days * s3_day_ms()) / 1000.0);
	st = db_stmt(c->fb->db, "UPDATE s3_objects SET restore = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, o.id);
	sqlite3_bind_text(
	    st, 2, arena_sprintf(c->a, "ongoing-request=\"false\", expiry-date=\"%s\"", when), -1,
	    SQLITE_STATIC);
	rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return s3_fail_db(c, rc);
	/* 202 for a new restore, 200 when the object already was */
	proto_rest_set_status(c, again ? 200 : 202);
	aws_out(c);
	return 0;
}
