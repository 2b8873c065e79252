/* internal.h - what the files of src/svc/elasticache share: the rows
 * (cluster, replication group), errors and transactions, ARNs, events,
 * the Redis 7 parameter table, and the runtime that keeps one supervised
 * redis-server per cache cluster (src/supervise/redis.h).
 *
 * Endpoints: every cache node listens on its own loopback address
 * (src/store/addr.h) at its port. A replication group also owns a primary
 * endpoint address and a reader endpoint address; they are not proxied:
 * the node that is primary adds the primary endpoint address to its own
 * `bind` (CONFIG SET bind), and one replica adds the reader's. On a
 * failover the promoted replica binds the primary address once the old
 * primary is gone, so clients reconnecting to the PrimaryEndpoint reach
 * the new primary with no hop through fogbank (see failover.c).
 *
 * Cluster mode (a parameter group with cluster-enabled yes): the group has
 * shards ("node groups", ec_shards), each a primary and replicas, every
 * node a cluster-enabled redis-server; fogbank joins them into one Redis
 * Cluster (cluster.c) and the ConfigurationEndpoint is one more loopback
 * address, bound by one serving primary, so `redis-cli -c` starts there
 * and follows MOVED redirects to the nodes' own addresses. */
#ifndef FB_SVC_ELASTICACHE_INTERNAL_H
#define FB_SVC_ELASTICACHE_INTERNAL_H
#include "core/compat.h"
#include "core/fs.h"
#include "aws/call.h"
#include "svc/elasticache/elasticache.h"

#define EC_NODE_ID "0001"
#define EC_NODE_GROUP_ID "0001"
#define EC_DEFAULT_PORT 6379
#define EC_FAMILY "redis7"
#define EC_DEFAULT_PARAM_GROUP "default.redis7"
#define EC_DEFAULT_CLUSTER_PARAM_GROUP "default.redis7.cluster.on"
#define EC_MAX_TAGS 50

#define EC_AVAILABLE "available"
#define EC_CREATING "creating"
#define EC_MODIFYING "modifying"
#define EC_DELETING "deleting"
#define EC_REBOOTING "rebooting cache cluster nodes"
#define EC_SNAPSHOTTING "snapshotting"
#define EC_SLOTS 16384
#define EC_MAX_NODES 90 /* AWS's default node quota per cluster */
#define EC_MAX_SHARDS 90

/* A row of ec_clusters (with its group's name); strings in an arena. */
struct ec_cluster {
	int64_t id, rg_id; /* rg_id 0: not in a replication group */
	const char *account, *region, *name, *status, *node_type, *engine_version;
	const char *param_group, *param_status, *subnet_group, *security_groups, *az;
	const char *maint_window, *snap_window, *notification_arn;
	const char *auth_token, *auth_token_old, *role, *rg_name;
	int64_t port, snap_retention, member_no;
	int64_t shard; /* node group number (1 when not in cluster mode) */
	int auto_minor, transit, at_rest;
	int cluster_mode;    /* its group runs in cluster mode */
	int auth_unreadable; /* a sealed token did not open: never start it */
	double auth_modified, created, auto_snap_at;
	char addr[16]; /* the node's endpoint address */
};

/* A row of ec_rgs with its endpoint addresses. */
struct ec_rg {
	int64_t id;
	const char *account, *region, *name, *description, *status, *kms_key_id, *snapshotting;
	int auto_failover, multi_az, cluster_mode;
	double created, auto_snap_at;
	char primary_addr[16], reader_addr[16];
	char cfg_addr[16]; /* cluster mode: the ConfigurationEndpoint */
};

/* What a new cache cluster row gets (CreateCacheCluster, and each member
 * of CreateReplicationGroup). */
struct ec_new_cluster {
	const char *name, *node_type, *engine_version, *param_group, *subnet_group;
	const char *security_groups, *az, *maint_window, *snap_window, *notification_arn;
	const char *auth_token, *role;
	int64_t port, snap_retention, member_no, rg_id;
	int64_t shard;	       /* node group number; 0 means 1 */
	int64_t seed_snapshot; /* snapshot whose data the node starts with; 0 none */
	int64_t seed_shard;    /* cluster mode: the shard RDB of seed_snapshot */
	int transit, at_rest, auto_minor;
};

/* --- clusters.c --- */

/* ec_valid_id: AWS's identifier rule (1..max letters, digits, hyphens, a
 * letter first, no trailing or doubled hyphen); lowercases id in place,
 * as AWS stores identifiers. */
