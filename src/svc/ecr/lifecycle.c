/* lifecycle.c - the lifecycle policy rule engine: parsing and validating a
 * policy as ECR does, and deciding which images its rules expire. Pure:
 * no store, no clock (callers pass now and the length of a day), so the
 * preview, the sweep and the unit tests share it.
 *
 * Semantics (AWS's documented ones): rules run in rulePriority order,
 * lowest first; a rule selects images by tag status (tagged with every
 * prefix in tagPrefixList / matching every pattern in tagPatternList,
 * untagged, or any); imageCountMoreThan N keeps the N most recently pushed
 * of its selection and expires the rest; sinceImagePushed N days expires
 * those pushed more than N days ago. An image selected by a rule can only
 * be expired by that rule or a higher-priority one. Images that are
 * children of a manifest list / index are never expired on their own. */
#include "core/compat.h"
#include "aws/json.h"
#include "svc/ecr/internal.h"
#include <stdlib.h>

int64_t ecr_day_ms(void)
{
	const char *e = getenv("FOGBANK_ECR_DAY_SECONDS");
	double s = e && *e ? strtod(e, NULL) : 86400.0;
	return s > 0 ? (int64_t)(s * 1000.0) : 86400000;
}

/* only_keys: NULL when every key of obj is in the NULL-ended allowed list,
 * else the first stray key. */
static const char *only_keys(struct arena *a, const struct jv *obj, const char *const *allowed)
{
	for (size_t i = 0; i < obj->u.obj.n; i++) {
		const struct str k = obj->u.obj.m[i].key;
		int ok = 0;
		for (const char *const *p = allowed; *p && !ok; p++)
			ok = str_eq_c(k, *p);
		if (!ok)
			return arena_str(a, k);
	}
	return NULL;
}

/* strings: the JV_ARRAY of strings v as an arena array; -1 when v is not
 * one (or holds an empty string). */
static ssize_t strings(struct arena *a, const struct jv *v, const char ***out)
{
	if (!v || v->type != JV_ARRAY || jv_len(v) == 0)
		return -1;
	const char **s = arena_alloc(a, jv_len(v) * sizeof(*s));
	for (size_t i = 0; i < jv_len(v); i++) {
		const struct jv *e = jv_at(v, i);
		if (e->type != JV_STRING || e->u.s.n == 0)
			return -1;
		s[i] = e->u.s.p;
	}
	*out = s;
	return (ssize_t)jv_len(v);
}

#define LC_FAIL(...) (*why = arena_sprintf(a, __VA_ARGS__), -1)

/* parse_selection: fills the selection fields of r. 0 or -1 with *why. */
static int parse_selection(struct arena *a, const struct jv *sel, struct ecr_rule *r,
			   const char **why)
{
	static const char *const keys[] = {"tagStatus", "tagPrefixList", "tagPatternList",
					   "countType", "countUnit",	 "countNumber",
					   NULL};
	if (!sel || sel->type != JV_OBJECT)
		return LC_FAIL("'selection' is required");
	const char *stray = only_keys(a, sel, keys);
	if (stray)
		return LC_FAIL("unknown field '%s' in 'selection'", stray);
	const char *ts = jv_get_str(sel, "tagStatus"), *ct = jv_get_str(sel, "countType");
	const char *unit = jv_get_str(sel, "countUnit");
	const struct jv *num = jv_get(sel, "countNumber");
	if (!ts || (strcmp(ts, "tagged") && strcmp(ts, "untagged") && strcmp(ts, "any")))
		return LC_FAIL("'tagStatus' must be one of tagged, untagged, any");
	r->tag_status = !strcmp(ts, "tagged")	  ? ECR_TAG_TAGGED
			: !strcmp(ts, "untagged") ? ECR_TAG_UNTAGGED
						  : ECR_TAG_ANY;
	const struct jv *pre = jv_get(sel, "tagPrefixList"), *pat = jv_get(sel, "tagPatternList");
	if (r->tag_status != ECR_TAG_TAGGED && (pre || pat))
		return LC_FAIL("tagPrefixList and tagPatternList are only allowed with "
			       "tagStatus tagged");
	if (r->tag_status == ECR_TAG_TAGGED) {
		if (!pre == !pat)
			return LC_FAIL("tagStatus tagged needs exactly one of tagPrefixList and "
				       "tagPatternList");
		ssize_t n = pre ? strings(a, pre, &r->prefixes) : strings(a, pat, &r->patterns);
		if (n < 0)
			return LC_FAIL("'%s' must be a non-empty list of non-empty strings",
				       pre ? "tagPrefixList" : "tagPatternList");
		*(pre ? &r->nprefixes : &r->npatterns) = (size_t)n;
		for (size_t i = 0; i < r->npatterns; i++) {
			int stars = 0;
			for (const char *p = r->patterns[i]; *p; p++)
				stars += *p == '*';
			if (stars > 4)
				return LC_FAIL("a tag pattern may hold at most 4 wildcards");
		}
	}
	if (!ct || (strcmp(ct, "imageCountMoreThan") && strcmp(ct, "sinceImagePushed")))
		return LC_FAIL("'countType' must be imageCountMoreThan or sinceImagePushed");
	r->count_more_than = !strcmp(ct, "imageCountMoreThan");
	if (r->count_more_than ? unit != NULL : (!unit || strcmp(unit, "days")))
		return LC_FAIL("'countUnit' must be days with sinceImagePushed and absent with "
			       "imageCountMoreThan");
	if (!num || num->type != JV_INT || num->u.i < 1)
		return LC_FAIL("'countNumber' must be a positive integer");
	r->count = num->u.i;
	return 0;
}

