/* proto_rest.c - rest-xml (S3, CloudFront) and rest-json: the operation is
 * picked by method and requestUri template; input members are bound from
 * the URI labels, query string, headers and the body (a payload member,
 * or the remaining members as one XML element / JSON object); output goes
 * the same ways back. Whole bodies only: a streaming path for large S3
 * objects is a separate piece of work. */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/fmt.h"
#include "aws/form.h"
#include "aws/json.h"
#include "aws/xml.h"
#include <ctype.h>

#define MAX_LABELS 16

struct label {
	struct str name; /* without the greedy '+' */
	struct str raw;	 /* still percent-encoded */
};

/* match_path: matches template path t[0..tn) against the request path;
 * fills labels (up to MAX_LABELS; *nl set). Label values must be
 * non-empty; a greedy {X+} spans '/' up to the template's literal tail.
 * A single trailing '/' on the request is tolerated ("/bucket/"). Returns
 * the number of literal characters matched + 1, or 0 for no match. */
static size_t match_path(const char *t, size_t tn, struct str path, struct label *labels, int *nl)
{
	size_t ti = 0, pi = 0, lit = 1;

	*nl = 0;
	while (ti < tn) {
		if (t[ti] == '{') {
			const char *close = memchr(t + ti, '}', tn - ti);
			size_t start = pi, nlen;
			int greedy;
			if (!close || *nl >= MAX_LABELS)
				return 0;
			nlen = (size_t)(close - (t + ti + 1));
			greedy = nlen && t[ti + nlen] == '+';
			labels[*nl].name = (struct str){t + ti + 1, nlen - (size_t)greedy};
			ti += nlen + 2;
			if (greedy) {
				size_t tail = tn - ti; /* the literal rest of the template */
				if (memchr(t + ti, '{', tail) || path.n - pi < tail ||
				    memcmp(path.p + path.n - tail, t + ti, tail) != 0)
					return 0;
				pi = path.n - tail;
			} else {
				while (pi < path.n && path.p[pi] != '/')
					pi++;
			}
			if (pi == start)
				return 0;
			labels[*nl].raw = (struct str){path.p + start, pi - start};
			(*nl)++;
			continue;
		}
		if (pi >= path.n || path.p[pi] != t[ti])
			return 0;
		ti++, pi++, lit++;
	}
	if (pi == path.n || (pi + 1 == path.n && path.p[pi] == '/' && tn && t[tn - 1] != '/'))
		return lit;
	return 0;
}

/* query_has: whether the raw query has key <k> (and value <v> when v.p). */
static int query_has(struct str query, struct str k, struct str v)
{
	struct str cur = query, qk, qv;

	while (form_next(&cur, &qk, &qv))
		if (str_eq(qk, k) && (!v.p || str_eq(qv, v)))
			return 1;
	return 0;
}

/* query_has_c: query_has for a C-string key with any value. */
static int query_has_c(struct str query, const char *k)
{
	return query_has(query, str_c(k), STR_NULL);
}

/* op_score: how specifically <op> matches <req>: 0 for no match, else
 * higher for more literal path characters, literal query keys and
 * required query/header members present. */
static long op_score(const struct model_service *svc, const struct model_op *op,
		     const struct http_request *req)
{
	const char *uri = op->request_uri ? op->request_uri : "/";
	const char *q = strchr(uri, '?');
	size_t tn = q ? (size_t)(q - uri) : strlen(uri);
	struct label labels[MAX_LABELS];
	int nl;
	long score = 0;
	size_t lit;

	if (!str_eq_c(req->h.method, op->http_method ? op->http_method : "POST"))
		return 0;
	lit = match_path(uri, tn, req->h.path, labels, &nl);
	if (!lit)
		return 0;
	score = (long)lit * 10000;
	if (q) {
		struct str cur = str_c(q + 1), k, v;
		while (form_next(&cur, &k, &v)) {
			/* "?uploads": the key with any value; "?list-type=2": exactly */
			if (!query_has(req->h.query, k, v.n ? v : STR_NULL))
				return 0;
			score += 1000;
		}
	}
	if (op->input >= 0) {
		const struct model_shape *sh = model_shape(svc, (uint32_t)op->input);
		for (uint32_t i = 0; i < sh->nmembers; i++) {
			const struct model_member *m = proto_member(svc, sh, i);
			int present;
			if (!(m->flags & MF_REQUIRED) ||
			    (m->location != ML_QUERY && m->location != ML_HEADER))
				continue;
			present = m->location == ML_QUERY
				      ? query_has_c(req->h.query, proto_wire_name(m))
				      : proto_find_header(req, proto_wire_name(m)).p != NULL;
			if (!present)
				return 0;
			score += 10;
		}
	}
	return score;
}

