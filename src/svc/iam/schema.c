/* schema.c - IAM and STS tables.
 *
 * Names are COLLATE NOCASE because IAM refuses "Bob" next to "bob" and
 * finds either spelling. Secrets are never stored in plaintext: secret_enc
 * holds iam_seal output, and STS keeps only a SHA-256 of each session
 * token. Times are Unix milliseconds. */
#include "svc/iam/keys.h"

const struct db_migration iam_migrations[] = {
    {"iam", 1,
     "CREATE TABLE iam_users("
     " account TEXT NOT NULL,"
     " name TEXT NOT NULL COLLATE NOCASE,"
     " path TEXT NOT NULL,"
     " id TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " PRIMARY KEY(account, name)) WITHOUT ROWID;"
     "CREATE TABLE iam_roles("
     " account TEXT NOT NULL,"
     " name TEXT NOT NULL COLLATE NOCASE,"
     " path TEXT NOT NULL,"
     " id TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " trust_policy TEXT NOT NULL,"
     " description TEXT,"
     " max_session_s INTEGER NOT NULL,"
     " PRIMARY KEY(account, name)) WITHOUT ROWID;"
     /* kind is 'user' or 'role' */
     "CREATE TABLE iam_tags("
     " account TEXT NOT NULL,"
     " kind TEXT NOT NULL,"
     " name TEXT NOT NULL COLLATE NOCASE,"
     " key TEXT NOT NULL COLLATE NOCASE,"
     " value TEXT NOT NULL,"
     " PRIMARY KEY(account, kind, name, key)) WITHOUT ROWID;"
     /* user_name '' marks a root access key */
     "CREATE TABLE iam_access_keys("
     " akid TEXT PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " user_name TEXT NOT NULL COLLATE NOCASE,"
     " active INTEGER NOT NULL,"
     " secret_enc BLOB NOT NULL,"
     " created_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX iam_access_keys_user ON iam_access_keys(account, user_name, created_ms);"
     /* Temporary credentials from AssumeRole / GetSessionToken. */
     "CREATE TABLE sts_sessions("
     " akid TEXT PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " arn TEXT NOT NULL,"
     " user_id TEXT NOT NULL,"
     " is_root INTEGER NOT NULL,"
     " token_sha256 BLOB NOT NULL,"
     " secret_enc BLOB NOT NULL,"
     " expires_ms INTEGER NOT NULL,"
     " created_ms INTEGER NOT NULL,"
     " role_arn TEXT,"
     " source_arn TEXT NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX sts_sessions_expiry ON sts_sessions(expires_ms);"},
    /* GetAccessKeyLastUsed (written by usage.c, a few seconds behind) */
    {"iam", 2,
     "ALTER TABLE iam_access_keys ADD COLUMN last_used_ms INTEGER;"
     "ALTER TABLE iam_access_keys ADD COLUMN last_service TEXT;"
     "ALTER TABLE iam_access_keys ADD COLUMN last_region TEXT;"},
    {NULL},
};
