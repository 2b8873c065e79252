/* config.c - per-bucket configuration documents that S3 stores and returns
 * as given: CORS, policy, tagging, website, notification, ownership
 * controls, public access block, ACL, logging, accelerate, request
 * payment, replication, object lock. Each is the decoded input structure
 * kept as JSON in s3_bucket_cfg; the Get handlers hand it back to the
 * encoder. (Enforcement of policies and ACLs comes with IAM.) */
#include "core/compat.h"
#include "aws/gen/s3_ops.h"
#include "aws/json.h"
#include "fb.h"
#include "svc/s3/internal.h"

struct jv *s3_cfg_get(struct aws_call *c, int64_t bucket_id, const char *kind)
{
	const char *t = NULL;
	if (!s3_bcache_cfg(c, bucket_id, kind, &t)) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT value FROM s3_bucket_cfg "
						      "WHERE bucket_id = ?1 AND kind = ?2");
		sqlite3_bind_int64(st, 1, bucket_id);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			t = arena_strdup(c->a, db_col_text(st, 0));
		sqlite3_reset(st);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			s3_bcache_put_cfg(c, bucket_id, kind, t);
	}
	return t ? json_parse(c->a, t, strlen(t), NULL) : NULL;
}

int s3_cfg_put(struct aws_call *c, int64_t bucket_id, const char *kind, const struct jv *v)
{
	sqlite3_stmt *st;
	int rc;
	if (v) {
		st = db_stmt(c->fb->db, "INSERT OR REPLACE INTO s3_bucket_cfg(bucket_id, kind, "
					"value) VALUES(?1, ?2, ?3)");
		sqlite3_bind_text(st, 3, s3_json_text(c, v), -1, SQLITE_STATIC);
	} else {
		st = db_stmt(c->fb->db,
			     "DELETE FROM s3_bucket_cfg WHERE bucket_id = ?1 AND kind = ?2");
	}
	sqlite3_bind_int64(st, 1, bucket_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	rc = db_step_done(st);
	s3_bcache_invalidate();
	return rc == SQLITE_DONE ? 0 : s3_fail_db(c, rc);
}

/* put_doc: stores input member <member> as configuration <kind>. */
static int put_doc(struct aws_call *c, const char *kind, const char *member)
{
	struct s3_bucket b;
	struct jv *v;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	v = jv_get(c->in, member);
	if (!v)
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	return s3_cfg_put(c, b.id, kind, v);
}

/* get_doc: configuration <kind> as output member <member> (or, when member
 * is NULL, its members as the output's); the 404 <code>/<msg> when none. */
static int get_doc(struct aws_call *c, const char *kind, const char *member, const char *code,
		   const char *msg)
{
	struct s3_bucket b;
	struct jv *v;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	v = s3_cfg_get(c, b.id, kind);
	if (!v) {
		if (code)
			return aws_fail(c, 404, code, "%s", msg);
		aws_out(c);
		return 0;
	}
	if (member) {
		jv_set(c->a, aws_out(c), member, v);
	} else if (v->type == JV_OBJECT) {
		c->out = v;
	}
	return 0;
}

/* delete_doc: removes configuration <kind>. */
static int delete_doc(struct aws_call *c, const char *kind)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	return s3_cfg_put(c, b.id, kind, NULL);
}

/* ---- CORS ---- */

int s3_op_put_bucket_cors(struct aws_call *c)
{
	struct jv *rules = jv_get(jv_get(c->in, "CORSConfiguration"), "CORSRules");
	for (size_t i = 0; i < jv_len(rules); i++) {
		struct jv *r = jv_at(rules, i);
		struct jv *m = jv_get(r, "AllowedMethods");
		if (!jv_len(m) || !jv_len(jv_get(r, "AllowedOrigins")))
			return aws_fail(c, 400, "MalformedXML",
					"The XML you provided was not well-formed or did not "
					"validate against our published schema");
		for (size_t k = 0; k < jv_len(m); k++) {
			struct jv *mv = jv_at(m, k);
			const char *s = mv && mv->type == JV_STRING ? mv->u.s.p : "";
			if (strcmp(s, "GET") && strcmp(s, "PUT") && strcmp(s, "POST") &&
			    strcmp(s, "DELETE") && strcmp(s, "HEAD"))
				return aws_fail(c, 400, "InvalidRequest",
						"Found unsupported HTTP method in CORS config. "
						"Unsupported method is %s",
						s);
		}
	}
	if (!jv_len(rules))
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	return put_doc(c, "cors", "CORSConfiguration");
}

