/* pitr.c - automated backups and point-in-time restore, and bringing
 * instances back after a fogbank restart.
 *
 * With BackupRetentionPeriod > 0 the server archives every WAL segment
 * durably into <inst>/archive (archive_timeout bounds how stale the
 * archive gets) and fogbank takes a base backup at creation and daily.
 * RestoreDBInstanceToPointInTime first makes the source archive
 * everything up to now (a commit, then pg_switch_wal, then waiting for the
 * segment to land), then builds the new instance from the newest base
 * backup that ended before the target, replaying archived WAL up to
 * recovery_target_time and promoting. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/rds_ops.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "supervise/pg_wire.h"
#include "supervise/postgres.h"
#include "svc/rds/rt.h"
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_MS (86400LL * 1000)

/* newest_backup: the name of the newest complete base backup of instance
 * dir that ended at or before before_ms (0: any) into out; its end time,
 * or 0 when none. */
static int64_t newest_backup(const char *dir, int64_t before_ms, char *out, size_t cap)
{
	char path[4300];
	snprintf(path, sizeof(path), "%s/backups", dir);
	DIR *d = opendir(path);
	int64_t best = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *dash = strchr(e->d_name, '-');
		if (!dash || strstr(e->d_name, ".tmp"))
			continue;
		int64_t end = atoll(dash + 1);
		if (end > best && (!before_ms || end <= before_ms)) {
			best = end;
			snprintf(out, cap, "%s", e->d_name);
		}
	}
	if (d)
		closedir(d);
	return best;
}

/* A PITR restore waiting for its source to archive up to now. */
struct pitr_wait {
	struct fogbank *fb;
	int64_t new_id;
	int64_t src_id;
	char segment[64];
	char archive[4300];
	int tries;
	struct pg_wire *w;
};

static void pitr_go(struct pitr_wait *p, int ok)
{
	if (!ok)
		log_warn("rds: could not force WAL archiving before a restore; restoring from what "
			 "is archived");
	rds_rt_provision(p->fb, p->new_id);
	free(p);
}

static void pitr_poll(struct loop *l, void *arg)
{
	struct pitr_wait *p = arg;
	char f[4400];
	snprintf(f, sizeof(f), "%s/%s", p->archive, p->segment);
	if (access(f, F_OK) == 0 || ++p->tries > 600) {
		pitr_go(p, p->tries <= 600);
		return;
	}
	loop_timer_add(l, 50, pitr_poll, p);
}

static void switch_cb(const struct pg_wire_result *res, void *arg)
{
	struct pitr_wait *p = arg;
	if (!res->ok || !res->value) {
		pitr_go(p, 0);
		return;
	}
	snprintf(p->segment, sizeof(p->segment), "%s", res->value);
	pitr_poll(p->fb->loop, p);
}

static void commit_cb(const struct pg_wire_result *res, void *arg)
{
	struct pitr_wait *p = arg;
	struct rt *r = rt_find(p->src_id);
	if (!res->ok || !r || !r->up) {
		pitr_go(p, 0);
		return;
	}
	/* a separate statement: the commit record must precede the switch */
	pg_wire_run(p->fb->loop, r->sock, PG_ADMIN_USER, "postgres",
		    "SELECT pg_walfile_name(pg_switch_wal())", 10000, switch_cb, p);
}

/* start_pitr: forces the source to archive everything up to now (a
 * commit so a record after the target exists, then a segment switch),
 * then provisions the new instance. */
static void start_pitr(struct fogbank *fb, int64_t src_id, int64_t new_id)
{
	struct pitr_wait *p = calloc(1, sizeof(*p));
	if (!p)
		fb_die("out of memory");
	p->fb = fb;
	p->new_id = new_id;
	p->src_id = src_id;
	struct rt *r = rt_find(src_id);
	snprintf(p->archive, sizeof(p->archive), "%s/archive", r ? r->dir : "");
	if (!r || !r->up) {
		pitr_go(p, 1);
		return;
	}
	pg_wire_run(fb->loop, r->sock, PG_ADMIN_USER, "postgres", "SELECT txid_current()", 10000,
		    commit_cb, p);
}

