/* seal.c - small secrets sealed at rest (see seal.h). The master key
 * file is normally created by KMS at daemon start; should it be missing
 * (unit tests, tools) it is created the same way: 32 random bytes, mode
 * 0600, fsynced with its directory. */
#include "store/seal.h"
#include "core/log.h"
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
#define MASTER_MIN 32
#define MASTER_MAX 4096

/* create_master: writes 32 random bytes to path with O_EXCL and fsyncs the
 * file and its directory so the key is durable before any secret sealed
 * under it is. Returns 0, or -1 (errno set; EEXIST when someone won). */
static int create_master(const char *path, const char *dir)
{
	unsigned char k[MASTER_MIN];
	if (RAND_bytes(k, sizeof(k)) != 1)
		fb_die("seal: RAND_bytes failed");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int ok = write(fd, k, sizeof(k)) == (ssize_t)sizeof(k) && fsync(fd) == 0;
	close(fd);
	OPENSSL_cleanse(k, sizeof(k));
	if (!ok) {
		unlink(path);
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* read_master: reads the master key file (creating it when missing) into
 * buf. Returns its length (>= MASTER_MIN) or -1 (logged). */
static ssize_t read_master(const char *dir, unsigned char *buf, size_t cap)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/master.key", dir) >= sizeof(path))
		return -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			if (create_master(path, dir) < 0 && errno != EEXIST) {
				log_error("seal: cannot create %s: %s", path, strerror(errno));
				return -1;
			}
			continue;
		}
		if (fd < 0) {
			log_error("seal: cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		size_t n = 0;
		ssize_t r;
		while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
			n += (size_t)r;
		close(fd);
		if (n < MASTER_MIN) {
			log_error("seal: %s holds %zu bytes, need at least %d", path, n,
				  MASTER_MIN);
			return -1;
		}
		return (ssize_t)n;
	}
	return -1;
}

/* key_of: k's 32-byte key for data_dir, derived once. NULL when the
 * master key cannot be read (logged). */
static const unsigned char *key_of(struct seal_key *k, const char *dir)
{
	if (k->ready &&
	    ((!dir && !k->data_dir) || (dir && k->data_dir && strcmp(dir, k->data_dir) == 0)))
		return k->key;
	seal_key_reset(k);
	if (!dir) {
		/* No data dir (unit tests): nothing persists, so a key that
		 * lives as long as the process is enough. */
		if (RAND_bytes(k->key, sizeof(k->key)) != 1)
			fb_die("seal: RAND_bytes failed");
		k->ready = 1;
		return k->key;
	}
	unsigned char master[MASTER_MAX];
	ssize_t n = read_master(dir, master, sizeof(master));
	if (n < 0)
		return NULL;
	unsigned int klen = sizeof(k->key);
	unsigned char *ok = HMAC(EVP_sha256(), master, (int)n, (const unsigned char *)k->label,
				 strlen(k->label), k->key, &klen);
	OPENSSL_cleanse(master, sizeof(master));
	if (!ok)
		return NULL;
	k->data_dir = strdup(dir);
	if (!k->data_dir)
		fb_die("out of memory");
	k->ready = 1;
	return k->key;
}

/* gcm: one AES-256-GCM pass (enc = 1 encrypt, 0 decrypt) of in[0..n) into
 * out, with aad; tag is written (enc) or checked (dec). Returns 0 or -1. */
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

void seal_key_reset(struct seal_key *k)
{
	OPENSSL_cleanse(k->key, sizeof(k->key));
	free(k->data_dir);
	k->data_dir = NULL;
	k->ready = 0;
}

unsigned char *seal(struct seal_key *k, const char *data_dir, struct arena *a, const char *aad,
		    const void *plain, size_t n, size_t *out_n)
{
	const unsigned char *key = key_of(k, data_dir);
	if (!key)
		return NULL;
	unsigned char *blob = arena_alloc(a, 1 + SEAL_NONCE + n + SEAL_TAG);
	blob[0] = SEAL_VERSION;
	if (RAND_bytes(blob + 1, SEAL_NONCE) != 1)
		fb_die("seal: RAND_bytes failed");
	if (gcm(1, key, blob + 1, aad, plain, n, blob + 1 + SEAL_NONCE, blob + 1 + SEAL_NONCE + n) <
	    0)
		return NULL;
	*out_n = 1 + SEAL_NONCE + n + SEAL_TAG;
	return blob;
}

char *unseal(struct seal_key *k, const char *data_dir, struct arena *a, const char *aad,
	     const void *blob, size_t n)
{
	const unsigned char *b = blob;
	if (!b || n < 1 + SEAL_NONCE + SEAL_TAG || b[0] != SEAL_VERSION)
		return NULL;
	const unsigned char *key = key_of(k, data_dir);
	if (!key)
		return NULL;
	size_t pn = n - 1 - SEAL_NONCE - SEAL_TAG;
	unsigned char *out = arena_alloc(a, pn + 1);
	unsigned char tag[SEAL_TAG];
	memcpy(tag, b + n - SEAL_TAG, SEAL_TAG);
	if (gcm(0, key, b + 1, aad, b + 1 + SEAL_NONCE, pn, out, tag) < 0)
		return NULL;
	out[pn] = 0;
	return (char *)out;
}
