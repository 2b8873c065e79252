/* modify.c - ModifyDBInstance: what AWS applies at once (passwords,
 * deletion protection, recorded settings) is applied at once; the rest
 * waits in PendingModifiedValues unless ApplyImmediately, and a reboot
 * applies it. A master password is really changed on the server, via its
 * SCRAM verifier (the plaintext is never stored). */
#include "core/compat.h"
#include "aws/gen/rds_ops.h"
#include "fb.h"
#include "supervise/pg_wire.h"
#include "svc/rds/internal.h"
#include <openssl/crypto.h>

/* Settings only recorded, applied at once. */
static const char *const recorded_now[] = {
    "PreferredBackupWindow",   "PreferredMaintenanceWindow", "AutoMinorVersionUpgrade",
    "PubliclyAccessible",      "CopyTagsToSnapshot",	     "VpcSecurityGroupIds",
    "CACertificateIdentifier", "MaxAllocatedStorage",	     "MonitoringInterval",
};

/* save: writes the modifiable columns of r back (no transaction). */
static int save(struct aws_call *c, const struct rds_inst *r)
{
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, "UPDATE rds_instances SET klass = ?2, storage = ?3, engine_version = ?4, "
		       "multi_az = ?5, retention = ?6, deletion_protection = ?7, param_group = ?8, "
		       "attrs = ?9, pending = ?10 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_text(st, 2, r->klass, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, r->storage);
	sqlite3_bind_text(st, 4, r->engine_version, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, r->multi_az);
	sqlite3_bind_int(st, 6, r->retention);
	sqlite3_bind_int(st, 7, r->deletion_protection);
	sqlite3_bind_text(st, 8, r->param_group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->attrs, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, r->pending, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : rds_fail_db(c, rc);
}

/* apply_value: sets one PendingModifiedValues member on r / attrs. */
static void apply_value(struct aws_call *c, struct rds_inst *r, struct jv *attrs, const char *key,
			struct jv *v)
{
	if (!strcmp(key, "DBInstanceClass") && v->type == JV_STRING)
		r->klass = v->u.s.p;
	else if (!strcmp(key, "AllocatedStorage"))
		r->storage = (int)v->u.i;
	else if (!strcmp(key, "EngineVersion") && v->type == JV_STRING)
		r->engine_version = v->u.s.p;
	else if (!strcmp(key, "MultiAZ"))
		r->multi_az = v->type == JV_BOOL ? v->u.b : r->multi_az;
	else if (!strcmp(key, "BackupRetentionPeriod"))
		r->retention = (int)v->u.i;
	else if (!strcmp(key, "StorageType") || !strcmp(key, "Iops"))
		jv_set(c->a, attrs, key, v);
}

void rds_apply_pending(struct aws_call *c, int64_t id)
{
	struct rds_inst r;
	if (rds_inst_load(c->fb->db, c->a, id, &r) < 0)
		return;
	struct jv *attrs = rds_json(c->a, r.attrs), *pending = rds_json(c->a, r.pending);
	struct jv *keep = jv_object(c->a);
	for (size_t i = 0; i < pending->u.obj.n; i++) {
		const char *k = pending->u.obj.m[i].key.p;
		if (!strcmp(k, "MasterUserPassword"))
			jv_set(c->a, keep, k, pending->u.obj.m[i].val);
		else
			apply_value(c, &r, attrs, k, pending->u.obj.m[i].val);
	}
	jv_set_str(c->a, attrs, "ParameterApplyStatus", "in-sync");
	jv_set_str(c->a, attrs, "ConfExtra", rds_param_conf(c, r.param_group));
	r.attrs = rds_json_text(c->a, attrs);
	r.pending = rds_json_text(c->a, keep);
	save(c, &r);
}

/* managed_password: ManageMasterUserPassword / RotateMasterUserPassword.
 * Turning management on or rotating makes a new password into gen (*pw
 * points at it) and stores it in the secret (made on the spot when new:
 * *new_secret); turning it off needs a MasterUserPassword and hands the
 * secret to *drop_secret, deleted once the change is committed. */
static int managed_password(struct aws_call *c, struct rds_inst *r, struct jv *attrs, int now,
			    const char **pw, char *gen, const char **new_secret,
			    const char **drop_secret)
{
	struct jv *m = jv_get(c->in, "ManageMasterUserPassword");
	int on = m ? jv_get_bool(c->in, "ManageMasterUserPassword", 0) : r->secret_arn != NULL;
	int rotate = jv_get_bool(c->in, "RotateMasterUserPassword", 0);
	if (*pw && on)
		return aws_fail(
		    c, 400, "InvalidParameterCombination",
		    "You can't specify MasterUserPassword when ManageMasterUserPassword "
		    "is turned on.");
	if (!on) {
		if (rotate)
			return aws_fail(c, 400, "InvalidParameterCombination",
					"RotateMasterUserPassword requires "
					"ManageMasterUserPassword.");
		if (r->secret_arn && !*pw)
			return aws_fail(c, 400, "InvalidParameterCombination",
					"You must specify MasterUserPassword when you turn off "
					"ManageMasterUserPassword.");
		*drop_secret = r->secret_arn;
		*new_secret = NULL;
		return 0;
	}
	if (r->secret_arn && !rotate)
		return 0;
	if (rotate && !now)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"RotateMasterUserPassword requires ApplyImmediately.");
	rds_secret_password(gen);
	*pw = gen;
	if (r->secret_arn)
		return rds_secret_put(c, r->secret_arn, r->master_user, gen);
	const char *kms = rds_secret_kms(c, jv_get_str(c->in, "MasterUserSecretKmsKeyId"));
	if (!kms)
		return -1;
	jv_set_str(c->a, attrs, "MasterUserSecretKmsKeyId", kms);
	return rds_secret_create(c, r->arn, r->master_user, gen, kms, new_secret);
}

