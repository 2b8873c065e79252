/* main.c - wiring only: arguments, data dir, store, services, the loop. */
#include "core/compat.h"
#include "aws/dispatch.h"
#include "aws/sigv4.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "http/server.h"
#include "core/child.h"
#include "core/fs.h"
#include "store/addr.h"
#include "store/db.h"
#include "store/syncer.h"
#include "registry/registry.h"
#include "svc/ecr/ecr.h"
#include "svc/iam/keys.h"
#include "svc/kms/kms.h"
#include "svc/logs/logs.h"
#include "svc/secretsmanager/secretsmanager.h"
#include "svc/s3/s3.h"			 /* s3: migrations (lifecycle timer: see s3.h) */
#include "svc/rds/rds.h"		 /* rds: migrations, restore at start, tick */
#include "svc/elasticache/elasticache.h" /* elasticache: migrations, restore, shutdown */
#include "svc/ecs/ecs.h"		 /* ecs: migrations, restore (arms its reconciler timer) */
#include <arpa/inet.h>
#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define FB_VERSION "0.1.0"
#define FB_PURGE_INTERVAL_MS 10000

static const struct db_migration *const fb_migrations[] = {
    addr_migrations,	    iam_migrations,  kms_migrations, secretsmanager_migrations,
    s3_migrations,	    logs_migrations, ecr_migrations, rds_migrations,
    elasticache_migrations, ecs_migrations,  NULL,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fogbank up [--host 127.0.0.1] [--port 4566] [--data-dir DIR]\n"
		   "                  [--region us-east-1] [--auth enforce|soft|off]\n"
		   "                  [--log-level debug|info|warn|error]\n"
		   "       fogbank version\n");
}

/* is_loopback: fogbank binds only to 127.0.0.0/8 and ::1. */
static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* spool_clean: removes request-body spool files a crash left behind; no
 * request that owned them was ever acknowledged. */
static void spool_clean(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[4096 + 256];
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "spool-", 6)) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
}

/* tick_cb: once a second, S3 lifecycle (it rate-limits itself). */
static void tick_cb(struct loop *l, void *arg)
{
	struct fogbank *fb = arg;
	s3_lifecycle_sweep(fb, fb_wall_ms());
	loop_timer_add(l, 1000, tick_cb, fb);
}

static void stop_cb(struct loop *l, int signo, void *arg)
{
	log_info("fogbank stopping (signal %d)", signo);
	loop_stop(l);
}

static void purge_cb(struct loop *l, void *arg)
{
	struct fogbank *fb = arg;
	int64_t now = fb_wall_ms();
	secretsmanager_purge(fb, now);
	kms_purge(fb->db, fb->kms, now);
	rds_tick(fb, now);
	logs_retention_sweep(fb, now);
	ecr_lifecycle_sweep(fb, now);
	registry_gc(fb, now);
	iam_usage_flush(fb);
	loop_timer_add(l, FB_PURGE_INTERVAL_MS, purge_cb, fb);
}

/* cmd_up: runs the daemon in the foreground until SIGINT/SIGTERM. */
/* store_unsynced / store_sync_start: the HTTP server's group-commit hooks
 * over fogbank's one state store (see http/server.h, store/db.h). */
static int store_unsynced(void *ctx)
{
	return db_unsynced(((struct fogbank *)ctx)->db);
}

/* the asynchronous store_sync (store/syncer.h); one per process */
static struct db_syncer *syncer;

static void store_sync_start(void *ctx, void (*done)(void *arg, int ok), void *arg)
{
	(void)ctx;
	db_syncer_start(syncer, done, arg);
}

/* batch_end_cb / batch_opened: the store's batch (db_batch_begin) commits
 * when the loop iteration that opened it ends, whether or not an answer
 * is waiting for it. */
static void batch_end_cb(struct loop *l, void *arg)
{
	db_batch_flush(((struct fogbank *)arg)->db);
}

static void batch_opened(void *arg)
{
	struct fogbank *fb = arg;
	loop_timer_add(fb->loop, 0, batch_end_cb, fb);
}

