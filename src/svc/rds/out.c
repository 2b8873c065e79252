/* out.c - the DBInstance and DBSnapshot shapes as DescribeDBInstances and
 * friends return them: every field Terraform's aws_db_instance reads. */
#include "core/compat.h"
#include "aws/json.h"
#include "fb.h"
#include "svc/rds/internal.h"
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

/* copy_attr: copies member key of attrs into o when present. */
static void copy_attr(struct aws_call *c, struct jv *o, const struct jv *attrs, const char *key)
{
	struct jv *v = jv_get(attrs, key);
	if (v)
		jv_set(c->a, o, key, v);
}

/* attr_bool: a boolean attribute with a default. */
static void attr_bool(struct aws_call *c, struct jv *o, const struct jv *attrs, const char *key,
		      int def)
{
	jv_set_bool(c->a, o, key, jv_get_bool(attrs, key, def));
}

/* subnet_group_out: the DBSubnetGroup of name (stored, or AWS's "default"). */
static struct jv *subnet_group_out(struct aws_call *c, const char *name)
{
	struct jv *g = jv_object(c->a);
	jv_set_str(c->a, g, "DBSubnetGroupName", name ? name : "default");
	jv_set_str(c->a, g, "DBSubnetGroupDescription", "default");
	jv_set_str(c->a, g, "VpcId", "vpc-fogbank0");
	jv_set_str(c->a, g, "SubnetGroupStatus", "Complete");
	struct jv *subnets = jv_array(c->a);
	if (name) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "SELECT description, subnets FROM rds_subnet_groups WHERE "
				       "account = ?1 AND region = ?2 AND name = ?3");
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			jv_set_str(c->a, g, "DBSubnetGroupDescription", db_col_text(st, 0));
			const char *ids = db_col_text(st, 1);
			struct jv *list = ids ? json_parse(c->a, ids, strlen(ids), NULL) : NULL;
			for (size_t i = 0; list && i < jv_len(list); i++) {
				struct jv *s = jv_object(c->a);
				struct jv *az = jv_object(c->a);
				jv_set_str(c->a, s, "SubnetIdentifier", jv_at(list, i)->u.s.p);
				jv_set_str(c->a, az, "Name", i % 2 ? "us-east-1b" : "us-east-1a");
				jv_set(c->a, s, "SubnetAvailabilityZone", az);
				jv_set_str(c->a, s, "SubnetStatus", "Active");
				jv_push(c->a, subnets, s);
			}
		}
		sqlite3_reset(st);
	}
	jv_set(c->a, g, "Subnets", subnets);
	return g;
}

double rds_latest_restorable(struct fogbank *fb, int64_t id)
{
	char dir[4096], sub[4200];
	double best = 0;
	rds_inst_dir(fb->data_dir, id, dir, sizeof(dir));
	const char *subdirs[] = {"archive", "backups"};
	for (size_t k = 0; k < 2; k++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subdirs[k]);
		DIR *d = opendir(sub);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp"))
				continue;
			if (k == 1) { /* <start_ms>-<end_ms> */
				const char *dash = strchr(e->d_name, '-');
				double end = dash ? strtod(dash + 1, NULL) / 1000.0 : 0;
				best = end > best ? end : best;
				continue;
			}
			struct stat st;
			char f[4600];
			snprintf(f, sizeof(f), "%s/%s", sub, e->d_name);
			if (stat(f, &st) == 0) {
				double t = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
				best = t > best ? t : best;
			}
		}
		closedir(d);
	}
	return best;
}

