"""ElastiCache (Redis) end to end: Debian's aws CLI v2 and boto3 drive
fogbank, Debian's redis-cli talks to the real redis-server nodes it
supervises. Covers the seeds' runbooks: create and `redis-cli ping`,
parameter groups applied live, reboot, snapshot and restore with the data,
replication with failover that keeps the primary endpoint, AUTH + TLS with
the fogbank CA, kill -9 of fogbank and back with the data."""
import os
import signal
import socket
import subprocess
import time

import lib

REDIS_CLI = "/usr/bin/redis-cli"
EC = "elasticache"


def rcli(*args, timeout=20):
    """redis-cli's stdout (stripped); stderr folded in."""
    p = subprocess.run([REDIS_CLI, *[str(a) for a in args]], capture_output=True, text=True,
                       timeout=timeout)
    return (p.stdout + p.stderr).strip()


def until(fn, timeout=20.0, what="condition"):
    """Polls fn (every 20 ms) until it returns a truthy value."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # not there yet
            last = e
        time.sleep(0.02)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def cluster(fb, cid):
    c = fb.client(EC).describe_cache_clusters(CacheClusterId=cid, ShowCacheNodeInfo=True)
    return c["CacheClusters"][0]


def wait_cluster(fb, cid, status="available"):
    return until(lambda: cluster(fb, cid)["CacheClusterStatus"] == status and cluster(fb, cid),
                 what="%s %s" % (cid, status))


def endpoint(fb, cid):
    ep = cluster(fb, cid)["CacheNodes"][0]["Endpoint"]
    return ep["Address"], ep["Port"]


def server_pid(addr, port, *extra):
    info = rcli("-h", addr, "-p", port, *extra, "info", "server")
    return int(info.split("process_id:")[1].split()[0])


def resp_ping(addr, port):
    """A raw PING over TCP: True on +PONG."""
    with socket.create_connection((addr, port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


def test_create_ping_set_get(fb):
    out = fb.aws(EC, "create-cache-cluster", "--cache-cluster-id", "Orders-Cache", "--engine",
                 "redis", "--cache-node-type", "cache.t4g.micro", "--num-cache-nodes", "1",
                 "--tags", "Key=team,Value=core")
    cc = out["CacheCluster"]
    assert cc["CacheClusterId"] == "orders-cache", cc
    assert cc["CacheClusterStatus"] == "creating"
    assert cc["CacheNodeType"] == "cache.t4g.micro" and cc["Engine"] == "redis"
    fb.aws(EC, "wait", "cache-cluster-available", "--cache-cluster-id", "orders-cache")
    addr, port = endpoint(fb, "orders-cache")
    assert addr.startswith("127.") and addr != "127.0.0.1" and port == 6379
    assert rcli("-h", addr, "-p", port, "ping") == "PONG"
    assert rcli("-h", addr, "-p", port, "set", "order:1", "paid") == "OK"
    assert rcli("-h", addr, "-p", port, "get", "order:1") == "paid"
    # it listens on its own loopback address only
    assert rcli("-h", addr, "-p", port, "config", "get", "bind").split()[-1] == addr
    tags = fb.aws(EC, "list-tags-for-resource", "--resource-name", cc["ARN"])["TagList"]
    assert tags == [{"Key": "team", "Value": "core"}]
    fb.aws(EC, "add-tags-to-resource", "--resource-name", cc["ARN"], "--tags", "Key=env,Value=dev")
    tags = fb.aws(EC, "remove-tags-from-resource", "--resource-name", cc["ARN"], "--tag-keys",
                  "team")["TagList"]
    assert tags == [{"Key": "env", "Value": "dev"}]


def test_errors(fb):
    c = fb.client(EC)
    lib.expect_error("CacheClusterAlreadyExists", c.create_cache_cluster,
                     CacheClusterId="orders-cache", Engine="redis", CacheNodeType="cache.t3.micro")
    lib.expect_error("CacheClusterNotFound", c.describe_cache_clusters, CacheClusterId="nope")
    lib.expect_error("InvalidParameterValue", c.create_cache_cluster, CacheClusterId="mc",
                     Engine="memcached", CacheNodeType="cache.t3.micro")
    lib.expect_error("InvalidParameterValue", c.create_cache_cluster, CacheClusterId="1bad",
                     Engine="redis", CacheNodeType="cache.t3.micro")
    lib.expect_error("InvalidParameterCombination", c.create_cache_cluster, CacheClusterId="x",
                     Engine="redis", CacheNodeType="cache.t3.micro",
                     AuthToken="a-token-of-16-chars-or-more")
    lib.expect_error("CacheParameterGroupNotFound", c.create_cache_cluster, CacheClusterId="x",
                     Engine="redis", CacheNodeType="cache.t3.micro", CacheParameterGroupName="nope")
    lib.expect_error("InvalidParameterValue", c.describe_cache_clusters, MaxRecords=5)
    lib.expect_error("InvalidARN", c.list_tags_for_resource, ResourceName="arn:aws:s3:::b")


def test_create_to_pong_and_idle_memory(fb):
    c = fb.client(EC)
    t0 = time.time()
    c.create_cache_cluster(CacheClusterId="bench", Engine="redis", CacheNodeType="cache.t3.micro")
    addr = None
    while addr is None:  # the address is in the answer to the first describe
        nodes = cluster(fb, "bench").get("CacheNodes", [])
        addr = nodes[0]["Endpoint"]["Address"] if nodes else None
    until(lambda: resp_ping(addr, 6379), what="first PONG")
    ms = (time.time() - t0) * 1000
    rss = 0
    with open("/proc/%d/status" % server_pid(addr, 6379)) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    print("  CreateCacheCluster -> first PONG: %.0f ms; idle node RSS: %d KiB" % (ms, rss))
    c.delete_cache_cluster(CacheClusterId="bench")


def test_parameter_group_live(fb):
    c = fb.client(EC)
    c.create_cache_parameter_group(CacheParameterGroupName="orders-params",
                                   CacheParameterGroupFamily="redis7", Description="orders")
    fb.aws(EC, "modify-cache-parameter-group", "--cache-parameter-group-name", "orders-params",
           "--parameter-name-values", "ParameterName=maxmemory-policy,ParameterValue=allkeys-lru")
    fb.aws(EC, "modify-cache-cluster", "--cache-cluster-id", "orders-cache",
           "--cache-parameter-group-name", "orders-params", "--apply-immediately")
    addr, port = endpoint(fb, "orders-cache")
    until(lambda: rcli("-h", addr, "-p", port, "config", "get", "maxmemory-policy").split()[-1]
          == "allkeys-lru", what="maxmemory-policy applied")
    # a change to the group reaches the node live
    c.modify_cache_parameter_group(CacheParameterGroupName="orders-params", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lfu"},
        {"ParameterName": "timeout", "ParameterValue": "300"}])
    until(lambda: rcli("-h", addr, "-p", port, "config", "get", "maxmemory-policy").split()[-1]
          == "allkeys-lfu", what="group change applied")
    assert rcli("-h", addr, "-p", port, "config", "get", "timeout").split()[-1] == "300"
    wait_cluster(fb, "orders-cache")
    user = c.describe_cache_parameters(CacheParameterGroupName="orders-params", Source="user")
    assert {p["ParameterName"] for p in user["Parameters"]} == {"maxmemory-policy", "timeout"}
    page = c.describe_cache_parameters(CacheParameterGroupName="default.redis7", MaxRecords=20)
    assert len(page["Parameters"]) == 20 and page.get("Marker")
    page2 = c.describe_cache_parameters(CacheParameterGroupName="default.redis7", MaxRecords=20,
                                        Marker=page["Marker"])
    assert page2["Parameters"][0]["ParameterName"] != page["Parameters"][0]["ParameterName"]
    lib.expect_error("InvalidParameterValue", c.modify_cache_parameter_group,
                     CacheParameterGroupName="orders-params", ParameterNameValues=[
                         {"ParameterName": "maxmemory-policy", "ParameterValue": "lru-please"}])
    lib.expect_error("InvalidParameterValue", c.modify_cache_parameter_group,
                     CacheParameterGroupName="default.redis7", ParameterNameValues=[
                         {"ParameterName": "timeout", "ParameterValue": "30"}])
    lib.expect_error("InvalidCacheParameterGroupState", c.delete_cache_parameter_group,
                     CacheParameterGroupName="orders-params")
    c.reset_cache_parameter_group(CacheParameterGroupName="orders-params",
                                  ResetAllParameters=True)
    until(lambda: rcli("-h", addr, "-p", port, "config", "get", "maxmemory-policy").split()[-1]
          == "volatile-lru", what="reset applied")


def test_subnet_groups(fb):
    c = fb.client(EC)
    g = c.create_cache_subnet_group(CacheSubnetGroupName="orders-subnets",
                                    CacheSubnetGroupDescription="private",
                                    SubnetIds=["subnet-aaa", "subnet-bbb"])["CacheSubnetGroup"]
    assert [s["SubnetIdentifier"] for s in g["Subnets"]] == ["subnet-aaa", "subnet-bbb"]
    g = c.modify_cache_subnet_group(CacheSubnetGroupName="orders-subnets",
                                    SubnetIds=["subnet-ccc"])["CacheSubnetGroup"]
    assert [s["SubnetIdentifier"] for s in g["Subnets"]] == ["subnet-ccc"]
    got = c.describe_cache_subnet_groups(CacheSubnetGroupName="orders-subnets")
    assert got["CacheSubnetGroups"][0]["VpcId"] == g["VpcId"]
    lib.expect_error("CacheSubnetGroupAlreadyExists", c.create_cache_subnet_group,
                     CacheSubnetGroupName="orders-subnets", CacheSubnetGroupDescription="x",
                     SubnetIds=["subnet-aaa"])
    c.delete_cache_subnet_group(CacheSubnetGroupName="orders-subnets")
    lib.expect_error("CacheSubnetGroupNotFoundFault", c.describe_cache_subnet_groups,
                     CacheSubnetGroupName="orders-subnets")


def test_reboot_is_a_real_restart(fb):
    addr, port = endpoint(fb, "orders-cache")
    before = server_pid(addr, port)
    out = fb.aws(EC, "reboot-cache-cluster", "--cache-cluster-id", "orders-cache",
                 "--cache-node-ids-to-reboot", "0001")
    assert out["CacheCluster"]["CacheClusterStatus"] == "rebooting cache cluster nodes"
    wait_cluster(fb, "orders-cache")
    assert server_pid(addr, port) != before
    assert rcli("-h", addr, "-p", port, "get", "order:1") == "paid"


def test_snapshot_and_restore(fb):
    addr, port = endpoint(fb, "orders-cache")
    rcli("-h", addr, "-p", port, "set", "order:2", "shipped")
    c = fb.client(EC)
    snap = c.create_snapshot(CacheClusterId="orders-cache", SnapshotName="orders-snap")["Snapshot"]
    assert snap["SnapshotStatus"] == "creating"
    until(lambda: c.describe_snapshots(SnapshotName="orders-snap")["Snapshots"][0]
          ["SnapshotStatus"] == "available", what="snapshot available")
    rcli("-h", addr, "-p", port, "set", "order:3", "after-the-snapshot")
    wait_cluster(fb, "orders-cache")
    fb.aws(EC, "create-cache-cluster", "--cache-cluster-id", "orders-restored", "--engine", "redis",
           "--cache-node-type", "cache.t4g.micro", "--snapshot-name", "orders-snap")
    wait_cluster(fb, "orders-restored")
    raddr, rport = endpoint(fb, "orders-restored")
    assert rcli("-h", raddr, "-p", rport, "get", "order:1") == "paid"
    assert rcli("-h", raddr, "-p", rport, "get", "order:2") == "shipped"
    assert rcli("-h", raddr, "-p", rport, "get", "order:3") == ""
    listed = c.describe_snapshots(CacheClusterId="orders-cache")["Snapshots"]
    assert [s["SnapshotName"] for s in listed] == ["orders-snap"]
    lib.expect_error("SnapshotAlreadyExistsFault", c.create_snapshot,
                     CacheClusterId="orders-cache", SnapshotName="orders-snap")
    # delete with a final snapshot: the data is kept, the node is gone
    c.delete_cache_cluster(CacheClusterId="orders-restored",
                           FinalSnapshotIdentifier="orders-restored-final")
    until(lambda: lib.expect_error("CacheClusterNotFound", c.describe_cache_clusters,
                                   CacheClusterId="orders-restored"), what="deleted")
    final = c.describe_snapshots(SnapshotName="orders-restored-final")["Snapshots"][0]
    assert final["SnapshotStatus"] == "available"
    until(lambda: "refused" in rcli("-h", raddr, "-p", rport, "ping").lower(),
          what="node stopped")
    c.delete_snapshot(SnapshotName="orders-restored-final")
    lib.expect_error("SnapshotNotFoundFault", c.describe_snapshots,
                     SnapshotName="orders-restored-final")


def primary_of(fb, rgid):
    rg = fb.client(EC).describe_replication_groups(ReplicationGroupId=rgid)["ReplicationGroups"][0]
    ng = rg["NodeGroups"][0]
    prim = [m for m in ng["NodeGroupMembers"] if m["CurrentRole"] == "primary"]
    return rg, ng, prim[0] if prim else None


def test_replication_group_and_failover(fb):
    out = fb.aws(EC, "create-replication-group", "--replication-group-id", "sessions",
                 "--replication-group-description", "sessions", "--engine", "redis",
                 "--cache-node-type", "cache.t4g.micro", "--num-cache-clusters", "3",
                 "--automatic-failover-enabled")
    rg = out["ReplicationGroup"]
    assert rg["MemberClusters"] == ["sessions-001", "sessions-002", "sessions-003"]
    assert rg["AutomaticFailover"] == "enabled"
    until(lambda: primary_of(fb, "sessions")[0]["Status"] == "available", what="group available")
    rg, ng, prim = primary_of(fb, "sessions")
    pe, re_ = ng["PrimaryEndpoint"], ng["ReaderEndpoint"]
    assert prim["CacheClusterId"] == "sessions-001"
    assert rcli("-h", pe["Address"], "-p", pe["Port"], "set", "session:1", "alice") == "OK"
    replica = [m for m in ng["NodeGroupMembers"] if m["CurrentRole"] == "replica"][0]
    ra = replica["ReadEndpoint"]
    until(lambda: rcli("-h", ra["Address"], "-p", ra["Port"], "get", "session:1") == "alice",
          what="replicated")
    assert "READONLY" in rcli("-h", ra["Address"], "-p", ra["Port"], "set", "x", "1")
    until(lambda: rcli("-h", re_["Address"], "-p", re_["Port"], "get", "session:1") == "alice",
          what="reader endpoint")
    # the primary dies: a replica is promoted and the primary endpoint follows it
    os.kill(server_pid(pe["Address"], pe["Port"]), signal.SIGKILL)
    until(lambda: rcli("-h", pe["Address"], "-p", pe["Port"], "set", "session:2", "bob") == "OK",
          what="primary endpoint answers writes")
    assert rcli("-h", pe["Address"], "-p", pe["Port"], "get", "session:1") == "alice"
    rg, ng, prim = until(lambda: (lambda r: r if r[2] and r[2]["CacheClusterId"] != "sessions-001"
                                  else None)(primary_of(fb, "sessions")), what="new primary")
    # the old primary comes back as a replica of the new one
    until(lambda: primary_of(fb, "sessions")[0]["Status"] == "available"
          and cluster(fb, "sessions-001")["CacheClusterStatus"] == "available", what="recovered")
    old = cluster(fb, "sessions-001")["CacheNodes"][0]["Endpoint"]
    until(lambda: rcli("-h", old["Address"], "-p", old["Port"], "get", "session:2") == "bob",
          what="old primary resynced")
    events = fb.client(EC).describe_events(SourceType="replication-group")["Events"]
    assert any("Failover" in e["Message"] for e in events), events


def test_auth_and_tls(fb):
    c = fb.client(EC)
    token = "s3cret-token-0123456789"
    c.create_cache_cluster(CacheClusterId="secure", Engine="redis", CacheNodeType="cache.t3.micro",
                           TransitEncryptionEnabled=True, AuthToken=token)
    cc = wait_cluster(fb, "secure")
    assert cc["TransitEncryptionEnabled"] and cc["AuthTokenEnabled"]
    addr, port = endpoint(fb, "secure")
    ca = os.path.join(fb.data_dir, "ca", "ca.pem")
    tls = ["--tls", "--cacert", ca, "-h", addr, "-p", port]
    assert "NOAUTH" in rcli(*tls, "ping")
    assert rcli(*tls, "--no-auth-warning", "-a", token, "ping") == "PONG"
    assert rcli("-h", addr, "-p", port, "-a", token, "--no-auth-warning", "ping") != "PONG"
    new = "rotated-token-9876543210"
    c.modify_cache_cluster(CacheClusterId="secure", AuthToken=new,
                           AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True)
    until(lambda: rcli(*tls, "--no-auth-warning", "-a", new, "ping") == "PONG", what="rotated")
    assert rcli(*tls, "--no-auth-warning", "-a", token, "ping") == "PONG"
    wait_cluster(fb, "secure")
    c.modify_cache_cluster(CacheClusterId="secure", AuthToken=new,
                           AuthTokenUpdateStrategy="SET", ApplyImmediately=True)
    until(lambda: rcli(*tls, "--no-auth-warning", "-a", token, "ping") != "PONG", what="old gone")
    assert rcli(*tls, "--no-auth-warning", "-a", new, "ping") == "PONG"
    wait_cluster(fb, "secure")
    # a group replicates over TLS, AUTHed, through its primary endpoint
    c.create_replication_group(ReplicationGroupId="secure-rg", ReplicationGroupDescription="tls",
                               CacheNodeType="cache.t3.micro", NumCacheClusters=2,
                               TransitEncryptionEnabled=True, AtRestEncryptionEnabled=True,
                               AuthToken=token)
    until(lambda: primary_of(fb, "secure-rg")[0]["Status"] == "available", what="tls group")
    rg, ng, prim = primary_of(fb, "secure-rg")
    assert rg["AtRestEncryptionEnabled"] and rg["TransitEncryptionEnabled"]
    pe = ng["PrimaryEndpoint"]
    auth = ["--no-auth-warning", "-a", token]
    assert rcli("--tls", "--cacert", ca, "-h", pe["Address"], "-p", pe["Port"], *auth, "set",
                "t", "1") == "OK"
    ra = [m for m in ng["NodeGroupMembers"] if m["CurrentRole"] == "replica"][0]["ReadEndpoint"]
    until(lambda: rcli("--tls", "--cacert", ca, "-h", ra["Address"], "-p", ra["Port"], *auth,
                       "get", "t") == "1", what="replicated over TLS")


def files_holding(root, needle):
    """Every file under root whose bytes contain needle (sockets skipped)."""
    hits = []
    for d, _dirs, files in os.walk(root):
        for f in files:
            try:
                with open(os.path.join(d, f), "rb") as fh:
                    if needle.encode() in fh.read():
                        hits.append(os.path.join(d, f))
            except OSError:
                pass
    return hits


def test_auth_tokens_never_on_disk(fb):
    # sealed in state.db, handed to redis-server through a pipe: no file
    # of the data dir (state.db, its WAL, redis.conf, AOF) holds a token
    for token in ("s3cret-token-0123456789", "rotated-token-9876543210"):
        assert files_holding(fb.data_dir, token) == [], token
    conf = open(os.path.join(fb.data_dir, "elasticache", "nodes",
                             os.listdir(os.path.join(fb.data_dir, "elasticache", "nodes"))[0],
                             "redis.conf")).read()
    assert "masterauth" not in conf and "user default" not in conf
    # the node still AUTHs after a restart: the token comes back from the seal
    c = fb.client(EC)
    c.reboot_cache_cluster(CacheClusterId="secure", CacheNodeIdsToReboot=["0001"])
    wait_cluster(fb, "secure")
    addr, port = endpoint(fb, "secure")
    ca = os.path.join(fb.data_dir, "ca", "ca.pem")
    assert rcli("--tls", "--cacert", ca, "-h", addr, "-p", port, "--no-auth-warning", "-a",
                "rotated-token-9876543210", "ping") == "PONG"
    with open("/proc/%d/cmdline" % server_pid(addr, port, "--tls", "--cacert", ca,
                                                 "--no-auth-warning", "-a",
                                                 "rotated-token-9876543210"), "rb") as f:
        assert b"rotated-token" not in f.read()


def test_kill9_and_restart_keeps_data(fb):
    addr, port = endpoint(fb, "orders-cache")
    rcli("-h", addr, "-p", port, "set", "order:4", "durable")
    pids = [server_pid(addr, port)]
    pe = primary_of(fb, "sessions")[1]["PrimaryEndpoint"]
    pids.append(server_pid(pe["Address"], pe["Port"]))
    fb.restart(kill=True)

    def gone(pid):
        try:
            os.kill(pid, 0)
            return False
        except ProcessLookupError:
            return True
    until(lambda: all(gone(p) for p in pids), timeout=5, what="servers gone with fogbank")
    wait_cluster(fb, "orders-cache")
    assert rcli("-h", addr, "-p", port, "get", "order:4") == "durable"
    assert rcli("-h", addr, "-p", port, "get", "order:1") == "paid"
    until(lambda: rcli("-h", pe["Address"], "-p", pe["Port"], "get", "session:2") == "bob",
          what="group back")


def test_delete_everything(fb):
    c = fb.client(EC)
    rg = c.delete_replication_group(ReplicationGroupId="sessions")["ReplicationGroup"]
    assert rg["Status"] == "deleting"
    c.delete_replication_group(ReplicationGroupId="secure-rg")
    for cid in ("orders-cache", "secure"):
        c.delete_cache_cluster(CacheClusterId=cid)
    until(lambda: not c.describe_cache_clusters()["CacheClusters"]
          and not c.describe_replication_groups()["ReplicationGroups"], what="all deleted")
    c.delete_cache_parameter_group(CacheParameterGroupName="orders-params")
    c.delete_snapshot(SnapshotName="orders-snap")


if __name__ == "__main__":
    lib.main(globals())
