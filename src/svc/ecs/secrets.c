/* secrets.c - a container's `secrets`: valueFrom is a Secrets Manager ARN,
 * optionally followed, exactly as ECS parses it, by
 * ":<json-key>:<version-stage>:<version-id>" (each part may be empty).
 * Values are read through Secrets Manager's own value path (decryption
 * with the secret's KMS key included). SSM parameters are not available. */
#include "core/compat.h"
#include "aws/json.h"
#include "core/loop.h"
#include "fb.h"
#include "svc/ecs/run.h"
#include "svc/secretsmanager/internal.h"

/* field: the i-th ':'-separated field of s (arena), "" when absent. */
static const char *field(struct arena *a, const char *s, int i, const char **rest)
{
	for (int k = 0; k < i && s; k++) {
		s = strchr(s, ':');
		s = s ? s + 1 : NULL;
	}
	if (rest)
		*rest = s;
	if (!s)
		return "";
	return arena_strndup(a, s, strcspn(s, ":"));
}

const char *ecs_secret_value(struct fogbank *fb, struct arena *a, const char *account,
			     const char *region, const char *value_from, const char **err)
{
	if (strcmp(field(a, value_from, 2, NULL), "secretsmanager") ||
	    strcmp(field(a, value_from, 5, NULL), "secret")) {
		*err = arena_sprintf(a,
				     "ResourceInitializationError: unable to pull secrets or "
				     "registry auth: fogbank resolves only Secrets Manager ARNs, "
				     "not %s",
				     value_from);
		return NULL;
	}
	const char *tail;
	field(a, value_from, 7, &tail);
	const char *id =
	    tail ? arena_strndup(a, value_from, (size_t)(tail - 1 - value_from)) : value_from;
	const char *key = field(a, value_from, 7, NULL);
	const char *stage = field(a, value_from, 8, NULL);
	const char *version = field(a, value_from, 9, NULL);
	struct aws_call c = {
	    .a = a, .fb = fb, .account = account, .region = region, .now_ms = fb_wall_ms()};
	struct jv *o = jv_object(a);
	if (sm_value_entry(&c, id, *version ? version : NULL, *stage ? stage : NULL, o) < 0) {
		*err = arena_sprintf(a,
				     "ResourceInitializationError: unable to pull secrets or "
				     "registry auth: retrieval of secret %s failed: %s: %s",
				     value_from, c.err_code ? c.err_code : "error",
				     c.err_msg ? c.err_msg : "");
		return NULL;
	}
	const char *s = jv_get_str(o, "SecretString");
	if (!s || !*key)
		return s ? s : "";
	const struct jv *doc = json_parse(a, s, strlen(s), NULL), *v = jv_get(doc, key);
	if (!v) {
		*err = arena_sprintf(a,
				     "ResourceInitializationError: unable to pull secrets or "
				     "registry auth: retrieved secret from Secrets Manager did "
				     "not contain json key %s",
				     key);
		return NULL;
	}
	return v->type == JV_STRING ? v->u.s.p : ecs_json(a, v);
}
