/* ecs.h - what the daemon needs from ECS: its schema, the restore at start
 * (tasks that were running before a restart are marked STOPPED; services
 * come back to their desired count) and the reconciler tick. */
#ifndef FB_SVC_ECS_H
#define FB_SVC_ECS_H
#include "core/compat.h"
#include "store/db.h"

struct fogbank;

/* Schema steps of the ecs component ({NULL}-terminated), for db_open. */
extern const struct db_migration ecs_migrations[];

/* ecs_restore_all: at start, after the store is open and the loop exists:
 * every task not STOPPED in the store lost its processes with the previous
 * fogbank (PDEATHSIG), so it is marked STOPPED with a reason; then arms the
 * reconciler's own 500 ms timer, which brings services back to their
 * desired count. Loop thread. */
void ecs_restore_all(struct fogbank *fb);

/* ecs_tick: one reconciler pass over every active service (start, stop and
 * replace tasks, roll deployments, circuit breaker). Idempotent; the timer
 * armed by ecs_restore_all calls it, so calling it from elsewhere is fine
 * but not needed. Loop thread. */
void ecs_tick(struct fogbank *fb, int64_t now_ms);
#endif
