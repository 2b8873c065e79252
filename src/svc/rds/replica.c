/* replica.c - read replicas. CreateDBInstanceReadReplica copies the source
 * with pg_basebackup over its admin socket and starts the copy, on its own
 * loopback address, as a hot standby streaming from the source over that
 * same socket (no password involved; the source's WAL archive is the
 * fallback when the replica falls behind). Writes fail with PostgreSQL's
 * own "cannot execute ... in a read-only transaction". PromoteReadReplica
 * runs pg_promote() and restarts the server as a primary (a reboot, as on
 * AWS). Deleting a source promotes each of its replicas, as AWS does. The
 * replication state comes from the replica's own log. */
#include "core/compat.h"
#include "aws/gen/rds_ops.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "supervise/pg_wire.h"
#include "supervise/postgres.h"
#include "svc/rds/rt.h"
#include <stdlib.h>

#define REPLICA_WAIT_MAX_MS 2000 /* a new replica waits for its source to be up */

void replica_conf(struct rt *r, const struct rds_inst *row, struct arena *a, struct pg_conf *cf)
{
	r->standby_mode = row->replica_of != NULL;
	if (!row->replica_of) {
		r->repl_state[0] = 0;
		return;
	}
	cf->hot_standby = 1;
	struct rds_inst src;
	if (rds_inst_by_ident(r->fb->db, a, row->account, row->region, row->replica_of, &src) < 0)
		return; /* read-only with nothing to follow: StatusInfos tells */
	char dir[4096];
	rds_inst_dir(r->fb->data_dir, src.id, dir, sizeof(dir));
	/* the source's primary socket dir is fixed (i<id>/sock), so this
	 * follows a Multi-AZ source across its failovers */
	cf->primary_conninfo =
	    arena_sprintf(a, "host='%s/sock' port=%d user=%s application_name='%s'", dir, src.port,
			  PG_ADMIN_USER, r->ident);
	if (src.retention > 0)
		cf->restore_dir = arena_sprintf(a, "%s/archive", dir);
}

void replica_line(struct rt *r, const char *line, size_t n)
{
	static const char *const broken[] = {"could not connect to the primary server",
					     "replication terminated by primary server",
					     "could not receive data from WAL stream"};
	const char *state = NULL;
	if (memmem(line, n, "started streaming WAL from primary", 34))
		state = "replicating";
	for (size_t i = 0; !state && i < FB_ARRAY_LEN(broken); i++)
		if (memmem(line, n, broken[i], strlen(broken[i])))
			state = "error";
	if (!state || !strcmp(state, r->repl_state))
		return;
	snprintf(r->repl_state, sizeof(r->repl_state), "%s", state);
	if (!strcmp(state, "replicating")) {
		rt_event(r, "read replica", "Replication for the Read Replica resumed.");
		if (r->await_stream && r->up)
			rt_become_available(r);
	} else {
		rt_event(r, "read replica", "Replication for the Read Replica stopped: %.*s",
			 (int)n, line);
	}
}

/* provision_retry: timer: tries the replica's first copy again. */
static void provision_retry(struct loop *l, void *arg)
{
	struct rt *r = arg;
	r->timer = 0;
	rds_rt_provision(r->fb, r->id);
}

void replica_provision(struct rt *r, int64_t src_id)
{
	struct rt *src = rt_find(src_id);
	if (!src || !src->up) {
		struct arena *a = arena_new(1024);
		struct rds_inst row;
		int gone = rds_inst_load(r->fb->db, a, src_id, &row) < 0;
		arena_free(a);
		if (gone) {
			rds_set_status(r->fb->db, r->id, "failed");
			rt_event(r, "failure",
				 "The source DB instance of the read replica is gone");
			return;
		}
		/* the source is starting (fogbank restarted): copy once it serves */
		r->probe_delay_ms = r->probe_delay_ms ? r->probe_delay_ms * 2 : 50;
		if (r->probe_delay_ms > REPLICA_WAIT_MAX_MS)
			r->probe_delay_ms = REPLICA_WAIT_MAX_MS;
		r->timer = loop_timer_add(r->fb->loop, r->probe_delay_ms, provision_retry, r);
		return;
	}
	r->probe_delay_ms = 0;
	if (job_clone(r, JOB_CLONE, src->sock_dir, src->port, r->pgdata) < 0)
		rds_set_status(r->fb->db, r->id, "failed");
}

