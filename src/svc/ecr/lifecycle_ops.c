/* lifecycle_ops.c - Put/Get/DeleteLifecyclePolicy, the preview
 * (StartLifecyclePolicyPreview computes it at once and stores it, so the
 * status is COMPLETE by the time GetLifecyclePolicyPreview asks), and the
 * sweep that applies every policy for real on the daemon's timer. */
#include "core/compat.h"
#include "aws/gen/ecr_ops.h"
#include "aws/json.h"
#include "core/log.h"
#include "fb.h"
#include "svc/ecr/internal.h"
#include <stdlib.h>

#define SWEEP_MAX_REPOS 256 /* per timer call; the rest waits for the next */

/* no_policy: LifecyclePolicyNotFoundException for r; returns -1. */
static int no_policy(struct aws_call *c, const struct ecr_repo *r)
{
	return aws_fail(c, 400, "LifecyclePolicyNotFoundException",
			"Lifecycle policy does not exist for the repository with name '%s' in the "
			"registry with id '%s'",
			r->name, r->account);
}

/* check_policy: InvalidParameterException unless text is a valid policy. */
static int check_policy(struct aws_call *c, const char *text)
{
	struct ecr_rule *rules;
	const char *why = NULL;
	if (ecr_lifecycle_parse(c->a, text, &rules, &why) < 0)
		return aws_fail(c, 400, "InvalidParameterException",
				"Invalid parameter at 'LifecyclePolicyText' failed to satisfy "
				"constraint: 'Lifecycle policy validation failure: %s'",
				why);
	return 0;
}

static const char sql_set_lifecycle[] =
    "UPDATE ecr_repos SET lifecycle = ?2, lifecycle_evaluated_ms = NULL WHERE id = ?1";

/* set_lifecycle: stores text (NULL clears) on the named repository; *r is
 * the row as it was. Clearing a policy that is not there fails. */
static int set_lifecycle(struct aws_call *c, const char *text, struct ecr_repo *r)
{
	if (ecr_tx_begin(c) < 0)
		return -1;
	int ok = ecr_repo_find(c, r);
	if (ok == 0 && !text && !r->lifecycle)
		ok = no_policy(c, r);
	if (ok == 0) {
		sqlite3_stmt *st = db_stmt(c->fb->db, sql_set_lifecycle);
		sqlite3_bind_int64(st, 1, r->id);
		if (text)
			sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ecr_fail_db(c, rc);
	}
	return ecr_tx_end(c, ok);
}

int ecr_op_put_lifecycle_policy(struct aws_call *c)
{
	struct ecr_repo r;
	const char *text = jv_get_str(c->in, "lifecyclePolicyText");
	if (check_policy(c, text) < 0 || set_lifecycle(c, text, &r) < 0)
		return -1;
	ecr_out_repo_ids(c, &r);
	jv_set_str(c->a, aws_out(c), "lifecyclePolicyText", text);
	return 0;
}

/* out_policy: the Get/Delete output for r's stored policy. */
static void out_policy(struct aws_call *c, const struct ecr_repo *r)
{
	ecr_out_repo_ids(c, r);
	jv_set_str(c->a, aws_out(c), "lifecyclePolicyText", r->lifecycle);
	if (r->lifecycle_evaluated_ms)
		jv_set_double(c->a, aws_out(c), "lastEvaluatedAt",
			      (double)r->lifecycle_evaluated_ms / 1000.0);
}

int ecr_op_get_lifecycle_policy(struct aws_call *c)
{
	struct ecr_repo r;
	if (ecr_repo_find(c, &r) < 0)
		return -1;
	if (!r.lifecycle)
		return no_policy(c, &r);
	out_policy(c, &r);
	return 0;
}

int ecr_op_delete_lifecycle_policy(struct aws_call *c)
{
	struct ecr_repo r;
	if (set_lifecycle(c, NULL, &r) < 0)
		return -1;
	out_policy(c, &r);
	return 0;
}

/* evaluate: loads the images of repository repo_id and decides which
 * policy expires at now_ms. Returns the image count, with *imgs and *rule
 * (priority per image, 0 = kept) in arena a and *nexp the count expired;
 * -1 on a store error or an invalid stored policy. */
