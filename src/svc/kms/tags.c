/* tags.c - TagResource / UntagResource / ListResourceTags for KMS keys.
 * Tags keep their first insertion order (the row's rowid), which is also
 * the pagination marker. */
#include "core/compat.h"
#include "aws/gen/kms_ops.h"
#include "fb.h"
#include "svc/kms/internal.h"

#define KMS_MAX_TAGS 50

int kms_tags_check(struct aws_call *c, const struct jv *tags)
{
	size_t n = jv_len(tags);
	if (n > KMS_MAX_TAGS)
		return aws_fail(c, 400, "TagException", "A key can have at most %d tags",
				KMS_MAX_TAGS);
	for (size_t i = 0; i < n; i++) {
		struct str k = jv_get_strv(jv_at(tags, i), "TagKey");
		if (!k.p || k.n == 0 || k.n > 128)
			return aws_fail(c, 400, "TagException",
					"Tag keys must be 1 to 128 characters");
		if (k.n >= 4 && strncasecmp(k.p, "aws:", 4) == 0)
			return aws_fail(c, 400, "TagException",
					"Tags beginning with aws: are reserved");
		if (!jv_get_str(jv_at(tags, i), "TagValue"))
			return aws_fail(c, 400, "TagException", "Tag %s has no TagValue", k.p);
	}
	return 0;
}

int kms_tags_put(struct aws_call *c, const char *id, const struct jv *tags)
{
	for (size_t i = 0; i < jv_len(tags); i++) {
		const struct jv *t = jv_at(tags, i);
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "INSERT INTO kms_tags(key_id, tag_key, tag_value) "
				       "VALUES(?1, ?2, ?3) ON CONFLICT(key_id, tag_key) DO "
				       "UPDATE SET tag_value = excluded.tag_value");
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, jv_get_str(t, "TagKey"), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, jv_get_str(t, "TagValue"), -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return kms_fail_db(c, rc);
	}
	return 0;
}

int kms_op_tag_resource(struct aws_call *c)
{
	struct kms_key k;
	const struct jv *tags = jv_get(c->in, "Tags");
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, &k) < 0 ||
	    kms_key_check_not_pending(c, &k) < 0 || kms_tags_check(c, tags) < 0)
		return -1;
	if (kms_tx_begin(c) < 0)
		return -1;
	int ok = kms_tags_put(c, k.id, tags);
	if (ok == 0) {
		/* the limit holds for the merged set, so count after the upsert */
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "SELECT count(*) FROM kms_tags WHERE key_id = ?1");
		sqlite3_bind_text(st, 1, k.id, -1, SQLITE_STATIC);
		int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_reset(st);
		if (n > KMS_MAX_TAGS)
			ok = aws_fail(c, 400, "TagException", "A key can have at most %d tags",
				      KMS_MAX_TAGS);
	}
	return kms_tx_end(c, ok);
}

int kms_op_untag_resource(struct aws_call *c)
{
	struct kms_key k;
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, &k) < 0 ||
	    kms_key_check_not_pending(c, &k) < 0)
		return -1;
	const struct jv *keys = jv_get(c->in, "TagKeys");
	if (kms_tx_begin(c) < 0)
		return -1;
	int ok = 0;
	for (size_t i = 0; ok == 0 && i < jv_len(keys); i++) {
		const struct jv *key = jv_at(keys, i);
		if (!key || key->type != JV_STRING)
			continue;
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "DELETE FROM kms_tags WHERE key_id = ?1 AND tag_key = ?2");
		sqlite3_bind_text(st, 1, k.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key->u.s.p, (int)key->u.s.n, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = kms_fail_db(c, rc);
	}
	return kms_tx_end(c, ok);
}

int kms_op_list_resource_tags(struct aws_call *c)
{
	struct kms_key k;
	int64_t after, limit, last = 0, n = 0;
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, &k) < 0 ||
	    kms_page_args(c, &after, &limit) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT rowid, tag_key, tag_value FROM kms_tags "
					      "WHERE key_id = ?1 AND rowid > ?2 ORDER BY rowid "
					      "LIMIT ?3");
	sqlite3_bind_text(st, 1, k.id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, limit + 1);
	struct jv *tags = jv_array(c->a);
	int more = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == limit) {
			more = 1;
			break;
		}
		last = sqlite3_column_int64(st, 0);
		struct jv *t = jv_object(c->a);
		jv_set_str(c->a, t, "TagKey", db_col_text(st, 1));
		jv_set_str(c->a, t, "TagValue", db_col_text(st, 2));
		jv_push(c->a, tags, t);
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "Tags", tags);
	return kms_page_finish(c, more, last);
}
