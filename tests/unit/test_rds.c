/* test_rds.c - the pieces of RDS that need no server: SQL quoting, the
 * SCRAM verifier (checked against an independent computation), progress
 * parsing, the configuration fogbank writes (standby and signal files
 * included), identifiers, the schema, the sealed records of encrypted
 * snapshots, and the local CA (a leaf it issues verifies against it). */
#include "store/db.h"
#include "supervise/pg_wire.h"
#include "supervise/postgres.h"
#include "svc/rds/internal.h"
#include "svc/rds/params.h"
#include "svc/rds/snapcrypt.h"
#include "test.h"
#include "tls/ca.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

TEST(rds_quote)
{
	char out[64];
	CHECK(pg_quote_literal("it's", out, sizeof(out)) == 0);
	CHECK_STREQ(out, "'it''s'");
	CHECK(pg_quote_ident("a\"b", out, sizeof(out)) == 0);
	CHECK_STREQ(out, "\"a\"\"b\"");
	CHECK(pg_quote_literal("0123456789", out, 8) == -1);
}

TEST(rds_scram_verifier)
{
	char v[200];
	CHECK(pg_scram_verifier("s3cr3t-Pass1", v, sizeof(v)) == 0);
	/* SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey> */
	CHECK(strncmp(v, "SCRAM-SHA-256$4096:", 19) == 0);
	char *salt_b64 = v + 19, *d = strchr(salt_b64, '$'), *colon = d ? strchr(d, ':') : NULL;
	CHECK(d && colon);
	if (!d || !colon)
		return;
	unsigned char salt[64], salted[32], ck[32], stored[32], want[64];
	int sn = EVP_DecodeBlock(salt, (unsigned char *)salt_b64, (int)(d - salt_b64));
	CHECK(sn == 18); /* 16 bytes + padding count */
	PKCS5_PBKDF2_HMAC("s3cr3t-Pass1", 12, salt, 16, 4096, EVP_sha256(), 32, salted);
	unsigned int hl;
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10, ck, &hl);
	SHA256(ck, 32, stored);
	char b64[64];
	EVP_EncodeBlock((unsigned char *)b64, stored, 32);
	CHECK(strncmp(d + 1, b64, (size_t)(colon - d - 1)) == 0);
	FB_UNUSED(want);
	/* salted: two verifiers of one password differ */
	char v2[200];
	CHECK(pg_scram_verifier("s3cr3t-Pass1", v2, sizeof(v2)) == 0 && strcmp(v, v2) != 0);
}

TEST(rds_progress_and_ident)
{
	const char *l = "12345/67890 kB (18%), 0/1 tablespace";
	CHECK(pg_progress_pct(l, strlen(l)) == 18);
	CHECK(pg_progress_pct("waiting for checkpoint", 22) == -1);
	CHECK(rds_valid_ident("orders-db"));
	CHECK(!rds_valid_ident("1db"));
	CHECK(!rds_valid_ident("db-"));
	CHECK(!rds_valid_ident("a--b"));
	CHECK(!rds_valid_ident(""));
	char sock[200];
	CHECK(pg_sock_path("/tmp/x/sock", 5432, sock, sizeof(sock)) == 0);
	CHECK_STREQ(sock, "/tmp/x/sock/.s.PGSQL.5432");
}

TEST(rds_params_table)
{
	int n = 0, have_work_mem = 0, static_sb = 0;
	for (const struct rds_pg_param *p = rds_pg_params; p->name; p++, n++) {
		if (!strcmp(p->name, "work_mem"))
			have_work_mem = strcmp(p->context, "postmaster") != 0;
		if (!strcmp(p->name, "shared_buffers"))
			static_sb = !strcmp(p->context, "postmaster");
	}
	CHECK(n > 250);
	CHECK(have_work_mem && static_sb);
}

TEST(rds_schema_migrates)
{
	static const struct db_migration *const migs[] = {rds_migrations, NULL};
	char *err = NULL;
	struct db *db = db_open(":memory:", migs, &err);
	CHECK(db != NULL);
	free(err);
	db_close(db);
}

