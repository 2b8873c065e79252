/* images.c - ListImages, DescribeImages, BatchGetImage, BatchDeleteImage
 * and PutImage. An image is one manifest; its identifiers are its digest
 * and any number of tags. Deleting an image's last tag deletes the image,
 * as ECR does. */
#include "core/compat.h"
#include "aws/gen/ecr_ops.h"
#include "fb.h"
#include "svc/ecr/internal.h"

/* tag_status_ok: 1 when an image with ntags tags passes filter.tagStatus. */
static int tag_status_ok(struct aws_call *c, size_t ntags)
{
	const char *ts = jv_get_str(jv_get(c->in, "filter"), "tagStatus");
	if (!ts || !strcmp(ts, "ANY"))
		return 1;
	return !strcmp(ts, "TAGGED") ? ntags > 0 : ntags == 0;
}

/* image_id: {imageDigest, imageTag (NULL: none)}. */
static struct jv *image_id(struct aws_call *c, const char *digest, const char *tag)
{
	struct jv *o = jv_object(c->a);
	jv_set_str(c->a, o, "imageDigest", digest);
	jv_set_str(c->a, o, "imageTag", tag);
	return o;
}

int ecr_op_list_images(struct aws_call *c)
{
	struct ecr_repo r;
	struct ecr_image_row *imgs;
	size_t off, limit;
	if (ecr_page_args(c, ECR_DEFAULT_PAGE, &off, &limit) < 0 || ecr_repo_find(c, &r) < 0)
		return -1;
	ssize_t n = ecr_images_load(c->fb, c->a, r.id, &imgs);
	if (n < 0)
		return ecr_fail_db(c, SQLITE_ERROR);
	struct jv *list = jv_array(c->a);
	size_t k = 0; /* entries seen: one per tag, or one for an untagged image */
	for (ssize_t i = 0; i < n; i++) {
		const struct ecr_image_row *im = &imgs[i];
		if (!tag_status_ok(c, im->ntags))
			continue;
		for (size_t t = 0; t < (im->ntags ? im->ntags : 1); t++, k++)
			if (k >= off && jv_len(list) < limit)
				jv_push(c->a, list,
					image_id(c, im->digest, im->ntags ? im->tags[t] : NULL));
	}
	jv_set(c->a, aws_out(c), "imageIds", list);
	ecr_page_token(c, off + jv_len(list), k);
	return 0;
}

/* detail: the ImageDetail shape of im. */
static struct jv *detail(struct aws_call *c, const struct ecr_repo *r,
			 const struct ecr_image_row *im)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a);
	jv_set_str(a, o, "registryId", r->account);
	jv_set_str(a, o, "repositoryName", r->name);
	jv_set_str(a, o, "imageDigest", im->digest);
	if (im->ntags) {
		struct jv *tags = jv_array(a);
		for (size_t t = 0; t < im->ntags; t++)
			jv_push(a, tags, jv_string_c(a, im->tags[t]));
		jv_set(a, o, "imageTags", tags);
	}
	jv_set_int(a, o, "imageSizeInBytes", im->size);
	jv_set_double(a, o, "imagePushedAt", (double)im->pushed_ms / 1000.0);
	jv_set_str(a, o, "imageManifestMediaType", im->media_type);
	jv_set_str(a, o, "artifactMediaType", im->artifact_type);
	if (im->pulled_ms)
		jv_set_double(a, o, "lastRecordedPullTime", (double)im->pulled_ms / 1000.0);
	return o;
}

/* find_row: the loaded image an ImageIdentifier names (digest and tag must
 * agree when both are given), or NULL. */
static const struct ecr_image_row *find_row(const struct ecr_image_row *imgs, size_t n,
					    const char *digest, const char *tag)
{
	for (size_t i = 0; i < n; i++) {
		if (digest && strcmp(imgs[i].digest, digest) != 0)
			continue;
		if (!tag)
			return &imgs[i];
		for (size_t t = 0; t < imgs[i].ntags; t++)
			if (!strcmp(imgs[i].tags[t], tag))
				return &imgs[i];
		if (digest)
			return NULL;
	}
	return NULL;
}

int ecr_op_describe_images(struct aws_call *c)
{
	struct ecr_repo r;
	struct ecr_image_row *imgs;
	size_t off, limit;
	const struct jv *ids = jv_get(c->in, "imageIds");
	if (ecr_page_args(c, ECR_DEFAULT_PAGE, &off, &limit) < 0 || ecr_repo_find(c, &r) < 0)
		return -1;
	ssize_t n = ecr_images_load(c->fb, c->a, r.id, &imgs);
	if (n < 0)
		return ecr_fail_db(c, SQLITE_ERROR);
	struct jv *list = jv_array(c->a);
	for (size_t i = 0; i < jv_len(ids); i++) {
		const char *dg = jv_get_str(jv_at(ids, i), "imageDigest");
		const char *tag = jv_get_str(jv_at(ids, i), "imageTag");
		const struct ecr_image_row *im = find_row(imgs, (size_t)n, dg, tag);
		if (!im)
			return aws_fail(c, 400, "ImageNotFoundException",
					"The image with imageId {imageDigest:'%s', imageTag:'%s'} "
					"does not exist within the repository with name '%s' in "
					"the registry with id '%s'",
					dg ? dg : "null", tag ? tag : "null", r.name, r.account);
		jv_push(c->a, list, detail(c, &r, im));
	}
	size_t k = 0;
	for (ssize_t i = 0; !ids && i < n; i++) {
		if (!tag_status_ok(c, imgs[i].ntags))
			continue;
		if (k++ >= off && jv_len(list) < limit)
			jv_push(c->a, list, detail(c, &r, &imgs[i]));
	}
	jv_set(c->a, aws_out(c), "imageDetails", list);
	if (!ids)
		ecr_page_token(c, off + jv_len(list), k);
	return 0;
}

