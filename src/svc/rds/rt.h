/* rt.h - shared by runtime.c (each instance's supervised server) and
 * jobs.c (the tools it runs: copies, base backups, removals). */
#ifndef FB_SVC_RDS_RT_H
#define FB_SVC_RDS_RT_H
#include "core/compat.h"
#include "svc/rds/internal.h"

struct child;
struct pg_wire;
struct job;

/* What to do when the server exits. */
enum rt_intent { RT_KEEP = 0, RT_STOP, RT_REBOOT, RT_DELETE };

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

/* --- jobs.c --- */

enum job_kind {
	JOB_TEMPLATE = 1, /* initdb of the shared template */
	JOB_COPY_IN,	  /* a fresh pgdata from template / snapshot / backup */
	JOB_SYNC,	  /* initdb --sync-only of a fresh copy */
	JOB_BACKUP,	  /* automated base backup */
	JOB_SNAPSHOT,	  /* snapshot (base backup, or a copy of a stopped pgdata) */
	JOB_COPY_SNAP,	  /* CopyDBSnapshot */
	JOB_REMOVE,	  /* rm -rf of an instance's or snapshot's files */
};

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
