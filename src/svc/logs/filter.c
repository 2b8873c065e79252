/* filter.c - parser and matcher of the filter pattern language (see
 * filter.h for the grammar by example).
 *
 * Semantics chosen where AWS's documentation is silent, all conservative:
 * terms match as case-sensitive substrings; a comparison on a JSON field
 * that does not exist is false (also for !=); numbers compare numerically
 * (a JSON string holding a number counts as one); string values compare
 * against the field's text with * as the only wildcard, and "*" alone
 * means "the field exists"; a condition in a space-delimited field may
 * only name that field. The parser never allocates outside its arena and
 * bounds its recursion. */
#include "core/compat.h"
#include "svc/logs/filter.h"
#include "aws/json.h"
#include "aws/value.h"
#include <ctype.h>
#include <math.h>
#include <stdlib.h>

#define LF_MAX_DEPTH 32 /* nested parentheses */

enum lf_kind { LF_ALL, LF_TERMS, LF_JSON, LF_SPACE };
enum lf_vkind { LV_STR, LV_NUM, LV_RE };
enum lf_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_TRUE, OP_FALSE, OP_NULL, OP_NOT_EXISTS };
enum lf_ntype { LN_AND, LN_OR, LN_COND };

struct lf_value {
	enum lf_vkind kind;
	struct str s; /* LV_STR: the text, * as wildcard */
	double num;
	const struct logs_re *re;
};

struct lf_seg {
	struct str key; /* member name, or */
	long index;	/* array index when key.p == NULL */
};

struct lf_node {
	enum lf_ntype type;
	struct lf_node **kids; /* LN_AND / LN_OR */
	size_t nkids;
	struct lf_seg *segs; /* LN_COND: JSON selector below $ */
	size_t nsegs;
	enum lf_op op;
	struct lf_value val;
};

struct lf_term {
	char mode; /* '+' required, '?' alternative, '-' excluded */
	struct lf_value val;
};

struct lf_field {
	int ellipsis;
	struct str name;
	struct lf_node *cond; /* NULL: any value */
};

struct logs_filter {
	enum lf_kind kind;
	struct lf_term *terms;
	size_t nterms, nany;
	struct lf_node *root;
	struct lf_field *fields;
	size_t nfields;
};

/* A field value as comparisons see it. */
struct lf_scalar {
	struct str text;
	int has_num;
	double num;
};

struct lp {
	struct arena *a;
	const char *p, *end;
	const char *err;
	int depth;
};

/* ---- lexing ---------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_ws(struct lp *x)
{
	while (x->p < x->end && is_space(*x->p))
		x->p++;
}

/* fail: records reason and returns NULL-ish -1 for the callers' sake. */
static int fail(struct lp *x, const char *why)
{
	if (!x->err)
		x->err = why;
	return -1;
}

/* eat: skips blanks, then consumes the literal tok when it comes next. */
static int eat(struct lp *x, const char *tok)
{
	size_t n = strlen(tok);
	skip_ws(x);
	if ((size_t)(x->end - x->p) >= n && memcmp(x->p, tok, n) == 0) {
		x->p += n;
		return 1;
	}
	return 0;
}

/* eat_word: consumes keyword kw (any case) when followed by a delimiter. */
static int eat_word(struct lp *x, const char *kw)
{
	size_t n = strlen(kw);
	skip_ws(x);
	if ((size_t)(x->end - x->p) < n || strncasecmp(x->p, kw, n) != 0)
		return 0;
	if (x->p + n < x->end && (isalnum((unsigned char)x->p[n]) || x->p[n] == '_'))
		return 0;
	x->p += n;
	return 1;
}

/* is_number: 1 when s is a whole decimal number (sign, digits, fraction,
 * exponent) and then *out holds its value. */
static int is_number(struct str s, double *out)
{
	char tmp[64];
	size_t i = 0, digits = 0;
	if (s.n == 0 || s.n >= sizeof(tmp))
		return 0;
	if (s.p[i] == '-' || s.p[i] == '+')
		i++;
	while (i < s.n && isdigit((unsigned char)s.p[i]))
		i++, digits++;
	if (i < s.n && s.p[i] == '.')
		for (i++; i < s.n && isdigit((unsigned char)s.p[i]); i++)
			digits++;
	if (!digits)
		return 0;
	if (i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
		size_t e = ++i;
		if (i < s.n && (s.p[i] == '-' || s.p[i] == '+'))
			e = ++i;
		while (i < s.n && isdigit((unsigned char)s.p[i]))
			i++;
		if (i == e)
			return 0;
	}
	if (i != s.n)
		return 0;
	memcpy(tmp, s.p, s.n);
	tmp[s.n] = 0;
	*out = strtod(tmp, NULL);
	return isfinite(*out);
}

