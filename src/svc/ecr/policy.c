/* policy.c - repository policies: Set/Get/DeleteRepositoryPolicy. The
 * text is stored as given once it parses as a JSON object with a
 * Statement; fogbank does not evaluate it (no cross-account access). */
#include "core/compat.h"
#include "aws/gen/ecr_ops.h"
#include "aws/json.h"
#include "fb.h"
#include "svc/ecr/internal.h"

static const char sql_set_policy[] = "UPDATE ecr_repos SET policy = ?2 WHERE id = ?1";

/* set_policy: stores text (NULL clears) on the repository the input names;
 * *r is the repository as it was. A missing policy to delete fails. */
static int set_policy(struct aws_call *c, const char *text, struct ecr_repo *r)
{
	if (ecr_tx_begin(c) < 0)
		return -1;
	int ok = ecr_repo_find(c, r);
	if (ok == 0 && !text && !r->policy)
		ok = aws_fail(c, 400, "RepositoryPolicyNotFoundException",
			      "Repository policy does not exist for the repository with name '%s' "
			      "in the registry with id '%s'",
			      r->name, r->account);
	if (ok == 0) {
		sqlite3_stmt *st = db_stmt(c->fb->db, sql_set_policy);
		sqlite3_bind_int64(st, 1, r->id);
		if (text)
			sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ecr_fail_db(c, rc);
	}
	return ecr_tx_end(c, ok);
}

int ecr_op_set_repository_policy(struct aws_call *c)
{
	struct ecr_repo r;
	const char *text = jv_get_str(c->in, "policyText");
	struct jv *doc = text ? json_parse(c->a, text, strlen(text), NULL) : NULL;
	if (!doc || doc->type != JV_OBJECT || !jv_get(doc, "Statement"))
		return aws_fail(c, 400, "InvalidParameterException",
				"Invalid parameter at 'PolicyText' failed to satisfy constraint: "
				"'Invalid repository policy provided'");
	if (set_policy(c, text, &r) < 0)
		return -1;
	ecr_out_repo_ids(c, &r);
	jv_set_str(c->a, aws_out(c), "policyText", text);
	return 0;
}

int ecr_op_get_repository_policy(struct aws_call *c)
{
	struct ecr_repo r;
	if (ecr_repo_find(c, &r) < 0)
		return -1;
	if (!r.policy)
		return aws_fail(c, 400, "RepositoryPolicyNotFoundException",
				"Repository policy does not exist for the repository with name "
				"'%s' in the registry with id '%s'",
				r.name, r.account);
	ecr_out_repo_ids(c, &r);
	jv_set_str(c->a, aws_out(c), "policyText", r.policy);
	return 0;
}

int ecr_op_delete_repository_policy(struct aws_call *c)
{
	struct ecr_repo r;
	if (set_policy(c, NULL, &r) < 0)
		return -1;
	ecr_out_repo_ids(c, &r);
	jv_set_str(c->a, aws_out(c), "policyText", r.policy);
	return 0;
}
