/* values.c - reading secret values: GetSecretValue (the benchmark path)
 * and BatchGetSecretValue.
 *
 * A repeated GetSecretValue is answered from the hot cache (hot.c: the
 * ciphertext and what the query found, never plaintext) plus one AES-GCM
 * decrypt with cached key material. A miss is one indexed SELECT through a
 * cached statement (secret row, the version behind the label or id, and
 * that version's labels, kept denormalized in sm_versions.stages, in one
 * go); by partial ARN it may take a second SELECT. Everything else it
 * allocates comes from the request arena. */
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

/* value_key: the cache key of a value query, in the arena: which of
 * stage / version id are given, then account, region, SecretId, stage and
 * version id, NUL-separated. */
static struct str value_key(struct aws_call *c, const char *secret_id, const char *stage,
			    const char *version_id)
{
	const char *part[5] = {c->account, c->region, secret_id, stage ? stage : "",
			       version_id ? version_id : ""};
	size_t len[5], n = 2;
	for (size_t i = 0; i < 5; i++)
		n += (len[i] = strlen(part[i])) + 1;
	char *k = arena_alloc(c->a, n), *p = k;
	*p++ = stage ? 's' : '-';
	*p++ = version_id ? 'v' : '-';
	for (size_t i = 0; i < 5; i++) {
		memcpy(p, part[i], len[i]);
		p += len[i];
		*p++ = 0;
	}
	return (struct str){k, n};
}

/* put_col: copies column i (text or blob, NUL-terminated) to *at and
 * points *out at the copy. */
static void put_col(sqlite3_stmt *st, int i, char **at, struct str *out)
{
	const void *p = sqlite3_column_type(st, i) == SQLITE_BLOB ? sqlite3_column_blob(st, i)
								  : sqlite3_column_text(st, i);
	size_t n = p ? (size_t)sqlite3_column_bytes(st, i) : 0;
	if (n)
		memcpy(*at, p, n);
	(*at)[n] = 0;
	*out = (struct str){*at, n};
	*at += n + 1;
}

/* query: runs the value query for (a1[, a2, a3]) with label/version. On a
 * hit returns the row as an entry: cached under key/hash when it fits the
 * cache, else in the arena. NULL on a miss. */
static const struct sm_hot *query(struct aws_call *c, const char *sql, const char *a1,
				  const char *a2, const char *a3, const char *stage,
				  const char *version_id, struct str key, uint64_t hash)
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
		return NULL;
	}
	/* key, ARN, name, version id, stages, blob: each NUL-terminated */
	static const int cols[] = {1, 2, 6, 10, 9};
	size_t n = key.n + 1 + FB_ARRAY_LEN(cols); /* the NULs */
	for (size_t i = 0; i < FB_ARRAY_LEN(cols); i++)
		n += (size_t)sqlite3_column_bytes(st, cols[i]);
	struct sm_hot *e = sm_hot_alloc(n);
	int cache = e != NULL;
	if (!cache) {
		e = arena_alloc(c->a, sizeof(*e) + n);
		memset(e, 0, sizeof(*e));
	}
	char *at = e->data;
	memcpy(at, key.p, key.n);
	e->key = (struct str){at, key.n};
	e->hash = hash;
	at += key.n;
	*at++ = 0;
	e->id = sqlite3_column_int64(st, 0);
	put_col(st, 1, &at, &e->arn);
	put_col(st, 2, &at, &e->name);
	e->deleted_date = sqlite3_column_double(st, 3);
	e->purge_at = sqlite3_column_double(st, 4);
	e->last_accessed = sqlite3_column_double(st, 5);
	e->has_version = sqlite3_column_type(st, 6) != SQLITE_NULL;
	put_col(st, 6, &at, &e->version_id);
	e->created = sqlite3_column_double(st, 7);
	e->binary = sqlite3_column_int(st, 8);
	put_col(st, 10, &at, &e->stages);
	put_col(st, 9, &at, &e->blob);
	sqlite3_reset(st);
	if (cache)
		sm_hot_insert(c->fb->db, e);
	return e;
}

