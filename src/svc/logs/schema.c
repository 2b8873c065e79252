/* schema.c - the logs component's tables. Events are keyed by an
 * AUTOINCREMENT id (ids are never reused, so eventIds and paging tokens
 * stay unique after deletions) and indexed per stream and per group by
 * timestamp; the rowid the indexes carry gives the (timestamp, id) order
 * every read pages through. Never edit a shipped step: add a new version. */
#include "core/compat.h"
#include "svc/logs/logs.h"

const struct db_migration logs_migrations[] = {
    {"logs", 1,
     "CREATE TABLE logs_groups("
     " id INTEGER PRIMARY KEY,"
     " account TEXT NOT NULL,"
     " region TEXT NOT NULL,"
     " name TEXT NOT NULL,"
     " created INTEGER NOT NULL," /* epoch ms */
     " retention_days INTEGER,"	  /* NULL: never expire */
     " kms_key_id TEXT,"
     " stored_bytes INTEGER NOT NULL DEFAULT 0," /* message bytes held */
     " UNIQUE(account, region, name));"
     "CREATE TABLE logs_streams("
     " id INTEGER PRIMARY KEY,"
     " group_id INTEGER NOT NULL,"
     " name TEXT NOT NULL,"
     " created INTEGER NOT NULL,"
     " first_event INTEGER," /* NULL until the first event */
     " last_event INTEGER,"
     " last_ingestion INTEGER,"
     " seq INTEGER NOT NULL DEFAULT 0," /* PutLogEvents batches */
     " UNIQUE(group_id, name));"
     "CREATE TABLE logs_events("
     " id INTEGER PRIMARY KEY AUTOINCREMENT,"
     " group_id INTEGER NOT NULL,"
     " stream_id INTEGER NOT NULL,"
     " ts INTEGER NOT NULL," /* event timestamp, epoch ms */
     " ingested INTEGER NOT NULL,"
     " message TEXT NOT NULL);"
     "CREATE INDEX logs_events_stream ON logs_events(group_id, stream_id, ts);"
     "CREATE INDEX logs_events_group ON logs_events(group_id, ts);"
     "CREATE TABLE logs_tags("
     " group_id INTEGER NOT NULL,"
     " tag_key TEXT NOT NULL,"
     " tag_value TEXT NOT NULL,"
     " PRIMARY KEY(group_id, tag_key)) WITHOUT ROWID;"},
    {NULL},
};
