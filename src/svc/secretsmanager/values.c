/* values.c - reading secret values: GetSecretValue (the benchmark path)
 * and BatchGetSecretValue.
 *
 * GetSecretValue by name is one indexed SELECT through a cached statement
 * (secret row, the version behind the label or id, and that version's
 * labels, kept denormalized in sm_versions.stages, in one go) plus one AES-GCM decrypt with cached key material; by
 * partial ARN it may take a second SELECT. Everything it allocates comes
 * from the request arena. */
#include "core/compat.h"
#include "aws/gen/secretsmanager_ops.h"
#include "fb.h"
#include "svc/secretsmanager/internal.h"

#define SM_VALUE_SQL(where)                                                                        \
	"SELECT s.id, s.arn, s.name, s.deleted_date, s.purge_at, s.last_accessed, "                \
	"v.version_id, v.created, v.is_binary, v.ciphertext, v.stages FROM sm_secrets s LEFT "     \
	"JOIN sm_stages g ON g.secret_id = s.id AND "                                              \
	"g.stage = ?4 LEFT JOIN sm_versions v ON v.secret_id = s.id AND v.version_id = "           \
	"coalesce(?5, g.version_id) WHERE " where

static const char sql_value_by_name[] =
    SM_VALUE_SQL("s.account = ?1 AND s.region = ?2 AND s.name = ?3");
static const char sql_value_by_arn[] = SM_VALUE_SQL("s.arn = ?1");

#define DAY_S 86400.0

/* A GetSecretValue row, copied out of the statement. */
struct value_row {
	int64_t id;
	double deleted_date, purge_at, last_accessed, created;
	int has_version, binary;
	struct str blob, stages;
};

/* query: runs the value query for (a1[, a2, a3]) with label/version; on a
 * hit fills r and the output's ARN/Name/VersionId. 1 hit, 0 miss. */
static int query(struct aws_call *c, const char *sql, const char *a1, const char *a2,
		 const char *a3, const char *stage, const char *version_id, struct value_row *r,
		 struct jv *o)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, sql);
	sqlite3_bind_text(st, 1, a1, -1, SQLITE_STATIC);
	if (a2) {
		sqlite3_bind_text(st, 2, a2, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, a3, -1, SQLITE_STATIC);
	}
	if (stage)
		sqlite3_bind_text(st, 4, stage, -1, SQLITE_STATIC);
	if (version_id)
		sqlite3_bind_text(st, 5, version_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	r->id = sqlite3_column_int64(st, 0);
	jv_set_strn(c->a, o, "ARN", db_col_text(st, 1), (size_t)sqlite3_column_bytes(st, 1));
	jv_set_strn(c->a, o, "Name", db_col_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
	r->deleted_date = sqlite3_column_double(st, 3);
	r->purge_at = sqlite3_column_double(st, 4);
	r->last_accessed = sqlite3_column_double(st, 5);
	r->has_version = sqlite3_column_type(st, 6) != SQLITE_NULL;
	if (r->has_version) {
		jv_set_strn(c->a, o, "VersionId", db_col_text(st, 6),
			    (size_t)sqlite3_column_bytes(st, 6));
		r->created = sqlite3_column_double(st, 7);
		r->binary = sqlite3_column_int(st, 8);
		size_t n = (size_t)sqlite3_column_bytes(st, 9);
		r->blob = (struct str){arena_strndup(c->a, sqlite3_column_blob(st, 9), n), n};
		const char *labels = db_col_text(st, 10);
		size_t ln = labels ? (size_t)sqlite3_column_bytes(st, 10) : 0;
		r->stages = (struct str){ln ? arena_strndup(c->a, labels, ln) : NULL, ln};
	}
	sqlite3_reset(st);
	return 1;
}

/* stages_array: a newline-joined label list as a JV_ARRAY; *has gets
 * whether want is among them. */
static struct jv *stages_array(struct aws_call *c, struct str joined, const char *want, int *has)
{
	struct jv *arr = jv_array(c->a);
	*has = 0;
	const char *p = joined.p, *end = joined.p + joined.n;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		jv_push(c->a, arr, jv_string(c->a, p, (size_t)(e - p)));
		if (want && strlen(want) == (size_t)(e - p) &&
		    memcmp(want, p, (size_t)(e - p)) == 0)
			*has = 1;
		p = e + 1;
	}
	return arr;
}

/* note_access: records the day of this read (AWS keeps LastAccessedDate
 * to the day), so the hot path writes at most once per secret per day. */
static void note_access(struct aws_call *c, const struct value_row *r)
{
	double today = (double)(c->now_ms / 1000 / 86400) * DAY_S;
	if (r->last_accessed >= today)
		return;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE sm_secrets SET last_accessed = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_double(st, 2, today);
	db_step_done(st);
}

