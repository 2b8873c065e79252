#!/usr/bin/python3
"""test_s3_ssec.py - SSE-C (customer-provided keys) end to end with Debian's
boto3, s3transfer (multipart upload_file / download_file) and aws CLI v2
(`s3 cp --sse-c`): the bytes come back only with the right key, AWS's
errors for a missing, wrong or malformed key, copies between keys, parts
that must carry the upload's key, and neither the plaintext nor the key
anywhere in the data dir.
"""
import base64
import glob
import hashlib
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402

KEY = hashlib.sha256(b"fogbank ssec test key one").digest()
KEY2 = hashlib.sha256(b"fogbank ssec test key two").digest()
MIB = 1 << 20


def sse(key=KEY, prefix=""):
    """The boto3 arguments naming SSE-C key `key` (CopySource when prefix)."""
    return {prefix + "SSECustomerAlgorithm": "AES256", prefix + "SSECustomerKey": key}


def b64md5(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def in_data_dir(fb, needle):
    """True when needle appears in any file under the data dir."""
    for path in glob.glob(os.path.join(fb.data_dir, "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if needle in f.read():
                    return True
    return False


def raw_get(fb, key, headers):
    """A GET of ssec/<key> signed with botocore's SigV4 carrying headers."""
    h = lib.sign(fb, "s3", b"", dict(headers, **{"x-amz-content-sha256": hashlib.sha256(b"").hexdigest()}),
                 method="GET", path="/ssec/" + key)
    return fb.http("GET", "/ssec/" + key, headers=h)


def test_put_get_head_with_the_key(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="ssec")
    small = b"SSEC-SMALL-SECRET " * 100
    big = os.urandom(150000) + b"SSEC-BIG-SECRET" + os.urandom(150000)
    r = s3.put_object(Bucket="ssec", Key="small", Body=small, **sse())
    assert r["SSECustomerAlgorithm"] == "AES256" and r["SSECustomerKeyMD5"] == b64md5(KEY)
    assert "ServerSideEncryption" not in r, r
    s3.put_object(Bucket="ssec", Key="big", Body=big, **sse())
    g = s3.get_object(Bucket="ssec", Key="big", **sse())
    assert g["Body"].read() == big
    assert g["SSECustomerKeyMD5"] == b64md5(KEY) and "ServerSideEncryption" not in g
    assert s3.get_object(Bucket="ssec", Key="small", **sse())["Body"].read() == small
    # a range across a 64 KiB record boundary decrypts just those bytes
    g = s3.get_object(Bucket="ssec", Key="big", Range="bytes=65530-65545", **sse())
    assert g["Body"].read() == big[65530:65546]
    h = s3.head_object(Bucket="ssec", Key="big", **sse())
    assert h["ContentLength"] == len(big) and h["SSECustomerAlgorithm"] == "AES256"
    # DeleteObject needs no key
    s3.put_object(Bucket="ssec", Key="gone", Body=b"x", **sse())
    s3.delete_object(Bucket="ssec", Key="gone")
    expect_error("NoSuchKey", s3.get_object, Bucket="ssec", Key="gone", **sse())


def test_missing_wrong_and_misplaced_keys(fb):
    s3 = fb.client("s3")
    e = expect_error("InvalidRequest", s3.get_object, Bucket="ssec", Key="big")
    assert "stored using a form of Server Side Encryption" in str(e)
    e = expect_error("AccessDenied", s3.get_object, Bucket="ssec", Key="big", **sse(KEY2))
    assert "must provide the correct secret key" in str(e)
    # HEAD answers without a body: botocore reports the status only
    expect_error("400", s3.head_object, Bucket="ssec", Key="big")
    expect_error("403", s3.head_object, Bucket="ssec", Key="big", **sse(KEY2))
    s3.put_object(Bucket="ssec", Key="plain", Body=b"plain")
    e = expect_error("InvalidRequest", s3.get_object, Bucket="ssec", Key="plain", **sse())
    assert "not applicable" in str(e)
    assert s3.get_object(Bucket="ssec", Key="plain")["Body"].read() == b"plain"


def test_malformed_parameters(fb):
    s3 = fb.client("s3")
    k64 = base64.b64encode(KEY).decode()
    # raw headers: boto3 would compute the MD5 and refuse odd values itself
    status, _, body = raw_get(fb, "big", {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": k64,
        "x-amz-server-side-encryption-customer-key-MD5": b64md5(KEY2)})
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body and b"MD5 hash" in body, body
    status, _, body = raw_get(fb, "big", {
        "x-amz-server-side-encryption-customer-algorithm": "AES128",
        "x-amz-server-side-encryption-customer-key": k64})
    assert status == 400 and b"InvalidEncryptionAlgorithmError" in body, body
    status, _, body = raw_get(fb, "big", {"x-amz-server-side-encryption-customer-key": k64})
    assert status == 400 and b"valid encryption algorithm" in body, body
    # no MD5 at all: AWS accepts a read with algorithm and key only
    status, hdrs, body = raw_get(fb, "small", {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": k64})
    assert status == 200 and body.startswith(b"SSEC-SMALL-SECRET"), (status, body[:200])
    assert hdrs["x-amz-server-side-encryption-customer-key-md5"] == b64md5(KEY)
    e = expect_error("InvalidArgument", s3.put_object, Bucket="ssec", Key="short", Body=b"x",
                     **sse(b"only sixteen byt"))
    assert "secret key was invalid" in str(e)
    e = expect_error("InvalidArgument", s3.put_object, Bucket="ssec", Key="both", Body=b"x",
                     ServerSideEncryption="AES256", **sse())
    assert "incompatible" in str(e)


def test_copy_between_keys(fb):
    s3 = fb.client("s3")
    big = s3.get_object(Bucket="ssec", Key="big", **sse())["Body"].read()
    r = s3.copy_object(Bucket="ssec", Key="rekeyed", CopySource="ssec/big",
                       **sse(KEY, "CopySource"), **sse(KEY2))
    assert r["SSECustomerKeyMD5"] == b64md5(KEY2)
    assert s3.get_object(Bucket="ssec", Key="rekeyed", **sse(KEY2))["Body"].read() == big
    expect_error("AccessDenied", s3.get_object, Bucket="ssec", Key="rekeyed", **sse(KEY))
    # decrypting copy, and a copy whose source key is missing or wrong
    s3.copy_object(Bucket="ssec", Key="decrypted", CopySource="ssec/big", **sse(KEY, "CopySource"))
    assert s3.get_object(Bucket="ssec", Key="decrypted")["Body"].read() == big
    s3.delete_object(Bucket="ssec", Key="decrypted")  # plaintext by request; not kept
    expect_error("InvalidRequest", s3.copy_object, Bucket="ssec", Key="x", CopySource="ssec/big")
    expect_error("AccessDenied", s3.copy_object, Bucket="ssec", Key="x", CopySource="ssec/big",
                 **sse(KEY2, "CopySource"))
    # encrypting copy of a plain object; SSE-C wins over the bucket default
    s3.put_bucket_encryption(Bucket="ssec", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    r = s3.copy_object(Bucket="ssec", Key="sealed", CopySource="ssec/plain", **sse())
    assert "ServerSideEncryption" not in r and r["SSECustomerAlgorithm"] == "AES256"
    expect_error("InvalidRequest", s3.get_object, Bucket="ssec", Key="sealed")
    assert s3.get_object(Bucket="ssec", Key="sealed", **sse())["Body"].read() == b"plain"
    s3.delete_bucket_encryption(Bucket="ssec")


def test_multipart_with_s3transfer_and_parts(fb):
    import boto3.s3.transfer as T
    s3 = fb.client("s3")
    d = tempfile.mkdtemp()
    data = os.urandom(11 * MIB + 4321)
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(data)
    # upload_file sends the key with every part but not with Complete
    cfg = T.TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(os.path.join(d, "f"), "ssec", "mp", ExtraArgs=sse(), Config=cfg)
    g = s3.get_object(Bucket="ssec", Key="mp", **sse())
    assert g["Body"].read() == data and g["ETag"].endswith('-3"'), g["ETag"]
    g = s3.get_object(Bucket="ssec", Key="mp", Range="bytes=%d-%d" % (5 * MIB - 10, 5 * MIB + 9), **sse())
    assert g["Body"].read() == data[5 * MIB - 10:5 * MIB + 10]
    g = s3.get_object(Bucket="ssec", Key="mp", PartNumber=2, **sse())
    assert g["Body"].read() == data[5 * MIB:10 * MIB]
    s3.download_file("ssec", "mp", os.path.join(d, "back"), ExtraArgs=sse(), Config=cfg)
    assert open(os.path.join(d, "back"), "rb").read() == data
    expect_error("AccessDenied", s3.get_object, Bucket="ssec", Key="mp", **sse(KEY2))
    # parts must carry the upload's key
    up = s3.create_multipart_upload(Bucket="ssec", Key="parts", **sse())
    assert up["SSECustomerKeyMD5"] == b64md5(KEY)
    uid = up["UploadId"]
    e = expect_error("InvalidRequest", s3.upload_part, Bucket="ssec", Key="parts", UploadId=uid,
                     PartNumber=1, Body=b"x")
    assert "initiate requested encryption" in str(e)
    e = expect_error("InvalidRequest", s3.upload_part, Bucket="ssec", Key="parts", UploadId=uid,
                     PartNumber=1, Body=b"x", **sse(KEY2))
    assert "did not match" in str(e)
    p1 = s3.upload_part(Bucket="ssec", Key="parts", UploadId=uid, PartNumber=1,
                        Body=data[:5 * MIB], **sse())
    assert p1["SSECustomerKeyMD5"] == b64md5(KEY)
    # UploadPartCopy: an SSE-C source (its own key) into an SSE-C upload
    p2 = s3.upload_part_copy(Bucket="ssec", Key="parts", UploadId=uid, PartNumber=2,
                             CopySource="ssec/rekeyed", CopySourceRange="bytes=0-99999",
                             **sse(KEY2, "CopySource"), **sse())
    s3.complete_multipart_upload(Bucket="ssec", Key="parts", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": p1["ETag"]},
                  {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    big = s3.get_object(Bucket="ssec", Key="big", **sse())["Body"].read()
    got = s3.get_object(Bucket="ssec", Key="parts", **sse())["Body"].read()
    assert got == data[:5 * MIB] + big[:100000]
    # a part for a plain upload must not name a key
    uid = s3.create_multipart_upload(Bucket="ssec", Key="plainmp")["UploadId"]
    expect_error("InvalidRequest", s3.upload_part, Bucket="ssec", Key="plainmp", UploadId=uid,
                 PartNumber=1, Body=b"x", **sse())


def test_cli_cp_sse_c(fb):
    d = tempfile.mkdtemp()
    data = os.urandom(9 * MIB + 7)
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "k"), "wb") as f:
        f.write(KEY2)
    key_arg = "fileb://" + os.path.join(d, "k")
    fb.aws("s3", "cp", os.path.join(d, "f"), "s3://ssec/cli", "--sse-c", "AES256", "--sse-c-key",
           key_arg, raw=True)
    fb.aws("s3", "cp", "s3://ssec/cli", os.path.join(d, "back"), "--sse-c", "AES256",
           "--sse-c-key", key_arg, raw=True)
    assert open(os.path.join(d, "back"), "rb").read() == data
    try:
        fb.aws("s3", "cp", "s3://ssec/cli", os.path.join(d, "nokey"), raw=True)
        raise AssertionError("download without the key succeeded")
    except lib.AwsError as e:
        assert "400" in e.message or "Bad Request" in e.message, e.message


def test_nothing_readable_at_rest(fb):
    fb.stop()
    try:
        for needle in (b"SSEC-SMALL-SECRET", b"SSEC-BIG-SECRET", KEY, KEY2,
                       base64.b64encode(KEY), base64.b64encode(KEY2)):
            assert not in_data_dir(fb, needle), "found %r at rest" % needle[:20]
    finally:
        fb.start()
    # and everything still decrypts after the restart
    s3 = fb.client("s3")
    assert b"SSEC-BIG-SECRET" in s3.get_object(Bucket="ssec", Key="big", **sse())["Body"].read()


if __name__ == "__main__":
    lib.main(globals())
