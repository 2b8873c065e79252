/* proto_validate.c - checks a decoded input against the model's
 * constraints the way AWS's Coral framework does, and words the error the
 * same way:
 *   1 validation error detected: Value null at 'secretId' failed to
 *   satisfy constraint: Member must not be null
 * Paths are member names with the first letter lowered, list elements
 * "name.N.member", map values "name.<key>.member". Checked: required,
 * string/blob/list/map length (strings in UTF-16 units, as Java counts),
 * numeric range, enums and the patterns proto_pattern.c can decide (the
 * rest are skipped rather than risk rejecting valid input). EC2 answers
 * the first problem only, as MissingParameter / InvalidParameterValue. */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/proto_pattern.h"
#include <math.h>

#define MAX_LISTED 100 /* errors spelled out in one message */
#define PATH_MAX_LEN 512
#define VALUE_MAX_LEN 256 /* longest value echoed back */

struct vctx {
	struct aws_call *c;
	const struct model_service *svc;
	int wire;
	struct buf msg; /* "; "-separated messages */
	int nerr;
	char path[PATH_MAX_LEN];
	size_t plen;
	/* ec2: the first problem */
	const char *ec2_code;
	char ec2_msg[PATH_MAX_LEN + VALUE_MAX_LEN + 256];
};

static void check_value(struct vctx *x, const struct model_member *m, const struct jv *v,
			int depth);

/* path_push: appends ".seg" (or "seg" at the root), first letter lowered
 * when <camel>; returns the old length for path_pop. */
static size_t path_push(struct vctx *x, const char *seg, size_t n, int camel)
{
	size_t old = x->plen;
	size_t room = sizeof(x->path) - 1 - x->plen;

	if (x->plen && room) {
		x->path[x->plen++] = '.';
		room--;
	}
	if (n > room)
		n = room;
	memcpy(x->path + x->plen, seg, n);
	if (camel && n && seg[0] >= 'A' && seg[0] <= 'Z')
		x->path[x->plen] = (char)(seg[0] - 'A' + 'a');
	x->plen += n;
	x->path[x->plen] = 0;
	return old;
}

static void path_pop(struct vctx *x, size_t old)
{
	x->plen = old;
	x->path[old] = 0;
}

/* render: appends <v> as Coral echoes values: scalars bare, lists as
 * [a, b], maps and structures as {k=v}; cut at VALUE_MAX_LEN bytes. */
static void render(struct buf *b, const struct jv *v, int depth)
{
	char tmp[64];

	if (b->n > VALUE_MAX_LEN || depth > 4) {
		return;
	}
	switch (v->type) {
	case JV_NULL:
		buf_puts(b, "null");
		break;
	case JV_BOOL:
		buf_puts(b, v->u.b ? "true" : "false");
		break;
	case JV_INT:
		buf_printf(b, "%lld", (long long)v->u.i);
		break;
	case JV_DOUBLE:
		proto_fmt_double(tmp, v->u.d);
		buf_puts(b, tmp);
		break;
	case JV_STRING:
		buf_append(b, v->u.s.p, v->u.s.n > VALUE_MAX_LEN ? VALUE_MAX_LEN : v->u.s.n);
		break;
	case JV_ARRAY:
		buf_putc(b, '[');
		for (size_t i = 0; i < v->u.arr.n && b->n <= VALUE_MAX_LEN; i++) {
			if (i)
				buf_puts(b, ", ");
			render(b, v->u.arr.v[i], depth + 1);
		}
		buf_putc(b, ']');
		break;
	case JV_OBJECT:
		buf_putc(b, '{');
		for (size_t i = 0; i < v->u.obj.n && b->n <= VALUE_MAX_LEN; i++) {
			if (i)
				buf_puts(b, ", ");
			buf_append(b, v->u.obj.m[i].key.p, v->u.obj.m[i].key.n);
			buf_putc(b, '=');
			render(b, v->u.obj.m[i].val, depth + 1);
		}
		buf_putc(b, '}');
		break;
	}
}

/* ec2_param: the EC2 wire name of <m> (queryName, capitalised
 * locationName, or the member name). */
static void ec2_param(char out[128], const struct model_member *m)
{
	const char *n = m->query_name ? m->query_name : m->loc_name ? m->loc_name : m->name;
	snprintf(out, 128, "%s", n);
	if (!m->query_name && out[0] >= 'a' && out[0] <= 'z')
		out[0] = (char)(out[0] - 'a' + 'A');
}

/* fail: records one problem with value <v> (NULL: "Value null") at the
 * current path, <what> being the constraint sentence. */
