/* repos.c - repositories: CreateRepository (mutability, scanning and
 * encryption configuration, tags), DescribeRepositories, DeleteRepository
 * (force deletes the images; their blobs go at the next collection),
 * PutImageTagMutability and PutImageScanningConfiguration. */
#include "core/compat.h"
#include "aws/gen/ecr_ops.h"
#include "fb.h"
#include "svc/ecr/internal.h"
#include "svc/kms/kms.h"

/* encryption_args: the key ARN for encryptionConfiguration (NULL for
 * AES256, the aws/ecr managed key when KMS names none). Returns 0 and sets
 * *type / *key, or -1 with the error. Runs before the handler's
 * transaction: the managed key is created in one of its own. */
static int encryption_args(struct aws_call *c, const char **type, const char **key)
{
	const struct jv *enc = jv_get(c->in, "encryptionConfiguration");
	const char *t = jv_get_str(enc, "encryptionType");
	const char *k = jv_get_str(enc, "kmsKey");
	*type = "AES256";
	*key = NULL;
	if (!enc || !t || !strcmp(t, "AES256")) {
		if (k)
			return aws_fail(c, 400, "InvalidParameterException",
					"Invalid parameter at 'encryptionConfiguration' failed to "
					"satisfy constraint: 'kmsKey can only be specified when "
					"encryptionType is KMS'");
		return 0;
	}
	*type = "KMS";
	if (!k && !(k = kms_managed_key(c, "aws/ecr")))
		return aws_fail(c, 400, "KmsException", "The aws/ecr KMS key is unavailable.");
	if (!(*key = kms_key_arn_of(c, k)))
		return aws_fail(c, 400, "KmsException", "KMS key '%s' was not found.", k);
	return 0;
}

int ecr_op_create_repository(struct aws_call *c)
{
	struct ecr_repo r = {0};
	const struct jv *tags = jv_get(c->in, "tags");
	const char *name = jv_get_str(c->in, "repositoryName");
	const char *mut = jv_get_str(c->in, "imageTagMutability");
	if (!ecr_valid_repo_name(name))
		return aws_fail(
		    c, 400, "InvalidParameterException",
		    "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
		    "'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*"
		    "[a-z0-9]+(?:[._-][a-z0-9]+)*''");
	if (!ecr_registry_id(c) || ecr_tags_check(c, tags) < 0 ||
	    encryption_args(c, &r.encryption_type, &r.kms_key) < 0)
		return -1;
	r.account = c->account;
	r.region = c->region;
	r.name = name;
	r.created_ms = c->now_ms;
	r.immutable = mut && !strcmp(mut, "IMMUTABLE");
	r.scan_on_push = jv_get_bool(jv_get(c->in, "imageScanningConfiguration"), "scanOnPush", 0);
	if (ecr_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "INSERT INTO ecr_repos(account, region, name, created_ms, "
			       "immutable, scan_on_push, encryption_type, kms_key) VALUES(?1, ?2, "
			       "?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING");
	sqlite3_bind_text(st, 1, r.account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r.region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r.created_ms);
	sqlite3_bind_int(st, 5, r.immutable);
	sqlite3_bind_int(st, 6, r.scan_on_push);
	sqlite3_bind_text(st, 7, r.encryption_type, -1, SQLITE_STATIC);
	if (r.kms_key)
		sqlite3_bind_text(st, 8, r.kms_key, -1, SQLITE_STATIC);
	int rc = db_step_done(st), ok = 0;
	if (rc != SQLITE_DONE)
		ok = ecr_fail_db(c, rc);
	else if (sqlite3_changes(db_sqlite(c->fb->db)) == 0)
		ok = aws_fail(c, 400, "RepositoryAlreadyExistsException",
			      "The repository with name '%s' already exists in the registry with "
			      "id '%s'",
			      name, c->account);
	if (ok == 0) {
		r.id = sqlite3_last_insert_rowid(db_sqlite(c->fb->db));
		ok = ecr_tags_put(c, r.id, tags);
	}
	if (ecr_tx_end(c, ok) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "repository", ecr_repo_entry(c, &r));
	return 0;
}

/* describe_named: the repositories listed in repositoryNames, in order;
 * the first missing one fails the call as AWS does. */