/* change: records key = v now (ApplyImmediately) or as pending. */
static void change(struct aws_call *c, struct rds_inst *r, struct jv *attrs, struct jv *pending,
		   int now, const char *key, struct jv *v)
{
	if (now)
		apply_value(c, r, attrs, key, v);
	else
		jv_set(c->a, pending, key, v);
}

int rds_op_modify_db_instance(struct aws_call *c)
{
	struct rds_inst r;
	struct jv *in = c->in, *v;
	if (rds_inst_find(c, jv_get_str(in, "DBInstanceIdentifier"), &r) < 0)
		return -1;
	if (strcmp(r.status, "available") && strcmp(r.status, "stopped") &&
	    strcmp(r.status, "backing-up"))
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Instance %s is not in available state.", r.ident);
	if (jv_get_str(in, "NewDBInstanceIdentifier") ||
	    (jv_get(in, "DBPortNumber") && jv_get_int(in, "DBPortNumber", 0) != r.port))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Renaming an instance or changing its port is not supported by "
				"fogbank yet.");
	int now = jv_get_bool(in, "ApplyImmediately", 0), reboot = 0, was_multi_az = r.multi_az;
	if (r.replica_of && jv_get_bool(in, "MultiAZ", 0))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"fogbank does not run Multi-AZ read replicas yet.");
	struct jv *attrs = rds_json(c->a, r.attrs), *pending = rds_json(c->a, r.pending);
	const char *pw = jv_get_str(in, "MasterUserPassword"), *ver = NULL;
	char verifier[200], gen[RDS_SECRET_PW_LEN + 1];
	const char *new_secret = r.secret_arn, *drop_secret = NULL;
	if (managed_password(c, &r, attrs, now, &pw, gen, &new_secret, &drop_secret) < 0)
		return -1;
	if (pw) {
		if (rds_check_password(c, pw) < 0)
			return -1;
		if (pg_scram_verifier(pw, verifier, sizeof(verifier)) < 0)
			return aws_fail(c, 500, "InternalFailure", "no randomness");
		ver = verifier;
		if (pw != gen) /* a managed password is never pending */
			jv_set_str(c->a, pending, "MasterUserPassword", "****");
		OPENSSL_cleanse(gen, sizeof(gen));
	}
	if ((v = jv_get(in, "EngineVersion"))) {
		if (rds_check_engine(c, NULL, v->u.s.p) < 0)
			return -1;
		change(c, &r, attrs, pending, now, "EngineVersion", v);
	}
	const char *keys[] = {"DBInstanceClass", "AllocatedStorage", "MultiAZ", "StorageType",
			      "Iops"};
	for (size_t i = 0; i < FB_ARRAY_LEN(keys); i++)
		if ((v = jv_get(in, keys[i])))
			change(c, &r, attrs, pending, now, keys[i], v);
	if ((v = jv_get(in, "BackupRetentionPeriod"))) {
		if (v->u.i < 0 || v->u.i > 35)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Invalid backup retention period: %lld (0 to 35 days).",
					(long long)v->u.i);
		if (v->u.i == 0 && jv_len(rds_replicas_of(c->fb->db, c->a, &r)))
			return aws_fail(c, 400, "InvalidParameterCombination",
					"Can't set the backup retention period to 0 on a DB "
					"instance that is the source of read replicas.");
		/* switching archiving on or off needs a restart (archive_mode) */
		int flips = (v->u.i > 0) != (r.retention > 0);
		if (flips && !now)
			jv_set(c->a, pending, "BackupRetentionPeriod", v);
		else
			r.retention = (int)v->u.i;
		reboot = flips && now && strcmp(r.status, "stopped");
	}
	for (size_t i = 0; i < FB_ARRAY_LEN(recorded_now); i++)
		if ((v = jv_get(in, recorded_now[i])))
			jv_set(c->a, attrs, recorded_now[i], v);
	if ((v = jv_get(in, "EnableIAMDatabaseAuthentication")))
		jv_set(c->a, attrs, "IAMDatabaseAuthenticationEnabled", v);
	if ((v = jv_get(in, "DeletionProtection")))
		r.deletion_protection = v->u.b;
	const char *pg = jv_get_str(in, "DBParameterGroupName");
	if (pg) {
		if (rds_check_groups(c, pg, NULL) < 0)
			return -1;
		r.param_group = rds_lower(c->a, pg);
		jv_set_str(c->a, attrs, "ParameterApplyStatus", "pending-reboot");
	}
	if (jv_get_str(in, "DBSubnetGroupName")) {
		if (rds_check_groups(c, NULL, jv_get_str(in, "DBSubnetGroupName")) < 0)
			return -1;
		r.subnet_group = rds_lower(c->a, jv_get_str(in, "DBSubnetGroupName"));
	}
	r.attrs = rds_json_text(c->a, attrs);
	r.pending = rds_json_text(c->a, pending);
	if (rds_tx_begin(c) < 0)
		return -1;
	if (save(c, &r) < 0)
		return rds_tx_end(c, -1);
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, "UPDATE rds_instances SET subnet_group = ?2, "
		       "pw_verifier = coalesce(?3, pw_verifier), secret_arn = ?4 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r.id);
	if (r.subnet_group)
		sqlite3_bind_text(st, 2, r.subnet_group, -1, SQLITE_STATIC);
	if (ver)
		sqlite3_bind_text(st, 3, ver, -1, SQLITE_STATIC);
	if (new_secret)
		sqlite3_bind_text(st, 4, new_secret, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return rds_tx_end(c, rds_fail_db(c, rc));
	/* Multi-AZ switched on now: modifying until the standby is in sync */
	int maz_now = r.multi_az != was_multi_az && strcmp(r.status, "stopped");
	if (reboot)
		rds_set_status(c->fb->db, r.id, "rebooting");
	else if (maz_now && r.multi_az)
		rds_set_status(c->fb->db, r.id, "modifying");
	if (rds_tx_end(c, 0) < 0)
		return -1;
	if (drop_secret)
		rds_secret_delete(c, drop_secret);
	rds_event(c->fb, c->account, c->region, "db-instance", r.ident, "configuration change",
		  "DB instance modified%s", ver ? " (master password reset)" : "");
	if (reboot)
		rds_rt_reboot(c->fb, r.id);
	else if (ver)
		rds_rt_apply(c->fb, r.id);
	if (maz_now)
		rds_rt_multi_az(c->fb, r.id, r.multi_az);
	if (rds_inst_load(c->fb->db, c->a, r.id, &r) < 0)
		return rds_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &r));
	return 0;
}
