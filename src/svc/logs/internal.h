/* internal.h - what the files of src/svc/logs share: the group and stream
 * rows, lookups and transactions, ARNs, paging tokens and the event
 * append path. */
#ifndef FB_SVC_LOGS_INTERNAL_H
#define FB_SVC_LOGS_INTERNAL_H
#include "core/compat.h"
#include "core/str.h"
#include "aws/call.h"
#include "svc/logs/logs.h"

#define LOGS_DAY_MS 86400000LL
#define LOGS_MAX_TAGS 50
#define LOGS_EVENT_OVERHEAD 26	     /* bytes AWS adds to each event's size */
#define LOGS_BATCH_MAX_BYTES 1048576 /* PutLogEvents batch, and a read page */
#define LOGS_EVENT_MAX_BYTES 262144  /* one event, overhead included */

/* A row of logs_groups; strings live in the call's arena. */
struct logs_group {
	int64_t id;
	const char *name;
	int64_t created; /* epoch ms */
	int retention;	 /* days; 0: never expire */
	const char *kms_key_id;
	int64_t stored_bytes;
};

/* A row of logs_streams. */
struct logs_stream {
	int64_t id;
	const char *name;
	int64_t created;
	int has_events;
	int64_t first, last, ingested; /* valid when has_events */
	int64_t seq;		       /* PutLogEvents batches so far */
};

/* --- store.c --- */

/* logs_fail_db: records ServiceUnavailableException for sqlite error rc. */
int logs_fail_db(struct aws_call *c, int rc);
/* logs_bad_param: InvalidParameterException with a fixed message. */
int logs_bad_param(struct aws_call *c, const char *msg);
/* logs_tx_begin / logs_tx_end: a handler's transaction; logs_tx_end
 * commits when ok is 0 (returning -1 if the commit fails) and rolls back
 * otherwise. */
int logs_tx_begin(struct aws_call *c);
int logs_tx_end(struct aws_call *c, int ok);
/* logs_group_id: the id of group name in account/region, 0 when absent. */
int64_t logs_group_id(struct db *db, const char *account, const char *region, const char *name);
/* logs_group_find: group <name> of the call's account and region into g;
 * 0, or -1 with ResourceNotFoundException. */
int logs_group_find(struct aws_call *c, const char *name, struct logs_group *g);
/* logs_group_arg: the group named by logGroupName or logGroupIdentifier
 * (a name or an ARN) of the input; 0 or -1 with the error. */
int logs_group_arg(struct aws_call *c, struct logs_group *g);
/* logs_arn_group: the log group name in a log-group ARN of the call's
 * account and region (a trailing ":*" allowed), arena; NULL when arn is
 * not one. */
const char *logs_arn_group(struct aws_call *c, const char *arn);
/* logs_group_arn: "arn:aws:logs:<region>:<account>:log-group:<name>"
 * (arena); DescribeLogGroups shows it with ":*" appended. */
const char *logs_group_arn(struct aws_call *c, const char *name);
/* logs_stream_id: the id of stream name in group_id, 0 when absent. */
int64_t logs_stream_id(struct db *db, int64_t group_id, const char *name);
/* logs_stream_find: stream <name> of g into s; 0, or -1 with
 * ResourceNotFoundException. */
int logs_stream_find(struct aws_call *c, const struct logs_group *g, const char *name,
		     struct logs_stream *s);
/* logs_visible_from: the earliest timestamp reads may show for g: events
 * past the retention are hidden even before the sweep deletes them. */
int64_t logs_visible_from(const struct logs_group *g, int64_t now_ms);
/* logs_hex_token: prefix followed by the hex of p[0..n) (arena). */
const char *logs_hex_token(struct aws_call *c, const char *prefix, const char *p, size_t n);
/* logs_unhex_token: the bytes of a logs_hex_token with this prefix into
 * *out (arena, NUL-terminated); -1 when tok is not one. */
int logs_unhex_token(struct aws_call *c, const char *tok, const char *prefix, struct str *out);
/* logs_key_token: prefix + 16 hex digits of ts + 16 of id (arena). */
const char *logs_key_token(struct aws_call *c, const char *prefix, int64_t ts, int64_t id);
/* logs_key_untoken: reverses logs_key_token; -1 when tok is not one. */
int logs_key_untoken(const char *tok, const char *prefix, int64_t *ts, int64_t *id);
/* logs_bad_token: InvalidParameterException for a nextToken. */
int logs_bad_token(struct aws_call *c);

/* --- events.c --- */

/* logs_append: inserts n events into stream_id of group_id with
 * ingestion time now_ms and updates the stream's and group's counters.
 * No transaction of its own. SQLITE_DONE or an sqlite error code. */
int logs_append(struct db *db, int64_t group_id, int64_t stream_id, const int64_t *ts,
		const struct str *msgs, size_t n, int64_t now_ms);
/* logs_seq_token: a stream's upload sequence token (56 digits, arena). */
const char *logs_seq_token(struct arena *a, int64_t seq);

/* --- retention.c --- */

/* logs_sweep_group: deletes up to max_rows (<0: all) events of group_id
 * older than cutoff_ms and lowers its storedBytes. No transaction of its
 * own. Returns the rows deleted, or -1 on a store error. */
int64_t logs_sweep_group(struct db *db, int64_t group_id, int64_t cutoff_ms, int64_t max_rows);

/* --- tags.c --- */

/* logs_tags_check: validates a Tags map (NULL fine): no aws: keys. */
int logs_tags_check(struct aws_call *c, const struct jv *tags);
/* logs_tags_put: upserts the map's tags on group_id; when too_many_code
 * is not NULL, fails with it when the group would exceed 50 tags. No
 * transaction of its own. */
int logs_tags_put(struct aws_call *c, int64_t group_id, const struct jv *tags,
		  const char *too_many_code);
/* --- livetail.c --- */

/* logs_tail_offer: hands n events just committed to stream <stream> of
 * group group_id to the open Live Tail sessions that want them (copied;
 * nothing is kept when no session is open). Loop thread only. */
void logs_tail_offer(int64_t group_id, const char *stream, const int64_t *ts,
		     const struct str *msgs, size_t n, int64_t ingested);

#endif
