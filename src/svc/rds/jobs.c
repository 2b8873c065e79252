/* jobs.c - the tools an instance's runtime runs as supervised children:
 * initdb (the shared template), copies of a cluster (cp -a, then rename
 * so a half copy is never taken for a whole one), pg_basebackup for
 * snapshots, automated backups, read replicas and the Multi-AZ standby
 * (progress parsed from its output), and removals. A snapshot of an
 * encrypted instance is a tar stream the tool writes into a FIFO that
 * snapcrypt.c seals; restoring it feeds tar the opened stream. Each job
 * ends in rt_after_job or a snapshot row update. */
#include "core/compat.h"
#include "core/child.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "supervise/postgres.h"
#include "svc/rds/rt.h"
#include "svc/rds/snapcrypt.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct job {
	struct fogbank *fb;
	int kind;
	int64_t inst_id, snap_id;
	char final[4200], tmp[4300]; /* rename tmp -> final on success */
	int last_pct;
	void (*done)(struct fogbank *fb, int64_t arg, int ok);
	struct sc *sc; /* the encrypted stream the tool feeds or reads */
};

static int template_state; /* 0 unknown, 1 building, 2 ready */

/* sh -c script copying "$2" to "$1" and flushing every file and directory
 * of the copy: a snapshot is "available" only once it would survive a
 * power cut (pg_basebackup flushes its own output likewise) */
#define COPY_DURABLY "rm -rf \"$1\" && cp -a \"$2\" \"$1\" && find \"$1\" -exec sync -- {} +"

void job_template_dir(struct fogbank *fb, char *out, size_t cap)
{
	snprintf(out, cap, "%s/rds/template", fb->data_dir);
}

/* snap_update: a snapshot's status and progress (autocommit). */
static void snap_update(struct fogbank *fb, int64_t id, const char *status, int pct)
{
	sqlite3_stmt *st = db_stmt(fb->db, "UPDATE rds_snapshots SET status = coalesce(?2, "
					   "status), progress = ?3 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	if (status)
		sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, pct);
	db_step_done(st);
}

static void job_line(struct child *ch, int stream, const char *line, size_t n, void *arg)
{
	struct job *j = arg;
	int pct = pg_progress_pct(line, n);
	if (pct >= 0) {
		/* 100% comes only with the rename: the copy is not usable before */
		if (j->kind == JOB_SNAPSHOT && pct != j->last_pct && pct < 100)
			snap_update(j->fb, j->snap_id, NULL, pct);
		j->last_pct = pct;
		return;
	}
	log_info("[%s] %.*s", child_name(ch), (int)n, line);
}

static void job_exit(struct child *ch, int status, void *arg)
{
	struct job *j = arg;
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (j->sc) {
		/* the stream must be whole too before the rename makes it count */
		if (sc_finish(j->sc, ok) < 0 && ok) {
			log_error("rds: %s: the encrypted stream is incomplete", child_name(ch));
			ok = 0;
		}
		j->sc = NULL;
	}
	if (ok && j->final[0] && rename(j->tmp, j->final) < 0) {
		log_error("rds: rename %s: %s", j->tmp, strerror(errno));
		ok = 0;
	}
	if (!ok)
		log_warn("[%s] failed (status %d)", child_name(ch), status);
	struct rt *r = j->inst_id ? rt_find(j->inst_id) : NULL;
	if (r && r->job == j)
		r->job = NULL;
	if (j->kind == JOB_SNAPSHOT || j->kind == JOB_COPY_SNAP) {
		snap_update(j->fb, j->snap_id, ok ? "available" : "failed", ok ? 100 : j->last_pct);
		struct rds_snap s;
		struct arena *a = arena_new(4096);
		if (rds_snap_load(j->fb->db, a, j->snap_id, &s) == 0)
			rds_event(j->fb, s.account, s.region, "db-snapshot", s.ident, "creation",
				  ok ? "Manual snapshot created" : "Snapshot failed");
		arena_free(a);
	}
	if (j->kind == JOB_TEMPLATE) {
		template_state = ok ? 2 : 0;
		rt_template_done(j->fb, ok);
	}
	if (j->done)
		j->done(j->fb, j->snap_id, ok);
	if (r && j->kind != JOB_TEMPLATE)
		rt_after_job(r, j->kind, ok);
	free(j);
}

/* spawn: runs argv for job j. 0, or -1 (j freed). */
static int spawn(struct job *j, const char *name, char *const *argv, int as_postgres)
{
	char *err = NULL;
	struct child *ch =
	    pg_spawn_tool(j->fb->loop, name, argv, as_postgres, job_exit, job_line, j, &err);
	if (!ch) {
		log_error("rds: %s: %s", name, err ? err : "spawn failed");
		free(err);
		if (j->sc)
			sc_finish(j->sc, 0);
		free(j);
		return -1;
	}
	return 0;
}

