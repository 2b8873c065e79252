/* tags.c - tags of IAM users and roles, and the Tag/Untag/List*Tags
 * operations. One table serves both kinds; keys are case-insensitive
 * (IAM refuses "Dept" next to "dept") but keep the latest spelling. */
#include "svc/iam/iam.h"
#include "aws/gen/iam_ops.h"
#include "fb.h"
#include "store/db.h"

#define IAM_MAX_TAGS 50

/* iam_tags_validate: see iam.h. */
int iam_tags_validate(struct aws_call *c, const struct jv *tags)
{
	size_t n = jv_len(tags);
	if (n > IAM_MAX_TAGS)
		return aws_fail(c, 409, "LimitExceeded",
				"The number of tags has reached the maximum limit.");
	for (size_t i = 0; i < n; i++) {
		struct str k = jv_get_strv(jv_at(tags, i), "Key");
		struct str v = jv_get_strv(jv_at(tags, i), "Value");
		if (!k.p || k.n < 1 || k.n > 128)
			return aws_fail(c, 400, "ValidationError",
					"Tag keys must be between 1 and 128 characters.");
		if (!v.p || v.n > 256)
			return aws_fail(c, 400, "ValidationError",
					"Tag values must be between 0 and 256 characters.");
		for (size_t j = 0; j < i; j++) {
			struct str o = jv_get_strv(jv_at(tags, j), "Key");
			if (o.n == k.n && strncasecmp(o.p, k.p, k.n) == 0)
				return aws_fail(
				    c, 400, "InvalidInput",
				    "Duplicate tag keys found. Please note that Tag keys "
				    "are case insensitive.");
		}
	}
	return 0;
}

/* iam_tags_put: see iam.h. */
int iam_tags_put(struct aws_call *c, const char *kind, const char *name, const struct jv *tags)
{
	struct db *db = c->fb->db;
	for (size_t i = 0; i < jv_len(tags); i++) {
		struct str k = jv_get_strv(jv_at(tags, i), "Key");
		struct str v = jv_get_strv(jv_at(tags, i), "Value");
		sqlite3_stmt *st =
		    db_stmt(db, "INSERT INTO iam_tags(account, kind, name, key, value) "
				"VALUES (?1, ?2, ?3, ?4, ?5) "
				"ON CONFLICT(account, kind, name, key) DO UPDATE SET "
				"key = excluded.key, value = excluded.value");
		sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, k.p, (int)k.n, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, v.p, (int)v.n, SQLITE_STATIC);
		if (db_step_done(st) != SQLITE_DONE)
			return iam_db_error(c, "tagging");
	}
	sqlite3_stmt *cnt = db_stmt(
	    db, "SELECT count(*) FROM iam_tags WHERE account = ?1 AND kind = ?2 AND name = ?3");
	sqlite3_bind_text(cnt, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(cnt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(cnt, 3, name, -1, SQLITE_STATIC);
	int n = sqlite3_step(cnt) == SQLITE_ROW ? sqlite3_column_int(cnt, 0) : -1;
	sqlite3_reset(cnt);
	if (n < 0)
		return iam_db_error(c, "tagging");
	if (n > IAM_MAX_TAGS)
		return aws_fail(c, 409, "LimitExceeded",
				"The number of tags has reached the maximum limit.");
	return 0;
}

/* iam_tags_list: see iam.h. */
struct jv *iam_tags_list(struct aws_call *c, const char *kind, const char *name)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT key, value FROM iam_tags WHERE account = ?1 "
					      "AND kind = ?2 AND name = ?3 ORDER BY key");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	struct jv *arr = jv_array(c->a);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jv *t = jv_object(c->a);
		jv_set_str(c->a, t, "Key", db_col_text(st, 0));
		jv_set_str(c->a, t, "Value", db_col_text(st, 1));
		jv_push(c->a, arr, t);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		aws_fail(c, 500, "ServiceFailure", "listing tags failed");
		return NULL;
	}
	return arr;
}

/* iam_tags_drop: see iam.h. */
int iam_tags_drop(struct aws_call *c, const char *kind, const char *name)
{
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, "DELETE FROM iam_tags WHERE account = ?1 AND kind = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if (db_step_done(st) != SQLITE_DONE)
		return iam_db_error(c, "untagging");
	return 0;
}

/* entity_exists: 1 when the user or role exists (canonical name in
 * *canon), 0 with NoSuchEntity recorded, -1 on a database error. */
