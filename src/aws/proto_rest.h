/* proto_rest.h - what a rest handler may add to its response beyond the
 * model's output members, and the S3 addressing rules proto_rest.c uses.
 *
 * Extras (used by S3): a status other than the operation's (206, 304), raw
 * header lines the model has no member for (CORS), and a body that is a
 * file range or a pull callback rather than bytes (GetObject). They apply
 * only to the call that set them and only when it succeeds: on an error,
 * or when the next request is decoded, a file body is closed and a pull
 * body's free callback called. Loop thread only. */
#ifndef FB_AWS_PROTO_REST_H
#define FB_AWS_PROTO_REST_H
#include "core/compat.h"
#include "core/str.h"
#include "http/request.h"

struct aws_call;

/* proto_rest_set_status: answers <status> instead of the operation's. */
void proto_rest_set_status(struct aws_call *c, int status);
/* proto_rest_add_header: adds "name: value" (CR/LF in value become spaces). */
void proto_rest_add_header(struct aws_call *c, const char *name, const char *value);
/* proto_rest_body_file: the response body is [off, off+len) of <fd>, which
 * the response owns from now on (closed by the server, or here when the
 * body is dropped). Replaces any body set before. */
void proto_rest_body_file(struct aws_call *c, int fd, uint64_t off, uint64_t len);
/* proto_rest_body_pull: the response body is exactly <len> bytes produced
 * by pull(ctx, ...); pull_free(ctx) is called once when it is done, dropped
 * or aborted. */
void proto_rest_body_pull(struct aws_call *c, uint64_t len, http_pull_fn *pull, void *ctx,
			  void (*pull_free)(void *ctx));

/* proto_rest_body_length: a body of <len> bytes that is never sent: the
 * Content-Length of a HEAD response. */
void proto_rest_body_length(struct aws_call *c, uint64_t len);

/* proto_rest_host_bucket: for a virtual-hosted-style S3 request (Host
 * "<bucket>.s3.<anything>", "<bucket>.s3-<region>...", "<bucket>.localhost"
 * or "<bucket>.localhost.localstack.cloud", any port), sets *bucket to a
 * view of the bucket name in the Host header and returns 1; 0 for
 * path-style (IP addresses, "localhost", "s3.localhost", ...). */
int proto_rest_host_bucket(const struct http_request *req, struct str *bucket);
#endif
