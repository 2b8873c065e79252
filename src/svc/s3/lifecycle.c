/* lifecycle.c - bucket lifecycle configuration and the sweep that acts on
 * it: expiration of current versions (Days or Date; a delete marker in
 * versioned buckets), noncurrent-version expiration (NoncurrentDays,
 * NewerNoncurrentVersions), removal of expired delete markers, abort of
 * stale multipart uploads, and transitions (storage class changes).
 * Filters: prefix, tags, object size. A "day" lasts
 * FOGBANK_S3_DAY_SECONDS (default 86400) so tests can watch it happen.
 * Each sweep does bounded work per rule and commits once. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/s3_ops.h"
#include "aws/json.h"
#include "core/arena.h"
#include "core/log.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <stdlib.h>

#define SWEEP_BUDGET 1000 /* actions per rule per sweep */

/* ---- configuration ---- */

/* check_rules: the checks S3 makes on a lifecycle configuration. */
static int check_rules(struct aws_call *c, const struct jv *rules)
{
	if (!jv_len(rules) || jv_len(rules) > 1000)
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	for (size_t i = 0; i < jv_len(rules); i++) {
		struct jv *r = jv_at(rules, i);
		const char *st = jv_get_str(r, "Status"), *id = jv_get_str(r, "ID");
		if (!st || (strcmp(st, "Enabled") && strcmp(st, "Disabled")))
			return aws_fail(c, 400, "MalformedXML",
					"The XML you provided was not well-formed or did not "
					"validate against our published schema");
		if (id && strlen(id) > 255)
			return aws_fail(c, 400, "InvalidArgument",
					"ID length should not exceed allowed limit of 255");
		for (size_t j = 0; id && j < i; j++) {
			const char *id2 = jv_get_str(jv_at(rules, j), "ID");
			if (id2 && !strcmp(id, id2))
				return aws_fail(c, 400, "InvalidArgument",
						"Rule ID must be unique. Found same ID for more "
						"than one rule");
		}
		if (!jv_get(r, "Expiration") && !jv_get(r, "NoncurrentVersionExpiration") &&
		    !jv_get(r, "AbortIncompleteMultipartUpload") && !jv_get(r, "Transitions") &&
		    !jv_get(r, "NoncurrentVersionTransitions") && !jv_get(r, "Transition") &&
		    !jv_get(r, "NoncurrentVersionTransition"))
			return aws_fail(c, 400, "InvalidRequest",
					"At least one action needs to be specified in a rule");
	}
	return 0;
}

int s3_op_put_bucket_lifecycle_configuration(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *cfg = jv_get(c->in, "LifecycleConfiguration");
	if (s3_bucket_arg(c, &b) < 0 || check_rules(c, jv_get(cfg, "Rules")) < 0)
		return -1;
	return s3_cfg_put(c, b.id, "lifecycle", cfg);
}

int s3_op_put_bucket_lifecycle(struct aws_call *c)
{
	return s3_op_put_bucket_lifecycle_configuration(c);
}

int s3_op_get_bucket_lifecycle_configuration(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *cfg;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	cfg = s3_cfg_get(c, b.id, "lifecycle");
	if (!cfg)
		return aws_fail(c, 404, "NoSuchLifecycleConfiguration",
				"The lifecycle configuration does not exist");
	jv_set(c->a, aws_out(c), "Rules", jv_get(cfg, "Rules"));
	return 0;
}

int s3_op_get_bucket_lifecycle(struct aws_call *c)
{
	return s3_op_get_bucket_lifecycle_configuration(c);
}

int s3_op_delete_bucket_lifecycle(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	return s3_cfg_put(c, b.id, "lifecycle", NULL);
}

/* ---- the sweep ---- */

/* A rule's filter. */
struct filter {
	const char *prefix;
	const struct jv *tags; /* array of {Key, Value}, or NULL */
	int64_t gt, lt;	       /* size bounds; -1 none */
};

/* filter_of: the prefix, tags and size bounds of rule r (Filter, its And,
 * or the legacy top-level Prefix). */
