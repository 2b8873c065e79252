#!/usr/bin/python3
"""test_secretsmanager.py - Secrets Manager end to end, through Debian's aws
CLI v2 (including the seed runbook's exact commands, piped to jq) and boto3.

Covers every operation fogbank implements and their error paths, the
AWSCURRENT/AWSPREVIOUS label rotation, partial ARNs, customer KMS keys,
deletion windows and the purge, durability across kill -9 right after a
write, and that no secret value ever reaches the data dir in plaintext.
"""
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402


def sh(fb, script):
    """Runs a shell pipeline in which `aws` is Debian's CLI v2 pointed at
    this fogbank, so runbook lines can be used verbatim. Returns stdout."""
    prelude = 'aws() { /usr/bin/aws --endpoint-url %s "$@"; }\n' % fb.endpoint
    p = subprocess.run(["/bin/sh", "-c", prelude + script], capture_output=True, text=True,
                       env=lib._cli_env("test", "test", "us-east-1"), timeout=120)
    assert p.returncode == 0, "%s failed: %s" % (script, p.stderr)
    return p.stdout


def sm(fb, region="us-east-1"):
    return fb.client("secretsmanager", region=region)


def create(fb, name, value="v", **kw):
    return sm(fb).create_secret(Name=name, SecretString=value, **kw)


def test_runbook_create_get_jq(fb):
    out = fb.aws("secretsmanager", "create-secret", "--name", "prod/db",
                 "--secret-string", '{"username":"admin","password":"hunter2"}')
    assert out["Name"] == "prod/db" and out["ARN"].startswith(
        "arn:aws:secretsmanager:us-east-1:") and ":secret:prod/db-" in out["ARN"]
    assert len(out["ARN"].rsplit("-", 1)[1]) == 6 and len(out["VersionId"]) == 36
    pw = sh(fb, "aws secretsmanager get-secret-value --secret-id prod/db --query SecretString "
                "--output text | jq -r .password")
    assert pw.strip() == "hunter2"
    sh(fb, "aws secretsmanager update-secret --secret-id prod/db --secret-string "
           "'{\"username\":\"admin\",\"password\":\"s3cret-2\"}'")
    pw = sh(fb, "aws secretsmanager get-secret-value --secret-id prod/db --query SecretString "
                "--output text | jq -r .password")
    assert pw.strip() == "s3cret-2"
    prev = fb.aws("secretsmanager", "get-secret-value", "--secret-id", "prod/db",
                  "--version-stage", "AWSPREVIOUS")
    assert json.loads(prev["SecretString"])["password"] == "hunter2"
    assert prev["VersionStages"] == ["AWSPREVIOUS"]


def test_get_by_full_and_partial_arn(fb):
    arn = create(fb, "app/api-key", "k-123")["ARN"]
    partial = arn.rsplit("-", 1)[0]
    for sid in ("app/api-key", arn, partial):
        v = fb.aws("secretsmanager", "get-secret-value", "--secret-id", sid)
        assert v["SecretString"] == "k-123" and v["ARN"] == arn, sid
        assert fb.aws("secretsmanager", "describe-secret", "--secret-id", sid)["ARN"] == arn
    expect_error("ResourceNotFoundException", fb.aws, "secretsmanager", "get-secret-value",
                 "--secret-id", arn[:-1] + ("x" if arn[-1] != "x" else "y"))
    other_region = arn.replace("us-east-1", "us-west-2")
    expect_error("ResourceNotFoundException", sm(fb).get_secret_value, SecretId=other_region)


def test_missing_secret(fb):
    e = expect_error("ResourceNotFoundException", fb.aws, "secretsmanager", "get-secret-value",
                     "--secret-id", "does/not/exist")
    assert "Secrets Manager can't find the specified secret." in e.message
    c = sm(fb)
    for op in (c.describe_secret, c.delete_secret, c.restore_secret, c.get_resource_policy,
               c.list_secret_version_ids):
        expect_error("ResourceNotFoundException", op, SecretId="nope")
    expect_error("ResourceNotFoundException", c.put_secret_value, SecretId="nope", SecretString="x")


def test_binary_secret(fb):
    c = sm(fb)
    c.create_secret(Name="bin", SecretBinary=b"\x00\xffbytes")
    v = c.get_secret_value(SecretId="bin")
    assert v["SecretBinary"] == b"\x00\xffbytes" and "SecretString" not in v
    expect_error("InvalidParameterException", c.create_secret, Name="both", SecretString="a",
                 SecretBinary=b"b")


