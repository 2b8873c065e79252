/* sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256) verification.
 *
 * Flow for one request:
 *   struct sigv4_auth auth;
 *   char scratch[SIGV4_SCRATCH_MAX];
 *   int rc = sigv4_parse_request(&req, &auth, scratch, sizeof scratch);
 *   ... look up the secret of auth.access_key (and auth.security_token) ...
 *   rc = sigv4_verify(kc, &req, &auth, secret, secret_len, now_s);
 *
 * Parsers never allocate: the views in struct sigv4_auth point into the
 * request bytes, or into the caller's scratch for presigned (URL-decoded)
 * values. Once the key cache (which also owns a reusable text buffer) is
 * warm, sigv4_verify costs two SHA-256 and one HMAC (from the cached key's
 * prepared inner/outer states) and allocates nothing. */
#ifndef FB_SIGV4_H
#define FB_SIGV4_H
#include "core/compat.h"
#include "core/buf.h"
#include "core/str.h"
#include "http/parse.h"

/* Results. Each comment says what AWS answers; the caller picks the code
 * for its protocol (S3 spells several of these differently). */
enum sigv4_err {
	SIGV4_OK = 0,
	/* no Authorization header, no X-Amz-* query auth: MissingAuthenticationToken
	 * (S3: anonymous request) */
	SIGV4_ERR_NO_AUTH = -1,
	/* IncompleteSignature; S3: AuthorizationHeaderMalformed or, presigned,
	 * AuthorizationQueryParametersError */
	SIGV4_ERR_MALFORMED = -2,
	/* not AWS4-HMAC-SHA256 (SigV2 "AWS ", SigV4a): IncompleteSignature */
	SIGV4_ERR_ALGORITHM = -3,
	/* SignatureDoesNotMatch (403) */
	SIGV4_ERR_MISMATCH = -4,
	/* more than 15 minutes off: "Signature expired" (query/json services),
	 * RequestTimeTooSkewed (S3); presigned: AccessDenied "not yet valid" */
	SIGV4_ERR_SKEW = -5,
	/* presigned, now > X-Amz-Date + X-Amz-Expires: AccessDenied "Request has expired" */
	SIGV4_ERR_EXPIRED = -6,
	/* X-Amz-Expires > 604800: AuthorizationQueryParametersError */
	SIGV4_ERR_EXPIRES_RANGE = -7,
	/* credential scope date is not the date of the request time:
	 * SignatureDoesNotMatch; S3: AuthorizationHeaderMalformed */
	SIGV4_ERR_SCOPE_DATE = -8,
	/* neither X-Amz-Date nor a valid Date header: IncompleteSignature;
	 * S3: AccessDenied */
	SIGV4_ERR_NO_DATE = -9,
	/* "host" not among SignedHeaders: IncompleteSignature */
	SIGV4_ERR_HOST_UNSIGNED = -10,
};

/* Longest scratch sigv4_parse_presigned / sigv4_parse_request may need: the
 * decoded credential, signed headers and a session token. */
#define SIGV4_SCRATCH_MAX 4096
/* Largest X-Amz-Expires AWS accepts: seven days. */
#define SIGV4_MAX_EXPIRES 604800
/* Allowed clock difference for header-signed requests. */
#define SIGV4_MAX_SKEW_S 900

/* A parsed signature. Views point into the request or into the scratch
 * passed to the parser; they live as long as those bytes. */
struct sigv4_auth {
	struct str access_key;
	struct str date; /* credential scope date, yyyymmdd */
	struct str region;
	struct str service;
	struct str signed_headers; /* "a;b;c" */
	struct str signature;	   /* 64 hex */
	struct str amz_date;	   /* X-Amz-Date (or Date header) as sent; empty: verify
				      looks in the request headers itself */
	struct str security_token; /* empty when none */
	int presigned;		   /* from the query string */
	int64_t expires_s;	   /* presigned X-Amz-Expires, -1 when absent */
	int v2;			   /* S3 SigV2 (sigv2.h): signature is base64 HMAC-SHA1,
				      expires_s the absolute Expires time */
};

/* What was signed. Views into the parsed HTTP request. */
struct sigv4_request {
	struct str method;
	struct str path;  /* raw as sent, without the query */
	struct str query; /* raw, without '?' */
	const struct http_header *headers;
	size_t nheaders;
	/* Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" / "STREAMING-..." as
	 * the client sent in x-amz-content-sha256. Empty: sigv4 decides itself
	 * (x-amz-content-sha256 header, else UNSIGNED-PAYLOAD for presigned S3,
	 * else SHA-256 of body). */
	struct str payload_hash;
	struct str body; /* hashed only when payload_hash is empty */
	int s3;		 /* S3 rules: path as sent, no normalisation or re-encoding */
};

