/* keyring.c - the master key file, AES-256-GCM, and the cache of decrypted
 * key material (fb->kms).
 *
 * Key material is stored in SQLite wrapped (AES-GCM) under a 32-byte master
 * key kept in <data_dir>/master.key, so the database alone reveals nothing.
 * Unwrapped material is cached per key id in an open-addressing table so
 * the hot path (Secrets Manager decrypting on every GetSecretValue) costs
 * one AES-GCM and no database access. The daemon is single-threaded; one
 * EVP context is reused for every operation to avoid per-call allocation. */
#include "core/compat.h"
#include "core/log.h"
#include "fb.h"
#include "svc/kms/internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define WRAP_VERSION 1

struct kms_keyring {
	unsigned char master[KMS_KEY_BYTES];
	EVP_CIPHER_CTX *ctx; /* created by the first AES-GCM (see aead_init) */
	/* the key ctx is scheduled for, so repeated use of one key (the hot
	 * path) only sets a new IV: a full init costs more than the AES-GCM */
	unsigned char ctx_key[KMS_KEY_BYTES];
	int ctx_keyed;
	struct kms_cached_key *slots;
	size_t cap; /* power of two */
	size_t used;
};

/* errdup: a malloc'd "fmt: strerror" style message for *err. */
static char *errdup(const char *what, const char *path, int e)
{
	size_t n = strlen(what) + strlen(path) + 64;
	char *m = malloc(n);
	if (m)
		snprintf(m, n, "%s %s: %s", what, path, e ? strerror(e) : "bad contents");
	return m;
}

/* read_exact: reads n bytes from fd; 0 or -1. */
static int read_exact(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* write_exact: writes n bytes to fd; 0 or -1. */
static int write_exact(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* load_master: reads an existing key file into kr->master, fixing loose
 * permissions. Returns 0, 1 when the file does not exist, -1 with *err. */
static int load_master(struct kms_keyring *kr, const char *path, char **err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		*err = errdup("kms: cannot open", path, errno);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != KMS_KEY_BYTES) {
		*err = errdup("kms: master key must be a 32-byte regular file:", path, 0);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		/* Why fix rather than refuse: a restored backup often loses its
		 * mode; the key is still ours, so tighten it and say so. */
		log_warn("kms: %s had mode %03o; setting 0600", path,
			 (unsigned)(st.st_mode & 0777));
		if (fchmod(fd, 0600) < 0)
			log_warn("kms: chmod %s: %s", path, strerror(errno));
	}
	int rc = read_exact(fd, kr->master, KMS_KEY_BYTES);
	close(fd);
	if (rc < 0) {
		*err = errdup("kms: cannot read", path, errno);
		return -1;
	}
	return 0;
}

/* fsync_dir: makes a new directory entry under dir durable (best effort). */
static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* os_random: n bytes from the kernel CSPRNG; 0 or -1. Used for the master
 * key so that a first start does not initialise OpenSSL's DRBG (and with
 * it the default provider, ~2 MB resident) before any request needs it. */
static int os_random(unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* create_master: writes a fresh random key to a temp file (0600), fsyncs
 * it and links it into place, so a crash never leaves a partial key and a
 * concurrent creator never clobbers one. Returns 0, 1 if another process
 * won the race (caller reloads), -1 with *err. */
static int create_master(const char *data_dir, const char *path, char **err)
{
	unsigned char key[KMS_KEY_BYTES];
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (os_random(key, sizeof(key)) < 0) {
		*err = errdup("kms: no randomness for", path, 0);
		return -1;
	}
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		*err = errdup("kms: cannot create", tmp, errno);
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	int ok = write_exact(fd, key, sizeof(key)) == 0 && fsync(fd) == 0;
	int e = errno;
	close(fd);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		unlink(tmp);
		*err = errdup("kms: cannot write", tmp, e);
		return -1;
	}
	int rc = link(tmp, path);
	e = errno;
	if (rc < 0 && e != EEXIST)
		rc = rename(tmp, path), e = errno; /* file systems without hard links */
	unlink(tmp);
	if (rc < 0) {
		if (e == EEXIST)
			return 1;
		*err = errdup("kms: cannot install", path, e);
		return -1;
	}
	fsync_dir(data_dir);
	return 0;
}