def test_create_errors(fb):
    c = sm(fb)
    create(fb, "dup")
    e = expect_error("ResourceExistsException", c.create_secret, Name="dup", SecretString="x")
    assert "already exists" in str(e)
    expect_error("ValidationException", c.create_secret, Name="bad name!", SecretString="x")
    expect_error("EncryptionFailure", c.create_secret, Name="badkey", SecretString="x",
                 KmsKeyId="alias/no-such-key")
    expect_error("ResourceNotFoundException", c.describe_secret, SecretId="badkey")


def test_create_without_value(fb):
    c = sm(fb)
    r = c.create_secret(Name="empty-for-now", Description="later")
    assert "VersionId" not in r
    e = expect_error("ResourceNotFoundException", c.get_secret_value, SecretId="empty-for-now")
    assert "staging label: AWSCURRENT" in str(e)
    d = c.describe_secret(SecretId="empty-for-now")
    assert "VersionIdsToStages" not in d and d["Description"] == "later"
    r = c.put_secret_value(SecretId="empty-for-now", SecretString="now")
    assert r["VersionStages"] == ["AWSCURRENT"]
    assert c.get_secret_value(SecretId="empty-for-now")["SecretString"] == "now"


def test_create_idempotent_token(fb):
    c = sm(fb)
    tok = "11111111-2222-3333-4444-555555555555"
    a = c.create_secret(Name="idem", SecretString="same", ClientRequestToken=tok)
    b = c.create_secret(Name="idem", SecretString="same", ClientRequestToken=tok)
    assert a["ARN"] == b["ARN"] and a["VersionId"] == b["VersionId"] == tok
    expect_error("ResourceExistsException", c.create_secret, Name="idem", SecretString="other",
                 ClientRequestToken=tok)


def test_put_secret_value_rotation(fb):
    c = sm(fb)
    v1 = create(fb, "rot", "one")["VersionId"]
    v2 = fb.aws("secretsmanager", "put-secret-value", "--secret-id", "rot",
                "--secret-string", "two")
    assert v2["VersionStages"] == ["AWSCURRENT"] and v2["Name"] == "rot"
    v2 = v2["VersionId"]
    stages = c.describe_secret(SecretId="rot")["VersionIdsToStages"]
    assert stages == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    v3 = c.put_secret_value(SecretId="rot", SecretString="three")["VersionId"]
    stages = c.describe_secret(SecretId="rot")["VersionIdsToStages"]
    assert stages == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert c.get_secret_value(SecretId="rot")["SecretString"] == "three"
    assert c.get_secret_value(SecretId="rot", VersionStage="AWSPREVIOUS")["SecretString"] == "two"
    old = c.get_secret_value(SecretId="rot", VersionId=v1)
    assert old["SecretString"] == "one" and "VersionStages" not in old or old["VersionStages"] == []
    expect_error("InvalidRequestException", c.get_secret_value, SecretId="rot", VersionId=v3,
                 VersionStage="AWSPREVIOUS")
    expect_error("ResourceNotFoundException", c.get_secret_value, SecretId="rot",
                 VersionStage="NOPE")
    # v1 has no label left: deprecated, listed only on request
    ids = [v["VersionId"] for v in c.list_secret_version_ids(SecretId="rot")["Versions"]]
    assert sorted(ids) == sorted([v2, v3])
    allv = c.list_secret_version_ids(SecretId="rot", IncludeDeprecated=True)["Versions"]
    assert sorted(v["VersionId"] for v in allv) == sorted([v1, v2, v3])
    for v in allv:
        assert v["KmsKeyIds"] == ["DefaultEncryptionKey"] and "CreatedDate" in v
    page = c.list_secret_version_ids(SecretId="rot", IncludeDeprecated=True, MaxResults=2)
    assert len(page["Versions"]) == 2 and "NextToken" in page
    rest = c.list_secret_version_ids(SecretId="rot", IncludeDeprecated=True, MaxResults=2,
                                     NextToken=page["NextToken"])
    assert len(rest["Versions"]) == 1 and "NextToken" not in rest


