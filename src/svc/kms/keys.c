/* keys.c - KMS keys: resolving a KeyId (id, key ARN, alias, alias ARN),
 * KeyMetadata, and CreateKey / DescribeKey / ListKeys /
 * UpdateKeyDescription. Keys belong to one account and region. */
#include "core/compat.h"
#include "core/log.h"
#include "aws/fmt.h"
#include "aws/gen/kms_ops.h"
#include "aws/json.h"
#include "fb.h"
#include "svc/kms/internal.h"
#include <stdlib.h>
#include <openssl/crypto.h>

static const char sql_key_by_id[] =
    "SELECT id, account, region, description, state, manager, rotation, created, "
    "deletion_date, pending_days, policy FROM kms_keys WHERE id = ?1";
static const char sql_key_by_alias[] = "SELECT key_id FROM kms_aliases WHERE account = ?1 AND "
				       "region = ?2 AND name = ?3";

const char *kms_key_arn(struct arena *a, const char *region, const char *account, const char *id)
{
	return arena_sprintf(a, "arn:aws:kms:%s:%s:key/%s", region, account, id);
}

int kms_fail_db(struct aws_call *c, int rc)
{
	log_error("kms: store error: %s", sqlite3_errstr(rc));
	return aws_fail(c, 500, "KMSInternalException", "internal store error");
}

int kms_tx_begin(struct aws_call *c)
{
	int rc = db_begin(c->fb->db);
	return rc == SQLITE_OK ? 0 : kms_fail_db(c, rc);
}

int kms_tx_end(struct aws_call *c, int ok)
{
	if (ok == 0) {
		int rc = db_commit(c->fb->db);
		if (rc == SQLITE_OK)
			return 0;
		db_rollback(c->fb->db);
		return kms_fail_db(c, rc);
	}
	db_rollback(c->fb->db);
	return -1;
}

/* col_str: text column i copied into the arena ("" when NULL). */
static const char *col_str(struct arena *a, sqlite3_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return arena_strdup(a, s ? s : "");
}

int kms_key_load(struct aws_call *c, const char *id, struct kms_key *k)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, sql_key_by_id);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	memset(k, 0, sizeof(*k));
	k->id = col_str(c->a, st, 0);
	k->account = col_str(c->a, st, 1);
	k->region = col_str(c->a, st, 2);
	k->description = col_str(c->a, st, 3);
	k->state = sqlite3_column_int(st, 4);
	k->aws_managed = sqlite3_column_int(st, 5);
	k->rotation = sqlite3_column_int(st, 6);
	k->created = sqlite3_column_double(st, 7);
	k->deletion_date = sqlite3_column_double(st, 8);
	k->pending_days = sqlite3_column_int(st, 9);
	k->policy = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL : col_str(c->a, st, 10);
	sqlite3_reset(st);
	k->arn = kms_key_arn(c->a, k->region, k->account, k->id);
	return 1;
}

/* purge_key: deletes key id with its aliases and tags, inside the caller's
 * transaction when one is open, else in its own. */
static void purge_key(struct db *db, struct kms_keyring *kr, const char *id)
{
	int own = !db_in_tx(db);
	if (own && db_begin(db) != SQLITE_OK)
		return;
	sqlite3_stmt *st = db_stmt(db, "DELETE FROM kms_aliases WHERE key_id = ?1");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = db_step_done(st);
	st = db_stmt(db, "DELETE FROM kms_tags WHERE key_id = ?1");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_DONE)
		rc = db_step_done(st);
	st = db_stmt(db, "DELETE FROM kms_keys WHERE id = ?1");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_DONE)
		rc = db_step_done(st);
	if (own) {
		if (rc == SQLITE_DONE && db_commit(db) == SQLITE_OK)
			log_info("kms: deleted key %s (deletion window passed)", id);
		else
			db_rollback(db);
	}
	kms_keyring_forget(kr, id);
}

void kms_purge(struct db *db, struct kms_keyring *kr, int64_t now_ms)
{
	char ids[64][KMS_ID_LEN + 1];
	size_t n = 0;
	sqlite3_stmt *st = db_stmt(db, "SELECT id FROM kms_keys WHERE state = 3 AND "
				       "deletion_date <= ?1 LIMIT 64");
	sqlite3_bind_double(st, 1, (double)now_ms / 1000.0);
	while (n < 64 && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col_text(st, 0);
		if (id && strlen(id) == KMS_ID_LEN)
			memcpy(ids[n++], id, KMS_ID_LEN + 1);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++)
		purge_key(db, kr, ids[i]);
}

