/* objects.c - PutObject, GetObject and HeadObject: conditional requests
 * (If-Match / If-None-Match, including If-None-Match: * on PUT as
 * Terraform's lock file uses it, If-(Un)Modified-Since), Range and
 * partNumber reads (206), response header overrides, user metadata and
 * the standard headers, checksums, and bodies streamed from disk (a file
 * range for plain objects, decryption on the fly for encrypted ones). A
 * PUT whose body workers store (s3_body_store_async) answers later; its
 * conditions are checked again in the commit's transaction. */
#include "core/compat.h"
#include "aws/form.h"
#include "aws/gen/s3_ops.h"
#include "aws/proto_rest.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <math.h>
#include <stdlib.h>

static const char *const header_members[] = {
    "ContentType",     "CacheControl", "ContentDisposition",	 "ContentEncoding",
    "ContentLanguage", "Expires",      "WebsiteRedirectLocation"};

const char *s3_put_headers(struct aws_call *c)
{
	struct jv *h = jv_object(c->a);
	for (size_t i = 0; i < FB_ARRAY_LEN(header_members); i++) {
		struct jv *v = jv_get(c->in, header_members[i]);
		if (!v)
			continue;
		if (!strcmp(header_members[i], "ContentEncoding") && v->type == JV_STRING) {
			/* aws-chunked describes the upload, not the object */
			struct buf b = BUF_INIT;
			const char *p = v->u.s.p, *e = p + v->u.s.n;
			while (p < e) {
				const char *comma = memchr(p, ',', (size_t)(e - p));
				const char *end = comma ? comma : e, *s = p;
				while (s < end && *s == ' ')
					s++;
				if ((size_t)(end - s) != 11 || strncasecmp(s, "aws-chunked", 11)) {
					if (b.n)
						buf_putc(&b, ',');
					buf_append(&b, s, (size_t)(end - s));
				}
				p = comma ? comma + 1 : e;
			}
			if (b.n)
				jv_set_strn(c->a, h, "ContentEncoding", b.p, b.n);
			buf_release(&b);
			continue;
		}
		jv_set(c->a, h, header_members[i], v);
	}
	return h->u.obj.n ? s3_json_text(c, h) : NULL;
}

const char *s3_parse_tagging(struct aws_call *c, const char *hdr, int *bad)
{
	struct str cur = str_c(hdr), k, v;
	struct jv *o = jv_object(c->a);
	*bad = 0;
	while (hdr && form_next(&cur, &k, &v)) {
		char *kd = arena_alloc(c->a, k.n + 1), *vd = arena_alloc(c->a, v.n + 1);
		ssize_t kn = url_decode(kd, k.p, k.n, 1), vn = url_decode(vd, v.p, v.n, 1);
		if (kn <= 0 || vn < 0 || kn > 128 || vn > 256) {
			*bad = 1;
			aws_fail(c, 400, "InvalidTag", "The TagKey you have provided is invalid");
			return NULL;
		}
		kd[kn] = 0;
		if (jv_get(o, kd)) {
			*bad = 1;
			aws_fail(c, 400, "InvalidTag",
				 "Cannot provide multiple Tags with the same key");
			return NULL;
		}
		jv_set(c->a, o, kd, jv_string(c->a, vd, (size_t)vn));
	}
	if (o->u.obj.n > 10) {
		*bad = 1;
		aws_fail(c, 400, "BadRequest", "Object tags cannot be greater than 10");
		return NULL;
	}
	return o->u.obj.n ? s3_json_text(c, o) : NULL;
}

/* put_conditions: If-None-Match: * and If-Match on PUT against the
 * current version <cur> (found = 1). 0, or -1 with PreconditionFailed. */
