/* token.c - registry credentials: GetAuthorizationToken and the password
 * the registry endpoint checks on every request.
 *
 * Password: "fbecr1.<account>.<region>.<expires_s>.<mac>", mac the hex
 * HMAC-SHA256 of everything before it under a key derived from
 * <data_dir>/master.key (HMAC with a fixed label, so it is independent of
 * every key KMS and IAM derive from the same file). Stateless: verifying
 * needs no store, and tokens survive restarts while master.key is kept.
 * The account and region in it are where `docker push` lands, because the
 * repositoryUri (127.0.0.1:<port>/<name>) cannot carry them. No ':' may
 * appear: `aws ecr get-login-password` splits "AWS:<password>" on it. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/ecr_ops.h"
#include "core/log.h"
#include "fb.h"
#include "svc/ecr/internal.h"
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <unistd.h>

#define TOKEN_PREFIX "fbecr1."
#define TOKEN_LABEL "fogbank ecr registry token v1"

static struct {
	char dir[4096]; /* data dir the key was derived for; "" = none */
	unsigned char key[32];
} keycache;

/* token_key: the derived key for fb's data dir (cached). NULL when
 * master.key cannot be read (logged). */
static const unsigned char *token_key(struct fogbank *fb)
{
	const char *dir = fb->data_dir ? fb->data_dir : ".";
	if (keycache.dir[0] && strcmp(keycache.dir, dir) == 0)
		return keycache.key;
	char path[4200];
	snprintf(path, sizeof(path), "%s/master.key", dir);
	unsigned char master[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, master, sizeof(master)) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 32) {
		log_error("ecr: cannot read %s: registry tokens unavailable", path);
		return NULL;
	}
	unsigned int kl = 0;
	unsigned char *ok = HMAC(EVP_sha256(), master, (int)n, (const unsigned char *)TOKEN_LABEL,
				 strlen(TOKEN_LABEL), keycache.key, &kl);
	OPENSSL_cleanse(master, sizeof(master));
	if (!ok || kl != 32 || strlen(dir) >= sizeof(keycache.dir))
		return NULL;
	memcpy(keycache.dir, dir, strlen(dir) + 1);
	return keycache.key;
}

/* mac_hex: hex HMAC of p[0..n) under key into out (65 bytes). */
static void mac_hex(const unsigned char *key, const char *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int ml = 0;
	if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)p, n, md, &ml) || ml != 32)
		fb_die("ecr: HMAC failed");
	fmt_hex(out, md, 32);
}

int ecr_token_make(struct fogbank *fb, const char *account, const char *region, int64_t expires_ms,
		   char out[ECR_TOKEN_MAX])
{
	const unsigned char *key = token_key(fb);
	if (!key || strlen(region) > 31 || strchr(region, '.') || strchr(account, '.'))
		return -1;
	int n = snprintf(out, ECR_TOKEN_MAX, TOKEN_PREFIX "%s.%s.%lld.", account, region,
			 (long long)(expires_ms / 1000));
	if (n < 0 || (size_t)n + 65 > ECR_TOKEN_MAX)
		return -1;
	mac_hex(key, out, (size_t)n, out + n);
	return 0;
}

int ecr_token_verify(struct fogbank *fb, struct str pw, int64_t now_ms, char account[13],
		     char region[32])
{
	const unsigned char *key = token_key(fb);
	size_t pl = strlen(TOKEN_PREFIX);
	if (!key || pw.n < pl + 65 || pw.n >= ECR_TOKEN_MAX || memcmp(pw.p, TOKEN_PREFIX, pl))
		return -1;
	size_t body = pw.n - 64; /* everything through the last '.' */
	char mac[65];
	mac_hex(key, pw.p, body, mac);
	if (pw.p[body - 1] != '.' || CRYPTO_memcmp(mac, pw.p + body, 64) != 0)
		return -1;
	/* the MAC is good, so the fields are ours: account.region.expiry. */
	char f[ECR_TOKEN_MAX];
	memcpy(f, pw.p + pl, body - 1 - pl);
	f[body - 1 - pl] = 0;
	char *acct = f, *reg = strchr(acct, '.'), *exp = reg ? strchr(reg + 1, '.') : NULL;
	if (!exp)
		return -1;
	*reg++ = 0;
	*exp++ = 0;
	if (strlen(acct) != 12 || strlen(reg) >= 32 || atoll(exp) * 1000 <= now_ms)
		return -1;
	memcpy(account, acct, 13);
	memcpy(region, reg, strlen(reg) + 1);
	return 0;
}

int ecr_op_get_authorization_token(struct aws_call *c)
{
	const struct jv *ids = jv_get(c->in, "registryIds");
	struct jv *list = jv_array(c->a);
	int64_t expires = c->now_ms + ECR_TOKEN_TTL_MS;
	char pw[ECR_TOKEN_MAX];
	for (size_t i = 0; i < jv_len(ids); i++) {
		const struct jv *id = jv_at(ids, i);
		if (id->type == JV_STRING && strcmp(id->u.s.p, c->account) != 0)
			return aws_fail(c, 400, "InvalidParameterException",
					"Invalid parameter at 'registryIds' failed to satisfy "
					"constraint: 'registry %s is not accessible to account %s'",
					id->u.s.p, c->account);
	}
	if (ecr_token_make(c->fb, c->account, c->region, expires, pw) < 0)
		return aws_fail(c, 500, "ServerException", "Registry tokens are unavailable.");
	/* one entry whether or not registryIds named this account (once) */
	char *plain = arena_sprintf(c->a, "AWS:%s", pw);
	char *b64 = arena_alloc(c->a, 4 * ((strlen(plain) + 2) / 3) + 1);
	fmt_b64_encode(b64, plain, strlen(plain));
	struct jv *d = jv_object(c->a);
	jv_set_str(c->a, d, "authorizationToken", b64);
	jv_set_double(c->a, d, "expiresAt", (double)(expires / 1000));
	const char *h = c->fb->host ? c->fb->host : "127.0.0.1";
	jv_set_str(c->a, d, "proxyEndpoint",
		   strchr(h, ':') ? arena_sprintf(c->a, "http://[%s]:%d", h, c->fb->port)
				  : arena_sprintf(c->a, "http://%s:%d", h, c->fb->port));
	jv_push(c->a, list, d);
	jv_set(c->a, aws_out(c), "authorizationData", list);
	return 0;
}
