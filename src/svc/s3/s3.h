/* s3.h - what the daemon needs from S3: its schema, the start-up recovery
 * of the object store and the lifecycle sweep.
 *
 * Settings (environment, read once):
 *   FOGBANK_S3_DAY_SECONDS  length of a lifecycle "day" in seconds
 *                           (default 86400; tests use 1 or 2 to watch
 *                           expiration happen)
 *   FOGBANK_S3_SWEEP_MS     minimum interval between two lifecycle sweeps
 *                           (default 1000 when a day is shorter than an
 *                           hour, else 60000) */
#ifndef FB_SVC_S3_H
#define FB_SVC_S3_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/str.h"
#include "store/db.h"

struct fogbank;

/* Schema steps of the s3 component ({NULL}-terminated), for db_open. */
extern const struct db_migration s3_migrations[];

/* s3_open: prepares <data_dir>/s3 (directories) and recovers from a crash:
 * data files written but never committed are removed, committed ones not
 * yet moved into place are moved, and files of deleted objects are
 * unlinked. Idempotent; also run lazily by the first S3 request. Returns
 * 0, or -1 (logged) when the directories cannot be created. */
int s3_open(struct fogbank *fb);

/* s3_lifecycle_sweep: applies every bucket's lifecycle rules at now_ms
 * (expirations, noncurrent-version expirations, expired delete markers,
 * aborts of stale multipart uploads, storage-class transitions) and
 * really deletes what they expire. Bounded work per call; for the
 * daemon's timer (every second or so). Runs at most once per
 * FOGBANK_S3_SWEEP_MS; S3 requests also call it on that schedule. */
void s3_lifecycle_sweep(struct fogbank *fb, int64_t now_ms);

/* s3_object_read: the bytes of the latest version of <key> in <bucket> as
 * <account> sees it (SSE-S3/KMS decrypted), at most max bytes. Returns 0
 * with *out (in a, NUL-terminated), or -1 with *err_code an S3 code
 * (NoSuchBucket, NoSuchKey, AccessDenied, EntityTooLarge, InternalError).
 * For other services (ECS environmentFiles). Loop thread only. */
int s3_object_read(struct fogbank *fb, struct arena *a, const char *account, const char *bucket,
		   const char *key, size_t max, struct str *out, const char **err_code);
#endif
