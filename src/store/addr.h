/* addr.h - per-resource loopback addresses. Every DB instance, cache node
 * and task gets its own address in 127.0.0.0/8 (AWS gives each its own
 * ENI), so two of them can listen on the same port and security groups can
 * later be enforced per address. Allocations are durable: a resource keeps
 * its address across restarts. */
#ifndef FB_ADDR_H
#define FB_ADDR_H
#include "store/db.h"

/* addr_alloc: the address held by owner (e.g. "rds:000000000000:us-east-1:db1"),
 * allocating the lowest free one from 127.0.1.1 up when it holds none.
 * Writes the dotted quad into out. Runs inside the caller's transaction
 * when one is open. 0, or -1 when the range is exhausted or on a store
 * error. */
int addr_alloc(struct db *db, const char *owner, char out[16]);
/* addr_lookup: the address held by owner, 0; or -1 when none. */
int addr_lookup(struct db *db, const char *owner, char out[16]);
/* addr_free: releases owner's address (no-op when none). 0 or -1. */
int addr_free(struct db *db, const char *owner);

extern const struct db_migration addr_migrations[];
#endif