/* split_arn: "arn:<partition>:kms:<region>:<account>:<resource>" into its
 * region, account and resource parts (arena). 0, or -1 when malformed. */
static int split_arn(struct arena *a, const char *arn, const char **region, const char **account,
		     const char **resource)
{
	const char *f[6];
	size_t len[6];
	const char *p = arn;
	for (int i = 0; i < 6; i++) {
		const char *e = i < 5 ? strchr(p, ':') : p + strlen(p);
		if (!e)
			return -1;
		f[i] = p;
		len[i] = (size_t)(e - p);
		p = e + 1;
	}
	if (len[0] != 3 || memcmp(f[0], "arn", 3) || len[2] != 3 || memcmp(f[2], "kms", 3))
		return -1;
	*region = arena_strndup(a, f[3], len[3]);
	*account = arena_strndup(a, f[4], len[4]);
	*resource = f[5];
	return 0;
}

/* not_found_key: NotFoundException for a key reference. */
static int not_found_key(struct aws_call *c, const char *ref)
{
	if (strncmp(ref, "arn:", 4) == 0)
		return aws_fail(c, 400, "NotFoundException", "Key '%s' does not exist", ref);
	return aws_fail(c, 400, "NotFoundException", "Key '%s' does not exist",
			kms_key_arn(c->a, c->region, c->account, ref));
}

/* looks_like_key_id: 36 characters shaped like a UUID. */
static int looks_like_key_id(const char *s)
{
	if (strlen(s) != KMS_ID_LEN)
		return 0;
	for (size_t i = 0; i < KMS_ID_LEN; i++) {
		int hyphen = i == 8 || i == 13 || i == 18 || i == 23;
		if (hyphen != (s[i] == '-'))
			return 0;
	}
	return 1;
}

int kms_key_find(struct aws_call *c, const char *ref, int allow_alias, struct kms_key *k)
{
	const char *region = c->region, *account = c->account, *rest = ref;
	if (!ref || !*ref)
		return aws_fail(c, 400, "ValidationException", "KeyId is required");
	if (strncmp(ref, "arn:", 4) == 0) {
		if (split_arn(c->a, ref, &region, &account, &rest) < 0)
			return aws_fail(c, 400, "InvalidArnException", "Invalid arn %s", ref);
		if (strncmp(rest, "key/", 4) == 0)
			rest += 4;
		else if (strncmp(rest, "alias/", 6) != 0)
			return aws_fail(c, 400, "InvalidArnException", "Invalid arn %s", ref);
	}
	const char *id = rest;
	if (strncmp(rest, "alias/", 6) == 0) {
		if (!allow_alias)
			return aws_fail(c, 400, "NotFoundException", "Invalid keyId %s", ref);
		const char *alias_arn =
		    arena_sprintf(c->a, "arn:aws:kms:%s:%s:%s", region, account, rest);
		if (strcmp(region, c->region) || strcmp(account, c->account))
			return aws_fail(c, 400, "NotFoundException", "Alias %s is not found.",
					alias_arn);
		sqlite3_stmt *st = db_stmt(c->fb->db, sql_key_by_alias);
		sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, rest, -1, SQLITE_STATIC);
		id = sqlite3_step(st) == SQLITE_ROW ? col_str(c->a, st, 0) : NULL;
		sqlite3_reset(st);
		if (!id)
			return aws_fail(c, 400, "NotFoundException", "Alias %s is not found.",
					alias_arn);
	} else if (!looks_like_key_id(id)) {
		return aws_fail(c, 400, "NotFoundException", "Invalid keyId %s", ref);
	}
	if (!kms_key_load(c, id, k) || strcmp(k->account, account) || strcmp(k->region, region) ||
	    strcmp(k->account, c->account) || strcmp(k->region, c->region))
		return not_found_key(c, ref);
	if (k->state == KMS_STATE_PENDING_DELETION &&
	    k->deletion_date * 1000.0 <= (double)c->now_ms) {
		purge_key(c->fb->db, c->fb->kms, k->id);
		return not_found_key(c, ref);
	}
	return 0;
}

int kms_key_check_usable(struct aws_call *c, const struct kms_key *k)
{
	if (k->state == KMS_STATE_DISABLED)
		return aws_fail(c, 400, "DisabledException", "%s is disabled.", k->arn);
	return kms_key_check_not_pending(c, k);
}

int kms_key_check_not_pending(struct aws_call *c, const struct kms_key *k)
{
	if (k->state == KMS_STATE_PENDING_DELETION)
		return aws_fail(c, 400, "KMSInvalidStateException", "%s is pending deletion.",
				k->arn);
	return 0;
}