struct jv *rds_inst_out(struct aws_call *c, const struct rds_inst *r)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a), *attrs = rds_json(a, r->attrs);
	jv_set_str(a, o, "DBInstanceIdentifier", r->ident);
	jv_set_str(a, o, "DBInstanceClass", r->klass);
	jv_set_str(a, o, "Engine", "postgres");
	jv_set_str(a, o, "DBInstanceStatus", r->status);
	jv_set_str(a, o, "MasterUsername", r->master_user);
	jv_set_str(a, o, "DBName", r->db_name);
	struct jv *ep = jv_object(a);
	jv_set_str(a, ep, "Address", r->address);
	jv_set_int(a, ep, "Port", r->port);
	jv_set_str(a, ep, "HostedZoneId", RDS_HOSTED_ZONE);
	jv_set(a, o, "Endpoint", ep);
	jv_set_int(a, o, "AllocatedStorage", r->storage);
	jv_set_double(a, o, "InstanceCreateTime", r->created);
	copy_attr(c, o, attrs, "PreferredBackupWindow");
	jv_set_int(a, o, "BackupRetentionPeriod", r->retention);
	jv_set(a, o, "DBSecurityGroups", jv_array(a));
	struct jv *sgs = jv_array(a), *ids = jv_get(attrs, "VpcSecurityGroupIds");
	for (size_t i = 0; i < jv_len(ids); i++) {
		struct jv *m = jv_object(a);
		jv_set(a, m, "VpcSecurityGroupId", jv_at(ids, i));
		jv_set_str(a, m, "Status", "active");
		jv_push(a, sgs, m);
	}
	jv_set(a, o, "VpcSecurityGroups", sgs);
	struct jv *pgs = jv_array(a), *pg = jv_object(a);
	jv_set_str(a, pg, "DBParameterGroupName", r->param_group);
	const char *apply = jv_get_str(attrs, "ParameterApplyStatus");
	jv_set_str(a, pg, "ParameterApplyStatus", apply ? apply : "in-sync");
	jv_push(a, pgs, pg);
	jv_set(a, o, "DBParameterGroups", pgs);
	copy_attr(c, o, attrs, "AvailabilityZone");
	jv_set(a, o, "DBSubnetGroup", subnet_group_out(c, r->subnet_group));
	copy_attr(c, o, attrs, "PreferredMaintenanceWindow");
	jv_set(a, o, "PendingModifiedValues", rds_json(a, r->pending));
	if (r->retention > 0) {
		double t = rds_latest_restorable(c->fb, r->id);
		if (t > 0)
			jv_set_double(a, o, "LatestRestorableTime", t);
	}
	jv_set_bool(a, o, "MultiAZ", r->multi_az);
	jv_set_str(a, o, "EngineVersion", r->engine_version);
	attr_bool(c, o, attrs, "AutoMinorVersionUpgrade", 1);
	if (r->replica_of)
		jv_set_str(a, o, "ReadReplicaSourceDBInstanceIdentifier", r->replica_of);
	jv_set(a, o, "ReadReplicaDBInstanceIdentifiers", rds_replicas_of(c->fb->db, a, r));
	if (r->replica_of && strcmp(r->status, "creating")) {
		const char *st = rds_rt_repl_state(r->id);
		struct jv *infos = jv_array(a), *info = jv_object(a);
		jv_set_str(a, info, "StatusType", "read replication");
		jv_set_bool(a, info, "Normal", !strcmp(st, "replicating"));
		jv_set_str(a, info, "Status", st);
		if (strcmp(st, "replicating"))
			jv_set_str(a, info, "Message",
				   "The replica is not streaming from its source.");
		jv_push(a, infos, info);
		jv_set(a, o, "StatusInfos", infos);
	}
	jv_set_str(a, o, "LicenseModel", "postgresql-license");
	copy_attr(c, o, attrs, "Iops");
	struct jv *og = jv_object(a), *ogs = jv_array(a);
	jv_set_str(a, og, "OptionGroupName", "default:postgres-15");
	jv_set_str(a, og, "Status", "in-sync");
	jv_push(a, ogs, og);
	jv_set(a, o, "OptionGroupMemberships", ogs);
	if (r->multi_az) {
		const char *az2 = jv_get_str(attrs, "SecondaryAvailabilityZone");
		jv_set_str(a, o, "SecondaryAvailabilityZone",
			   az2 ? az2 : arena_sprintf(a, "%sb", r->region));
	}
	attr_bool(c, o, attrs, "PubliclyAccessible", 0);
	const char *stype = jv_get_str(attrs, "StorageType");
	jv_set_str(a, o, "StorageType", stype ? stype : "gp2");
	jv_set_int(a, o, "DbInstancePort", 0);
	jv_set_bool(a, o, "StorageEncrypted", r->encrypted);
	if (r->encrypted)
		jv_set_str(a, o, "KmsKeyId", r->kms_key_id);
	jv_set_str(a, o, "DbiResourceId", r->resource_id);
	const char *ca = jv_get_str(attrs, "CACertificateIdentifier");
	jv_set_str(a, o, "CACertificateIdentifier", ca ? ca : RDS_CA_ID);
	jv_set(a, o, "DomainMemberships", jv_array(a));
	attr_bool(c, o, attrs, "CopyTagsToSnapshot", 0);
	jv_set_int(a, o, "MonitoringInterval", jv_get_int(attrs, "MonitoringInterval", 0));
	jv_set_str(a, o, "DBInstanceArn", r->arn);
	attr_bool(c, o, attrs, "IAMDatabaseAuthenticationEnabled", 0);
	attr_bool(c, o, attrs, "PerformanceInsightsEnabled", 0);
	copy_attr(c, o, attrs, "EnabledCloudwatchLogsExports");
	jv_set_bool(a, o, "DeletionProtection", r->deletion_protection);
	jv_set(a, o, "AssociatedRoles", jv_array(a));
	copy_attr(c, o, attrs, "MaxAllocatedStorage");
	jv_set(a, o, "TagList", rds_tags_of(c, r->arn));
	jv_set_bool(a, o, "CustomerOwnedIpEnabled", 0);
	jv_set_str(a, o, "BackupTarget", "region");
	jv_set_str(a, o, "NetworkType", "IPV4");
	copy_attr(c, o, attrs, "StorageThroughput");
	if (r->secret_arn) {
		struct jv *s = jv_object(a);
		jv_set_str(a, s, "SecretArn", r->secret_arn);
		jv_set_str(a, s, "SecretStatus", "active");
		const char *kms = jv_get_str(attrs, "MasterUserSecretKmsKeyId");
		if (kms)
			jv_set_str(a, s, "KmsKeyId", kms);
		jv_set(a, o, "MasterUserSecret", s);
	}
	return o;
}

