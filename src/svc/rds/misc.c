/* misc.c - DB subnet groups (stored and reported; fogbank has one
 * loopback network) and the server's real log: DescribeDBLogFiles and
 * DownloadDBLogFilePortion serve <inst>/postgresql.log, which the runtime
 * fills from the server's captured output. */
#include "core/compat.h"
#include "aws/json.h"
#include "aws/gen/rds_ops.h"
#include "fb.h"
#include "svc/rds/internal.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_NAME "error/postgresql.log"
#define LOG_PORTION_MAX (1024 * 1024) /* AWS returns at most 1 MB */

/* subnet_out: the DBSubnetGroup shape of a stored group. */
static struct jv *subnet_out(struct aws_call *c, const char *name, const char *desc,
			     const char *subnets, const char *arn)
{
	struct jv *g = jv_object(c->a), *list = jv_array(c->a);
	struct jv *ids = subnets ? json_parse(c->a, subnets, strlen(subnets), NULL) : NULL;
	jv_set_str(c->a, g, "DBSubnetGroupName", name);
	jv_set_str(c->a, g, "DBSubnetGroupDescription", desc);
	jv_set_str(c->a, g, "VpcId", "vpc-fogbank0");
	jv_set_str(c->a, g, "SubnetGroupStatus", "Complete");
	for (size_t i = 0; i < jv_len(ids); i++) {
		struct jv *s = jv_object(c->a), *az = jv_object(c->a);
		jv_set(c->a, s, "SubnetIdentifier", jv_at(ids, i));
		jv_set_str(c->a, az, "Name",
			   arena_sprintf(c->a, "%s%c", c->region, 'a' + (int)(i % 3)));
		jv_set(c->a, s, "SubnetAvailabilityZone", az);
		jv_set_str(c->a, s, "SubnetStatus", "Active");
		jv_push(c->a, list, s);
	}
	jv_set(c->a, g, "Subnets", list);
	jv_set_str(c->a, g, "DBSubnetGroupArn", arn);
	struct jv *types = jv_array(c->a);
	jv_push(c->a, types, jv_string_c(c->a, "IPV4"));
	jv_set(c->a, g, "SupportedNetworkTypes", types);
	return g;
}

int rds_op_create_db_subnet_group(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "DBSubnetGroupName");
	const char *desc = jv_get_str(c->in, "DBSubnetGroupDescription");
	struct jv *ids = jv_get(c->in, "SubnetIds");
	if (!name || !*name || strlen(name) > 255 || !strcmp(name, "default"))
		return aws_fail(c, 400, "InvalidParameterValue",
				"The parameter DBSubnetGroupName is not a valid identifier.");
	if (jv_len(ids) < 2)
		return aws_fail(
		    c, 400, "DBSubnetGroupDoesNotCoverEnoughAZs",
		    "The DB subnet group doesn't meet Availability Zone (AZ) coverage "
		    "requirement. Current AZ coverage: 1. Add subnets to cover at least "
		    "2 AZs.");
	const char *lname = rds_lower(c->a, name);
	const char *arn =
	    arena_sprintf(c->a, "arn:aws:rds:%s:%s:subgrp:%s", c->region, c->account, lname);
	const char *subnets = rds_json_text(c->a, ids);
	if (rds_tx_begin(c) < 0)
		return -1;
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "INSERT INTO rds_subnet_groups(account, region, name, "
			       "description, subnets, arn) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, lname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, desc ? desc : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, subnets, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, arn, -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc == SQLITE_CONSTRAINT)
		return rds_tx_end(c, aws_fail(c, 400, "DBSubnetGroupAlreadyExists",
					      "The DB subnet group '%s' already exists.", lname));
	if (rc != SQLITE_DONE)
		return rds_tx_end(c, rds_fail_db(c, rc));
	if (rds_tags_put(c, arn, jv_get(c->in, "Tags")) < 0 || rds_tx_end(c, 0) < 0)
		return rds_tx_end(c, -1);
	jv_set(c->a, aws_out(c), "DBSubnetGroup",
	       subnet_out(c, lname, desc ? desc : "", subnets, arn));
	return 0;
}

int rds_op_describe_db_subnet_groups(struct aws_call *c)
{
	const char *only = jv_get_str(c->in, "DBSubnetGroupName");
	struct jv *list = jv_array(c->a);
	sqlite3_stmt *st =
	    db_stmt(c->fb->db, "SELECT name, description, subnets, arn FROM "
			       "rds_subnet_groups WHERE account = ?1 AND region = ?2 "
			       "AND (?3 IS NULL OR name = lower(?3)) ORDER BY name");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	if (only)
		sqlite3_bind_text(st, 3, only, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		jv_push(c->a, list,
			subnet_out(c, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2),
				   db_col_text(st, 3)));
	sqlite3_reset(st);
	if (only && !jv_len(list))
		return aws_fail(c, 404, "DBSubnetGroupNotFoundFault",
				"DB subnet group '%s' does not exist.", only);
	jv_set(c->a, aws_out(c), "DBSubnetGroups", list);
	return 0;
}

