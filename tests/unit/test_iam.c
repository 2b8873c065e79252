/* test_iam.c - IAM identity resolution and the pieces under it: the
 * LocalStack key conventions (no database), id and secret shapes, secret
 * sealing, and minted keys end to end through the handlers on a scratch
 * SQLite database (no server). */
#include "core/compat.h"
#include "aws/call.h"
#include "aws/gen/iam_ops.h"
#include "aws/gen/sts_ops.h"
#include "fb.h"
#include "store/db.h"
#include "svc/iam/iam.h"
#include "svc/iam/keys.h"
#include "test.h"
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* resolve: iam_resolve_key on a C-string key with no database. */
static int resolve(struct fogbank *fb, struct arena *a, const char *akid, const char *token,
		   const char **secret, struct identity *who)
{
	return iam_resolve_key(fb, a, str_c(akid), str_c(token), 1700000000000, secret, who);
}

TEST(iam_resolve_test_key)
{
	struct fogbank fb = {0};
	struct arena *a = arena_new(4096);
	struct identity who;
	const char *secret = NULL;
	CHECK(resolve(&fb, a, "test", NULL, &secret, &who) == 0);
	CHECK_STREQ(secret, "test");
	CHECK_STREQ(who.account, "000000000000");
	CHECK_STREQ(who.arn, "arn:aws:iam::000000000000:root");
	CHECK_STREQ(who.user_id, "000000000000");
	CHECK_STREQ(who.access_key, "test");
	CHECK(who.is_root == 1);
	CHECK(who.session_token == NULL);
	/* a stray session token changes nothing for the static keys */
	CHECK(resolve(&fb, a, "test", "whatever", &secret, &who) == 0);
	arena_free(a);
}

TEST(iam_resolve_twelve_digits)
{
	struct fogbank fb = {0};
	struct arena *a = arena_new(4096);
	struct identity who;
	const char *secret = NULL;
	CHECK(resolve(&fb, a, "123456789012", NULL, &secret, &who) == 0);
	CHECK_STREQ(secret, "test");
	CHECK_STREQ(who.account, "123456789012");
	CHECK_STREQ(who.arn, "arn:aws:iam::123456789012:root");
	CHECK_STREQ(who.user_id, "123456789012");
	CHECK(who.is_root == 1);
	/* the key is a view: only its 12 bytes count */
	CHECK(iam_resolve_key(&fb, a, (struct str){"000000000042xyz", 12}, STR_NULL, 0, &secret,
			      &who) == 0);
	CHECK_STREQ(who.account, "000000000042");
	arena_free(a);
}

TEST(iam_resolve_garbage)
{
	struct fogbank fb = {0}; /* no database: anything else is unknown */
	struct arena *a = arena_new(4096);
	struct identity who;
	const char *secret = NULL;
	static const char *bad[] = {
	    "",
	    "tes",
	    "TEST",
	    "test ",
	    "12345678901",
	    "1234567890123",
	    "12345678901a",
	    "-12345678901",
	    "AKIAIOSFODNN7EXAMPLE",
	    "ASIAIOSFODNN7EXAMPLE",
	    "akiaiosfodnn7example",
	    "AKIA",
	    "AKIA!OSFODNN7EXAMPLE",
	};
	for (size_t i = 0; i < FB_ARRAY_LEN(bad); i++)
		CHECK(resolve(&fb, a, bad[i], NULL, &secret, &who) == IAM_KEY_UNKNOWN);
	CHECK(resolve(NULL, a, "AKIAIOSFODNN7EXAMPLE", NULL, &secret, &who) == IAM_KEY_UNKNOWN);
	arena_free(a);
}

