/* test_proto.c - src/aws/proto*: decode, validate and encode for every
 * wire form, against small hand-built models and the generated ones. */
#include "core/compat.h"
#include "core/arena.h"
#include "core/buf.h"
#include "aws/proto.h"
#include "aws/proto_pattern.h"
#include "aws/json.h"
#include "test.h"
#include <math.h>
#include <stdarg.h>

/* CHECK_S: string equality that prints both sides when they differ. */
#define CHECK_S(got, want)                                                                         \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (strcmp(g_, w_) != 0)                                                           \
			fprintf(stderr, "  got:  %s\n  want: %s\n", g_, w_);                       \
		CHECK(strcmp(g_, w_) == 0);                                                        \
	} while (0)

/* ---- a hand-built service ---- */

enum {
	S_INPUT,
	S_NAME, /* string 1..8 */
	S_TAGLIST,
	S_TAG,
	S_ATTRMAP,
	S_STR,
	S_BLOB,
	S_TS,
	S_KIND,	 /* enum A, B */
	S_COUNT, /* integer 1..100 */
	S_BOOL,
	S_DOUBLE,
	S_IDLIST, /* list of S_STR, items named "Id" */
	S_OUTPUT,
	S_IDEM_IN,
	S_PAT, /* string matching [a-z]+ */
	S_N
};

#define MEM(n, sh, ...)                                                                            \
	{                                                                                          \
		.name = n, .shape = sh, __VA_ARGS__                                                \
	}

static const struct model_member t_members[] = {
    /* 0: Input */
    MEM("Name", S_NAME, .flags = MF_REQUIRED),
    MEM("Tags", S_TAGLIST),
    MEM("Attrs", S_ATTRMAP),
    MEM("Data", S_BLOB),
    MEM("When", S_TS),
    MEM("Kind", S_KIND),
    MEM("Count", S_COUNT),
    MEM("Flag", S_BOOL),
    MEM("Ratio", S_DOUBLE),
    MEM("Ids", S_IDLIST, .flags = MF_FLATTENED),
    MEM("Code", S_PAT, .loc_name = "code"),
    /* 11: TagList item */
    MEM("member", S_TAG),
    /* 12: Tag */
    MEM("Key", S_STR, .flags = MF_REQUIRED),
    MEM("Value", S_STR),
    /* 14: AttrMap */
    MEM("key", S_STR),
    MEM("value", S_STR),
    /* 16: IdList item */
    MEM("member", S_STR, .loc_name = "Id"),
    /* 17: Output */
    MEM("Name", S_STR),
    MEM("Tags", S_TAGLIST),
    MEM("Attrs", S_ATTRMAP),
    MEM("Data", S_BLOB),
    MEM("When", S_TS),
    MEM("Count", S_COUNT),
    MEM("Flag", S_BOOL),
    MEM("Ids", S_IDLIST, .flags = MF_FLATTENED),
    MEM("Ratio", S_DOUBLE),
    /* 26: IdemIn */
    MEM("Token", S_STR, .flags = MF_IDEMPOTENCY),
};

#define SHAPE(n, t, ...)                                                                           \
	{                                                                                          \
		.name = n, .type = t, __VA_ARGS__                                                  \
	}

static const struct model_shape t_shapes[S_N] = {
    [S_INPUT] = SHAPE("Input", MT_STRUCTURE, .members = 0, .nmembers = 11),
    [S_NAME] = SHAPE("NameString", MT_STRING, .flags = SF_HAS_MIN | SF_HAS_MAX, .min = 1, .max = 8),
    [S_TAGLIST] = SHAPE("TagList", MT_LIST, .members = 11, .nmembers = 1),
    [S_TAG] = SHAPE("Tag", MT_STRUCTURE, .members = 12, .nmembers = 2),
    [S_ATTRMAP] = SHAPE("AttrMap", MT_MAP, .members = 14, .nmembers = 2),
    [S_STR] = SHAPE("Str", MT_STRING),
    [S_BLOB] = SHAPE("Bytes", MT_BLOB),
    [S_TS] = SHAPE("Time", MT_TIMESTAMP),
    [S_KIND] = SHAPE("Kind", MT_STRING, .enums = 0, .nenums = 2),
    [S_COUNT] = SHAPE("Count", MT_INTEGER, .flags = SF_HAS_MIN | SF_HAS_MAX, .min = 1, .max = 100),
    [S_BOOL] = SHAPE("Flag", MT_BOOLEAN),
    [S_DOUBLE] = SHAPE("Ratio", MT_DOUBLE),
    [S_IDLIST] = SHAPE("IdList", MT_LIST, .members = 16, .nmembers = 1),
    [S_OUTPUT] = SHAPE("Output", MT_STRUCTURE, .members = 17, .nmembers = 9),
    [S_IDEM_IN] = SHAPE("IdemIn", MT_STRUCTURE, .members = 26, .nmembers = 1),
    [S_PAT] = SHAPE("Pat", MT_STRING, .pattern = "[a-z]+"),
};

static const char *const t_enums[] = {"A", "B"};

/* sorted by name */
static const struct model_op t_ops[] = {
    {.name = "DoThing",
     .http_method = "POST",
     .request_uri = "/",
     .input = S_INPUT,
     .output = S_OUTPUT,
     .result_wrapper = "DoThingResult",
     .http_status = 200},
    {.name = "Empty",
     .http_method = "POST",
     .request_uri = "/",
     .input = -1,
     .output = -1,
     .http_status = 200},
    {.name = "Idem",
     .http_method = "POST",
     .request_uri = "/",
     .input = S_IDEM_IN,
     .output = -1,
     .http_status = 200},
};

static const struct model_service t_json = {
    .id = "tjson",
    .service_id = "TJson",
    .api_version = "2020-01-01",
    .protocol = MP_JSON,
    .json_version = "1.1",
    .target_prefix = "TSvc",
    .endpoint_prefix = "tjson",
    .ops = t_ops,
    .nops = 3,
    .shapes = t_shapes,
    .nshapes = S_N,
    .members = t_members,
    .enums = t_enums,
};

static const struct model_service t_query = {
    .id = "tquery",
    .service_id = "TQuery",
    .api_version = "2020-01-01",
    .protocol = MP_QUERY,
    .endpoint_prefix = "tquery",
    .xml_namespace = "http://tquery.amazonaws.com/doc/2020-01-01/",
    .ops = t_ops,
    .nops = 3,
    .shapes = t_shapes,
    .nshapes = S_N,
    .members = t_members,
    .enums = t_enums,
};

static const struct model_service t_ec2 = {
    .id = "tec2",
    .service_id = "TEc2",
    .api_version = "2020-01-01",
    .protocol = MP_EC2,
    .endpoint_prefix = "tec2",
    .ops = t_ops,
    .nops = 3,
    .shapes = t_shapes,
    .nshapes = S_N,
    .members = t_members,
    .enums = t_enums,
};

/* ---- request/call helpers ---- */

struct treq {
	struct http_request req;
	struct http_header hdrs[16];
};

/* mkreq: a request; varargs are header name/value pairs ending in NULL. */
static void mkreq(struct treq *t, const char *method, const char *target, const char *body, ...)
{
	va_list ap;
	const char *q = strchr(target, '?');

	memset(t, 0, sizeof(*t));
	t->req.h.method = str_c(method);
	t->req.h.target = str_c(target);
	t->req.h.path = (struct str){target, q ? (size_t)(q - target) : strlen(target)};
	t->req.h.query = q ? str_c(q + 1) : (struct str){"", 0};
	t->req.h.minor_version = 1;
	t->req.h.headers = t->hdrs;
	t->req.body = str_c(body ? body : "");
	va_start(ap, body);
	for (;;) {
		const char *n = va_arg(ap, const char *);
		if (!n || t->req.h.nheaders >= 16)
			break;
		t->hdrs[t->req.h.nheaders].name = str_c(n);
		t->hdrs[t->req.h.nheaders].value = str_c(va_arg(ap, const char *));
		t->req.h.nheaders++;
	}
	va_end(ap);
}

static struct aws_call *mkcall(struct arena *a, const struct model_service *svc)
{
	struct aws_call *c = arena_zalloc(a, sizeof(*c));
	c->a = a;
	c->svc = svc;
	c->request_id = "rid-1";
	return c;
}

/* dump: compact JSON of v in the arena. */
static const char *dump(struct arena *a, const struct jv *v)
{
	struct buf b = BUF_INIT;
	json_write(&b, v);
	char *s = arena_strndup(a, b.p ? b.p : "", b.n);
	buf_release(&b);
	return s;
}

/* dec: finds the op and decodes; the input as JSON, or "ERR status code:
 * message". *cp (if cp) gets the call. */
static const char *dec(struct arena *a, const struct model_service *svc, struct treq *t,
		       struct aws_call **cp)
{
	struct aws_call *c = mkcall(a, svc);
	int wire = proto_wire_of(svc, &t->req);

