/* proto_xml.c - model-driven XML for the query, ec2 and rest-xml
 * protocols: writing a jv as the elements of a shape (lists as <member> /
 * <item> or flattened, maps as <entry><key/><value/></entry>, attributes,
 * namespaces), and reading a parsed XML tree back into a jv. The
 * protocol envelopes (<OpResponse>, <Error>) are the callers' business. */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/xml.h"

/* ---- writing ---- */

/* item_name: the element name of list items (locationName, else "member";
 * EC2's models always name theirs "item"). */
static const char *item_name(const struct model_member *item)
{
	return item->loc_name ? item->loc_name : "member";
}

/* xml_key_name: the element name of member <m> in its structure: a
 * flattened list with a named item uses the item's name. */
static const char *xml_key_name(const struct model_service *svc, const struct model_member *m)
{
	const struct model_shape *sh = proto_mshape(svc, m);

	if (sh->type == MT_LIST && proto_flattened(svc, m)) {
		const struct model_member *item = proto_member(svc, sh, 0);
		if (item->loc_name)
			return item->loc_name;
	}
	return proto_wire_name(m);
}

/* open_struct: "<name xmlns=.. attr=..>" for a structure element. The
 * namespace is bound to the prefix of the attributes when they have one
 * (S3's xsi:type), else it is the default namespace. */
static void open_struct(struct aws_call *c, struct buf *b, const char *name,
			const struct model_member *m, const struct model_shape *sh,
			const struct jv *v)
{
	const char *ns = m && m->xml_ns ? m->xml_ns : sh->xml_ns;
	const char *prefix = NULL;
	size_t plen = 0;

	for (uint32_t i = 0; i < sh->nmembers; i++) {
		const struct model_member *am = proto_member(c->svc, sh, i);
		const char *colon =
		    am->flags & MF_XML_ATTRIBUTE ? strchr(proto_wire_name(am), ':') : NULL;
		if (colon) {
			prefix = proto_wire_name(am);
			plen = (size_t)(colon - prefix);
		}
	}
	buf_putc(b, '<');
	buf_puts(b, name);
	if (ns) {
		buf_puts(b, " xmlns");
		if (prefix) {
			buf_putc(b, ':');
			buf_append(b, prefix, plen);
		}
		buf_puts(b, "=\"");
		xml_text(b, ns, strlen(ns));
		buf_putc(b, '"');
	}
	for (uint32_t i = 0; i < sh->nmembers; i++) {
		const struct model_member *am = proto_member(c->svc, sh, i);
		const struct jv *av;
		char tmp[64];
		struct str s;
		if (!(am->flags & MF_XML_ATTRIBUTE) || !(av = jv_get(v, am->name)) ||
		    proto_scalar_text(c->a, proto_mshape(c->svc, am), av, MTS_ISO8601, tmp, &s) < 0)
			continue;
		buf_printf(b, " %s=\"", proto_wire_name(am));
		xml_text(b, s.p, s.n);
		buf_putc(b, '"');
	}
	buf_putc(b, '>');
}

/* proto_xml_write_members: see proto_int.h. */
void proto_xml_write_members(struct aws_call *c, int wire, struct buf *b, uint32_t shape_idx,
			     const struct jv *v, int depth)
{
	const struct model_shape *sh = model_shape(c->svc, shape_idx);

	if (!v || v->type != JV_OBJECT)
		return;
	for (uint32_t i = 0; i < sh->nmembers; i++) {
		const struct model_member *m = proto_member(c->svc, sh, i);
		const struct jv *mv;
		if (m->location != ML_BODY || (m->flags & MF_XML_ATTRIBUTE) ||
		    !(mv = jv_get(v, m->name)))
			continue;
		proto_xml_write(c, wire, b, xml_key_name(c->svc, m), m, proto_flattened(c->svc, m),
				m->shape, mv, depth + 1);
	}
}

