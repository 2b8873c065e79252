/* dispatch.c - routing, authentication and the call pipeline, and the
 * deferral of a call whose handler waits for a worker (aws_defer). */
#include "aws/dispatch.h"
#include "aws/call.h"
#include "aws/form.h"
#include "aws/fmt.h"
#include "aws/proto.h"
#include "aws/sigv4.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "http/server.h"
#include "registry/registry.h"
#include "svc/ecs/ecs.h"
#include "svc/iam/keys.h"
#include "tls/ca.h"
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define DISPATCH_ARENA_BLOCK 16384
/* Arenas of finished deferred calls kept for reuse. */
#define DISPATCH_SPARE_ARENAS 8

/* A deferred call: what aws_resume needs once the handler has returned.
 * Lives in the call's arena. */
struct aws_deferral {
	struct aws_call call;	 /* moved off aws_dispatch's stack */
	struct http_request req; /* c->http may be aws_dispatch's local copy */
	struct http_deferred *hd;
	int wire;
	struct timespec ts0;
};

/* The arena of the request being dispatched (reset per request); a
 * deferred call takes it away, and spare ones replace it. */
static struct arena *cur_arena;
static struct arena *spare_arenas[DISPATCH_SPARE_ARENAS];
static size_t nspare_arenas;
/* Largest body a non-S3 request may have (PutLogEvents allows 1 MiB of
 * events; JSON framing adds some): bigger ones get 413. */
#define DISPATCH_RPC_BODY_MAX (16u << 20)

/* route_by_signing_name: the service whose scope name is s, or NULL. */
static const struct model_service *route_by_signing_name(struct str s)
{
	for (size_t i = 0; i < model_nservices; i++)
		if (str_eq_c(s, model_services[i]->signing_name))
			return model_services[i];
	return NULL;
}

/* route_by_target: the service an X-Amz-Target "Prefix.Op" names. */
static const struct model_service *route_by_target(struct str target)
{
	const char *dot = memrchr(target.p, '.', target.n);
	if (!dot)
		return NULL;
	struct str prefix = {target.p, (size_t)(dot - target.p)};
	for (size_t i = 0; i < model_nservices; i++) {
		const struct model_service *s = model_services[i];
		if ((s->target_prefix && str_eq_c(prefix, s->target_prefix)) ||
		    (s->json_target_prefix && str_eq_c(prefix, s->json_target_prefix)))
			return s;
	}
	return NULL;
}

/* route_by_version: query-protocol service by its Version parameter. */
static const struct model_service *route_by_version(struct str version)
{
	for (size_t i = 0; i < model_nservices; i++) {
		const struct model_service *s = model_services[i];
		if ((s->protocol == MP_QUERY || s->protocol == MP_EC2) &&
		    str_eq_c(version, s->api_version))
			return s;
	}
	return NULL;
}

/* form_param: raw (still encoded) value of key in a form/query string. */
static int form_param(struct str form, const char *key, struct str *val)
{
	struct str cur = form, k, v;
	while (form_next(&cur, &k, &v))
		if (str_eq_c(k, key)) {
			*val = v;
			return 1;
		}
	return 0;
}

static int is_form(const struct http_request *req)
{
	const struct http_header *ct = http_find_header(&req->h, "content-type");
	return ct && str_has_prefix_c(ct->value, "application/x-www-form-urlencoded");
}

/* health: GET /_fogbank/health and /_localstack/health. */
static void health(struct fogbank *fb, struct http_response *resp)
{
	struct buf *b = &resp->body;
	resp->content_type = "application/json";
	buf_puts(b, "{\"services\": {");
	for (size_t i = 0; i < model_nservices; i++) {
		const struct model_service *s = model_services[i];
		size_t impl = 0;
		for (uint32_t j = 0; j < s->nops; j++)
			impl += s->ops[j].handler != NULL;
		buf_printf(b, "%s\"%s\": \"%s\"", i ? ", " : "", s->endpoint_prefix,
			   impl ? "running" : "disabled");
	}
	buf_printf(b, "}, \"edition\": \"fogbank\", \"version\": \"0.1.0\", \"uptime_ms\": %lld}",
		   (long long)(fb_wall_ms() - fb->started_ms));
}

/* ca_pem: GET /_fogbank/ca.pem, the local CA that signs RDS and
 * ElastiCache server certificates (trust it for sslmode=verify-full). */
static void ca_pem(struct fogbank *fb, struct http_response *resp)
{
	size_t n = 0;
	char *err = NULL;
	const char *pem = ca_cert_pem(fb->data_dir, &n, &err);
	if (!pem) {
		resp->status = 500;
		resp->content_type = "text/plain";
		buf_puts(&resp->body, err ? err : "CA unavailable");
		free(err);
		return;
	}
	resp->content_type = "application/x-pem-file";
	buf_append(&resp->body, pem, n);
}

