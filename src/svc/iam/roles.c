/* roles.c - IAM roles: CreateRole, GetRole, ListRoles, DeleteRole,
 * UpdateRole, UpdateAssumeRolePolicy, plus the lookup STS uses.
 *
 * The trust policy is stored as sent (only checked to be a JSON object;
 * evaluating it is later work) and answered URL-encoded, as IAM does:
 * botocore URL-decodes and parses it back into a document. */
#include "svc/iam/iam.h"
#include "aws/gen/iam_ops.h"
#include "fb.h"
#include "store/db.h"

#define ROLE_COLS "name, path, id, created_ms, trust_policy, description, max_session_s"

/* role_jv: the Role shape from a row selected with ROLE_COLS. */
static struct jv *role_jv(struct aws_call *c, sqlite3_stmt *st)
{
	struct jv *r = jv_object(c->a);
	const char *name = db_col_text(st, 0), *path = db_col_text(st, 1);
	jv_set_str(c->a, r, "Path", path);
	jv_set_str(c->a, r, "RoleName", name);
	jv_set_str(c->a, r, "RoleId", db_col_text(st, 2));
	jv_set_str(c->a, r, "Arn", iam_arn(c->a, iam_account(c), "role", path, name));
	jv_set_double(c->a, r, "CreateDate", (double)sqlite3_column_int64(st, 3) / 1000.0);
	jv_set_str(c->a, r, "AssumeRolePolicyDocument", iam_url_encode(c->a, db_col_text(st, 4)));
	jv_set_str(c->a, r, "Description", db_col_text(st, 5));
	jv_set_int(c->a, r, "MaxSessionDuration", sqlite3_column_int64(st, 6));
	return r;
}

/* check_policy: 0 when doc is a JSON object, else -1 with
 * MalformedPolicyDocument recorded. */
static int check_policy(struct aws_call *c, struct str doc)
{
	if (!iam_json_object(c->fb, doc))
		return aws_fail(c, 400, "MalformedPolicyDocument",
				"This policy contains invalid Json");
	return 0;
}

/* check_max_session: 0 when MaxSessionDuration is absent or 3600..43200. */
static int check_max_session(struct aws_call *c, int64_t v)
{
	if (v < 3600 || v > 43200)
		return aws_fail(c, 400, "ValidationError",
				"1 validation error detected: Value '%lld' at 'maxSessionDuration' "
				"failed to satisfy constraint: Member must have value less than or "
				"equal to 43200 and greater than or equal to 3600",
				(long long)v);
	return 0;
}

/* iam_op_create_role: CreateRole. Returns 0 or -1 (error recorded on c). */
int iam_op_create_role(struct aws_call *c)
{
	struct str name = jv_get_strv(c->in, "RoleName");
	struct str doc = jv_get_strv(c->in, "AssumeRolePolicyDocument");
	struct str desc = jv_get_strv(c->in, "Description");
	const char *path = jv_get_str(c->in, "Path");
	int64_t max_s = jv_get_int(c->in, "MaxSessionDuration", 3600);
	struct jv *tags = jv_get(c->in, "Tags");
	if (!path)
		path = "/";
	if (!iam_valid_name(name, 64))
		return aws_fail(c, 400, "ValidationError",
				"The specified value for roleName is invalid. It must contain only "
				"alphanumeric characters and/or the following: +=,.@_-");
	if (!iam_valid_path(str_c(path)))
		return aws_fail(
		    c, 400, "ValidationError",
		    "The specified value for path is invalid. It must begin and end "
		    "with / and contain only alphanumeric characters and/or / characters.");
	if (desc.n > 1000)
		return aws_fail(c, 400, "ValidationError",
				"Description must be at most 1000 characters long.");
	if (check_max_session(c, max_s) < 0 || check_policy(c, doc) < 0 ||
	    iam_tags_validate(c, tags) < 0)
		return -1;

	char id[IAM_ID_LEN + 1];
	iam_new_id(id, "AROA");
	if (iam_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO iam_roles(account, " ROLE_COLS
					      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name.p, (int)name.n, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->now_ms);
	sqlite3_bind_text(st, 6, doc.p, (int)doc.n, SQLITE_STATIC);
	if (desc.p)
		sqlite3_bind_text(st, 7, desc.p, (int)desc.n, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, max_s);
	int rc = db_step_done(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		aws_fail(c, 409, "EntityAlreadyExists", "Role with name %s already exists.",
			 name.p);
		return iam_abort(c);
	}
	if (rc != SQLITE_DONE)
		return iam_db_error(c, "CreateRole");
	if (iam_tags_put(c, "role", name.p, tags) < 0)
		return iam_abort(c);
	if (iam_commit(c) < 0)
		return -1;

	struct jv *r = jv_object(c->a);
	jv_set_str(c->a, r, "Path", path);
	jv_set_str(c->a, r, "RoleName", name.p);
	jv_set_str(c->a, r, "RoleId", id);
	jv_set_str(c->a, r, "Arn", iam_arn(c->a, iam_account(c), "role", path, name.p));
	jv_set_double(c->a, r, "CreateDate", (double)c->now_ms / 1000.0);
	jv_set_str(c->a, r, "AssumeRolePolicyDocument", iam_url_encode(c->a, doc.p));
	jv_set_str(c->a, r, "Description", desc.p);
	jv_set_int(c->a, r, "MaxSessionDuration", max_s);
	if (jv_len(tags))
		jv_set(c->a, r, "Tags", tags);
	jv_set(c->a, aws_out(c), "Role", r);
	return 0;
}

/* no_such_role: records NoSuchEntity for role name; returns -1. */
static int no_such_role(struct aws_call *c, const char *name)
{
	return aws_fail(c, 404, "NoSuchEntity", "The role with name %s cannot be found.",
			name ? name : "");
}

/* iam_op_get_role: GetRole. Returns 0 or -1 (error recorded on c). */
int iam_op_get_role(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "RoleName");
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT " ROLE_COLS " FROM iam_roles "
					      "WHERE account = ?1 AND name = ?2");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	struct jv *r = rc == SQLITE_ROW ? role_jv(c, st) : NULL;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return no_such_role(c, name);
	if (!r)
		return aws_fail(c, 500, "ServiceFailure", "GetRole failed");
	struct jv *tags = iam_tags_list(c, "role", jv_get_str(r, "RoleName"));
	if (!tags)
		return -1;
	if (jv_len(tags))
		jv_set(c->a, r, "Tags", tags);
	jv_set(c->a, r, "RoleLastUsed", jv_object(c->a));
	jv_set(c->a, aws_out(c), "Role", r);
	return 0;
}