static ssize_t evaluate(struct fogbank *fb, struct arena *a, int64_t repo_id, const char *policy,
			int64_t now_ms, struct ecr_image_row **imgs, int64_t **rule, size_t *nexp)
{
	struct ecr_rule *rules;
	const char *why;
	ssize_t nr = ecr_lifecycle_parse(a, policy, &rules, &why);
	ssize_t n = nr < 0 ? -1 : ecr_images_load(fb, a, repo_id, imgs);
	if (n < 0)
		return -1;
	*rule = arena_alloc(a, ((size_t)n + 1) * sizeof(**rule));
	*nexp =
	    ecr_lifecycle_eval(rules, (size_t)nr, *imgs, (size_t)n, now_ms, ecr_day_ms(), *rule);
	return n;
}

int ecr_op_start_lifecycle_policy_preview(struct aws_call *c)
{
	struct ecr_repo r;
	struct ecr_image_row *imgs;
	int64_t *rule;
	if (ecr_repo_find(c, &r) < 0)
		return -1;
	const char *text = jv_get_str(c->in, "lifecyclePolicyText");
	if (!text && !(text = r.lifecycle))
		return no_policy(c, &r);
	if (check_policy(c, text) < 0)
		return -1;
	size_t nexp;
	ssize_t n = evaluate(c->fb, c->a, r.id, text, c->now_ms, &imgs, &rule, &nexp);
	if (n < 0)
		return ecr_fail_db(c, SQLITE_ERROR);
	/* stored compactly: [{"d":digest,"t":[tags],"p":pushed_ms,"r":priority}] */
	struct jv *res = jv_array(c->a);
	for (ssize_t i = 0; i < n; i++) {
		if (!rule[i])
			continue;
		struct jv *o = jv_object(c->a), *tags = jv_array(c->a);
		for (size_t t = 0; t < imgs[i].ntags; t++)
			jv_push(c->a, tags, jv_string_c(c->a, imgs[i].tags[t]));
		jv_set_str(c->a, o, "d", imgs[i].digest);
		jv_set(c->a, o, "t", tags);
		jv_set_int(c->a, o, "p", imgs[i].pushed_ms);
		jv_set_int(c->a, o, "r", rule[i]);
		jv_push(c->a, res, o);
	}
	struct buf b = BUF_INIT;
	json_write(&b, res);
	if (ecr_tx_begin(c) < 0) {
		buf_release(&b);
		return -1;
	}
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE ecr_repos SET preview_policy = ?2, "
					      "preview_json = ?3 WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r.id);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b.p, (int)b.n, SQLITE_STATIC);
	int rc = db_step_done(st);
	buf_release(&b);
	if (ecr_tx_end(c, rc == SQLITE_DONE ? 0 : ecr_fail_db(c, rc)) < 0)
		return -1;
	ecr_out_repo_ids(c, &r);
	jv_set_str(c->a, aws_out(c), "lifecyclePolicyText", text);
	jv_set_str(c->a, aws_out(c), "status", "COMPLETE");
	return 0;
}

/* preview_wanted: 1 when a stored result o passes imageIds and filter. */
static int preview_wanted(struct aws_call *c, const struct jv *o)
{
	const struct jv *tags = jv_get(o, "t"), *ids = jv_get(c->in, "imageIds");
	const char *ts = jv_get_str(jv_get(c->in, "filter"), "tagStatus");
	if (ts && strcmp(ts, "ANY") && (!strcmp(ts, "TAGGED") != (jv_len(tags) > 0)))
		return 0;
	for (size_t i = 0; i < jv_len(ids); i++) {
		const char *dg = jv_get_str(jv_at(ids, i), "imageDigest");
		const char *tag = jv_get_str(jv_at(ids, i), "imageTag");
		int hit = !dg || !strcmp(dg, jv_get_str(o, "d"));
		int thit = !tag;
		for (size_t t = 0; tag && t < jv_len(tags); t++)
			thit |= !strcmp(jv_at(tags, t)->u.s.p, tag);
		if (hit && thit)
			return 1;
	}
	return jv_len(ids) == 0;
}

