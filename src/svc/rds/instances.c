/* instances.c - CreateDBInstance, DescribeDBInstances, DeleteDBInstance,
 * RebootDBInstance, StopDBInstance, StartDBInstance. Handlers validate and
 * record the request in one transaction, answer at once (status
 * "creating", "rebooting", ...), and hand the real work to the runtime,
 * which moves the status as the server gets there. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/rds_ops.h"
#include "fb.h"
#include "store/addr.h"
#include "supervise/pg_wire.h"
#include "supervise/postgres.h"
#include "svc/kms/kms.h"
#include "svc/rds/internal.h"
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdlib.h>

/* Recorded as given and reported back (attrs): member -> same name. */
static const char *const recorded[] = {
    "AvailabilityZone",
    "PreferredBackupWindow",
    "PreferredMaintenanceWindow",
    "AutoMinorVersionUpgrade",
    "PubliclyAccessible",
    "StorageType",
    "Iops",
    "CopyTagsToSnapshot",
    "VpcSecurityGroupIds",
    "CACertificateIdentifier",
    "MaxAllocatedStorage",
    "MonitoringInterval",
    "StorageThroughput",
    "EnableCloudwatchLogsExports",
};

/* out_name: the DBInstance member a recorded input member is reported as. */
static const char *out_name(const char *in)
{
	if (!strcmp(in, "EnableCloudwatchLogsExports"))
		return "EnabledCloudwatchLogsExports";
	return in;
}

int rds_check_password(struct aws_call *c, const char *pw)
{
	size_t n = pw ? strlen(pw) : 0;
	for (size_t i = 0; i < n; i++)
		if (strchr("/@\" ", pw[i]) || !isprint((unsigned char)pw[i]))
			n = 0;
	if (n < 8 || n > 128)
		return aws_fail(
		    c, 400, "InvalidParameterValue",
		    "The parameter MasterUserPassword is not a valid password. Only "
		    "printable ASCII characters besides '/', '@', '\"', ' ' may be used, "
		    "and it must contain from 8 to 128 characters.");
	return 0;
}

/* check_name: a PostgreSQL name RDS accepts (letter first, then letters,
 * digits, underscores; at most 63). */
static int check_name(struct aws_call *c, const char *what, const char *s)
{
	size_t n = strlen(s);
	int ok = n >= 1 && n <= 63 && isalpha((unsigned char)s[0]);
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || s[i] == '_';
	if (!ok)
		return aws_fail(
		    c, 400, "InvalidParameterValue",
		    "The parameter %s is not a valid identifier. Identifiers must begin "
		    "with a letter; must contain only ASCII letters, digits, and "
		    "underscores; and must be at most 63 characters.",
		    what);
	return 0;
}

int rds_check_engine(struct aws_call *c, const char *engine, const char *version)
{
	static const char *const other[] = {
	    "mysql",	    "mariadb",		 "oracle-ee",	    "oracle-se2",
	    "sqlserver-ee", "sqlserver-se",	 "sqlserver-ex",    "sqlserver-web",
	    "aurora-mysql", "aurora-postgresql", "custom-oracle-ee"};
	if (engine && strcmp(engine, "postgres")) {
		for (size_t i = 0; i < FB_ARRAY_LEN(other); i++)
			if (!strcmp(engine, other[i]))
				return aws_fail(
				    c, 400, "InvalidParameterCombination",
				    "Engine %s is not available here: fogbank serves the "
				    "postgres engine (PostgreSQL %d).",
				    engine, PG_MAJOR);
		return aws_fail(c, 400, "InvalidParameterValue", "Invalid DB engine");
	}
	/* every 15.x is served by the installed 15 and reported as requested */
	if (version && !(!strcmp(version, "15") || (!strncmp(version, "15.", 3) && version[3])))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Cannot find version %s for postgres", version);
	return 0;
}

/* rds_kms_key: the key ARN for StorageEncrypted (given key, else the
 * aws/rds managed key); NULL with KMSKeyNotAccessibleFault. */