def test_put_idempotency_and_errors(fb):
    c = sm(fb)
    create(fb, "idem-put", "a")
    tok = "abcdefab-1234-4234-8234-abcdefabcdef"
    r1 = c.put_secret_value(SecretId="idem-put", SecretString="b", ClientRequestToken=tok)
    r2 = c.put_secret_value(SecretId="idem-put", SecretString="b", ClientRequestToken=tok)
    assert r1["VersionId"] == r2["VersionId"] == tok
    assert len(c.list_secret_version_ids(SecretId="idem-put", IncludeDeprecated=True)["Versions"]) == 2
    expect_error("ResourceExistsException", c.put_secret_value, SecretId="idem-put",
                 SecretString="different", ClientRequestToken=tok)
    expect_error("InvalidParameterException", c.put_secret_value, SecretId="idem-put",
                 SecretString="x", SecretBinary=b"y")
    expect_error("InvalidRequestException", c.put_secret_value, SecretId="idem-put")
    assert c.get_secret_value(SecretId="idem-put")["SecretString"] == "b"


def test_put_custom_stage(fb):
    c = sm(fb)
    v1 = create(fb, "staged", "live")["VersionId"]
    v2 = c.put_secret_value(SecretId="staged", SecretString="candidate",
                            VersionStages=["STAGING"])["VersionId"]
    assert c.get_secret_value(SecretId="staged")["SecretString"] == "live"
    assert c.get_secret_value(SecretId="staged", VersionStage="STAGING")["SecretString"] == "candidate"
    assert c.describe_secret(SecretId="staged")["VersionIdsToStages"] == {
        v1: ["AWSCURRENT"], v2: ["STAGING"]}


def test_update_secret_version_stage(fb):
    c = sm(fb)
    v1 = create(fb, "uvs", "one")["VersionId"]
    v2 = c.put_secret_value(SecretId="uvs", SecretString="two")["VersionId"]
    e = expect_error("InvalidParameterException", c.update_secret_version_stage, SecretId="uvs",
                     VersionStage="AWSCURRENT", MoveToVersionId=v1)
    assert "RemoveFromVersionId" in str(e)
    # roll back: AWSCURRENT to v1, AWSPREVIOUS follows to v2
    fb.aws("secretsmanager", "update-secret-version-stage", "--secret-id", "uvs",
           "--version-stage", "AWSCURRENT", "--move-to-version-id", v1,
           "--remove-from-version-id", v2)
    assert c.get_secret_value(SecretId="uvs")["SecretString"] == "one"
    assert c.describe_secret(SecretId="uvs")["VersionIdsToStages"] == {
        v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}
    # custom labels attach and detach
    c.update_secret_version_stage(SecretId="uvs", VersionStage="BLUE", MoveToVersionId=v2)
    assert c.get_secret_value(SecretId="uvs", VersionStage="BLUE")["SecretString"] == "two"
    c.update_secret_version_stage(SecretId="uvs", VersionStage="BLUE", RemoveFromVersionId=v2)
    expect_error("ResourceNotFoundException", c.get_secret_value, SecretId="uvs", VersionStage="BLUE")
    expect_error("InvalidParameterException", c.update_secret_version_stage, SecretId="uvs",
                 VersionStage="AWSCURRENT", RemoveFromVersionId=v1)
    expect_error("InvalidParameterException", c.update_secret_version_stage, SecretId="uvs",
                 VersionStage="X", MoveToVersionId="00000000-0000-0000-0000-000000000000")


