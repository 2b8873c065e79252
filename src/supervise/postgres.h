/* postgres.h - the recipe for running Debian's PostgreSQL 15 under
 * fogbank's supervision (src/core/child.h): directory ownership, the
 * configuration fogbank writes before every start, the server and its
 * tools (initdb, pg_basebackup) as supervised children.
 *
 * fogbank runs as root in CI and postgres refuses root, so every server
 * and tool runs as the `postgres` user. Its directories are chowned to
 * it, and the directories above them must be traversable (o+x): the data
 * dir is chmod'ed to 0711 (listing it stays root-only) by
 * pg_allow_traverse. Each server listens only on its own loopback address
 * (listen_addresses) and on a unix socket in a 0700 postgres-owned
 * directory: that socket uses `trust` and is fogbank's administrative
 * channel (see pg_wire.h); TCP always requires a SCRAM password. */
#ifndef FB_POSTGRES_H
#define FB_POSTGRES_H
#include "core/compat.h"
#include "core/child.h"
#include <sys/types.h>

#define PG_BIN_DIR "/usr/lib/postgresql/15/bin"
#define PG_ADMIN_USER "rdsadmin" /* the bootstrap superuser, as on RDS */
#define PG_MAJOR 15

/* What fogbank writes into postgresql.conf / pg_hba.conf before a start. */
struct pg_conf {
	const char *listen_addr; /* the instance's loopback address */
	int port;
	const char *sock_dir; /* unix_socket_directories: 0700, postgres-owned */
	const char *ssl_cert; /* NULL: ssl = off */
	const char *ssl_key;
	int shared_buffers_mb;	      /* small: many instances share one machine */
	const char *archive_dir;      /* NULL: archive_mode = off */
	int archive_timeout_s;	      /* forces a segment switch this often */
	const char *restore_dir;      /* recovery: restore_command copies from here */
	const char *target_time;      /* recovery_target_time, or NULL: to the end */
	const char *primary_conninfo; /* streaming standby (replica, Multi-AZ standby) */
	int hot_standby;
	const char *sync_standby; /* synchronous_standby_names, or NULL: asynchronous */
	const char *extra;	  /* more "name = value" lines (parameter groups) */
};

/* pg_user_ids: uid and gid of the postgres user. 0, or -1 when there is
 * no such user. */
int pg_user_ids(uid_t *uid, gid_t *gid);
/* pg_installed: 1 when the PostgreSQL 15 server binaries are present. */
int pg_installed(void);
/* pg_bin: the absolute path of tool (e.g. "initdb") into out. */
const char *pg_bin(const char *tool, char *out, size_t cap);
/* pg_make_dir: creates dir (and missing parents, 0700) owned by postgres,
 * mode 0700. 0 or -1 (errno). */
int pg_make_dir(const char *dir);
/* pg_allow_traverse: adds o+x (never read or write) to dir so the postgres
 * user can reach the directories below it. 0 or -1. */
int pg_allow_traverse(const char *dir);
/* pg_sock_path: the server's unix socket path (<sock_dir>/.s.PGSQL.<port>)
 * into out; -1 when it does not fit a sockaddr_un. */
int pg_sock_path(const char *sock_dir, int port, char *out, size_t cap);
/* pg_write_conf: writes pgdata/postgresql.conf and pg_hba.conf from cf
 * (owned by postgres), and the one signal file cf asks for: standby.signal
 * with primary_conninfo (a standby may also restore from restore_dir),
 * else recovery.signal with restore_dir; a signal file not asked for is
 * removed, so a promoted server never starts in recovery again. An empty
 * listen_addr means the unix socket only. 0, or -1 with *err set
 * (malloc'd; caller frees). */
int pg_write_conf(const char *pgdata, const struct pg_conf *cf, char **err);
/* pg_spawn_server: starts `postgres -D pgdata` as the postgres user;
 * child_stop sends SIGINT (fast shutdown: consistent, no recovery on the
 * next start) and SIGKILLs after 60 s. Returns the child, or NULL with
 * *err set (caller frees). */
struct child *pg_spawn_server(struct loop *l, const char *name, const char *pgdata,
			      child_exit_cb *on_exit, child_line_cb *on_line, void *arg,
			      char **err);
/* pg_spawn_tool: runs argv (argv[0] absolute) as a supervised child, as
 * the postgres user when as_postgres, else as fogbank's user. Returns the
 * child, or NULL with *err set (caller frees). */
struct child *pg_spawn_tool(struct loop *l, const char *name, char *const *argv, int as_postgres,
			    child_exit_cb *on_exit, child_line_cb *on_line, void *arg, char **err);
/* pg_basebackup_argv: fills argv (at least 16 slots; strings in buf of
 * cap bytes) for a plain-format, self-contained (WAL streamed), fast
 * checkpoint base backup of the server on sock_dir:port into dst, with
 * progress lines. 0 or -1. */
int pg_basebackup_argv(const char *sock_dir, int port, const char *dst, char **argv, char *buf,
		       size_t cap);
/* pg_basebackup_tar_argv: like pg_basebackup_argv, but a tar stream of
 * the whole cluster (WAL fetched at the end, so it is self-contained) on
 * stdout, for a consumer that encrypts it. 0 or -1. */
int pg_basebackup_tar_argv(const char *sock_dir, int port, char **argv, char *buf, size_t cap);
/* pg_progress_pct: the percentage in a pg_basebackup --progress line
 * ("1234/5678 kB (21%), ..."), or -1. */
int pg_progress_pct(const char *line, size_t n);
#endif