struct kms_keyring *kms_keyring_open(const char *data_dir, char **err)
{
	char path[4096];
	*err = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/master.key", data_dir) >= sizeof(path)) {
		*err = errdup("kms: data dir path too long:", data_dir, 0);
		return NULL;
	}
	struct kms_keyring *kr = calloc(1, sizeof(*kr));
	if (!kr)
		fb_die("out of memory (keyring)");
	int rc = load_master(kr, path, err);
	for (int tries = 0; rc == 1 && tries < 3; tries++) {
		rc = create_master(data_dir, path, err);
		if (rc == 0) {
			log_info("kms: created master key %s", path);
			rc = load_master(kr, path, err);
		} else if (rc == 1) {
			rc = load_master(kr, path, err);
		}
	}
	if (rc != 0) {
		if (!*err)
			*err = errdup("kms: cannot set up", path, 0);
		kms_keyring_close(kr);
		return NULL;
	}
	kr->cap = 64;
	kr->slots = calloc(kr->cap, sizeof(*kr->slots));
	if (!kr->slots)
		fb_die("out of memory (keyring)");
	return kr;
}

void kms_keyring_close(struct kms_keyring *kr)
{
	if (!kr)
		return;
	if (kr->slots) {
		OPENSSL_cleanse(kr->slots, kr->cap * sizeof(*kr->slots));
		free(kr->slots);
	}
	EVP_CIPHER_CTX_free(kr->ctx);
	OPENSSL_cleanse(kr->master, sizeof(kr->master));
	OPENSSL_cleanse(kr->ctx_key, sizeof(kr->ctx_key));
	free(kr);
}

int kms_random(void *out, size_t n)
{
	return n > (size_t)INT32_MAX || RAND_bytes(out, (int)n) != 1 ? -1 : 0;
}

/* aead_init: readies kr->ctx for one AES-256-GCM operation (enc 1/0)
 * under key with iv, reusing the key schedule when key is the last one. */
static int aead_init(struct kms_keyring *kr, const unsigned char *key, const unsigned char *iv,
		     int enc)
{
	if (!kr->ctx && !(kr->ctx = EVP_CIPHER_CTX_new()))
		fb_die("out of memory (keyring)");
	if (kr->ctx_keyed && CRYPTO_memcmp(kr->ctx_key, key, KMS_KEY_BYTES) == 0) {
		if (EVP_CipherInit_ex(kr->ctx, NULL, NULL, NULL, iv, enc) == 1)
			return 0;
		kr->ctx_keyed = 0;
		return -1;
	}
	kr->ctx_keyed = 0;
	if (EVP_CipherInit_ex(kr->ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) != 1)
		return -1;
	memcpy(kr->ctx_key, key, KMS_KEY_BYTES);
	kr->ctx_keyed = 1;
	return 0;
}

int kms_aead_seal(struct kms_keyring *kr, const unsigned char *key, const unsigned char *iv,
		  const void *aad, size_t aad_n, const void *pt, size_t n, unsigned char *ct,
		  unsigned char *tag)
{
	EVP_CIPHER_CTX *x;
	int len = 0;
	if (n > (size_t)INT32_MAX || aad_n > (size_t)INT32_MAX)
		return -1;
	if (aead_init(kr, key, iv, 1) < 0)
		return -1;
	x = kr->ctx;
	if (aad_n && EVP_EncryptUpdate(x, NULL, &len, aad, (int)aad_n) != 1)
		return -1;
	if (n && EVP_EncryptUpdate(x, ct, &len, pt, (int)n) != 1)
		return -1;
	if (EVP_EncryptFinal_ex(x, ct + (n ? len : 0), &len) != 1)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, KMS_TAG_BYTES, tag) != 1)
		return -1;
	return 0;
}

int kms_aead_open(struct kms_keyring *kr, const unsigned char *key, const unsigned char *iv,
		  const void *aad, size_t aad_n, const void *ct, size_t n, const unsigned char *tag,
		  unsigned char *pt)
{
	EVP_CIPHER_CTX *x;
	int len = 0;
	if (n > (size_t)INT32_MAX || aad_n > (size_t)INT32_MAX)
		return -1;
	if (aead_init(kr, key, iv, 0) < 0)
		return -1;
	x = kr->ctx;
	if (aad_n && EVP_DecryptUpdate(x, NULL, &len, aad, (int)aad_n) != 1)
		return -1;
	if (n && EVP_DecryptUpdate(x, pt, &len, ct, (int)n) != 1)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, KMS_TAG_BYTES, (void *)tag) != 1)
		return -1;
	if (EVP_DecryptFinal_ex(x, pt + (n ? len : 0), &len) != 1) {
		OPENSSL_cleanse(pt, n); /* never hand out unauthenticated plaintext */
		return -1;
	}
	return 0;
}