/* iam_op_list_roles: ListRoles in name order; the marker is the name of
 * the first role not yet returned. Returns 0 or -1. */
int iam_op_list_roles(struct aws_call *c)
{
	struct iam_page pg;
	const char *prefix = jv_get_str(c->in, "PathPrefix");
	if (iam_page_get(c, &pg) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT " ROLE_COLS " FROM iam_roles "
			       "WHERE account = ?1 AND substr(path, 1, length(?2)) = ?2 "
			       "AND (?3 IS NULL OR name >= ?3) ORDER BY name LIMIT ?4");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, prefix ? prefix : "/", -1, SQLITE_STATIC);
	if (pg.marker)
		sqlite3_bind_text(st, 3, pg.marker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, pg.max + 1);
	struct jv *roles = jv_array(c->a), *out = aws_out(c);
	int rc, truncated = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((int64_t)jv_len(roles) == pg.max) {
			truncated = 1;
			jv_set_str(c->a, out, "Marker", db_col_text(st, 0));
			break;
		}
		jv_push(c->a, roles, role_jv(c, st));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return aws_fail(c, 500, "ServiceFailure", "ListRoles failed");
	jv_set(c->a, out, "Roles", roles);
	jv_set_bool(c->a, out, "IsTruncated", truncated);
	return 0;
}

/* iam_op_delete_role: DeleteRole. Sessions already issued for the role
 * stay valid until they expire. Returns 0 or -1. */
int iam_op_delete_role(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "RoleName");
	if (iam_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM iam_roles WHERE account = ?1 AND "
					      "name = ?2 RETURNING name");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	const char *canon = rc == SQLITE_ROW ? arena_strdup(c->a, db_col_text(st, 0)) : NULL;
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return iam_db_error(c, "DeleteRole");
	if (!canon) {
		no_such_role(c, name);
		return iam_abort(c);
	}
	if (iam_tags_drop(c, "role", canon) < 0)
		return iam_abort(c);
	return iam_commit(c);
}

/* update_role: runs an UPDATE of one role whose ?1 is the account and ?2
 * the name (further bindings already set by the caller), in its own
 * transaction. Returns 0 or -1 (NoSuchEntity when nothing changed). */
static int update_role(struct aws_call *c, sqlite3_stmt *st, const char *name)
{
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (iam_begin(c) < 0)
		return -1;
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "UpdateRole");
	if (sqlite3_changes(db_sqlite(c->fb->db)) == 0) {
		no_such_role(c, name);
		return iam_abort(c);
	}
	return iam_commit(c);
}

/* iam_op_update_role: UpdateRole (Description, MaxSessionDuration; an
 * absent member keeps its value). Returns 0 or -1. */
int iam_op_update_role(struct aws_call *c)
{
	struct str desc = jv_get_strv(c->in, "Description");
	struct jv *max = jv_get(c->in, "MaxSessionDuration");
	if (desc.n > 1000)
		return aws_fail(c, 400, "ValidationError",
				"Description must be at most 1000 characters long.");
	if (max && check_max_session(c, jv_get_int(c->in, "MaxSessionDuration", 0)) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE iam_roles SET description = "
					      "coalesce(?3, description), max_session_s = "
					      "coalesce(?4, max_session_s) WHERE account = ?1 AND "
					      "name = ?2");
	if (desc.p)
		sqlite3_bind_text(st, 3, desc.p, (int)desc.n, SQLITE_STATIC);
	if (max)
		sqlite3_bind_int64(st, 4, jv_get_int(c->in, "MaxSessionDuration", 3600));
	return update_role(c, st, jv_get_str(c->in, "RoleName"));
}

/* iam_op_update_assume_role_policy: UpdateAssumeRolePolicy. Returns 0 or -1. */
int iam_op_update_assume_role_policy(struct aws_call *c)
{
	struct str doc = jv_get_strv(c->in, "PolicyDocument");
	if (check_policy(c, doc) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE iam_roles SET trust_policy = ?3 "
					      "WHERE account = ?1 AND name = ?2");
	sqlite3_bind_text(st, 3, doc.p, (int)doc.n, SQLITE_STATIC);
	return update_role(c, st, jv_get_str(c->in, "RoleName"));
}

/* iam_role_find: see iam.h. */
int iam_role_find(struct fogbank *fb, struct arena *a, const char *account, const char *name,
		  struct iam_role *out)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT name, path, id, max_session_s FROM iam_roles "
					   "WHERE account = ?1 AND name = ?2");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->name = arena_strdup(a, db_col_text(st, 0));
		out->path = arena_strdup(a, db_col_text(st, 1));
		out->id = arena_strdup(a, db_col_text(st, 2));
		out->max_session_s = sqlite3_column_int64(st, 3);
		out->arn = iam_arn(a, account, "role", out->path, out->name);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
