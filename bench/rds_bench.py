#!/usr/bin/python3
"""rds_bench.py FOGBANK_BINARY - RDS PostgreSQL figures.

1. CreateDBInstance to the first successful psql query over TCP with the
   master password (the issue's goal is < 1 s), cold (the first instance
   also builds the initdb template) and warm; and the idle memory (PSS) of
   one instance's PostgreSQL processes.
2. A ~1 GiB database (pgbench -i -s BENCH_SCALE, 70 by default): the
   snapshot (CreateDBSnapshot to "available") against a plain
   pg_basebackup of the same server, and the restore
   (RestoreDBInstanceFromDBSnapshot to the first query) against a plain
   copy of that base backup (cp -a, then sync -f); each pair run twice,
   once in each order, best of two (the machine's load moves, and the
   first of a pair reads a colder cache).
3. The same snapshot sealed for an encrypted instance (CopyDBSnapshot with
   a KMS key: tar -> AES-256-GCM records) and restored from (decrypt ->
   tar -x), against the plain copy and restore.
4. RestoreDBInstanceToPointInTime (UseLatestRestorableTime) of that
   instance: its creation-time base backup plus the WAL of the whole load.
5. The CreateDBInstance API call, fogbank vs moto_server (when on PATH).
   moto answers the call but runs no PostgreSQL: there is nothing to
   connect to, which the table says.

Numbers vary with the machine and its load (printed); nothing here is a
pass/fail threshold. BENCH_CREATES (5) and BENCH_SCALE (70) tune it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from common import free_port, wait_http, med, p90

CREATES = int(os.environ.get("BENCH_CREATES", "5"))
SCALE = int(os.environ.get("BENCH_SCALE", "70"))
PW = "bench-Pass-123"
PG_BIN = "/usr/lib/postgresql/15/bin"


def client(port):
    import boto3
    from botocore.config import Config
    return boto3.client("rds", endpoint_url="http://127.0.0.1:%d" % port,
                        region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


def pg_env():
    return {"PGPASSWORD": PW, "PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"}


def query(inst, sql, check=True):
    """The real psql over TCP with the master password; stdout or None."""
    ep = inst["Endpoint"]
    p = subprocess.run(["/usr/bin/psql", "-h", ep["Address"], "-p", str(ep["Port"]), "-U",
                        "app", "-d", "appdb", "-At", "-c", sql], capture_output=True,
                       text=True, env=pg_env(), timeout=600)
    if p.returncode != 0:
        if check:
            raise RuntimeError(p.stderr)
        return None
    return p.stdout.strip()


def create(rds, ident, **kw):
    args = dict(DBInstanceIdentifier=ident, Engine="postgres", DBInstanceClass="db.t3.micro",
                MasterUsername="app", MasterUserPassword=PW, DBName="appdb",
                BackupRetentionPeriod=0)
    args.update(kw)
    return rds.create_db_instance(**args)["DBInstance"]


def wait_available(rds, ident, deadline_s=3600):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < deadline_s:
        i = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        if i["DBInstanceStatus"] == "available":
            return i
        if i["DBInstanceStatus"] in ("failed", "incompatible-restore"):
            raise RuntimeError("%s: %s" % (ident, i["DBInstanceStatus"]))
        time.sleep(0.05)
    raise RuntimeError("%s never available" % ident)


def wait_snapshot(rds, ident):
    while True:
        s = rds.describe_db_snapshots(DBSnapshotIdentifier=ident)["DBSnapshots"][0]
        if s["Status"] == "available":
            return s
        if s["Status"] == "failed":
            raise RuntimeError("snapshot %s failed" % ident)
        time.sleep(0.05)


def create_to_query(rds, ident):
    """ms from CreateDBInstance to the first answered query, and the API
    call's own ms."""
    t0 = time.perf_counter()
    inst = create(rds, ident)
    api = (time.perf_counter() - t0) * 1000
    while query(inst, "select 1", check=False) != "1":
        pass
    return (time.perf_counter() - t0) * 1000, api, inst


def instance_pss_kb(data_dir, port):
    """PSS (kB) of the postmaster listening on port under data_dir and its
    children, from /proc (smaps_rollup)."""
    procs = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            procs[int(pid)] = (ppid, cmd)
        except (OSError, ValueError, IndexError):
            continue
    roots = [p for p, (_, cmd) in procs.items()
             if cmd.startswith(PG_BIN + "/postgres -D " + data_dir)]
    total = 0
    for root in roots:
        for pid in [root] + [p for p, (pp, _) in procs.items() if pp == root]:
            try:
                with open("/proc/%d/smaps_rollup" % pid) as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
            except OSError:
                pass
    return total