int ec_valid_id(char *id, size_t max);
/* ec_id_arg: input member key as a valid lowercased identifier (arena),
 * or NULL with InvalidParameterValue. */
char *ec_id_arg(struct aws_call *c, const char *key, size_t max);
/* ec_lower: a lowercased arena copy of s (NULL stays NULL). */
char *ec_lower(struct aws_call *c, const char *s);
/* ec_auth_token_check: AWS's AuthToken rule; InvalidParameterValue. */
int ec_auth_token_check(struct aws_call *c, const char *token);
/* ec_cluster_settings_check: validates and fills the settings shared by
 * CreateCacheCluster and CreateReplicationGroup from the input. */
int ec_cluster_settings_check(struct aws_call *c, struct ec_new_cluster *nc);
/* ec_cluster_insert: the row, its address, its tags and a fresh node
 * directory (seeded from a snapshot when asked); inside the caller's
 * transaction. Sets *id. 0 or -1 with the error. */
int ec_cluster_insert(struct aws_call *c, const struct ec_new_cluster *nc, int64_t *id);

/* --- groups.c --- */

/* ec_rg_insert: the group row (status creating), its endpoint addresses
 * (a configuration endpoint in cluster mode, else primary and reader) and
 * tags; inside the caller's transaction. 0 or -1 with the error. */
int ec_rg_insert(struct aws_call *c, const char *name, int auto_failover, int multi_az,
		 int cluster_mode, int64_t *id);

/* ec_create_member: CreateCacheCluster with ReplicationGroupId: a new
 * replica of that group, with the group's settings. */
int ec_create_member(struct aws_call *c, struct ec_new_cluster *nc, const char *rg_name);

/* --- shards.c: cluster mode at creation --- */

/* One node group a create call asks for. */
struct ec_shard_plan {
	int64_t shard;	    /* NodeGroupId as a number */
	int64_t replicas;   /* replicas besides the primary */
	int64_t seed_shard; /* the snapshot's shard whose RDB seeds it; 0: its only RDB */
	const char *slots;  /* "a-b[,c-d]" */
};
/* A stored node group. */
struct ec_shard {
	int64_t shard;
	const char *slots;
};
/* ec_slots_even: shard i of n's share of the 16384 slots, "a-b" (arena). */
char *ec_slots_even(struct arena *a, int64_t i, int64_t n);
/* ec_slots_mark: sets map[slot] = shard for every slot of spec ("a-b" or
 * "a", comma-separated); -1 when spec is malformed, out of range, or
 * claims a slot already marked. */
int ec_slots_mark(const char *spec, int16_t *map, int16_t shard);
/* ec_shard_plan: the node groups of a cluster-mode CreateReplicationGroup
 * (arena array, *count entries); 0 or -1 with AWS's error. */
int ec_shard_plan(struct aws_call *c, struct ec_shard_plan **out, int64_t *count);
/* ec_shards_insert: the ec_shards rows of group rg_id (in the caller's
 * transaction). 0 or -1 with the error. */
int ec_shards_insert(struct aws_call *c, int64_t rg_id, const struct ec_shard_plan *p, int64_t n);
/* ec_shard_members_insert: every node of plan p as a member cluster of
 * nc->rg_id named <name>-<shard>-<member> (the first of each shard its
 * primary, seeded from nc->seed_snapshot), numbered after nc->member_no;
 * ids gets their ids, *count how many rows were attempted. 0 or -1 with
 * the error. */
int ec_shard_members_insert(struct aws_call *c, const char *name, struct ec_new_cluster *nc,
			    const struct ec_shard_plan *p, int64_t n, int64_t *ids, int64_t *count);
/* ec_shards_of_rg: group rg_id's node groups by number (arena array). */
size_t ec_shards_of_rg(struct db *db, struct arena *a, int64_t rg_id, struct ec_shard **out);

/* --- snapshots.c --- */

/* ec_snapshot_fits: whether snapshot seed can seed a new group (cluster
 * mode cm, n shards of plan): a cluster-mode snapshot needs as many
 * shards, and gives them its slots when the call gave none; a snapshot
 * of one node seeds a group of one shard. 0 or -1 with the error. */
int ec_snapshot_fits(struct aws_call *c, int64_t seed, int cm, struct ec_shard_plan *plan,
		     int64_t n);

/* ec_snapshot_take: snapshot name of cluster cl (or of group rg, cl its
 * primary; every shard in cluster mode) with SnapshotSource source:
 * the row committed, statuses "snapshotting", the job started. 0 or -1
 * with the error. */
