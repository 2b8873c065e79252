/* registry.h - the OCI Distribution (Docker registry v2) endpoint on the
 * edge port: what `docker push/pull` and `skopeo copy` talk to.
 *
 * Repositories are ECR's (src/svc/ecr): a push needs CreateRepository
 * first, as on AWS. Clients authenticate with HTTP Basic, user "AWS" and
 * the password `aws ecr get-login-password` prints; the password carries
 * the account and region, since the repositoryUri 127.0.0.1:<port>/<name>
 * cannot. Blobs are files under <data_dir>/registry/blobs/sha256/<2>/<64>,
 * verified against their digest before they are acknowledged. */
#ifndef FB_REGISTRY_H
#define FB_REGISTRY_H
#include "core/compat.h"
#include "http/request.h"

struct fogbank;

/* registry_match: 1 when req is for the registry: its path is /v2 or
 * under /v2/ and it carries no SigV4 signature (so an S3 bucket named
 * "v2" still reaches S3 when signed). */
int registry_match(const struct http_request *req);

/* registry_handle: answers one registry request (auth, routing, the
 * registry's JSON errors) and logs it. Loop thread only. */
void registry_handle(struct fogbank *fb, const struct http_request *req,
		     struct http_response *resp);

/* registry_gc: collects what nothing needs any more, as of now_ms: blob
 * links of a repository that no image of it references and that were not
 * used within the grace period (FOGBANK_REGISTRY_GC_GRACE_SECONDS, default
 * 3600), blobs no repository links (row first, then the file), uploads
 * idle longer than the grace period, and files left behind by a crash.
 * For the daemon's timer. */
void registry_gc(struct fogbank *fb, int64_t now_ms);

/* registry_blob_path: the file holding blob digest ("sha256:<hex>") into
 * out (cap bytes). Returns 0, or -1 when digest is malformed or out too
 * small. The file exists once the blob was acknowledged; for readers such
 * as ECS unpacking layers (open it read-only, never write). */
int registry_blob_path(struct fogbank *fb, const char *digest, char *out, size_t cap);
#endif
