/* schema.c - the rds component's tables. Passwords are never stored: a
 * pending master password is kept only as the SCRAM verifier PostgreSQL
 * itself stores, until it has been applied (a managed master password
 * lives only in Secrets Manager). Never edit a shipped step: add a new
 * version. */
#include "core/compat.h"
#include "svc/rds/rds.h"

const struct db_migration rds_migrations[] = {
    {"rds", 1,
     "CREATE TABLE rds_instances("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " ident TEXT NOT NULL," /* lower-case, as AWS stores it */
     " arn TEXT NOT NULL UNIQUE,"
     " resource_id TEXT NOT NULL,"
     " status TEXT NOT NULL,"
     " engine_version TEXT NOT NULL," /* as requested (served by PostgreSQL 15) */
     " klass TEXT NOT NULL,"
     " master_user TEXT NOT NULL,"
     " db_name TEXT,"
     " address TEXT NOT NULL," /* its own loopback address (store/addr.h) */
     " port INTEGER NOT NULL,"
     " storage INTEGER NOT NULL,"
     " retention INTEGER NOT NULL,"
     " deletion_protection INTEGER NOT NULL DEFAULT 0,"
     " encrypted INTEGER NOT NULL DEFAULT 0,"
     " multi_az INTEGER NOT NULL DEFAULT 0,"
     " kms_key_id TEXT,"
     " param_group TEXT NOT NULL,"
     " subnet_group TEXT,"
     " secret_arn TEXT,"
     " attrs TEXT NOT NULL DEFAULT '{}',"
     " pending TEXT NOT NULL DEFAULT '{}',"
     " source TEXT," /* NULL: from the template; snapshot:<id>; pitr:<json> */
     " replica_of TEXT,"
     " want_running INTEGER NOT NULL DEFAULT 1,"
     " provisioned INTEGER NOT NULL DEFAULT 0,"
     " pw_verifier TEXT," /* SCRAM verifier not yet applied, else NULL */
     " created REAL NOT NULL,"
     " UNIQUE(account, region, ident));"
     "CREATE TABLE rds_snapshots("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " ident TEXT NOT NULL,"
     " arn TEXT NOT NULL UNIQUE,"
     " status TEXT NOT NULL,"
     " snap_type TEXT NOT NULL," /* manual | automated */
     " instance_id INTEGER NOT NULL DEFAULT 0,"
     " instance_ident TEXT NOT NULL,"
     " engine_version TEXT NOT NULL,"
     " master_user TEXT NOT NULL,"
     " db_name TEXT,"
     " port INTEGER NOT NULL,"
     " storage INTEGER NOT NULL,"
     " encrypted INTEGER NOT NULL DEFAULT 0,"
     " kms_key_id TEXT,"
     " source_snap TEXT,"
     " attrs TEXT NOT NULL DEFAULT '{}',"
     " progress INTEGER NOT NULL DEFAULT 0,"
     " created REAL NOT NULL,"
     " instance_created REAL NOT NULL,"
     " UNIQUE(account, region, ident));"
     "CREATE TABLE rds_tags("
     " arn TEXT NOT NULL,"
     " tag_key TEXT NOT NULL,"
     " tag_value TEXT NOT NULL,"
     " PRIMARY KEY(arn, tag_key)) WITHOUT ROWID;"
     "CREATE TABLE rds_events("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " source_type TEXT NOT NULL,"
     " source_id TEXT NOT NULL,"
     " category TEXT NOT NULL,"
     " message TEXT NOT NULL,"
     " date REAL NOT NULL);"
     "CREATE INDEX rds_events_date ON rds_events(account, region, date);"
     "CREATE TABLE rds_param_groups("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " name TEXT NOT NULL,"
     " family TEXT NOT NULL,"
     " description TEXT NOT NULL,"
     " arn TEXT NOT NULL UNIQUE,"
     " UNIQUE(account, region, name));"
     "CREATE TABLE rds_params("
     " group_id INTEGER NOT NULL REFERENCES rds_param_groups(id) ON DELETE CASCADE,"
     " name TEXT NOT NULL,"
     " value TEXT NOT NULL,"
     " apply_method TEXT NOT NULL,"
     " PRIMARY KEY(group_id, name)) WITHOUT ROWID;"
     "CREATE TABLE rds_subnet_groups("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " name TEXT NOT NULL,"
     " description TEXT NOT NULL,"
     " subnets TEXT NOT NULL," /* JSON array of subnet ids */
     " arn TEXT NOT NULL UNIQUE,"
     " UNIQUE(account, region, name));"},
    /* Multi-AZ: which of the two data dirs (pgdata, pgdata-b) is the
     * primary's; encrypted snapshots: the snapshot's data key as KMS
     * ciphertext (NULL: the snapshot's files are plain) */
    {"rds", 2,
     "ALTER TABLE rds_instances ADD COLUMN primary_node INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE rds_snapshots ADD COLUMN data_key BLOB;"},
    {NULL},
};