const char *rds_kms_key(struct aws_call *c, const char *ref)
{
	if (!ref) {
		ref = kms_managed_key(c, "aws/rds");
		if (!ref)
			return NULL;
	}
	const char *arn = kms_key_arn_of(c, ref);
	if (!arn) {
		c->err_code = NULL;
		aws_fail(c, 400, "KMSKeyNotAccessibleFault",
			 "The specified KMS key %s does not exist.", ref);
	}
	return arn;
}

/* group_exists: 1 when the named parameter / subnet group exists. */
static int group_exists(struct aws_call *c, const char *table_sql, const char *name)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, table_sql);
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

int rds_check_groups(struct aws_call *c, const char *pgroup, const char *sgroup)
{
	if (pgroup && strncmp(pgroup, "default.", 8) &&
	    !group_exists(c,
			  "SELECT 1 FROM rds_param_groups WHERE account = ?1 AND region = ?2 "
			  "AND name = lower(?3)",
			  pgroup))
		return aws_fail(c, 404, "DBParameterGroupNotFound",
				"DBParameterGroup not found: %s", pgroup);
	if (sgroup && strcmp(sgroup, "default") &&
	    !group_exists(c,
			  "SELECT 1 FROM rds_subnet_groups WHERE account = ?1 AND region = ?2 "
			  "AND name = lower(?3)",
			  sgroup))
		return aws_fail(c, 404, "DBSubnetGroupNotFoundFault",
				"DB subnet group '%s' does not exist.", sgroup);
	return 0;
}

int rds_inst_insert(struct aws_call *c, const struct rds_inst *r, const char *verifier,
		    int64_t *id_out)
{
	sqlite3_stmt *st = db_stmt(
	    c->fb->db,
	    "INSERT INTO rds_instances(account, region, ident, arn, resource_id, status, "
	    "engine_version, klass, master_user, db_name, address, port, storage, retention, "
	    "deletion_protection, encrypted, multi_az, kms_key_id, param_group, subnet_group, "
	    "attrs, "
	    "source, pw_verifier, created, secret_arn) VALUES(?1, ?2, ?3, ?4, ?5, 'creating', ?6, "
	    "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, "
	    "?24)");
	const char *t[] = {c->account,	      c->region, r->ident,	 r->arn,     r->resource_id,
			   r->engine_version, r->klass,	 r->master_user, r->db_name, r->address};
	for (int i = 0; i < 10; i++)
		if (t[i])
			sqlite3_bind_text(st, i + 1, t[i], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, r->port);
	sqlite3_bind_int(st, 12, r->storage);
	sqlite3_bind_int(st, 13, r->retention);
	sqlite3_bind_int(st, 14, r->deletion_protection);
	sqlite3_bind_int(st, 15, r->encrypted);
	sqlite3_bind_int(st, 16, r->multi_az);
	const char *t2[] = {r->kms_key_id, r->param_group, r->subnet_group,
			    r->attrs,	   r->source,	   verifier};
	for (int i = 0; i < 6; i++)
		if (t2[i])
			sqlite3_bind_text(st, 17 + i, t2[i], -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 23, (double)c->now_ms / 1000.0);
	if (r->secret_arn)
		sqlite3_bind_text(st, 24, r->secret_arn, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc == SQLITE_CONSTRAINT)
		return aws_fail(c, 400, "DBInstanceAlreadyExists", "DB instance already exists");
	if (rc != SQLITE_DONE)
		return rds_fail_db(c, rc);
	*id_out = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
	return 0;
}