static struct job *job_new(struct fogbank *fb, int kind, int64_t inst, int64_t snap)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		fb_die("out of memory");
	j->fb = fb;
	j->kind = kind;
	j->inst_id = inst;
	j->snap_id = snap;
	j->last_pct = 0;
	return j;
}

int job_template_ready(struct fogbank *fb)
{
	char dir[4096], ver[4200];
	job_template_dir(fb, dir, sizeof(dir));
	snprintf(ver, sizeof(ver), "%s/PG_VERSION", dir);
	if (template_state == 2 || access(ver, F_OK) == 0) {
		template_state = 2;
		return 1;
	}
	if (template_state == 1)
		return 0;
	struct job *j = job_new(fb, JOB_TEMPLATE, 0, 0);
	snprintf(j->final, sizeof(j->final), "%s", dir);
	snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", dir);
	char bin[256];
	/* a leftover half template goes first; initdb wants an empty dir */
	char *argv[] = {"/bin/sh",
			"-c",
			"rm -rf \"$1\" && exec \"$2\" -D \"$1\" -U " PG_ADMIN_USER
			" -E UTF8 --locale=C.UTF-8 -A trust",
			"sh",
			j->tmp,
			(char *)pg_bin("initdb", bin, sizeof(bin)),
			NULL};
	template_state = 1;
	if (spawn(j, "rds/initdb-template", argv, 1) < 0) {
		template_state = 0;
		return -1;
	}
	return 0;
}

int job_copy_in(struct rt *r, const char *src)
{
	struct job *j = job_new(r->fb, JOB_COPY_IN, r->id, 0);
	snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", r->pgdata);
	snprintf(j->final, sizeof(j->final), "%s", r->pgdata);
	/* cp -a keeps the postgres ownership; pg_basebackup output may hold a
	 * postmaster.pid-free cluster only, but a copy of a stopped pgdata
	 * does not either (clean shutdown removes it) */
	char *argv[] = {
	    "/bin/sh",
	    "-c",
	    "rm -rf \"$1\" \"$2\" && cp -a \"$3\" \"$1\" && rm -f \"$1/postmaster.pid\" "
	    "&& chmod 0700 \"$1\"",
	    "sh",
	    j->tmp,
	    r->pgdata,
	    (char *)src,
	    NULL};
	char name[96];
	snprintf(name, sizeof(name), "rds/%s/copy", r->ident);
	if (spawn(j, name, argv, 0) < 0)
		return -1;
	r->job = j;
	return 0;
}

int job_sync(struct rt *r)
{
	struct job *j = job_new(r->fb, JOB_SYNC, r->id, 0);
	char bin[256];
	char *argv[] = {(char *)pg_bin("initdb", bin, sizeof(bin)), "--sync-only", "-D", r->pgdata,
			NULL};
	char name[96];
	snprintf(name, sizeof(name), "rds/%s/sync", r->ident);
	return spawn(j, name, argv, 1);
}

int job_backup(struct rt *r)
{
	struct job *j = job_new(r->fb, JOB_BACKUP, r->id, 0);
	long long start = (long long)fb_wall_ms();
	char dir[4100];
	snprintf(dir, sizeof(dir), "%s/backups", r->dir);
	if (pg_make_dir(dir) < 0) {
		free(j);
		return -1;
	}
	snprintf(j->tmp, sizeof(j->tmp), "%s/%lld.tmp", dir, start);
	/* the end time is known only at the end: renamed in rt_after_job */
	char *argv[16], buf[8600];
	if (pg_basebackup_argv(r->sock_dir, r->port, j->tmp, argv, buf, sizeof(buf)) < 0) {
		free(j);
		return -1;
	}
	char name[96];
	snprintf(name, sizeof(name), "rds/%s/backup", r->ident);
	if (spawn(j, name, argv, 1) < 0)
		return -1;
	r->job = j;
	return 0;
}

/* (tar -b 2048: 1 MiB records, a sealed record each, and -B on reading:
 * a FIFO read in 10 KiB records halves the throughput.) */

/* seal_into: makes j a tool writing a tar stream (argv, run as postgres)
 * into a FIFO next to j->tmp, sealed into j->tmp/base.tar.enc under
 * snapshot snap_id's data key (made now if it has none). 0, or -1 with j
 * freed. */