int kms_keyring_wrap(struct kms_keyring *kr, const char *id, const unsigned char *material,
		     unsigned char *wrapped)
{
	wrapped[0] = WRAP_VERSION;
	if (kms_random(wrapped + 1, KMS_IV_BYTES) < 0)
		return -1;
	/* AAD = the key id, so a wrapped blob copied onto another row fails. */
	return kms_aead_seal(kr, kr->master, wrapped + 1, id, strlen(id), material, KMS_KEY_BYTES,
			     wrapped + 1 + KMS_IV_BYTES,
			     wrapped + 1 + KMS_IV_BYTES + KMS_KEY_BYTES);
}

int kms_keyring_unwrap(struct kms_keyring *kr, const char *id, const unsigned char *wrapped,
		       size_t n, unsigned char *material)
{
	if (n != KMS_WRAPPED_LEN || wrapped[0] != WRAP_VERSION)
		return -1;
	return kms_aead_open(kr, kr->master, wrapped + 1, id, strlen(id),
			     wrapped + 1 + KMS_IV_BYTES, KMS_KEY_BYTES,
			     wrapped + 1 + KMS_IV_BYTES + KMS_KEY_BYTES, material);
}

/* hash_id: FNV-1a of a key id. */
static size_t hash_id(const char *id)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < KMS_ID_LEN && id[i]; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
	return (size_t)h;
}

/* slot_for: the slot holding id, or the empty slot where it would go.
 * Entries are never removed (forgetting clears .live), so linear probing
 * needs no tombstones. */
static struct kms_cached_key *slot_for(struct kms_keyring *kr, const char *id)
{
	size_t mask = kr->cap - 1;
	for (size_t i = hash_id(id) & mask;; i = (i + 1) & mask) {
		struct kms_cached_key *s = &kr->slots[i];
		if (!s->id[0] || memcmp(s->id, id, KMS_ID_LEN) == 0)
			return s;
	}
}

/* grow: doubles the table when it is half full. */
static void grow(struct kms_keyring *kr)
{
	struct kms_cached_key *old = kr->slots;
	size_t old_cap = kr->cap;
	kr->cap *= 2;
	kr->slots = calloc(kr->cap, sizeof(*kr->slots));
	if (!kr->slots)
		fb_die("out of memory (keyring)");
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id[0])
			*slot_for(kr, old[i].id) = old[i];
	OPENSSL_cleanse(old, old_cap * sizeof(*old));
	free(old);
}

const struct kms_cached_key *kms_keyring_get(struct aws_call *c, const char *id)
{
	struct kms_keyring *kr = c->fb->kms;
	char key_id[KMS_ID_LEN + 1];
	memcpy(key_id, id, KMS_ID_LEN);
	key_id[KMS_ID_LEN] = 0;
	struct kms_cached_key *s = slot_for(kr, key_id);
	if (s->id[0] && s->live)
		return s;

	sqlite3_stmt *st = db_stmt(c->fb->db, "SELECT account, region, state, material FROM "
					      "kms_keys WHERE id = ?1");
	sqlite3_bind_text(st, 1, key_id, KMS_ID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return NULL;
	}
	const char *account = db_col_text(st, 0), *region = db_col_text(st, 1);
	if (!account || !region || strlen(account) >= sizeof(s->account) ||
	    strlen(region) >= sizeof(s->region)) {
		sqlite3_reset(st);
		aws_fail(c, 500, "KMSInternalException", "key %s has a malformed row", key_id);
		return NULL;
	}
	struct kms_cached_key e = {0};
	memcpy(e.id, key_id, sizeof(e.id));
	memcpy(e.account, account, strlen(account) + 1);
	memcpy(e.region, region, strlen(region) + 1);
	e.state = sqlite3_column_int(st, 2);
	int rc = kms_keyring_unwrap(kr, key_id, sqlite3_column_blob(st, 3),
				    (size_t)sqlite3_column_bytes(st, 3), e.material);
	sqlite3_reset(st);
	if (rc < 0) {
		log_error("kms: cannot unwrap key %s: master.key does not match this database",
			  key_id);
		aws_fail(c, 500, "KMSInternalException",
			 "The key material of %s cannot be decrypted with this master key", key_id);
		return NULL;
	}
	e.live = 1;
	if (!s->id[0]) {
		if ((kr->used + 1) * 2 > kr->cap) {
			grow(kr);
			s = slot_for(kr, key_id);
		}
		kr->used++;
	}
	*s = e;
	OPENSSL_cleanse(e.material, sizeof(e.material));
	return s;
}

void kms_keyring_forget(struct kms_keyring *kr, const char *id)
{
	if (!kr || strlen(id) != KMS_ID_LEN)
		return;
	struct kms_cached_key *s = slot_for(kr, id);
	if (s->id[0]) {
		s->live = 0;
		OPENSSL_cleanse(s->material, sizeof(s->material));
	}
}