struct sigv4_key_cache;

/* sigv4_parse_header: parses an Authorization value "AWS4-HMAC-SHA256
 * Credential=AKID/yyyymmdd/region/service/aws4_request, SignedHeaders=a;b,
 * Signature=hex" (parts in any order, any spaces after the commas).
 * SignedHeaders must be sorted without repeats, as every SDK sends them.
 * Fills out (views into authorization; amz_date and security_token empty).
 * Returns 0, SIGV4_ERR_ALGORITHM or SIGV4_ERR_MALFORMED. Pure, no allocation. */
int sigv4_parse_header(struct str authorization, struct sigv4_auth *out);

/* sigv4_parse_presigned: parses the X-Amz-* auth parameters of a raw query
 * string. URL-decoded values are written to scratch[0..scratch_n), which
 * must outlive out. Returns 0, SIGV4_ERR_NO_AUTH (no X-Amz-Algorithm,
 * -Credential or -Signature at all), SIGV4_ERR_ALGORITHM, or
 * SIGV4_ERR_MALFORMED (also when scratch is too small). */
int sigv4_parse_presigned(struct str query, struct sigv4_auth *out, char *scratch,
			  size_t scratch_n);

/* sigv4_parse_request: finds the request's signature: the Authorization
 * header (then amz_date from X-Amz-Date or Date, security_token from
 * X-Amz-Security-Token) or presigned query parameters. Both at once is
 * SIGV4_ERR_MALFORMED; neither is SIGV4_ERR_NO_AUTH. */
int sigv4_parse_request(const struct sigv4_request *req, struct sigv4_auth *out, char *scratch,
			size_t scratch_n);

/* sigv4_key_cache_new: a cache of derived signing keys (256 slots keyed by
 * a keyed hash of the secret plus date/region/service; secrets are never
 * stored; the slots are allocated by the first verify). Also holds the
 * verifier's reusable buffers, so use one cache per thread. Does not
 * initialise OpenSSL. Free with sigv4_key_cache_free. Aborts on out of
 * memory. */
struct sigv4_key_cache *sigv4_key_cache_new(void);
/* sigv4_key_cache_free: frees the cache and wipes its keys (NULL is fine). */
void sigv4_key_cache_free(struct sigv4_key_cache *kc);

/* sigv4_verify: checks auth against req with the given secret at wall
 * clock now_s (Unix seconds): clock rules first, then the signature, in
 * constant time. Also accepts the forms botocore and the Go SDK sign where
 * they depart from AWS's rules (query signed as sent, path not normalised,
 * presigned non-S3 URL over UNSIGNED-PAYLOAD); only requests that fail
 * the standard form pay for those tries. Does not check the body against
 * x-amz-content-sha256 (S3's XAmzContentSHA256Mismatch is the caller's).
 * kc may be NULL (slower: a temporary cache). Returns 0 when valid, else a
 * negative enum sigv4_err. */
int sigv4_verify(struct sigv4_key_cache *kc, const struct sigv4_request *req,
		 const struct sigv4_auth *auth, const char *secret, size_t secret_len,
		 int64_t now_s);

/* sigv4_canonical_request: appends the canonical request for req/auth to
 * out, exactly as AWS builds it (the text S3 quotes in SignatureDoesNotMatch
 * errors). Works on unverified input; never fails. */
void sigv4_canonical_request(struct buf *out, const struct sigv4_request *req,
			     const struct sigv4_auth *auth);

/* sigv4_string_to_sign: appends "AWS4-HMAC-SHA256\n<time>\n<scope>\n<hex
 * sha256 of canonical>" to out, for error messages. Returns 0, or
 * SIGV4_ERR_NO_DATE when the request time is missing or invalid (nothing
 * appended). */
int sigv4_string_to_sign(struct buf *out, const struct sigv4_request *req,
			 const struct sigv4_auth *auth, struct str canonical);

/* sigv4_sha256_hex: lower-case hex SHA-256 of p[0..n) into out (NUL-terminated). */
void sigv4_sha256_hex(const void *p, size_t n, char out[65]);

/* sigv4_strerror: short English text for a sigv4_err, for logs. */
const char *sigv4_strerror(int err);
#endif
