/* test_kms.c - KMS unit tests: the master key file, the envelope format
 * (round trip, context enforcement, tamper detection), wrong master key,
 * and the handlers driven directly against a scratch database. */
#include "core/compat.h"
#include "test.h"
#include "aws/call.h"
#include "aws/gen/kms_ops.h"
#include "fb.h"
#include "store/db.h"
#include "svc/kms/internal.h"
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* scratch_dir: a fresh temp directory (static buffer per call site). */
static char *scratch_dir(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/fogbank-kms-XXXXXX");
	return mkdtemp(buf);
}

/* rm_dir: removes the files fogbank puts in a scratch dir, then the dir. */
static void rm_dir(const char *dir)
{
	static const char *const names[] = {"master.key", "db.sqlite", "db.sqlite-wal",
					    "db.sqlite-shm"};
	char p[512];
	for (size_t i = 0; i < FB_ARRAY_LEN(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

TEST(kms_master_key_created_0600)
{
	char dir[64], p[128], *err = NULL;
	CHECK(scratch_dir(dir, sizeof(dir)));
	struct kms_keyring *kr = kms_keyring_open(dir, &err);
	CHECK(kr && !err);
	snprintf(p, sizeof(p), "%s/master.key", dir);
	struct stat st;
	CHECK(stat(p, &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(st.st_size == 32);

	/* a second open reads the same key: material wrapped by one unwraps */
	unsigned char m[KMS_KEY_BYTES], w[KMS_WRAPPED_LEN], back[KMS_KEY_BYTES];
	memset(m, 7, sizeof(m));
	CHECK(kms_keyring_wrap(kr, "k1", m, w) == 0);
	struct kms_keyring *kr2 = kms_keyring_open(dir, &err);
	CHECK(kr2 && kms_keyring_unwrap(kr2, "k1", w, sizeof(w), back) == 0);
	CHECK(memcmp(m, back, sizeof(m)) == 0);
	/* bound to the key id */
	CHECK(kms_keyring_unwrap(kr2, "k2", w, sizeof(w), back) < 0);
	kms_keyring_close(kr);
	kms_keyring_close(kr2);

	/* loose permissions are tightened */
	CHECK(chmod(p, 0644) == 0);
	kr = kms_keyring_open(dir, &err);
	CHECK(kr && stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	kms_keyring_close(kr);
	rm_dir(dir);
}

TEST(kms_master_key_bad_file_refused)
{
	char dir[64], p[128], *err = NULL;
	CHECK(scratch_dir(dir, sizeof(dir)));
	snprintf(p, sizeof(p), "%s/master.key", dir);
	FILE *f = fopen(p, "w");
	CHECK(f);
	fputs("short", f);
	fclose(f);
	struct kms_keyring *kr = kms_keyring_open(dir, &err);
	CHECK(!kr && err);
	free(err);
	rm_dir(dir);
}

TEST(kms_wrong_master_key_fails_cleanly)
{
	char d1[64], d2[64], *err = NULL;
	CHECK(scratch_dir(d1, sizeof(d1)) && scratch_dir(d2, sizeof(d2)));
	struct kms_keyring *a = kms_keyring_open(d1, &err), *b = kms_keyring_open(d2, &err);
	CHECK(a && b);
	unsigned char m[KMS_KEY_BYTES], w[KMS_WRAPPED_LEN], back[KMS_KEY_BYTES];
	memset(m, 0x5a, sizeof(m));
	CHECK(kms_keyring_wrap(a, "key", m, w) == 0);
	memset(back, 0x11, sizeof(back));
	CHECK(kms_keyring_unwrap(b, "key", w, sizeof(w), back) < 0);
	/* nothing of the plaintext leaks into the output buffer */
	CHECK(memcmp(back, m, sizeof(m)) != 0);
	CHECK(kms_keyring_unwrap(a, "key", w, sizeof(w) - 1, back) < 0);
	kms_keyring_close(a);
	kms_keyring_close(b);
	rm_dir(d1);
	rm_dir(d2);
}

/* ctx2: an encryption context object {k1: v1, k2: v2} (k2 may be NULL). */
static struct jv *ctx2(struct arena *ar, const char *k1, const char *v1, const char *k2,
		       const char *v2)
{
	struct jv *o = jv_object(ar);
	jv_set_str(ar, o, k1, v1);
	if (k2)
		jv_set_str(ar, o, k2, v2);
	return o;
}

static const char test_id[] = "0b5c8f7e-2d7a-4e55-9f1c-6a3b2d1e0f9a";

TEST(kms_envelope_round_trip_and_context)
{
	char dir[64], *err = NULL;
	CHECK(scratch_dir(dir, sizeof(dir)));
	struct kms_keyring *kr = kms_keyring_open(dir, &err);
	struct arena *ar = arena_new(4096);
	unsigned char key[KMS_KEY_BYTES];
	CHECK(kr && kms_random(key, sizeof(key)) == 0);
	struct str pt = STR_LIT("attack at dawn"), blob, out;
	struct jv *ctx = ctx2(ar, "purpose", "test", "SecretARN", "arn:x");
	CHECK(kms_seal(kr, ar, test_id, key, pt, ctx, &blob) == 0);
	CHECK(blob.n == pt.n + KMS_BLOB_OVERHEAD);
	CHECK(memmem(blob.p, blob.n, pt.p, pt.n) == NULL);
	char id[37];
	CHECK(kms_blob_key_id(blob, id) == 0 && strcmp(id, test_id) == 0);

	CHECK(kms_open(kr, ar, key, blob, ctx, &out) == 0);
	CHECK(str_eq(out, pt));
	/* same pairs in another order: the canonical form matches */
	struct jv *swapped = ctx2(ar, "SecretARN", "arn:x", "purpose", "test");
	CHECK(kms_open(kr, ar, key, blob, swapped, &out) == 0 && str_eq(out, pt));
	/* any other context fails */
	CHECK(kms_open(kr, ar, key, blob, NULL, &out) < 0);
	CHECK(kms_open(kr, ar, key, blob, ctx2(ar, "purpose", "test", NULL, NULL), &out) < 0);
	CHECK(kms_open(kr, ar, key, blob, ctx2(ar, "purpose", "prod", "SecretARN", "arn:x"), &out) <
	      0);
	/* pairs are length-prefixed: moving a boundary does not collide */
	CHECK(kms_open(kr, ar, key, blob, ctx2(ar, "purposet", "est", "SecretARN", "arn:x"), &out) <
	      0);

	/* empty plaintext and empty context round-trip too */
	CHECK(kms_seal(kr, ar, test_id, key, STR_LIT(""), NULL, &blob) == 0);
	CHECK(kms_open(kr, ar, key, blob, jv_object(ar), &out) == 0 && out.n == 0);

	/* a different key fails */
	unsigned char other[KMS_KEY_BYTES];
	CHECK(kms_random(other, sizeof(other)) == 0);
	CHECK(kms_seal(kr, ar, test_id, key, pt, NULL, &blob) == 0);
	CHECK(kms_open(kr, ar, other, blob, NULL, &out) < 0);
	arena_free(ar);
	kms_keyring_close(kr);
	rm_dir(dir);
}

TEST(kms_envelope_tampered_blob_rejected)
{
	char dir[64], *err = NULL;
	CHECK(scratch_dir(dir, sizeof(dir)));
	struct kms_keyring *kr = kms_keyring_open(dir, &err);
	struct arena *ar = arena_new(1 << 16);
	unsigned char key[KMS_KEY_BYTES];
	CHECK(kr && kms_random(key, sizeof(key)) == 0);
	struct str blob, out;
	CHECK(kms_seal(kr, ar, test_id, key, STR_LIT("secret"), NULL, &blob) == 0);
	char *copy = arena_alloc(ar, blob.n);
	int all_rejected = 1;
	for (size_t i = 0; i < blob.n; i++) {
		memcpy(copy, blob.p, blob.n);
		copy[i] ^= 0x01;
		if (kms_open(kr, ar, key, (struct str){copy, blob.n}, NULL, &out) == 0)
			all_rejected = 0;
	}
	CHECK(all_rejected);
	CHECK(kms_open(kr, ar, key, (struct str){blob.p, blob.n - 1}, NULL, &out) < 0);
	CHECK(kms_open(kr, ar, key, (struct str){blob.p, 10}, NULL, &out) < 0);
	CHECK(kms_open(kr, ar, key, (struct str){blob.p, 0}, NULL, &out) < 0);
	arena_free(ar);
	kms_keyring_close(kr);
	rm_dir(dir);
}

TEST(kms_envelope_format_is_stable)
{
	/* A blob made by format version 1 (key 0x42 x 32, context {a:1, b:2}).
	 * Blobs live on disk for years: any change that cannot open this one
	 * breaks every stored secret. */
	static const char golden[] =
	    "\x01\x30\x62\x35\x63\x38\x66\x37\x65\x2d\x32\x64\x37\x61\x2d\x34\x65\x35"
	    "\x35\x2d\x39\x66\x31\x63\x2d\x36\x61\x33\x62\x32\x64\x31\x65\x30\x66\x39"
	    "\x61\xf0\x86\x71\x97\x4b\x70\xba\xb0\xbb\x99\xd0\xcf\xc3\x8f\x73\x41\xed"
	    "\xef\xc0\x22\x0f\xf6\x01\x9b\x17\xab\xaa\x84\x6c\x2d\x28\x19\x05\x25";
	char dir[64], *err = NULL;
	CHECK(scratch_dir(dir, sizeof(dir)));
	struct kms_keyring *kr = kms_keyring_open(dir, &err);
	struct arena *ar = arena_new(4096);
	unsigned char key[KMS_KEY_BYTES];
	memset(key, 0x42, sizeof(key));
	struct str out, blob = {golden, sizeof(golden) - 1};
	CHECK(kr && blob.n == 71);
	CHECK(kms_open(kr, ar, key, blob, ctx2(ar, "a", "1", "b", "2"), &out) == 0);
	CHECK(str_eq_c(out, "golden"));
	arena_free(ar);
	kms_keyring_close(kr);
	rm_dir(dir);
}

/* A scratch daemon context: data dir, database with the kms schema, keyring. */
struct kms_env {
	char dir[64];
	struct fogbank fb;
	struct aws_call c;
	struct arena *a;
};

static int env_open(struct kms_env *e)
{
	static const struct db_migration *const migs[] = {kms_migrations, NULL};
	char path[128], *err = NULL;
	memset(e, 0, sizeof(*e));
	if (!scratch_dir(e->dir, sizeof(e->dir)))
		return -1;
	snprintf(path, sizeof(path), "%s/db.sqlite", e->dir);
	e->fb.data_dir = e->dir;
	e->fb.db = db_open(path, migs, &err);
	e->fb.kms = kms_keyring_open(e->dir, &err);
	e->a = arena_new(1 << 16);
	return e->fb.db && e->fb.kms ? 0 : -1;
}

/* env_call: resets the call for a new request with input in. */
static struct aws_call *env_call(struct kms_env *e, struct jv *in)
{
	struct aws_call *c = &e->c;
	memset(c, 0, sizeof(*c));
	c->a = e->a;
	c->fb = &e->fb;
	c->in = in ? in : jv_object(e->a);
	c->account = "123456789012";
	c->region = "us-east-1";
	c->now_ms = 1700000000000;
	return c;
}

static void env_close(struct kms_env *e)
{
	db_close(e->fb.db);
	kms_keyring_close(e->fb.kms);
	arena_free(e->a);
	rm_dir(e->dir);
}

TEST(kms_handlers_encrypt_decrypt_disable)
{
	struct kms_env e;
	CHECK(env_open(&e) == 0);
	struct aws_call *c = env_call(&e, NULL);
	CHECK(kms_op_create_key(c) == 0);
	const char *id = jv_get_str(jv_get(c->out, "KeyMetadata"), "KeyId");
	CHECK(id != NULL);
	id = arena_strdup(e.a, id);

	struct jv *in = jv_object(e.a);
	jv_set_str(e.a, in, "KeyId", id);
	jv_set_str(e.a, in, "Plaintext", "hello");
	jv_set(e.a, in, "EncryptionContext", ctx2(e.a, "a", "b", NULL, NULL));
	c = env_call(&e, in);
	CHECK(kms_op_encrypt(c) == 0);
	struct str blob = jv_get_strv(c->out, "CiphertextBlob");

	/* Decrypt with no KeyId: the blob names the key */
	in = jv_object(e.a);
	jv_set_strn(e.a, in, "CiphertextBlob", blob.p, blob.n);
	jv_set(e.a, in, "EncryptionContext", ctx2(e.a, "a", "b", NULL, NULL));
	c = env_call(&e, in);
	CHECK(kms_op_decrypt(c) == 0);
	CHECK(str_eq_c(jv_get_strv(c->out, "Plaintext"), "hello"));

	/* wrong context */
	jv_set(e.a, in, "EncryptionContext", ctx2(e.a, "a", "c", NULL, NULL));
	c = env_call(&e, in);
	CHECK(kms_op_decrypt(c) < 0 && strcmp(c->err_code, "InvalidCiphertextException") == 0);

	/* disabled key: DisabledException, even though the material is cached */
	struct jv *kin = jv_object(e.a);
	jv_set_str(e.a, kin, "KeyId", id);
	c = env_call(&e, kin);
	CHECK(kms_op_disable_key(c) == 0);
	jv_set(e.a, in, "EncryptionContext", ctx2(e.a, "a", "b", NULL, NULL));
	c = env_call(&e, in);
	CHECK(kms_op_decrypt(c) < 0 && strcmp(c->err_code, "DisabledException") == 0);

	/* pending deletion: KMSInvalidStateException; cancel -> Disabled */
	c = env_call(&e, kin);
	CHECK(kms_op_schedule_key_deletion(c) == 0);
	c = env_call(&e, in);
	CHECK(kms_op_decrypt(c) < 0 && strcmp(c->err_code, "KMSInvalidStateException") == 0);
	c = env_call(&e, kin);
	CHECK(kms_op_cancel_key_deletion(c) == 0);
	c = env_call(&e, kin);
	CHECK(kms_op_describe_key(c) == 0);
	CHECK_STREQ(jv_get_str(jv_get(c->out, "KeyMetadata"), "KeyState"), "Disabled");

	/* the managed key is created once and reused */
	c = env_call(&e, NULL);
	const char *m1 = kms_managed_key(c, "aws/secretsmanager");
	const char *m2 = kms_managed_key(c, "aws/secretsmanager");
	CHECK(m1 && m2 && strcmp(m1, m2) == 0);
	struct str sb, sp;
	CHECK(kms_internal_encrypt(c, "alias/aws/secretsmanager", STR_LIT("v"), NULL, &sb, NULL) ==
	      0);
	CHECK(kms_internal_decrypt(c, sb, NULL, &sp, NULL) == 0 && str_eq_c(sp, "v"));
	env_close(&e);
}