/* proto_rest_match: see proto.h. */
const struct model_op *proto_rest_match(const struct model_service *svc,
					const struct http_request *req)
{
	const struct model_op *best = NULL;
	long best_score = 0;

	if (!svc)
		return NULL;
	for (uint32_t i = 0; i < svc->nops; i++) {
		long s = op_score(svc, &svc->ops[i], req);
		if (s > best_score) {
			best_score = s;
			best = &svc->ops[i];
		}
	}
	return best;
}

/* ---- decoding ---- */

/* bad_param: InvalidArgument (rest-xml) / SerializationException. */
static int bad_param(struct aws_call *c, int wire, const char *what, struct str v)
{
	if (wire == PW_REST_XML)
		return aws_fail(c, 400, "InvalidArgument", "Invalid value '%.*s' for %s",
				(int)(v.n > 128 ? 128 : v.n), v.p ? v.p : "", what);
	return proto_parse_fail(c, wire, "Invalid value '%.*s' for %s",
				(int)(v.n > 128 ? 128 : v.n), v.p ? v.p : "", what);
}

/* bind_text: parses text <v> as member <m> and sets it in c->in. */
static int bind_text(struct aws_call *c, int wire, const struct model_member *m, struct str v)
{
	const struct model_shape *sh = proto_mshape(c->svc, m);
	struct jv *jv;

	if (sh->type == MT_STRING && (m->flags & MF_JSONVALUE)) {
		/* a header carrying base64 JSON: handlers get the JSON text */
		char *d = arena_alloc(c->a, 3 * (v.n / 4) + 1);
		ssize_t k = fmt_b64_decode(d, v.p, v.n);
		if (k < 0)
			return bad_param(c, wire, m->name, v);
		jv_set_strn(c->a, c->in, m->name, d, (size_t)k);
		return 0;
	}
	if (sh->type == MT_LIST) {
		/* a list in one header: comma-separated (RFC 7230) */
		const struct model_member *item = proto_member(c->svc, sh, 0);
		struct jv *arr = jv_get(c->in, m->name);
		size_t i = 0;
		if (!arr || arr->type != JV_ARRAY) {
			arr = jv_array(c->a);
			jv_set(c->a, c->in, m->name, arr);
		}
		while (i <= v.n && v.n) {
			const char *comma = memchr(v.p + i, ',', v.n - i);
			size_t e = comma ? (size_t)(comma - v.p) : v.n, s = i;
			while (s < e && v.p[s] == ' ')
				s++;
			while (e > s && v.p[e - 1] == ' ')
				e--;
			if (proto_scalar_parse(c->a, proto_mshape(c->svc, item), v.p + s, e - s,
					       &jv) < 0)
				return bad_param(c, wire, m->name, v);
			jv_push(c->a, arr, jv);
			if (!comma)
				break;
			i = (size_t)(comma - v.p) + 1;
		}
		return 0;
	}
	if (proto_scalar_parse(c->a, sh, v.p, v.n, &jv) < 0)
		return bad_param(c, wire, m->name, v);
	jv_set(c->a, c->in, m->name, jv);
	return 0;
}

/* url_decoded: the percent-decoded copy of <raw> in the arena. */
static int url_decoded(struct arena *a, struct str raw, int plus, struct str *out)
{
	char *d = arena_alloc(a, raw.n + 1);
	ssize_t n = url_decode(d, raw.p, raw.n, plus);

	if (n < 0)
		return -1;
	d[n] = 0;
	out->p = d;
	out->n = (size_t)n;
	return 0;
}

/* bind_query: querystring members (lists repeat the key; a map member
 * takes every parameter no other member claims). */
