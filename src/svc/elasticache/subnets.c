/* subnets.c - cache subnet groups, stored: Create, Describe, Modify,
 * Delete. fogbank has no VPCs to check subnets against: ids are kept as
 * given, each placed in the region's first zone, under one VPC id derived
 * from the account (stable, so Terraform sees no drift). */
#include "core/compat.h"
#include "aws/gen/elasticache_ops.h"
#include "core/buf.h"
#include "fb.h"
#include "svc/elasticache/internal.h"

int ec_subnet_group_exists(struct db *db, const char *account, const char *region, const char *name)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT 1 FROM ec_subnet_groups WHERE account = ?1 AND "
				       "region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* subnets_arg: SubnetIds newline-joined (arena); NULL with the error. */
static const char *subnets_arg(struct aws_call *c)
{
	const struct jv *ids = jv_get(c->in, "SubnetIds");
	if (jv_len(ids) < 1 || jv_len(ids) > 20) {
		aws_fail(c, 400, "InvalidParameterValue", "SubnetIds must list 1 to 20 subnets.");
		return NULL;
	}
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < jv_len(ids); i++) {
		const struct jv *v = jv_at(ids, i);
		if (v->type != JV_STRING || strncmp(v->u.s.p, "subnet-", 7)) {
			buf_release(&b);
			aws_fail(c, 400, "InvalidSubnet", "The subnet ID %s is not valid.",
				 v->type == JV_STRING ? v->u.s.p : "?");
			return NULL;
		}
		buf_printf(&b, "%s%s", i ? "\n" : "", v->u.s.p);
	}
	const char *s = arena_strdup(c->a, b.p);
	buf_release(&b);
	return s;
}

/* group_jv: the CacheSubnetGroup shape. */
static struct jv *group_jv(struct aws_call *c, const char *name, const char *desc, const char *vpc,
			   const char *subnets)
{
	struct arena *a = c->a;
	struct jv *o = jv_object(a), *list = jv_array(a), *types = jv_array(a);
	jv_push(a, types, jv_string_c(a, "ipv4"));
	jv_set_str(a, o, "CacheSubnetGroupName", name);
	jv_set_str(a, o, "CacheSubnetGroupDescription", desc);
	jv_set_str(a, o, "VpcId", vpc);
	for (const char *p = subnets; *p;) {
		size_t n = strcspn(p, "\n");
		struct jv *s = jv_object(a), *az = jv_object(a);
		jv_set_strn(a, s, "SubnetIdentifier", p, n);
		jv_set_str(a, az, "Name", arena_sprintf(a, "%sa", c->region));
		jv_set(a, s, "SubnetAvailabilityZone", az);
		jv_set(a, s, "SupportedNetworkTypes", types);
		jv_push(a, list, s);
		p += n + (p[n] == '\n');
	}
	jv_set(a, o, "Subnets", list);
	jv_set_str(a, o, "ARN", ec_arn(a, c->region, c->account, "subnetgroup", name));
	jv_set(a, o, "SupportedNetworkTypes", types);
	return o;
}

/* group_out: sets key on the output to group name's shape; -1 with
 * CacheSubnetGroupNotFoundFault. */
static int group_out(struct aws_call *c, const char *name, const char *key)
{
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT description, vpc_id, subnets FROM "
					      "ec_subnet_groups WHERE account = ?1 AND region = ?2 "
					      "AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		jv_set(
		    c->a, aws_out(c), key,
		    group_jv(c, name, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2)));
	sqlite3_reset(st);
	if (!found)
		return aws_fail(c, 400, "CacheSubnetGroupNotFoundFault",
				"Cache subnet group %s does not exist.", name);
	return 0;
}

