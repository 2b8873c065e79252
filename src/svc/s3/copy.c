/* copy.c - CopyObject (metadata and tagging directives, a new encryption
 * and storage class, the x-amz-copy-source-if-* conditions) and the
 * x-amz-copy-source parsing UploadPartCopy shares. Bytes are streamed
 * from the source's reader into a new data file; a plain single-part
 * source copied plain keeps its ETag and is copied in the kernel. */
#include "core/compat.h"
#include "aws/form.h"
#include "aws/gen/s3_ops.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <math.h>

/* copy_conditions: the x-amz-copy-source-if-* checks against so. */
static int copy_conditions(struct aws_call *c, const struct s3_object *so)
{
	struct str im = jv_get_strv(c->in, "CopySourceIfMatch");
	struct str inm = jv_get_strv(c->in, "CopySourceIfNoneMatch");
	struct jv *ius = jv_get(c->in, "CopySourceIfUnmodifiedSince");
	struct jv *ims = jv_get(c->in, "CopySourceIfModifiedSince");
	double t = floor((double)so->mtime_ms / 1000.0);
	int ok = 1;
	if (im.p)
		ok = s3_etag_match(im, so->etag);
	else if (ius)
		ok = t <= jv_get_double(c->in, "CopySourceIfUnmodifiedSince", 0);
	if (ok && inm.p)
		ok = !s3_etag_match(inm, so->etag);
	else if (ok && ims && !inm.p)
		ok = t > jv_get_double(c->in, "CopySourceIfModifiedSince", 0);
	if (!ok)
		return aws_fail(c, 412, "PreconditionFailed",
				"At least one of the pre-conditions you specified did not hold");
	return 0;
}

