/* rt.h - shared by runtime.c (each instance's supervised server), jobs.c
 * (the tools it runs: copies, base backups, removals), replica.c (read
 * replicas), multiaz.c (the Multi-AZ standby) and snapcrypt.c (encrypted
 * snapshot streams). Everything here runs on the loop thread. */
#ifndef FB_SVC_RDS_RT_H
#define FB_SVC_RDS_RT_H
#include "core/compat.h"
#include "svc/rds/internal.h"

struct child;
struct pg_wire;
struct job;
struct rt_sb;
struct pg_conf;

/* What to do when the server exits. */
enum rt_intent { RT_KEEP = 0, RT_STOP, RT_REBOOT, RT_DELETE, RT_FAILOVER };

/* The in-memory runtime of one instance (fogbank has few: a list). */
struct rt {
	struct rt *next;
	struct fogbank *fb;
	int64_t id;
	char ident[64], account[16], region[32], addr[16];
	int port;
	char dir[4000], pgdata[4100], sock_dir[4100], sock[4200];
	struct child *pg;	/* the postmaster, NULL when down */
	struct pg_wire *wire;	/* probe or admin SQL in flight */
	struct job *job;	/* tool in flight for this instance */
	uint64_t timer;		/* probe retry / restart backoff */
	int64_t probe_delay_ms; /* next probe retry delay */
	int64_t start_mono_ms;	/* when the current start began */
	int up;			/* probed: accepting connections */
	int intent;		/* enum rt_intent */
	int setup;		/* first boot: CREATE ROLE / DATABASE pending */
	int sync_running;	/* initdb --sync-only of a fresh copy */
	int crashes;		/* unexpected exits in a row */
	int log_fd;		/* <dir>/postgresql.log */
	int64_t final_snap;	/* RT_DELETE: snapshot to take first */
	int64_t create_mono_ms; /* CreateDBInstance -> available, for the log */
	char **sql;		/* admin statements queued (setup) */
	size_t nsql, isql;
	int node;		  /* the primary's data dir: 0 pgdata, 1 pgdata-b */
	int standby_mode;	  /* a read replica: in recovery, read-only */
	char repl_state[16];	  /* read replica: "replicating", "error", "" */
	int await_stream;	  /* a new replica: available once it streams */
	int first_backup;	  /* the first automated base backup is due */
	int await_standby;	  /* Multi-AZ: status waits for the standby's sync */
	int announce_failover;	  /* "failover completed" once the primary is up */
	int64_t failover_mono_ms; /* when the failover began, for the log */
	struct rt_sb *sb;	  /* the Multi-AZ standby (multiaz.c) or NULL */
};

/* rt_get: the runtime of instance id, created (from its row) on first
 * use; NULL when the row is gone. */
struct rt *rt_get(struct fogbank *fb, int64_t id);
/* rt_find: the runtime of id or NULL. */
struct rt *rt_find(int64_t id);
/* rt_free: unlinks and frees r (server and job must be gone). */
void rt_free(struct rt *r);
/* rt_start_server: writes the configuration and spawns the server, then
 * probes it; status follows. */
void rt_start_server(struct rt *r);
/* rt_teardown: the deletion's last steps once the server is down. */
void rt_teardown(struct rt *r);
/* rt_after_job: what the runtime does when its job ends (ok: exit 0). */
void rt_after_job(struct rt *r, int kind, int ok);
/* rt_become_available: the server is up and set up: records it, takes
 * the first backup, waits for a new replica's stream or the Multi-AZ
 * standby when the status must (see the struct). */
void rt_become_available(struct rt *r);
/* rt_build_conf: the primary's configuration from the instance row
 * (strings in a). 0 or -1. */
int rt_build_conf(struct rt *r, const struct rds_inst *row, struct arena *a, struct pg_conf *cf);
/* rt_reload_conf: rewrites a running primary's configuration and makes it
 * reload (dynamic settings, synchronous_standby_names). */
void rt_reload_conf(struct rt *r);
/* rt_node_pgdata: the data dir of node 0 or 1 of the instance in dir. */
void rt_node_pgdata(const char *dir, int node, char *out, size_t cap);
/* rt_event: an instance event for r. */
#define rt_event(r, cat, ...)                                                                      \
	rds_event((r)->fb, (r)->account, (r)->region, "db-instance", (r)->ident, cat, __VA_ARGS__)

/* --- replica.c --- */

/* replica_conf: for a read replica (row->replica_of), makes cf a hot
 * standby streaming from the source over its admin socket (and restoring
 * from its WAL archive when it lags behind); sets r->standby_mode. */
