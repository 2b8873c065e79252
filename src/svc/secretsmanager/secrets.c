/* secrets.c - the secret resource: CreateSecret, DescribeSecret,
 * UpdateSecret, DeleteSecret (recovery window or immediate), RestoreSecret.
 * Names are unique per account and region, including secrets scheduled for
 * deletion; the ARN ends in "-" and 6 random characters. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/secretsmanager_ops.h"
#include "fb.h"
#include "svc/kms/kms.h"
#include "svc/secretsmanager/internal.h"
#include <openssl/rand.h>

#define DAY_S 86400.0

/* valid_name: ASCII letters, digits and /_+=.@- only, 1..512 bytes. */
static int valid_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > 512)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("/_+=.@-", ch)))
			return 0;
	}
	return 1;
}

/* random_suffix: 6 characters from [A-Za-z0-9], uniformly (rejection
 * sampling: bytes >= 248 are redrawn so 62 divides the range). */
static int random_suffix(char out[7])
{
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 0;
	while (n < 6) {
		unsigned char b[16];
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -1;
		for (size_t i = 0; i < sizeof(b) && n < 6; i++)
			if (b[i] < 248)
				out[n++] = alnum[b[i] % 62];
	}
	out[6] = 0;
	return 0;
}

/* check_key: a KmsKeyId argument must name a key usable here. */
static int check_key(struct aws_call *c, const char *key_ref)
{
	if (!key_ref || kms_key_arn_of(c, key_ref))
		return 0;
	const char *why = c->err_msg ? c->err_msg : "";
	c->err_code = NULL;
	return aws_fail(
	    c, 400, "EncryptionFailure",
	    "Secrets Manager can't encrypt the protected secret text using the provided "
	    "KMS key. (%s)",
	    why);
}

/* clear_error: forgets an error recorded on c (a lookup that may miss). */
static void clear_error(struct aws_call *c)
{
	c->err_code = NULL;
	c->err_msg = NULL;
	c->err_status = 0;
	c->err_fault = 0;
}

/* existing: handles CreateSecret for a name already taken: an idempotent
 * retry (same token, same value) returns 1 with the output set; anything
 * else -1 with the error. */
static int existing(struct aws_call *c, const struct sm_secret *s, const char *token,
		    const struct sm_value *v, int has_value)
{
	if (s->deleted_date > 0)
		return aws_fail(c, 400, "InvalidRequestException",
				"You can't create this secret because a secret with this name is "
				"already scheduled for deletion.");
	if (token && has_value) {
		int r = sm_version_exists(c, s, token, v);
		if (r < 0)
			return -1;
		if (r == 1) {
			sm_out_arn_name(c, s);
			jv_set_str(c->a, aws_out(c), "VersionId", token);
			return 1;
		}
	}
	return aws_fail(c, 400, "ResourceExistsException",
			"The operation failed because the secret %s already exists.", s->name);
}

/* insert_secret: the new row; fills s. */
static int insert_secret(struct aws_call *c, const char *name, struct sm_secret *s)
{
	char suffix[7];
	if (random_suffix(suffix) < 0)
		return aws_fail(c, 500, "InternalServiceError", "no randomness");
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->arn = arena_sprintf(c->a, "arn:aws:secretsmanager:%s:%s:secret:%s-%s", c->region,
			       c->account, name, suffix);
	s->description = jv_get_str(c->in, "Description");
	s->kms_key_id = jv_get_str(c->in, "KmsKeyId");
	if (s->kms_key_id && !*s->kms_key_id)
		s->kms_key_id = NULL;
	s->created = s->last_changed = (double)c->now_ms / 1000.0;
	sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO sm_secrets(account, region, name, arn, "
					      "description, kms_key_id, created, last_changed) "
					      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, s->arn, -1, SQLITE_STATIC);
	if (s->description)
		sqlite3_bind_text(st, 5, s->description, -1, SQLITE_STATIC);
	if (s->kms_key_id)
		sqlite3_bind_text(st, 6, s->kms_key_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 7, s->created);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return sm_fail_db(c, rc);
	s->id = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
	return 0;
}

