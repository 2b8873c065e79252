/* proto_json.c - awsJson 1.0/1.1 (and the JSON bodies of restJson): the
 * parsed JSON tree is converted in place to the model's types (blobs
 * base64-decoded, timestamps to epoch seconds, unknown members dropped as
 * AWS ignores them), and outputs are written by walking shape and value
 * together. Type mismatches are SerializationException, worded as Coral's
 * Jackson reader words them. */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/eventstream.h"
#include "aws/fmt.h"
#include "aws/json.h"
#include <math.h>

/* token: the Jackson token name of a JSON value, for error messages. */
static const char *token(const struct jv *v)
{
	switch (v->type) {
	case JV_BOOL:
		return v->u.b ? "TRUE_VALUE" : "FALSE_VALUE";
	case JV_INT:
	case JV_DOUBLE:
		return "NUMBER_VALUE";
	case JV_STRING:
		return "STRING_VALUE";
	case JV_ARRAY:
		return "START_ARRAY";
	case JV_OBJECT:
		return "START_OBJECT";
	default:
		return "VALUE_NULL";
	}
}

/* mismatch: the SerializationException for <v> where <sh> was expected. */
static int mismatch(struct aws_call *c, int wire, const struct model_shape *sh, const struct jv *v)
{
	static const char *const names[] = {
	    [MT_STRUCTURE] = "a Structure", [MT_LIST] = "a List",	 [MT_MAP] = "a Map",
	    [MT_STRING] = "a String",	    [MT_INTEGER] = "an Integer", [MT_LONG] = "a Long",
	    [MT_BOOLEAN] = "a Boolean",	    [MT_DOUBLE] = "a Double",	 [MT_FLOAT] = "a Float",
	    [MT_TIMESTAMP] = "a Date",	    [MT_BLOB] = "a Blob",
	};
	const char *want = sh->type <= MT_BLOB && names[sh->type] ? names[sh->type] : "a value";

	if (v->type == JV_OBJECT && sh->type != MT_STRUCTURE && sh->type != MT_MAP)
		return proto_parse_fail(c, wire,
					"Start of structure or map found where not expected.");
	if (v->type == JV_ARRAY && sh->type != MT_LIST)
		return proto_parse_fail(c, wire, "Start of list found where not expected");
	return proto_parse_fail(c, wire, "%s can not be converted to %s", token(v), want);
}

/* set_string: makes <v> a JV_STRING of n bytes at p (arena bytes). */
static void set_string(struct jv *v, const char *p, size_t n)
{
	v->type = JV_STRING;
	v->u.s.p = p;
	v->u.s.n = n;
}

/* json_key: the JSON key of member <m>: its locationName, as botocore
 * writes it, except for a query-compatible service spoken to in JSON,
 * whose query locationNames ("Attribute" for Attributes) the JSON models
 * of newer SDKs do not carry. */
static const char *json_key(const struct model_service *svc, const struct model_member *m)
{
	return svc->protocol == MP_QUERY ? m->name : proto_wire_name(m);
}

/* find_member: the body member of <sh> named <key> on the wire. */
static const struct model_member *find_member(const struct model_service *svc,
					      const struct model_shape *sh, struct str key)
{
	for (uint32_t i = 0; i < sh->nmembers; i++) {
		const struct model_member *m = proto_member(svc, sh, i);
		if (m->location == ML_BODY && str_eq_c(key, json_key(svc, m)))
			return m;
	}
	return NULL;
}

/* coerce: converts <v> (as parsed) to shape <si> in place. Returns 0, 1
 * when <v> is null (the caller drops it), -1 on error (recorded). */
