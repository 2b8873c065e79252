/* proto_rest.c - rest-xml (S3, CloudFront) and rest-json: the operation is
 * picked by method and requestUri template; input members are bound from
 * the URI labels, query string, headers and the body (a payload member,
 * or the remaining members as one XML element / JSON object); output goes
 * the same ways back. S3 extras: virtual-hosted-style addressing (bucket
 * in the Host header), streaming payloads left in the request for the
 * handler, and the response extras of proto_rest.h (status, raw headers,
 * file-range or pulled bodies). */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/proto_rest.h"
#include <unistd.h>
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

/* ---- virtual-hosted-style S3 ---- */

/* ends_with: 1 when s ends with the C string suffix. */
static int ends_with(struct str s, const char *suffix)
{
	size_t n = strlen(suffix);
	return s.n >= n && strncasecmp(s.p + s.n - n, suffix, n) == 0;
}

/* proto_rest_host_bucket: see proto_rest.h. */
int proto_rest_host_bucket(const struct http_request *req, struct str *bucket)
{
	static const char *const suffixes[] = {".localhost.localstack.cloud", ".localhost"};
	struct str host = proto_find_header(req, "host");
	const char *colon;
	size_t end = 0;
	int ip = 1;

	if (!host.p || !host.n || host.p[0] == '[')
		return 0;
	colon = memchr(host.p, ':', host.n);
	if (colon)
		host.n = (size_t)(colon - host.p);
	for (size_t i = 0; i < host.n && ip; i++)
		ip = (host.p[i] >= '0' && host.p[i] <= '9') || host.p[i] == '.';
	if (ip)
		return 0;
	/* <bucket>.s3.<anything> and <bucket>.s3-<region|website...>: the
	 * last such label, since bucket names may contain dots */
	for (size_t i = 1; i + 4 <= host.n; i++)
		if (host.p[i] == '.' && (host.p[i + 1] == 's' || host.p[i + 1] == 'S') &&
		    host.p[i + 2] == '3' && (host.p[i + 3] == '.' || host.p[i + 3] == '-'))
			end = i;
	for (size_t k = 0; !end && k < FB_ARRAY_LEN(suffixes); k++)
		if (ends_with(host, suffixes[k]))
			end = host.n - strlen(suffixes[k]);
	/* "s3.localhost" names the endpoint, not a bucket called "s3" */
	if (!end || (end == 2 && strncasecmp(host.p, "s3", 2) == 0))
		return 0;
	*bucket = (struct str){host.p, end};
	return 1;
}

/* rest_path: the path the URI templates are matched against: the request
 * path, or for an S3 request addressed virtual-hosted style "/<bucket>"
 * followed by it. The view points into the request or a static buffer
 * (the loop is single-threaded; callers decode labels right away). */
static struct str rest_path(const struct model_service *svc, const struct http_request *req)
{
	static char buf[16384];
	struct str bucket;
	size_t n;

	if (!svc || strcmp(svc->id, "s3") != 0 || !proto_rest_host_bucket(req, &bucket))
		return req->h.path;
	n = req->h.path.n == 1 && req->h.path.p[0] == '/' ? 0 : req->h.path.n;
	if (bucket.n + n + 1 > sizeof(buf))
		return req->h.path;
	buf[0] = '/';
	memcpy(buf + 1, bucket.p, bucket.n);
	if (n)
		memcpy(buf + 1 + bucket.n, req->h.path.p, n);
	return (struct str){buf, 1 + bucket.n + n};
}

/* op_score: how specifically <op> matches <req> (whose rest_path is
 * <path>): 0 for no match, else higher for more literal path characters,
 * literal query keys and required query/header members present. */
static long op_score(const struct model_service *svc, const struct model_op *op,
		     const struct http_request *req, struct str path)
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
	lit = match_path(uri, tn, path, labels, &nl);
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
	/* once, not per operation: it looks up and parses the Host header */
	struct str path = rest_path(svc, req);
	for (uint32_t i = 0; i < svc->nops; i++) {
		long s = op_score(svc, &svc->ops[i], req, path);
		/* a tie goes to the current operation over its deprecated twin
		 * (S3's PutBucketNotification vs ...NotificationConfiguration) */
		if (s > best_score || (s && s == best_score && (best->flags & OPF_DEPRECATED) &&
				       !(svc->ops[i].flags & OPF_DEPRECATED))) {
			best_score = s;
			best = &svc->ops[i];
		}
	}
	return best;
}

/* ---- response extras (proto_rest.h) ---- */

/* What the running handler asked for beyond its output members. One slot:
 * the loop runs one handler at a time; the request id ties it to its call. */
static struct {
	char rid[40];
	int status;
	struct buf headers;
	int fd; /* >= 0: file body */
	uint64_t off, len;
	http_pull_fn *pull; /* or a pulled body */
	void *pull_ctx;
	void (*pull_free)(void *ctx);
	int has_body;
} extras = {.fd = -1};

/* extras_reset: forgets the slot, releasing a body nobody sent. */
static void extras_reset(void)
{
	if (extras.fd >= 0)
		close(extras.fd);
	if (extras.pull_free)
		extras.pull_free(extras.pull_ctx);
	extras.fd = -1;
	extras.pull = NULL;
	extras.pull_ctx = NULL;
	extras.pull_free = NULL;
	extras.has_body = 0;
	extras.status = 0;
	extras.rid[0] = 0;
	buf_clear(&extras.headers);
}

/* extras_for: the slot, claimed for call c. */
static void extras_for(const struct aws_call *c)
{
	const char *rid = c->request_id ? c->request_id : "";
	if (strcmp(extras.rid, rid) != 0) {
		extras_reset();
		snprintf(extras.rid, sizeof(extras.rid), "%s", rid);
	}
}