	if (cp)
		*cp = c;
	c->op = proto_find_op(c, wire, &t->req);
	if (c->op && proto_decode(c, wire, &t->req) == 0)
		return dump(a, c->in);
	return arena_sprintf(a, "ERR %d %s: %s", c->err_status, c->err_code, c->err_msg);
}

/* q_dec: decodes a query/ec2 form body. */
static const char *q_dec(struct arena *a, const struct model_service *svc, const char *body)
{
	struct treq t;
	mkreq(&t, "POST", "/", body, "Content-Type",
	      "application/x-www-form-urlencoded; charset=utf-8", NULL);
	return dec(a, svc, &t, NULL);
}

/* j_dec: decodes a JSON body for op (X-Amz-Target TSvc.<op>). */
static const char *j_dec(struct arena *a, const char *op, const char *body)
{
	struct treq t;
	char target[64];
	snprintf(target, sizeof(target), "TSvc.%s", op);
	mkreq(&t, "POST", "/", body, "X-Amz-Target", target, "Content-Type",
	      "application/x-amz-json-1.1", NULL);
	return dec(a, &t_json, &t, NULL);
}

/* enc: encodes out for op of svc in the service's wire form. */
static const char *enc(struct arena *a, const struct model_service *svc, const char *op,
		       struct jv *out, struct http_response *resp)
{
	struct aws_call *c = mkcall(a, svc);
	struct treq t;
	mkreq(&t, "POST", "/", "", NULL);
	c->op = model_find_op(svc, op, strlen(op));
	c->out = out;
	memset(resp, 0, sizeof(*resp));
	proto_encode(c, proto_wire_of(svc, &t.req), resp);
	return arena_strndup(a, resp->body.p ? resp->body.p : "", resp->body.n);
}

static void resp_release(struct http_response *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

/* has_header: whether the response carries the "name: value" line. */
static int has_header(const struct http_response *r, const char *line)
{
	return r->headers.p && strstr(r->headers.p, line) != NULL;
}

/* sample_out: an output object exercising every member. */
static struct jv *sample_out(struct arena *a)
{
	struct jv *o = jv_object(a), *tags = jv_array(a), *t = jv_object(a), *m = jv_object(a);
	struct jv *ids = jv_array(a);
	jv_set_str(a, o, "Name", "n<&>");
	jv_set_str(a, t, "Key", "k");
	jv_set_str(a, t, "Value", "v");
	jv_push(a, tags, t);
	jv_set(a, o, "Tags", tags);
	jv_set_str(a, m, "a", "1");
	jv_set(a, o, "Attrs", m);
	jv_set_strn(a, o, "Data", "hi", 2);
	jv_set_double(a, o, "When", 1767225600.5);
	jv_set_int(a, o, "Count", 3);
	jv_set_bool(a, o, "Flag", 1);
	jv_push(a, ids, jv_string_c(a, "i-1"));
	jv_push(a, ids, jv_string_c(a, "i-2"));
	jv_set(a, o, "Ids", ids);
	jv_set_double(a, o, "Ratio", 0.25);
	jv_set(a, o, "Unknown", jv_string_c(a, "dropped"));
	return o;
}

/* ---- json ---- */

TEST(proto_json_decode_all_types)
{
	struct arena *a = arena_new(4096);
	CHECK_S(j_dec(a, "DoThing",
		      "{\"Name\": \"x\", \"Tags\": [{\"Key\": \"k\", \"Value\": \"v\", \"Z\": 1}],"
		      " \"Attrs\": {\"a\": \"b\"}, \"Data\": \"aGk=\", \"When\": 1767225600,"
		      " \"Kind\": \"A\", \"Count\": 5.0, \"Flag\": false, \"Ratio\": 2,"
		      " \"Ids\": [\"i\"], \"code\": \"abc\", \"Nope\": {\"deep\": [1]}}"),
		"{\"Name\":\"x\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"Attrs\":{\"a\":"
		"\"b\"},\"Data\":\"hi\",\"When\":1767225600,\"Kind\":\"A\",\"Count\":5,"
		"\"Flag\":false,\"Ratio\":2,\"Ids\":[\"i\"],\"Code\":\"abc\"}");
	/* string timestamps, nulls dropped, NaN as a string for doubles */
	CHECK_S(j_dec(a, "DoThing",
		      "{\"Name\":\"x\",\"When\":\"2026-01-01T00:00:01Z\",\"Kind\":null,"
		      "\"Ratio\":\"NaN\"}"),
		"{\"Name\":\"x\",\"When\":1767225601,\"Ratio\":null}");
	arena_free(a);
}

TEST(proto_json_decode_empty_and_no_input)
{
	struct arena *a = arena_new(4096);
	CHECK_S(j_dec(a, "Empty", ""), "{}");
	CHECK_S(j_dec(a, "Empty", "garbage"), "{}"); /* no input shape: body unread */
	CHECK_S(j_dec(a, "DoThing", " \n"),
		"ERR 400 ValidationException: 1 validation error detected: Value null at "
		"'name' failed to satisfy constraint: Member must not be null");
	arena_free(a);
}

TEST(proto_json_decode_type_errors)
{
	struct arena *a = arena_new(4096);
	CHECK_S(j_dec(a, "DoThing", "{\"Name\": 5}"),
		"ERR 400 SerializationException: NUMBER_VALUE can not be converted to a String");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"Count\":\"5\"}"),
		"ERR 400 SerializationException: STRING_VALUE can not be converted to an "
		"Integer");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"Count\":5.5}"),
		"ERR 400 SerializationException: NUMBER_VALUE can not be converted to an "
		"Integer");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"Count\":4294967296}"),
		"ERR 400 SerializationException: NUMBER_VALUE can not be converted to an "
		"Integer");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"Flag\":1}"),
		"ERR 400 SerializationException: NUMBER_VALUE can not be converted to a Boolean");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":{}}"),
		"ERR 400 SerializationException: Start of structure or map found where not "
		"expected.");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"Tags\":{}}"),
		"ERR 400 SerializationException: Start of structure or map found where not "
		"expected.");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"Attrs\":[]}"),
		"ERR 400 SerializationException: Start of list found where not expected");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"Data\":\"a\"}"),
		"ERR 400 SerializationException: Base64 encoded value is malformed");
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"x\",\"When\":\"yesterday\"}"),
		"ERR 400 SerializationException: STRING_VALUE can not be converted to a Date");
	CHECK_S(j_dec(a, "DoThing", "[]"),
		"ERR 400 SerializationException: Start of list found where not expected");
	CHECK(strncmp(j_dec(a, "DoThing", "{\"Name\":"), "ERR 400 SerializationException: ", 32) ==
	      0);
	arena_free(a);
}

TEST(proto_json_validation_messages)
{
	struct arena *a = arena_new(4096);
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"\"}"),
		"ERR 400 ValidationException: 1 validation error detected: Value '' at 'name' "
		"failed to satisfy constraint: Member must have length greater than or equal to 1");
	CHECK_S(j_dec(a, "DoThing",
		      "{\"Name\":\"123456789\",\"Kind\":\"C\",\"Count\":0,"
		      "\"Tags\":[{\"Value\":\"v\"}],\"code\":\"AB\"}"),
		"ERR 400 ValidationException: 5 validation errors detected: Value '123456789' at "
		"'name' failed to satisfy constraint: Member must have length less than or equal "
		"to 8; Value null at 'tags.1.member.key' failed to satisfy constraint: Member "
		"must not be null; Value 'C' at 'kind' failed to satisfy constraint: Member must "
		"satisfy enum value set: [A, B]; Value '0' at 'count' failed to satisfy "
		"constraint: Member must have value greater than or equal to 1; Value 'AB' at "
		"'code' failed to satisfy constraint: Member must satisfy regular expression "
		"pattern: [a-z]+");
	/* lengths count UTF-16 units: 8 code points incl. one astral = 9 > 8 */
	CHECK(strstr(j_dec(a, "DoThing", "{\"Name\":\"1234567\\ud83d\\ude00\"}"),
		     "less than or equal to 8") != NULL);
	CHECK_S(j_dec(a, "DoThing", "{\"Name\":\"1234567\\u00e9\"}"),
		"{\"Name\":\"1234567\xc3\xa9\"}");
	arena_free(a);
}

TEST(proto_json_unknown_target)
{
	struct arena *a = arena_new(4096);
	struct treq t;
	mkreq(&t, "POST", "/", "{}", "X-Amz-Target", "Other.DoThing", NULL);
	CHECK_S(dec(a, &t_json, &t, NULL), "ERR 400 UnknownOperationException: ");
	mkreq(&t, "POST", "/", "{}", "X-Amz-Target", "TSvc.Nope", NULL);
	CHECK_S(dec(a, &t_json, &t, NULL), "ERR 400 UnknownOperationException: ");
	mkreq(&t, "POST", "/", "{}", NULL);
	CHECK_S(dec(a, &t_json, &t, NULL), "ERR 400 UnknownOperationException: ");
	arena_free(a);
}

