/* schema.c - the ecr component's tables: repositories, images (manifests
 * stored whole), tags, and the registry's blob bookkeeping. Blob bytes live
 * on disk under <data_dir>/registry (src/registry); the rows here say which
 * repository may use which blob and which image references it, which is
 * what garbage collection reads. Never edit a shipped step: add one. */
#include "core/compat.h"
#include "svc/ecr/ecr.h"

const struct db_migration ecr_migrations[] = {
    {"ecr", 1,
     "CREATE TABLE ecr_repos("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " name TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " immutable INTEGER NOT NULL DEFAULT 0,"
     " scan_on_push INTEGER NOT NULL DEFAULT 0,"
     " encryption_type TEXT NOT NULL DEFAULT 'AES256',"
     " kms_key TEXT,"
     " policy TEXT,"
     " lifecycle TEXT,"
     " lifecycle_evaluated_ms INTEGER,"
     " preview_policy TEXT," /* the policy the last preview ran */
     " preview_json TEXT,"   /* its results: [{d,t:[..],p,r}] */
     " UNIQUE(account, region, name));"
     "CREATE TABLE ecr_repo_tags("
     " repo_id INTEGER NOT NULL REFERENCES ecr_repos(id) ON DELETE CASCADE,"
     " tag_key TEXT NOT NULL,"
     " tag_value TEXT NOT NULL,"
     " UNIQUE(repo_id, tag_key));"
     "CREATE TABLE ecr_images("
     " id INTEGER PRIMARY KEY,"
     " repo_id INTEGER NOT NULL REFERENCES ecr_repos(id) ON DELETE CASCADE,"
     " digest TEXT NOT NULL,"
     " media_type TEXT NOT NULL,"
     " artifact_type TEXT,"
     " manifest BLOB NOT NULL," /* the exact bytes: the digest is over them */
     " size INTEGER NOT NULL,"
     " pushed_ms INTEGER NOT NULL,"
     " pulled_ms INTEGER,"
     " UNIQUE(repo_id, digest));"
     "CREATE TABLE ecr_image_tags("
     " repo_id INTEGER NOT NULL REFERENCES ecr_repos(id) ON DELETE CASCADE,"
     " tag TEXT NOT NULL,"
     " image_id INTEGER NOT NULL REFERENCES ecr_images(id) ON DELETE CASCADE,"
     " PRIMARY KEY(repo_id, tag));"
     "CREATE INDEX ecr_image_tags_image ON ecr_image_tags(image_id);"
     /* what an image references: kind 0 a blob (config, layer), 1 a
	child manifest of a list/index */
     "CREATE TABLE ecr_image_refs("
     " image_id INTEGER NOT NULL REFERENCES ecr_images(id) ON DELETE CASCADE,"
     " digest TEXT NOT NULL,"
     " kind INTEGER NOT NULL,"
     " PRIMARY KEY(image_id, digest));"
     "CREATE INDEX ecr_image_refs_digest ON ecr_image_refs(digest);"
     /* one row per blob file on disk, written after the file is in place */
     "CREATE TABLE ecr_blobs("
     " digest TEXT PRIMARY KEY,"
     " size INTEGER NOT NULL,"
     " created_ms INTEGER NOT NULL) WITHOUT ROWID;"
     /* a blob a repository may serve: uploaded or mounted into it, or
	referenced by one of its images; linked_ms is refreshed on use so a
	push in progress keeps its layers through collection */
     "CREATE TABLE ecr_repo_blobs("
     " repo_id INTEGER NOT NULL REFERENCES ecr_repos(id) ON DELETE CASCADE,"
     " digest TEXT NOT NULL REFERENCES ecr_blobs(digest),"
     " linked_ms INTEGER NOT NULL,"
     " PRIMARY KEY(repo_id, digest));"
     "CREATE INDEX ecr_repo_blobs_digest ON ecr_repo_blobs(digest);"
     /* chunked uploads in progress: size is the acknowledged length of
	<data_dir>/registry/uploads/<uuid> (bytes past it are discarded) */
     "CREATE TABLE ecr_uploads("
     " uuid TEXT PRIMARY KEY,"
     " repo_id INTEGER NOT NULL REFERENCES ecr_repos(id) ON DELETE CASCADE,"
     " size INTEGER NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " updated_ms INTEGER NOT NULL);"},
    {NULL},
};
