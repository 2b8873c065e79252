/* creds.c - task-role credentials, served as the ECS agent serves them:
 * GET /v2/credentials/<id> on the edge port answers {RoleArn,
 * AccessKeyId, SecretAccessKey, Token, Expiration}. The credentials are
 * real STS sessions of the task's role (minted through STS's AssumeRole
 * with the task id as the session name, so GetCallerIdentity answers
 * arn:aws:sts::<acct>:assumed-role/<role>/<task-id>), re-minted when less
 * than 20 minutes remain, and forgotten when the task ends (sessions stay
 * valid until they expire, as on AWS). The id is a random UUID: as with
 * the agent, whoever can read the task's environment can fetch them. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/sts_ops.h"
#include "aws/json.h"
#include "core/log.h"
#include "core/loop.h"
#include "fb.h"
#include "http/request.h"
#include "svc/ecs/live.h"
#include <stdlib.h>
#include <time.h>

#define CREDS_PREFIX "/v2/credentials/"
#define CREDS_DURATION_S 3600
#define CREDS_REFRESH_MS (20 * 60 * 1000)

/* xstrdup: strdup that aborts when memory is out (as the arenas do). */
static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		abort();
	return p;
}

/* wipe: frees the secret parts of c. */
static void wipe(struct ecs_creds *c)
{
	if (c->secret)
		explicit_bzero(c->secret, strlen(c->secret));
	free(c->akid);
	free(c->secret);
	free(c->token);
	c->akid = c->secret = c->token = NULL;
}

/* mint: a fresh STS session for t's role into t->creds. 0, or -1 with
 * *reason (arena) in ECS's words. */
static int mint(struct live *t, const char **reason)
{
	struct arena *a = arena_new(8192);
	struct aws_call c = {.a = a,
			     .fb = t->fb,
			     .account = t->account,
			     .region = t->region,
			     .now_ms = fb_wall_ms()};
	c.who.account = t->account;
	c.in = jv_object(a);
	jv_set_str(a, c.in, "RoleArn", t->creds->role_arn);
	jv_set_str(a, c.in, "RoleSessionName", t->task_id);
	jv_set_int(a, c.in, "DurationSeconds", CREDS_DURATION_S);
	int rc = sts_op_assume_role(&c);
	const struct jv *cr = jv_get(c.out, "Credentials");
	if (rc < 0 || !cr) {
		*reason = arena_sprintf(t->a,
					"ECS was unable to assume the role '%s' that was provided "
					"for this task (%s: %s)",
					t->creds->role_arn, c.err_code ? c.err_code : "error",
					c.err_msg ? c.err_msg : "");
		arena_free(a);
		return -1;
	}
	wipe(t->creds);
	t->creds->akid = xstrdup(jv_get_str(cr, "AccessKeyId"));
	t->creds->secret = xstrdup(jv_get_str(cr, "SecretAccessKey"));
	t->creds->token = xstrdup(jv_get_str(cr, "SessionToken"));
	t->creds->expires_ms = (int64_t)(jv_get_double(cr, "Expiration", 0) * 1000.0);
	arena_free(a);
	return 0;
}

int ecs_creds_setup(struct live *t, const char *role_arn, const char **reason)
{
	t->creds = arena_zalloc(t->a, sizeof(*t->creds));
	t->creds->role_arn = arena_strdup(t->a, role_arn);
	fmt_uuid4(t->creds->id);
	if (mint(t, reason) < 0) {
		t->creds = NULL;
		return -1;
	}
	return 0;
}

void ecs_creds_release(struct live *t)
{
	if (t->creds)
		wipe(t->creds);
	t->creds = NULL;
}

int ecs_creds_match(const struct http_request *req)
{
	struct str p = req->h.path;
	size_t np = sizeof(CREDS_PREFIX) - 1;
	return str_eq_c(req->h.method, "GET") && p.n > np && !memcmp(p.p, CREDS_PREFIX, np) &&
	       !memchr(p.p + np, '/', p.n - np);
}

/* agent_error: the agent's error document. */
static void agent_error(struct http_response *resp, const char *code, const char *msg)
{
	resp->status = 400;
	resp->content_type = "application/json";
	buf_printf(&resp->body, "{\"code\":\"%s\",\"message\":\"%s\",\"HTTPErrorCode\":400}", code,
		   msg);
}

void ecs_creds_handle(struct fogbank *fb, const struct http_request *req,
		      struct http_response *resp)
{
	size_t np = sizeof(CREDS_PREFIX) - 1;
	char id[40];
	size_t n = req->h.path.n - np;
	if (n >= sizeof(id)) {
		agent_error(resp, "InvalidIdInRequest",
			    "CredentialsV2Request: Credentials not found");
		return;
	}
	memcpy(id, req->h.path.p + np, n);
	id[n] = 0;
	struct live *t = ecs_live_find_creds(id);
	const char *why = NULL;
	int64_t now = fb_wall_ms();
	if (t && t->creds->expires_ms - now < CREDS_REFRESH_MS && mint(t, &why) < 0)
		log_warn("ecs: %s: credentials refresh failed: %s", t->task_id, why);
	if (!t || t->creds->expires_ms <= now) {
		agent_error(resp, "InvalidIdInRequest",
			    "CredentialsV2Request: Credentials not found");
		return;
	}
	char exp[32];
	time_t s = (time_t)(t->creds->expires_ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct buf *b = &resp->body;
	resp->content_type = "application/json";
	buf_puts(b, "{\"RoleArn\":");
	json_write_str(b, t->creds->role_arn, strlen(t->creds->role_arn));
	buf_puts(b, ",\"AccessKeyId\":");
	json_write_str(b, t->creds->akid, strlen(t->creds->akid));
	buf_puts(b, ",\"SecretAccessKey\":");
	json_write_str(b, t->creds->secret, strlen(t->creds->secret));
	buf_puts(b, ",\"Token\":");
	json_write_str(b, t->creds->token, strlen(t->creds->token));
	buf_printf(b, ",\"Expiration\":\"%s\"}", exp);
	log_info("ecs: task %s fetched its role credentials", t->task_id);
}