TEST(proto_json_idempotency_token)
{
	struct arena *a = arena_new(4096);
	struct treq t;
	struct aws_call *c;
	mkreq(&t, "POST", "/", "{}", "X-Amz-Target", "TSvc.Idem", NULL);
	dec(a, &t_json, &t, &c);
	CHECK(jv_get_str(c->in, "Token") && strlen(jv_get_str(c->in, "Token")) == 36);
	CHECK_S(j_dec(a, "Idem", "{\"Token\":\"mine\"}"), "{\"Token\":\"mine\"}");
	arena_free(a);
}

TEST(proto_json_encode)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	CHECK_S(enc(a, &t_json, "DoThing", sample_out(a), &r),
		"{\"Name\":\"n<&>\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"Attrs\":{\"a\":"
		"\"1\"},\"Data\":\"aGk=\",\"When\":1767225600.5,\"Count\":3,\"Flag\":true,"
		"\"Ids\":[\"i-1\",\"i-2\"],\"Ratio\":0.25}");
	CHECK(r.status == 200);
	CHECK_S(r.content_type, "application/x-amz-json-1.1");
	CHECK(has_header(&r, "x-amzn-RequestId: rid-1\r\n"));
	resp_release(&r);
	CHECK_S(enc(a, &t_json, "Empty", NULL, &r), "{}");
	resp_release(&r);
	/* wrong types are left out, not written wrongly */
	struct jv *o = jv_object(a);
	jv_set_str(a, o, "Count", "x");
	jv_set_int(a, o, "Tags", 1);
	jv_set_double(a, o, "Ratio", INFINITY);
	jv_set_str(a, o, "When", "2026-01-01T00:00:00Z");
	CHECK_S(enc(a, &t_json, "DoThing", o, &r),
		"{\"When\":\"2026-01-01T00:00:00Z\",\"Ratio\":\"Infinity\"}");
	resp_release(&r);
	arena_free(a);
}

TEST(proto_json_error)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	struct aws_call *c = mkcall(a, &t_json);
	memset(&r, 0, sizeof(r));
	c->op = &t_ops[0];
	aws_fail(c, 404, "ResourceNotFoundException", "Secret %s not found", "x\"y");
	aws_fail(c, 500, "Later", "ignored: the first error wins");
	proto_encode(c, PW_JSON, &r);
	CHECK(r.status == 404);
	CHECK_S(
	    r.body.p,
	    "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Secret x\\\"y not found\"}");
	CHECK_S(r.content_type, "application/x-amz-json-1.1");
	CHECK(has_header(&r, "x-amzn-ErrorType: ResourceNotFoundException\r\n"));
	CHECK(has_header(&r, "x-amzn-RequestId: rid-1\r\n"));
	CHECK(!has_header(&r, "x-amzn-query-error"));
	resp_release(&r);
	arena_free(a);
}

/* ---- query ---- */

TEST(proto_query_decode_all_types)
{
	struct arena *a = arena_new(4096);
	CHECK_S(q_dec(a, &t_query,
		      "Action=DoThing&Version=2020-01-01&Name=a+b%21&Tags.member.2.Key=k2"
		      "&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Attrs.entry.1.key=x"
		      "&Attrs.entry.1.value=y&Data=aGk%3D&When=2026-01-01T00%3A00%3A00.500Z"
		      "&Kind=B&Count=7&Flag=TRUE&Ratio=80.0&Id.2=i-2&Id.1=i-1&code=z"
		      "&Unknown.member.1=x&Name.extra=1"),
		"{\"Name\":\"a b!\",\"Tags\":[{\"Key\":\"k1\",\"Value\":\"v1\"},{\"Key\":\"k2\"}],"
		"\"Attrs\":{\"x\":\"y\"},\"Data\":\"hi\",\"When\":1767225600.5,\"Kind\":\"B\","
		"\"Count\":7,\"Flag\":true,\"Ratio\":80,\"Ids\":[\"i-1\",\"i-2\"],\"Code\":\"z\"}");
	/* "Tags=" is an empty list; a repeated key wins; the URL query counts too */
	struct treq t;
	mkreq(&t, "POST", "/?Name=first", "Action=DoThing&Tags=&Name=second", NULL);
	CHECK_S(dec(a, &t_query, &t, NULL), "{\"Name\":\"second\",\"Tags\":[]}");
	mkreq(&t, "GET", "/?Action=DoThing&Name=get", "", NULL);
	CHECK_S(dec(a, &t_query, &t, NULL), "{\"Name\":\"get\"}");
	arena_free(a);
}

TEST(proto_query_decode_errors)
{
	struct arena *a = arena_new(4096);
	CHECK_S(q_dec(a, &t_query, "Action=DoThing&Name=x&Count=seven"),
		"ERR 400 MalformedInput: Invalid value 'seven' for parameter Count");
	CHECK_S(q_dec(a, &t_query, "Action=DoThing&Name=x&Count=99999999999"),
		"ERR 400 MalformedInput: Invalid value '99999999999' for parameter Count");
	CHECK_S(q_dec(a, &t_query, "Action=DoThing&Name=x&Flag=yes"),
		"ERR 400 MalformedInput: Invalid value 'yes' for parameter Flag");
	CHECK_S(q_dec(a, &t_query, "Action=DoThing&Name=x&Ratio=0x10"),
		"ERR 400 MalformedInput: Invalid value '0x10' for parameter Ratio");
	CHECK_S(q_dec(a, &t_query, "Action=DoThing&Name=%zz"),
		"ERR 400 MalformedInput: Malformed percent-encoding in parameter");
	CHECK_S(q_dec(a, &t_query, "Action=DoThing&Count=0&Kind=Z"),
		"ERR 400 ValidationError: 3 validation errors detected: Value null at 'name' "
		"failed to satisfy constraint: Member must not be null; Value 'Z' at 'kind' failed "
		"to satisfy constraint: Member must satisfy enum value set: [A, B]; Value '0' at "
		"'count' failed to satisfy constraint: Member must have value greater than or "
		"equal to 1");
	CHECK_S(q_dec(a, &t_query, "Version=2020-01-01"), "ERR 400 MissingAction: Missing Action");
	CHECK_S(q_dec(a, &t_query, "Action=Nope&Version=2020-01-01"),
		"ERR 400 InvalidAction: Could not find operation Nope for version 2020-01-01");
	arena_free(a);
}

TEST(proto_query_decode_sparse_and_hostile)
{
	struct arena *a = arena_new(4096);
	/* gaps are closed up, absurd indexes and malformed keys ignored */
	CHECK_S(q_dec(a, &t_query,
		      "Action=DoThing&Name=x&Tags.member.9.Key=b&Tags.member.3.Key=a"
		      "&Tags.member.0.Key=z&Tags.member.01.Key=z&Tags.member.9999999999.Key=z"
		      "&Tags.member..Key=z&Tags.item.1.Key=z&Attrs.entry.1.key=onlykey"
		      "&Attrs.entry.2.value=onlyvalue&.&..&Name.=&=x"),
		"{\"Name\":\"x\",\"Tags\":[{\"Key\":\"a\"},{\"Key\":\"b\"}],\"Attrs\":{}}");
	arena_free(a);
}

TEST(proto_query_encode)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	CHECK_S(enc(a, &t_query, "DoThing", sample_out(a), &r),
		"<DoThingResponse xmlns=\"http://tquery.amazonaws.com/doc/2020-01-01/\">"
		"<DoThingResult><Name>n&lt;&amp;&gt;</Name><Tags><member><Key>k</Key>"
		"<Value>v</Value></member></Tags><Attrs><entry><key>a</key><value>1</value>"
		"</entry></Attrs><Data>aGk=</Data><When>2026-01-01T00:00:00.500Z</When>"
		"<Count>3</Count><Flag>true</Flag><Id>i-1</Id><Id>i-2</Id><Ratio>0.25</Ratio>"
		"</DoThingResult><ResponseMetadata><RequestId>rid-1</RequestId>"
		"</ResponseMetadata></DoThingResponse>");
	CHECK(r.status == 200);
	CHECK_S(r.content_type, "text/xml");
	resp_release(&r);
	CHECK_S(enc(a, &t_query, "Empty", NULL, &r),
		"<EmptyResponse xmlns=\"http://tquery.amazonaws.com/doc/2020-01-01/\">"
		"<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>"
		"</EmptyResponse>");
	resp_release(&r);
	/* an op with output but no handler output: an empty result element */
	CHECK_S(enc(a, &t_query, "DoThing", NULL, &r),
		"<DoThingResponse xmlns=\"http://tquery.amazonaws.com/doc/2020-01-01/\">"
		"<DoThingResult></DoThingResult><ResponseMetadata><RequestId>rid-1</RequestId>"
		"</ResponseMetadata></DoThingResponse>");
	resp_release(&r);
	arena_free(a);
}

