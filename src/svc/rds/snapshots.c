/* snapshots.c - CreateDBSnapshot (a base backup of the running server:
 * consistent, online, its PercentProgress read from pg_basebackup), and
 * DescribeDBSnapshots, CopyDBSnapshot, DeleteDBSnapshot,
 * RestoreDBInstanceFromDBSnapshot (a new instance started from a copy of
 * the snapshot's files: exactly the snapshot's data). */
#include "core/compat.h"
#include "aws/gen/rds_ops.h"
#include "fb.h"
#include "supervise/postgres.h"
#include "svc/rds/internal.h"
#include "svc/rds/snapcrypt.h"
#include <stdlib.h>

int rds_snap_insert(struct aws_call *c, const struct rds_inst *r, const char *snap_ident,
		    const char *type, int64_t *id_out)
{
	if (!rds_valid_ident(snap_ident))
		return aws_fail(c, 400, "InvalidParameterValue",
				"The parameter DBSnapshotIdentifier is not a valid identifier.");
	const char *ident = rds_lower(c->a, snap_ident);
	struct jv *attrs = jv_object(c->a), *ia = rds_json(c->a, r->attrs);
	jv_set_str(c->a, attrs, "DbiResourceId", r->resource_id);
	if (jv_get(ia, "AvailabilityZone"))
		jv_set(c->a, attrs, "AvailabilityZone", jv_get(ia, "AvailabilityZone"));
	if (jv_get(ia, "StorageType"))
		jv_set(c->a, attrs, "StorageType", jv_get(ia, "StorageType"));
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, "INSERT INTO rds_snapshots(account, region, ident, arn, status, snap_type, "
		       "instance_id, instance_ident, engine_version, master_user, db_name, port, "
		       "storage, encrypted, kms_key_id, attrs, created, instance_created) "
		       "VALUES(?1, ?2, ?3, ?4, 'creating', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
		       "?14, ?15, ?16, ?17)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ident, -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 4,
	    arena_sprintf(c->a, "arn:aws:rds:%s:%s:snapshot:%s", c->region, c->account, ident), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 5, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->id);
	sqlite3_bind_text(st, 7, r->ident, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->engine_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->master_user, -1, SQLITE_STATIC);
	if (r->db_name)
		sqlite3_bind_text(st, 10, r->db_name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, r->port);
	sqlite3_bind_int(st, 12, r->storage);
	sqlite3_bind_int(st, 13, r->encrypted);
	if (r->kms_key_id)
		sqlite3_bind_text(st, 14, r->kms_key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, rds_json_text(c->a, attrs), -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 16, (double)c->now_ms / 1000.0);
	sqlite3_bind_double(st, 17, r->created);
	int rc = db_step_done(st);
	if (rc == SQLITE_CONSTRAINT)
		return aws_fail(c, 400, "DBSnapshotAlreadyExists",
				"Cannot create the snapshot because a snapshot with the identifier "
				"%s already exists.",
				ident);
	if (rc != SQLITE_DONE)
		return rds_fail_db(c, rc);
	*id_out = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
	return 0;
}

/* out_snap: sets DBSnapshot to snapshot id's current row. */
static int out_snap(struct aws_call *c, int64_t id)
{
	struct rds_snap s;
	if (rds_snap_load(c->fb->db, c->a, id, &s) < 0)
		return rds_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "DBSnapshot", rds_snap_out(c, &s));
	return 0;
}

