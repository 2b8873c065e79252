/* fuzz_query.c - libFuzzer target for src/aws/proto*: the first byte picks
 * a real operation and wire form (query, ec2, JSON, rest-xml), the rest is
 * the request body (rest-xml: "path\nbody"); the input is decoded,
 * validated, then encoded back as that op's output and as an error. */
#include "core/compat.h"
#include "core/arena.h"
#include "aws/proto.h"

static const struct {
	const char *svc, *op, *target, *ctype; /* target: X-Amz-Target or NULL */
} cases[] = {
    {"sns", "Publish", NULL, "application/x-www-form-urlencoded"},
    {"elbv2", "DescribeTargetHealth", NULL, "application/x-www-form-urlencoded"},
    {"ec2", "DescribeInstances", NULL, "application/x-www-form-urlencoded"},
    {"cloudwatch", "PutMetricData", NULL, "application/x-www-form-urlencoded"},
    {"secretsmanager", "CreateSecret", "secretsmanager.CreateSecret", "application/x-amz-json-1.1"},
    {"sqs", "SendMessageBatch", "AmazonSQS.SendMessageBatch", "application/x-amz-json-1.0"},
    {"s3", NULL, NULL, NULL},
    {"cloudfront", NULL, NULL, NULL},
};

/* LLVMFuzzerTestOneInput: one request; crashes are the only failure. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	struct http_header hdrs[2];
	struct http_request req = {.h = {.method = STR_LIT("POST"),
					 .path = STR_LIT("/"),
					 .query = STR_LIT(""),
					 .headers = hdrs}};
	struct http_response resp = {0};
	struct aws_call c = {.request_id = "rid"};
	const char *p = (const char *)data + 1;
	size_t n = size ? size - 1 : 0, k = size ? data[0] % FB_ARRAY_LEN(cases) : 0;

	if (!a)
		a = arena_new(1 << 16);
	arena_reset(a);
	c.a = a;
	c.svc = model_find_service(cases[k].svc);
	if (!c.svc)
		return 0;
	if (cases[k].ctype)
		hdrs[req.h.nheaders++] =
		    (struct http_header){STR_LIT("Content-Type"), str_c(cases[k].ctype)};
	if (cases[k].target)
		hdrs[req.h.nheaders++] =
		    (struct http_header){STR_LIT("X-Amz-Target"), str_c(cases[k].target)};
	req.body = (struct str){p, n};
	if (!cases[k].op) {
		/* rest: "METHOD path?query\nbody" */
		const char *nl = memchr(p, '\n', n),
			   *sp = memchr(p, ' ', nl ? (size_t)(nl - p) : 0);
		if (!nl || !sp)
			return 0;
		req.h.method = (struct str){p, (size_t)(sp - p)};
		req.h.path = (struct str){sp + 1, (size_t)(nl - sp - 1)};
		const char *q = memchr(req.h.path.p, '?', req.h.path.n);
		if (q) {
			req.h.query =
			    (struct str){q + 1, (size_t)(req.h.path.p + req.h.path.n - q - 1)};
			req.h.path.n = (size_t)(q - req.h.path.p);
		}
		req.body = (struct str){nl + 1, (size_t)(p + n - nl - 1)};
		c.op = proto_rest_match(c.svc, &req);
	} else {
		c.op = model_find_op(c.svc, cases[k].op, strlen(cases[k].op));
	}
	int wire = proto_wire_of(c.svc, &req);
	if (c.op && proto_decode(&c, wire, &req) == 0) {
		c.out = c.in; /* the input written as the output shape: exercises skipping */
		proto_encode(&c, wire, &resp);
		buf_release(&resp.body);
		buf_release(&resp.headers);
	}
	proto_encode(&c, wire, &resp); /* the error, or the output again */
	buf_release(&resp.body);
	buf_release(&resp.headers);
	return 0;
}
