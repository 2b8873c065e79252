/* test_secretsmanager.c - the GetSecretValue hot cache (hot.c): it holds
 * ciphertext only, answers repeated reads, and every write path empties
 * it; driven through the real handlers on a scratch database. */
#include "core/compat.h"
#include "test.h"
#include "aws/call.h"
#include "aws/gen/secretsmanager_ops.h"
#include "fb.h"
#include "store/db.h"
#include "svc/kms/kms.h"
#include "svc/secretsmanager/internal.h"
#include <stdlib.h>
#include <unistd.h>

struct sm_env {
	char dir[64];
	struct fogbank fb;
	struct aws_call c;
	struct arena *a;
};

static int env_open(struct sm_env *e)
{
	static const struct db_migration *const migs[] = {kms_migrations, secretsmanager_migrations,
							  NULL};
	char path[128], *err = NULL;
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/fogbank-sm-XXXXXX");
	if (!mkdtemp(e->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/db.sqlite", e->dir);
	e->fb.data_dir = e->dir;
	e->fb.db = db_open(path, migs, &err);
	e->fb.kms = kms_keyring_open(e->dir, &err);
	e->a = arena_new(1 << 16);
	return e->fb.db && e->fb.kms ? 0 : -1;
}

static void env_close(struct sm_env *e)
{
	static const char *const names[] = {"master.key", "db.sqlite", "db.sqlite-wal",
					    "db.sqlite-shm"};
	char p[512];
	db_close(e->fb.db);
	kms_keyring_close(e->fb.kms);
	arena_free(e->a);
	for (size_t i = 0; i < FB_ARRAY_LEN(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", e->dir, names[i]);
		unlink(p);
	}
	rmdir(e->dir);
}

/* call: a fresh call in account/region with input {SecretId|Name: id,
 * SecretString: value (optional)}. */
static struct aws_call *call(struct sm_env *e, const char *account, const char *key, const char *id,
			     const char *value)
{
	struct aws_call *c = &e->c;
	memset(c, 0, sizeof(*c));
	c->a = e->a;
	c->fb = &e->fb;
	c->in = jv_object(e->a);
	jv_set_str(e->a, c->in, key, id);
	if (value)
		jv_set_str(e->a, c->in, "SecretString", value);
	c->account = account;
	c->region = "us-east-1";
	c->now_ms = 1700000000000;
	return c;
}

/* get: GetSecretValue of id in account; the value, or NULL on an error. */
static const char *get(struct sm_env *e, const char *account, const char *id)
{
	struct aws_call *c = call(e, account, "SecretId", id, NULL);
	if (secretsmanager_op_get_secret_value(c) < 0)
		return NULL;
	return jv_get_str(c->out, "SecretString");
}

TEST(sm_hot_cache_ciphertext_only_and_invalidated)
{
	static const char v1[] = "hot-canary-plaintext-1", v2[] = "hot-canary-plaintext-2";
	struct sm_env e;
	CHECK(env_open(&e) == 0);
	CHECK(secretsmanager_op_create_secret(call(&e, "111111111111", "Name", "app/db", v1)) == 0);
	const char *got = get(&e, "111111111111", "app/db");
	CHECK(got && strcmp(got, v1) == 0);
	CHECK(sm_hot_count() == 1);
	/* the second read is a hit: same answer, nothing new cached */
	got = get(&e, "111111111111", "app/db");
	CHECK(got && strcmp(got, v1) == 0);
	CHECK(sm_hot_count() == 1);
	/* never the plaintext: only what the store holds (KMS ciphertext);
	 * the name shows the search does look inside the entries */
	CHECK(sm_hot_contains("app/db", 6));
	CHECK(!sm_hot_contains(v1, strlen(v1)));
	/* another account does not see it, cached or not */
	CHECK(get(&e, "222222222222", "app/db") == NULL);
	/* a write empties the cache; the next read sees the new value */
	CHECK(secretsmanager_op_put_secret_value(
		  call(&e, "111111111111", "SecretId", "app/db", v2)) == 0);
	got = get(&e, "111111111111", "app/db");
	CHECK(got && strcmp(got, v2) == 0);
	CHECK(!sm_hot_contains(v2, strlen(v2)));
	/* a write that fails still leaves no stale entry behind */
	CHECK(secretsmanager_op_put_secret_value(call(&e, "111111111111", "SecretId", "nope", v1)) <
	      0);
	got = get(&e, "111111111111", "app/db");
	CHECK(got && strcmp(got, v2) == 0);
	/* deletion is seen at once */
	struct aws_call *c = call(&e, "111111111111", "SecretId", "app/db", NULL);
	jv_set_bool(e.a, c->in, "ForceDeleteWithoutRecovery", 1);
	CHECK(secretsmanager_op_delete_secret(c) == 0);
	CHECK(get(&e, "111111111111", "app/db") == NULL);
	CHECK(sm_hot_count() == 0);
	env_close(&e);
}

TEST(sm_hot_cache_bounded)
{
	struct sm_env e;
	char name[32], value[32];
	CHECK(env_open(&e) == 0);
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "s/%d", i);
		snprintf(value, sizeof(value), "value-%d", i);
		CHECK(secretsmanager_op_create_secret(
			  call(&e, "111111111111", "Name", name, value)) == 0);
	}
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 600; i++) {
			snprintf(name, sizeof(name), "s/%d", i);
			snprintf(value, sizeof(value), "value-%d", i);
			const char *got = get(&e, "111111111111", name);
			CHECK(got && strcmp(got, value) == 0);
		}
	CHECK(sm_hot_count() <= 256);
	env_close(&e);
}
