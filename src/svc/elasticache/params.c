/* params.c - the Redis 7 parameters of AWS's default.redis7 group (names,
 * defaults, allowed values, modifiability and change type as AWS lists
 * them), their validation, the settings a node's redis.conf gets from its
 * parameter group, node-type memory, and the engine/version check. */
#include "core/compat.h"
#include "fb.h"
#include "svc/elasticache/internal.h"
#include <stdlib.h>

#define I "integer"
#define S "string"
#define B "string"
#define YN "yes,no"

/* apply = 1: fogbank passes it to redis-server (same name) in redis.conf
 * and by CONFIG SET; 0: an AWS setting with no redis-server counterpart
 * here, stored and reported only. */
static const struct ec_param_def defs[] = {
    {"acllog-max-len", "128", I, "1-10000", "The maximum number of entries in the ACL log.", 1, 0,
     1},
    {"active-defrag-cycle-max", "75", I, "1-75", "Maximal effort for defrag in CPU percentage.", 1,
     0, 1},
    {"active-defrag-cycle-min", "5", I, "1-75", "Minimal effort for defrag in CPU percentage.", 1,
     0, 1},
    {"active-defrag-ignore-bytes", "104857600", I, "1048576-",
     "Minimum amount of fragmentation waste to start active defrag.", 1, 0, 1},
    {"active-defrag-max-scan-fields", "1000", I, "1-1000000",
     "Maximum number of set/hash/zset/list fields that will be processed from the main dictionary "
     "scan.",
     1, 0, 1},
    {"active-defrag-threshold-lower", "10", I, "1-100",
     "Minimum percentage of fragmentation to start active defrag.", 1, 0, 1},
    {"active-defrag-threshold-upper", "100", I, "1-100",
     "Maximum percentage of fragmentation at which we use maximum effort.", 1, 0, 1},
    {"active-expire-effort", "1", I, "1-10",
     "The amount of effort that redis uses to expire items in the active expiration job.", 1, 0, 1},
    {"activedefrag", "no", B, YN, "Enabled active memory defragmentation.", 1, 0, 1},
    {"activerehashing", "yes", B, YN, "Apply rehashing or not.", 1, 1, 1},
    {"client-query-buffer-limit", "1073741824", I, "1048576-1073741824",
     "Max size of a single client query buffer.", 1, 0, 1},
    {"close-on-replica-write", "yes", B, YN,
     "If enabled, clients who attempt to write to a read-only replica will be disconnected.", 1, 0,
     0},
    {"cluster-allow-pubsubshard-when-down", "yes", B, YN,
     "Allow pubsub shard commands while the cluster is down.", 1, 0, 1},
    {"cluster-allow-reads-when-down", "no", B, YN, "Allow reads while the cluster is down.", 1, 0,
     1},
    {"cluster-enabled", "no", B, YN, "Enable cluster mode.", 1, 1, 0},
    {"cluster-require-full-coverage", "no", B, YN,
     "Whether cluster becomes unavailable if one or more slots are not covered.", 1, 0, 1},
    {"databases", "16", I, "1-1200000", "Set the number of databases.", 1, 1, 1},
    {"hash-max-listpack-entries", "128", I, "0-",
     "The maximum number of hash entries in order for the dataset to be compressed.", 1, 0, 1},
    {"hash-max-listpack-value", "64", I, "0-",
     "The threshold of biggest hash entries in order for the dataset to be compressed.", 1, 0, 1},
    {"hll-sparse-max-bytes", "3000", I, "1-16000", "HyperLogLog sparse representation bytes limit.",
     1, 0, 1},
    {"lazyfree-lazy-eviction", "no", B, YN, "Perform an asynchronous delete on evictions.", 1, 0,
     1},
    {"lazyfree-lazy-expire", "no", B, YN, "Perform an asynchronous delete on expired keys.", 1, 0,
     1},
    {"lazyfree-lazy-server-del", "no", B, YN, "Perform an asynchronous delete on key updates.", 1,
     0, 1},
    {"lazyfree-lazy-user-del", "no", B, YN, "Make DEL behave like UNLINK.", 1, 0, 1},
    {"lazyfree-lazy-user-flush", "no", B, YN, "Make FLUSHALL/FLUSHDB default to ASYNC.", 1, 0, 1},
    {"lfu-decay-time", "1", I, "0-",
     "The amount of time in minutes to decrement the key counter for LFU eviction policy.", 1, 0,
     1},
    {"lfu-log-factor", "10", I, "1-",
     "The log factor for incrementing key counter for LFU eviction policy.", 1, 0, 1},
    {"list-compress-depth", "0", I, "0-",
     "Number of entries on each end of a list that are not compressed.", 1, 0, 1},
    {"list-max-listpack-size", "-2", I, "-5-",
     "The number of entries or maximum size of each internal list node.", 1, 0, 1},
    {"lua-time-limit", "5000", I, "5000", "Max execution time of a Lua script in milliseconds.", 0,
     0, 0},
    {"maxclients", "65000", I, "1-65000", "The maximum number of Redis clients.", 0, 1, 0},
    {"maxmemory-policy", "volatile-lru", S,
     "volatile-lru,allkeys-lru,volatile-lfu,allkeys-lfu,volatile-random,allkeys-random,volatile-"
     "ttl,noeviction",
     "Max memory policy.", 1, 0, 1},
    {"maxmemory-samples", "3", I, "1-", "Max memory samples.", 1, 0, 1},
    {"min-replicas-max-lag", "10", I, "0-",
     "The maximum amount of replica lag in seconds beyond which the master would stop taking "
     "writes.",
     1, 0, 1},
    {"min-replicas-to-write", "0", I, "0-",
     "The minimum number of replicas that must be present with lag no greater than "
     "min-replicas-max-lag.",
     1, 0, 1},
    {"notify-keyspace-events", "", S, "",
     "The keyspace events for Redis to notify Pub/Sub clients about.", 1, 0, 1},
    {"proto-max-bulk-len", "536870912", I, "1048576-536870912",
     "Max size of a single element request.", 1, 0, 1},
    {"repl-backlog-size", "1048576", I, "16384-",
     "The replication backlog size in bytes for PSYNC.", 1, 0, 1},
    {"repl-backlog-ttl", "3600", I, "0-",
     "The amount of time in seconds after the master no longer has any replicas connected for the "
     "master to free the replication backlog.",
     1, 0, 1},
    {"replica-ignore-maxmemory", "yes", B, YN,
     "Replicas ignore maxmemory and rely on the primary to evict.", 0, 0, 0},
    {"replica-lazy-flush", "yes", B, YN, "Perform an asynchronous flushDB during replica sync.", 0,
     0, 1},
    {"reserved-memory-percent", "25", I, "0-100",
     "The percent of memory reserved for non-cache memory usage.", 1, 0, 0},
    {"set-max-intset-entries", "512", I, "0-500000000",
     "The limit in the size of the set in order for the dataset to be compressed.", 1, 0, 1},
    {"slowlog-log-slower-than", "10000", I, "-",
     "The execution time, in microseconds, to exceed in order for the command to get logged.", 1, 0,
     1},
    {"slowlog-max-len", "128", I, "0-", "The length of the slow log.", 1, 0, 1},
    {"stream-node-max-bytes", "4096", I, "0-",
     "The maximum size of a single node in a stream in bytes.", 1, 0, 1},
    {"stream-node-max-entries", "100", I, "0-",
     "The maximum number of items a single node in a stream can contain.", 1, 0, 1},
    {"tcp-keepalive", "300", I, "0-", "If non-zero, send ACKs every given number of seconds.", 1, 0,
     1},
    {"timeout", "0", I, "0,20-",
     "Close connection if client is idle for a given number of seconds, or never if 0.", 1, 0, 1},
    {"tracking-table-max-keys", "1000000", I, "1-100000000",
     "The maximum number of keys the tracking table may hold.", 1, 0, 1},
    {"zset-max-listpack-entries", "128", I, "0-",
     "The maximum number of sorted set entries in order for the dataset to be compressed.", 1, 0,
     1},
    {"zset-max-listpack-value", "64", I, "0-",
     "The threshold of biggest sorted set entries in order for the dataset to be compressed.", 1, 0,
     1},
};

