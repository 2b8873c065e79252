/* internal.h - what the files of src/svc/rds share: the instance and
 * snapshot rows, errors and transactions, the runtime (the supervised
 * PostgreSQL behind each instance) and events.
 *
 * Layout on disk, under <data_dir>/rds/:
 *   template/          an initdb'ed cluster (bootstrap superuser rdsadmin)
 *                      copied for every new instance, made once
 *   i<id>/pgdata       the instance's PGDATA (Multi-AZ: one of the two
 *   i<id>/pgdata-b       nodes, primary_node says which is the primary)
 *   i<id>/sock         the primary's unix socket (0700: the admin channel)
 *   i<id>/sock-standby the Multi-AZ standby's unix socket (no TCP at all)
 *   i<id>/archive      archived WAL (BackupRetentionPeriod > 0)
 *   i<id>/backups      automated base backups, <start_ms>-<end_ms>/
 *   i<id>/tls          server.crt / server.key from the fogbank CA
 *   i<id>/postgresql.log  the server's captured log
 *   snap/s<id>/        a snapshot: a self-contained base backup, or for
 *                      an encrypted instance base.tar.enc, the backup as
 *                      a tar encrypted with the snapshot's data key */
#ifndef FB_SVC_RDS_INTERNAL_H
#define FB_SVC_RDS_INTERNAL_H
#include "core/compat.h"
#include "aws/call.h"
#include "svc/rds/rds.h"

#define RDS_PG_DEFAULT_VERSION "15.4"
#define RDS_HOSTED_ZONE "Z2R2ITUGPM61AM"
#define RDS_CA_ID "rds-ca-rsa2048-g1"
#define RDS_ARCHIVE_TIMEOUT_S 30

/* A row of rds_instances; strings live in the arena it was loaded into. */
struct rds_inst {
	int64_t id;
	const char *account, *region, *ident, *arn, *resource_id, *status;
	const char *engine_version, *klass, *master_user, *db_name, *address;
	const char *kms_key_id, *param_group, *subnet_group, *secret_arn;
	const char *attrs;	/* JSON object: fields only recorded and reported */
	const char *pending;	/* JSON object: PendingModifiedValues */
	const char *source;	/* provisioning source until provisioned (see runtime.c) */
	const char *replica_of; /* read replica: the source's identifier */
	int port, storage, retention, deletion_protection, encrypted, multi_az;
	int want_running; /* 1: should be running; 0: stopped by the user */
	int provisioned;  /* 1: pgdata exists and has been started once */
	int primary_node; /* Multi-AZ: 0 (pgdata) or 1 (pgdata-b) is the primary */
	double created;
};

/* A row of rds_snapshots. */
struct rds_snap {
	int64_t id;
	const char *account, *region, *ident, *arn, *status, *snap_type;
	const char *instance_ident, *engine_version, *master_user, *db_name, *kms_key_id;
	const char *source_snap, *attrs;
	int port, storage, progress, encrypted;
	double created, instance_created;
	int64_t instance_id; /* 0 when the instance is gone */
};

/* --- store.c --- */

/* rds_fail_db: InternalFailure for sqlite error rc. */
int rds_fail_db(struct aws_call *c, int rc);
/* rds_tx_begin / rds_tx_end: a handler's transaction; rds_tx_end commits
 * when ok is 0 (returning -1 if that fails) and rolls back otherwise. */
int rds_tx_begin(struct aws_call *c);
int rds_tx_end(struct aws_call *c, int ok);
/* rds_inst_find: the instance ident (case-insensitive, as AWS stores them
 * lower-case) of the call's account and region; 0, or -1 with
 * DBInstanceNotFound. */
int rds_inst_find(struct aws_call *c, const char *ident, struct rds_inst *r);
/* rds_inst_load: the instance with row id into r (strings in a); 0 or -1. */
int rds_inst_load(struct db *db, struct arena *a, int64_t id, struct rds_inst *r);
/* rds_inst_by_ident: the instance ident (lower-case) of account/region;
 * 0 or -1. */
int rds_inst_by_ident(struct db *db, struct arena *a, const char *account, const char *region,
		      const char *ident, struct rds_inst *r);
/* rds_replicas_of: the identifiers of src's read replicas (arena array). */
struct jv *rds_replicas_of(struct db *db, struct arena *a, const struct rds_inst *src);
/* rds_inst_list: every instance of account/region (NULL: all), ordered by
 * identifier; returns the count, *out an arena array. */
size_t rds_inst_list(struct db *db, struct arena *a, const char *account, const char *region,
		     struct rds_inst **out);