static int coerce(struct aws_call *c, int wire, uint32_t si, struct jv *v, int depth)
{
	const struct model_service *svc = c->svc;
	const struct model_shape *sh = model_shape(svc, si);
	double d;
	size_t j = 0;
	int rc;

	if (v->type == JV_NULL)
		return 1;
	if (depth > PROTO_MAX_DEPTH)
		return proto_parse_fail(c, wire, "Input nested too deeply");
	if (sh->flags & SF_DOCUMENT)
		return 0;
	switch (sh->type) {
	case MT_STRUCTURE:
		if (v->type != JV_OBJECT)
			return mismatch(c, wire, sh, v);
		for (size_t i = 0; i < v->u.obj.n; i++) {
			struct jv_member e = v->u.obj.m[i];
			const struct model_member *m = find_member(svc, sh, e.key);
			if (!m)
				continue; /* unknown members are ignored, as AWS does */
			rc = coerce(c, wire, m->shape, e.val, depth + 1);
			if (rc < 0)
				return -1;
			if (rc > 0)
				continue;
			e.key = str_c(m->name);
			v->u.obj.m[j++] = e;
		}
		v->u.obj.n = j;
		return 0;
	case MT_LIST:
		if (v->type != JV_ARRAY)
			return mismatch(c, wire, sh, v);
		for (size_t i = 0; i < v->u.arr.n; i++) {
			rc = coerce(c, wire, proto_member(svc, sh, 0)->shape, v->u.arr.v[i],
				    depth + 1);
			if (rc < 0)
				return -1;
			if (rc == 0)
				v->u.arr.v[j++] = v->u.arr.v[i];
		}
		v->u.arr.n = j;
		return 0;
	case MT_MAP:
		if (v->type != JV_OBJECT)
			return mismatch(c, wire, sh, v);
		for (size_t i = 0; i < v->u.obj.n; i++) {
			rc = coerce(c, wire, proto_member(svc, sh, 1)->shape, v->u.obj.m[i].val,
				    depth + 1);
			if (rc < 0)
				return -1;
			if (rc == 0)
				v->u.obj.m[j++] = v->u.obj.m[i];
		}
		v->u.obj.n = j;
		return 0;
	case MT_STRING:
		return v->type == JV_STRING ? 0 : mismatch(c, wire, sh, v);
	case MT_BOOLEAN:
		return v->type == JV_BOOL ? 0 : mismatch(c, wire, sh, v);
	case MT_INTEGER:
	case MT_LONG: {
		/* bounds as doubles: [lo, end) holds every value of the type */
		double lo = sh->type == MT_INTEGER ? -2147483648.0 : -9223372036854775808.0;
		double end = sh->type == MT_INTEGER ? 2147483648.0 : 9223372036854775808.0;
		if (v->type == JV_INT) {
			if (sh->type == MT_INTEGER && (v->u.i < INT32_MIN || v->u.i > INT32_MAX))
				return mismatch(c, wire, sh, v);
			return 0;
		}
		/* 5.0 is an integral number; 5.5 and 1e300 are not integers */
		if (v->type != JV_DOUBLE || v->u.d != floor(v->u.d) || v->u.d < lo || v->u.d >= end)
			return mismatch(c, wire, sh, v);
		d = v->u.d;
		v->type = JV_INT;
		v->u.i = (int64_t)d;
		return 0;
	}
	case MT_DOUBLE:
	case MT_FLOAT:
		if (v->type == JV_INT || v->type == JV_DOUBLE)
			return 0;
		/* non-finite values travel as strings */
		if (v->type == JV_STRING) {
			struct jv *nv;
			if (proto_scalar_parse(c->a, sh, v->u.s.p, v->u.s.n, &nv) == 0 &&
			    !isfinite(nv->u.d)) {
				*v = *nv;
				return 0;
			}
		}
		return mismatch(c, wire, sh, v);
	case MT_TIMESTAMP:
		if (v->type == JV_INT) {
			d = (double)v->u.i;
			v->type = JV_DOUBLE;
			v->u.d = d;
			return 0;
		}
		if (v->type == JV_DOUBLE)
			return 0;
		if (v->type == JV_STRING && fmt_parse_timestamp(v->u.s.p, v->u.s.n, &d) == 0) {
			v->type = JV_DOUBLE;
			v->u.d = d;
			return 0;
		}
		return mismatch(c, wire, sh, v);
	case MT_BLOB: {
		char *bytes;
		ssize_t k;
		if (v->type != JV_STRING)
			return mismatch(c, wire, sh, v);
		bytes = arena_alloc(c->a, 3 * (v->u.s.n / 4) + 1);
		k = fmt_b64_decode(bytes, v->u.s.p, v->u.s.n);
		if (k < 0)
			return proto_parse_fail(c, wire, "Base64 encoded value is malformed");
		bytes[k] = 0;
		set_string(v, bytes, (size_t)k);
		return 0;
	}
	default:
		return 0;
	}
}

