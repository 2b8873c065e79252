/* sts.c - STS: GetCallerIdentity, AssumeRole, GetSessionToken.
 *
 * Temporary credentials are rows of sts_sessions (schema in
 * src/svc/iam/schema.c): the secret sealed like an IAM key's, the session
 * token kept only as a SHA-256, and the identity the key will resolve to
 * (src/svc/iam/resolve.c) written out in full so the hot path needs no
 * join. Trust policies are not evaluated yet: any caller may assume any
 * existing role. */
#include "svc/iam/iam.h"
#include "aws/fmt.h"
#include "core/log.h"
#include "aws/gen/sts_ops.h"
#include "fb.h"
#include "store/db.h"
#include <openssl/rand.h>
#include <openssl/sha.h>

/* Real tokens are long base64 blobs starting like this; clients only
 * ever echo them back, so the rest is random. */
#define TOKEN_PREFIX "IQoJb3JpZ2luX2Vj"
#define TOKEN_RANDOM 144

/* A caller as STS sees it; auth=off calls may carry no identity. */
struct caller {
	const char *account, *arn, *user_id;
	int is_root;
};

/* caller_of: c's identity, defaulting to the account root. */
static struct caller caller_of(struct aws_call *c)
{
	struct caller w = {iam_account(c), c->who.arn, c->who.user_id, c->who.is_root};
	if (!w.arn) {
		w.arn = arena_sprintf(c->a, "arn:aws:iam::%s:root", w.account);
		w.user_id = w.account;
		w.is_root = 1;
	}
	return w;
}

/* sts_op_get_caller_identity: the caller's UserId, Account and Arn.
 * Returns 0. */
int sts_op_get_caller_identity(struct aws_call *c)
{
	struct caller w = caller_of(c);
	struct jv *out = aws_out(c);
	jv_set_str(c->a, out, "UserId", w.user_id);
	jv_set_str(c->a, out, "Account", w.account);
	jv_set_str(c->a, out, "Arn", w.arn);
	return 0;
}

/* A freshly minted credential set. */
struct creds {
	char akid[IAM_ID_LEN + 1];
	char secret[IAM_SECRET_LEN + 1];
	char *token;
	int64_t expires_ms;
};

/* store_session: mints credentials valid for duration_s and stores them
 * for the identity (account, arn, user_id, is_root) inside a transaction,
 * pruning sessions that have expired. Returns 0, or -1 with the error
 * recorded. */
static int store_session(struct aws_call *c, struct creds *cr, int64_t duration_s,
			 const struct caller *id, const char *role_arn, const char *source_arn)
{
	unsigned char rnd[TOKEN_RANDOM], sha[SHA256_DIGEST_LENGTH];
	char b64[4 * (TOKEN_RANDOM / 3) + 1];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fb_die("sts: RAND_bytes failed");
	fmt_b64_encode(b64, rnd, sizeof(rnd));
	cr->token = arena_sprintf(c->a, "%s%s", TOKEN_PREFIX, b64);
	SHA256((const unsigned char *)cr->token, strlen(cr->token), sha);
	iam_new_id(cr->akid, "ASIA");
	iam_new_secret(cr->secret);
	/* Whole seconds, as AWS reports them. */
	cr->expires_ms = (c->now_ms / 1000 + duration_s) * 1000;
	size_t blob_n;
	unsigned char *blob = iam_seal(c->fb, c->a, cr->akid, cr->secret, IAM_SECRET_LEN, &blob_n);
	if (!blob)
		return aws_fail(c, 500, "InternalFailure",
				"cannot seal the secret (master key unavailable)");

	if (iam_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM sts_sessions WHERE expires_ms < ?1");
	sqlite3_bind_int64(st, 1, c->now_ms);
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "pruning sessions");
	st =
	    db_stmt(c->fb->db, "INSERT INTO sts_sessions(akid, account, arn, user_id, is_root, "
			       "token_sha256, secret_enc, expires_ms, created_ms, role_arn, "
			       "source_arn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
	sqlite3_bind_text(st, 1, cr->akid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id->arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id->user_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, id->is_root);
	sqlite3_bind_blob(st, 6, sha, sizeof(sha), SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, blob, (int)blob_n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, cr->expires_ms);
	sqlite3_bind_int64(st, 9, c->now_ms);
	if (role_arn)
		sqlite3_bind_text(st, 10, role_arn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, source_arn, -1, SQLITE_STATIC);
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "storing the session");
	return iam_commit(c);
}

/* creds_jv: the Credentials shape. */
static struct jv *creds_jv(struct aws_call *c, const struct creds *cr)
{
	struct jv *o = jv_object(c->a);
	jv_set_str(c->a, o, "AccessKeyId", cr->akid);
	jv_set_str(c->a, o, "SecretAccessKey", cr->secret);
	jv_set_str(c->a, o, "SessionToken", cr->token);
	jv_set_double(c->a, o, "Expiration", (double)cr->expires_ms / 1000.0);
	return o;
}

/* parse_role_arn: splits "arn:aws:iam::<12 digits>:role/<path><name>" into
 * an arena account, path ("/" or "/a/b/") and name. Returns 0 or -1. */