TEST(proto_query_error)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	struct aws_call *c = mkcall(a, &t_query);
	memset(&r, 0, sizeof(r));
	aws_fail(c, 503, "ServiceUnavailable", "busy <now>");
	proto_encode(c, PW_QUERY, &r);
	CHECK(r.status == 503);
	CHECK_S(r.body.p, "<ErrorResponse xmlns=\"http://tquery.amazonaws.com/doc/2020-01-01/\">"
			  "<Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
			  "<Message>busy &lt;now&gt;</Message></Error><RequestId>rid-1</RequestId>"
			  "</ErrorResponse>");
	CHECK_S(r.content_type, "text/xml");
	resp_release(&r);
	arena_free(a);
}

/* ---- ec2 ---- */

TEST(proto_ec2_decode)
{
	struct arena *a = arena_new(4096);
	/* lists are Name.N (never .member), flattened or not */
	CHECK_S(q_dec(a, &t_ec2,
		      "Action=DoThing&Version=2020-01-01&Name=x&Tags.1.Key=k&Tags.2.Key=j"
		      "&Ids.1=i-1&Code=abc&Tags.member.1.Key=no"),
		"{\"Name\":\"x\",\"Tags\":[{\"Key\":\"k\"},{\"Key\":\"j\"}],\"Ids\":[\"i-1\"],"
		"\"Code\":\"abc\"}");
	CHECK_S(q_dec(a, &t_ec2, "Action=DoThing&Version=2020-01-01"),
		"ERR 400 MissingParameter: The request must contain the parameter Name");
	CHECK_S(q_dec(a, &t_ec2, "Action=DoThing&Name=x&Kind=Q"),
		"ERR 400 InvalidParameterValue: Value (Q) for parameter Kind is invalid. Member "
		"must satisfy enum value set: [A, B]");
	CHECK_S(q_dec(a, &t_ec2, "Action=DoThing&Name=x&Count=x"),
		"ERR 400 InvalidParameterValue: Invalid value 'x' for parameter Count");
	arena_free(a);
}

TEST(proto_ec2_encode_and_error)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	CHECK_S(enc(a, &t_ec2, "DoThing", sample_out(a), &r),
		"<DoThingResponse xmlns=\"http://tec2.amazonaws.com/doc/2020-01-01/\">"
		"<requestId>rid-1</requestId><Name>n&lt;&amp;&gt;</Name><Tags><member><Key>k"
		"</Key><Value>v</Value></member></Tags><Attrs><entry><key>a</key><value>1"
		"</value></entry></Attrs><Data>aGk=</Data><When>2026-01-01T00:00:00.500Z</When>"
		"<Count>3</Count><Flag>true</Flag><Id>i-1</Id><Id>i-2</Id><Ratio>0.25</Ratio>"
		"</DoThingResponse>");
	resp_release(&r);
	memset(&r, 0, sizeof(r));
	proto_error(&r, PW_EC2, &t_ec2, 400, "InvalidGroup.NotFound", "no sg-1", "rid-2", 0);
	CHECK_S(r.body.p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
			  "<Code>InvalidGroup.NotFound</Code><Message>no sg-1</Message></Error>"
			  "</Errors><RequestID>rid-2</RequestID></Response>");
	CHECK(r.status == 400);
	resp_release(&r);
	arena_free(a);
}

/* ---- rest-xml: a small S3-like service ---- */

enum {
	R_GET_IN,
	R_GET_OUT,
	R_STR,
	R_BODY,
	R_TS,
	R_META,
	R_LIST_IN,
	R_LIST_OUT,
	R_INT,
	R_OBJLIST,
	R_OBJ,
	R_PUT_IN,
	R_PART_IN,
	R_CONF_IN,
	R_CONF,
	R_RULES,
	R_RULE,
	R_BOOL,
	R_LONG,
	R_N
};