int ec_snapshot_take(struct aws_call *c, const char *name, const struct ec_cluster *cl,
		     const struct ec_rg *rg, const char *source);
/* ec_snapshot_usable: the id of available snapshot name, for seeding;
 * -1 with SnapshotNotFoundFault / InvalidSnapshotState. */
int ec_snapshot_usable(struct aws_call *c, const char *name, int64_t *id);
/* ec_snapshot_insert: a new snapshot row (status creating) of cluster cl,
 * or of group rg (cl its primary) when rg is not NULL; inside the
 * caller's transaction. SnapshotAlreadyExistsFault when taken. */
int ec_snapshot_insert(struct aws_call *c, const char *name, const struct ec_cluster *cl,
		       const struct ec_rg *rg, const char *source, int64_t *id);

/* --- subnets.c --- */

/* ec_subnet_group_exists: 1 when the subnet group is stored. */
int ec_subnet_group_exists(struct db *db, const char *account, const char *region,
			   const char *name);

/* --- store.c --- */

/* ec_fail_db: records a store error (500) and returns -1. */
int ec_fail_db(struct aws_call *c, int rc);
/* ec_tx_begin / ec_tx_end: a handler's transaction; ec_tx_end commits
 * when ok is 0 (-1 if the commit fails) and rolls back otherwise. */
int ec_tx_begin(struct aws_call *c);
int ec_tx_end(struct aws_call *c, int ok);
/* ec_cluster_find: cluster name of the call's account and region; 0, or
 * -1 with CacheClusterNotFound. */
int ec_cluster_find(struct aws_call *c, const char *name, struct ec_cluster *out);
/* ec_cluster_load: cluster row id (runtime use); 0 or -1 when gone. */
int ec_cluster_load(struct db *db, struct arena *a, int64_t id, struct ec_cluster *out);
/* ec_clusters_of_rg: the member rows of group rg_id by member number;
 * returns the count, *out an arena array. */
size_t ec_clusters_of_rg(struct db *db, struct arena *a, int64_t rg_id, struct ec_cluster **out);
/* ec_rg_find / ec_rg_load: as for clusters (ReplicationGroupNotFoundFault). */
int ec_rg_find(struct aws_call *c, const char *name, struct ec_rg *out);
int ec_rg_load(struct db *db, struct arena *a, int64_t id, struct ec_rg *out);
/* ec_arn: "arn:aws:elasticache:<region>:<account>:<kind>:<name>" (arena). */
char *ec_arn(struct arena *a, const char *region, const char *account, const char *kind,
	     const char *name);
/* ec_node_owner / ec_rg_owner: the addr.h owner keys of a node and of a
 * group's endpoint ("primary" or "reader") (arena). */
char *ec_node_owner(struct arena *a, const char *account, const char *region, const char *name);
char *ec_rg_owner(struct arena *a, const char *account, const char *region, const char *name,
		  const char *which);
/* ec_event: records an event for DescribeEvents (autocommit or inside the
 * open transaction) and logs it. */
void ec_event(struct db *db, const char *account, const char *region, const char *source_id,
	      const char *source_type, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* ec_set_status: sets a cluster's status (when it is one of from, a
 * '|'-separated list, or always when from is NULL). 1 when changed. */
int ec_set_status(struct db *db, int64_t id, const char *status, const char *from);
/* ec_rg_set_status: the same for a replication group. */
int ec_rg_set_status(struct db *db, int64_t id, const char *status, const char *from);
/* ec_page: MaxRecords (20..100, default 100) and Marker (an offset). 0 or
 * -1 with InvalidParameterValue. */
int ec_page(struct aws_call *c, int64_t *max, int64_t *offset);
/* ec_page_marker: sets Marker on o when more rows follow. */
void ec_page_marker(struct aws_call *c, struct jv *o, int64_t next);
/* ec_node_dir: "<data_dir>/elasticache/nodes/<id>" (arena). */
char *ec_node_dir(struct arena *a, const char *data_dir, int64_t id);
/* ec_snapshot_path: "<data_dir>/elasticache/snapshots/<id>.rdb", or
 * "<id>-<shard>.rdb" for a shard of a cluster-mode snapshot (arena). */
char *ec_snapshot_path(struct arena *a, const char *data_dir, int64_t id, int64_t shard);
/* ec_rm_rf: removes a node directory tree. */
void ec_rm_rf(const char *dir);
/* ec_copy_durable: src to dst through dst.tmp, fsync, rename, fsync of
 * the directory; a hard link when both are on one filesystem (redis
 * never rewrites an RDB in place). 0 or -1 (errno). */