int rds_inst_prepare(struct aws_call *c, struct rds_inst *r, struct jv *attrs)
{
	const char *ident = jv_get_str(c->in, "DBInstanceIdentifier");
	if (!rds_valid_ident(ident))
		return aws_fail(c, 400, "InvalidParameterValue",
				"The parameter DBInstanceIdentifier is not a valid identifier. "
				"Identifiers must begin with a letter; must contain only ASCII "
				"letters, digits, and hyphens; and must not end with a hyphen or "
				"contain two consecutive hyphens.");
	r->ident = rds_lower(c->a, ident);
	r->arn = arena_sprintf(c->a, "arn:aws:rds:%s:%s:db:%s", c->region, c->account, r->ident);
	char uuid[37];
	fmt_uuid4(uuid);
	char *rid = arena_sprintf(c->a, "db-%.26s", uuid);
	for (char *p = rid + 3; *p; p++)
		*p = *p == '-' ? 'X' : (char)toupper((unsigned char)*p);
	r->resource_id = rid;
	for (size_t i = 0; i < FB_ARRAY_LEN(recorded); i++) {
		struct jv *v = jv_get(c->in, recorded[i]);
		if (v)
			jv_set(c->a, attrs, out_name(recorded[i]), v);
	}
	if (jv_get(c->in, "EnableIAMDatabaseAuthentication"))
		jv_set(c->a, attrs, "IAMDatabaseAuthenticationEnabled",
		       jv_get(c->in, "EnableIAMDatabaseAuthentication"));
	if (jv_get(c->in, "EnablePerformanceInsights"))
		jv_set(c->a, attrs, "PerformanceInsightsEnabled",
		       jv_get(c->in, "EnablePerformanceInsights"));
	if (!jv_get(attrs, "AvailabilityZone"))
		jv_set_str(c->a, attrs, "AvailabilityZone", arena_sprintf(c->a, "%sa", c->region));
	if (!jv_get(attrs, "PreferredBackupWindow"))
		jv_set_str(c->a, attrs, "PreferredBackupWindow", "03:00-03:30");
	if (!jv_get(attrs, "PreferredMaintenanceWindow"))
		jv_set_str(c->a, attrs, "PreferredMaintenanceWindow", "sun:05:00-sun:05:30");
	r->port = (int)jv_get_int(c->in, "Port", 5432);
	if (r->port < 1150 || r->port > 65535)
		return aws_fail(c, 400, "InvalidParameterValue",
				"Invalid port %d: the port must be from 1150 to 65535.", r->port);
	r->klass = jv_get_str(c->in, "DBInstanceClass");
	r->multi_az = jv_get_bool(c->in, "MultiAZ", 0);
	if (r->multi_az && jv_get(c->in, "AvailabilityZone"))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Requesting a specific availability zone is not valid for Multi-AZ "
				"instances.");
	if (r->multi_az)
		jv_set_str(c->a, attrs, "SecondaryAvailabilityZone",
			   arena_sprintf(c->a, "%sb", c->region));
	r->deletion_protection = jv_get_bool(c->in, "DeletionProtection", 0);
	r->param_group = rds_lower(c->a, jv_get_str(c->in, "DBParameterGroupName")
					     ? jv_get_str(c->in, "DBParameterGroupName")
					     : "default.postgres15");
	r->subnet_group = jv_get_str(c->in, "DBSubnetGroupName");
	if (r->subnet_group)
		r->subnet_group = rds_lower(c->a, r->subnet_group);
	if (rds_check_groups(c, r->param_group, r->subnet_group) < 0)
		return -1;
	/* the group's settings from the first start on */
	jv_set_str(c->a, attrs, "ConfExtra", rds_param_conf(c, r->param_group));
	return 0;
}

int rds_inst_alloc_addr(struct aws_call *c, struct rds_inst *r)
{
	char addr[16];
	if (addr_alloc(c->fb->db,
		       arena_sprintf(c->a, "rds:%s:%s:%s", c->account, c->region, r->ident),
		       addr) < 0)
		return aws_fail(c, 500, "InternalFailure", "No loopback address left.");
	r->address = arena_strdup(c->a, addr);
	return 0;
}

