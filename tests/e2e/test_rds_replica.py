#!/usr/bin/python3
"""test_rds_replica.py - RDS read replicas and Multi-AZ, end to end with
Debian's aws CLI v2 / boto3 and the real psql: a replica is a real hot
standby streaming from its source (rows written on the source show up on
it; writes fail with PostgreSQL's own read-only error), it survives a
restart of fogbank, PromoteReadReplica makes it writable, deleting a
source promotes its replicas; a Multi-AZ instance keeps every committed
row across reboot --force-failover and across the death of its primary,
on the same endpoint, comes back with its standby after a restart, and a
replica of it follows it across a failover.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import test_rds as base  # noqa: E402
from lib import expect_error  # noqa: E402

psql, rds, create, wait_status = base.psql, base.rds, base.create, base.wait_status


def wait_until(what, fn, timeout=60):
    """Polls fn (a real condition) until it returns a true value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


def events(fb, ident):
    return [e["Message"] for e in rds(fb).describe_events(
        SourceIdentifier=ident, SourceType="db-instance", Duration=60)["Events"]]


def in_sync_count(fb, ident):
    return events(fb, ident).count("The Multi-AZ standby is in sync")


def replication_status(fb, ident):
    inst = rds(fb).describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    infos = inst.get("StatusInfos") or [{}]
    return infos[0].get("Status")


def test_replica_streams_and_is_read_only(fb):
    create(fb, "src-db", retention=1)
    src = wait_status(fb, "src-db")
    psql(src, "create table items(id int primary key, v text); "
              "insert into items select g, 'before-' || g from generate_series(1, 50) g")
    t0 = time.time()
    out = fb.aws("rds", "create-db-instance-read-replica", "--db-instance-identifier",
                 "src-replica", "--source-db-instance-identifier", "src-db")
    assert out["DBInstance"]["ReadReplicaSourceDBInstanceIdentifier"] == "src-db"
    rep = wait_status(fb, "src-replica")
    print("  create replica -> available: %.0f ms" % ((time.time() - t0) * 1000))
    assert rep["Endpoint"]["Address"] != src["Endpoint"]["Address"]
    assert rep["ReadReplicaSourceDBInstanceIdentifier"] == "src-db"
    assert rep["StatusInfos"] == [{"StatusType": "read replication", "Normal": True,
                                   "Status": "replicating"}], rep.get("StatusInfos")
    src = rds(fb).describe_db_instances(DBInstanceIdentifier="src-db")["DBInstances"][0]
    assert src["ReadReplicaDBInstanceIdentifiers"] == ["src-replica"]
    # the copy has the source's data, roles and password
    assert psql(rep, "select count(*) from items") == "50"
    assert psql(rep, "select pg_is_in_recovery()") == "t"
    # rows committed on the source stream over
    psql(src, "insert into items values (51, 'after')")
    wait_until("row 51 on the replica",
               lambda: psql(rep, "select count(*) from items where id = 51") == "1")
    p = psql(rep, "insert into items values (99, 'x')", check=False)
    assert p.returncode != 0
    assert "cannot execute INSERT in a read-only transaction" in p.stderr, p.stderr


def test_replica_errors(fb):
    create(fb, "nobackups", retention=0)
    wait_status(fb, "nobackups")
    expect_error("InvalidDBInstanceState", rds(fb).create_db_instance_read_replica,
                 DBInstanceIdentifier="nobackups-r", SourceDBInstanceIdentifier="nobackups")
    expect_error("DBInstanceNotFound", rds(fb).create_db_instance_read_replica,
                 DBInstanceIdentifier="ghost-r", SourceDBInstanceIdentifier="ghost")
    expect_error("InvalidDBInstanceState", rds(fb).promote_read_replica,
                 DBInstanceIdentifier="nobackups")
    expect_error("InvalidParameterCombination", rds(fb).delete_db_instance,
                 DBInstanceIdentifier="src-replica", FinalDBSnapshotIdentifier="nope")
    expect_error("InvalidDBInstanceState", rds(fb).stop_db_instance,
                 DBInstanceIdentifier="src-replica")
    expect_error("InvalidParameterCombination", rds(fb).modify_db_instance,
                 DBInstanceIdentifier="src-db", BackupRetentionPeriod=0, ApplyImmediately=True)
    rds(fb).delete_db_instance(DBInstanceIdentifier="nobackups", SkipFinalSnapshot=True)