int rds_op_create_db_snapshot(struct aws_call *c)
{
	struct rds_inst r;
	if (rds_inst_find(c, jv_get_str(c->in, "DBInstanceIdentifier"), &r) < 0)
		return -1;
	if (strcmp(r.status, "available") && strcmp(r.status, "stopped"))
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Cannot create a snapshot because the database instance %s is not "
				"currently in the available state.",
				r.ident);
	int64_t id = 0;
	if (rds_tx_begin(c) < 0)
		return -1;
	if (rds_snap_insert(c, &r, jv_get_str(c->in, "DBSnapshotIdentifier"), "manual", &id) < 0)
		return rds_tx_end(c, -1);
	char *arn = arena_sprintf(c->a, "arn:aws:rds:%s:%s:snapshot:%s", c->region, c->account,
				  rds_lower(c->a, jv_get_str(c->in, "DBSnapshotIdentifier")));
	struct jv *tags = jv_get(c->in, "Tags");
	if (!tags && jv_get_bool(rds_json(c->a, r.attrs), "CopyTagsToSnapshot", 0))
		tags = rds_tags_of(c, r.arn);
	if (rds_tags_put(c, arn, tags) < 0 || rds_tx_end(c, 0) < 0)
		return rds_tx_end(c, -1);
	if (rds_rt_snapshot(c->fb, r.id, id) < 0) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM rds_snapshots WHERE id = ?1");
		sqlite3_bind_int64(st, 1, id);
		db_step_done(st);
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Instance %s is busy (another backup is running).", r.ident);
	}
	if (!strcmp(r.status, "available"))
		rds_set_status(c->fb->db, r.id, "backing-up");
	rds_event(c->fb, c->account, c->region, "db-snapshot",
		  jv_get_str(c->in, "DBSnapshotIdentifier"), "creation",
		  "Creating manual snapshot");
	return out_snap(c, id);
}

int rds_op_describe_db_snapshots(struct aws_call *c)
{
	const char *sid = jv_get_str(c->in, "DBSnapshotIdentifier");
	const char *iid = jv_get_str(c->in, "DBInstanceIdentifier");
	const char *type = jv_get_str(c->in, "SnapshotType");
	struct jv *list = jv_array(c->a);
	if (sid) {
		struct rds_snap s;
		if (rds_snap_find(c, sid, &s) < 0)
			return -1;
		jv_push(c->a, list, rds_snap_out(c, &s));
		jv_set(c->a, aws_out(c), "DBSnapshots", list);
		return 0;
	}
	int64_t max = jv_get_int(c->in, "MaxRecords", 100);
	const char *marker = jv_get_str(c->in, "Marker");
	int64_t off = marker ? atoll(marker) : 0;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT id FROM rds_snapshots WHERE account = ?1 AND region = ?2 "
			       "AND (?3 IS NULL OR instance_ident = lower(?3)) AND (?4 IS NULL "
			       "OR snap_type = ?4) ORDER BY created, id LIMIT ?5 OFFSET ?6");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	if (iid)
		sqlite3_bind_text(st, 3, iid, -1, SQLITE_STATIC);
	if (type)
		sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, max + 1);
	sqlite3_bind_int64(st, 6, off);
	int64_t ids[101];
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < (int)FB_ARRAY_LEN(ids))
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (int i = 0; i < n; i++) {
		if (i == max) {
			jv_set_str(c->a, aws_out(c), "Marker",
				   arena_sprintf(c->a, "%lld", (long long)(off + max)));
			break;
		}
		struct rds_snap s;
		if (rds_snap_load(c->fb->db, c->a, ids[i], &s) == 0)
			jv_push(c->a, list, rds_snap_out(c, &s));
	}
	jv_set(c->a, aws_out(c), "DBSnapshots", list);
	return 0;
}

int rds_op_delete_db_snapshot(struct aws_call *c)
{
	struct rds_snap s;
	if (rds_snap_find(c, jv_get_str(c->in, "DBSnapshotIdentifier"), &s) < 0)
		return -1;
	if (!strcmp(s.status, "creating") || !strcmp(s.status, "deleted"))
		return aws_fail(c, 400, "InvalidDBSnapshotState",
				"Cannot delete the snapshot because it is not in the available "
				"state.");
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE rds_snapshots SET status = 'deleted' WHERE "
					      "id = ?1");
	sqlite3_bind_int64(st, 1, s.id);
	db_step_done(st);
	s.status = "deleted";
	jv_set(c->a, aws_out(c), "DBSnapshot", rds_snap_out(c, &s));
	rds_rt_remove_snapshot(c->fb, s.id);
	return 0;
}

