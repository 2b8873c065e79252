/* retention.c - PutRetentionPolicy / DeleteRetentionPolicy and the sweep
 * that really deletes expired events. Setting a policy sweeps its group
 * at once (so the effect is observable right away); the daemon's timer
 * calls logs_retention_sweep for events that age out later. Reads hide
 * expired events in between. */
#include "core/compat.h"
#include "aws/gen/logs_ops.h"
#include "core/log.h"
#include "fb.h"
#include "svc/logs/internal.h"

#define SWEEP_MAX_ROWS 50000 /* per timer call, to keep the loop responsive */

/* AWS's fixed list of retention periods, in days. */
static const int retention_days[] = {1,	  3,   5,   7,	 14,   30,   60,   90,	 120,  150,  180,
				     365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};

int64_t logs_sweep_group(struct db *db, int64_t group_id, int64_t cutoff_ms, int64_t max_rows)
{
	/* RETURNING hands back each deleted message's size for storedBytes */
	sqlite3_stmt *st = db_stmt(db, "DELETE FROM logs_events WHERE id IN (SELECT id FROM "
				       "logs_events INDEXED BY logs_events_group WHERE group_id = "
				       "?1 AND ts < ?2 ORDER BY ts LIMIT ?3) RETURNING "
				       "length(CAST(message AS BLOB))");
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, cutoff_ms);
	sqlite3_bind_int64(st, 3, max_rows);
	int64_t rows = 0, bytes = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows++;
		bytes += sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (!rows)
		return 0;
	st = db_stmt(db, "UPDATE logs_groups SET stored_bytes = max(0, stored_bytes - ?2) WHERE "
			 "id = ?1");
	sqlite3_bind_int64(st, 1, group_id);
	sqlite3_bind_int64(st, 2, bytes);
	return db_step_done(st) == SQLITE_DONE ? rows : -1;
}

void logs_retention_sweep(struct fogbank *fb, int64_t now_ms)
{
	int64_t ids[64], cutoffs[64], left = SWEEP_MAX_ROWS, total = 0;
	size_t n = 0;
	/* only groups that hold something expired: the group index answers
	 * "any event before the cutoff" with one probe */
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT g.id, ?1 - g.retention_days * 86400000 FROM "
					   "logs_groups g WHERE g.retention_days IS NOT NULL AND "
					   "EXISTS (SELECT 1 FROM logs_events e WHERE e.group_id = "
					   "g.id AND e.ts < ?1 - g.retention_days * 86400000) "
					   "LIMIT 64");
	sqlite3_bind_int64(st, 1, now_ms);
	while (n < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(st, 0);
		cutoffs[n++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && left > 0; i++) {
		if (db_begin(fb->db) != SQLITE_OK)
			return;
		int64_t rows = logs_sweep_group(fb->db, ids[i], cutoffs[i], left);
		if (rows < 0 || db_commit(fb->db) != SQLITE_OK) {
			db_rollback(fb->db);
			log_error("logs: retention sweep of group %lld failed", (long long)ids[i]);
			continue;
		}
		left -= rows;
		total += rows;
	}
	if (total)
		log_info("logs: retention deleted %lld expired event(s)", (long long)total);
}

int logs_op_put_retention_policy(struct aws_call *c)
{
	struct logs_group g;
	int64_t days = jv_get_int(c->in, "retentionInDays", 0);
	int valid = 0;
	for (size_t i = 0; i < FB_ARRAY_LEN(retention_days); i++)
		valid |= days == retention_days[i];
	if (!valid)
		return aws_fail(c, 400, "InvalidParameterException",
				"1 validation error detected: Value '%lld' at 'retentionInDays' "
				"failed to satisfy constraint: Member must satisfy enum value set: "
				"[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, "
				"1096, 1827, 2192, 2557, 2922, 3288, 3653]",
				(long long)days);
	if (logs_tx_begin(c) < 0)
		return -1;
	int ok = logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g);
	if (ok == 0) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE logs_groups SET retention_days = ?2 "
						      "WHERE id = ?1");
		sqlite3_bind_int64(st, 1, g.id);
		sqlite3_bind_int64(st, 2, days);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
	}
	if (ok == 0 && logs_sweep_group(c->fb->db, g.id, c->now_ms - days * LOGS_DAY_MS, -1) < 0)
		ok = logs_fail_db(c, SQLITE_ERROR);
	return logs_tx_end(c, ok);
}

int logs_op_delete_retention_policy(struct aws_call *c)
{
	struct logs_group g;
	if (logs_tx_begin(c) < 0)
		return -1;
	int ok = logs_group_find(c, jv_get_str(c->in, "logGroupName"), &g);
	if (ok == 0) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE logs_groups SET retention_days = "
						      "NULL WHERE id = ?1");
		sqlite3_bind_int64(st, 1, g.id);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = logs_fail_db(c, rc);
	}
	return logs_tx_end(c, ok);
}
