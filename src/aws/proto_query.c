/* proto_query.c - the query and ec2 protocols: form-encoded input
 * ("Targets.member.1.Id=i-1", EC2's "Filter.1.Value.2=db") decoded into a
 * jv by walking each key through the input shape, and XML output
 * (<OpResponse><OpResult>..., EC2's <OpResponse><requestId>...), the
 * shapes inside written by proto_xml.c.
 *
 * Decoding is two passes: each pair is placed into a tree whose list and
 * map nodes are objects keyed by their 1-based index (pairs may come in
 * any order and with gaps), then those nodes become arrays and maps in
 * index order. Unknown parameters are ignored, as AWS does. */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/form.h"
#include "aws/xml.h"
#include <stdlib.h>

struct qctx {
	struct aws_call *c;
	const struct model_service *svc;
	int wire;
	const char *val; /* the pair being placed */
	size_t vn;
	const char *key;
	size_t kn;
};

/* seg: takes the next segment off the key rest *p (*n bytes): the text up
 * to the next '.', after skipping the '.' that separates it from the
 * previous one. A rest that is empty means the key ended; "A." leaves a
 * rest of "." whose segment is empty (and so names nothing). */
static void seg(const char **p, size_t *n, struct str *out)
{
	const char *dot;
	size_t k;

	if (*n && **p == '.')
		(*p)++, (*n)--;
	dot = memchr(*p, '.', *n);
	k = dot ? (size_t)(dot - *p) : *n;
	out->p = *p;
	out->n = k;
	*p += k;
	*n -= k;
}

/* index_of: a 1-based list/map index segment ("1".."999999999"), or 0. */
static long index_of(struct str s)
{
	long v = 0;

	if (s.n == 0 || s.n > 9 || s.p[0] == '0')
		return 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
		v = v * 10 + (s.p[i] - '0');
	}
	return v;
}

/* child: the member of object <o> keyed <k> (n bytes), or NULL. Looks at
 * the last member first: pairs usually arrive in order. */
static struct jv *child(struct jv *o, const char *k, size_t n)
{
	size_t i = o->u.obj.n;

	if (i && str_eq(o->u.obj.m[i - 1].key, (struct str){k, n}))
		return o->u.obj.m[i - 1].val;
	while (i--)
		if (str_eq(o->u.obj.m[i].key, (struct str){k, n}))
			return o->u.obj.m[i].val;
	return NULL;
}

/* put: sets member <k> of <o> to <v> (replacing: a repeated key wins). */
static void put(struct arena *a, struct jv *o, const char *k, size_t n, struct jv *v)
{
	for (size_t i = o->u.obj.n; i--;)
		if (str_eq(o->u.obj.m[i].key, (struct str){k, n})) {
			o->u.obj.m[i].val = v;
			return;
		}
	jv_add_n(a, o, k, n, v);
}

/* node_of: member <k> of <o>, created as an empty object when absent. */
static struct jv *node_of(struct arena *a, struct jv *o, const char *k, size_t n)
{
	struct jv *v = child(o, k, n);

	if (!v || v->type != JV_OBJECT) {
		v = jv_object(a);
		put(a, o, k, n, v);
	}
	return v;
}

/* cap_eq: whether <s> is <n> with its first letter capitalised (EC2 sends
 * locationNames that way) or <n> itself. */
static int cap_eq(struct str s, const char *n)
{
	size_t k = strlen(n);
	char first;

	if (s.n != k || k == 0)
		return 0;
	first = n[0] >= 'a' && n[0] <= 'z' ? (char)(n[0] - 'a' + 'A') : n[0];
	return (s.p[0] == first || s.p[0] == n[0]) && memcmp(s.p + 1, n + 1, k - 1) == 0;
}

