/* proto.c - the protocol front door: which wire form a request uses, which
 * operation it names, and the decode/encode entry points that hand off to
 * proto_json.c, proto_query.c and proto_rest.c. Also the scalar text forms
 * those share. Owns no state; everything goes into the call's arena. */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/fmt.h"
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>

/* proto_find_header: see proto_int.h. */
struct str proto_find_header(const struct http_request *req, const char *name)
{
	const struct http_header *h = http_find_header(&req->h, name);
	return h ? h->value : STR_NULL;
}

/* proto_wire_of: see proto.h. A query-compatible service (SQS, CloudWatch)
 * is spoken to in JSON 1.0 by newer SDKs; X-Amz-Target tells which. */
int proto_wire_of(const struct model_service *svc, const struct http_request *req)
{
	if (!svc)
		return PW_REST_XML;
	switch (svc->protocol) {
	case MP_QUERY:
		if (svc->query_compatible && proto_find_header(req, "x-amz-target").p)
			return PW_JSON;
		return PW_QUERY;
	case MP_EC2:
		return PW_EC2;
	case MP_JSON:
		return PW_JSON;
	case MP_REST_JSON:
		return PW_REST_JSON;
	default:
		return PW_REST_XML;
	}
}

/* json_op: the op an X-Amz-Target "<prefix>.<Op>" names; the prefix must
 * be the service's (JSON) target prefix when the model has one. */
static const struct model_op *json_op(struct aws_call *c, const struct http_request *req)
{
	const struct model_service *svc = c->svc;
	struct str t = proto_find_header(req, "x-amz-target");
	const char *dot = t.p ? memrchr(t.p, '.', t.n) : NULL;
	const struct model_op *op = NULL;

	if (dot) {
		size_t np = (size_t)(dot - t.p);
		const char *p1 =
		    svc->protocol == MP_JSON ? svc->target_prefix : svc->json_target_prefix;
		if ((!p1 && !svc->target_prefix) || (p1 && proto_str_eq(t.p, np, p1)) ||
		    (svc->target_prefix && proto_str_eq(t.p, np, svc->target_prefix)))
			op = model_find_op(svc, dot + 1, t.n - np - 1);
	}
	if (!op)
		aws_fail(c, 400, "UnknownOperationException", "%s", "");
	return op;
}

/* proto_find_op: see proto.h. */
const struct model_op *proto_find_op(struct aws_call *c, int wire, const struct http_request *req)
{
	const struct model_op *op;
	struct str action;

	if (!c->svc) {
		aws_fail(c, 400, "UnknownService", "The request names no known service");
		return NULL;
	}
	switch (wire) {
	case PW_JSON:
		return json_op(c, req);
	case PW_QUERY:
	case PW_EC2:
		if (proto_query_action(c, req, &action) < 0 || action.n == 0) {
			aws_fail(c, 400, "MissingAction", "Missing Action");
			return NULL;
		}
		op = model_find_op(c->svc, action.p, action.n);
		if (!op)
			aws_fail(
			    c, 400, "InvalidAction", "Could not find operation %.*s for version %s",
			    (int)(action.n > 128 ? 128 : action.n), action.p, c->svc->api_version);
		return op;
	default:
		op = proto_rest_match(c->svc, req);
		if (!op) {
			if (!strcmp(c->svc->id, "s3"))
				aws_fail(
				    c, 405, "MethodNotAllowed",
				    "The specified method is not allowed against this resource.");
			else
				aws_fail(c, 404, "UnknownOperationException",
					 "No operation matches %.*s %.*s",
					 (int)(req->h.method.n > 16 ? 16 : req->h.method.n),
					 req->h.method.p,
					 (int)(req->h.path.n > 256 ? 256 : req->h.path.n),
					 req->h.path.p);
		}
		return op;
	}
}

/* fill_idempotency: sets absent top-level idempotency tokens to a fresh
 * UUID, as the SDKs do; raw HTTP callers may leave them out. */
static void fill_idempotency(struct aws_call *c)
{
	const struct model_shape *sh;
	char uuid[37];

	if (c->op->input < 0)
		return;
	sh = model_shape(c->svc, (uint32_t)c->op->input);
	for (uint32_t i = 0; i < sh->nmembers; i++) {
		const struct model_member *m = proto_member(c->svc, sh, i);
		if (!(m->flags & MF_IDEMPOTENCY) || jv_get(c->in, m->name))
			continue;
		if (proto_mshape(c->svc, m)->type != MT_STRING)
			continue;
		fmt_uuid4(uuid);
		jv_set_str(c->a, c->in, m->name, uuid);
	}
}

