/* multiaz.c - the Multi-AZ standby: a second PostgreSQL of the instance,
 * on the other of its two data dirs (pgdata / pgdata-b), streaming from
 * the primary over the primary's admin socket and listening on no TCP
 * address at all (its own socket dir, sock-standby). Once it streams the
 * primary gets synchronous_standby_names, so every acknowledged commit is
 * on both. A failover (reboot --force-failover, or the primary dying)
 * stops the primary, promotes the standby (pg_promote: a new timeline),
 * and restarts it as the primary on the instance's own address and port;
 * the old primary's data dir then follows as the new standby (a cleanly
 * stopped primary needs no rewind; a diverged one is rebuilt from a fresh
 * base backup). If the standby dies, the primary drops the synchronous
 * requirement (commits never hang) and the standby is restarted. */
#include "core/compat.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "supervise/pg_wire.h"
#include "supervise/postgres.h"
#include "svc/rds/rt.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAZ_APP_NAME "rds_standby"
#define MAZ_MAX_CRASHES 3   /* then the standby is rebuilt */
#define MAZ_SYNC_POLL_MS 20 /* waiting for pg_stat_replication to say sync */
#define MAZ_SYNC_TRIES 1500

struct rt_sb {
	struct rt *r;
	struct child *pg;
	struct pg_wire *wire;
	uint64_t timer;
	int streaming; /* its log said so */
	int sync_on;   /* the primary's pg_stat_replication says sync */
	int crashes;   /* unexpected exits in a row */
	int stopping;  /* an intended stop: then() runs at exit */
	int rebuild;   /* its data is stale: a fresh base backup first */
	int sync_tries;
	int log_fd;
	void (*then)(struct rt *r);
	char pgdata[4100], sock_dir[4100], sock[4200];
};

static void sb_start(struct rt_sb *sb);

void maz_standby_pgdata(const struct rt *r, char *out, size_t cap)
{
	rt_node_pgdata(r->dir, !r->node, out, cap);
}

/* sb_get: r's standby runtime, made on first use. */
static struct rt_sb *sb_get(struct rt *r)
{
	if (r->sb)
		return r->sb;
	struct rt_sb *sb = calloc(1, sizeof(*sb));
	if (!sb)
		fb_die("out of memory");
	sb->r = r;
	sb->log_fd = -1;
	maz_standby_pgdata(r, sb->pgdata, sizeof(sb->pgdata));
	snprintf(sb->sock_dir, sizeof(sb->sock_dir), "%s/sock-standby", r->dir);
	pg_sock_path(sb->sock_dir, r->port, sb->sock, sizeof(sb->sock));
	r->sb = sb;
	return sb;
}

void maz_free(struct rt *r)
{
	struct rt_sb *sb = r->sb;
	if (!sb)
		return;
	if (sb->timer)
		loop_timer_cancel(r->fb->loop, sb->timer);
	pg_wire_cancel(sb->wire);
	if (sb->log_fd >= 0)
		close(sb->log_fd);
	free(sb);
	r->sb = NULL;
}

int maz_in_sync(const struct rt *r)
{
	return r->sb && r->sb->sync_on;
}

int maz_can_failover(const struct rt *r)
{
	return r->sb && r->sb->pg && r->sb->streaming;
}

void maz_conf(const struct rt *r, struct pg_conf *cf)
{
	if (r->sb && r->sb->streaming)
		cf->sync_standby = MAZ_APP_NAME;
}

/* ---- synchronous replication on / off ---- */

static void sync_poll(struct rt_sb *sb);

/* sync_poll_cb: timer: asks the primary again. */
static void sync_poll_cb(struct loop *l, void *arg)
{
	struct rt_sb *sb = arg;
	sb->timer = 0;
	sync_poll(sb);
}

/* sync_cb: the primary's sync_state of the standby: "sync" marks the
 * standby in sync (and lets a waiting status move on); anything else is
 * asked again shortly, up to MAZ_SYNC_TRIES times. */
static void sync_cb(const struct pg_wire_result *res, void *arg)
{
	struct rt_sb *sb = arg;
	struct rt *r = sb->r;
	sb->wire = NULL;
	if (!sb->streaming)
		return;
	if (res->ok && res->value && !strcmp(res->value, "sync")) {
		sb->sync_on = 1;
		sb->crashes = 0;
		rt_event(r, "availability", "The Multi-AZ standby is in sync");
		if (r->up && !r->setup && !r->nsql)
			rt_become_available(r);
		return;
	}
	if (++sb->sync_tries < MAZ_SYNC_TRIES)
		sb->timer = loop_timer_add(r->fb->loop, MAZ_SYNC_POLL_MS, sync_poll_cb, sb);
}