/* wire_name_eq: whether segment <s> names member <m> in this protocol. */
static int wire_name_eq(struct qctx *q, const struct model_member *m, struct str s)
{
	const struct model_shape *sh = proto_mshape(q->svc, m);

	if (q->wire == PW_EC2) {
		if (m->query_name)
			return str_eq_c(s, m->query_name);
		return m->loc_name ? cap_eq(s, m->loc_name) : str_eq_c(s, m->name);
	}
	if (sh->type == MT_LIST && proto_flattened(q->svc, m)) {
		const struct model_member *item = proto_member(q->svc, sh, 0);
		if (item->loc_name && str_eq_c(s, item->loc_name))
			return 1;
	}
	return str_eq_c(s, proto_wire_name(m));
}

/* kv_name_eq: whether segment <s> is the key/value part name of map
 * member <m> (its locationName, default "key"/"value"). */
static int kv_name_eq(struct qctx *q, const struct model_member *m, const char *def, struct str s)
{
	const char *n = m->query_name ? m->query_name : m->loc_name;

	if (!n)
		return str_eq_c(s, def);
	return q->wire == PW_EC2 ? cap_eq(s, n) : str_eq_c(s, n);
}

static int place(struct qctx *q, const struct model_member *m, struct jv *node, const char *k,
		 size_t kn, int depth);

/* place_value: puts the pair's value (rest k[0..kn)) under key <name> of
 * container <o>, as member/item/value <m>. */
static int place_value(struct qctx *q, const struct model_member *m, struct jv *o, struct str name,
		       const char *k, size_t kn, int depth)
{
	const struct model_shape *sh = proto_mshape(q->svc, m);
	struct jv *v;

	switch (sh->type) {
	case MT_STRUCTURE:
	case MT_MAP:
		if (kn == 0)
			return 0; /* "Struct=x": nothing to place */
		return place(q, m, node_of(q->c->a, o, name.p, name.n), k, kn, depth + 1);
	case MT_LIST:
		/* "List=" is how the query protocol sends an empty list */
		v = node_of(q->c->a, o, name.p, name.n);
		return kn ? place(q, m, v, k, kn, depth + 1) : 0;
	default:
		if (kn)
			return 0; /* "Scalar.x=": not a parameter of this shape */
		if (proto_scalar_parse(q->c->a, sh, q->val, q->vn, &v) < 0)
			return proto_parse_fail(q->c, q->wire,
						"Invalid value '%.*s' for parameter %.*s",
						(int)(q->vn > 128 ? 128 : q->vn), q->val,
						(int)(q->kn > 256 ? 256 : q->kn), q->key);
		put(q->c->a, o, name.p, name.n, v);
		return 0;
	}
}

/* place: places the pair whose remaining key is k[0..kn) into <node>, the
 * container of member <m> (structure: object by member name; list: object
 * by index; map: object by entry index holding "k"/"v"). */
static int place(struct qctx *q, const struct model_member *m, struct jv *node, const char *k,
		 size_t kn, int depth)
{
	const struct model_shape *sh = proto_mshape(q->svc, m);
	struct str s, idx;

	if (depth > PROTO_MAX_DEPTH)
		return proto_parse_fail(q->c, q->wire, "Parameter %.*s nested too deeply",
					(int)(q->kn > 256 ? 256 : q->kn), q->key);
	switch (sh->type) {
	case MT_STRUCTURE:
		seg(&k, &kn, &s);
		for (uint32_t i = 0; i < sh->nmembers; i++) {
			const struct model_member *mm = proto_member(q->svc, sh, i);
			if (mm->location == ML_BODY && wire_name_eq(q, mm, s))
				return place_value(q, mm, node, str_c(mm->name), k, kn, depth);
		}
		return 0;
	case MT_LIST: {
		const struct model_member *item = proto_member(q->svc, sh, 0);
		if (q->wire != PW_EC2 && !proto_flattened(q->svc, m)) {
			seg(&k, &kn, &s);
			if (!str_eq_c(s, "member") &&
			    !(item->loc_name && str_eq_c(s, item->loc_name)))
				return 0;
		}
		seg(&k, &kn, &idx);
		if (!index_of(idx))
			return 0;
		return place_value(q, item, node, idx, k, kn, depth);
	}
	case MT_MAP: {
		const struct model_member *km = proto_member(q->svc, sh, 0);
		const struct model_member *vm = proto_member(q->svc, sh, 1);
		struct jv *entry, *key;
		if (!proto_flattened(q->svc, m)) {
			seg(&k, &kn, &s);
			if (!str_eq_c(s, "entry"))
				return 0;
		}
		seg(&k, &kn, &idx);
		if (!index_of(idx))
			return 0;
		seg(&k, &kn, &s);
		entry = node_of(q->c->a, node, idx.p, idx.n);
		if (kv_name_eq(q, km, "key", s)) {
			if (kn)
				return 0;
			key = jv_string(q->c->a, q->val, q->vn);
			put(q->c->a, entry, "k", 1, key);
			return 0;
		}
		if (kv_name_eq(q, vm, "value", s))
			return place_value(q, vm, entry, STR_LIT("v"), k, kn, depth);
		return 0;
	}
	default:
		return 0;
	}
}

