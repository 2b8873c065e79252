/* crypto.c - the cryptographic operations: Encrypt, Decrypt, ReEncrypt,
 * GenerateDataKey(WithoutPlaintext), GenerateRandom, and the internal
 * envelope API other services use (kms.h). Real AES-256-GCM under each
 * key's own material; the encryption context is authenticated as AAD. */
#include "core/compat.h"
#include "aws/gen/kms_ops.h"
#include "fb.h"
#include "svc/kms/internal.h"

#define KMS_MAX_PLAINTEXT 4096

/* check_algorithm: symmetric keys only do SYMMETRIC_DEFAULT. */
static int check_algorithm(struct aws_call *c, const char *member)
{
	const char *alg = jv_get_str(c->in, member);
	if (alg && strcmp(alg, "SYMMETRIC_DEFAULT"))
		return aws_fail(c, 400, "InvalidKeyUsageException",
				"%s is not a valid encryption algorithm for a symmetric key", alg);
	return 0;
}

/* encrypt_with: resolves key_ref, checks it can encrypt, seals. */
static int encrypt_with(struct aws_call *c, const char *key_ref, struct str pt,
			const struct jv *context, struct str *blob, const char **arn)
{
	struct kms_key k;
	if (kms_key_find(c, key_ref, 1, &k) < 0 || kms_key_check_usable(c, &k) < 0)
		return -1;
	const struct kms_cached_key *e = kms_keyring_get(c, k.id);
	if (!e)
		return c->err_code ? -1
				   : aws_fail(c, 400, "NotFoundException",
					      "Key '%s' does not exist", k.arn);
	if (kms_seal(c->fb->kms, c->a, k.id, e->material, pt, context, blob) < 0)
		return aws_fail(c, 500, "KMSInternalException", "encryption failed");
	if (arn)
		*arn = k.arn;
	return 0;
}

/* decrypt_blob: opens blob with the key it names. expect_id, when not
 * NULL, is the key the caller said it must be. The common case (key
 * cached and enabled) touches no database. */
static int decrypt_blob(struct aws_call *c, struct str blob, const struct jv *context,
			const char *expect_id, struct str *pt, const char **id_out)
{
	char id[KMS_ID_LEN + 1];
	if (kms_blob_key_id(blob, id) < 0)
		return aws_fail(c, 400, "InvalidCiphertextException", "%s", "");
	if (expect_id && strcmp(expect_id, id))
		return aws_fail(c, 400, "IncorrectKeyException",
				"The key ID in the request does not identify a CMK that can "
				"perform this operation.");
	const struct kms_cached_key *e = kms_keyring_get(c, id);
	if (!e && c->err_code)
		return -1;
	if (!e || strcmp(e->account, c->account) || strcmp(e->region, c->region))
		return aws_fail(c, 400, "NotFoundException", "Key '%s' does not exist",
				kms_key_arn(c->a, c->region, c->account, id));
	if (e->state != KMS_STATE_ENABLED) {
		/* slow path: the row decides (and purges an expired key) */
		struct kms_key k;
		if (kms_key_find(c, id, 0, &k) < 0 || kms_key_check_usable(c, &k) < 0)
			return -1;
		e = kms_keyring_get(c, id);
		if (!e)
			return c->err_code ? -1
					   : aws_fail(c, 400, "NotFoundException",
						      "Key '%s' does not exist", k.arn);
	}
	if (kms_open(c->fb->kms, c->a, e->material, blob, context, pt) < 0)
		return aws_fail(c, 400, "InvalidCiphertextException", "%s", "");
	if (id_out)
		*id_out = arena_strdup(c->a, id);
	return 0;
}

int kms_internal_encrypt(struct aws_call *c, const char *key_ref, struct str plaintext,
			 const struct jv *context, struct str *blob_out, const char **key_arn_out)
{
	return encrypt_with(c, key_ref, plaintext, context, blob_out, key_arn_out);
}

int kms_internal_decrypt(struct aws_call *c, struct str blob, const struct jv *context,
			 struct str *plaintext_out, const char **key_id_out)
{
	return decrypt_blob(c, blob, context, NULL, plaintext_out, key_id_out);
}

const char *kms_key_arn_of(struct aws_call *c, const char *key_ref)
{
	struct kms_key k;
	return kms_key_find(c, key_ref, 1, &k) < 0 ? NULL : k.arn;
}

/* plaintext_arg: the Plaintext member, 1..4096 bytes. */
static int plaintext_arg(struct aws_call *c, struct str *pt)
{
	*pt = jv_get_strv(c->in, "Plaintext");
	if (!pt->p || pt->n == 0 || pt->n > KMS_MAX_PLAINTEXT)
		return aws_fail(c, 400, "ValidationException",
				"1 validation error detected: Value at 'plaintext' failed to "
				"satisfy constraint: Member must have length between 1 and 4096");
	return 0;
}