static int bind_query(struct aws_call *c, int wire, const struct model_shape *in,
		      const struct http_request *req)
{
	struct str cur = req->h.query, k, v;

	while (form_next(&cur, &k, &v)) {
		struct str kd, vd;
		const struct model_member *map = NULL, *hit = NULL;
		if (url_decoded(c->a, k, 1, &kd) < 0 || url_decoded(c->a, v, 1, &vd) < 0)
			return bad_param(c, wire, "the query string", k);
		for (uint32_t i = 0; i < in->nmembers && !hit; i++) {
			const struct model_member *m = proto_member(c->svc, in, i);
			if (m->location != ML_QUERY)
				continue;
			if (proto_mshape(c->svc, m)->type == MT_MAP)
				map = m;
			else if (str_eq_c(kd, proto_wire_name(m)))
				hit = m;
		}
		if (hit) {
			const struct model_shape *sh = proto_mshape(c->svc, hit);
			if (sh->type == MT_LIST) {
				/* one item per repetition, not comma-split */
				struct jv *arr = jv_get(c->in, hit->name), *jv;
				if (!arr || arr->type != JV_ARRAY) {
					arr = jv_array(c->a);
					jv_set(c->a, c->in, hit->name, arr);
				}
				if (proto_scalar_parse(
					c->a, proto_mshape(c->svc, proto_member(c->svc, sh, 0)),
					vd.p, vd.n, &jv) < 0)
					return bad_param(c, wire, hit->name, vd);
				jv_push(c->a, arr, jv);
			} else if (bind_text(c, wire, hit, vd) < 0) {
				return -1;
			}
		} else if (map) {
			struct jv *o = jv_get(c->in, map->name);
			if (!o || o->type != JV_OBJECT) {
				o = jv_object(c->a);
				jv_set(c->a, c->in, map->name, o);
			}
			jv_set_n(c->a, o, kd.p, kd.n, jv_string(c->a, vd.p, vd.n));
		}
	}
	return 0;
}

/* bind_headers: header and headers-map members. Prefix-map keys are
 * lowercased (S3 stores user metadata that way). */
