/* versions.c - secret versions and staging labels: encrypting a value
 * through KMS, adding a version with its labels (AWSCURRENT moves hand
 * AWSPREVIOUS on), idempotent ClientRequestTokens, trimming deprecated
 * versions, and the PutSecretValue / UpdateSecretVersionStage /
 * ListSecretVersionIds handlers. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/secretsmanager_ops.h"
#include "fb.h"
#include "svc/kms/kms.h"
#include "svc/secretsmanager/internal.h"
#include <openssl/crypto.h>

int sm_value_arg(struct aws_call *c, struct sm_value *v)
{
	const struct jv *s = jv_get(c->in, "SecretString"), *b = jv_get(c->in, "SecretBinary");
	if (s && b)
		return aws_fail(c, 400, "InvalidParameterException",
				"You can't specify both a binary secret value and a string secret "
				"value in the same secret.");
	const struct jv *x = s ? s : b;
	if (!x || x->type != JV_STRING)
		return 0;
	v->binary = x == b;
	v->val = x->u.s;
	return 1;
}

const char *sm_token_arg(struct aws_call *c)
{
	const char *t = jv_get_str(c->in, "ClientRequestToken");
	if (!t) {
		char *id = arena_alloc(c->a, 37);
		fmt_uuid4(id);
		return id;
	}
	size_t n = strlen(t);
	if (n < 32 || n > 64) {
		aws_fail(c, 400, "InvalidParameterException",
			 "ClientRequestToken must be 32-64 characters long.");
		return NULL;
	}
	return t;
}

/* context: the encryption context binding a value to its secret and
 * version, as AWS Secrets Manager uses it. */
static struct jv *context(struct aws_call *c, const char *arn, const char *version_id)
{
	struct jv *ctx = jv_object(c->a);
	jv_set_str(c->a, ctx, "SecretARN", arn);
	jv_set_str(c->a, ctx, "SecretVersionId", version_id);
	return ctx;
}

/* rethrow: replaces the KMS error on c by code, keeping KMS's reason. */
static int rethrow(struct aws_call *c, const char *code, const char *what)
{
	const char *why = c->err_msg ? c->err_msg : "";
	const char *kms_code = c->err_code ? c->err_code : "KMSInternalException";
	c->err_code = NULL;
	return aws_fail(c, 400, code,
			"Secrets Manager can't %s the protected secret text using the provided KMS "
			"key. Check that the KMS key is available, enabled, and not in an invalid "
			"state. (%s: %s)",
			what, kms_code, why);
}

int sm_encrypt(struct aws_call *c, const char *key_ref, const char *arn, const char *version_id,
	       struct str plaintext, struct str *blob, const char **key_label)
{
	const char *ref = key_ref;
	if (!ref && !(ref = kms_managed_key(c, SM_MANAGED_ALIAS)))
		return rethrow(c, "EncryptionFailure", "encrypt");
	const char *key_arn = NULL;
	if (kms_internal_encrypt(c, ref, plaintext, context(c, arn, version_id), blob, &key_arn) <
	    0)
		return rethrow(c, "EncryptionFailure", "encrypt");
	*key_label = key_ref ? key_arn : "DefaultEncryptionKey";
	return 0;
}

int sm_decrypt(struct aws_call *c, const char *arn, const char *version_id, struct str blob,
	       struct str *plaintext)
{
	if (kms_internal_decrypt(c, blob, context(c, arn, version_id), plaintext, NULL) < 0)
		return rethrow(c, "DecryptionFailure", "decrypt");
	return 0;
}

int sm_version_exists(struct aws_call *c, const struct sm_secret *s, const char *version_id,
		      const struct sm_value *v)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT is_binary, ciphertext FROM sm_versions "
					      "WHERE secret_id = ?1 AND version_id = ?2");
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, version_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	int binary = sqlite3_column_int(st, 0);
	struct str blob = {
	    arena_strndup(c->a, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)),
	    (size_t)sqlite3_column_bytes(st, 1)};
	sqlite3_reset(st);
	if (!v)
		return 1;
	struct str old;
	if (sm_decrypt(c, s->arn, version_id, blob, &old) < 0)
		return -1;
	int same = binary == v->binary && str_eq(old, v->val);
	OPENSSL_cleanse((void *)old.p, old.n);
	if (!same)
		return aws_fail(c, 400, "ResourceExistsException",
				"You can't modify an existing version, you can only create a new "
				"version.");
	return 1;
}

