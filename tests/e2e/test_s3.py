#!/usr/bin/python3
"""test_s3.py - S3 end to end with real clients: Debian's aws CLI v2
(s3 and s3api), Debian's boto3, curl with presigned URLs, raw signed
requests (virtual-hosted style, aws-chunked bodies), and the image's pip
CLI v1 when it is there (CRC32 checksums, streaming trailers).

Buckets, objects and their headers, listing (prefix, delimiter, pages,
start-after, url encoding), Range and conditional requests, versioning
and delete markers, copies, tagging, bucket configurations, CORS,
encryption at rest through KMS, presigned URLs, flexible checksums and
every error the issue lists. Multipart and crash tests live in
test_s3_multipart.py, lifecycle and Terraform in test_s3_lifecycle.py.
"""
import base64
import datetime
import glob
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402

PIP_AWS = "/root/.pyenv/shims/aws"


def md5(b):
    return hashlib.md5(b).hexdigest()


def new_bucket(fb, name):
    fb.client("s3").create_bucket(Bucket=name)
    return name


def curl(*args):
    p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}"] + list(args),
                       capture_output=True, timeout=60)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def raw(fb, method, path, headers=None, body=b"", host=None, sign=True, region="us-east-1"):
    """A raw request over a socket; signed with botocore's SigV4 for the
    given Host (so virtual-hosted requests can be made without DNS)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    host = host or "127.0.0.1:%d" % fb.port
    headers = dict(headers or {})
    if sign:
        req = botocore.awsrequest.AWSRequest(method=method, url="http://%s%s" % (host, path),
                                             data=body, headers=headers)
        req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        botocore.auth.S3SigV4Auth(botocore.credentials.Credentials("test", "test"), "s3",
                                  region).add_auth(req)
        headers = dict(req.headers.items())
    headers["Host"] = host
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=30)
    try:
        s.sendall(lib.raw_request(method, path, headers, body))
        if method == "HEAD":
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head = buf.split(b"\r\n\r\n")[0].decode().split("\r\n")
            hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in head[1:]}
            return int(head[0].split()[1]), hdrs, b""
        return lib.read_response(s)
    finally:
        s.close()


def signed_raw(fb, method, path, headers, body, payload_hash=None, query=""):
    """A request signed here with an arbitrary x-amz-content-sha256 (botocore
    always replaces it by the real hash). Returns (status, headers, body)."""
    now = datetime.datetime.utcnow()
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    scope = "%s/us-east-1/s3/aws4_request" % day
    hd = {k.lower(): v for k, v in headers.items()}
    hd.update({"host": "127.0.0.1:%d" % fb.port, "x-amz-date": amz_date,
               "x-amz-content-sha256": payload_hash or hashlib.sha256(body).hexdigest()})
    signed = sorted(hd)
    canon = "\n".join([method, path, query, "".join("%s:%s\n" % (k, hd[k]) for k in signed),
                       ";".join(signed), hd["x-amz-content-sha256"]])

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    key = h(h(h(h(b"AWS4test", day), "us-east-1"), "s3"), "aws4_request")
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canon.encode()).hexdigest()])
    hd["Authorization"] = ("AWS4-HMAC-SHA256 Credential=test/%s, SignedHeaders=%s, Signature=%s"
                           % (scope, ";".join(signed), hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()))
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=30)
    try:
        s.sendall(lib.raw_request(method, path + ("?" + query if query else ""), hd, body))
        return lib.read_response(s)
    finally:
        s.close()


def presigner(fb):
    """A SigV4 presigning client (Debian's boto3 presigns S3 with SigV2 by
    default; test_s3_sigv2.py covers that form)."""
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=fb.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version="s3v4"))


# ---- buckets ----

def test_buckets_create_list_head_delete(fb):
    r = fb.aws("s3api", "create-bucket", "--bucket", "alpha-bucket")
    assert r["Location"] == "/alpha-bucket"
    out = fb.aws("s3", "mb", "s3://beta.bucket", raw=True)
    assert "make_bucket: beta.bucket" in out
    names = [b["Name"] for b in fb.aws("s3api", "list-buckets")["Buckets"]]
    assert "alpha-bucket" in names and "beta.bucket" in names
    assert fb.aws("s3api", "get-bucket-location", "--bucket", "alpha-bucket") == {"LocationConstraint": None}
    fb.aws("s3api", "head-bucket", "--bucket", "alpha-bucket")
    s3 = fb.client("s3")
    # ListBuckets pages (max-buckets / continuation-token)
    st, h, body = raw(fb, "GET", "/?max-buckets=1")
    assert st == 200 and b"<ContinuationToken>" in body and body.count(b"<Bucket>") == 1, body
    assert b"<ListAllMyBucketsResult" in body
    expect_error("BucketAlreadyOwnedByYou", s3.create_bucket, Bucket="alpha-bucket")
    other = fb.client("s3", access_key="111111111111")
    expect_error("BucketAlreadyExists", other.create_bucket, Bucket="alpha-bucket")
    expect_error("AccessDenied", other.list_objects_v2, Bucket="alpha-bucket")
    assert "alpha-bucket" not in [b["Name"] for b in other.list_buckets()["Buckets"]]
    for bad in ("ab", "UpperCase", "under_score", "-dash", "192.168.1.1", "a..b", "x" * 64):
        expect_error("InvalidBucketName", s3.create_bucket, Bucket=bad)
    expect_error("NoSuchBucket", s3.get_bucket_location, Bucket="no-such-bucket")
    expect_error("404", s3.head_bucket, Bucket="no-such-bucket")
    s3.put_object(Bucket="beta.bucket", Key="k", Body=b"x")
    expect_error("BucketNotEmpty", fb.aws, "s3api", "delete-bucket", "--bucket", "beta.bucket")
    s3.delete_object(Bucket="beta.bucket", Key="k")
    fb.aws("s3", "rb", "s3://beta.bucket", raw=True)
    expect_error("NoSuchBucket", s3.delete_bucket, Bucket="beta.bucket")


def test_bucket_in_other_region(fb):
    west = fb.client("s3", region="eu-west-1")
    west.create_bucket(Bucket="west-bucket",
                       CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert west.get_bucket_location(Bucket="west-bucket")["LocationConstraint"] == "eu-west-1"
    expect_error("IllegalLocationConstraintException", west.create_bucket, Bucket="west-2")
    out = fb.aws("s3", "mb", "s3://west-cli-bucket", "--region", "eu-west-1", raw=True)
    assert "make_bucket" in out
    assert fb.client("s3").head_bucket(Bucket="west-bucket")["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-bucket-region"] == "eu-west-1"


# ---- objects ----

def test_put_get_head_with_headers_and_metadata(fb):
    new_bucket(fb, "objects")
    d = tempfile.mkdtemp()
    src = os.path.join(d, "in.txt")
    with open(src, "wb") as f:
        f.write(b"hello world\n")
    r = fb.aws("s3api", "put-object", "--bucket", "objects", "--key", "dir/a b+c.txt", "--body", src,
               "--content-type", "text/plain", "--metadata", "Owner=me,k2=v2",
               "--cache-control", "max-age=60", "--content-disposition", "inline",
               "--content-language", "en", "--tagging", "a=1&b=2")
    assert r["ETag"] == '"%s"' % md5(b"hello world\n")
    h = fb.aws("s3api", "head-object", "--bucket", "objects", "--key", "dir/a b+c.txt")
    assert h["ContentLength"] == 12 and h["ContentType"] == "text/plain"
    assert h["Metadata"] == {"owner": "me", "k2": "v2"}, h
    assert h["CacheControl"] == "max-age=60" and h["ContentDisposition"] == "inline"
    assert h["ContentLanguage"] == "en" and h["AcceptRanges"] == "bytes"
    out = os.path.join(d, "out.txt")
    g = fb.aws("s3api", "get-object", "--bucket", "objects", "--key", "dir/a b+c.txt", out)
    assert open(out, "rb").read() == b"hello world\n"
    assert g["TagCount"] == 2 and g["ETag"] == r["ETag"]
    s3 = fb.client("s3")
    o = s3.get_object(Bucket="objects", Key="dir/a b+c.txt", ResponseContentType="app/x",
                      ResponseContentDisposition="attachment")
    assert o["ContentType"] == "app/x" and o["ContentDisposition"] == "attachment"
    # no Content-Type given: binary/octet-stream, as S3
    s3.put_object(Bucket="objects", Key="plain", Body=b"")
    o = s3.get_object(Bucket="objects", Key="plain")
    assert o["Body"].read() == b"" and o["ContentType"] == "binary/octet-stream"
    assert o["ETag"] == '"%s"' % md5(b"")
    expect_error("NoSuchKey", s3.get_object, Bucket="objects", Key="missing")
    expect_error("404", s3.head_object, Bucket="objects", Key="missing")
    expect_error("NoSuchBucket", s3.put_object, Bucket="nobucket-here", Key="k", Body=b"x")
    expect_error("KeyTooLongError", s3.put_object, Bucket="objects", Key="k" * 1025, Body=b"x")


def test_bad_digest_and_sha256_mismatch(fb):
    new_bucket(fb, "digests")
    s3 = fb.client("s3")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect_error("BadDigest", s3.put_object, Bucket="digests", Key="k", Body=b"data", ContentMD5=wrong)
    expect_error("InvalidDigest", s3.put_object, Bucket="digests", Key="k", Body=b"data",
                 ContentMD5="not-base64")
    expect_error("NoSuchKey", s3.get_object, Bucket="digests", Key="k")
    # a body that is not what x-amz-content-sha256 says
    st, h, body = signed_raw(fb, "PUT", "/digests/k3", {}, b"abc", hashlib.sha256(b"xyz").hexdigest())
    assert st == 400 and b"XAmzContentSHA256Mismatch" in body, body


def test_flexible_checksums(fb):
    new_bucket(fb, "sums")
    s3 = fb.client("s3")
    data = b"The quick brown fox jumps over the lazy dog" * 100
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    for algo in ("CRC32", "CRC32C", "SHA1", "SHA256"):
        r = s3.put_object(Bucket="sums", Key=algo, Body=data, ChecksumAlgorithm=algo)
        assert r.get("Checksum" + algo), r
        h = s3.head_object(Bucket="sums", Key=algo, ChecksumMode="ENABLED")
        assert h["Checksum" + algo] == r["Checksum" + algo]
        g = s3.get_object(Bucket="sums", Key=algo, ChecksumMode="ENABLED")
        assert g["Body"].read() == data
    assert s3.head_object(Bucket="sums", Key="CRC32", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert s3.head_object(Bucket="sums", Key="SHA256", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha
    # a wrong checksum header is BadDigest
    st, h, body = raw(fb, "PUT", "/sums/bad", {"x-amz-checksum-crc32": "AAAAAA=="}, b"abc")
    assert st == 400 and b"<Code>BadDigest</Code>" in body, body
    st, h, body = raw(fb, "PUT", "/sums/good", {"x-amz-checksum-crc32": base64.b64encode(
        zlib.crc32(b"abc").to_bytes(4, "big")).decode()}, b"abc")
    assert st == 200 and h["x-amz-checksum-crc32"], h


def chunked_body(chunks, trailer=None, signer=None):
    """aws-chunked encoding of chunks; signer(data) -> signature string."""
    out = b""
    for c in list(chunks) + [b""]:
        ext = (";chunk-signature=" + signer(c)).encode() if signer else b""
        out += b"%x" % len(c) + ext + b"\r\n"
        if c:
            out += c + b"\r\n"
    if trailer:
        for k, v in trailer:
            out += ("%s:%s\r\n" % (k, v)).encode()
    out += b"\r\n"
    return out


def test_aws_chunked_unsigned_trailer(fb):
    new_bucket(fb, "chunky")
    data = os.urandom(200000)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    chunks = [data[i:i + 65536] for i in range(0, len(data), 65536)]
    body = chunked_body(chunks, [("x-amz-checksum-crc32", crc)])
    hdr = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
           "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "CRC32"}
    st, h, rb = signed_raw(fb, "PUT", "/chunky/t", hdr, body, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert st == 200, rb
    assert h["etag"] == '"%s"' % md5(data) and h["x-amz-checksum-crc32"] == crc
    # a trailer that does not match the data
    bad = chunked_body(chunks, [("x-amz-checksum-crc32", "AAAAAA==")])
    st, h, rb = signed_raw(fb, "PUT", "/chunky/t", hdr, bad, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert st == 400 and b"BadDigest" in rb, rb
    # a body shorter than x-amz-decoded-content-length
    short = chunked_body(chunks[:1], [("x-amz-checksum-crc32", crc)])
    st, h, rb = signed_raw(fb, "PUT", "/chunky/t", hdr, short, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert st == 400 and b"IncompleteBody" in rb, rb
    s3 = fb.client("s3")
    o = s3.get_object(Bucket="chunky", Key="t")
    assert o["Body"].read() == data and o.get("ContentEncoding") is None


def sigv4_streaming_put(fb, path, data, tamper=False, chunk=65536):
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD, signed here (botocore
    does not produce this form; the Java and Go SDKs do)."""
    now = datetime.datetime.utcnow()
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    scope = "%s/us-east-1/s3/aws4_request" % day
    host = "127.0.0.1:%d" % fb.port
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    enc_len = len(chunked_body(chunks, signer=lambda c: "0" * 64))
    headers = {"host": host, "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
               "x-amz-date": amz_date, "x-amz-decoded-content-length": str(len(data)),
               "content-encoding": "aws-chunked", "content-length": str(enc_len)}
    signed = sorted(headers)
    canon = "\n".join(["PUT", path, "", "".join("%s:%s\n" % (k, headers[k]) for k in signed),
                       ";".join(signed), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    key = h(h(h(h(b"AWS4test", day), "us-east-1"), "s3"), "aws4_request")
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canon.encode()).hexdigest()])
    seed = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    prev = [seed]
    empty = hashlib.sha256(b"").hexdigest()

    def signer(c):
        s = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev[0], empty,
                       hashlib.sha256(c).hexdigest()])
        prev[0] = hmac.new(key, s.encode(), hashlib.sha256).hexdigest()
        return prev[0]
    body = chunked_body(chunks, signer=signer)
    if tamper:
        i = body.index(b"\r\n") + 10
        body = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
    hd = {k: v for k, v in headers.items() if k != "content-length"}
    hd["Authorization"] = ("AWS4-HMAC-SHA256 Credential=test/%s, SignedHeaders=%s, Signature=%s"
                           % (scope, ";".join(signed), seed))
    s = socket.create_connection(("127.0.0.1", fb.port))
    s.sendall(lib.raw_request("PUT", path, hd, body))
    r = lib.read_response(s)
    s.close()
    return r