/* sync_poll: asks the primary whether it now waits for the standby; the
 * status may say "in sync" only once acknowledged commits really do. */
static void sync_poll(struct rt_sb *sb)
{
	struct rt *r = sb->r;
	if (!r->up || sb->wire)
		return;
	sb->wire = pg_wire_run(r->fb->loop, r->sock, PG_ADMIN_USER, "postgres",
			       "SELECT coalesce((SELECT sync_state FROM pg_stat_replication WHERE "
			       "application_name = '" MAZ_APP_NAME "' LIMIT 1), 'none')",
			       5000, sync_cb, sb);
}

/* set_streaming: the standby started or stopped streaming; the primary's
 * synchronous_standby_names follows. */
static void set_streaming(struct rt_sb *sb, int on)
{
	if (sb->streaming == on)
		return;
	sb->streaming = on;
	sb->sync_on = 0;
	sb->sync_tries = 0;
	pg_wire_cancel(sb->wire);
	sb->wire = NULL;
	if (sb->timer)
		loop_timer_cancel(sb->r->fb->loop, sb->timer);
	sb->timer = 0;
	rt_reload_conf(sb->r);
	if (on)
		sync_poll(sb);
}

/* ---- the standby server ---- */

/* sb_line: one line of the standby's log: kept in standby.log; streaming
 * turns synchronous replication on; a history that diverged from the
 * primary's means a rebuild. */
static void sb_line(struct child *ch, int stream, const char *line, size_t n, void *arg)
{
	struct rt_sb *sb = arg;
	static const char *const diverged[] = {"is not a child of this server's history",
					       "forked off current database system timeline",
					       "requested starting point",
					       "is behind recovery timeline"};
	if (sb->log_fd >= 0) {
		struct iovec v[2] = {{(void *)line, n}, {"\n", 1}};
		if (writev(sb->log_fd, v, 2) < 0)
			log_debug("rds: standby log write: %s", strerror(errno));
	}
	log_debug("[%s] %.*s", child_name(ch), (int)n, line);
	if (memmem(line, n, "started streaming WAL from primary", 34)) {
		set_streaming(sb, 1);
		return;
	}
	for (size_t i = 0; i < FB_ARRAY_LEN(diverged); i++)
		if (memmem(line, n, diverged[i], strlen(diverged[i])) && !sb->rebuild) {
			/* its WAL went further than the new primary's: copy afresh */
			log_warn("rds: %s: the standby diverged from the primary; rebuilding it",
				 sb->r->ident);
			sb->rebuild = 1;
			child_stop(sb->pg);
			return;
		}
}

/* restart_cb: timer: the standby's restart (or rebuild) after backoff. */
static void restart_cb(struct loop *l, void *arg)
{
	struct rt_sb *sb = arg;
	sb->timer = 0;
	if (sb->r->up)
		maz_ensure(sb->r);
}

/* sb_exit: the standby is gone: commits stop waiting for it; an intended
 * stop runs its continuation, anything else is restarted with backoff
 * (rebuilt after MAZ_MAX_CRASHES in a row or when it diverged). */
static void sb_exit(struct child *ch, int st, void *arg)
{
	struct rt_sb *sb = arg;
	struct rt *r = sb->r;
	sb->pg = NULL;
	pg_wire_cancel(sb->wire);
	sb->wire = NULL;
	set_streaming(sb, 0); /* commits on the primary must not wait for it */
	if (sb->stopping) {
		void (*then)(struct rt *) = sb->then;
		sb->stopping = 0;
		sb->then = NULL;
		if (then)
			then(r);
		return;
	}
	if (sb->rebuild) {
		maz_ensure(r);
		return;
	}
	if (++sb->crashes > MAZ_MAX_CRASHES)
		sb->rebuild = 1;
	rt_event(r, "availability", "The Multi-AZ standby exited (status %d); restarting it", st);
	sb->timer = loop_timer_add(r->fb->loop, 200LL << (sb->crashes < 5 ? sb->crashes : 5),
				   restart_cb, sb);
}