/* auth_error: maps a sigv4/identity failure to the service's own code. */
static void auth_error(struct aws_call *c, int wire, int rc)
{
	int json = wire == PW_JSON || wire == PW_REST_JSON;
	int s3 = wire == PW_REST_XML && !strcmp(c->svc->id, "s3");
	switch (rc) {
	case SIGV4_ERR_NO_AUTH:
		if (s3)
			aws_fail(c, 403, "AccessDenied", "Access Denied");
		else
			aws_fail(c, json ? 400 : 403,
				 json ? "MissingAuthenticationTokenException"
				      : "MissingAuthenticationToken",
				 "Missing Authentication Token");
		return;
	case SIGV4_ERR_MISMATCH:
	case SIGV4_ERR_SCOPE_DATE:
		if (json)
			aws_fail(
			    c, 400, "InvalidSignatureException",
			    "The request signature we calculated does not match the signature you "
			    "provided. Check your AWS Secret Access Key and signing method. "
			    "Consult "
			    "the service documentation for details.");
		else
			aws_fail(
			    c, 403, "SignatureDoesNotMatch",
			    "The request signature we calculated does not match the signature you "
			    "provided. Check your AWS Secret Access Key and signing method. "
			    "Consult "
			    "the service documentation for details.");
		return;
	case SIGV4_ERR_SKEW:
		if (s3)
			aws_fail(c, 403, "RequestTimeTooSkewed",
				 "The difference between the request time and the current time is "
				 "too large.");
		else if (json)
			aws_fail(
			    c, 400, "InvalidSignatureException",
			    "Signature expired: the request time is more than 15 minutes away from "
			    "the server time.");
		else
			aws_fail(c, 400, "RequestExpired",
				 "Request has expired: the request time is more than 15 minutes "
				 "away from "
				 "the server time.");
		return;
	case SIGV4_ERR_EXPIRED:
		if (s3)
			aws_fail(c, 403, "AccessDenied", "Request has expired");
		else
			aws_fail(c, 403, json ? "InvalidSignatureException" : "SignatureExpired",
				 "Signature expired: the presigned request has expired.");
		return;
	case -100: /* unknown access key */
		if (s3)
			aws_fail(
			    c, 403, "InvalidAccessKeyId",
			    "The AWS Access Key Id you provided does not exist in our records.");
		else
			aws_fail(c, json ? 400 : 403,
				 json ? "UnrecognizedClientException" : "InvalidClientTokenId",
				 "The security token included in the request is invalid.");
		return;
	case -101: /* expired or bad session token */
		aws_fail(c, json ? 400 : 403, json ? "ExpiredTokenException" : "ExpiredToken",
			 "The security token included in the request is expired");
		return;
	default:
		if (s3)
			aws_fail(c, 400, "AuthorizationHeaderMalformed",
				 "The authorization header is malformed (%s).", sigv4_strerror(rc));
		else
			aws_fail(c, 400, "IncompleteSignature",
				 "The request signature does not conform to AWS standards (%s).",
				 sigv4_strerror(rc));
	}
}