/* stage_holder: the version label stage points to (arena), or NULL. */
static const char *stage_holder(struct aws_call *c, int64_t id, const char *stage)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT version_id FROM sm_stages WHERE "
					      "secret_id = ?1 AND stage = ?2");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
	const char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = arena_strdup(c->a, db_col_text(st, 0));
	sqlite3_reset(st);
	return v;
}

/* set_stage: label stage -> version_id (replacing where it was). */
static int set_stage(struct aws_call *c, int64_t id, const char *stage, const char *version_id)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT OR REPLACE INTO sm_stages(secret_id, stage, "
					      "version_id) VALUES(?1, ?2, ?3)");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, version_id, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
}

int sm_stage_attach(struct aws_call *c, int64_t id, const char *stage, const char *version_id)
{
	if (strcmp(stage, SM_CURRENT) == 0) {
		const char *old = stage_holder(c, id, SM_CURRENT);
		if (old && strcmp(old, version_id) && set_stage(c, id, SM_PREVIOUS, old) < 0)
			return -1;
	}
	return set_stage(c, id, stage, version_id);
}

int sm_stages_sync(struct aws_call *c, int64_t id)
{
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, "UPDATE sm_versions SET stages = coalesce((SELECT group_concat(stage, "
		       "char(10)) FROM (SELECT stage FROM sm_stages g WHERE g.secret_id = "
		       "sm_versions.secret_id AND g.version_id = sm_versions.version_id ORDER "
		       "BY stage)), '') WHERE secret_id = ?1");
	sqlite3_bind_int64(st, 1, id);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
}

/* trim_deprecated: keeps the newest SM_MAX_DEPRECATED unlabelled versions. */
static int trim_deprecated(struct aws_call *c, int64_t id)
{
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, "DELETE FROM sm_versions WHERE secret_id = ?1 AND version_id IN ("
		       "SELECT version_id FROM sm_versions v WHERE secret_id = ?1 AND NOT "
		       "EXISTS (SELECT 1 FROM sm_stages g WHERE g.secret_id = v.secret_id AND "
		       "g.version_id = v.version_id) ORDER BY created DESC, rowid DESC "
		       "LIMIT -1 OFFSET ?2)");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, SM_MAX_DEPRECATED);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
}

/* check_stages: a VersionStages list: 1..20 non-empty labels. */
static int check_stages(struct aws_call *c, const struct jv *stages)
{
	if (!stages)
		return 0;
	if (jv_len(stages) < 1 || jv_len(stages) > 20)
		return aws_fail(c, 400, "InvalidParameterException",
				"VersionStages must hold 1 to 20 staging labels.");
	for (size_t i = 0; i < jv_len(stages); i++) {
		const struct jv *s = jv_at(stages, i);
		if (!s || s->type != JV_STRING || s->u.s.n == 0 || s->u.s.n > 256)
			return aws_fail(c, 400, "InvalidParameterException",
					"Staging labels must be 1 to 256 characters.");
		/* GetSecretValue reads a version's labels newline-joined */
		for (size_t j = 0; j < s->u.s.n; j++)
			if ((unsigned char)s->u.s.p[j] < 0x20)
				return aws_fail(c, 400, "InvalidParameterException",
						"Staging labels can't contain control characters.");
	}
	return 0;
}

