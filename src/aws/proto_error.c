/* proto_error.c - error responses in each protocol's own format (the four
 * bodies in aws-protocols.md §7 that both CLIs parse), plus the headers
 * the SDKs read the code from (x-amzn-ErrorType, x-amzn-query-error). */
#include "core/compat.h"
#include "aws/proto_int.h"
#include "aws/json.h"
#include "aws/xml.h"

/* json_content_type: Content-Type of awsJson responses of <svc>. */
static const char *json_content_type(const struct model_service *svc)
{
	if (svc && svc->json_version && !strcmp(svc->json_version, "1.0"))
		return "application/x-amz-json-1.0";
	if (svc && svc->protocol == MP_QUERY)
		return "application/x-amz-json-1.0"; /* query-compatible JSON */
	return "application/x-amz-json-1.1";
}

/* json_type_of: the __type of <code> for a query-compatible service: the
 * exception shape whose query error code is <code> has the name newer
 * JSON SDKs match on (AWS.SimpleQueueService.NonExistentQueue ->
 * QueueDoesNotExist); other codes are their own type. */
static const char *json_type_of(const struct model_service *svc, const char *code)
{
	if (!svc || !svc->query_compatible)
		return code;
	for (uint32_t i = 0; i < svc->nshapes; i++) {
		const struct model_shape *sh = &svc->shapes[i];
		if ((sh->flags & SF_EXCEPTION) && sh->error_code && !strcmp(sh->error_code, code))
			return sh->name;
	}
	return code;
}

/* json_error: {"__type":..,"message":..} for awsJson and restJson. */
static void json_error(struct http_response *resp, int wire, const struct model_service *svc,
		       const char *code, const char *msg, int fault)
{
	struct buf *b = &resp->body;
	const char *type = wire == PW_JSON ? json_type_of(svc, code) : code;

	resp->content_type = wire == PW_JSON ? json_content_type(svc) : "application/json";
	http_response_header(resp, "x-amzn-ErrorType", code);
	if (svc && svc->query_compatible && wire == PW_JSON) {
		/* botocore >= 1.31 takes the query code from here */
		struct buf h = BUF_INIT;
		buf_printf(&h, "%s;%s", code, fault ? "Receiver" : "Sender");
		http_response_header(resp, "x-amzn-query-error", h.p);
		buf_release(&h);
	}
	buf_puts(b, "{\"__type\":");
	json_write_str(b, type, strlen(type));
	buf_puts(b, ",\"message\":");
	json_write_str(b, msg, strlen(msg));
	buf_putc(b, '}');
}

/* query_error: <ErrorResponse> of the query protocol (also CloudFront). */
static void query_error(struct http_response *resp, const char *ns, const char *code,
			const char *msg, const char *request_id, int fault)
{
	struct buf *b = &resp->body;

	if (ns)
		xml_open_ns(b, "ErrorResponse", ns);
	else
		xml_open(b, "ErrorResponse");
	xml_open(b, "Error");
	xml_elem_c(b, "Type", fault ? "Receiver" : "Sender");
	xml_elem_c(b, "Code", code);
	xml_elem_c(b, "Message", msg);
	xml_close(b, "Error");
	xml_elem_c(b, "RequestId", request_id);
	xml_close(b, "ErrorResponse");
}

/* proto_error: see proto.h. */
void proto_error(struct http_response *resp, int wire, const struct model_service *svc, int status,
		 const char *code, const char *msg, const char *request_id, int fault)
{
	struct buf *b = &resp->body;
	char ns[PROTO_NS_MAX];

	if (!code)
		code = "InternalFailure";
	if (!msg)
		msg = "";
	if (!request_id)
		request_id = "";
	resp->status = status > 0 ? status : 500;
	buf_clear(b);
	if (request_id[0])
		http_response_header(resp, "x-amzn-RequestId", request_id);
	switch (wire) {
	case PW_JSON:
	case PW_REST_JSON:
		json_error(resp, wire, svc, code, msg, fault);
		return;
	case PW_QUERY:
		resp->content_type = "text/xml";
		query_error(resp, proto_xml_ns(ns, svc), code, msg, request_id, fault);
		return;
	case PW_EC2:
		resp->content_type = "text/xml";
		buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
		xml_open(b, "Response");
		xml_open(b, "Errors");
		xml_open(b, "Error");
		xml_elem_c(b, "Code", code);
		xml_elem_c(b, "Message", msg);
		xml_close(b, "Error");
		xml_close(b, "Errors");
		xml_elem_c(b, "RequestID", request_id);
		xml_close(b, "Response");
		return;
	default:
		resp->content_type = "application/xml";
		if (svc && strcmp(svc->id, "s3") != 0) {
			/* CloudFront and the other rest-xml services wrap like query */
			query_error(resp, proto_xml_ns(ns, svc), code, msg, request_id, fault);
			return;
		}
		if (request_id[0])
			http_response_header(resp, "x-amz-request-id", request_id);
		buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
		xml_open(b, "Error");
		xml_elem_c(b, "Code", code);
		xml_elem_c(b, "Message", msg);
		xml_elem_c(b, "RequestId", request_id);
		xml_close(b, "Error");
		return;
	}
}