static const struct model_member r_members[] = {
    /* 0: GetIn */
    MEM("Bucket", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Key", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("VersionId", R_STR, .location = ML_QUERY, .loc_name = "versionId"),
    MEM("IfModifiedSince", R_TS, .location = ML_HEADER, .loc_name = "If-Modified-Since"),
    /* 4: GetOut */
    MEM("Body", R_BODY, .flags = MF_PAYLOAD),
    MEM("ETag", R_STR, .location = ML_HEADER, .loc_name = "ETag"),
    MEM("ContentType", R_STR, .location = ML_HEADER, .loc_name = "Content-Type"),
    MEM("LastModified", R_TS, .location = ML_HEADER, .loc_name = "Last-Modified"),
    MEM("Metadata", R_META, .location = ML_HEADERS, .loc_name = "x-amz-meta-"),
    /* 9: Meta map */
    MEM("key", R_STR),
    MEM("value", R_STR),
    /* 11: ListIn */
    MEM("Bucket", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Prefix", R_STR, .location = ML_QUERY, .loc_name = "prefix"),
    MEM("MaxKeys", R_INT, .location = ML_QUERY, .loc_name = "max-keys"),
    /* 14: ListOut */
    MEM("Name", R_STR),
    MEM("Contents", R_OBJLIST, .flags = MF_FLATTENED),
    MEM("KeyCount", R_INT),
    /* 17: ObjList item */
    MEM("member", R_OBJ),
    /* 18: Obj */
    MEM("Key", R_STR),
    MEM("Size", R_LONG),
    /* 20: PutIn */
    MEM("Bucket", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Key", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Body", R_BODY, .flags = MF_PAYLOAD),
    MEM("Metadata", R_META, .location = ML_HEADERS, .loc_name = "x-amz-meta-"),
    MEM("ContentLength", R_LONG, .location = ML_HEADER, .loc_name = "Content-Length"),
    /* 25: PartIn */
    MEM("Bucket", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Key", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("PartNumber", R_INT, .location = ML_QUERY, .loc_name = "partNumber", .flags = MF_REQUIRED),
    MEM("UploadId", R_STR, .location = ML_QUERY, .loc_name = "uploadId", .flags = MF_REQUIRED),
    /* 29: ConfIn */
    MEM("Bucket", R_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Conf", R_CONF, .loc_name = "Conf", .xml_ns = "http://s3.amazonaws.com/doc/2006-03-01/",
	.flags = MF_PAYLOAD | MF_REQUIRED),
    /* 31: Conf */
    MEM("Rules", R_RULES, .loc_name = "Rule", .flags = MF_FLATTENED),
    MEM("Owner", R_STR, .loc_name = "owner", .flags = MF_XML_ATTRIBUTE),
    /* 33: Rules item */
    MEM("member", R_RULE),
    /* 34: Rule */
    MEM("ID", R_STR),
    MEM("Enabled", R_BOOL),
};

static const struct model_shape r_shapes[R_N] = {
    [R_GET_IN] = SHAPE("GetIn", MT_STRUCTURE, .members = 0, .nmembers = 4),
    [R_GET_OUT] = SHAPE("GetOut", MT_STRUCTURE, .members = 4, .nmembers = 5),
    [R_STR] = SHAPE("Str", MT_STRING),
    [R_BODY] = SHAPE("Body", MT_BLOB, .flags = SF_STREAMING),
    [R_TS] = SHAPE("Ts", MT_TIMESTAMP),
    [R_META] = SHAPE("Meta", MT_MAP, .members = 9, .nmembers = 2),
    [R_LIST_IN] = SHAPE("ListIn", MT_STRUCTURE, .members = 11, .nmembers = 3),
    [R_LIST_OUT] = SHAPE("ListOut", MT_STRUCTURE, .members = 14, .nmembers = 3,
			 .loc_name = "ListBucketResult"),
    [R_INT] = SHAPE("Int", MT_INTEGER),
    [R_OBJLIST] = SHAPE("ObjList", MT_LIST, .members = 17, .nmembers = 1),
    [R_OBJ] = SHAPE("Obj", MT_STRUCTURE, .members = 18, .nmembers = 2),
    [R_PUT_IN] = SHAPE("PutIn", MT_STRUCTURE, .members = 20, .nmembers = 5),
    [R_PART_IN] = SHAPE("PartIn", MT_STRUCTURE, .members = 25, .nmembers = 4),
    [R_CONF_IN] = SHAPE("ConfIn", MT_STRUCTURE, .members = 29, .nmembers = 2),
    [R_CONF] = SHAPE("Conf", MT_STRUCTURE, .members = 31, .nmembers = 2),
    [R_RULES] = SHAPE("Rules", MT_LIST, .members = 33, .nmembers = 1),
    [R_RULE] = SHAPE("Rule", MT_STRUCTURE, .members = 34, .nmembers = 2),
    [R_BOOL] = SHAPE("Bool", MT_BOOLEAN),
    [R_LONG] = SHAPE("Long", MT_LONG),
};

static const struct model_op r_ops[] = {
    {.name = "CreateUpload",
     .http_method = "POST",
     .request_uri = "/{Bucket}/{Key+}?uploads",
     .input = R_GET_IN,
     .output = -1,
     .http_status = 200},
    {.name = "GetObj",
     .http_method = "GET",
     .request_uri = "/{Bucket}/{Key+}",
     .input = R_GET_IN,
     .output = R_GET_OUT,
     .http_status = 200},
    {.name = "ListBuckets",
     .http_method = "GET",
     .request_uri = "/",
     .input = -1,
     .output = -1,
     .http_status = 200},
    {.name = "ListObjs",
     .http_method = "GET",
     .request_uri = "/{Bucket}",
     .input = R_LIST_IN,
     .output = R_LIST_OUT,
     .http_status = 200},
    {.name = "ListObjsV2",
     .http_method = "GET",
     .request_uri = "/{Bucket}?list-type=2",
     .input = R_LIST_IN,
     .output = R_LIST_OUT,
     .http_status = 200},
    {.name = "PutConf",
     .http_method = "PUT",
     .request_uri = "/{Bucket}?conf",
     .input = R_CONF_IN,
     .output = -1,
     .http_status = 204},
    {.name = "PutObj",
     .http_method = "PUT",
     .request_uri = "/{Bucket}/{Key+}",
     .input = R_PUT_IN,
     .output = -1,
     .http_status = 200},
    {.name = "UploadPart",
     .http_method = "PUT",
     .request_uri = "/{Bucket}/{Key+}",
     .input = R_PART_IN,
     .output = -1,
     .http_status = 200},
};

static const struct model_service t_rest = {
    .id = "s3",
    .service_id = "S3",
    .api_version = "2006-03-01",
    .protocol = MP_REST_XML,
    .endpoint_prefix = "s3",
    .ops = r_ops,
    .nops = FB_ARRAY_LEN(r_ops),
    .shapes = r_shapes,
    .nshapes = R_N,
    .members = r_members,
};

/* r_op: the name of the op <req> matches, or "-". */
static const char *r_op(const char *method, const char *target)
{
	struct treq t;
	const struct model_op *op;
	mkreq(&t, method, target, "", "partNumber", "header-not-query", NULL);
	op = proto_rest_match(&t_rest, &t.req);
	return op ? op->name : "-";
}

TEST(proto_rest_match)
{
	CHECK_S(r_op("GET", "/"), "ListBuckets");
	CHECK_S(r_op("GET", "/b"), "ListObjs");
	CHECK_S(r_op("GET", "/b/"), "ListObjs");
	CHECK_S(r_op("GET", "/b?list-type=2&prefix=x"), "ListObjsV2");
	CHECK_S(r_op("GET", "/b?list-type=1"), "ListObjs");
	CHECK_S(r_op("GET", "/b/k"), "GetObj");
	CHECK_S(r_op("GET", "/b/dir/a%20b"), "GetObj");
	CHECK_S(r_op("PUT", "/b/k"), "PutObj");
	CHECK_S(r_op("PUT", "/b/k?partNumber=1&uploadId=u"), "UploadPart");
	CHECK_S(r_op("PUT", "/b/k?partNumber=1"), "PutObj");
	CHECK_S(r_op("POST", "/b/k?uploads"), "CreateUpload");
	CHECK_S(r_op("POST", "/b/k"), "-");
	CHECK_S(r_op("PUT", "/b?conf"), "PutConf");
	CHECK_S(r_op("DELETE", "/b"), "-");
	CHECK_S(r_op("GET", "//k"), "-");
}

TEST(proto_rest_xml_decode)
{
	struct arena *a = arena_new(4096);
	struct treq t;
	mkreq(&t, "GET", "/b/dir/a%20b%2Bc.txt?versionId=v%2F1", "", "If-Modified-Since",
	      "Thu, 01 Jan 2026 00:00:00 GMT", NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"{\"Bucket\":\"b\",\"Key\":\"dir/a b+c.txt\",\"VersionId\":\"v/1\","
		"\"IfModifiedSince\":1767225600}");
	mkreq(&t, "PUT", "/b/k", "hello world\n", "Content-Length", "12", "X-Amz-Meta-Color", "red",
	      "x-amz-meta-k", "v", NULL);
	/* a streaming payload (Body) stays in the request for the handler,
	 * which may take a spooled body file instead of copying it */
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"{\"Bucket\":\"b\",\"Key\":\"k\",\"Metadata\":{\"color\":\"red\",\"k\":\"v\"},"
		"\"ContentLength\":12}");
	mkreq(&t, "GET", "/b?list-type=2&prefix=a%2Fb&max-keys=10&encoding-type=url", "", NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL), "{\"Bucket\":\"b\",\"Prefix\":\"a/b\",\"MaxKeys\":10}");
	mkreq(&t, "GET", "/b?max-keys=ten", "", NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"ERR 400 InvalidArgument: Invalid value 'ten' for MaxKeys");
	mkreq(&t, "PUT", "/b/k?partNumber=2&uploadId=u1", "", NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"{\"Bucket\":\"b\",\"Key\":\"k\",\"PartNumber\":2,\"UploadId\":\"u1\"}");
	arena_free(a);
}

TEST(proto_rest_xml_decode_payload)
{
	struct arena *a = arena_new(4096);
	struct treq t;
	mkreq(&t, "PUT", "/b?conf",
	      "<?xml version=\"1.0\"?><Conf xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\" "
	      "owner=\"me\"><Rule><ID>r1</ID><Enabled> true </Enabled></Rule><Other/>"
	      "<Rule><ID> r2 </ID></Rule></Conf>",
	      NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"{\"Bucket\":\"b\",\"Conf\":{\"Owner\":\"me\",\"Rules\":[{\"ID\":\"r1\","
		"\"Enabled\":true},{\"ID\":\" r2 \"}]}}");
	mkreq(&t, "PUT", "/b?conf", "<Conf><Rule><Enabled>maybe</Enabled></Rule></Conf>", NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"ERR 400 MalformedXML: The XML you provided was not well-formed or did not "
		"validate against our published schema");
	mkreq(&t, "PUT", "/b?conf", "<Conf><Rule>", NULL);
	CHECK(strncmp(dec(a, &t_rest, &t, NULL), "ERR 400 MalformedXML", 20) == 0);
	mkreq(&t, "PUT", "/b?conf", "", NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"ERR 400 InvalidArgument: 1 validation error detected: Value null at 'conf' "
		"failed to satisfy constraint: Member must not be null");
	arena_free(a);
}

TEST(proto_rest_xml_encode)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	struct jv *o = jv_object(a), *meta = jv_object(a), *list = jv_array(a), *obj = jv_object(a);
	jv_set_strn(a, o, "Body", "raw\0bytes", 9);
	jv_set_str(a, o, "ETag", "\"abc\"");
	jv_set_str(a, o, "ContentType", "text/plain");
	jv_set_double(a, o, "LastModified", 1767225600);
	jv_set_str(a, meta, "color", "red\r\nX-Evil: 1");
	jv_set(a, o, "Metadata", meta);
	CHECK(memcmp(enc(a, &t_rest, "GetObj", o, &r), "raw\0bytes", 9) == 0);
	CHECK(r.body.n == 9);
	CHECK(r.status == 200);
	CHECK_S(r.content_type, "text/plain");
	CHECK(has_header(&r, "ETag: \"abc\"\r\n"));
	CHECK(has_header(&r, "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n"));
	CHECK(has_header(&r, "x-amz-meta-color: red  X-Evil: 1\r\n"));
	CHECK(has_header(&r, "x-amz-request-id: rid-1\r\n"));
	resp_release(&r);

	o = jv_object(a);
	jv_set_str(a, o, "Name", "b");
	jv_set_str(a, obj, "Key", "k");
	jv_set_int(a, obj, "Size", 12);
	jv_push(a, list, obj);
	jv_push(a, list, obj);
	jv_set(a, o, "Contents", list);
	jv_set_int(a, o, "KeyCount", 2);
	CHECK_S(enc(a, &t_rest, "ListObjsV2", o, &r),
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3."
		"amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Contents><Key>k</Key><Size>12"
		"</Size></Contents><Contents><Key>k</Key><Size>12</Size></Contents><KeyCount>2"
		"</KeyCount></ListBucketResult>");
	CHECK_S(r.content_type, "application/xml");
	resp_release(&r);
	CHECK_S(enc(a, &t_rest, "PutConf", NULL, &r), "");
	CHECK(r.status == 204);
	resp_release(&r);
	arena_free(a);
}

