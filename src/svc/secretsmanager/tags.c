/* tags.c - secret tags: TagResource (merge, a key's value is replaced),
 * UntagResource, and the tag list DescribeSecret/ListSecrets show, in the
 * order tags were first added. */
#include "core/compat.h"
#include "aws/gen/secretsmanager_ops.h"
#include "fb.h"
#include "svc/secretsmanager/internal.h"

int sm_tags_check(struct aws_call *c, const struct jv *tags)
{
	if (jv_len(tags) > SM_MAX_TAGS)
		return aws_fail(c, 400, "InvalidParameterException",
				"A secret can have at most %d tags.", SM_MAX_TAGS);
	for (size_t i = 0; i < jv_len(tags); i++) {
		struct str k = jv_get_strv(jv_at(tags, i), "Key");
		struct str v = jv_get_strv(jv_at(tags, i), "Value");
		if (!k.p || k.n < 1 || k.n > 128)
			return aws_fail(c, 400, "InvalidParameterException",
					"Tag keys must be 1 to 128 characters.");
		if (v.n > 256)
			return aws_fail(c, 400, "InvalidParameterException",
					"Tag values must be at most 256 characters.");
		if (k.n >= 4 && strncasecmp(k.p, "aws:", 4) == 0)
			return aws_fail(c, 400, "InvalidParameterException",
					"Tag keys starting with aws: are reserved.");
	}
	return 0;
}

int sm_tags_put(struct aws_call *c, int64_t id, const struct jv *tags)
{
	for (size_t i = 0; i < jv_len(tags); i++) {
		const struct jv *t = jv_at(tags, i);
		const char *v = jv_get_str(t, "Value");
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "INSERT INTO sm_tags(secret_id, tag_key, tag_value) "
				       "VALUES(?1, ?2, ?3) ON CONFLICT(secret_id, tag_key) DO "
				       "UPDATE SET tag_value = excluded.tag_value");
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, jv_get_str(t, "Key"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, v ? v : "", -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return sm_fail_db(c, rc);
	}
	return 0;
}

struct jv *sm_tags_of(struct aws_call *c, int64_t id)
{
	struct jv *list = jv_array(c->a);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT tag_key, tag_value FROM sm_tags WHERE "
					      "secret_id = ?1 ORDER BY rowid");
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jv *t = jv_object(c->a);
		jv_set_str(c->a, t, "Key", db_col_text(st, 0));
		jv_set_str(c->a, t, "Value", db_col_text(st, 1));
		jv_push(c->a, list, t);
	}
	sqlite3_reset(st);
	return list;
}

int secretsmanager_op_tag_resource(struct aws_call *c)
{
	struct sm_secret s;
	const struct jv *tags = jv_get(c->in, "Tags");
	if (sm_tags_check(c, tags) < 0 || sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	if (ok == 0)
		ok = sm_tags_put(c, s.id, tags);
	if (ok == 0 && jv_len(sm_tags_of(c, s.id)) > SM_MAX_TAGS)
		ok = aws_fail(c, 400, "InvalidParameterException",
			      "A secret can have at most %d tags.", SM_MAX_TAGS);
	if (ok == 0)
		ok = sm_touch(c, s.id);
	return sm_tx_end(c, ok);
}

int secretsmanager_op_untag_resource(struct aws_call *c)
{
	struct sm_secret s;
	const struct jv *keys = jv_get(c->in, "TagKeys");
	if (sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	for (size_t i = 0; ok == 0 && i < jv_len(keys); i++) {
		const struct jv *k = jv_at(keys, i);
		if (!k || k->type != JV_STRING)
			continue;
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM sm_tags WHERE secret_id = ?1 "
						      "AND tag_key = ?2");
		sqlite3_bind_int64(st, 1, s.id);
		sqlite3_bind_text(st, 2, k->u.s.p, (int)k->u.s.n, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = sm_fail_db(c, rc);
	}
	if (ok == 0)
		ok = sm_touch(c, s.id);
	return sm_tx_end(c, ok);
}
