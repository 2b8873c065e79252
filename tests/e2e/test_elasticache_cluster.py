"""ElastiCache cluster mode enabled, end to end: boto3 and the aws CLI
create replication groups with several shards (NumNodeGroups,
ReplicasPerNodeGroup, NodeGroupConfiguration with Slots); fogbank joins
real cluster-enabled redis-servers into one Redis Cluster, and `redis-cli
-c` against the ConfigurationEndpoint writes and reads keys that land on
different shards. Covers TestFailover (a real CLUSTER FAILOVER), per-shard
snapshots restored into a new group, AUTH + TLS, a killed node, a kill -9
of fogbank, and deletion."""
import os
import signal
import subprocess
import time

import lib

REDIS_CLI = "/usr/bin/redis-cli"
EC = "elasticache"
KEYS = ["user:%d" % i for i in range(60)]


def rcli(*args, timeout=20):
    """redis-cli's stdout (stripped); stderr folded in."""
    p = subprocess.run([REDIS_CLI, *[str(a) for a in args]], capture_output=True, text=True,
                       timeout=timeout)
    return (p.stdout + p.stderr).strip()


def until(fn, timeout=60.0, what="condition"):
    """Polls fn (every 50 ms) until it returns a truthy value."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # not there yet
            last = e
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def group(fb, rgid):
    return fb.client(EC).describe_replication_groups(ReplicationGroupId=rgid)["ReplicationGroups"][0]


def wait_group(fb, rgid):
    return until(lambda: (lambda g: g if g["Status"] == "available" else None)(group(fb, rgid)),
                 what="group %s available" % rgid)


def node_addr(fb, cid):
    c = fb.client(EC).describe_cache_clusters(CacheClusterId=cid, ShowCacheNodeInfo=True)
    ep = c["CacheClusters"][0]["CacheNodes"][0]["Endpoint"]
    return ep["Address"], ep["Port"]


def cfg(fb, rgid):
    ep = group(fb, rgid)["ConfigurationEndpoint"]
    return ep["Address"], ep["Port"]


def cluster_nodes(addr, port, *extra):
    """CLUSTER NODES as dicts: id, addr, flags, slots."""
    out = []
    for line in rcli("-h", addr, "-p", port, *extra, "cluster", "nodes").splitlines():
        f = line.split()
        if len(f) >= 8:
            out.append({"id": f[0], "addr": f[1].split(":")[0], "flags": f[2], "master": f[3],
                        "slots": f[8:]})
    return out


def test_cluster_mode_create(fb):
    c = fb.client(EC)
    rg = c.create_replication_group(
        ReplicationGroupId="Shop", ReplicationGroupDescription="shop sessions",
        CacheNodeType="cache.t4g.micro", Engine="redis",
        CacheParameterGroupName="default.redis7.cluster.on", NumNodeGroups=3,
        ReplicasPerNodeGroup=1, Tags=[{"Key": "team", "Value": "shop"}])["ReplicationGroup"]
    assert rg["Status"] == "creating" and rg["ClusterEnabled"] is True, rg
    assert rg["MemberClusters"] == ["shop-%04d-%03d" % (s, m) for s in (1, 2, 3) for m in (1, 2)]
    assert rg["AutomaticFailover"] == "enabled"
    rg = wait_group(fb, "shop")
    assert [g["NodeGroupId"] for g in rg["NodeGroups"]] == ["0001", "0002", "0003"]
    assert [g["Slots"] for g in rg["NodeGroups"]] == ["0-5460", "5461-10921", "10922-16383"]
    assert all(len(g["NodeGroupMembers"]) == 2 for g in rg["NodeGroups"])
    addr, port = cfg(fb, "shop")
    assert addr.startswith("127.") and port == 6379
    info = rcli("-h", addr, "-p", port, "cluster", "info")
    assert "cluster_state:ok" in info and "cluster_size:3" in info, info
    assert "cluster_known_nodes:6" in info, info
    nodes = cluster_nodes(addr, port)
    masters = [n for n in nodes if "master" in n["flags"]]
    assert len(masters) == 3 and all(n["slots"] for n in masters), nodes
    # every replica follows its own shard's primary
    for shard in (1, 2, 3):
        p_addr = node_addr(fb, "shop-%04d-001" % shard)[0]
        r_addr = node_addr(fb, "shop-%04d-002" % shard)[0]
        p_id = [n["id"] for n in nodes if n["addr"] == p_addr][0]
        assert [n["master"] for n in nodes if n["addr"] == r_addr] == [p_id], nodes
    cc = c.describe_cache_clusters(CacheClusterId="shop-0002-002")["CacheClusters"][0]
    assert cc["ReplicationGroupId"] == "shop" and cc["CacheClusterStatus"] == "available"


def test_keys_across_shards_through_configuration_endpoint(fb):
    addr, port = cfg(fb, "shop")
    for k in KEYS:
        assert rcli("-c", "-h", addr, "-p", port, "set", k, "v-" + k) == "OK"
    for k in KEYS:
        assert rcli("-c", "-h", addr, "-p", port, "get", k) == "v-" + k
    # the keys really live on three different primaries
    sizes = []
    for shard in (1, 2, 3):
        a, p = node_addr(fb, "shop-%04d-001" % shard)
        sizes.append(int(rcli("-h", a, "-p", p, "dbsize")))
    assert sum(sizes) == len(KEYS) and all(s > 0 for s in sizes), sizes
    # a MOVED redirect names a node's own address, never the endpoint's
    a1, p1 = node_addr(fb, "shop-0001-001")
    nodes = {node_addr(fb, "shop-%04d-%03d" % (s, m))[0] for s in (1, 2, 3) for m in (1, 2)}
    moved = [r for r in (rcli("-h", a1, "-p", p1, "get", k) for k in KEYS) if "MOVED" in r]
    assert moved, "every key on shard 1?"
    for r in moved:
        assert r.split()[-1].split(":")[0] in nodes and addr not in r, r
    # replicas hold their shard's keys
    ra, rp = node_addr(fb, "shop-0002-002")
    pa, pp = node_addr(fb, "shop-0002-001")
    n = int(rcli("-h", pa, "-p", pp, "dbsize"))
    until(lambda: int(rcli("-h", ra, "-p", rp, "dbsize")) == n, what="replica synced")


def test_cli_describe_and_errors(fb):
    out = fb.aws(EC, "describe-replication-groups", "--replication-group-id", "shop")
    rg = out["ReplicationGroups"][0]
    assert rg["ConfigurationEndpoint"]["Port"] == 6379 and rg["ClusterEnabled"] is True
    c = fb.client(EC)
    lib.expect_error("InvalidParameterCombination", c.create_replication_group,
                     ReplicationGroupId="bad1", ReplicationGroupDescription="x",
                     CacheNodeType="cache.t3.micro", NumNodeGroups=2)
    lib.expect_error("InvalidParameterCombination", c.create_cache_cluster,
                     CacheClusterId="bad2", Engine="redis", CacheNodeType="cache.t3.micro",
                     CacheParameterGroupName="default.redis7.cluster.on")
    lib.expect_error("InvalidParameterValue", c.create_replication_group,
                     ReplicationGroupId="bad3", ReplicationGroupDescription="x",
                     CacheNodeType="cache.t3.micro",
                     CacheParameterGroupName="default.redis7.cluster.on", NumNodeGroups=2,
                     NodeGroupConfiguration=[{"Slots": "0-8000"}, {"Slots": "8000-16383"}])
    lib.expect_error("InvalidParameterCombination", c.create_replication_group,
                     ReplicationGroupId="bad4", ReplicationGroupDescription="x",
                     CacheNodeType="cache.t3.micro",
                     CacheParameterGroupName="default.redis7.cluster.on", NumNodeGroups=2,
                     AutomaticFailoverEnabled=False)
    lib.expect_error("InvalidParameterCombination", c.create_cache_cluster,
                     CacheClusterId="bad5", ReplicationGroupId="shop",
                     CacheNodeType="cache.t3.micro")
    groups = c.describe_cache_parameter_groups()["CacheParameterGroups"]
    assert "default.redis7.cluster.on" in [g["CacheParameterGroupName"] for g in groups]
    params = c.describe_cache_parameters(CacheParameterGroupName="default.redis7.cluster.on")
    ce = [p for p in params["Parameters"] if p["ParameterName"] == "cluster-enabled"]
    assert ce[0]["ParameterValue"] == "yes"


def test_custom_slots(fb):
    c = fb.client(EC)
    c.create_cache_parameter_group(CacheParameterGroupName="cm-params",
                                   CacheParameterGroupFamily="redis7", Description="cluster")
    c.modify_cache_parameter_group(CacheParameterGroupName="cm-params", ParameterNameValues=[
        {"ParameterName": "cluster-enabled", "ParameterValue": "yes"}])
    c.create_replication_group(
        ReplicationGroupId="lopsided", ReplicationGroupDescription="x",
        CacheNodeType="cache.t3.micro", CacheParameterGroupName="cm-params",
        NodeGroupConfiguration=[{"NodeGroupId": "0001", "Slots": "0-999", "ReplicaCount": 0},
                                {"NodeGroupId": "0002", "Slots": "1000-16383",
                                 "ReplicaCount": 0}])
    rg = wait_group(fb, "lopsided")
    assert [g["Slots"] for g in rg["NodeGroups"]] == ["0-999", "1000-16383"]
    a, p = node_addr(fb, "lopsided-0001-001")
    slots = rcli("-h", a, "-p", p, "cluster", "countkeysinslot", "0")
    assert slots == "0", slots
    mine = [n for n in cluster_nodes(a, p) if "myself" in n["flags"]][0]
    assert mine["slots"] == ["0-999"], mine


def test_test_failover_promotes_replica(fb):
    c = fb.client(EC)
    a, p = node_addr(fb, "shop-0002-002")
    c.test_failover(ReplicationGroupId="shop", NodeGroupId="0002")
    until(lambda: "role:master" in rcli("-h", a, "-p", p, "info", "replication"),
          what="replica promoted")
    addr, port = cfg(fb, "shop")
    for k in KEYS:
        assert rcli("-c", "-h", addr, "-p", port, "get", k) == "v-" + k
    assert rcli("-c", "-h", addr, "-p", port, "set", "after:failover", "1") == "OK"
    events = until(lambda: [e for e in c.describe_events(SourceType="replication-group")["Events"]
                            if "Failover to replica node shop-0002-002" in e["Message"]],
                   what="failover event")
    assert events
    lib.expect_error("NodeGroupNotFoundFault", c.test_failover, ReplicationGroupId="shop",
                     NodeGroupId="0009")


def test_snapshot_and_restore_per_shard(fb):
    c = fb.client(EC)
    snap = c.create_snapshot(ReplicationGroupId="shop", SnapshotName="shop-snap")["Snapshot"]
    assert snap["SnapshotStatus"] == "creating"
    done = until(lambda: (lambda s: s if s["SnapshotStatus"] == "available" else None)(
        c.describe_snapshots(SnapshotName="shop-snap")["Snapshots"][0]), what="snapshot")
    assert done["NumNodeGroups"] == 3, done
    assert [n["NodeGroupConfiguration"]["Slots"] for n in done["NodeSnapshots"]] == \
        ["0-5460", "5461-10921", "10922-16383"]
    addr, port = cfg(fb, "shop")
    rcli("-c", "-h", addr, "-p", port, "set", "after:snapshot", "x")
    c.create_replication_group(
        ReplicationGroupId="shop-restored", ReplicationGroupDescription="restored",
        CacheNodeType="cache.t4g.micro", CacheParameterGroupName="default.redis7.cluster.on",
        NumNodeGroups=3, ReplicasPerNodeGroup=0, SnapshotName="shop-snap")
    wait_group(fb, "shop-restored")
    raddr, rport = cfg(fb, "shop-restored")
    for k in KEYS:
        assert rcli("-c", "-h", raddr, "-p", rport, "get", k) == "v-" + k
    assert rcli("-c", "-h", raddr, "-p", rport, "get", "after:failover") == "1"
    assert rcli("-c", "-h", raddr, "-p", rport, "get", "after:snapshot") == ""
    assert "cluster_state:ok" in rcli("-h", raddr, "-p", rport, "cluster", "info")
    lib.expect_error("InvalidParameterValue", c.create_replication_group,
                     ReplicationGroupId="shop-wrong", ReplicationGroupDescription="x",
                     CacheNodeType="cache.t4g.micro",
                     CacheParameterGroupName="default.redis7.cluster.on", NumNodeGroups=2,
                     SnapshotName="shop-snap")


def test_auth_and_tls_cluster(fb):
    c = fb.client(EC)
    token = "cluster-token-0123456789"
    c.create_replication_group(
        ReplicationGroupId="vault", ReplicationGroupDescription="tls",
        CacheNodeType="cache.t3.micro", CacheParameterGroupName="default.redis7.cluster.on",
        NumNodeGroups=2, ReplicasPerNodeGroup=1, TransitEncryptionEnabled=True,
        AuthToken=token)
    rg = wait_group(fb, "vault")
    assert rg["AuthTokenEnabled"] and rg["TransitEncryptionEnabled"]
    addr, port = cfg(fb, "vault")
    ca = os.path.join(fb.data_dir, "ca", "ca.pem")
    tls = ["--tls", "--cacert", ca, "-h", addr, "-p", port]
    assert "NOAUTH" in rcli(*tls, "get", "x")
    auth = ["--no-auth-warning", "-a", token, "-c"]
    for k in KEYS[:20]:
        assert rcli(*tls, *auth, "set", k, "t") == "OK"
    for k in KEYS[:20]:
        assert rcli(*tls, *auth, "get", k) == "t"
    # the token is on no disk: not in the store, its WAL, or any node's files
    hits = []
    for root, _dirs, files in os.walk(fb.data_dir):
        for f in files:
            path = os.path.join(root, f)
            try:
                with open(path, "rb") as fh:
                    if token.encode() in fh.read():
                        hits.append(path)
            except OSError:  # sockets
                pass
    assert hits == [], hits


def all_keys_readable(fb, rgid):
    addr, port = cfg(fb, rgid)
    return all(rcli("-c", "-h", addr, "-p", port, "get", k) == "v-" + k for k in KEYS)


def test_reshard_out_and_in(fb):
    c = fb.client(EC)
    rg = c.modify_replication_group_shard_configuration(
        ReplicationGroupId="shop", NodeGroupCount=4, ApplyImmediately=True)["ReplicationGroup"]
    assert rg["Status"] == "modifying", rg
    assert "SlotMigration" in rg["PendingModifiedValues"]["Resharding"], rg
    rg = wait_group(fb, "shop")
    assert [g["NodeGroupId"] for g in rg["NodeGroups"]] == ["0001", "0002", "0003", "0004"]
    assert [g["Slots"] for g in rg["NodeGroups"]] == [
        "0-4095", "4096-8191", "8192-12287", "12288-16383"]
    assert "shop-0004-002" in rg["MemberClusters"]
    addr, port = cfg(fb, "shop")
    assert "cluster_size:4" in rcli("-h", addr, "-p", port, "cluster", "info")
    assert all_keys_readable(fb, "shop")
    a4, p4 = node_addr(fb, "shop-0004-001")
    assert int(rcli("-h", a4, "-p", p4, "dbsize")) > 0  # keys really moved there
    mine = [n for n in cluster_nodes(a4, p4) if "myself" in n["flags"]][0]
    assert mine["slots"] == ["12288-16383"], mine
    # and back in: two shards go, their keys move to the two that stay
    lib.expect_error("InvalidParameterValue", c.modify_replication_group_shard_configuration,
                     ReplicationGroupId="shop", NodeGroupCount=2, ApplyImmediately=True)
    lib.expect_error("InvalidParameterValue", c.modify_replication_group_shard_configuration,
                     ReplicationGroupId="shop", NodeGroupCount=5, ApplyImmediately=False)
    c.modify_replication_group_shard_configuration(
        ReplicationGroupId="shop", NodeGroupCount=2, ApplyImmediately=True,
        NodeGroupsToRemove=["0001", "0003"])
    rg = until(lambda: (lambda g: g if g["Status"] == "available" and len(
        g["MemberClusters"]) == 4 else None)(group(fb, "shop")), what="shrunk")
    assert [g["NodeGroupId"] for g in rg["NodeGroups"]] == ["0002", "0004"]
    assert [g["Slots"] for g in rg["NodeGroups"]] == ["0-8191", "8192-16383"]
    info = rcli("-h", addr, "-p", port, "cluster", "info")
    assert "cluster_size:2" in info and "cluster_known_nodes:4" in info, info
    assert all_keys_readable(fb, "shop")
    assert rcli("-c", "-h", addr, "-p", port, "get", "after:failover") == "1"


def test_killed_node_rejoins(fb):
    a, p = node_addr(fb, "shop-0004-001")
    pid = int(rcli("-h", a, "-p", p, "info", "server").split("process_id:")[1].split()[0])
    os.kill(pid, signal.SIGKILL)
    until(lambda: "cluster_state:ok" in rcli("-h", a, "-p", p, "cluster", "info"),
          what="node back in the cluster")
    addr, port = cfg(fb, "shop")
    until(lambda: all(rcli("-c", "-h", addr, "-p", port, "get", k) == "v-" + k for k in KEYS),
          what="every key readable")


def test_restart_keeps_cluster(fb):
    addr, port = cfg(fb, "shop")
    rcli("-c", "-h", addr, "-p", port, "set", "before:restart", "kept")
    fb.restart()
    # available again only once every node is back and agrees on the cluster
    wait_group(fb, "shop")
    assert "cluster_state:ok" in rcli("-h", addr, "-p", port, "cluster", "info")
    assert rcli("-c", "-h", addr, "-p", port, "get", "before:restart") == "kept"
    for k in KEYS:
        assert rcli("-c", "-h", addr, "-p", port, "get", k) == "v-" + k


def test_node_level_calls_refused(fb):
    c = fb.client(EC)
    lib.expect_error("InvalidParameterCombination", c.delete_cache_cluster,
                     CacheClusterId="lopsided-0002-001")
    lib.expect_error("InvalidParameterCombination", c.create_snapshot,
                     CacheClusterId="lopsided-0002-001", SnapshotName="nope")
    lib.expect_error("InvalidParameterCombination", c.modify_replication_group,
                     ReplicationGroupId="lopsided", PrimaryClusterId="lopsided-0002-001")
    lib.expect_error("InvalidParameterCombination", c.modify_replication_group,
                     ReplicationGroupId="lopsided", CacheParameterGroupName="default.redis7",
                     ApplyImmediately=True)


def test_delete_groups(fb):
    c = fb.client(EC)
    # a final snapshot of a cluster-mode group saves every shard first
    c.delete_replication_group(ReplicationGroupId="lopsided",
                               FinalSnapshotIdentifier="lopsided-final")
    for rg in ("shop", "shop-restored", "vault"):
        c.delete_replication_group(ReplicationGroupId=rg)
    until(lambda: not c.describe_replication_groups()["ReplicationGroups"]
          and not c.describe_cache_clusters()["CacheClusters"], what="all deleted")
    final = c.describe_snapshots(SnapshotName="lopsided-final")["Snapshots"][0]
    assert final["SnapshotStatus"] == "available" and final["NumNodeGroups"] == 2, final
    assert [n["NodeGroupConfiguration"]["Slots"] for n in final["NodeSnapshots"]] == \
        ["0-999", "1000-16383"]
    c.delete_snapshot(SnapshotName="lopsided-final")
    c.delete_snapshot(SnapshotName="shop-snap")
    assert os.listdir(os.path.join(fb.data_dir, "elasticache", "snapshots")) == []
    c.delete_cache_parameter_group(CacheParameterGroupName="cm-params")


if __name__ == "__main__":
    lib.main(globals())