static void fail(struct vctx *x, const struct model_member *m, const struct model_shape *sh,
		 const struct jv *v, const char *what)
{
	struct buf val = BUF_INIT;

	if (x->wire == PW_EC2) {
		char param[128];
		if (x->ec2_code)
			return;
		ec2_param(param, m);
		if (!v) {
			x->ec2_code = "MissingParameter";
			snprintf(x->ec2_msg, sizeof(x->ec2_msg),
				 "The request must contain the parameter %s", param);
			return;
		}
		render(&val, v, 0);
		x->ec2_code = "InvalidParameterValue";
		snprintf(x->ec2_msg, sizeof(x->ec2_msg),
			 "Value (%s) for parameter %s is invalid. %s", val.p ? val.p : "", param,
			 what);
		buf_release(&val);
		return;
	}
	x->nerr++;
	if (x->nerr > MAX_LISTED)
		return;
	if (x->nerr > 1)
		buf_puts(&x->msg, "; ");
	if (!v) {
		buf_printf(&x->msg, "Value null at '%s' failed to satisfy constraint: %s", x->path,
			   what);
		return;
	}
	if (sh && (sh->flags & SF_SENSITIVE)) {
		buf_printf(&x->msg, "Value at '%s' failed to satisfy constraint: %s", x->path,
			   what);
		return;
	}
	render(&val, v, 0);
	buf_printf(&x->msg, "Value '%s' at '%s' failed to satisfy constraint: %s",
		   val.p ? val.p : "", x->path, what);
	buf_release(&val);
}

/* fmt_bound: a model bound as Coral prints it (integral without ".0"). */
static void fmt_bound(char out[40], double d)
{
	if (d == floor(d) && fabs(d) < 1e18)
		snprintf(out, 40, "%lld", (long long)d);
	else
		proto_fmt_double(out, d);
}

/* utf16_len: length of UTF-8 text in UTF-16 code units (what Java's
 * String.length() and so Coral's length constraints count). */
static size_t utf16_len(const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if ((ch & 0xc0) != 0x80)
			k += ch >= 0xf0 ? 2 : 1;
	}
	return k;
}

/* check_len: min/max of a length-constrained value. */
static void check_len(struct vctx *x, const struct model_member *m, const struct model_shape *sh,
		      const struct jv *v, size_t len)
{
	char b[40], what[96];

	if ((sh->flags & SF_HAS_MIN) && (double)len < sh->min) {
		fmt_bound(b, sh->min);
		snprintf(what, sizeof(what), "Member must have length greater than or equal to %s",
			 b);
		fail(x, m, sh, v, what);
	}
	if ((sh->flags & SF_HAS_MAX) && (double)len > sh->max) {
		fmt_bound(b, sh->max);
		snprintf(what, sizeof(what), "Member must have length less than or equal to %s", b);
		fail(x, m, sh, v, what);
	}
}

/* check_enum: string value in the shape's enum set. */
static void check_enum(struct vctx *x, const struct model_member *m, const struct model_shape *sh,
		       const struct jv *v)
{
	struct buf what = BUF_INIT;

	for (uint32_t i = 0; i < sh->nenums; i++)
		if (str_eq_c(v->u.s, x->svc->enums[sh->enums + i]))
			return;
	buf_puts(&what, "Member must satisfy enum value set: [");
	for (uint32_t i = 0; i < sh->nenums; i++)
		buf_printf(&what, "%s%s", i ? ", " : "", x->svc->enums[sh->enums + i]);
	buf_putc(&what, ']');
	fail(x, m, sh, v, what.p);
	buf_release(&what);
}

/* check_string: length, enum and pattern of a string value. */
static void check_string(struct vctx *x, const struct model_member *m, const struct model_shape *sh,
			 const struct jv *v)
{
	if (v->type != JV_STRING)
		return;
	check_len(x, m, sh, v, utf16_len(v->u.s.p, v->u.s.n));
	if (sh->nenums)
		check_enum(x, m, sh, v);
	if (sh->pattern && proto_pattern_match(sh->pattern, v->u.s.p, v->u.s.n) == 0) {
		struct buf what = BUF_INIT;
		buf_printf(&what, "Member must satisfy regular expression pattern: %s",
			   sh->pattern);
		fail(x, m, sh, v, what.p);
		buf_release(&what);
	}
}

/* check_number: the range of an integer/long/float/double value. */
static void check_number(struct vctx *x, const struct model_member *m, const struct model_shape *sh,
			 const struct jv *v)
{
	char b[40], what[96];
	double d;

	if (v->type == JV_INT)
		d = (double)v->u.i;
	else if (v->type == JV_DOUBLE)
		d = v->u.d;
	else
		return;
	if ((sh->flags & SF_HAS_MIN) && d < sh->min) {
		fmt_bound(b, sh->min);
		snprintf(what, sizeof(what), "Member must have value greater than or equal to %s",
			 b);
		fail(x, m, sh, v, what);
	}
	if ((sh->flags & SF_HAS_MAX) && d > sh->max) {
		fmt_bound(b, sh->max);
		snprintf(what, sizeof(what), "Member must have value less than or equal to %s", b);
		fail(x, m, sh, v, what);
	}
}