TEST(iam_id_and_secret_shapes)
{
	char id[IAM_ID_LEN + 1], id2[IAM_ID_LEN + 1], secret[IAM_SECRET_LEN + 1];
	iam_new_id(id, "AKIA");
	iam_new_id(id2, "AKIA");
	CHECK(strlen(id) == 20);
	CHECK(strncmp(id, "AKIA", 4) == 0);
	CHECK(strspn(id + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == 16);
	CHECK(strcmp(id, id2) != 0);
	iam_new_secret(secret);
	CHECK(strlen(secret) == 40);
	CHECK(strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") ==
	      40);
}

TEST(iam_names_paths_urlencode)
{
	CHECK(iam_valid_name(str_c("bob"), 64));
	CHECK(iam_valid_name(str_c("a+b=c,d.e@f_g-h"), 64));
	CHECK(!iam_valid_name(str_c(""), 64));
	CHECK(!iam_valid_name(str_c("a b"), 64));
	CHECK(!iam_valid_name(str_c("a/b"), 64));
	CHECK(!iam_valid_name((struct str){"a\0b", 3}, 64));
	CHECK(iam_valid_path(str_c("/")));
	CHECK(iam_valid_path(str_c("/a/b/")));
	CHECK(!iam_valid_path(str_c("a/")));
	CHECK(!iam_valid_path(str_c("/a")));
	CHECK(!iam_valid_path(str_c("/a b/")));
	struct arena *a = arena_new(4096);
	CHECK_STREQ(iam_url_encode(a, "{\"A\": \"b-c_d.e~\"}"),
		    "%7B%22A%22%3A%20%22b-c_d.e~%22%7D");
	CHECK_STREQ(iam_arn(a, "123456789012", "user", "/x/", "bob"),
		    "arn:aws:iam::123456789012:user/x/bob");
	arena_free(a);
}

/* scratch_dir: a fresh temporary directory (malloc'd path). */
static char *scratch_dir(void)
{
	char *d = strdup("/tmp/fogbank-unit-iam-XXXXXX");
	if (!d || !mkdtemp(d))
		abort();
	return d;
}

/* remove_dir: removes dir and the files fogbank leaves in it. */
static void remove_dir(char *dir)
{
	static const char *files[] = {"master.key", "state.db", "state.db-wal", "state.db-shm"};
	char p[512];
	for (size_t i = 0; i < FB_ARRAY_LEN(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	free(dir);
}

TEST(iam_seal_roundtrip)
{
	struct arena *a = arena_new(4096);
	struct fogbank fb = {0};
	size_t n;
	iam_sealer_reset();
	unsigned char *blob = iam_seal(&fb, a, "AKIAXXXX", "s3cr3t", 6, &n);
	CHECK(blob && n == 1 + 12 + 6 + 16);
	char *p = iam_unseal(&fb, a, "AKIAXXXX", blob, n);
	CHECK(p && strcmp(p, "s3cr3t") == 0);
	CHECK(iam_unseal(&fb, a, "AKIAYYYY", blob, n) == NULL); /* bound to its key id */
	blob[14] ^= 1;
	CHECK(iam_unseal(&fb, a, "AKIAXXXX", blob, n) == NULL); /* tampered */
	CHECK(iam_unseal(&fb, a, "AKIAXXXX", blob, 5) == NULL);

	/* With a data dir the key comes from master.key and survives a reload. */
	char *dir = scratch_dir();
	fb.data_dir = dir;
	blob = iam_seal(&fb, a, "AKIAXXXX", "persist", 7, &n);
	CHECK(blob != NULL);
	char path[512];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/master.key", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 32);
	iam_sealer_reset();
	p = blob ? iam_unseal(&fb, a, "AKIAXXXX", blob, n) : NULL;
	CHECK(p && strcmp(p, "persist") == 0);
	CHECK(memmem(blob, n, "persist", 7) == NULL);
	iam_sealer_reset();
	remove_dir(dir);
	arena_free(a);
}

/* The handlers on a real database, without the HTTP layer. */
struct harness {
	struct fogbank fb;
	struct arena *a;
	char *dir;
};

/* harness_open: a fogbank with a fresh data dir and IAM's schema. */
static void harness_open(struct harness *h)
{
	static const struct db_migration *const migs[] = {iam_migrations, NULL};
	char path[512], *err = NULL;
	memset(h, 0, sizeof(*h));
	h->dir = scratch_dir();
	snprintf(path, sizeof(path), "%s/state.db", h->dir);
	h->fb.data_dir = h->dir;
	h->fb.db = db_open(path, migs, &err);
	if (!h->fb.db)
		abort();
	h->a = arena_new(8192);
	iam_sealer_reset();
	iam_cache_reset();
}

/* harness_close: closes and removes everything harness_open made. */
static void harness_close(struct harness *h)
{
	iam_cache_reset();
	iam_sealer_reset();
	db_close(h->fb.db);
	arena_free(h->a);
	remove_dir(h->dir);
}

/* call_as: a call in h's arena made by the identity of key akid (resolved
 * like the dispatcher does), with an empty input object. */
static struct aws_call call_as(struct harness *h, const char *akid, const char *token,
			       int64_t now_ms)
{
	struct aws_call c = {.a = h->a, .fb = &h->fb, .now_ms = now_ms, .region = "us-east-1"};
	const char *secret;
	if (iam_resolve_key(&h->fb, h->a, str_c(akid), str_c(token), now_ms, &secret, &c.who) < 0)
		abort();
	c.account = c.who.account;
	c.in = jv_object(h->a);
	return c;
}

TEST(iam_minted_key_lifecycle)
{
	struct harness h;
	harness_open(&h);
	int64_t now = 1700000000000;
	struct aws_call c = call_as(&h, "123456789012", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "alice");
	jv_set_str(h.a, c.in, "Path", "/eng/");
	CHECK(iam_op_create_user(&c) == 0);
	const char *uid = jv_get_str(jv_get(c.out, "User"), "UserId");
	CHECK(uid && strncmp(uid, "AIDA", 4) == 0);

	c = call_as(&h, "123456789012", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "ALICE"); /* names are case-insensitive */
	CHECK(iam_op_create_user(&c) == -1 && strcmp(c.err_code, "EntityAlreadyExists") == 0);

	c = call_as(&h, "123456789012", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "Alice");
	CHECK(iam_op_create_access_key(&c) == 0);
	struct jv *k = jv_get(c.out, "AccessKey");
	const char *akid = jv_get_str(k, "AccessKeyId");
	const char *secret = jv_get_str(k, "SecretAccessKey");
	CHECK_STREQ(jv_get_str(k, "UserName"), "alice");
	CHECK(akid && strncmp(akid, "AKIA", 4) == 0 && secret && strlen(secret) == 40);

	/* the minted key resolves to its user, first from SQLite, then cached */
	for (int pass = 0; pass < 2; pass++) {
		struct identity who;
		const char *got;
		CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), STR_NULL, now, &got, &who) == 0);
		CHECK_STREQ(got, secret);
		CHECK_STREQ(who.arn, "arn:aws:iam::123456789012:user/eng/alice");
		CHECK_STREQ(who.user_id, uid);
		CHECK_STREQ(who.account, "123456789012");
		CHECK(!who.is_root);
	}
	/* the secret is not on disk in plaintext */
	sqlite3_stmt *st = db_stmt(h.fb.db, "SELECT secret_enc FROM iam_access_keys");
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK(memmem(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), secret, 40) ==
	      NULL);
	sqlite3_reset(st);

	/* the user, signing with its own key, acts as itself */
	c = call_as(&h, akid, NULL, now);
	CHECK(iam_op_get_user(&c) == 0);
	CHECK_STREQ(jv_get_str(jv_get(c.out, "User"), "UserName"), "alice");

	c = call_as(&h, "123456789012", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "alice");
	jv_set_str(h.a, c.in, "AccessKeyId", akid);
	jv_set_str(h.a, c.in, "Status", "Inactive");
	CHECK(iam_op_update_access_key(&c) == 0);
	struct identity who;
	const char *got;
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), STR_NULL, now, &got, &who) ==
	      IAM_KEY_INACTIVE);

	c = call_as(&h, "123456789012", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "alice");
	CHECK(iam_op_delete_user(&c) == -1 && strcmp(c.err_code, "DeleteConflict") == 0);

	c = call_as(&h, "123456789012", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "alice");
	jv_set_str(h.a, c.in, "AccessKeyId", akid);
	CHECK(iam_op_delete_access_key(&c) == 0);
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), STR_NULL, now, &got, &who) ==
	      IAM_KEY_UNKNOWN);
	/* another account does not see alice */
	c = call_as(&h, "000000000000", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "alice");
	CHECK(iam_op_delete_user(&c) == -1 && strcmp(c.err_code, "NoSuchEntity") == 0);
	c = call_as(&h, "123456789012", NULL, now);
	jv_set_str(h.a, c.in, "UserName", "alice");
	CHECK(iam_op_delete_user(&c) == 0);
	harness_close(&h);
}