/* quoted: a "..." string at x->p (\" and \\ unescaped) into *out. */
static int quoted(struct lp *x, struct str *out)
{
	const char *p = x->p + 1;
	char *buf = arena_alloc(x->a, (size_t)(x->end - x->p));
	size_t n = 0;
	for (; p < x->end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < x->end && (p[1] == '"' || p[1] == '\\'))
			p++;
		buf[n++] = *p;
	}
	if (p >= x->end)
		return fail(x, "unterminated quoted string");
	buf[n] = 0;
	x->p = p + 1;
	*out = (struct str){buf, n};
	return 0;
}

/* regex: a %...% at x->p into v. */
static int regex(struct lp *x, struct lf_value *v)
{
	const char *start = x->p + 1, *q = start;
	while (q < x->end && *q != '%')
		q++;
	if (q >= x->end)
		return fail(x, "unterminated regular expression");
	v->kind = LV_RE;
	v->re = logs_re_compile(x->a, start, (size_t)(q - start), &x->err);
	x->p = q + 1;
	return v->re ? 0 : -1;
}

/* bare: a run of bytes up to a blank or one of stop. */
static struct str bare(struct lp *x, const char *stop)
{
	const char *s = x->p;
	while (x->p < x->end && !is_space(*x->p) && !(*x->p && strchr(stop, *x->p)))
		x->p++;
	return (struct str){s, (size_t)(x->p - s)};
}

/* value: the right-hand side of a comparison. */
static int value(struct lp *x, struct lf_value *v)
{
	skip_ws(x);
	memset(v, 0, sizeof(*v));
	if (x->p < x->end && *x->p == '"') {
		v->kind = LV_STR;
		return quoted(x, &v->s);
	}
	if (x->p < x->end && *x->p == '%')
		return regex(x, v);
	v->s = bare(x, "(){}[],&|=!<>\"%");
	if (!v->s.n)
		return fail(x, "missing value");
	v->kind = is_number(v->s, &v->num) ? LV_NUM : LV_STR;
	return 0;
}

