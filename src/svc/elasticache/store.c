/* store.c - rows, transactions, errors, ARNs, events, paging and the
 * files of the elasticache component. */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "store/addr.h"
#include "svc/elasticache/internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define EC_CLUSTER_COLS                                                                            \
	"SELECT c.id, IFNULL(c.rg_id, 0), c.account, c.region, c.name, c.status, c.node_type, "    \
	"c.engine_version, c.param_group, c.param_status, c.subnet_group, c.security_groups, "     \
	"c.az, c.maint_window, c.snap_window, c.notification_arn, NULL, "                          \
	"NULL, c.role, r.name, c.port, c.snap_retention, c.member_no, c.auto_minor, "              \
	"c.transit, c.at_rest, IFNULL(c.auth_modified, 0), c.created, c.auth_sealed, "             \
	"c.auth_sealed_old, c.shard, IFNULL(c.auto_snap_at, 0), IFNULL(r.cluster_mode, 0) "        \
	"FROM ec_clusters c LEFT JOIN ec_rgs r ON r.id = c.rg_id WHERE "

static const char sql_cluster_by_name[] =
    EC_CLUSTER_COLS "c.account = ?1 AND c.region = ?2 AND c.name = ?3";
static const char sql_cluster_by_id[] = EC_CLUSTER_COLS "c.id = ?1";
static const char sql_cluster_by_rg[] = EC_CLUSTER_COLS "c.rg_id = ?1 ORDER BY c.member_no";

#define EC_RG_COLS                                                                                 \
	"SELECT id, account, region, name, description, status, kms_key_id, snapshotting, "        \
	"auto_failover, multi_az, created, cluster_mode, IFNULL(auto_snap_at, 0) FROM ec_rgs "     \
	"WHERE "
static const char sql_rg_by_name[] = EC_RG_COLS "account = ?1 AND region = ?2 AND name = ?3";
static const char sql_rg_by_id[] = EC_RG_COLS "id = ?1";

int ec_fail_db(struct aws_call *c, int rc)
{
	log_error("elasticache: store error: %s", sqlite3_errstr(rc));
	return aws_fail(c, 500, "InternalFailure", "An internal error has occurred.");
}

int ec_tx_begin(struct aws_call *c)
{
	int rc = db_begin(c->fb->db);
	return rc == SQLITE_OK ? 0 : ec_fail_db(c, rc);
}

int ec_tx_end(struct aws_call *c, int ok)
{
	if (ok == 0) {
		int rc = db_commit(c->fb->db);
		if (rc == SQLITE_OK)
			return 0;
		db_rollback(c->fb->db);
		return ec_fail_db(c, rc);
	}
	db_rollback(c->fb->db);
	return -1;
}

/* col: text column i as an arena string, NULL when SQL NULL. */
static const char *col(struct arena *a, sqlite3_stmt *st, int i)
{
	const char *s = db_col_text(st, i);
	return s ? arena_strndup(a, s, (size_t)sqlite3_column_bytes(st, i)) : NULL;
}

/* cluster_tokens: unseals the row's auth tokens (columns 28, 29) into
 * cl. A token that does not open (master.key replaced) leaves
 * auth_unreadable set: the node must not start without its AUTH. */
static void cluster_tokens(struct arena *a, sqlite3_stmt *st, struct ec_cluster *cl)
{
	struct fogbank *fb = ec_rt_fb();
	const char **out[] = {&cl->auth_token, &cl->auth_token_old};
	for (int i = 0; i < 2; i++) {
		const void *blob = sqlite3_column_blob(st, 28 + i);
		if (!blob)
			continue;
		*out[i] = fb ? ec_unseal(a, fb->data_dir,
					 ec_seal_aad(a, cl->account, cl->region, cl->name), blob,
					 (size_t)sqlite3_column_bytes(st, 28 + i))
			     : NULL;
		if (!*out[i]) {
			cl->auth_unreadable = 1;
			log_error("elasticache: the auth token of %s does not open (was "
				  "master.key replaced?)",
				  cl->name);
		}
	}
}

/* cluster_row: fills cl from the current row of an EC_CLUSTER_COLS query. */
static void cluster_row(struct db *db, struct arena *a, sqlite3_stmt *st, struct ec_cluster *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->id = sqlite3_column_int64(st, 0);
	cl->rg_id = sqlite3_column_int64(st, 1);
	const char **s[] = {
	    &cl->account,      &cl->region,	      &cl->name,	&cl->status,
	    &cl->node_type,    &cl->engine_version,   &cl->param_group, &cl->param_status,
	    &cl->subnet_group, &cl->security_groups,  &cl->az,		&cl->maint_window,
	    &cl->snap_window,  &cl->notification_arn, &cl->auth_token,	&cl->auth_token_old,
	    &cl->role,	       &cl->rg_name};
	for (size_t i = 0; i < FB_ARRAY_LEN(s); i++)
		*s[i] = col(a, st, (int)i + 2);
	cl->port = sqlite3_column_int64(st, 20);
	cl->snap_retention = sqlite3_column_int64(st, 21);
	cl->member_no = sqlite3_column_int64(st, 22);
	cl->auto_minor = sqlite3_column_int(st, 23);
	cl->transit = sqlite3_column_int(st, 24);
	cl->at_rest = sqlite3_column_int(st, 25);
	cl->auth_modified = sqlite3_column_double(st, 26);
	cl->created = sqlite3_column_double(st, 27);
	cl->shard = sqlite3_column_int64(st, 30);
	cl->auto_snap_at = sqlite3_column_double(st, 31);
	cl->cluster_mode = sqlite3_column_int(st, 32);
	cluster_tokens(a, st, cl);
	(void)db;
}

