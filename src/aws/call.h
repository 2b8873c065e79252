/* call.h - one AWS API call as a handler sees it.
 *
 * The protocol layer fills a struct aws_call from the HTTP request (input
 * decoded and validated against the model), runs the operation's handler,
 * then serializes call->out (or the recorded error) in the protocol's own
 * wire format. Everything hangs off call->a and dies with the request;
 * a handler that must wait (for a worker) defers the rest (aws_defer). */
#ifndef FB_CALL_H
#define FB_CALL_H
#include "core/compat.h"
#include "core/arena.h"
#include "aws/model.h"
#include "aws/value.h"

struct fogbank;
struct http_request;
struct http_stream;
struct aws_deferral;

/* Who signed the request. Strings live in the call's arena. */
struct identity {
	const char *access_key;
	const char *account;	   /* 12 digits */
	const char *arn;	   /* arn:aws:iam::123:user/x, :root, or assumed-role */
	const char *user_id;	   /* AIDA..., or AROA...:session */
	const char *session_token; /* for temporary credentials, else NULL */
	int is_root;		   /* the account's default identity */
};

struct aws_call {
	struct arena *a;
	struct fogbank *fb;
	const struct model_service *svc;
	const struct model_op *op;
	const struct http_request *http; /* raw request, for rest protocols */
	struct jv *in;			 /* decoded input (JV_OBJECT, never NULL) */
	struct jv *out;			 /* output set by the handler; NULL = empty */
	struct identity who;
	const char *account;	/* == who.account */
	const char *region;	/* from the credential scope, else default */
	const char *request_id; /* uuid */
	int64_t now_ms;		/* wall clock at request start */
	/* error, set by aws_fail */
	int err_status;
	const char *err_code;
	const char *err_msg;
	int err_fault; /* 1: Receiver/server fault, 0: Sender */
	/* An event-stream response (set with aws_stream): the head goes out
	 * with status 200, then the producer pushes messages (eventstream.h)
	 * through the http_stream it is handed. */
	void (*stream_open)(void *ctx, struct http_stream *st);
	void (*stream_closed)(void *ctx);
	void *stream_ctx;
	struct aws_deferral *deferral; /* set by aws_defer (private to dispatch.c) */
};

/* aws_fail: records an error (HTTP status, AWS code, formatted message) on
 * the call and returns -1, so handlers can write `return aws_fail(...)`. */
int aws_fail(struct aws_call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* aws_out: the output object, created on first use. */
struct jv *aws_out(struct aws_call *c);

/* aws_stream: answers the call with an event stream instead of c->out.
 * Once the head is queued, open(ctx, st) hands the producer its stream;
 * if the response is never streamed (an error after this call, or the
 * client leaves first), closed(ctx) is called instead. Exactly one of
 * the two runs, so ctx can be freed there. */
void aws_stream(struct aws_call *c, void (*open)(void *ctx, struct http_stream *st),
		void (*closed)(void *ctx), void *ctx);

/* Deferred calls. A handler that waits for work off the loop (a worker
 * thread) calls aws_defer(c) and returns 0 at once; the call, its arena
 * and the HTTP request (head, body, spool file) then stay valid, and the
 * connection answers nothing else, until aws_resume. The continuation
 * (on the loop thread, never before the handler has returned) sets the
 * output or records an error on the call as a handler would, then calls
 * aws_resume once: the output or error is encoded and sent, and the call
 * and its arena are freed. Response extras of proto_rest.h (status,
 * headers, file bodies) must be set after the wait, just before
 * aws_resume: another request may run in between. Calls that never defer
 * pay nothing for this. */

/* aws_defer: defers the answer to <c> (the running handler's call).
 * Returns the call to use from now on (moved into its arena: <c> itself
 * is the dispatcher's and dies when the handler returns). */
struct aws_call *aws_defer(struct aws_call *c);
/* aws_resume: encodes and sends the answer of deferred call <c> (its
 * output, or the error recorded on it), logs the request and frees <c>
 * with its arena. Loop thread only. */
void aws_resume(struct aws_call *c);
#endif
