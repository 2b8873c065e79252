/* postgres.c - running PostgreSQL 15 as the postgres user under fogbank's
 * supervision (see postgres.h). */
#include "core/compat.h"
#include "supervise/postgres.h"
#include "core/fs.h"
#include "core/buf.h"
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int pg_user_ids(uid_t *uid, gid_t *gid)
{
	static int looked;
	static uid_t u;
	static gid_t g;
	static int found;
	if (!looked) {
		struct passwd *pw = getpwnam("postgres");
		looked = 1;
		if (pw) {
			u = pw->pw_uid;
			g = pw->pw_gid;
			found = 1;
		}
	}
	if (!found)
		return -1;
	*uid = u;
	*gid = g;
	return 0;
}

const char *pg_bin(const char *tool, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", PG_BIN_DIR, tool);
	return out;
}

int pg_installed(void)
{
	return access(PG_BIN_DIR "/postgres", X_OK) == 0 && access(PG_BIN_DIR "/initdb", X_OK) == 0;
}

int pg_make_dir(const char *dir)
{
	uid_t u;
	gid_t g;
	if (pg_user_ids(&u, &g) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (fs_mkdir_p(dir, 0700) < 0)
		return -1;
	/* fogbank runs as root in CI; as a plain user chown fails and the
	 * server runs as that user instead (see pg_spawn_server) */
	if (geteuid() == 0 && chown(dir, u, g) < 0)
		return -1;
	return chmod(dir, 0700);
}

int pg_allow_traverse(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return -1;
	if (st.st_mode & S_IXOTH)
		return 0;
	return chmod(dir, (st.st_mode & 07777) | S_IXOTH | S_IXGRP);
}

int pg_sock_path(const char *sock_dir, int port, char *out, size_t cap)
{
	struct sockaddr_un sa;
	size_t max = sizeof(sa.sun_path) < cap ? sizeof(sa.sun_path) : cap;
	int k = snprintf(out, cap, "%s/.s.PGSQL.%d", sock_dir, port);
	return k < 0 || (size_t)k >= max ? -1 : 0;
}

/* write_owned: writes text to path (temp + fsync + rename), owned by the
 * postgres user, mode 0600. 0 or -1 (errno). */
static int write_owned(const char *path, const char *text)
{
	uid_t u;
	gid_t g;
	if (pg_user_ids(&u, &g) < 0)
		return -1;
	int root = geteuid() == 0;
	return fs_write_atomic(path, text, strlen(text), 0600, root ? (long)u : -1,
			       root ? (long)g : -1);
}

/* conf_str: appends `name = 'value'` with quotes doubled. */
static void conf_str(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s = '", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\'')
			buf_putc(b, '\'');
		buf_putc(b, *p);
	}
	buf_puts(b, "'\n");
}

/* conf_text: the postgresql.conf fogbank owns. The archive command copies
 * durably: temp file, fsync, rename, fsync of the directory; a segment
 * already archived with the same bytes counts as success (the server
 * retries after a crash between copy and its own bookkeeping). */