static int bind_headers(struct aws_call *c, int wire, const struct model_shape *in,
			const struct http_request *req)
{
	for (uint32_t i = 0; i < in->nmembers; i++) {
		const struct model_member *m = proto_member(c->svc, in, i);
		const char *name = proto_wire_name(m);
		size_t pn = strlen(name);
		struct jv *o = NULL;

		if (m->location == ML_HEADER) {
			struct str v = proto_find_header(req, name);
			if (v.p && bind_text(c, wire, m, v) < 0)
				return -1;
			continue;
		}
		if (m->location != ML_HEADERS)
			continue;
		for (size_t h = 0; h < req->h.nheaders; h++) {
			const struct http_header *hd = &req->h.headers[h];
			char *key;
			if (hd->name.n <= pn || strncasecmp(hd->name.p, name, pn) != 0)
				continue;
			if (!o) {
				o = jv_object(c->a);
				jv_set(c->a, c->in, m->name, o);
			}
			key = arena_strndup(c->a, hd->name.p + pn, hd->name.n - pn);
			for (char *p = key; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			jv_set_n(c->a, o, key, hd->name.n - pn,
				 jv_string(c->a, hd->value.p, hd->value.n));
		}
	}
	return 0;
}

/* bind_body: the payload member, or the body members as one document. */
static int bind_body(struct aws_call *c, int wire, const struct model_shape *in,
		     const struct http_request *req)
{
	const struct model_member *payload = NULL;
	int has_body_members = 0;

	for (uint32_t i = 0; i < in->nmembers; i++) {
		const struct model_member *m = proto_member(c->svc, in, i);
		if (m->flags & MF_PAYLOAD)
			payload = m;
		else if (m->location == ML_BODY)
			has_body_members = 1;
	}
	if (payload) {
		const struct model_shape *ps = proto_mshape(c->svc, payload);
		if (ps->type == MT_BLOB || ps->type == MT_STRING) {
			if (req->body.n)
				jv_set_strn(c->a, c->in, payload->name, req->body.p, req->body.n);
			return 0;
		}
		if (req->body.n == 0)
			return 0;
		if (wire == PW_REST_JSON) {
			struct jv *v =
			    proto_json_parse_body(c, wire, (int32_t)payload->shape, req->body);
			if (!v)
				return -1;
			jv_set(c->a, c->in, payload->name, v);
			return 0;
		}
		const char *err = NULL;
		struct xml_node *root = xml_parse(c->a, req->body.p, req->body.n, &err);
		struct jv *v;
		if (!root)
			return proto_parse_fail(
			    c, wire,
			    "The XML you provided was not well-formed or did not "
			    "validate against our published schema");
		if (!(v = proto_xml_read(c, payload, root, 0)))
			return -1;
		jv_set(c->a, c->in, payload->name, v);
		return 0;
	}
	if (!has_body_members || req->body.n == 0)
		return 0;
	if (wire == PW_REST_JSON) {
		struct jv *v = proto_json_parse_body(c, wire, c->op->input, req->body);
		if (!v)
			return -1;
		if (v->type != JV_OBJECT)
			return proto_parse_fail(c, wire, "Start of structure or map expected");
		for (size_t i = 0; i < v->u.obj.n; i++)
			jv_set_n(c->a, c->in, v->u.obj.m[i].key.p, v->u.obj.m[i].key.n,
				 v->u.obj.m[i].val);
		return 0;
	}
	const char *err = NULL;
	struct xml_node *root = xml_parse(c->a, req->body.p, req->body.n, &err);
	struct jv *v;
	if (!root)
		return proto_parse_fail(c, wire,
					"The XML you provided was not well-formed or did not "
					"validate against our published schema");
	if (!(v = proto_xml_read_struct(c, in, root, 0)))
		return -1;
	for (size_t i = 0; i < v->u.obj.n; i++)
		jv_set_n(c->a, c->in, v->u.obj.m[i].key.p, v->u.obj.m[i].key.n, v->u.obj.m[i].val);
	return 0;
}

/* bind_labels: the URI label members from the matched template. */
static int bind_labels(struct aws_call *c, int wire, const struct model_shape *in,
		       const struct http_request *req)
{
	const char *uri = c->op->request_uri ? c->op->request_uri : "/";
	const char *q = strchr(uri, '?');
	struct label labels[MAX_LABELS];
	int nl;

	if (!match_path(uri, q ? (size_t)(q - uri) : strlen(uri), req->h.path, labels, &nl))
		return 0; /* the op was chosen another way: no labels to bind */
	for (int i = 0; i < nl; i++) {
		for (uint32_t j = 0; j < in->nmembers; j++) {
			const struct model_member *m = proto_member(c->svc, in, j);
			struct str v;
			if (m->location != ML_URI || !str_eq_c(labels[i].name, proto_wire_name(m)))
				continue;
			if (url_decoded(c->a, labels[i].raw, 0, &v) < 0)
				return bad_param(c, wire, m->name, labels[i].raw);
			if (bind_text(c, wire, m, v) < 0)
				return -1;
		}
	}
	return 0;
}

/* proto_rest_decode: c->in from URI, query, headers and body. */
int proto_rest_decode(struct aws_call *c, int wire, const struct http_request *req)
{
	const struct model_shape *in;

	if (c->op->input < 0)
		return 0;
	in = model_shape(c->svc, (uint32_t)c->op->input);
	if (bind_labels(c, wire, in, req) < 0 || bind_query(c, wire, in, req) < 0 ||
	    bind_headers(c, wire, in, req) < 0 || bind_body(c, wire, in, req) < 0)
		return -1;
	return 0;
}

/* ---- encoding ---- */

/* put_header: one output header member; Content-Type goes to the
 * response's own field. */
static void put_header(struct aws_call *c, struct http_response *resp, const char *name,
		       struct str v)
{
	char *s = arena_strndup(c->a, v.p, v.n);

	for (char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' '; /* never let a value split the header block */
	if (!strcasecmp(name, "Content-Type"))
		resp->content_type = s;
	else
		http_response_header(resp, name, s);
}

/* header_token: whether <s> can be (part of) a header name. */
static int header_token(struct str s)
{
	if (s.n == 0)
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] <= ' ' || s.p[i] == ':' || s.p[i] == 0x7f)
			return 0;
	return 1;
}

/* encode_headers: header / headers members of the output; the status
 * code member, if any, overrides *status. */
