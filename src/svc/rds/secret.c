/* secret.c - ManageMasterUserPassword: as on AWS, RDS generates the master
 * password and keeps it only in a Secrets Manager secret of its own,
 * rds!db-<uuid>, holding {"username": ..., "password": ...}, encrypted
 * under MasterUserSecretKmsKeyId (else the aws/secretsmanager key). The
 * server gets only the SCRAM verifier, like any password. The secret goes
 * when the instance goes or stops being managed. Secrets Manager is
 * reached through its own operations (sub-calls with their own output),
 * never its tables. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/secretsmanager_ops.h"
#include "aws/json.h"
#include "core/log.h"
#include "fb.h"
#include "svc/kms/kms.h"
#include "svc/rds/internal.h"
#include "svc/secretsmanager/secretsmanager.h"
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* printable ASCII without what RDS forbids (/ @ " space) and without
 * quotes and backslash, so the password survives shells and URLs */
static const char pw_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			       "!#$%&()*+,-.:;<=>?[]^_{|}~";

void rds_secret_password(char out[RDS_SECRET_PW_LEN + 1])
{
	unsigned char r[RDS_SECRET_PW_LEN];
	if (RAND_bytes(r, sizeof(r)) != 1)
		fb_die("rds: RAND_bytes failed");
	for (size_t i = 0; i < RDS_SECRET_PW_LEN; i++)
		out[i] = pw_chars[r[i] % (sizeof(pw_chars) - 1)];
	out[RDS_SECRET_PW_LEN] = 0;
	OPENSSL_cleanse(r, sizeof(r));
}

const char *rds_secret_kms(struct aws_call *c, const char *ref)
{
	if (!ref && !(ref = kms_managed_key(c, "aws/secretsmanager")))
		return NULL;
	const char *arn = kms_key_arn_of(c, ref);
	if (!arn) {
		c->err_code = NULL;
		aws_fail(c, 400, "KMSKeyNotAccessibleFault",
			 "The specified KMS key %s does not exist.", ref);
	}
	return arn;
}

/* sub_call: a Secrets Manager call made on behalf of c (same account,
 * region, identity, arena), with input in. */
static struct aws_call sub_call(struct aws_call *c, struct jv *in)
{
	struct aws_call s = {.a = c->a,
			     .fb = c->fb,
			     .in = in,
			     .who = c->who,
			     .account = c->account,
			     .region = c->region,
			     .request_id = c->request_id,
			     .now_ms = c->now_ms};
	return s;
}

/* sub_fail: reports a failed sub-call as an RDS error on c. */
static int sub_fail(struct aws_call *c, const struct aws_call *s, const char *what)
{
	log_warn("rds: Secrets Manager %s: %s: %s", what, s->err_code ? s->err_code : "error",
		 s->err_msg ? s->err_msg : "");
	if (s->err_code && strstr(s->err_code, "KMS"))
		return aws_fail(c, 400, "KMSKeyNotAccessibleFault", "%s", s->err_msg);
	return aws_fail(c, 500, "InternalFailure", "Secrets Manager %s failed: %s", what,
			s->err_msg ? s->err_msg : "");
}

/* value_json: the secret's value as RDS writes it. */
static const char *value_json(struct arena *a, const char *user, const char *pw)
{
	struct jv *v = jv_object(a);
	jv_set_str(a, v, "username", user);
	jv_set_str(a, v, "password", pw);
	return rds_json_text(a, v);
}

int rds_secret_create(struct aws_call *c, const char *inst_arn, const char *user, const char *pw,
		      const char *kms_arn, const char **arn_out)
{
	char uuid[37];
	fmt_uuid4(uuid);
	const char *name = arena_sprintf(c->a, "rds!db-%s", uuid);
	const char *desc =
	    arena_sprintf(c->a, "Secret associated with primary RDS DB instance: %s", inst_arn);
	const char *value = value_json(c->a, user, pw);
	struct jv *tags = jv_array(c->a), *t = jv_object(c->a), *o = jv_object(c->a);
	jv_set_str(c->a, t, "Key", "aws:rds:primaryDBInstanceArn");
	jv_set_str(c->a, t, "Value", inst_arn);
	jv_set_str(c->a, o, "Key", "aws:secretsmanager:owningService");
	jv_set_str(c->a, o, "Value", "rds");
	jv_push(c->a, tags, t);
	jv_push(c->a, tags, o);
	struct aws_call s = sub_call(c, jv_object(c->a));
	if (secretsmanager_create_managed(&s, "rds", name, desc, kms_arn, value, tags, arn_out) < 0)
		return sub_fail(c, &s, "CreateSecret");
	return 0;
}

int rds_secret_put(struct aws_call *c, const char *secret_arn, const char *user, const char *pw)
{
	struct jv *in = jv_object(c->a);
	jv_set_str(c->a, in, "SecretId", secret_arn);
	jv_set_str(c->a, in, "SecretString", value_json(c->a, user, pw));
	struct aws_call s = sub_call(c, in);
	return secretsmanager_op_put_secret_value(&s) < 0 ? sub_fail(c, &s, "PutSecretValue") : 0;
}

void rds_secret_delete(struct aws_call *c, const char *secret_arn)
{
	struct jv *in = jv_object(c->a);
	jv_set_str(c->a, in, "SecretId", secret_arn);
	jv_set_bool(c->a, in, "ForceDeleteWithoutRecovery", 1);
	struct aws_call s = sub_call(c, in);
	/* already gone (the user deleted it) is fine */
	if (secretsmanager_op_delete_secret(&s) < 0)
		log_info("rds: deleting secret %s: %s", secret_arn, s.err_msg ? s.err_msg : "");
}