static int seal_into(struct job *j, int64_t snap_id, const char *name, char *const *tool)
{
	unsigned char key[SC_KEY_LEN];
	char fifo[4400], out[4400], *argv[32];
	snprintf(fifo, sizeof(fifo), "%s.fifo", j->final);
	snprintf(out, sizeof(out), "%s/" SC_FILE, j->tmp);
	/* a leftover from an interrupted attempt holds one sealed file */
	unlink(out);
	rmdir(j->tmp);
	if (sc_data_key(j->fb, snap_id, 1, key) < 0 || pg_make_dir(j->tmp) < 0) {
		free(j);
		return -1;
	}
	j->sc = sc_encrypt_start(j->fb->loop, fifo, out, key);
	OPENSSL_cleanse(key, sizeof(key));
	if (!j->sc) {
		log_error("rds: %s: %s", name, strerror(errno));
		free(j);
		return -1;
	}
	/* the shell opens the FIFO for the tool's stdout; we already hold its
	 * read end, so that never blocks */
	int i = 0;
	argv[i++] = "/bin/sh";
	argv[i++] = "-c";
	argv[i++] = "f=\"$1\"; shift; exec \"$@\" > \"$f\"";
	argv[i++] = "sh";
	argv[i++] = fifo;
	for (int k = 0; tool[k] && i < 31; k++)
		argv[i++] = tool[k];
	argv[i] = NULL;
	return spawn(j, name, argv, 1);
}

int job_snapshot(struct rt *r, int64_t snap_id)
{
	struct job *j = job_new(r->fb, JOB_SNAPSHOT, r->id, snap_id);
	char parent[4200];
	snprintf(parent, sizeof(parent), "%s/rds/snap", r->fb->data_dir);
	if (pg_make_dir(parent) < 0) {
		free(j);
		return -1;
	}
	rds_snap_dir(r->fb->data_dir, snap_id, j->final, sizeof(j->final));
	snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", j->final);
	char name[96];
	snprintf(name, sizeof(name), "rds/%s/snapshot", r->ident);
	struct arena *a = arena_new(1024);
	struct rds_snap snap;
	int sealed = rds_snap_load(r->fb->db, a, snap_id, &snap) == 0 && snap.encrypted;
	arena_free(a);
	if (sealed) {
		char *tool[16], buf[8600];
		char *tar[] = {"/bin/tar", "-C", r->pgdata, "-b", "2048", "-cf", "-", ".", NULL};
		if (r->up &&
		    pg_basebackup_tar_argv(r->sock_dir, r->port, tool, buf, sizeof(buf)) < 0) {
			free(j);
			return -1;
		}
		if (seal_into(j, snap_id, name, r->up ? tool : tar) < 0)
			return -1;
		r->job = j;
		return 0;
	}
	if (r->up) {
		char *argv[16], buf[8600];
		if (pg_basebackup_argv(r->sock_dir, r->port, j->tmp, argv, buf, sizeof(buf)) < 0) {
			free(j);
			return -1;
		}
		if (spawn(j, name, argv, 1) < 0)
			return -1;
	} else {
		/* a stopped cluster: its files are a consistent copy */
		char *argv[] = {"/bin/sh", "-c", COPY_DURABLY, "sh", j->tmp, r->pgdata, NULL};
		if (spawn(j, name, argv, 0) < 0)
			return -1;
	}
	r->job = j;
	return 0;
}

/* has_data_key: 1 when snapshot id's files are sealed. */
static int has_data_key(struct fogbank *fb, int64_t id)
{
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT data_key IS NOT NULL FROM rds_snapshots "
					   "WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	int sealed = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return sealed;
}

void rds_rt_copy_snapshot(struct fogbank *fb, int64_t from_id, int64_t to_id)
{
	struct job *j = job_new(fb, JOB_COPY_SNAP, 0, to_id);
	char src[4096];
	rds_snap_dir(fb->data_dir, from_id, src, sizeof(src));
	rds_snap_dir(fb->data_dir, to_id, j->final, sizeof(j->final));
	snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", j->final);
	struct arena *a = arena_new(1024);
	struct rds_snap to;
	int seal =
	    rds_snap_load(fb->db, a, to_id, &to) == 0 && to.encrypted && !has_data_key(fb, from_id);
	arena_free(a);
	if (seal) {
		/* a plain snapshot copied with a KMS key: sealed on the way */
		char *tar[] = {"/bin/tar", "-C", src, "-b", "2048", "-cf", "-", ".", NULL};
		if (seal_into(j, to_id, "rds/copy-snapshot", tar) < 0)
			snap_update(fb, to_id, "failed", 0);
		return;
	}
	/* the same files; a sealed source's data key was copied with its row */
	char *argv[] = {"/bin/sh", "-c", COPY_DURABLY, "sh", j->tmp, src, NULL};
	if (spawn(j, "rds/copy-snapshot", argv, 0) < 0)
		snap_update(fb, to_id, "failed", 0);
}