/* standby_conf: the primary's settings (TLS, archive, parameter group)
 * for a hot standby of it on the unix socket only. */
static int standby_conf(struct rt *r, struct rt_sb *sb, struct arena *a, struct pg_conf *cf)
{
	struct rds_inst row;
	if (rds_inst_load(r->fb->db, a, r->id, &row) < 0 || rt_build_conf(r, &row, a, cf) < 0)
		return -1;
	cf->listen_addr = "";
	cf->sock_dir = sb->sock_dir;
	cf->sync_standby = NULL;
	cf->target_time = NULL;
	cf->hot_standby = 1;
	cf->primary_conninfo = arena_sprintf(a, "host='%s' port=%d user=%s application_name=%s",
					     r->sock_dir, r->port, PG_ADMIN_USER, MAZ_APP_NAME);
	/* the instance's archive: catch-up after a long absence, and (once
	 * promoted) where it archives to, so PITR spans failovers */
	cf->restore_dir = cf->archive_dir;
	return 0;
}

/* sb_start: writes the standby's configuration and spawns it; its log
 * says when it streams. */
static void sb_start(struct rt_sb *sb)
{
	struct rt *r = sb->r;
	struct arena *a = arena_new(4096);
	struct pg_conf cf;
	char *err = NULL, name[96], path[4200];
	if (pg_make_dir(sb->sock_dir) < 0 || standby_conf(r, sb, a, &cf) < 0 ||
	    pg_write_conf(sb->pgdata, &cf, &err) < 0) {
		log_error("rds: %s: cannot configure the standby: %s", r->ident,
			  err ? err : strerror(errno));
		free(err);
		arena_free(a);
		return;
	}
	arena_free(a);
	if (sb->log_fd < 0) {
		snprintf(path, sizeof(path), "%s/standby.log", r->dir);
		sb->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	}
	snprintf(name, sizeof(name), "rds/%s/standby", r->ident);
	sb->pg = pg_spawn_server(r->fb->loop, name, sb->pgdata, sb_exit, sb_line, sb, &err);
	if (!sb->pg) {
		log_error("rds: %s: %s", r->ident, err ? err : "cannot start the standby");
		free(err);
	}
}

void maz_ensure(struct rt *r)
{
	struct rt_sb *sb = sb_get(r);
	char ver[4200];
	if (sb->pg) {
		/* streaming while the primary restarted: confirm sync again */
		if (r->up && sb->streaming && !sb->sync_on && !sb->wire && !sb->timer) {
			sb->sync_tries = 0;
			sync_poll(sb);
		}
		return;
	}
	if (sb->timer || r->job || !r->up)
		return; /* waiting, or back here when the job ends */
	snprintf(ver, sizeof(ver), "%s/PG_VERSION", sb->pgdata);
	if (sb->rebuild || access(ver, F_OK) < 0) {
		if (job_clone(r, JOB_STANDBY_COPY, r->sock_dir, r->port, sb->pgdata) == 0) {
			sb->rebuild = 0;
			rt_event(r, "availability", "Building the Multi-AZ standby");
		}
		return;
	}
	sb_start(sb);
}

void maz_after_copy(struct rt *r, int ok)
{
	struct rt_sb *sb = sb_get(r);
	if (!ok) {
		rt_event(r, "failure", "Copying the data to the Multi-AZ standby failed");
		sb->timer = loop_timer_add(r->fb->loop, 1000, restart_cb, sb);
		return;
	}
	sb->crashes = 0;
	if (r->intent != RT_DELETE && r->intent != RT_STOP)
		sb_start(sb);
}

int maz_stop(struct rt *r, void (*then)(struct rt *r))
{
	struct rt_sb *sb = r->sb;
	if (!sb)
		return 0;
	if (sb->timer)
		loop_timer_cancel(r->fb->loop, sb->timer);
	sb->timer = 0;
	if (!sb->pg)
		return 0;
	sb->stopping = 1;
	sb->then = then;
	child_stop(sb->pg);
	return 1;
}

/* ---- failover ---- */

/* swap: the promoted standby's data dir becomes the primary's, and the
 * old primary's the standby's; the new primary starts on the endpoint. */