int secretsmanager_op_create_secret(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "Name");
	struct sm_value v = {0};
	struct sm_secret s;
	if (!valid_name(name))
		return aws_fail(c, 400, "ValidationException",
				"Invalid name. Must be a valid name containing alphanumeric "
				"characters, or any of the following: -/_+=.@!");
	if (jv_get(c->in, "AddReplicaRegions"))
		return aws_fail(c, 400, "InvalidRequestException",
				"fogbank does not replicate secrets to other regions.");
	int has_value = sm_value_arg(c, &v);
	const char *token = jv_get_str(c->in, "ClientRequestToken");
	const char *version_id = has_value > 0 ? sm_token_arg(c) : NULL;
	if (has_value < 0 || (has_value && !version_id) ||
	    sm_tags_check(c, jv_get(c->in, "Tags")) < 0)
		return -1;
	if (sm_tx_begin(c) < 0)
		return -1;
	int ok;
	if (sm_secret_find(c, name, &s) == 0) {
		ok = existing(c, &s, token, &v, has_value);
		if (ok == 1)
			return sm_tx_end(c, 0);
		return sm_tx_end(c, -1);
	}
	clear_error(c);
	ok = check_key(c, jv_get_str(c->in, "KmsKeyId"));
	if (ok == 0)
		ok = insert_secret(c, name, &s);
	if (ok == 0 && has_value)
		ok = sm_version_add(c, &s, version_id, &v, NULL);
	if (ok == 0)
		ok = sm_tags_put(c, s.id, jv_get(c->in, "Tags"));
	if (sm_tx_end(c, ok) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	jv_set_str(c->a, aws_out(c), "VersionId", version_id);
	return 0;
}

int secretsmanager_create_managed(struct aws_call *c, const char *owning_service, const char *name,
				  const char *description, const char *kms_key_ref,
				  const char *secret_string, const struct jv *tags,
				  const char **arn_out)
{
	struct sm_secret s;
	char version_id[37];
	struct sm_value v = {.binary = 0, .val = str_c(secret_string)};
	/* insert_secret reads these from the input, as for CreateSecret */
	c->in = jv_object(c->a);
	jv_set_str(c->a, c->in, "Description", description);
	jv_set_str(c->a, c->in, "KmsKeyId", kms_key_ref);
	fmt_uuid4(version_id);
	FB_UNUSED(owning_service); /* OwningService is not stored yet */
	if (sm_tx_begin(c) < 0)
		return -1;
	if (sm_secret_find(c, name, &s) == 0)
		return sm_tx_end(c, aws_fail(c, 400, "ResourceExistsException",
					     "The operation failed because the secret %s already "
					     "exists.",
					     name));
	clear_error(c);
	int ok = check_key(c, kms_key_ref);
	if (ok == 0)
		ok = insert_secret(c, name, &s);
	if (ok == 0)
		ok = sm_version_add(c, &s, arena_strdup(c->a, version_id), &v, NULL);
	if (ok == 0)
		ok = sm_tags_put(c, s.id, tags); /* the service's own aws: tags */
	if (sm_tx_end(c, ok) < 0)
		return -1;
	*arn_out = s.arn;
	return 0;
}

int secretsmanager_op_describe_secret(struct aws_call *c)
{
	struct sm_secret s;
	if (sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s) < 0)
		return -1;
	struct jv *o = aws_out(c);
	sm_secret_entry(c, &s, o, "VersionIdsToStages");
	jv_set_bool(c->a, o, "RotationEnabled", 0);
	return 0;
}

/* update_key: applies a KmsKeyId change; existing labelled versions are
 * re-encrypted under the new key when no new value comes with it. */
