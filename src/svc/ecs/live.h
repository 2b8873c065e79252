/* live.h - what the files of the live task runtime share (run.c starts
 * and stops tasks, prep.c builds each container's process, order.c
 * decides when a container may start (dependsOn), health.c runs health
 * checks, creds.c serves task-role credentials, envfile.c reads
 * environmentFiles). Everything here runs on the loop thread; a struct
 * live and its arena live until the last container and the last health
 * probe are gone. The pure helpers at the end are unit tested.
 * (run.h is the older, smaller header secrets.c implements.) */
#ifndef FB_SVC_ECS_LIVE_H
#define FB_SVC_ECS_LIVE_H
#include "core/compat.h"
#include "runtime/runtime.h"
#include "svc/ecs/run.h"

/* A container's place in its task's life. */
enum ecs_ctr_state {
	ECS_CTR_WAITING,  /* not started: images, or its dependsOn */
	ECS_CTR_STARTING, /* spawned; the runtime has not created it yet */
	ECS_CTR_RUNNING,
	ECS_CTR_STOPPED /* exited, or never started (ran says which) */
};

/* Health as ECS reports it, for containers and tasks. */
enum ecs_health { ECS_H_UNKNOWN, ECS_H_HEALTHY, ECS_H_UNHEALTHY };

/* A container's healthCheck and the state of its probes. */
struct ecs_hc {
	int on; /* the definition has a healthCheck */
	enum ecs_health status;
	char **argv; /* CMD-SHELL becomes /bin/sh -c */
	int64_t interval_ms, timeout_ms, start_period_ms;
	int64_t retries;
	int64_t started_ms; /* when the container started */
	int passed;	    /* a probe succeeded: the start period is over */
	int64_t failures;   /* consecutive failures that count */
	uint64_t timer;	    /* next probe, or the running probe's timeout */
	struct child *probe;
	int timed_out; /* the running probe was killed for its timeout */
};

struct live;

struct live_ctr {
	struct live *t;
	int idx, essential;
	const char *name;
	const struct jv *def; /* the container definition */
	enum ecs_ctr_state state;
	int ran, exited, exit_code; /* exit_code valid when exited */
	struct rt_ctr *ctr;	    /* while its process runs */
	struct rt_image img;
	const char *rootfs;
	const char *group, *stream, *log_region; /* NULL: no awslogs */
	int create_group;
	/* the process, built once by prep.c; health probes reuse it */
	char **argv, **envp;
	const char *cwd;
	int set_ids;
	uid_t uid;
	gid_t gid;
	uint64_t wait_timer; /* dependsOn startTimeout */
	struct ecs_hc hc;
};

/* Credentials minted for a task role (creds.c). */
struct ecs_creds {
	char id[37]; /* the /v2/credentials/<id> path segment */
	const char *role_arn;
	char *akid, *secret, *token; /* malloc'd; NULL until minted */
	int64_t expires_ms;
};

struct log_ev;

struct live {
	struct live *next;
	struct fogbank *fb;
	struct arena *a;
	const char *arn, *account, *region, *task_id, *addr, *overrides;
	const char *role;	       /* taskRoleArn (override first), or NULL */
	int64_t cpu_units, memory_mib; /* the task-level cpu and memory; 0: none */
	struct live_ctr *c;
	size_t n, unpacking, alive, probes;
	int prepared, running, stopping, releasing;
	const char *stop_code, *reason;
	enum ecs_health health; /* last written to the task row */
	struct ecs_creds *creds;
	struct log_ev *ev;
	size_t nev, cap;
	uint64_t flush_timer;
};

/* --- run.c --- */

/* ecs_live_find_creds: the live task whose credentials id is id, or NULL. */
struct live *ecs_live_find_creds(const char *id);
/* ecs_live_stop: begins stopping t (the first code/reason wins): running
 * containers get SIGTERM (SIGKILL after their stopTimeout), waiting ones
 * will never start, health probes end. */
void ecs_live_stop(struct live *t, const char *code, const char *reason);
/* ecs_live_start_one: spawns waiting container k: RUNNING (health checks
 * scheduled) once the runtime has created its process, STARTING until
 * then. 0, or -1 having recorded why and begun the task's stop when k is
 * essential. */
int ecs_live_start_one(struct live *t, struct live_ctr *k);
/* ecs_live_ctr_row: writes k's row: status, exit code when has_code, and
 * reason when not NULL. */
void ecs_live_ctr_row(struct live *t, struct live_ctr *k, const char *status, int has_code,
		      int code, const char *reason);
