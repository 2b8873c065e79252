/* buckets.c - the bucket resource: CreateBucket (LocationConstraint,
 * object ownership, object lock), HeadBucket, DeleteBucket (only when no
 * object version is left, as AWS), ListBuckets (with max-buckets /
 * continuation-token / prefix pagination), GetBucketLocation, and
 * Put/GetBucketVersioning. Bucket names are global: another account's
 * name is BucketAlreadyExists. */
#include "core/compat.h"
#include "aws/gen/s3_ops.h"
#include "aws/proto_rest.h"
#include "fb.h"
#include "svc/s3/internal.h"

/* region_of: the bucket region a CreateBucket asks for, or NULL with
 * the error S3 gives for a constraint the endpoint region contradicts. */
static const char *region_of(struct aws_call *c)
{
	const char *lc =
	    jv_get_str(jv_get(c->in, "CreateBucketConfiguration"), "LocationConstraint");
	const char *req = c->region ? c->region : "us-east-1";
	if (lc && !strcmp(lc, "EU"))
		lc = "eu-west-1";
	if (lc && *lc) {
		if (!strcmp(lc, "us-east-1")) {
			aws_fail(c, 400, "InvalidLocationConstraint",
				 "The specified location-constraint is not valid");
			return NULL;
		}
		if (strcmp(lc, req) != 0) {
			aws_fail(
			    c, 400, "IllegalLocationConstraintException",
			    "The %s location constraint is incompatible for the region specific "
			    "endpoint this request was sent to.",
			    lc);
			return NULL;
		}
		return lc;
	}
	if (strcmp(req, "us-east-1") != 0) {
		aws_fail(c, 400, "IllegalLocationConstraintException",
			 "The unspecified location constraint is incompatible for the region "
			 "specific endpoint this request was sent to.");
		return NULL;
	}
	return "us-east-1";
}

int s3_op_create_bucket(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "Bucket");
	const char *own = jv_get_str(c->in, "ObjectOwnership");
	int lock = jv_get_bool(c->in, "ObjectLockEnabledForBucket", 0);
	const char *region;
	struct s3_bucket b;
	sqlite3_stmt *st;
	int rc;

	if (s3_enter(c) < 0)
		return -1;
	if (!s3_valid_bucket_name(name))
		return aws_fail(c, 400, "InvalidBucketName", "The specified bucket is not valid.");
	if (!(region = region_of(c)))
		return -1;
	if (s3_bucket_find(c, name, &b) == 0)
		return aws_fail(
		    c, 409, "BucketAlreadyOwnedByYou",
		    "Your previous request to create the named bucket succeeded and you "
		    "already own it.");
	if (c->err_code && !strcmp(c->err_code, "AccessDenied")) {
		s3_clear_error(c);
		return aws_fail(c, 409, "BucketAlreadyExists",
				"The requested bucket name is not available. The bucket namespace "
				"is shared by all users of the system. Please select a different "
				"name and try again.");
	}
	s3_clear_error(c);
	if (s3_tx_begin(c) < 0)
		return -1;
	st = db_stmt(c->fb->db, "INSERT INTO s3_buckets(name, account, region, created, "
				"versioning, object_lock) VALUES(?1, ?2, ?3, ?4, ?5, ?5)");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->now_ms);
	sqlite3_bind_int(st, 5, lock ? 1 : 0);
	rc = db_step_done(st);
	if (rc != SQLITE_DONE) {
		s3_fail_db(c, rc);
		return s3_tx_end(c, -1);
	}
	b.id = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
	rc = 0;
	if (own) {
		struct jv *doc = jv_object(c->a), *rules = jv_array(c->a), *r = jv_object(c->a);
		jv_set_str(c->a, r, "ObjectOwnership", own);
		jv_push(c->a, rules, r);
		jv_set(c->a, doc, "Rules", rules);
		rc = s3_cfg_put(c, b.id, "ownership", doc);
	}
	if (rc == 0 && jv_get_str(c->in, "ACL")) {
		struct jv *doc = jv_object(c->a);
		jv_set_str(c->a, doc, "ACL", jv_get_str(c->in, "ACL"));
		rc = s3_cfg_put(c, b.id, "acl", doc);
	}
	if (s3_tx_end(c, rc) < 0)
		return -1;
	jv_set_str(c->a, aws_out(c), "Location", arena_sprintf(c->a, "/%s", name));
	return 0;
}

int s3_op_head_bucket(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	proto_rest_add_header(c, "x-amz-bucket-region", b.region);
	return 0;
}

int s3_op_get_bucket_location(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	/* us-east-1 answers an empty <LocationConstraint/>, as AWS does */
	if (strcmp(b.region, "us-east-1") != 0)
		jv_set_str(c->a, aws_out(c), "LocationConstraint", b.region);
	else
		aws_out(c);
	return 0;
}

/* abort_uploads: removes the bucket's multipart uploads and their parts. */
static int abort_uploads(struct aws_call *c, int64_t bucket_id)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT p.file FROM s3_parts p JOIN s3_uploads u "
					      "ON p.upload = u.id WHERE u.bucket_id = ?1");
	int rc = SQLITE_OK;
	sqlite3_bind_int64(st, 1, bucket_id);
	while (sqlite3_step(st) == SQLITE_ROW && rc == SQLITE_OK)
		rc = s3_store_unlink_later(c->fb->db, db_col_text(st, 0));
	sqlite3_reset(st);
	if (rc != SQLITE_OK)
		return s3_fail_db(c, rc);
	st = db_stmt(c->fb->db, "DELETE FROM s3_parts WHERE upload IN "
				"(SELECT id FROM s3_uploads WHERE bucket_id = ?1)");
	sqlite3_bind_int64(st, 1, bucket_id);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return s3_fail_db(c, rc);
	st = db_stmt(c->fb->db, "DELETE FROM s3_uploads WHERE bucket_id = ?1");
	sqlite3_bind_int64(st, 1, bucket_id);
	if ((rc = db_step_done(st)) != SQLITE_DONE)
		return s3_fail_db(c, rc);
	return 0;
}

