/* paramgroups.c - cache parameter groups of family redis7: Create,
 * Describe, Modify (immediate parameters applied live to every node using
 * the group), Reset, Delete, DescribeCacheParameters and
 * DescribeEngineDefaultParameters. default.redis7 and
 * default.redis7.cluster.on always exist and cannot be changed, as on AWS. Only values that differ from a default
 * are stored. */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "fb.h"
#include "svc/elasticache/internal.h"

/* group_jv: the CacheParameterGroup shape. */
static struct jv *group_jv(struct aws_call *c, const char *name, const char *family,
			   const char *desc)
{
	struct jv *o = jv_object(c->a);
	jv_set_str(c->a, o, "CacheParameterGroupName", name);
	jv_set_str(c->a, o, "CacheParameterGroupFamily", family);
	jv_set_str(c->a, o, "Description", desc);
	jv_set_bool(c->a, o, "IsGlobal", 0);
	jv_set_str(c->a, o, "ARN", ec_arn(c->a, c->region, c->account, "parametergroup", name));
	return o;
}

/* group_arg: the CacheParameterGroupName of a call on an existing group;
 * modifiable: refuse the default groups. NULL with the error. */
static const char *group_arg(struct aws_call *c, int modifiable)
{
	const char *g = jv_get_str(c->in, "CacheParameterGroupName");
	if (!g || !ec_param_group_exists(c->fb->db, c->account, c->region, g)) {
		aws_fail(c, 404, "CacheParameterGroupNotFound", "CacheParameterGroup %s not found.",
			 g ? g : "");
		return NULL;
	}
	if (modifiable && ec_param_group_default(g)) {
		aws_fail(c, 400, "InvalidParameterValue",
			 "Cannot modify or delete default cache parameter group %s.", g);
		return NULL;
	}
	return g;
}

int elasticache_op_create_cache_parameter_group(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "CacheParameterGroupName");
	const char *family = jv_get_str(c->in, "CacheParameterGroupFamily");
	const char *desc = jv_get_str(c->in, "Description");
	if (!name || !*name || strlen(name) > 255 || !strncmp(name, "default.", 8))
		return aws_fail(c, 400, "InvalidParameterValue",
				"Invalid cache parameter group name: %s", name ? name : "");
	if (strcmp(family, EC_FAMILY))
		return aws_fail(c, 400, "InvalidParameterValue",
				"CacheParameterGroupFamily %s is not served by fogbank (only %s, "
				"the installed Redis 7).",
				family, EC_FAMILY);
	if (ec_tags_check(c, jv_get(c->in, "Tags")) < 0 || ec_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "INSERT INTO ec_param_groups(account, region, name, "
					      "family, description) VALUES(?1, ?2, ?3, ?4, ?5)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, desc, -1, SQLITE_STATIC);
	int rc = db_step_done(st), ok = 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		ok = aws_fail(c, 400, "CacheParameterGroupAlreadyExists",
			      "Parameter group %s already exists.", name);
	else if (rc != SQLITE_DONE)
		ok = ec_fail_db(c, rc);
	else
		ok = ec_tags_put(c, ec_arn(c->a, c->region, c->account, "parametergroup", name),
				 jv_get(c->in, "Tags"));
	if (ec_tx_end(c, ok) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "CacheParameterGroup", group_jv(c, name, family, desc));
	return 0;
}

int elasticache_op_describe_cache_parameter_groups(struct aws_call *c)
{
	int64_t max, off;
	if (ec_page(c, &max, &off) < 0)
		return -1;
	const char *only = jv_get_str(c->in, "CacheParameterGroupName");
	if (only && group_arg(c, 0) == NULL)
		return -1;
	/* the default group first, then the account's own by name */
	sqlite3_stmt *st =
	    db_stmt(c->fb->db,
		    "SELECT name, family, description FROM (SELECT 0 AS k, '" EC_DEFAULT_PARAM_GROUP
		    "' AS name, '" EC_FAMILY "' AS family, 'Default parameter group for " EC_FAMILY
		    "' AS description UNION ALL SELECT 0, '" EC_DEFAULT_CLUSTER_PARAM_GROUP
		    "', '" EC_FAMILY "', 'Default parameter group for " EC_FAMILY
		    " with cluster mode on' UNION ALL SELECT 1, name, family, description FROM "
		    "ec_param_groups WHERE account = ?1 AND region = ?2) WHERE ?3 IS NULL OR "
		    "name = ?3 ORDER BY k, name LIMIT ?4 OFFSET ?5");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	if (only)
		sqlite3_bind_text(st, 3, only, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, max + 1);
	sqlite3_bind_int64(st, 5, off);
	struct jv *list = jv_array(c->a);
	int64_t k = 0;
	while (sqlite3_step(st) == SQLITE_ROW)
		if (k++ < max)
			jv_push(c->a, list,
				group_jv(c, db_col_text(st, 0), db_col_text(st, 1),
					 db_col_text(st, 2)));
	sqlite3_reset(st);
	if (k > max)
		ec_page_marker(c, aws_out(c), off + max);
	jv_set(c->a, aws_out(c), "CacheParameterGroups", list);
	return 0;
}