struct jv *rds_snap_out(struct aws_call *c, const struct rds_snap *s)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a), *attrs = rds_json(a, s->attrs);
	jv_set_str(a, o, "DBSnapshotIdentifier", s->ident);
	jv_set_str(a, o, "DBInstanceIdentifier", s->instance_ident);
	if (strcmp(s->status, "creating"))
		jv_set_double(a, o, "SnapshotCreateTime", s->created);
	jv_set_str(a, o, "Engine", "postgres");
	jv_set_int(a, o, "AllocatedStorage", s->storage);
	jv_set_str(a, o, "Status", s->status);
	jv_set_int(a, o, "Port", s->port);
	copy_attr(c, o, attrs, "AvailabilityZone");
	jv_set_str(a, o, "VpcId", "vpc-fogbank0");
	jv_set_double(a, o, "InstanceCreateTime", s->instance_created);
	jv_set_str(a, o, "MasterUsername", s->master_user);
	jv_set_str(a, o, "EngineVersion", s->engine_version);
	jv_set_str(a, o, "LicenseModel", "postgresql-license");
	jv_set_str(a, o, "SnapshotType", s->snap_type);
	jv_set_str(a, o, "OptionGroupName", "default:postgres-15");
	jv_set_int(a, o, "PercentProgress", s->progress);
	if (s->source_snap)
		jv_set_str(a, o, "SourceDBSnapshotIdentifier", s->source_snap);
	const char *stype = jv_get_str(attrs, "StorageType");
	jv_set_str(a, o, "StorageType", stype ? stype : "gp2");
	jv_set_bool(a, o, "Encrypted", s->encrypted);
	if (s->encrypted)
		jv_set_str(a, o, "KmsKeyId", s->kms_key_id);
	jv_set_str(a, o, "DBSnapshotArn", s->arn);
	jv_set_bool(a, o, "IAMDatabaseAuthenticationEnabled", 0);
	copy_attr(c, o, attrs, "DbiResourceId");
	jv_set(a, o, "TagList", rds_tags_of(c, s->arn));
	jv_set_double(a, o, "OriginalSnapshotCreateTime", s->created);
	jv_set_double(a, o, "SnapshotDatabaseTime", s->created);
	jv_set_str(a, o, "SnapshotTarget", "region");
	return o;
}
