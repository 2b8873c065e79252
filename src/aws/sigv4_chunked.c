/* sigv4_chunked.c - chunk and trailer signatures of SigV4 streaming
 * uploads (see sigv4_chunked.h). Separate from sigv4.c: the header
 * signature check stays one hot path; this runs once per 64 KiB chunk of
 * a signed streaming body. */
#include "core/compat.h"
#include "aws/sigv4_chunked.h"
#include "aws/fmt.h"
#include <openssl/crypto.h>
#include <openssl/hmac.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* hmac: HMAC-SHA256 of msg under key into out[32]. */
static void hmac(const void *key, size_t key_n, const void *msg, size_t n, unsigned char out[32])
{
	unsigned int len = 32;
	HMAC(EVP_sha256(), key, (int)key_n, msg, n, out, &len);
}

int sigv4_chunk_signer_init(struct sigv4_chunk_signer *s, const char *secret, size_t secret_n,
			    struct str date, struct str region, struct str service,
			    struct str amz_date)
{
	unsigned char k[32];
	char first[256];
	int n;

	if (date.n != 8 || amz_date.n != 16 || !region.n || !service.n || secret_n > 200 ||
	    date.n + region.n + service.n + 16 >= sizeof(s->scope))
		return -1;
	memcpy(s->amz_date, amz_date.p, 16);
	s->amz_date[16] = 0;
	snprintf(s->scope, sizeof(s->scope), "%.*s/%.*s/%.*s/aws4_request", (int)date.n, date.p,
		 (int)region.n, region.p, (int)service.n, service.p);
	n = snprintf(first, sizeof(first), "AWS4%.*s", (int)secret_n, secret);
	hmac(first, (size_t)n, date.p, date.n, k);
	OPENSSL_cleanse(first, sizeof(first));
	hmac(k, 32, region.p, region.n, k);
	hmac(k, 32, service.p, service.n, k);
	hmac(k, 32, "aws4_request", 12, s->key);
	OPENSSL_cleanse(k, sizeof(k));
	return 0;
}

/* sign: the hex HMAC of "<algo>\n<date>\n<scope>\n<prev>\n<rest>". */
static void sign(const struct sigv4_chunk_signer *s, const char *algo, const char *prev,
		 const char *rest, char out[65])
{
	char sts[512];
	unsigned char mac[32];
	int n = snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%.64s\n%s", algo, s->amz_date, s->scope,
			 prev, rest);
	hmac(s->key, 32, sts, (size_t)n < sizeof(sts) ? (size_t)n : sizeof(sts) - 1, mac);
	fmt_hex(out, mac, 32);
}

void sigv4_chunk_signature(const struct sigv4_chunk_signer *s, const char *prev,
			   const unsigned char data_sha256[32], char out[65])
{
	char rest[65 + 66];
	memcpy(rest, EMPTY_SHA256 "\n", 65);
	fmt_hex(rest + 65, data_sha256, 32);
	sign(s, "AWS4-HMAC-SHA256-PAYLOAD", prev, rest, out);
}

void sigv4_trailer_signature(const struct sigv4_chunk_signer *s, const char *prev,
			     const unsigned char trailer_sha256[32], char out[65])
{
	char hex[65];
	fmt_hex(hex, trailer_sha256, 32);
	sign(s, "AWS4-HMAC-SHA256-TRAILER", prev, hex, out);
}

int sigv4_sig_equal(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	return na == 64 && nb == 64 && CRYPTO_memcmp(a, b, 64) == 0;
}
