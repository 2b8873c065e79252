/* registry.c - the registry endpoint's front: recognising its requests,
 * Basic authentication with the ECR token, splitting the path into
 * repository name and endpoint, the JSON error format, and the log line.
 * The endpoints themselves are in blobs.c, uploads.c and manifests.c. */
#include "core/compat.h"
#include "aws/form.h"
#include "aws/fmt.h"
#include "aws/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "registry/internal.h"
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#define REG_ARENA_BLOCK 16384
#define REG_REALM "Basic realm=\"fogbank\",service=\"ecr.amazonaws.com\""

int registry_match(const struct http_request *req)
{
	struct str p = req->h.path;
	if (!(str_eq_c(p, "/v2") || str_has_prefix_c(p, "/v2/")))
		return 0;
	const struct http_header *auth = http_find_header(&req->h, "authorization");
	if (auth && str_has_prefix_c(auth->value, "AWS4-"))
		return 0;
	struct str q = req->h.query;
	return !memmem(q.p ? q.p : "", q.n, "X-Amz-Signature", 15);
}

int64_t registry_grace_ms(void)
{
	const char *e = getenv("FOGBANK_REGISTRY_GC_GRACE_SECONDS");
	double s = e && *e ? strtod(e, NULL) : 3600.0;
	return s >= 0 ? (int64_t)(s * 1000.0) : 3600000;
}

