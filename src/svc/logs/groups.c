/* groups.c - log groups: CreateLogGroup, DeleteLogGroup (with everything
 * they hold), DescribeLogGroups (prefix or substring pattern, keyset
 * pages by name) and the stored KMS key association. fogbank does not
 * encrypt log data with the key; it checks the key exists and keeps it. */
#include "core/compat.h"
#include "aws/gen/logs_ops.h"
#include "fb.h"
#include "svc/kms/kms.h"
#include "svc/logs/internal.h"

/* kms_arg: checks kmsKeyId is the ARN of a KMS key of this account and
 * region (AWS requires an ARN here). */
static int kms_arg(struct aws_call *c, const char *key, const char *group)
{
	if (strncmp(key, "arn:", 4) != 0 || !kms_key_arn_of(c, key)) {
		c->err_code = NULL; /* KMS's NotFoundException is not ours to return */
		return aws_fail(c, 400, "InvalidParameterException",
				"Specified KMS key %s does not exist or is not allowed to be used "
				"with log group %s.",
				key, logs_group_arn(c, group));
	}
	return 0;
}

int logs_op_create_log_group(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "logGroupName");
	const char *kms = jv_get_str(c->in, "kmsKeyId");
	const struct jv *tags = jv_get(c->in, "tags");
	if (logs_tags_check(c, tags) < 0 || logs_tx_begin(c) < 0)
		return -1;
	int ok = kms ? kms_arg(c, kms, name) : 0;
	if (ok == 0 && logs_group_id(c->fb->db, c->account, c->region, name))
		ok = aws_fail(c, 400, "ResourceAlreadyExistsException",
			      "The specified log group already exists");
	if (ok == 0) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "INSERT INTO logs_groups(account, region, name, created, "
				       "kms_key_id) VALUES(?1, ?2, ?3, ?4, ?5)");
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, c->now_ms);
		sqlite3_bind_text(st, 5, kms, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
	}
	if (ok == 0 && tags)
		ok = logs_tags_put(c, sqlite3_last_insert_rowid(db_sqlite(c->fb->db)), tags, NULL);
	return logs_tx_end(c, ok);
}

int logs_op_delete_log_group(struct aws_call *c)
{
	static const char *const sqls[] = {
	    "DELETE FROM logs_events WHERE group_id = ?1",
	    "DELETE FROM logs_streams WHERE group_id = ?1",
	    "DELETE FROM logs_tags WHERE group_id = ?1",
	    "DELETE FROM logs_groups WHERE id = ?1",
	};
	struct logs_group g;
	if (logs_tx_begin(c) < 0)
		return -1;
	int ok = logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g);
	for (size_t i = 0; ok == 0 && i < FB_ARRAY_LEN(sqls); i++) {
		sqlite3_stmt *st = db_stmt(c->fb->db, sqls[i]);
		sqlite3_bind_int64(st, 1, g.id);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
	}
	return logs_tx_end(c, ok);
}

/* Rows of a DescribeLogGroups page: names after ?3 (the token), starting
 * with ?4, containing ?5. */
static const char sql_groups[] =
    "SELECT name, created, retention_days, kms_key_id, stored_bytes FROM logs_groups "
    "WHERE account = ?1 AND region = ?2 AND name > ?3 AND name >= ?4 AND "
    "substr(name, 1, length(?4)) = ?4 AND instr(name, ?5) > 0 ORDER BY name LIMIT ?6";

int logs_op_describe_log_groups(struct aws_call *c)
{
	const char *prefix = jv_get_str(c->in, "logGroupNamePrefix");
	const char *pattern = jv_get_str(c->in, "logGroupNamePattern");
	const char *tok = jv_get_str(c->in, "nextToken");
	int64_t limit = jv_get_int(c->in, "limit", 50);
	struct str after = {"", 0};
	if (prefix && pattern)
		return logs_bad_param(c, "LogGroup name prefix and LogGroup name pattern are "
					 "mutually exclusive parameters.");
	if (tok && logs_unhex_token(c, tok, "g", &after) < 0)
		return logs_bad_token(c);
	sqlite3_stmt *st = db_stmt(c->fb->db, sql_groups);
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, after.p, (int)after.n, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, prefix ? prefix : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, pattern ? pattern : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, limit + 1); /* one more: is there a next page? */
	struct jv *list = jv_array(c->a);
	const char *last = NULL;
	int more = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((int64_t)jv_len(list) == limit) {
			more = 1;
			break;
		}
		struct jv *o = jv_object(c->a);
		const char *name = arena_strdup(c->a, db_col_text(st, 0));
		jv_set_str(c->a, o, "logGroupName", name);
		jv_set_int(c->a, o, "creationTime", sqlite3_column_int64(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			jv_set_int(c->a, o, "retentionInDays", sqlite3_column_int64(st, 2));
		jv_set_int(c->a, o, "metricFilterCount", 0);
		jv_set_str(c->a, o, "arn", arena_sprintf(c->a, "%s:*", logs_group_arn(c, name)));
		jv_set_int(c->a, o, "storedBytes", sqlite3_column_int64(st, 4));
		jv_set_str(c->a, o, "kmsKeyId", db_col_text(st, 3));
		jv_push(c->a, list, o);
		last = name;
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "logGroups", list);
	if (more)
		jv_set_str(c->a, aws_out(c), "nextToken",
			   logs_hex_token(c, "g", last, strlen(last)));
	return 0;
}

/* set_kms: stores key (NULL: none) on the input's log group. */
static int set_kms(struct aws_call *c, const char *key)
{
	struct logs_group g;
	if (logs_tx_begin(c) < 0)
		return -1;
	int ok = logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g);
	if (ok == 0 && key)
		ok = kms_arg(c, key, g.name);
	if (ok == 0) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "UPDATE logs_groups SET kms_key_id = ?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, g.id);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
	}
	return logs_tx_end(c, ok);
}

int logs_op_associate_kms_key(struct aws_call *c)
{
	return set_kms(c, jv_get_str(c->in, "kmsKeyId"));
}

int logs_op_disassociate_kms_key(struct aws_call *c)
{
	return set_kms(c, NULL);
}