int rds_op_create_db_instance(struct aws_call *c)
{
	struct rds_inst r = {0};
	struct jv *attrs = jv_object(c->a);
	if (!pg_installed())
		return aws_fail(c, 500, "InternalFailure",
				"PostgreSQL 15 is not installed (apt-get install postgresql-15).");
	if (rds_check_engine(c, jv_get_str(c->in, "Engine"), jv_get_str(c->in, "EngineVersion")) <
		0 ||
	    rds_inst_prepare(c, &r, attrs) < 0)
		return -1;
	r.engine_version = jv_get_str(c->in, "EngineVersion");
	if (!r.engine_version || !strcmp(r.engine_version, "15"))
		r.engine_version = RDS_PG_DEFAULT_VERSION;
	r.master_user = jv_get_str(c->in, "MasterUsername");
	if (!r.master_user || !*r.master_user)
		return aws_fail(c, 400, "InvalidParameterValue",
				"The parameter MasterUsername must be provided and must not be "
				"blank.");
	if (check_name(c, "MasterUsername", r.master_user) < 0)
		return -1;
	if (!strcmp(r.master_user, PG_ADMIN_USER))
		return aws_fail(c, 400, "InvalidParameterValue",
				"MasterUsername %s cannot be used as it is a reserved word used by "
				"the engine",
				r.master_user);
	const char *pw = jv_get_str(c->in, "MasterUserPassword");
	const char *secret_kms = NULL;
	char gen[RDS_SECRET_PW_LEN + 1];
	if (jv_get_bool(c->in, "ManageMasterUserPassword", 0)) {
		if (pw)
			return aws_fail(c, 400, "InvalidParameterCombination",
					"You can't specify MasterUserPassword when "
					"ManageMasterUserPassword is turned on.");
		if (!(secret_kms =
			  rds_secret_kms(c, jv_get_str(c->in, "MasterUserSecretKmsKeyId"))))
			return -1;
		rds_secret_password(gen); /* known only to the secret and the server */
		pw = gen;
		jv_set_str(c->a, attrs, "MasterUserSecretKmsKeyId", secret_kms);
	} else if (jv_get_str(c->in, "MasterUserSecretKmsKeyId")) {
		return aws_fail(c, 400, "InvalidParameterCombination",
				"MasterUserSecretKmsKeyId requires ManageMasterUserPassword.");
	}
	if (rds_check_password(c, pw) < 0)
		return -1;
	r.db_name = jv_get_str(c->in, "DBName");
	if (r.db_name && check_name(c, "DBName", r.db_name) < 0)
		return -1;
	r.storage = (int)jv_get_int(c->in, "AllocatedStorage", 20);
	if (r.storage < 20 || r.storage > 65536)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Invalid storage size for engine name postgres and storage type "
				"gp2: %d",
				r.storage);
	r.retention = (int)jv_get_int(c->in, "BackupRetentionPeriod", 1);
	if (r.retention < 0 || r.retention > 35)
		return aws_fail(c, 400, "InvalidParameterValue",
				"Invalid backup retention period: %d (0 to 35 days).", r.retention);
	r.encrypted = jv_get_bool(c->in, "StorageEncrypted", 0);
	if (r.encrypted && !(r.kms_key_id = rds_kms_key(c, jv_get_str(c->in, "KmsKeyId"))))
		return -1;
	char verifier[200];
	if (pg_scram_verifier(pw, verifier, sizeof(verifier)) < 0)
		return aws_fail(c, 500, "InternalFailure", "no randomness");
	r.attrs = rds_json_text(c->a, attrs);
	struct rds_inst dup;
	if (rds_inst_by_ident(c->fb->db, c->a, c->account, c->region, r.ident, &dup) == 0)
		return aws_fail(c, 400, "DBInstanceAlreadyExists", "DB instance already exists");
	/* the secret first (its own transaction); it goes again if the
	 * instance cannot be recorded */
	if (secret_kms &&
	    rds_secret_create(c, r.arn, r.master_user, pw, secret_kms, &r.secret_arn) < 0)
		return -1;
	OPENSSL_cleanse(gen, sizeof(gen));
	int64_t id = 0;
	if (rds_tx_begin(c) < 0)
		goto undo;
	if (rds_inst_alloc_addr(c, &r) < 0 || rds_inst_insert(c, &r, verifier, &id) < 0 ||
	    rds_tags_put(c, r.arn, jv_get(c->in, "Tags")) < 0 || rds_tx_end(c, 0) < 0) {
		rds_tx_end(c, -1);
		goto undo;
	}
	rds_event(c->fb, c->account, c->region, "db-instance", r.ident, "creation",
		  "DB instance creation requested");
	rds_rt_provision(c->fb, id);
	struct rds_inst row;
	if (rds_inst_load(c->fb->db, c->a, id, &row) < 0)
		return rds_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &row));
	return 0;