/* idx_cmp: orders index-keyed members numerically (qsort callback). */
static int idx_cmp(const void *a, const void *b)
{
	long x = index_of(((const struct jv_member *)a)->key);
	long y = index_of(((const struct jv_member *)b)->key);
	return (x > y) - (x < y);
}

/* finish: turns the index-keyed nodes under <v> (shape of member <m>)
 * into arrays and maps; returns the final value. */
static struct jv *finish(struct qctx *q, const struct model_member *m, struct jv *v, int depth)
{
	const struct model_shape *sh = proto_mshape(q->svc, m);
	struct arena *a = q->c->a;
	struct jv *out;

	if (depth > PROTO_MAX_DEPTH || v->type != JV_OBJECT)
		return v;
	switch (sh->type) {
	case MT_STRUCTURE:
		for (size_t i = 0; i < v->u.obj.n; i++) {
			const struct model_member *mm = NULL;
			for (uint32_t j = 0; j < sh->nmembers && !mm; j++)
				if (str_eq_c(v->u.obj.m[i].key, proto_member(q->svc, sh, j)->name))
					mm = proto_member(q->svc, sh, j);
			if (mm)
				v->u.obj.m[i].val = finish(q, mm, v->u.obj.m[i].val, depth + 1);
		}
		return v;
	case MT_LIST:
		if (v->u.obj.n > 1)
			qsort(v->u.obj.m, v->u.obj.n, sizeof(v->u.obj.m[0]), idx_cmp);
		out = jv_array(a);
		for (size_t i = 0; i < v->u.obj.n; i++)
			jv_push(
			    a, out,
			    finish(q, proto_member(q->svc, sh, 0), v->u.obj.m[i].val, depth + 1));
		return out;
	case MT_MAP:
		if (v->u.obj.n > 1)
			qsort(v->u.obj.m, v->u.obj.n, sizeof(v->u.obj.m[0]), idx_cmp);
		out = jv_object(a);
		for (size_t i = 0; i < v->u.obj.n; i++) {
			struct jv *e = v->u.obj.m[i].val, *key, *val;
			if (e->type != JV_OBJECT || !(key = child(e, "k", 1)) ||
			    !(val = child(e, "v", 1)))
				continue; /* an entry without its key or value */
			jv_set_n(a, out, key->u.s.p, key->u.s.n,
				 finish(q, proto_member(q->svc, sh, 1), val, depth + 1));
		}
		return out;
	default:
		return v;
	}
}