/* load: the value query for a cache miss. NULL when nothing matches. */
static const struct sm_hot *load(struct aws_call *c, const char *secret_id, const char *stage,
				 const char *version_id, struct str key, uint64_t hash)
{
	const char *region, *account, *rest;
	if (sm_parse_arn(c->a, secret_id, &region, &account, &rest) < 0)
		return query(c, sql_value_by_name, c->account, c->region, secret_id, stage,
			     version_id, key, hash);
	if (strcmp(region, c->region) || strcmp(account, c->account))
		return NULL;
	/* a full ARN first; else the ARN without its suffix names the secret */
	const struct sm_hot *e =
	    query(c, sql_value_by_arn, secret_id, NULL, NULL, stage, version_id, key, hash);
	return e ? e
		 : query(c, sql_value_by_name, c->account, c->region, rest, stage, version_id, key,
			 hash);
}

/* stages_array: a newline-joined label list as a JV_ARRAY; *has gets
 * whether want is among them. */
static struct jv *stages_array(struct aws_call *c, struct str joined, const char *want, int *has)
{
	struct jv *arr = jv_array(c->a);
	size_t want_n = want ? strlen(want) : 0;
	*has = 0;
	const char *p = joined.p, *end = joined.p + joined.n;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		jv_push(c->a, arr, jv_string(c->a, p, (size_t)(e - p)));
		if (want && want_n == (size_t)(e - p) && memcmp(want, p, want_n) == 0)
			*has = 1;
		p = e + 1;
	}
	return arr;
}

/* note_access: records the day of this read (AWS keeps LastAccessedDate
 * to the day), so the hot path writes at most once per secret per day. */
static void note_access(struct aws_call *c, int64_t id, double last_accessed)
{
	double today = (double)(c->now_ms / 1000 / 86400) * DAY_S;
	if (last_accessed >= today)
		return;
	uint64_t gen = sm_hot_generation(c->fb->db);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE sm_secrets SET last_accessed = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_double(st, 2, today);
	db_step_done(st);
	sm_hot_accessed(c->fb->db, gen, id, today);
}

int sm_value_entry(struct aws_call *c, const char *secret_id, const char *version_id,
		   const char *version_stage, struct jv *o)
{
	const char *stage = version_stage ? version_stage : version_id ? NULL : SM_CURRENT;
	if (!secret_id || !*secret_id)
		return sm_not_found(c);
	/* the cache key holds account and region, so an entry answers only
	 * the account and region whose lookup filled it */
	struct str key = value_key(c, secret_id, stage, version_id);
	uint64_t hash = sm_hot_hash(key.p, key.n);
	const struct sm_hot *r = sm_hot_find(c->fb->db, key, hash);
	if (!r && !(r = load(c, secret_id, stage, version_id, key, hash)))
		return sm_not_found(c);
	/* r stays valid until the next cache call (note_access's): copy out */
	int64_t id = r->id;
	double last_accessed = r->last_accessed;
	jv_set_strn(c->a, o, "ARN", r->arn.p, r->arn.n);
	jv_set_strn(c->a, o, "Name", r->name.p, r->name.n);
	if (r->purge_at > 0 && r->purge_at * 1000.0 <= (double)c->now_ms) {
		sm_purge_one(c->fb->db, id);
		return sm_not_found(c);
	}
	if (r->deleted_date > 0)
		return aws_fail(c, 400, "InvalidRequestException",
				"You can't perform this operation on the secret because it was "
				"marked for deletion.");
	if (!r->has_version) {
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
	jv_set_strn(c->a, o, "VersionId", r->version_id.p, r->version_id.n);
	int has_stage;
	struct jv *stages = stages_array(c, r->stages, version_stage, &has_stage);
	if (version_id && version_stage && !has_stage)
		return aws_fail(
		    c, 400, "InvalidRequestException",
		    "You provided a VersionStage that is not associated to the provided "
		    "VersionId.");
	struct str pt;
	if (sm_decrypt(c, r->arn.p, r->version_id.p, r->blob, &pt) < 0)
		return -1;
	/* the plaintext is in the arena; the output node points at it */
	struct jv *val = arena_alloc(c->a, sizeof(*val));
	val->type = JV_STRING;
	val->u.s = pt;
	jv_set(c->a, o, r->binary ? "SecretBinary" : "SecretString", val);
	jv_set(c->a, o, "VersionStages", stages);
	jv_set_double(c->a, o, "CreatedDate", r->created);
	note_access(c, id, last_accessed);
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