static void filter_of(const struct jv *r, struct filter *f)
{
	const struct jv *flt = jv_get(r, "Filter"), *and = jv_get(flt, "And");
	f->prefix = jv_get_str(r, "Prefix");
	f->tags = NULL;
	f->gt = f->lt = -1;
	if (jv_get_str(flt, "Prefix"))
		f->prefix = jv_get_str(flt, "Prefix");
	f->gt = jv_get_int(flt, "ObjectSizeGreaterThan", -1);
	f->lt = jv_get_int(flt, "ObjectSizeLessThan", -1);
	if (and) {
		if (jv_get_str(and, "Prefix"))
			f->prefix = jv_get_str(and, "Prefix");
		f->tags = jv_get(and, "Tags");
		if (jv_get(and, "ObjectSizeGreaterThan"))
			f->gt = jv_get_int(and, "ObjectSizeGreaterThan", -1);
		if (jv_get(and, "ObjectSizeLessThan"))
			f->lt = jv_get_int(and, "ObjectSizeLessThan", -1);
	}
	if (!f->prefix)
		f->prefix = "";
}

/* tag_ok: the object's tags (JSON) hold key k with value v. */
static int tag_ok(struct aws_call *c, const char *tags_json, const struct jv *t)
{
	struct jv *tags = s3_json_obj(c, tags_json);
	const char *k = jv_get_str(t, "Key"), *v = jv_get_str(t, "Value");
	const char *have = k ? jv_get_str(tags, k) : NULL;
	return have && (!v || !strcmp(have, v));
}

/* matches: object o passes filter f (r for the single-Tag form). */
static int matches(struct aws_call *c, const struct jv *r, const struct filter *f,
		   const struct s3_object *o)
{
	const struct jv *tag = jv_get(jv_get(r, "Filter"), "Tag");
	if (strncmp(o->key, f->prefix, strlen(f->prefix)) != 0)
		return 0;
	if (f->gt >= 0 && o->size <= f->gt)
		return 0;
	if (f->lt >= 0 && o->size >= f->lt)
		return 0;
	if (tag && !tag_ok(c, o->tags, tag))
		return 0;
	for (size_t i = 0; i < jv_len(f->tags); i++)
		if (!tag_ok(c, o->tags, jv_at(f->tags, i)))
			return 0;
	return 1;
}

/* cutoff_of: the time before which something <days> old (or, with a
 * Date, everything once it has passed) is due; INT64_MIN when not due. */
static int64_t cutoff_of(const struct jv *action, const char *days_key, int64_t now)
{
	struct jv *d = jv_get(action, "Date");
	if (jv_get(action, days_key))
		return now - jv_get_int(action, days_key, 0) * s3_day_ms();
	if (d) {
		double t = jv_get_double(action, "Date", 0);
		return (int64_t)(t * 1000.0) <= now ? INT64_MAX : INT64_MIN;
	}
	return INT64_MIN;
}

/* The key range of a rule's prefix, as ?4 (inclusive) and ?5 (exclusive,
 * NULL: none): candidates outside it never take the sweep's budget. */
#define PREFIX_SQL "o.key >= ?4 AND (?5 IS NULL OR o.key < ?5)"

/* bind_prefix: binds PREFIX_SQL's parameters for filter f. */
static void bind_prefix(struct aws_call *c, sqlite3_stmt *st, const struct filter *f)
{
	const char *end = s3_prefix_end(c->a, f->prefix, strlen(f->prefix));
	sqlite3_bind_text(st, 4, f->prefix, -1, SQLITE_STATIC);
	if (end)
		sqlite3_bind_text(st, 5, end, -1, SQLITE_STATIC);
}

/* load_batch: up to SWEEP_BUDGET rows of a SELECT of S3_OBJECT_COLS
 * bound by the caller; returns the count, rows in *out (arena). */
static size_t load_batch(struct aws_call *c, sqlite3_stmt *st, struct s3_object **out)
{
	size_t n = 0;
	struct s3_object *v = arena_alloc(c->a, SWEEP_BUDGET * sizeof(*v));
	while (n < SWEEP_BUDGET && sqlite3_step(st) == SQLITE_ROW)
		s3_object_from_row(c, st, &v[n++]);
	sqlite3_reset(st);
	*out = v;
	return n;
}