int s3_op_get_bucket_cors(struct aws_call *c)
{
	return get_doc(c, "cors", NULL, "NoSuchCORSConfiguration",
		       "The CORS configuration does not exist");
}

int s3_op_delete_bucket_cors(struct aws_call *c)
{
	return delete_doc(c, "cors");
}

/* ---- policy ---- */

int s3_op_put_bucket_policy(struct aws_call *c)
{
	struct str p = jv_get_strv(c->in, "Policy");
	struct s3_bucket b;
	struct jv *v;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	v = p.p ? json_parse(c->a, p.p, p.n, NULL) : NULL;
	if (!v || v->type != JV_OBJECT)
		return aws_fail(c, 400, "MalformedPolicy",
				"Policies must be valid JSON and the first byte must be '{'");
	if (!jv_get(v, "Statement"))
		return aws_fail(c, 400, "MalformedPolicy", "Missing required field Statement");
	/* kept as the caller's text: Get returns it byte for byte */
	struct jv *doc = jv_object(c->a);
	jv_set_strn(c->a, doc, "Policy", p.p, p.n);
	return s3_cfg_put(c, b.id, "policy", doc);
}

int s3_op_get_bucket_policy(struct aws_call *c)
{
	return get_doc(c, "policy", NULL, "NoSuchBucketPolicy", "The bucket policy does not exist");
}

int s3_op_delete_bucket_policy(struct aws_call *c)
{
	return delete_doc(c, "policy");
}

int s3_op_get_bucket_policy_status(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *st;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (!s3_cfg_get(c, b.id, "policy"))
		return aws_fail(c, 404, "NoSuchBucketPolicy", "The bucket policy does not exist");
	st = jv_object(c->a);
	jv_set_bool(c->a, st, "IsPublic", 0);
	jv_set(c->a, aws_out(c), "PolicyStatus", st);
	return 0;
}

/* ---- tagging ---- */

int s3_op_put_bucket_tagging(struct aws_call *c)
{
	struct jv *set = jv_get(jv_get(c->in, "Tagging"), "TagSet");
	if (jv_len(set) > 50)
		return aws_fail(c, 400, "InvalidTag", "Cannot exceed 50 tags per bucket");
	for (size_t i = 0; i < jv_len(set); i++) {
		const char *k = jv_get_str(jv_at(set, i), "Key");
		if (!k || !*k || strlen(k) > 128)
			return aws_fail(c, 400, "InvalidTag",
					"The TagKey you have provided is invalid");
		if (!strncmp(k, "aws:", 4))
			return aws_fail(c, 400, "InvalidTag",
					"System tags cannot be added/updated by requester");
		for (size_t j = 0; j < i; j++) {
			const char *k2 = jv_get_str(jv_at(set, j), "Key");
			if (k2 && !strcmp(k, k2))
				return aws_fail(c, 400, "InvalidTag",
						"Cannot provide multiple Tags with the same key");
		}
	}
	return put_doc(c, "tagging", "Tagging");
}

int s3_op_get_bucket_tagging(struct aws_call *c)
{
	return get_doc(c, "tagging", NULL, "NoSuchTagSet", "The TagSet does not exist");
}

int s3_op_delete_bucket_tagging(struct aws_call *c)
{
	return delete_doc(c, "tagging");
}

/* ---- website ---- */

int s3_op_put_bucket_website(struct aws_call *c)
{
	struct jv *w = jv_get(c->in, "WebsiteConfiguration");
	if (!jv_get(w, "IndexDocument") && !jv_get(w, "RedirectAllRequestsTo"))
		return aws_fail(c, 400, "InvalidArgument",
				"A value for IndexDocument Suffix must be provided if "
				"RedirectAllRequestsTo is empty");
	return put_doc(c, "website", "WebsiteConfiguration");
}