static int put_conditions(struct aws_call *c, int found, const struct s3_object *cur)
{
	struct str inm = s3_header(c, "if-none-match"), im = s3_header(c, "if-match");
	int live = found && !cur->delete_marker;
	if (inm.p) {
		if (!str_eq_c(inm, "*"))
			return aws_fail(c, 501, "NotImplemented",
					"A header you provided implies functionality that is not "
					"implemented");
		if (live)
			return aws_fail(c, 412, "PreconditionFailed",
					"At least one of the pre-conditions you specified did not "
					"hold");
	}
	if (im.p) {
		if (!live)
			return s3_no_such_key(c);
		if (!s3_etag_match(im, cur->etag))
			return aws_fail(c, 412, "PreconditionFailed",
					"At least one of the pre-conditions you specified did not "
					"hold");
	}
	return 0;
}

/* What PutObject knows before the body is stored; in the call's arena,
 * so a deferred call still has it. */
struct put_state {
	struct s3_bucket b;
	struct s3_object o; /* everything but what the body gives */
};

/* put_has_conditions: 1 when the PUT carries If-None-Match or If-Match. */
static int put_has_conditions(const struct aws_call *c)
{
	return s3_header(c, "if-none-match").p || s3_header(c, "if-match").p;
}

/* put_commit: the metadata transaction of a PUT whose body is stored
 * (<sb>, its file registered for publication). A deferred PUT's world may
 * have changed while its body streamed in, so the bucket is read again
 * and If-None-Match / If-Match evaluated again inside the transaction
 * (two racing conditional PUTs cannot both win); one stored in the same
 * turn of the loop as its checks (<deferred> 0) saw nothing else run
 * meanwhile. Sets the output. 0 or -1. */
static int put_commit(struct aws_call *c, struct put_state *ps, struct s3_stored *sb, int deferred)
{
	struct s3_object *o = &ps->o, cur;
	struct s3_bucket b = ps->b;
	char md5hex[33];
	int rc, found;
	s3_md5_hex(sb->d.md5, md5hex);
	o->size = (int64_t)sb->size;
	o->etag = arena_strdup(c->a, md5hex);
	o->cks_algo = sb->cks_algo;
	o->cks = sb->cks;
	o->file = sb->w.id[0] ? arena_strdup(c->a, sb->w.id) : NULL;
	if (s3_tx_begin(c) < 0) {
		s3_store_tx_done(0);
		rc = -1;
		goto out;
	}
	rc = deferred ? s3_bucket_find(c, ps->b.name, &b) : 0;
	if (rc == 0 && deferred && put_has_conditions(c)) {
		found = s3_object_load(c, b.id, o->key, NULL, &cur);
		rc = found < 0 || put_conditions(c, found, &cur) < 0 ? -1 : 0;
	}
	if (rc == 0)
		rc = s3_object_insert(c, &b, o, o->file ? STR_NULL : buf_str(&sb->w.mem));
	rc = s3_tx_end(c, rc);
out:
	s3_writer_release(&sb->w);
	buf_release(&sb->w.mem);
	if (rc < 0)
		return -1;
	struct jv *out = aws_out(c);
	jv_set_str(c->a, out, "ETag", s3_quoted_etag(c, o->etag));
	if (b.versioning != S3_VER_NONE)
		jv_set_str(c->a, out, "VersionId", o->version_id);
	if (sb->cks_algo)
		jv_set_str(c->a, out, s3_cks_member(s3_cks_from_name(str_c(sb->cks_algo))),
			   sb->cks);
	s3_sse_out(c, o->sse, o->kms_key, o->bucket_key);
	s3_cors_actual(c, &b);
	return 0;
}

/* put_stored: s3_body_cb of a deferred PutObject. */
static void put_stored(struct aws_call *c, struct s3_stored *sb, void *arg)
{
	if (sb)
		put_commit(c, arg, sb, 1);
	aws_resume(c);
}