/* blank: 1 when p[0..n) is only JSON whitespace. */
static int blank(struct str s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!strchr(" \t\r\n", s.p[i]) || s.p[i] == 0)
			return 0;
	return 1;
}

/* proto_json_parse_body: see proto_int.h. */
struct jv *proto_json_parse_body(struct aws_call *c, int wire, int32_t shape_idx, struct str body)
{
	const char *err = NULL;
	struct jv *v;

	if (blank(body))
		return jv_object(c->a);
	v = json_parse(c->a, body.p, body.n, &err);
	if (!v) {
		proto_parse_fail(c, wire, "%s", err ? err : "Malformed JSON");
		return NULL;
	}
	if (shape_idx < 0)
		return v;
	if (coerce(c, wire, (uint32_t)shape_idx, v, 0) < 0)
		return NULL;
	if (v->type == JV_NULL)
		return jv_object(c->a);
	return v;
}

/* proto_json_decode: c->in from an awsJson request body. */
int proto_json_decode(struct aws_call *c, int wire, const struct http_request *req)
{
	struct jv *v;

	if (c->op->input < 0)
		return 0;
	v = proto_json_parse_body(c, wire, c->op->input, req->body);
	if (!v)
		return -1;
	if (v->type != JV_OBJECT)
		return mismatch(c, wire, model_shape(c->svc, (uint32_t)c->op->input), v);
	c->in = v;
	return 0;
}

/* write_scalar: a scalar of shape <sh>; -1 when <v> does not fit. */
static int write_scalar(struct aws_call *c, struct buf *b, const struct model_shape *sh,
			const struct jv *v)
{
	char tmp[64];
	struct str s;

	switch (sh->type) {
	case MT_BOOLEAN:
		if (v->type != JV_BOOL && v->type != JV_INT)
			return -1;
		buf_puts(b, (v->type == JV_BOOL ? v->u.b : v->u.i != 0) ? "true" : "false");
		return 0;
	case MT_INTEGER:
	case MT_LONG:
	case MT_DOUBLE:
	case MT_FLOAT:
		if (v->type == JV_INT || (v->type == JV_DOUBLE && isfinite(v->u.d))) {
			if (v->type == JV_DOUBLE && (sh->type == MT_INTEGER || sh->type == MT_LONG))
				buf_printf(b, "%.0f", trunc(v->u.d));
			else
				json_write(b, v);
			return 0;
		}
		break; /* NaN/Infinity travel as strings */
	case MT_TIMESTAMP:
		if (proto_ts_fmt(sh, MTS_EPOCH) == MTS_EPOCH &&
		    (v->type == JV_INT || v->type == JV_DOUBLE)) {
			json_write(b, v);
			return 0;
		}
		if (proto_scalar_text(c->a, sh, v, proto_ts_fmt(sh, MTS_EPOCH), tmp, &s) < 0)
			return -1;
		json_write_str(b, s.p, s.n);
		return 0;
	default:
		break;
	}
	if (proto_scalar_text(c->a, sh, v, MTS_ISO8601, tmp, &s) < 0)
		return -1;
	json_write_str(b, s.p, s.n);
	return 0;
}

/* write_key: [","] "key": for a member name from the model. Model names
 * are plain identifiers, so they are copied in one go; anything else
 * goes through the escaping writer. */
static void write_key(struct buf *b, const char *key, int comma)
{
	size_t n = strlen(key), i = 0;
	while (i < n && (unsigned char)key[i] >= 0x20 && (unsigned char)key[i] < 0x80 &&
	       key[i] != '"' && key[i] != '\\')
		i++;
	if (i < n) {
		if (comma)
			buf_putc(b, ',');
		json_write_str(b, key, n);
		buf_putc(b, ':');
		return;
	}
	buf_reserve(b, n + 4);
	char *p = b->p + b->n;
	if (comma)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, key, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	*p = 0;
	b->n = (size_t)(p - b->p);
}