int rds_op_delete_db_subnet_group(struct aws_call *c)
{
	const char *name = jv_get_str(c->in, "DBSubnetGroupName");
	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT 1 FROM rds_instances WHERE account = ?1 AND "
					      "region = ?2 AND subnet_group = lower(?3)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	int used = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (used)
		return aws_fail(c, 400, "InvalidDBSubnetGroupStateFault",
				"Cannot delete the subnet group '%s' because at least one database "
				"instance is still using it.",
				name);
	st = db_stmt(c->fb->db, "DELETE FROM rds_subnet_groups WHERE account = ?1 AND region = ?2 "
				"AND name = lower(?3)");
	sqlite3_bind_text(st, 1, c->account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
	int rc = db_step_done(st);
	if (rc != SQLITE_DONE)
		return rds_fail_db(c, rc);
	if (sqlite3_changes(db_sqlite(c->fb->db)) == 0)
		return aws_fail(c, 404, "DBSubnetGroupNotFoundFault",
				"DB subnet group '%s' does not exist.", name ? name : "");
	return 0;
}

/* log_path: the instance's captured server log. */
static int log_path(struct aws_call *c, struct rds_inst *r, char *out, size_t cap)
{
	if (rds_inst_find(c, jv_get_str(c->in, "DBInstanceIdentifier"), r) < 0)
		return -1;
	char dir[4000];
	rds_inst_dir(c->fb->data_dir, r->id, dir, sizeof(dir));
	snprintf(out, cap, "%s/postgresql.log", dir);
	return 0;
}

int rds_op_describe_db_log_files(struct aws_call *c)
{
	struct rds_inst r;
	char path[4100];
	struct stat st;
	if (log_path(c, &r, path, sizeof(path)) < 0)
		return -1;
	struct jv *list = jv_array(c->a);
	if (stat(path, &st) == 0) {
		struct jv *f = jv_object(c->a);
		jv_set_str(c->a, f, "LogFileName", LOG_NAME);
		jv_set_int(c->a, f, "LastWritten", (int64_t)st.st_mtime * 1000);
		jv_set_int(c->a, f, "Size", (int64_t)st.st_size);
		jv_push(c->a, list, f);
	}
	jv_set(c->a, aws_out(c), "DescribeDBLogFiles", list);
	return 0;
}

int rds_op_download_db_log_file_portion(struct aws_call *c)
{
	struct rds_inst r;
	char path[4100];
	if (log_path(c, &r, path, sizeof(path)) < 0)
		return -1;
	const char *name = jv_get_str(c->in, "LogFileName");
	if (!name || strcmp(name, LOG_NAME))
		return aws_fail(c, 404, "DBLogFileNotFoundFault",
				"DBLog File: %s, is not found on "
				"the DB instance",
				name ? name : "");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		jv_set_str(c->a, aws_out(c), "LogFileData", "");
		jv_set_str(c->a, aws_out(c), "Marker", "0");
		jv_set_bool(c->a, aws_out(c), "AdditionalDataPending", 0);
		return 0;
	}
	/* Marker: a byte offset. NumberOfLines: from the marker on, or the
	 * last lines when there is no marker (AWS's tail behaviour). */
	const char *marker = jv_get_str(c->in, "Marker");
	int64_t lines = jv_get_int(c->in, "NumberOfLines", 0);
	off_t off = marker ? (off_t)atoll(marker) : 0, size = st.st_size;
	if (off < 0 || off > size)
		off = size;
	if (!marker && size > LOG_PORTION_MAX)
		off = size - LOG_PORTION_MAX;
	size_t n = (size_t)(size - off) > LOG_PORTION_MAX ? LOG_PORTION_MAX : (size_t)(size - off);
	char *data = arena_alloc(c->a, n + 1);
	ssize_t got = pread(fd, data, n, off);
	close(fd);
	n = got > 0 ? (size_t)got : 0;
	data[n] = 0;
	size_t start = 0, end = n;
	if (lines > 0 && !marker) {
		int64_t seen = 0;
		for (size_t i = n; i > 0; i--)
			if (data[i - 1] == '\n' && i != n && ++seen == lines) {
				start = i;
				break;
			}
	} else if (lines > 0) {
		int64_t seen = 0;
		for (size_t i = 0; i < n; i++)
			if (data[i] == '\n' && ++seen == lines) {
				end = i + 1;
				break;
			}
	}
	jv_set_strn(c->a, aws_out(c), "LogFileData", data + start, end - start);
	jv_set_str(c->a, aws_out(c), "Marker",
		   arena_sprintf(c->a, "%lld", (long long)(off + (off_t)end)));
	jv_set_bool(c->a, aws_out(c), "AdditionalDataPending", off + (off_t)end < size);
	return 0;
}
