/* params.c - DB parameter groups: Create/Describe/Modify/Reset/Delete and
 * DescribeDBParameters over the real settings of PostgreSQL 15. A group's
 * values become postgresql.conf lines of every instance using it: dynamic
 * parameters (any context but postmaster) with ApplyMethod immediate are
 * applied at once by a configuration reload; static ones, and anything
 * with pending-reboot, at the next reboot (ParameterApplyStatus
 * pending-reboot), as AWS reports them. */
#include "core/compat.h"
#include "aws/gen/rds_ops.h"
#include "core/buf.h"
#include "fb.h"
#include "svc/rds/internal.h"
#include "svc/rds/params.h"
#include <stdlib.h>

#define FAMILY "postgres15"

/* find_param: the settings-table row of name, or NULL. */
static const struct rds_pg_param *find_param(const char *name)
{
	for (const struct rds_pg_param *p = rds_pg_params; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

/* group_id: the row id of group name in the call's account and region;
 * 0 for default.* groups; -1 with DBParameterGroupNotFound. */
static int64_t group_id(struct aws_call *c, const char *name)
{
	if (!name)
		return aws_fail(c, 400, "InvalidParameterValue",
				"DBParameterGroupName is required.");
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT id FROM rds_param_groups WHERE account = ?1 "
					      "AND region = ?2 AND name = lower(?3)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (id < 0 && !strncmp(name, "default.", 8))
		return 0;
	if (id < 0)
		return aws_fail(c, 404, "DBParameterGroupNotFound",
				"DBParameterGroup not found: %s", name);
	return id;
}

const char *rds_param_conf(struct aws_call *c, const char *name)
{
	struct buf b = BUF_INIT;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT p.name, p.value FROM rds_params p JOIN rds_param_groups g "
			       "ON g.id = p.group_id WHERE g.account = ?1 AND g.region = ?2 AND "
			       "g.name = ?3 ORDER BY p.name");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		buf_printf(&b, "%s = '", db_col_text(st, 0));
		for (const char *p = db_col_text(st, 1); p && *p; p++) {
			if (*p == '\'')
				buf_putc(&b, '\'');
			if (*p != '\n')
				buf_putc(&b, *p);
		}
		buf_puts(&b, "'\n");
	}
	sqlite3_reset(st);
	const char *out = arena_strndup(c->a, b.p ? b.p : "", b.n);
	buf_release(&b);
	return out;
}

/* group_out: the DBParameterGroup shape. */
static struct jv *group_out(struct aws_call *c, const char *name, const char *desc, const char *arn)
{
	struct jv *g = jv_object(c->a);
	jv_set_str(c->a, g, "DBParameterGroupName", name);
	jv_set_str(c->a, g, "DBParameterGroupFamily", FAMILY);
	jv_set_str(c->a, g, "Description", desc);
	jv_set_str(c->a, g, "DBParameterGroupArn", arn);
	return g;
}

int rds_op_create_db_parameter_group(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "DBParameterGroupName");
	const char *family = jv_get_str(c->in, "DBParameterGroupFamily");
	const char *desc = jv_get_str(c->in, "Description");
	if (!rds_valid_ident(name) || !strncmp(name, "default", 7))
		return aws_fail(c, 400, "InvalidParameterValue",
				"The parameter DBParameterGroupName is not a valid identifier.");
	if (!family || strcmp(family, FAMILY))
		return aws_fail(c, 400, "InvalidParameterValue",
				"ParameterGroupFamily %s is not supported: fogbank serves %s.",
				family ? family : "", FAMILY);
	const char *lname = rds_lower(c->a, name);
	const char *arn =
	    arena_sprintf(c->a, "arn:aws:rds:%s:%s:pg:%s", c->region, c->account, lname);
	if (rds_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "INSERT INTO rds_param_groups(account, region, name, "
			       "family, description, arn) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, desc ? desc : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, arn, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc == SQLITE_CONSTRAINT)
		return rds_tx_end(c, aws_fail(c, 400, "DBParameterGroupAlreadyExists",
					      "Parameter group %s already exists", lname));
	if (rc != SQLITE_DONE)
		return rds_tx_end(c, rds_fail_db(c, rc));
	if (rds_tags_put(c, arn, jv_get(c->in, "Tags")) < 0 || rds_tx_end(c, 0) < 0)
		return rds_tx_end(c, -1);
	jv_set(c->a, aws_out(c), "DBParameterGroup", group_out(c, lname, desc ? desc : "", arn));
	return 0;
}