TEST(proto_rest_xml_errors)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	struct treq t;
	memset(&r, 0, sizeof(r));
	proto_error(&r, PW_REST_XML, &t_rest, 404, "NoSuchKey", "The specified key does not exist.",
		    "rid-3", 0);
	CHECK_S(r.body.p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey"
			  "</Code><Message>The specified key does not exist.</Message>"
			  "<RequestId>rid-3</RequestId></Error>");
	CHECK_S(r.content_type, "application/xml");
	CHECK(r.status == 404);
	resp_release(&r);
	mkreq(&t, "DELETE", "/b", "", NULL);
	CHECK_S(dec(a, &t_rest, &t, NULL),
		"ERR 405 MethodNotAllowed: The specified method is not allowed against this "
		"resource.");
	arena_free(a);
}

/* ---- patterns ---- */

TEST(proto_pattern)
{
#define PM(pat, s) proto_pattern_match(pat, s, strlen(s))
	CHECK(PM("[\\w+=,.@-]+", "role-name_1@x.y") == 1);
	CHECK(PM("[\\w+=,.@-]+", "role name") == 0);
	CHECK(PM("[\\w+=,.@-]+", "") == 0);
	CHECK(PM("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", "{\"a\": \"\xc3\xa9\"}\n") == 1);
	CHECK(PM("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", "\xe2\x82\xac") == 0);
	CHECK(PM("^[a-zA-Z0-9-_]{1,64}$", "abc-_9") == 1);
	CHECK(PM("^[a-zA-Z0-9-_]{1,64}$", "") == 0);
	CHECK(PM("^\\d{12}$", "000000000000") == 1);
	CHECK(PM("^\\d{12}$", "00000000000") == 0);
	CHECK(PM(".*\\S.*", "   x  ") == 1);
	CHECK(PM(".*\\S.*", "   ") == 0);
	CHECK(PM("[^:*]*", "a:b") == 0);
	CHECK(PM("arn:aws:[a-z]+", "arn:aws:iam") == 1);
	CHECK(PM("a?b*c+", "c") == 1);
	CHECK(PM("a?b*c+", "abbcc") == 1);
	CHECK(PM("a?b*c+", "aab") == 0);
	CHECK(PM("[\\x20-\\x7E]+", "ok ~") == 1);
	/* undecidable: groups, alternation, \p, surrogates, bad UTF-8 */
	CHECK(PM("^([a-z]+)$", "a") == -1);
	CHECK(PM("a|b", "a") == -1);
	CHECK(PM("[\\p{L}]+", "a") == -1);
	CHECK(PM("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF]*", "a") == -1);
	CHECK(PM("[a-z]+", "\xff") == -1);
	CHECK(PM("[z-a]", "a") == -1);
	CHECK(PM("x{1,999}", "x") == -1);
#undef PM
}

/* ---- generated models (aws-protocols.md §5 and §7) ---- */

/* g_dec: decodes a form body for service <id>. */
static const char *g_dec(struct arena *a, const char *id, const char *body)
{
	const struct model_service *svc = model_find_service(id);
	if (!svc)
		return "no service";
	return q_dec(a, svc, body);
}

TEST(proto_real_query_decodes)
{
	struct arena *a = arena_new(8192);
	CHECK_S(g_dec(a, "sts", "Action=GetCallerIdentity&Version=2011-06-15"), "{}");
	CHECK_S(
	    g_dec(a, "elbv2",
		  "Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=arn%3Aaws%3A"
		  "elasticloadbalancing%3Aus-east-1%3A000000000000%3Atargetgroup%2Ft%2F1&Targets."
		  "member.1.Id=i-1&Targets.member.1.Port=80&Targets.member.2.Id=i-2"),
	    "{\"TargetGroupArn\":\"arn:aws:elasticloadbalancing:us-east-1:000000000000:"
	    "targetgroup/t/1\",\"Targets\":[{\"Id\":\"i-1\",\"Port\":80},{\"Id\":\"i-2\"}]}");
	CHECK_S(g_dec(a, "sns",
		      "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A"
		      "000000000000%3At&Message=hi&MessageAttributes.entry.1.Name=k&Message"
		      "Attributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value."
		      "StringValue=v"),
		"{\"TopicArn\":\"arn:aws:sns:us-east-1:000000000000:t\",\"Message\":\"hi\","
		"\"MessageAttributes\":{\"k\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}}");
	CHECK_S(g_dec(a, "cloudwatch",
		      "Action=PutMetricData&Version=2010-08-01&Namespace=App&MetricData.member.1."
		      "MetricName=m&MetricData.member.1.Value=1.5&MetricData.member.1.Unit=Count&"
		      "MetricData.member.1.Dimensions.member.1.Name=svc&MetricData.member.1."
		      "Dimensions.member.1.Value=api"),
		"{\"Namespace\":\"App\",\"MetricData\":[{\"MetricName\":\"m\",\"Value\":1.5,"
		"\"Unit\":\"Count\",\"Dimensions\":[{\"Name\":\"svc\",\"Value\":\"api\"}]}]}");
	CHECK_S(g_dec(a, "ec2",
		      "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&"
		      "Filter.1.Value.1=web&Filter.1.Value.2=db&InstanceId.1=i-1&InstanceId.2=i-2"),
		"{\"Filters\":[{\"Name\":\"tag:Name\",\"Values\":[\"web\",\"db\"]}],"
		"\"InstanceIds\":[\"i-1\",\"i-2\"]}");
	CHECK_S(g_dec(a, "ec2", "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-1"),
		"{\"GroupIds\":[\"sg-1\"]}");
	CHECK_S(g_dec(a, "iam",
		      "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B"
		      "%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D&Tags.member."
		      "1.Key=a&Tags.member.1.Value=b"),
		"{\"RoleName\":\"r\",\"AssumeRolePolicyDocument\":\"{\\\"Version\\\":\\\"2012-"
		"10-17\\\",\\\"Statement\\\":[]}\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"b\"}]}");
	CHECK_S(g_dec(a, "cloudwatch",
		      "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=a&MetricName=CPU"
		      "Utilization&Namespace=AWS%2FECS&Statistic=Average&Period=60&Evaluation"
		      "Periods=1&Threshold=80.0&ComparisonOperator=GreaterThanThreshold"),
		"{\"AlarmName\":\"a\",\"MetricName\":\"CPUUtilization\",\"Namespace\":\"AWS/ECS\","
		"\"Statistic\":\"Average\",\"Period\":60,\"EvaluationPeriods\":1,\"Threshold\":80,"
		"\"ComparisonOperator\":\"GreaterThanThreshold\"}");
	/* IAM validates role names against its pattern */
	CHECK_S(g_dec(a, "iam",
		      "Action=CreateRole&Version=2010-05-08&RoleName=a%20b&"
		      "AssumeRolePolicyDocument=x"),
		"ERR 400 ValidationError: 1 validation error detected: Value 'a b' at 'roleName' "
		"failed to satisfy constraint: Member must satisfy regular expression pattern: "
		"[\\w+=,.@-]+");
	arena_free(a);
}

TEST(proto_real_json)
{
	struct arena *a = arena_new(8192);
	const struct model_service *sm = model_find_service("secretsmanager");
	struct treq t;
	CHECK(sm != NULL);
	if (!sm) {
		arena_free(a);
		return;
	}
	mkreq(&t, "POST", "/", "{\"SecretId\": \"x\"}", "X-Amz-Target",
	      "secretsmanager.GetSecretValue", NULL);
	CHECK_S(dec(a, sm, &t, NULL), "{\"SecretId\":\"x\"}");
	mkreq(&t, "POST", "/", "{}", "X-Amz-Target", "secretsmanager.GetSecretValue", NULL);
	CHECK_S(dec(a, sm, &t, NULL),
		"ERR 400 ValidationException: 1 validation error detected: Value null at "
		"'secretId' failed to satisfy constraint: Member must not be null");
	struct aws_call *c;
	mkreq(&t, "POST", "/", "{\"Name\": \"n\", \"SecretBinary\": \"aGk=\"}", "X-Amz-Target",
	      "secretsmanager.CreateSecret", NULL);
	CHECK(strncmp(dec(a, sm, &t, &c), "{", 1) == 0);
	CHECK(jv_get_str(c->in, "ClientRequestToken") != NULL); /* idempotency token */
	CHECK_S(jv_get_str(c->in, "SecretBinary"), "hi");
	arena_free(a);
}