int s3_op_get_bucket_website(struct aws_call *c)
{
	return get_doc(c, "website", NULL, "NoSuchWebsiteConfiguration",
		       "The specified bucket does not have a website configuration");
}

int s3_op_delete_bucket_website(struct aws_call *c)
{
	return delete_doc(c, "website");
}

/* ---- notification ---- */

int s3_op_put_bucket_notification_configuration(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *v = jv_get(c->in, "NotificationConfiguration");
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	/* an empty configuration turns notifications off */
	return s3_cfg_put(c, b.id, "notification", v && jv_len(v) ? v : NULL);
}

int s3_op_get_bucket_notification_configuration(struct aws_call *c)
{
	return get_doc(c, "notification", NULL, NULL, NULL);
}

int s3_op_get_bucket_notification(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	aws_out(c);
	return 0;
}

/* ---- ownership controls, public access block ---- */

int s3_op_put_bucket_ownership_controls(struct aws_call *c)
{
	struct jv *rules = jv_get(jv_get(c->in, "OwnershipControls"), "Rules");
	const char *own = jv_get_str(jv_at(rules, 0), "ObjectOwnership");
	if (!own || (strcmp(own, "BucketOwnerPreferred") && strcmp(own, "ObjectWriter") &&
		     strcmp(own, "BucketOwnerEnforced")))
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	return put_doc(c, "ownership", "OwnershipControls");
}

int s3_op_get_bucket_ownership_controls(struct aws_call *c)
{
	return get_doc(c, "ownership", "OwnershipControls", "OwnershipControlsNotFoundError",
		       "The bucket ownership controls were not found");
}

int s3_op_delete_bucket_ownership_controls(struct aws_call *c)
{
	return delete_doc(c, "ownership");
}

int s3_op_put_public_access_block(struct aws_call *c)
{
	return put_doc(c, "pab", "PublicAccessBlockConfiguration");
}

int s3_op_get_public_access_block(struct aws_call *c)
{
	return get_doc(c, "pab", "PublicAccessBlockConfiguration",
		       "NoSuchPublicAccessBlockConfiguration",
		       "The public access block configuration was not found");
}

int s3_op_delete_public_access_block(struct aws_call *c)
{
	return delete_doc(c, "pab");
}

/* ---- ACLs: the owner has FULL_CONTROL; canned ACLs are remembered ---- */

/* acl_out: Owner and Grants of an ACL on something <account> owns. */
static void acl_out(struct aws_call *c, const char *account, const char *canned)
{
	struct jv *o = aws_out(c), *grants = jv_array(c->a), *g, *grantee;
	jv_set(c->a, o, "Owner", s3_owner(c, account));
	g = jv_object(c->a);
	grantee = s3_owner(c, account);
	jv_set_str(c->a, grantee, "Type", "CanonicalUser");
	jv_set(c->a, g, "Grantee", grantee);
	jv_set_str(c->a, g, "Permission", "FULL_CONTROL");
	jv_push(c->a, grants, g);
	if (canned && (!strcmp(canned, "public-read") || !strcmp(canned, "public-read-write"))) {
		const char *perms[] = {"READ", "WRITE"};
		for (int i = 0; i < (!strcmp(canned, "public-read") ? 1 : 2); i++) {
			g = jv_object(c->a);
			grantee = jv_object(c->a);
			jv_set_str(c->a, grantee, "Type", "Group");
			jv_set_str(c->a, grantee, "URI",
				   "http://acs.amazonaws.com/groups/global/AllUsers");
			jv_set(c->a, g, "Grantee", grantee);
			jv_set_str(c->a, g, "Permission", perms[i]);
			jv_push(c->a, grants, g);
		}
	}
	jv_set(c->a, o, "Grants", grants);
}

int s3_op_get_bucket_acl(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	acl_out(c, b.account, jv_get_str(s3_cfg_get(c, b.id, "acl"), "ACL"));
	return 0;
}