int rds_op_restore_db_instance_to_point_in_time(struct aws_call *c)
{
	struct rds_inst src;
	const char *sid = jv_get_str(c->in, "SourceDBInstanceIdentifier");
	if (!sid)
		return aws_fail(c, 400, "InvalidParameterValue",
				"SourceDBInstanceIdentifier is required.");
	if (rds_inst_find(c, sid, &src) < 0)
		return -1;
	if (src.retention == 0)
		return aws_fail(c, 400, "InvalidDBInstanceState",
				"Automated backups are not enabled for instance %s.", src.ident);
	int latest = jv_get_bool(c->in, "UseLatestRestorableTime", 0);
	struct jv *tv = jv_get(c->in, "RestoreTime");
	if (latest == !!tv)
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Exactly one of RestoreTime and UseLatestRestorableTime must be "
				"given.");
	double now = (double)c->now_ms / 1000.0;
	double target = tv ? jv_get_double(c->in, "RestoreTime", 0) : now;
	if (target > now)
		return aws_fail(c, 400, "InvalidRestoreFault",
				"The restore time is after the latest restorable time.");
	char sdir[4096], backup[256];
	rds_inst_dir(c->fb->data_dir, src.id, sdir, sizeof(sdir));
	if (!newest_backup(sdir, (int64_t)(target * 1000), backup, sizeof(backup)))
		return aws_fail(c, 400, "InvalidRestoreFault",
				"The restore time is before the earliest restorable time.");
	struct rds_inst r = {0};
	struct jv *attrs = jv_object(c->a);
	const char *target_ident = jv_get_str(c->in, "TargetDBInstanceIdentifier");
	jv_set_str(c->a, c->in, "DBInstanceIdentifier", target_ident);
	if (rds_inst_prepare(c, &r, attrs) < 0)
		return -1;
	r.engine_version = src.engine_version;
	r.master_user = src.master_user;
	r.db_name = src.db_name;
	r.storage = (int)jv_get_int(c->in, "AllocatedStorage", src.storage);
	if (!jv_get(c->in, "Port"))
		r.port = src.port;
	if (!r.klass)
		r.klass = src.klass;
	r.retention = (int)jv_get_int(c->in, "BackupRetentionPeriod", src.retention);
	r.encrypted = src.encrypted;
	r.kms_key_id = src.kms_key_id;
	struct jv *p = jv_object(c->a);
	jv_set_int(c->a, p, "src", src.id);
	jv_set_str(c->a, p, "backup", backup);
	if (!latest) {
		char iso[32];
		fmt_iso8601(iso, target);
		iso[19] = 0; /* seconds; PostgreSQL reads the zone from the suffix */
		jv_set_str(c->a, p, "target",
			   arena_sprintf(c->a, "%s.%03d+00", iso,
					 (int)((target - (double)(int64_t)target) * 1000)));
	}
	r.source = arena_sprintf(c->a, "pitr:%s", rds_json_text(c->a, p));
	r.attrs = rds_json_text(c->a, attrs);
	int64_t id = 0;
	if (rds_tx_begin(c) < 0)
		return -1;
	if (rds_inst_alloc_addr(c, &r) < 0 || rds_inst_insert(c, &r, NULL, &id) < 0 ||
	    rds_tags_put(c, r.arn, jv_get(c->in, "Tags")) < 0 || rds_tx_end(c, 0) < 0)
		return rds_tx_end(c, -1);
	rds_event(c->fb, c->account, c->region, "db-instance", r.ident, "creation",
		  "Restoring DB instance from %s to a point in time", src.ident);
	start_pitr(c->fb, src.id, id);
	struct rds_inst row;
	if (rds_inst_load(c->fb->db, c->a, id, &row) < 0)
		return rds_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "DBInstance", rds_inst_out(c, &row));
	return 0;
}

int rds_op_describe_db_instance_automated_backups(struct aws_call *c)
{
	struct rds_inst *v;
	size_t n = rds_inst_list(c->fb->db, c->a, c->account, c->region, &v);
	const char *only = jv_get_str(c->in, "DBInstanceIdentifier");
	struct jv *list = jv_array(c->a);
	for (size_t i = 0; i < n; i++) {
		if (v[i].retention == 0 || (only && strcasecmp(only, v[i].ident)))
			continue;
		char dir[4096], first[256];
		rds_inst_dir(c->fb->data_dir, v[i].id, dir, sizeof(dir));
		struct jv *b = jv_object(c->a);
		jv_set_str(c->a, b, "DBInstanceArn", v[i].arn);
		jv_set_str(c->a, b, "DbiResourceId", v[i].resource_id);
		jv_set_str(c->a, b, "Region", v[i].region);
		jv_set_str(c->a, b, "DBInstanceIdentifier", v[i].ident);
		struct jv *rw = jv_object(c->a);
		double earliest = 0;
		/* the oldest backup bounds the window */
		char path[4300];
		snprintf(path, sizeof(path), "%s/backups", dir);
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			const char *dash = strchr(e->d_name, '-');
			if (!dash || strstr(e->d_name, ".tmp"))
				continue;
			double end = (double)atoll(dash + 1) / 1000.0;
			if (!earliest || end < earliest)
				earliest = end;
		}
		if (d)
			closedir(d);
		FB_UNUSED(first);
		if (earliest)
			jv_set_double(c->a, rw, "EarliestTime", earliest);
		double latest = rds_latest_restorable(c->fb, v[i].id);
		if (latest)
			jv_set_double(c->a, rw, "LatestTime", latest);
		jv_set(c->a, b, "RestoreWindow", rw);
		jv_set_int(c->a, b, "AllocatedStorage", v[i].storage);
		jv_set_str(c->a, b, "Status", "active");
		jv_set_int(c->a, b, "Port", v[i].port);
		jv_set_str(c->a, b, "Engine", "postgres");
		jv_set_str(c->a, b, "EngineVersion", v[i].engine_version);
		jv_set_str(c->a, b, "MasterUsername", v[i].master_user);
		jv_set_double(c->a, b, "InstanceCreateTime", v[i].created);
		jv_set_bool(c->a, b, "Encrypted", v[i].encrypted);
		jv_set_int(c->a, b, "BackupRetentionPeriod", v[i].retention);
		jv_set_str(c->a, b, "BackupTarget", "region");
		jv_push(c->a, list, b);
	}
	jv_set(c->a, aws_out(c), "DBInstanceAutomatedBackups", list);
	return 0;
}