def test_describe_secret(fb):
    c = sm(fb)
    r = c.create_secret(Name="desc", SecretString="x", Description="the db",
                        Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}])
    d = fb.aws("secretsmanager", "describe-secret", "--secret-id", "desc")
    assert d["ARN"] == r["ARN"] and d["Name"] == "desc" and d["Description"] == "the db"
    assert d["RotationEnabled"] is False and "KmsKeyId" not in d and "DeletedDate" not in d
    assert d["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}]
    assert d["VersionIdsToStages"] == {r["VersionId"]: ["AWSCURRENT"]}
    assert "CreatedDate" in d and "LastChangedDate" in d
    c.get_secret_value(SecretId="desc")
    assert "LastAccessedDate" in c.describe_secret(SecretId="desc")


def test_customer_kms_key(fb):
    c, kms = sm(fb), fb.client("kms")
    key = kms.create_key(Description="for secrets")["KeyMetadata"]
    kms.create_alias(AliasName="alias/secrets", TargetKeyId=key["KeyId"])
    c.create_secret(Name="cmk", SecretString="under cmk", KmsKeyId="alias/secrets")
    d = c.describe_secret(SecretId="cmk")
    assert d["KmsKeyId"] == "alias/secrets"
    vers = c.list_secret_version_ids(SecretId="cmk")["Versions"]
    assert vers[0]["KmsKeyIds"] == [key["Arn"]]
    kms.disable_key(KeyId=key["KeyId"])
    expect_error("DecryptionFailure", c.get_secret_value, SecretId="cmk")
    expect_error("EncryptionFailure", c.put_secret_value, SecretId="cmk", SecretString="new")
    kms.enable_key(KeyId=key["KeyId"])
    assert c.get_secret_value(SecretId="cmk")["SecretString"] == "under cmk"


def test_update_secret_description_and_key(fb):
    c, kms = sm(fb), fb.client("kms")
    create(fb, "upd", "keep me")
    r = c.update_secret(SecretId="upd", Description="new desc")
    assert "VersionId" not in r
    assert c.describe_secret(SecretId="upd")["Description"] == "new desc"
    k2 = kms.create_key()["KeyMetadata"]
    c.update_secret(SecretId="upd", KmsKeyId=k2["KeyId"])
    assert c.describe_secret(SecretId="upd")["KmsKeyId"] == k2["KeyId"]
    # the current value was re-encrypted under the new key
    v = c.list_secret_version_ids(SecretId="upd")["Versions"][0]
    assert v["KmsKeyIds"] == [k2["Arn"]]
    assert c.get_secret_value(SecretId="upd")["SecretString"] == "keep me"
    kms.disable_key(KeyId=k2["KeyId"])
    expect_error("DecryptionFailure", c.get_secret_value, SecretId="upd")
    kms.enable_key(KeyId=k2["KeyId"])
    r = c.update_secret(SecretId="upd", SecretString="changed")
    assert len(r["VersionId"]) == 36
    assert c.get_secret_value(SecretId="upd")["SecretString"] == "changed"


def test_delete_and_restore(fb):
    c = sm(fb)
    arn = create(fb, "del-me", "x")["ARN"]
    before = time.time()
    r = fb.aws("secretsmanager", "delete-secret", "--secret-id", "del-me",
               "--recovery-window-in-days", "7")
    assert r["ARN"] == arn
    e = expect_error("InvalidRequestException", c.get_secret_value, SecretId="del-me")
    assert "You can't perform this operation on the secret because it was marked for deletion." in str(e)
    got = c.describe_secret(SecretId="del-me")
    assert "DeletedDate" in got and got["ARN"] == arn
    e = expect_error("InvalidRequestException", c.create_secret, Name="del-me", SecretString="y")
    assert "already scheduled for deletion" in str(e)
    expect_error("InvalidRequestException", c.put_secret_value, SecretId="del-me", SecretString="y")
    expect_error("InvalidRequestException", c.update_secret, SecretId="del-me", SecretString="y")
    expect_error("InvalidRequestException", c.delete_secret, SecretId="del-me")
    assert "del-me" not in [s["Name"] for s in c.list_secrets()["SecretList"]]
    fb.aws("secretsmanager", "restore-secret", "--secret-id", arn)
    assert c.get_secret_value(SecretId="del-me")["SecretString"] == "x"
    assert "DeletedDate" not in c.describe_secret(SecretId="del-me")
    r = c.delete_secret(SecretId="del-me")
    window = r["DeletionDate"].timestamp() - before
    assert 30 * 86400 - 60 < window < 30 * 86400 + 60, window


def test_delete_validation(fb):
    c = sm(fb)
    create(fb, "delval", "x")
    expect_error("InvalidParameterException", c.delete_secret, SecretId="delval",
                 RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    expect_error("InvalidParameterException", c.delete_secret, SecretId="delval",
                 RecoveryWindowInDays=6)
    expect_error("InvalidParameterException", c.delete_secret, SecretId="delval",
                 RecoveryWindowInDays=31)
    assert c.get_secret_value(SecretId="delval")["SecretString"] == "x"


def test_force_delete(fb):
    c = sm(fb)
    create(fb, "force", "x")
    c.delete_secret(SecretId="force", ForceDeleteWithoutRecovery=True)
    expect_error("ResourceNotFoundException", c.describe_secret, SecretId="force")
    create(fb, "force", "reborn")
    assert c.get_secret_value(SecretId="force")["SecretString"] == "reborn"


def test_purge_after_window(fb):
    c = sm(fb)
    create(fb, "purge-me", "x", Tags=[{"Key": "a", "Value": "b"}])
    c.delete_secret(SecretId="purge-me", RecoveryWindowInDays=7)
    # pretend the 7 days passed: move the purge time into the past (the
    # daemon holds the database exclusively, so edit it while stopped)
    fb.stop()
    db = sqlite3.connect(os.path.join(fb.data_dir, "state.db"), timeout=10)
    db.execute("UPDATE sm_secrets SET purge_at = 1 WHERE name = 'purge-me'")
    db.commit()
    db.close()
    fb.start()
    c = sm(fb)
    expect_error("ResourceNotFoundException", c.describe_secret, SecretId="purge-me")
    fb.stop()
    db = sqlite3.connect(os.path.join(fb.data_dir, "state.db"), timeout=10)
    counts = [db.execute(q).fetchone()[0] for q in (
        "SELECT count(*) FROM sm_secrets WHERE name = 'purge-me'",
        "SELECT count(*) FROM sm_versions WHERE secret_id NOT IN (SELECT id FROM sm_secrets)",
        "SELECT count(*) FROM sm_tags WHERE secret_id NOT IN (SELECT id FROM sm_secrets)",
        "SELECT count(*) FROM sm_stages WHERE secret_id NOT IN (SELECT id FROM sm_secrets)")]
    db.close()
    fb.start()
    assert counts == [0, 0, 0, 0], counts
    create(fb, "purge-me", "new life")


def test_list_secrets_filters_and_pages(fb):
    c = sm(fb, "ap-south-1")
    names = ["lst/alpha", "lst/beta", "lst/gamma", "other/delta"]
    for i, n in enumerate(names):
        c.create_secret(Name=n, SecretString="v", Description="Payments DB %d" % i,
                        Tags=[{"Key": "env", "Value": "prod" if i % 2 == 0 else "dev"}])
    def listed(**kw):
        return [s["Name"] for s in c.list_secrets(**kw)["SecretList"]]
    assert listed() == names
    assert listed(SortOrder="desc") == names[::-1]
    assert listed(Filters=[{"Key": "name", "Values": ["lst/"]}]) == names[:3]
    assert listed(Filters=[{"Key": "name", "Values": ["LST/"]}]) == []
    assert listed(Filters=[{"Key": "name", "Values": ["!lst/"]}]) == ["other/delta"]
    assert listed(Filters=[{"Key": "description", "Values": ["payments db 3"]}]) == ["other/delta"]
    assert listed(Filters=[{"Key": "tag-key", "Values": ["env"]}]) == names
    assert listed(Filters=[{"Key": "tag-value", "Values": ["prod"]}]) == ["lst/alpha", "lst/gamma"]
    assert listed(Filters=[{"Key": "tag-value", "Values": ["prod"]},
                           {"Key": "name", "Values": ["lst/g"]}]) == ["lst/gamma"]
    assert listed(Filters=[{"Key": "all", "Values": ["gamma"]}]) == ["lst/gamma"]
    assert listed(Filters=[{"Key": "all", "Values": ["PAYMENTS"]}]) == names
    e = c.list_secrets(Filters=[{"Key": "name", "Values": ["lst/alpha"]}])["SecretList"][0]
    assert e["Tags"] == [{"Key": "env", "Value": "prod"}] and len(e["SecretVersionsToStages"]) == 1
    p1 = c.list_secrets(MaxResults=3)
    assert len(p1["SecretList"]) == 3 and "NextToken" in p1
    p2 = c.list_secrets(MaxResults=3, NextToken=p1["NextToken"])
    assert [s["Name"] for s in p2["SecretList"]] == ["other/delta"] and "NextToken" not in p2
    expect_error("InvalidNextTokenException", c.list_secrets, NextToken="bogus")
    cli = fb.aws("secretsmanager", "list-secrets", "--filters", "Key=name,Values=lst/",
                 region="ap-south-1")
    assert [s["Name"] for s in cli["SecretList"]] == names[:3]


def test_tags(fb):
    c = sm(fb)
    create(fb, "tagged", "x", Tags=[{"Key": "a", "Value": "1"}])
    fb.aws("secretsmanager", "tag-resource", "--secret-id", "tagged", "--tags",
           "Key=b,Value=2", "Key=a,Value=3")
    assert c.describe_secret(SecretId="tagged")["Tags"] == [
        {"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    c.untag_resource(SecretId="tagged", TagKeys=["a", "zzz"])
    assert c.describe_secret(SecretId="tagged")["Tags"] == [{"Key": "b", "Value": "2"}]
    expect_error("InvalidParameterException", c.tag_resource, SecretId="tagged",
                 Tags=[{"Key": "aws:x", "Value": "1"}])
    expect_error("ResourceNotFoundException", c.tag_resource, SecretId="nope",
                 Tags=[{"Key": "k", "Value": "v"}])


def test_random_password(fb):
    c = sm(fb)
    punct = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    pw = fb.aws("secretsmanager", "get-random-password")["RandomPassword"]
    assert len(pw) == 32
    for _ in range(20):
        p = c.get_random_password(PasswordLength=8)["RandomPassword"]
        assert len(p) == 8
        assert any(ch.islower() for ch in p) and any(ch.isupper() for ch in p)
        assert any(ch.isdigit() for ch in p) and any(ch in punct for ch in p)
    p = c.get_random_password(PasswordLength=200, ExcludePunctuation=True,
                              ExcludeCharacters="abcdefABCDEF012")["RandomPassword"]
    assert p.isalnum() and not set(p) & set("abcdefABCDEF012")
    p = c.get_random_password(PasswordLength=50, ExcludeNumbers=True, ExcludeLowercase=True,
                              ExcludeUppercase=True)["RandomPassword"]
    assert set(p) <= punct
    # only "!" and space left to choose from: a space is all but certain
    # (2^-64 to miss), and nothing else may appear
    p = c.get_random_password(PasswordLength=64, IncludeSpace=True, ExcludeNumbers=True,
                              ExcludeLowercase=True, ExcludeUppercase=True,
                              ExcludeCharacters="".join(sorted(punct - {"!"})),
                              RequireEachIncludedType=False)["RandomPassword"]
    assert " " in p and set(p) <= {"!", " "}, p
    expect_error("InvalidParameterException", c.get_random_password, PasswordLength=3)
    expect_error("InvalidParameterException", c.get_random_password, ExcludeNumbers=True,
                 ExcludeLowercase=True, ExcludeUppercase=True, ExcludePunctuation=True)
    many = {c.get_random_password()["RandomPassword"] for _ in range(5)}
    assert len(many) == 5


def test_resource_policy(fb):
    c = sm(fb)
    arn = create(fb, "pol", "x")["ARN"]
    assert "ResourcePolicy" not in c.get_resource_policy(SecretId="pol")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    r = fb.aws("secretsmanager", "put-resource-policy", "--secret-id", "pol",
               "--resource-policy", policy, "--block-public-policy")
    assert r == {"ARN": arn, "Name": "pol"}
    assert c.get_resource_policy(SecretId="pol")["ResourcePolicy"] == policy
    expect_error("MalformedPolicyDocumentException", c.put_resource_policy, SecretId="pol",
                 ResourcePolicy="{nope")
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}]})
    expect_error("PublicPolicyException", c.put_resource_policy, SecretId="pol",
                 ResourcePolicy=public, BlockPublicPolicy=True)
    v = c.validate_resource_policy(ResourcePolicy=public)
    assert v["PolicyValidationPassed"] is False and v["ValidationErrors"]
    assert c.validate_resource_policy(SecretId="pol", ResourcePolicy=policy)["PolicyValidationPassed"]
    c.delete_resource_policy(SecretId="pol")
    assert "ResourcePolicy" not in c.get_resource_policy(SecretId="pol")