/* proto_xml_write: see proto_int.h. */
int proto_xml_write(struct aws_call *c, int wire, struct buf *b, const char *name,
		    const struct model_member *m, int flat, uint32_t shape_idx, const struct jv *v,
		    int depth)
{
	const struct model_service *svc = c->svc;
	const struct model_shape *sh = model_shape(svc, shape_idx);
	char tmp[64];
	struct str s;

	if (!v || v->type == JV_NULL || depth > PROTO_MAX_DEPTH)
		return -1;
	switch (sh->type) {
	case MT_STRUCTURE:
		if (v->type != JV_OBJECT)
			return -1;
		open_struct(c, b, name, m, sh, v);
		proto_xml_write_members(c, wire, b, shape_idx, v, depth);
		xml_close(b, name);
		return 0;
	case MT_LIST: {
		const struct model_member *item = proto_member(svc, sh, 0);
		int iflat = proto_flattened(svc, item);
		if (v->type != JV_ARRAY)
			return -1;
		if (!flat && v->u.arr.n == 0) {
			xml_empty(b, name);
			return 0;
		}
		if (!flat)
			xml_open(b, name);
		for (size_t i = 0; i < v->u.arr.n; i++)
			proto_xml_write(c, wire, b, flat ? name : item_name(item), item, iflat,
					item->shape, v->u.arr.v[i], depth + 1);
		if (!flat)
			xml_close(b, name);
		return 0;
	}
	case MT_MAP: {
		const struct model_member *km = proto_member(svc, sh, 0);
		const struct model_member *vm = proto_member(svc, sh, 1);
		const char *kname = km->loc_name ? km->loc_name : "key";
		const char *vname = vm->loc_name ? vm->loc_name : "value";
		if (v->type != JV_OBJECT)
			return -1;
		if (!flat)
			xml_open(b, name);
		for (size_t i = 0; i < v->u.obj.n; i++) {
			const struct jv_member *e = &v->u.obj.m[i];
			if (!e->val || e->val->type == JV_NULL)
				continue;
			xml_open(b, flat ? name : "entry");
			xml_elem(b, kname, e->key.p, e->key.n);
			proto_xml_write(c, wire, b, vname, vm, proto_flattened(svc, vm), vm->shape,
					e->val, depth + 1);
			xml_close(b, flat ? name : "entry");
		}
		if (!flat)
			xml_close(b, name);
		return 0;
	}
	default:
		if (proto_scalar_text(c->a, sh, v, proto_ts_fmt(sh, MTS_ISO8601), tmp, &s) < 0)
			return -1;
		xml_elem(b, name, s.p, s.n);
		return 0;
	}
}

/* ---- reading ---- */

/* xml_trimmed: <s> without surrounding XML whitespace. */
static struct str xml_trimmed(struct str s)
{
	while (s.n && strchr(" \t\r\n", s.p[0]))
		s.p++, s.n--;
	while (s.n && strchr(" \t\r\n", s.p[s.n - 1]))
		s.n--;
	return s;
}

/* proto_xml_read_struct: see proto_int.h. Attribute members first, then
 * one pass over the children; a flattened list or map member collects
 * every repetition of its element. */