int s3_op_put_object(struct aws_call *c)
{
	struct put_state *ps = arena_zalloc(c->a, sizeof(*ps));
	struct s3_object *o = &ps->o, cur;
	struct s3_sse sse;
	struct s3_stored sb;
	unsigned char dk[32];
	const char *key = jv_get_str(c->in, "Key"), *arn = NULL;
	int bad, found, rc;

	if (s3_bucket_arg(c, &ps->b) < 0)
		return -1;
	if (strlen(key) > S3_MAX_KEY)
		return aws_fail(c, 400, "KeyTooLongError", "Your key is too long");
	/* checked now so a failing PUT stores nothing, and again at commit */
	if (put_has_conditions(c)) {
		found = s3_object_load(c, ps->b.id, key, NULL, &cur);
		if (found < 0 || put_conditions(c, found, &cur) < 0)
			return -1;
	}
	o->tags = s3_parse_tagging(c, jv_get_str(c->in, "Tagging"), &bad);
	if (bad || s3_sse_choose(c, &ps->b, &sse) < 0)
		return -1;
	o->key = key;
	o->mtime_ms = c->now_ms;
	o->storage_class = jv_get_str(c->in, "StorageClass");
	o->headers = s3_put_headers(c);
	o->meta = s3_json_text(c, jv_get(c->in, "Metadata"));
	o->sse = sse.sse;
	o->enc_ctx = sse.enc_ctx;
	o->bucket_key = sse.bucket_key;
	if (!sse.sse) {
		rc = s3_body_store_async(c, 1, S3_CKS_NONE, put_stored, ps);
		if (rc != 0)
			return rc < 0 ? -1 : 0; /* 1: put_stored answers */
	}
	if (sse.sse && s3_sse_new_key(c, &sse, ps->b.name, key, dk, &o->data_key, &arn) < 0)
		return -1;
	o->kms_key = sse.sse && sse.sse[0] == 'a' ? arn : NULL;
	rc = s3_body_store(c, sse.sse ? dk : NULL, 0, 1, S3_CKS_NONE, &sb);
	memset(dk, 0, sizeof(dk));
	memset(&sse.ssec.key, 0, sizeof(sse.ssec.key));
	if (rc < 0)
		return -1;
	return put_commit(c, ps, &sb, 0);
}

/* ---- GET / HEAD ---- */

/* A streamed, decrypted body: the pull context of an encrypted object. */
struct stream {
	struct s3_reader r;
	uint64_t pos, end;
};

/* stream_pull: http_pull_fn decrypting the next bytes of the range. */
static ssize_t stream_pull(void *ctx, char *buf, size_t cap)
{
	struct stream *s = ctx;
	size_t want = s->end - s->pos < cap ? (size_t)(s->end - s->pos) : cap;
	ssize_t k = want ? s3_reader_pread(&s->r, buf, want, s->pos) : -1;
	if (k > 0)
		s->pos += (uint64_t)k;
	return k > 0 ? k : -1;
}

/* stream_free: closes the reader and frees the context (pull_free). */
static void stream_free(void *ctx)
{
	struct stream *s = ctx;
	s3_reader_close(&s->r);
	free(s);
}

/* load_version: the version a GET/HEAD names, with S3's errors. */
static int load_version(struct aws_call *c, const struct s3_bucket *b, struct s3_object *o)
{
	const char *vid = jv_get_str(c->in, "VersionId");
	int r = s3_object_load(c, b->id, jv_get_str(c->in, "Key"), vid, o);
	if (r < 0)
		return -1;
	if (r == 0 && vid) {
		size_t n = strlen(vid);
		if (strcmp(vid, S3_NULL_VERSION) != 0 && n != 32)
			return aws_fail(c, 400, "InvalidArgument", "Invalid version id specified");
		return aws_fail(c, 404, "NoSuchVersion", "The specified version does not exist.");
	}
	if (r == 0 || (o->delete_marker && !vid))
		return s3_no_such_key(c);
	if (o->delete_marker)
		return aws_fail(c, 405, "MethodNotAllowed",
				"The specified method is not allowed against this resource.");
	return 0;
}

/* get_conditions: 1 when the response is 304 Not Modified, 0 to serve,
 * -1 with PreconditionFailed. */