int kms_op_encrypt(struct aws_call *c)
{
	struct str pt, blob;
	const char *arn;
	if (plaintext_arg(c, &pt) < 0 || check_algorithm(c, "EncryptionAlgorithm") < 0)
		return -1;
	if (encrypt_with(c, jv_get_str(c->in, "KeyId"), pt, jv_get(c->in, "EncryptionContext"),
			 &blob, &arn) < 0)
		return -1;
	struct jv *o = aws_out(c);
	jv_set_strn(c->a, o, "CiphertextBlob", blob.p, blob.n);
	jv_set_str(c->a, o, "KeyId", arn);
	jv_set_str(c->a, o, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
	return 0;
}

/* optional_key: resolves an optional key reference member to its id. */
static int optional_key(struct aws_call *c, const char *member, const char **id)
{
	struct kms_key k;
	*id = NULL;
	if (!jv_get_str(c->in, member))
		return 0;
	if (kms_key_find(c, jv_get_str(c->in, member), 1, &k) < 0)
		return -1;
	*id = k.id;
	return 0;
}

/* blob_arg: the CiphertextBlob member. */
static int blob_arg(struct aws_call *c, struct str *blob)
{
	*blob = jv_get_strv(c->in, "CiphertextBlob");
	if (!blob->p || blob->n == 0)
		return aws_fail(c, 400, "ValidationException", "CiphertextBlob is required");
	return 0;
}

int kms_op_decrypt(struct aws_call *c)
{
	struct str blob, pt;
	const char *expect, *id;
	if (blob_arg(c, &blob) < 0 || check_algorithm(c, "EncryptionAlgorithm") < 0 ||
	    optional_key(c, "KeyId", &expect) < 0)
		return -1;
	if (decrypt_blob(c, blob, jv_get(c->in, "EncryptionContext"), expect, &pt, &id) < 0)
		return -1;
	struct jv *o = aws_out(c);
	jv_set_str(c->a, o, "KeyId", kms_key_arn(c->a, c->region, c->account, id));
	jv_set_strn(c->a, o, "Plaintext", pt.p, pt.n);
	jv_set_str(c->a, o, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
	return 0;
}

int kms_op_re_encrypt(struct aws_call *c)
{
	struct str blob, pt, out;
	const char *expect, *src_id, *dst_arn;
	if (blob_arg(c, &blob) < 0 || check_algorithm(c, "SourceEncryptionAlgorithm") < 0 ||
	    check_algorithm(c, "DestinationEncryptionAlgorithm") < 0 ||
	    optional_key(c, "SourceKeyId", &expect) < 0)
		return -1;
	if (decrypt_blob(c, blob, jv_get(c->in, "SourceEncryptionContext"), expect, &pt, &src_id) <
	    0)
		return -1;
	if (encrypt_with(c, jv_get_str(c->in, "DestinationKeyId"), pt,
			 jv_get(c->in, "DestinationEncryptionContext"), &out, &dst_arn) < 0)
		return -1;
	struct jv *o = aws_out(c);
	jv_set_strn(c->a, o, "CiphertextBlob", out.p, out.n);
	jv_set_str(c->a, o, "SourceKeyId", kms_key_arn(c->a, c->region, c->account, src_id));
	jv_set_str(c->a, o, "KeyId", dst_arn);
	jv_set_str(c->a, o, "SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT");
	jv_set_str(c->a, o, "DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT");
	return 0;
}

/* data_key: GenerateDataKey's common part; with_plaintext chooses the
 * output. The plaintext key is random bytes of KeySpec / NumberOfBytes. */
static int data_key(struct aws_call *c, int with_plaintext)
{
	const char *spec = jv_get_str(c->in, "KeySpec");
	int64_t n = jv_get_int(c->in, "NumberOfBytes", 0);
	if (spec && jv_get(c->in, "NumberOfBytes"))
		return aws_fail(c, 400, "ValidationException",
				"Please specify either number of bytes or key spec.");
	if (spec)
		n = strcmp(spec, "AES_128") == 0 ? 16 : strcmp(spec, "AES_256") == 0 ? 32 : 0;
	if (!spec && !jv_get(c->in, "NumberOfBytes"))
		return aws_fail(c, 400, "ValidationException",
				"Please specify either number of bytes or key spec.");
	if (n < 1 || n > 1024)
		return aws_fail(
		    c, 400, "ValidationException",
		    "1 validation error detected: Value '%lld' at 'numberOfBytes' failed "
		    "to satisfy constraint: Member must have value between 1 and 1024",
		    (long long)n);
	unsigned char *key = arena_alloc(c->a, (size_t)n);
	if (kms_random(key, (size_t)n) < 0)
		return aws_fail(c, 500, "KMSInternalException", "no randomness");
	struct str pt = {(const char *)key, (size_t)n}, blob;
	const char *arn;
	if (encrypt_with(c, jv_get_str(c->in, "KeyId"), pt, jv_get(c->in, "EncryptionContext"),
			 &blob, &arn) < 0)
		return -1;
	struct jv *o = aws_out(c);
	jv_set_strn(c->a, o, "CiphertextBlob", blob.p, blob.n);
	if (with_plaintext)
		jv_set_strn(c->a, o, "Plaintext", pt.p, pt.n);
	jv_set_str(c->a, o, "KeyId", arn);
	return 0;
}

int kms_op_generate_data_key(struct aws_call *c)
{
	return data_key(c, 1);
}

int kms_op_generate_data_key_without_plaintext(struct aws_call *c)
{
	return data_key(c, 0);
}

int kms_op_generate_random(struct aws_call *c)
{
	if (jv_get_str(c->in, "CustomKeyStoreId"))
		return aws_fail(c, 400, "CustomKeyStoreNotFoundException",
				"fogbank has no custom key stores");
	int64_t n = jv_get_int(c->in, "NumberOfBytes", 0);
	if (n < 1 || n > 1024)
		return aws_fail(
		    c, 400, "ValidationException",
		    "1 validation error detected: Value '%lld' at 'numberOfBytes' failed "
		    "to satisfy constraint: Member must have value between 1 and 1024",
		    (long long)n);
	unsigned char *p = arena_alloc(c->a, (size_t)n);
	if (kms_random(p, (size_t)n) < 0)
		return aws_fail(c, 500, "KMSInternalException", "no randomness");
	jv_set_strn(c->a, aws_out(c), "Plaintext", (const char *)p, (size_t)n);
	return 0;
}