def test_aws_chunked_signed(fb):
    new_bucket(fb, "signed-chunks")
    data = os.urandom(150000)
    st, h, body = sigv4_streaming_put(fb, "/signed-chunks/obj", data)
    assert st == 200, body
    assert h["etag"] == '"%s"' % md5(data)
    assert fb.client("s3").get_object(Bucket="signed-chunks", Key="obj")["Body"].read() == data
    st, h, body = sigv4_streaming_put(fb, "/signed-chunks/obj2", data, tamper=True)
    assert st == 403 and b"SignatureDoesNotMatch" in body, body
    expect_error("NoSuchKey", fb.client("s3").get_object, Bucket="signed-chunks", Key="obj2")


# ---- listing ----

def test_list_prefix_delimiter_pages(fb):
    new_bucket(fb, "listing")
    s3 = fb.client("s3")
    keys = ["a/%02d" % i for i in range(30)] + ["b/x/%d" % i for i in range(5)] + \
        ["b/y", "c", "d/e/f", "sp ace", "plus+sign", "uni/ünï"]
    for k in keys:
        s3.put_object(Bucket="listing", Key=k, Body=k.encode())
    r = s3.list_objects_v2(Bucket="listing", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/", "d/", "uni/"]
    assert [o["Key"] for o in r["Contents"]] == ["c", "plus+sign", "sp ace"]
    assert r["KeyCount"] == 7 and r["IsTruncated"] is False
    r = s3.list_objects_v2(Bucket="listing", Prefix="b/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["b/x/"]
    assert [o["Key"] for o in r["Contents"]] == ["b/y"]
    # pages of 7 through every key, with and without a delimiter
    got = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="listing",
                                                              PaginationConfig={"PageSize": 7}):
        got += [o["Key"] for o in page.get("Contents", [])]
    assert got == sorted(keys, key=lambda k: k.encode()), got
    got = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="listing", Delimiter="/",
                                                              PaginationConfig={"PageSize": 2}):
        got += [o["Key"] for o in page.get("Contents", [])] + \
            [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert sorted(got) == ["a/", "b/", "c", "d/", "plus+sign", "sp ace", "uni/"], got
    r = s3.list_objects_v2(Bucket="listing", StartAfter="a/27", MaxKeys=3)
    assert [o["Key"] for o in r["Contents"]] == ["a/28", "a/29", "b/x/0"] and r["IsTruncated"]
    # v1 with markers
    got = []
    for page in s3.get_paginator("list_objects").paginate(Bucket="listing",
                                                           PaginationConfig={"PageSize": 9}):
        got += [o["Key"] for o in page.get("Contents", [])]
    assert len(got) == len(keys)
    r = s3.list_objects(Bucket="listing", Prefix="a/", MaxKeys=2, Delimiter="/")
    assert r["IsTruncated"] and r["NextMarker"] == "a/01"
    assert r["Contents"][0]["Owner"]["ID"]
    # encoding-type=url round trips special characters (botocore decodes)
    r = s3.list_objects_v2(Bucket="listing", Prefix="uni/")
    assert [o["Key"] for o in r["Contents"]] == ["uni/ünï"]
    # asked for explicitly, the encoding reaches the caller (botocore only
    # decodes what it asked for itself)
    r = s3.list_objects_v2(Bucket="listing", Prefix="uni/", EncodingType="url")
    assert [o["Key"] for o in r["Contents"]] == ["uni/%C3%BCn%C3%AF"], r["Contents"]
    st, h, body = raw(fb, "GET", "/listing?list-type=2&prefix=sp&encoding-type=url")
    assert b"<Key>sp%20ace</Key>" in body and b"<ListBucketResult" in body, body
    # the CLI's recursive and directory listings
    out = fb.aws("s3", "ls", "s3://listing/b/", raw=True)
    assert "PRE x/" in out and " b/y" not in out and "y" in out
    out = fb.aws("s3", "ls", "s3://listing", "--recursive", raw=True)
    assert out.count("\n") == len(keys)
    expect_error("InvalidArgument", s3.list_objects_v2, Bucket="listing", ContinuationToken="!!bad")


# ---- range and conditional requests ----

def test_range_requests(fb):
    new_bucket(fb, "ranges")
    s3 = fb.client("s3")
    data = bytes(range(256)) * 400
    s3.put_object(Bucket="ranges", Key="k", Body=data)
    for rng, want in (("bytes=0-9", data[0:10]), ("bytes=100-", data[100:]),
                      ("bytes=-5", data[-5:]), ("bytes=102390-200000", data[102390:])):
        o = s3.get_object(Bucket="ranges", Key="k", Range=rng)
        assert o["Body"].read() == want, rng
        assert o["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert o["ContentRange"].startswith("bytes ") and o["ContentRange"].endswith("/102400")
    e = expect_error("InvalidRange", s3.get_object, Bucket="ranges", Key="k", Range="bytes=102400-")
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    # an unparseable range is ignored: the whole object, 200
    o = s3.get_object(Bucket="ranges", Key="k", Range="bytes=abc")
    assert o["Body"].read() == data and o["ResponseMetadata"]["HTTPStatusCode"] == 200
    code, body = curl("-r", "10-19", presigner(fb).generate_presigned_url(
        "get_object", Params={"Bucket": "ranges", "Key": "k"}))
    assert code == 206 and body == data[10:20]
    # the CLI v2 downloads big objects in ranged parts
    d = tempfile.mkdtemp()
    big = os.urandom(9 * 1024 * 1024)
    s3.put_object(Bucket="ranges", Key="big", Body=big)
    fb.aws("s3", "cp", "s3://ranges/big", os.path.join(d, "big"), raw=True)
    assert open(os.path.join(d, "big"), "rb").read() == big


def test_conditional_requests(fb):
    new_bucket(fb, "conds")
    s3 = fb.client("s3")
    etag = s3.put_object(Bucket="conds", Key="k", Body=b"v1")["ETag"]
    lm = s3.head_object(Bucket="conds", Key="k")["LastModified"]
    assert s3.get_object(Bucket="conds", Key="k", IfMatch=etag)["Body"].read() == b"v1"
    expect_error("PreconditionFailed", s3.get_object, Bucket="conds", Key="k", IfMatch='"nope"')
    e = expect_error("304", s3.get_object, Bucket="conds", Key="k", IfNoneMatch=etag)
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    expect_error("304", s3.get_object, Bucket="conds", Key="k", IfModifiedSince=lm)
    past = lm - datetime.timedelta(hours=1)
    assert s3.get_object(Bucket="conds", Key="k", IfModifiedSince=past)["Body"].read() == b"v1"
    expect_error("PreconditionFailed", s3.get_object, Bucket="conds", Key="k", IfUnmodifiedSince=past)
    expect_error("412", s3.head_object, Bucket="conds", Key="k", IfMatch='"nope"')
    # If-None-Match: * on PUT (Terraform's S3 lock file)
    st, h, body = raw(fb, "PUT", "/conds/lock", {"If-None-Match": "*"}, b"lock1")
    assert st == 200
    st, h, body = raw(fb, "PUT", "/conds/lock", {"If-None-Match": "*"}, b"lock2")
    assert st == 412 and b"PreconditionFailed" in body, body
    st, h, body = raw(fb, "PUT", "/conds/lock", {"If-Match": '"%s"' % md5(b"zzz")}, b"lock3")
    assert st == 412
    st, h, body = raw(fb, "PUT", "/conds/lock", {"If-Match": '"%s"' % md5(b"lock1")}, b"lock4")
    assert st == 200
    assert s3.get_object(Bucket="conds", Key="lock")["Body"].read() == b"lock4"
    s3.delete_object(Bucket="conds", Key="lock")
    st, h, body = raw(fb, "PUT", "/conds/lock", {"If-None-Match": "*"}, b"lock5")
    assert st == 200


# ---- versioning ----

def test_versioning_and_delete_markers(fb):
    new_bucket(fb, "versions")
    s3 = fb.client("s3")
    assert "Status" not in s3.get_bucket_versioning(Bucket="versions")
    s3.put_object(Bucket="versions", Key="k", Body=b"unversioned")
    fb.aws("s3api", "put-bucket-versioning", "--bucket", "versions",
           "--versioning-configuration", "Status=Enabled")
    assert s3.get_bucket_versioning(Bucket="versions")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="versions", Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="versions", Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    assert s3.get_object(Bucket="versions", Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket="versions", Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket="versions", Key="k", VersionId="null")["Body"].read() == b"unversioned"
    d = s3.delete_object(Bucket="versions", Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"]
    expect_error("NoSuchKey", s3.get_object, Bucket="versions", Key="k")
    expect_error("MethodNotAllowed", s3.get_object, Bucket="versions", Key="k", VersionId=d["VersionId"])
    expect_error("NoSuchVersion", s3.get_object, Bucket="versions", Key="k",
                 VersionId="A" * 32)
    lv = s3.list_object_versions(Bucket="versions")
    assert [v["VersionId"] for v in lv["Versions"]] == [v2, v1, "null"]
    assert lv["Versions"][0]["IsLatest"] is False
    assert lv["DeleteMarkers"][0]["IsLatest"] is True
    assert s3.list_objects_v2(Bucket="versions").get("KeyCount") == 0
    # removing the marker brings v2 back
    s3.delete_object(Bucket="versions", Key="k", VersionId=d["VersionId"])
    assert s3.get_object(Bucket="versions", Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket="versions", Key="k", VersionId=v2)
    assert s3.get_object(Bucket="versions", Key="k")["Body"].read() == b"one"
    # version listing pages
    for i in range(5):
        s3.put_object(Bucket="versions", Key="p", Body=b"%d" % i)
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(
            Bucket="versions", PaginationConfig={"PageSize": 2}):
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    assert len(seen) == 2 + 5 and len(set(seen)) == 7, seen
    # suspended: PUT writes the null version, replacing the old one
    s3.put_bucket_versioning(Bucket="versions", VersioningConfiguration={"Status": "Suspended"})
    r = s3.put_object(Bucket="versions", Key="k", Body=b"suspended")
    assert r["VersionId"] == "null"
    assert s3.get_object(Bucket="versions", Key="k", VersionId="null")["Body"].read() == b"suspended"
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket="versions", Prefix="k")["Versions"]]
    assert ids.count("null") == 1 and v1 in ids
    # bucket with versions can't be deleted; DeleteObjects by version empties it
    expect_error("BucketNotEmpty", s3.delete_bucket, Bucket="versions")
    allv = s3.list_object_versions(Bucket="versions")
    objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in allv.get("Versions", []) + allv.get("DeleteMarkers", [])]
    r = s3.delete_objects(Bucket="versions", Delete={"Objects": objs})
    assert len(r["Deleted"]) == len(objs) and not r.get("Errors")
    s3.delete_bucket(Bucket="versions")


