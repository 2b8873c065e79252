/* encryption.c - encryption at rest: the bucket default (Put/Get/
 * DeleteBucketEncryption), the choice for each new object (request
 * headers, else the default), and its data keys. Every encrypted data
 * file has its own random 256-bit key, stored only as fogbank KMS
 * ciphertext under the object's KMS key (SSE-KMS: the given key or
 * alias/aws/s3; SSE-S3: alias/aws/s3 too) bound to the encryption context
 * {"aws:s3:arn": "arn:aws:s3:::bucket/key"} (or the caller's). SSE-C
 * (customer keys, ssec.c) is chosen here too and shares the records. */
#include "core/compat.h"
#include "aws/fmt.h"
#include "aws/gen/s3_ops.h"
#include "fb.h"
#include "svc/kms/kms.h"
#include "svc/s3/internal.h"
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define S3_MANAGED_ALIAS "aws/s3"

/* kms_error: turns the KMS error on c into S3's "KMS.<code>" form. */
static int kms_error(struct aws_call *c)
{
	const char *code = c->err_code ? c->err_code : "KMSInternalException";
	const char *msg = c->err_msg ? c->err_msg : "";
	int status = c->err_status >= 500 ? 500 : 400;
	s3_clear_error(c);
	if (!strncmp(code, "KMS.", 4))
		return aws_fail(c, status, code, "%s", msg);
	if (!strcmp(code, "NotFoundException") || !strcmp(code, "ValidationException"))
		return aws_fail(c, 400, "KMS.NotFoundException", "%s", msg);
	return aws_fail(c, status, arena_sprintf(c->a, "KMS.%s", code), "%s", msg);
}

/* default_rule: the bucket's default encryption, or 0 when none. */
static int default_rule(struct aws_call *c, const struct s3_bucket *b, const char **sse,
			const char **kms_key, int *bucket_key)
{
	struct jv *cfg = s3_cfg_get(c, b->id, "encryption");
	struct jv *rule = jv_at(jv_get(cfg, "Rules"), 0);
	struct jv *def = jv_get(rule, "ApplyServerSideEncryptionByDefault");
	if (!def)
		return 0;
	*sse = jv_get_str(def, "SSEAlgorithm");
	*kms_key = jv_get_str(def, "KMSMasterKeyID");
	*bucket_key = jv_get_bool(rule, "BucketKeyEnabled", 0);
	return *sse != NULL;
}

int s3_sse_choose(struct aws_call *c, const struct s3_bucket *b, struct s3_sse *out)
{
	const char *sse = jv_get_str(c->in, "ServerSideEncryption");
	const char *kms_key = jv_get_str(c->in, "SSEKMSKeyId");
	const char *ctx = jv_get_str(c->in, "SSEKMSEncryptionContext");
	int bucket_key = jv_get_bool(c->in, "BucketKeyEnabled", 0);

	memset(out, 0, sizeof(*out));
	if (s3_ssec_parse(c, 0, 1, &out->ssec) < 0)
		return -1;
	if (out->ssec.given) {
		/* the customer's key wins over the bucket default, not over a
		 * method named in the same request */
		if (sse)
			return aws_fail(c, 400, "InvalidArgument",
					"Server Side Encryption with Customer provided key is "
					"incompatible with the encryption method specified");
		if (kms_key || ctx)
			return aws_fail(c, 400, "InvalidArgument",
					"Server Side Encryption with AWS KMS managed key requires "
					"HTTP header x-amz-server-side-encryption : aws:kms");
		out->sse = S3_SSEC;
		return 0;
	}
	if ((kms_key || ctx) && (!sse || strncmp(sse, "aws:kms", 7) != 0))
		return aws_fail(c, 400, "InvalidArgument",
				"Server Side Encryption with AWS KMS managed key requires HTTP "
				"header x-amz-server-side-encryption : aws:kms");
	if (!sse && !default_rule(c, b, &sse, &kms_key, &bucket_key))
		return 0; /* stored plain */
	if (strcmp(sse, "AES256") != 0 && strcmp(sse, "aws:kms") != 0 &&
	    strcmp(sse, "aws:kms:dsse") != 0)
		return aws_fail(c, 400, "InvalidArgument",
				"The encryption method specified is not supported");
	out->sse = sse;
	out->bucket_key = bucket_key;
	if (sse[0] == 'a') {
		out->kms_key = kms_key && *kms_key ? kms_key : NULL;
		if (ctx) {
			char *d = arena_alloc(c->a, 3 * (strlen(ctx) / 4) + 1);
			ssize_t n = fmt_b64_decode(d, ctx, strlen(ctx));
			if (n >= 0)
				d[n] = 0;
			if (n < 0 || !s3_json_obj(c, d))
				return aws_fail(c, 400, "InvalidArgument",
						"The header 'x-amz-server-side-encryption-context' "
						"shall be Base64-encoded UTF-8 string holding JSON "
						"which represents a string-string map");
			out->enc_ctx = d;
		}
	}
	return 0;
}

