/* sigv2.h - S3's legacy Signature Version 2 (HMAC-SHA1), in its two forms:
 * the header "Authorization: AWS <AccessKeyId>:<Signature>" and the
 * presigned query "?AWSAccessKeyId=..&Expires=..&Signature=..", which
 * Debian's boto3 1.26 still makes by default for generate_presigned_url.
 *
 * sigv4.c calls in here: sigv4_parse_request falls back to sigv2_parse for
 * S3 requests, and sigv4_verify hands an auth with v2 set to sigv2_verify,
 * so callers keep one parse/verify flow. Nothing here allocates except
 * the verifier's text buffer; the string to sign follows AWS's "Signing
 * and authenticating REST requests" and botocore's HmacV1Auth. */
#ifndef FB_SIGV2_H
#define FB_SIGV2_H
#include "core/compat.h"
#include "aws/sigv4.h"

/* sigv2_parse: finds a SigV2 signature in <req>: the Authorization header
 * "AWS key:sig", or the AWSAccessKeyId/Signature/Expires query
 * parameters (values URL-decoded into scratch[0..scratch_n), which must
 * outlive out). Fills out (v2 = 1, access_key, signature as base64,
 * security_token from the header or query, presigned and expires_s = the
 * absolute Expires time for the query form). Returns 0, SIGV4_ERR_NO_AUTH
 * when neither form is present, or SIGV4_ERR_MALFORMED (incomplete, or
 * both forms at once). Pure. */
int sigv2_parse(const struct sigv4_request *req, struct sigv4_auth *out, char *scratch,
		size_t scratch_n);

/* sigv2_string_to_sign: appends AWS's SigV2 string to sign for <req> to
 * out: verb, Content-MD5, Content-Type, Date (Expires when presigned,
 * empty when x-amz-date is sent), the x-amz-* headers (and, presigned,
 * x-amz-* query parameters) and the canonical resource with its
 * sub-resources (bucket from the Host for virtual-hosted style). */
void sigv2_string_to_sign(struct buf *out, const struct sigv4_request *req,
			  const struct sigv4_auth *auth);

/* sigv2_verify: checks <auth> (from sigv2_parse) against <req> with
 * <secret> at wall clock now_s. Returns 0; SIGV4_ERR_EXPIRED (presigned,
 * now is past Expires), SIGV4_ERR_SKEW (header form, Date or x-amz-date
 * more than 15 minutes away), SIGV4_ERR_NO_DATE, SIGV4_ERR_MALFORMED or
 * SIGV4_ERR_MISMATCH. Compares in constant time. Any thread. */
int sigv2_verify(const struct sigv4_request *req, const struct sigv4_auth *auth, const char *secret,
		 size_t secret_len, int64_t now_s);
#endif