static int get_conditions(struct aws_call *c, const struct s3_object *o)
{
	struct str im = s3_header(c, "if-match"), inm = s3_header(c, "if-none-match");
	double t = floor((double)o->mtime_ms / 1000.0);
	struct jv *ius = jv_get(c->in, "IfUnmodifiedSince"),
		  *ims = jv_get(c->in, "IfModifiedSince");
	if (im.p) {
		if (!s3_etag_match(im, o->etag))
			goto failed;
	} else if (ius && t > jv_get_double(c->in, "IfUnmodifiedSince", 0)) {
		goto failed;
	}
	if (inm.p)
		return s3_etag_match(inm, o->etag);
	if (ims && t <= jv_get_double(c->in, "IfModifiedSince", 0))
		return 1;
	return 0;
failed:
	return aws_fail(c, 412, "PreconditionFailed",
			"At least one of the pre-conditions you specified did not hold");
}

/* part_range: the byte range of part <n> of multipart object o. */
static int part_range(struct aws_call *c, const struct s3_object *o, int64_t n, uint64_t *start,
		      uint64_t *len, int *count)
{
	const char *p = o->parts;
	int64_t i = 1;
	uint64_t off = 0;
	*count = 0;
	if (!p) {
		if (n != 1)
			goto bad;
		*start = 0;
		*len = (uint64_t)o->size;
		return 0;
	}
	for (const char *q = p; *q; q++)
		*count += *q == ',';
	(*count)++;
	while (*p) {
		uint64_t sz = strtoull(p, (char **)&p, 10);
		if (i == n) {
			*start = off;
			*len = sz;
			return 0;
		}
		off += sz;
		i++;
		if (*p == ',')
			p++;
	}
bad:
	return aws_fail(c, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable");
}

/* object_headers: the output members describing o (GET and HEAD). */
static void object_headers(struct aws_call *c, const struct s3_bucket *b, const struct s3_object *o,
			   int get)
{
	struct jv *out = aws_out(c), *h = s3_json_obj(c, o->headers), *meta;
	jv_set_str(c->a, out, "ETag", s3_quoted_etag(c, o->etag));
	jv_set_double(c->a, out, "LastModified", floor((double)o->mtime_ms / 1000.0));
	jv_set_str(c->a, out, "AcceptRanges", "bytes");
	for (size_t i = 0; h && i < h->u.obj.n; i++)
		jv_set_n(c->a, out, h->u.obj.m[i].key.p, h->u.obj.m[i].key.n, h->u.obj.m[i].val);
	if (!jv_get(out, "ContentType"))
		jv_set_str(c->a, out, "ContentType", "binary/octet-stream");
	if ((meta = s3_json_obj(c, o->meta)))
		jv_set(c->a, out, "Metadata", meta);
	if (b->versioning != S3_VER_NONE || strcmp(o->version_id, S3_NULL_VERSION) != 0)
		jv_set_str(c->a, out, "VersionId", o->version_id);
	if (strcmp(o->storage_class, "STANDARD") != 0)
		jv_set_str(c->a, out, "StorageClass", o->storage_class);
	if (o->restore)
		jv_set_str(c->a, out, "Restore", o->restore);
	if (o->cks_algo && o->cks && str_eq_c(jv_get_strv(c->in, "ChecksumMode"), "ENABLED"))
		jv_set_str(c->a, out, s3_cks_member(s3_cks_from_name(str_c(o->cks_algo))), o->cks);
	if (get) {
		struct jv *tags = s3_json_obj(c, o->tags);
		if (tags && tags->u.obj.n)
			jv_set_int(c->a, out, "TagCount", (int64_t)tags->u.obj.n);
		static const char *const over[][2] = {
		    {"ResponseContentType", "ContentType"},
		    {"ResponseContentLanguage", "ContentLanguage"},
		    {"ResponseExpires", "Expires"},
		    {"ResponseCacheControl", "CacheControl"},
		    {"ResponseContentDisposition", "ContentDisposition"},
		    {"ResponseContentEncoding", "ContentEncoding"},
		};
		for (size_t i = 0; i < FB_ARRAY_LEN(over); i++) {
			struct jv *v = jv_get(c->in, over[i][0]);
			if (v)
				jv_set(c->a, out, over[i][1], v);
		}
	}
	s3_sse_out(c, o->sse, o->kms_key, o->bucket_key);
}

/* get_or_head: the shared body of GetObject (get = 1) and HeadObject. */
static int get_or_head(struct aws_call *c, int get)
{
	struct s3_bucket b;
	struct s3_object o;
	struct s3_reader r;
	uint64_t start = 0, len;
	int partial = 0, cond, nparts = 0;
	int64_t part = jv_get_int(c->in, "PartNumber", 0);

	if (s3_bucket_arg(c, &b) < 0 || load_version(c, &b, &o) < 0 ||
	    s3_ssec_object_key(c, o.sse, o.data_key, 0, NULL, NULL) < 0)
		return -1;
	len = (uint64_t)o.size;
	if (get && !o.restore &&
	    (!strcmp(o.storage_class, "GLACIER") || !strcmp(o.storage_class, "DEEP_ARCHIVE")))
		return aws_fail(c, 403, "InvalidObjectState",
				"The operation is not valid for the object's storage class");
	if ((cond = get_conditions(c, &o)) < 0)
		return -1;
	object_headers(c, &b, &o, get);
	s3_cors_actual(c, &b);
	if (cond == 1) {
		struct jv *out = aws_out(c), *keep = jv_object(c->a);
		/* 304 carries only the validators */
		jv_set(c->a, keep, "ETag", jv_get(out, "ETag"));
		jv_set(c->a, keep, "LastModified", jv_get(out, "LastModified"));
		if (jv_get(out, "VersionId"))
			jv_set(c->a, keep, "VersionId", jv_get(out, "VersionId"));
		c->out = keep;
		proto_rest_set_status(c, 304);
		return 0;
	}
	if (part > 0) {
		if (part_range(c, &o, part, &start, &len, &nparts) < 0)
			return -1;
		jv_set_int(c->a, aws_out(c), "PartsCount", nparts ? nparts : 1);
		partial = o.parts != NULL;
	} else {
		int rr = s3_range_parse(s3_header(c, "range"), (uint64_t)o.size, &start, &len);
		if (rr < 0) {
			proto_rest_add_header(
			    c, "Content-Range",
			    arena_sprintf(c->a, "bytes */%lld", (long long)o.size));
			return aws_fail(c, 416, "InvalidRange",
					"The requested range is not satisfiable");
		}
		partial = rr == 1;
	}
	if (partial) {
		jv_set_str(c->a, aws_out(c), "ContentRange",
			   arena_sprintf(c->a, "bytes %llu-%llu/%lld", (unsigned long long)start,
					 (unsigned long long)(start + len - 1), (long long)o.size));
		proto_rest_set_status(c, 206);
	}
	if (!get) {
		proto_rest_body_length(c, len);
		return 0;
	}
	if (s3_object_reader(c, &b, &o, 0, &r) < 0)
		return -1;
	if (!r.enc && r.fd >= 0) {
		/* plain file: the kernel sends it (sendfile) */
		proto_rest_body_file(c, r.fd, start, len);
		r.fd = -1;
		s3_reader_close(&r);
		return 0;
	}
	if (!r.enc) {
		jv_set_strn(c->a, aws_out(c), "Body", r.mem.p ? r.mem.p + start : "", (size_t)len);
		s3_reader_close(&r);
		return 0;
	}
	struct stream *s = malloc(sizeof(*s));
	if (!s) {
		s3_reader_close(&r);
		return aws_fail(c, 500, "InternalError", "out of memory");
	}
	s3_reader_own(&r);
	s->r = r;
	s->pos = start;
	s->end = start + len;
	proto_rest_body_pull(c, len, stream_pull, s, stream_free);
	return 0;
}

int s3_op_get_object(struct aws_call *c)
{
	return get_or_head(c, 1);
}

int s3_op_head_object(struct aws_call *c)
{
	return get_or_head(c, 0);
}
