/* ssec.c - SSE-C, server-side encryption with customer-provided keys: the
 * x-amz-server-side-encryption-customer-* headers (and their copy-source
 * forms) with AWS's errors, and the keys derived from them.
 *
 * The customer's key is never stored. Each object (or multipart upload)
 * gets a random salt; its data is sealed with HMAC-SHA256(key, "data" ||
 * salt) through the same AES-GCM records as SSE-KMS, and only the salt
 * and HMAC-SHA256(key, "check" || salt) are kept (s3_objects.data_key,
 * s3_uploads.ssec), which is how a wrong key is told from the right one
 * before any byte is decrypted. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "fb.h"
#include "svc/s3/internal.h"
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static const char ssec_data_label[] = "fogbank-s3-ssec-data";
static const char ssec_check_label[] = "fogbank-s3-ssec-check";

/* member: the input member <prefix><name> ("SSECustomerKey", ...). */
static const char *member(struct aws_call *c, int copy_source, const char *name)
{
	char m[64];
	snprintf(m, sizeof(m), "%sSSECustomer%s", copy_source ? "CopySource" : "", name);
	return jv_get_str(c->in, m);
}

int s3_ssec_parse(struct aws_call *c, int copy_source, int writing, struct s3_ssec *k)
{
	const char *alg = member(c, copy_source, "Algorithm");
	const char *key = member(c, copy_source, "Key");
	const char *md5 = member(c, copy_source, "KeyMD5");
	unsigned char raw[72], digest[16]; /* a base64 key of up to 88 characters */
	char b64[32];
	ssize_t n;

	memset(k, 0, sizeof(*k));
	if (!alg && !key && !md5)
		return 0;
	if (!alg)
		return aws_fail(c, 400, "InvalidArgument",
				"Requests specifying Server Side Encryption with Customer provided "
				"keys must provide a valid encryption algorithm.");
	if (strcmp(alg, "AES256") != 0)
		return aws_fail(c, 400, "InvalidEncryptionAlgorithmError",
				"The Encryption request you specified is not valid. Supported "
				"value: AES256.");
	if (!key || !*key)
		return aws_fail(c, 400, "InvalidArgument",
				"Requests specifying Server Side Encryption with Customer provided "
				"keys must provide an appropriate secret key.");
	n = strlen(key) <= 88 ? fmt_b64_decode(raw, key, strlen(key)) : -1;
	if (n < 0)
		n = 0; /* not base64: no key can match it */
	EVP_Digest(raw, (size_t)n, digest, NULL, EVP_md5(), NULL);
	fmt_b64_encode(b64, digest, 16);
	/* AWS compares the MD5 before it looks at the key's length */
	if (md5 && strcmp(md5, b64) != 0)
		return aws_fail(c, 400, "InvalidArgument",
				"The calculated MD5 hash of the key did not match the hash that "
				"was provided.");
	if (writing && n != 32)
		return aws_fail(c, 400, "InvalidArgument",
				"The secret key was invalid for the specified algorithm.");
	k->given = 1;
	k->key_n = (size_t)n;
	memcpy(k->key, raw, n < 32 ? (size_t)n : 32);
	OPENSSL_cleanse(raw, sizeof(raw));
	k->key_md5 = arena_strdup(c->a, b64);
	return 0;
}

/* derive: HMAC-SHA256(key, label || salt) into out. */
static void derive(const unsigned char key[32], const char *label, const unsigned char *salt,
		   unsigned char out[32])
{
	unsigned char msg[64];
	unsigned int n = 0;
	size_t ln = strlen(label);
	memcpy(msg, label, ln);
	memcpy(msg + ln, salt, S3_SSEC_SALT);
	HMAC(EVP_sha256(), key, 32, msg, ln + S3_SSEC_SALT, out, &n);
}

int s3_ssec_seal(struct aws_call *c, const struct s3_ssec *k, unsigned char file_key[32],
		 struct str *blob)
{
	unsigned char *b = arena_alloc(c->a, S3_SSEC_BLOB);
	if (!k->given || k->key_n != 32)
		return aws_fail(c, 500, "InternalError", "no customer key");
	if (RAND_bytes(b, S3_SSEC_SALT) != 1)
		return aws_fail(c, 500, "InternalError", "no randomness");
	derive(k->key, ssec_check_label, b, b + S3_SSEC_SALT);
	if (file_key)
		derive(k->key, ssec_data_label, b, file_key);
	*blob = (struct str){(const char *)b, S3_SSEC_BLOB};
	return 0;
}

int s3_ssec_matches(const struct s3_ssec *k, struct str blob, unsigned char file_key[32])
{
	unsigned char check[32];
	const unsigned char *salt = (const unsigned char *)blob.p;
	if (!k->given || k->key_n != 32 || blob.n < S3_SSEC_BLOB)
		return 0;
	derive(k->key, ssec_check_label, salt, check);
	if (CRYPTO_memcmp(check, salt + S3_SSEC_SALT, 32) != 0)
		return 0;
	if (file_key)
		derive(k->key, ssec_data_label, salt, file_key);
	return 1;
}

int s3_ssec_object_key(struct aws_call *c, const char *sse, struct str blob, int copy_source,
		       unsigned char file_key[32], struct s3_ssec *k)
{
	struct s3_ssec local;
	int rc;
	if (!k)
		k = &local;
	if (s3_ssec_parse(c, copy_source, 0, k) < 0)
		return -1;
	if (!s3_is_ssec(sse)) {
		rc = k->given ? aws_fail(c, 400, "InvalidRequest",
					 "The encryption parameters are not applicable to this "
					 "object.")
			      : 0;
	} else if (!k->given) {
		rc = aws_fail(c, 400, "InvalidRequest",
			      "The object was stored using a form of Server Side Encryption. The "
			      "correct parameters must be provided to retrieve the object.");
	} else if (!s3_ssec_matches(k, blob, file_key)) {
		rc = aws_fail(c, 403, "AccessDenied",
			      "Requests specifying Server Side Encryption with Customer provided "
			      "keys must provide the correct secret key.");
	} else {
		rc = 0;
	}
	OPENSSL_cleanse(k->key, sizeof(k->key));
	return rc;
}

int s3_is_ssec(const char *sse)
{
	return sse && !strcmp(sse, S3_SSEC);
}

void s3_ssec_out(struct aws_call *c)
{
	struct s3_ssec k;
	/* the request's own key, validated by the handler already */
	if (s3_ssec_parse(c, 0, 0, &k) < 0) {
		s3_clear_error(c);
		return;
	}
	OPENSSL_cleanse(k.key, sizeof(k.key));
	if (!k.given)
		return;
	jv_set_str(c->a, aws_out(c), "SSECustomerAlgorithm", "AES256");
	jv_set_str(c->a, aws_out(c), "SSECustomerKeyMD5", k.key_md5);
}
