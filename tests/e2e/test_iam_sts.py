#!/usr/bin/python3
"""test_iam_sts.py - IAM users, access keys, roles and STS credentials
against one fogbank, with the real aws CLI v2 and boto3.

Identity checks go through the CLI (what users type); error paths mostly
through boto3, which is faster and exposes the error code directly."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import AwsError, expect_error  # noqa: E402

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
})


def iam(fb, **kw):
    return fb.client("iam", **kw)


def sts(fb, **kw):
    return fb.client("sts", **kw)


def raw(fb, service, access_key="test", secret="test"):
    """A boto3 client that skips botocore's own parameter validation, so
    out-of-range input reaches fogbank and its answer can be checked."""
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=fb.endpoint, region_name="us-east-1",
                        aws_access_key_id=access_key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}, parameter_validation=False))


def new_user_with_key(fb, name, path=None):
    """Creates user name and an access key; returns (akid, secret)."""
    args = ["create-user", "--user-name", name] + (["--path", path] if path else [])
    fb.aws("iam", *args)
    k = fb.aws("iam", "create-access-key", "--user-name", name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


# -- caller identity for the static keys ---------------------------------
def test_caller_identity_test_key(fb):
    r = fb.aws("sts", "get-caller-identity")
    assert r["Account"] == "000000000000", r
    assert r["Arn"] == "arn:aws:iam::000000000000:root", r
    assert r["UserId"] == "000000000000", r


def test_caller_identity_twelve_digit_key(fb):
    r = fb.aws("sts", "get-caller-identity", access_key="111122223333")
    assert r["Account"] == "111122223333", r
    assert r["Arn"] == "arn:aws:iam::111122223333:root", r
    r = sts(fb, access_key="444455556666").get_caller_identity()
    assert r["Account"] == "444455556666"


def test_unknown_and_bad_keys(fb):
    expect_error("InvalidClientTokenId", fb.aws, "sts", "get-caller-identity",
                 access_key="AKIAIOSFODNN7EXAMPLE")
    for akid in ("nonsense", "12345678901", "ASIAIOSFODNN7EXAMPLE"):
        expect_error("InvalidClientTokenId", sts(fb, access_key=akid).get_caller_identity)
    expect_error("SignatureDoesNotMatch", fb.aws, "sts", "get-caller-identity", secret="nottest")
    expect_error("SignatureDoesNotMatch", sts(fb, access_key="111122223333", secret="wrong")
                 .get_caller_identity)


# -- minted keys ---------------------------------------------------------
def test_minted_key_identity(fb):
    akid, secret = new_user_with_key(fb, "alice", "/eng/")
    assert akid.startswith("AKIA") and len(akid) == 20, akid
    assert len(secret) == 40, secret
    r = fb.aws("sts", "get-caller-identity", access_key=akid, secret=secret)
    assert r["Arn"] == "arn:aws:iam::000000000000:user/eng/alice", r
    assert r["Account"] == "000000000000"
    assert r["UserId"].startswith("AIDA"), r
    u = fb.aws("iam", "get-user", access_key=akid, secret=secret)["User"]
    assert u["UserName"] == "alice" and u["Path"] == "/eng/" and u["UserId"] == r["UserId"], u
    expect_error("SignatureDoesNotMatch", fb.aws, "sts", "get-caller-identity",
                 access_key=akid, secret=secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    expect_error("SignatureDoesNotMatch", fb.aws, "sts", "get-caller-identity",
                 access_key=akid, secret="test")


def test_minted_key_in_other_account(fb):
    c = iam(fb, access_key="210987654321")
    c.create_user(UserName="bob")
    k = c.create_access_key(UserName="bob")["AccessKey"]
    who = sts(fb, access_key=k["AccessKeyId"], secret=k["SecretAccessKey"]).get_caller_identity()
    assert who["Account"] == "210987654321", who
    assert who["Arn"] == "arn:aws:iam::210987654321:user/bob", who
    # account 000000000000 has no bob
    expect_error("NoSuchEntity", iam(fb).get_user, UserName="bob")


def test_deactivate_and_delete_key(fb):
    akid, secret = new_user_with_key(fb, "carol")
    c = iam(fb)
    c.update_access_key(UserName="carol", AccessKeyId=akid, Status="Inactive")
    meta = c.list_access_keys(UserName="carol")["AccessKeyMetadata"]
    assert [(m["AccessKeyId"], m["Status"]) for m in meta] == [(akid, "Inactive")], meta
    expect_error("InvalidClientTokenId", fb.aws, "sts", "get-caller-identity",
                 access_key=akid, secret=secret)
    c.update_access_key(UserName="carol", AccessKeyId=akid, Status="Active")
    r = fb.aws("sts", "get-caller-identity", access_key=akid, secret=secret)
    assert r["Arn"].endswith(":user/carol"), r
    fb.aws("iam", "delete-access-key", "--user-name", "carol", "--access-key-id", akid)
    expect_error("InvalidClientTokenId", sts(fb, access_key=akid, secret=secret).get_caller_identity)
    expect_error("ValidationError", raw(fb, "iam").update_access_key, UserName="carol",
                 AccessKeyId=akid, Status="Paused")
    fb.aws("iam", "delete-user", "--user-name", "carol")


def test_user_manages_own_keys(fb):
    akid, secret = new_user_with_key(fb, "dave")
    me = iam(fb, access_key=akid, secret=secret)
    k2 = me.create_access_key()["AccessKey"]
    assert k2["UserName"] == "dave"
    ids = sorted(m["AccessKeyId"] for m in me.list_access_keys()["AccessKeyMetadata"])
    assert ids == sorted([akid, k2["AccessKeyId"]]), ids
    expect_error("LimitExceeded", me.create_access_key)
    me.delete_access_key(AccessKeyId=k2["AccessKeyId"])
    assert len(me.list_access_keys()["AccessKeyMetadata"]) == 1


def test_root_access_keys(fb):
    c = iam(fb, access_key="333344445555")
    k = c.create_access_key()["AccessKey"]
    who = sts(fb, access_key=k["AccessKeyId"], secret=k["SecretAccessKey"]).get_caller_identity()
    assert who["Arn"] == "arn:aws:iam::333344445555:root", who
    assert [m["AccessKeyId"] for m in c.list_access_keys()["AccessKeyMetadata"]] == [k["AccessKeyId"]]
    c.delete_access_key(AccessKeyId=k["AccessKeyId"])


# -- users ---------------------------------------------------------------
def test_user_errors(fb):
    c = iam(fb)
    c.create_user(UserName="erin")
    expect_error("EntityAlreadyExists", c.create_user, UserName="erin")
    expect_error("EntityAlreadyExists", c.create_user, UserName="ERIN")
    expect_error("NoSuchEntity", c.get_user, UserName="nobody")
    expect_error("NoSuchEntity", c.delete_user, UserName="nobody")
    expect_error("NoSuchEntity", c.create_access_key, UserName="nobody")
    expect_error("NoSuchEntity", c.list_access_keys, UserName="nobody")
    expect_error("ValidationError", c.create_user, UserName="bad name")
    expect_error("ValidationError", c.create_user, UserName="x", Path="nopath")
    k = c.create_access_key(UserName="erin")["AccessKey"]
    expect_error("DeleteConflict", c.delete_user, UserName="erin")
    expect_error("NoSuchEntity", c.update_access_key, UserName="erin",
                 AccessKeyId="AKIAAAAAAAAAAAAAAAAA", Status="Inactive")
    expect_error("NoSuchEntity", c.delete_access_key, UserName="erin",
                 AccessKeyId="AKIAAAAAAAAAAAAAAAAA")
    # a key is only found under its own user
    c.create_user(UserName="frank")
    expect_error("NoSuchEntity", c.delete_access_key, UserName="frank",
                 AccessKeyId=k["AccessKeyId"])
    c.create_access_key(UserName="erin")
    expect_error("LimitExceeded", c.create_access_key, UserName="erin")
    for m in c.list_access_keys(UserName="erin")["AccessKeyMetadata"]:
        c.delete_access_key(UserName="erin", AccessKeyId=m["AccessKeyId"])
    c.delete_user(UserName="erin")
    expect_error("NoSuchEntity", c.get_user, UserName="erin")
    # GetUser of the case-folded name finds the stored spelling
    assert c.get_user(UserName="FRANK")["User"]["UserName"] == "frank"


def test_get_user_as_root(fb):
    u = fb.aws("iam", "get-user", access_key="555566667777")["User"]
    assert u["Arn"] == "arn:aws:iam::555566667777:root", u
    assert u["UserId"] == "555566667777", u


def test_list_users_paging(fb):
    c = iam(fb, access_key="666677778888")
    names = ["u%d" % i for i in range(5)]
    for n in names:
        c.create_user(UserName=n, Path="/pg/")
    c.create_user(UserName="other", Path="/elsewhere/")
    seen, marker, pages = [], None, 0
    while True:
        kw = {"PathPrefix": "/pg/", "MaxItems": 2}
        if marker:
            kw["Marker"] = marker
        r = c.list_users(**kw)
        pages += 1
        seen += [u["UserName"] for u in r["Users"]]
        if not r["IsTruncated"]:
            break
        marker = r["Marker"]
    assert seen == names and pages == 3, (seen, pages)
    all_users = [u["UserName"] for u in c.list_users()["Users"]]
    assert all_users == sorted(names + ["other"]), all_users
    u = c.list_users(PathPrefix="/elsewhere/")["Users"]
    assert [x["Arn"] for x in u] == ["arn:aws:iam::666677778888:user/elsewhere/other"], u
    cli = fb.aws("iam", "list-users", access_key="666677778888")["Users"]
    assert len(cli) == 6, cli
    expect_error("ValidationError", raw(fb, "iam").list_users, MaxItems=0)


def test_user_tags(fb):
    c = iam(fb)
    c.create_user(UserName="tagged", Tags=[{"Key": "team", "Value": "a"}])
    assert c.get_user(UserName="tagged")["User"]["Tags"] == [{"Key": "team", "Value": "a"}]
    c.tag_user(UserName="tagged", Tags=[{"Key": "Team", "Value": "b"}, {"Key": "env", "Value": ""}])
    tags = c.list_user_tags(UserName="tagged")["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("Team", "b"), ("env", "")], tags
    c.untag_user(UserName="tagged", TagKeys=["TEAM"])
    assert c.list_user_tags(UserName="tagged")["Tags"] == [{"Key": "env", "Value": ""}]
    expect_error("NoSuchEntity", c.tag_user, UserName="ghost", Tags=[{"Key": "a", "Value": "b"}])
    expect_error("NoSuchEntity", c.list_user_tags, UserName="ghost")
    expect_error("InvalidInput", c.tag_user, UserName="tagged",
                 Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}])
    expect_error("LimitExceeded", c.tag_user, UserName="tagged",
                 Tags=[{"Key": "k%d" % i, "Value": "v"} for i in range(50)])
    assert len(c.list_user_tags(UserName="tagged")["Tags"]) == 1  # rolled back


# -- roles ---------------------------------------------------------------
def test_roles(fb):
    c = iam(fb)
    r = c.create_role(RoleName="app", Path="/svc/", AssumeRolePolicyDocument=TRUST,
                      Description="the app", MaxSessionDuration=7200,
                      Tags=[{"Key": "k", "Value": "v"}])["Role"]
    assert r["RoleId"].startswith("AROA") and len(r["RoleId"]) == 20, r
    assert r["Arn"] == "arn:aws:iam::000000000000:role/svc/app", r
    g = c.get_role(RoleName="app")["Role"]
    # botocore URL-decodes and parses the document; equal means AWS's encoding
    assert g["AssumeRolePolicyDocument"] == json.loads(TRUST), g
    assert g["Description"] == "the app" and g["MaxSessionDuration"] == 7200, g
    assert g["Tags"] == [{"Key": "k", "Value": "v"}], g
    cli = fb.aws("iam", "get-role", "--role-name", "app")["Role"]
    assert cli["AssumeRolePolicyDocument"] == json.loads(TRUST), cli
    assert [x["RoleName"] for x in c.list_roles(PathPrefix="/svc/")["Roles"]] == ["app"]
    expect_error("EntityAlreadyExists", c.create_role, RoleName="APP", AssumeRolePolicyDocument=TRUST)
    expect_error("MalformedPolicyDocument", c.create_role, RoleName="bad",
                 AssumeRolePolicyDocument="{not json")
    expect_error("MalformedPolicyDocument", c.create_role, RoleName="bad",
                 AssumeRolePolicyDocument="[1, 2]")
    expect_error("ValidationError", raw(fb, "iam").create_role, RoleName="bad",
                 AssumeRolePolicyDocument=TRUST, MaxSessionDuration=60)
    expect_error("NoSuchEntity", c.get_role, RoleName="bad")
    expect_error("NoSuchEntity", c.delete_role, RoleName="bad")
    c.tag_role(RoleName="app", Tags=[{"Key": "x", "Value": "y"}])
    assert len(c.list_role_tags(RoleName="app")["Tags"]) == 2
    c.untag_role(RoleName="app", TagKeys=["x"])
    assert c.list_role_tags(RoleName="app")["Tags"] == [{"Key": "k", "Value": "v"}]
    c.update_role(RoleName="app", MaxSessionDuration=3600)
    assert c.get_role(RoleName="app")["Role"]["MaxSessionDuration"] == 3600
    c.delete_role(RoleName="app")
    expect_error("NoSuchEntity", c.get_role, RoleName="app")
    expect_error("NoSuchEntity", c.list_role_tags, RoleName="app")


def test_list_roles_paging(fb):
    c = iam(fb, access_key="777788889999")
    for i in range(3):
        c.create_role(RoleName="r%d" % i, AssumeRolePolicyDocument=TRUST)
    r = c.list_roles(MaxItems=2)
    assert [x["RoleName"] for x in r["Roles"]] == ["r0", "r1"] and r["IsTruncated"], r
    r = c.list_roles(MaxItems=2, Marker=r["Marker"])
    assert [x["RoleName"] for x in r["Roles"]] == ["r2"] and not r["IsTruncated"], r


# -- STS -----------------------------------------------------------------
def test_assume_role(fb):
    iam(fb).create_role(RoleName="deployer", AssumeRolePolicyDocument=TRUST,
                        MaxSessionDuration=7200)
    role_id = iam(fb).get_role(RoleName="deployer")["Role"]["RoleId"]
    r = fb.aws("sts", "assume-role", "--role-arn", "arn:aws:iam::000000000000:role/deployer",
               "--role-session-name", "ci-run", "--duration-seconds", "7200")
    cr = r["Credentials"]
    assert cr["AccessKeyId"].startswith("ASIA") and len(cr["AccessKeyId"]) == 20, cr
    assert len(cr["SessionToken"]) > 100, cr
    assert r["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/deployer/ci-run", r
    assert r["AssumedRoleUser"]["AssumedRoleId"] == role_id + ":ci-run", r
    env = {"AWS_SESSION_TOKEN": cr["SessionToken"]}
    who = fb.aws("sts", "get-caller-identity", access_key=cr["AccessKeyId"],
                 secret=cr["SecretAccessKey"], env=env)
    assert who["Arn"] == r["AssumedRoleUser"]["Arn"], who
    assert who["UserId"] == role_id + ":ci-run", who
    assert who["Account"] == "000000000000"
    # boto3 too
    who = sts(fb, access_key=cr["AccessKeyId"], secret=cr["SecretAccessKey"],
              token=cr["SessionToken"]).get_caller_identity()
    assert who["Arn"] == r["AssumedRoleUser"]["Arn"]
    # without or with a wrong token: rejected
    try:
        fb.aws("sts", "get-caller-identity", access_key=cr["AccessKeyId"],
               secret=cr["SecretAccessKey"])
        raise AssertionError("temporary key accepted without its session token")
    except AwsError as e:
        assert e.code == "InvalidClientTokenId", e
    try:
        sts(fb, access_key=cr["AccessKeyId"], secret=cr["SecretAccessKey"],
            token=cr["SessionToken"][:-4] + "AAAA").get_caller_identity()
        raise AssertionError("temporary key accepted with a wrong session token")
    except AssertionError:
        raise
    except Exception as e:
        assert e.response["Error"]["Code"] == "InvalidClientTokenId", e
    # the role session cannot get a session token, nor GetUser without a name
    as_role = dict(access_key=cr["AccessKeyId"], secret=cr["SecretAccessKey"], token=cr["SessionToken"])
    expect_error("AccessDenied", sts(fb, **as_role).get_session_token)
    expect_error("ValidationError", iam(fb, **as_role).get_user)
    # role chaining is limited to an hour
    expect_error("ValidationError", sts(fb, **as_role).assume_role,
                 RoleArn="arn:aws:iam::000000000000:role/deployer", RoleSessionName="chain",
                 DurationSeconds=7200)
    chained = sts(fb, **as_role).assume_role(
        RoleArn="arn:aws:iam::000000000000:role/deployer", RoleSessionName="chain")
    assert chained["AssumedRoleUser"]["Arn"].endswith("assumed-role/deployer/chain")


def test_assume_role_errors(fb):
    c = raw(fb, "sts")
    iam(fb).create_role(RoleName="short", Path="/p/", AssumeRolePolicyDocument=TRUST)
    expect_error("AccessDenied", c.assume_role, RoleArn="arn:aws:iam::000000000000:role/missing",
                 RoleSessionName="s1")
    # another account's role of the same name does not exist either
    expect_error("AccessDenied", c.assume_role, RoleArn="arn:aws:iam::123456789012:role/p/short",
                 RoleSessionName="s1")
    # the path is part of the ARN
    expect_error("AccessDenied", c.assume_role, RoleArn="arn:aws:iam::000000000000:role/short",
                 RoleSessionName="s1")
    arn = "arn:aws:iam::000000000000:role/p/short"
    expect_error("ValidationError", c.assume_role, RoleArn=arn, RoleSessionName="s1",
                 DurationSeconds=3601)  # above the role's MaxSessionDuration
    expect_error("ValidationError", c.assume_role, RoleArn=arn, RoleSessionName="s1",
                 DurationSeconds=899)
    expect_error("ValidationError", c.assume_role, RoleArn=arn, RoleSessionName="bad name")
    expect_error("ValidationError", c.assume_role, RoleArn=arn, RoleSessionName="x")
    expect_error("ValidationError", c.assume_role, RoleArn="arn:aws:s3:::not-a-role-arn",
                 RoleSessionName="s1")
    expect_error("MalformedPolicyDocument", c.assume_role, RoleArn=arn, RoleSessionName="s1",
                 Policy="{oops")
    r = c.assume_role(RoleArn=arn, RoleSessionName="s1", DurationSeconds=900)
    assert r["AssumedRoleUser"]["Arn"] == "arn:aws:sts::000000000000:assumed-role/short/s1", r
    # a role in another account can be assumed (trust policies come later)
    iam(fb, access_key="123456789012").create_role(RoleName="xacct", AssumeRolePolicyDocument=TRUST)
    r = c.assume_role(RoleArn="arn:aws:iam::123456789012:role/xacct", RoleSessionName="s2")
    cr = r["Credentials"]
    who = sts(fb, access_key=cr["AccessKeyId"], secret=cr["SecretAccessKey"],
              token=cr["SessionToken"]).get_caller_identity()
    assert who["Account"] == "123456789012", who


def test_get_session_token(fb):
    akid, secret = new_user_with_key(fb, "gina")
    r = fb.aws("sts", "get-session-token", "--duration-seconds", "900", access_key=akid, secret=secret)
    cr = r["Credentials"]
    assert cr["AccessKeyId"].startswith("ASIA"), cr
    who = fb.aws("sts", "get-caller-identity", access_key=cr["AccessKeyId"],
                 secret=cr["SecretAccessKey"], env={"AWS_SESSION_TOKEN": cr["SessionToken"]})
    assert who["Arn"] == "arn:aws:iam::000000000000:user/gina", who
    # the session acts as the user: GetUser without a name is gina
    u = iam(fb, access_key=cr["AccessKeyId"], secret=cr["SecretAccessKey"],
            token=cr["SessionToken"]).get_user()["User"]
    assert u["UserName"] == "gina", u
    # root can call it too
    root = sts(fb).get_session_token()["Credentials"]
    who = sts(fb, access_key=root["AccessKeyId"], secret=root["SecretAccessKey"],
              token=root["SessionToken"]).get_caller_identity()
    assert who["Arn"] == "arn:aws:iam::000000000000:root", who
    expect_error("ValidationError", raw(fb, "sts").get_session_token, DurationSeconds=129601)
    expect_error("ValidationError", raw(fb, "sts").get_session_token, DurationSeconds=100)
    expect_error("AccessDenied", sts(fb, access_key=root["AccessKeyId"],
                                     secret=root["SecretAccessKey"],
                                     token=root["SessionToken"]).get_session_token)


# -- durability ----------------------------------------------------------
def test_access_key_last_used(fb):
    akid, secret = new_user_with_key(fb, "ivy")
    lu = iam(fb).get_access_key_last_used(AccessKeyId=akid)
    assert lu["UserName"] == "ivy"
    assert lu["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}, lu
    t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    sts(fb, access_key=akid, secret=secret).get_caller_identity()
    lu = iam(fb).get_access_key_last_used(AccessKeyId=akid)["AccessKeyLastUsed"]
    assert lu["ServiceName"] == "sts" and lu["Region"] == "us-east-1", lu
    assert lu["LastUsedDate"] >= t0, lu
    fb.client("secretsmanager", access_key=akid, secret=secret,
              region="eu-west-1").list_secrets()
    lu = iam(fb).get_access_key_last_used(AccessKeyId=akid)["AccessKeyLastUsed"]
    assert (lu["ServiceName"], lu["Region"]) == ("secretsmanager", "eu-west-1"), lu
    # a signature that does not verify is not a use
    expect_error("SignatureDoesNotMatch", fb.aws, "sts", "get-caller-identity",
                 access_key=akid, secret="test", region="ap-south-1")
    lu = iam(fb).get_access_key_last_used(AccessKeyId=akid)["AccessKeyLastUsed"]
    assert lu["Region"] == "eu-west-1", lu
    fb.restart()  # written to the store at the latest on shutdown
    lu = iam(fb).get_access_key_last_used(AccessKeyId=akid)["AccessKeyLastUsed"]
    assert (lu["ServiceName"], lu["Region"]) == ("secretsmanager", "eu-west-1"), lu
    assert lu["LastUsedDate"] >= t0, lu
    expect_error("NoSuchEntity", iam(fb).get_access_key_last_used,
                 AccessKeyId="AKIA" + "Z" * 16)


def test_kill9_keeps_keys_and_sessions(fb):
    akid, secret = new_user_with_key(fb, "henry")
    iam(fb).create_role(RoleName="survivor", AssumeRolePolicyDocument=TRUST)
    cr = sts(fb).assume_role(RoleArn="arn:aws:iam::000000000000:role/survivor",
                             RoleSessionName="s9")["Credentials"]
    fb.restart(kill=True)
    r = fb.aws("sts", "get-caller-identity", access_key=akid, secret=secret)
    assert r["Arn"] == "arn:aws:iam::000000000000:user/henry", r
    who = sts(fb, access_key=cr["AccessKeyId"], secret=cr["SecretAccessKey"],
              token=cr["SessionToken"]).get_caller_identity()
    assert who["Arn"].endswith("assumed-role/survivor/s9"), who
    assert iam(fb).get_role(RoleName="survivor")["Role"]["RoleName"] == "survivor"
    # secrets are not stored in plaintext
    with open(os.path.join(fb.data_dir, "state.db"), "rb") as f:
        data = f.read()
    wal = os.path.join(fb.data_dir, "state.db-wal")
    if os.path.exists(wal):
        with open(wal, "rb") as f:
            data += f.read()
    assert secret.encode() not in data and cr["SecretAccessKey"].encode() not in data
    assert cr["SessionToken"].encode() not in data


if __name__ == "__main__":
    lib.main(globals())