/* failure: appends an ImageFailure for id to list. */
static void failure(struct aws_call *c, struct jv *list, const struct jv *id, const char *code,
		    const char *reason)
{
	struct jv *f = jv_object(c->a);
	jv_set(c->a, f, "imageId", (struct jv *)id);
	jv_set_str(c->a, f, "failureCode", code);
	jv_set_str(c->a, f, "failureReason", reason);
	jv_push(c->a, list, f);
}

/* id_problem: the failure for a malformed ImageIdentifier, or NULL. */
static const char *id_problem(const char *dg, const char *tag, const char **reason)
{
	if (!dg && !tag) {
		*reason = "Invalid request parameters: both tag and digest cannot be null";
		return "MissingDigestAndTag";
	}
	if (dg && !ecr_valid_digest(dg)) {
		*reason = "Invalid request parameters: image digest should satisfy the regex "
			  "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'";
		return "InvalidImageDigest";
	}
	return NULL;
}

int ecr_op_batch_get_image(struct aws_call *c)
{
	struct ecr_repo r;
	const struct jv *ids = jv_get(c->in, "imageIds");
	if (ecr_repo_find(c, &r) < 0)
		return -1;
	struct jv *images = jv_array(c->a), *fails = jv_array(c->a);
	for (size_t i = 0; i < jv_len(ids); i++) {
		const struct jv *id = jv_at(ids, i);
		const char *dg = jv_get_str(id, "imageDigest"), *tag = jv_get_str(id, "imageTag");
		const char *reason, *code = id_problem(dg, tag, &reason);
		struct ecr_image img;
		int found = code ? 0 : ecr_image_get(c->fb, c->a, r.id, dg ? dg : tag, &img);
		if (found < 0)
			return ecr_fail_db(c, SQLITE_ERROR);
		if (found && dg && tag) {
			struct ecr_image by_tag;
			if (ecr_image_get(c->fb, c->a, r.id, tag, &by_tag) != 1 ||
			    by_tag.id != img.id) {
				code = "ImageTagDoesNotMatchDigest";
				reason = "Invalid request parameters: given tag does not map to "
					 "the given digest";
				found = 0;
			}
		}
		if (!found) {
			failure(c, fails, id, code ? code : "ImageNotFound",
				code ? reason : "Requested image not found");
			continue;
		}
		struct jv *o = jv_object(c->a);
		jv_set_str(c->a, o, "registryId", r.account);
		jv_set_str(c->a, o, "repositoryName", r.name);
		jv_set(c->a, o, "imageId", image_id(c, img.digest, tag));
		jv_set_strn(c->a, o, "imageManifest", img.manifest.p, img.manifest.n);
		jv_set_str(c->a, o, "imageManifestMediaType", img.media_type);
		jv_push(c->a, images, o);
	}
	jv_set(c->a, aws_out(c), "images", images);
	jv_set(c->a, aws_out(c), "failures", fails);
	return 0;
}

/* delete_one: BatchDeleteImage for one identifier inside the handler's
 * transaction; appends to deleted or fails. Returns 0, or -1 on a store
 * error (recorded). */
