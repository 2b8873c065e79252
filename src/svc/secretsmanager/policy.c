/* policy.c - resource policies: Get/Put/DeleteResourcePolicy and
 * ValidateResourcePolicy. Policies are stored as given once they parse as
 * a JSON object; BlockPublicPolicy refuses a statement that allows
 * everyone ("*") without a condition, which is the check AWS documents. */
#include "core/compat.h"
#include "aws/gen/secretsmanager_ops.h"
#include "aws/json.h"
#include "fb.h"
#include "svc/secretsmanager/internal.h"

/* is_star: "*", or an array holding "*". */
static int is_star(const struct jv *v)
{
	if (!v)
		return 0;
	if (v->type == JV_STRING)
		return strcmp(v->u.s.p, "*") == 0;
	for (size_t i = 0; v->type == JV_ARRAY && i < jv_len(v); i++)
		if (is_star(jv_at(v, i)))
			return 1;
	return 0;
}

/* statement_public: an Allow for any principal with no Condition. */
static int statement_public(const struct jv *st)
{
	const char *effect = jv_get_str(st, "Effect");
	if (!effect || strcmp(effect, "Allow") || jv_get(st, "Condition"))
		return 0;
	const struct jv *p = jv_get(st, "Principal");
	return is_star(p) || (p && p->type == JV_OBJECT && is_star(jv_get(p, "AWS")));
}

/* parse_policy: the policy document as a JSON object, or NULL. */
static struct jv *parse_policy(struct aws_call *c, const char *text)
{
	struct jv *doc = text ? json_parse(c->a, text, strlen(text), NULL) : NULL;
	return doc && doc->type == JV_OBJECT ? doc : NULL;
}

/* policy_public: 1 when any statement of doc grants public access. */
static int policy_public(const struct jv *doc)
{
	const struct jv *st = jv_get(doc, "Statement");
	if (st && st->type == JV_OBJECT)
		return statement_public(st);
	for (size_t i = 0; st && i < jv_len(st); i++)
		if (statement_public(jv_at(st, i)))
			return 1;
	return 0;
}

int secretsmanager_op_get_resource_policy(struct aws_call *c)
{
	struct sm_secret s;
	if (sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	jv_set_str(c->a, aws_out(c), "ResourcePolicy", s.policy);
	return 0;
}

/* set_policy: stores policy (NULL clears) on the secret SecretId names. */
static int set_policy(struct aws_call *c, const char *policy)
{
	struct sm_secret s;
	if (sm_tx_begin(c) < 0)
		return -1;
	int ok = sm_secret_find(c, jv_get_str(c->in, "SecretId"), &s);
	if (ok == 0)
		ok = sm_check_live(c, &s);
	if (ok == 0) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "UPDATE sm_secrets SET policy = ?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, s.id);
		if (policy)
			sqlite3_bind_text(st, 2, policy, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		ok = rc == SQLITE_DONE ? 0 : sm_fail_db(c, rc);
	}
	if (ok == 0)
		ok = sm_touch(c, s.id);
	if (sm_tx_end(c, ok) < 0)
		return -1;
	sm_out_arn_name(c, &s);
	return 0;
}

int secretsmanager_op_put_resource_policy(struct aws_call *c)
{
	const char *text = jv_get_str(c->in, "ResourcePolicy");
	struct jv *doc = parse_policy(c, text);
	if (!doc)
		return aws_fail(c, 400, "MalformedPolicyDocumentException",
				"This resource policy contains a syntax error.");
	if (jv_get_bool(c->in, "BlockPublicPolicy", 0) && policy_public(doc))
		return aws_fail(c, 400, "PublicPolicyException",
				"This resource policy will grant public access to the secret.");
	return set_policy(c, text);
}

int secretsmanager_op_delete_resource_policy(struct aws_call *c)
{
	return set_policy(c, NULL);
}

int secretsmanager_op_validate_resource_policy(struct aws_call *c)
{
	struct sm_secret s;
	const char *sid = jv_get_str(c->in, "SecretId");
	if (sid && sm_secret_find(c, sid, &s) < 0)
		return -1;
	struct jv *doc = parse_policy(c, jv_get_str(c->in, "ResourcePolicy"));
	if (!doc)
		return aws_fail(c, 400, "MalformedPolicyDocumentException",
				"This resource policy contains a syntax error.");
	struct jv *errors = jv_array(c->a);
	if (!jv_get(doc, "Statement")) {
		struct jv *e = jv_object(c->a);
		jv_set_str(c->a, e, "CheckName", "SYNTAX_CHECK");
		jv_set_str(c->a, e, "ErrorMessage", "The policy has no Statement element.");
		jv_push(c->a, errors, e);
	}
	if (policy_public(doc)) {
		struct jv *e = jv_object(c->a);
		jv_set_str(c->a, e, "CheckName", "PUBLIC_POLICY");
		jv_set_str(c->a, e, "ErrorMessage",
			   "This resource policy grants public access to the secret.");
		jv_push(c->a, errors, e);
	}
	jv_set_bool(c->a, aws_out(c), "PolicyValidationPassed", jv_len(errors) == 0);
	jv_set(c->a, aws_out(c), "ValidationErrors", errors);
	return 0;
}
