/* keys.c - IAM access keys: CreateAccessKey, ListAccessKeys,
 * UpdateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed.
 *
 * A key belongs to a user, or to the account root when created by the
 * root without a UserName (stored with user_name ''). The secret is sealed
 * (secret.c) before it reaches the database and is shown only once, in
 * CreateAccessKey's answer. Identity lookups live in resolve.c. */
#include "svc/iam/iam.h"
#include "svc/iam/keys.h"
#include "aws/gen/iam_ops.h"
#include "fb.h"
#include "store/db.h"

#define IAM_MAX_KEYS_PER_USER 2

/* key_owner: the user whose keys the call is about: UserName when given
 * (it must exist; *owner gets its stored spelling), else the caller ('' for
 * the root). Returns 0, or -1 with the error recorded. */
static int key_owner(struct aws_call *c, const char **owner)
{
	const char *name = jv_get_str(c->in, "UserName");
	if (!name) {
		if (iam_caller_user(c, &name) < 0)
			return -1;
		if (!name) {
			*owner = "";
			return 0;
		}
	}
	int found = iam_user_exists(c, name, owner);
	if (found == 0)
		return aws_fail(c, 404, "NoSuchEntity", "The user with name %s cannot be found.",
				name);
	return found < 0 ? -1 : 0;
}

/* iam_op_create_access_key: CreateAccessKey; at most two keys per user.
 * Returns 0 or -1 (error recorded on c). */
int iam_op_create_access_key(struct aws_call *c)
{
	const char *owner;
	if (iam_begin(c) < 0)
		return -1;
	if (key_owner(c, &owner) < 0)
		return iam_abort(c);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT count(*) FROM iam_access_keys "
					      "WHERE account = ?1 AND user_name = ?2");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	if (n < 0)
		return iam_db_error(c, "CreateAccessKey");
	if (n >= IAM_MAX_KEYS_PER_USER) {
		aws_fail(c, 409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d",
			 IAM_MAX_KEYS_PER_USER);
		return iam_abort(c);
	}

	char akid[IAM_ID_LEN + 1], secret[IAM_SECRET_LEN + 1];
	iam_new_id(akid, "AKIA");
	iam_new_secret(secret);
	size_t blob_n;
	unsigned char *blob = iam_seal(c->fb, c->a, akid, secret, IAM_SECRET_LEN, &blob_n);
	if (!blob) {
		aws_fail(c, 500, "ServiceFailure",
			 "cannot seal the secret (master key unavailable)");
		return iam_abort(c);
	}
	st = db_stmt(c->fb->db, "INSERT INTO iam_access_keys(akid, account, user_name, active, "
				"secret_enc, created_ms) VALUES (?1, ?2, ?3, 1, ?4, ?5)");
	sqlite3_bind_text(st, 1, akid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, blob, (int)blob_n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->now_ms);
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "CreateAccessKey");
	if (iam_commit(c) < 0)
		return -1;

	struct jv *k = jv_object(c->a);
	if (*owner)
		jv_set_str(c->a, k, "UserName", owner);
	jv_set_str(c->a, k, "AccessKeyId", akid);
	jv_set_str(c->a, k, "Status", "Active");
	jv_set_str(c->a, k, "SecretAccessKey", secret);
	jv_set_double(c->a, k, "CreateDate", (double)c->now_ms / 1000.0);
	jv_set(c->a, aws_out(c), "AccessKey", k);
	return 0;
}

/* iam_op_list_access_keys: ListAccessKeys, oldest first. With two keys
 * per user at most, one page always holds them all. Returns 0 or -1. */
int iam_op_list_access_keys(struct aws_call *c)
{
	const char *owner;
	struct iam_page pg;
	if (iam_page_get(c, &pg) < 0 || key_owner(c, &owner) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT akid, active, created_ms FROM "
					      "iam_access_keys WHERE account = ?1 AND "
					      "user_name = ?2 ORDER BY created_ms, akid");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	struct jv *keys = jv_array(c->a);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jv *k = jv_object(c->a);
		if (*owner)
			jv_set_str(c->a, k, "UserName", owner);
		jv_set_str(c->a, k, "AccessKeyId", db_col_text(st, 0));
		jv_set_str(c->a, k, "Status", sqlite3_column_int(st, 1) ? "Active" : "Inactive");
		jv_set_double(c->a, k, "CreateDate", (double)sqlite3_column_int64(st, 2) / 1000.0);
		jv_push(c->a, keys, k);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return aws_fail(c, 500, "ServiceFailure", "ListAccessKeys failed");
	struct jv *out = aws_out(c);
	jv_set(c->a, out, "AccessKeyMetadata", keys);
	jv_set_bool(c->a, out, "IsTruncated", 0);
	return 0;
}

