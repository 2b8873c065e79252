/* list.c - ListSecrets and the Filters it shares with BatchGetSecretValue.
 *
 * Filter semantics, as documented by AWS: name, tag-key, tag-value and
 * primary-region are case-sensitive prefix matches; description is a
 * case-insensitive prefix match; "all" splits the value into words and
 * matches each word case-insensitively against the start of any word of
 * the name, description, tag keys and tag values. A value starting with
 * '!' negates. Values of one filter are ORed; filters are ANDed. fogbank
 * does not replicate secrets, so primary-region and owning-service match
 * nothing. */
#include "core/compat.h"
#include "aws/gen/secretsmanager_ops.h"
#include "fb.h"
#include "svc/secretsmanager/internal.h"
#include <ctype.h>
#include <stdlib.h>

static const char *const filter_keys[] = {
    "description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"};

int sm_filters_check(struct aws_call *c, const struct jv *filters)
{
	if (jv_len(filters) > 10)
		return aws_fail(c, 400, "InvalidParameterException", "At most 10 filters allowed.");
	for (size_t i = 0; i < jv_len(filters); i++) {
		const char *key = jv_get_str(jv_at(filters, i), "Key");
		int known = 0;
		for (size_t k = 0; key && k < FB_ARRAY_LEN(filter_keys); k++)
			known |= strcmp(key, filter_keys[k]) == 0;
		if (!known)
			return aws_fail(
			    c, 400, "ValidationException",
			    "1 validation error detected: Value '%s' at "
			    "'filters.%zu.member.key' failed to satisfy constraint: Member "
			    "must satisfy enum value set: [all, name, tag-key, description, "
			    "tag-value, primary-region, owning-service]",
			    key ? key : "null", i + 1);
		if (jv_len(jv_get(jv_at(filters, i), "Values")) < 1)
			return aws_fail(c, 400, "InvalidParameterException",
					"Invalid filter values: each filter needs 1 to 10 values.");
	}
	return 0;
}

/* prefix: 1 when s starts with p (n bytes), optionally ignoring case. */
static int prefix(const char *s, const char *p, size_t n, int nocase)
{
	if (!s || strlen(s) < n)
		return 0;
	return nocase ? strncasecmp(s, p, n) == 0 : strncmp(s, p, n) == 0;
}

/* word_match: 1 when some word of s (split at non-alphanumerics) starts
 * with w[0..n), ignoring case. */
static int word_match(const char *s, const char *w, size_t n)
{
	for (const char *p = s; p && *p; p++) {
		int start =
		    isalnum((unsigned char)*p) && (p == s || !isalnum((unsigned char)p[-1]));
		if (start && prefix(p, w, n, 1))
			return 1;
	}
	return 0;
}

/* all_match: every word of value matches some attribute of s. */
static int all_match(const char *value, const struct sm_secret *s, const struct jv *tags)
{
	const char *p = value;
	int any = 0;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		any = 1;
		int hit = word_match(s->name, p, n) || word_match(s->description, p, n);
		for (size_t i = 0; !hit && i < jv_len(tags); i++)
			hit = word_match(jv_get_str(jv_at(tags, i), "Key"), p, n) ||
			      word_match(jv_get_str(jv_at(tags, i), "Value"), p, n);
		if (!hit)
			return 0;
		p += n;
	}
	return any;
}

/* value_match: one filter value (without '!') against s. */
static int value_match(const char *key, const char *v, const struct sm_secret *s,
		       const struct jv *tags)
{
	size_t n = strlen(v);
	if (strcmp(key, "name") == 0)
		return prefix(s->name, v, n, 0);
	if (strcmp(key, "description") == 0)
		return prefix(s->description, v, n, 1);
	if (strcmp(key, "all") == 0)
		return all_match(v, s, tags);
	if (strcmp(key, "tag-key") == 0 || strcmp(key, "tag-value") == 0) {
		const char *member = strcmp(key, "tag-key") == 0 ? "Key" : "Value";
		for (size_t i = 0; i < jv_len(tags); i++)
			if (prefix(jv_get_str(jv_at(tags, i), member), v, n, 0))
				return 1;
		return 0;
	}
	return 0; /* primary-region, owning-service: no replicas, no owners */
}