int s3_op_put_bucket_acl(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *doc;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	doc = jv_object(c->a);
	jv_set_str(c->a, doc, "ACL",
		   jv_get_str(c->in, "ACL") ? jv_get_str(c->in, "ACL") : "private");
	return s3_cfg_put(c, b.id, "acl", doc);
}

int s3_op_get_object_acl(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_object o;
	int r;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	r = s3_object_load(c, b.id, jv_get_str(c->in, "Key"), jv_get_str(c->in, "VersionId"), &o);
	if (r < 0)
		return -1;
	if (r == 0 || o.delete_marker)
		return s3_no_such_key(c);
	acl_out(c, b.account, NULL);
	return 0;
}

int s3_op_put_object_acl(struct aws_call *c)
{
	struct s3_bucket b;
	struct s3_object o;
	int r;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	r = s3_object_load(c, b.id, jv_get_str(c->in, "Key"), jv_get_str(c->in, "VersionId"), &o);
	if (r < 0)
		return -1;
	if (r == 0 || o.delete_marker)
		return s3_no_such_key(c);
	aws_out(c);
	return 0;
}

/* ---- logging, accelerate, request payment, replication, object lock ---- */

int s3_op_put_bucket_logging(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *v = jv_get(jv_get(c->in, "BucketLoggingStatus"), "LoggingEnabled");
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (v) {
		struct jv *doc = jv_object(c->a);
		jv_set(c->a, doc, "LoggingEnabled", v);
		return s3_cfg_put(c, b.id, "logging", doc);
	}
	return s3_cfg_put(c, b.id, "logging", NULL);
}

int s3_op_get_bucket_logging(struct aws_call *c)
{
	return get_doc(c, "logging", NULL, NULL, NULL);
}

int s3_op_put_bucket_accelerate_configuration(struct aws_call *c)
{
	return put_doc(c, "accelerate", "AccelerateConfiguration");
}

int s3_op_get_bucket_accelerate_configuration(struct aws_call *c)
{
	return get_doc(c, "accelerate", NULL, NULL, NULL);
}

int s3_op_put_bucket_request_payment(struct aws_call *c)
{
	return put_doc(c, "payment", "RequestPaymentConfiguration");
}

int s3_op_get_bucket_request_payment(struct aws_call *c)
{
	if (get_doc(c, "payment", NULL, NULL, NULL) < 0)
		return -1;
	if (!jv_get(aws_out(c), "Payer"))
		jv_set_str(c->a, aws_out(c), "Payer", "BucketOwner");
	return 0;
}

int s3_op_put_bucket_replication(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (b.versioning != S3_VER_ENABLED)
		return aws_fail(c, 400, "InvalidRequest",
				"Versioning must be 'Enabled' on the bucket to apply a replication "
				"configuration");
	return s3_cfg_put(c, b.id, "replication", jv_get(c->in, "ReplicationConfiguration"));
}

int s3_op_get_bucket_replication(struct aws_call *c)
{
	return get_doc(c, "replication", "ReplicationConfiguration",
		       "ReplicationConfigurationNotFoundError",
		       "The replication configuration was not found");
}

int s3_op_delete_bucket_replication(struct aws_call *c)
{
	return delete_doc(c, "replication");
}

int s3_op_put_object_lock_configuration(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (!b.object_lock)
		return aws_fail(c, 409, "InvalidBucketState",
				"Object Lock configuration cannot be enabled on existing buckets");
	if (s3_cfg_put(c, b.id, "objectlock", jv_get(c->in, "ObjectLockConfiguration")) < 0)
		return -1;
	aws_out(c);
	return 0;
}

int s3_op_get_object_lock_configuration(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *v;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (!b.object_lock)
		return aws_fail(c, 404, "ObjectLockConfigurationNotFoundError",
				"Object Lock configuration does not exist for this bucket");
	v = s3_cfg_get(c, b.id, "objectlock");
	if (!v) {
		v = jv_object(c->a);
		jv_set_str(c->a, v, "ObjectLockEnabled", "Enabled");
	}
	jv_set(c->a, aws_out(c), "ObjectLockConfiguration", v);
	return 0;
}