def test_replica_survives_restart(fb):
    src = wait_status(fb, "src-db")
    fb.restart()
    rep = wait_status(fb, "src-replica")
    src = wait_status(fb, "src-db")
    wait_until("replicating after restart",
               lambda: replication_status(fb, "src-replica") == "replicating")
    psql(src, "insert into items values (52, 'after-restart')")
    wait_until("row 52 on the replica",
               lambda: psql(rep, "select count(*) from items where id = 52") == "1")


def test_promote(fb):
    rep = wait_status(fb, "src-replica")
    out = rds(fb).promote_read_replica(DBInstanceIdentifier="src-replica",
                                       BackupRetentionPeriod=1)
    assert out["DBInstance"]["DBInstanceStatus"] == "modifying"
    rep = wait_status(fb, "src-replica")
    assert "ReadReplicaSourceDBInstanceIdentifier" not in rep
    assert "StatusInfos" not in rep
    assert rep["BackupRetentionPeriod"] == 1
    src = rds(fb).describe_db_instances(DBInstanceIdentifier="src-db")["DBInstances"][0]
    assert src["ReadReplicaDBInstanceIdentifiers"] == []
    # standalone and writable; the source goes its own way
    assert psql(rep, "select pg_is_in_recovery()") == "f"
    psql(rep, "insert into items values (100, 'promoted')")
    assert psql(rep, "select count(*) from items") == "53"
    assert psql(src, "select count(*) from items where id = 100") == "0"
    ev = rds(fb).describe_events(SourceIdentifier="src-replica", SourceType="db-instance")
    assert any("promoted" in e["Message"] for e in ev["Events"]), ev["Events"]


def test_delete_source_promotes_replicas(fb):
    wait_status(fb, "src-db")
    rds(fb).create_db_instance_read_replica(DBInstanceIdentifier="src-replica2",
                                            SourceDBInstanceIdentifier="src-db")
    rep = wait_status(fb, "src-replica2")
    rds(fb).delete_db_instance(DBInstanceIdentifier="src-db", SkipFinalSnapshot=True)
    rep = wait_status(fb, "src-replica2")
    assert "ReadReplicaSourceDBInstanceIdentifier" not in rep
    wait_until("a writable former replica", lambda: psql(
        rep, "select pg_is_in_recovery()", check=False).stdout.strip() == "f")
    psql(rep, "insert into items values (200, 'orphan')")
    assert psql(rep, "select count(*) from items") == "53"
    for ident in ("src-replica", "src-replica2"):
        rds(fb).delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True)


def test_multi_az_failover_keeps_rows(fb):
    expect_error("InvalidParameterCombination", create, fb, "maz-bad", MultiAZ=True,
                 AvailabilityZone="us-east-1a")
    create(fb, "maz-db", retention=1, MultiAZ=True)
    inst = wait_status(fb, "maz-db")
    assert inst["MultiAZ"] is True
    az, az2 = inst["AvailabilityZone"], inst["SecondaryAvailabilityZone"]
    assert az != az2
    ep = inst["Endpoint"]
    psql(inst, "create table orders(id serial primary key, v text); "
               "insert into orders(v) select 'o' || g from generate_series(1, 1000) g")
    t0 = time.time()
    fb.aws("rds", "reboot-db-instance", "--db-instance-identifier", "maz-db", "--force-failover")
    inst = wait_status(fb, "maz-db")
    print("  forced failover -> available: %.0f ms" % ((time.time() - t0) * 1000))
    assert inst["Endpoint"] == ep  # the endpoint is kept
    assert inst["AvailabilityZone"] == az2 and inst["SecondaryAvailabilityZone"] == az
    # every committed row, on the promoted standby (a new timeline)
    assert psql(inst, "select count(*) from orders") == "1000"
    assert psql(inst, "select pg_is_in_recovery()") == "f"
    assert int(psql(inst, "select timeline_id from pg_control_checkpoint()")) >= 2
    psql(inst, "insert into orders(v) values ('after-failover')")
    msgs = events(fb, "maz-db")
    assert "Multi-AZ instance failover started" in msgs, msgs
    assert "Multi-AZ instance failover completed" in msgs, msgs
    # the old primary follows as the new standby: failing back works too
    wait_until("the standby in sync again", lambda: in_sync_count(fb, "maz-db") >= 2)
    rds(fb).reboot_db_instance(DBInstanceIdentifier="maz-db", ForceFailover=True)
    inst = wait_status(fb, "maz-db")
    assert inst["AvailabilityZone"] == az
    assert psql(inst, "select count(*) from orders") == "1001"