int s3_copy_source(struct aws_call *c, struct s3_bucket *sb, struct s3_object *so)
{
	struct str src = jv_get_strv(c->in, "CopySource");
	const char *q, *slash, *vid = NULL;
	char *dec;
	ssize_t n;
	int r;

	if (!src.p || !src.n)
		return aws_fail(
		    c, 400, "InvalidArgument",
		    "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
	if (src.p[0] == '/')
		src.p++, src.n--;
	q = memchr(src.p, '?', src.n);
	if (q) {
		struct str rest = {q + 1, src.n - (size_t)(q - src.p) - 1}, k, v;
		while (form_next(&rest, &k, &v))
			if (str_eq_c(k, "versionId"))
				vid = arena_str(c->a, v);
		src.n = (size_t)(q - src.p);
	}
	dec = arena_alloc(c->a, src.n + 1);
	n = url_decode(dec, src.p, src.n, 0);
	if (n < 0)
		return aws_fail(c, 400, "InvalidArgument", "Invalid copy source encoding");
	dec[n] = 0;
	slash = strchr(dec, '/');
	if (!slash || slash == dec || !slash[1])
		return aws_fail(c, 400, "InvalidArgument",
				"Copy Source must mention the source bucket and key: "
				"sourcebucket/sourcekey");
	dec[slash - dec] = 0;
	if (s3_bucket_find(c, dec, sb) < 0)
		return -1;
	r = s3_object_load(c, sb->id, slash + 1, vid, so);
	if (r < 0)
		return -1;
	if (r == 0)
		return vid ? aws_fail(c, 404, "NoSuchVersion",
				      "The specified version does not exist.")
			   : s3_no_such_key(c);
	if (so->delete_marker)
		return vid ? aws_fail(c, 400, "InvalidRequest",
				      "The source of a copy request may not specifically refer to "
				      "a delete marker by version id.")
			   : s3_no_such_key(c);
	if (!so->restore &&
	    (!strcmp(so->storage_class, "GLACIER") || !strcmp(so->storage_class, "DEEP_ARCHIVE")))
		return aws_fail(c, 403, "InvalidObjectState",
				"The operation is not valid for the object's storage class");
	return copy_conditions(c, so);
}

/* directive: "COPY" (default) or "REPLACE" of member m; -1 when invalid. */
static int directive(struct aws_call *c, const char *m)
{
	const char *d = jv_get_str(c->in, m);
	if (!d || !strcmp(d, "COPY"))
		return 0;
	if (!strcmp(d, "REPLACE"))
		return 1;
	return aws_fail(c, 400, "InvalidArgument", "Unknown %s value", m);
}

int s3_op_copy_object(struct aws_call *c)
{
	struct s3_bucket b, sb;
	struct s3_object so, o;
	struct s3_reader r;
	struct s3_writer w;
	struct s3_digests d;
	struct s3_sse sse;
	unsigned char dk[32];
	const char *key = jv_get_str(c->in, "Key"), *arn = NULL;
	int meta_rep, tag_rep, bad = 0, rc, algo, keep_etag;
	char md5hex[33];

	if (s3_bucket_arg(c, &b) < 0 || s3_copy_source(c, &sb, &so) < 0)
		return -1;
	if ((meta_rep = directive(c, "MetadataDirective")) < 0 ||
	    (tag_rep = directive(c, "TaggingDirective")) < 0)
		return -1;
	if (strlen(key) > S3_MAX_KEY)
		return aws_fail(c, 400, "KeyTooLongError", "Your key is too long");
	if (s3_sse_choose(c, &b, &sse) < 0)
		return -1;
	if (sb.id == b.id && !strcmp(so.key, key) && !meta_rep && !sse.sse &&
	    !jv_get(c->in, "StorageClass") && !jv_get(c->in, "WebsiteRedirectLocation") &&
	    !jv_get_str(c->in, "ChecksumAlgorithm"))
		return aws_fail(
		    c, 400, "InvalidRequest",
		    "This copy request is illegal because it is trying to copy an object "
		    "to itself without changing the object's metadata, storage class, "
		    "website redirect location or encryption attributes.");
	memset(&o, 0, sizeof(o));
	o.key = key;
	o.mtime_ms = c->now_ms;
	o.storage_class = jv_get_str(c->in, "StorageClass");
	o.headers = meta_rep ? s3_put_headers(c) : so.headers;
	o.meta = meta_rep ? s3_json_text(c, jv_get(c->in, "Metadata")) : so.meta;
	o.tags = tag_rep ? s3_parse_tagging(c, jv_get_str(c->in, "Tagging"), &bad) : so.tags;
	if (bad)
		return -1;
	algo = jv_get_str(c->in, "ChecksumAlgorithm")
		   ? s3_cks_from_name(jv_get_strv(c->in, "ChecksumAlgorithm"))
		   : (so.cks_algo ? s3_cks_from_name(str_c(so.cks_algo)) : S3_CKS_NONE);
	/* a whole single-part checksum of the same kind carries over */
	keep_etag = !so.parts && !sse.sse;
	if (keep_etag && so.cks_algo && so.cks && !strchr(so.cks, '-') &&
	    algo == s3_cks_from_name(str_c(so.cks_algo)))
		algo = S3_CKS_NONE, o.cks_algo = so.cks_algo, o.cks = so.cks;
	if (sse.sse && s3_sse_new_key(c, &sse, b.name, key, dk, &o.data_key, &arn) < 0)
		return -1;
	if (s3_object_reader(c, &sb, &so, 1, &r) < 0)
		return -1;
	if (s3_writer_open(&w, c->fb, (uint64_t)so.size, 1, sse.sse ? dk : NULL, !keep_etag, algo) <
	    0) {
		s3_reader_close(&r);
		return aws_fail(c, 500, "InternalError", "cannot create a data file");
	}
	memset(dk, 0, sizeof(dk));
	memset(&sse.ssec.key, 0, sizeof(sse.ssec.key));
	rc = s3_copy(&r, 0, (uint64_t)so.size, &w);
	s3_reader_close(&r);
	if (rc < 0) {
		s3_writer_abort(&w, c->fb);
		return aws_fail(c, 500, "InternalError", "cannot copy the object data");
	}
	if (s3_writer_finish(&w, c->fb, &d) < 0)
		return aws_fail(c, 500, "InternalError", "cannot write the object data");
	if (keep_etag)
		snprintf(md5hex, sizeof(md5hex), "%s", so.etag);
	else
		s3_md5_hex(d.md5, md5hex);
	o.size = so.size;
	o.etag = md5hex;
	if (algo) {
		o.cks_algo = s3_cks_name(algo);
		o.cks = s3_b64(c, d.cks, d.cks_n);
	}
	o.sse = sse.sse;
	o.kms_key = sse.sse && sse.sse[0] == 'a' ? arn : NULL;
	o.enc_ctx = sse.enc_ctx;
	o.bucket_key = sse.bucket_key;
	o.file = w.id[0] ? arena_strdup(c->a, w.id) : NULL;
	if (s3_tx_begin(c) < 0) {
		s3_writer_release(&w);
		buf_release(&w.mem);
		return -1;
	}
	rc = s3_object_insert(c, &b, &o, o.file ? STR_NULL : buf_str(&w.mem));
	s3_writer_release(&w);
	buf_release(&w.mem);
	if (s3_tx_end(c, rc) < 0)
		return -1;
	struct jv *out = aws_out(c), *res = jv_object(c->a);
	jv_set_str(c->a, res, "ETag", s3_quoted_etag(c, md5hex));
	jv_set_double(c->a, res, "LastModified", (double)o.mtime_ms / 1000.0);
	if (o.cks_algo)
		jv_set_str(c->a, res, s3_cks_member(s3_cks_from_name(str_c(o.cks_algo))), o.cks);
	jv_set(c->a, out, "CopyObjectResult", res);
	if (b.versioning != S3_VER_NONE)
		jv_set_str(c->a, out, "VersionId", o.version_id);
	if (strcmp(so.version_id, S3_NULL_VERSION) != 0)
		jv_set_str(c->a, out, "CopySourceVersionId", so.version_id);
	s3_sse_out(c, o.sse, o.kms_key, o.bucket_key);
	return 0;
}