static int entity_exists(struct aws_call *c, const char *kind, const char *name, const char **canon)
{
	sqlite3_stmt *st =
	    strcmp(kind, "user") == 0
		? db_stmt(c->fb->db, "SELECT name FROM iam_users WHERE account = ?1 AND name = ?2")
		: db_stmt(c->fb->db, "SELECT name FROM iam_roles WHERE account = ?1 AND name = ?2");
	sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*canon = arena_strdup(c->a, db_col_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE) {
		aws_fail(c, 500, "ServiceFailure", "lookup failed");
		return -1;
	}
	aws_fail(c, 404, "NoSuchEntity", "The %s with name %s cannot be found.", kind, name);
	return 0;
}

/* tag: TagUser / TagRole body: name member nm, entity kind. */
static int tag(struct aws_call *c, const char *nm, const char *kind)
{
	const char *name = jv_get_str(c->in, nm), *canon;
	struct jv *tags = jv_get(c->in, "Tags");
	if (!name)
		return aws_fail(c, 400, "ValidationError", "%s is required", nm);
	if (iam_tags_validate(c, tags) < 0 || iam_begin(c) < 0)
		return -1;
	if (entity_exists(c, kind, name, &canon) <= 0 || iam_tags_put(c, kind, canon, tags) < 0)
		return iam_abort(c);
	return iam_commit(c);
}

/* untag: UntagUser / UntagRole body; unknown keys are ignored, as IAM does. */
static int untag(struct aws_call *c, const char *nm, const char *kind)
{
	const char *name = jv_get_str(c->in, nm), *canon;
	struct jv *keys = jv_get(c->in, "TagKeys");
	if (!name)
		return aws_fail(c, 400, "ValidationError", "%s is required", nm);
	if (iam_begin(c) < 0)
		return -1;
	if (entity_exists(c, kind, name, &canon) <= 0)
		return iam_abort(c);
	for (size_t i = 0; i < jv_len(keys); i++) {
		struct jv *k = jv_at(keys, i);
		if (!k || k->type != JV_STRING)
			continue;
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM iam_tags WHERE account = ?1 AND "
						      "kind = ?2 AND name = ?3 AND key = ?4");
		sqlite3_bind_text(st, 1, iam_account(c), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, canon, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, k->u.s.p, (int)k->u.s.n, SQLITE_STATIC);
		if (db_step_done(st) != SQLITE_DONE)
			return iam_db_error(c, "untagging");
	}
	return iam_commit(c);
}

/* list_tags: ListUserTags / ListRoleTags body. At most 50 tags exist, so
 * everything fits one page whatever MaxItems says (IsTruncated false). */
static int list_tags(struct aws_call *c, const char *nm, const char *kind)
{
	const char *name = jv_get_str(c->in, nm), *canon;
	struct iam_page pg;
	if (!name)
		return aws_fail(c, 400, "ValidationError", "%s is required", nm);
	if (iam_page_get(c, &pg) < 0 || entity_exists(c, kind, name, &canon) <= 0)
		return -1;
	struct jv *tags = iam_tags_list(c, kind, canon);
	if (!tags)
		return -1;
	struct jv *out = aws_out(c);
	jv_set(c->a, out, "Tags", tags);
	jv_set_bool(c->a, out, "IsTruncated", 0);
	return 0;
}

/* iam_op_tag_user: TagUser. Returns 0 or -1 (error recorded on c). */
int iam_op_tag_user(struct aws_call *c)
{
	return tag(c, "UserName", "user");
}

/* iam_op_tag_role: TagRole. Returns 0 or -1 (error recorded on c). */
int iam_op_tag_role(struct aws_call *c)
{
	return tag(c, "RoleName", "role");
}

/* iam_op_untag_user: UntagUser. Returns 0 or -1 (error recorded on c). */
int iam_op_untag_user(struct aws_call *c)
{
	return untag(c, "UserName", "user");
}

/* iam_op_untag_role: UntagRole. Returns 0 or -1 (error recorded on c). */
int iam_op_untag_role(struct aws_call *c)
{
	return untag(c, "RoleName", "role");
}

/* iam_op_list_user_tags: ListUserTags. Returns 0 or -1 (error recorded). */
int iam_op_list_user_tags(struct aws_call *c)
{
	return list_tags(c, "UserName", "user");
}

/* iam_op_list_role_tags: ListRoleTags. Returns 0 or -1 (error recorded). */
int iam_op_list_role_tags(struct aws_call *c)
{
	return list_tags(c, "RoleName", "role");
}