/* expire_current: Expiration of current versions under rule r. */
static size_t expire_current(struct aws_call *c, const struct s3_bucket *b, const struct jv *r,
			     const struct filter *f)
{
	const struct jv *exp = jv_get(r, "Expiration");
	int64_t cut = cutoff_of(exp, "Days", c->now_ms);
	struct s3_object *v;
	size_t n, done = 0;
	if (cut == INT64_MIN)
		return 0;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
			       "o.bucket_id = ?1 AND o.mtime <= ?2 AND "
			       "o.is_latest = 1 AND o.delete_marker = 0 AND " PREFIX_SQL);
	sqlite3_bind_int64(st, 1, b->id);
	sqlite3_bind_int64(st, 2, cut == INT64_MAX ? c->now_ms : cut);
	bind_prefix(c, st, f);
	n = load_batch(c, st, &v);
	for (size_t i = 0; i < n; i++) {
		const char *vid;
		int marker;
		if (!matches(c, r, f, &v[i]))
			continue;
		if (s3_delete_key(c, b, v[i].key, NULL, &marker, &vid) < 0)
			break;
		done++;
	}
	return done;
}

/* expire_markers: latest delete markers with no other version left. */
static size_t expire_markers(struct aws_call *c, const struct s3_bucket *b, const struct jv *r,
			     const struct filter *f)
{
	struct s3_object *v;
	size_t n, done = 0;
	if (!jv_get_bool(jv_get(r, "Expiration"), "ExpiredObjectDeleteMarker", 0))
		return 0;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
			       "o.bucket_id = ?1 AND o.is_latest = 1 AND o.delete_marker = 1 AND "
			       "NOT EXISTS (SELECT 1 FROM s3_objects x WHERE x.bucket_id = "
			       "o.bucket_id AND x.key = o.key AND x.id != o.id)");
	sqlite3_bind_int64(st, 1, b->id);
	n = load_batch(c, st, &v);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(v[i].key, f->prefix, strlen(f->prefix)) &&
		    s3_object_remove(c, &v[i]) == 0)
			done++;
	return done;
}

/* expire_noncurrent: NoncurrentVersionExpiration under rule r. */
static size_t expire_noncurrent(struct aws_call *c, const struct s3_bucket *b, const struct jv *r,
				const struct filter *f)
{
	const struct jv *nve = jv_get(r, "NoncurrentVersionExpiration");
	int64_t keep = jv_get_int(nve, "NewerNoncurrentVersions", 0);
	struct s3_object *v;
	size_t n, done = 0;
	if (!nve || !jv_get(nve, "NoncurrentDays"))
		return 0;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
			       "o.bucket_id = ?1 AND o.is_latest = 0 AND "
			       "o.noncurrent_since <= ?2 AND " PREFIX_SQL " ORDER BY o.id DESC");
	sqlite3_bind_int64(st, 1, b->id);
	sqlite3_bind_int64(st, 2, c->now_ms - jv_get_int(nve, "NoncurrentDays", 0) * s3_day_ms());
	bind_prefix(c, st, f);
	n = load_batch(c, st, &v);
	for (size_t i = 0; i < n; i++) {
		if (!matches(c, r, f, &v[i]) && !v[i].delete_marker)
			continue;
		if (strncmp(v[i].key, f->prefix, strlen(f->prefix)) != 0)
			continue;
		if (keep > 0) {
			sqlite3_stmt *cnt =
			    db_stmt(c->fb->db, "SELECT COUNT(*) FROM s3_objects WHERE "
					       "bucket_id = ?1 AND key = ?2 AND is_latest = 0 "
					       "AND id > ?3");
			int64_t newer = 0;
			sqlite3_bind_int64(cnt, 1, b->id);
			sqlite3_bind_text(cnt, 2, v[i].key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(cnt, 3, v[i].id);
			if (sqlite3_step(cnt) == SQLITE_ROW)
				newer = sqlite3_column_int64(cnt, 0);
			sqlite3_reset(cnt);
			if (newer < keep)
				continue;
		}
		if (s3_object_remove(c, &v[i]) == 0)
			done++;
	}
	return done;
}

