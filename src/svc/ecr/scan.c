/* scan.c - image scanning, honestly: the configuration (scanOnPush, the
 * registry's BASIC scan type) is stored and reported, but fogbank has no
 * vulnerability database, so StartImageScan fails with a clear message and
 * DescribeImageScanFindings reports that no scan exists. No finding is
 * ever invented. Also DescribeRegistry and BatchCheckLayerAvailability. */
#include "core/compat.h"
#include "aws/gen/ecr_ops.h"
#include "fb.h"
#include "svc/ecr/internal.h"

/* find_image: the image imageId names in the input's repository. Returns
 * 0, or -1 with RepositoryNotFoundException / ImageNotFoundException. */
static int find_image(struct aws_call *c, struct ecr_repo *r, struct ecr_image *img)
{
	if (ecr_repo_find(c, r) < 0)
		return -1;
	const struct jv *id = jv_get(c->in, "imageId");
	const char *dg = jv_get_str(id, "imageDigest"), *tag = jv_get_str(id, "imageTag");
	int found = dg || tag ? ecr_image_get(c->fb, c->a, r->id, dg ? dg : tag, img) : 0;
	if (found < 0)
		return ecr_fail_db(c, SQLITE_ERROR);
	if (!found)
		return aws_fail(c, 400, "ImageNotFoundException",
				"The image with imageId {imageDigest:'%s', imageTag:'%s'} does not "
				"exist within the repository with name '%s' in the registry with "
				"id '%s'",
				dg ? dg : "null", tag ? tag : "null", r->name, r->account);
	return 0;
}

int ecr_op_start_image_scan(struct aws_call *c)
{
	struct ecr_repo r;
	struct ecr_image img;
	if (find_image(c, &r, &img) < 0)
		return -1;
	return aws_fail(c, 400, "ValidationException",
			"Image scanning is not available in fogbank: it has no vulnerability "
			"database, and it never reports findings it did not compute.");
}

int ecr_op_describe_image_scan_findings(struct aws_call *c)
{
	struct ecr_repo r;
	struct ecr_image img;
	if (find_image(c, &r, &img) < 0)
		return -1;
	return aws_fail(c, 400, "ScanNotFoundException",
			"Image scan does not exist for the image with '{imageDigest:'%s'}' in the "
			"repository with name '%s' in the registry with id '%s': fogbank does "
			"not scan images",
			img.digest, r.name, r.account);
}

int ecr_op_get_registry_scanning_configuration(struct aws_call *c)
{
	struct jv *cfg = jv_object(c->a);
	jv_set_str(c->a, cfg, "scanType", "BASIC");
	jv_set(c->a, cfg, "rules", jv_array(c->a));
	jv_set_str(c->a, aws_out(c), "registryId", c->account);
	jv_set(c->a, aws_out(c), "scanningConfiguration", cfg);
	return 0;
}

int ecr_op_batch_get_repository_scanning_configuration(struct aws_call *c)
{
	const struct jv *names = jv_get(c->in, "repositoryNames");
	struct jv *list = jv_array(c->a), *fails = jv_array(c->a);
	for (size_t i = 0; i < jv_len(names); i++) {
		const char *name = jv_at(names, i)->u.s.p;
		struct ecr_repo r;
		int found = ecr_repo_get(c->fb, c->a, c->account, c->region, name, &r);
		if (found < 0)
			return ecr_fail_db(c, SQLITE_ERROR);
		if (!found) {
			struct jv *f = jv_object(c->a);
			jv_set_str(c->a, f, "repositoryName", name);
			jv_set_str(c->a, f, "failureCode", "REPOSITORY_NOT_FOUND");
			jv_set_str(c->a, f, "failureReason", "REPOSITORY_NOT_FOUND");
			jv_push(c->a, fails, f);
			continue;
		}
		struct jv *o = jv_object(c->a);
		jv_set_str(c->a, o, "repositoryArn", ecr_repo_arn(c->a, &r));
		jv_set_str(c->a, o, "repositoryName", r.name);
		jv_set_bool(c->a, o, "scanOnPush", r.scan_on_push);
		jv_set_str(c->a, o, "scanFrequency", r.scan_on_push ? "SCAN_ON_PUSH" : "MANUAL");
		jv_set(c->a, o, "appliedScanFilters", jv_array(c->a));
		jv_push(c->a, list, o);
	}
	jv_set(c->a, aws_out(c), "scanningConfigurations", list);
	jv_set(c->a, aws_out(c), "failures", fails);
	return 0;
}

int ecr_op_describe_registry(struct aws_call *c)
{
	struct jv *rep = jv_object(c->a);
	jv_set(c->a, rep, "rules", jv_array(c->a));
	jv_set_str(c->a, aws_out(c), "registryId", c->account);
	jv_set(c->a, aws_out(c), "replicationConfiguration", rep);
	return 0;
}

int ecr_op_batch_check_layer_availability(struct aws_call *c)
{
	struct ecr_repo r;
	const struct jv *digests = jv_get(c->in, "layerDigests");
	if (ecr_repo_find(c, &r) < 0)
		return -1;
	struct jv *layers = jv_array(c->a), *fails = jv_array(c->a);
	for (size_t i = 0; i < jv_len(digests); i++) {
		const char *dg = jv_at(digests, i)->u.s.p;
		if (!ecr_valid_digest(dg)) {
			struct jv *f = jv_object(c->a);
			jv_set_str(c->a, f, "layerDigest", dg);
			jv_set_str(c->a, f, "failureCode", "InvalidLayerDigest");
			jv_set_str(c->a, f, "failureReason", "Invalid layer digest");
			jv_push(c->a, fails, f);
			continue;
		}
		sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT b.size FROM ecr_repo_blobs l JOIN "
						      "ecr_blobs b ON b.digest = l.digest WHERE "
						      "l.repo_id = ?1 AND l.digest = ?2");
		sqlite3_bind_int64(st, 1, r.id);
		sqlite3_bind_text(st, 2, dg, -1, SQLITE_STATIC);
		int hit = sqlite3_step(st) == SQLITE_ROW;
		int64_t size = hit ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		struct jv *l = jv_object(c->a);
		jv_set_str(c->a, l, "layerDigest", dg);
		jv_set_str(c->a, l, "layerAvailability", hit ? "AVAILABLE" : "UNAVAILABLE");
		if (hit)
			jv_set_int(c->a, l, "layerSize", size);
		jv_push(c->a, layers, l);
	}
	jv_set(c->a, aws_out(c), "layers", layers);
	jv_set(c->a, aws_out(c), "failures", fails);
	return 0;
}