/* kill_stale: a postmaster of this pgdata left running by an earlier
 * fogbank (one that could not take it down) is killed with its group, so
 * the new one can start; waits up to 2 s for it to go. */
static void kill_stale(const char *pgdata)
{
	char path[4300], comm[64] = "";
	snprintf(path, sizeof(path), "%s/postmaster.pid", pgdata);
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (!f)
		return;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 1)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	if (strncmp(comm, "postgres", 8))
		return;
	log_warn("rds: killing stale postmaster %ld of %s", pid, pgdata);
	kill(-(pid_t)pid, SIGKILL);
	kill((pid_t)pid, SIGKILL);
	int64_t until = fb_mono_ms() + 2000;
	while (kill((pid_t)pid, 0) == 0 && fb_mono_ms() < until)
		usleep(10000);
}

void rds_restore_all(struct fogbank *fb)
{
	struct arena *a = arena_new(8192);
	struct rds_inst *v;
	char rdsdir[4096];
	snprintf(rdsdir, sizeof(rdsdir), "%s/rds", fb->data_dir);
	/* the postgres user must reach <data_dir>/rds/... (CI data dirs are 0700) */
	pg_allow_traverse(fb->data_dir);
	size_t n = rds_inst_list(fb->db, a, NULL, NULL, &v);
	if (n && pg_make_dir(rdsdir) < 0)
		log_error("rds: cannot create %s", rdsdir);
	db_exec(fb->db, "UPDATE rds_snapshots SET status = 'failed' WHERE status = 'creating'");
	for (size_t i = 0; i < n; i++) {
		struct rds_inst *r = &v[i];
		struct rt *t = rt_get(fb, r->id);
		if (!t)
			continue;
		kill_stale(t->pgdata);
		char sb[4200];
		maz_standby_pgdata(t, sb, sizeof(sb));
		kill_stale(sb);
		if (!strcmp(r->status, "deleting")) {
			rds_rt_delete(fb, r->id, 0);
		} else if (!r->provisioned) {
			rds_rt_provision(fb, r->id);
		} else if (!r->want_running) {
			rds_set_status(fb->db, r->id, "stopped");
		} else {
			rds_set_status(fb->db, r->id, "starting");
			rds_rt_start(fb, r->id);
		}
	}
	arena_free(a);
}

/* prune: removes base backups older than the retention (keeping the
 * newest) and archived WAL older than the oldest kept backup. */
static void prune(struct fogbank *fb, const struct rds_inst *r, int64_t now_ms)
{
	char dir[4096], path[4300], f[4600];
	rds_inst_dir(fb->data_dir, r->id, dir, sizeof(dir));
	char newest[256];
	int64_t newest_end = newest_backup(dir, 0, newest, sizeof(newest));
	if (!newest_end)
		return;
	int64_t keep_from = now_ms - (int64_t)r->retention * DAY_MS, oldest_kept = newest_end;
	snprintf(path, sizeof(path), "%s/backups", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *dash = strchr(e->d_name, '-');
		if (!dash || strstr(e->d_name, ".tmp") || !strcmp(e->d_name, newest))
			continue;
		int64_t start = atoll(e->d_name), end = atoll(dash + 1);
		if (end < keep_from) {
			snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
			job_remove_dir(fb, f, NULL, 0);
		} else if (start < oldest_kept) {
			oldest_kept = start;
		}
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/archive", dir);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		struct stat st;
		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		if (e->d_name[0] != '.' && stat(f, &st) == 0 &&
		    (int64_t)st.st_mtime * 1000 < oldest_kept - 60000)
			unlink(f);
	}
	if (d)
		closedir(d);
}

void rds_tick(struct fogbank *fb, int64_t now_ms)
{
	struct arena *a = arena_new(8192);
	struct rds_inst *v;
	size_t n = rds_inst_list(fb->db, a, NULL, NULL, &v);
	for (size_t i = 0; i < n; i++) {
		if (v[i].retention == 0 || strcmp(v[i].status, "available"))
			continue;
		prune(fb, &v[i], now_ms);
		char dir[4096], name[256];
		rds_inst_dir(fb->data_dir, v[i].id, dir, sizeof(dir));
		struct rt *r = rt_find(v[i].id);
		if (r && r->up && !r->job &&
		    newest_backup(dir, 0, name, sizeof(name)) < now_ms - DAY_MS &&
		    job_backup(r) == 0)
			rds_set_status(fb->db, v[i].id, "backing-up");
	}
	arena_free(a);
}