/* proto_rest_set_status: see proto_rest.h. */
void proto_rest_set_status(struct aws_call *c, int status)
{
	extras_for(c);
	extras.status = status;
}

/* proto_rest_add_header: see proto_rest.h. */
void proto_rest_add_header(struct aws_call *c, const char *name, const char *value)
{
	extras_for(c);
	buf_puts(&extras.headers, name);
	buf_append(&extras.headers, ": ", 2);
	for (const char *p = value; *p; p++)
		buf_putc(&extras.headers, *p == '\r' || *p == '\n' ? ' ' : *p);
	buf_append(&extras.headers, "\r\n", 2);
}

/* proto_rest_body_file: see proto_rest.h. */
void proto_rest_body_file(struct aws_call *c, int fd, uint64_t off, uint64_t len)
{
	extras_for(c);
	if (extras.fd >= 0 || extras.pull_free) {
		int keep = extras.status;
		extras_reset();
		extras_for(c);
		extras.status = keep;
	}
	extras.fd = fd;
	extras.off = off;
	extras.len = len;
	extras.has_body = 1;
}

/* proto_rest_body_pull: see proto_rest.h. */
void proto_rest_body_pull(struct aws_call *c, uint64_t len, http_pull_fn *pull, void *ctx,
			  void (*pull_free)(void *ctx))
{
	extras_for(c);
	if (extras.fd >= 0 || extras.pull_free) {
		int keep = extras.status;
		extras_reset();
		extras_for(c);
		extras.status = keep;
	}
	extras.pull = pull;
	extras.pull_ctx = ctx;
	extras.pull_free = pull_free;
	extras.len = len;
	extras.has_body = 1;
}

/* length_only_pull: the body of a HEAD response; the server never pulls
 * it (it sends no body for HEAD), zeros if it ever did. */
static ssize_t length_only_pull(void *ctx, char *buf, size_t cap)
{
	(void)ctx;
	memset(buf, 0, cap);
	return (ssize_t)cap;
}

/* proto_rest_body_length: see proto_rest.h. */
void proto_rest_body_length(struct aws_call *c, uint64_t len)
{
	proto_rest_body_pull(c, len, length_only_pull, NULL, NULL);
}

/* extras_apply: puts the slot's extras for call c into resp; the slot is
 * empty afterwards. A body the server cannot send any more is dropped. */
static void extras_apply(struct aws_call *c, struct http_response *resp, int *status)
{
	const char *rid = c->request_id ? c->request_id : "";
	if (strcmp(extras.rid, rid) != 0) {
		extras_reset();
		return;
	}
	if (extras.status)
		*status = extras.status;
	if (extras.headers.n)
		buf_append(&resp->headers, extras.headers.p, extras.headers.n);
	if (extras.has_body) {
		buf_clear(&resp->body);
		if (extras.fd >= 0) {
			resp->body_fd = extras.fd;
			resp->body_off = extras.off;
			resp->body_len = extras.len;
			extras.fd = -1; /* the server closes it */
		} else {
			resp->pull = extras.pull;
			resp->pull_ctx = extras.pull_ctx;
			resp->pull_len = extras.len;
			resp->pull_free = extras.pull_free;
			extras.pull_free = NULL; /* the server calls it */
		}
	}
	extras_reset();
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
		if (ps->flags & SF_STREAMING)
			return 0; /* the handler reads (or takes) the body itself */
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

	if (!match_path(uri, q ? (size_t)(q - uri) : strlen(uri), rest_path(c->svc, req), labels,
			&nl))
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

	extras_reset(); /* a previous call's extras never leak into this one */
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

/* root_is_member_text: S3's GetBucketLocation answers
 * <LocationConstraint xmlns=..>region</LocationConstraint>: a root that
 * bears the name of the structure's only body member, a scalar, holds that
 * member's text itself. Writes it and returns 1; 0 when <out> is not
 * such a structure (nothing written). */
static int root_is_member_text(struct aws_call *c, const struct model_shape *out, const char *root,
			       struct buf *b, const char *ns)
{
	const struct model_member *only = NULL;
	const struct model_shape *sh;
	const struct jv *v;
	char tmp[64];
	struct str s;

	if (!out->loc_name)
		return 0;
	for (uint32_t i = 0; i < out->nmembers; i++) {
		const struct model_member *m = proto_member(c->svc, out, i);
		if (m->location != ML_BODY)
			continue;
		if (only)
			return 0;
		only = m;
	}
	if (!only || strcmp(proto_wire_name(only), root) != 0)
		return 0;
	sh = proto_mshape(c->svc, only);
	if (sh->type == MT_STRUCTURE || sh->type == MT_LIST || sh->type == MT_MAP)
		return 0;
	v = jv_get(c->out, only->name);
	if (!v || proto_scalar_text(c->a, sh, v, proto_ts_fmt(sh, MTS_ISO8601), tmp, &s) < 0 ||
	    !s.n) {
		buf_putc(b, '<');
		buf_puts(b, root);
		if (ns) {
			buf_puts(b, " xmlns=\"");
			xml_text(b, ns, strlen(ns));
			buf_putc(b, '"');
		}
		buf_puts(b, "/>");
	} else {
		xml_open_ns(b, root, ns);
		xml_text(b, s.p, s.n);
		xml_close(b, root);
	}
	return 1;
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
	if (root_is_member_text(c, out, root, b, ns)) {
		if (!resp->content_type)
			resp->content_type = "application/xml";
		return;
	}
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
	extras_apply(c, resp, &status);
	resp->status = status;
}