def primary_pid(fb, inst):
    """The pid of the postmaster listening on the instance's endpoint."""
    pid = psql(inst, "select pid from pg_stat_activity where backend_type = 'checkpointer'")
    with open("/proc/%s/stat" % pid) as f:
        return int(f.read().split(") ")[1].split()[1])  # its parent: the postmaster


def test_multi_az_primary_death_fails_over(fb):
    inst = wait_status(fb, "maz-db")
    wait_until("the standby in sync", lambda: in_sync_count(fb, "maz-db") >= 3)
    psql(inst, "insert into orders(v) values ('before-crash')")
    os.kill(primary_pid(fb, inst), signal.SIGKILL)
    wait_until("automatic failover", lambda: any(
        "failed" in m and "failover started" in m for m in events(fb, "maz-db")))
    wait_until("failover completed", lambda: events(fb, "maz-db").count(
        "Multi-AZ instance failover completed") >= 3)
    inst = wait_status(fb, "maz-db")
    assert psql(inst, "select count(*) from orders where v = 'before-crash'") == "1"


def test_multi_az_restart_and_a_replica_across_failover(fb):
    wait_status(fb, "maz-db")
    n = in_sync_count(fb, "maz-db")
    fb.restart()
    inst = wait_status(fb, "maz-db")
    wait_until("the standby in sync after the restart", lambda: in_sync_count(fb, "maz-db") > n)
    rds(fb).create_db_instance_read_replica(DBInstanceIdentifier="maz-replica",
                                            SourceDBInstanceIdentifier="maz-db")
    rep = wait_status(fb, "maz-replica")
    rds(fb).reboot_db_instance(DBInstanceIdentifier="maz-db", ForceFailover=True)
    inst = wait_status(fb, "maz-db")
    psql(inst, "insert into orders(v) values ('after-failover-3')")
    # the replica follows its source's new primary (and its new timeline)
    wait_until("the row on the replica", lambda: psql(
        rep, "select count(*) from orders where v = 'after-failover-3'") == "1")
    rds(fb).delete_db_instance(DBInstanceIdentifier="maz-replica", SkipFinalSnapshot=True)


def test_multi_az_modify(fb):
    create(fb, "single-db", retention=0)
    inst = wait_status(fb, "single-db")
    assert inst["MultiAZ"] is False and "SecondaryAvailabilityZone" not in inst
    expect_error("InvalidParameterCombination", rds(fb).reboot_db_instance,
                 DBInstanceIdentifier="single-db", ForceFailover=True)
    psql(inst, "create table t(v int); insert into t values (1), (2)")
    out = rds(fb).modify_db_instance(DBInstanceIdentifier="single-db", MultiAZ=True,
                                     ApplyImmediately=True)
    assert out["DBInstance"]["DBInstanceStatus"] == "modifying"
    inst = wait_status(fb, "single-db")
    assert inst["MultiAZ"] is True and inst["SecondaryAvailabilityZone"]
    # stopped and started, both servers come back
    n = in_sync_count(fb, "single-db")
    rds(fb).stop_db_instance(DBInstanceIdentifier="single-db")
    wait_status(fb, "single-db", "stopped")
    rds(fb).start_db_instance(DBInstanceIdentifier="single-db")
    wait_status(fb, "single-db")
    wait_until("the standby in sync after a start", lambda: in_sync_count(fb, "single-db") > n)
    rds(fb).reboot_db_instance(DBInstanceIdentifier="single-db", ForceFailover=True)
    inst = wait_status(fb, "single-db")
    assert psql(inst, "select sum(v) from t") == "3"
    rds(fb).modify_db_instance(DBInstanceIdentifier="single-db", MultiAZ=False,
                               ApplyImmediately=True)
    inst = wait_status(fb, "single-db")
    assert inst["MultiAZ"] is False and "SecondaryAvailabilityZone" not in inst
    expect_error("InvalidParameterCombination", rds(fb).reboot_db_instance,
                 DBInstanceIdentifier="single-db", ForceFailover=True)
    psql(inst, "insert into t values (3)")  # commits do not wait for a gone standby
    for ident in ("single-db", "maz-db"):
        rds(fb).delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True)


if __name__ == "__main__":
    lib.main(globals())
