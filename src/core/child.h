/* child.h - supervised child processes (postgres, redis-server, tasks).
 *
 * Children are reaped from the event loop (SIGCHLD through signalfd), their
 * stdout/stderr are read line by line from the loop, exec failures are
 * reported synchronously over a CLOEXEC pipe (h2o/libuv), and every child
 * runs in its own process group with PR_SET_PDEATHSIG=SIGKILL, so none
 * outlives fogbank even when fogbank is killed with SIGKILL. Readiness is
 * the caller's business: probe the service (connect, PING), never sleep. */
#ifndef FB_CHILD_H
#define FB_CHILD_H
#include "core/compat.h"
#include <sys/types.h>

struct loop;
struct child;

/* on_exit: the child is gone; status is the waitpid() status. Every line
 * it wrote has been delivered to on_line before this is called, and none
 * comes after. The struct child is freed right after this returns. */
typedef void child_exit_cb(struct child *ch, int status, void *arg);
/* on_line: one line (without the newline) of the child's stdout (stream 1)
 * or stderr (stream 2). NULL on_line logs "[name] line" at info level. */
typedef void child_line_cb(struct child *ch, int stream, const char *line, size_t n, void *arg);

struct child_spec {
	const char *name;  /* tag for logs, e.g. "rds/orders-db" */
	char *const *argv; /* argv[0] is an absolute path */
	char *const *envp; /* NULL: inherit fogbank's environment */
	const char *cwd;   /* NULL: inherit */
	int set_ids;	   /* run as uid/gid (postgres refuses to run as root) */
	uid_t uid;
	gid_t gid;
	int stop_signal;	 /* child_stop's first signal; 0 means SIGTERM */
	int64_t stop_timeout_ms; /* then SIGKILL to the group; 0 means 10000 */
};

/* child_spawn: starts a child. All children must be spawned on the same
 * loop (fogbank has one): SIGCHLD is routed to the first loop used. Returns it, or NULL with *err set to a
 * malloc'd message (exec failure included; caller frees). */
struct child *child_spawn(struct loop *l, const struct child_spec *spec, child_exit_cb *on_exit,
			  child_line_cb *on_line, void *arg, char **err);
/* child_pid: the child's pid (also its process group id). */
pid_t child_pid(const struct child *ch);
/* child_name: the spec's name (copied at spawn). */
const char *child_name(const struct child *ch);
/* child_signal: sends sig to the child's whole process group. 0 or -1. */
int child_signal(struct child *ch, int sig);
/* child_stop: sends the stop signal, then SIGKILL after the timeout; on_exit
 * still fires when it is gone. Idempotent. */
void child_stop(struct child *ch);
/* child_shutdown_all: stops every child and waits (blocking, for fogbank's
 * exit) up to timeout_ms before SIGKILLing the rest; on_exit callbacks are
 * not called. */
void child_shutdown_all(int64_t timeout_ms);
/* child_count: number of live children (for health output and tests). */
size_t child_count(void);
#endif