/* rds_set_status: sets an instance's status (autocommit). */
void rds_set_status(struct db *db, int64_t id, const char *status);
/* rds_snap_find: a snapshot by identifier or ARN in the call's account and
 * region; 0, or -1 with DBSnapshotNotFound. */
int rds_snap_find(struct aws_call *c, const char *ident, struct rds_snap *s);
/* rds_snap_load: snapshot row id into s; 0 or -1. */
int rds_snap_load(struct db *db, struct arena *a, int64_t id, struct rds_snap *s);
/* rds_attr: a string member of a JSON attrs object (arena), or NULL. */
struct jv *rds_json(struct arena *a, const char *text);
/* rds_json_text: v as compact JSON (arena). */
const char *rds_json_text(struct arena *a, const struct jv *v);
/* rds_inst_dir / rds_snap_dir: the directory of instance / snapshot id. */
void rds_inst_dir(const char *data_dir, int64_t id, char *out, size_t cap);
void rds_snap_dir(const char *data_dir, int64_t id, char *out, size_t cap);
/* rds_valid_ident: AWS's identifier rule (1-63 letters, digits, hyphens;
 * a letter first; no trailing or double hyphen). */
int rds_valid_ident(const char *s);
/* rds_lower: s lower-cased (arena). */
char *rds_lower(struct arena *a, const char *s);

/* --- instances.c (shared with the restores) --- */

/* rds_check_password: MasterUserPassword rules; InvalidParameterValue. */
int rds_check_password(struct aws_call *c, const char *pw);
/* rds_check_engine: engine postgres and a 15.x version (either may be
 * NULL); AWS's errors otherwise. */
int rds_check_engine(struct aws_call *c, const char *engine, const char *version);
/* rds_kms_key: the key ARN for StorageEncrypted (ref, else the aws/rds
 * managed key); NULL with KMSKeyNotAccessibleFault. */
const char *rds_kms_key(struct aws_call *c, const char *ref);
/* rds_check_groups: the parameter and subnet groups (either NULL) exist. */
int rds_check_groups(struct aws_call *c, const char *pgroup, const char *sgroup);
/* rds_inst_prepare: fills r's identity (ident, arn, resource id), port,
 * class, groups and the recorded attrs from the call's input. */
int rds_inst_prepare(struct aws_call *c, struct rds_inst *r, struct jv *attrs);
/* rds_inst_alloc_addr: r's loopback address (inside the transaction). */
int rds_inst_alloc_addr(struct aws_call *c, struct rds_inst *r);
/* rds_inst_insert: the new row (status creating); *id_out its id. */
int rds_inst_insert(struct aws_call *c, const struct rds_inst *r, const char *verifier,
		    int64_t *id_out);

/* --- modify.c --- */

/* rds_apply_pending: moves PendingModifiedValues into the instance (a
 * reboot or ApplyImmediately) and marks parameters in-sync. */
void rds_apply_pending(struct aws_call *c, int64_t id);

/* --- snapshots.c --- */

/* rds_snap_insert: a new snapshot row of r (status creating). */
int rds_snap_insert(struct aws_call *c, const struct rds_inst *r, const char *snap_ident,
		    const char *type, int64_t *id_out);

/* --- params.c --- */

/* rds_param_conf: the postgresql.conf lines of parameter group name
 * (arena; "" for the defaults). */
const char *rds_param_conf(struct aws_call *c, const char *name);

/* --- out.c --- */

/* rds_inst_out: the DBInstance shape of r (with its tags). */
struct jv *rds_inst_out(struct aws_call *c, const struct rds_inst *r);
/* rds_snap_out: the DBSnapshot shape of s. */
struct jv *rds_snap_out(struct aws_call *c, const struct rds_snap *s);
/* rds_latest_restorable: the newest moment an instance can be restored
 * to (epoch seconds): the newest archived WAL segment, else the newest
 * base backup; 0 when none. */
double rds_latest_restorable(struct fogbank *fb, int64_t id);

/* --- secret.c: ManageMasterUserPassword --- */

#define RDS_SECRET_PW_LEN 28
/* rds_secret_password: a new random master password. */
void rds_secret_password(char out[RDS_SECRET_PW_LEN + 1]);
/* rds_secret_kms: the key ARN for the secret (ref, else the
 * aws/secretsmanager managed key); NULL with KMSKeyNotAccessibleFault. */
const char *rds_secret_kms(struct aws_call *c, const char *ref);
/* rds_secret_create: the rds!db-<uuid> secret of instance inst_arn with
 * {"username","password"} under kms_arn; *arn_out its ARN (arena). Runs
 * its own transaction: call it outside one. 0, or -1 with an RDS error. */