/* proto_decode: see proto.h. */
int proto_decode(struct aws_call *c, int wire, const struct http_request *req)
{
	int rc;

	c->http = req;
	c->in = jv_object(c->a);
	if (!c->op)
		return aws_fail(c, 500, "InternalFailure", "no operation");
	switch (wire) {
	case PW_JSON:
		rc = proto_json_decode(c, wire, req);
		break;
	case PW_QUERY:
	case PW_EC2:
		rc = proto_query_decode(c, wire, req);
		break;
	default:
		rc = proto_rest_decode(c, wire, req);
		break;
	}
	if (!c->in || c->in->type != JV_OBJECT)
		c->in = jv_object(c->a);
	if (rc < 0)
		return -1;
	fill_idempotency(c);
	return proto_validate(c, wire);
}

/* proto_encode: see proto.h. */
void proto_encode(struct aws_call *c, int wire, struct http_response *resp)
{
	if ((c->err_code || !c->op || wire != PW_JSON) && c->stream_open) {
		c->stream_closed(c->stream_ctx); /* never streamed (only JSON streams here) */
		c->stream_open = NULL;
	}
	if (c->err_code || !c->op) {
		const char *code = c->err_code ? c->err_code : "InternalFailure";
		proto_error(resp, wire, c->svc, c->err_status ? c->err_status : 500, code,
			    c->err_msg ? c->err_msg : "", c->request_id, c->err_fault);
		return;
	}
	switch (wire) {
	case PW_JSON:
		proto_json_encode(c, wire, resp);
		break;
	case PW_QUERY:
	case PW_EC2:
		proto_query_encode(c, wire, resp);
		break;
	default:
		proto_rest_encode(c, wire, resp);
		break;
	}
}

/* proto_parse_fail: see proto_int.h. The codes are what each family of
 * services answers for input it cannot read: Coral JSON services say
 * SerializationException, Coral query services (IAM, STS, ...) say
 * MalformedInput, EC2 says InvalidParameterValue, S3 and CloudFront say
 * MalformedXML for bodies (InvalidArgument for bad headers/parameters is
 * chosen by proto_rest.c itself). */
int proto_parse_fail(struct aws_call *c, int wire, const char *fmt, ...)
{
	static const char *const codes[] = {
	    [PW_QUERY] = "MalformedInput",	  [PW_EC2] = "InvalidParameterValue",
	    [PW_JSON] = "SerializationException", [PW_REST_JSON] = "SerializationException",
	    [PW_REST_XML] = "MalformedXML",
	};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (wire < PW_QUERY || wire > PW_REST_XML)
		wire = PW_JSON;
	return aws_fail(c, 400, codes[wire], "%s", msg);
}

/* parse_int: strict [+-]digits within [lo, hi] into *out; 0 or -1. */
static int parse_int(const char *p, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0, lim;

	if (n && (p[0] == '-' || p[0] == '+')) {
		neg = p[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)(-(lo + 1)) + 1 : (uint64_t)hi;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > lim)
			return -1;
	}
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 0;
}

/* parse_double: decimal/exponent numbers and NaN/Infinity/-Infinity (the
 * spellings the SDKs send); no hex floats, no "inf", no spaces. */
static int parse_double(const char *p, size_t n, double *out)
{
	char tmp[128];
	char *end;

	if (proto_str_eq(p, n, "NaN")) {
		*out = NAN;
		return 0;
	}
	if (proto_str_eq(p, n, "Infinity") || proto_str_eq(p, n, "+Infinity")) {
		*out = INFINITY;
		return 0;
	}
	if (proto_str_eq(p, n, "-Infinity")) {
		*out = -INFINITY;
		return 0;
	}
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789+-.eE", p[i]) || p[i] == 0)
			return -1;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	errno = 0;
	*out = strtod(tmp, &end);
	if (end != tmp + n || (errno == ERANGE && isinf(*out)))
		return -1;
	return 0;
}

/* proto_scalar_parse: see proto_int.h. */
int proto_scalar_parse(struct arena *a, const struct model_shape *sh, const char *p, size_t n,
		       struct jv **out)
{
	int64_t i;
	double d;

	switch (sh->type) {
	case MT_STRING:
		*out = jv_string(a, p, n);
		return 0;
	case MT_INTEGER:
		if (parse_int(p, n, INT32_MIN, INT32_MAX, &i) < 0)
			return -1;
		*out = jv_int(a, i);
		return 0;
	case MT_LONG:
		if (parse_int(p, n, INT64_MIN, INT64_MAX, &i) < 0)
			return -1;
		*out = jv_int(a, i);
		return 0;
	case MT_BOOLEAN:
		/* Java's Boolean parsing, which Coral uses, ignores case */
		if (n == 4 && !strncasecmp(p, "true", 4))
			*out = jv_bool(a, 1);
		else if (n == 5 && !strncasecmp(p, "false", 5))
			*out = jv_bool(a, 0);
		else
			return -1;
		return 0;
	case MT_DOUBLE:
	case MT_FLOAT:
		if (parse_double(p, n, &d) < 0)
			return -1;
		*out = jv_double(a, d);
		return 0;
	case MT_TIMESTAMP:
		if (fmt_parse_timestamp(p, n, &d) < 0)
			return -1;
		*out = jv_double(a, d);
		return 0;
	case MT_BLOB: {
		char *bytes = arena_alloc(a, 3 * (n / 4) + 1);
		ssize_t k = fmt_b64_decode(bytes, p, n);
		struct jv *v;
		if (k < 0)
			return -1;
		bytes[k] = 0;
		v = jv_string(a, "", 0);
		v->u.s.p = bytes;
		v->u.s.n = (size_t)k;
		*out = v;
		return 0;
	}
	default:
		return -1;
	}
}

