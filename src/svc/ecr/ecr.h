/* ecr.h - what the daemon, the registry endpoint (src/registry) and other
 * services need from ECR: its schema, the lifecycle sweep for the daemon's
 * timer, repositories and images without an aws_call (the registry speaks
 * HTTP, not the AWS protocol), and the registry auth token.
 *
 * Everything here runs on the loop thread; strings returned live in the
 * caller's arena. */
#ifndef FB_SVC_ECR_H
#define FB_SVC_ECR_H
#include "core/compat.h"
#include "core/arena.h"
#include "core/str.h"
#include "store/db.h"

struct fogbank;

/* Schema steps of the ecr component ({NULL}-terminated), for db_open. It
 * also holds the registry's tables (blobs, links, uploads). */
extern const struct db_migration ecr_migrations[];

/* ecr_lifecycle_sweep: applies the lifecycle policies due as of now_ms (a
 * new policy at once, then each repository every 1/24 day): images the
 * rules expire are really deleted (their blobs follow through
 * registry_gc). A day lasts FOGBANK_ECR_DAY_SECONDS seconds (default
 * 86400) so tests can watch "7 days" pass. One transaction per
 * repository. For the daemon's timer. */
void ecr_lifecycle_sweep(struct fogbank *fb, int64_t now_ms);

/* A repository row. */
struct ecr_repo {
	int64_t id;
	const char *account;
	const char *region;
	const char *name;
	int64_t created_ms;
	int immutable;	  /* imageTagMutability IMMUTABLE */
	int scan_on_push; /* stored only: fogbank does not scan */
	const char *encryption_type;
	const char *kms_key; /* key ARN when encryption_type is KMS */
	const char *policy;  /* repository policy text, or NULL */
	const char *lifecycle;
	int64_t lifecycle_evaluated_ms; /* 0: never */
};

/* ecr_repo_get: loads repository <name> of account/region into *r.
 * Returns 1 when found, 0 when not, -1 on a store error (logged). */
int ecr_repo_get(struct fogbank *fb, struct arena *a, const char *account, const char *region,
		 const char *name, struct ecr_repo *r);

/* An image (one manifest) of a repository. */
struct ecr_image {
	int64_t id;
	const char *digest; /* "sha256:<64 hex>" */
	const char *media_type;
	const char *artifact_type; /* config media type, or NULL */
	struct str manifest;	   /* the exact bytes pushed */
	int64_t size;		   /* imageSizeInBytes */
	int64_t pushed_ms;
	int64_t pulled_ms; /* 0: never */
};

/* ecr_image_get: image <ref> (a tag, or a "sha256:" digest) of repository
 * repo_id into *img. Returns 1, 0 when there is none, -1 on a store error. */
int ecr_image_get(struct fogbank *fb, struct arena *a, int64_t repo_id, const char *ref,
		  struct ecr_image *img);

/* ecr_image_pulled: records a pull of image_id at now_ms (rate-limited to
 * one write a minute per image: lastRecordedPullTime is approximate). */
void ecr_image_pulled(struct fogbank *fb, int64_t image_id, int64_t now_ms);

/* Outcome of ecr_manifest_put. */
enum ecr_put_status {
	ECR_PUT_OK,
	ECR_PUT_EXISTS,		  /* same digest (and tag) already there: nothing changed */
	ECR_PUT_DIGEST_MISMATCH,  /* expect_digest differs from the bytes' digest */
	ECR_PUT_INVALID,	  /* not a manifest fogbank accepts (res->message) */
	ECR_PUT_TAG_INVALID,	  /* tag malformed */
	ECR_PUT_TAG_IMMUTABLE,	  /* tag names another image in an IMMUTABLE repository */
	ECR_PUT_BLOB_UNKNOWN,	  /* res->missing: a layer or config not in the repository */
	ECR_PUT_MANIFEST_UNKNOWN, /* res->missing: a child manifest of an index not there */
	ECR_PUT_STORE_ERROR,
};

struct ecr_put_result {
	enum ecr_put_status status;
	char digest[72];	/* sha256 of the manifest bytes */
	const char *missing;	/* digest for *_UNKNOWN (arena) */
	const char *message;	/* for ECR_PUT_INVALID (static or arena) */
	const char *media_type; /* the type stored (arena) */
};

/* ecr_manifest_put: validates manifest (Docker schema 2, manifest list,
 * OCI manifest or index; media_type from the request, else the document's
 * mediaType), checks that everything it references is in repository r,
 * stores it as an image and points tag (NULL: none) at it, honouring tag
 * immutability. expect_digest (NULL: none) must equal the digest of the
 * bytes. exists_is_error makes a repeat of an existing digest+tag
 * ECR_PUT_EXISTS (PutImage) instead of a no-op ECR_PUT_OK (registry).
 * Durable when it returns ECR_PUT_OK. Returns res->status. */
enum ecr_put_status ecr_manifest_put(struct fogbank *fb, struct arena *a, const struct ecr_repo *r,
				     struct str manifest, const char *media_type, const char *tag,
				     const char *expect_digest, int exists_is_error, int64_t now_ms,
				     struct ecr_put_result *res);

/* ecr_image_referenced: 1 when another image of repo_id (a manifest list
 * or index) references digest, else 0. */
int ecr_image_referenced(struct fogbank *fb, int64_t repo_id, const char *digest);

/* ecr_image_delete: deletes image_id with its tags (no transaction of its
 * own). SQLITE_DONE or an sqlite error code. */
int ecr_image_delete(struct fogbank *fb, int64_t image_id);

/* ecr_tag_delete: removes tag from repository repo_id (no transaction of
 * its own). Returns 1 when removed, 0 when there was no such tag, -1 on a
 * store error. */
int ecr_tag_delete(struct fogbank *fb, int64_t repo_id, const char *tag);

/* ecr_valid_digest: 1 when s is "sha256:" and 64 lowercase hex digits. */
int ecr_valid_digest(const char *s);
/* ecr_valid_repo_name: 1 when s matches ECR's repository name pattern:
 * '/'-separated components of [a-z0-9]+ joined by single [._-]. */
int ecr_valid_repo_name(const char *s);
/* ecr_valid_tag: 1 when s is a tag docker accepts: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
int ecr_valid_tag(const char *s);

/* Registry authentication: the password of `aws ecr get-login-password`.
 * "fbecr1.<account>.<region>.<expires_s>.<hmac>" with an HMAC-SHA256 under
 * a key derived from <data_dir>/master.key: verifiable without the store,
 * free of ':' (the CLI splits "AWS:password" on it), valid across restarts
 * as long as master.key is kept. */
#define ECR_TOKEN_MAX 192
#define ECR_TOKEN_TTL_MS (12 * 3600 * 1000LL)

/* ecr_token_make: writes the password for account/region expiring at
 * expires_ms into out. Returns 0, or -1 when master.key is unreadable
 * (logged). */
int ecr_token_make(struct fogbank *fb, const char *account, const char *region, int64_t expires_ms,
		   char out[ECR_TOKEN_MAX]);
/* ecr_token_verify: checks password (p, n bytes) at now_ms; on success
 * copies its account (13 bytes with NUL) and region into the buffers and
 * returns 0. Returns -1 when malformed, forged or expired. */
int ecr_token_verify(struct fogbank *fb, struct str password, int64_t now_ms, char account[13],
		     char region[32]);

/* ecr_repo_uri: "<host>:<port>/<name>" (IPv6 hosts bracketed), the
 * repositoryUri docker and skopeo reach without TLS setup. Arena string. */
const char *ecr_repo_uri(struct fogbank *fb, struct arena *a, const char *name);
#endif
