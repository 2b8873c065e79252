/* tags.c - repository tags: TagResource (a key's value is replaced),
 * UntagResource, ListTagsForResource, addressed by repository ARN. */
#include "core/compat.h"
#include "aws/gen/ecr_ops.h"
#include "fb.h"
#include "svc/ecr/internal.h"

int ecr_tags_check(struct aws_call *c, const struct jv *tags)
{
	if (jv_len(tags) > ECR_MAX_TAGS)
		return aws_fail(c, 400, "TooManyTagsException",
				"A repository can have at most %d tags.", ECR_MAX_TAGS);
	for (size_t i = 0; i < jv_len(tags); i++) {
		struct str k = jv_get_strv(jv_at(tags, i), "Key");
		struct str v = jv_get_strv(jv_at(tags, i), "Value");
		if (!k.p || k.n < 1 || k.n > 128 || v.n > 256 || !v.p)
			return aws_fail(c, 400, "InvalidTagParameterException",
					"Tag keys must be 1 to 128 characters and tag values 0 "
					"to 256 characters.");
		if (k.n >= 4 && strncasecmp(k.p, "aws:", 4) == 0)
			return aws_fail(c, 400, "InvalidTagParameterException",
					"Tag keys starting with aws: are reserved.");
	}
	return 0;
}

int ecr_tags_put(struct aws_call *c, int64_t repo_id, const struct jv *tags)
{
	for (size_t i = 0; i < jv_len(tags); i++) {
		const struct jv *t = jv_at(tags, i);
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "INSERT INTO ecr_repo_tags(repo_id, tag_key, tag_value) "
				       "VALUES(?1, ?2, ?3) ON CONFLICT(repo_id, tag_key) DO UPDATE "
				       "SET tag_value = excluded.tag_value");
		sqlite3_bind_int64(st, 1, repo_id);
		sqlite3_bind_text(st, 2, jv_get_str(t, "Key"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, jv_get_str(t, "Value"), -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return ecr_fail_db(c, rc);
	}
	return 0;
}

/* repo_by_arn: the repository resourceArn names, in the call's account
 * and region. Returns 0, or -1 with InvalidParameterException /
 * RepositoryNotFoundException. */
static int repo_by_arn(struct aws_call *c, struct ecr_repo *r)
{
	const char *arn = jv_get_str(c->in, "resourceArn");
	const char *pre =
	    arena_sprintf(c->a, "arn:aws:ecr:%s:%s:repository/", c->region, c->account);
	size_t pl = strlen(pre);
	if (!arn || strncmp(arn, "arn:aws:ecr:", 12) != 0 || !strstr(arn, ":repository/"))
		return aws_fail(c, 400, "InvalidParameterException",
				"Invalid parameter at 'resourceArn' failed to satisfy constraint: "
				"'Invalid ARN'");
	if (strncmp(arn, pre, pl) != 0)
		return ecr_repo_not_found(c, strstr(arn, ":repository/") + 12);
	int found = ecr_repo_get(c->fb, c->a, c->account, c->region, arn + pl, r);
	if (found < 0)
		return ecr_fail_db(c, SQLITE_ERROR);
	return found ? 0 : ecr_repo_not_found(c, arn + pl);
}

int ecr_op_tag_resource(struct aws_call *c)
{
	struct ecr_repo r;
	const struct jv *tags = jv_get(c->in, "tags");
	if (ecr_tags_check(c, tags) < 0 || ecr_tx_begin(c) < 0)
		return -1;
	int ok = repo_by_arn(c, &r);
	if (ok == 0)
		ok = ecr_tags_put(c, r.id, tags);
	if (ok == 0) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "SELECT count(*) FROM ecr_repo_tags WHERE repo_id = ?1");
		sqlite3_bind_int64(st, 1, r.id);
		int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (n > ECR_MAX_TAGS)
			ok = aws_fail(c, 400, "TooManyTagsException",
				      "A repository can have at most %d tags.", ECR_MAX_TAGS);
	}
	return ecr_tx_end(c, ok);
}

int ecr_op_untag_resource(struct aws_call *c)
{
	struct ecr_repo r;
	const struct jv *keys = jv_get(c->in, "tagKeys");
	if (ecr_tx_begin(c) < 0)
		return -1;
	int ok = repo_by_arn(c, &r);
	for (size_t i = 0; ok == 0 && i < jv_len(keys); i++) {
		const struct jv *k = jv_at(keys, i);
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM ecr_repo_tags WHERE repo_id = "
						      "?1 AND tag_key = ?2");
		sqlite3_bind_int64(st, 1, r.id);
		sqlite3_bind_text(st, 2, k->u.s.p, (int)k->u.s.n, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ecr_fail_db(c, rc);
	}
	return ecr_tx_end(c, ok);
}

int ecr_op_list_tags_for_resource(struct aws_call *c)
{
	struct ecr_repo r;
	if (repo_by_arn(c, &r) < 0)
		return -1;
	struct jv *list = jv_array(c->a);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT tag_key, tag_value FROM ecr_repo_tags "
					      "WHERE repo_id = ?1 ORDER BY rowid");
	sqlite3_bind_int64(st, 1, r.id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *t = jv_object(c->a);
		jv_set_str(c->a, t, "Key", db_col_text(st, 0));
		jv_set_str(c->a, t, "Value", db_col_text(st, 1));
		jv_push(c->a, list, t);
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "tags", list);
	return 0;
}