/* params_list: the Parameters of group (NULL: the engine defaults),
 * filtered by source ("user", "system", "engine-default" or NULL). */
static int params_list(struct aws_call *c, const char *group, struct jv *o)
{
	int64_t max, off;
	if (ec_page(c, &max, &off) < 0)
		return -1;
	const char *source = jv_get_str(c->in, "Source");
	size_t n;
	const struct ec_param_def *d = ec_param_defs(&n);
	struct jv *list = jv_array(c->a);
	int64_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *v =
		    group ? ec_param_value(c->fb->db, c->a, c->account, c->region, group, d[i].name)
			  : d[i].def;
		const char *src = strcmp(v, d[i].def) && !(group && ec_param_group_default(group))
				      ? "user"
				      : "system";
		if (source && strcmp(source, src) &&
		    !(strcmp(source, "engine-default") == 0 && !strcmp(src, "system")))
			continue;
		if (k++ < off || k > off + max)
			continue;
		struct jv *p = jv_object(c->a);
		jv_set_str(c->a, p, "ParameterName", d[i].name);
		if (*v)
			jv_set_str(c->a, p, "ParameterValue", v);
		jv_set_str(c->a, p, "Description", d[i].desc);
		jv_set_str(c->a, p, "Source", src);
		jv_set_str(c->a, p, "DataType", d[i].type);
		if (*d[i].allowed)
			jv_set_str(c->a, p, "AllowedValues", d[i].allowed);
		jv_set_bool(c->a, p, "IsModifiable", d[i].modifiable);
		jv_set_str(c->a, p, "MinimumEngineVersion", "7.0.0");
		jv_set_str(c->a, p, "ChangeType", d[i].reboot ? "requires-reboot" : "immediate");
		jv_push(c->a, list, p);
	}
	if (k > off + max)
		ec_page_marker(c, o, off + max);
	jv_set(c->a, o, "Parameters", list);
	struct jv *typed = jv_array(c->a), *mm = jv_object(c->a), *vals = jv_array(c->a);
	static const char *const types[] = {"cache.t3.micro", "cache.t4g.micro", "cache.m6g.large",
					    "cache.r6g.large"};
	for (size_t i = 0; i < FB_ARRAY_LEN(types); i++) {
		struct jv *tv = jv_object(c->a);
		jv_set_str(c->a, tv, "CacheNodeType", types[i]);
		jv_set_str(c->a, tv, "Value",
			   arena_sprintf(c->a, "%lld", (long long)ec_node_type_memory(types[i])));
		jv_push(c->a, vals, tv);
	}
	jv_set_str(c->a, mm, "ParameterName", "maxmemory");
	jv_set_str(c->a, mm, "Description",
		   "The maximum configurable amount of memory to use to "
		   "store items, in bytes.");
	jv_set_str(c->a, mm, "Source", "system");
	jv_set_str(c->a, mm, "DataType", "integer");
	jv_set_str(c->a, mm, "AllowedValues", "0-");
	jv_set_bool(c->a, mm, "IsModifiable", 0);
	jv_set_str(c->a, mm, "MinimumEngineVersion", "7.0.0");
	jv_set(c->a, mm, "CacheNodeTypeSpecificValues", vals);
	jv_set_str(c->a, mm, "ChangeType", "immediate");
	jv_push(c->a, typed, mm);
	jv_set(c->a, o, "CacheNodeTypeSpecificParameters", typed);
	return 0;
}

int elasticache_op_describe_cache_parameters(struct aws_call *c)
{
	const char *g = group_arg(c, 0);
	return g ? params_list(c, g, aws_out(c)) : -1;
}

int elasticache_op_describe_engine_default_parameters(struct aws_call *c)
{
	const char *family = jv_get_str(c->in, "CacheParameterGroupFamily");
	if (strcmp(family, EC_FAMILY))
		return aws_fail(c, 400, "InvalidParameterValue",
				"CacheParameterGroupFamily %s is not served by fogbank.", family);
	struct jv *o = jv_object(c->a);
	jv_set_str(c->a, o, "CacheParameterGroupFamily", family);
	if (params_list(c, NULL, o) < 0)
		return -1;
	jv_set(c->a, aws_out(c), "EngineDefaults", o);
	return 0;
}

/* set_params: stores the ParameterNameValues (reset: back to defaults);
 * *reboot is set when a requires-reboot parameter changed. */