int ec_copy_durable(const char *src, const char *dst);

/* --- tags.c --- */

/* ec_tags_check: a TagList (NULL fine); InvalidParameterValue. */
int ec_tags_check(struct aws_call *c, const struct jv *tags);
/* ec_tags_put: upserts tags on arn (no transaction of its own). */
int ec_tags_put(struct aws_call *c, const char *arn, const struct jv *tags);
/* ec_tags_drop: deletes every tag of arn. */
int ec_tags_drop(struct db *db, const char *arn);

/* --- params.c --- */

/* One Redis 7 parameter as AWS's default.redis7 group lists it. */
struct ec_param_def {
	const char *name, *def, *type, *allowed, *desc;
	int modifiable;
	int reboot; /* 1: requires-reboot, 0: immediate */
	int apply;  /* 1: a redis-server setting fogbank sets; 0: AWS-only */
};
/* ec_param_defs: the whole table (*n entries). */
const struct ec_param_def *ec_param_defs(size_t *n);
/* ec_param_def_find: the definition of name, or NULL. */
const struct ec_param_def *ec_param_def_find(const char *name);
/* ec_param_check: 0 when value is valid for def, else -1 with
 * InvalidParameterValue. */
int ec_param_check(struct aws_call *c, const struct ec_param_def *def, const char *value);
/* ec_param_group_default: 1 for AWS's built-in groups (default.redis7,
 * default.redis7.cluster.on), which exist everywhere and never change. */
int ec_param_group_default(const char *group);
/* ec_param_cluster_mode: 1 when group sets cluster-enabled yes. */
int ec_param_cluster_mode(struct db *db, struct arena *a, const char *account, const char *region,
			  const char *group);
/* ec_param_group_exists: 1 when group is a default group or stored. */
int ec_param_group_exists(struct db *db, const char *account, const char *region,
			  const char *group);
/* ec_param_value: the group's value of parameter name (its default when
 * not set), arena. */
const char *ec_param_value(struct db *db, struct arena *a, const char *account, const char *region,
			   const char *group, const char *name);
/* ec_params_conf: the name/value pairs of group that redis-server takes
 * (defaults overlaid with the group's values), NULL-terminated (arena). */
const char **ec_params_conf(struct db *db, struct arena *a, const char *account, const char *region,
			    const char *group);
/* ec_node_type_memory: maxmemory for a node type, as AWS sets it; 0 for a
 * type fogbank does not know (no limit). */
int64_t ec_node_type_memory(const char *node_type);
/* ec_engine_check: Engine/EngineVersion of a create call: redis 7.x only
 * (the installed Redis 7 serves every 7.x). Sets *version (default when
 * absent). 0 or -1 with the error. */
int ec_engine_check(struct aws_call *c, const char **version);

/* --- output.c --- */

/* ec_cluster_jv: the CacheCluster shape (CacheNodes with show_nodes). */
struct jv *ec_cluster_jv(struct aws_call *c, const struct ec_cluster *cl, int show_nodes);
/* ec_rg_jv: the ReplicationGroup shape. */
struct jv *ec_rg_jv(struct aws_call *c, const struct ec_rg *rg);

/* --- runtime.c: one supervised server per cache cluster --- */

struct redis;
struct ec_node {
	int64_t id, rg_id;
	char *name, *account, *region;
	char addr[16], primary_addr[16], reader_addr[16];
	int port, is_primary;
	int64_t member_no, shard;
	int cluster;	   /* a node of a cluster-mode group */
	char cfg_addr[16]; /* its group's configuration endpoint */
	uint64_t gen;	   /* runs started, so late replies can tell a new run */
	struct redis *r;   /* NULL while down */
	int ready;	   /* answered PING (and, a replica, synced) */
	int want;	   /* EC_WANT_* */
	int64_t final_snapshot;
	char bind[64]; /* the addresses the server listens on now */
	int crashes;
	int await_primary; /* a replica held back until its primary serves */
	int64_t started_ms;
	uint64_t restart_timer;
	struct ec_node *next;
};
#define EC_WANT_RUN 0
#define EC_WANT_RESTART 1 /* reboot: start again when it has exited */
#define EC_WANT_GONE 2	  /* delete: remove everything when it has exited */

