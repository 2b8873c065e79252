/* proto.h - the AWS wire protocols (query, ec2, json 1.0/1.1, rest-json,
 * rest-xml): find the operation a request names, decode its input into a
 * validated jv (aws/value.h conventions), and encode the call's output or
 * error the way botocore, the Go SDKs and the AWS CLI expect.
 *
 * Services never see the wire format. Everything allocated hangs off the
 * call's arena; response bytes go into the caller's struct http_response.
 * Nothing here may crash on hostile input: depth and lengths are bounded. */
#ifndef FB_PROTO_H
#define FB_PROTO_H
#include "core/compat.h"
#include "aws/call.h"
#include "http/request.h"

/* The wire form a request arrives in (and its response leaves in). */
enum proto_wire { PW_QUERY = 1, PW_EC2, PW_JSON, PW_REST_JSON, PW_REST_XML };

/* Deepest nesting of structures/lists/maps decoded or encoded. */
#define PROTO_MAX_DEPTH 40

/* proto_wire_of: the wire form of <req> to <svc>: the model's protocol,
 * except PW_JSON for a query-compatible service called with X-Amz-Target. */
int proto_wire_of(const struct model_service *svc, const struct http_request *req);

/* proto_find_op: the operation <req> names for c->svc in <wire> form
 * (X-Amz-Target, Action=, or method + URI template). Returns the static
 * row, or NULL with the error recorded on <c> (MissingAction, InvalidAction,
 * UnknownOperationException, or a 404/405 for rest). */
const struct model_op *proto_find_op(struct aws_call *c, int wire, const struct http_request *req);

/* proto_rest_match: the op of <svc> whose method and requestUri template
 * match <req> (literal query keys such as "?uploads" or "?list-type=2",
 * and required querystring/header members, prefer the more specific op;
 * {Key+} labels are greedy). NULL when none does. Static row. */
const struct model_op *proto_rest_match(const struct model_service *svc,
					const struct http_request *req);

/* proto_decode: fills c->in (a JV_OBJECT, never NULL) from <req> for c->op
 * and validates it against the model (required members, lengths, ranges,
 * enums; idempotency tokens filled in). Sets c->http. Returns 0, or -1
 * with the error recorded on <c> (aws_fail). */
int proto_decode(struct aws_call *c, int wire, const struct http_request *req);

/* proto_encode: writes c->out for c->op into <resp> (status, Content-Type,
 * headers, body), or the error recorded on <c> when c->err_code is set.
 * Always adds the request id header(s). <resp> is owned by the caller. */
void proto_encode(struct aws_call *c, int wire, struct http_response *resp);

/* proto_error: writes an error response in <wire>'s format: status, the
 * error body, Content-Type, x-amzn-ErrorType / x-amzn-query-error as the
 * protocol wants. <svc> may be NULL (unknown service: no namespace, plain
 * JSON 1.1 / S3-style XML). <fault> selects Receiver over Sender. */
void proto_error(struct http_response *resp, int wire, const struct model_service *svc, int status,
		 const char *code, const char *msg, const char *request_id, int fault);
#endif