static int set_params(struct aws_call *c, const char *g, int reset, int *reboot)
{
	const struct jv *list = jv_get(c->in, "ParameterNameValues");
	if (!reset && (jv_len(list) < 1 || jv_len(list) > 20))
		return aws_fail(c, 400, "InvalidParameterValue",
				"ParameterNameValues must list 1 to 20 parameters.");
	for (size_t i = 0; i < jv_len(list); i++) {
		const char *name = jv_get_str(jv_at(list, i), "ParameterName");
		const char *value = jv_get_str(jv_at(list, i), "ParameterValue");
		const struct ec_param_def *d = ec_param_def_find(name);
		if (!d)
			return aws_fail(c, 400, "InvalidParameterValue",
					"Unknown parameter name: %s", name ? name : "");
		if (!reset && ec_param_check(c, d, value) < 0)
			return -1;
		const char *was = ec_param_value(c->fb->db, c->a, c->account, c->region, g, name);
		const char *now = reset ? d->def : value ? value : "";
		if (d->reboot && strcmp(was, now))
			*reboot = 1;
		sqlite3_stmt *st =
		    reset || !strcmp(now, d->def)
			? db_stmt(c->fb->db,
				  "DELETE FROM ec_params WHERE account = ?1 AND region = "
				  "?2 AND grp = ?3 AND name = ?4")
			: db_stmt(c->fb->db, "INSERT INTO ec_params(account, region, grp, name, "
					     "value) VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO "
					     "UPDATE SET value = excluded.value");
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, g, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
		if (!(reset || !strcmp(now, d->def)))
			sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			return ec_fail_db(c, rc);
	}
	return 0;
}

/* modify_or_reset: the shared body of Modify and Reset. */
static int modify_or_reset(struct aws_call *c, int reset)
{
	ec_rt_attach(c->fb);
	const char *g = group_arg(c, 1);
	if (!g)
		return -1;
	int all = reset && jv_get_bool(c->in, "ResetAllParameters", 0);
	if (all && jv_len(jv_get(c->in, "ParameterNameValues")))
		return aws_fail(c, 400, "InvalidParameterCombination",
				"ResetAllParameters and ParameterNameValues are mutually "
				"exclusive.");
	int reboot = 0;
	if (ec_tx_begin(c) < 0)
		return -1;
	int ok = 0;
	if (all) {
		sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT COUNT(*) FROM ec_params p WHERE "
						      "account = ?1 AND region = ?2 AND grp = ?3");
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, g, -1, SQLITE_STATIC);
		reboot = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
		sqlite3_reset(st);
		st = db_stmt(c->fb->db, "DELETE FROM ec_params WHERE account = ?1 AND region = ?2 "
					"AND grp = ?3");
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, g, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ec_fail_db(c, rc);
	} else {
		ok = set_params(c, g, reset, &reboot);
	}
	if (ec_tx_end(c, ok) < 0)
		return -1;
	ec_live_params(c->fb->db, c->account, c->region, g, reboot);
	jv_set_str(c->a, aws_out(c), "CacheParameterGroupName", g);
	return 0;
}

int elasticache_op_modify_cache_parameter_group(struct aws_call *c)
{
	return modify_or_reset(c, 0);
}

int elasticache_op_reset_cache_parameter_group(struct aws_call *c)
{
	return modify_or_reset(c, 1);
}

int elasticache_op_delete_cache_parameter_group(struct aws_call *c)
{
	const char *g = group_arg(c, 1);
	if (!g)
		return -1;
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT 1 FROM ec_clusters WHERE account = ?1 AND "
					      "region = ?2 AND param_group = ?3 LIMIT 1");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, g, -1, SQLITE_STATIC);
	int used = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (used)
		return aws_fail(c, 400, "InvalidCacheParameterGroupState",
				"Cache parameter group %s is in use by a cache cluster.", g);
	if (ec_tx_begin(c) < 0)
		return -1;
	static const char *const sql[] = {
	    "DELETE FROM ec_params WHERE account = ?1 AND region = ?2 AND grp = ?3",
	    "DELETE FROM ec_param_groups WHERE account = ?1 AND region = ?2 AND name = ?3",
	};
	int ok = 0;
	for (size_t i = 0; ok == 0 && i < FB_ARRAY_LEN(sql); i++) {
		st = db_stmt(c->fb->db, sql[i]);
		sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, g, -1, SQLITE_STATIC);
		int rc = db_step_done(st);
		if (rc != SQLITE_DONE)
			ok = ec_fail_db(c, rc);
	}
	if (ok == 0)
		ok = ec_tags_drop(c->fb->db,
				  ec_arn(c->a, c->region, c->account, "parametergroup", g));
	return ec_tx_end(c, ok);
}