TEST(iam_temporary_keys)
{
	struct harness h;
	harness_open(&h);
	int64_t now = 1700000000000;
	struct aws_call c = call_as(&h, "test", NULL, now);
	jv_set_str(h.a, c.in, "RoleName", "deployer");
	jv_set_str(h.a, c.in, "AssumeRolePolicyDocument", "{\"Version\":\"2012-10-17\"}");
	CHECK(iam_op_create_role(&c) == 0);
	const char *role_id = jv_get_str(jv_get(c.out, "Role"), "RoleId");
	CHECK(role_id && strncmp(role_id, "AROA", 4) == 0);

	c = call_as(&h, "test", NULL, now);
	jv_set_str(h.a, c.in, "RoleArn", "arn:aws:iam::000000000000:role/deployer");
	jv_set_str(h.a, c.in, "RoleSessionName", "ci");
	CHECK(sts_op_assume_role(&c) == 0);
	struct jv *cr = jv_get(c.out, "Credentials");
	const char *akid = jv_get_str(cr, "AccessKeyId"), *tok = jv_get_str(cr, "SessionToken");
	const char *secret = jv_get_str(cr, "SecretAccessKey");
	CHECK(akid && strncmp(akid, "ASIA", 4) == 0 && tok && strlen(tok) > 100);
	CHECK(jv_get_double(cr, "Expiration", 0) == 1700000000.0 + 3600);

	struct identity who;
	const char *got;
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), str_c(tok), now, &got, &who) == 0);
	CHECK_STREQ(got, secret);
	CHECK_STREQ(who.arn, "arn:aws:sts::000000000000:assumed-role/deployer/ci");
	CHECK(strncmp(who.user_id, role_id, 20) == 0 && strcmp(who.user_id + 20, ":ci") == 0);
	CHECK_STREQ(who.session_token, tok);
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), STR_NULL, now, &got, &who) ==
	      IAM_KEY_BAD_TOKEN);
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), str_c("IQoJb3JpZ2luX2Vjwrong"), now, &got,
			      &who) == IAM_KEY_BAD_TOKEN);
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), str_c(tok), now + 3600 * 1000 - 1, &got,
			      &who) == 0);
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), str_c(tok), now + 3600 * 1000, &got, &who) ==
	      IAM_KEY_EXPIRED);
	/* a cold cache reads the same from SQLite */
	iam_cache_reset();
	CHECK(iam_resolve_key(&h.fb, h.a, str_c(akid), str_c(tok), now, &got, &who) == 0);

	/* the assumed role cannot GetSessionToken nor default GetUser */
	c = call_as(&h, akid, tok, now);
	CHECK(sts_op_get_session_token(&c) == -1 && strcmp(c.err_code, "AccessDenied") == 0);
	c = call_as(&h, akid, tok, now);
	CHECK(iam_op_get_user(&c) == -1 && strcmp(c.err_code, "ValidationError") == 0);

	/* a missing role is AccessDenied, as AWS answers */
	c = call_as(&h, "test", NULL, now);
	jv_set_str(h.a, c.in, "RoleArn", "arn:aws:iam::000000000000:role/nope");
	jv_set_str(h.a, c.in, "RoleSessionName", "ci");
	CHECK(sts_op_assume_role(&c) == -1 && strcmp(c.err_code, "AccessDenied") == 0);

	/* root's session token is capped at an hour and stays root */
	c = call_as(&h, "test", NULL, now);
	CHECK(sts_op_get_session_token(&c) == 0);
	cr = jv_get(c.out, "Credentials");
	CHECK(jv_get_double(cr, "Expiration", 0) == 1700000000.0 + 3600);
	CHECK(iam_resolve_key(&h.fb, h.a, jv_get_strv(cr, "AccessKeyId"),
			      jv_get_strv(cr, "SessionToken"), now, &got, &who) == 0);
	CHECK(who.is_root && strcmp(who.arn, "arn:aws:iam::000000000000:root") == 0);
	harness_close(&h);
}