static void swap(struct rt *r)
{
	struct rt_sb *sb = r->sb;
	struct arena *a = arena_new(2048);
	struct rds_inst row;
	if (rds_inst_load(r->fb->db, a, r->id, &row) == 0) {
		/* the AZs trade places too, as AWS reports them */
		struct jv *attrs = rds_json(a, row.attrs);
		const char *az = jv_get_str(attrs, "AvailabilityZone");
		const char *az2 = jv_get_str(attrs, "SecondaryAvailabilityZone");
		if (!az2)
			az2 = arena_sprintf(a, "%s%c", r->region,
					    az && az[strlen(az) - 1] == 'b' ? 'a' : 'b');
		if (az) {
			jv_set_str(a, attrs, "SecondaryAvailabilityZone", az);
			jv_set_str(a, attrs, "AvailabilityZone", az2);
		}
		sqlite3_stmt *st = db_stmt(r->fb->db, "UPDATE rds_instances SET primary_node = ?2, "
						      "attrs = ?3 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int(st, 2, !r->node);
		sqlite3_bind_text(st, 3, rds_json_text(a, attrs), -1, SQLITE_STATIC);
		if (db_step_done(st) != SQLITE_DONE)
			log_error("rds: %s: cannot record the failover", r->ident);
	}
	arena_free(a);
	r->node = !r->node;
	rt_node_pgdata(r->dir, r->node, r->pgdata, sizeof(r->pgdata));
	if (sb)
		maz_standby_pgdata(r, sb->pgdata, sizeof(sb->pgdata));
	r->announce_failover = 1;
	r->crashes = 0;
	rt_start_server(r);
}

/* promote_cb: pg_promote() on the standby answered: promoted, it is
 * stopped to move to the endpoint (swap); not promoted, the old primary
 * starts again with its data intact. */
static void promote_cb(const struct pg_wire_result *res, void *arg)
{
	struct rt_sb *sb = arg;
	struct rt *r = sb->r;
	sb->wire = NULL;
	if (!res->ok || !res->value || strcmp(res->value, "t")) {
		/* the old primary's data is intact: it serves again */
		rt_event(r, "failure",
			 "Multi-AZ failover failed: the standby was not promoted (%s)",
			 res->error ? res->error : "timed out");
		r->announce_failover = 0;
		rt_start_server(r);
		return;
	}
	/* promoted; it must move to the endpoint, which means a restart */
	sb->stopping = 1;
	sb->then = swap;
	child_stop(sb->pg);
}

void maz_primary_down(struct rt *r)
{
	struct rt_sb *sb = r->sb;
	if (!sb || !sb->pg) {
		rt_event(r, "failure", "Multi-AZ failover failed: no standby is running");
		rt_start_server(r);
		return;
	}
	pg_wire_cancel(sb->wire);
	sb->wire = pg_wire_run(r->fb->loop, sb->sock, PG_ADMIN_USER, "postgres",
			       "SELECT pg_promote(true, 60)", 70000, promote_cb, sb);
}

/* ---- what the handlers ask for ---- */

int rds_rt_can_failover(int64_t id)
{
	struct rt *r = rt_find(id);
	return r && r->up && maz_can_failover(r);
}

void rds_rt_failover(struct fogbank *fb, int64_t id)
{
	struct rt *r = rt_find(id);
	if (!r)
		return;
	rt_event(r, "failover", "Multi-AZ instance failover started");
	r->failover_mono_ms = fb_mono_ms();
	if (!r->pg) {
		maz_primary_down(r);
		return;
	}
	/* a fast shutdown: the walsender hands the standby everything, down
	 * to the shutdown checkpoint, before the primary exits */
	r->intent = RT_FAILOVER;
	child_stop(r->pg);
}

/* drop_standby: the standby is down after Multi-AZ was switched off: its
 * files go and the primary stops naming it. */
static void drop_standby(struct rt *r)
{
	char dir[4200];
	maz_standby_pgdata(r, dir, sizeof(dir));
	maz_free(r);
	job_remove_dir(r->fb, dir, NULL, 0);
	rt_reload_conf(r);
	rt_event(r, "configuration change", "The Multi-AZ standby was removed");
}

void rds_rt_multi_az(struct fogbank *fb, int64_t id, int on)
{
	struct rt *r = rt_find(id);
	if (!r)
		return;
	if (on) {
		r->await_standby = 1; /* modifying until it is in sync */
		if (r->up && !r->job)
			rt_become_available(r);
		return;
	}
	r->await_standby = 0;
	maz_disable(r);
}

void maz_disable(struct rt *r)
{
	if (r->sb && !maz_stop(r, drop_standby))
		drop_standby(r);
}