undo:
	if (r.secret_arn) {
		const char *code = c->err_code, *msg = c->err_msg;
		rds_secret_delete(c, r.secret_arn);
		c->err_code = code;
		c->err_msg = msg;
	}
	return -1;
}

/* filter_match: 1 when r passes every DescribeDBInstances filter. */
static int filter_match(const struct jv *filters, const struct rds_inst *r)
{
	for (size_t i = 0; i < jv_len(filters); i++) {
		const char *name = jv_get_str(jv_at(filters, i), "Name");
		struct jv *vals = jv_get(jv_at(filters, i), "Values");
		const char *have[2] = {NULL, NULL};
		if (!name)
			continue;
		if (!strcmp(name, "db-instance-id")) {
			have[0] = r->ident;
			have[1] = r->arn;
		} else if (!strcmp(name, "engine")) {
			have[0] = "postgres";
		} else if (!strcmp(name, "dbi-resource-id")) {
			have[0] = r->resource_id;
		} else if (!strcmp(name, "db-cluster-id")) {
			have[0] = "";
		} else {
			continue;
		}
		int any = 0;
		for (size_t k = 0; k < jv_len(vals) && !any; k++) {
			struct jv *v = jv_at(vals, k);
			for (int h = 0; h < 2 && !any; h++)
				any = have[h] && v->type == JV_STRING &&
				      !strcasecmp(have[h], v->u.s.p);
		}
		if (!any)
			return 0;
	}
	return 1;
}

int rds_op_describe_db_instances(struct aws_call *c)
{
	const char *ident = jv_get_str(c->in, "DBInstanceIdentifier");
	struct jv *list = jv_array(c->a);
	if (ident) {
		struct rds_inst r;
		if (rds_inst_find(c, ident, &r) < 0)
			return -1;
		jv_push(c->a, list, rds_inst_out(c, &r));
		jv_set(c->a, aws_out(c), "DBInstances", list);
		return 0;
	}
	int64_t max = jv_get_int(c->in, "MaxRecords", 100);
	if (max < 20 || max > 100)
		return aws_fail(c, 400, "InvalidParameterValue",
				"Invalid value %lld for MaxRecords. Must be between 20 and 100",
				(long long)max);
	const char *marker = jv_get_str(c->in, "Marker");
	size_t off = marker ? (size_t)strtoull(marker, NULL, 10) : 0;
	struct rds_inst *v;
	size_t n = rds_inst_list(c->fb->db, c->a, c->account, c->region, &v), seen = 0;
	struct jv *filters = jv_get(c->in, "Filters");
	for (size_t i = 0; i < n; i++) {
		if (!filter_match(filters, &v[i]))
			continue;
		if (seen++ < off)
			continue;
		if (jv_len(list) == (size_t)max) {
			jv_set_str(c->a, aws_out(c), "Marker",
				   arena_sprintf(c->a, "%zu", off + (size_t)max));
			break;
		}
		jv_push(c->a, list, rds_inst_out(c, &v[i]));
	}
	jv_set(c->a, aws_out(c), "DBInstances", list);
	return 0;
}