static int delete_one(struct aws_call *c, const struct ecr_repo *r, const struct jv *id,
		      struct jv *deleted, struct jv *fails)
{
	const char *dg = jv_get_str(id, "imageDigest"), *tag = jv_get_str(id, "imageTag");
	const char *reason, *code = id_problem(dg, tag, &reason);
	if (code) {
		failure(c, fails, id, code, reason);
		return 0;
	}
	struct ecr_image img;
	int found = ecr_image_get(c->fb, c->a, r->id, dg ? dg : tag, &img);
	if (found < 0)
		return ecr_fail_db(c, SQLITE_ERROR);
	if (!found) {
		failure(c, fails, id, "ImageNotFound", "Requested image not found");
		return 0;
	}
	struct jv *tags = ecr_image_tags(c, img.id);
	int has_tag = 0;
	for (size_t t = 0; tag && t < jv_len(tags); t++)
		has_tag |= !strcmp(jv_at(tags, t)->u.s.p, tag);
	if (dg && tag && !has_tag) {
		failure(c, fails, id, "ImageTagDoesNotMatchDigest",
			"Invalid request parameters: given tag does not map to the given digest");
		return 0;
	}
	int whole = !tag || jv_len(tags) == 1; /* the last tag takes the image along */
	if (whole && ecr_image_referenced(c->fb, r->id, img.digest)) {
		failure(c, fails, id, "ImageReferencedByManifestList",
			"Requested image referenced by manifest list");
		return 0;
	}
	int rc = whole ? ecr_image_delete(c->fb, img.id)
		       : (ecr_tag_delete(c->fb, r->id, tag) < 0 ? SQLITE_ERROR : SQLITE_DONE);
	if (rc != SQLITE_DONE)
		return ecr_fail_db(c, rc);
	if (!whole || !jv_len(tags)) {
		jv_push(c->a, deleted, image_id(c, img.digest, tag));
		return 0;
	}
	for (size_t t = 0; t < jv_len(tags); t++)
		jv_push(c->a, deleted, image_id(c, img.digest, jv_at(tags, t)->u.s.p));
	return 0;
}

int ecr_op_batch_delete_image(struct aws_call *c)
{
	struct ecr_repo r;
	const struct jv *ids = jv_get(c->in, "imageIds");
	struct jv *deleted = jv_array(c->a), *fails = jv_array(c->a);
	if (ecr_tx_begin(c) < 0)
		return -1;
	int ok = ecr_repo_find(c, &r);
	for (size_t i = 0; ok == 0 && i < jv_len(ids); i++)
		ok = delete_one(c, &r, jv_at(ids, i), deleted, fails);
	if (ecr_tx_end(c, ok) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "imageIds", deleted);
	jv_set(c->a, aws_out(c), "failures", fails);
	return 0;
}

/* put_error: the PutImage error for a manifest_put outcome. */
static int put_error(struct aws_call *c, const struct ecr_repo *r, const char *tag,
		     const struct ecr_put_result *res)
{
	switch (res->status) {
	case ECR_PUT_DIGEST_MISMATCH:
		return aws_fail(c, 400, "ImageDigestDoesNotMatchException",
				"Provided image digest '%s' does not match the digest of the "
				"manifest '%s'",
				jv_get_str(c->in, "imageDigest"), res->digest);
	case ECR_PUT_INVALID:
		return aws_fail(c, 400, "InvalidParameterException",
				"Invalid parameter at 'ImageManifest' failed to satisfy "
				"constraint: '%s'",
				res->message);
	case ECR_PUT_TAG_INVALID:
		return aws_fail(c, 400, "InvalidParameterException",
				"Invalid parameter at 'imageTag' failed to satisfy constraint: "
				"'must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}'");
	case ECR_PUT_TAG_IMMUTABLE:
		return aws_fail(c, 400, "ImageTagAlreadyExistsException",
				"The image tag '%s' already exists in the '%s' repository and "
				"cannot be overwritten because the repository is immutable.",
				tag, r->name);
	case ECR_PUT_BLOB_UNKNOWN:
		return aws_fail(c, 400, "LayersNotFoundException",
				"Layers with digests '[%s]' required for pushing image into "
				"repository with name '%s' in the registry with id '%s' do not "
				"exist",
				res->missing, r->name, r->account);
	case ECR_PUT_MANIFEST_UNKNOWN:
		return aws_fail(c, 400, "ReferencedImagesNotFoundException",
				"Referenced image '%s' does not exist in the repository with name "
				"'%s' in the registry with id '%s'",
				res->missing, r->name, r->account);
	case ECR_PUT_EXISTS:
		return aws_fail(c, 400, "ImageAlreadyExistsException",
				"Image with digest '%s' and tag '%s' already exists in the "
				"repository with name '%s' in registry with id '%s'",
				res->digest, tag ? tag : "null", r->name, r->account);
	default:
		return ecr_fail_db(c, SQLITE_ERROR);
	}
}

int ecr_op_put_image(struct aws_call *c)
{
	struct ecr_repo r;
	struct ecr_put_result res;
	const char *tag = jv_get_str(c->in, "imageTag");
	struct str m = jv_get_strv(c->in, "imageManifest");
	if (ecr_repo_find(c, &r) < 0)
		return -1;
	if (ecr_manifest_put(c->fb, c->a, &r, m, jv_get_str(c->in, "imageManifestMediaType"), tag,
			     jv_get_str(c->in, "imageDigest"), 1, c->now_ms, &res) != ECR_PUT_OK)
		return put_error(c, &r, tag, &res);
	struct jv *o = jv_object(c->a);
	jv_set_str(c->a, o, "registryId", r.account);
	jv_set_str(c->a, o, "repositoryName", r.name);
	jv_set(c->a, o, "imageId", image_id(c, res.digest, tag));
	jv_set_strn(c->a, o, "imageManifest", m.p, m.n);
	jv_set_str(c->a, o, "imageManifestMediaType", res.media_type);
	jv_set(c->a, aws_out(c), "image", o);
	return 0;
}