/* op: a comparison operator; -1 when none comes next. */
static int op(struct lp *x, enum lf_op *o)
{
	static const struct {
		const char *tok;
		enum lf_op op;
	} ops[] = {{"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
		   {"=", OP_EQ},  {"<", OP_LT},	 {">", OP_GT}};
	for (size_t i = 0; i < FB_ARRAY_LEN(ops); i++)
		if (eat(x, ops[i].tok)) {
			*o = ops[i].op;
			return 0;
		}
	return fail(x, "expected a comparison operator");
}

/* comparison: operator and value into n, checking they fit together. */
static int comparison(struct lp *x, struct lf_node *n)
{
	if (op(x, &n->op) < 0 || value(x, &n->val) < 0)
		return -1;
	if (n->op != OP_EQ && n->op != OP_NE && n->val.kind != LV_NUM)
		return fail(x, "ordering needs a number");
	if (eat(x, "=") || eat(x, "!") || eat(x, "<") || eat(x, ">"))
		return fail(x, "stray operator");
	return 0;
}

/* ---- expressions (JSON and space-delimited conditions) --------------- */

static struct lf_node *new_node(struct lp *x, enum lf_ntype t)
{
	struct lf_node *n = arena_zalloc(x->a, sizeof(*n));
	n->type = t;
	return n;
}

/* add_kid: appends k to an AND/OR node (array grown in the arena). */
static void add_kid(struct lp *x, struct lf_node *n, struct lf_node *k)
{
	if ((n->nkids & (n->nkids - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
		size_t cap = n->nkids ? n->nkids * 2 : 1;
		n->kids = arena_realloc(x->a, n->kids, n->nkids * sizeof(*n->kids),
					cap * sizeof(*n->kids));
	}
	n->kids[n->nkids++] = k;
}

/* selector: $ then .name, ['name'], ["name"] or [index] steps. */
static int selector(struct lp *x, struct lf_node *n)
{
	size_t cap = 0;
	skip_ws(x);
	if (x->p >= x->end || *x->p != '$')
		return fail(x, "expected a $ selector");
	x->p++;
	for (;;) {
		struct lf_seg seg = {{NULL, 0}, 0};
		int bracket = x->p + 1 < x->end && x->p[1] == '[';
		if (x->p < x->end && *x->p == '.' && !bracket) {
			x->p++;
			seg.key = bare(x, ".[]()=!<>&|{}\"',%");
			if (!seg.key.n)
				return fail(x, "empty selector step");
		} else if (x->p < x->end && (*x->p == '[' || *x->p == '.')) {
			x->p += *x->p == '.' ? 2 : 1;
			if (x->p < x->end && (*x->p == '\'' || *x->p == '"')) {
				char q = *x->p++;
				const char *s = x->p;
				while (x->p < x->end && *x->p != q)
					x->p++;
				if (x->p >= x->end)
					return fail(x, "unterminated selector");
				seg.key = (struct str){s, (size_t)(x->p - s)};
				if (!seg.key.n)
					return fail(x, "empty selector step");
				x->p++;
			} else {
				size_t d = 0;
				for (; x->p < x->end && isdigit((unsigned char)*x->p) && d < 9; d++)
					seg.index = seg.index * 10 + (*x->p++ - '0');
				if (!d)
					return fail(x, "bad array index");
			}
			if (x->p >= x->end || *x->p++ != ']')
				return fail(x, "expected ]");
		} else {
			return 0;
		}
		if (n->nsegs == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			n->segs = arena_realloc(x->a, n->segs, cap * sizeof(*n->segs),
						ncap * sizeof(*n->segs));
			cap = ncap;
		}
		n->segs[n->nsegs++] = seg;
	}
}

/* json_cond: one `$.sel op value` / `IS ...` / `NOT EXISTS` condition. */
static struct lf_node *json_cond(struct lp *x)
{
	struct lf_node *n = new_node(x, LN_COND);
	if (selector(x, n) < 0)
		return NULL;
	if (eat_word(x, "IS")) {
		if (eat_word(x, "TRUE"))
			n->op = OP_TRUE;
		else if (eat_word(x, "FALSE"))
			n->op = OP_FALSE;
		else if (eat_word(x, "NULL"))
			n->op = OP_NULL;
		else
			return fail(x, "IS needs TRUE, FALSE or NULL"), NULL;
		return n;
	}
	if (eat_word(x, "NOT")) {
		if (!eat_word(x, "EXISTS"))
			return fail(x, "NOT needs EXISTS"), NULL;
		n->op = OP_NOT_EXISTS;
		return n;
	}
	return comparison(x, n) < 0 ? NULL : n;
}

/* A condition parser: JSON conditions, or the conditions of the
 * space-delimited field named <field>. */
struct lf_grammar {
	int json;
	struct str field;
};

static struct lf_node *expr_or(struct lp *x, const struct lf_grammar *g);

/* space_cond: `[name] op value` inside a space-delimited field. */
static struct lf_node *space_cond(struct lp *x, const struct lf_grammar *g, int first)
{
	struct lf_node *n = new_node(x, LN_COND);
	if (!first) {
		skip_ws(x);
		struct str name = bare(x, ",[](){}=!<>&|\"%");
		if (!str_eq(name, g->field))
			return fail(x, "a field condition may only name its field"), NULL;
	}
	return comparison(x, n) < 0 ? NULL : n;
}

/* primary: a parenthesized expression or one condition. */
static struct lf_node *primary(struct lp *x, const struct lf_grammar *g, int first)
{
	if (eat(x, "(")) {
		if (++x->depth > LF_MAX_DEPTH)
			return fail(x, "nested too deeply"), NULL;
		struct lf_node *n = expr_or(x, g);
		x->depth--;
		if (!n)
			return NULL;
		if (!eat(x, ")"))
			return fail(x, "expected )"), NULL;
		return n;
	}
	return g->json ? json_cond(x) : space_cond(x, g, first);
}

/* chain: primaries joined by sep ("&&" or "||"), built by sub. */
static struct lf_node *expr_and(struct lp *x, const struct lf_grammar *g, int first)
{
	struct lf_node *k = primary(x, g, first);
	if (!k || !eat(x, "&&"))
		return k;
	struct lf_node *n = new_node(x, LN_AND);
	add_kid(x, n, k);
	do {
		if (!(k = primary(x, g, 0)))
			return NULL;
		add_kid(x, n, k);
	} while (eat(x, "&&"));
	return n;
}

static struct lf_node *expr_or_first(struct lp *x, const struct lf_grammar *g, int first)
{
	struct lf_node *k = expr_and(x, g, first);
	if (!k || !eat(x, "||"))
		return k;
	struct lf_node *n = new_node(x, LN_OR);
	add_kid(x, n, k);
	do {
		if (!(k = expr_and(x, g, 0)))
			return NULL;
		add_kid(x, n, k);
	} while (eat(x, "||"));
	return n;
}

static struct lf_node *expr_or(struct lp *x, const struct lf_grammar *g)
{
	return expr_or_first(x, g, 0);
}

/* ---- the three pattern forms ---------------------------------------- */

static int parse_terms(struct lp *x, struct logs_filter *f)
{
	size_t cap = 0;
	f->kind = LF_TERMS;
	for (skip_ws(x); x->p < x->end; skip_ws(x)) {
		struct lf_term t = {'+', {LV_STR, {NULL, 0}, 0, NULL}};
		if (*x->p == '?' || *x->p == '-') {
			t.mode = *x->p++;
			if (x->p >= x->end || is_space(*x->p))
				return fail(x, "dangling ? or -");
		}
		if (*x->p == '"') {
			if (quoted(x, &t.val.s) < 0)
				return -1;
			if (x->p < x->end && !is_space(*x->p))
				return fail(x, "text right after a quoted phrase");
		} else if (*x->p == '%') {
			if (regex(x, &t.val) < 0)
				return -1;
		} else {
			t.val.s = bare(x, "");
			if (!t.val.s.n || memchr(t.val.s.p, '"', t.val.s.n))
				return fail(x, "unbalanced quote");
		}
		if (f->nterms == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			f->terms = arena_realloc(x->a, f->terms, cap * sizeof(*f->terms),
						 ncap * sizeof(*f->terms));
			cap = ncap;
		}
		f->terms[f->nterms++] = t;
		f->nany += t.mode == '?';
	}
	return 0;
}

static int parse_json(struct lp *x, struct logs_filter *f)
{
	static const struct lf_grammar g = {1, {NULL, 0}};
	f->kind = LF_JSON;
	x->p++; /* { */
	f->root = expr_or(x, &g);
	if (!f->root)
		return -1;
	if (!eat(x, "}"))
		return fail(x, "expected }");
	return 0;
}

static int parse_space(struct lp *x, struct logs_filter *f)
{
	size_t cap = 0;
	f->kind = LF_SPACE;
	x->p++; /* [ */
	do {
		struct lf_field fl = {0, {NULL, 0}, NULL};
		if (eat(x, "...")) {
			fl.ellipsis = 1;
		} else {
			skip_ws(x);
			fl.name = bare(x, ",[](){}=!<>&|\"%.");
			if (!fl.name.n)
				return fail(x, "expected a field name");
			skip_ws(x);
			if (x->p < x->end && *x->p && strchr("=!<>", *x->p)) {
				struct lf_grammar g = {0, fl.name};
				if (!(fl.cond = expr_or_first(x, &g, 1)))
					return -1;
			}
		}
		if (f->nfields == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			f->fields = arena_realloc(x->a, f->fields, cap * sizeof(*f->fields),
						  ncap * sizeof(*f->fields));
			cap = ncap;
		}
		f->fields[f->nfields++] = fl;
	} while (eat(x, ","));
	if (!eat(x, "]"))
		return fail(x, "expected , or ]");
	return 0;
}

struct logs_filter *logs_filter_parse(struct arena *a, const char *p, size_t n, const char **err)
{
	struct lp x = {a, p, p + n, NULL, 0};
	struct logs_filter *f = arena_zalloc(a, sizeof(*f));
	int rc;
	if (n > LOGS_FILTER_MAX_LEN) {
		x.err = "pattern too long";
		goto bad;
	}
	skip_ws(&x);
	if (x.p == x.end)
		return f; /* LF_ALL */
	if (*x.p == '{')
		rc = parse_json(&x, f);
	else if (*x.p == '[')
		rc = parse_space(&x, f);
	else
		rc = parse_terms(&x, f);
	skip_ws(&x);
	if (rc == 0 && x.p == x.end)
		return f;
	fail(&x, "unexpected text after the pattern");
bad:
	if (err)
		*err = x.err;
	return NULL;
}

/* ---- matching -------------------------------------------------------- */

/* glob: 1 when text matches pat, where * stands for any run of bytes.
 * The classic two-pointer walk: O(len(pat) * len(text)), no recursion. */
static int glob(struct str pat, struct str text)
{
	size_t i = 0, j = 0, star = (size_t)-1, mark = 0;
	while (j < text.n) {
		if (i < pat.n && pat.p[i] == '*') {
			star = i++;
			mark = j;
		} else if (i < pat.n && pat.p[i] == text.p[j]) {
			i++, j++;
		} else if (star != (size_t)-1) {
			i = star + 1;
			j = ++mark;
		} else {
			return 0;
		}
	}
	while (i < pat.n && pat.p[i] == '*')
		i++;
	return i == pat.n;
}

/* compare: one comparison against a scalar. */
static int compare(enum lf_op o, const struct lf_value *v, const struct lf_scalar *s)
{
	int hit;
	switch (v->kind) {
	case LV_NUM:
		if (!s->has_num)
			return 0;
		switch (o) {
		case OP_EQ:
			return s->num == v->num;
		case OP_NE:
			return s->num != v->num;
		case OP_LT:
			return s->num < v->num;
		case OP_LE:
			return s->num <= v->num;
		case OP_GT:
			return s->num > v->num;
		case OP_GE:
			return s->num >= v->num;
		default:
			return 0;
		}
	case LV_RE:
		hit = logs_re_search(v->re, s->text.p, s->text.n);
		break;
	default:
		hit = glob(v->s, s->text);
		break;
	}
	return o == OP_NE ? !hit : hit;
}

/* member: the last member key of object o (JSON keeps duplicates and the
 * last one wins), NULL-typed members included; NULL when absent. */
static const struct jv *member(const struct jv *o, struct str key)
{
	for (size_t i = o->u.obj.n; i-- > 0;)
		if (str_eq(o->u.obj.m[i].key, key))
			return o->u.obj.m[i].val;
	return NULL;
}

/* resolve: the value the selector of n picks out of root, or NULL. */
static const struct jv *resolve(const struct lf_node *n, const struct jv *root)
{
	const struct jv *v = root;
	for (size_t i = 0; v && i < n->nsegs; i++) {
		const struct lf_seg *s = &n->segs[i];
		if (s->key.p)
			v = v->type == JV_OBJECT ? member(v, s->key) : NULL;
		else
			v = v->type == JV_ARRAY && (size_t)s->index < v->u.arr.n
				? v->u.arr.v[s->index]
				: NULL;
	}
	return v;
}

/* json_scalar: the text (and number) of a JSON scalar into s, using buf
 * for numbers; 0 when v is not a string, number or boolean. */
static int json_scalar(const struct jv *v, struct lf_scalar *s, char *buf, size_t cap)
{
	memset(s, 0, sizeof(*s));
	switch (v->type) {
	case JV_STRING:
		s->text = v->u.s;
		s->has_num = is_number(v->u.s, &s->num);
		return 1;
	case JV_INT:
		snprintf(buf, cap, "%lld", (long long)v->u.i);
		s->has_num = 1;
		s->num = (double)v->u.i;
		break;
	case JV_DOUBLE:
		snprintf(buf, cap, "%.15g", v->u.d);
		if (strtod(buf, NULL) != v->u.d)
			snprintf(buf, cap, "%.17g", v->u.d);
		s->has_num = 1;
		s->num = v->u.d;
		break;
	case JV_BOOL:
		snprintf(buf, cap, "%s", v->u.b ? "true" : "false");
		break;
	default:
		return 0;
	}
	s->text = str_c(buf);
	return 1;
}

static int json_eval(const struct lf_node *n, const struct jv *root)
{
	if (n->type != LN_COND) {
		for (size_t i = 0; i < n->nkids; i++)
			if (json_eval(n->kids[i], root) != (n->type == LN_AND))
				return n->type != LN_AND;
		return n->type == LN_AND;
	}
	const struct jv *v = resolve(n, root);
	struct lf_scalar s;
	char buf[64];
	switch (n->op) {
	case OP_NOT_EXISTS:
		return v == NULL;
	case OP_NULL:
		return v && v->type == JV_NULL;
	case OP_TRUE:
	case OP_FALSE:
		return v && v->type == JV_BOOL && v->u.b == (n->op == OP_TRUE);
	default:
		break;
	}
	if (!v)
		return 0;
	if (n->op == OP_EQ && n->val.kind == LV_STR && str_eq_c(n->val.s, "*"))
		return v->type != JV_NULL; /* "*": the field exists with a value */
	return json_scalar(v, &s, buf, sizeof(buf)) && compare(n->op, &n->val, &s);
}

static int match_json(const struct logs_filter *f, struct arena *scratch, const char *msg, size_t n)
{
	size_t i = 0;
	while (i < n && is_space(msg[i]))
		i++;
	if (i == n || (msg[i] != '{' && msg[i] != '['))
		return 0; /* cheap reject before parsing */
	struct jv *root = json_parse(scratch, msg, n, NULL);
	return root && json_eval(f->root, root);
}

static int space_eval(const struct lf_node *n, const struct lf_scalar *s)
{
	if (n->type != LN_COND) {
		for (size_t i = 0; i < n->nkids; i++)
			if (space_eval(n->kids[i], s) != (n->type == LN_AND))
				return n->type != LN_AND;
		return n->type == LN_AND;
	}
	if (n->op == OP_EQ && n->val.kind == LV_STR && str_eq_c(n->val.s, "*"))
		return 1;
	return compare(n->op, &n->val, s);
}

/* split: the message's space-delimited fields ("..." and [...] count as
 * one, without their delimiters) into an array in scratch. */
static size_t split(struct arena *scratch, const char *msg, size_t n, struct str **out)
{
	size_t cap = 16, k = 0;
	struct str *v = arena_alloc(scratch, cap * sizeof(*v));
	for (size_t i = 0;;) {
		while (i < n && is_space(msg[i]))
			i++;
		if (i == n)
			break;
		const char *close = msg[i] == '"' ? "\"" : msg[i] == '[' ? "]" : NULL;
		size_t s = close ? ++i : i;
		while (i < n && (close ? msg[i] != *close : !is_space(msg[i])))
			i++;
		if (k == cap) {
			v = arena_realloc(scratch, v, cap * sizeof(*v), 2 * cap * sizeof(*v));
			cap *= 2;
		}
		v[k++] = (struct str){msg + s, i - s};
		if (close && i < n)
			i++;
	}
	*out = v;
	return k;
}

/* field_ok: 1 when token t satisfies pattern field fl. */
static int field_ok(const struct lf_field *fl, struct str t)
{
	if (!fl->cond)
		return 1;
	struct lf_scalar s = {t, 0, 0};
	s.has_num = is_number(t, &s.num);
	return space_eval(fl->cond, &s);
}

/* match_space: the fields against the tokens; ... matches any number of
 * tokens. Same walk as glob, with fields for characters. */
static int match_space(const struct logs_filter *f, struct arena *scratch, const char *msg,
		       size_t n)
{
	struct str *t;
	size_t m = split(scratch, msg, n, &t);
	size_t i = 0, j = 0, star = (size_t)-1, mark = 0, k = f->nfields;
	while (j < m) {
		if (i < k && f->fields[i].ellipsis) {
			star = i++;
			mark = j;
		} else if (i < k && field_ok(&f->fields[i], t[j])) {
			i++, j++;
		} else if (star != (size_t)-1) {
			i = star + 1;
			j = ++mark;
		} else {
			return 0;
		}
	}
	while (i < k && f->fields[i].ellipsis)
		i++;
	return i == k;
}

/* term_in: 1 when term value v occurs in the message. */
static int term_in(const struct lf_value *v, const char *msg, size_t n)
{
	if (v->kind == LV_RE)
		return logs_re_search(v->re, msg, n);
	return v->s.n == 0 || memmem(msg, n, v->s.p, v->s.n) != NULL;
}

static int match_terms(const struct logs_filter *f, const char *msg, size_t n)
{
	int any = 0;
	for (size_t i = 0; i < f->nterms; i++) {
		const struct lf_term *t = &f->terms[i];
		if (t->mode == '?') {
			any = any || term_in(&t->val, msg, n);
			continue;
		}
		if (term_in(&t->val, msg, n) != (t->mode == '+'))
			return 0;
	}
	return f->nany == 0 || any;
}

int logs_filter_match(const struct logs_filter *f, struct arena *scratch, const char *msg, size_t n)
{
	switch (f->kind) {
	case LF_TERMS:
		return match_terms(f, msg, n);
	case LF_JSON:
		return match_json(f, scratch, msg, n);
	case LF_SPACE:
		return match_space(f, scratch, msg, n);
	default:
		return 1;
	}
}

int logs_filter_matches_all(const struct logs_filter *f)
{
	return f->kind == LF_ALL;
}
