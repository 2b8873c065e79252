/* call.c - the two helpers handlers use on a struct aws_call: recording an
 * error and getting the output object. Everything lives in the call's
 * arena; nothing here frees or touches the wire format. */
#include "core/compat.h"
#include "aws/call.h"
#include <stdarg.h>

/* aws_fail: records <status>, <code> (a static or arena string, kept as
 * is) and the printf-formatted message on <c>; returns -1 so handlers can
 * `return aws_fail(...)`. The first error recorded wins: a later call
 * would only describe a consequence of it. A status >= 500 marks a fault
 * (Receiver). The message is formatted into the call's arena. */
int aws_fail(struct aws_call *c, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	if (c->err_code)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->err_msg = "";
	} else if ((size_t)n < sizeof(small)) {
		c->err_msg = arena_strndup(c->a, small, (size_t)n);
	} else {
		char *big = arena_alloc(c->a, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		c->err_msg = big;
	}
	c->err_status = status;
	c->err_code = code ? code : "InternalFailure";
	c->err_fault = status >= 500;
	return -1;
}

/* aws_out: c->out, created as an empty JV_OBJECT in the call's arena on
 * first use. */
struct jv *aws_out(struct aws_call *c)
{
	if (!c->out)
		c->out = jv_object(c->a);
	return c->out;
}

/* aws_stream: see call.h. */
void aws_stream(struct aws_call *c, void (*open)(void *ctx, struct http_stream *st),
		void (*closed)(void *ctx), void *ctx)
{
	c->stream_open = open;
	c->stream_closed = closed;
	c->stream_ctx = ctx;
}
