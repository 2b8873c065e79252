/* sigv4_chunked.h - the chunk signatures of SigV4 streaming uploads
 * (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]):
 * each aws-chunked chunk is signed over the previous signature, starting
 * from the request's own (seed) signature, and a signed trailer closes
 * the chain. The body decoder that uses these lives with S3. */
#ifndef FB_SIGV4_CHUNKED_H
#define FB_SIGV4_CHUNKED_H
#include "core/compat.h"
#include "core/str.h"

/* The signing context of one streaming request. */
struct sigv4_chunk_signer {
	unsigned char key[32]; /* derived signing key of the scope */
	char amz_date[17];     /* yyyymmddThhmmssZ */
	char scope[192];       /* date/region/service/aws4_request */
};

/* sigv4_chunk_signer_init: derives the signing key of scope
 * <date>/<region>/<service>/aws4_request from <secret> and keeps the
 * request time <amz_date> (X-Amz-Date). Returns 0, or -1 when the parts
 * are malformed (wrong lengths). Pure. */
int sigv4_chunk_signer_init(struct sigv4_chunk_signer *s, const char *secret, size_t secret_n,
			    struct str date, struct str region, struct str service,
			    struct str amz_date);

/* sigv4_chunk_signature: the lower-case hex signature (out[65]) of a chunk
 * whose data has SHA-256 <data_sha256> (raw), chained from the previous
 * signature <prev> (64 hex): HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" date
 * "\n" scope "\n" prev "\n" sha256("") "\n" hex(data_sha256)). Pure. */
void sigv4_chunk_signature(const struct sigv4_chunk_signer *s, const char *prev,
			   const unsigned char data_sha256[32], char out[65]);

/* sigv4_trailer_signature: the signature of the trailing headers whose
 * canonical form ("name:value\n" each) has SHA-256 <trailer_sha256>:
 * HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n" prev "\n"
 * hex(trailer_sha256)). Pure. */
void sigv4_trailer_signature(const struct sigv4_chunk_signer *s, const char *prev,
			     const unsigned char trailer_sha256[32], char out[65]);

/* sigv4_sig_equal: constant-time comparison of two 64-hex signatures. */
int sigv4_sig_equal(const char *a, const char *b);
#endif