int rds_op_copy_db_snapshot(struct aws_call *c)
{
	struct rds_snap s;
	if (rds_snap_find(c, jv_get_str(c->in, "SourceDBSnapshotIdentifier"), &s) < 0)
		return -1;
	if (strcmp(s.status, "available"))
		return aws_fail(c, 400, "InvalidDBSnapshotState",
				"Snapshot %s is not in the available state.", s.ident);
	struct rds_inst r = {
	    .id = 0,
	    .ident = s.instance_ident,
	    .engine_version = s.engine_version,
	    .master_user = s.master_user,
	    .db_name = s.db_name,
	    .port = s.port,
	    .storage = s.storage,
	    .encrypted = s.encrypted,
	    .kms_key_id = s.kms_key_id,
	    .created = s.instance_created,
	    .resource_id = jv_get_str(rds_json(c->a, s.attrs), "DbiResourceId"),
	    .attrs = s.attrs,
	};
	if (jv_get_str(c->in, "KmsKeyId")) {
		if (!(r.kms_key_id = rds_kms_key(c, jv_get_str(c->in, "KmsKeyId"))))
			return -1;
		r.encrypted = 1;
	}
	int64_t id = 0;
	if (rds_tx_begin(c) < 0)
		return -1;
	if (rds_snap_insert(c, &r, jv_get_str(c->in, "TargetDBSnapshotIdentifier"), "manual", &id) <
	    0)
		return rds_tx_end(c, -1);
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE rds_snapshots SET source_snap = ?2, "
					      "instance_id = ?3 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, s.arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, s.instance_id);
	db_step_done(st);
	if (sc_copy_key(c, &s, id, r.kms_key_id) < 0)
		return rds_tx_end(c, -1);
	struct jv *tags = jv_get(c->in, "Tags");
	if (!tags && jv_get_bool(c->in, "CopyTags", 0))
		tags = rds_tags_of(c, s.arn);
	const char *arn =
	    arena_sprintf(c->a, "arn:aws:rds:%s:%s:snapshot:%s", c->region, c->account,
			  rds_lower(c->a, jv_get_str(c->in, "TargetDBSnapshotIdentifier")));
	if (rds_tags_put(c, arn, tags) < 0 || rds_tx_end(c, 0) < 0)
		return rds_tx_end(c, -1);
	rds_rt_copy_snapshot(c->fb, s.id, id);
	return out_snap(c, id);
}

int rds_op_restore_db_instance_from_db_snapshot(struct aws_call *c)
{
	struct rds_snap s;
	if (rds_snap_find(c, jv_get_str(c->in, "DBSnapshotIdentifier"), &s) < 0)
		return -1;
	if (strcmp(s.status, "available"))
		return aws_fail(c, 400, "InvalidDBSnapshotState",
				"Snapshot %s is not in the available state.", s.ident);
	if (rds_check_engine(c, jv_get_str(c->in, "Engine"), NULL) < 0)
		return -1;
	struct rds_inst r = {0};
	struct jv *attrs = jv_object(c->a);
	if (rds_inst_prepare(c, &r, attrs) < 0)
		return -1;
	/* the snapshot's data carries the master user, its password and the
	 * database; settings not given come from the snapshot */
	r.engine_version = s.engine_version;
	r.master_user = s.master_user;
	r.db_name = s.db_name;
	r.storage = (int)jv_get_int(c->in, "AllocatedStorage", s.storage);
	if (!jv_get(c->in, "Port"))
		r.port = s.port;
	if (!r.klass)
		r.klass = "db.t3.micro";
	r.retention = (int)jv_get_int(c->in, "BackupRetentionPeriod", 1);
	r.encrypted = s.encrypted;
	r.kms_key_id = s.kms_key_id;
	r.source = arena_sprintf(c->a, "snapshot:%lld", (long long)s.id);
	r.attrs = rds_json_text(c->a, attrs);
	int64_t id = 0;
	if (rds_tx_begin(c) < 0)
		return -1;
	if (rds_inst_alloc_addr(c, &r) < 0 || rds_inst_insert(c, &r, NULL, &id) < 0 ||
	    rds_tags_put(c, r.arn, jv_get(c->in, "Tags")) < 0 || rds_tx_end(c, 0) < 0)
		return rds_tx_end(c, -1);
	rds_event(c->fb, c->account, c->region, "db-instance", r.ident, "creation",
		  "Restoring DB instance from snapshot %s", s.ident);
	rds_rt_provision(c->fb, id);
	struct rds_inst row;
	if (rds_inst_load(c->fb->db, c->a, id, &row) < 0)
		return rds_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &row));
	return 0;
}
