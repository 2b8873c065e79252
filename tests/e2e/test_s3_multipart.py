#!/usr/bin/python3
"""test_s3_multipart.py - S3 multipart uploads end to end and crash safety.

boto3 upload_file/download_file with 5 MiB parts, the CLI's multipart cp,
the part-list checks of CompleteMultipartUpload (InvalidPart,
InvalidPartOrder, EntityTooSmall, NoSuchUpload), ListParts and
ListMultipartUploads, UploadPartCopy with ranges, composite checksums,
encrypted multipart objects, and kill -9 during a large upload and during
a CompleteMultipartUpload: after a restart the bucket is consistent (the
old object or the new one, never a torn one; no orphaned files).
"""
import hashlib
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402

MiB = 1024 * 1024


def md5(b):
    return hashlib.md5(b).hexdigest()


def multipart_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


def test_boto3_upload_download_file(fb):
    from boto3.s3.transfer import TransferConfig
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="mpu-bucket")
    d = tempfile.mkdtemp()
    data = os.urandom(20 * MiB + 12345)
    src = os.path.join(d, "src")
    with open(src, "wb") as f:
        f.write(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    s3.upload_file(src, "mpu-bucket", "big.bin", Config=cfg)
    h = s3.head_object(Bucket="mpu-bucket", Key="big.bin")
    parts = [data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    assert h["ContentLength"] == len(data) and h["ETag"] == multipart_etag(parts), h["ETag"]
    p2 = s3.head_object(Bucket="mpu-bucket", Key="big.bin", PartNumber=2)
    assert p2["PartsCount"] == 5 and p2["ContentLength"] == 5 * MiB
    g = s3.get_object(Bucket="mpu-bucket", Key="big.bin", PartNumber=5)
    assert g["Body"].read() == parts[4]
    dst = os.path.join(d, "dst")
    s3.download_file("mpu-bucket", "big.bin", dst, Config=cfg)
    assert hashlib.md5(open(dst, "rb").read()).hexdigest() == md5(data)
    assert not s3.list_multipart_uploads(Bucket="mpu-bucket").get("Uploads")


def test_cli_multipart_cp(fb):
    s3 = fb.client("s3")
    d = tempfile.mkdtemp()
    data = os.urandom(17 * MiB)
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(data)
    fb.aws("s3", "cp", os.path.join(d, "f"), "s3://mpu-bucket/cli.bin", raw=True)
    h = s3.head_object(Bucket="mpu-bucket", Key="cli.bin")
    assert h["ETag"].endswith('-3"') and h["ContentLength"] == len(data)
    fb.aws("s3", "cp", "s3://mpu-bucket/cli.bin", os.path.join(d, "back"), raw=True)
    assert open(os.path.join(d, "back"), "rb").read() == data


def test_complete_checks_and_listing(fb):
    s3 = fb.client("s3")
    up = s3.create_multipart_upload(Bucket="mpu-bucket", Key="dir/checked", ContentType="text/x",
                                    Metadata={"m": "1"})["UploadId"]
    p1 = os.urandom(5 * MiB)
    p2 = b"tail"
    e1 = s3.upload_part(Bucket="mpu-bucket", Key="dir/checked", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket="mpu-bucket", Key="dir/checked", UploadId=up, PartNumber=2, Body=p2)["ETag"]
    assert e1 == '"%s"' % md5(p1)
    lp = s3.list_parts(Bucket="mpu-bucket", Key="dir/checked", UploadId=up)
    assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [(1, 5 * MiB), (2, 4)]
    lp = s3.list_parts(Bucket="mpu-bucket", Key="dir/checked", UploadId=up, MaxParts=1)
    assert lp["IsTruncated"] and lp["NextPartNumberMarker"] == 1
    up2 = s3.create_multipart_upload(Bucket="mpu-bucket", Key="other/x")["UploadId"]
    lu = s3.list_multipart_uploads(Bucket="mpu-bucket")
    assert {u["UploadId"] for u in lu["Uploads"]} >= {up, up2}
    lu = s3.list_multipart_uploads(Bucket="mpu-bucket", Delimiter="/")
    assert {p["Prefix"] for p in lu["CommonPrefixes"]} == {"dir/", "other/"}
    lu = s3.list_multipart_uploads(Bucket="mpu-bucket", Prefix="other/")
    assert [u["UploadId"] for u in lu["Uploads"]] == [up2]
    mk = lambda *ps: {"Parts": [{"PartNumber": n, "ETag": e} for n, e in ps]}  # noqa: E731
    expect_error("InvalidPartOrder", s3.complete_multipart_upload, Bucket="mpu-bucket", Key="dir/checked",
                 UploadId=up, MultipartUpload=mk((2, e2), (1, e1)))
    expect_error("InvalidPart", s3.complete_multipart_upload, Bucket="mpu-bucket", Key="dir/checked",
                 UploadId=up, MultipartUpload=mk((1, e1), (2, '"%s"' % md5(b"wrong"))))
    expect_error("InvalidPart", s3.complete_multipart_upload, Bucket="mpu-bucket", Key="dir/checked",
                 UploadId=up, MultipartUpload=mk((1, e1), (3, e2)))
    expect_error("NoSuchUpload", s3.complete_multipart_upload, Bucket="mpu-bucket", Key="dir/checked",
                 UploadId="nope", MultipartUpload=mk((1, e1)))
    expect_error("NoSuchUpload", s3.upload_part, Bucket="mpu-bucket", Key="dir/checked", UploadId="nope",
                 PartNumber=1, Body=b"x")
    expect_error("InvalidArgument", s3.upload_part, Bucket="mpu-bucket", Key="dir/checked", UploadId=up,
                 PartNumber=10001, Body=b"x")
    # a small part that is not the last one
    small = s3.create_multipart_upload(Bucket="mpu-bucket", Key="small")["UploadId"]
    es = [s3.upload_part(Bucket="mpu-bucket", Key="small", UploadId=small, PartNumber=i, Body=b"x" * 100)["ETag"]
          for i in (1, 2)]
    expect_error("EntityTooSmall", s3.complete_multipart_upload, Bucket="mpu-bucket", Key="small",
                 UploadId=small, MultipartUpload=mk((1, es[0]), (2, es[1])))
    s3.abort_multipart_upload(Bucket="mpu-bucket", Key="small", UploadId=small)
    expect_error("NoSuchUpload", s3.list_parts, Bucket="mpu-bucket", Key="small", UploadId=small)
    s3.abort_multipart_upload(Bucket="mpu-bucket", Key="other/x", UploadId=up2)
    r = s3.complete_multipart_upload(Bucket="mpu-bucket", Key="dir/checked", UploadId=up,
                                     MultipartUpload=mk((1, e1), (2, e2)))
    assert r["ETag"] == multipart_etag([p1, p2]) and r["Key"] == "dir/checked"
    o = s3.get_object(Bucket="mpu-bucket", Key="dir/checked")
    assert o["Body"].read() == p1 + p2 and o["ContentType"] == "text/x" and o["Metadata"] == {"m": "1"}
    expect_error("NoSuchUpload", s3.list_parts, Bucket="mpu-bucket", Key="dir/checked", UploadId=up)
    # the CLI v2 sees the multipart object like any other
    h = fb.aws("s3api", "head-object", "--bucket", "mpu-bucket", "--key", "dir/checked")
    assert h["ContentLength"] == 5 * MiB + 4


def test_upload_part_copy_ranges(fb):
    s3 = fb.client("s3")
    src = os.urandom(11 * MiB)
    s3.put_object(Bucket="mpu-bucket", Key="copy-src", Body=src)
    up = s3.create_multipart_upload(Bucket="mpu-bucket", Key="copy-dst")["UploadId"]
    ranges = [(0, 6 * MiB - 1), (6 * MiB, len(src) - 1)]
    parts = []
    for i, (a, b) in enumerate(ranges, 1):
        r = s3.upload_part_copy(Bucket="mpu-bucket", Key="copy-dst", UploadId=up, PartNumber=i,
                                CopySource={"Bucket": "mpu-bucket", "Key": "copy-src"},
                                CopySourceRange="bytes=%d-%d" % (a, b))
        parts.append({"PartNumber": i, "ETag": r["CopyPartResult"]["ETag"]})
    expect_error("InvalidRange", s3.upload_part_copy, Bucket="mpu-bucket", Key="copy-dst", UploadId=up,
                 PartNumber=3, CopySource="mpu-bucket/copy-src", CopySourceRange="bytes=0-%d" % len(src))
    s3.complete_multipart_upload(Bucket="mpu-bucket", Key="copy-dst", UploadId=up,
                                 MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket="mpu-bucket", Key="copy-dst")["Body"].read() == src


def test_multipart_checksums_and_encryption(fb):
    import base64
    s3 = fb.client("s3")
    up = s3.create_multipart_upload(Bucket="mpu-bucket", Key="sums", ChecksumAlgorithm="SHA256",
                                    ServerSideEncryption="aws:kms")
    assert up["ServerSideEncryption"] == "aws:kms"
    uid = up["UploadId"]
    p1, p2 = b"SECRET-PART-ONE" * 400000, b"SECRET-PART-TWO"
    parts, raws = [], b""
    for n, p in ((1, p1), (2, p2)):
        r = s3.upload_part(Bucket="mpu-bucket", Key="sums", UploadId=uid, PartNumber=n, Body=p,
                           ChecksumAlgorithm="SHA256")
        assert r["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(p).digest()).decode()
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
        raws += hashlib.sha256(p).digest()
    r = s3.complete_multipart_upload(Bucket="mpu-bucket", Key="sums", UploadId=uid,
                                     MultipartUpload={"Parts": parts})
    want = base64.b64encode(hashlib.sha256(raws).digest()).decode() + "-2"
    assert r["ChecksumSHA256"] == want, r
    assert r["ServerSideEncryption"] == "aws:kms"
    o = s3.get_object(Bucket="mpu-bucket", Key="sums", ChecksumMode="ENABLED")
    assert o["Body"].read() == p1 + p2 and o["ChecksumSHA256"] == want
    o = s3.get_object(Bucket="mpu-bucket", Key="sums", Range="bytes=5999990-6000009")
    assert o["Body"].read() == (p1 + p2)[5999990:6000010]


# ---- crash safety ----

def check_store(fb):
    lib.s3_check_store(fb)


def send_then_kill(fb, req_bytes, delay):
    """Sends a whole request, waits delay seconds, kill -9s the daemon."""
    s = socket.create_connection(("127.0.0.1", fb.port))
    s.sendall(req_bytes)
    time.sleep(delay)
    fb.kill9()
    s.close()
    fb.start()


def signed_put_bytes(fb, path, body, headers=None):
    hd = lib.sign(fb, "s3", body, dict(headers or {}, **{
        "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}), method="PUT", path=path)
    return lib.raw_request("PUT", path, hd, body)


def test_kill9_during_large_upload(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="crash")
    old = os.urandom(2 * MiB)
    s3.put_object(Bucket="crash", Key="obj", Body=old)
    new = os.urandom(40 * MiB)
    req = signed_put_bytes(fb, "/crash/obj", new)
    for delay in (0.0, 0.02, 0.06, 0.15):
        send_then_kill(fb, req, delay)
        got = fb.client("s3").get_object(Bucket="crash", Key="obj")["Body"].read()
        assert got in (old, new), "torn object after kill at %.2fs" % delay
        check_store(fb)
        old = got


def test_kill9_during_complete(fb):
    import xml.sax.saxutils as su
    outcomes = set()
    for attempt, delay in enumerate((0.0, 0.01, 0.03, 0.08)):
        s3 = fb.client("s3")
        key = "assembled-%d" % attempt
        uid = s3.create_multipart_upload(Bucket="crash", Key=key)["UploadId"]
        parts = [os.urandom(5 * MiB) for _ in range(6)]
        etags = [s3.upload_part(Bucket="crash", Key=key, UploadId=uid, PartNumber=i + 1,
                                Body=p)["ETag"] for i, p in enumerate(parts)]
        xml = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, su.escape(e))
            for i, e in enumerate(etags))
        path = "/crash/%s?uploadId=%s" % (key, uid)
        body = xml.encode()
        hd = lib.sign(fb, "s3", body, {"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()},
                      method="POST", path=path)
        send_then_kill(fb, lib.raw_request("POST", path, hd, body), delay)
        s3 = fb.client("s3")
        try:
            got = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            assert got == b"".join(parts), "torn multipart object"
            expect_error("NoSuchUpload", s3.list_parts, Bucket="crash", Key=key, UploadId=uid)
            outcomes.add("completed")
        except Exception as e:  # not completed: the upload must be intact
            if "NoSuchKey" not in str(e):
                raise
            lp = s3.list_parts(Bucket="crash", Key=key, UploadId=uid)
            assert len(lp["Parts"]) == 6
            r = s3.complete_multipart_upload(Bucket="crash", Key=key, UploadId=uid, MultipartUpload={
                "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
            assert s3.get_object(Bucket="crash", Key=key)["Body"].read() == b"".join(parts)
            outcomes.add("interrupted")
        check_store(fb)
    print("  outcomes: %s" % sorted(outcomes))


if __name__ == "__main__":
    lib.main(globals())
