/* seal.c - auth tokens at rest. fogbank must hand a node its token at
 * every start (through a pipe, never a file: src/supervise/redis.h), so it
 * keeps the token, sealed: AES-256-GCM under a key derived (HMAC-SHA256
 * with a label of its own) from <data_dir>/master.key, the file KMS
 * creates at daemon start. A derived key keeps ElastiCache independent of
 * every other key made from that file, and needs no aws_call, which the
 * KMS internal API wants but a node started at boot does not have.
 *
 * Blob: version byte 1 | 12-byte nonce | ciphertext | 16-byte tag; the
 * additional data names the cluster, so a blob copied onto another row
 * does not open. */
#include "core/compat.h"
#include "core/log.h"
#include "svc/elasticache/internal.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <unistd.h>

#define SEAL_VERSION 1
#define SEAL_NONCE 12
#define SEAL_TAG 16

static struct {
	char *data_dir; /* the dir the key was derived for; NULL: none yet */
	unsigned char key[32];
} sealer;

/* seal_key: the derived key for data_dir, read once. NULL when master.key
 * cannot be read (logged). Loop thread only. */
static const unsigned char *seal_key(const char *data_dir)
{
	if (sealer.data_dir && !strcmp(sealer.data_dir, data_dir))
		return sealer.key;
	ec_seal_reset();
	char path[4200];
	snprintf(path, sizeof(path), "%s/master.key", data_dir);
	unsigned char master[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, master, sizeof(master));
	if (fd >= 0)
		close(fd);
	if (n < 32) {
		log_error("elasticache: cannot read %s (%s): auth tokens cannot be sealed", path,
			  n < 0 ? strerror(errno) : "too short");
		OPENSSL_cleanse(master, sizeof(master));
		return NULL;
	}
	static const char label[] = "fogbank elasticache auth token seal v1";
	unsigned int klen = sizeof(sealer.key);
	unsigned char *ok = HMAC(EVP_sha256(), master, (int)n, (const unsigned char *)label,
				 sizeof(label) - 1, sealer.key, &klen);
	OPENSSL_cleanse(master, sizeof(master));
	if (!ok)
		return NULL;
	sealer.data_dir = strdup(data_dir);
	if (!sealer.data_dir)
		fb_die("out of memory");
	return sealer.key;
}

/* ec_seal_reset: see internal.h. */
void ec_seal_reset(void)
{
	OPENSSL_cleanse(sealer.key, sizeof(sealer.key));
	free(sealer.data_dir);
	sealer.data_dir = NULL;
}

/* gcm: one AES-256-GCM pass (enc 1: encrypt, 0: decrypt) of in[0..n)
 * into out with aad; the tag is written (enc) or checked. 0 or -1. */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce, const char *aad,
	       const unsigned char *in, size_t n, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int len = 0, ok = ctx != NULL;
	ok = ok && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1;
	ok = ok &&
	     EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1;
	ok = ok && EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + len, &len) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* ec_seal: see internal.h. */
void *ec_seal(struct arena *a, const char *data_dir, const char *aad, const char *token,
	      size_t *len)
{
	const unsigned char *key = seal_key(data_dir);
	if (!key)
		return NULL;
	size_t n = strlen(token);
	unsigned char *blob = arena_alloc(a, 1 + SEAL_NONCE + n + SEAL_TAG);
	blob[0] = SEAL_VERSION;
	if (RAND_bytes(blob + 1, SEAL_NONCE) != 1)
		fb_die("elasticache: RAND_bytes failed");
	if (gcm(1, key, blob + 1, aad, (const unsigned char *)token, n, blob + 1 + SEAL_NONCE,
		blob + 1 + SEAL_NONCE + n) < 0)
		return NULL;
	*len = 1 + SEAL_NONCE + n + SEAL_TAG;
	return blob;
}

/* ec_unseal: see internal.h. */
char *ec_unseal(struct arena *a, const char *data_dir, const char *aad, const void *blob, size_t n)
{
	const unsigned char *b = blob;
	if (!b || n < 1 + SEAL_NONCE + SEAL_TAG || b[0] != SEAL_VERSION)
		return NULL;
	const unsigned char *key = seal_key(data_dir);
	if (!key)
		return NULL;
	size_t pn = n - 1 - SEAL_NONCE - SEAL_TAG;
	unsigned char *out = arena_alloc(a, pn + 1), tag[SEAL_TAG];
	memcpy(tag, b + n - SEAL_TAG, SEAL_TAG);
	if (gcm(0, key, b + 1, aad, b + 1 + SEAL_NONCE, pn, out, tag) < 0)
		return NULL;
	out[pn] = 0;
	return (char *)out;
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
