/* schema.c - the elasticache component's tables. A cache cluster is one
 * Redis node (ec_clusters); a replication group is a row of its own whose
 * member clusters point at it, each member keeping a full copy of the
 * settings its server is started with. Auth tokens are sealed (seal.c):
 * version 1's plaintext columns are emptied at boot (ec_seal_legacy).
 * Cluster mode (version 2): a group's shards and their slots, each member
 * naming its shard; a snapshot of such a group has one RDB per shard.
 * Never edit a shipped step: add a new version. */
#include "core/compat.h"
#include "svc/elasticache/elasticache.h"

const struct db_migration elasticache_migrations[] = {
    {"elasticache", 1,
     "CREATE TABLE ec_rgs("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
     " description TEXT NOT NULL,"
     " status TEXT NOT NULL,"
     " auto_failover INTEGER NOT NULL, multi_az INTEGER NOT NULL,"
     " kms_key_id TEXT,"
     " snapshotting TEXT," /* SnapshottingClusterId */
     " created REAL NOT NULL,"
     " UNIQUE(account, region, name));"
     "CREATE TABLE ec_clusters("
     " id INTEGER PRIMARY KEY AUTOINCREMENT," /* names the node directory */
     " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
     " status TEXT NOT NULL,"
     " node_type TEXT NOT NULL, engine_version TEXT NOT NULL, port INTEGER NOT NULL,"
     " param_group TEXT NOT NULL, param_status TEXT NOT NULL DEFAULT 'in-sync',"
     " subnet_group TEXT, security_groups TEXT NOT NULL DEFAULT ''," /* newline-joined */
     " az TEXT NOT NULL, maint_window TEXT NOT NULL, snap_window TEXT NOT NULL,"
     " snap_retention INTEGER NOT NULL DEFAULT 0, auto_minor INTEGER NOT NULL DEFAULT 1,"
     " notification_arn TEXT,"
     " auth_token TEXT, auth_token_old TEXT, auth_modified REAL,"
     " transit INTEGER NOT NULL DEFAULT 0, at_rest INTEGER NOT NULL DEFAULT 0,"
     " rg_id INTEGER REFERENCES ec_rgs(id),"
     " role TEXT," /* 'primary' or 'replica' in a replication group */
     " member_no INTEGER NOT NULL DEFAULT 0,"
     " created REAL NOT NULL,"
     " UNIQUE(account, region, name));"
     "CREATE INDEX ec_clusters_rg ON ec_clusters(rg_id) WHERE rg_id IS NOT NULL;"
     "CREATE TABLE ec_param_groups("
     " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
     " family TEXT NOT NULL, description TEXT NOT NULL,"
     " PRIMARY KEY(account, region, name));"
     "CREATE TABLE ec_params(" /* values that differ from the family's defaults */
     " account TEXT NOT NULL, region TEXT NOT NULL, grp TEXT NOT NULL,"
     " name TEXT NOT NULL, value TEXT NOT NULL,"
     " PRIMARY KEY(account, region, grp, name));"
     "CREATE TABLE ec_subnet_groups("
     " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
     " description TEXT NOT NULL, vpc_id TEXT NOT NULL,"
     " subnets TEXT NOT NULL," /* newline-joined subnet ids */
     " PRIMARY KEY(account, region, name));"
     "CREATE TABLE ec_snapshots("
     " id INTEGER PRIMARY KEY AUTOINCREMENT," /* names the file */
     " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
     " status TEXT NOT NULL, source TEXT NOT NULL,"
     " cluster_name TEXT, rg_name TEXT, rg_description TEXT,"
     " node_type TEXT NOT NULL, engine_version TEXT NOT NULL, port INTEGER NOT NULL,"
     " param_group TEXT NOT NULL, subnet_group TEXT, az TEXT NOT NULL,"
     " maint_window TEXT NOT NULL, snap_window TEXT NOT NULL,"
     " num_clusters INTEGER NOT NULL DEFAULT 1, auto_failover INTEGER NOT NULL DEFAULT 0,"
     " kms_key_id TEXT, cluster_created REAL NOT NULL, created REAL,"
     " size_bytes INTEGER NOT NULL DEFAULT 0,"
     " UNIQUE(account, region, name));"
     "CREATE TABLE ec_tags("
     " arn TEXT NOT NULL, tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,"
     " PRIMARY KEY(arn, tag_key));"
     "CREATE TABLE ec_events("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL, region TEXT NOT NULL,"
     " source_id TEXT NOT NULL, source_type TEXT NOT NULL,"
     " message TEXT NOT NULL, date REAL NOT NULL);"
     "CREATE INDEX ec_events_date ON ec_events(account, region, date);"},
    {"elasticache", 2,
     "ALTER TABLE ec_clusters ADD COLUMN auth_sealed BLOB;"
     "ALTER TABLE ec_clusters ADD COLUMN auth_sealed_old BLOB;"
     "ALTER TABLE ec_clusters ADD COLUMN shard INTEGER NOT NULL DEFAULT 1;"
     "ALTER TABLE ec_clusters ADD COLUMN auto_snap_at REAL;" /* last automated snapshot */
     "ALTER TABLE ec_rgs ADD COLUMN cluster_mode INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE ec_rgs ADD COLUMN auto_snap_at REAL;"
     "CREATE TABLE ec_shards("
     " rg_id INTEGER NOT NULL REFERENCES ec_rgs(id) ON DELETE CASCADE,"
     " shard INTEGER NOT NULL," /* NodeGroupId as a number */
     " slots TEXT NOT NULL,"	/* "0-5460" or "0-99,200-300" */
     " PRIMARY KEY(rg_id, shard));"
     "ALTER TABLE ec_snapshots ADD COLUMN cluster_mode INTEGER NOT NULL DEFAULT 0;"
     "CREATE TABLE ec_snapshot_shards(" /* one RDB each: snapshots/<id>-<shard>.rdb */
     " snap_id INTEGER NOT NULL REFERENCES ec_snapshots(id) ON DELETE CASCADE,"
     " shard INTEGER NOT NULL, slots TEXT NOT NULL,"
     " size_bytes INTEGER NOT NULL DEFAULT 0,"
     " PRIMARY KEY(snap_id, shard));"},
    {NULL},
};
