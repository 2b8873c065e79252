/* runtime.c - the supervised PostgreSQL behind each instance. Status moves
 * only on what really happens: a copy finished, the server answered a
 * probe (a real connection on its admin socket, retried with backoff and
 * also triggered by its "ready to accept connections" log line), a base
 * backup finished, the server exited. A server that exits unexpectedly is
 * restarted (event + status), up to RT_MAX_CRASHES times in a row; a
 * Multi-AZ primary whose standby is streaming fails over instead. Read
 * replicas (replica.c) and the Multi-AZ standby (multiaz.c) hook in here. */
#include "core/compat.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "store/addr.h"
#include "supervise/pg_wire.h"
#include "supervise/postgres.h"
#include "svc/rds/rt.h"
#include "tls/ca.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define RT_MAX_CRASHES 5
#define RT_PROBE_MAX_DELAY_MS 200

static struct rt *rts;

static void rt_probe(struct rt *r);
static void rt_proceed_delete(struct rt *r);

void rt_node_pgdata(const char *dir, int node, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", dir, node ? "pgdata-b" : "pgdata");
}

struct rt *rt_find(int64_t id)
{
	for (struct rt *r = rts; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

struct rt *rt_get(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_find(id);
	if (r)
		return r;
	struct arena *a = arena_new(4096);
	struct rds_inst row;
	if (rds_inst_load(fb->db, a, id, &row) < 0) {
		arena_free(a);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		fb_die("out of memory");
	r->fb = fb;
	r->id = id;
	snprintf(r->ident, sizeof(r->ident), "%s", row.ident);
	snprintf(r->account, sizeof(r->account), "%s", row.account);
	snprintf(r->region, sizeof(r->region), "%s", row.region);
	snprintf(r->addr, sizeof(r->addr), "%s", row.address);
	r->port = row.port;
	rds_inst_dir(fb->data_dir, id, r->dir, sizeof(r->dir));
	r->node = row.primary_node;
	rt_node_pgdata(r->dir, r->node, r->pgdata, sizeof(r->pgdata));
	snprintf(r->sock_dir, sizeof(r->sock_dir), "%s/sock", r->dir);
	pg_sock_path(r->sock_dir, r->port, r->sock, sizeof(r->sock));
	r->log_fd = -1;
	arena_free(a);
	r->next = rts;
	rts = r;
	return r;
}

void rt_free(struct rt *r)
{
	for (struct rt **p = &rts; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	if (r->timer)
		loop_timer_cancel(r->fb->loop, r->timer);
	pg_wire_cancel(r->wire);
	maz_free(r);
	if (r->log_fd >= 0)
		close(r->log_fd);
	for (size_t i = 0; i < r->nsql; i++)
		free(r->sql[i]);
	free(r->sql);
	free(r);
}

static void status(struct rt *r, const char *s)
{
	rds_set_status(r->fb->db, r->id, s);
}

/* server_line: one line of the server's log: appended to postgresql.log
 * (DownloadDBLogFilePortion serves it); readiness triggers a probe. */
static void server_line(struct child *ch, int stream, const char *line, size_t n, void *arg)
{
	struct rt *r = arg;
	if (r->log_fd >= 0) {
		struct iovec v[2] = {{(void *)line, n}, {"\n", 1}};
		if (writev(r->log_fd, v, 2) < 0)
			log_debug("rds: log write: %s", strerror(errno));
	}
	log_debug("[%s] %.*s", child_name(ch), (int)n, line);
	if (r->standby_mode)
		replica_line(r, line, n);
	if (!r->up && !r->wire && memmem(line, n, "ready to accept connections", 27)) {
		if (r->timer)
			loop_timer_cancel(r->fb->loop, r->timer);
		r->timer = 0;
		rt_probe(r);
	}
}

static void restart_cb(struct loop *l, void *arg)
{
	struct rt *r = arg;
	r->timer = 0;
	rt_start_server(r);
}

static void server_exit(struct child *ch, int st, void *arg)
{
	struct rt *r = arg;
	int was_up = r->up;
	r->pg = NULL;
	r->up = 0;
	pg_wire_cancel(r->wire);
	r->wire = NULL;
	if (r->timer)
		loop_timer_cancel(r->fb->loop, r->timer);
	r->timer = 0;
	int intent = r->intent;
	if (intent != RT_DELETE)
		r->intent = RT_KEEP;
	switch (intent) {
	case RT_STOP:
		status(r, "stopped");
		rt_event(r, "notification", "DB instance stopped");
		return;
	case RT_REBOOT:
		rt_event(r, "availability", "DB instance shutdown");
		rt_start_server(r);
		return;
	case RT_DELETE:
		rt_proceed_delete(r);
		return;
	case RT_FAILOVER:
		maz_primary_down(r);
		return;
	}
	r->crashes++;
	struct arena *a = arena_new(1024);
	struct rds_inst row;
	int have = rds_inst_load(r->fb->db, a, r->id, &row) == 0;
	int pitr = have && !row.provisioned && row.source && !strncmp(row.source, "pitr:", 5);
	int multi_az = have && row.multi_az;
	arena_free(a);
	if (multi_az && was_up && maz_in_sync(r)) {
		/* what Multi-AZ is for: the standby has every committed row */
		status(r, "rebooting");
		rt_event(r, "failover",
			 "The primary host of the Multi-AZ instance failed (status %d); "
			 "Multi-AZ instance failover started",
			 st);
		r->failover_mono_ms = fb_mono_ms();
		maz_primary_down(r);
		return;
	}
	if (pitr) {
		status(r, "incompatible-restore");
		rt_event(r, "failure",
			 "Restore to the point in time failed: the server exited "
			 "(status %d); see the log file",
			 st);
		return;
	}
	if (r->crashes > RT_MAX_CRASHES) {
		status(r, "failed");
		rt_event(r, "failure", "DB instance failed: the server keeps exiting (status %d)",
			 st);
		return;
	}
	status(r, "rebooting");
	rt_event(r, "availability",
		 was_up ? "The database server exited unexpectedly (status %d); restarting"
			: "The database server failed to start (status %d); retrying",
		 st);
	int64_t delay = r->crashes == 1 ? 0 : 500LL << (r->crashes < 6 ? r->crashes : 6);
	r->timer = loop_timer_add(r->fb->loop, delay, restart_cb, r);
}

int rt_build_conf(struct rt *r, const struct rds_inst *row, struct arena *a, struct pg_conf *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->listen_addr = r->addr;
	cf->port = r->port;
	cf->sock_dir = r->sock_dir;
	cf->shared_buffers_mb = 16;
	char *tls = arena_sprintf(a, "%s/tls", r->dir);
	cf->ssl_cert = arena_sprintf(a, "%s/server.crt", tls);
	cf->ssl_key = arena_sprintf(a, "%s/server.key", tls);
	if (access(cf->ssl_key, F_OK) < 0) {
		uid_t u = (uid_t)-1;
		gid_t g = (gid_t)-1;
		pg_user_ids(&u, &g);
		char *err = NULL;
		const char *dns[] = {
		    "localhost",
		    arena_sprintf(a, "%s.fogbank.%s.rds.localhost", r->ident, r->region), NULL};
		if (pg_make_dir(tls) < 0 ||
		    ca_issue(r->fb->data_dir, cf->ssl_cert, cf->ssl_key, r->addr, r->addr, dns,
			     geteuid() == 0 ? (long)u : -1, (long)g, &err) < 0) {
			log_warn("rds: %s: no TLS certificate (%s); ssl off", r->ident,
				 err ? err : strerror(errno));
			free(err);
			cf->ssl_cert = cf->ssl_key = NULL;
		}
	}
	if (row->retention > 0) {
		cf->archive_dir = arena_sprintf(a, "%s/archive", r->dir);
		cf->archive_timeout_s = RDS_ARCHIVE_TIMEOUT_S;
		if (pg_make_dir(cf->archive_dir) < 0)
			return -1;
	}
	if (!row->provisioned && row->source && !strncmp(row->source, "pitr:", 5)) {
		struct jv *p = rds_json(a, row->source + 5);
		char src[4096];
		rds_inst_dir(r->fb->data_dir, jv_get_int(p, "src", 0), src, sizeof(src));
		cf->restore_dir = arena_sprintf(a, "%s/archive", src);
		cf->target_time = jv_get_str(p, "target");
		cf->hot_standby = 0; /* refuse connections until promoted */
	}
	cf->extra = jv_get_str(rds_json(a, row->attrs), "ConfExtra");
	replica_conf(r, row, a, cf);
	maz_conf(r, cf);
	return 0;
}

void rt_reload_conf(struct rt *r)
{
	if (!r->pg || !r->up)
		return; /* the next start writes it */
	struct arena *a = arena_new(2048);
	struct rds_inst row;
	struct pg_conf cf;
	char *err = NULL;
	if (rds_inst_load(r->fb->db, a, r->id, &row) == 0 && rt_build_conf(r, &row, a, &cf) == 0 &&
	    pg_write_conf(r->pgdata, &cf, &err) == 0)
		child_signal(r->pg, SIGHUP);
	else
		log_warn("rds: %s: cannot rewrite the configuration: %s", r->ident,
			 err ? err : "no row");
	free(err);
	arena_free(a);
}

void rt_start_server(struct rt *r)
{
	struct arena *a = arena_new(4096);
	struct rds_inst row;
	struct pg_conf cf;
	char *err = NULL;
	if (rds_inst_load(r->fb->db, a, r->id, &row) < 0) {
		arena_free(a);
		return;
	}
	if (pg_make_dir(r->sock_dir) < 0 || rt_build_conf(r, &row, a, &cf) < 0 ||
	    pg_write_conf(r->pgdata, &cf, &err) < 0) {
		log_error("rds: %s: cannot configure: %s", r->ident, err ? err : strerror(errno));
		free(err);
		status(r, "failed");
		arena_free(a);
		return;
	}
	arena_free(a);
	if (r->log_fd < 0) {
		char path[4300];
		snprintf(path, sizeof(path), "%s/postgresql.log", r->dir);
		r->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	}
	char name[96];
	snprintf(name, sizeof(name), "rds/%s", r->ident);
	r->pg = pg_spawn_server(r->fb->loop, name, r->pgdata, server_exit, server_line, r, &err);
	if (!r->pg) {
		log_error("rds: %s: %s", r->ident, err ? err : "cannot start postgres");
		free(err);
		status(r, "failed");
		return;
	}
	r->start_mono_ms = fb_mono_ms();
	r->probe_delay_ms = 5;
	rt_probe(r);
}

static void probe_retry(struct loop *l, void *arg)
{
	struct rt *r = arg;
	r->timer = 0;
	rt_probe(r);
}

/* sql_next: runs the next queued admin statement, or finishes the queue. */
static void sql_next(struct rt *r);

static void sql_cb(const struct pg_wire_result *res, void *arg)
{
	struct rt *r = arg;
	r->wire = NULL;
	/* a setup interrupted by a crash is run again: "already exists" is done */
	int dup = !strcmp(res->sqlstate, "42710") || !strcmp(res->sqlstate, "42P04");
	if (!res->ok && !dup) {
		log_error("rds: %s: admin SQL failed: %s", r->ident, res->error);
		rt_event(r, "failure", "Configuration of the database failed: %s", res->error);
	}
	free(r->sql[r->isql]);
	r->sql[r->isql++] = NULL;
	sql_next(r);
}

static void sql_next(struct rt *r)
{
	if (!r->up)
		return;
	if (r->isql < r->nsql) {
		r->wire = pg_wire_run(r->fb->loop, r->sock, PG_ADMIN_USER, "postgres",
				      r->sql[r->isql], 30000, sql_cb, r);
		return;
	}
	free(r->sql);
	r->sql = NULL;
	r->nsql = r->isql = 0;
	r->setup = 0;
	rt_become_available(r);
}

/* sql_push: queues one admin statement (copied). */
static void sql_push(struct rt *r, const char *sql)
{
	r->sql = realloc(r->sql, (r->nsql + 1) * sizeof(*r->sql));
	if (!r->sql || !(r->sql[r->nsql] = strdup(sql)))
		fb_die("out of memory");
	r->nsql++;
}

/* queue_pending: queues the master role (first boot: CREATE, else ALTER
 * with a pending password) and the database. The verifier is cleared from
 * the row once queued: if the statement fails, the event says so. */
static void queue_pending(struct rt *r)
{
	if (r->standby_mode)
		return; /* read-only: a replica has its source's roles and passwords */
	struct arena *a = arena_new(4096);
	struct rds_inst row;
	if (rds_inst_load(r->fb->db, a, r->id, &row) < 0) {
		arena_free(a);
		return;
	}
	sqlite3_stmt *st =
	    db_stmt(r->fb->db, "SELECT pw_verifier FROM rds_instances WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r->id);
	const char *ver = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && db_col_text(st, 0))
		ver = arena_strdup(a, db_col_text(st, 0));
	sqlite3_reset(st);
	char user[200], lit[400], db[200], sql[1200];
	pg_quote_ident(row.master_user, user, sizeof(user));
	if (r->setup) {
		snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN SUPERUSER", user);
		sql_push(r, sql);
		if (row.db_name && *row.db_name) {
			pg_quote_ident(row.db_name, db, sizeof(db));
			snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER %s", db, user);
			sql_push(r, sql);
		}
	}
	if (ver && pg_quote_literal(ver, lit, sizeof(lit)) == 0) {
		snprintf(sql, sizeof(sql), "ALTER ROLE %s PASSWORD %s", user, lit);
		sql_push(r, sql);
		st =
		    db_stmt(r->fb->db, "UPDATE rds_instances SET pw_verifier = NULL, pending = "
				       "json_remove(pending, '$.MasterUserPassword') WHERE id = ?1 "
				       "AND pw_verifier = ?2");
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_text(st, 2, ver, -1, SQLITE_STATIC);
		db_step_done(st);
	}
	arena_free(a);
}

static void probe_cb(const struct pg_wire_result *res, void *arg)
{
	struct rt *r = arg;
	r->wire = NULL;
	if (!r->pg)
		return;
	/* a read replica is ready in recovery; a primary (PITR included) only
	 * once out of it */
	if (res->ok && res->value && !strcmp(res->value, r->standby_mode ? "t" : "f")) {
		r->up = 1;
		r->crashes = 0;
		log_info("rds: %s accepting connections on %s:%d (%lld ms after start)", r->ident,
			 r->addr, r->port, (long long)(fb_mono_ms() - r->start_mono_ms));
		queue_pending(r);
		sql_next(r);
		return;
	}
	if (!res->not_up && !res->ok)
		log_debug("rds: %s: probe: %s", r->ident, res->error);
	r->timer = loop_timer_add(r->fb->loop, r->probe_delay_ms, probe_retry, r);
	r->probe_delay_ms = r->probe_delay_ms * 2 > RT_PROBE_MAX_DELAY_MS ? RT_PROBE_MAX_DELAY_MS
									  : r->probe_delay_ms * 2;
}

static void rt_probe(struct rt *r)
{
	if (!r->pg || r->wire)
		return;
	r->wire = pg_wire_run(r->fb->loop, r->sock, PG_ADMIN_USER, "postgres",
			      "SELECT pg_is_in_recovery()", 5000, probe_cb, r);
}

/* mark_provisioned: the instance's data exists and has served: a restart
 * starts it again instead of creating it anew. */
static void mark_provisioned(struct rt *r, const struct rds_inst *row)
{
	sqlite3_stmt *st = db_stmt(r->fb->db, "UPDATE rds_instances SET provisioned = 1, "
					      "source = NULL WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r->id);
	db_step_done(st);
	if (r->create_mono_ms)
		log_info("rds: %s created in %lld ms", r->ident,
			 (long long)(fb_mono_ms() - r->create_mono_ms));
	rt_event(r, "creation", row->replica_of ? "Read replica created" : "DB instance created");
	r->first_backup = row->retention > 0;
}

void rt_become_available(struct rt *r)
{
	if (r->sync_running || r->job || r->intent == RT_DELETE || r->intent == RT_FAILOVER) {
		if (r->intent == RT_DELETE && !r->job)
			rt_proceed_delete(r);
		return;
	}
	struct arena *a = arena_new(2048);
	struct rds_inst row;
	if (rds_inst_load(r->fb->db, a, r->id, &row) < 0) {
		arena_free(a);
		return;
	}
	/* a new replica is created once it really streams from its source */
	r->await_stream =
	    !row.provisioned && r->standby_mode && strcmp(r->repl_state, "replicating");
	if (r->await_stream) {
		arena_free(a);
		return;
	}
	if (!row.provisioned)
		mark_provisioned(r, &row);
	if (r->announce_failover) {
		r->announce_failover = 0;
		log_info("rds: %s failed over in %lld ms", r->ident,
			 (long long)(fb_mono_ms() - r->failover_mono_ms));
		rt_event(r, "failover", "Multi-AZ instance failover completed");
	}
	if (row.multi_az && !r->standby_mode) {
		maz_ensure(r);
		if (r->await_standby && !maz_in_sync(r)) {
			arena_free(a); /* creating / modifying until the standby is in sync */
			return;
		}
		r->await_standby = 0;
	} else if (r->sb) {
		maz_disable(r); /* MultiAZ off came with the reboot */
	}
	if (r->job) {
		arena_free(a); /* the standby's copy: back here when it ends */
		return;
	}
	if (r->first_backup && job_backup(r) == 0) {
		r->first_backup = 0;
		status(r, "backing-up");
		rt_event(r, "backup", "Backing up DB instance");
	} else {
		status(r, "available");
	}
	arena_free(a);
}

void rt_after_job(struct rt *r, int kind, int ok)
{
	switch (kind) {
	case JOB_COPY_IN:
		if (!ok) {
			status(r, "failed");
			rt_event(r, "failure", "Creating the DB instance's storage failed");
			break;
		}
		if (r->intent == RT_DELETE)
			break;
		/* a copy of a base backup (backup_label) is flushed by PostgreSQL
		 * itself before it recovers (it was not shut down cleanly); a
		 * copy of a stopped cluster is not: initdb --sync-only does it */
		char label[4300];
		snprintf(label, sizeof(label), "%s/backup_label", r->pgdata);
		r->sync_running = access(label, F_OK) < 0 && job_sync(r) == 0;
		rt_start_server(r);
		return;
	case JOB_CLONE: /* pg_basebackup has synced what it wrote */
		if (!ok) {
			status(r, "failed");
			rt_event(r, "failure", "Copying the source DB instance's data failed");
			break;
		}
		if (r->intent != RT_DELETE)
			rt_start_server(r);
		return;
	case JOB_STANDBY_COPY:
		maz_after_copy(r, ok);
		break;
	case JOB_SYNC:
		r->sync_running = 0;
		break;
	case JOB_BACKUP:
		if (ok) {
			/* <start>.tmp -> <start>-<end>: the end bounds PITR */
			char dir[4300], from[4400], to[4400];
			snprintf(dir, sizeof(dir), "%s/backups", r->dir);
			long long start = 0;
			/* the only .tmp is ours (one job per instance) */
			DIR *d = opendir(dir);
			struct dirent *e;
			while (d && (e = readdir(d)))
				if (strstr(e->d_name, ".tmp"))
					start = atoll(e->d_name);
			if (d)
				closedir(d);
			snprintf(from, sizeof(from), "%s/%lld.tmp", dir, start);
			snprintf(to, sizeof(to), "%s/%lld-%lld", dir, start,
				 (long long)fb_wall_ms());
			if (rename(from, to) == 0)
				rt_event(r, "backup", "Finished DB instance backup");
		}
		break;
	case JOB_SNAPSHOT:
		break;
	}
	if (r->intent == RT_DELETE) {
		rt_proceed_delete(r);
		return;
	}
	if (r->up && !r->setup && !r->nsql)
		rt_become_available(r);
}

void rds_rt_provision(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_get(fb, id);
	if (!r)
		return;
	if (!r->create_mono_ms)
		r->create_mono_ms = fb_mono_ms();
	struct arena *a = arena_new(2048);
	struct rds_inst row;
	if (rds_inst_load(fb->db, a, id, &row) < 0) {
		arena_free(a);
		return;
	}
	char src[4300], root[4100];
	status(r, "creating");
	r->await_standby = row.multi_az; /* creating until the standby is in sync */
	/* <data_dir>/rds belongs to postgres: initdb and pg_basebackup create
	 * their directories in it */
	snprintf(root, sizeof(root), "%s/rds", fb->data_dir);
	pg_allow_traverse(fb->data_dir);
	if (pg_make_dir(root) < 0 || pg_make_dir(r->dir) < 0) {
		status(r, "failed");
		arena_free(a);
		return;
	}
	if (!row.source) {
		int ready = job_template_ready(fb);
		if (ready <= 0) {
			if (ready < 0)
				status(r, "failed");
			arena_free(a); /* rt_template_done comes back here */
			return;
		}
		r->setup = 1;
		job_template_dir(fb, src, sizeof(src));
	} else if (!strncmp(row.source, "snapshot:", 9)) {
		int64_t snap = atoll(row.source + 9);
		arena_free(a);
		if (job_restore_snapshot(r, snap) < 0)
			status(r, "failed");
		return;
	} else if (!strncmp(row.source, "replica:", 8)) {
		int64_t from = atoll(row.source + 8); /* row lives in a */
		arena_free(a);
		replica_provision(r, from);
		return;
	} else {
		struct jv *p = rds_json(a, row.source + 5);
		char sdir[4096];
		rds_inst_dir(fb->data_dir, jv_get_int(p, "src", 0), sdir, sizeof(sdir));
		snprintf(src, sizeof(src), "%s/backups/%s", sdir, jv_get_str(p, "backup"));
	}
	arena_free(a);
	if (job_copy_in(r, src) < 0)
		status(r, "failed");
}

void rt_template_done(struct fogbank *fb, int ok)
{
	struct arena *a = arena_new(4096);
	struct rds_inst *v;
	size_t n = rds_inst_list(fb->db, a, NULL, NULL, &v);
	for (size_t i = 0; i < n; i++) {
		if (v[i].provisioned || v[i].source || strcmp(v[i].status, "creating"))
			continue;
		struct rt *r = rt_find(v[i].id);
		if (!r || r->job || r->pg)
			continue;
		if (ok)
			rds_rt_provision(fb, v[i].id);
		else
			rds_set_status(fb->db, v[i].id, "failed");
	}
	arena_free(a);
}

void rds_rt_start(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_get(fb, id);
	if (!r || r->pg)
		return;
	r->crashes = 0;
	rt_start_server(r);
}

void rds_rt_stop(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_get(fb, id);
	if (!r)
		return;
	if (!r->pg) {
		status(r, "stopped");
		return;
	}
	r->intent = RT_STOP;
	child_stop(r->pg);
	maz_stop(r, NULL);
}

void rds_rt_reboot(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_get(fb, id);
	if (!r)
		return;
	rt_event(r, "availability", "DB instance restarted by request");
	if (!r->pg) {
		rt_start_server(r);
		return;
	}
	r->intent = RT_REBOOT;
	child_stop(r->pg);
}

void rds_rt_apply(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_find(id);
	if (!r || !r->up || r->wire || r->nsql)
		return;	   /* applied after the next successful probe */
	rt_reload_conf(r); /* dynamic parameters: reload */
	queue_pending(r);
	if (r->nsql)
		sql_next(r);
}

int rds_rt_running(int64_t id)
{
	struct rt *r = rt_find(id);
	return r && r->up;
}

int rds_rt_snapshot(struct fogbank *fb, int64_t id, int64_t snap_id)
{
	struct rt *r = rt_get(fb, id);
	if (!r || r->job || r->sync_running || (r->pg && !r->up))
		return -1;
	return job_snapshot(r, snap_id);
}

void rds_rt_delete(struct fogbank *fb, int64_t id, int64_t final_snap_id)
{
	struct rt *r = rt_get(fb, id);
	if (!r)
		return;
	r->intent = RT_DELETE;
	r->final_snap = final_snap_id;
	if (!r->job)
		rt_proceed_delete(r);
}

/* rt_proceed_delete: final snapshot, then stop, then teardown; each step
 * comes back here when it ends. */
static void rt_proceed_delete(struct rt *r)
{
	if (r->job)
		return;
	if (r->final_snap) {
		int64_t snap = r->final_snap;
		r->final_snap = 0;
		if ((!r->pg || r->up) && job_snapshot(r, snap) == 0)
			return;
		rds_rt_remove_snapshot(r->fb, snap);
	}
	/* both servers stop at once; each exit comes back here */
	int waiting = maz_stop(r, rt_proceed_delete);
	if (r->pg) {
		child_stop(r->pg);
		waiting = 1;
	}
	if (!waiting)
		rt_teardown(r);
}

/* inst_removed: files gone; the row, its tags and its address go too. */
static void inst_removed(struct fogbank *fb, int64_t id, int ok)
{
	struct arena *a = arena_new(2048);
	struct rds_inst row;
	if (rds_inst_load(fb->db, a, id, &row) == 0) {
		rds_tags_drop(fb->db, row.arn);
		addr_free(fb->db,
			  arena_sprintf(a, "rds:%s:%s:%s", row.account, row.region, row.ident));
		rds_event(fb, row.account, row.region, "db-instance", row.ident, "deletion",
			  "DB instance deleted");
	}
	arena_free(a);
	sqlite3_stmt *st = db_stmt(fb->db, "DELETE FROM rds_instances WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	db_step_done(st);
}

void rt_teardown(struct rt *r)
{
	struct fogbank *fb = r->fb;
	int64_t id = r->id;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", r->dir);
	rt_free(r);
	if (job_remove_dir(fb, dir, inst_removed, id) < 0)
		inst_removed(fb, id, 0);
}