void replica_conf(struct rt *r, const struct rds_inst *row, struct arena *a, struct pg_conf *cf);
/* replica_line: follows a replica's replication state in its log. */
void replica_line(struct rt *r, const char *line, size_t n);
/* replica_provision: the replica's first data: a base backup of source
 * src_id once that is up (retried until then). */
void replica_provision(struct rt *r, int64_t src_id);

/* --- multiaz.c --- */

/* maz_ensure: a Multi-AZ primary that is up gets its standby: built (a
 * base backup) if its data dir is missing or stale, started otherwise. */
void maz_ensure(struct rt *r);
/* maz_in_sync: 1 when the standby streams and commits wait for it. */
int maz_in_sync(const struct rt *r);
/* maz_conf: the primary's synchronous_standby_names (when the standby
 * streams). */
void maz_conf(const struct rt *r, struct pg_conf *cf);
/* maz_can_failover: 1 when the standby is running and streaming. */
int maz_can_failover(const struct rt *r);
/* maz_primary_down: the primary has stopped (a forced failover) or died:
 * the standby is promoted and restarted as the primary on the endpoint. */
void maz_primary_down(struct rt *r);
/* maz_stop: stops the standby server. Returns 1 when it was running:
 * then(r) (may be NULL) runs once it is down; 0 when there is nothing to
 * stop (then is not called). */
int maz_stop(struct rt *r, void (*then)(struct rt *r));
/* maz_disable: Multi-AZ is off: the standby stops, its files go, and the
 * primary stops waiting for it. */
void maz_disable(struct rt *r);
/* maz_after_copy: the standby's base backup finished. */
void maz_after_copy(struct rt *r, int ok);
/* maz_free: frees the standby's runtime (its server must be down). */
void maz_free(struct rt *r);
/* maz_standby_pgdata: the standby's data dir (the node that is not the
 * primary's) into out. */
void maz_standby_pgdata(const struct rt *r, char *out, size_t cap);

/* --- jobs.c --- */

enum job_kind {
	JOB_TEMPLATE = 1, /* initdb of the shared template */
	JOB_COPY_IN,	  /* a fresh pgdata from template / snapshot / backup */
	JOB_SYNC,	  /* initdb --sync-only of a fresh copy */
	JOB_BACKUP,	  /* automated base backup */
	JOB_SNAPSHOT,	  /* snapshot (base backup, or a copy of a stopped pgdata) */
	JOB_COPY_SNAP,	  /* CopyDBSnapshot */
	JOB_REMOVE,	  /* rm -rf of an instance's or snapshot's files */
	JOB_CLONE,	  /* a read replica's pgdata: a base backup of its source */
	JOB_STANDBY_COPY, /* the Multi-AZ standby's pgdata: a base backup */
};

/* job_restore_snapshot: r's pgdata from snapshot snap_id (a copy of its
 * files, or its encrypted stream decrypted into tar); JOB_COPY_IN. */
int job_restore_snapshot(struct rt *r, int64_t snap_id);
/* job_clone: replaces dst by a base backup of the server on
 * sock_dir:port (kind JOB_CLONE or JOB_STANDBY_COPY); it is r's job. */
int job_clone(struct rt *r, int kind, const char *sock_dir, int port, const char *dst);

/* job_copy_in: replaces r's pgdata by a copy of src; JOB_COPY_IN. */
int job_copy_in(struct rt *r, const char *src);
/* job_sync: initdb --sync-only on r's pgdata; JOB_SYNC. */
int job_sync(struct rt *r);
/* job_backup: an automated base backup of r's running server; JOB_BACKUP. */
int job_backup(struct rt *r);
/* job_snapshot: snapshot snap_id of r (base backup when r is up, a copy
 * of its pgdata when it is stopped); JOB_SNAPSHOT; updates the row. */
int job_snapshot(struct rt *r, int64_t snap_id);
/* job_remove_dir: rm -rf dir, then done(fb, arg, ok) (may be NULL). */
int job_remove_dir(struct fogbank *fb, const char *dir,
		   void (*done)(struct fogbank *, int64_t, int), int64_t arg);
/* job_template_ready: 1 when the template exists; otherwise starts making
 * it (once) and returns 0; rt_template_done is called when it is there. */
int job_template_ready(struct fogbank *fb);
/* rt_template_done: the template is ready (ok) or failed: every instance
 * waiting for it goes on. */
void rt_template_done(struct fogbank *fb, int ok);
/* job_template_dir: <data_dir>/rds/template into out. */
void job_template_dir(struct fogbank *fb, char *out, size_t cap);
#endif