TEST(rds_ca_issue_verifies)
{
	char dir[] = "/tmp/fb-ca-test-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *err = NULL, cert[256], key[256];
	size_t n = 0;
	const char *pem = ca_cert_pem(dir, &n, &err);
	CHECK(pem && n > 100 && strstr(pem, "BEGIN CERTIFICATE"));
	snprintf(cert, sizeof(cert), "%s/server.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	const char *dns[] = {"localhost", NULL};
	CHECK(ca_issue(dir, cert, key, "127.0.1.1", "127.0.1.1", dns, -1, -1, &err) == 0);
	BIO *cb = BIO_new_mem_buf(pem, (int)n);
	X509 *cax = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	FILE *f = fopen(cert, "r");
	X509 *leaf = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	CHECK(cax && leaf);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_add_cert(store, cax);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	CHECK(X509_verify_cert(ctx) == 1);
	CHECK(X509_check_ip_asc(leaf, "127.0.1.1", 0) == 1);
	CHECK(X509_check_host(leaf, "localhost", 0, 0, NULL) == 1);
	/* the CA survives a reload: same certificate */
	char *copy = strndup(pem, n);
	ca_unload();
	size_t n2 = 0;
	const char *pem2 = ca_cert_pem(dir, &n2, &err);
	CHECK(pem2 && n2 == n && memcmp(pem2, copy, n) == 0);
	free(copy);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	X509_free(cax);
	BIO_free(cb);
	ca_unload();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

TEST(rds_snapcrypt_records)
{
	unsigned char key[SC_KEY_LEN], in[4096], rec[SC_REC_HEAD + 4096], out[4096];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i % 251);
	long n = sc_seal(key, 5, 0, in, sizeof(in), rec);
	CHECK(n == SC_REC_HEAD + (long)sizeof(in));
	CHECK(sc_rec_len(rec) == (long)sizeof(in));
	/* the plaintext is not in the record */
	CHECK(memmem(rec, (size_t)n, in + 100, 64) == NULL);
	int last = -1;
	CHECK(sc_unseal(key, 5, rec, rec + SC_REC_HEAD, out, &last) == (long)sizeof(in));
	CHECK(last == 0 && memcmp(in, out, sizeof(in)) == 0);
	/* another position, a forged last flag, a flipped bit, another key */
	CHECK(sc_unseal(key, 6, rec, rec + SC_REC_HEAD, out, &last) == -1);
	rec[4] = 1;
	CHECK(sc_unseal(key, 5, rec, rec + SC_REC_HEAD, out, &last) == -1);
	rec[4] = 0;
	rec[SC_REC_HEAD + 2000] ^= 0x01;
	CHECK(sc_unseal(key, 5, rec, rec + SC_REC_HEAD, out, &last) == -1);
	rec[SC_REC_HEAD + 2000] ^= 0x01;
	key[0] ^= 0x80;
	CHECK(sc_unseal(key, 5, rec, rec + SC_REC_HEAD, out, &last) == -1);
	key[0] ^= 0x80;
	/* an empty last record still authenticates */
	n = sc_seal(key, 9, 1, in, 0, rec);
	CHECK(n == SC_REC_HEAD && sc_unseal(key, 9, rec, rec + SC_REC_HEAD, out, &last) == 0);
	CHECK(last == 1);
	/* malformed heads: too long, unknown flag */
	unsigned char head[SC_REC_HEAD] = {0xff, 0xff, 0xff, 0xff, 0};
	CHECK(sc_rec_len(head) == -1);
	memset(head, 0, sizeof(head));
	head[4] = 2;
	CHECK(sc_rec_len(head) == -1);
}

/* file_exists: 1 when dir/name exists. */
static int file_exists(const char *dir, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

TEST(rds_conf_standby_and_signals)
{
	char dir[] = "/tmp/fb-pgconf-test-XXXXXX", *err = NULL;
	CHECK(mkdtemp(dir) != NULL);
	struct pg_conf cf = {.listen_addr = "", .port = 5432, .sock_dir = "/tmp/s"};
	cf.primary_conninfo = "host='/x/sock' port=5432 user=rdsadmin application_name=rds_standby";
	cf.restore_dir = "/x/archive";
	cf.hot_standby = 1;
	int wrote = pg_write_conf(dir, &cf, &err) == 0;
	free(err);
	err = NULL;
	if (!wrote) /* no postgres user on this machine: nothing to check */
		goto out;
	/* a standby that may also restore: standby.signal only */
	CHECK(file_exists(dir, "standby.signal") && !file_exists(dir, "recovery.signal"));
	char path[512], text[8192];
	snprintf(path, sizeof(path), "%s/postgresql.conf", dir);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = 0;
	CHECK(strstr(text, "listen_addresses = ''\n") != NULL);
	CHECK(strstr(text, "primary_conninfo = 'host=''/x/sock'' port=5432") != NULL);
	CHECK(strstr(text, "recovery_target_timeline = 'latest'") != NULL);
	CHECK(strstr(text, "synchronous_standby_names") == NULL);
	/* a PITR restore: recovery.signal only */
	cf.primary_conninfo = NULL;
	CHECK(pg_write_conf(dir, &cf, &err) == 0);
	CHECK(!file_exists(dir, "standby.signal") && file_exists(dir, "recovery.signal"));
	/* a promoted server: none, and a synchronous standby named */
	cf.restore_dir = NULL;
	cf.sync_standby = "rds_standby";
	CHECK(pg_write_conf(dir, &cf, &err) == 0);
	CHECK(!file_exists(dir, "standby.signal") && !file_exists(dir, "recovery.signal"));
	f = fopen(path, "r");
	n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = 0;
	CHECK(strstr(text, "synchronous_standby_names = 'rds_standby'") != NULL);
out:;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

TEST(rds_basebackup_tar_argv)
{
	char *argv[16], buf[1024];
	CHECK(pg_basebackup_tar_argv("/d/sock", 5433, argv, buf, sizeof(buf)) == 0);
	int tar = 0, fetch = 0, stdout_dst = 0, n = 0;
	for (; argv[n]; n++) {
		tar |= !strcmp(argv[n], "-Ft");
		fetch |= !strcmp(argv[n], "-Xfetch");
		stdout_dst |= !strcmp(argv[n], "-D") && argv[n + 1] && !strcmp(argv[n + 1], "-");
	}
	CHECK(tar && fetch && stdout_dst && n < 16);
}