static void conf_text(struct buf *b, const struct pg_conf *cf)
{
	char tmp[8192];
	buf_puts(b, "# written by fogbank before every start; edits are overwritten\n");
	conf_str(b, "listen_addresses", cf->listen_addr);
	buf_printf(b, "port = %d\n", cf->port);
	conf_str(b, "unix_socket_directories", cf->sock_dir);
	buf_puts(b, "unix_socket_permissions = 0700\n"
		    "max_connections = 100\n");
	buf_printf(b, "shared_buffers = %dMB\n",
		   cf->shared_buffers_mb > 0 ? cf->shared_buffers_mb : 16);
	buf_puts(b, "dynamic_shared_memory_type = posix\n"
		    "max_wal_size = 256MB\n"
		    "min_wal_size = 64MB\n"
		    "wal_level = replica\n"
		    "max_wal_senders = 10\n"
		    "max_replication_slots = 10\n"
		    "password_encryption = scram-sha-256\n"
		    "shared_preload_libraries = 'pg_stat_statements'\n"
		    "log_destination = 'stderr'\n"
		    "logging_collector = off\n"
		    "log_line_prefix = '%m:%r:%u@%d:[%p]:'\n"
		    "log_timezone = 'UTC'\n"
		    "timezone = 'UTC'\n"
		    "datestyle = 'iso, mdy'\n"
		    "lc_messages = 'C.UTF-8'\n"
		    "default_text_search_config = 'pg_catalog.english'\n");
	if (cf->ssl_cert && cf->ssl_key) {
		buf_puts(b, "ssl = on\n");
		conf_str(b, "ssl_cert_file", cf->ssl_cert);
		conf_str(b, "ssl_key_file", cf->ssl_key);
	} else {
		buf_puts(b, "ssl = off\n");
	}
	if (cf->archive_dir) {
		snprintf(
		    tmp, sizeof(tmp),
		    "f=\"%s/%%f\"; if [ -f \"$f\" ]; then cmp -s \"%%p\" \"$f\"; else cp \"%%p\" "
		    "\"$f.tmp\" && sync \"$f.tmp\" && mv \"$f.tmp\" \"$f\" && sync \"%s\"; fi",
		    cf->archive_dir, cf->archive_dir);
		buf_puts(b, "archive_mode = on\n");
		conf_str(b, "archive_command", tmp);
		buf_printf(b, "archive_timeout = %d\n",
			   cf->archive_timeout_s > 0 ? cf->archive_timeout_s : 30);
	} else {
		buf_puts(b, "archive_mode = off\n");
	}
	buf_printf(b, "hot_standby = %s\n", cf->hot_standby ? "on" : "off");
	if (cf->restore_dir) {
		/* 2>/dev/null: a standby asks for segments not archived yet */
		snprintf(tmp, sizeof(tmp), "cp \"%s/%%f\" \"%%p\" 2>/dev/null", cf->restore_dir);
		conf_str(b, "restore_command", tmp);
		if (cf->target_time) {
			conf_str(b, "recovery_target_time", cf->target_time);
			buf_puts(b, "recovery_target_inclusive = on\n");
		}
		buf_puts(b, "recovery_target_action = 'promote'\n");
	}
	if (cf->primary_conninfo) {
		conf_str(b, "primary_conninfo", cf->primary_conninfo);
		/* reconnect quickly after the primary restarts or fails over */
		buf_puts(b, "wal_retrieve_retry_interval = 1s\n"
			    "hot_standby_feedback = on\n"
			    "recovery_target_timeline = 'latest'\n");
	}
	if (cf->sync_standby)
		conf_str(b, "synchronous_standby_names", cf->sync_standby);
	if (cf->extra)
		buf_puts(b, cf->extra);
}

static const char hba_text[] =
    "# written by fogbank: the unix socket (0700 directory) is the admin\n"
    "# channel; every TCP connection needs a SCRAM password\n"
    "local all all trust\n"
    "local replication all trust\n"
    "host all all 127.0.0.0/8 scram-sha-256\n"
    "host all all ::1/128 scram-sha-256\n"
    "host replication all 127.0.0.0/8 scram-sha-256\n";

