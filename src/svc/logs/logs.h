/* logs.h - what the daemon and other services need from CloudWatch Logs:
 * its schema, the retention sweep for the daemon's timer, and the append
 * path the ECS awslogs driver uses (no HTTP, no aws_call). */
#ifndef FB_SVC_LOGS_H
#define FB_SVC_LOGS_H
#include "core/compat.h"
#include "core/str.h"
#include "store/db.h"

struct fogbank;

/* Schema steps of the logs component ({NULL}-terminated), for db_open. */
extern const struct db_migration logs_migrations[];

/* logs_retention_sweep: really deletes the events older than their log
 * group's retention (event timestamp before now_ms - retentionInDays).
 * Deletes at most a bounded number of rows per call, one transaction per
 * group, so the loop stays responsive; the rest goes on the next call.
 * Reads already hide expired events, so the sweep only reclaims space.
 * For the daemon's timer (loop thread). */
void logs_retention_sweep(struct fogbank *fb, int64_t now_ms);

/* logs_put_internal: appends n events (timestamps ts[i] in epoch ms,
 * messages msgs[i]) to stream <stream> of log group <group> in
 * account/region, creating the stream when missing, and the group too
 * when create_group (else a missing group fails). Events are stored as
 * given: no ordering, age or size rules (callers keep messages under
 * 256 KiB). One transaction, durable when this returns 0 (joins the
 * caller's transaction when one is open). Returns 0, or -1 when the group
 * is missing or the store failed (logged). Loop thread only. */
int logs_put_internal(struct fogbank *fb, const char *account, const char *region,
		      const char *group, const char *stream, int create_group, const int64_t *ts,
		      const struct str *msgs, size_t n);
#endif
