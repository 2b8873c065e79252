/* schema.c - the s3 component's tables. Object bytes are not here unless
 * the object is small (s3_data); larger ones are files named by
 * s3_objects.file / s3_parts.file under <data_dir>/s3. Never edit a
 * shipped step: add a new version. */
#include "core/compat.h"
#include "svc/s3/s3.h"

const struct db_migration s3_migrations[] = {
    {"s3", 1,
     "CREATE TABLE s3_buckets("
     " id INTEGER PRIMARY KEY,"
     " name TEXT NOT NULL UNIQUE," /* bucket names are global, as in AWS */
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " created INTEGER NOT NULL,"	       /* epoch ms */
     " versioning INTEGER NOT NULL DEFAULT 0," /* 0 never, 1 Enabled, 2 Suspended */
     " object_lock INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX s3_buckets_account ON s3_buckets(account, name);"
     /* configuration documents (cors, policy, lifecycle, ...) as JSON */
     "CREATE TABLE s3_bucket_cfg("
     " bucket_id INTEGER NOT NULL REFERENCES s3_buckets(id) ON DELETE CASCADE,"
     " kind TEXT NOT NULL,"
     " value TEXT NOT NULL,"
     " PRIMARY KEY(bucket_id, kind)) WITHOUT ROWID;"
     /* one row per object version; id order is version age */
     "CREATE TABLE s3_objects("
     " id INTEGER PRIMARY KEY,"
     " bucket_id INTEGER NOT NULL,"
     " key TEXT NOT NULL,"
     " version_id TEXT NOT NULL," /* 'null' when unversioned */
     " is_latest INTEGER NOT NULL,"
     " delete_marker INTEGER NOT NULL DEFAULT 0,"
     " size INTEGER NOT NULL DEFAULT 0,"
     " etag TEXT NOT NULL DEFAULT '',"
     " mtime INTEGER NOT NULL,"	  /* epoch ms */
     " noncurrent_since INTEGER," /* epoch ms a newer version arrived */
     " storage_class TEXT NOT NULL DEFAULT 'STANDARD',"
     " headers TEXT," /* JSON: ContentType, CacheControl, ... */
     " meta TEXT,"    /* JSON: user metadata */
     " tags TEXT,"    /* JSON: object tags */
     " cks_algo TEXT, cks TEXT,"
     " sse TEXT, kms_key TEXT, enc_ctx TEXT, data_key BLOB, bucket_key INTEGER NOT NULL DEFAULT 0,"
     " file TEXT,"  /* data file id; NULL: bytes in s3_data */
     " parts TEXT," /* multipart: comma-joined part sizes */
     " restore TEXT,"
     " UNIQUE(bucket_id, key, version_id));"
     "CREATE UNIQUE INDEX s3_objects_latest ON s3_objects(bucket_id, key) WHERE is_latest = 1;"
     /* ListObjects walks this covering index by key range: a page is one
      * index range scan, never a table scan and a sort */
     "CREATE INDEX s3_objects_list ON s3_objects(bucket_id, key, size, etag, mtime, "
     "storage_class, cks_algo, is_latest, delete_marker) WHERE is_latest = 1 AND "
     "delete_marker = 0;"
     "CREATE INDEX s3_objects_versions ON s3_objects(bucket_id, key, id DESC);"
     "CREATE INDEX s3_objects_age ON s3_objects(bucket_id, mtime);"
     "CREATE INDEX s3_objects_file ON s3_objects(file) WHERE file IS NOT NULL;"
     "CREATE TABLE s3_data(object_id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
     "CREATE TABLE s3_uploads("
     " id INTEGER PRIMARY KEY,"
     " upload_id TEXT NOT NULL UNIQUE,"
     " bucket_id INTEGER NOT NULL,"
     " key TEXT NOT NULL,"
     " initiated INTEGER NOT NULL," /* epoch ms */
     " owner TEXT NOT NULL,"
     " storage_class TEXT NOT NULL DEFAULT 'STANDARD',"
     " headers TEXT, meta TEXT, tags TEXT, cks_algo TEXT,"
     " sse TEXT, kms_key TEXT, enc_ctx TEXT, bucket_key INTEGER NOT NULL DEFAULT 0);"
     "CREATE INDEX s3_uploads_key ON s3_uploads(bucket_id, key, initiated);"
     "CREATE TABLE s3_parts("
     " upload INTEGER NOT NULL,"
     " part_number INTEGER NOT NULL,"
     " size INTEGER NOT NULL,"
     " etag TEXT NOT NULL," /* hex MD5 */
     " cks TEXT,"	    /* base64 checksum (upload's algorithm) */
     " mtime INTEGER NOT NULL,"
     " file TEXT NOT NULL,"
     " data_key BLOB,"
     " PRIMARY KEY(upload, part_number)) WITHOUT ROWID;"
     "CREATE INDEX s3_parts_file ON s3_parts(file);"
     /* files of deleted objects, until their unlink is known done */
     "CREATE TABLE s3_gc(file TEXT NOT NULL);"},
    /* SSE-C uploads: salt || HMAC check of the customer's key (never the key) */
    {"s3", 2, "ALTER TABLE s3_uploads ADD COLUMN ssec BLOB;"},
    {NULL},
};
