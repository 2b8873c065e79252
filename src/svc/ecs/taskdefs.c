/* taskdefs.c - task definitions: Register (a new revision per family; the
 * input is stored whole as JSON and returned as given, plus the computed
 * fields), Deregister, Describe, List (familyPrefix, status, sort) and
 * ListTaskDefinitionFamilies. */
#include "core/compat.h"
#include "aws/gen/ecs_ops.h"
#include "fb.h"
#include "svc/ecs/internal.h"
#include <stdlib.h>

/* def_named: the container definition of defs named name, or NULL. */
static const struct jv *def_named(const struct jv *defs, const char *name)
{
	for (size_t i = 0; name && i < jv_len(defs); i++) {
		const char *n = jv_get_str(jv_at(defs, i), "name");
		if (n && !strcmp(n, name))
			return jv_at(defs, i);
	}
	return NULL;
}

/* check_depends: d's dependsOn must name other containers of the task
 * with a known condition; COMPLETE and SUCCESS cannot name an essential
 * container (it would stop the task by exiting) and HEALTHY needs a
 * container with a healthCheck. 0 or -1 with ClientException. */
static int check_depends(struct aws_call *c, const struct jv *defs, const struct jv *d)
{
	const struct jv *deps = jv_get(d, "dependsOn");
	const char *self = jv_get_str(d, "name");
	for (size_t i = 0; i < jv_len(deps); i++) {
		const char *dn = jv_get_str(jv_at(deps, i), "containerName");
		const char *cond = jv_get_str(jv_at(deps, i), "condition");
		const struct jv *dep = def_named(defs, dn);
		if (!dep || !strcmp(dn, self))
			return aws_fail(c, 400, "ClientException",
					"Container %s depends on container %s, which is not "
					"another container of this task definition.",
					self, dn ? dn : "");
		if (!cond || (strcmp(cond, "START") && strcmp(cond, "COMPLETE") &&
			      strcmp(cond, "SUCCESS") && strcmp(cond, "HEALTHY")))
			return aws_fail(c, 400, "ClientException",
					"Invalid dependsOn condition for container %s.", self);
		if ((!strcmp(cond, "COMPLETE") || !strcmp(cond, "SUCCESS")) &&
		    jv_get_bool(dep, "essential", 1))
			return aws_fail(c, 400, "ClientException",
					"Container %s cannot depend on essential container %s with "
					"condition %s.",
					self, dn, cond);
		if (!strcmp(cond, "HEALTHY") && !jv_get(jv_get(dep, "healthCheck"), "command"))
			return aws_fail(
			    c, 400, "ClientException",
			    "Container %s depends on container %s being HEALTHY, but %s "
			    "has no healthCheck.",
			    self, dn, dn);
	}
	return 0;
}