int s3_op_delete_bucket(struct aws_call *c)
{
	struct s3_bucket b;
	sqlite3_stmt *st;
	int rc, any;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	st = db_stmt(c->fb->db, "SELECT 1 FROM s3_objects WHERE bucket_id = ?1 LIMIT 1");
	sqlite3_bind_int64(st, 1, b.id);
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (any)
		return aws_fail(c, 409, "BucketNotEmpty",
				"The bucket you tried to delete is not empty");
	if (s3_tx_begin(c) < 0)
		return -1;
	rc = abort_uploads(c, b.id);
	if (rc == 0) {
		st = db_stmt(c->fb->db, "DELETE FROM s3_bucket_cfg WHERE bucket_id = ?1");
		sqlite3_bind_int64(st, 1, b.id);
		if ((rc = db_step_done(st)) == SQLITE_DONE) {
			st = db_stmt(c->fb->db, "DELETE FROM s3_buckets WHERE id = ?1");
			sqlite3_bind_int64(st, 1, b.id);
			rc = db_step_done(st);
		}
		rc = rc == SQLITE_DONE ? 0 : s3_fail_db(c, rc);
	}
	return s3_tx_end(c, rc);
}

int s3_op_list_buckets(struct aws_call *c)
{
	const char *prefix = jv_get_str(c->in, "Prefix");
	const char *token = jv_get_str(c->in, "ContinuationToken");
	const char *region = jv_get_str(c->in, "BucketRegion");
	int64_t max = jv_get_int(c->in, "MaxBuckets", 10000);
	const char *after = "";
	struct jv *o, *list = jv_array(c->a);
	sqlite3_stmt *st;
	int64_t n = 0;
	int more = 0;
	const char *last = NULL;

	if (s3_enter(c) < 0)
		return -1;
	if (token && s3_token_decode(c->a, token, &after, &more) < 0)
		return aws_fail(c, 400, "InvalidArgument",
				"The continuation token provided is incorrect");
	more = 0;
	st =
	    db_stmt(c->fb->db, "SELECT name, created, region FROM s3_buckets WHERE account = ?1 "
			       "AND name > ?2 AND (?3 IS NULL OR substr(name, 1, length(?3)) = ?3) "
			       "AND (?4 IS NULL OR region = ?4) ORDER BY name");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC);
	if (prefix)
		sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC);
	if (region)
		sqlite3_bind_text(st, 4, region, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *e;
		if (n == max) {
			more = 1;
			break;
		}
		e = jv_object(c->a);
		last = arena_strdup(c->a, db_col_text(st, 0));
		jv_set_str(c->a, e, "Name", last);
		jv_set_double(c->a, e, "CreationDate",
			      (double)sqlite3_column_int64(st, 1) / 1000.0);
		if (jv_get(c->in, "MaxBuckets") || region)
			jv_set_str(c->a, e, "BucketRegion", db_col_text(st, 2));
		jv_push(c->a, list, e);
		n++;
	}
	sqlite3_reset(st);
	o = aws_out(c);
	jv_set(c->a, o, "Buckets", list);
	jv_set(c->a, o, "Owner", s3_owner(c, c->account));
	if (prefix)
		jv_set_str(c->a, o, "Prefix", prefix);
	if (more && last)
		jv_set_str(c->a, o, "ContinuationToken", s3_token_encode(c->a, last, 0));
	return 0;
}

/* ---- versioning ---- */

int s3_op_put_bucket_versioning(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *cfg = jv_get(c->in, "VersioningConfiguration");
	const char *status = jv_get_str(cfg, "Status");
	sqlite3_stmt *st;
	int v, rc;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (!status)
		return 0;
	if (!strcmp(status, "Enabled"))
		v = S3_VER_ENABLED;
	else if (!strcmp(status, "Suspended"))
		v = S3_VER_SUSPENDED;
	else
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	if (b.object_lock && v == S3_VER_SUSPENDED)
		return aws_fail(c, 409, "InvalidBucketState",
				"An Object Lock configuration is present on this bucket, so the "
				"versioning state cannot be changed.");
	st = db_stmt(c->fb->db, "UPDATE s3_buckets SET versioning = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, b.id);
	sqlite3_bind_int(st, 2, v);
	rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return s3_fail_db(c, rc);
	if (jv_get_str(cfg, "MFADelete")) {
		struct jv *doc = jv_object(c->a);
		jv_set_str(c->a, doc, "MFADelete", jv_get_str(cfg, "MFADelete"));
		return s3_cfg_put(c, b.id, "mfadelete", doc);
	}
	return 0;
}

int s3_op_get_bucket_versioning(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *o;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	o = aws_out(c);
	if (b.versioning)
		jv_set_str(c->a, o, "Status",
			   b.versioning == S3_VER_ENABLED ? "Enabled" : "Suspended");
	if (b.versioning) {
		const char *mfa = jv_get_str(s3_cfg_get(c, b.id, "mfadelete"), "MFADelete");
		if (mfa)
			jv_set_str(c->a, o, "MFADelete", mfa);
	}
	return 0;
}
