#!/usr/bin/python3
"""test_kms.py - KMS end to end, through Debian's aws CLI v2 and boto3.

Covers keys (create/describe by id, ARN, alias, alias ARN; list with
pagination), aliases and their rules, real envelope crypto (Encrypt,
Decrypt without KeyId, ReEncrypt, data keys, encryption context enforced,
tampering detected), key states (disable, rotation flags, scheduled
deletion and its cancellation), tags, key policies, and durability across
kill -9.
"""
import base64
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402


def new_key(fb, **kw):
    return fb.client("kms").create_key(**kw)["KeyMetadata"]


def test_create_and_describe_every_way(fb):
    k = fb.aws("kms", "create-key", "--description", "app key")["KeyMetadata"]
    assert k["KeyState"] == "Enabled" and k["Enabled"] is True
    assert k["KeyManager"] == "CUSTOMER" and k["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert k["KeyUsage"] == "ENCRYPT_DECRYPT" and k["Origin"] == "AWS_KMS"
    assert k["Arn"] == "arn:aws:kms:us-east-1:%s:key/%s" % (k["AWSAccountId"], k["KeyId"])
    fb.aws("kms", "create-alias", "--alias-name", "alias/app", "--target-key-id", k["KeyId"])
    alias_arn = "arn:aws:kms:us-east-1:%s:alias/app" % k["AWSAccountId"]
    for ref in (k["KeyId"], k["Arn"], "alias/app", alias_arn):
        d = fb.aws("kms", "describe-key", "--key-id", ref)["KeyMetadata"]
        assert d["KeyId"] == k["KeyId"] and d["Description"] == "app key", ref


def test_unknown_keys_not_found(fb):
    kms = fb.client("kms")
    expect_error("NotFoundException", kms.describe_key, KeyId="11111111-2222-3333-4444-555555555555")
    expect_error("NotFoundException", kms.describe_key, KeyId="alias/nope")
    expect_error("NotFoundException", kms.describe_key, KeyId="not-a-key")
    e = expect_error("NotFoundException", fb.aws, "kms", "describe-key", "--key-id", "alias/missing")
    assert "is not found" in e.message


def test_keys_are_per_region(fb):
    k = new_key(fb)
    west = fb.client("kms", region="us-west-2")
    expect_error("NotFoundException", west.describe_key, KeyId=k["KeyId"])
    assert k["KeyId"] not in [x["KeyId"] for x in west.list_keys()["Keys"]]


def test_create_key_rejects_unsupported_specs(fb):
    kms = fb.client("kms")
    expect_error("UnsupportedOperationException", kms.create_key, KeySpec="RSA_2048",
                 KeyUsage="SIGN_VERIFY")
    expect_error("ValidationException", kms.create_key, KeyUsage="SIGN_VERIFY")
    expect_error("UnsupportedOperationException", kms.create_key, Origin="EXTERNAL")
    expect_error("MalformedPolicyDocumentException", kms.create_key, Policy="{not json")


def test_list_keys_pagination(fb):
    kms = fb.client("kms", region="eu-west-1")
    made = [new_key_in(kms)["KeyId"] for _ in range(5)]
    seen, marker, pages = [], None, 0
    while True:
        args = {"Limit": 2}
        if marker:
            args["Marker"] = marker
        r = kms.list_keys(**args)
        pages += 1
        assert len(r["Keys"]) <= 2
        seen += [k["KeyId"] for k in r["Keys"]]
        if not r["Truncated"]:
            assert "NextMarker" not in r
            break
        marker = r["NextMarker"]
    assert seen == made and pages == 3
    expect_error("InvalidMarkerException", kms.list_keys, Marker="garbage")
    # the CLI paginates on its own
    cli = fb.aws("kms", "list-keys", "--page-size", "2", region="eu-west-1")
    assert [k["KeyId"] for k in cli["Keys"]] == made


def new_key_in(kms, **kw):
    return kms.create_key(**kw)["KeyMetadata"]


def test_alias_rules(fb):
    kms = fb.client("kms")
    k1, k2 = new_key(fb), new_key(fb)
    expect_error("ValidationException", kms.create_alias, AliasName="noprefix", TargetKeyId=k1["KeyId"])
    expect_error("NotAuthorizedException", kms.create_alias, AliasName="alias/aws/mine",
                 TargetKeyId=k1["KeyId"])
    kms.create_alias(AliasName="alias/rules", TargetKeyId=k1["KeyId"])
    expect_error("AlreadyExistsException", kms.create_alias, AliasName="alias/rules",
                 TargetKeyId=k2["KeyId"])
    expect_error("ValidationException", kms.create_alias, AliasName="alias/other",
                 TargetKeyId="alias/rules")
    expect_error("NotFoundException", kms.create_alias, AliasName="alias/x",
                 TargetKeyId="11111111-2222-3333-4444-555555555555")
    kms.update_alias(AliasName="alias/rules", TargetKeyId=k2["Arn"])
    assert kms.describe_key(KeyId="alias/rules")["KeyMetadata"]["KeyId"] == k2["KeyId"]
    expect_error("NotFoundException", kms.update_alias, AliasName="alias/none", TargetKeyId=k1["KeyId"])
    listed = {a["AliasName"]: a for a in kms.list_aliases()["Aliases"]}
    assert listed["alias/rules"]["TargetKeyId"] == k2["KeyId"]
    assert listed["alias/rules"]["AliasArn"].endswith(":alias/rules")
    assert "CreationDate" in listed["alias/rules"]
    only = kms.list_aliases(KeyId=k2["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in only] == ["alias/rules"]
    fb.aws("kms", "delete-alias", "--alias-name", "alias/rules")
    expect_error("NotFoundException", kms.delete_alias, AliasName="alias/rules")
    expect_error("NotFoundException", kms.describe_key, KeyId="alias/rules")


def test_encrypt_decrypt_cli(fb):
    k = new_key(fb)
    d = tempfile.mkdtemp(prefix="fogbank-kms-cli-")
    pt = os.path.join(d, "pt.bin")
    with open(pt, "wb") as f:
        f.write(b"\x00\x01binary\xffplaintext")
    enc = fb.aws("kms", "encrypt", "--key-id", k["KeyId"], "--plaintext", "fileb://" + pt,
                 "--encryption-context", "app=web,env=prod")
    assert enc["KeyId"] == k["Arn"] and enc["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = base64.b64decode(enc["CiphertextBlob"])
    assert b"plaintext" not in blob
    ct = os.path.join(d, "ct.bin")
    with open(ct, "wb") as f:
        f.write(blob)
    # no --key-id: the blob says which key
    dec = fb.aws("kms", "decrypt", "--ciphertext-blob", "fileb://" + ct,
                 "--encryption-context", "env=prod,app=web")
    assert base64.b64decode(dec["Plaintext"]) == b"\x00\x01binary\xffplaintext"
    assert dec["KeyId"] == k["Arn"]
    expect_error("InvalidCiphertextException", fb.aws, "kms", "decrypt", "--ciphertext-blob",
                 "fileb://" + ct, "--encryption-context", "app=web,env=dev")
    shutil.rmtree(d, ignore_errors=True)


def test_encryption_context_and_tampering(fb):
    kms = fb.client("kms")
    k = new_key(fb)
    ctx = {"SecretARN": "arn:x", "purpose": "test"}
    blob = kms.encrypt(KeyId=k["KeyId"], Plaintext=b"hello", EncryptionContext=ctx)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"] == b"hello"
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob)
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob,
                 EncryptionContext={"SecretARN": "arn:x"})
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob,
                 EncryptionContext=dict(ctx, purpose="prod"))
    for i in (0, 20, len(blob) // 2, len(blob) - 1):
        bad = bytearray(blob)
        bad[i] ^= 0x40
        expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(bad),
                     EncryptionContext=ctx)
    expect_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"short garbage")
    other = new_key(fb)
    expect_error("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=ctx,
                 KeyId=other["KeyId"])
    # two encryptions of the same plaintext differ (random IV)
    b2 = kms.encrypt(KeyId=k["KeyId"], Plaintext=b"hello", EncryptionContext=ctx)["CiphertextBlob"]
    assert b2 != blob