/* check_body: the validations AWS does that a model check cannot. */
static int check_body(struct aws_call *c, const char *family)
{
	size_t n = strlen(family);
	if (n < 1 || n > 255 ||
	    strspn(family, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789-_") != n)
		return ecs_invalid(c, "Family contains invalid characters.");
	const struct jv *defs = jv_get(c->in, "containerDefinitions");
	if (jv_len(defs) == 0)
		return ecs_invalid(c, "Container list cannot be empty.");
	int essential = 0;
	for (size_t i = 0; i < jv_len(defs); i++) {
		const struct jv *d = jv_at(defs, i);
		if (!jv_get_str(d, "name") || !jv_get_str(d, "image"))
			return ecs_invalid(c, "Container.name and Container.image should not be "
					      "null or empty.");
		if (jv_get_bool(d, "essential", 1))
			essential = 1;
	}
	if (!essential)
		return ecs_invalid(c, "Task definition does not have any essential container.");
	for (size_t i = 0; i < jv_len(defs); i++)
		if (check_depends(c, defs, jv_at(defs, i)) < 0)
			return -1;
	return 0;
}

int ecs_op_register_task_definition(struct aws_call *c)
{
	const char *family = jv_get_str(c->in, "family");
	if (check_body(c, family ? family : "") < 0)
		return -1;
	/* containers default to essential; store it so runs and Describe agree */
	const struct jv *defs = jv_get(c->in, "containerDefinitions");
	for (size_t i = 0; i < jv_len(defs); i++) {
		struct jv *d = jv_at(defs, i);
		if (!jv_get(d, "essential"))
			jv_set_bool(c->a, d, "essential", 1);
	}
	if (ecs_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT coalesce(max(revision), 0) FROM ecs_taskdefs "
					      "WHERE account = ?1 AND region = ?2 AND family = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, family, -1, SQLITE_STATIC);
	int64_t rev = (sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0) + 1;
	sqlite3_reset(st);
	const char *arn = ecs_arn(c->a, c->region, c->account, "task-definition",
				  arena_sprintf(c->a, "%s:%lld", family, (long long)rev));
	st = db_stmt(
	    c->fb->db,
	    "INSERT INTO ecs_taskdefs(account, region, family, revision, arn, status, "
	    "registered, registered_by, body) VALUES(?1, ?2, ?3, ?4, ?5, 'ACTIVE', ?6, ?7, ?8)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, family, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, rev);
	sqlite3_bind_text(st, 5, arn, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, c->now_ms);
	ecs_bind_opt(st, 7, c->who.arn);
	sqlite3_bind_text(st, 8, ecs_json(c->a, c->in), -1, SQLITE_TRANSIENT);
	int rc = db_step_done(st);
	if (rc == SQLITE_DONE)
		rc = ecs_tags_put(c, arn, jv_get(c->in, "tags"));
	if (ecs_tx_end(c, rc == SQLITE_DONE ? 0 : -1) < 0)
		return rc == SQLITE_DONE ? -1 : ecs_fail_db(c, rc);
	struct ecs_taskdef td;
	if (ecs_taskdef_get(c->fb, c->a, c->account, c->region, arn, &td) != 1)
		return ecs_fail_db(c, SQLITE_ERROR);
	jv_set(c->a, aws_out(c), "taskDefinition", ecs_taskdef_out(c->a, &td));
	if (jv_len(jv_get(c->in, "tags")))
		jv_set(c->a, aws_out(c), "tags", ecs_tags_of(c, arn));
	return 0;
}

/* find: the task definition the input's taskDefinition names, or -1 with
 * ClientException as AWS answers. */
static int find(struct aws_call *c, struct ecs_taskdef *td)
{
	int r = ecs_taskdef_get(c->fb, c->a, c->account, c->region,
				jv_get_str(c->in, "taskDefinition"), td);
	if (r < 0)
		return ecs_fail_db(c, SQLITE_ERROR);
	if (r == 0)
		return aws_fail(c, 400, "ClientException", "Unable to describe task definition.");
	return 0;
}

int ecs_op_describe_task_definition(struct aws_call *c)
{
	struct ecs_taskdef td;
	if (find(c, &td) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "taskDefinition", ecs_taskdef_out(c->a, &td));
	const struct jv *inc = jv_get(c->in, "include");
	for (size_t i = 0; i < jv_len(inc); i++)
		if (jv_at(inc, i)->type == JV_STRING && str_eq_c(jv_at(inc, i)->u.s, "TAGS"))
			jv_set(c->a, aws_out(c), "tags", ecs_tags_of(c, td.arn));
	return 0;
}

int ecs_op_deregister_task_definition(struct aws_call *c)
{
	struct ecs_taskdef td;
	const char *ref = jv_get_str(c->in, "taskDefinition");
	if (!ref || !strchr(ecs_arn_tail(ref, "task-definition"), ':'))
		return ecs_invalid(c, "Invalid revision number. Number: ");
	if (find(c, &td) < 0)
		return -1;
	if (strcmp(td.status, "INACTIVE")) {
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "UPDATE ecs_taskdefs SET status = 'INACTIVE', "
				       "deregistered = ?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, td.id);
		sqlite3_bind_int64(st, 2, c->now_ms);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return ecs_fail_db(c, rc);
		td.status = "INACTIVE";
		td.deregistered = c->now_ms;
	}
	jv_set(c->a, aws_out(c), "taskDefinition", ecs_taskdef_out(c->a, &td));
	return 0;
}

/* page: applies maxResults/nextToken (an offset) to the rows of st, pushing
 * column 0 of each into a list set as key on the output. */
static int page(struct aws_call *c, sqlite3_stmt *st, const char *key)
{
	const char *tok = jv_get_str(c->in, "nextToken");
	int64_t off = tok ? strtoll(tok, NULL, 10) : 0;
	int64_t max = jv_get_int(c->in, "maxResults", 100);
	if (off < 0 || max < 1 || max > 100) {
		sqlite3_reset(st);
		return ecs_invalid(c, "maxResults must be between 1 and 100.");
	}
	struct jv *arr = jv_array(c->a);
	int64_t i = 0;
	int more = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (i >= off + max) {
			more = 1;
			break;
		}
		if (i++ >= off)
			jv_push(c->a, arr, jv_string_c(c->a, db_col_text(st, 0)));
	}
	sqlite3_reset(st);
	jv_set(c->a, aws_out(c), key, arr);
	if (more)
		jv_set_str(c->a, aws_out(c), "nextToken",
			   arena_sprintf(c->a, "%lld", (long long)(off + max)));
	return 0;
}

int ecs_op_list_task_definitions(struct aws_call *c)
{
	static const char asc[] = "SELECT arn FROM ecs_taskdefs WHERE account = ?1 AND region = ?2 "
				  "AND (?3 IS NULL OR family = ?3) AND (?4 = 'ALL' OR status = ?4) "
				  "ORDER BY family, revision";
	static const char desc[] =
	    "SELECT arn FROM ecs_taskdefs WHERE account = ?1 AND region = ?2 "
	    "AND (?3 IS NULL OR family = ?3) AND (?4 = 'ALL' OR status = ?4) "
	    "ORDER BY family DESC, revision DESC";
	const char *sort = jv_get_str(c->in, "sort");
	const char *status = jv_get_str(c->in, "status");
	sqlite3_stmt *st = db_stmt(c->fb->db, sort && !strcmp(sort, "DESC") ? desc : asc);
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	/* familyPrefix is an exact family on AWS despite its name */
	ecs_bind_opt(st, 3, jv_get_str(c->in, "familyPrefix"));
	sqlite3_bind_text(st, 4, status ? status : "ACTIVE", -1, SQLITE_STATIC);
	return page(c, st, "taskDefinitionArns");
}

int ecs_op_list_task_definition_families(struct aws_call *c)
{
	/* a family is ACTIVE while one of its revisions is */
	static const char sql[] =
	    "SELECT family FROM ecs_taskdefs WHERE account = ?1 AND region = ?2 AND "
	    "(?3 IS NULL OR substr(family, 1, length(?3)) = ?3) GROUP BY family HAVING ?4 = 'ALL' "
	    "OR (?4 = 'ACTIVE' AND max(status = 'ACTIVE')) OR (?4 = 'INACTIVE' AND NOT "
	    "max(status = 'ACTIVE')) ORDER BY family";
	const char *status = jv_get_str(c->in, "status");
	sqlite3_stmt *st = db_stmt(c->fb->db, sql);
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	ecs_bind_opt(st, 3, jv_get_str(c->in, "familyPrefix"));
	sqlite3_bind_text(st, 4, status ? status : "ACTIVE", -1, SQLITE_STATIC);
	return page(c, st, "families");
}
