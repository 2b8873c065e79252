/* cors.c - CORS as S3 serves it from a bucket's CORS rules: answers to
 * browser preflights (OPTIONS on a bucket or object, unauthenticated) and
 * the Access-Control-* headers on ordinary responses to requests that
 * carry an Origin. The first rule whose origin, method and requested
 * headers all match wins; origins and headers may hold one '*' wildcard. */
#include "core/compat.h"
#include "aws/gen/s3_ops.h"
#include "aws/proto_rest.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <ctype.h>

/* wild_match: case-(in)sensitive match of s against pattern p with at
 * most one '*' matching any run of characters. */
static int wild_match(const char *p, struct str s, int icase)
{
	const char *star = strchr(p, '*');
	size_t pre, post;
	int (*cmp)(const char *, const char *, size_t) = icase ? strncasecmp : strncmp;
	if (!star)
		return strlen(p) == s.n && cmp(p, s.p, s.n) == 0;
	pre = (size_t)(star - p);
	post = strlen(star + 1);
	return s.n >= pre + post && cmp(p, s.p, pre) == 0 &&
	       cmp(star + 1, s.p + s.n - post, post) == 0;
}

/* any_match: 1 when some string of array pats matches s. */
static int any_match(const struct jv *pats, struct str s, int icase)
{
	for (size_t i = 0; i < jv_len(pats); i++) {
		const struct jv *v = jv_at(pats, i);
		if (v && v->type == JV_STRING && wild_match(v->u.s.p, s, icase))
			return 1;
	}
	return 0;
}

/* headers_allowed: every header of the comma-separated list is allowed. */
static int headers_allowed(const struct jv *allowed, struct str list)
{
	size_t i = 0;
	while (i < list.n) {
		size_t s, e;
		while (i < list.n && (list.p[i] == ' ' || list.p[i] == ','))
			i++;
		s = i;
		while (i < list.n && list.p[i] != ',')
			i++;
		e = i;
		while (e > s && list.p[e - 1] == ' ')
			e--;
		if (e > s && !any_match(allowed, (struct str){list.p + s, e - s}, 1))
			return 0;
	}
	return 1;
}

/* find_rule: the first rule allowing origin/method/headers, or NULL. */
static struct jv *find_rule(struct jv *cfg, struct str origin, struct str method,
			    struct str headers)
{
	struct jv *rules = jv_get(cfg, "CORSRules");
	for (size_t i = 0; i < jv_len(rules); i++) {
		struct jv *r = jv_at(rules, i);
		if (any_match(jv_get(r, "AllowedOrigins"), origin, 0) &&
		    any_match(jv_get(r, "AllowedMethods"), method, 0) &&
		    (!headers.n || headers_allowed(jv_get(r, "AllowedHeaders"), headers)))
			return r;
	}
	return NULL;
}

/* join: the strings of array v joined by ", " (arena), NULL when empty. */
static const char *join(struct aws_call *c, const struct jv *v)
{
	struct buf b = BUF_INIT;
	const char *s;
	for (size_t i = 0; i < jv_len(v); i++) {
		const struct jv *e = jv_at(v, i);
		if (!e || e->type != JV_STRING)
			continue;
		if (b.n)
			buf_puts(&b, ", ");
		buf_append(&b, e->u.s.p, e->u.s.n);
	}
	s = b.n ? arena_strndup(c->a, b.p, b.n) : NULL;
	buf_release(&b);
	return s;
}

/* allow_origin: what Access-Control-Allow-Origin says for rule r: "*"
 * for a rule open to every origin (as S3 answers), else the origin. */
static const char *allow_origin(struct aws_call *c, struct jv *r, struct str origin)
{
	const struct jv *origins = jv_get(r, "AllowedOrigins");
	for (size_t i = 0; i < jv_len(origins); i++) {
		const struct jv *o = jv_at(origins, i);
		if (o && o->type == JV_STRING && !strcmp(o->u.s.p, "*"))
			return "*";
	}
	return arena_str(c->a, origin);
}