/* proto_json_write: see proto_int.h. */
int proto_json_write(struct aws_call *c, struct buf *b, uint32_t shape_idx, const struct jv *v,
		     int depth)
{
	const struct model_service *svc = c->svc;
	const struct model_shape *sh = model_shape(svc, shape_idx);
	size_t mark = b->n;
	int first = 1;

	if (!v || v->type == JV_NULL || depth > PROTO_MAX_DEPTH)
		return -1;
	if (sh->flags & SF_DOCUMENT) {
		json_write(b, v);
		return 0;
	}
	switch (sh->type) {
	case MT_STRUCTURE:
		if (v->type != JV_OBJECT)
			return -1;
		buf_putc(b, '{');
		for (uint32_t i = 0; i < sh->nmembers; i++) {
			const struct model_member *m = proto_member(svc, sh, i);
			const struct jv *mv;
			size_t before = b->n;
			if (m->location != ML_BODY || !(mv = jv_get(v, m->name)))
				continue;
			write_key(b, json_key(svc, m), !first);
			if (proto_json_write(c, b, m->shape, mv, depth + 1) < 0) {
				b->n = before; /* the member does not fit: leave it out */
				b->p[b->n] = 0;
				continue;
			}
			first = 0;
		}
		buf_putc(b, '}');
		return 0;
	case MT_LIST:
		if (v->type != JV_ARRAY)
			return -1;
		buf_putc(b, '[');
		for (size_t i = 0; i < v->u.arr.n; i++) {
			size_t before = b->n;
			if (!first)
				buf_putc(b, ',');
			if (proto_json_write(c, b, proto_member(svc, sh, 0)->shape, v->u.arr.v[i],
					     depth + 1) < 0) {
				b->n = before;
				b->p[b->n] = 0;
				continue;
			}
			first = 0;
		}
		buf_putc(b, ']');
		return 0;
	case MT_MAP:
		if (v->type != JV_OBJECT)
			return -1;
		buf_putc(b, '{');
		for (size_t i = 0; i < v->u.obj.n; i++) {
			const struct jv_member *e = &v->u.obj.m[i];
			size_t before = b->n;
			if (!e->val || e->val->type == JV_NULL)
				continue;
			if (!first)
				buf_putc(b, ',');
			json_write_str(b, e->key.p, e->key.n);
			buf_putc(b, ':');
			if (proto_json_write(c, b, proto_member(svc, sh, 1)->shape, e->val,
					     depth + 1) < 0) {
				b->n = before;
				b->p[b->n] = 0;
				continue;
			}
			first = 0;
		}
		buf_putc(b, '}');
		return 0;
	default:
		if (write_scalar(c, b, sh, v) < 0) {
			b->n = mark;
			if (b->p)
				b->p[b->n] = 0;
			return -1;
		}
		return 0;
	}
}

/* proto_json_encode: an awsJson 200 response: the output as JSON ({}
 * without output), Content-Type by the service's JSON version. */
void proto_json_encode(struct aws_call *c, int wire, struct http_response *resp)
{
	const struct model_service *svc = c->svc;
	int v10 =
	    (svc->json_version && !strcmp(svc->json_version, "1.0")) || svc->protocol == MP_QUERY;

	resp->status = 200;
	resp->content_type = v10 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1";
	if (c->request_id)
		http_response_header(resp, "x-amzn-RequestId", c->request_id);
	buf_clear(&resp->body);
	if (c->stream_open) {
		resp->content_type = "application/vnd.amazon.eventstream";
		resp->stream_open = c->stream_open;
		resp->stream_closed = c->stream_closed;
		resp->stream_ctx = c->stream_ctx;
		c->stream_open = NULL; /* the server owns it now */
		/* JSON protocols open the stream with the output's other members
		 * (none here) as an "initial-response" event, which SDKs wait for */
		struct es_header h[] = {{":message-type", "event"},
					{":event-type", "initial-response"},
					{":content-type", "application/json"}};
		eventstream_append(&resp->body, h, 3, "{}", 2);
		return;
	}
	if (c->op->output < 0 || !c->out ||
	    proto_json_write(c, &resp->body, (uint32_t)c->op->output, c->out, 0) < 0) {
		buf_clear(&resp->body);
		buf_puts(&resp->body, "{}");
	}
}