static int update_key(struct aws_call *c, struct sm_secret *s, int has_value)
{
	const char *key = jv_get_str(c->in, "KmsKeyId");
	if (!key)
		return 0;
	if (!*key)
		key = NULL;
	if (check_key(c, key) < 0)
		return -1;
	if ((key == NULL) == (s->kms_key_id == NULL) && (!key || strcmp(key, s->kms_key_id) == 0))
		return 0;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE sm_secrets SET kms_key_id = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, s->id);
	if (key)
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return sm_fail_db(c, rc);
	s->kms_key_id = key;
	return has_value ? 0 : sm_reencrypt_labelled(c, s, key);
}

int secretsmanager_op_update_secret(struct aws_call *c)
{
	struct sm_secret s;
	struct sm_value v = {0};
	int has_value = sm_value_arg(c, &v);
	const char *version_id = has_value > 0 ? sm_token_arg(c) : NULL;
	if (has_value < 0 || (has_value && !version_id) || sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	if (ok == 0)
		ok = sm_check_live(c, &s);
	const char *desc = jv_get_str(c->in, "Description");
	if (ok == 0 && desc) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "UPDATE sm_secrets SET description = ?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, s.id);
		sqlite3_bind_text(st, 2, desc, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		ok = rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
	}
	if (ok == 0)
		ok = update_key(c, &s, has_value);
	if (ok == 0 && has_value) {
		int r = sm_version_exists(c, &s, version_id, &v);
		ok = r < 0 ? -1 : r == 0 ? sm_version_add(c, &s, version_id, &v, NULL) : 0;
	}
	if (ok == 0)
		ok = sm_touch(c, s.id);
	if (sm_tx_end(c, ok) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	jv_set_str(c->a, aws_out(c), "VersionId", version_id);
	return 0;
}

int secretsmanager_op_delete_secret(struct aws_call *c)
{
	struct sm_secret s;
	int force = jv_get_bool(c->in, "ForceDeleteWithoutRecovery", 0);
	const struct jv *window = jv_get(c->in, "RecoveryWindowInDays");
	int64_t days = jv_get_int(c->in, "RecoveryWindowInDays", 30);
	if (force && window)
		return aws_fail(c, 400, "InvalidParameterException",
				"You can't use ForceDeleteWithoutRecovery in conjunction with "
				"RecoveryWindowInDays.");
	if (!force && (days < 7 || days > 30))
		return aws_fail(c, 400, "InvalidParameterException",
				"The RecoveryWindowInDays value must be between 7 and 30 days "
				"(inclusive).");
	if (sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	double now = (double)c->now_ms / 1000.0, when = now;
	if (ok == 0 && !force)
		ok = sm_check_live(c, &s);
	if (ok == 0 && force) {
		int rc = sm_purge_one(c->fb->db, s.id);
		ok = rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
	} else if (ok == 0) {
		when = now + (double)days * DAY_S;
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "UPDATE sm_secrets SET deleted_date = ?2, "
				       "purge_at = ?3, last_changed = ?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, s.id);
		sqlite3_bind_double(st, 2, now);
		sqlite3_bind_double(st, 3, when);
		int rc = db_step_done(st);
		ok = rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
	}
	if (sm_tx_end(c, ok) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	jv_set_double(c->a, aws_out(c), "DeletionDate", when);
	return 0;
}

int secretsmanager_op_restore_secret(struct aws_call *c)
{
	struct sm_secret s;
	if (sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	if (ok == 0) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "UPDATE sm_secrets SET deleted_date = NULL, "
				       "purge_at = NULL, last_changed = ?2 WHERE id = "
				       "?1");
		sqlite3_bind_int64(st, 1, s.id);
		sqlite3_bind_double(st, 2, (double)c->now_ms / 1000.0);
		int rc = db_step_done(st);
		ok = rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
	}
	if (sm_tx_end(c, ok) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	return 0;
}