TEST(proto_real_query_compatible_json)
{
	struct arena *a = arena_new(8192);
	const struct model_service *sqs = model_find_service("sqs");
	struct http_response r;
	struct treq t;
	struct aws_call *c;
	CHECK(sqs != NULL);
	if (!sqs) {
		arena_free(a);
		return;
	}
	mkreq(&t, "POST", "/", "{\"QueueName\": \"q\"}", "X-Amz-Target", "AmazonSQS.GetQueueUrl",
	      "x-amzn-query-mode", "true", NULL);
	CHECK(proto_wire_of(sqs, &t.req) == PW_JSON);
	CHECK_S(dec(a, sqs, &t, &c), "{\"QueueName\":\"q\"}");
	jv_set_str(a, aws_out(c), "QueueUrl", "http://x/000000000000/q");
	memset(&r, 0, sizeof(r));
	proto_encode(c, PW_JSON, &r);
	CHECK_S(r.body.p, "{\"QueueUrl\":\"http://x/000000000000/q\"}");
	CHECK_S(r.content_type, "application/x-amz-json-1.0");
	resp_release(&r);
	c->err_code = NULL;
	aws_fail(c, 400, "AWS.SimpleQueueService.NonExistentQueue", "no queue");
	memset(&r, 0, sizeof(r));
	proto_encode(c, PW_JSON, &r);
	CHECK(has_header(&r,
			 "x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender\r\n"));
	CHECK_S(r.body.p, "{\"__type\":\"QueueDoesNotExist\",\"message\":\"no queue\"}");
	resp_release(&r);
	/* the same service in query form */
	mkreq(&t, "POST", "/", "Action=GetQueueUrl&Version=2012-11-05&QueueName=q", NULL);
	CHECK(proto_wire_of(sqs, &t.req) == PW_QUERY);
	CHECK_S(dec(a, sqs, &t, NULL), "{\"QueueName\":\"q\"}");
	arena_free(a);
}

TEST(proto_real_encode_sts)
{
	struct arena *a = arena_new(8192);
	struct http_response r;
	struct jv *o = jv_object(a);
	const struct model_service *sts = model_find_service("sts");
	CHECK(sts != NULL);
	if (!sts) {
		arena_free(a);
		return;
	}
	jv_set_str(a, o, "Arn", "arn:aws:iam::000000000000:user/test");
	jv_set_str(a, o, "UserId", "AIDAEXAMPLE");
	jv_set_str(a, o, "Account", "000000000000");
	CHECK_S(enc(a, sts, "GetCallerIdentity", o, &r),
		"<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
		"<GetCallerIdentityResult><UserId>AIDAEXAMPLE</UserId><Account>000000000000"
		"</Account><Arn>arn:aws:iam::000000000000:user/test</Arn>"
		"</GetCallerIdentityResult><ResponseMetadata><RequestId>rid-1</RequestId>"
		"</ResponseMetadata></GetCallerIdentityResponse>");
	resp_release(&r);
	arena_free(a);
}

TEST(proto_real_encode_ec2)
{
	struct arena *a = arena_new(8192);
	struct http_response r;
	const struct model_service *ec2 = model_find_service("ec2");
	struct jv *o = jv_object(a), *groups = jv_array(a), *g = jv_object(a);
	struct jv *perms = jv_array(a), *p = jv_object(a), *ranges = jv_array(a),
		  *rg = jv_object(a);
	CHECK(ec2 != NULL);
	if (!ec2) {
		arena_free(a);
		return;
	}
	jv_set_str(a, g, "OwnerId", "000000000000");
	jv_set_str(a, g, "GroupId", "sg-1");
	jv_set_str(a, rg, "CidrIp", "0.0.0.0/0");
	jv_push(a, ranges, rg);
	jv_set_str(a, p, "IpProtocol", "tcp");
	jv_set_int(a, p, "FromPort", 443);
	jv_set(a, p, "IpRanges", ranges);
	jv_push(a, perms, p);
	jv_set(a, g, "IpPermissions", perms);
	jv_set(a, g, "IpPermissionsEgress", jv_array(a));
	jv_push(a, groups, g);
	jv_set(a, o, "SecurityGroups", groups);
	const char *body = enc(a, ec2, "DescribeSecurityGroups", o, &r);
	CHECK(strstr(body, "<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/"
			   "2016-11-15/\"><requestId>rid-1</requestId><securityGroupInfo><item>") ==
	      body);
	CHECK(strstr(body, "<ipPermissions><item><fromPort>443</fromPort><ipProtocol>tcp"
			   "</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item>"
			   "</ipRanges></item></ipPermissions>") != NULL);
	CHECK(strstr(body, "<ipPermissionsEgress/>") != NULL);
	CHECK(strstr(body, "<groupId>sg-1</groupId>") != NULL);
	resp_release(&r);
	arena_free(a);
}

TEST(proto_real_rest)
{
	struct arena *a = arena_new(8192);
	const struct model_service *s3 = model_find_service("s3");
	const struct model_service *cf = model_find_service("cloudfront");
	struct treq t;
	struct aws_call *c;
	CHECK(s3 && cf);
	if (!s3 || !cf) {
		arena_free(a);
		return;
	}
	mkreq(&t, "GET",
	      "/mybucket?list-type=2&prefix=some%2Fprefix%2F&delimiter=%2F&encoding-type=url", "",
	      NULL);
	CHECK_S(dec(a, s3, &t, &c),
		"{\"Bucket\":\"mybucket\",\"Prefix\":\"some/prefix/\",\"Delimiter\":\"/\","
		"\"EncodingType\":\"url\"}");
	CHECK_S(c->op->name, "ListObjectsV2");
	mkreq(&t, "GET", "/", "", NULL);
	dec(a, s3, &t, &c);
	CHECK(c->op && !strcmp(c->op->name, "ListBuckets"));
	mkreq(&t, "PUT", "/mybucket/dir/a%20b%2Bc.txt", "hello", "Content-Type", "text/plain",
	      "x-amz-meta-k", "v", NULL);
	dec(a, s3, &t, &c);
	CHECK(c->op && !strcmp(c->op->name, "PutObject"));
	CHECK_S(jv_get_str(c->in, "Key"), "dir/a b+c.txt");
	CHECK_S(jv_get_str(c->in, "ContentType"), "text/plain");
	CHECK_S(jv_get_str(jv_get(c->in, "Metadata"), "k"), "v");
	CHECK(jv_get(c->in, "Body") == NULL); /* streaming: read from c->http */
	CHECK(c->http && c->http->body.n == 5 && !memcmp(c->http->body.p, "hello", 5));
	mkreq(&t, "PUT", "/b/k?partNumber=3&uploadId=u", "x", NULL);
	dec(a, s3, &t, &c);
	CHECK(c->op && !strcmp(c->op->name, "UploadPart"));
	mkreq(&t, "PUT", "/b/k", "", "x-amz-copy-source", "/a/b", NULL);
	dec(a, s3, &t, &c);
	CHECK(c->op && !strcmp(c->op->name, "CopyObject"));
	mkreq(&t, "POST", "/2020-05-31/distribution/E123/invalidation",
	      "<InvalidationBatch xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">"
	      "<CallerReference>cli-1</CallerReference><Paths><Quantity>1</Quantity><Items>"
	      "<Path>/*</Path></Items></Paths></InvalidationBatch>",
	      NULL);
	CHECK_S(dec(a, cf, &t, &c),
		"{\"DistributionId\":\"E123\",\"InvalidationBatch\":{\"CallerReference\":"
		"\"cli-1\",\"Paths\":{\"Quantity\":1,\"Items\":[\"/*\"]}}}");
	arena_free(a);
}

TEST(proto_real_sqs_flattened)
{
	struct arena *a = arena_new(8192);
	const struct model_service *sqs = model_find_service("sqs");
	struct http_response r;
	struct treq t;
	struct aws_call *c;
	CHECK(sqs != NULL);
	if (!sqs) {
		arena_free(a);
		return;
	}
	/* flattened map with Name/Value locationNames; flattened list with a named item */
	CHECK_S(
	    q_dec(a, sqs,
		  "Action=SetQueueAttributes&Version=2012-11-05&QueueUrl=u&Attribute.1.Name="
		  "DelaySeconds&Attribute.1.Value=5&Attribute.2.Name=Policy&Attribute.2.Value=p"),
	    "{\"QueueUrl\":\"u\",\"Attributes\":{\"DelaySeconds\":\"5\",\"Policy\":\"p\"}}");
	CHECK_S(
	    q_dec(a, sqs,
		  "Action=ReceiveMessage&Version=2012-11-05&QueueUrl=u&AttributeName.1=All&"
		  "MessageAttributeName.1=a&MaxNumberOfMessages=2"),
	    "{\"QueueUrl\":\"u\",\"AttributeNames\":[\"All\"],\"MessageAttributeNames\":[\"a\"],"
	    "\"MaxNumberOfMessages\":2}");
	/* the same in JSON: member names, not the query locationNames */
	mkreq(&t, "POST", "/", "{\"QueueUrl\":\"u\",\"Attributes\":{\"DelaySeconds\":\"5\"}}",
	      "X-Amz-Target", "AmazonSQS.SetQueueAttributes", NULL);
	CHECK_S(dec(a, sqs, &t, NULL),
		"{\"QueueUrl\":\"u\",\"Attributes\":{\"DelaySeconds\":\"5\"}}");

	struct jv *o = jv_object(a), *msgs = jv_array(a), *m = jv_object(a), *at = jv_object(a);
	jv_set_str(a, m, "MessageId", "m1");
	jv_set_str(a, m, "Body", "b");
	jv_set_str(a, at, "SenderId", "s");
	jv_set(a, m, "Attributes", at);
	jv_push(a, msgs, m);
	jv_set(a, o, "Messages", msgs);
	CHECK_S(enc(a, sqs, "ReceiveMessage", o, &r),
		"<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
		"<ReceiveMessageResult><Message><MessageId>m1</MessageId><Body>b</Body><Attribute>"
		"<Name>SenderId</Name><Value>s</Value></Attribute></Message></ReceiveMessageResult>"
		"<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>"
		"</ReceiveMessageResponse>");
	resp_release(&r);
	c = mkcall(a, sqs);
	c->op = model_find_op(sqs, "ReceiveMessage", 14);
	c->out = o;
	memset(&r, 0, sizeof(r));
	proto_encode(c, PW_JSON, &r);
	CHECK_S(r.body.p, "{\"Messages\":[{\"MessageId\":\"m1\",\"Body\":\"b\",\"Attributes\":"
			  "{\"SenderId\":\"s\"}}]}");
	resp_release(&r);
	arena_free(a);
}

