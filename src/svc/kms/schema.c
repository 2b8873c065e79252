/* schema.c - the kms component's tables. Key material is only ever stored
 * wrapped under the master key (see keyring.c). Never edit a shipped
 * step: add a new version. */
#include "core/compat.h"
#include "svc/kms/kms.h"

const struct db_migration kms_migrations[] = {
    {"kms", 1,
     "CREATE TABLE kms_keys("
     " id TEXT PRIMARY KEY," /* uuid */
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " description TEXT NOT NULL DEFAULT '',"
     " state INTEGER NOT NULL,"	  /* 1 Enabled, 2 Disabled, 3 PendingDeletion */
     " manager INTEGER NOT NULL," /* 1 = AWS managed */
     " rotation INTEGER NOT NULL,"
     " created REAL NOT NULL," /* epoch seconds */
     " deletion_date REAL,"
     " pending_days INTEGER,"
     " policy TEXT,"		 /* NULL: the default policy */
     " material BLOB NOT NULL);" /* wrapped: version, iv, ciphertext, tag */
     "CREATE INDEX kms_keys_owner ON kms_keys(account, region);"
     "CREATE TABLE kms_aliases("
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " name TEXT NOT NULL," /* alias/... */
     " key_id TEXT NOT NULL,"
     " created REAL NOT NULL,"
     " updated REAL NOT NULL,"
     " UNIQUE(account, region, name));"
     "CREATE INDEX kms_aliases_key ON kms_aliases(key_id);"
     "CREATE TABLE kms_tags("
     " key_id TEXT NOT NULL,"
     " tag_key TEXT NOT NULL,"
     " tag_value TEXT NOT NULL,"
     " UNIQUE(key_id, tag_key));"},
    {NULL},
};
