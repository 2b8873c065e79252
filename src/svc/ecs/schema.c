/* schema.c - the ecs component's tables. Documents AWS returns whole
 * (task definition bodies, cluster settings, a service's load balancers
 * and network configuration) are stored as JSON text; what the reconciler
 * and the list filters query is in columns. Never edit a shipped step. */
#include "core/compat.h"
#include "svc/ecs/ecs.h"

const struct db_migration ecs_migrations[] = {
    {"ecs", 1,
     "CREATE TABLE ecs_clusters("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
     " arn TEXT NOT NULL UNIQUE,"
     " status TEXT NOT NULL," /* ACTIVE, INACTIVE */
     " created INTEGER NOT NULL,"
     " settings TEXT, configuration TEXT, capacity_providers TEXT, strategy TEXT,"
     " UNIQUE(account, region, name));"
     "CREATE TABLE ecs_taskdefs("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL, region TEXT NOT NULL, family TEXT NOT NULL,"
     " revision INTEGER NOT NULL,"
     " arn TEXT NOT NULL UNIQUE,"
     " status TEXT NOT NULL," /* ACTIVE, INACTIVE */
     " registered INTEGER NOT NULL, deregistered INTEGER,"
     " registered_by TEXT,"
     " body TEXT NOT NULL," /* the RegisterTaskDefinition input, as JSON */
     " UNIQUE(account, region, family, revision));"
     "CREATE TABLE ecs_tags(arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
     " PRIMARY KEY(arn, key));"
     "CREATE TABLE ecs_services("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL, region TEXT NOT NULL,"
     " cluster_arn TEXT NOT NULL, name TEXT NOT NULL,"
     " arn TEXT NOT NULL,"
     " status TEXT NOT NULL," /* ACTIVE, DRAINING, INACTIVE */
     " desired INTEGER NOT NULL,"
     " taskdef_arn TEXT NOT NULL,"
     " launch_type TEXT,"
     " min_healthy INTEGER NOT NULL, max_percent INTEGER NOT NULL,"
     " breaker INTEGER NOT NULL DEFAULT 0, rollback INTEGER NOT NULL DEFAULT 0,"
     " load_balancers TEXT, network TEXT, strategy TEXT,"
     " created INTEGER NOT NULL, created_by TEXT,"
     " steady INTEGER NOT NULL DEFAULT 0);" /* last steady-state event written */
     "CREATE INDEX ecs_services_by_name ON ecs_services(cluster_arn, name);"
     "CREATE TABLE ecs_deployments("
     " id INTEGER PRIMARY KEY,"
     " service_id INTEGER NOT NULL,"
     " dep_id TEXT NOT NULL," /* ecs-svc/<19 digits> */
     " status TEXT NOT NULL," /* PRIMARY, ACTIVE, INACTIVE */
     " taskdef_arn TEXT NOT NULL,"
     " rollout TEXT NOT NULL, rollout_reason TEXT," /* IN_PROGRESS, COMPLETED, FAILED */
     " failed INTEGER NOT NULL DEFAULT 0,"
     " last_failure INTEGER NOT NULL DEFAULT 0,"
     " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
     "CREATE INDEX ecs_deployments_by_service ON ecs_deployments(service_id);"
     "CREATE TABLE ecs_events("
     " id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL,"
     " created INTEGER NOT NULL, message TEXT NOT NULL);"
     "CREATE INDEX ecs_events_by_service ON ecs_events(service_id, id);"
     "CREATE TABLE ecs_tasks("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL, region TEXT NOT NULL,"
     " task_id TEXT NOT NULL, arn TEXT NOT NULL UNIQUE,"
     " cluster_arn TEXT NOT NULL, taskdef_arn TEXT NOT NULL,"
     " family TEXT NOT NULL, grp TEXT, started_by TEXT,"
     " service_id INTEGER, deployment_id INTEGER,"
     " launch_type TEXT, addr TEXT,"
     " last_status TEXT NOT NULL, desired_status TEXT NOT NULL,"
     " created INTEGER NOT NULL, pull_started INTEGER, pull_stopped INTEGER,"
     " started INTEGER, stopping INTEGER, stopped INTEGER,"
     " stop_code TEXT, stopped_reason TEXT,"
     " overrides TEXT);"
     "CREATE INDEX ecs_tasks_by_cluster ON ecs_tasks(cluster_arn, desired_status);"
     "CREATE INDEX ecs_tasks_by_service ON ecs_tasks(service_id, desired_status);"
     "CREATE TABLE ecs_containers("
     " task_arn TEXT NOT NULL, idx INTEGER NOT NULL,"
     " name TEXT NOT NULL, image TEXT, arn TEXT NOT NULL,"
     " last_status TEXT NOT NULL, exit_code INTEGER, reason TEXT,"
     " essential INTEGER NOT NULL,"
     " PRIMARY KEY(task_arn, idx));"},
    /* health checks: the task's and each container's healthStatus, and
     * whether the task has an essential container with a check (then a
     * service counts it healthy only once it is HEALTHY) */
    {"ecs", 2,
     "ALTER TABLE ecs_tasks ADD COLUMN health TEXT;"
     "ALTER TABLE ecs_tasks ADD COLUMN checked INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE ecs_containers ADD COLUMN health TEXT;"
     /* availabilityZoneRebalancing, stored and returned (one "zone" here) */
     "ALTER TABLE ecs_services ADD COLUMN az_rebalancing TEXT;"},
    {NULL},
};