int sm_version_add(struct aws_call *c, const struct sm_secret *s, const char *version_id,
		   const struct sm_value *v, const struct jv *stages)
{
	struct str blob;
	const char *label;
	if (check_stages(c, stages) < 0 ||
	    sm_encrypt(c, s->kms_key_id, s->arn, version_id, v->val, &blob, &label) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO sm_versions(secret_id, version_id, "
					      "created, is_binary, ciphertext, kms_label) "
					      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_text(st, 2, version_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, (double)c->now_ms / 1000.0);
	sqlite3_bind_int(st, 4, v->binary);
	sqlite3_bind_blob(st, 5, blob.p, (int)blob.n, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, label, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return sm_fail_db(c, rc);
	if (!stages && sm_stage_attach(c, s->id, SM_CURRENT, version_id) < 0)
		return -1;
	for (size_t i = 0; i < jv_len(stages); i++)
		if (sm_stage_attach(c, s->id, jv_at(stages, i)->u.s.p, version_id) < 0)
			return -1;
	return trim_deprecated(c, s->id) < 0 ? -1 : sm_stages_sync(c, s->id);
}

struct jv *sm_version_stages(struct aws_call *c, int64_t id, const char *version_id)
{
	struct jv *list = jv_array(c->a);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT stage FROM sm_stages WHERE secret_id = ?1 "
					      "AND version_id = ?2 ORDER BY stage");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, version_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(c->a, list, jv_string_c(c->a, db_col_text(st, 0)));
	sqlite3_reset(st);
	return list;
}

int sm_reencrypt_labelled(struct aws_call *c, const struct sm_secret *s, const char *key_ref)
{
	/* gather first: the statement must not stay open across the writes */
	const char *ids[3];
	struct str blobs[3];
	size_t n = 0;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT DISTINCT v.version_id, v.ciphertext FROM "
					      "sm_versions v JOIN sm_stages g ON g.secret_id = "
					      "v.secret_id AND g.version_id = v.version_id WHERE "
					      "v.secret_id = ?1 AND g.stage IN ('AWSCURRENT', "
					      "'AWSPREVIOUS', 'AWSPENDING')");
	sqlite3_bind_int64(st, 1, s->id);
	while (n < 3 && sqlite3_step(st) == SQLITE_ROW) {
		ids[n] = arena_strdup(c->a, db_col_text(st, 0));
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		blobs[n] = (struct str){arena_strndup(c->a, sqlite3_column_blob(st, 1), len), len};
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		struct str pt, blob;
		const char *label;
		if (sm_decrypt(c, s->arn, ids[i], blobs[i], &pt) < 0)
			return -1;
		int rc = sm_encrypt(c, key_ref, s->arn, ids[i], pt, &blob, &label);
		OPENSSL_cleanse((void *)pt.p, pt.n);
		if (rc < 0)
			return -1;
		st = db_stmt(c->fb->db, "UPDATE sm_versions SET ciphertext = ?3, kms_label = ?4 "
					"WHERE secret_id = ?1 AND version_id = ?2");
		sqlite3_bind_int64(st, 1, s->id);
		sqlite3_bind_text(st, 2, ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, blob.p, (int)blob.n, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, label, -1, SQLITE_STATIC);
		rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return sm_fail_db(c, rc);
	}
	return 0;
}

int secretsmanager_op_put_secret_value(struct aws_call *c)
{
	struct sm_secret s;
	struct sm_value v;
	int has = sm_value_arg(c, &v);
	if (has < 0)
		return -1;
	if (has == 0)
		return aws_fail(c, 400, "InvalidRequestException",
				"You must provide either SecretString or SecretBinary.");
	const char *version_id = sm_token_arg(c);
	const struct jv *stages = jv_get(c->in, "VersionStages");
	if (!version_id || sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	if (ok == 0)
		ok = sm_check_live(c, &s);
	int exists = ok == 0 ? sm_version_exists(c, &s, version_id, &v) : -1;
	if (exists < 0)
		ok = -1;
	if (exists == 0) {
		ok = sm_version_add(c, &s, version_id, &v, stages);
		if (ok == 0)
			ok = sm_touch(c, s.id);
	}
	if (sm_tx_end(c, ok) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	jv_set_str(c->a, aws_out(c), "VersionId", version_id);
	jv_set(c->a, aws_out(c), "VersionStages", sm_version_stages(c, s.id, version_id));
	return 0;
}

int secretsmanager_op_update_secret_version_stage(struct aws_call *c)
{
	struct sm_secret s;
	const char *stage = jv_get_str(c->in, "VersionStage");
	const char *from = jv_get_str(c->in, "RemoveFromVersionId");
	const char *to = jv_get_str(c->in, "MoveToVersionId");
	if (!stage || !*stage)
		return aws_fail(c, 400, "InvalidParameterException", "VersionStage is required.");
	if (sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	if (ok == 0)
		ok = sm_check_live(c, &s);
	const char *holder = ok == 0 ? stage_holder(c, s.id, stage) : NULL;
	if (ok == 0 && from && !sm_version_exists(c, &s, from, NULL))
		ok = aws_fail(c, 400, "InvalidParameterException", "Not a valid version: %s", from);
	if (ok == 0 && to && !sm_version_exists(c, &s, to, NULL))
		ok = aws_fail(c, 400, "InvalidParameterException", "Not a valid version: %s", to);
	if (ok == 0 && from && (!holder || strcmp(holder, from)))
		ok = aws_fail(c, 400, "InvalidParameterException",
			      "The staging label %s is not attached to version %s.", stage, from);
	if (ok == 0 && !from && to && holder && strcmp(holder, to))
		ok = aws_fail(c, 400, "InvalidParameterException",
			      "The parameter RemoveFromVersionId can't be empty. Staging label %s "
			      "is currently attached to version %s, so you must explicitly "
			      "reference that version in RemoveFromVersionId.",
			      stage, holder);
	if (ok == 0 && !to && strcmp(stage, SM_CURRENT) == 0 && from)
		ok = aws_fail(c, 400, "InvalidParameterException",
			      "You can only move staging label AWSCURRENT to a different secret "
			      "version. It can't be completely removed.");
	if (ok == 0 && to) {
		ok = sm_stage_attach(c, s.id, stage, to);
	} else if (ok == 0 && from) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM sm_stages WHERE secret_id = ?1 "
						      "AND stage = ?2");
		sqlite3_bind_int64(st, 1, s.id);
		sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		ok = rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
	}
	if (ok == 0)
		ok = sm_stages_sync(c, s.id);
	if (ok == 0)
		ok = sm_touch(c, s.id);
	if (sm_tx_end(c, ok) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	return 0;
}

int secretsmanager_op_list_secret_version_ids(struct aws_call *c)
{
	struct sm_secret s;
	size_t offset;
	int64_t max = jv_get_int(c->in, "MaxResults", 100);
	int deprecated = jv_get_bool(c->in, "IncludeDeprecated", 0);
	if (max < 1 || max > 100)
		return aws_fail(c, 400, "InvalidParameterException",
				"MaxResults must be between 1 and 100.");
	if (sm_page_token(c, &offset) < 0 ||
	    sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT v.version_id, v.created, v.kms_label, (SELECT count(*) FROM "
			       "sm_stages g WHERE g.secret_id = v.secret_id AND g.version_id = "
			       "v.version_id) FROM sm_versions v WHERE v.secret_id = ?1 ORDER BY "
			       "v.created DESC, v.rowid DESC");
	sqlite3_bind_int64(st, 1, s.id);
	struct jv *list = jv_array(c->a);
	size_t seen = 0;
	int more = 0;
	struct {
		const char *id;
		double created;
		const char *label;
	} rows[100];
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!deprecated && sqlite3_column_int(st, 3) == 0)
			continue;
		if (seen++ < offset)
			continue;
		if (n == (size_t)max) {
			more = 1;
			break;
		}
		rows[n].id = arena_strdup(c->a, db_col_text(st, 0));
		rows[n].created = sqlite3_column_double(st, 1);
		rows[n].label = arena_strdup(c->a, db_col_text(st, 2));
		n++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		struct jv *e = jv_object(c->a);
		jv_set_str(c->a, e, "VersionId", rows[i].id);
		struct jv *stages = sm_version_stages(c, s.id, rows[i].id);
		if (jv_len(stages))
			jv_set(c->a, e, "VersionStages", stages);
		jv_set_double(c->a, e, "CreatedDate", rows[i].created);
		struct jv *keys = jv_array(c->a);
		jv_push(c->a, keys, jv_string_c(c->a, rows[i].label));
		jv_set(c->a, e, "KmsKeyIds", keys);
		jv_push(c->a, list, e);
	}
	sm_out_arn_name(c, &s);
	jv_set(c->a, aws_out(c), "Versions", list);
	if (more)
		jv_set_str(c->a, aws_out(c), "NextToken",
			   arena_sprintf(c->a, "%zu", offset + (size_t)max));
	return 0;
}