struct jv *proto_xml_read_struct(struct aws_call *c, const struct model_shape *sh,
				 const struct xml_node *node, int depth)
{
	const struct model_service *svc = c->svc;
	struct jv *o = jv_object(c->a), *v;

	for (uint32_t i = 0; i < sh->nmembers; i++) {
		const struct model_member *m = proto_member(svc, sh, i);
		const char *an, *colon;
		struct str av;
		if (!(m->flags & MF_XML_ATTRIBUTE))
			continue;
		an = proto_wire_name(m);
		colon = strchr(an, ':');
		av = xml_attr_get(node, colon ? colon + 1 : an);
		if (av.p && proto_scalar_parse(c->a, proto_mshape(svc, m), av.p, av.n, &v) == 0)
			jv_set(c->a, o, m->name, v);
	}
	for (const struct xml_node *ch = node->child; ch; ch = ch->next) {
		const struct model_member *m = NULL;
		const struct model_shape *ms;
		for (uint32_t i = 0; i < sh->nmembers && !m; i++) {
			const struct model_member *mm = proto_member(svc, sh, i);
			if (mm->location == ML_BODY && !(mm->flags & MF_XML_ATTRIBUTE) &&
			    str_eq_c(ch->name, xml_key_name(svc, mm)))
				m = mm;
		}
		if (!m)
			continue; /* unknown elements are ignored */
		ms = proto_mshape(svc, m);
		if ((ms->type == MT_LIST || ms->type == MT_MAP) && proto_flattened(svc, m)) {
			/* each repetition of the element is one item / entry */
			struct jv *acc = jv_get(o, m->name);
			const struct model_member *item = proto_member(svc, ms, ms->type == MT_MAP);
			if (!acc) {
				acc = ms->type == MT_LIST ? jv_array(c->a) : jv_object(c->a);
				jv_set(c->a, o, m->name, acc);
			}
			if (ms->type == MT_LIST) {
				if (!(v = proto_xml_read(c, item, ch, depth + 1)))
					return NULL;
				jv_push(c->a, acc, v);
			} else {
				const struct model_member *km = proto_member(svc, ms, 0);
				struct str k =
				    xml_child_text(ch, km->loc_name ? km->loc_name : "key");
				const struct xml_node *vn =
				    xml_child(ch, item->loc_name ? item->loc_name : "value");
				if (!k.p || !vn)
					continue;
				if (!(v = proto_xml_read(c, item, vn, depth + 1)))
					return NULL;
				jv_set_n(c->a, acc, k.p, k.n, v);
			}
			continue;
		}
		if (!(v = proto_xml_read(c, m, ch, depth + 1)))
			return NULL;
		jv_set(c->a, o, m->name, v);
	}
	return o;
}

/* proto_xml_read: see proto_int.h. Scalar text is trimmed except for
 * strings, whose whitespace is data. */
struct jv *proto_xml_read(struct aws_call *c, const struct model_member *m,
			  const struct xml_node *node, int depth)
{
	const struct model_service *svc = c->svc;
	const struct model_shape *sh = proto_mshape(svc, m);
	struct jv *v;

	if (depth > PROTO_MAX_DEPTH) {
		proto_parse_fail(c, PW_REST_XML, "The XML is nested too deeply");
		return NULL;
	}
	switch (sh->type) {
	case MT_STRUCTURE:
		return proto_xml_read_struct(c, sh, node, depth);
	case MT_LIST: {
		const struct model_member *item = proto_member(svc, sh, 0);
		struct jv *arr = jv_array(c->a);
		for (const struct xml_node *ch = node->child; ch; ch = ch->next) {
			if (!(v = proto_xml_read(c, item, ch, depth + 1)))
				return NULL;
			jv_push(c->a, arr, v);
		}
		return arr;
	}
	case MT_MAP: {
		const struct model_member *km = proto_member(svc, sh, 0);
		const struct model_member *vm = proto_member(svc, sh, 1);
		struct jv *o = jv_object(c->a);
		for (const struct xml_node *e = node->child; e; e = e->next) {
			struct str k = xml_child_text(e, km->loc_name ? km->loc_name : "key");
			const struct xml_node *vn =
			    xml_child(e, vm->loc_name ? vm->loc_name : "value");
			if (!k.p || !vn)
				continue;
			if (!(v = proto_xml_read(c, vm, vn, depth + 1)))
				return NULL;
			jv_set_n(c->a, o, k.p, k.n, v);
		}
		return o;
	}
	default: {
		struct str t = sh->type == MT_STRING ? node->text : xml_trimmed(node->text);
		if (proto_scalar_parse(c->a, sh, t.p, t.n, &v) < 0) {
			proto_parse_fail(c, PW_REST_XML,
					 "The XML you provided was not well-formed or did not "
					 "validate against our published schema");
			return NULL;
		}
		return v;
	}
	}
}