const struct ec_param_def *ec_param_def_find(const char *name)
{
	for (size_t i = 0; name && i < FB_ARRAY_LEN(defs); i++)
		if (!strcmp(defs[i].name, name))
			return &defs[i];
	return NULL;
}

/* ec_param_defs: the table, for DescribeCacheParameters. */
const struct ec_param_def *ec_param_defs(size_t *n)
{
	*n = FB_ARRAY_LEN(defs);
	return defs;
}

/* in_range: 1 when v fits one of the comma-separated ranges "a-b", "a-",
 * "-" (any) or "a" of allowed. A leading '-' is a minus sign when digits
 * follow it ("-5-" is from -5 up). */
static int in_range(long long v, const char *allowed)
{
	for (const char *p = allowed; *p;) {
		char *end;
		long long lo = strtoll(p, &end, 10), hi;
		if (end == p) { /* "-": unbounded */
			if (*p == '-')
				return 1;
			return 0;
		}
		if (*end == '-') {
			const char *q = end + 1;
			hi = strtoll(q, &end, 10);
			if (end == q)
				hi = (long long)9e18;
		} else {
			hi = lo;
		}
		if (v >= lo && v <= hi)
			return 1;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return 0;
	}
	return 0;
}

int ec_param_check(struct aws_call *c, const struct ec_param_def *def, const char *value)
{
	if (!value)
		value = "";
	if (!def->modifiable)
		return aws_fail(c, 400, "InvalidParameterValue", "Parameter %s is not modifiable.",
				def->name);
	if (!strcmp(def->type, "integer")) {
		char *end;
		long long v = strtoll(value, &end, 10);
		if (!*value || *end || !in_range(v, def->allowed))
			return aws_fail(
			    c, 400, "InvalidParameterValue",
			    "Value (%s) for parameter %s is incorrect. Allowed values: %s", value,
			    def->name, def->allowed);
		return 0;
	}
	if (!strcmp(def->name, "notify-keyspace-events")) {
		if (value[strspn(value, "KEg$lshzxeAtmnd")])
			return aws_fail(c, 400, "InvalidParameterValue",
					"Value (%s) for parameter notify-keyspace-events is "
					"incorrect. Allowed characters: KEg$lshzxeAtmnd",
					value);
		return 0;
	}
	size_t n = strlen(value);
	for (const char *p = def->allowed; *p;) {
		size_t w = strcspn(p, ",");
		if (w == n && !memcmp(p, value, n))
			return 0;
		p += w + (p[w] == ',');
	}
	return aws_fail(c, 400, "InvalidParameterValue",
			"Value (%s) for parameter %s is incorrect. Allowed values: %s", value,
			def->name, def->allowed);
}