/* ecs_live_maybe_release: once no container process, probe or unpack is
 * left and nothing can run any more, schedules the task's release (from
 * a timer: child.c still delivers lines after an exit callback). */
void ecs_live_maybe_release(struct live *t);

/* --- order.c --- */

/* ecs_live_advance: starts every waiting container whose dependsOn holds
 * (in definition order), fails those whose dependsOn never can (an
 * essential one stops the task), arms startTimeout for those that wait,
 * and marks the task RUNNING once nothing waits. Call after any change of
 * a container's state or health. */
void ecs_live_advance(struct live *t);
/* ecs_order_cancel: cancels k's startTimeout timer. */
void ecs_order_cancel(struct live_ctr *k);

/* --- prep.c --- */

/* ecs_prep: builds k's argv, environment, cwd and user (secrets,
 * environmentFiles, the injected variables). 0, or -1 with *reason (arena)
 * set to why the task cannot start. */
int ecs_prep(struct live *t, struct live_ctr *k, const char **reason);

/* --- health.c --- */

/* ecs_health_init: reads k's healthCheck (before any start). */
void ecs_health_init(struct live *t, struct live_ctr *k);
/* ecs_health_start: k is running: schedules its first probe. */
void ecs_health_start(struct live_ctr *k);
/* ecs_health_stop: k is gone or the task stops: no more probes (a running
 * probe is killed; its exit still arrives). */
void ecs_health_stop(struct live_ctr *k);
/* ecs_health_write: recomputes the task's health and writes the
 * container's and the task's rows when they changed. */
void ecs_health_write(struct live *t, struct live_ctr *k);

/* --- creds.c --- */

/* ecs_creds_setup: when the task definition has a taskRoleArn, mints the
 * first credentials (proving the role can be assumed) and registers the
 * task's credentials id. 0, or -1 with *reason (arena) set. */
int ecs_creds_setup(struct live *t, const char *role_arn, const char **reason);
/* ecs_creds_release: forgets t's credentials (the endpoint answers 400). */
void ecs_creds_release(struct live *t);

/* --- envfile.c --- */

/* ecs_envfile_apply: reads each environmentFiles entry of list (S3 object
 * ARNs) and adds its variables to the environment under construction with
 * ECS's precedence (the first file that names a variable wins). 0, or -1
 * with *reason (arena) set. */
int ecs_envfile_apply(struct live *t, const struct jv *list, char ***env, size_t *n,
		      const char **reason);

/* --- pure helpers (unit tested) --- */

/* ecs_env_set: sets NAME=value in the NULL-terminated environment *env of
 * *n entries (arena), replacing an existing NAME. */
void ecs_env_set(struct arena *a, char ***env, size_t *n, const char *name, size_t nn,
		 const char *val);
/* ecs_envfile_parse: the variables of one environment file, as the ECS
 * agent reads it: lines starting with '#' are comments, a line is used
 * only if it has '=' with something on both sides, the name is everything
 * before the first '=' (no trimming, no quotes), and a later line wins
 * over an earlier one. Appends NAME=VALUE strings to *out (arena, *nout
 * entries). Pure. */
void ecs_envfile_parse(struct arena *a, const char *p, size_t len, char ***out, size_t *nout);
/* What ecs_dep_eval needs to know of a dependency. */
struct ecs_dep_view {
	enum ecs_ctr_state state;
	int ran, exited, exit_code, has_check;
	enum ecs_health health;
};
/* ecs_dep_eval: whether condition (START, COMPLETE, SUCCESS, HEALTHY) on
 * a dependency in state d holds: 1 yes, 0 not yet, -1 never will. Pure. */
int ecs_dep_eval(const char *condition, const struct ecs_dep_view *d);
/* One container as the task's health sees it. */
struct ecs_health_view {
	int essential, has_check;
	enum ecs_health status;
};
/* ecs_task_health_of: the task's healthStatus from its containers, as ECS
 * defines it: only essential containers with a check count; any UNHEALTHY
 * makes it UNHEALTHY, else any UNKNOWN (or none counted) UNKNOWN, else
 * HEALTHY. Pure. */
enum ecs_health ecs_task_health_of(const struct ecs_health_view *v, size_t n);
/* ecs_task_units: a task definition's cpu or memory text ("256", "1
 * vCPU", "0.5 vCPU", "2 GB") in units of 1/1024 (CPU units, MiB); unit
 * words multiply by 1024. 0 for NULL or anything else. Pure. */
int64_t ecs_task_units(const char *s);
/* ecs_health_name: "UNKNOWN", "HEALTHY" or "UNHEALTHY". */
const char *ecs_health_name(enum ecs_health h);
#endif
