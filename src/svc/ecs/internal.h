/* internal.h - what the files of src/svc/ecs share: transactions and the
 * error vocabulary, ARNs, clusters and task definitions as the other parts
 * need them, tags, the live task runtime (run.c) and the service
 * reconciler (reconcile.c). */
#ifndef FB_SVC_ECS_INTERNAL_H
#define FB_SVC_ECS_INTERNAL_H
#include "core/compat.h"
#include "aws/call.h"
#include "svc/ecs/ecs.h"

/* --- store.c --- */

/* ecs_fail_db: ServerException for sqlite error rc (logged). Returns -1. */
int ecs_fail_db(struct aws_call *c, int rc);
/* ecs_invalid: InvalidParameterException with the message. Returns -1. */
int ecs_invalid(struct aws_call *c, const char *msg);
/* ecs_tx_begin / ecs_tx_end: a handler's transaction; ecs_tx_end commits
 * when ok is 0 (-1 if the commit fails) and rolls back otherwise. */
int ecs_tx_begin(struct aws_call *c);
int ecs_tx_end(struct aws_call *c, int ok);
/* ecs_arn: "arn:aws:ecs:<region>:<account>:<kind>/<rest>" (arena). */
const char *ecs_arn(struct arena *a, const char *region, const char *account, const char *kind,
		    const char *rest);
/* ecs_arn_tail: the part of an ECS ARN after "<kind>/" when s is such an
 * ARN, else s itself (a bare name). */
const char *ecs_arn_tail(const char *s, const char *kind);
/* ecs_col: text column i as an arena string, NULL when SQL NULL. */
const char *ecs_col(struct arena *a, sqlite3_stmt *st, int i);
/* ecs_json: v as compact JSON text (arena); NULL for a NULL v. */
const char *ecs_json(struct arena *a, const struct jv *v);
/* ecs_parse: JSON text (NULL fine) parsed into the arena, or NULL. */
struct jv *ecs_parse(struct arena *a, const char *text);
/* ecs_bind_opt: binds s (NULL binds SQL NULL) to parameter i. */
void ecs_bind_opt(sqlite3_stmt *st, int i, const char *s);
/* ecs_ts: epoch ms as the seconds AWS timestamps carry. */
struct jv *ecs_ts(struct arena *a, int64_t ms);
/* ecs_new_id: 32 lowercase hex digits (a task id) into out. */
void ecs_new_id(char out[33]);

/* A cluster row (arena strings). */
struct ecs_cluster {
	int64_t id;
	const char *name, *arn, *status;
};
/* ecs_cluster_find: the cluster the input member key names (a name or an
 * ARN; absent: "default") in the call's account/region, ACTIVE. Returns 0,
 * or -1 with ClusterNotFoundException. */
int ecs_cluster_find(struct aws_call *c, const char *key, struct ecs_cluster *cl);

/* A task definition row; body is the parsed registration. */
struct ecs_taskdef {
	int64_t id;
	const char *arn, *family, *status;
	int64_t revision, registered, deregistered;
	const char *registered_by;
	struct jv *body;
};
/* ecs_taskdef_get: the task definition ref names: a full ARN, "family:rev"
 * or "family" (its latest ACTIVE revision), in account/region. 1 found, 0
 * not, -1 store error. */
int ecs_taskdef_get(struct fogbank *fb, struct arena *a, const char *account, const char *region,
		    const char *ref, struct ecs_taskdef *td);
/* ecs_taskdef_out: the TaskDefinition output shape of td (arena). */
struct jv *ecs_taskdef_out(struct arena *a, const struct ecs_taskdef *td);

/* --- tags.c --- */

/* ecs_tags_put: upserts a Tags list on arn (no transaction of its own);
 * SQLITE_DONE or an error code. */
int ecs_tags_put(struct aws_call *c, const char *arn, const struct jv *tags);
/* ecs_tags_of: the tags of arn as a Tags list (arena). */
struct jv *ecs_tags_of(struct aws_call *c, const char *arn);
/* ecs_tags_drop: removes every tag of arn. */
void ecs_tags_drop(struct fogbank *fb, const char *arn);

/* --- tasks.c --- */

/* What ecs_task_create needs to place one task. */
struct ecs_task_req {
	const char *account, *region, *cluster_arn, *cluster_name;
	const struct ecs_taskdef *td;
	const char *group, *started_by, *launch_type;
	int64_t service_id, deployment_id; /* 0: not a service's */
	const struct jv *overrides;	   /* TaskOverride or NULL */
};
/* ecs_task_create: inserts one PROVISIONING task with its containers and a
 * loopback address (joins the caller's transaction). Writes the task's
 * ARN into arn_out (arena). 0 or -1 (store error, logged). Start it with
 * ecs_task_launch once committed. */
int ecs_task_create(struct fogbank *fb, struct arena *a, const struct ecs_task_req *r,
		    int64_t now_ms, const char **arn_out);
/* ecs_task_out: the Task output shape of the task arn (arena), or NULL. */
struct jv *ecs_task_out(struct fogbank *fb, struct arena *a, const char *arn);

/* --- run.c: live tasks --- */

/* ecs_task_launch: starts the committed task arn: resolves and unpacks
 * images (PENDING), mints task-role credentials, resolves secrets and
 * environmentFiles, spawns containers in dependsOn order (RUNNING once
 * none waits), runs their health checks (run.c and live.h). Failures stop
 * the task with TaskFailedToStart. Asynchronous; loop thread; never inside
 * an open transaction (credentials are minted in one of STS's own). */
void ecs_task_launch(struct fogbank *fb, const char *arn);
/* ecs_task_stop: asks task arn to stop (desired STOPPED) with stop_code and
 * reason; its containers get SIGTERM, then SIGKILL after stopTimeout. A
 * task with no live processes is marked STOPPED at once. 0, or -1 when it
 * is not known. */
int ecs_task_stop(struct fogbank *fb, const char *arn, const char *stop_code, const char *reason);
/* ecs_task_finish: marks task arn STOPPED now with code/reason (unless it
 * already is) and releases its address. */
void ecs_task_finish(struct fogbank *fb, const char *arn, const char *stop_code,
		     const char *reason);
/* ecs_task_status: sets lastStatus (and the matching timestamp). */
void ecs_task_status(struct fogbank *fb, const char *arn, const char *status);

/* --- services.c / reconcile.c --- */

/* ecs_event: appends a service event "(service <name>) <msg>". */
void ecs_event(struct fogbank *fb, int64_t service_id, const char *name, int64_t now_ms,
	       const char *msg);
/* ecs_deployment_new: makes a PRIMARY deployment of taskdef for service id
 * (older PRIMARY becomes ACTIVE). SQLITE_DONE or an error code. */
int ecs_deployment_new(struct fogbank *fb, int64_t service_id, const char *taskdef_arn,
		       int64_t now_ms);
#endif