static int describe_named(struct aws_call *c, const struct jv *names, struct jv *list)
{
	for (size_t i = 0; i < jv_len(names); i++) {
		const struct jv *n = jv_at(names, i);
		struct ecr_repo r;
		int found = ecr_repo_get(c->fb, c->a, c->account, c->region, n->u.s.p, &r);
		if (found < 0)
			return ecr_fail_db(c, SQLITE_ERROR);
		if (!found)
			return ecr_repo_not_found(c, n->u.s.p);
		jv_push(c->a, list, ecr_repo_entry(c, &r));
	}
	return 0;
}

int ecr_op_describe_repositories(struct aws_call *c)
{
	const struct jv *names = jv_get(c->in, "repositoryNames");
	struct jv *list = jv_array(c->a);
	size_t off, limit, total = 0;
	if (!ecr_registry_id(c) || ecr_page_args(c, 1000, &off, &limit) < 0)
		return -1;
	if (names) {
		if (describe_named(c, names, list) < 0)
			return -1;
		jv_set(c->a, aws_out(c), "repositories", list);
		return 0;
	}
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT name FROM ecr_repos WHERE account = ?1 AND "
					      "region = ?2 ORDER BY name");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	const char **picked = arena_alloc(c->a, (limit < 1000 ? limit : 1000) * sizeof(*picked));
	size_t np = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (total >= off && np < limit)
			picked[np++] = arena_strdup(c->a, db_col_text(st, 0));
		total++;
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < np; i++) {
		struct ecr_repo r;
		if (ecr_repo_get(c->fb, c->a, c->account, c->region, picked[i], &r) == 1)
			jv_push(c->a, list, ecr_repo_entry(c, &r));
	}
	jv_set(c->a, aws_out(c), "repositories", list);
	ecr_page_token(c, off + np, total);
	return 0;
}

int ecr_op_delete_repository(struct aws_call *c)
{
	struct ecr_repo r;
	if (ecr_tx_begin(c) < 0)
		return -1;
	int ok = ecr_repo_find(c, &r);
	if (ok == 0 && !jv_get_bool(c->in, "force", 0)) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "SELECT 1 FROM ecr_images WHERE repo_id = ?1 LIMIT 1");
		sqlite3_bind_int64(st, 1, r.id);
		int any = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (any)
			ok = aws_fail(c, 400, "RepositoryNotEmptyException",
				      "The repository with name '%s' in registry with id '%s' "
				      "cannot be deleted because it still contains images",
				      r.name, r.account);
	}
	if (ok == 0) {
		/* images, tags, links and uploads go by ON DELETE CASCADE;
		 * blob files and upload files by registry_gc */
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM ecr_repos WHERE id = ?1");
		sqlite3_bind_int64(st, 1, r.id);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ecr_fail_db(c, rc);
	}
	if (ecr_tx_end(c, ok) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "repository", ecr_repo_entry(c, &r));
	return 0;
}

/* set_int_col: runs sql (?1 repo id, ?2 value) on the repository the
 * input names; fills *r as it was before. */
static int set_int_col(struct aws_call *c, const char *sql, int value, struct ecr_repo *r)
{
	if (ecr_tx_begin(c) < 0)
		return -1;
	int ok = ecr_repo_find(c, r);
	if (ok == 0) {
		sqlite3_stmt *st = db_stmt(c->fb->db, sql);
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int(st, 2, value);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ecr_fail_db(c, rc);
	}
	return ecr_tx_end(c, ok);
}

static const char sql_set_immutable[] = "UPDATE ecr_repos SET immutable = ?2 WHERE id = ?1";
static const char sql_set_scan[] = "UPDATE ecr_repos SET scan_on_push = ?2 WHERE id = ?1";

int ecr_op_put_image_tag_mutability(struct aws_call *c)
{
	struct ecr_repo r;
	const char *mut = jv_get_str(c->in, "imageTagMutability");
	if (set_int_col(c, sql_set_immutable, mut && !strcmp(mut, "IMMUTABLE"), &r) < 0)
		return -1;
	ecr_out_repo_ids(c, &r);
	jv_set_str(c->a, aws_out(c), "imageTagMutability", mut);
	return 0;
}

int ecr_op_put_image_scanning_configuration(struct aws_call *c)
{
	struct ecr_repo r;
	const struct jv *cfg = jv_get(c->in, "imageScanningConfiguration");
	int on = jv_get_bool(cfg, "scanOnPush", 0);
	if (set_int_col(c, sql_set_scan, on, &r) < 0)
		return -1;
	ecr_out_repo_ids(c, &r);
	struct jv *o = jv_object(c->a);
	jv_set_bool(c->a, o, "scanOnPush", on);
	jv_set(c->a, aws_out(c), "imageScanningConfiguration", o);
	return 0;
}
