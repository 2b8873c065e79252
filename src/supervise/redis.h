/* redis.h - the recipe for one supervised redis-server (Debian's Redis 7):
 * render a redis.conf into the node's directory, start /usr/bin/redis-server
 * on fogbank's loop (src/core/child.h: own process group, PDEATHSIG, logs
 * captured and tagged), and report readiness only when a real PING over the
 * node's control socket answers +PONG (non-blocking connect from the loop,
 * retried on a short timer and on each log line; never a sleep).
 *
 * Secrets never touch the disk: the password lines (the default user's
 * ACL and masterauth) go to redis-server through a pipe it reads as an
 * extra config file ("--include /dev/fd/N"); redis.conf holds the rest.
 *
 * Cluster mode (spec.cluster): cluster-enabled with nodes.conf in the
 * node's directory and the node's own address announced, so MOVED
 * redirects name it; joining nodes into a cluster is the owner's job
 * (CLUSTER MEET / ADDSLOTSRANGE / REPLICATE over redis_command).
 *
 * Every server also listens on a unix socket in its directory (mode 0700):
 * fogbank's control channel. Redis opens it after its TCP/TLS listeners and
 * answers PING with -LOADING until the dataset is loaded, so +PONG there
 * means the endpoint serves. It also lets fogbank talk to a TLS-only node
 * without TLS. Persistence is AOF (appendfsync everysec) in the directory,
 * so a restart of the node or of fogbank keeps the data.
 *
 * One struct redis is one run of the process: after REDIS_EXIT the owner's
 * callback returns and the struct is freed; restarting is redis_start
 * again. */
#ifndef FB_SUPERVISE_REDIS_H
#define FB_SUPERVISE_REDIS_H
#include "core/compat.h"
#include <sys/types.h>

struct loop;
struct redis;

#define REDIS_SERVER_BIN "/usr/bin/redis-server"
#define REDIS_SOCKET_NAME "redis.sock"

struct redis_spec {
	const char *name;	  /* log tag, e.g. "elasticache/orders-001" */
	const char *dir;	  /* node directory (exists): conf, data, socket */
	const char *bind;	  /* space-separated loopback addresses */
	const char *source_addr;  /* address replication connects from; NULL */
	int port;		  /* TCP (TLS when tls_cert) port; 0: none */
	const char *password;	  /* default user's password; NULL: no AUTH */
	const char *password_old; /* also accepted (token rotation); NULL */
	const char *primary_host; /* replicaof target; NULL: a primary */
	int primary_port;
	const char *tls_cert, *tls_key, *tls_ca;      /* TLS-only port when tls_cert */
	const char *tls_client_cert, *tls_client_key; /* outgoing TLS; NULL: tls_cert */
	int64_t maxmemory;			      /* bytes; 0: unlimited */
	const char *const *params;		      /* name, value, ..., NULL */
	int cluster;				      /* cluster-enabled yes */
	const char *announce_ip;		      /* cluster-announce-ip; NULL: none */
	int64_t cluster_node_timeout_ms;	      /* 0: Redis's default */
};

enum redis_event {
	REDIS_READY, /* answered PING with +PONG */
	REDIS_EXIT,  /* the process is gone; status is the waitpid() status */
};

/* The owner's callback; the struct redis is freed right after REDIS_EXIT. */
typedef void redis_event_cb(struct redis *r, enum redis_event ev, int status, void *arg);
/* A command's reply: ok is 1 for a reply that is not an error, 0 for an
 * error reply (p holds its text), -1 when no reply came (connect failure,
 * timeout, the server exited). p/n: the line of a simple string, error or
 * integer, the payload of a bulk string, or the raw bytes of an array;
 * valid during the call only. */
typedef void redis_reply_cb(void *arg, int ok, const char *p, size_t n);

/* redis_conf_render: the redis.conf text for spec, without its secrets
 * (malloc'd, NUL-terminated; caller frees). Values are double-quoted with
 * \xHH escapes, so no path or parameter can inject a directive. */
char *redis_conf_render(const struct redis_spec *spec);
/* redis_secret_render: the config lines that carry spec's passwords (the
 * default user's ACL rule and masterauth), quoted as above; NULL when spec
 * has no password. malloc'd; the caller wipes and frees it. */
char *redis_secret_render(const struct redis_spec *spec);
/* redis_start: writes <dir>/redis.conf (0600), passes the secret lines
 * through a pipe, and starts redis-server on loop l; cb gets REDIS_READY
 * once, then REDIS_EXIT. Returns the run, or NULL with *err set to a
 * malloc'd message (caller frees). */
struct redis *redis_start(struct loop *l, const struct redis_spec *spec, redis_event_cb *cb,
			  void *arg, char **err);
/* redis_pid: the server's pid. */
pid_t redis_pid(const struct redis *r);
/* redis_is_ready: 1 after REDIS_READY. */
int redis_is_ready(const struct redis *r);
/* redis_stop: SIGTERM (redis fsyncs its AOF and exits), SIGKILL after 10 s;
 * REDIS_EXIT follows. Idempotent. */
void redis_stop(struct redis *r);
/* redis_kill: SIGKILL now (tests, failover drills); REDIS_EXIT follows. */
void redis_kill(struct redis *r);
/* redis_release: frees a run whose process child_shutdown_all already
 * took (fogbank's exit): no callback, in-flight commands are dropped.
 * Also frees runs that exited and were not freed yet; r may be NULL for
 * just that. */
void redis_release(struct redis *r);
/* redis_set_password: the password the control channel AUTHs with from
 * now on (after a token change); NULL for none. */
void redis_set_password(struct redis *r, const char *password);
/* redis_command: sends one command (argc strings) over the control socket,
 * AUTHing first when a password is set; cb is always called exactly once,
 * never before this returns. Commands are independent connections, so
 * they may complete in any order. */
void redis_command(struct redis *r, int argc, const char *const *argv, redis_reply_cb *cb,
		   void *arg);

/* redis_pipeline: sends n >= 1 commands (argvs[i] with argcs[i] strings;
 * lens, when not NULL, gives each command's argument lengths, or NULL for
 * NUL-terminated ones) over one control connection, in order; cb (called
 * once, never before this returns) gets ok 1 with p/n holding the n raw
 * RESP replies back to back (walk them with redis_reply_len; error replies
 * are among them), ok 0 when AUTH was refused, or -1 when they did not all
 * come (60 s). */
void redis_pipeline(struct redis *r, int n, const int *argcs, const char *const *const *argvs,
		    const size_t *const *lens, redis_reply_cb *cb, void *arg);

/* redis_reply_len: the length of the complete RESP reply at p[0..n), 0
 * when more bytes are needed, -1 when the bytes are not RESP. */
long redis_reply_len(const char *p, size_t n);
/* redis_info_field: the value of "field:" in INFO text (p, n) as a
 * malloc'd string (caller frees), or NULL when absent. */
char *redis_info_field(const char *p, size_t n, const char *field);
#endif
