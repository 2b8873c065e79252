/* lifecycle.c - a key's state machine and settings: EnableKey/DisableKey,
 * key rotation flags, ScheduleKeyDeletion/CancelKeyDeletion, and the key
 * policy operations. Every state change drops the key from the material
 * cache so the hot path never decrypts with a stale state. */
#include "core/compat.h"
#include "aws/gen/kms_ops.h"
#include "fb.h"
#include "svc/kms/internal.h"

#define DAY_S 86400.0

/* find_customer_key: resolves KeyId (key id or ARN only) into *k and refuses
 * AWS-managed keys, which customers cannot change. */
static int find_customer_key(struct aws_call *c, struct kms_key *k)
{
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, k) < 0)
		return -1;
	if (k->aws_managed)
		return aws_fail(c, 400, "UnsupportedOperationException",
				"%s is an AWS managed key; you cannot change it", k->arn);
	return 0;
}

/* set_state: writes state (and the deletion schedule) of key k. */
static int set_state(struct aws_call *c, const struct kms_key *k, int state, double deletion,
		     int days)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE kms_keys SET state = ?2, deletion_date = "
					      "?3, pending_days = ?4 WHERE id = ?1");
	sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, state);
	if (state == KMS_STATE_PENDING_DELETION) {
		sqlite3_bind_double(st, 3, deletion);
		sqlite3_bind_int(st, 4, days);
	}
	int rc = db_step_done(st);
	kms_keyring_forget(c->fb->kms, k->id);
	return rc == SQLITE_DONE ? 0 : kms_fail_db(c, rc);
}

int kms_op_enable_key(struct aws_call *c)
{
	struct kms_key k;
	if (find_customer_key(c, &k) < 0 || kms_key_check_not_pending(c, &k) < 0)
		return -1;
	return set_state(c, &k, KMS_STATE_ENABLED, 0, 0);
}

int kms_op_disable_key(struct aws_call *c)
{
	struct kms_key k;
	if (find_customer_key(c, &k) < 0 || kms_key_check_not_pending(c, &k) < 0)
		return -1;
	return set_state(c, &k, KMS_STATE_DISABLED, 0, 0);
}

int kms_op_schedule_key_deletion(struct aws_call *c)
{
	struct kms_key k;
	if (find_customer_key(c, &k) < 0 || kms_key_check_not_pending(c, &k) < 0)
		return -1;
	int64_t days = jv_get_int(c->in, "PendingWindowInDays", 30);
	if (days < 7 || days > 30)
		return aws_fail(
		    c, 400, "ValidationException",
		    "1 validation error detected: Value '%lld' at 'pendingWindowInDays' "
		    "failed to satisfy constraint: Member must have value %s",
		    (long long)days,
		    days < 7 ? "greater than or equal to 7" : "less than or equal to 30");
	double when = (double)c->now_ms / 1000.0 + (double)days * DAY_S;
	if (set_state(c, &k, KMS_STATE_PENDING_DELETION, when, (int)days) < 0)
		return -1;
	struct jv *o = aws_out(c);
	jv_set_str(c->a, o, "KeyId", k.arn);
	jv_set_double(c->a, o, "DeletionDate", when);
	jv_set_str(c->a, o, "KeyState", "PendingDeletion");
	jv_set_int(c->a, o, "PendingWindowInDays", days);
	return 0;
}

int kms_op_cancel_key_deletion(struct aws_call *c)
{
	struct kms_key k;
	if (find_customer_key(c, &k) < 0)
		return -1;
	if (k.state != KMS_STATE_PENDING_DELETION)
		return aws_fail(c, 400, "KMSInvalidStateException", "%s is not pending deletion.",
				k.arn);
	/* As AWS does: a key whose deletion is cancelled comes back disabled. */
	if (set_state(c, &k, KMS_STATE_DISABLED, 0, 0) < 0)
		return -1;
	jv_set_str(c->a, aws_out(c), "KeyId", k.arn);
	return 0;
}

/* set_rotation: EnableKeyRotation / DisableKeyRotation. */
static int set_rotation(struct aws_call *c, int on)
{
	struct kms_key k;
	if (find_customer_key(c, &k) < 0 || kms_key_check_usable(c, &k) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE kms_keys SET rotation = ?2 WHERE id = ?1");
	sqlite3_bind_text(st, 1, k.id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, on);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : kms_fail_db(c, rc);
}

int kms_op_enable_key_rotation(struct aws_call *c)
{
	return set_rotation(c, 1);
}

int kms_op_disable_key_rotation(struct aws_call *c)
{
	return set_rotation(c, 0);
}

int kms_op_get_key_rotation_status(struct aws_call *c)
{
	struct kms_key k;
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, &k) < 0)
		return -1;
	jv_set_bool(c->a, aws_out(c), "KeyRotationEnabled", k.rotation);
	return 0;
}

/* check_policy_name: only the policy named "default" exists. */
static int check_policy_name(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "PolicyName");
	if (name && strcmp(name, "default"))
		return aws_fail(c, 400, "NotFoundException", "No such policy exists");
	return 0;
}

int kms_op_get_key_policy(struct aws_call *c)
{
	struct kms_key k;
	if (check_policy_name(c) < 0 || kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, &k) < 0)
		return -1;
	const char *policy = k.policy;
	if (!policy)
		policy = arena_sprintf(c->a,
				       "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : "
				       "\"key-default-1\",\n  \"Statement\" : [ {\n    \"Sid\" : "
				       "\"Enable IAM User Permissions\",\n    \"Effect\" : "
				       "\"Allow\",\n    \"Principal\" : {\n      \"AWS\" : "
				       "\"arn:aws:iam::%s:root\"\n    },\n    \"Action\" : "
				       "\"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}",
				       k.account);
	jv_set_str(c->a, aws_out(c), "Policy", policy);
	return 0;
}

int kms_op_put_key_policy(struct aws_call *c)
{
	struct kms_key k;
	const char *policy = jv_get_str(c->in, "Policy");
	if (check_policy_name(c) < 0 || find_customer_key(c, &k) < 0 ||
	    kms_key_check_not_pending(c, &k) < 0 || kms_check_policy(c, policy) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE kms_keys SET policy = ?2 WHERE id = ?1");
	sqlite3_bind_text(st, 1, k.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, policy, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : kms_fail_db(c, rc);
}

int kms_op_list_key_policies(struct aws_call *c)
{
	struct kms_key k;
	if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 0, &k) < 0)
		return -1;
	struct jv *names = jv_array(c->a);
	jv_push(c->a, names, jv_string_c(c->a, "default"));
	jv_set(c->a, aws_out(c), "PolicyNames", names);
	jv_set_bool(c->a, aws_out(c), "Truncated", 0);
	return 0;
}
