/* schema.c - the secretsmanager component's tables. Secret values are only
 * ever stored as KMS ciphertext (sm_versions.ciphertext). Never edit a
 * shipped step: add a new version. */
#include "core/compat.h"
#include "svc/secretsmanager/secretsmanager.h"

const struct db_migration secretsmanager_migrations[] = {
    {"secretsmanager", 1,
     "CREATE TABLE sm_secrets("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " name TEXT NOT NULL,"
     " arn TEXT NOT NULL UNIQUE,"
     " description TEXT,"
     " kms_key_id TEXT," /* as given; NULL: aws/secretsmanager */
     " policy TEXT,"
     " created REAL NOT NULL," /* epoch seconds */
     " last_changed REAL NOT NULL,"
     " last_accessed REAL," /* midnight UTC of the last read day */
     " deleted_date REAL,"  /* when DeleteSecret was called */
     " purge_at REAL,"	    /* end of the recovery window */
     " UNIQUE(account, region, name));"
     "CREATE INDEX sm_secrets_purge ON sm_secrets(purge_at) WHERE purge_at IS NOT NULL;"
     "CREATE TABLE sm_versions("
     " secret_id INTEGER NOT NULL REFERENCES sm_secrets(id) ON DELETE CASCADE,"
     " version_id TEXT NOT NULL,"
     " created REAL NOT NULL,"
     " is_binary INTEGER NOT NULL,"
     " ciphertext BLOB NOT NULL,"	 /* KMS blob, context {SecretARN, SecretVersionId} */
     " kms_label TEXT NOT NULL,"	 /* KmsKeyIds entry */
     " stages TEXT NOT NULL DEFAULT ''," /* copy of its sm_stages labels, sorted and
					       newline-joined, so GetSecretValue reads one row */
     " UNIQUE(secret_id, version_id));"
     "CREATE TABLE sm_stages("
     " secret_id INTEGER NOT NULL REFERENCES sm_secrets(id) ON DELETE CASCADE,"
     " stage TEXT NOT NULL,"
     " version_id TEXT NOT NULL,"
     " PRIMARY KEY(secret_id, stage)) WITHOUT ROWID;" /* lookups stay in the index */
     "CREATE INDEX sm_stages_version ON sm_stages(secret_id, version_id);"
     "CREATE TABLE sm_tags("
     " secret_id INTEGER NOT NULL REFERENCES sm_secrets(id) ON DELETE CASCADE,"
     " tag_key TEXT NOT NULL,"
     " tag_value TEXT NOT NULL,"
     " UNIQUE(secret_id, tag_key));"},
    {NULL},
};