int sm_filters_match(const struct jv *filters, const struct sm_secret *s, const struct jv *tags)
{
	for (size_t i = 0; i < jv_len(filters); i++) {
		const struct jv *f = jv_at(filters, i);
		const char *key = jv_get_str(f, "Key");
		const struct jv *values = jv_get(f, "Values");
		int hit = 0;
		for (size_t j = 0; !hit && j < jv_len(values); j++) {
			const struct jv *v = jv_at(values, j);
			if (!v || v->type != JV_STRING)
				continue;
			const char *text = v->u.s.p;
			hit = text[0] == '!' ? !value_match(key, text + 1, s, tags)
					     : value_match(key, text, s, tags);
		}
		if (!hit)
			return 0;
	}
	return 1;
}

size_t sm_list_load(struct aws_call *c, int desc, int include_deleted, struct sm_secret **out)
{
	secretsmanager_purge(c->fb, c->now_ms);
	sqlite3_stmt *st = db_stmt(
	    c->fb->db, desc ? "SELECT id, arn, name, description, kms_key_id, policy, created, "
			      "last_changed, last_accessed, deleted_date, purge_at FROM "
			      "sm_secrets WHERE account = ?1 AND region = ?2 ORDER BY created "
			      "DESC, id DESC"
			    : "SELECT id, arn, name, description, kms_key_id, policy, created, "
			      "last_changed, last_accessed, deleted_date, purge_at FROM "
			      "sm_secrets WHERE account = ?1 AND region = ?2 ORDER BY created, id");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	size_t n = 0, cap = 16;
	struct sm_secret *v = arena_alloc(c->a, cap * sizeof(*v));
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!include_deleted && sqlite3_column_type(st, 9) != SQLITE_NULL)
			continue;
		if (n == cap) {
			v = arena_realloc(c->a, v, cap * sizeof(*v), 2 * cap * sizeof(*v));
			cap *= 2;
		}
		struct sm_secret *s = &v[n++];
		memset(s, 0, sizeof(*s));
		s->id = sqlite3_column_int64(st, 0);
#define DUP(i) (db_col_text(st, i) ? arena_strdup(c->a, db_col_text(st, i)) : NULL)
		s->arn = DUP(1);
		s->name = DUP(2);
		s->description = DUP(3);
		s->kms_key_id = DUP(4);
		s->policy = DUP(5);
#undef DUP
		s->created = sqlite3_column_double(st, 6);
		s->last_changed = sqlite3_column_double(st, 7);
		s->last_accessed = sqlite3_column_double(st, 8);
		s->deleted_date = sqlite3_column_double(st, 9);
		s->purge_at = sqlite3_column_double(st, 10);
	}
	sqlite3_reset(st);
	*out = v;
	return n;
}

int sm_page_token(struct aws_call *c, size_t *offset)
{
	const char *t = jv_get_str(c->in, "NextToken");
	*offset = 0;
	if (!t)
		return 0;
	char *end = NULL;
	unsigned long long v = strtoull(t, &end, 10);
	if (!*t || *end || t[0] == '-')
		return aws_fail(c, 400, "InvalidNextTokenException",
				"The NextToken value is invalid.");
	*offset = (size_t)v;
	return 0;
}

int secretsmanager_op_list_secrets(struct aws_call *c)
{
	const struct jv *filters = jv_get(c->in, "Filters");
	const char *order = jv_get_str(c->in, "SortOrder");
	int64_t max = jv_get_int(c->in, "MaxResults", 100);
	size_t offset;
	if (max < 1 || max > 100)
		return aws_fail(c, 400, "InvalidParameterException",
				"MaxResults must be between 1 and 100.");
	if (order && strcmp(order, "asc") && strcmp(order, "desc"))
		return aws_fail(c, 400, "InvalidParameterException",
				"SortOrder must be asc or desc.");
	if (sm_filters_check(c, filters) < 0 || sm_page_token(c, &offset) < 0)
		return -1;
	struct sm_secret *all;
	size_t n = sm_list_load(c, order && strcmp(order, "desc") == 0,
				jv_get_bool(c->in, "IncludePlannedDeletion", 0), &all);
	struct jv *list = jv_array(c->a);
	size_t matched = 0, taken = 0;
	for (size_t i = 0; i < n; i++) {
		if (filters && !sm_filters_match(filters, &all[i], sm_tags_of(c, all[i].id)))
			continue;
		if (matched++ < offset)
			continue;
		if (taken == (size_t)max) {
			jv_set_str(c->a, aws_out(c), "NextToken",
				   arena_sprintf(c->a, "%zu", offset + taken));
			break;
		}
		struct jv *e = jv_object(c->a);
		sm_secret_entry(c, &all[i], e, "SecretVersionsToStages");
		jv_push(c->a, list, e);
		taken++;
	}
	jv_set(c->a, aws_out(c), "SecretList", list);
	return 0;
}
