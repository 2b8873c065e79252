/* rds.h - what the daemon needs from RDS: its schema, bringing instances
 * back after a restart, and the periodic housekeeping. */
#ifndef FB_SVC_RDS_H
#define FB_SVC_RDS_H
#include "core/compat.h"
#include "store/db.h"

struct fogbank;

/* Schema steps of the rds component ({NULL}-terminated), for db_open. */
extern const struct db_migration rds_migrations[];

/* rds_restore_all: brings every DB instance back as it was before fogbank
 * stopped: available ones are started again (their PostgreSQL recovers
 * its own data), stopped ones stay stopped, half-created ones are created
 * again, half-deleted ones finish deleting, and snapshots that were being
 * taken are marked failed. Call once at startup, after db_open and with
 * fb->loop set; everything it starts runs from the loop. */
void rds_restore_all(struct fogbank *fb);

/* rds_tick: housekeeping for a periodic timer (every few seconds): prunes
 * automated backups and archived WAL older than each instance's retention
 * and takes the daily base backup. now_ms is the wall clock. */
void rds_tick(struct fogbank *fb, int64_t now_ms);
#endif
