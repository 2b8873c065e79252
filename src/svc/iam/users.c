/* users.c - IAM users: CreateUser, GetUser, ListUsers, DeleteUser. */
#include "svc/iam/iam.h"
#include "aws/gen/iam_ops.h"
#include "fb.h"
#include "store/db.h"

/* user_jv: the User shape from a row's columns (tags not included). */
static struct jv *user_jv(struct aws_call *c, const char *name, const char *path, const char *id,
			  int64_t created_ms)
{
	struct jv *u = jv_object(c->a);
	jv_set_str(c->a, u, "Path", path);
	jv_set_str(c->a, u, "UserName", name);
	jv_set_str(c->a, u, "UserId", id);
	jv_set_str(c->a, u, "Arn", iam_arn(c->a, iam_account(c), "user", path, name));
	jv_set_double(c->a, u, "CreateDate", (double)created_ms / 1000.0);
	return u;
}

/* iam_op_create_user: CreateUser. Returns 0 or -1 (error recorded on c). */
int iam_op_create_user(struct aws_call *c)
{
	struct str name = jv_get_strv(c->in, "UserName");
	const char *path = jv_get_str(c->in, "Path");
	struct jv *tags = jv_get(c->in, "Tags");
	if (!path)
		path = "/";
	if (!iam_valid_name(name, 64))
		return aws_fail(c, 400, "ValidationError",
				"The specified value for userName is invalid. It must contain only "
				"alphanumeric characters and/or the following: +=,.@_-");
	if (!iam_valid_path(str_c(path)))
		return aws_fail(
		    c, 400, "ValidationError",
		    "The specified value for path is invalid. It must begin and end "
		    "with / and contain only alphanumeric characters and/or / characters.");
	if (iam_tags_validate(c, tags) < 0)
		return -1;

	char id[IAM_ID_LEN + 1];
	iam_new_id(id, "AIDA");
	if (iam_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO iam_users(account, name, path, id, "
					      "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name.p, (int)name.n, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->now_ms);
	int rc = db_step_done(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		aws_fail(c, 409, "EntityAlreadyExists", "User with name %.*s already exists.",
			 (int)name.n, name.p);
		return iam_abort(c);
	}
	if (rc != SQLITE_DONE)
		return iam_db_error(c, "CreateUser");
	if (iam_tags_put(c, "user", name.p, tags) < 0)
		return iam_abort(c);
	if (iam_commit(c) < 0)
		return -1;

	struct jv *u = user_jv(c, name.p, path, id, c->now_ms);
	if (jv_len(tags))
		jv_set(c->a, u, "Tags", tags);
	jv_set(c->a, aws_out(c), "User", u);
	return 0;
}

/* iam_op_get_user: GetUser. Without UserName it describes the caller:
 * the root answers with just its UserId, Arn and CreateDate, as AWS does.
 * Returns 0 or -1 (error recorded on c). */
int iam_op_get_user(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "UserName");
	if (!name) {
		if (iam_caller_user(c, &name) < 0)
			return -1;
		if (!name) {
			struct jv *u = jv_object(c->a);
			jv_set_str(c->a, u, "UserId", iam_account(c));
			jv_set_str(c->a, u, "Arn",
				   arena_sprintf(c->a, "arn:aws:iam::%s:root", iam_account(c)));
			/* The account has no stored birth date; the daemon's
			 * start is a stable enough stand-in. */
			jv_set_double(c->a, u, "CreateDate", (double)c->fb->started_ms / 1000.0);
			jv_set(c->a, aws_out(c), "User", u);
			return 0;
		}
	}
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT name, path, id, created_ms FROM iam_users "
					      "WHERE account = ?1 AND name = ?2");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return aws_fail(c, 404, "NoSuchEntity",
					"The user with name %s cannot be found.", name);
		return aws_fail(c, 500, "ServiceFailure", "GetUser failed");
	}
	struct jv *u = user_jv(c, arena_strdup(c->a, db_col_text(st, 0)),
			       arena_strdup(c->a, db_col_text(st, 1)),
			       arena_strdup(c->a, db_col_text(st, 2)), sqlite3_column_int64(st, 3));
	sqlite3_reset(st);
	struct jv *tags = iam_tags_list(c, "user", jv_get_str(u, "UserName"));
	if (!tags)
		return -1;
	if (jv_len(tags))
		jv_set(c->a, u, "Tags", tags);
	jv_set(c->a, aws_out(c), "User", u);
	return 0;
}

/* iam_op_list_users: ListUsers, in name order. The marker is the name of
 * the first user not yet returned. Returns 0 or -1 (error recorded). */
int iam_op_list_users(struct aws_call *c)
{
	struct iam_page pg;
	const char *prefix = jv_get_str(c->in, "PathPrefix");
	if (iam_page_get(c, &pg) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT name, path, id, created_ms FROM iam_users "
			       "WHERE account = ?1 AND substr(path, 1, length(?2)) = ?2 "
			       "AND (?3 IS NULL OR name >= ?3) ORDER BY name LIMIT ?4");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, prefix ? prefix : "/", -1, SQLITE_STATIC);
	if (pg.marker)
		sqlite3_bind_text(st, 3, pg.marker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, pg.max + 1);
	struct jv *users = jv_array(c->a), *out = aws_out(c);
	int rc, truncated = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((int64_t)jv_len(users) == pg.max) {
			truncated = 1;
			jv_set_str(c->a, out, "Marker", db_col_text(st, 0));
			break;
		}
		jv_push(c->a, users,
			user_jv(c, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2),
				sqlite3_column_int64(st, 3)));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return aws_fail(c, 500, "ServiceFailure", "ListUsers failed");
	jv_set(c->a, out, "Users", users);
	jv_set_bool(c->a, out, "IsTruncated", truncated);
	return 0;
}

/* iam_op_delete_user: DeleteUser; refuses while the user still has access
 * keys (DeleteConflict), as AWS does. Returns 0 or -1 (error recorded). */
int iam_op_delete_user(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "UserName"), *canon;
	if (!name)
		return aws_fail(c, 400, "ValidationError", "UserName is required");
	if (iam_begin(c) < 0)
		return -1;
	int found = iam_user_exists(c, name, &canon);
	if (found <= 0) {
		if (found == 0)
			aws_fail(c, 404, "NoSuchEntity", "The user with name %s cannot be found.",
				 name);
		return iam_abort(c);
	}
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT 1 FROM iam_access_keys "
					      "WHERE account = ?1 AND user_name = ?2 LIMIT 1");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, canon, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		aws_fail(c, 409, "DeleteConflict",
			 "Cannot delete entity, must delete access keys first.");
		return iam_abort(c);
	}
	if (rc != SQLITE_DONE)
		return iam_db_error(c, "DeleteUser");
	st = db_stmt(c->fb->db, "DELETE FROM iam_users WHERE account = ?1 AND name = ?2");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, canon, -1, SQLITE_STATIC);
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "DeleteUser");
	if (iam_tags_drop(c, "user", canon) < 0)
		return iam_abort(c);
	return iam_commit(c);
}