/* state_name: the KeyState enum value. */
static const char *state_name(int state)
{
	switch (state) {
	case KMS_STATE_ENABLED:
		return "Enabled";
	case KMS_STATE_DISABLED:
		return "Disabled";
	default:
		return "PendingDeletion";
	}
}

struct jv *kms_key_metadata(struct aws_call *c, const struct kms_key *k)
{
	struct arena *a = c->a;
	struct jv *m = jv_object(a);
	jv_set_str(a, m, "AWSAccountId", k->account);
	jv_set_str(a, m, "KeyId", k->id);
	jv_set_str(a, m, "Arn", k->arn);
	jv_set_double(a, m, "CreationDate", k->created);
	jv_set_bool(a, m, "Enabled", k->state == KMS_STATE_ENABLED);
	jv_set_str(a, m, "Description", k->description);
	jv_set_str(a, m, "KeyUsage", "ENCRYPT_DECRYPT");
	jv_set_str(a, m, "KeyState", state_name(k->state));
	if (k->state == KMS_STATE_PENDING_DELETION) {
		jv_set_double(a, m, "DeletionDate", k->deletion_date);
		jv_set_int(a, m, "PendingDeletionWindowInDays", k->pending_days);
	}
	jv_set_str(a, m, "Origin", "AWS_KMS");
	jv_set_str(a, m, "KeyManager", k->aws_managed ? "AWS" : "CUSTOMER");
	jv_set_str(a, m, "CustomerMasterKeySpec", "SYMMETRIC_DEFAULT");
	jv_set_str(a, m, "KeySpec", "SYMMETRIC_DEFAULT");
	struct jv *algs = jv_array(a);
	jv_push(a, algs, jv_string_c(a, "SYMMETRIC_DEFAULT"));
	jv_set(a, m, "EncryptionAlgorithms", algs);
	jv_set_bool(a, m, "MultiRegion", 0);
	return m;
}

int kms_key_insert(struct aws_call *c, const char *description, int aws_managed, const char *policy,
		   const char **id_out)
{
	char id[37];
	unsigned char material[KMS_KEY_BYTES], wrapped[KMS_WRAPPED_LEN];
	fmt_uuid4(id);
	if (kms_random(material, sizeof(material)) < 0 ||
	    kms_keyring_wrap(c->fb->kms, id, material, wrapped) < 0) {
		OPENSSL_cleanse(material, sizeof(material));
		return aws_fail(c, 500, "KMSInternalException", "cannot generate key material");
	}
	OPENSSL_cleanse(material, sizeof(material));
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "INSERT INTO kms_keys(id, account, region, description, state, "
			       "manager, rotation, created, policy, material) "
			       "VALUES(?1, ?2, ?3, ?4, 1, ?5, ?5, ?6, ?7, ?8)");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, description ? description : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, aws_managed ? 1 : 0);
	/* whole seconds with milliseconds, as AWS reports CreationDate */
	sqlite3_bind_double(st, 6, (double)c->now_ms / 1000.0);
	if (policy)
		sqlite3_bind_text(st, 7, policy, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, wrapped, sizeof(wrapped), SQLITE_TRANSIENT);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return kms_fail_db(c, rc);
	*id_out = arena_strdup(c->a, id);
	return 0;
}

/* check_create_args: CreateKey accepts only what fogbank really does:
 * symmetric AES-256-GCM keys with key material generated by KMS. */
static int check_create_args(struct aws_call *c)
{
	const char *spec = jv_get_str(c->in, "KeySpec");
	if (!spec)
		spec = jv_get_str(c->in, "CustomerMasterKeySpec");
	const char *usage = jv_get_str(c->in, "KeyUsage");
	const char *origin = jv_get_str(c->in, "Origin");
	if (spec && strcmp(spec, "SYMMETRIC_DEFAULT"))
		return aws_fail(c, 400, "UnsupportedOperationException",
				"KeySpec %s is not supported: fogbank implements only "
				"SYMMETRIC_DEFAULT keys",
				spec);
	if (usage && strcmp(usage, "ENCRYPT_DECRYPT"))
		return aws_fail(c, 400, "ValidationException",
				"KeyUsage %s is not compatible with KeySpec SYMMETRIC_DEFAULT",
				usage);
	if (origin && strcmp(origin, "AWS_KMS"))
		return aws_fail(c, 400, "UnsupportedOperationException",
				"Origin %s is not supported: fogbank implements only AWS_KMS",
				origin);
	if (jv_get_str(c->in, "CustomKeyStoreId") || jv_get_str(c->in, "XksKeyId"))
		return aws_fail(c, 400, "CustomKeyStoreNotFoundException",
				"fogbank has no custom key stores");
	if (jv_get_bool(c->in, "MultiRegion", 0))
		return aws_fail(c, 400, "UnsupportedOperationException",
				"multi-Region keys are not supported by fogbank");
	return 0;
}

