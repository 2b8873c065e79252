/* autosnap.c - the elasticache timer and automated snapshots. The timer
 * (armed at boot by elasticache_restore_all) follows cluster-mode roles
 * every tick and sweeps automated snapshots every sweep period.
 *
 * A cluster or group with SnapshotRetentionLimit > 0 gets one snapshot a
 * day (SnapshotSource "automated", named automatic.<id>-YYYY-MM-DD-HH-MM
 * as on AWS), taken by the first sweep after its SnapshotWindow opens;
 * the day after its creation is the first. Beyond the limit the oldest go,
 * failed ones at once, all of them when the limit drops to 0; they are
 * deleted with their cluster or group (a final snapshot is a manual one
 * and stays). FOGBANK_ELASTICACHE_DAY_SECONDS shortens the day (tests),
 * the window scaling with it; FOGBANK_ELASTICACHE_SWEEP_MS sets the
 * sweep period (default 10 s). */
#include "core/compat.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>
#include <time.h>

#define EC_TICK_MS 1000
#define EC_SWEEP_MS 10000

static uint64_t tick_timer;
static int64_t last_sweep_ms, day_ms, sweep_ms;

/* env_ms: a positive integer environment setting times scale, or def. */
static int64_t env_ms(const char *name, int64_t scale, int64_t def)
{
	const char *v = getenv(name);
	char *end;
	long long x = v ? strtoll(v, &end, 10) : 0;
	return v && *v && !*end && x > 0 ? (int64_t)x * scale : def;
}

/* window_offset_ms: where window "hh:mm-hh:mm" starts in a day of
 * day_len ms (scaled from 24 h); 0 when it does not parse. */
static int64_t window_offset_ms(const char *window, int64_t day_len)
{
	int h = 0, m = 0;
	if (!window || sscanf(window, "%d:%d", &h, &m) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
		return 0;
	return (int64_t)((h * 60 + m) * 60) * day_len / 86400;
}

/* ec_autosnap_due: see internal.h. */
int ec_autosnap_due(const char *window, int64_t last_ms, int64_t now_ms, int64_t day_len)
{
	int64_t off = window_offset_ms(window, day_len);
	int64_t a = last_ms - off, b = now_ms - off;
	/* floor division: times before the first window are day -1 */
	int64_t da = a >= 0 ? a / day_len : -((-a + day_len - 1) / day_len);
	int64_t db = b >= 0 ? b / day_len : -((-b + day_len - 1) / day_len);
	return db > da;
}

/* snap_name: a free automatic.<id>-YYYY-MM-DD-HH-MM name (seconds, then
 * milliseconds appended when a short test day made it taken). */
static const char *snap_name(struct aws_call *c, const char *id)
{
	time_t t = (time_t)(c->now_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char stamp[40];
	strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H-%M", &tm);
	const char *names[] = {
	    arena_sprintf(c->a, "automatic.%s-%s", id, stamp),
	    arena_sprintf(c->a, "automatic.%s-%s-%02d", id, stamp, tm.tm_sec),
	    arena_sprintf(c->a, "automatic.%s-%s-%02d-%03d", id, stamp, tm.tm_sec,
			  (int)(c->now_ms % 1000)),
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(names); i++) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT 1 FROM ec_snapshots WHERE account = "
						      "?1 AND region = ?2 AND name = ?3");
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, names[i], -1, SQLITE_STATIC);
		int taken = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (!taken)
			return names[i];
	}
	return NULL;
}

/* take: the automated snapshot of cl (or of group rg) through an internal
 * call; the attempt is recorded first, so a failure waits for tomorrow. */
