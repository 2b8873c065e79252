/* ecs.h - what the daemon needs from ECS: its schema, the restore at start
 * (tasks that were running before a restart are marked STOPPED; services
 * come back to their desired count) and the reconciler tick. */
#ifndef FB_SVC_ECS_H
#define FB_SVC_ECS_H
#include "core/compat.h"
#include "store/db.h"

struct fogbank;
struct http_request;
struct http_response;

/* Schema steps of the ecs component ({NULL}-terminated), for db_open. */
extern const struct db_migration ecs_migrations[];

/* ecs_restore_all: at start, after the store is open and the loop exists:
 * every task not STOPPED in the store lost its processes with the previous
 * fogbank (PDEATHSIG), so it is marked STOPPED with a reason, and what
 * its runc containers left (state, mounts, bundles) is removed, in the
 * background; picks the task runtime (runtime.h rt_mode); then arms the
 * reconciler's own 500 ms timer, which brings services back to their
 * desired count. Loop thread. */
void ecs_restore_all(struct fogbank *fb);

/* ecs_tick: one reconciler pass over every active service (start, stop and
 * replace tasks, roll deployments, circuit breaker). Idempotent; the timer
 * armed by ecs_restore_all calls it, so calling it from elsewhere is fine
 * but not needed. Loop thread. */
void ecs_tick(struct fogbank *fb, int64_t now_ms);

/* ecs_creds_match: 1 when req is a task fetching its role credentials
 * (GET /v2/credentials/<id>, the ECS agent's path; checked before the
 * registry, whose /v2/<name>/... paths always have more segments). */
int ecs_creds_match(const struct http_request *req);
/* ecs_creds_handle: answers it: the task's current credentials in the
 * agent's format, or the agent's 400 error for an unknown id (a task that
 * ended). No SigV4: the unguessable id is the secret, as with the agent.
 * Loop thread. */
void ecs_creds_handle(struct fogbank *fb, const struct http_request *req,
		      struct http_response *resp);
#endif