def test_re_encrypt(fb):
    kms = fb.client("kms")
    a, b = new_key(fb), new_key(fb)
    blob = kms.encrypt(KeyId=a["KeyId"], Plaintext=b"move me", EncryptionContext={"k": "1"})["CiphertextBlob"]
    r = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"k": "1"},
                       DestinationKeyId=b["Arn"], DestinationEncryptionContext={"k": "2"})
    assert r["SourceKeyId"] == a["Arn"] and r["KeyId"] == b["Arn"]
    out = kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"k": "2"})
    assert out["Plaintext"] == b"move me" and out["KeyId"] == b["Arn"]
    expect_error("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=blob,
                 DestinationKeyId=b["KeyId"])


def test_data_keys_and_random(fb):
    kms = fb.client("kms")
    k = new_key(fb)
    dk = kms.generate_data_key(KeyId=k["KeyId"], KeySpec="AES_256", EncryptionContext={"a": "b"})
    assert len(dk["Plaintext"]) == 32 and dk["KeyId"] == k["Arn"]
    back = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"a": "b"})
    assert back["Plaintext"] == dk["Plaintext"]
    assert len(kms.generate_data_key(KeyId=k["KeyId"], KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=k["KeyId"], NumberOfBytes=7)["Plaintext"]) == 7
    wp = kms.generate_data_key_without_plaintext(KeyId=k["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in wp
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 32
    expect_error("ValidationException", kms.generate_data_key, KeyId=k["KeyId"])
    expect_error("ValidationException", kms.generate_data_key, KeyId=k["KeyId"], KeySpec="AES_256",
                 NumberOfBytes=32)
    r1 = kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    r2 = fb.aws("kms", "generate-random", "--number-of-bytes", "16")
    assert len(r1) == 1024 and len(base64.b64decode(r2["Plaintext"])) == 16
    expect_error("ValidationException", kms.generate_random, NumberOfBytes=1025)


def test_disable_enable(fb):
    kms = fb.client("kms")
    k = new_key(fb)
    blob = kms.encrypt(KeyId=k["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    fb.aws("kms", "disable-key", "--key-id", k["KeyId"])
    assert kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    expect_error("DisabledException", kms.encrypt, KeyId=k["KeyId"], Plaintext=b"x")
    expect_error("DisabledException", kms.decrypt, CiphertextBlob=blob)
    expect_error("DisabledException", kms.generate_data_key, KeyId=k["KeyId"], KeySpec="AES_256")
    fb.aws("kms", "enable-key", "--key-id", k["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_rotation_flags(fb):
    kms = fb.client("kms")
    k = new_key(fb)
    assert kms.get_key_rotation_status(KeyId=k["KeyId"])["KeyRotationEnabled"] is False
    fb.aws("kms", "enable-key-rotation", "--key-id", k["KeyId"])
    assert fb.aws("kms", "get-key-rotation-status", "--key-id", k["KeyId"])["KeyRotationEnabled"] is True
    kms.disable_key_rotation(KeyId=k["KeyId"])
    assert kms.get_key_rotation_status(KeyId=k["KeyId"])["KeyRotationEnabled"] is False
    kms.disable_key(KeyId=k["KeyId"])
    expect_error("DisabledException", kms.enable_key_rotation, KeyId=k["KeyId"])


def test_schedule_and_cancel_deletion(fb):
    kms = fb.client("kms")
    k = new_key(fb)
    blob = kms.encrypt(KeyId=k["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    expect_error("ValidationException", kms.schedule_key_deletion, KeyId=k["KeyId"], PendingWindowInDays=6)
    expect_error("ValidationException", kms.schedule_key_deletion, KeyId=k["KeyId"], PendingWindowInDays=31)
    r = fb.aws("kms", "schedule-key-deletion", "--key-id", k["KeyId"], "--pending-window-in-days", "7")
    assert r["KeyState"] == "PendingDeletion" and r["PendingWindowInDays"] == 7
    assert r["KeyId"] == k["Arn"] and "DeletionDate" in r
    md = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and md["Enabled"] is False
    assert md["PendingDeletionWindowInDays"] == 7 and "DeletionDate" in md
    expect_error("KMSInvalidStateException", kms.encrypt, KeyId=k["KeyId"], Plaintext=b"x")
    expect_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)
    expect_error("KMSInvalidStateException", kms.enable_key, KeyId=k["KeyId"])
    expect_error("KMSInvalidStateException", kms.schedule_key_deletion, KeyId=k["KeyId"])
    fb.aws("kms", "cancel-key-deletion", "--key-id", k["KeyId"])
    assert kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    expect_error("KMSInvalidStateException", kms.cancel_key_deletion, KeyId=k["KeyId"])
    kms.enable_key(KeyId=k["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    # default window is 30 days
    k2 = new_key(fb)
    assert kms.schedule_key_deletion(KeyId=k2["KeyId"])["PendingWindowInDays"] == 30


def test_tags(fb):
    kms = fb.client("kms")
    k = new_key(fb, Tags=[{"TagKey": "team", "TagValue": "core"}])
    fb.aws("kms", "tag-resource", "--key-id", k["KeyId"], "--tags",
           "TagKey=env,TagValue=prod", "TagKey=team,TagValue=infra")
    tags = kms.list_resource_tags(KeyId=k["KeyId"])["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "infra"}, {"TagKey": "env", "TagValue": "prod"}]
    kms.untag_resource(KeyId=k["KeyId"], TagKeys=["team"])
    assert kms.list_resource_tags(KeyId=k["KeyId"])["Tags"] == [{"TagKey": "env", "TagValue": "prod"}]
    expect_error("TagException", kms.tag_resource, KeyId=k["KeyId"],
                 Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])
    page = kms.list_resource_tags(KeyId=k["KeyId"], Limit=1)
    assert page["Truncated"] is False


def test_key_policy_and_description(fb):
    kms = fb.client("kms")
    k = new_key(fb)
    assert kms.list_key_policies(KeyId=k["KeyId"])["PolicyNames"] == ["default"]
    pol = kms.get_key_policy(KeyId=k["KeyId"], PolicyName="default")["Policy"]
    assert '"kms:*"' in pol
    new = '{"Version":"2012-10-17","Statement":[]}'
    kms.put_key_policy(KeyId=k["KeyId"], PolicyName="default", Policy=new)
    assert kms.get_key_policy(KeyId=k["KeyId"], PolicyName="default")["Policy"] == new
    expect_error("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=k["KeyId"],
                 PolicyName="default", Policy="[")
    kms.update_key_description(KeyId=k["KeyId"], Description="renamed")
    assert kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["Description"] == "renamed"


def test_managed_secretsmanager_key(fb):
    fb.aws("secretsmanager", "create-secret", "--name", "kms-managed-probe", "--secret-string", "v")
    kms = fb.client("kms")
    md = kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
    assert md["KeyManager"] == "AWS"
    assert md["Description"] == "Default key that protects my Secrets Manager data when no other key is defined"
    names = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert "alias/aws/secretsmanager" in names
    expect_error("UnsupportedOperationException", kms.disable_key, KeyId=md["KeyId"])
    expect_error("NotAuthorizedException", kms.delete_alias, AliasName="alias/aws/secretsmanager")


def test_durable_across_kill9(fb):
    kms = fb.client("kms")
    k = new_key(fb)
    kms.create_alias(AliasName="alias/durable", TargetKeyId=k["KeyId"])
    blob = kms.encrypt(KeyId="alias/durable", Plaintext=b"survives")["CiphertextBlob"]
    kms.disable_key_rotation(KeyId=k["KeyId"])
    fb.restart(kill=True)
    kms = fb.client("kms")
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"survives"
    assert kms.describe_key(KeyId="alias/durable")["KeyMetadata"]["KeyId"] == k["KeyId"]
    st = os.stat(os.path.join(fb.data_dir, "master.key"))
    assert st.st_mode & 0o777 == 0o600 and st.st_size == 32


if __name__ == "__main__":
    lib.main(globals())