int sm_value_entry(struct aws_call *c, const char *secret_id, const char *version_id,
		   const char *version_stage, struct jv *o)
{
	const char *stage = version_stage ? version_stage : version_id ? NULL : SM_CURRENT;
	const char *region, *account, *rest;
	struct value_row r = {0};
	int found;
	if (!secret_id || !*secret_id)
		return sm_not_found(c);
	if (sm_parse_arn(c->a, secret_id, &region, &account, &rest) == 0) {
		if (strcmp(region, c->region) || strcmp(account, c->account))
			return sm_not_found(c);
		found =
		    query(c, sql_value_by_arn, secret_id, NULL, NULL, stage, version_id, &r, o) ||
		    query(c, sql_value_by_name, c->account, c->region, rest, stage, version_id, &r,
			  o);
	} else {
		found = query(c, sql_value_by_name, c->account, c->region, secret_id, stage,
			      version_id, &r, o);
	}
	if (!found)
		return sm_not_found(c);
	if (r.purge_at > 0 && r.purge_at * 1000.0 <= (double)c->now_ms) {
		sm_purge_one(c->fb->db, r.id);
		return sm_not_found(c);
	}
	if (r.deleted_date > 0)
		return aws_fail(c, 400, "InvalidRequestException",
				"You can't perform this operation on the secret because it was "
				"marked for deletion.");
	if (!r.has_version) {
		if (version_id)
			return aws_fail(c, 400, "ResourceNotFoundException",
					"Secrets Manager can't find the specified secret value for "
					"VersionId: %s",
					version_id);
		return aws_fail(c, 400, "ResourceNotFoundException",
				"Secrets Manager can't find the specified secret value for staging "
				"label: %s",
				stage);
	}
	int has_stage;
	struct jv *stages = stages_array(c, r.stages, version_stage, &has_stage);
	if (version_id && version_stage && !has_stage)
		return aws_fail(
		    c, 400, "InvalidRequestException",
		    "You provided a VersionStage that is not associated to the provided "
		    "VersionId.");
	struct str pt;
	if (sm_decrypt(c, jv_get_str(o, "ARN"), jv_get_str(o, "VersionId"), r.blob, &pt) < 0)
		return -1;
	/* the plaintext is in the arena; the output node points at it */
	struct jv *val = arena_alloc(c->a, sizeof(*val));
	val->type = JV_STRING;
	val->u.s = pt;
	jv_set(c->a, o, r.binary ? "SecretBinary" : "SecretString", val);
	jv_set(c->a, o, "VersionStages", stages);
	jv_set_double(c->a, o, "CreatedDate", r.created);
	note_access(c, &r);
	return 0;
}

int secretsmanager_op_get_secret_value(struct aws_call *c)
{
	return sm_value_entry(c, jv_get_str(c->in, "SecretId"), jv_get_str(c->in, "VersionId"),
			      jv_get_str(c->in, "VersionStage"), aws_out(c));
}

/* batch_error: one Errors entry for a secret that could not be read; the
 * call's error is moved there and cleared. */
static void batch_error(struct aws_call *c, struct jv *errors, const char *secret_id)
{
	struct jv *e = jv_object(c->a);
	jv_set_str(c->a, e, "SecretId", secret_id);
	jv_set_str(c->a, e, "ErrorCode", c->err_code);
	jv_set_str(c->a, e, "Message", c->err_msg);
	jv_push(c->a, errors, e);
	c->err_code = NULL;
	c->err_msg = NULL;
	c->err_status = 0;
	c->err_fault = 0;
}

int secretsmanager_op_batch_get_secret_value(struct aws_call *c)
{
	const struct jv *ids = jv_get(c->in, "SecretIdList");
	const struct jv *filters = jv_get(c->in, "Filters");
	if ((ids != NULL) == (filters != NULL))
		return aws_fail(
		    c, 400, "InvalidParameterException",
		    "Either 'SecretIdList' or 'Filters' must be provided, but not both.");
	if (ids && jv_get(c->in, "MaxResults"))
		return aws_fail(c, 400, "InvalidParameterException",
				"'Filters' not specified. 'Filters' must also be specified when "
				"'MaxResults' is provided.");
	if (ids && (jv_len(ids) < 1 || jv_len(ids) > 20))
		return aws_fail(c, 400, "InvalidParameterException",
				"SecretIdList must hold 1 to 20 secret ids.");
	struct jv *values = jv_array(c->a), *errors = jv_array(c->a);
	for (size_t i = 0; ids && i < jv_len(ids); i++) {
		const struct jv *id = jv_at(ids, i);
		const char *sid = id && id->type == JV_STRING ? id->u.s.p : "";
		struct jv *o = jv_object(c->a);
		if (sm_value_entry(c, sid, NULL, NULL, o) == 0)
			jv_push(c->a, values, o);
		else
			batch_error(c, errors, sid);
	}
	if (filters) {
		size_t offset;
		int64_t max = jv_get_int(c->in, "MaxResults", 20);
		if (max < 1 || max > 20)
			return aws_fail(c, 400, "InvalidParameterException",
					"MaxResults must be between 1 and 20.");
		if (sm_filters_check(c, filters) < 0 || sm_page_token(c, &offset) < 0)
			return -1;
		struct sm_secret *all;
		size_t n = sm_list_load(c, 0, 0, &all), matched = 0, taken = 0;
		for (size_t i = 0; i < n; i++) {
			if (!sm_filters_match(filters, &all[i], sm_tags_of(c, all[i].id)))
				continue;
			if (matched++ < offset)
				continue;
			if (taken == (size_t)max) {
				jv_set_str(c->a, aws_out(c), "NextToken",
					   arena_sprintf(c->a, "%zu", offset + taken));
				break;
			}
			struct jv *o = jv_object(c->a);
			if (sm_value_entry(c, all[i].arn, NULL, NULL, o) == 0)
				jv_push(c->a, values, o);
			else
				batch_error(c, errors, all[i].arn);
			taken++;
		}
	}
	jv_set(c->a, aws_out(c), "SecretValues", values);
	jv_set(c->a, aws_out(c), "Errors", errors);
	return 0;
}
