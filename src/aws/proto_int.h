/* proto_int.h - internals shared by the proto_*.c files (not for services).
 *
 * The codecs walk a model shape and a jv side by side. Scalars have one
 * text form shared by query, ec2, rest headers/URI/query string and XML;
 * JSON has its own. Errors are recorded with aws_fail on the call. */
#ifndef FB_PROTO_INT_H
#define FB_PROTO_INT_H
#include "core/compat.h"
#include "core/buf.h"
#include "aws/proto.h"

/* proto_member: member <i> of shape <sh> of <svc>. */
static inline const struct model_member *proto_member(const struct model_service *svc,
						      const struct model_shape *sh, uint32_t i)
{
	return &svc->members[sh->members + i];
}

/* proto_mshape: the shape a member points at. */
static inline const struct model_shape *proto_mshape(const struct model_service *svc,
						     const struct model_member *m)
{
	return &svc->shapes[m->shape];
}

/* proto_wire_name: a member's name on the wire (locationName or name). */
static inline const char *proto_wire_name(const struct model_member *m)
{
	return m->loc_name ? m->loc_name : m->name;
}

/* proto_flattened: 1 when a list/map member is serialised flattened (the
 * trait may sit on the member or on its shape). */
static inline int proto_flattened(const struct model_service *svc, const struct model_member *m)
{
	return (m->flags & MF_FLATTENED) || (proto_mshape(svc, m)->flags & SF_FLATTENED);
}

/* proto_str_eq: 1 when p[0..n) equals the C string s. */
static inline int proto_str_eq(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	return k == n && memcmp(p, s, n) == 0;
}

/* ---- proto.c: scalars and shared helpers ---- */

/* proto_parse_fail: records the protocol's "could not read the input"
 * error (SerializationException, MalformedInput, InvalidParameterValue,
 * MalformedXML/InvalidArgument) with the formatted message; returns -1. */
int proto_parse_fail(struct aws_call *c, int wire, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* proto_scalar_parse: the jv of text p[0..n) for scalar shape <sh>
 * (strings copied, integers range-checked, booleans true/false, doubles
 * incl. NaN/Infinity, timestamps in any fmt_parse_timestamp form, blobs
 * strict base64). Returns 0 with *out set, or -1 when malformed or <sh> is
 * not a scalar (nothing recorded). */
int proto_scalar_parse(struct arena *a, const struct model_shape *sh, const char *p, size_t n,
		       struct jv **out);

/* proto_scalar_text: the wire text of scalar <v> of shape <sh>, with
 * timestamps in <ts_fmt> (an enum model_ts_format other than default).
 * The view points into <v>, <tmp> or the arena. Returns 0, or -1 when <v>
 * cannot be written as <sh> (the caller skips the member). */
int proto_scalar_text(struct arena *a, const struct model_shape *sh, const struct jv *v, int ts_fmt,
		      char tmp[64], struct str *out);

/* proto_fmt_double: shortest "%.15g".."%.17g" form that reads back as d;
 * NaN and infinities as "NaN", "Infinity", "-Infinity". */
void proto_fmt_double(char out[40], double d);

/* proto_ts_fmt: the effective timestamp format of <sh>: its own, else
 * <def>. */
static inline int proto_ts_fmt(const struct model_shape *sh, int def)
{
	return sh->ts_format != MTS_DEFAULT ? sh->ts_format : def;
}

#define PROTO_NS_MAX 192
/* proto_xml_ns: the namespace of query/ec2/rest-xml responses of <svc>
 * (metadata xmlNamespace with a trailing '/', else the conventional
 * http://<endpointPrefix>.amazonaws.com/doc/<apiVersion>/): a static
 * string or <out>; NULL without <svc>. */
const char *proto_xml_ns(char out[PROTO_NS_MAX], const struct model_service *svc);

/* proto_find_header: the value of header <name> of <req>, or STR_NULL. */
struct str proto_find_header(const struct http_request *req, const char *name);

/* ---- proto_json.c ---- */

/* proto_json_parse_body: parses <body> (empty or blank = {}) and converts
 * it in place to shape <shape_idx> of c->svc. Returns the value, or NULL
 * with a SerializationException recorded. */
struct jv *proto_json_parse_body(struct aws_call *c, int wire, int32_t shape_idx, struct str body);
/* proto_json_write: appends <v> as JSON of shape <shape_idx> (body members
 * only). Returns 0, or -1 when <v> does not fit (nothing appended). */
int proto_json_write(struct aws_call *c, struct buf *b, uint32_t shape_idx, const struct jv *v,
		     int depth);
int proto_json_decode(struct aws_call *c, int wire, const struct http_request *req);
void proto_json_encode(struct aws_call *c, int wire, struct http_response *resp);

/* ---- proto_query.c ---- */

/* proto_query_action: the decoded Action= parameter of <req> (URL query,
 * then form body). Returns 0 with *out in the arena, or -1 when absent. */
int proto_query_action(struct aws_call *c, const struct http_request *req, struct str *out);
int proto_query_decode(struct aws_call *c, int wire, const struct http_request *req);
void proto_query_encode(struct aws_call *c, int wire, struct http_response *resp);

/* ---- proto_xml.c ---- */

struct xml_node;
/* proto_xml_write: appends <v> as element <name> of shape <shape_idx>;
 * <m> (may be NULL) is the member holding it, for its namespace. Lists
 * flattened per <flat>. Returns 0, or -1 when <v> does not fit. */
int proto_xml_write(struct aws_call *c, int wire, struct buf *b, const char *name,
		    const struct model_member *m, int flat, uint32_t shape_idx, const struct jv *v,
		    int depth);
/* proto_xml_write_members: appends the body members of structure
 * <shape_idx> held in object <v> (no enclosing element). */
void proto_xml_write_members(struct aws_call *c, int wire, struct buf *b, uint32_t shape_idx,
			     const struct jv *v, int depth);
/* proto_xml_read: the jv of element <node> read as member <m>'s shape
 * (unknown elements ignored; scalars parsed from their text). Returns
 * NULL with MalformedXML recorded when a value does not parse. */
struct jv *proto_xml_read(struct aws_call *c, const struct model_member *m,
			  const struct xml_node *node, int depth);
/* proto_xml_read_struct: the object of structure <sh> from the children
 * and attributes of <node>; NULL as proto_xml_read. */
struct jv *proto_xml_read_struct(struct aws_call *c, const struct model_shape *sh,
				 const struct xml_node *node, int depth);

/* ---- proto_rest.c ---- */
int proto_rest_decode(struct aws_call *c, int wire, const struct http_request *req);
void proto_rest_encode(struct aws_call *c, int wire, struct http_response *resp);

/* ---- proto_validate.c ---- */

/* proto_validate: checks c->in against the op's input shape; records the
 * protocol's validation error (all problems, Coral wording) and returns
 * -1, else 0. */
int proto_validate(struct aws_call *c, int wire);
#endif
