/* seal.c - auth tokens at rest. fogbank must hand a node its token at
 * every start (through a pipe, never a file: src/supervise/redis.h), so it
 * keeps the token sealed with the shared sealer (src/store/seal.h) under
 * ElastiCache's own label; the additional data names the cluster, so a
 * blob copied onto another row does not open. */
#include "core/compat.h"
#include "core/log.h"
#include "store/seal.h"
#include "svc/elasticache/internal.h"

static struct seal_key ec_key = {"fogbank elasticache auth token seal v1"};

/* ec_seal_reset: see internal.h. */
void ec_seal_reset(void)
{
	seal_key_reset(&ec_key);
}

/* ec_seal: see internal.h. */
void *ec_seal(struct arena *a, const char *data_dir, const char *aad, const char *token,
	      size_t *len)
{
	return seal(&ec_key, data_dir, a, aad, token, strlen(token), len);
}

/* ec_unseal: see internal.h. */
char *ec_unseal(struct arena *a, const char *data_dir, const char *aad, const void *blob, size_t n)
{
	return unseal(&ec_key, data_dir, a, aad, blob, n);
}

/* ec_seal_aad: see internal.h. */
char *ec_seal_aad(struct arena *a, const char *account, const char *region, const char *name)
{
	return arena_sprintf(a, "elasticache:auth-token:%s:%s:%s", account, region, name);
}

/* ec_seal_legacy: see internal.h. */
void ec_seal_legacy(struct db *db, const char *data_dir)
{
	sqlite3_stmt *st = db_stmt(db, "SELECT id, account, region, name, auth_token, "
				       "auth_token_old FROM ec_clusters WHERE auth_token IS NOT "
				       "NULL OR auth_token_old IS NOT NULL");
	if (sqlite3_step(st) != SQLITE_ROW) { /* the usual case: nothing to do */
		sqlite3_reset(st);
		return;
	}
	sqlite3_reset(st);
	struct arena *a = arena_new(4096);
	size_t done = 0;
	/* the plaintext's pages are overwritten, not just unlinked */
	db_exec(db, "PRAGMA secure_delete = ON");
	db_begin(db);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *aad =
		    ec_seal_aad(a, db_col_text(st, 1), db_col_text(st, 2), db_col_text(st, 3));
		void *blob[2] = {NULL, NULL};
		size_t n[2] = {0, 0};
		for (int i = 0; i < 2; i++)
			if (db_col_text(st, 4 + i))
				blob[i] = ec_seal(a, data_dir, aad, db_col_text(st, 4 + i), &n[i]);
		if ((db_col_text(st, 4) && !blob[0]) || (db_col_text(st, 5) && !blob[1]))
			continue; /* no key: leave it as it was, logged by seal_key */
		sqlite3_stmt *u = db_stmt(db, "UPDATE ec_clusters SET auth_sealed = ?2, "
					      "auth_sealed_old = ?3, auth_token = NULL, "
					      "auth_token_old = NULL WHERE id = ?1");
		sqlite3_bind_int64(u, 1, sqlite3_column_int64(st, 0));
		for (int i = 0; i < 2; i++)
			if (blob[i])
				sqlite3_bind_blob(u, 2 + i, blob[i], (int)n[i], SQLITE_STATIC);
		if (db_step_done(u) == SQLITE_DONE)
			done++;
	}
	sqlite3_reset(st);
	if (db_commit(db) != SQLITE_OK)
		db_rollback(db);
	db_exec(db, "PRAGMA secure_delete = OFF");
	arena_free(a);
	if (done)
		log_info("elasticache: sealed %zu plaintext auth token(s) of an older version",
			 done);
}