/* abort_uploads: AbortIncompleteMultipartUpload under rule r. */
static size_t abort_uploads(struct aws_call *c, const struct s3_bucket *b, const struct jv *r,
			    const struct filter *f)
{
	const struct jv *a = jv_get(r, "AbortIncompleteMultipartUpload");
	int64_t ids[SWEEP_BUDGET];
	size_t n = 0, done = 0;
	if (!a || !jv_get(a, "DaysAfterInitiation"))
		return 0;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id, key FROM s3_uploads WHERE bucket_id = ?1 "
					      "AND initiated <= ?2");
	sqlite3_bind_int64(st, 1, b->id);
	sqlite3_bind_int64(st, 2,
			   c->now_ms - jv_get_int(a, "DaysAfterInitiation", 0) * s3_day_ms());
	while (n < SWEEP_BUDGET && sqlite3_step(st) == SQLITE_ROW)
		if (!strncmp(db_col_text(st, 1), f->prefix, strlen(f->prefix)))
			ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *p = db_stmt(c->fb->db, "SELECT file FROM s3_parts WHERE upload = ?1");
		int rc = SQLITE_OK;
		sqlite3_bind_int64(p, 1, ids[i]);
		while (rc == SQLITE_OK && sqlite3_step(p) == SQLITE_ROW)
			rc = s3_store_unlink_later(c->fb->db, db_col_text(p, 0));
		sqlite3_reset(p);
		if (rc != SQLITE_OK)
			break;
		p = db_stmt(c->fb->db, "DELETE FROM s3_parts WHERE upload = ?1");
		sqlite3_bind_int64(p, 1, ids[i]);
		db_step_done(p);
		p = db_stmt(c->fb->db, "DELETE FROM s3_uploads WHERE id = ?1");
		sqlite3_bind_int64(p, 1, ids[i]);
		if (db_step_done(p) == SQLITE_DONE)
			done++;
	}
	return done;
}

/* due_cut: cutoff_of with "everything" (a passed Date) as now. */
static int64_t due_cut(const struct jv *t, const char *days_key, int64_t now)
{
	int64_t cut = cutoff_of(t, days_key, now);
	return cut == INT64_MAX ? now : cut;
}

/* transition: moves due objects of rule r to their new storage class:
 * of the transitions due for an object, the one with the most days. */
static size_t transition(struct aws_call *c, const struct s3_bucket *b, const struct jv *r,
			 const struct filter *f, int noncurrent)
{
	const char *days_key = noncurrent ? "NoncurrentDays" : "Days";
	const struct jv *ts =
	    jv_get(r, noncurrent ? "NoncurrentVersionTransitions" : "Transitions");
	int64_t loosest = INT64_MIN, deepest = INT64_MAX;
	const char *deepest_cls = NULL;
	struct s3_object *v;
	size_t n, done = 0;
	for (size_t i = 0; i < jv_len(ts); i++) {
		const struct jv *t = jv_at(ts, i);
		int64_t cut;
		if (cutoff_of(t, days_key, c->now_ms) == INT64_MIN ||
		    !jv_get_str(t, "StorageClass"))
			continue;
		cut = due_cut(t, days_key, c->now_ms);
		if (cut > loosest)
			loosest = cut;
		if (cut < deepest) {
			deepest = cut;
			deepest_cls = jv_get_str(t, "StorageClass");
		}
	}
	if (!deepest_cls)
		return 0;
	sqlite3_stmt *st =
	    noncurrent ? db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
					    "o.bucket_id = ?1 AND o.is_latest = 0 AND "
					    "o.delete_marker = 0 AND o.noncurrent_since <= ?2 AND "
					    "o.storage_class != ?3 AND " PREFIX_SQL)
		       : db_stmt(c->fb->db, "SELECT " S3_OBJECT_COLS " FROM s3_objects o WHERE "
					    "o.bucket_id = ?1 AND o.is_latest = 1 AND "
					    "o.delete_marker = 0 AND o.mtime <= ?2 AND "
					    "o.storage_class != ?3 AND " PREFIX_SQL);
	sqlite3_bind_int64(st, 1, b->id);
	sqlite3_bind_int64(st, 2, loosest);
	sqlite3_bind_text(st, 3, deepest_cls, -1, SQLITE_STATIC);
	bind_prefix(c, st, f);
	n = load_batch(c, st, &v);
	for (size_t i = 0; i < n; i++) {
		int64_t when = noncurrent ? v[i].noncurrent_ms : v[i].mtime_ms, best = INT64_MAX;
		const char *cls = NULL;
		if (!matches(c, r, f, &v[i]))
			continue;
		for (size_t j = 0; j < jv_len(ts); j++) {
			const struct jv *t = jv_at(ts, j);
			int64_t cut;
			if (cutoff_of(t, days_key, c->now_ms) == INT64_MIN)
				continue;
			cut = due_cut(t, days_key, c->now_ms);
			if (when <= cut && cut < best && jv_get_str(t, "StorageClass")) {
				best = cut;
				cls = jv_get_str(t, "StorageClass");
			}
		}
		if (!cls || !strcmp(cls, v[i].storage_class))
			continue;
		sqlite3_stmt *u =
		    db_stmt(c->fb->db, "UPDATE s3_objects SET storage_class = ?2 WHERE id = ?1");
		sqlite3_bind_int64(u, 1, v[i].id);
		sqlite3_bind_text(u, 2, cls, -1, SQLITE_STATIC);
		if (db_step_done(u) == SQLITE_DONE)
			done++;
	}
	return done;
}