/* check_struct: required members, then each present member. */
static void check_struct(struct vctx *x, const struct model_shape *sh, const struct jv *v,
			 int depth)
{
	if (v->type != JV_OBJECT || (sh->flags & SF_DOCUMENT))
		return;
	for (uint32_t i = 0; i < sh->nmembers; i++) {
		const struct model_member *m = proto_member(x->svc, sh, i);
		const struct jv *mv = jv_get(v, m->name);
		size_t old = path_push(x, m->name, strlen(m->name), 1);
		if (!mv) {
			if (m->flags & MF_REQUIRED)
				fail(x, m, NULL, NULL, "Member must not be null");
		} else {
			check_value(x, m, mv, depth + 1);
		}
		path_pop(x, old);
	}
}

/* check_value: the constraints of member <m>'s shape on <v>, recursing. */
static void check_value(struct vctx *x, const struct model_member *m, const struct jv *v, int depth)
{
	const struct model_shape *sh = proto_mshape(x->svc, m);
	char idx[24];

	if (depth > PROTO_MAX_DEPTH)
		return;
	switch (sh->type) {
	case MT_STRUCTURE:
		check_struct(x, sh, v, depth);
		break;
	case MT_LIST:
		if (v->type != JV_ARRAY)
			break;
		check_len(x, m, sh, v, v->u.arr.n);
		for (size_t i = 0; i < v->u.arr.n; i++) {
			size_t old;
			if (!v->u.arr.v[i] || v->u.arr.v[i]->type == JV_NULL)
				continue;
			snprintf(idx, sizeof(idx), "%zu", i + 1);
			old = path_push(x, idx, strlen(idx), 0);
			path_push(x, "member", 6, 0);
			check_value(x, proto_member(x->svc, sh, 0), v->u.arr.v[i], depth + 1);
			path_pop(x, old);
		}
		break;
	case MT_MAP:
		if (v->type != JV_OBJECT)
			break;
		check_len(x, m, sh, v, v->u.obj.n);
		for (size_t i = 0; i < v->u.obj.n; i++) {
			const struct jv_member *e = &v->u.obj.m[i];
			struct jv key = {.type = JV_STRING, .u.s = e->key};
			check_string(x, proto_member(x->svc, sh, 0),
				     proto_mshape(x->svc, proto_member(x->svc, sh, 0)), &key);
			if (!e->val || e->val->type == JV_NULL)
				continue;
			size_t old = path_push(x, e->key.p, e->key.n, 0);
			path_push(x, "member", 6, 0);
			check_value(x, proto_member(x->svc, sh, 1), e->val, depth + 1);
			path_pop(x, old);
		}
		break;
	case MT_STRING:
		check_string(x, m, sh, v);
		break;
	case MT_BLOB:
		if (v->type == JV_STRING)
			check_len(x, m, sh, v, v->u.s.n);
		break;
	case MT_INTEGER:
	case MT_LONG:
	case MT_DOUBLE:
	case MT_FLOAT:
		check_number(x, m, sh, v);
		break;
	default:
		break;
	}
}

/* Services whose front end names a failed model constraint differently
 * from their protocol family (the models don't record it). */
static const struct {
	const char *service;
	const char *code;
} validation_overrides[] = {
    {"logs", "InvalidParameterException"},
};

/* validation_code: what each protocol family calls a failed constraint. */
static const char *validation_code(const struct model_service *svc, int wire)
{
	for (size_t i = 0; i < FB_ARRAY_LEN(validation_overrides); i++)
		if (!strcmp(svc->id, validation_overrides[i].service))
			return validation_overrides[i].code;
	switch (wire) {
	case PW_QUERY:
		return "ValidationError";
	case PW_JSON:
		/* a query-compatible service keeps its query codes in JSON */
		return svc->query_compatible ? "ValidationError" : "ValidationException";
	case PW_REST_XML:
		return "InvalidArgument";
	default:
		return "ValidationException";
	}
}

/* proto_validate: see proto_int.h. */
int proto_validate(struct aws_call *c, int wire)
{
	struct vctx x = {.c = c, .svc = c->svc, .wire = wire};
	int rc = 0;

	if (!c->op || c->op->input < 0 || !c->in)
		return 0;
	check_struct(&x, model_shape(c->svc, (uint32_t)c->op->input), c->in, 0);
	if (x.ec2_code) {
		rc = aws_fail(c, 400, x.ec2_code, "%s", x.ec2_msg);
	} else if (x.nerr) {
		int listed = x.nerr > MAX_LISTED ? MAX_LISTED : x.nerr;
		rc = aws_fail(c, 400, validation_code(c->svc, wire),
			      "%d validation error%s detected: %s", listed, listed == 1 ? "" : "s",
			      x.msg.p ? x.msg.p : "");
	}
	buf_release(&x.msg);
	return rc;
}
