#!/usr/bin/python3
"""test_s3_sigv2.py - S3's legacy Signature Version 2 end to end: the
presigned URLs Debian's boto3 1.26 makes by default (?AWSAccessKeyId=
&Expires=&Signature=), fetched with curl; URLs and "Authorization: AWS
key:sig" headers built here from AWS's documented algorithm (independent
of botocore); botocore's header form (signature_version="s3"); and the
failures: tampered URL -> 403 SignatureDoesNotMatch, expired -> 403
AccessDenied "Request has expired", stale Date -> RequestTimeTooSkewed,
unknown key -> InvalidAccessKeyId.
"""
import base64
import email.utils
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402


def curl(*args):
    p = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}"] + list(args),
                       capture_output=True, timeout=60)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def v2_signature(secret, string_to_sign):
    """base64(HMAC-SHA1(secret, StringToSign)), AWS's SigV2."""
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(),
                                     hashlib.sha1).digest()).decode()


def v2_url(fb, method, path, expires, sub="", secret="test", access_key="test"):
    """A presigned URL built by hand: StringToSign = verb, Content-MD5,
    Content-Type, Expires, CanonicalizedResource (path + sub-resource)."""
    sts = "%s\n\n\n%d\n%s%s" % (method, expires, path, "?" + sub if sub else "")
    q = "AWSAccessKeyId=%s&Expires=%d&Signature=%s" % (
        access_key, expires, urllib.parse.quote(v2_signature(secret, sts), safe=""))
    return "%s%s?%s%s" % (fb.endpoint, path, sub + "&" if sub else "", q)


def raw(fb, method, path, headers, body=b""):
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=30)
    try:
        s.sendall(lib.raw_request(method, path, headers, body))
        return lib.read_response(s)
    finally:
        s.close()


def test_boto3_default_presigned_urls_are_sigv2(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="sigv2")
    s3.put_object(Bucket="sigv2", Key="a b/c+d.txt", Body=b"shared with sigv2")
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": "sigv2", "Key": "a b/c+d.txt",
        "ResponseContentDisposition": "attachment; filename=x.txt"}, ExpiresIn=300)
    assert "AWSAccessKeyId=test" in url and "Signature=" in url and "X-Amz-" not in url, url
    p = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", url], capture_output=True)
    assert b" 200 " in p.stdout.split(b"\r\n")[0], p.stdout
    assert b"attachment; filename=x.txt" in p.stdout
    assert curl(url) == (200, b"shared with sigv2")
    put = s3.generate_presigned_url("put_object", Params={
        "Bucket": "sigv2", "Key": "up.txt", "ContentType": "text/plain"}, ExpiresIn=300)
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "f"), "wb") as f:
        f.write(b"uploaded through a SigV2 URL")
    code, body = curl("-T", os.path.join(d, "f"), "-H", "Content-Type: text/plain", put)
    assert code == 200, body
    o = s3.get_object(Bucket="sigv2", Key="up.txt")
    assert o["Body"].read() == b"uploaded through a SigV2 URL" and o["ContentType"] == "text/plain"
    # a Content-Type other than the signed one breaks the signature
    code, body = curl("-T", os.path.join(d, "f"), "-H", "Content-Type: text/html", put)
    assert code == 403 and b"SignatureDoesNotMatch" in body, body


def test_tampered_and_expired(fb):
    s3 = fb.client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sigv2", "Key": "up.txt"},
                                    ExpiresIn=300)
    assert curl(url)[0] == 200
    for bad in (url.replace("up.txt", "up.txT"),
                url.replace("Expires=", "Expires=1"),
                url.replace("Signature=", "Signature=AAAA")):
        code, body = curl(bad)
        assert code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, (bad, body)
    # another valid-looking signature of the right length
    sig = urllib.parse.unquote(url.split("Signature=")[1].split("&")[0])
    other = base64.b64encode(bytes(b ^ 1 for b in base64.b64decode(sig))).decode()
    code, body = curl(url.replace(url.split("Signature=")[1].split("&")[0],
                                  urllib.parse.quote(other, safe="")))
    assert code == 403 and b"SignatureDoesNotMatch" in body, body
    # signed correctly, but Expires is in the past: no waiting needed
    code, body = curl(v2_url(fb, "GET", "/sigv2/up.txt", int(time.time()) - 5))
    assert code == 403 and b"<Code>AccessDenied</Code>" in body, body
    assert b"Request has expired" in body
    code, body = curl(v2_url(fb, "GET", "/sigv2/up.txt", int(time.time()) + 60, secret="wrong"))
    assert code == 403 and b"SignatureDoesNotMatch" in body, body
    code, body = curl(v2_url(fb, "GET", "/sigv2/up.txt", int(time.time()) + 60,
                             access_key="AKIANOSUCHKEY0000000"))
    assert code == 403 and b"InvalidAccessKeyId" in body, body


