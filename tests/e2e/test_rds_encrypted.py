#!/usr/bin/python3
"""test_rds_encrypted.py - encrypted snapshots and managed master
passwords, end to end with boto3, the aws CLI and the real psql.

A snapshot of a StorageEncrypted instance is stored sealed with a data key
under the instance's KMS key: grep finds a known row value in the live
data files but nowhere under the snapshot directory, restores (and
copies, re-wrapped under another key) give the rows back, and a tampered
snapshot refuses to restore. ManageMasterUserPassword makes the
rds!db-<uuid> secret in fogbank's Secrets Manager with {"username",
"password"}, and psql logs in with that password, also after a rotation.

Debian's botocore (1.29.27) predates ManageMasterUserPassword, so the
boto3 client for those calls loads the RDS model extended with
tools/model_overlays/rds.json, the same overlay fogbank is generated from.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import test_rds as base  # noqa: E402
from lib import expect_error  # noqa: E402

psql, rds, create, wait_status = base.psql, base.rds, base.create, base.wait_status
MARKER = "fogbank-marker-7f3a9c51"
OVERLAY = os.path.join(lib.ROOT, "tools", "model_overlays", "rds.json")
BOTOCORE_RDS = "/usr/lib/python3/dist-packages/botocore/data/rds/2014-10-31"


def wait_until(what, fn, timeout=60):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


def grep_count(path, needle):
    """Files under path holding needle (binary files included)."""
    p = subprocess.run(["grep", "-rlaF", needle, path], capture_output=True, text=True)
    return [l for l in p.stdout.splitlines() if l]


def snap_dir(fb):
    return os.path.join(fb.data_dir, "rds", "snap")


def test_encrypted_snapshot_is_sealed(fb):
    kms = fb.client("kms")
    key = kms.create_key(Description="rds")["KeyMetadata"]
    create(fb, "enc-db", retention=0, StorageEncrypted=True, KmsKeyId=key["KeyId"])
    inst = wait_status(fb, "enc-db")
    assert inst["StorageEncrypted"] is True and inst["KmsKeyId"] == key["Arn"]
    psql(inst, "create table secrets(v text); insert into secrets select '%s-' || g "
               "from generate_series(1, 500) g; checkpoint" % MARKER)
    # the value really is in the instance's data files (storage is plain)
    assert grep_count(os.path.join(fb.data_dir, "rds", "i1", "pgdata"), MARKER)
    fb.aws("rds", "create-db-snapshot", "--db-instance-identifier", "enc-db",
           "--db-snapshot-identifier", "enc-snap")
    s = base.wait_snapshot(fb, "enc-snap")
    assert s["Encrypted"] is True and s["KmsKeyId"] == key["Arn"]
    assert grep_count(snap_dir(fb), MARKER) == []
    files = [os.path.join(d, f) for d, _, fs in os.walk(snap_dir(fb)) for f in fs]
    assert [os.path.basename(f) for f in files] == ["base.tar.enc"], files
    assert os.path.getsize(files[0]) > 1 << 20  # the whole cluster, sealed
    psql(inst, "insert into secrets values ('after-snapshot')")
    rds(fb).restore_db_instance_from_db_snapshot(DBInstanceIdentifier="enc-restored",
                                                 DBSnapshotIdentifier="enc-snap")
    r = wait_status(fb, "enc-restored")
    assert r["StorageEncrypted"] is True and r["KmsKeyId"] == key["Arn"]
    assert psql(r, "select count(*) from secrets") == "500"


def test_copy_rewraps_and_tamper_fails(fb):
    kms = fb.client("kms")
    other = kms.create_key(Description="copy")["KeyMetadata"]
    c = rds(fb).copy_db_snapshot(SourceDBSnapshotIdentifier="enc-snap",
                                 TargetDBSnapshotIdentifier="enc-copy", KmsKeyId=other["Arn"])
    assert c["DBSnapshot"]["KmsKeyId"] == other["Arn"]
    base.wait_snapshot(fb, "enc-copy")
    # the copy opens with the other key alone
    kms.disable_key(KeyId=rds(fb).describe_db_instances(
        DBInstanceIdentifier="enc-db")["DBInstances"][0]["KmsKeyId"])
    rds(fb).restore_db_instance_from_db_snapshot(DBInstanceIdentifier="enc-from-copy",
                                                 DBSnapshotIdentifier="enc-copy")
    r = wait_status(fb, "enc-from-copy")
    assert psql(r, "select count(*) from secrets") == "500"
    # the original needs its disabled key: the restore fails, no data
    rds(fb).restore_db_instance_from_db_snapshot(DBInstanceIdentifier="enc-nokey",
                                                 DBSnapshotIdentifier="enc-snap")
    wait_until("a failed restore", lambda: rds(fb).describe_db_instances(
        DBInstanceIdentifier="enc-nokey")["DBInstances"][0]["DBInstanceStatus"] == "failed")
    kms.enable_key(KeyId=rds(fb).describe_db_instances(
        DBInstanceIdentifier="enc-db")["DBInstances"][0]["KmsKeyId"])
    # one flipped byte in the sealed file: the restore refuses it
    rds(fb).copy_db_snapshot(SourceDBSnapshotIdentifier="enc-snap",
                             TargetDBSnapshotIdentifier="enc-tampered")
    base.wait_snapshot(fb, "enc-tampered")
    assert rds(fb).describe_db_snapshots(
        DBSnapshotIdentifier="enc-tampered")["DBSnapshots"][0]["Encrypted"]
    # the newest snapshot directory (s<id>) is the copy just made
    newest = max((d for d in os.listdir(snap_dir(fb)) if d[1:].isdigit()),
                 key=lambda d: int(d[1:]))
    path = os.path.join(snap_dir(fb), newest, "base.tar.enc")
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x40]))
    rds(fb).restore_db_instance_from_db_snapshot(DBInstanceIdentifier="enc-tamper-r",
                                                 DBSnapshotIdentifier="enc-tampered")
    wait_until("a refused restore", lambda: rds(fb).describe_db_instances(
        DBInstanceIdentifier="enc-tamper-r")["DBInstances"][0]["DBInstanceStatus"] == "failed")
    for ident in ("enc-nokey", "enc-tamper-r", "enc-from-copy", "enc-restored"):
        rds(fb).delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True)


def test_plain_snapshot_copied_with_a_key(fb):
    create(fb, "plain-db", retention=0)
    inst = wait_status(fb, "plain-db")
    psql(inst, "create table secrets(v text); insert into secrets values ('%s-plain')" % MARKER)
    rds(fb).stop_db_instance(DBInstanceIdentifier="plain-db")
    wait_status(fb, "plain-db", "stopped")
    rds(fb).create_db_snapshot(DBInstanceIdentifier="plain-db", DBSnapshotIdentifier="plain-s")
    base.wait_snapshot(fb, "plain-s")
    assert grep_count(snap_dir(fb), MARKER + "-plain")  # a plain copy of plain files
    kms = fb.client("kms")
    key = kms.create_key(Description="seal")["KeyMetadata"]
    rds(fb).copy_db_snapshot(SourceDBSnapshotIdentifier="plain-s",
                             TargetDBSnapshotIdentifier="plain-sealed", KmsKeyId=key["KeyId"])
    s = base.wait_snapshot(fb, "plain-sealed")
    assert s["Encrypted"] is True
    rds(fb).delete_db_snapshot(DBSnapshotIdentifier="plain-s")
    wait_until("the plain snapshot gone",
               lambda: not grep_count(snap_dir(fb), MARKER + "-plain") or None)
    rds(fb).restore_db_instance_from_db_snapshot(DBInstanceIdentifier="plain-r",
                                                 DBSnapshotIdentifier="plain-sealed")
    r = wait_status(fb, "plain-r")
    assert r["StorageEncrypted"] is True
    assert psql(r, "select v from secrets") == MARKER + "-plain"
    # a stopped encrypted instance is snapshotted from its files, sealed too
    rds(fb).stop_db_instance(DBInstanceIdentifier="plain-r")
    wait_status(fb, "plain-r", "stopped")
    rds(fb).create_db_snapshot(DBInstanceIdentifier="plain-r", DBSnapshotIdentifier="r-stopped")
    base.wait_snapshot(fb, "r-stopped")
    assert grep_count(snap_dir(fb), MARKER) == []
    for ident in ("plain-r", "plain-db"):
        rds(fb).delete_db_instance(DBInstanceIdentifier=ident, SkipFinalSnapshot=True)


def rds_model_client(fb):
    """A boto3 RDS client whose model has the overlay's members: the
    Debian model plus tools/model_overlays/rds.json."""
    import boto3
    import botocore.session
    from botocore.config import Config
    d = tempfile.mkdtemp(prefix="fb-rds-model-")
    with open(os.path.join(BOTOCORE_RDS, "service-2.json")) as f:
        model = json.load(f)
    with open(OVERLAY) as f:
        overlay = json.load(f)
    model["shapes"].update(copy.deepcopy(overlay.get("shapes", {})))
    for shape, members in overlay.get("members", {}).items():
        model["shapes"][shape]["members"].update(members)
    os.makedirs(os.path.join(d, "rds", "2014-10-31"))
    with open(os.path.join(d, "rds", "2014-10-31", "service-2.json"), "w") as f:
        json.dump(model, f)
    for extra in ("paginators-1.json", "waiters-2.json"):
        src = os.path.join(BOTOCORE_RDS, extra)
        if os.path.exists(src):
            with open(src) as fi, open(os.path.join(d, "rds", "2014-10-31", extra), "w") as fo:
                fo.write(fi.read())
    s = botocore.session.get_session()
    s.get_component("data_loader").search_paths.insert(0, d)
    return boto3.Session(botocore_session=s).client(
        "rds", endpoint_url=fb.endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def secret_value(fb, arn):
    return json.loads(fb.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def test_managed_master_password(fb):
    c = rds_model_client(fb)
    args = dict(DBInstanceIdentifier="mmup-db", Engine="postgres", DBInstanceClass="db.t3.micro",
                MasterUsername="app", DBName="appdb", BackupRetentionPeriod=0)
    expect_error("InvalidParameterCombination", c.create_db_instance, MasterUserPassword=base.PW,
                 ManageMasterUserPassword=True, **args)
    out = c.create_db_instance(ManageMasterUserPassword=True, **args)["DBInstance"]
    sec = out["MasterUserSecret"]
    assert sec["SecretStatus"] == "active" and sec["KmsKeyId"].startswith("arn:aws:kms:")
    assert ":secret:rds!db-" in sec["SecretArn"], sec
    v = secret_value(fb, sec["SecretArn"])
    assert v["username"] == "app" and len(v["password"]) >= 20
    inst = wait_status(fb, "mmup-db")
    assert psql(inst, "select current_user", password=v["password"]) == "app"
    # rotation: a new password in the secret and on the server
    c.modify_db_instance(DBInstanceIdentifier="mmup-db", RotateMasterUserPassword=True,
                         ApplyImmediately=True)
    v2 = secret_value(fb, sec["SecretArn"])
    assert v2["password"] != v["password"]
    wait_until("the rotated password", lambda: psql(
        inst, "select 1", password=v2["password"], check=False).returncode == 0)
    # off: the secret goes, the given password works
    expect_error("InvalidParameterCombination", c.modify_db_instance,
                 DBInstanceIdentifier="mmup-db", ManageMasterUserPassword=False)
    c.modify_db_instance(DBInstanceIdentifier="mmup-db", ManageMasterUserPassword=False,
                         MasterUserPassword="Plain-pass-123", ApplyImmediately=True)
    expect_error("ResourceNotFoundException", fb.client("secretsmanager").get_secret_value,
                 SecretId=sec["SecretArn"])
    inst = c.describe_db_instances(DBInstanceIdentifier="mmup-db")["DBInstances"][0]
    assert "MasterUserSecret" not in inst
    wait_until("the given password", lambda: psql(
        inst, "select 1", password="Plain-pass-123", check=False).returncode == 0)
    # on again, under a key of our own; deleting the instance deletes it
    key = fb.client("kms").create_key(Description="secret")["KeyMetadata"]
    out = c.modify_db_instance(DBInstanceIdentifier="mmup-db", ManageMasterUserPassword=True,
                               MasterUserSecretKmsKeyId=key["KeyId"], ApplyImmediately=True)
    sec = out["DBInstance"]["MasterUserSecret"]
    assert sec["KmsKeyId"] == key["Arn"]
    v3 = secret_value(fb, sec["SecretArn"])
    wait_until("the new managed password", lambda: psql(
        inst, "select 1", password=v3["password"], check=False).returncode == 0)
    c.delete_db_instance(DBInstanceIdentifier="mmup-db", SkipFinalSnapshot=True)
    expect_error("ResourceNotFoundException", fb.client("secretsmanager").get_secret_value,
                 SecretId=sec["SecretArn"])


if __name__ == "__main__":
    lib.main(globals())