static void take(struct arena *a, int64_t now, const struct ec_cluster *cl, const struct ec_rg *rg)
{
	struct fogbank *fb = ec_rt_fb();
	struct aws_call c = {.a = a,
			     .fb = fb,
			     .in = jv_object(a),
			     .account = cl->account,
			     .region = cl->region,
			     .now_ms = now};
	sqlite3_stmt *st =
	    rg ? db_stmt(fb->db, "UPDATE ec_rgs SET auto_snap_at = ?2 WHERE id = ?1")
	       : db_stmt(fb->db, "UPDATE ec_clusters SET auto_snap_at = ?2 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, rg ? rg->id : cl->id);
	sqlite3_bind_double(st, 2, (double)now / 1000.0);
	db_step_done(st);
	const char *name = snap_name(&c, rg ? rg->name : cl->name);
	if (!name || ec_snapshot_take(&c, name, cl, rg, "automated") < 0)
		log_warn("elasticache: automated snapshot of %s failed: %s",
			 rg ? rg->name : cl->name, c.err_msg ? c.err_msg : "no free name");
}

/* sweep_clusters: the due snapshots of clusters outside groups. */
static void sweep_clusters(struct arena *a, int64_t now)
{
	struct fogbank *fb = ec_rt_fb();
	sqlite3_stmt *st = db_stmt(fb->db, "SELECT id FROM ec_clusters WHERE rg_id IS NULL AND "
					   "snap_retention > 0 AND status = 'available'");
	int64_t ids[256];
	size_t k = 0;
	while (k < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW)
		ids[k++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (size_t i = 0; i < k; i++) {
		struct ec_cluster cl;
		arena_reset(a);
		if (ec_cluster_load(fb->db, a, ids[i], &cl) < 0)
			continue;
		int64_t last =
		    (int64_t)((cl.auto_snap_at > 0 ? cl.auto_snap_at : cl.created) * 1000);
		if (ec_autosnap_due(cl.snap_window, last, now, day_ms))
			take(a, now, &cl, NULL);
	}
}

/* sweep_groups: the due snapshots of groups: of the primary (or the
 * SnapshottingClusterId member), or of every shard in cluster mode. */
static void sweep_groups(struct arena *a, int64_t now)
{
	struct fogbank *fb = ec_rt_fb();
	sqlite3_stmt *st =
	    db_stmt(fb->db, "SELECT id FROM ec_rgs r WHERE status = 'available' "
			    "AND EXISTS (SELECT 1 FROM ec_clusters c WHERE c.rg_id = "
			    "r.id AND c.snap_retention > 0)");
	int64_t ids[256];
	size_t k = 0;
	while (k < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW)
		ids[k++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (size_t i = 0; i < k; i++) {
		struct ec_rg rg;
		struct ec_cluster *m;
		arena_reset(a);
		if (ec_rg_load(fb->db, a, ids[i], &rg) < 0)
			continue;
		size_t n = ec_clusters_of_rg(fb->db, a, rg.id, &m);
		const struct ec_cluster *pick = NULL;
		for (size_t j = 0; j < n; j++) {
			int primary = m[j].role && !strcmp(m[j].role, "primary");
			int chosen = rg.snapshotting && !strcmp(rg.snapshotting, m[j].name);
			if ((chosen || (primary && !pick)) && !strcmp(m[j].status, EC_AVAILABLE))
				pick = &m[j];
		}
		int64_t last =
		    (int64_t)((rg.auto_snap_at > 0 ? rg.auto_snap_at : rg.created) * 1000);
		if (pick && ec_autosnap_due(pick->snap_window, last, now, day_ms))
			take(a, now, pick, &rg);
	}
}

/* drop: deletes snapshot rows ids[0..k) (tags, shard rows) and files. */
static void drop(struct arena *a, const int64_t *ids, size_t k)
{
	struct fogbank *fb = ec_rt_fb();
	for (size_t i = 0; i < k; i++) {
		sqlite3_stmt *st = db_stmt(fb->db, "SELECT account, region, name FROM ec_snapshots "
						   "WHERE id = ?1");
		sqlite3_bind_int64(st, 1, ids[i]);
		const char *arn = NULL;
		if (sqlite3_step(st) == SQLITE_ROW)
			arn = ec_arn(a, db_col_text(st, 1), db_col_text(st, 0), "snapshot",
				     db_col_text(st, 2));
		sqlite3_reset(st);
		const char **files = ec_snapshot_files(fb->db, a, fb->data_dir, ids[i]);
		if (arn)
			ec_tags_drop(fb->db, arn);
		st = db_stmt(fb->db, "DELETE FROM ec_snapshots WHERE id = ?1");
		sqlite3_bind_int64(st, 1, ids[i]);
		if (db_step_done(st) == SQLITE_DONE)
			ec_unlink_all(files);
	}
}

/* prune: automated snapshots beyond their source's retention limit
 * (newest kept), and failed ones. */
static void prune(struct arena *a)
{
	struct fogbank *fb = ec_rt_fb();
	sqlite3_stmt *st = db_stmt(
	    fb->db,
	    "SELECT s.id FROM ec_snapshots s WHERE s.source = 'automated' AND (s.status = "
	    "'failed' OR (s.status = 'available' AND (SELECT COUNT(*) FROM ec_snapshots t WHERE "
	    "t.source = 'automated' AND t.status = 'available' AND t.account = s.account AND "
	    "t.region = s.region AND t.rg_name IS s.rg_name AND t.cluster_name IS "
	    "s.cluster_name AND (t.created > s.created OR (t.created = s.created AND t.id > "
	    "s.id))) >= IFNULL(IIF(s.rg_name IS NULL, (SELECT c.snap_retention FROM ec_clusters "
	    "c WHERE c.account = s.account AND c.region = s.region AND c.name = s.cluster_name "
	    "AND c.rg_id IS NULL), (SELECT MAX(c.snap_retention) FROM ec_clusters c JOIN ec_rgs "
	    "r ON r.id = c.rg_id WHERE r.account = s.account AND r.region = s.region AND r.name "
	    "= s.rg_name)), 0)))");
	int64_t ids[256];
	size_t k = 0;
	while (k < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW)
		ids[k++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!k)
		return;
	arena_reset(a);
	db_begin(fb->db);
	drop(a, ids, k);
	if (db_commit(fb->db) != SQLITE_OK)
		db_rollback(fb->db);
	log_info("elasticache: pruned %zu automated snapshot(s)", k);
}

/* ec_autosnap_drop: see internal.h. */
void ec_autosnap_drop(struct db *db, struct arena *a, const char *account, const char *region,
		      const char *cluster, const char *rg)
{
	/* one still being taken is left to the prune: with its source gone it
	 * goes at the first sweep after its file is complete */
	sqlite3_stmt *st =
	    db_stmt(db, "SELECT id FROM ec_snapshots WHERE source = 'automated' AND status != "
			"'creating' AND account = ?1 AND region = ?2 AND cluster_name IS ?3 AND "
			"rg_name IS ?4");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	if (cluster)
		sqlite3_bind_text(st, 3, cluster, -1, SQLITE_STATIC);
	if (rg)
		sqlite3_bind_text(st, 4, rg, -1, SQLITE_STATIC);
	int64_t ids[256];
	size_t k = 0;
	while (k < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW)
		ids[k++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	drop(a, ids, k);
}

/* ec_autosnap_sweep: see internal.h. */
void ec_autosnap_sweep(int64_t now_ms)
{
	struct arena *a = arena_new(8192);
	sweep_clusters(a, now_ms);
	sweep_groups(a, now_ms);
	prune(a);
	arena_free(a);
}

/* tick_cb: the elasticache timer: roles every tick, the snapshot
 * sweep every sweep period; re-arms itself. */
static void tick_cb(struct loop *l, void *arg)
{
	int64_t now = fb_wall_ms();
	tick_timer = 0;
	ec_cluster_tick();
	if (now - last_sweep_ms >= sweep_ms) {
		last_sweep_ms = now;
		ec_autosnap_sweep(now);
	}
	tick_timer =
	    loop_timer_add(l, sweep_ms < EC_TICK_MS ? sweep_ms : EC_TICK_MS, tick_cb, NULL);
}

/* ec_tick_start: see internal.h. */
void ec_tick_start(void)
{
	struct fogbank *fb = ec_rt_fb();
	day_ms = env_ms("FOGBANK_ELASTICACHE_DAY_SECONDS", 1000, 86400000);
	sweep_ms = env_ms("FOGBANK_ELASTICACHE_SWEEP_MS", 1, EC_SWEEP_MS);
	last_sweep_ms = 0;
	if (!tick_timer)
		tick_timer = loop_timer_add(fb->loop, EC_TICK_MS, tick_cb, NULL);
}

/* ec_tick_stop: see internal.h. */
void ec_tick_stop(void)
{
	struct fogbank *fb = ec_rt_fb();
	if (tick_timer && fb && fb->loop)
		loop_timer_cancel(fb->loop, tick_timer);
	tick_timer = 0;
}