/* proto_fmt_double: see proto_int.h. */
void proto_fmt_double(char out[40], double d)
{
	if (isnan(d)) {
		memcpy(out, "NaN", 4);
		return;
	}
	if (isinf(d)) {
		memcpy(out, d > 0 ? "Infinity" : "-Infinity", d > 0 ? 9 : 10);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, 40, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

/* int_of: an integral view of a number jv; 0 or -1. */
static int int_of(const struct jv *v, int64_t *out)
{
	if (v->type == JV_INT) {
		*out = v->u.i;
		return 0;
	}
	if (v->type == JV_DOUBLE && isfinite(v->u.d) && v->u.d >= -9.2e18 && v->u.d <= 9.2e18) {
		*out = (int64_t)v->u.d;
		return 0;
	}
	if (v->type == JV_BOOL) {
		*out = v->u.b;
		return 0;
	}
	return -1;
}

/* proto_scalar_text: see proto_int.h. Handlers may hand a number for a
 * string member or a preformatted string for a timestamp; both are
 * written as text rather than dropped. A string for a number or boolean
 * is dropped: the client could not read it back. */
int proto_scalar_text(struct arena *a, const struct model_shape *sh, const struct jv *v, int ts_fmt,
		      char tmp[64], struct str *out)
{
	int64_t i;
	double d;

	if (!v || v->type == JV_NULL || v->type == JV_ARRAY || v->type == JV_OBJECT)
		return -1;
	switch (sh->type) {
	case MT_STRING:
		if (v->type == JV_STRING) {
			*out = v->u.s;
			return 0;
		}
		if (v->type == JV_BOOL) {
			*out = v->u.b ? STR_LIT("true") : STR_LIT("false");
			return 0;
		}
		if (v->type == JV_INT)
			snprintf(tmp, 64, "%lld", (long long)v->u.i);
		else
			proto_fmt_double(tmp, v->u.d);
		*out = str_c(tmp);
		return 0;
	case MT_INTEGER:
	case MT_LONG:
		/* a string here could not be read back as a number: left out */
		if (int_of(v, &i) < 0)
			return -1;
		snprintf(tmp, 64, "%lld", (long long)i);
		*out = str_c(tmp);
		return 0;
	case MT_BOOLEAN:
		if (int_of(v, &i) < 0)
			return -1;
		*out = i ? STR_LIT("true") : STR_LIT("false");
		return 0;
	case MT_DOUBLE:
	case MT_FLOAT:
		if (v->type == JV_STRING)
			return -1;
		d = v->type == JV_INT ? (double)v->u.i : v->type == JV_DOUBLE ? v->u.d : v->u.b;
		proto_fmt_double(tmp, d);
		*out = str_c(tmp);
		return 0;
	case MT_TIMESTAMP:
		if (v->type == JV_STRING) {
			*out = v->u.s;
			return 0;
		}
		if (v->type == JV_BOOL)
			return -1;
		d = v->type == JV_INT ? (double)v->u.i : v->u.d;
		if (ts_fmt == MTS_EPOCH)
			proto_fmt_double(tmp, d);
		else if (ts_fmt == MTS_RFC822)
			fmt_rfc822(tmp, d);
		else
			fmt_iso8601(tmp, d);
		*out = str_c(tmp);
		return 0;
	case MT_BLOB: {
		char *enc;
		if (v->type != JV_STRING)
			return -1;
		enc = arena_alloc(a, 4 * ((v->u.s.n + 2) / 3) + 1);
		out->n = fmt_b64_encode(enc, v->u.s.p, v->u.s.n);
		out->p = enc;
		return 0;
	}
	default:
		return -1;
	}
}

/* proto_xml_ns: see proto_int.h. */
const char *proto_xml_ns(char out[PROTO_NS_MAX], const struct model_service *svc)
{
	const char *ns;
	size_t n;

	if (!svc)
		return NULL;
	ns = svc->xml_namespace;
	if (!ns) {
		snprintf(out, PROTO_NS_MAX, "http://%s.amazonaws.com/doc/%s/", svc->endpoint_prefix,
			 svc->api_version);
		return out;
	}
	n = strlen(ns);
	/* the EC2 model says ".../2016-11-15" but EC2 answers with the '/' */
	if (n && ns[n - 1] != '/' && n + 2 <= PROTO_NS_MAX) {
		memcpy(out, ns, n);
		memcpy(out + n, "/", 2);
		return out;
	}
	return ns;
}