/* pread_full: reads exactly n bytes from offset 0 of fd. 0 or -1. */
static int pread_full(int fd, char *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* check_content_sha256: S3 signs the body through x-amz-content-sha256;
 * when that is a hex digest it must be the body's. 0 or -1 (error set). */
static int check_content_sha256(struct aws_call *c, const struct http_request *req)
{
	const struct http_header *h = http_find_header(&req->h, "x-amz-content-sha256");
	if (!h || h->value.n != 64)
		return 0; /* UNSIGNED-PAYLOAD, STREAMING-..., or absent */
	char computed[65];
	const char *actual = req->body_sha256;
	if (req->body_fd < 0 || !actual[0]) {
		sigv4_sha256_hex(req->body.p, req->body.n, computed);
		actual = computed;
	}
	if (strncasecmp(h->value.p, actual, 64) == 0)
		return 0;
	return aws_fail(
	    c, 400, "XAmzContentSHA256Mismatch",
	    "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

/* authenticate: verifies the request and fills c->who. Returns 0, or -1
 * with the error recorded on c (in soft mode failures are only logged). */
static int authenticate(struct aws_call *c, int wire, const struct http_request *req)
{
	struct fogbank *fb = c->fb;
	struct sigv4_request sr = {
	    .method = req->h.method,
	    .path = req->h.path,
	    .query = req->h.query,
	    .headers = req->h.headers,
	    .nheaders = req->h.nheaders,
	    .body = req->body,
	    .s3 = !strcmp(c->svc->id, "s3"),
	};
	const struct http_header *claimed = http_find_header(&req->h, "x-amz-content-sha256");
	/* spooled RPC bodies were hashed on the way in; S3 always says what it
	 * signed (x-amz-content-sha256, or UNSIGNED-PAYLOAD when presigned) */
	if (req->body_fd >= 0 && !claimed && !sr.s3)
		sr.payload_hash = str_c(req->body_sha256);
	struct sigv4_auth auth;
	char *scratch = arena_alloc(c->a, SIGV4_SCRATCH_MAX);
	int rc = sigv4_parse_request(&sr, &auth, scratch, SIGV4_SCRATCH_MAX);
	const char *secret = NULL;
	if (rc == 0) {
		if (auth.region.n)
			c->region = arena_str(c->a, auth.region);
		int k = iam_resolve_key(fb, c->a, auth.access_key, auth.security_token, c->now_ms,
					&secret, &c->who);
		if (k == IAM_KEY_UNKNOWN || k == IAM_KEY_INACTIVE || k == IAM_KEY_BAD_TOKEN)
			rc = -100;
		else if (k < 0)
			rc = -101;
		else
			rc = sigv4_verify(fb->sigcache, &sr, &auth, secret, strlen(secret),
					  c->now_ms / 1000);
	}
	if (rc == 0) {
		c->account = c->who.account;
		iam_key_used(fb, auth.access_key, auth.service, auth.region, c->now_ms);
		return 0;
	}
	if (c->op && (c->op->flags & OPF_AUTH_NONE) && rc == SIGV4_ERR_NO_AUTH)
		return 0;
	if (fb->auth == FB_AUTH_SOFT) {
		log_warn("auth soft: would deny %s %s: %s", c->svc->id, c->op ? c->op->name : "?",
			 sigv4_strerror(rc));
		if (!c->who.account)
			c->who.account = c->account;
		return 0;
	}
	auth_error(c, wire, rc);
	return -1;
}

void aws_dispatch(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct fogbank *fb = ctx;
	if (!cur_arena)
		cur_arena =
		    nspare_arenas ? spare_arenas[--nspare_arenas] : arena_new(DISPATCH_ARENA_BLOCK);
	struct arena *arena = cur_arena;
	arena_reset(arena);

	if (str_eq_c(req->h.path, "/_fogbank/health") ||
	    str_eq_c(req->h.path, "/_localstack/health")) {
		health(fb, resp);
		return;
	}
	if (str_eq_c(req->h.path, "/_fogbank/ca.pem")) {
		ca_pem(fb, resp);
		return;
	}
	/* ECS task-role credentials (the agent's /v2/credentials/<id>): before
	 * the registry, which would otherwise claim the /v2/ prefix */
	if (ecs_creds_match(req)) {
		ecs_creds_handle(fb, req, resp);
		return;
	}
	if (registry_match(req)) {
		registry_handle(fb, req, resp);
		return;
	}
	struct timespec ts0;
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	char *rid = arena_alloc(arena, 37);
	fmt_request_id(rid);
	struct aws_call call = {
	    .a = arena,
	    .fb = fb,
	    .http = req,
	    .region = fb->default_region,
	    .account = "000000000000",
	    .request_id = rid,
	    .now_ms = req->recv_ms,
	};
	struct aws_call *c = &call;

	/* 1. route: signing name, X-Amz-Target, Action/Version, then S3 */
	const struct http_header *auth_h = http_find_header(&req->h, "authorization");
	const struct http_header *target = http_find_header(&req->h, "x-amz-target");
	if (target)
		c->svc = route_by_target(target->value);
	if (!c->svc && auth_h) {
		const char *cred = memmem(auth_h->value.p, auth_h->value.n, "Credential=", 11);
		if (cred) {
			/* AKID/date/region/service/aws4_request */
			const char *e = auth_h->value.p + auth_h->value.n, *p = cred + 11;
			const char *parts[5];
			int np = 0;
			parts[np++] = p;
			for (; p < e && *p != ',' && *p != ' ' && np < 5; p++)
				if (*p == '/')
					parts[np++] = p + 1;
			if (np == 5)
				c->svc = route_by_signing_name(
				    (struct str){parts[3], (size_t)(parts[4] - parts[3] - 1)});
		}
	}
	if (!c->svc) {
		struct str v;
		struct str src = is_form(req) ? req->body : req->h.query;
		if (form_param(src, "Version", &v) || form_param(req->h.query, "Version", &v))
			c->svc = route_by_version(v);
	}
	if (!c->svc)
		c->svc = model_find_service("s3");
	int wire = proto_wire_of(c->svc, req);

	/* Spooled bodies are for S3; RPC services get theirs in memory. */
	struct http_request local;
	if (req->body_fd >= 0 && strcmp(c->svc->id, "s3") != 0) {
		int w = proto_wire_of(c->svc, req);
		if (req->body_len > DISPATCH_RPC_BODY_MAX) {
			proto_error(resp, w, c->svc, 413, "RequestEntityTooLarge",
				    "Request body is too large", c->request_id, 0);
			return;
		}
		local = *req;
		char *p = arena_alloc(arena, (size_t)req->body_len + 1);
		if (pread_full(req->body_fd, p, (size_t)req->body_len) < 0) {
			proto_error(resp, w, c->svc, 500, "InternalFailure",
				    "cannot read request body", c->request_id, 1);
			return;
		}
		local.body = (struct str){p, (size_t)req->body_len};
		local.body_fd = -1;
		req = &local;
		c->http = req;
	}

	/* 2. operation, 3. authentication, 4. input, 5. handler */
	c->op = proto_find_op(c, wire, req);
	int ok = 1;
	if (fb->auth != FB_AUTH_OFF) {
		/* AWS authenticates before it looks at the operation: an
		 * unsigned request for a bogus action is an auth error. */
		const char *op_err = c->err_code, *op_msg = c->err_msg;
		int op_status = c->err_status;
		c->err_code = NULL;
		ok = authenticate(c, wire, req) == 0;
		if (ok && !c->op) {
			c->err_code = op_err;
			c->err_msg = op_msg;
			c->err_status = op_status;
		}
	}
	ok = ok && c->op != NULL;
	if (ok && !c->who.account) {
		c->who.account = c->account;
		c->who.arn = arena_sprintf(arena, "arn:aws:iam::%s:root", c->account);
		c->who.user_id = c->account;
		c->who.is_root = 1;
	}
	if (ok && fb->auth != FB_AUTH_OFF && !strcmp(c->svc->id, "s3"))
		ok = check_content_sha256(c, req) == 0;
	if (ok)
		ok = proto_decode(c, wire, req) == 0;
	if (ok) {
		if (!c->op->handler) {
			aws_fail(c, 501, "NotImplemented", "fogbank does not implement %s %s yet",
				 c->svc->service_id, c->op->name);
		} else if (c->op->handler(c) < 0 && !c->err_code) {
			aws_fail(c, 500, "InternalFailure", "internal error");
		}
	}
	if (c->deferral) {
		/* the handler answers later: the call keeps the arena */
		c->deferral->wire = wire;
		c->deferral->ts0 = ts0;
		cur_arena = NULL;
		return;
	}
	proto_encode(c, wire, resp);

	struct timespec ts1;
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	/* printf-free: the request line is written once per request */
	log_request(c->svc->id, c->op ? c->op->name : "-", resp->status,
		    (int64_t)(ts1.tv_sec - ts0.tv_sec) * 1000000000 + (ts1.tv_nsec - ts0.tv_nsec),
		    c->err_code);
}

/* aws_defer: see call.h. The call and a copy of its request move into
 * the arena, which aws_dispatch then leaves to the call. */
struct aws_call *aws_defer(struct aws_call *c)
{
	if (c->deferral)
		fb_die("aws_defer: call deferred twice");
	struct aws_deferral *d = arena_zalloc(c->a, sizeof(*d));
	d->hd = http_defer(c->http);
	d->req = *c->http;
	d->call = *c;
	d->call.http = &d->req;
	d->call.deferral = d;
	c->deferral = d; /* tells aws_dispatch */
	return &d->call;
}

/* arena_recycle: keeps a finished deferred call's arena for reuse, or
 * frees it when enough are kept. */
static void arena_recycle(struct arena *a)
{
	if (nspare_arenas < DISPATCH_SPARE_ARENAS) {
		arena_reset(a);
		spare_arenas[nspare_arenas++] = a;
		return;
	}
	arena_free(a);
}

/* aws_resume: see call.h. The response is sent before the arena goes:
 * its Content-Type and such may point into it. */
void aws_resume(struct aws_call *c)
{
	struct aws_deferral *d = c->deferral;
	struct arena *a = c->a;
	if (!d || c != &d->call)
		fb_die("aws_resume: not a deferred call");
	struct http_response *resp = http_deferred_response(d->hd);
	proto_encode(c, d->wire, resp);
	struct timespec ts1;
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	log_request(c->svc->id, c->op ? c->op->name : "-", resp->status,
		    (int64_t)(ts1.tv_sec - d->ts0.tv_sec) * 1000000000 +
			(ts1.tv_nsec - d->ts0.tv_nsec),
		    c->err_code);
	http_deferred_end(d->hd);
	arena_recycle(a);
}
