/* live.c - changes applied to running servers without a restart:
 * parameter group values (one CONFIG SET with every immediate parameter,
 * atomic in Redis 7) and auth token changes (ACL SETUSER on the default
 * user, CONFIG SET masterauth for replication). A restart needs none of
 * this: the node's redis.conf is written from the stored state. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "supervise/redis.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

struct apply_op {
	int64_t id;
	uint64_t gen;
};

static void apply_reply(void *arg, int ok, const char *p, size_t len)
{
	struct apply_op *op = arg;
	struct ec_node *n = ec_node_get(op->id);
	struct fogbank *fb = ec_rt_fb();
	if (n && n->gen == op->gen) {
		if (ok != 1)
			log_warn("elasticache: %s: CONFIG SET failed: %.*s", n->name, (int)len,
				 p ? p : "");
		ec_set_status(fb->db, n->id, EC_AVAILABLE, EC_MODIFYING);
	}
	free(op);
}

void ec_live_apply(int64_t id)
{
	struct fogbank *fb = ec_rt_fb();
	struct ec_node *n = ec_node_get(id);
	if (!n || !n->r || !n->ready) {
		ec_set_status(fb->db, id, EC_AVAILABLE, EC_MODIFYING);
		return; /* the next start reads the group */
	}
	struct arena *a = arena_new(8192);
	struct ec_cluster cl;
	if (ec_cluster_load(fb->db, a, id, &cl) < 0) {
		arena_free(a);
		return;
	}
	const char **kv = ec_params_conf(fb->db, a, cl.account, cl.region, cl.param_group);
	size_t k = 0;
	while (kv[k])
		k++;
	const char **argv = arena_alloc(a, (k + 2) * sizeof(*argv));
	int argc = 0;
	argv[argc++] = "CONFIG";
	argv[argc++] = "SET";
	for (size_t i = 0; i < k; i += 2) {
		const struct ec_param_def *d = ec_param_def_find(kv[i]);
		if (!d || d->reboot || !d->modifiable)
			continue; /* static settings wait for the reboot */
		argv[argc++] = kv[i];
		argv[argc++] = kv[i + 1];
	}
	struct apply_op *op = calloc(1, sizeof(*op));
	if (!op)
		fb_die("out of memory");
	op->id = id;
	op->gen = n->gen;
	redis_command(n->r, argc, argv, apply_reply, op);
	arena_free(a);
}

void ec_live_params(struct db *db, const char *account, const char *region, const char *group,
		    int reboot_needed)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT id FROM ec_clusters WHERE account = ?1 AND "
				       "region = ?2 AND param_group = ?3 AND status != 'deleting'");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
	int64_t ids[256];
	size_t k = 0;
	while (k < FB_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW)
		ids[k++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (size_t i = 0; i < k; i++) {
		if (reboot_needed) {
			sqlite3_stmt *u = db_stmt(db, "UPDATE ec_clusters SET param_status = "
						      "'pending-reboot' WHERE id = ?1");
			sqlite3_bind_int64(u, 1, ids[i]);
			db_step_done(u);
		}
		ec_live_apply(ids[i]);
	}
}

struct auth_op {
	int64_t id;
	uint64_t gen;
	char *token; /* NULL: no password any more */
};

static void auth_reply(void *arg, int ok, const char *p, size_t len)
{
	struct auth_op *op = arg;
	struct ec_node *n = ec_node_get(op->id);
	if (n && n->gen == op->gen && n->r) {
		if (ok == 1) {
			/* from now on fogbank AUTHs with the new token */
			redis_set_password(n->r, op->token);
			const char *argv[] = {"CONFIG", "SET", "masterauth",
					      op->token ? op->token : ""};
			ec_node_send(n, 4, argv);
		} else {
			log_warn("elasticache: %s: ACL SETUSER failed: %.*s", n->name, (int)len,
				 p ? p : "");
		}
		ec_set_status(ec_rt_fb()->db, n->id, EC_AVAILABLE, EC_MODIFYING);
	}
	free(op->token);
	free(op);
}

void ec_live_auth(int64_t id, const char *strategy, const char *token)
{
	struct ec_node *n = ec_node_get(id);
	if (!n || !n->r || !n->ready) {
		ec_set_status(ec_rt_fb()->db, id, EC_AVAILABLE, EC_MODIFYING);
		return;
	}
	struct auth_op *op = calloc(1, sizeof(*op));
	if (!op)
		fb_die("out of memory");
	op->id = id;
	op->gen = n->gen;
	char pw[160] = "";
	const char *argv[6];
	int argc = 0;
	argv[argc++] = "ACL";
	argv[argc++] = "SETUSER";
	argv[argc++] = "default";
	if (!strcmp(strategy, "DELETE")) {
		argv[argc++] = "resetpass";
		argv[argc++] = "nopass";
	} else {
		snprintf(pw, sizeof(pw), ">%s", token);
		if (!strcmp(strategy, "SET"))
			argv[argc++] = "resetpass";
		argv[argc++] = pw;
		op->token = strdup(token);
	}
	redis_command(n->r, argc, argv, auth_reply, op);
}