int pg_write_conf(const char *pgdata, const struct pg_conf *cf, char **err)
{
	char path[4096];
	struct buf b = BUF_INIT;
	conf_text(&b, cf);
	int rc = -1;
	snprintf(path, sizeof(path), "%s/postgresql.conf", pgdata);
	if (write_owned(path, b.p) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/pg_hba.conf", pgdata);
	if (write_owned(path, hba_text) < 0)
		goto out;
	/* settings a snapshot may carry from ALTER SYSTEM must not override ours */
	snprintf(path, sizeof(path), "%s/postgresql.auto.conf", pgdata);
	if (write_owned(path, "# fogbank: parameter groups are written to postgresql.conf\n") < 0)
		goto out;
	const char *want = cf->primary_conninfo ? "standby.signal"
			   : cf->restore_dir	? "recovery.signal"
						: NULL;
	const char *signals[] = {"standby.signal", "recovery.signal"};
	for (size_t i = 0; i < FB_ARRAY_LEN(signals); i++) {
		snprintf(path, sizeof(path), "%s/%s", pgdata, signals[i]);
		if (want && !strcmp(want, signals[i]) ? write_owned(path, "") < 0
						      : unlink(path) < 0 && errno != ENOENT)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0 && asprintf(err, "writing %s: %s", path, strerror(errno)) < 0)
		*err = NULL;
	buf_release(&b);
	return rc;
}

struct child *pg_spawn_server(struct loop *l, const char *name, const char *pgdata,
			      child_exit_cb *on_exit, child_line_cb *on_line, void *arg, char **err)
{
	char bin[256];
	char *argv[] = {(char *)pg_bin("postgres", bin, sizeof(bin)), "-D", (char *)pgdata, NULL};
	struct child_spec spec = {
	    .name = name,
	    .argv = argv,
	    .cwd = pgdata,
	    .stop_signal = SIGINT, /* fast shutdown */
	    .stop_timeout_ms = 60000,
	};
	uid_t u;
	gid_t g;
	if (geteuid() == 0 && pg_user_ids(&u, &g) == 0) {
		spec.set_ids = 1;
		spec.uid = u;
		spec.gid = g;
	}
	return child_spawn(l, &spec, on_exit, on_line, arg, err);
}

struct child *pg_spawn_tool(struct loop *l, const char *name, char *const *argv, int as_postgres,
			    child_exit_cb *on_exit, child_line_cb *on_line, void *arg, char **err)
{
	struct child_spec spec = {.name = name, .argv = argv, .cwd = "/", .stop_timeout_ms = 5000};
	uid_t u;
	gid_t g;
	if (as_postgres && geteuid() == 0 && pg_user_ids(&u, &g) == 0) {
		spec.set_ids = 1;
		spec.uid = u;
		spec.gid = g;
	}
	return child_spawn(l, &spec, on_exit, on_line, arg, err);
}

int pg_basebackup_argv(const char *sock_dir, int port, const char *dst, char **argv, char *buf,
		       size_t cap)
{
	int k = snprintf(buf, cap, "%s/pg_basebackup%c%s%c%d%c%s", PG_BIN_DIR, 0, sock_dir, 0, port,
			 0, dst);
	if (k < 0 || (size_t)k >= cap)
		return -1;
	char *bin = buf, *host = bin + strlen(bin) + 1, *p = host + strlen(host) + 1;
	char *d = p + strlen(p) + 1;
	int i = 0;
	argv[i++] = bin;
	argv[i++] = "-h";
	argv[i++] = host;
	argv[i++] = "-p";
	argv[i++] = p;
	argv[i++] = "-U";
	argv[i++] = PG_ADMIN_USER;
	argv[i++] = "-D";
	argv[i++] = d;
	argv[i++] = "-Fp";
	argv[i++] = "-Xstream";
	argv[i++] = "-cfast";
	argv[i++] = "-P";
	argv[i++] = "-w";
	argv[i] = NULL;
	return 0;
}

int pg_basebackup_tar_argv(const char *sock_dir, int port, char **argv, char *buf, size_t cap)
{
	if (pg_basebackup_argv(sock_dir, port, "-", argv, buf, cap) < 0)
		return -1;
	/* argv[9..10] are "-Fp" "-Xstream" (see above): a tar on stdout can
	 * only carry WAL fetched at the end */
	if (strcmp(argv[9], "-Fp") || strcmp(argv[10], "-Xstream"))
		return -1;
	argv[9] = "-Ft";
	argv[10] = "-Xfetch";
	return 0;
}

int pg_progress_pct(const char *line, size_t n)
{
	const char *open = memchr(line, '(', n);
	if (!open)
		return -1;
	int pct = 0, digits = 0;
	for (const char *p = open + 1; p < line + n && *p >= '0' && *p <= '9'; p++, digits++)
		pct = pct * 10 + (*p - '0');
	if (!digits || open + 1 + digits >= line + n || open[1 + digits] != '%')
		return -1;
	return pct > 100 ? 100 : pct;
}