static int parse_role_arn(struct arena *a, const char *arn, const char **account, const char **path,
			  const char **name)
{
	static const char pre[] = "arn:aws:iam::";
	size_t np = sizeof(pre) - 1;
	if (!arn || strncmp(arn, pre, np) != 0)
		return -1;
	const char *acct = arn + np;
	for (int i = 0; i < 12; i++)
		if (acct[i] < '0' || acct[i] > '9')
			return -1;
	if (strncmp(acct + 12, ":role/", 6) != 0)
		return -1;
	const char *rest = acct + 18, *slash = strrchr(rest, '/');
	const char *nm = slash ? slash + 1 : rest;
	if (!iam_valid_name(str_c(nm), 64))
		return -1;
	*account = arena_strndup(a, acct, 12);
	*path = slash ? arena_sprintf(a, "/%.*s", (int)(slash - rest + 1), rest) : "/";
	*name = nm;
	return 0;
}

/* sts_op_assume_role: AssumeRole. The role must exist (AWS answers
 * AccessDenied, not NoSuchEntity, so as not to reveal which roles exist);
 * DurationSeconds runs 900..the role's MaxSessionDuration, and at most an
 * hour when a role session assumes another role (role chaining). Returns 0
 * or -1 (error recorded on c). */
int sts_op_assume_role(struct aws_call *c)
{
	const char *role_arn = jv_get_str(c->in, "RoleArn");
	struct str session = jv_get_strv(c->in, "RoleSessionName");
	const char *policy = jv_get_str(c->in, "Policy");
	int64_t duration = jv_get_int(c->in, "DurationSeconds", 3600);
	struct caller w = caller_of(c);
	const char *account, *path, *name;
	struct iam_role role;

	if (!role_arn || parse_role_arn(c->a, role_arn, &account, &path, &name) < 0)
		return aws_fail(c, 400, "ValidationError", "%s is invalid",
				role_arn ? role_arn : "RoleArn");
	if (session.n < 2 || !iam_valid_name(session, 64))
		return aws_fail(
		    c, 400, "ValidationError",
		    "1 validation error detected: Value '%.*s' at 'roleSessionName' "
		    "failed to satisfy constraint: Member must satisfy regular expression "
		    "pattern: [\\w+=,.@-]* and length between 2 and 64",
		    (int)session.n, session.p ? session.p : "");
	if (duration < 900 || duration > 43200)
		return aws_fail(c, 400, "ValidationError",
				"1 validation error detected: Value '%lld' at 'durationSeconds' "
				"failed to satisfy constraint: Member must have value less than or "
				"equal to 43200 and greater than or equal to 900",
				(long long)duration);
	if (policy && !iam_json_object(c->fb, str_c(policy)))
		return aws_fail(c, 400, "MalformedPolicyDocument",
				"The policy is not in the valid JSON format.");

	int found = iam_role_find(c->fb, c->a, account, name, &role);
	if (found < 0)
		return aws_fail(c, 500, "InternalFailure", "role lookup failed");
	if (!found || strcmp(role.path, path) != 0)
		return aws_fail(
		    c, 403, "AccessDenied",
		    "User: %s is not authorized to perform: sts:AssumeRole on resource: "
		    "%s",
		    w.arn, role_arn);
	int chained = strstr(w.arn, ":assumed-role/") != NULL;
	if (duration > role.max_session_s || (chained && duration > 3600))
		return aws_fail(c, 400, "ValidationError",
				"The requested DurationSeconds exceeds the %s set for this role.",
				chained ? "1 hour session limit for roles assumed by role chaining"
					: "MaxSessionDuration");

	struct caller sess = {
	    .account = account,
	    .arn = arena_sprintf(c->a, "arn:aws:sts::%s:assumed-role/%s/%.*s", account, role.name,
				 (int)session.n, session.p),
	    .user_id = arena_sprintf(c->a, "%s:%.*s", role.id, (int)session.n, session.p),
	    .is_root = 0,
	};
	struct creds cr;
	if (store_session(c, &cr, duration, &sess, role.arn, w.arn) < 0)
		return -1;

	struct jv *out = aws_out(c), *u = jv_object(c->a);
	jv_set(c->a, out, "Credentials", creds_jv(c, &cr));
	jv_set_str(c->a, u, "AssumedRoleId", sess.user_id);
	jv_set_str(c->a, u, "Arn", sess.arn);
	jv_set(c->a, out, "AssumedRoleUser", u);
	if (policy)
		jv_set_int(c->a, out, "PackedPolicySize", 0);
	jv_set_str(c->a, out, "SourceIdentity", jv_get_str(c->in, "SourceIdentity"));
	return 0;
}

/* sts_op_get_session_token: GetSessionToken for a user or the root (whose
 * sessions AWS caps at one hour). Session credentials cannot call it.
 * Returns 0 or -1 (error recorded on c). */
int sts_op_get_session_token(struct aws_call *c)
{
	struct caller w = caller_of(c);
	int64_t duration = jv_get_int(c->in, "DurationSeconds", 43200);
	if (c->who.session_token || strstr(w.arn, ":assumed-role/"))
		return aws_fail(c, 403, "AccessDenied",
				"Cannot call GetSessionToken with session credentials");
	if (duration < 900 || duration > 129600)
		return aws_fail(c, 400, "ValidationError",
				"1 validation error detected: Value '%lld' at 'durationSeconds' "
				"failed to satisfy constraint: Member must have value less than or "
				"equal to 129600 and greater than or equal to 900",
				(long long)duration);
	if (w.is_root && duration > 3600)
		duration = 3600;
	struct creds cr;
	if (store_session(c, &cr, duration, &w, NULL, w.arn) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "Credentials", creds_jv(c, &cr));
	return 0;
}