int rds_op_describe_db_parameter_groups(struct aws_call *c)
{
	const char *only = jv_get_str(c->in, "DBParameterGroupName");
	struct jv *list = jv_array(c->a);
	if (!only || !strcmp(only, "default." FAMILY))
		jv_push(c->a, list,
			group_out(c, "default." FAMILY, "Default parameter group for " FAMILY,
				  arena_sprintf(c->a, "arn:aws:rds:%s:%s:pg:default." FAMILY,
						c->region, c->account)));
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT name, description, arn FROM rds_param_groups "
			       "WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR "
			       "name = lower(?3)) ORDER BY name");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	if (only)
		sqlite3_bind_text(st, 3, only, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(c->a, list,
			group_out(c, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2)));
	sqlite3_reset(st);
	if (only && jv_len(list) == 0)
		return aws_fail(c, 404, "DBParameterGroupNotFound",
				"DBParameterGroup not found: %s", only);
	jv_set(c->a, aws_out(c), "DBParameterGroups", list);
	return 0;
}

/* param_out: one Parameter of the DescribeDBParameters answer. */
static struct jv *param_out(struct aws_call *c, const struct rds_pg_param *p, const char *value,
			    const char *method)
{
	struct jv *o = jv_object(c->a);
	int is_static = !strcmp(p->context, "postmaster");
	jv_set_str(c->a, o, "ParameterName", p->name);
	jv_set_str(c->a, o, "ParameterValue", value ? value : (*p->dflt ? p->dflt : NULL));
	jv_set_str(c->a, o, "Description", p->desc);
	jv_set_str(c->a, o, "Source", value ? "user" : "engine-default");
	jv_set_str(c->a, o, "ApplyType", is_static ? "static" : "dynamic");
	jv_set_str(c->a, o, "DataType", p->type);
	if (*p->min)
		jv_set_str(c->a, o, "AllowedValues", arena_sprintf(c->a, "%s-%s", p->min, p->max));
	jv_set_bool(c->a, o, "IsModifiable", p->modifiable);
	jv_set_str(c->a, o, "ApplyMethod", method ? method : "pending-reboot");
	return o;
}

int rds_op_describe_db_parameters(struct aws_call *c)
{
	int64_t gid = group_id(c, jv_get_str(c->in, "DBParameterGroupName"));
	if (gid < 0)
		return -1;
	const char *source = jv_get_str(c->in, "Source");
	int64_t max = jv_get_int(c->in, "MaxRecords", 100);
	const char *marker = jv_get_str(c->in, "Marker");
	int64_t off = marker ? atoll(marker) : 0, seen = 0;
	struct jv *list = jv_array(c->a);
	for (const struct rds_pg_param *p = rds_pg_params; p->name; p++) {
		const char *value = NULL, *method = NULL;
		sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT value, apply_method FROM rds_params "
						      "WHERE group_id = ?1 AND name = ?2");
		sqlite3_bind_int64(st, 1, gid);
		sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			value = arena_strdup(c->a, db_col_text(st, 0));
			method = arena_strdup(c->a, db_col_text(st, 1));
		}
		sqlite3_reset(st);
		if (source && strcmp(source, value ? "user" : "engine-default"))
			continue;
		if (seen++ < off)
			continue;
		if ((int64_t)jv_len(list) == max) {
			jv_set_str(c->a, aws_out(c), "Marker",
				   arena_sprintf(c->a, "%lld", (long long)(off + max)));
			break;
		}
		jv_push(c->a, list, param_out(c, p, value, method));
	}
	jv_set(c->a, aws_out(c), "Parameters", list);
	return 0;
}

/* refresh_instances: every instance using group name gets its new
 * configuration: reloaded now when every change was dynamic+immediate,
 * else marked pending-reboot. */
static void refresh_instances(struct aws_call *c, const char *name, int needs_reboot)
{
	struct rds_inst *v;
	size_t n = rds_inst_list(c->fb->db, c->a, c->account, c->region, &v);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].param_group, name))
			continue;
		struct jv *attrs = rds_json(c->a, v[i].attrs);
		if (needs_reboot) {
			jv_set_str(c->a, attrs, "ParameterApplyStatus", "pending-reboot");
		} else {
			jv_set_str(c->a, attrs, "ConfExtra", rds_param_conf(c, name));
		}
		sqlite3_stmt *st =
		    db_stmt(c->fb->db, "UPDATE rds_instances SET attrs = ?2 WHERE id = ?1");
		sqlite3_bind_int64(st, 1, v[i].id);
		sqlite3_bind_text(st, 2, rds_json_text(c->a, attrs), -1, SQLITE_STATIC);
		db_step_done(st);
		if (!needs_reboot)
			rds_rt_apply(c->fb, v[i].id);
	}
}