/* promote_cb: pg_promote() answered (or failed); either way the server
 * restarts as a primary, since its row already names no source. */
static void promote_cb(const struct pg_wire_result *res, void *arg)
{
	struct rt *r = arg;
	r->wire = NULL;
	if (res->ok && res->value && !strcmp(res->value, "t"))
		rt_event(r, "read replica", "Read replica promoted to a standalone DB instance");
	else
		rt_event(r, "failure",
			 "pg_promote() failed (%s); restarting as a standalone instance",
			 res->error ? res->error : "it did not finish");
	/* restart as a primary: the row names no source any more */
	if (!r->pg) {
		rt_start_server(r);
		return;
	}
	r->intent = RT_REBOOT;
	child_stop(r->pg);
}

void rds_rt_promote(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_get(fb, id);
	if (!r)
		return;
	struct arena *a = arena_new(1024);
	struct rds_inst row;
	r->first_backup = rds_inst_load(fb->db, a, id, &row) == 0 && row.retention > 0;
	arena_free(a);
	r->repl_state[0] = 0;
	if (!r->up || r->wire) {
		/* not serving: the next start is already a primary's */
		if (r->pg) {
			r->intent = RT_REBOOT;
			child_stop(r->pg);
		}
		return;
	}
	/* a new timeline, so this server's WAL never mixes with its source's */
	r->wire = pg_wire_run(fb->loop, r->sock, PG_ADMIN_USER, "postgres",
			      "SELECT pg_promote(true, 60)", 70000, promote_cb, r);
}

const char *rds_rt_repl_state(int64_t id)
{
	struct rt *r = rt_find(id);
	if (!r || !r->pg || !r->repl_state[0])
		return "error";
	return r->repl_state;
}

/* ---- handlers ---- */

/* CreateDBInstanceReadReplica: records the replica (status creating) and
 * starts copying its source; AWS's rules: the source needs automated
 * backups and must be available. */
int rds_op_create_db_instance_read_replica(struct aws_call *c)
{
	struct rds_inst src, r = {0};
	const char *sid = jv_get_str(c->in, "SourceDBInstanceIdentifier");
	if (rds_inst_find(c, sid, &src) < 0)
		return -1;
	if (src.retention == 0)
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Automated backups are not enabled for this database instance. To "
				"enable automated backups, use ModifyDBInstance to set the backup "
				"retention period to a non-zero value.");
	if (strcmp(src.status, "available") && strcmp(src.status, "backing-up"))
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Instance %s is not in available state.", src.ident);
	if (jv_get_bool(c->in, "MultiAZ", 0))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"fogbank does not run Multi-AZ read replicas yet.");
	const char *kms = jv_get_str(c->in, "KmsKeyId");
	if (kms && !src.encrypted)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"You can't create an encrypted read replica from an unencrypted DB "
				"instance.");
	struct jv *attrs = jv_object(c->a);
	if (rds_inst_prepare(c, &r, attrs) < 0)
		return -1;
	/* the copy carries the source's roles, databases and passwords */
	r.engine_version = src.engine_version;
	r.master_user = src.master_user;
	r.db_name = src.db_name;
	r.storage = src.storage;
	if (!jv_get(c->in, "Port"))
		r.port = src.port;
	if (!r.klass)
		r.klass = src.klass;
	r.retention = 0;
	r.encrypted = src.encrypted;
	r.kms_key_id = src.kms_key_id;
	if (kms && !(r.kms_key_id = rds_kms_key(c, kms)))
		return -1;
	r.source = arena_sprintf(c->a, "replica:%lld", (long long)src.id);
	r.attrs = rds_json_text(c->a, attrs);
	int64_t id = 0;
	if (rds_tx_begin(c) < 0)
		return -1;
	if (rds_inst_alloc_addr(c, &r) < 0 || rds_inst_insert(c, &r, NULL, &id) < 0)
		return rds_tx_end(c, -1);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE rds_instances SET replica_of = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, src.ident, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return rds_tx_end(c, rds_fail_db(c, rc));
	if (rds_tags_put(c, r.arn, jv_get(c->in, "Tags")) < 0 || rds_tx_end(c, 0) < 0)
		return rds_tx_end(c, -1);
	rds_event(c->fb, c->account, c->region, "db-instance", r.ident, "creation",
		  "Creating read replica of %s", src.ident);
	rds_rt_provision(c->fb, id);
	struct rds_inst row;
	if (rds_inst_load(c->fb->db, c->a, id, &row) < 0)
		return rds_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &row));
	return 0;
}