/* preflight: OPTIONS on a bucket or an object. */
static int preflight(struct aws_call *c)
{
	struct s3_bucket b;
	struct str origin = jv_get_strv(c->in, "Origin");
	struct str method = jv_get_strv(c->in, "AccessControlRequestMethod");
	struct str headers = jv_get_strv(c->in, "AccessControlRequestHeaders");
	struct jv *cfg, *r, *out;
	const char *s;

	if (s3_enter(c) < 0)
		return -1;
	/* preflights are unsigned: the bucket is looked up for anyone */
	c->account = NULL;
	if (s3_bucket_find(c, jv_get_str(c->in, "Bucket"), &b) < 0)
		return -1;
	if (!origin.p)
		return aws_fail(c, 400, "BadRequest",
				"Insufficient information. Origin request header needed.");
	if (!method.p)
		return aws_fail(c, 400, "BadRequest",
				"Invalid Access-Control-Request-Method: null");
	cfg = s3_cfg_get(c, b.id, "cors");
	if (!cfg)
		return aws_fail(c, 403, "CORSResponse", "CORS is not enabled for this bucket.");
	r = find_rule(cfg, origin, method, headers);
	if (!r)
		return aws_fail(
		    c, 403, "CORSResponse",
		    "This CORS request is not allowed. This is usually because the "
		    "evalution of Origin, request method / Access-Control-Request-Method "
		    "or Access-Control-Request-Headers are not whitelisted by the "
		    "resource's CORS spec.");
	out = aws_out(c);
	jv_set_str(c->a, out, "AccessControlAllowOrigin", allow_origin(c, r, origin));
	jv_set_str(c->a, out, "AccessControlAllowMethods", join(c, jv_get(r, "AllowedMethods")));
	if (headers.n)
		jv_set_strn(c->a, out, "AccessControlAllowHeaders", headers.p, headers.n);
	if ((s = join(c, jv_get(r, "ExposeHeaders"))))
		jv_set_str(c->a, out, "AccessControlExposeHeaders", s);
	if (jv_get(r, "MaxAgeSeconds"))
		jv_set_str(
		    c->a, out, "AccessControlMaxAge",
		    arena_sprintf(c->a, "%lld", (long long)jv_get_int(r, "MaxAgeSeconds", 0)));
	if (strcmp(jv_get_str(out, "AccessControlAllowOrigin"), "*") != 0)
		jv_set_str(c->a, out, "AccessControlAllowCredentials", "true");
	jv_set_str(c->a, out, "Vary",
		   "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
	return 0;
}

int s3_op_options_bucket(struct aws_call *c)
{
	return preflight(c);
}

int s3_op_options_object(struct aws_call *c)
{
	return preflight(c);
}

void s3_cors_actual(struct aws_call *c, const struct s3_bucket *b)
{
	struct str origin = s3_header(c, "origin");
	struct jv *cfg, *r;
	const char *s, *ao;
	if (!origin.p || !c->http)
		return;
	cfg = s3_cfg_get(c, b->id, "cors");
	if (!cfg || !(r = find_rule(cfg, origin, c->http->h.method, STR_NULL)))
		return;
	ao = allow_origin(c, r, origin);
	proto_rest_add_header(c, "Access-Control-Allow-Origin", ao);
	if ((s = join(c, jv_get(r, "AllowedMethods"))))
		proto_rest_add_header(c, "Access-Control-Allow-Methods", s);
	if ((s = join(c, jv_get(r, "ExposeHeaders"))))
		proto_rest_add_header(c, "Access-Control-Expose-Headers", s);
	if (jv_get(r, "MaxAgeSeconds"))
		proto_rest_add_header(
		    c, "Access-Control-Max-Age",
		    arena_sprintf(c->a, "%lld", (long long)jv_get_int(r, "MaxAgeSeconds", 0)));
	if (strcmp(ao, "*") != 0)
		proto_rest_add_header(c, "Access-Control-Allow-Credentials", "true");
	proto_rest_add_header(
	    c, "Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}
