/* dispatch.h - the edge: one HTTP request in, one AWS response out.
 * Routes to a service as AWS does (signing name in the credential scope,
 * then X-Amz-Target, then Action/Version, then host and path), verifies
 * SigV4, decodes and validates the input, runs the handler, encodes. */
#ifndef FB_DISPATCH_H
#define FB_DISPATCH_H
#include "http/request.h"

/* aws_dispatch: http_handler_fn for the edge port; ctx is struct fogbank. */
void aws_dispatch(void *ctx, const struct http_request *req, struct http_response *resp);
#endif