/* set_params: applies a ModifyDBParameterGroup / Reset Parameters list;
 * reset: delete the values instead. */
static int set_params(struct aws_call *c, int64_t gid, const struct jv *params, int reset,
		      int *needs_reboot)
{
	for (size_t i = 0; i < jv_len(params); i++) {
		const struct jv *q = jv_at(params, i);
		const char *name = jv_get_str(q, "ParameterName");
		const char *value = jv_get_str(q, "ParameterValue");
		const char *method = jv_get_str(q, "ApplyMethod");
		const struct rds_pg_param *p = name ? find_param(name) : NULL;
		if (!p)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Could not find parameter with name: %s", name ? name : "");
		if (!p->modifiable)
			return aws_fail(c, 400, "InvalidParameterValue",
					"The parameter %s cannot be modified.", name);
		int is_static = !strcmp(p->context, "postmaster");
		if (!method)
			method = is_static ? "pending-reboot" : "immediate";
		if (is_static && !strcmp(method, "immediate"))
			return aws_fail(c, 400, "InvalidParameterCombination",
					"cannot use immediate apply method for static parameter");
		if (!reset && !value)
			return aws_fail(c, 400, "InvalidParameterValue",
					"A value is required for parameter %s.", name);
		if (strcmp(method, "immediate"))
			*needs_reboot = 1;
		sqlite3_stmt *st =
		    reset ? db_stmt(c->fb->db, "DELETE FROM rds_params WHERE group_id = ?1 AND "
					       "name = ?2")
			  : db_stmt(c->fb->db, "INSERT OR REPLACE INTO rds_params(group_id, name, "
					       "value, apply_method) VALUES(?1, ?2, ?3, ?4)");
		sqlite3_bind_int64(st, 1, gid);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		if (!reset) {
			sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, method, -1, SQLITE_STATIC);
		}
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return rds_fail_db(c, rc);
	}
	return 0;
}

/* modify_or_reset: the body of Modify/ResetDBParameterGroup. */
static int modify_or_reset(struct aws_call *c, int reset)
{
	const char *name = jv_get_str(c->in, "DBParameterGroupName");
	int64_t gid = group_id(c, name);
	if (gid < 0)
		return -1;
	if (gid == 0)
		return aws_fail(c, 400, "InvalidParameterValue",
				"Default parameter groups cannot be modified.");
	int needs_reboot = 0;
	if (rds_tx_begin(c) < 0)
		return -1;
	int rc = 0;
	if (reset && jv_get_bool(c->in, "ResetAllParameters", 0)) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "DELETE FROM rds_params WHERE group_id = ?1");
		sqlite3_bind_int64(st, 1, gid);
		db_step_done(st);
		needs_reboot = 1;
	} else {
		rc = set_params(c, gid, jv_get(c->in, "Parameters"), reset, &needs_reboot);
	}
	if (rc == 0)
		refresh_instances(c, rds_lower(c->a, name), needs_reboot);
	if (rds_tx_end(c, rc) < 0)
		return -1;
	jv_set_str(c->a, aws_out(c), "DBParameterGroupName", rds_lower(c->a, name));
	return 0;
}

int rds_op_modify_db_parameter_group(struct aws_call *c)
{
	return modify_or_reset(c, 0);
}

int rds_op_reset_db_parameter_group(struct aws_call *c)
{
	return modify_or_reset(c, 1);
}

int rds_op_delete_db_parameter_group(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "DBParameterGroupName");
	int64_t gid = group_id(c, name);
	if (gid < 0)
		return -1;
	if (gid == 0)
		return aws_fail(c, 400, "InvalidDBParameterGroupState",
				"Default parameter groups cannot be deleted.");
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT 1 FROM rds_instances WHERE account = ?1 AND "
					      "region = ?2 AND param_group = lower(?3)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int used = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (used)
		return aws_fail(c, 400, "InvalidDBParameterGroupState",
				"One or more database instances are still members of this "
				"parameter group %s, so the group cannot be deleted",
				name);
	st = db_stmt(c->fb->db, "DELETE FROM rds_param_groups WHERE id = ?1");
	sqlite3_bind_int64(st, 1, gid);
	int rc = db_step_done(st);
	return rc == SQLITE_DONE ? 0 : rds_fail_db(c, rc);
}