/* cluster_addr: fills cl->addr from the address table. */
static void cluster_addr(struct db *db, struct arena *a, struct ec_cluster *cl)
{
	if (addr_lookup(db, ec_node_owner(a, cl->account, cl->region, cl->name), cl->addr) < 0)
		cl->addr[0] = 0;
}

int ec_cluster_find(struct aws_call *c, const char *name, struct ec_cluster *out)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, sql_cluster_by_name);
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		cluster_row(c->fb->db, c->a, st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return aws_fail(c, 404, "CacheClusterNotFound", "CacheCluster not found: %s",
				name ? name : "");
	cluster_addr(c->fb->db, c->a, out);
	return 0;
}

int ec_cluster_load(struct db *db, struct arena *a, int64_t id, struct ec_cluster *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_cluster_by_id);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		cluster_row(db, a, st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return -1;
	cluster_addr(db, a, out);
	return 0;
}

size_t ec_clusters_of_rg(struct db *db, struct arena *a, int64_t rg_id, struct ec_cluster **out)
{
	size_t n = 0, cap = 4;
	struct ec_cluster *v = arena_alloc(a, cap * sizeof(*v));
	sqlite3_stmt *st = db_stmt(db, sql_cluster_by_rg);
	sqlite3_bind_int64(st, 1, rg_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			v = arena_realloc(a, v, cap * sizeof(*v), cap * 2 * sizeof(*v));
			cap *= 2;
		}
		cluster_row(db, a, st, &v[n++]);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++)
		cluster_addr(db, a, &v[i]);
	*out = v;
	return n;
}

/* rg_row: fills rg from an EC_RG_COLS row, and its endpoint addresses. */
static void rg_row(struct db *db, struct arena *a, sqlite3_stmt *st, struct ec_rg *rg)
{
	memset(rg, 0, sizeof(*rg));
	rg->id = sqlite3_column_int64(st, 0);
	rg->account = col(a, st, 1);
	rg->region = col(a, st, 2);
	rg->name = col(a, st, 3);
	rg->description = col(a, st, 4);
	rg->status = col(a, st, 5);
	rg->kms_key_id = col(a, st, 6);
	rg->snapshotting = col(a, st, 7);
	rg->auto_failover = sqlite3_column_int(st, 8);
	rg->multi_az = sqlite3_column_int(st, 9);
	rg->created = sqlite3_column_double(st, 10);
	rg->cluster_mode = sqlite3_column_int(st, 11);
	rg->auto_snap_at = sqlite3_column_double(st, 12);
}

static void rg_addrs(struct db *db, struct arena *a, struct ec_rg *rg)
{
	if (addr_lookup(db, ec_rg_owner(a, rg->account, rg->region, rg->name, "primary"),
			rg->primary_addr) < 0)
		rg->primary_addr[0] = 0;
	if (addr_lookup(db, ec_rg_owner(a, rg->account, rg->region, rg->name, "reader"),
			rg->reader_addr) < 0)
		rg->reader_addr[0] = 0;
	if (addr_lookup(db, ec_rg_owner(a, rg->account, rg->region, rg->name, "config"),
			rg->cfg_addr) < 0)
		rg->cfg_addr[0] = 0;
}

int ec_rg_find(struct aws_call *c, const char *name, struct ec_rg *out)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, sql_rg_by_name);
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rg_row(c->fb->db, c->a, st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return aws_fail(c, 404, "ReplicationGroupNotFoundFault",
				"ReplicationGroup %s not found.", name ? name : "");
	rg_addrs(c->fb->db, c->a, out);
	return 0;
}

int ec_rg_load(struct db *db, struct arena *a, int64_t id, struct ec_rg *out)
{
	sqlite3_stmt *st = db_stmt(db, sql_rg_by_id);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rg_row(db, a, st, out);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return -1;
	rg_addrs(db, a, out);
	return 0;
}

char *ec_arn(struct arena *a, const char *region, const char *account, const char *kind,
	     const char *name)
{
	return arena_sprintf(a, "arn:aws:elasticache:%s:%s:%s:%s", region, account, kind, name);
}

char *ec_node_owner(struct arena *a, const char *account, const char *region, const char *name)
{
	return arena_sprintf(a, "elasticache:%s:%s:%s", account, region, name);
}