/* decode_pair: url-decodes one pair into the arena and places it. */
static int decode_pair(struct qctx *q, const struct model_member *root, struct str k, struct str v,
		       int *seen_version)
{
	char *kd = arena_alloc(q->c->a, k.n + 1), *vd = arena_alloc(q->c->a, v.n + 1);
	ssize_t kn = url_decode(kd, k.p, k.n, 1), vn = url_decode(vd, v.p, v.n, 1);

	if (kn < 0 || vn < 0)
		return proto_parse_fail(q->c, q->wire, "Malformed percent-encoding in parameter");
	kd[kn] = vd[vn] = 0;
	/* Action and the first Version select the operation, not members */
	if (proto_str_eq(kd, (size_t)kn, "Action"))
		return 0;
	if (!*seen_version && proto_str_eq(kd, (size_t)kn, "Version")) {
		*seen_version = 1;
		return 0;
	}
	if (kn == 0 || kd[0] == '.')
		return 0; /* names no parameter */
	q->key = kd, q->kn = (size_t)kn, q->val = vd, q->vn = (size_t)vn;
	return place(q, root, q->c->in, kd, (size_t)kn, 0);
}

/* form_body: the request body when it is a form, else an empty view. */
static struct str form_body(const struct http_request *req)
{
	struct str ct = proto_find_header(req, "content-type");

	if (!ct.p || str_has_prefix_c(ct, "application/x-www-form-urlencoded"))
		return req->body;
	return STR_NULL;
}

/* proto_query_action: see proto_int.h. */
int proto_query_action(struct aws_call *c, const struct http_request *req, struct str *out)
{
	struct str srcs[2] = {req->h.query, form_body(req)};

	for (int i = 0; i < 2; i++) {
		struct str cur = srcs[i], k, v;
		while (form_next(&cur, &k, &v)) {
			char *d;
			ssize_t n;
			if (!str_eq_c(k, "Action"))
				continue;
			d = arena_alloc(c->a, v.n + 1);
			n = url_decode(d, v.p, v.n, 1);
			if (n < 0)
				return -1;
			d[n] = 0;
			out->p = d;
			out->n = (size_t)n;
			return 0;
		}
	}
	return -1;
}

/* proto_query_decode: c->in from the URL query and form body. */
int proto_query_decode(struct aws_call *c, int wire, const struct http_request *req)
{
	struct qctx q = {.c = c, .svc = c->svc, .wire = wire};
	struct str srcs[2] = {req->h.query, form_body(req)};
	/* a pseudo member pointing at the input shape roots the walk */
	struct model_member root = {.name = "", .shape = (uint32_t)c->op->input};
	int seen_version = 0;

	if (c->op->input < 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		struct str cur = srcs[i], k, v;
		while (form_next(&cur, &k, &v))
			if (decode_pair(&q, &root, k, v, &seen_version) < 0)
				return -1;
	}
	c->in = finish(&q, &root, c->in, 0);
	return 0;
}

/* proto_query_encode: the 200 response of a query or ec2 operation. */
void proto_query_encode(struct aws_call *c, int wire, struct http_response *resp)
{
	struct buf *b = &resp->body;
	char nsbuf[PROTO_NS_MAX];
	const char *ns = proto_xml_ns(nsbuf, c->svc);
	const char *rid = c->request_id ? c->request_id : "";
	char *root = arena_sprintf(c->a, "%sResponse", c->op->name);

	resp->status = 200;
	resp->content_type = "text/xml";
	if (c->request_id)
		http_response_header(resp, "x-amzn-RequestId", c->request_id);
	buf_clear(b);
	xml_open_ns(b, root, ns);
	if (wire == PW_EC2) {
		xml_elem_c(b, "requestId", rid);
		if (c->op->output >= 0)
			proto_xml_write_members(c, wire, b, (uint32_t)c->op->output, c->out, 0);
		xml_close(b, root);
		return;
	}
	if (c->op->output >= 0) {
		const char *wrap = c->op->result_wrapper;
		if (wrap)
			xml_open(b, wrap);
		proto_xml_write_members(c, wire, b, (uint32_t)c->op->output, c->out, 0);
		if (wrap)
			xml_close(b, wrap);
	}
	xml_open(b, "ResponseMetadata");
	xml_elem_c(b, "RequestId", rid);
	xml_close(b, "ResponseMetadata");
	xml_close(b, root);
}