/* detach: makes replica id a standalone instance in the row (status
 * modifying, retention days of backups) and starts the promotion. */
static int detach(struct aws_call *c, int64_t id, int retention, const char *attrs)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE rds_instances SET replica_of = NULL, "
					      "status = 'modifying', retention = ?2, "
					      "attrs = coalesce(?3, attrs) WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, retention);
	if (attrs)
		sqlite3_bind_text(st, 3, attrs, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : rds_fail_db(c, rc);
}

/* PromoteReadReplica: detaches the replica (status modifying) and starts
 * the promotion; BackupRetentionPeriod (AWS's default 1) applies to it. */
int rds_op_promote_read_replica(struct aws_call *c)
{
	struct rds_inst r;
	if (rds_inst_find(c, jv_get_str(c->in, "DBInstanceIdentifier"), &r) < 0)
		return -1;
	if (!r.replica_of)
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"DB Instance is not a read replica.");
	if (strcmp(r.status, "available"))
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Instance %s is not in available state.", r.ident);
	int64_t days = jv_get_int(c->in, "BackupRetentionPeriod", 1);
	if (days < 0 || days > 35)
		return aws_fail(c, 400, "InvalidParameterValue",
				"Invalid backup retention period: %lld (0 to 35 days).",
				(long long)days);
	struct jv *attrs = rds_json(c->a, r.attrs);
	if (jv_get(c->in, "PreferredBackupWindow"))
		jv_set(c->a, attrs, "PreferredBackupWindow",
		       jv_get(c->in, "PreferredBackupWindow"));
	if (detach(c, r.id, (int)days, rds_json_text(c->a, attrs)) < 0)
		return -1;
	rds_event(c->fb, c->account, c->region, "db-instance", r.ident, "read replica",
		  "Promoting read replica of %s to a standalone DB instance", r.replica_of);
	rds_rt_promote(c->fb, r.id);
	if (rds_inst_load(c->fb->db, c->a, r.id, &r) < 0)
		return rds_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &r));
	return 0;
}

void rds_promote_replicas(struct aws_call *c, const struct rds_inst *src)
{
	struct jv *ids = rds_replicas_of(c->fb->db, c->a, src);
	for (size_t i = 0; i < jv_len(ids); i++) {
		struct rds_inst r;
		if (rds_inst_by_ident(c->fb->db, c->a, src->account, src->region,
				      jv_at(ids, i)->u.s.p, &r) < 0 ||
		    detach(c, r.id, r.retention, NULL) < 0)
			continue;
		rds_event(c->fb, r.account, r.region, "db-instance", r.ident, "read replica",
			  "The source DB instance %s is being deleted: promoting the read replica "
			  "to a standalone DB instance",
			  src->ident);
		rds_rt_promote(c->fb, r.id);
	}
}