int job_restore_snapshot(struct rt *r, int64_t snap_id)
{
	char src[4096], in[4200], fifo[4200];
	rds_snap_dir(r->fb->data_dir, snap_id, src, sizeof(src));
	if (!has_data_key(r->fb, snap_id))
		return job_copy_in(r, src);
	unsigned char key[SC_KEY_LEN];
	if (sc_data_key(r->fb, snap_id, 0, key) < 0)
		return -1;
	struct job *j = job_new(r->fb, JOB_COPY_IN, r->id, 0);
	snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", r->pgdata);
	snprintf(j->final, sizeof(j->final), "%s", r->pgdata);
	snprintf(in, sizeof(in), "%s/" SC_FILE, src);
	snprintf(fifo, sizeof(fifo), "%s/restore.fifo", r->dir);
	j->sc = sc_decrypt_start(r->fb->loop, fifo, in, key);
	OPENSSL_cleanse(key, sizeof(key));
	if (!j->sc) {
		log_error("rds: %s: cannot open snapshot %s: %s", r->ident, in, strerror(errno));
		free(j);
		return -1;
	}
	char *argv[] = {"/bin/sh",
			"-c",
			"rm -rf \"$1\" \"$2\" && mkdir -m 0700 \"$1\" && exec /bin/tar -xf \"$3\" "
			"-b 2048 -B -C \"$1\"",
			"sh",
			j->tmp,
			r->pgdata,
			fifo,
			NULL};
	char name[96];
	snprintf(name, sizeof(name), "rds/%s/restore", r->ident);
	if (spawn(j, name, argv, 1) < 0)
		return -1;
	r->job = j;
	return 0;
}

int job_clone(struct rt *r, int kind, const char *sock_dir, int port, const char *dst)
{
	struct job *j = job_new(r->fb, kind, r->id, 0);
	snprintf(j->final, sizeof(j->final), "%s", dst);
	snprintf(j->tmp, sizeof(j->tmp), "%s.tmp", dst);
	char *bb[16], buf[8600], *argv[32];
	if (pg_basebackup_argv(sock_dir, port, j->tmp, bb, buf, sizeof(buf)) < 0) {
		free(j);
		return -1;
	}
	/* pg_basebackup wants a missing or empty target */
	int i = 0;
	argv[i++] = "/bin/sh";
	argv[i++] = "-c";
	argv[i++] = "rm -rf \"$1\" \"$2\" && shift 2 && exec \"$@\"";
	argv[i++] = "sh";
	argv[i++] = j->tmp;
	argv[i++] = j->final;
	for (int k = 0; bb[k] && i < 31; k++)
		argv[i++] = bb[k];
	argv[i] = NULL;
	char name[96];
	snprintf(name, sizeof(name), "rds/%s/%s", r->ident,
		 kind == JOB_STANDBY_COPY ? "standby-copy" : "replica-copy");
	if (spawn(j, name, argv, 1) < 0)
		return -1;
	r->job = j;
	return 0;
}

int job_remove_dir(struct fogbank *fb, const char *dir,
		   void (*done)(struct fogbank *, int64_t, int), int64_t arg)
{
	struct job *j = job_new(fb, JOB_REMOVE, 0, arg);
	j->done = done;
	db_sync(fb->db); /* the commit that let go of dir comes first */
	char *argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
	return spawn(j, "rds/remove", argv, 0);
}

/* snap_removed: the files are gone: drop the row. */
static void snap_removed(struct fogbank *fb, int64_t id, int ok)
{
	struct arena *a = arena_new(4096);
	struct rds_snap s;
	if (rds_snap_load(fb->db, a, id, &s) == 0)
		rds_tags_drop(fb->db, s.arn);
	arena_free(a);
	sqlite3_stmt *st = db_stmt(fb->db, "DELETE FROM rds_snapshots WHERE id = ?1");
	sqlite3_bind_int64(st, 1, id);
	db_step_done(st);
}

void rds_rt_remove_snapshot(struct fogbank *fb, int64_t snap_id)
{
	char dir[4096];
	rds_snap_dir(fb->data_dir, snap_id, dir, sizeof(dir));
	if (job_remove_dir(fb, dir, snap_removed, snap_id) < 0)
		snap_removed(fb, snap_id, 0);
}