int rds_op_delete_db_instance(struct aws_call *c)
{
	struct rds_inst r;
	if (rds_inst_find(c, jv_get_str(c->in, "DBInstanceIdentifier"), &r) < 0)
		return -1;
	if (r.deletion_protection)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Cannot delete protected DB Instance, please disable deletion "
				"protection and try again.");
	if (!strcmp(r.status, "deleting"))
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Instance %s is already being deleted.", r.ident);
	int skip = jv_get_bool(c->in, "SkipFinalSnapshot", 0);
	const char *final = jv_get_str(c->in, "FinalDBSnapshotIdentifier");
	if (r.replica_of && final)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"FinalDBSnapshotIdentifier can not be specified when deleting a "
				"replica instance");
	if (r.replica_of)
		skip = 1; /* a replica's data is its source's */
	if (!skip && !final)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is "
				"specified.");
	if (skip && final)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Cannot specify both SkipFinalSnapshot and "
				"FinalDBSnapshotIdentifier.");
	int64_t snap = 0;
	if (rds_tx_begin(c) < 0)
		return -1;
	if (final && (!r.provisioned ? aws_fail(c, 400, "InvalidDBInstanceState",
						"Instance %s has no data to snapshot yet.", r.ident)
				     : rds_snap_insert(c, &r, final, "manual", &snap)) < 0)
		return rds_tx_end(c, -1);
	rds_set_status(c->fb->db, r.id, "deleting");
	if (rds_tx_end(c, 0) < 0)
		return -1;
	rds_promote_replicas(c, &r);
	if (r.secret_arn)
		rds_secret_delete(c, r.secret_arn); /* AWS deletes the managed secret too */
	r.status = "deleting";
	rds_event(c->fb, c->account, c->region, "db-instance", r.ident, "deletion",
		  "DB instance deletion requested");
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &r));
	rds_rt_delete(c->fb, r.id, snap);
	return 0;
}

/* state_change: the common body of Reboot/Stop/Start: the instance must be
 * in `from`; it moves to `to` and fn starts the real work. */
static int state_change(struct aws_call *c, const char *from, const char *to,
			void (*fn)(struct fogbank *, int64_t), int want)
{
	struct rds_inst r;
	if (rds_inst_find(c, jv_get_str(c->in, "DBInstanceIdentifier"), &r) < 0)
		return -1;
	if (strcmp(r.status, from))
		return aws_fail(c, 400, "InvalidDBInstanceState", "Instance %s is not in %s state.",
				r.ident, from);
	rds_set_status(c->fb->db, r.id, to);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE rds_instances SET want_running = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r.id);
	sqlite3_bind_int(st, 2, want);
	db_step_done(st);
	r.status = to;
	fn(c->fb, r.id);
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &r));
	return 0;
}

int rds_op_reboot_db_instance(struct aws_call *c)
{
	struct rds_inst r;
	if (rds_inst_find(c, jv_get_str(c->in, "DBInstanceIdentifier"), &r) < 0)
		return -1;
	int failover = jv_get_bool(c->in, "ForceFailover", 0);
	if (failover && !r.multi_az)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Cannot force a failover on a DB instance that is not Multi-AZ.");
	if (failover && !strcmp(r.status, "available") && !rds_rt_can_failover(r.id))
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"The Multi-AZ standby of %s is not streaming yet; try again later.",
				r.ident);
	/* a reboot applies pending modifications and static parameters */
	rds_apply_pending(c, r.id);
	return state_change(c, "available", "rebooting", failover ? rds_rt_failover : rds_rt_reboot,
			    1);
}

/* check_replication: AWS stops neither a read replica nor a source of
 * read replicas. */
static int check_replication(struct aws_call *c)
{
	struct rds_inst r;
	if (rds_inst_find(c, jv_get_str(c->in, "DBInstanceIdentifier"), &r) < 0)
		return -1;
	if (r.replica_of)
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Cannot stop or start a Read Replica instance.");
	if (jv_len(rds_replicas_of(c->fb->db, c->a, &r)))
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Cannot stop or start a DB instance that has read replicas.");
	return 0;
}

int rds_op_stop_db_instance(struct aws_call *c)
{
	if (check_replication(c) < 0)
		return -1;
	return state_change(c, "available", "stopping", rds_rt_stop, 0);
}

int rds_op_start_db_instance(struct aws_call *c)
{
	if (check_replication(c) < 0)
		return -1;
	return state_change(c, "stopped", "starting", rds_rt_start, 1);
}