def plain_basebackup(ep, dst):
    """pg_basebackup of the instance over TCP (plain format, WAL streamed,
    fast checkpoint, fsynced: what a snapshot does); seconds."""
    shutil.rmtree(dst, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([PG_BIN + "/pg_basebackup", "-h", ep["Address"], "-p", str(ep["Port"]),
                    "-U", "app", "-D", dst, "-Fp", "-Xstream", "-cfast"], env=pg_env(),
                   check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - t0


def plain_restore(src, dst):
    """A plain copy of a base backup, flushed to disk (cp -a, then
    sync -f); seconds."""
    shutil.rmtree(dst, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run(["cp", "-a", src, dst], check=True)
    subprocess.run(["sync", "-f", dst], check=True)
    return time.perf_counter() - t0


def snapshot_s(rds, inst_ident, snap):
    t0 = time.perf_counter()
    rds.create_db_snapshot(DBInstanceIdentifier=inst_ident, DBSnapshotIdentifier=snap)
    wait_snapshot(rds, snap)
    return time.perf_counter() - t0


def restore_s(rds, snap, ident):
    """RestoreDBInstanceFromDBSnapshot to the first answered query."""
    t0 = time.perf_counter()
    inst = rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=ident,
                                                    DBSnapshotIdentifier=snap)["DBInstance"]
    while query(inst, "select 1", check=False) != "1":
        time.sleep(0.02)
    took = time.perf_counter() - t0
    wait_available(rds, ident)  # its first automated backup must not overlap the next step
    return took


def delete(rds, ident):
    rds.delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True)


def moto_create():
    """moto_server's CreateDBInstance call latency (ms list), or None."""
    moto = shutil.which("moto_server")
    if not moto:
        return None
    port = free_port()
    p = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(port, ok=(200, 404))  # moto answers 404 here
        rds = client(port)
        api = []
        for i in range(CREATES):
            t0 = time.perf_counter()
            create(rds, "bench-%d" % i)
            api.append((time.perf_counter() - t0) * 1000)
        return api
    finally:
        p.terminate()
        p.wait()


def bench_big(rds, tmp, out):
    """Figures 2-4 on one ~1 GiB instance; fills out."""
    big = create(rds, "big", BackupRetentionPeriod=1)
    big = wait_available(rds, "big")
    t0 = time.perf_counter()
    subprocess.run(["/usr/bin/pgbench", "-i", "-q", "-s", str(SCALE), "-h",
                    big["Endpoint"]["Address"], "-p", str(big["Endpoint"]["Port"]), "-U", "app",
                    "appdb"], env=pg_env(), check=True, capture_output=True, timeout=7200)
    out["load_s"] = time.perf_counter() - t0
    out["db_bytes"] = int(query(big, "select pg_database_size('appdb')"))
    bb = os.path.join(tmp, "plain-bb")
    snaps, plains, restores, copies = [], [], [], []
    for i in range(2):  # best of two, in both orders (the first reads a cold cache)
        if i == 0:
            snaps.append(snapshot_s(rds, "big", "big-snap-%d" % i))
            plains.append(plain_basebackup(big["Endpoint"], bb))
            restores.append(restore_s(rds, "big-snap-%d" % i, "big-r-%d" % i))
            copies.append(plain_restore(bb, os.path.join(tmp, "plain-copy")))
        else:
            plains.append(plain_basebackup(big["Endpoint"], bb))
            snaps.append(snapshot_s(rds, "big", "big-snap-%d" % i))
            copies.append(plain_restore(bb, os.path.join(tmp, "plain-copy")))
            restores.append(restore_s(rds, "big-snap-%d" % i, "big-r-%d" % i))
        delete(rds, "big-r-%d" % i)
        shutil.rmtree(os.path.join(tmp, "plain-copy"), ignore_errors=True)
    out.update(snap=min(snaps), plain=min(plains), restore=min(restores), copy=min(copies))
    shutil.rmtree(bb, ignore_errors=True)
    rds.delete_db_snapshot(DBSnapshotIdentifier="big-snap-1")
    # sealed: a plain snapshot copied under a KMS key, then restored
    import boto3
    kms = boto3.client("kms", endpoint_url=rds.meta.endpoint_url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    key = kms.create_key(Description="bench")["KeyMetadata"]["Arn"]
    t0 = time.perf_counter()
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="big-snap-0",
                         TargetDBSnapshotIdentifier="big-sealed", KmsKeyId=key)
    wait_snapshot(rds, "big-sealed")
    out["seal"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rds.copy_db_snapshot(SourceDBSnapshotIdentifier="big-snap-0",
                         TargetDBSnapshotIdentifier="big-copy")
    wait_snapshot(rds, "big-copy")
    out["plain_copy"] = time.perf_counter() - t0
    out["sealed_restore"] = restore_s(rds, "big-sealed", "big-sealed-r")
    delete(rds, "big-sealed-r")
    # PITR: the creation-time base backup plus the WAL of the whole load
    query(big, "create table pitr_mark(t timestamptz default now()); "
               "insert into pitr_mark default values")
    t0 = time.perf_counter()
    inst = rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier="big", TargetDBInstanceIdentifier="big-pitr",
        UseLatestRestorableTime=True)["DBInstance"]
    wait_available(rds, "big-pitr")
    out["pitr"] = time.perf_counter() - t0
    out["pitr_rows"] = query(inst, "select count(*) from pitr_mark")


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/fogbank")
    tmp = tempfile.mkdtemp(prefix="fogbank-rds-bench-")
    os.chmod(tmp, 0o711)
    data = os.path.join(tmp, "data")
    load0 = os.getloadavg()
    port = free_port()
    fb = subprocess.Popen([binary, "up", "--port", str(port), "--data-dir", data,
                           "--log-level", "warn"], stderr=subprocess.DEVNULL)
    big = {}
    try:
        wait_http(port, ok=(200, 404))  # moto answers 404 here
        rds = client(port)
        cold, _, _ = create_to_query(rds, "cold")
        warm, api = [], []
        wait_available(rds, "cold")
        for i in range(CREATES):
            ms, call, _ = create_to_query(rds, "warm-%d" % i)
            warm.append(ms)
            api.append(call)
            # one create at a time: the previous one's flush of its copy
            # (initdb --sync-only, before "available") is not measured twice
            wait_available(rds, "warm-%d" % i)
        time.sleep(2)  # idle means idle: let the first checkpoint settle
        ep = rds.describe_db_instances(DBInstanceIdentifier="warm-0")["DBInstances"][0]
        pss = instance_pss_kb(data, ep["Endpoint"]["Port"])
        for i in range(CREATES):
            delete(rds, "warm-%d" % i)
        delete(rds, "cold")
        bench_big(rds, tmp, big)
        moto = moto_create()
    finally:
        fb.terminate()
        fb.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()
    print("RDS PostgreSQL; load avg %.2f -> %.2f on %d CPUs" % (load0[0], load1[0],
                                                               os.cpu_count()))
    print("CreateDBInstance -> first psql query: cold %.0f ms (builds the initdb template); "
          "warm median %.0f ms, p90 %.0f ms over %d (goal < 1000 ms)"
          % (cold, med(warm), p90(warm), CREATES))
    print("idle instance: %.1f MiB PSS (postmaster and its children)" % (pss / 1024.0))
    print("database: pgbench -i -s %d, %.2f GiB, loaded in %.0f s"
          % (SCALE, big["db_bytes"] / 2.0 ** 30, big["load_s"]))
    print("%-44s %10s %10s %8s" % ("best of two, seconds", "fogbank", "plain", "ratio"))
    rows = [("snapshot vs pg_basebackup", big["snap"], big["plain"]),
            ("restore to first query vs cp -a + sync", big["restore"], big["copy"]),
            ("sealed copy (KMS) vs plain CopyDBSnapshot", big["seal"], big["plain_copy"]),
            ("restore from sealed vs from plain", big["sealed_restore"], big["restore"])]
    for name, a, b in rows:
        print("%-44s %10.1f %10.1f %7.2fx" % (name, a, b, a / b))
    print("PITR (latest restorable time) -> available: %.1f s (base backup + WAL of the "
          "load replayed; marker rows %s)" % (big["pitr"], big["pitr_rows"]))
    print("%-28s %12s %12s" % ("CreateDBInstance API ms", "median", "p90"))
    print("%-28s %12.1f %12.1f" % ("fogbank", med(api), p90(api)))
    if moto:
        print("%-28s %12.1f %12.1f" % ("moto_server", med(moto), p90(moto)))
        print("moto_server runs no PostgreSQL: its instance is 'available' at once and there "
              "is nothing to connect to.")
    else:
        print("moto_server not on PATH: no peer figure")


if __name__ == "__main__":
    main()