def obj_files_with(fb, needle):
    """Data files under <data_dir>/s3/obj holding needle."""
    hits = []
    for path in glob.glob(os.path.join(fb.data_dir, "s3", "obj", "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if needle in f.read():
                    hits.append(path)
    return hits


def test_overwrite_and_bucket_changes(fb):
    """A PUT over a key of a never-versioned bucket rewrites its row in
    place: nothing of the old version may show through, its data file goes,
    and versions written later still sort after it. Bucket settings read
    from the bucket cache must follow every change at once."""
    new_bucket(fb, "overwrite")
    s3 = fb.client("s3")
    s3.put_object(Bucket="overwrite", Key="k", Body=b"first", ContentType="text/plain",
                  Metadata={"a": "1"}, Tagging="t=1", CacheControl="no-cache")
    r = s3.put_object(Bucket="overwrite", Key="k", Body=b"second")
    assert "VersionId" not in r and r["ETag"] == '"%s"' % md5(b"second")
    o = s3.get_object(Bucket="overwrite", Key="k")
    assert o["Body"].read() == b"second" and o["ContentType"] == "binary/octet-stream"
    assert o["Metadata"] == {} and "CacheControl" not in o
    assert s3.get_object_tagging(Bucket="overwrite", Key="k")["TagSet"] == []
    # inline -> data file -> inline: the file's bytes leave the disk
    marker = b"OVERWRITTEN-" + os.urandom(8).hex().encode()
    big = marker * 10000
    s3.put_object(Bucket="overwrite", Key="k", Body=big)
    assert s3.get_object(Bucket="overwrite", Key="k")["Body"].read() == big
    assert obj_files_with(fb, marker)
    s3.put_object(Bucket="overwrite", Key="k", Body=b"third")
    assert s3.get_object(Bucket="overwrite", Key="k")["Body"].read() == b"third"
    lv = s3.list_object_versions(Bucket="overwrite")["Versions"]
    assert [(v["Key"], v["VersionId"], v["IsLatest"], v["Size"]) for v in lv] == [("k", "null", True, 5)]
    fb.stop()
    fb.start()
    s3 = fb.client("s3")
    assert not obj_files_with(fb, marker)
    assert s3.get_object(Bucket="overwrite", Key="k")["Body"].read() == b"third"
    # versioning turned on after overwrites: new versions are newer than null
    s3.put_object(Bucket="overwrite", Key="k", Body=b"fourth")
    s3.put_bucket_versioning(Bucket="overwrite", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="overwrite", Key="k", Body=b"fifth")["VersionId"]
    assert v1 != "null"
    ids = [v["VersionId"] for v in s3.list_object_versions(Bucket="overwrite")["Versions"]]
    assert ids == [v1, "null"]
    assert s3.get_object(Bucket="overwrite", Key="k", VersionId="null")["Body"].read() == b"fourth"
    # default encryption set and removed between PUTs
    s3.put_bucket_encryption(Bucket="overwrite", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert s3.put_object(Bucket="overwrite", Key="e", Body=b"x")["ServerSideEncryption"] == "aws:kms"
    s3.delete_bucket_encryption(Bucket="overwrite")
    assert s3.put_object(Bucket="overwrite", Key="e", Body=b"x").get("ServerSideEncryption") in (None, "AES256")
    # a bucket deleted and made again elsewhere is the new one
    allv = s3.list_object_versions(Bucket="overwrite")
    s3.delete_objects(Bucket="overwrite", Delete={"Objects": [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in allv.get("Versions", []) + allv.get("DeleteMarkers", [])]})
    s3.delete_bucket(Bucket="overwrite")
    expect_error("NoSuchBucket", s3.put_object, Bucket="overwrite", Key="k", Body=b"x")
    fb.client("s3", region="eu-west-1").create_bucket(
        Bucket="overwrite", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    loc = s3.get_bucket_location(Bucket="overwrite")["LocationConstraint"]
    assert loc == "eu-west-1"
    assert "VersionId" not in s3.put_object(Bucket="overwrite", Key="k", Body=b"new")


def test_delete_objects(fb):
    new_bucket(fb, "bulkdel")
    s3 = fb.client("s3")
    for i in range(20):
        s3.put_object(Bucket="bulkdel", Key="k%d" % i, Body=b"x")
    r = s3.delete_objects(Bucket="bulkdel", Delete={"Objects": [{"Key": "k%d" % i} for i in range(15)]
                                                    + [{"Key": "never-existed"}]})
    assert len(r["Deleted"]) == 16
    r = s3.delete_objects(Bucket="bulkdel", Delete={"Objects": [{"Key": "k15"}], "Quiet": True})
    assert not r.get("Deleted")
    assert s3.list_objects_v2(Bucket="bulkdel")["KeyCount"] == 4
    out = fb.aws("s3", "rm", "s3://bulkdel", "--recursive", raw=True)
    assert out.count("delete:") == 4


# ---- copy, tagging, high level commands ----

def test_copy_object(fb):
    new_bucket(fb, "copies")
    new_bucket(fb, "copies-dst")
    s3 = fb.client("s3")
    s3.put_object(Bucket="copies", Key="src", Body=b"source data", ContentType="text/x",
                  Metadata={"a": "1"}, Tagging="t=1")
    r = s3.copy_object(Bucket="copies-dst", Key="dst", CopySource="copies/src")
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % md5(b"source data")
    h = s3.head_object(Bucket="copies-dst", Key="dst")
    assert h["ContentType"] == "text/x" and h["Metadata"] == {"a": "1"}
    assert s3.get_object_tagging(Bucket="copies-dst", Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(Bucket="copies", Key="src", CopySource={"Bucket": "copies", "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/y")
    h = s3.head_object(Bucket="copies", Key="src")
    assert h["Metadata"] == {"b": "2"} and h["ContentType"] == "text/y"
    expect_error("InvalidRequest", s3.copy_object, Bucket="copies", Key="src", CopySource="copies/src")
    expect_error("NoSuchKey", s3.copy_object, Bucket="copies", Key="x", CopySource="copies/nope")
    expect_error("NoSuchBucket", s3.copy_object, Bucket="copies", Key="x", CopySource="nobkt/nope")
    expect_error("PreconditionFailed", s3.copy_object, Bucket="copies", Key="y",
                 CopySource="copies/src", CopySourceIfMatch='"nope"')
    # a large copy (file-backed, in the kernel)
    big = os.urandom(3 * 1024 * 1024 + 5)
    s3.put_object(Bucket="copies", Key="big", Body=big)
    s3.copy_object(Bucket="copies-dst", Key="big", CopySource="copies/big")
    assert s3.get_object(Bucket="copies-dst", Key="big")["Body"].read() == big


def test_object_tagging(fb):
    new_bucket(fb, "tags")
    s3 = fb.client("s3")
    s3.put_object(Bucket="tags", Key="k", Body=b"x")
    assert s3.get_object_tagging(Bucket="tags", Key="k")["TagSet"] == []
    s3.put_object_tagging(Bucket="tags", Key="k", Tagging={"TagSet": [
        {"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}]})
    assert s3.get_object_tagging(Bucket="tags", Key="k")["TagSet"] == [
        {"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "core"}]
    s3.delete_object_tagging(Bucket="tags", Key="k")
    assert s3.get_object_tagging(Bucket="tags", Key="k")["TagSet"] == []
    expect_error("InvalidTag", s3.put_object_tagging, Bucket="tags", Key="k", Tagging={"TagSet": [
        {"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    expect_error("NoSuchKey", s3.get_object_tagging, Bucket="tags", Key="none")


def test_cli_cp_mv_rm_sync(fb):
    new_bucket(fb, "highlevel")
    d = tempfile.mkdtemp()
    os.makedirs(os.path.join(d, "src", "sub"))
    files = {"a.txt": b"A" * 10, "sub/b.bin": os.urandom(70000), "sub/c.txt": b""}
    for k, v in files.items():
        with open(os.path.join(d, "src", k), "wb") as f:
            f.write(v)
    out = fb.aws("s3", "sync", os.path.join(d, "src"), "s3://highlevel/tree", raw=True)
    assert out.count("upload:") == 3
    out = fb.aws("s3", "sync", os.path.join(d, "src"), "s3://highlevel/tree", raw=True)
    assert "upload:" not in out  # nothing changed
    fb.aws("s3", "sync", "s3://highlevel/tree", os.path.join(d, "back"), raw=True)
    for k, v in files.items():
        assert open(os.path.join(d, "back", k), "rb").read() == v
    fb.aws("s3", "mv", "s3://highlevel/tree/a.txt", "s3://highlevel/moved.txt", raw=True)
    s3 = fb.client("s3")
    expect_error("NoSuchKey", s3.get_object, Bucket="highlevel", Key="tree/a.txt")
    assert s3.get_object(Bucket="highlevel", Key="moved.txt")["Body"].read() == files["a.txt"]
    fb.aws("s3", "rm", "s3://highlevel/moved.txt", raw=True)
    expect_error("NoSuchKey", s3.get_object, Bucket="highlevel", Key="moved.txt")
    fb.aws("s3", "cp", "s3://highlevel/tree/sub/b.bin", os.path.join(d, "b.bin"), raw=True)
    assert open(os.path.join(d, "b.bin"), "rb").read() == files["sub/b.bin"]


# ---- bucket configuration ----

def test_bucket_configurations(fb):
    new_bucket(fb, "configs")
    s3 = fb.client("s3")
    for fn, code in ((s3.get_bucket_cors, "NoSuchCORSConfiguration"),
                     (s3.get_bucket_policy, "NoSuchBucketPolicy"),
                     (s3.get_bucket_tagging, "NoSuchTagSet"),
                     (s3.get_bucket_website, "NoSuchWebsiteConfiguration"),
                     (s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration"),
                     (s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError"),
                     (s3.get_public_access_block, "NoSuchPublicAccessBlockConfiguration"),
                     (s3.get_bucket_ownership_controls, "OwnershipControlsNotFoundError")):
        expect_error(code, fn, Bucket="configs")
    pol = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                              "Action": "s3:GetObject",
                                                              "Resource": "arn:aws:s3:::configs/*"}]})
    s3.put_bucket_policy(Bucket="configs", Policy=pol)
    assert s3.get_bucket_policy(Bucket="configs")["Policy"] == pol
    expect_error("MalformedPolicy", s3.put_bucket_policy, Bucket="configs", Policy="not json")
    s3.put_bucket_tagging(Bucket="configs", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_bucket_tagging(Bucket="configs")["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.put_bucket_website(Bucket="configs", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"}})
    w = s3.get_bucket_website(Bucket="configs")
    assert w["IndexDocument"]["Suffix"] == "index.html" and w["ErrorDocument"]["Key"] == "err.html"
    s3.put_bucket_notification_configuration(Bucket="configs", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
                                 "Events": ["s3:ObjectCreated:*"]}]})
    n = s3.get_bucket_notification_configuration(Bucket="configs")
    assert n["QueueConfigurations"][0]["Events"] == ["s3:ObjectCreated:*"]
    s3.put_public_access_block(Bucket="configs", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    assert s3.get_public_access_block(Bucket="configs")["PublicAccessBlockConfiguration"][
        "BlockPublicPolicy"] is True
    s3.put_bucket_ownership_controls(Bucket="configs", OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert s3.get_bucket_ownership_controls(Bucket="configs")["OwnershipControls"]["Rules"][0][
        "ObjectOwnership"] == "BucketOwnerEnforced"
    s3.put_bucket_lifecycle_configuration(Bucket="configs", LifecycleConfiguration={"Rules": [
        {"ID": "r1", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}]})
    assert s3.get_bucket_lifecycle_configuration(Bucket="configs")["Rules"][0]["Expiration"]["Days"] == 30
    acl = s3.get_bucket_acl(Bucket="configs")
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL" and acl["Owner"]["ID"]
    for fn in (s3.delete_bucket_policy, s3.delete_bucket_tagging, s3.delete_bucket_website,
               s3.delete_bucket_lifecycle, s3.delete_public_access_block,
               s3.delete_bucket_ownership_controls):
        fn(Bucket="configs")
    expect_error("NoSuchBucketPolicy", s3.get_bucket_policy, Bucket="configs")
    expect_error("NoSuchTagSet", s3.get_bucket_tagging, Bucket="configs")


def test_cors(fb):
    new_bucket(fb, "corsy")
    s3 = fb.client("s3")
    s3.put_object(Bucket="corsy", Key="k", Body=b"x")
    st, h, body = raw(fb, "OPTIONS", "/corsy/k", {"Origin": "https://app.example.com",
                                                 "Access-Control-Request-Method": "GET"}, sign=False)
    assert st == 403 and b"CORSResponse" in body
    s3.put_bucket_cors(Bucket="corsy", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
         "AllowedHeaders": ["x-amz-*", "content-type"], "ExposeHeaders": ["ETag"],
         "MaxAgeSeconds": 600}]})
    assert s3.get_bucket_cors(Bucket="corsy")["CORSRules"][0]["MaxAgeSeconds"] == 600
    st, h, body = raw(fb, "OPTIONS", "/corsy/k", {
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type, x-amz-meta-a"}, sign=False)
    assert st == 200, body
    assert h["access-control-allow-origin"] == "https://app.example.com"
    assert h["access-control-allow-methods"] == "GET, PUT" and h["access-control-max-age"] == "600"
    assert h["access-control-allow-headers"] == "content-type, x-amz-meta-a"
    for bad in ({"Origin": "https://evil.com", "Access-Control-Request-Method": "GET"},
                {"Origin": "https://app.example.com", "Access-Control-Request-Method": "DELETE"},
                {"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"}):
        st, h, body = raw(fb, "OPTIONS", "/corsy/k", bad, sign=False)
        assert st == 403 and b"CORSResponse" in body, bad
    st, h, body = raw(fb, "GET", "/corsy/k", {"Origin": "https://app.example.com"})
    assert st == 200 and h["access-control-allow-origin"] == "https://app.example.com"
    assert h["access-control-expose-headers"] == "ETag"
    expect_error("InvalidRequest", s3.put_bucket_cors, Bucket="corsy", CORSConfiguration={
        "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
    s3.delete_bucket_cors(Bucket="corsy")
    expect_error("NoSuchCORSConfiguration", s3.get_bucket_cors, Bucket="corsy")


def test_virtual_hosted_style(fb):
    new_bucket(fb, "vhost")
    host = "vhost.s3.localhost:%d" % fb.port
    st, h, body = raw(fb, "PUT", "/dir/key.txt", body=b"virtual", host=host)
    assert st == 200, body
    st, h, body = raw(fb, "GET", "/dir/key.txt", host=host)
    assert st == 200 and body == b"virtual"
    st, h, body = raw(fb, "GET", "/?list-type=2", host=host)
    assert st == 200 and b"<Key>dir/key.txt</Key>" in body
    st, h, body = raw(fb, "GET", "/dir/key.txt", host="vhost.localhost:%d" % fb.port)
    assert st == 200 and body == b"virtual"
    assert fb.client("s3").get_object(Bucket="vhost", Key="dir/key.txt")["Body"].read() == b"virtual"


# ---- encryption at rest ----

def scan_data_dir(fb, needle):
    """True when needle appears in any file of the data dir (db included)."""
    for path in glob.glob(os.path.join(fb.data_dir, "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if needle in f.read():
                    return True
    return False


def test_sse_kms_and_sse_s3(fb):
    new_bucket(fb, "secure")
    s3 = fb.client("s3")
    secret_small = b"TOP-SECRET-small-" + os.urandom(8).hex().encode()
    secret_big = (b"TOP-SECRET-BIG-" + os.urandom(8).hex().encode()) * 40000
    r = s3.put_object(Bucket="secure", Key="small", Body=secret_small, ServerSideEncryption="aws:kms")
    assert r["ServerSideEncryption"] == "aws:kms" and ":key/" in r["SSEKMSKeyId"]
    key = fb.client("kms").create_key()["KeyMetadata"]
    r = s3.put_object(Bucket="secure", Key="big", Body=secret_big, ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=key["KeyId"])
    assert r["SSEKMSKeyId"] == key["Arn"]
    r = s3.put_object(Bucket="secure", Key="s3", Body=secret_small, ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in r
    o = s3.get_object(Bucket="secure", Key="big")
    assert o["Body"].read() == secret_big and o["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket="secure", Key="small")["Body"].read() == secret_small
    assert s3.get_object(Bucket="secure", Key="s3")["Body"].read() == secret_small
    o = s3.get_object(Bucket="secure", Key="big", Range="bytes=70000-70099")
    assert o["Body"].read() == secret_big[70000:70100]
    assert s3.head_object(Bucket="secure", Key="big")["ContentLength"] == len(secret_big)
    fb.stop()
    assert not scan_data_dir(fb, b"TOP-SECRET"), "plaintext found at rest"
    fb.start()
    s3 = fb.client("s3")
    # the bucket default applies to objects written without headers
    s3.put_bucket_encryption(Bucket="secure", ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": key["Arn"]}}]})
    r = s3.put_object(Bucket="secure", Key="default", Body=b"x")
    assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == key["Arn"]
    c = s3.copy_object(Bucket="secure", Key="copy", CopySource="secure/big")
    assert c["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket="secure", Key="copy")["Body"].read() == secret_big
    # a disabled key makes its objects unreadable, as in AWS
    fb.client("kms").disable_key(KeyId=key["KeyId"])
    expect_error("KMS.DisabledException", s3.get_object, Bucket="secure", Key="big")
    fb.client("kms").enable_key(KeyId=key["KeyId"])
    expect_error("KMS.NotFoundException", s3.put_object, Bucket="secure", Key="x", Body=b"x",
                 ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/does-not-exist")


# ---- presigned URLs ----

def test_presigned_urls(fb):
    new_bucket(fb, "presign")
    s3 = fb.client("s3")
    s3.put_object(Bucket="presign", Key="doc.txt", Body=b"shared document")
    url = fb.aws("s3", "presign", "s3://presign/doc.txt", "--expires-in", "300", raw=True).strip()
    code, body = curl(url)
    assert code == 200 and body == b"shared document", (code, body)
    tampered = url.replace("doc.txt", "doc.txT")
    code, body = curl(tampered)
    assert code == 403 and b"SignatureDoesNotMatch" in body, body
    sig = url.split("X-Amz-Signature=")[1][:64]
    code, body = curl(url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:]))
    assert code == 403 and b"SignatureDoesNotMatch" in body
    short = presigner(fb).generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "doc.txt"},
                                      ExpiresIn=1)
    time.sleep(2.1)
    code, body = curl(short)
    assert code == 403 and b"<Code>AccessDenied</Code>" in body and b"expired" in body, body
    put = presigner(fb).generate_presigned_url("put_object", Params={"Bucket": "presign", "Key": "up.bin"},
                                    ExpiresIn=300)
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(b"uploaded with curl")
    code, body = curl("-T", os.path.join(d, "f"), put)
    assert code == 200, body
    assert s3.get_object(Bucket="presign", Key="up.bin")["Body"].read() == b"uploaded with curl"
    # over 1 MiB the server spools the body to disk: the presigned request
    # still signs UNSIGNED-PAYLOAD, not the spooled body's hash
    big = os.urandom(3 << 20)
    with open(os.path.join(d, "big"), "wb") as f:
        f.write(big)
    put = presigner(fb).generate_presigned_url("put_object", Params={"Bucket": "presign", "Key": "big.bin"},
                                    ExpiresIn=300)
    code, body = curl("-T", os.path.join(d, "big"), put)
    assert code == 200, body
    assert s3.get_object(Bucket="presign", Key="big.bin")["Body"].read() == big


# ---- the pip CLI v1 (newer botocore: CRC32 by default, streaming) ----

def pip_aws(fb, *args, stdin=None):
    env = lib._cli_env("test", "test", "us-east-1", {"AWS_ENDPOINT_URL": fb.endpoint,
                                                     "PATH": "/root/.pyenv/shims:/usr/bin:/bin",
                                                     "HOME": os.environ.get("HOME", "/root")})
    p = subprocess.run([PIP_AWS] + list(args), input=stdin, capture_output=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


def test_pip_cli_v1_checksums_and_streaming(fb):
    if not os.path.exists(PIP_AWS):
        print("  (skipped: no pip aws CLI v1 at %s)" % PIP_AWS)
        return
    env_ok = subprocess.run([PIP_AWS, "--version"], capture_output=True)
    if env_ok.returncode != 0:
        print("  (skipped: pip aws CLI v1 does not run)")
        return
    new_bucket(fb, "pipcli")
    d = tempfile.mkdtemp()
    data = os.urandom(300000)
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(data)
    out = json.loads(pip_aws(fb, "s3api", "put-object", "--bucket", "pipcli", "--key", "f",
                             "--body", os.path.join(d, "f")))
    assert out["ETag"] == '"%s"' % md5(data)
    # stdin: unseekable, so aws-chunked with a CRC32 trailer
    pip_aws(fb, "s3", "cp", "-", "s3://pipcli/stream", stdin=data)
    got = fb.client("s3").get_object(Bucket="pipcli", Key="stream")["Body"].read()
    assert got == data
    pip_aws(fb, "s3", "cp", "s3://pipcli/stream", os.path.join(d, "back"))
    assert open(os.path.join(d, "back"), "rb").read() == data
    out = pip_aws(fb, "s3", "ls", "s3://pipcli/").decode()
    assert "stream" in out


if __name__ == "__main__":
    lib.main(globals())