static void encode_headers(struct aws_call *c, struct http_response *resp,
			   const struct model_shape *out, int *status)
{
	for (uint32_t i = 0; i < out->nmembers; i++) {
		const struct model_member *m = proto_member(c->svc, out, i);
		const struct model_shape *sh = proto_mshape(c->svc, m);
		const struct jv *v = jv_get(c->out, m->name);
		char tmp[64];
		struct str s;

		if (!v)
			continue;
		if (m->location == ML_STATUS) {
			if (v->type == JV_INT && v->u.i >= 100 && v->u.i <= 599)
				*status = (int)v->u.i;
		} else if (m->location == ML_HEADERS && v->type == JV_OBJECT) {
			for (size_t k = 0; k < v->u.obj.n; k++) {
				const struct jv *hv = v->u.obj.m[k].val;
				struct str key = v->u.obj.m[k].key;
				/* a key that cannot be part of a header name is dropped */
				if (!hv || hv->type != JV_STRING || !header_token(key))
					continue;
				put_header(c, resp,
					   arena_sprintf(c->a, "%s%.*s", proto_wire_name(m),
							 (int)v->u.obj.m[k].key.n,
							 v->u.obj.m[k].key.p),
					   hv->u.s);
			}
		} else if (m->location == ML_HEADER) {
			if (sh->type == MT_LIST && v->type == JV_ARRAY) {
				struct buf joined = BUF_INIT;
				const struct model_shape *is =
				    proto_mshape(c->svc, proto_member(c->svc, sh, 0));
				for (size_t k = 0; k < v->u.arr.n; k++)
					if (proto_scalar_text(c->a, is, v->u.arr.v[k],
							      proto_ts_fmt(is, MTS_RFC822), tmp,
							      &s) == 0) {
						if (joined.n)
							buf_putc(&joined, ',');
						buf_append(&joined, s.p, s.n);
					}
				if (joined.n)
					put_header(c, resp, proto_wire_name(m), buf_str(&joined));
				buf_release(&joined);
			} else if (sh->type == MT_STRING && (m->flags & MF_JSONVALUE) &&
				   v->type == JV_STRING) {
				char *enc = arena_alloc(c->a, 4 * ((v->u.s.n + 2) / 3) + 1);
				size_t n = fmt_b64_encode(enc, v->u.s.p, v->u.s.n);
				put_header(c, resp, proto_wire_name(m), (struct str){enc, n});
			} else if (proto_scalar_text(c->a, sh, v, proto_ts_fmt(sh, MTS_RFC822), tmp,
						     &s) == 0) {
				put_header(c, resp, proto_wire_name(m), s);
			}
		}
	}
}

/* encode_body: the payload member or the body members. */
static void encode_body(struct aws_call *c, int wire, struct http_response *resp,
			const struct model_shape *out)
{
	struct buf *b = &resp->body;
	const struct model_member *payload = NULL;
	int has_body_members = 0;

	for (uint32_t i = 0; i < out->nmembers; i++) {
		const struct model_member *m = proto_member(c->svc, out, i);
		if (m->flags & MF_PAYLOAD)
			payload = m;
		else if (m->location == ML_BODY)
			has_body_members = 1;
	}
	if (payload) {
		const struct model_shape *ps = proto_mshape(c->svc, payload);
		const struct jv *v = jv_get(c->out, payload->name);
		if (!v)
			return;
		if (ps->type == MT_BLOB || ps->type == MT_STRING) {
			if (v->type == JV_STRING)
				buf_append(b, v->u.s.p, v->u.s.n);
			return;
		}
		if (wire == PW_REST_JSON) {
			if (proto_json_write(c, b, payload->shape, v, 0) == 0 &&
			    !resp->content_type)
				resp->content_type = "application/json";
			return;
		}
		buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
		const char *root = payload->loc_name ? payload->loc_name
				   : ps->loc_name    ? ps->loc_name
						     : payload->name;
		if (proto_xml_write(c, wire, b, root, payload, 0, payload->shape, v, 0) < 0)
			buf_clear(b);
		else if (!resp->content_type)
			resp->content_type = "application/xml";
		return;
	}
	if (!has_body_members)
		return;
	if (wire == PW_REST_JSON) {
		if (proto_json_write(c, b, (uint32_t)c->op->output, c->out, 0) < 0)
			buf_puts(b, "{}");
		if (!resp->content_type)
			resp->content_type = "application/json";
		return;
	}
	/* rest-xml: one root element named after the output shape */
	char nsbuf[PROTO_NS_MAX];
	const char *ns = out->xml_ns ? out->xml_ns : proto_xml_ns(nsbuf, c->svc);
	const char *root = out->loc_name ? out->loc_name : out->name;
	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	xml_open_ns(b, root, ns);
	proto_xml_write_members(c, wire, b, (uint32_t)c->op->output, c->out, 0);
	xml_close(b, root);
	if (!resp->content_type)
		resp->content_type = "application/xml";
}

/* proto_rest_encode: status, headers and body of a rest response. */
void proto_rest_encode(struct aws_call *c, int wire, struct http_response *resp)
{
	int status = c->op->http_status ? c->op->http_status : 200;

	buf_clear(&resp->body);
	resp->content_type = NULL;
	if (c->request_id) {
		http_response_header(resp, "x-amzn-RequestId", c->request_id);
		if (wire == PW_REST_XML)
			http_response_header(resp, "x-amz-request-id", c->request_id);
	}
	if (c->op->output >= 0 && c->out) {
		const struct model_shape *out = model_shape(c->svc, (uint32_t)c->op->output);
		encode_headers(c, resp, out, &status);
		encode_body(c, wire, resp, out);
	}
	resp->status = status;
}