void registry_header(struct registry_ctx *x, const char *name, const char *fmt, ...)
{
	char v[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	http_response_header(x->resp, name, v);
}

int registry_error(struct registry_ctx *x, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct buf *b = &x->resp->body;
	buf_clear(b);
	x->resp->status = status;
	x->resp->content_type = "application/json; charset=utf-8";
	buf_puts(b, "{\"errors\":[{\"code\":");
	json_write_str(b, code, strlen(code));
	buf_puts(b, ",\"message\":");
	json_write_str(b, msg, strlen(msg));
	buf_puts(b, "}]}");
	return -1;
}

const char *registry_query(struct registry_ctx *x, const char *key)
{
	struct str cur = x->req->h.query, k, v;
	while (form_next(&cur, &k, &v)) {
		if (!str_eq_c(k, key))
			continue;
		char *out = arena_alloc(x->a, v.n + 1);
		ssize_t n = url_decode(out, v.p, v.n, 1);
		if (n < 0)
			return NULL;
		out[n] = 0;
		return out;
	}
	return NULL;
}

int registry_repo(struct registry_ctx *x)
{
	if (!ecr_valid_repo_name(x->name))
		return registry_error(x, 400, "NAME_INVALID", "invalid repository name '%s'",
				      x->name);
	int found = ecr_repo_get(x->fb, x->a, x->account, x->region, x->name, &x->repo);
	if (found < 0)
		return registry_error(x, 500, "UNKNOWN", "store error");
	if (!found)
		return registry_error(
		    x, 404, "NAME_UNKNOWN",
		    "The repository with name '%s' does not exist in the registry "
		    "with id '%s'",
		    x->name, x->account);
	return 0;
}

/* authenticate: sets x->account/region from the Basic credentials.
 * Returns 0, or -1 having answered 401 with the challenge. With --auth
 * off (or soft, logged) a request without valid credentials acts in the
 * default account and region. */
static int authenticate(struct registry_ctx *x)
{
	static char account[13], region[32];
	const struct http_header *h = http_find_header(&x->req->h, "authorization");
	const char *why = "authentication required: user AWS, password from `aws ecr "
			  "get-login-password`";
	if (h && h->value.n > 6 && strncasecmp(h->value.p, "Basic ", 6) == 0) {
		struct str b = {h->value.p + 6, h->value.n - 6};
		char *raw = arena_alloc(x->a, b.n + 1);
		ssize_t n = fmt_b64_decode(raw, b.p, b.n);
		const char *colon = n > 0 ? memchr(raw, ':', (size_t)n) : NULL;
		int user_ok = colon && colon - raw == 3 && !memcmp(raw, "AWS", 3);
		struct str pw =
		    colon ? (struct str){colon + 1, (size_t)(raw + n - colon - 1)} : STR_NULL;
		if (user_ok && ecr_token_verify(x->fb, pw, x->now_ms, account, region) == 0) {
			x->account = account;
			x->region = region;
			return 0;
		}
		if (user_ok)
			why = "the password is not a valid fogbank ECR token, or it expired: run "
			      "`aws ecr get-login-password` again";
		else if (colon && colon > raw)
			why = "the user name must be AWS";
	}
	if (x->fb->auth != FB_AUTH_ENFORCE) {
		if (x->fb->auth == FB_AUTH_SOFT)
			log_warn("auth soft: would deny registry request: %s", why);
		x->account = "000000000000";
		x->region = x->fb->default_region;
		return 0;
	}
	http_response_header(x->resp, "WWW-Authenticate", REG_REALM);
	return registry_error(x, 401, "UNAUTHORIZED", "%s", why);
}

/* seg_before: the path segment that ends right before position end (the
 * '/' at end excluded), as [*s, end). */
static struct str seg_before(const char *base, const char *end)
{
	const char *s = end;
	while (s > base && s[-1] != '/')
		s--;
	return (struct str){s, (size_t)(end - s)};
}

/* route: splits /v2/<name>/<endpoint...> and runs the endpoint. */
static void route(struct registry_ctx *x, char *path, size_t n)
{
	/* path starts after "/v2/" */
	char *end = path + n;
	const char *method = arena_str(x->a, x->req->h.method);
	if (n >= 10 && !memcmp(end - 10, "/tags/list", 10)) {
		x->name = arena_strndup(x->a, path, n - 10);
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			goto unsupported;
		if (registry_repo(x) == 0)
			registry_tags_list(x);
		return;
	}
	char *slash = memrchr(path, '/', n);
	if (!slash || slash == path)
		goto unknown;
	struct str last = {slash + 1, (size_t)(end - slash - 1)};
	struct str prev = seg_before(path, slash);
	const char *pp_end = prev.p > path ? prev.p - 1 : NULL;
	if (str_eq_c(prev, "manifests") && last.n && pp_end) {
		x->name = arena_strndup(x->a, path, (size_t)(pp_end - path));
		if (registry_repo(x) == 0)
			registry_manifest_op(x, arena_str(x->a, last));
		return;
	}
	if (str_eq_c(prev, "uploads") && pp_end &&
	    str_eq_c(seg_before(path, (char *)pp_end), "blobs")) {
		struct str blobs = seg_before(path, (char *)pp_end);
		if (blobs.p <= path + 1)
			goto unknown;
		x->name = arena_strndup(x->a, path, (size_t)(blobs.p - 1 - path));
		if (registry_repo(x) == 0)
			registry_upload_op(x, arena_str(x->a, last));
		return;
	}
	if (str_eq_c(prev, "blobs") && pp_end) {
		x->name = arena_strndup(x->a, path, (size_t)(pp_end - path));
		if (registry_repo(x) < 0)
			return;
		if (str_eq_c(last, "uploads"))
			registry_upload_op(x, "");
		else
			registry_blob_op(x, arena_str(x->a, last));
		return;
	}
unknown:
	registry_error(x, 404, "NAME_UNKNOWN", "no such registry endpoint");
	return;
unsupported:
	registry_error(x, 405, "UNSUPPORTED", "the operation is unsupported");
}

void registry_handle(struct fogbank *fb, const struct http_request *req, struct http_response *resp)
{
	static struct arena *arena;
	if (!arena)
		arena = arena_new(REG_ARENA_BLOCK);
	arena_reset(arena);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct registry_ctx x = {.fb = fb,
				 .a = arena,
				 .req = req,
				 .resp = resp,
				 .now_ms = req->recv_ms ? req->recv_ms : fb_wall_ms()};
	resp->status = 200;
	http_response_header(resp, "Docker-Distribution-API-Version", "registry/2.0");
	/* the path arrives percent-encoded: a digest's ':' may be %3A */
	struct str raw = req->h.path;
	char *path = arena_alloc(arena, raw.n + 1);
	ssize_t n = url_decode(path, raw.p, raw.n, 0);
	if (n < 0) {
		registry_error(&x, 400, "NAME_INVALID", "malformed path");
	} else if (authenticate(&x) == 0) {
		path[n] = 0;
		if (n <= 4) { /* "/v2" or "/v2/": the version check */
			resp->content_type = "application/json";
			buf_puts(&resp->body, "{}");
		} else {
			route(&x, path + 4, (size_t)n - 4);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (log_min_level <= LOG_INFO || resp->status >= 500)
		log_msg(resp->status >= 500 ? LOG_ERROR : LOG_INFO, "registry %.*s %.*s %d %.3fms",
			(int)req->h.method.n, req->h.method.p, (int)raw.n, raw.p, resp->status, ms);
}