/* ec_rt_attach: the daemon context runtime callbacks use. */
void ec_rt_attach(struct fogbank *fb);
/* ec_rt_fb: that context (NULL before the first attach). */
struct fogbank *ec_rt_fb(void);
/* ec_node_get: the runtime node of cluster id, or NULL. */
struct ec_node *ec_node_get(int64_t id);
/* ec_node_list: every runtime node. */
struct ec_node *ec_node_list(void);
/* ec_node_start: starts cluster id's server from its row (registering the
 * node); a running one is left alone. */
void ec_node_start(int64_t id);
/* ec_node_reboot: a real restart; the cluster becomes available again at
 * the first PONG. */
void ec_node_reboot(int64_t id);
/* ec_node_delete: stops the server, takes the final snapshot first when
 * snap_id is not 0, then removes directory, address, tags and row. */
void ec_node_delete(int64_t id, int64_t snap_id);
/* ec_node_send: fire-and-forget command to a running node (a failure is
 * logged). */
void ec_node_send(struct ec_node *n, int argc, const char *const *argv);
/* ec_node_finish_delete: the node is stopped: removes it for good. */
void ec_node_finish_delete(int64_t id);

/* --- seal.c: auth tokens at rest --- */

/* ec_seal: token sealed under the ElastiCache key of data_dir, bound to
 * aad (ec_seal_aad); the blob is in arena a, *len its size. NULL when
 * master.key cannot be read (logged). */
void *ec_seal(struct arena *a, const char *data_dir, const char *aad, const char *token,
	      size_t *len);
/* ec_unseal: the token (arena, NUL-terminated) of a blob from ec_seal with
 * the same aad; NULL when it does not open. */
char *ec_unseal(struct arena *a, const char *data_dir, const char *aad, const void *blob, size_t n);
/* ec_seal_aad: the additional data binding a token to its cluster. */
char *ec_seal_aad(struct arena *a, const char *account, const char *region, const char *name);
/* ec_seal_reset: wipes the cached key (tests; a new data dir). */
void ec_seal_reset(void);
/* ec_seal_legacy: seals the plaintext tokens a version-1 store holds and
 * empties their columns (secure_delete on, so the old pages are zeroed).
 * At boot, before any node starts. */
void ec_seal_legacy(struct db *db, const char *data_dir);

/* --- tls.c --- */

struct redis_spec;
/* ec_tls_files: a TLS-enabled node's certificate (from the fogbank CA,
 * naming the node's address and its group's endpoint addresses), key and
 * CA file in its directory, issued when missing; sets the spec's tls_*
 * paths (arena). 0 or -1 (logged). */
int ec_tls_files(struct fogbank *fb, struct arena *a, const struct ec_cluster *cl,
		 const struct ec_rg *rg, struct redis_spec *spec);

/* --- live.c: changes applied to running servers --- */

/* ec_live_apply: CONFIG SETs the immediate parameters of cluster id's
 * group on its running server; the cluster leaves "modifying" when done. */
void ec_live_apply(int64_t id);

/* ec_live_params: applies group's immediate parameters (CONFIG SET) to
 * every running node using it; marks nodes pending-reboot when a changed
 * parameter needs a reboot (reboot_needed). */
void ec_live_params(struct db *db, const char *account, const char *region, const char *group,
		    int reboot_needed);
/* ec_live_auth: applies an auth token change to cluster id's server:
 * strategy "ROTATE" (both tokens valid), "SET", or "DELETE". */
void ec_live_auth(int64_t id, const char *strategy, const char *token);

/* --- failover.c --- */

/* ec_rg_node_down: the server of n (in a group) exited unexpectedly;
 * promotes a replica when n was the primary and automatic failover is on.
 * Returns 1 when it did. */
int ec_rg_node_down(struct ec_node *n);
/* ec_rg_promote: makes member cluster id the group's primary (manual
 * switchover or failover) and re-points the other members. */
void ec_rg_promote(int64_t rg_id, int64_t id);
/* ec_rg_finish_delete: removes group rg_id (row, endpoint addresses,
 * tags) when it is being deleted and has no member left. Inside the
 * caller's transaction. */
void ec_rg_finish_delete(struct db *db, struct arena *a, int64_t rg_id);
/* ec_rg_reconcile: moves the primary/reader endpoint addresses onto the
 * nodes that should hold them and updates group statuses. */
void ec_rg_reconcile(void);

/* --- autosnap.c: the timer and automated snapshots --- */

/* ec_tick_start: arms the elasticache timer (cluster roles every second,
 * the automated snapshot sweep every FOGBANK_ELASTICACHE_SWEEP_MS); reads
 * FOGBANK_ELASTICACHE_DAY_SECONDS. At boot, after ec_rt_attach. */