def test_hand_built_urls_and_subresources(fb):
    s3 = fb.client("s3")
    s3.put_bucket_versioning(Bucket="sigv2", VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket="sigv2", Key="doc", Body=b"first")["VersionId"]
    s3.put_object(Bucket="sigv2", Key="doc", Body=b"second")
    exp = int(time.time()) + 120
    assert curl(v2_url(fb, "GET", "/sigv2/doc", exp)) == (200, b"second")
    # versionId is a sub-resource: it is signed, so changing it breaks the URL
    url = v2_url(fb, "GET", "/sigv2/doc", exp, sub="versionId=" + v1)
    assert curl(url) == (200, b"first")
    code, body = curl(url.replace("versionId=" + v1, "versionId=null"))
    assert code == 403 and b"SignatureDoesNotMatch" in body, body
    # a parameter that is not a sub-resource is not signed (as on AWS)
    code, body = curl(v2_url(fb, "GET", "/sigv2", exp) + "&list-type=2&prefix=do")
    assert code == 200 and b"<Key>doc</Key>" in body, body


def test_header_form_hand_built_virtual_hosted(fb):
    """Authorization: AWS key:sig, with x-amz-* headers and the bucket in
    the Host (the resource is then /bucket/key)."""
    date = email.utils.formatdate(usegmt=True)
    body = b"put with a SigV2 header"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    sts = "PUT\n%s\ntext/plain\n%s\nx-amz-meta-owner:sigv2\n/sigv2/hdr" % (md5, date)
    headers = {"Host": "sigv2.s3.localhost:%d" % fb.port, "Date": date, "Content-MD5": md5,
               "Content-Type": "text/plain", "X-Amz-Meta-Owner": "sigv2",
               "Authorization": "AWS test:" + v2_signature("test", sts)}
    status, _, out = raw(fb, "PUT", "/hdr", headers, body)
    assert status == 200, out
    o = fb.client("s3").get_object(Bucket="sigv2", Key="hdr")
    assert o["Body"].read() == body and o["Metadata"] == {"owner": "sigv2"}
    # the same request with a tampered header, then with a stale Date
    status, _, out = raw(fb, "PUT", "/hdr", dict(headers, **{"X-Amz-Meta-Owner": "mallory"}), body)
    assert status == 403 and b"SignatureDoesNotMatch" in out, out
    old = email.utils.formatdate(time.time() - 1200, usegmt=True)
    sts = "GET\n\n\n%s\n/sigv2/hdr" % old
    status, _, out = raw(fb, "GET", "/hdr", {"Host": "sigv2.s3.localhost:%d" % fb.port,
                                             "Date": old,
                                             "Authorization": "AWS test:" + v2_signature("test", sts)})
    assert status == 403 and b"RequestTimeTooSkewed" in out, out


def test_botocore_header_signing(fb):
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=fb.endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(signature_version="s3", retries={"max_attempts": 1}))
    s3.create_bucket(Bucket="sigv2-hdr")
    s3.put_object(Bucket="sigv2-hdr", Key="k", Body=b"v2", Metadata={"m": "1"})
    assert s3.get_object(Bucket="sigv2-hdr", Key="k")["Body"].read() == b"v2"
    assert s3.head_object(Bucket="sigv2-hdr", Key="k")["Metadata"] == {"m": "1"}
    s3.put_object_tagging(Bucket="sigv2-hdr", Key="k", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    assert s3.get_object_tagging(Bucket="sigv2-hdr", Key="k")["TagSet"] == [{"Key": "t", "Value": "1"}]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="sigv2-hdr")["Contents"]] == ["k"]
    up = s3.create_multipart_upload(Bucket="sigv2-hdr", Key="mp")
    p = s3.upload_part(Bucket="sigv2-hdr", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"part")
    s3.complete_multipart_upload(Bucket="sigv2-hdr", Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
    assert s3.get_object(Bucket="sigv2-hdr", Key="mp")["Body"].read() == b"part"
    s3.delete_object(Bucket="sigv2-hdr", Key="k")
    bad = boto3.client("s3", endpoint_url=fb.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="not-the-secret",
                       config=Config(signature_version="s3", retries={"max_attempts": 1}))
    expect_error("SignatureDoesNotMatch", bad.get_object, Bucket="sigv2-hdr", Key="mp")


def test_session_credentials(fb):
    creds = fb.client("sts").get_session_token()["Credentials"]
    s3 = fb.client("s3", access_key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                   token=creds["SessionToken"])
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "sigv2", "Key": "up.txt"},
                                    ExpiresIn=120)
    assert "x-amz-security-token=" in url, url
    assert curl(url) == (200, b"uploaded through a SigV2 URL")
    # without the token the key is unknown; with another token, expired
    parts = [kv for kv in url.split("?", 1)[1].split("&") if not kv.startswith("x-amz-security-token=")]
    code, body = curl(url.split("?", 1)[0] + "?" + "&".join(parts))
    assert code == 403 and b"InvalidAccessKeyId" in body, body
    code, body = curl(url.replace("x-amz-security-token=", "x-amz-security-token=X"))
    assert code == 403, body


if __name__ == "__main__":
    lib.main(globals())