static int cmd_up(int argc, char **argv)
{
	int64_t t0 = fb_mono_ms();
	struct fogbank fb = {
	    .data_dir = "./data",
	    .host = "127.0.0.1",
	    .port = 4566,
	    .default_region = "us-east-1",
	    .auth = FB_AUTH_ENFORCE,
	};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--host"))
			fb.host = !strcmp(v, "localhost") ? "127.0.0.1" : v;
		else if (!strcmp(a, "--port"))
			fb.port = atoi(v);
		else if (!strcmp(a, "--data-dir"))
			fb.data_dir = v;
		else if (!strcmp(a, "--region"))
			fb.default_region = v;
		else if (!strcmp(a, "--auth") && !strcmp(v, "enforce"))
			fb.auth = FB_AUTH_ENFORCE;
		else if (!strcmp(a, "--auth") && !strcmp(v, "soft"))
			fb.auth = FB_AUTH_SOFT;
		else if (!strcmp(a, "--auth") && !strcmp(v, "off"))
			fb.auth = FB_AUTH_OFF;
		else if (!strcmp(a, "--log-level") && !strcmp(v, "debug"))
			log_min_level = LOG_DEBUG;
		else if (!strcmp(a, "--log-level") && !strcmp(v, "info"))
			log_min_level = LOG_INFO;
		else if (!strcmp(a, "--log-level") && !strcmp(v, "warn"))
			log_min_level = LOG_WARN;
		else if (!strcmp(a, "--log-level") && !strcmp(v, "error"))
			log_min_level = LOG_ERROR;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!is_loopback(fb.host)) {
		log_error("refusing to listen on %s: fogbank binds only to loopback "
			  "(127.0.0.0/8 or ::1)",
			  fb.host);
		return 2;
	}
	if (fb.port < 0 || fb.port > 65535) {
		log_error("bad port %d", fb.port);
		return 2;
	}
	if (fs_mkdir_p(fb.data_dir, 0700) < 0) {
		log_error("cannot create data dir %s: %s", fb.data_dir, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* thousands of client connections plus children's pipes: lift the
	 * soft descriptor limit to the hard one (shells often start at 1024) */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	fb.started_ms = fb_wall_ms();
	char *err = NULL;
	fb.kms = kms_keyring_open(fb.data_dir, &err);
	if (!fb.kms) {
		log_error("kms: %s", err ? err : "cannot open keyring");
		free(err);
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/state.db", fb.data_dir);
	fb.db = db_open(path, fb_migrations, &err);
	if (!fb.db) {
		log_error("store: %s", err ? err : "cannot open");
		free(err);
		return 1;
	}
	/* S3 recovery (half-written objects of a crash) before any request */
	if (s3_open(&fb) < 0) {
		log_error("s3: cannot open the object store under %s", fb.data_dir);
		return 1;
	}
	fb.sigcache = sigv4_key_cache_new();
	struct loop *l = loop_new();
	if (!l)
		fb_die("cannot create event loop");
	fb.loop = l;
	log_attach_loop(l); /* info lines: one write per loop iteration */
	loop_on_signal(l, SIGINT, stop_cb, NULL);
	loop_on_signal(l, SIGTERM, stop_cb, NULL);
	char spool_dir[4096];
	snprintf(spool_dir, sizeof(spool_dir), "%s/tmp", fb.data_dir);
	if (fs_mkdir_p(spool_dir, 0700) < 0) {
		log_error("cannot create %s: %s", spool_dir, strerror(errno));
		return 1;
	}
	spool_clean(spool_dir);
	struct http_server_config cfg = {
	    .host = fb.host,
	    .port = fb.port,
	    .head_max = 64 * 1024,
	    /* S3's largest single PUT (5 GiB) plus aws-chunked framing */
	    .body_max = (5ull << 30) + (64u << 20),
	    .spool_dir = spool_dir,
	    .idle_ms = 75000,
	    .handler = aws_dispatch,
	    .ctx = &fb,
	    .durable_pending = store_unsynced,
	    .durable_sync_start = store_sync_start,
	};
	syncer = db_syncer_new(l, fb.db);
	db_batch_hook(fb.db, batch_opened, &fb);
	struct http_server *srv = http_server_start(l, &cfg);
	if (!srv)
		return 1;
	fb.port = http_server_port(srv);
	rds_restore_all(&fb);
	elasticache_restore_all(&fb);
	ecs_restore_all(&fb);
	loop_timer_add(l, FB_PURGE_INTERVAL_MS, purge_cb, &fb);
	loop_timer_add(l, 1000, tick_cb, &fb);
	/* start-up (migrations, recovery) churned memory that serving never
	 * needs again: hand SQLite's page cache and the freed heap back */
	sqlite3_db_release_memory(db_sqlite(fb.db));
	malloc_trim(0);
	log_info("fogbank " FB_VERSION " ready host=%s port=%d data-dir=%s auth=%s startup_ms=%lld",
		 fb.host, fb.port, fb.data_dir,
		 fb.auth == FB_AUTH_ENFORCE ? "enforce"
		 : fb.auth == FB_AUTH_SOFT  ? "soft"
					    : "off",
		 (long long)(fb_mono_ms() - t0));
	loop_run(l);
	http_server_stop(srv);
	/* a sync still running calls back into the stopped server, which
	 * waited for it and frees itself */
	db_syncer_free(syncer);
	/* no child outlives fogbank: stop them all, SIGKILL what lingers */
	child_shutdown_all(8000);
	elasticache_shutdown(); /* after the servers are gone: frees the runtime */
	log_attach_loop(NULL);
	loop_free(l);
	sigv4_key_cache_free(fb.sigcache);
	iam_usage_flush(&fb);
	db_close(fb.db);
	kms_keyring_close(fb.kms);
	log_info("fogbank stopped");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "up"))
		return cmd_up(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "version")) {
		printf("fogbank " FB_VERSION "\n");
		return 0;
	}
	usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}