int elasticache_op_create_cache_subnet_group(struct aws_call *c)
{
	char *name = ec_lower(c, jv_get_str(c->in, "CacheSubnetGroupName"));
	const char *subnets = subnets_arg(c);
	if (!subnets || ec_tags_check(c, jv_get(c->in, "Tags")) < 0)
		return -1;
	if (!*name || strlen(name) > 255 || !strcmp(name, "default"))
		return aws_fail(c, 400, "InvalidParameterValue", "Invalid subnet group name: %s",
				name);
	if (ec_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "INSERT INTO ec_subnet_groups(account, region, name, "
			       "description, vpc_id, subnets) VALUES(?1, ?2, ?3, ?4, "
			       "'vpc-' || substr(hex(?1), 1, 17), ?5)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, jv_get_str(c->in, "CacheSubnetGroupDescription"), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, subnets, -1, SQLITE_STATIC);
	int rc = db_step_done(st), ok = 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		ok = aws_fail(c, 400, "CacheSubnetGroupAlreadyExists",
			      "Cache subnet group %s already exists.", name);
	else if (rc != SQLITE_DONE)
		ok = ec_fail_db(c, rc);
	else
		ok = ec_tags_put(c, ec_arn(c->a, c->region, c->account, "subnetgroup", name),
				 jv_get(c->in, "Tags"));
	if (ec_tx_end(c, ok) < 0)
		return -1;
	return group_out(c, name, "CacheSubnetGroup");
}

int elasticache_op_describe_cache_subnet_groups(struct aws_call *c)
{
	int64_t max, off;
	if (ec_page(c, &max, &off) < 0)
		return -1;
	const char *only = ec_lower(c, jv_get_str(c->in, "CacheSubnetGroupName"));
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT name, description, vpc_id, subnets FROM "
			       "ec_subnet_groups WHERE account = ?1 AND region = ?2 "
			       "AND (?3 IS NULL OR name = ?3) ORDER BY name LIMIT ?4 "
			       "OFFSET ?5");
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
					 db_col_text(st, 2), db_col_text(st, 3)));
	sqlite3_reset(st);
	if (only && k == 0)
		return aws_fail(c, 400, "CacheSubnetGroupNotFoundFault",
				"Cache subnet group %s does not exist.", only);
	if (k > max)
		ec_page_marker(c, aws_out(c), off + max);
	jv_set(c->a, aws_out(c), "CacheSubnetGroups", list);
	return 0;
}

int elasticache_op_modify_cache_subnet_group(struct aws_call *c)
{
	char *name = ec_lower(c, jv_get_str(c->in, "CacheSubnetGroupName"));
	const char *subnets = jv_get(c->in, "SubnetIds") ? subnets_arg(c) : NULL;
	if (jv_get(c->in, "SubnetIds") && !subnets)
		return -1;
	if (!ec_subnet_group_exists(c->fb->db, c->account, c->region, name))
		return aws_fail(c, 400, "CacheSubnetGroupNotFoundFault",
				"Cache subnet group %s does not exist.", name);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "UPDATE ec_subnet_groups SET description = "
			       "IFNULL(?4, description), subnets = IFNULL(?5, "
			       "subnets) WHERE account = ?1 AND region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	const char *desc = jv_get_str(c->in, "CacheSubnetGroupDescription");
	if (desc)
		sqlite3_bind_text(st, 4, desc, -1, SQLITE_STATIC);
	if (subnets)
		sqlite3_bind_text(st, 5, subnets, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return ec_fail_db(c, rc);
	return group_out(c, name, "CacheSubnetGroup");
}

int elasticache_op_delete_cache_subnet_group(struct aws_call *c)
{
	char *name = ec_lower(c, jv_get_str(c->in, "CacheSubnetGroupName"));
	if (!ec_subnet_group_exists(c->fb->db, c->account, c->region, name))
		return aws_fail(c, 400, "CacheSubnetGroupNotFoundFault",
				"Cache subnet group %s does not exist.", name);
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT 1 FROM ec_clusters WHERE account = ?1 AND "
					      "region = ?2 AND subnet_group = ?3 LIMIT 1");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int used = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (used)
		return aws_fail(c, 400, "CacheSubnetGroupInUse",
				"Cache subnet group %s is currently in use by a cache cluster.",
				name);
	if (ec_tx_begin(c) < 0)
		return -1;
	st = db_stmt(c->fb->db, "DELETE FROM ec_subnet_groups WHERE account = ?1 AND region = ?2 "
				"AND name = ?3");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	int ok =
	    rc == SQLITE_DONE
		? ec_tags_drop(c->fb->db, ec_arn(c->a, c->region, c->account, "subnetgroup", name))
		: ec_fail_db(c, rc);
	return ec_tx_end(c, ok);
}