/* context_of: the encryption context jv of an object. */
static struct jv *context_of(struct aws_call *c, const char *enc_ctx, const char *bucket,
			     const char *key)
{
	struct jv *o = s3_json_obj(c, enc_ctx);
	if (o)
		return o;
	o = jv_object(c->a);
	jv_set_str(c->a, o, "aws:s3:arn", arena_sprintf(c->a, "arn:aws:s3:::%s/%s", bucket, key));
	return o;
}

int s3_sse_new_key(struct aws_call *c, const struct s3_sse *s, const char *bucket, const char *key,
		   unsigned char out[32], struct str *wrapped, const char **arn)
{
	const char *ref = s->kms_key;
	if (s3_is_ssec(s->sse)) {
		*arn = NULL;
		return s3_ssec_seal(c, &s->ssec, out, wrapped);
	}
	if (RAND_bytes(out, 32) != 1)
		return aws_fail(c, 500, "InternalError", "no randomness");
	if (!ref) {
		const char *id = kms_managed_key(c, S3_MANAGED_ALIAS);
		if (!id)
			return kms_error(c);
		ref = id;
	}
	if (kms_internal_encrypt(c, ref, (struct str){(const char *)out, 32},
				 context_of(c, s->enc_ctx, bucket, key), wrapped, arn) < 0) {
		OPENSSL_cleanse(out, 32);
		return kms_error(c);
	}
	return 0;
}

int s3_sse_resolve(struct aws_call *c, struct s3_sse *s)
{
	const char *ref = s->kms_key, *arn;
	if (!s->sse || s3_is_ssec(s->sse))
		return 0;
	if (!ref && !(ref = kms_managed_key(c, S3_MANAGED_ALIAS)))
		return kms_error(c);
	if (!(arn = kms_key_arn_of(c, ref)))
		return kms_error(c);
	s->kms_key = arn;
	return 0;
}

int s3_sse_open_key(struct aws_call *c, const char *enc_ctx, const char *bucket, const char *key,
		    struct str wrapped, unsigned char out[32])
{
	struct str pt;
	if (kms_internal_decrypt(c, wrapped, context_of(c, enc_ctx, bucket, key), &pt, NULL) < 0)
		return kms_error(c);
	if (pt.n != 32)
		return aws_fail(c, 500, "InternalError", "stored data key has the wrong size");
	memcpy(out, pt.p, 32);
	OPENSSL_cleanse((void *)pt.p, pt.n);
	return 0;
}

void s3_sse_out(struct aws_call *c, const char *sse, const char *kms_key, int bucket_key)
{
	struct jv *o = aws_out(c);
	if (s3_is_ssec(sse)) {
		s3_ssec_out(c);
		return;
	}
	if (!sse)
		return;
	jv_set_str(c->a, o, "ServerSideEncryption", sse);
	if (sse[0] == 'a' && kms_key)
		jv_set_str(c->a, o, "SSEKMSKeyId", kms_key);
	if (bucket_key)
		jv_set_bool(c->a, o, "BucketKeyEnabled", 1);
}

/* ---- bucket default encryption ---- */

int s3_op_put_bucket_encryption(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *cfg = jv_get(c->in, "ServerSideEncryptionConfiguration");
	struct jv *rules = jv_get(cfg, "Rules");
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	if (!rules || jv_len(rules) == 0)
		return aws_fail(c, 400, "MalformedXML",
				"The XML you provided was not well-formed or did not validate "
				"against our published schema");
	for (size_t i = 0; i < jv_len(rules); i++) {
		struct jv *def = jv_get(jv_at(rules, i), "ApplyServerSideEncryptionByDefault");
		const char *alg = jv_get_str(def, "SSEAlgorithm");
		const char *kid = jv_get_str(def, "KMSMasterKeyID");
		if (!def)
			continue;
		if (!alg || (strcmp(alg, "AES256") && strcmp(alg, "aws:kms") &&
			     strcmp(alg, "aws:kms:dsse")))
			return aws_fail(c, 400, "MalformedXML",
					"The XML you provided was not well-formed or did not "
					"validate against our published schema");
		if (kid && !strcmp(alg, "AES256"))
			return aws_fail(c, 400, "InvalidArgument",
					"a KMSMasterKeyID is not applicable if the default sse "
					"algorithm is not aws:kms or aws:kms:dsse");
	}
	return s3_cfg_put(c, b.id, "encryption", cfg);
}

int s3_op_get_bucket_encryption(struct aws_call *c)
{
	struct s3_bucket b;
	struct jv *cfg;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	cfg = s3_cfg_get(c, b.id, "encryption");
	if (!cfg)
		return aws_fail(c, 404, "ServerSideEncryptionConfigurationNotFoundError",
				"The server side encryption configuration was not found");
	jv_set(c->a, aws_out(c), "ServerSideEncryptionConfiguration", cfg);
	return 0;
}

int s3_op_delete_bucket_encryption(struct aws_call *c)
{
	struct s3_bucket b;
	if (s3_bucket_arg(c, &b) < 0)
		return -1;
	return s3_cfg_put(c, b.id, "encryption", NULL);
}