char *ec_rg_owner(struct arena *a, const char *account, const char *region, const char *name,
		  const char *which)
{
	return arena_sprintf(a, "elasticache-rg:%s:%s:%s:%s", account, region, name, which);
}

void ec_event(struct db *db, const char *account, const char *region, const char *source_id,
	      const char *source_type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("elasticache: %s %s: %s", source_type, source_id, msg);
	sqlite3_stmt *st =
	    db_stmt(db, "INSERT INTO ec_events(account, region, source_id, "
			"source_type, message, date) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, source_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, msg, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 6, (double)fb_wall_ms() / 1000.0);
	if (db_step_done(st) != SQLITE_DONE)
		log_warn("elasticache: cannot record event: %s", sqlite3_errmsg(db_sqlite(db)));
}

/* in_list: 1 when s is one of the '|'-separated words of list. */
static int in_list(const char *s, const char *list)
{
	size_t n = strlen(s);
	for (const char *p = list; *p;) {
		size_t w = strcspn(p, "|");
		if (w == n && !memcmp(p, s, n))
			return 1;
		p += w + (p[w] == '|');
	}
	return 0;
}

/* set_status: shared body of the two status setters. */
static int set_status(struct db *db, const char *sel, const char *upd, int64_t id,
		      const char *status, const char *from)
{
	if (from) {
		sqlite3_stmt *st = db_stmt(db, sel);
		sqlite3_bind_int64(st, 1, id);
		int ok = sqlite3_step(st) == SQLITE_ROW && in_list(db_col_text(st, 0), from);
		sqlite3_reset(st);
		if (!ok)
			return 0;
	}
	sqlite3_stmt *st = db_stmt(db, upd);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (db_step_done(st) != SQLITE_DONE) {
		log_warn("elasticache: status update failed: %s", sqlite3_errmsg(db_sqlite(db)));
		return 0;
	}
	return sqlite3_changes(db_sqlite(db)) > 0;
}

int ec_set_status(struct db *db, int64_t id, const char *status, const char *from)
{
	return set_status(db, "SELECT status FROM ec_clusters WHERE id = ?1",
			  "UPDATE ec_clusters SET status = ?2 WHERE id = ?1", id, status, from);
}

int ec_rg_set_status(struct db *db, int64_t id, const char *status, const char *from)
{
	return set_status(db, "SELECT status FROM ec_rgs WHERE id = ?1",
			  "UPDATE ec_rgs SET status = ?2 WHERE id = ?1", id, status, from);
}

int ec_page(struct aws_call *c, int64_t *max, int64_t *offset)
{
	*max = jv_get_int(c->in, "MaxRecords", 100);
	if (*max < 20 || *max > 100)
		return aws_fail(c, 400, "InvalidParameterValue",
				"MaxRecords must be between 20 and 100.");
	const char *m = jv_get_str(c->in, "Marker");
	*offset = 0;
	if (m && *m) {
		char *end;
		long long v = strtoll(m, &end, 10);
		if (*end || v < 0)
			return aws_fail(c, 400, "InvalidParameterValue", "Invalid marker: %s", m);
		*offset = v;
	}
	return 0;
}

void ec_page_marker(struct aws_call *c, struct jv *o, int64_t next)
{
	jv_set_str(c->a, o, "Marker", arena_sprintf(c->a, "%lld", (long long)next));
}

char *ec_node_dir(struct arena *a, const char *data_dir, int64_t id)
{
	return arena_sprintf(a, "%s/elasticache/nodes/%lld", data_dir, (long long)id);
}

char *ec_snapshot_path(struct arena *a, const char *data_dir, int64_t id, int64_t shard)
{
	if (shard)
		return arena_sprintf(a, "%s/elasticache/snapshots/%lld-%lld.rdb", data_dir,
				     (long long)id, (long long)shard);
	return arena_sprintf(a, "%s/elasticache/snapshots/%lld.rdb", data_dir, (long long)id);
}

void ec_rm_rf(const char *dir)
{
	db_barrier(); /* the commit that let go of dir comes first */
	DIR *d = opendir(dir);
	if (!d) {
		unlink(dir);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat sb;
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			ec_rm_rf(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* fsync_dir: makes a rename in the directory of path durable. */
static int fsync_dir(const char *path)
{
	char d[4096];
	snprintf(d, sizeof(d), "%s", path);
	char *slash = strrchr(d, '/');
	if (!slash)
		return -1;
	*slash = 0;
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* copy_fd: copies src into a new dst file and fsyncs it. 0 or -1. */
static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t r;
	int rc = 0;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r) {
			rc = -1;
			break;
		}
	if (r < 0 || fsync(out) < 0)
		rc = -1;
	close(in);
	if (close(out) < 0)
		rc = -1;
	return rc;
}

int ec_copy_durable(const char *src, const char *dst)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	unlink(tmp);
	if (link(src, tmp) < 0 && copy_file(src, tmp) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (rename(tmp, dst) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return fsync_dir(dst);
}
