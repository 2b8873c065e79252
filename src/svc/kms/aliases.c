/* aliases.c - CreateAlias / UpdateAlias / DeleteAlias / ListAliases, and
 * the AWS-managed keys behind alias/aws/<service>, created on first use.
 * Alias names are unique per account and region; alias/aws/ is reserved
 * for AWS-managed keys. */
#include "core/compat.h"
#include "aws/gen/kms_ops.h"
#include "fb.h"
#include "svc/kms/internal.h"

static const char sql_alias_target[] =
    "SELECT key_id FROM kms_aliases WHERE account = ?1 AND region = ?2 AND name = ?3";

/* alias_arn: "arn:aws:kms:<region>:<account>:<alias name>" (arena). */
static const char *alias_arn(struct aws_call *c, const char *name)
{
	return arena_sprintf(c->a, "arn:aws:kms:%s:%s:%s", c->region, c->account, name);
}

/* alias_target: the key id alias name points to (arena), or NULL. */
static const char *alias_target(struct aws_call *c, const char *name)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, sql_alias_target);
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	const char *id = NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = arena_strdup(c->a, db_col_text(st, 0));
	sqlite3_reset(st);
	return id;
}

/* check_alias_name: the rules for a customer alias name. */
static int check_alias_name(struct aws_call *c, const char *name)
{
	if (!name || strncmp(name, "alias/", 6) != 0 || !name[6])
		return aws_fail(
		    c, 400, "ValidationException",
		    "Alias must start with the prefix \"alias/\". Please see "
		    "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
	if (strncmp(name, "alias/aws/", 10) == 0)
		return aws_fail(
		    c, 400, "NotAuthorizedException",
		    "Alias names beginning with alias/aws/ are reserved for AWS managed "
		    "keys");
	for (const char *p = name; *p; p++) {
		char ch = *p;
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' || ch == '-';
		if (!ok)
			return aws_fail(c, 400, "ValidationException",
					"%s contains invalid characters for an alias", name);
	}
	return 0;
}

/* find_target: resolves TargetKeyId, which must name a key, not an alias,
 * and one that is not pending deletion. */
static int find_target(struct aws_call *c, struct kms_key *k)
{
	const char *ref = jv_get_str(c->in, "TargetKeyId");
	if (ref && (strncmp(ref, "alias/", 6) == 0 ||
		    (strncmp(ref, "arn:", 4) == 0 && strstr(ref, ":alias/"))))
		return aws_fail(c, 400, "ValidationException",
				"Aliases must refer to keys. Not aliases");
	if (kms_key_find(c, ref, 0, k) < 0)
		return -1;
	return kms_key_check_not_pending(c, k);
}

/* insert_alias: the row for alias name -> key id. */
static int insert_alias(struct aws_call *c, const char *name, const char *id)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO kms_aliases(account, region, name, "
					      "key_id, created, updated) VALUES(?1, ?2, ?3, ?4, "
					      "?5, ?5)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, (double)c->now_ms / 1000.0);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : kms_fail_db(c, rc);
}

int kms_op_create_alias(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "AliasName");
	struct kms_key k;
	if (check_alias_name(c, name) < 0)
		return -1;
	if (alias_target(c, name))
		return aws_fail(c, 400, "AlreadyExistsException",
				"An alias with the name %s already exists", alias_arn(c, name));
	if (find_target(c, &k) < 0)
		return -1;
	return insert_alias(c, name, k.id);
}

int kms_op_update_alias(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "AliasName");
	struct kms_key k;
	if (check_alias_name(c, name) < 0)
		return -1;
	if (!alias_target(c, name))
		return aws_fail(c, 400, "NotFoundException", "Alias %s is not found.",
				alias_arn(c, name));
	if (find_target(c, &k) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "UPDATE kms_aliases SET key_id = ?4, updated = ?5 "
					      "WHERE account = ?1 AND region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, k.id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, (double)c->now_ms / 1000.0);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : kms_fail_db(c, rc);
}

int kms_op_delete_alias(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "AliasName");
	if (check_alias_name(c, name) < 0)
		return -1;
	if (!alias_target(c, name))
		return aws_fail(c, 400, "NotFoundException", "Alias %s is not found.",
				alias_arn(c, name));
	sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM kms_aliases WHERE account = ?1 AND "
					      "region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : kms_fail_db(c, rc);
}

int kms_op_list_aliases(struct aws_call *c)
{
	int64_t after, limit, last = 0, n = 0;
	const char *key_id = NULL;
	if (jv_get_str(c->in, "KeyId")) {
		struct kms_key k;
		if (kms_key_find(c, jv_get_str(c->in, "KeyId"), 1, &k) < 0)
			return -1;
		key_id = k.id;
	}
	if (kms_page_args(c, &after, &limit) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT rowid, name, key_id, created, updated FROM "
					      "kms_aliases WHERE account = ?1 AND region = ?2 AND "
					      "rowid > ?3 AND (?5 IS NULL OR key_id = ?5) ORDER BY "
					      "rowid LIMIT ?4");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after);
	sqlite3_bind_int64(st, 4, limit + 1);
	if (key_id)
		sqlite3_bind_text(st, 5, key_id, -1, SQLITE_STATIC);
	struct jv *list = jv_array(c->a);
	int more = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == limit) {
			more = 1;
			break;
		}
		last = sqlite3_column_int64(st, 0);
		const char *name = db_col_text(st, 1);
		struct jv *e = jv_object(c->a);
		jv_set_str(c->a, e, "AliasName", name);
		jv_set_str(c->a, e, "AliasArn", alias_arn(c, name));
		jv_set_str(c->a, e, "TargetKeyId", db_col_text(st, 2));
		jv_set_double(c->a, e, "CreationDate", sqlite3_column_double(st, 3));
		jv_set_double(c->a, e, "LastUpdatedDate", sqlite3_column_double(st, 4));
		jv_push(c->a, list, e);
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), "Aliases", list);
	return kms_page_finish(c, more, last);
}

const char *kms_managed_key(struct aws_call *c, const char *alias)
{
	const char *name = arena_sprintf(c->a, "alias/%s", alias);
	const char *id = alias_target(c, name);
	if (id)
		return id;
	/* Join the caller's transaction if it has one, so its rollback also
	 * undoes the key; otherwise make key + alias atomic ourselves. */
	struct db *db = c->fb->db;
	int own = !db_in_tx(db);
	if (own && kms_tx_begin(c) < 0)
		return NULL;
	const char *svc = strncmp(alias, "aws/", 4) == 0 ? alias + 4 : alias;
	const char *desc =
	    strcmp(svc, "secretsmanager") == 0
		? "Default key that protects my Secrets Manager data when no other key is "
		  "defined"
		: arena_sprintf(c->a,
				"Default master key that protects my %s data when no other "
				"key is defined",
				svc);
	int ok = kms_key_insert(c, desc, 1, NULL, &id);
	if (ok == 0)
		ok = insert_alias(c, name, id);
	if (own ? kms_tx_end(c, ok) < 0 : ok < 0)
		return NULL;
	return id;
}