/* parse_rule: one element of "rules". 0 or -1 with *why. */
static int parse_rule(struct arena *a, const struct jv *o, struct ecr_rule *r, const char **why)
{
	static const char *const keys[] = {"rulePriority", "description", "selection", "action",
					   NULL};
	if (!o || o->type != JV_OBJECT)
		return LC_FAIL("each rule must be an object");
	const char *stray = only_keys(a, o, keys);
	if (stray)
		return LC_FAIL("unknown field '%s' in a rule", stray);
	const struct jv *pri = jv_get(o, "rulePriority");
	if (!pri || pri->type != JV_INT || pri->u.i < 1)
		return LC_FAIL("'rulePriority' must be a positive integer");
	r->priority = pri->u.i;
	const struct jv *d = jv_get(o, "description");
	if (d && d->type != JV_STRING)
		return LC_FAIL("'description' must be a string");
	const struct jv *act = jv_get(o, "action");
	const char *type = jv_get_str(act, "type");
	if (!type || strcmp(type, "expire") || jv_len(act) != 1)
		return LC_FAIL("'action' must be {\"type\": \"expire\"}");
	return parse_selection(a, jv_get(o, "selection"), r, why);
}

/* rule_cmp: qsort order of rules, lowest rulePriority first. */
static int rule_cmp(const void *x, const void *y)
{
	const struct ecr_rule *a = x, *b = y;
	return a->priority < b->priority ? -1 : a->priority > b->priority;
}

ssize_t ecr_lifecycle_parse(struct arena *a, const char *text, struct ecr_rule **rules,
			    const char **why)
{
	static const char *const keys[] = {"rules", NULL};
	const struct jv *doc = text ? json_parse(a, text, strlen(text), NULL) : NULL;
	if (!doc || doc->type != JV_OBJECT)
		return LC_FAIL("the policy is not a JSON object");
	const char *stray = only_keys(a, doc, keys);
	if (stray)
		return LC_FAIL("unknown field '%s'", stray);
	const struct jv *list = jv_get(doc, "rules");
	if (!list || list->type != JV_ARRAY || jv_len(list) == 0)
		return LC_FAIL("'rules' must be a non-empty list");
	size_t n = jv_len(list);
	struct ecr_rule *r = arena_zalloc(a, n * sizeof(*r));
	for (size_t i = 0; i < n; i++)
		if (parse_rule(a, jv_at(list, i), &r[i], why) < 0)
			return -1;
	qsort(r, n, sizeof(*r), rule_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && r[i].priority == r[i - 1].priority)
			return LC_FAIL("rulePriority %lld is used twice", (long long)r[i].priority);
		if (r[i].tag_status == ECR_TAG_ANY && i != n - 1)
			return LC_FAIL("a rule with tagStatus any must have the highest "
				       "rulePriority");
	}
	*rules = r;
	return (ssize_t)n;
}

/* glob: 1 when s matches pattern p, where '*' matches any run. */
static int glob(const char *p, const char *s)
{
	const char *star = NULL, *mark = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

/* selects: 1 when rule r's tag criteria select image im. */
static int selects(const struct ecr_rule *r, const struct ecr_image_row *im)
{
	if (im->referenced)
		return 0;
	if (r->tag_status == ECR_TAG_ANY)
		return 1;
	if (r->tag_status == ECR_TAG_UNTAGGED)
		return im->ntags == 0;
	if (im->ntags == 0)
		return 0;
	for (size_t i = 0; i < r->nprefixes; i++) {
		size_t pl = strlen(r->prefixes[i]);
		int hit = 0;
		for (size_t t = 0; t < im->ntags && !hit; t++)
			hit = strncmp(im->tags[t], r->prefixes[i], pl) == 0;
		if (!hit)
			return 0;
	}
	for (size_t i = 0; i < r->npatterns; i++) {
		int hit = 0;
		for (size_t t = 0; t < im->ntags && !hit; t++)
			hit = glob(r->patterns[i], im->tags[t]);
		if (!hit)
			return 0;
	}
	return 1;
}

size_t ecr_lifecycle_eval(const struct ecr_rule *rules, size_t nrules,
			  const struct ecr_image_row *imgs, size_t n, int64_t now_ms,
			  int64_t day_ms, int64_t *expire_rule)
{
	/* claimed[i]: selected by an earlier (higher-priority) rule */
	unsigned char *claimed = calloc(n ? n : 1, 1);
	if (!claimed)
		abort();
	size_t expired = 0;
	for (size_t i = 0; i < n; i++)
		expire_rule[i] = 0;
	for (size_t k = 0; k < nrules; k++) {
		const struct ecr_rule *r = &rules[k];
		int64_t seen = 0; /* selected so far, newest first */
		for (size_t i = 0; i < n; i++) {
			if (!selects(r, &imgs[i]))
				continue;
			seen++;
			int expire = r->count_more_than
					 ? seen > r->count
					 : now_ms - imgs[i].pushed_ms > r->count * day_ms;
			if (expire && !expire_rule[i] && !claimed[i]) {
				expire_rule[i] = r->priority;
				expired++;
			}
		}
		for (size_t i = 0; i < n; i++)
			if (selects(r, &imgs[i]))
				claimed[i] = 1;
	}
	free(claimed);
	return expired;
}