/* no_such_key: records AWS's NoSuchEntity for an access key; returns -1. */
static int no_such_key(struct aws_call *c, const char *akid)
{
	return aws_fail(c, 404, "NoSuchEntity", "The Access Key with id %s cannot be found.", akid);
}

/* iam_op_update_access_key: UpdateAccessKey (Active / Inactive). The key
 * must belong to the named user (or the caller). Returns 0 or -1. */
int iam_op_update_access_key(struct aws_call *c)
{
	const char *akid = jv_get_str(c->in, "AccessKeyId");
	const char *status = jv_get_str(c->in, "Status"), *owner;
	if (!akid || !status)
		return aws_fail(c, 400, "ValidationError", "AccessKeyId and Status are required");
	int active = strcmp(status, "Active") == 0;
	if (!active && strcmp(status, "Inactive") != 0)
		return aws_fail(c, 400, "ValidationError",
				"1 validation error detected: Value '%s' at 'status' failed to "
				"satisfy constraint: Member must satisfy enum value set: [Active, "
				"Inactive]",
				status);
	if (iam_begin(c) < 0)
		return -1;
	if (key_owner(c, &owner) < 0)
		return iam_abort(c);
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE iam_access_keys SET active = ?4 WHERE "
					      "akid = ?1 AND account = ?2 AND user_name = ?3");
	sqlite3_bind_text(st, 1, akid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, active);
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "UpdateAccessKey");
	if (sqlite3_changes(db_sqlite(c->fb->db)) == 0) {
		no_such_key(c, akid);
		return iam_abort(c);
	}
	iam_cache_forget(akid);
	return iam_commit(c);
}

/* iam_op_delete_access_key: DeleteAccessKey. Returns 0 or -1. */
int iam_op_delete_access_key(struct aws_call *c)
{
	const char *akid = jv_get_str(c->in, "AccessKeyId"), *owner;
	if (!akid)
		return aws_fail(c, 400, "ValidationError", "AccessKeyId is required");
	if (iam_begin(c) < 0)
		return -1;
	if (key_owner(c, &owner) < 0)
		return iam_abort(c);
	sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM iam_access_keys WHERE akid = ?1 AND "
					      "account = ?2 AND user_name = ?3");
	sqlite3_bind_text(st, 1, akid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "DeleteAccessKey");
	if (sqlite3_changes(db_sqlite(c->fb->db)) == 0) {
		no_such_key(c, akid);
		return iam_abort(c);
	}
	iam_cache_forget(akid);
	return iam_commit(c);
}

/* iam_op_get_access_key_last_used: GetAccessKeyLastUsed: the newest use
 * recorded in memory, else the stored one, else AWS's never-used form
 * (ServiceName and Region "N/A", no LastUsedDate). Returns 0 or -1. */
int iam_op_get_access_key_last_used(struct aws_call *c)
{
	const char *akid = jv_get_str(c->in, "AccessKeyId");
	if (!akid)
		return aws_fail(c, 400, "ValidationError", "AccessKeyId is required");
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT user_name, last_used_ms, last_service, "
					      "last_region FROM iam_access_keys "
					      "WHERE akid = ?1 AND account = ?2");
	sqlite3_bind_text(st, 1, akid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, iam_account(c), -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	const char *user = NULL, *service = "N/A", *region = "N/A";
	int64_t ms = 0;
	if (rc == SQLITE_ROW) {
		user = arena_strdup(c->a, db_col_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			ms = sqlite3_column_int64(st, 1);
			service = arena_strdup(c->a, db_col_text(st, 2));
			region = arena_strdup(c->a, db_col_text(st, 3));
		}
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return no_such_key(c, akid);
	if (rc != SQLITE_ROW)
		return aws_fail(c, 500, "ServiceFailure", "GetAccessKeyLastUsed failed");
	iam_key_last_used(akid, &ms, &service, &region);
	struct jv *out = aws_out(c), *lu = jv_object(c->a);
	if (*user)
		jv_set_str(c->a, out, "UserName", user);
	if (ms) /* a timestamp member: the serializer writes it as ISO 8601 */
		jv_set_double(c->a, lu, "LastUsedDate", (double)ms / 1000.0);
	jv_set_str(c->a, lu, "ServiceName", service);
	jv_set_str(c->a, lu, "Region", region);
	jv_set(c->a, out, "AccessKeyLastUsed", lu);
	return 0;
}