/* A bucket with a lifecycle configuration. */
struct lc_bucket {
	struct s3_bucket b;
	struct jv *cfg;
};

/* sweep_now: one pass over every bucket's rules. */
static void sweep_now(struct fogbank *fb, int64_t now_ms)
{
	struct arena *a = arena_new(16384);
	struct aws_call call = {.a = a,
				.fb = fb,
				.now_ms = now_ms,
				.request_id = "lifecycle",
				.region = fb->default_region};
	struct aws_call *c = &call;
	struct lc_bucket *bs = NULL;
	size_t nb = 0, cap = 0, total = 0;
	sqlite3_stmt *st;

	if (s3_store_open(fb) < 0) {
		arena_free(a);
		return;
	}
	st = db_stmt(fb->db, "SELECT b.id, b.name, b.account, b.region, b.versioning, cfg.value "
			     "FROM s3_bucket_cfg cfg JOIN s3_buckets b ON b.id = cfg.bucket_id "
			     "WHERE cfg.kind = 'lifecycle'");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = db_col_text(st, 5);
		if (nb == cap) {
			cap = cap ? 2 * cap : 8;
			bs = arena_realloc(a, bs, nb * sizeof(*bs), cap * sizeof(*bs));
		}
		memset(&bs[nb], 0, sizeof(bs[nb]));
		bs[nb].b.id = sqlite3_column_int64(st, 0);
		bs[nb].b.name = arena_strdup(a, db_col_text(st, 1));
		bs[nb].b.account = arena_strdup(a, db_col_text(st, 2));
		bs[nb].b.region = arena_strdup(a, db_col_text(st, 3));
		bs[nb].b.versioning = sqlite3_column_int(st, 4);
		bs[nb].cfg = t ? json_parse(a, t, strlen(t), NULL) : NULL;
		nb++;
	}
	sqlite3_reset(st);
	if (!nb || s3_tx_begin(c) < 0) {
		arena_free(a);
		return;
	}
	for (size_t i = 0; i < nb; i++) {
		struct jv *rules = jv_get(bs[i].cfg, "Rules");
		c->account = bs[i].b.account;
		for (size_t k = 0; k < jv_len(rules); k++) {
			struct jv *r = jv_at(rules, k);
			struct filter f;
			if (!str_eq_c(jv_get_strv(r, "Status"), "Enabled"))
				continue;
			filter_of(r, &f);
			total += expire_current(c, &bs[i].b, r, &f);
			total += expire_noncurrent(c, &bs[i].b, r, &f);
			total += expire_markers(c, &bs[i].b, r, &f);
			total += abort_uploads(c, &bs[i].b, r, &f);
			total += transition(c, &bs[i].b, r, &f, 0);
			total += transition(c, &bs[i].b, r, &f, 1);
		}
	}
	if (c->err_code) {
		/* an action may have stopped half way: keep none of this sweep */
		log_warn("s3: lifecycle sweep: %s: %s", c->err_code, c->err_msg ? c->err_msg : "");
		s3_tx_end(c, -1);
	} else if (!total) {
		s3_tx_end(c, -1); /* nothing changed: no commit, no fsync */
	} else if (s3_tx_end(c, 0) == 0) {
		log_info("s3: lifecycle sweep applied %zu action(s)", total);
	}
	arena_free(a);
}

void s3_lifecycle_sweep(struct fogbank *fb, int64_t now_ms)
{
	static int64_t last, interval = -1;
	if (interval < 0) {
		const char *e = getenv("FOGBANK_S3_SWEEP_MS");
		interval = e ? atoll(e) : (s3_day_ms() < 3600000 ? 1000 : 60000);
	}
	if (now_ms - last < interval)
		return;
	last = now_ms;
	sweep_now(fb, now_ms);
}