int ec_param_group_default(const char *group)
{
	return !strcmp(group, EC_DEFAULT_PARAM_GROUP) ||
	       !strcmp(group, EC_DEFAULT_CLUSTER_PARAM_GROUP);
}

int ec_param_cluster_mode(struct db *db, struct arena *a, const char *account, const char *region,
			  const char *group)
{
	return !strcmp(ec_param_value(db, a, account, region, group, "cluster-enabled"), "yes");
}

int ec_param_group_exists(struct db *db, const char *account, const char *region, const char *group)
{
	if (!group || ec_param_group_default(group))
		return 1;
	sqlite3_stmt *st = db_stmt(db, "SELECT 1 FROM ec_param_groups WHERE account = ?1 AND "
				       "region = ?2 AND name = ?3");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
	int found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

const char *ec_param_value(struct db *db, struct arena *a, const char *account, const char *region,
			   const char *group, const char *name)
{
	const struct ec_param_def *d = ec_param_def_find(name);
	const char *v = d ? d->def : "";
	if (!strcmp(group, EC_DEFAULT_CLUSTER_PARAM_GROUP))
		return !strcmp(name, "cluster-enabled") ? "yes" : v;
	sqlite3_stmt *st = db_stmt(db, "SELECT value FROM ec_params WHERE account = ?1 AND "
				       "region = ?2 AND grp = ?3 AND name = ?4");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = arena_strdup(a, db_col_text(st, 0));
	sqlite3_reset(st);
	return v;
}

const char **ec_params_conf(struct db *db, struct arena *a, const char *account, const char *region,
			    const char *group)
{
	const char **out = arena_zalloc(a, (2 * FB_ARRAY_LEN(defs) + 1) * sizeof(*out));
	size_t n = 0;
	for (size_t i = 0; i < FB_ARRAY_LEN(defs); i++) {
		if (!defs[i].apply)
			continue;
		out[n++] = defs[i].name;
		out[n++] = defs[i].def;
	}
	sqlite3_stmt *st = db_stmt(db, "SELECT name, value FROM ec_params WHERE account = ?1 AND "
				       "region = ?2 AND grp = ?3");
	sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, group, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (size_t i = 0; i < n; i += 2)
			if (!strcmp(out[i], db_col_text(st, 0)))
				out[i + 1] = arena_strdup(a, db_col_text(st, 1));
	sqlite3_reset(st);
	return out;
}

int64_t ec_node_type_memory(const char *node_type)
{
	/* AWS's maxmemory per node type (bytes), for the types the seeds and
	 * the usual Terraform examples use */
	static const struct {
		const char *type;
		int64_t bytes;
	} types[] = {
	    {"cache.t2.micro", 581959680},    {"cache.t2.small", 1665138688},
	    {"cache.t2.medium", 3461349376},  {"cache.t3.micro", 536870912},
	    {"cache.t3.small", 1471026299},   {"cache.t3.medium", 3317862236},
	    {"cache.t4g.micro", 536870912},   {"cache.t4g.small", 1471026299},
	    {"cache.t4g.medium", 3317862236}, {"cache.m5.large", 6854542746},
	    {"cache.m6g.large", 6854542746},  {"cache.m7g.large", 6854542746},
	    {"cache.r5.large", 14037181030},  {"cache.r6g.large", 14037181030},
	    {"cache.r7g.large", 14037181030},
	};
	for (size_t i = 0; node_type && i < FB_ARRAY_LEN(types); i++)
		if (!strcmp(types[i].type, node_type))
			return types[i].bytes;
	return 0;
}

int ec_engine_check(struct aws_call *c, const char **version)
{
	const char *engine = jv_get_str(c->in, "Engine");
	if (engine && strcmp(engine, "redis"))
		return aws_fail(c, 400, "InvalidParameterValue",
				"Engine %s is not served by fogbank: only redis (Redis 7).",
				engine);
	const char *v = jv_get_str(c->in, "EngineVersion");
	if (!v) {
		*version = "7.0.15"; /* Debian's redis-server, what really runs */
		return 0;
	}
	if (strncmp(v, "7.", 2) || !v[2] || v[2 + strspn(v + 2, "0123456789.x")])
		return aws_fail(c, 400, "InvalidParameterCombination",
				"Cannot find version %s for redis (fogbank serves Redis 7.x with "
				"the installed Redis 7).",
				v);
	*version = v;
	return 0;
}
