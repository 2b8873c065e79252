/* tagging.c - object tags: Get/Put/DeleteObjectTagging on the latest or a
 * given version (x-amz-tagging on PutObject and CopyObject is parsed in
 * objects.c). Tags are stored on the version row as a JSON object. */
#include "core/compat.h"
#include "aws/gen/s3_ops.h"
#include "fb.h"
#include "svc/s3/internal.h"

/* tagged_version: the version a tagging call names (latest by default). */
static int tagged_version(struct aws_call *c, struct s3_bucket *b, struct s3_object *o)
{
	const char *vid = jv_get_str(c->in, "VersionId");
	int r;
	if (s3_bucket_arg(c, b) < 0)
		return -1;
	r = s3_object_load(c, b->id, jv_get_str(c->in, "Key"), vid, o);
	if (r < 0)
		return -1;
	if (r == 0 && vid)
		return aws_fail(c, 404, "NoSuchVersion", "The specified version does not exist.");
	if (r == 0 || o->delete_marker)
		return vid ? aws_fail(c, 405, "MethodNotAllowed",
				      "The specified method is not allowed against this resource.")
			   : s3_no_such_key(c);
	return 0;
}

/* set_tags: stores tags JSON (NULL clears) on version row id. */
static int set_tags(struct aws_call *c, int64_t id, const char *tags)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE s3_objects SET tags = ?2 WHERE id = ?1");
	int rc;
	sqlite3_bind_int64(st, 1, id);
	if (tags)
		sqlite3_bind_text(st, 2, tags, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : s3_fail_db(c, rc);
}

/* version_out: VersionId of the output, for versioned objects. */
static void version_out(struct aws_call *c, const struct s3_object *o)
{
	if (strcmp(o->version_id, S3_NULL_VERSION) != 0)
		jv_set_str(c->a, aws_out(c), "VersionId", o->version_id);
	else
		aws_out(c);
}

int s3_op_get_object_tagging(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_object o;
	struct jv *tags, *set = jv_array(c->a);
	if (tagged_version(c, &b, &o) < 0)
		return -1;
	tags = s3_json_obj(c, o.tags);
	for (size_t i = 0; tags && i < tags->u.obj.n; i++) {
		struct jv *t = jv_object(c->a);
		jv_set_strn(c->a, t, "Key", tags->u.obj.m[i].key.p, tags->u.obj.m[i].key.n);
		jv_set(c->a, t, "Value", tags->u.obj.m[i].val);
		jv_push(c->a, set, t);
	}
	version_out(c, &o);
	jv_set(c->a, aws_out(c), "TagSet", set);
	return 0;
}

int s3_op_put_object_tagging(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_object o;
	struct jv *set = jv_get(jv_get(c->in, "Tagging"), "TagSet"), *obj = jv_object(c->a);
	if (tagged_version(c, &b, &o) < 0)
		return -1;
	if (jv_len(set) > 10)
		return aws_fail(c, 400, "BadRequest", "Object tags cannot be greater than 10");
	for (size_t i = 0; i < jv_len(set); i++) {
		const char *k = jv_get_str(jv_at(set, i), "Key");
		struct jv *v = jv_get(jv_at(set, i), "Value");
		if (!k || !*k || strlen(k) > 128 || !strncmp(k, "aws:", 4))
			return aws_fail(c, 400, "InvalidTag",
					"The TagKey you have provided is invalid");
		if (jv_get(obj, k))
			return aws_fail(c, 400, "InvalidTag",
					"Cannot provide multiple Tags with the same key");
		jv_set(c->a, obj, k, v ? v : jv_string_c(c->a, ""));
	}
	if (set_tags(c, o.id, obj->u.obj.n ? s3_json_text(c, obj) : NULL) < 0)
		return -1;
	version_out(c, &o);
	return 0;
}

int s3_op_delete_object_tagging(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_object o;
	if (tagged_version(c, &b, &o) < 0 || set_tags(c, o.id, NULL) < 0)
		return -1;
	version_out(c, &o);
	return 0;
}
