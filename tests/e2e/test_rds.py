#!/usr/bin/python3
"""test_rds.py - RDS PostgreSQL end to end: every DB instance is a real
PostgreSQL 15 server, driven with Debian's aws CLI v2 / boto3 and checked
with the real psql: the seeds' runbooks (create, connect, migrate with
psql -f, snapshot, insert more, restore, count rows; PITR between two
inserts; modify the password and reconnect), TLS verify-full with the
fogbank CA, supervision across kill -9 of fogbank.

Status is polled with DescribeDBInstances every 0.2 s (the CLI's
`aws rds wait db-instance-available` works too, but polls every 30 s).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402

PSQL = "/usr/bin/psql"
PW = "s3cr3t-Pass1"


def rds(fb):
    return fb.client("rds")


def wait_status(fb, ident, want="available", timeout=120):
    deadline = time.time() + timeout
    st = None
    while time.time() < deadline:
        st = rds(fb).describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        if st["DBInstanceStatus"] == want:
            return st
        assert st["DBInstanceStatus"] not in ("failed", "incompatible-restore"), st
        time.sleep(0.2)
    raise AssertionError("%s: still %s after %ds" % (ident, st and st["DBInstanceStatus"], timeout))


def wait_snapshot(fb, ident, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = rds(fb).describe_db_snapshots(DBSnapshotIdentifier=ident)["DBSnapshots"][0]
        if s["Status"] == "available":
            assert s["PercentProgress"] == 100
            return s
        assert s["Status"] == "creating", s
        time.sleep(0.2)
    raise AssertionError("snapshot %s not available" % ident)


def psql(inst, sql=None, password=PW, user="app", db="appdb", file=None, check=True, extra=None):
    """Runs the real psql against the instance's endpoint (TCP, password)."""
    ep = inst["Endpoint"]
    cmd = [PSQL, "-h", ep["Address"], "-p", str(ep["Port"]), "-U", user, "-d", db, "-At",
           "-v", "ON_ERROR_STOP=1"]
    cmd += ["-f", file] if file else ["-c", sql]
    env = {"PGPASSWORD": password, "PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"}
    env.update(extra or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    if check:
        assert p.returncode == 0, "psql failed: %s" % p.stderr
        return p.stdout.strip()
    return p


def create(fb, ident, retention=0, **kw):
    args = dict(DBInstanceIdentifier=ident, Engine="postgres", EngineVersion="15.4",
                DBInstanceClass="db.t3.micro", MasterUsername="app", MasterUserPassword=PW,
                DBName="appdb", AllocatedStorage=20, BackupRetentionPeriod=retention)
    args.update(kw)
    return rds(fb).create_db_instance(**args)["DBInstance"]


def test_create_connect_migrate(fb):
    t0 = time.time()
    out = fb.aws("rds", "create-db-instance", "--db-instance-identifier", "orders-db",
                 "--engine", "postgres", "--engine-version", "15.8", "--db-instance-class",
                 "db.t3.micro", "--master-username", "app", "--master-user-password", PW,
                 "--db-name", "appdb", "--allocated-storage", "20",
                 "--backup-retention-period", "1", "--tags", "Key=team,Value=core")
    inst = out["DBInstance"]
    assert inst["DBInstanceStatus"] == "creating"
    assert inst["EngineVersion"] == "15.8"  # reported as requested: no drift
    # the first successful connection, however long it takes
    while True:
        p = psql(inst, "select 1", check=False)
        if p.returncode == 0:
            break
        assert time.time() - t0 < 60, p.stderr
        time.sleep(0.05)
    print("  create -> first connection: %.0f ms (includes the one-time template)" %
          ((time.time() - t0) * 1000))
    inst = wait_status(fb, "orders-db")
    assert inst["Endpoint"]["Address"].startswith("127.")
    assert inst["Endpoint"]["Port"] == 5432
    for k in ("DBInstanceArn", "DbiResourceId", "InstanceCreateTime", "CACertificateIdentifier",
              "DBParameterGroups", "DBSubnetGroup", "PendingModifiedValues"):
        assert k in inst, k
    assert inst["TagList"] == [{"Key": "team", "Value": "core"}]
    assert "LatestRestorableTime" in inst
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("CREATE EXTENSION IF NOT EXISTS pgcrypto;\n"
                "CREATE TABLE orders(id serial primary key, item text not null);\n"
                "INSERT INTO orders(item) SELECT 'item-' || g FROM generate_series(1, 100) g;\n")
    psql(inst, file=f.name)
    os.unlink(f.name)
    assert psql(inst, "select count(*) from orders") == "100"
    # TLS with a certificate from the fogbank CA: verify-full works
    ca = os.path.join(fb.data_dir, "ca", "ca.pem")
    assert psql(inst, "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
                extra={"PGSSLMODE": "verify-full", "PGSSLROOTCERT": ca}) == "t"
    # a second instance is fast (the template exists) and has its own address
    t1 = time.time()
    b = create(fb, "second-db")
    while psql(b, "select 1", check=False).returncode != 0:
        assert time.time() - t1 < 60
        time.sleep(0.02)
    print("  create -> first connection (warm): %.0f ms" % ((time.time() - t1) * 1000))
    assert b["Endpoint"]["Address"] != inst["Endpoint"]["Address"]


def test_errors(fb):
    expect_error("InvalidParameterCombination", create, fb, "x1", EngineVersion="14.2")
    e = expect_error("InvalidParameterCombination", create, fb, "x1", EngineVersion="14.2")
    assert "Cannot find version 14.2 for postgres" in str(e)
    expect_error("InvalidParameterValue", create, fb, "x1", Engine="nosuchdb")
    expect_error("InvalidParameterValue", create, fb, "1bad")
    expect_error("InvalidParameterValue", create, fb, "x1", MasterUserPassword="short")
    expect_error("DBInstanceAlreadyExists", create, fb, "orders-db")
    expect_error("DBInstanceNotFound", rds(fb).describe_db_instances,
                 DBInstanceIdentifier="nope")
    expect_error("InvalidParameterCombination", rds(fb).delete_db_instance,
                 DBInstanceIdentifier="orders-db")
    r = rds(fb).describe_db_instances(Filters=[{"Name": "engine", "Values": ["postgres"]}])
    assert len(r["DBInstances"]) == 2
    r = rds(fb).describe_db_instances(
        Filters=[{"Name": "db-instance-id", "Values": ["second-db"]}])
    assert [i["DBInstanceIdentifier"] for i in r["DBInstances"]] == ["second-db"]


def test_modify_password(fb):
    inst = wait_status(fb, "second-db")
    rds(fb).modify_db_instance(DBInstanceIdentifier="second-db",
                               MasterUserPassword="N3w-password", ApplyImmediately=True)
    deadline = time.time() + 30
    while psql(inst, "select 1", password="N3w-password", check=False).returncode != 0:
        assert time.time() < deadline
        time.sleep(0.1)
    p = psql(inst, "select 1", check=False)
    assert p.returncode != 0 and "password authentication failed" in p.stderr
    # pending vs immediate: the class change waits for a reboot
    r = rds(fb).modify_db_instance(DBInstanceIdentifier="second-db",
                                   DBInstanceClass="db.t3.small", DeletionProtection=True)
    assert r["DBInstance"]["PendingModifiedValues"].get("DBInstanceClass") == "db.t3.small"
    assert r["DBInstance"]["DBInstanceClass"] == "db.t3.micro"
    expect_error("InvalidParameterCombination", rds(fb).delete_db_instance,
                 DBInstanceIdentifier="second-db", SkipFinalSnapshot=True)
    rds(fb).reboot_db_instance(DBInstanceIdentifier="second-db")
    inst = wait_status(fb, "second-db")
    assert inst["DBInstanceClass"] == "db.t3.small"
    assert "DBInstanceClass" not in inst["PendingModifiedValues"]
    assert psql(inst, "select 1", password="N3w-password") == "1"


def test_snapshot_restore(fb):
    inst = wait_status(fb, "orders-db")
    t0 = time.time()
    fb.aws("rds", "create-db-snapshot", "--db-instance-identifier", "orders-db",
           "--db-snapshot-identifier", "orders-snap-1")
    wait_snapshot(fb, "orders-snap-1")
    print("  snapshot: %.0f ms" % ((time.time() - t0) * 1000))
    psql(inst, "insert into orders(item) values ('after-snapshot')")
    assert psql(inst, "select count(*) from orders") == "101"
    snaps = fb.aws("rds", "describe-db-snapshots", "--db-instance-identifier", "orders-db",
                   "--query", "DBSnapshots[*].[DBSnapshotIdentifier,SnapshotCreateTime]")
    assert snaps[0][0] == "orders-snap-1"
    t0 = time.time()
    fb.aws("rds", "restore-db-instance-from-db-snapshot", "--db-instance-identifier",
           "orders-restored", "--db-snapshot-identifier", "orders-snap-1")
    restored = wait_status(fb, "orders-restored")
    print("  restore from snapshot: %.0f ms" % ((time.time() - t0) * 1000))
    assert restored["Endpoint"]["Address"] != inst["Endpoint"]["Address"]
    assert psql(restored, "select count(*) from orders") == "100"
    # copy, then delete both snapshots
    rds(fb).copy_db_snapshot(SourceDBSnapshotIdentifier="orders-snap-1",
                             TargetDBSnapshotIdentifier="orders-snap-copy")
    wait_snapshot(fb, "orders-snap-copy")
    for s in ("orders-snap-1", "orders-snap-copy"):
        rds(fb).delete_db_snapshot(DBSnapshotIdentifier=s)
    rds(fb).delete_db_instance(DBInstanceIdentifier="orders-restored", SkipFinalSnapshot=True)


def test_pitr(fb):
    inst = wait_status(fb, "orders-db")
    psql(inst, "create table pitr(v int); insert into pitr values (1)")
    time.sleep(1.1)  # commit timestamps are the only clock PITR has
    t = time.time()
    time.sleep(1.1)
    psql(inst, "insert into pitr values (2)")
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "Z"
    t0 = time.time()
    fb.aws("rds", "restore-db-instance-to-point-in-time", "--source-db-instance-identifier",
           "orders-db", "--target-db-instance-identifier", "orders-pitr", "--restore-time", iso)
    pitr = wait_status(fb, "orders-pitr")
    print("  PITR restore: %.0f ms" % ((time.time() - t0) * 1000))
    assert psql(pitr, "select string_agg(v::text, ',') from pitr") == "1"
    # the restored instance is a normal read-write primary
    psql(pitr, "insert into pitr values (3)")
    b = rds(fb).describe_db_instance_automated_backups(DBInstanceIdentifier="orders-db")
    assert b["DBInstanceAutomatedBackups"][0]["RestoreWindow"]["LatestTime"]
    rds(fb).delete_db_instance(DBInstanceIdentifier="orders-pitr", SkipFinalSnapshot=True)


def test_stop_start(fb):
    inst = wait_status(fb, "orders-db")
    rds(fb).stop_db_instance(DBInstanceIdentifier="orders-db")
    wait_status(fb, "orders-db", "stopped")
    assert psql(inst, "select 1", check=False).returncode != 0
    rds(fb).start_db_instance(DBInstanceIdentifier="orders-db")
    inst = wait_status(fb, "orders-db")
    assert psql(inst, "select count(*) from orders") == "101"
    ev = rds(fb).describe_events(SourceIdentifier="orders-db", SourceType="db-instance")
    msgs = [e["Message"] for e in ev["Events"]]
    assert "DB instance created" in msgs and "DB instance stopped" in msgs, msgs


def test_groups_logs(fb):
    c = rds(fb)
    c.create_db_subnet_group(DBSubnetGroupName="app-subnets", DBSubnetGroupDescription="app",
                             SubnetIds=["subnet-a", "subnet-b"])
    g = c.describe_db_subnet_groups(DBSubnetGroupName="app-subnets")["DBSubnetGroups"][0]
    assert len(g["Subnets"]) == 2
    c.create_db_parameter_group(DBParameterGroupName="app-pg",
                                DBParameterGroupFamily="postgres15", Description="app")
    ps = c.describe_db_parameters(DBParameterGroupName="app-pg", MaxRecords=100)
    assert any(p["ParameterName"] == "work_mem" for p in ps["Parameters"]) or ps.get("Marker")
    expect_error("InvalidParameterCombination", c.modify_db_parameter_group,
                 DBParameterGroupName="app-pg",
                 Parameters=[{"ParameterName": "shared_buffers", "ParameterValue": "4096",
                              "ApplyMethod": "immediate"}])
    c.modify_db_parameter_group(DBParameterGroupName="app-pg", Parameters=[
        {"ParameterName": "work_mem", "ParameterValue": "8MB", "ApplyMethod": "immediate"}])
    c.modify_db_instance(DBInstanceIdentifier="orders-db", DBParameterGroupName="app-pg",
                         ApplyImmediately=True)
    inst = c.describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"][0]
    assert inst["DBParameterGroups"][0]["ParameterApplyStatus"] == "pending-reboot"
    c.reboot_db_instance(DBInstanceIdentifier="orders-db")
    inst = wait_status(fb, "orders-db")
    assert inst["DBParameterGroups"][0]["ParameterApplyStatus"] == "in-sync"
    assert psql(inst, "show work_mem") == "8MB"
    # dynamic + immediate: a reload, no reboot
    c.modify_db_parameter_group(DBParameterGroupName="app-pg", Parameters=[
        {"ParameterName": "work_mem", "ParameterValue": "16MB", "ApplyMethod": "immediate"}])
    deadline = time.time() + 10
    while psql(inst, "show work_mem") != "16MB":
        assert time.time() < deadline
        time.sleep(0.1)
    files = c.describe_db_log_files(DBInstanceIdentifier="orders-db")["DescribeDBLogFiles"]
    assert files[0]["LogFileName"] == "error/postgresql.log"
    part = c.download_db_log_file_portion(DBInstanceIdentifier="orders-db",
                                          LogFileName="error/postgresql.log", Marker="0")
    assert "ready to accept connections" in part["LogFileData"]


def port_free(addr, port):
    s = socket.socket()
    try:
        s.connect((addr, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def test_kill9_restart(fb):
    inst = wait_status(fb, "orders-db")
    ep = inst["Endpoint"]
    fb.kill9()
    # PDEATHSIG takes the servers down with fogbank
    deadline = time.time() + 10
    while not port_free(ep["Address"], ep["Port"]):
        assert time.time() < deadline, "postgres still listening after fogbank died"
        time.sleep(0.05)
    fb.start()
    inst = wait_status(fb, "orders-db")
    assert psql(inst, "select count(*) from orders") == "101"


def test_delete_with_final_snapshot(fb):
    wait_status(fb, "orders-db")
    rds(fb).delete_db_instance(DBInstanceIdentifier="orders-db",
                               FinalDBSnapshotIdentifier="orders-final")
    wait_snapshot(fb, "orders-final")
    deadline = time.time() + 60
    while True:
        try:
            rds(fb).describe_db_instances(DBInstanceIdentifier="orders-db")
        except Exception as e:
            assert "DBInstanceNotFound" in str(e)
            break
        assert time.time() < deadline
        time.sleep(0.2)
    rds(fb).modify_db_instance(DBInstanceIdentifier="second-db", DeletionProtection=False,
                               ApplyImmediately=True)
    rds(fb).delete_db_instance(DBInstanceIdentifier="second-db", SkipFinalSnapshot=True)


if __name__ == "__main__":
    lib.main(globals())
