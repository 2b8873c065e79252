/* elasticache.h - what the daemon needs from ElastiCache: its schema, the
 * start of every cache node at boot, and freeing the runtime at exit.
 * Handlers are picked up from src/aws/gen/elasticache_ops.h. */
#ifndef FB_SVC_ELASTICACHE_H
#define FB_SVC_ELASTICACHE_H
#include "core/compat.h"
#include "store/db.h"

struct fogbank;

/* Schema steps of the elasticache component ({NULL}-terminated). */
extern const struct db_migration elasticache_migrations[];

/* elasticache_restore_all: brings every cache cluster back as it was:
 * nodes are started from their directories (their data comes back from
 * the AOF), deletions and snapshots a crash interrupted are finished or
 * failed. Call once after db_open, with fb->loop set. */
void elasticache_restore_all(struct fogbank *fb);

/* elasticache_shutdown: frees the runtime's memory. Call after
 * child_shutdown_all (the servers are gone by then) and before loop_free. */
void elasticache_shutdown(void);
#endif