def batch_get(fb, body):
    """BatchGetSecretValue over raw signed JSON: Debian's botocore 1.29
    predates the operation, so its clients cannot send it."""
    ct = {"Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "secretsmanager.BatchGetSecretValue"}
    text = json.dumps(body)
    status, _, out = fb.http("POST", "/", text, lib.sign(fb, "secretsmanager", text, ct))
    return status, json.loads(out)


def test_batch_get_secret_value(fb):
    sm = fb.client("secretsmanager")
    a = sm.create_secret(Name="batch/a", SecretString="alpha")
    sm.create_secret(Name="batch/b", SecretBinary=b"\x00\x01beta")
    sm.create_secret(Name="other/c", SecretString="gamma")
    status, out = batch_get(fb, {"SecretIdList": [a["ARN"], "batch/b", "batch/missing"]})
    assert status == 200, out
    got = {v["Name"]: v for v in out["SecretValues"]}
    assert set(got) == {"batch/a", "batch/b"}, out
    assert got["batch/a"]["SecretString"] == "alpha"
    assert got["batch/a"]["VersionStages"] == ["AWSCURRENT"]
    import base64
    assert base64.b64decode(got["batch/b"]["SecretBinary"]) == b"\x00\x01beta"
    assert [(e["SecretId"], e["ErrorCode"]) for e in out["Errors"]] == \
        [("batch/missing", "ResourceNotFoundException")], out
    # by filter, one page at a time
    status, out = batch_get(fb, {"Filters": [{"Key": "name", "Values": ["batch/"]}],
                                 "MaxResults": 1})
    assert status == 200 and len(out["SecretValues"]) == 1 and out.get("NextToken"), out
    first = out["SecretValues"][0]["Name"]
    status, out = batch_get(fb, {"Filters": [{"Key": "name", "Values": ["batch/"]}],
                                 "MaxResults": 1, "NextToken": out["NextToken"]})
    assert status == 200 and len(out["SecretValues"]) == 1, out
    assert {first, out["SecretValues"][0]["Name"]} == {"batch/a", "batch/b"}
    # model constraints from the overlay: 1..20 ids
    status, out = batch_get(fb, {"SecretIdList": ["s%d" % i for i in range(21)]})
    assert status == 400 and out["__type"] == "ValidationException", out
    # a newer CLI calls it natively (the machine image's pip CLI v1, when
    # there; CI machines built only from scripts/setup.sh lack it)
    v1 = "/root/.pyenv/shims/aws"
    if os.path.exists(v1):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = subprocess.run([v1, "--endpoint-url", fb.endpoint, "secretsmanager",
                            "batch-get-secret-value", "--secret-id-list", "batch/a", "batch/b"],
                           capture_output=True, text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        names = sorted(v["Name"] for v in json.loads(p.stdout)["SecretValues"])
        assert names == ["batch/a", "batch/b"], p.stdout


def test_kill9_right_after_put_loses_nothing(fb):
    c = sm(fb)
    create(fb, "crash", "before")
    v = c.put_secret_value(SecretId="crash", SecretString="after-put")["VersionId"]
    c.tag_resource(SecretId="crash", Tags=[{"Key": "t", "Value": "1"}])
    fb.restart(kill=True)
    c = sm(fb)
    got = c.get_secret_value(SecretId="crash")
    assert got["SecretString"] == "after-put" and got["VersionId"] == v
    assert c.get_secret_value(SecretId="crash", VersionStage="AWSPREVIOUS")["SecretString"] == "before"
    assert c.describe_secret(SecretId="crash")["Tags"] == [{"Key": "t", "Value": "1"}]


def test_no_plaintext_on_disk(fb):
    c = sm(fb)
    marker = "fogbank-plaintext-canary-7f3a9c1e"
    c.create_secret(Name="canary", SecretString=json.dumps({"password": marker}))
    c.put_secret_value(SecretId="canary", SecretString=marker + "-v2")
    c.create_secret(Name="canary-bin", SecretBinary=marker.encode() + b"-bin")
    c.update_secret(SecretId="canary", SecretString=marker + "-v3")
    for _ in range(3):
        c.get_secret_value(SecretId="canary")
    fb.kill9()  # leave the -wal and -shm files as a crash would
    try:
        found = []
        for root, _, files in os.walk(fb.data_dir):
            for f in files:
                path = os.path.join(root, f)
                with open(path, "rb") as fh:
                    data = fh.read()
                if marker.encode() in data or marker.encode("utf-16-le") in data:
                    found.append(path)
        names = sorted(f for _, _, fs in os.walk(fb.data_dir) for f in fs)
        assert any(n.endswith("-wal") for n in names), names
        with open(fb.log_path, "rb") as fh:
            if marker.encode() in fh.read():
                found.append(fb.log_path)
        assert not found, "plaintext secret found in %s" % found
    finally:
        fb.start()
    assert sm(fb).get_secret_value(SecretId="canary")["SecretString"] == marker + "-v3"


def test_hot_cache_invalidation(fb):
    """GetSecretValue is answered from an in-memory cache (ciphertext only);
    every write must show in the very next read, in every form of lookup
    that was cached before it."""
    c, kms = sm(fb), fb.client("kms")
    arn = create(fb, "hot/db", "v1")["ARN"]
    partial = arn.rsplit("-", 1)[0]

    def reads(want, stage_prev=None):
        for _ in range(2):  # the second read of each form is a cache hit
            for sid in ("hot/db", arn, partial):
                assert c.get_secret_value(SecretId=sid)["SecretString"] == want, sid
            if stage_prev is not None:
                got = c.get_secret_value(SecretId="hot/db", VersionStage="AWSPREVIOUS")
                assert got["SecretString"] == stage_prev

    reads("v1")
    v2 = c.put_secret_value(SecretId="hot/db", SecretString="v2")["VersionId"]
    reads("v2", "v1")
    got = c.get_secret_value(SecretId="hot/db", VersionId=v2)
    assert got["VersionStages"] == ["AWSCURRENT"]
    r = c.update_secret(SecretId="hot/db", SecretString="v3")
    reads("v3", "v2")
    # the version read by id lost AWSCURRENT: its cached labels must follow
    assert c.get_secret_value(SecretId="hot/db", VersionId=v2)["VersionStages"] == ["AWSPREVIOUS"]
    # move AWSCURRENT back by hand
    c.update_secret_version_stage(SecretId="hot/db", VersionStage="AWSCURRENT",
                                  MoveToVersionId=v2, RemoveFromVersionId=r["VersionId"])
    reads("v2", "v3")
    # a custom label, read before and after it moves
    c.put_secret_value(SecretId="hot/db", SecretString="staged", VersionStages=["STAGE"])
    assert c.get_secret_value(SecretId="hot/db", VersionStage="STAGE")["SecretString"] == "staged"
    reads("v2", "v3")
    c.update_secret_version_stage(SecretId="hot/db", VersionStage="STAGE", MoveToVersionId=v2,
                                  RemoveFromVersionId=c.get_secret_value(
                                      SecretId="hot/db", VersionStage="STAGE")["VersionId"])
    assert c.get_secret_value(SecretId="hot/db", VersionStage="STAGE")["SecretString"] == "v2"
    c.update_secret_version_stage(SecretId="hot/db", VersionStage="STAGE",
                                  RemoveFromVersionId=v2)
    expect_error("ResourceNotFoundException", c.get_secret_value, SecretId="hot/db",
                 VersionStage="STAGE")
    # tags and policies do not change the value, but must not break reads
    c.tag_resource(SecretId="hot/db", Tags=[{"Key": "k", "Value": "v"}])
    c.untag_resource(SecretId="hot/db", TagKeys=["k"])
    reads("v2", "v3")
    # a new KMS key: values re-encrypted; the cache holds only ciphertext,
    # so disabling the key is seen by the next read
    k2 = kms.create_key()["KeyMetadata"]
    c.update_secret(SecretId="hot/db", KmsKeyId=k2["KeyId"])
    reads("v2", "v3")
    kms.disable_key(KeyId=k2["KeyId"])
    expect_error("DecryptionFailure", c.get_secret_value, SecretId="hot/db")
    kms.enable_key(KeyId=k2["KeyId"])
    reads("v2", "v3")
    # batch reads share the cache
    status, got = batch_get(fb, {"SecretIdList": ["hot/db", arn]})
    assert status == 200 and [v["SecretString"] for v in got["SecretValues"]] == ["v2", "v2"]
    # delete (window), restore, force delete, re-create under the same name
    c.delete_secret(SecretId="hot/db", RecoveryWindowInDays=7)
    for sid in ("hot/db", arn, partial):
        expect_error("InvalidRequestException", c.get_secret_value, SecretId=sid)
    c.restore_secret(SecretId="hot/db")
    reads("v2", "v3")
    c.delete_secret(SecretId="hot/db", ForceDeleteWithoutRecovery=True)
    for sid in ("hot/db", arn, partial):
        expect_error("ResourceNotFoundException", c.get_secret_value, SecretId=sid)
    arn2 = create(fb, "hot/db", "reborn")["ARN"]
    assert arn2 != arn
    assert c.get_secret_value(SecretId="hot/db")["SecretString"] == "reborn"
    expect_error("ResourceNotFoundException", c.get_secret_value, SecretId=arn)
    assert c.get_secret_value(SecretId=arn2.rsplit("-", 1)[0])["SecretString"] == "reborn"


def test_hot_cache_accounts_and_regions(fb):
    """One name in several accounts and regions: each read answers from
    its own account and region, cached or not."""
    where = [("test", "us-east-1"), ("test", "eu-west-1"), ("111122223333", "us-east-1"),
             ("111122223333", "eu-west-1")]
    clients = [fb.client("secretsmanager", access_key=k, region=r) for k, r in where]
    for i, cl in enumerate(clients):
        cl.create_secret(Name="same/name", SecretString="value-%d" % i)
    for _ in range(3):
        for i, cl in enumerate(clients):
            got = cl.get_secret_value(SecretId="same/name")
            assert got["SecretString"] == "value-%d" % i
            k, r = where[i]
            account = "000000000000" if k == "test" else k
            assert (":%s:%s:" % (r, account)) in got["ARN"]
    # another account's full ARN is not found from here, even once cached there
    other = clients[3].get_secret_value(SecretId="same/name")["ARN"]
    expect_error("ResourceNotFoundException", clients[0].get_secret_value, SecretId=other)
    clients[1].put_secret_value(SecretId="same/name", SecretString="changed")
    assert clients[1].get_secret_value(SecretId="same/name")["SecretString"] == "changed"
    for i in (0, 2, 3):
        assert clients[i].get_secret_value(SecretId="same/name")["SecretString"] == "value-%d" % i


if __name__ == "__main__":
    lib.main(globals())
