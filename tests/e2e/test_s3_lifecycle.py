#!/usr/bin/python3
"""test_s3_lifecycle.py - S3 lifecycle rules that really act, and
Terraform's S3 backend.

The daemon runs with FOGBANK_S3_DAY_SECONDS=1 (a lifecycle "day" lasts a
second) so expiration of current versions, noncurrent-version expiration,
removal of expired delete markers, abort of stale multipart uploads and
transitions (with prefix and tag filters) can be watched happening.
Terraform (when installed) keeps its state in a versioned bucket with
use_lockfile = true: the lock object appears during apply and is gone
after, and a held lock stops a second run.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ["FOGBANK_S3_DAY_SECONDS"] = "1"
os.environ["FOGBANK_S3_SWEEP_MS"] = "300"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402


def wait_for(cond, timeout=12.0, what="condition"):
    """Polls cond() (each poll is an S3 request, which also lets the sweep
    run when no timer drives it) until it is true."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return time.time() - t0
        time.sleep(0.25)
    raise AssertionError("timed out waiting for %s" % what)


def keys(s3, bucket):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_expiration_with_prefix_filter(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="expiring")
    s3.put_bucket_lifecycle_configuration(Bucket="expiring", LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}},
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 1}}]})
    for k in ("tmp/a", "tmp/b", "keep/c", "other"):
        s3.put_object(Bucket="expiring", Key=k, Body=b"x")
    took = wait_for(lambda: keys(s3, "expiring") == ["keep/c", "other"], what="tmp/ to expire")
    print("  expired after %.1fs" % took)


def test_noncurrent_versions_and_delete_markers(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="vexpire")
    s3.put_bucket_versioning(Bucket="vexpire", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket="vexpire", LifecycleConfiguration={"Rules": [
        {"ID": "nc", "Status": "Enabled", "Filter": {},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
         "Expiration": {"ExpiredObjectDeleteMarker": True}}]})
    s3.put_object(Bucket="vexpire", Key="doc", Body=b"v1")
    s3.put_object(Bucket="vexpire", Key="doc", Body=b"v2")
    s3.put_object(Bucket="vexpire", Key="live", Body=b"only version")
    s3.delete_object(Bucket="vexpire", Key="doc")

    def gone():
        v = s3.list_object_versions(Bucket="vexpire")
        return [x["Key"] for x in v.get("Versions", [])] == ["live"] and not v.get("DeleteMarkers")
    wait_for(gone, what="noncurrent versions and the lone delete marker to go")
    assert s3.get_object(Bucket="vexpire", Key="live")["Body"].read() == b"only version"


def test_abort_incomplete_multipart(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="stale-uploads")
    s3.put_bucket_lifecycle_configuration(Bucket="stale-uploads", LifecycleConfiguration={"Rules": [
        {"ID": "abort", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    uid = s3.create_multipart_upload(Bucket="stale-uploads", Key="big")["UploadId"]
    s3.upload_part(Bucket="stale-uploads", Key="big", UploadId=uid, PartNumber=1, Body=b"x" * 1000)
    wait_for(lambda: not s3.list_multipart_uploads(Bucket="stale-uploads").get("Uploads"),
             what="the stale upload to be aborted")
    expect_error("NoSuchUpload", s3.list_parts, Bucket="stale-uploads", Key="big", UploadId=uid)


def test_transition_with_tag_filter_and_restore(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="archive")
    s3.put_bucket_lifecycle_configuration(Bucket="archive", LifecycleConfiguration={"Rules": [
        {"ID": "to-glacier", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "arch/", "Tags": [{"Key": "cold", "Value": "yes"}]}},
         "Transitions": [{"Days": 1, "StorageClass": "STANDARD_IA"},
                         {"Days": 2, "StorageClass": "GLACIER"}]}]})
    s3.put_object(Bucket="archive", Key="arch/x", Body=b"frozen", Tagging="cold=yes")
    s3.put_object(Bucket="archive", Key="arch/y", Body=b"warm")
    wait_for(lambda: s3.head_object(Bucket="archive", Key="arch/x").get("StorageClass") == "GLACIER",
             what="the transition to GLACIER")
    assert "StorageClass" not in s3.head_object(Bucket="archive", Key="arch/y")
    expect_error("InvalidObjectState", s3.get_object, Bucket="archive", Key="arch/x")
    r = s3.restore_object(Bucket="archive", Key="arch/x", RestoreRequest={"Days": 1})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.get_object(Bucket="archive", Key="arch/x")["Body"].read() == b"frozen"
    assert 'ongoing-request="false"' in s3.head_object(Bucket="archive", Key="arch/x")["Restore"]


# ---- Terraform's S3 backend ----

TF_MAIN = """
terraform {
  backend "s3" {
    bucket                      = "tfstate"
    key                         = "app/terraform.tfstate"
    region                      = "us-east-1"
    use_lockfile                = true
    use_path_style              = true
    endpoints                   = { s3 = "%s" }
    access_key                  = "test"
    secret_key                  = "test"
    skip_credentials_validation = true
    skip_region_validation      = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
  }
}

resource "terraform_data" "app" {
  input = "hello from fogbank"
}

output "value" {
  value = terraform_data.app.output
}
"""


def terraform(d, *args, check=True):
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1",
               TF_CLI_CONFIG_FILE=os.path.join(d, "tf.rc"), HOME=d)
    p = subprocess.run(["terraform"] + list(args), cwd=d, env=env, capture_output=True, text=True,
                       timeout=120)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


def test_terraform_s3_backend_with_lockfile(fb):
    if not shutil.which("terraform"):
        print("  (skipped: terraform not installed)")
        return
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="tfstate")
    s3.put_bucket_versioning(Bucket="tfstate", VersioningConfiguration={"Status": "Enabled"})
    d = tempfile.mkdtemp(prefix="fogbank-tf-")
    with open(os.path.join(d, "tf.rc"), "w") as f:
        f.write('provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n'
                '  }\n}\n')
    with open(os.path.join(d, "main.tf"), "w") as f:
        f.write(TF_MAIN % fb.endpoint)
    terraform(d, "init", "-no-color")
    out = terraform(d, "apply", "-auto-approve", "-no-color").stdout
    assert "Apply complete" in out, out
    state = s3.get_object(Bucket="tfstate", Key="app/terraform.tfstate")["Body"].read()
    assert b"hello from fogbank" in state
    # the lock object existed during the run and is gone now
    expect_error("NoSuchKey", s3.get_object, Bucket="tfstate", Key="app/terraform.tfstate.tflock")
    v = s3.list_object_versions(Bucket="tfstate", Prefix="app/terraform.tfstate.tflock")
    assert v.get("Versions") and v.get("DeleteMarkers"), v
    # a lock held by someone else stops terraform (If-None-Match: * fails)
    s3.put_object(Bucket="tfstate", Key="app/terraform.tfstate.tflock", Body=b'{"ID":"other"}')
    p = terraform(d, "plan", "-no-color", "-lock-timeout=0s", check=False)
    assert p.returncode != 0 and "lock" in (p.stdout + p.stderr).lower(), p.stdout + p.stderr
    s3.delete_object(Bucket="tfstate", Key="app/terraform.tfstate.tflock")
    out = terraform(d, "destroy", "-auto-approve", "-no-color").stdout
    assert "Destroy complete" in out
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    lib.main(globals())