void ec_tick_start(void);
/* ec_tick_stop: cancels it (fogbank's exit, before loop_free). */
void ec_tick_stop(void);
/* ec_autosnap_due: 1 when the daily window (e.g. "06:30-07:30", UTC; its
 * start scaled to a day of day_len ms) opened after last_ms and by
 * now_ms (wall clock ms): an automated snapshot is due. */
int ec_autosnap_due(const char *window, int64_t last_ms, int64_t now_ms, int64_t day_len);
/* ec_autosnap_sweep: takes the automated snapshots due at now_ms (wall)
 * and prunes those beyond their retention limit. */
void ec_autosnap_sweep(int64_t now_ms);
/* ec_autosnap_drop: deletes the automated snapshots of cluster (outside a
 * group; rg NULL) or of group rg (cluster NULL), rows, tags and files,
 * inside the caller's transaction. */
void ec_autosnap_drop(struct db *db, struct arena *a, const char *account, const char *region,
		      const char *cluster, const char *rg);

/* --- cluster.c, cluster_roles.c: cluster mode at run time --- */

/* ec_cluster_kick: joins cluster-mode group rg_id's nodes into one Redis
 * Cluster when it is being created (or resharded) and every member
 * serves; the group becomes available once the cluster is ok. A join in
 * progress is left alone. */
void ec_cluster_kick(int64_t rg_id);
/* ec_cluster_tick: from the elasticache timer: retries joins that did not
 * finish, and follows Redis Cluster's own failovers (ROLE of every node). */
void ec_cluster_tick(void);
/* ec_cluster_failover: CLUSTER FAILOVER on a serving replica of shard of
 * group rg_id (TestFailover). 0, or -1 when the shard has none. */
int ec_cluster_failover(int64_t rg_id, int64_t shard);
/* ec_cluster_shutdown: frees the joins in progress (fogbank's exit). */
void ec_cluster_shutdown(void);

/* --- reshard.c: moving slots between shards --- */

/* ec_reshard_start: once group rg_id's cluster is joined while it is
 * modifying: moves every slot to the shard the stored layout gives it,
 * deletes the shards left without slots, and makes the group available.
 * A failure leaves it modifying; the tick tries again. */
void ec_reshard_start(int64_t rg_id);
/* ec_reshard_busy: 1 while group rg_id's slots are moving. */
int ec_reshard_busy(int64_t rg_id);
/* ec_reshard_request: notes that a reshard of group rg_id was asked for
 * (PendingModifiedValues shows it from then on until it is done). */
void ec_reshard_request(int64_t rg_id);
/* ec_reshard_progress: the percentage of slots moved (0 while new nodes
 * join), or -1 when group rg_id is not resharding. */
int ec_reshard_progress(int64_t rg_id);
/* ec_reshard_shutdown: frees the migrations in progress (fogbank's exit). */
void ec_reshard_shutdown(void);

/* --- snapjob.c --- */

/* ec_snapshot_run: BGSAVE on cluster id's server, then the durable copy
 * into snapshot snap_id's file; then deletes the cluster when
 * then_delete. */
void ec_snapshot_run(int64_t snap_id, int64_t id, int then_delete);
/* ec_snapshot_run_shards: the same for a cluster-mode group: one RDB per
 * shard from every shard's primary at once; available when all are.
 * With then_delete every member is deleted once it is. */
void ec_snapshot_run_shards(int64_t snap_id, int64_t rg_id, int then_delete);
/* ec_snapshot_files: the paths of snapshot snap_id's RDB file(s), a
 * NULL-terminated arena array; read it before the row goes (the shard rows
 * name the files), unlink after the commit (ec_unlink_all). */
const char **ec_snapshot_files(struct db *db, struct arena *a, const char *data_dir,
			       int64_t snap_id);
/* ec_unlink_all: unlinks every path of a NULL-terminated list. */
void ec_unlink_all(const char *const *paths);
/* ec_snapshots_interrupted: at boot, marks snapshots a crash interrupted
 * as failed (their files may be partial) and removes their files. */
void ec_snapshots_interrupted(struct db *db);
/* ec_snapshot_seed: puts snapshot snap_id's RDB (of shard, in a
 * cluster-mode snapshot; else 0) into a fresh node directory as the AOF
 * base, so the node starts with its data. 0 or -1. */
int ec_snapshot_seed(struct fogbank *fb, int64_t snap_id, int64_t shard, const char *node_dir);
#endif