TEST(proto_wire_and_error_edges)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	struct treq t;
	mkreq(&t, "POST", "/", "", "X-Amz-Target", "x.y", NULL);
	CHECK(proto_wire_of(&t_query, &t.req) == PW_QUERY); /* not query-compatible */
	CHECK(proto_wire_of(&t_json, &t.req) == PW_JSON);
	CHECK(proto_wire_of(&t_ec2, &t.req) == PW_EC2);
	CHECK(proto_wire_of(&t_rest, &t.req) == PW_REST_XML);
	CHECK(proto_wire_of(NULL, &t.req) == PW_REST_XML);
	memset(&r, 0, sizeof(r));
	proto_error(&r, PW_JSON, NULL, 0, NULL, NULL, NULL, 1);
	CHECK(r.status == 500);
	CHECK_S(r.body.p, "{\"__type\":\"InternalFailure\",\"message\":\"\"}");
	resp_release(&r);
	memset(&r, 0, sizeof(r));
	proto_error(&r, PW_REST_XML, NULL, 403, "AccessDenied", "Access Denied", "r", 0);
	CHECK_S(r.body.p,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied"
		"</Code><Message>Access Denied</Message><RequestId>r</RequestId></Error>");
	resp_release(&r);
	memset(&r, 0, sizeof(r));
	proto_error(&r, PW_QUERY, NULL, 400, "X", "m", "r", 0);
	CHECK_S(r.body.p, "<ErrorResponse><Error><Type>Sender</Type><Code>X</Code><Message>m"
			  "</Message></Error><RequestId>r</RequestId></ErrorResponse>");
	resp_release(&r);
	arena_free(a);
}

/* ---- rest-json ---- */

enum { J_GET_IN, J_STR, J_TAGS, J_INT, J_NESTED, J_GET_OUT, J_TS, J_PUT_IN, J_N };

static const struct model_member j_members[] = {
    /* 0: GetIn */
    MEM("Id", J_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Tags", J_TAGS, .location = ML_QUERY, .loc_name = "tag"),
    MEM("Limit", J_INT, .location = ML_HEADER, .loc_name = "x-limit"),
    MEM("Name", J_STR, .loc_name = "name"),
    MEM("Nested", J_NESTED),
    /* 5: Tags item */
    MEM("member", J_STR),
    /* 6: Nested */
    MEM("Value", J_INT, .flags = MF_REQUIRED),
    /* 7: GetOut */
    MEM("Status", J_INT, .location = ML_STATUS),
    MEM("Mark", J_STR, .location = ML_HEADER, .loc_name = "x-mark"),
    MEM("Name", J_STR, .loc_name = "name"),
    MEM("Nested", J_NESTED),
    MEM("When", J_TS),
    /* 12: PutIn */
    MEM("Id", J_STR, .location = ML_URI, .flags = MF_REQUIRED),
    MEM("Doc", J_NESTED, .flags = MF_PAYLOAD),
};

static const struct model_shape j_shapes[J_N] = {
    [J_GET_IN] = SHAPE("GetIn", MT_STRUCTURE, .members = 0, .nmembers = 5),
    [J_STR] = SHAPE("Str", MT_STRING),
    [J_TAGS] = SHAPE("Tags", MT_LIST, .members = 5, .nmembers = 1, .flags = SF_HAS_MAX, .max = 2),
    [J_INT] = SHAPE("Int", MT_INTEGER),
    [J_NESTED] = SHAPE("Nested", MT_STRUCTURE, .members = 6, .nmembers = 1),
    [J_GET_OUT] = SHAPE("GetOut", MT_STRUCTURE, .members = 7, .nmembers = 5),
    [J_TS] = SHAPE("Ts", MT_TIMESTAMP),
    [J_PUT_IN] = SHAPE("PutIn", MT_STRUCTURE, .members = 12, .nmembers = 2),
};

static const struct model_op j_ops[] = {
    {.name = "GetThing",
     .http_method = "POST",
     .request_uri = "/v1/things/{Id}",
     .input = J_GET_IN,
     .output = J_GET_OUT,
     .http_status = 200},
    {.name = "PutDoc",
     .http_method = "PUT",
     .request_uri = "/v1/things/{Id}/doc",
     .input = J_PUT_IN,
     .output = -1,
     .http_status = 201},
};

static const struct model_service t_rjson = {
    .id = "trj",
    .service_id = "TRj",
    .api_version = "2020-01-01",
    .protocol = MP_REST_JSON,
    .endpoint_prefix = "trj",
    .ops = j_ops,
    .nops = 2,
    .shapes = j_shapes,
    .nshapes = J_N,
    .members = j_members,
};

TEST(proto_rest_json)
{
	struct arena *a = arena_new(4096);
	struct http_response r;
	struct treq t;
	struct aws_call *c;
	mkreq(&t, "POST", "/v1/things/a%2Fb?tag=x&tag=y+z",
	      "{\"name\":\"n\",\"Nested\":{\"Value\":3}}", "x-limit", "10", NULL);
	CHECK_S(dec(a, &t_rjson, &t, &c),
		"{\"Id\":\"a/b\",\"Tags\":[\"x\",\"y z\"],\"Limit\":10,\"Name\":\"n\","
		"\"Nested\":{\"Value\":3}}");
	mkreq(&t, "POST", "/v1/things/i?tag=1&tag=2&tag=3", "{\"Nested\":{}}", "x-limit", "x",
	      NULL);
	CHECK_S(dec(a, &t_rjson, &t, NULL),
		"ERR 400 SerializationException: Invalid value 'x' for Limit");
	mkreq(&t, "POST", "/v1/things/i?tag=1&tag=2&tag=3", "{\"Nested\":{}}", NULL);
	CHECK_S(
	    dec(a, &t_rjson, &t, NULL),
	    "ERR 400 ValidationException: 2 validation errors detected: Value '[1, 2, 3]' at "
	    "'tags' failed to satisfy constraint: Member must have length less than or equal to "
	    "2; Value null at 'nested.value' failed to satisfy constraint: Member must not be "
	    "null");
	mkreq(&t, "PUT", "/v1/things/i/doc", "{\"Value\":7}", NULL);
	CHECK_S(dec(a, &t_rjson, &t, &c), "{\"Id\":\"i\",\"Doc\":{\"Value\":7}}");
	CHECK_S(enc(a, &t_rjson, "PutDoc", NULL, &r), "");
	CHECK(r.status == 201);
	resp_release(&r);

	struct jv *o = jv_object(a), *n = jv_object(a);
	jv_set_int(a, o, "Status", 202);
	jv_set_str(a, o, "Mark", "m");
	jv_set_str(a, o, "Name", "n");
	jv_set_int(a, n, "Value", 1);
	jv_set(a, o, "Nested", n);
	jv_set_int(a, o, "When", 1767225600);
	CHECK_S(enc(a, &t_rjson, "GetThing", o, &r),
		"{\"name\":\"n\",\"Nested\":{\"Value\":1},\"When\":1767225600}");
	CHECK(r.status == 202);
	CHECK_S(r.content_type, "application/json");
	CHECK(has_header(&r, "x-mark: m\r\n"));
	resp_release(&r);
	memset(&r, 0, sizeof(r));
	proto_error(&r, PW_REST_JSON, &t_rjson, 409, "ConflictException", "busy", "r", 0);
	CHECK_S(r.body.p, "{\"__type\":\"ConflictException\",\"message\":\"busy\"}");
	CHECK(has_header(&r, "x-amzn-ErrorType: ConflictException\r\n"));
	CHECK_S(r.content_type, "application/json");
	resp_release(&r);
	arena_free(a);
}
