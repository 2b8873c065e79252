/* delete.c - DeleteObject and DeleteObjects (up to 1000 keys in one
 * transaction, Quiet mode, per-key errors). Versioned buckets get delete
 * markers; a versionId deletes that version for good. Deleting what does
 * not exist succeeds, as in AWS. */
#include "core/compat.h"
#include "aws/gen/s3_ops.h"
#include "fb.h"
#include "svc/s3/internal.h"

int s3_op_delete_object(struct aws_call *c)
{
	struct s3_bucket b;
	const char *vid = NULL;
	int marker = 0, rc;
	struct jv *out;
	if (s3_bucket_arg(c, &b) < 0 || s3_tx_begin(c) < 0)
		return -1;
	rc = s3_delete_key(c, &b, jv_get_str(c->in, "Key"), jv_get_str(c->in, "VersionId"), &marker,
			   &vid);
	if (s3_tx_end(c, rc) < 0)
		return -1;
	out = aws_out(c);
	if (marker)
		jv_set_bool(c->a, out, "DeleteMarker", 1);
	if (vid)
		jv_set_str(c->a, out, "VersionId", vid);
	s3_cors_actual(c, &b);
	return 0;
}

int s3_op_delete_objects(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *del = jv_get(c->in, "Delete"), *objs = jv_get(del, "Objects");
	int quiet = jv_get_bool(del, "Quiet", 0);
	struct jv *deleted = jv_array(c->a), *errors = jv_array(c->a), *out;
	size_t n = jv_len(objs);
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (n == 0 || n > 1000)
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	if (s3_tx_begin(c) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct jv *ob = jv_at(objs, i), *e = jv_object(c->a);
		const char *key = jv_get_str(ob, "Key"), *want = jv_get_str(ob, "VersionId");
		const char *vid = NULL;
		int marker = 0;
		jv_set_str(c->a, e, "Key", key);
		if (want)
			jv_set_str(c->a, e, "VersionId", want);
		if (!key || s3_delete_key(c, &b, key, want, &marker, &vid) < 0) {
			if (c->err_status >= 500) {
				return s3_tx_end(c, -1);
			}
			jv_set_str(c->a, e, "Code", c->err_code ? c->err_code : "InvalidArgument");
			jv_set_str(c->a, e, "Message", c->err_msg ? c->err_msg : "Invalid key");
			s3_clear_error(c);
			jv_push(c->a, errors, e);
			continue;
		}
		if (marker) {
			jv_set_bool(c->a, e, "DeleteMarker", 1);
			if (!want)
				jv_set_str(c->a, e, "DeleteMarkerVersionId", vid);
		}
		if (!quiet)
			jv_push(c->a, deleted, e);
	}
	if (s3_tx_end(c, 0) < 0)
		return -1;
	out = aws_out(c);
	if (jv_len(deleted))
		jv_set(c->a, out, "Deleted", deleted);
	if (jv_len(errors))
		jv_set(c->a, out, "Errors", errors);
	return 0;
}
