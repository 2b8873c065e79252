"""ElastiCache automated snapshots, end to end, with a 4-second "day"
(FOGBANK_ELASTICACHE_DAY_SECONDS=4, swept every 200 ms): a cluster and a
replication group with SnapshotRetentionLimit > 0 get daily snapshots
(SnapshotSource "automated") that really hold the data, the oldest go
beyond the limit, turning the limit to 0 drops them, and they are deleted
with their cluster while a final snapshot stays."""
import os
import subprocess
import time

import lib

os.environ["FOGBANK_ELASTICACHE_DAY_SECONDS"] = "4"
os.environ["FOGBANK_ELASTICACHE_SWEEP_MS"] = "200"

REDIS_CLI = "/usr/bin/redis-cli"
EC = "elasticache"


def rcli(*args):
    p = subprocess.run([REDIS_CLI, *[str(a) for a in args]], capture_output=True, text=True,
                       timeout=20)
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


def autos(fb, **kw):
    """The available automated snapshots (filtered like DescribeSnapshots)."""
    snaps = fb.client(EC).describe_snapshots(SnapshotSource="automated", **kw)["Snapshots"]
    return [s for s in snaps if s["SnapshotStatus"] == "available"]


def endpoint(fb, cid):
    c = fb.client(EC).describe_cache_clusters(CacheClusterId=cid, ShowCacheNodeInfo=True)
    cc = c["CacheClusters"][0]
    if cc["CacheClusterStatus"] != "available" or not cc.get("CacheNodes"):
        return None
    ep = cc["CacheNodes"][0]["Endpoint"]
    return ep["Address"], ep["Port"]


def test_daily_snapshot_holds_the_data(fb):
    c = fb.client(EC)
    cc = c.create_cache_cluster(CacheClusterId="daily", Engine="redis",
                                CacheNodeType="cache.t3.micro", SnapshotRetentionLimit=2,
                                SnapshotWindow="00:00-01:00")["CacheCluster"]
    assert cc["SnapshotRetentionLimit"] == 2 and cc["SnapshotWindow"] == "00:00-01:00"
    addr, port = until(lambda: endpoint(fb, "daily"), what="daily available")
    assert rcli("-h", addr, "-p", port, "set", "order:1", "paid") == "OK"
    snap = until(lambda: autos(fb, CacheClusterId="daily"), what="automated snapshot")[0]
    assert snap["SnapshotName"].startswith("automatic.daily-"), snap
    assert snap["SnapshotSource"] == "automated" and snap["CacheClusterId"] == "daily"
    c.create_cache_cluster(CacheClusterId="from-auto", Engine="redis",
                           CacheNodeType="cache.t3.micro", SnapshotName=snap["SnapshotName"])
    raddr, rport = until(lambda: endpoint(fb, "from-auto"), what="restored")
    assert rcli("-h", raddr, "-p", rport, "get", "order:1") == "paid"
    c.delete_cache_cluster(CacheClusterId="from-auto")


def test_retention_limit_prunes_the_oldest(fb):
    first = autos(fb, CacheClusterId="daily")[0]["SnapshotName"]
    seen = set()

    def rotated():
        names = [s["SnapshotName"] for s in autos(fb, CacheClusterId="daily")]
        seen.update(names)
        return len(seen) >= 3 and first not in names and len(names) == 2
    until(rotated, what="a third daily snapshot and the first pruned")
    # manual snapshots are never pruned
    c = fb.client(EC)
    c.create_snapshot(CacheClusterId="daily", SnapshotName="daily-manual")
    until(lambda: c.describe_snapshots(SnapshotName="daily-manual")["Snapshots"][0]
          ["SnapshotStatus"] == "available", what="manual snapshot")


def test_replication_group_snapshots(fb):
    c = fb.client(EC)
    c.create_replication_group(ReplicationGroupId="carts", ReplicationGroupDescription="carts",
                               CacheNodeType="cache.t3.micro", NumCacheClusters=2,
                               SnapshotRetentionLimit=1, SnapshotWindow="00:00-01:00")
    snap = until(lambda: autos(fb, ReplicationGroupId="carts"), what="group snapshot")[0]
    assert snap["ReplicationGroupId"] == "carts" and snap["SnapshotName"].startswith(
        "automatic.carts-")
    rg = c.describe_replication_groups(ReplicationGroupId="carts")["ReplicationGroups"][0]
    assert rg["SnapshotRetentionLimit"] == 1
    # a limit of 0 turns automated snapshots off, and drops those kept
    c.modify_replication_group(ReplicationGroupId="carts", SnapshotRetentionLimit=0,
                               ApplyImmediately=True)
    until(lambda: not autos(fb, ReplicationGroupId="carts"), what="group snapshots dropped")


def test_cluster_mode_group_snapshots_every_shard(fb):
    c = fb.client(EC)
    c.create_replication_group(ReplicationGroupId="sharded", ReplicationGroupDescription="x",
                               CacheNodeType="cache.t3.micro", NumNodeGroups=2,
                               ReplicasPerNodeGroup=0,
                               CacheParameterGroupName="default.redis7.cluster.on",
                               SnapshotRetentionLimit=1, SnapshotWindow="00:00-01:00")
    snap = until(lambda: autos(fb, ReplicationGroupId="sharded"), what="sharded snapshot")[0]
    assert snap["NumNodeGroups"] == 2 and len(snap["NodeSnapshots"]) == 2, snap
    c.delete_replication_group(ReplicationGroupId="sharded")
    until(lambda: not autos(fb, ReplicationGroupId="sharded")
          and not [g for g in c.describe_replication_groups()["ReplicationGroups"]
                   if g["ReplicationGroupId"] == "sharded"], what="sharded gone")


def test_deleted_with_their_cluster(fb):
    c = fb.client(EC)
    assert autos(fb, CacheClusterId="daily")
    c.delete_cache_cluster(CacheClusterId="daily", FinalSnapshotIdentifier="daily-final")
    until(lambda: lib.expect_error("CacheClusterNotFound", c.describe_cache_clusters,
                                   CacheClusterId="daily"), what="deleted")
    names = [s["SnapshotName"] for s in c.describe_snapshots()["Snapshots"]]
    assert not [n for n in names if n.startswith("automatic.daily-")], names
    assert "daily-final" in names and "daily-manual" in names, names
    files = os.listdir(os.path.join(fb.data_dir, "elasticache", "snapshots"))
    assert len(files) == len(c.describe_snapshots()["Snapshots"]), files
    c.delete_replication_group(ReplicationGroupId="carts")
    until(lambda: not c.describe_replication_groups()["ReplicationGroups"], what="carts gone")
    for n in ("daily-final", "daily-manual"):
        c.delete_snapshot(SnapshotName=n)


if __name__ == "__main__":
    lib.main(globals())