int ecr_op_get_lifecycle_policy_preview(struct aws_call *c)
{
	struct ecr_repo r;
	size_t off, limit;
	if (ecr_page_args(c, ECR_DEFAULT_PAGE, &off, &limit) < 0 || ecr_repo_find(c, &r) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT preview_policy, preview_json FROM "
					      "ecr_repos WHERE id = ?1");
	sqlite3_bind_int64(st, 1, r.id);
	const char *policy = NULL, *js = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		policy = arena_strdup(c->a, db_col_text(st, 0));
		js = arena_strdup(c->a, db_col_text(st, 1));
	}
	sqlite3_reset(st);
	struct jv *all = js ? json_parse(c->a, js, strlen(js), NULL) : NULL;
	if (!policy || !all)
		return aws_fail(c, 400, "LifecyclePolicyPreviewNotFoundException",
				"There is no preview result for the repository with name '%s' in "
				"the registry with id '%s'",
				r.name, r.account);
	struct jv *list = jv_array(c->a);
	size_t k = 0;
	for (size_t i = 0; i < jv_len(all); i++) {
		const struct jv *o = jv_at(all, i);
		if (!preview_wanted(c, o) || k++ < off || jv_len(list) >= limit)
			continue;
		struct jv *e = jv_object(c->a), *act = jv_object(c->a);
		if (jv_len(jv_get(o, "t")))
			jv_set(c->a, e, "imageTags", jv_get(o, "t"));
		jv_set_str(c->a, e, "imageDigest", jv_get_str(o, "d"));
		jv_set_double(c->a, e, "imagePushedAt", (double)jv_get_int(o, "p", 0) / 1000.0);
		jv_set_str(c->a, act, "type", "EXPIRE");
		jv_set(c->a, e, "action", act);
		jv_set_int(c->a, e, "appliedRulePriority", jv_get_int(o, "r", 0));
		jv_push(c->a, list, e);
	}
	ecr_out_repo_ids(c, &r);
	jv_set_str(c->a, aws_out(c), "lifecyclePolicyText", policy);
	jv_set_str(c->a, aws_out(c), "status", "COMPLETE");
	jv_set(c->a, aws_out(c), "previewResults", list);
	struct jv *sum = jv_object(c->a);
	jv_set_int(c->a, sum, "expiringImageTotalCount", (int64_t)jv_len(all));
	jv_set(c->a, aws_out(c), "summary", sum);
	ecr_page_token(c, off + jv_len(list), k);
	return 0;
}

/* sweep_repo: applies the policy of repository id in one transaction.
 * Returns the images expired, or -1. */
static ssize_t sweep_repo(struct fogbank *fb, struct arena *a, int64_t id, const char *name,
			  const char *policy, int64_t now_ms)
{
	struct ecr_image_row *imgs;
	int64_t *rule;
	if (db_begin(fb->db) != SQLITE_OK)
		return -1;
	size_t nexp = 0;
	ssize_t n = evaluate(fb, a, id, policy, now_ms, &imgs, &rule, &nexp);
	ssize_t k = n < 0 ? -1 : (ssize_t)nexp;
	for (ssize_t i = 0; k > 0 && i < n; i++) {
		if (!rule[i])
			continue;
		if (ecr_image_delete(fb, imgs[i].id) != SQLITE_DONE) {
			k = -1;
			break;
		}
		log_info("ecr: lifecycle rule %lld expired %s@%s", (long long)rule[i], name,
			 imgs[i].digest);
	}
	if (k >= 0) {
		sqlite3_stmt *st = db_stmt(fb->db, "UPDATE ecr_repos SET lifecycle_evaluated_ms = "
						   "?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now_ms);
		if (db_step_done(st) != SQLITE_DONE)
			k = -1;
	}
	if (k >= 0 && db_commit(fb->db) == SQLITE_OK)
		return k;
	db_rollback(fb->db);
	log_error("ecr: lifecycle sweep of %s failed", name);
	return -1;
}

void ecr_lifecycle_sweep(struct fogbank *fb, int64_t now_ms)
{
	struct arena *a = arena_new(16384);
	int64_t ids[SWEEP_MAX_REPOS];
	const char *names[SWEEP_MAX_REPOS], *policies[SWEEP_MAX_REPOS];
	size_t n = 0;
	/* AWS applies a policy within a day; fogbank looks at each repository
	 * every 1/24 day (an hour; less with FOGBANK_ECR_DAY_SECONDS), a new
	 * policy at once, oldest evaluation first */
	int64_t every = ecr_day_ms() / 24;
	sqlite3_stmt *st =
	    db_stmt(fb->db, "SELECT id, name, lifecycle FROM ecr_repos WHERE "
			    "lifecycle IS NOT NULL AND coalesce(lifecycle_evaluated_ms, "
			    "0) <= ?2 ORDER BY coalesce(lifecycle_evaluated_ms, 0) "
			    "LIMIT ?1");
	sqlite3_bind_int(st, 1, SWEEP_MAX_REPOS);
	sqlite3_bind_int64(st, 2, now_ms - every);
	while (n < SWEEP_MAX_REPOS && sqlite3_step(st) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(st, 0);
		names[n] = arena_strdup(a, db_col_text(st, 1));
		policies[n++] = arena_strdup(a, db_col_text(st, 2));
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++)
		sweep_repo(fb, a, ids[i], names[i], policies[i], now_ms);
	arena_free(a);
}