int rds_secret_create(struct aws_call *c, const char *inst_arn, const char *user, const char *pw,
		      const char *kms_arn, const char **arn_out);
/* rds_secret_put: a new current value (a rotated password). 0 or -1. */
int rds_secret_put(struct aws_call *c, const char *secret_arn, const char *user, const char *pw);
/* rds_secret_delete: deletes the secret at once (no recovery window);
 * one already gone is fine. Outside a transaction. */
void rds_secret_delete(struct aws_call *c, const char *secret_arn);

/* --- tags.c --- */

/* rds_tags_put: upserts a TagList on arn (no transaction of its own). */
int rds_tags_put(struct aws_call *c, const char *arn, const struct jv *tags);
/* rds_tags_of: arn's tags as a TagList array. */
struct jv *rds_tags_of(struct aws_call *c, const char *arn);
/* rds_tags_drop: deletes arn's tags. */
void rds_tags_drop(struct db *db, const char *arn);

/* --- events.c --- */

/* rds_event: records an event (DescribeEvents) for a source
 * ("db-instance", "db-snapshot", "db-parameter-group"), and logs it. */
void rds_event(struct fogbank *fb, const char *account, const char *region, const char *type,
	       const char *source_id, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* --- runtime.c: the supervised PostgreSQL of each instance --- */

/* rds_rt_provision: creates the instance's cluster (from the template, a
 * snapshot or a point in time, per its source column) and starts it;
 * status goes creating -> (backing-up ->) available as it gets there. */
void rds_rt_provision(struct fogbank *fb, int64_t id);
/* rds_rt_start: starts an existing cluster (StartDBInstance, restarts). */
void rds_rt_start(struct fogbank *fb, int64_t id);
/* rds_rt_stop: fast shutdown; status stopping -> stopped. */
void rds_rt_stop(struct fogbank *fb, int64_t id);
/* rds_rt_reboot: a real restart; status rebooting -> available. */
void rds_rt_reboot(struct fogbank *fb, int64_t id);
/* rds_rt_delete: stops the server, takes the final snapshot snap_id when
 * not 0, removes the files, then the row. */
void rds_rt_delete(struct fogbank *fb, int64_t id, int64_t final_snap_id);
/* rds_rt_apply: applies what is pending on a running instance (password
 * verifier, configuration reload). */
void rds_rt_apply(struct fogbank *fb, int64_t id);
/* rds_rt_snapshot: takes snapshot snap_id of instance id (a base backup
 * of the running server, or a copy of a stopped one's files). -1 when the
 * instance is busy (starting, another backup) and nothing was started. */
int rds_rt_snapshot(struct fogbank *fb, int64_t id, int64_t snap_id);
/* rds_rt_copy_snapshot: copies the files of snapshot from_id to to_id. */
void rds_rt_copy_snapshot(struct fogbank *fb, int64_t from_id, int64_t to_id);
/* rds_rt_remove_snapshot: deletes a snapshot's files, then its row. */
void rds_rt_remove_snapshot(struct fogbank *fb, int64_t snap_id);
/* rds_rt_running: 1 when instance id's server is up and probed. */
int rds_rt_running(int64_t id);

/* --- replica.c --- */

/* rds_rt_promote: makes read replica id (already detached in its row) a
 * primary: pg_promote(), then a restart; backing-up -> available. */
void rds_rt_promote(struct fogbank *fb, int64_t id);
/* rds_rt_repl_state: a replica's read replication status for StatusInfos
 * ("replicating", or "error" when it is not streaming). */
const char *rds_rt_repl_state(int64_t id);
/* rds_promote_replicas: src is being deleted: each of its read replicas
 * is promoted to a standalone instance, as AWS does. */
void rds_promote_replicas(struct aws_call *c, const struct rds_inst *src);

/* --- multiaz.c --- */

/* rds_rt_can_failover: 1 when instance id's standby streams from its
 * running primary. */
int rds_rt_can_failover(int64_t id);
/* rds_rt_failover: reboot --force-failover: the standby becomes the
 * primary on the same endpoint; events "Multi-AZ instance failover
 * started" / "... completed". */
void rds_rt_failover(struct fogbank *fb, int64_t id);
/* rds_rt_multi_az: ModifyDBInstance MultiAZ applied now: on builds and
 * starts the standby (status modifying until it is in sync); off stops it
 * and removes its files. */
void rds_rt_multi_az(struct fogbank *fb, int64_t id, int on);
#endif