int kms_check_policy(struct aws_call *c, const char *policy)
{
	if (!policy)
		return 0;
	struct jv *doc = json_parse(c->a, policy, strlen(policy), NULL);
	if (!doc || doc->type != JV_OBJECT)
		return aws_fail(c, 400, "MalformedPolicyDocumentException",
				"The new key policy will not allow you to update the key policy in "
				"the future.");
	return 0;
}

int kms_op_create_key(struct aws_call *c)
{
	const char *policy = jv_get_str(c->in, "Policy");
	if (check_create_args(c) < 0 || kms_check_policy(c, policy) < 0)
		return -1;
	const struct jv *tags = jv_get(c->in, "Tags");
	if (kms_tags_check(c, tags) < 0 || kms_tx_begin(c) < 0)
		return -1;
	const char *id = NULL;
	int ok = kms_key_insert(c, jv_get_str(c->in, "Description"), 0, policy, &id);
	if (ok == 0)
		ok = kms_tags_put(c, id, tags);
	if (kms_tx_end(c, ok) < 0)
		return -1;
	struct kms_key k;
	if (!kms_key_load(c, id, &k))
		return aws_fail(c, 500, "KMSInternalException", "key vanished after creation");
	jv_set(c->a, aws_out(c), "KeyMetadata", kms_key_metadata(c, &k));
	return 0;
}

int kms_op_describe_key(struct aws_call *c)
{
	struct kms_key k;
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 1, &k) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "KeyMetadata", kms_key_metadata(c, &k));
	return 0;
}

int kms_page_args(struct aws_call *c, int64_t *after, int64_t *limit)
{
	*limit = jv_get_int(c->in, "Limit", 100);
	if (*limit < 1 || *limit > 1000)
		return aws_fail(c, 400, "ValidationException",
				"1 validation error detected: Value '%lld' at 'limit' failed to "
				"satisfy constraint: Member must have value between 1 and 1000",
				(long long)*limit);
	*after = 0;
	const char *m = jv_get_str(c->in, "Marker");
	if (m) {
		char *end = NULL;
		long long v = strtoll(m, &end, 10);
		if (!*m || *end || v < 0)
			return aws_fail(c, 400, "InvalidMarkerException", "Invalid marker %s", m);
		*after = v;
	}
	return 0;
}

int kms_page_finish(struct aws_call *c, int more, int64_t last)
{
	jv_set_bool(c->a, aws_out(c), "Truncated", more);
	if (more)
		jv_set_str(c->a, aws_out(c), "NextMarker",
			   arena_sprintf(c->a, "%lld", (long long)last));
	return 0;
}

int kms_op_list_keys(struct aws_call *c)
{
	int64_t after, limit, last = 0;
	if (kms_page_args(c, &after, &limit) < 0)
		return -1;
	kms_purge(c->fb->db, c->fb->kms, c->now_ms);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT rowid, id FROM kms_keys WHERE account = ?1 "
					      "AND region = ?2 AND rowid > ?3 ORDER BY rowid "
					      "LIMIT ?4");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, limit + 1);
	struct jv *keys = jv_array(c->a);
	int64_t n = 0;
	int more = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == limit) {
			more = 1;
			break;
		}
		last = sqlite3_column_int64(st, 0);
		const char *id = db_col_text(st, 1);
		struct jv *e = jv_object(c->a);
		jv_set_str(c->a, e, "KeyId", id);
		jv_set_str(c->a, e, "KeyArn", kms_key_arn(c->a, c->region, c->account, id));
		jv_push(c->a, keys, e);
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "Keys", keys);
	return kms_page_finish(c, more, last);
}

int kms_op_update_key_description(struct aws_call *c)
{
	struct kms_key k;
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, &k) < 0 ||
	    kms_key_check_not_pending(c, &k) < 0)
		return -1;
	const char *d = jv_get_str(c->in, "Description");
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE kms_keys SET description = ?2 WHERE id = ?1");
	sqlite3_bind_text(st, 1, k.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d ? d : "", -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : kms_fail_db(c, rc);
}
