"""The edge: HTTP/1.1 details, routing, authentication errors, health,
unimplemented operations, loopback-only binding and graceful stop."""
import json
import socket
import subprocess
import tempfile

import lib
from lib import AwsError, expect_error, raw_request, read_response, sign

STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
STS_CT = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def conn(fb):
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=10)
    return s


def sts_request(fb, **kw):
    return raw_request("POST", "/", sign(fb, "sts", STS_BODY, STS_CT, **kw), STS_BODY)


def test_health(fb):
    for path in ("/_fogbank/health", "/_localstack/health"):
        status, _, body = fb.http("GET", path)
        assert status == 200
        doc = json.loads(body)
        assert doc["services"]["secretsmanager"] == "running"
        assert doc["services"]["kms"] == "running"
        assert doc["services"]["sts"] == "running"


def test_keepalive_and_pipelining(fb):
    s = conn(fb)
    # three signed requests written at once, answered in order on one connection
    s.sendall(sts_request(fb) * 3)
    for _ in range(3):
        status, hdrs, body = read_response(s)
        assert status == 200, body
        assert b"<Account>000000000000</Account>" in body
        assert "x-amzn-requestid" in hdrs
    # and the connection is still usable afterwards
    s.sendall(sts_request(fb))
    assert read_response(s)[0] == 200
    s.close()


def test_chunked_body(fb):
    hdrs = sign(fb, "sts", STS_BODY, STS_CT)
    lines = ["POST / HTTP/1.1"] + ["%s: %s" % kv for kv in hdrs.items()] + ["Transfer-Encoding: chunked"]
    b = STS_BODY.encode()
    chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, b[:10], len(b) - 10, b[10:])
    s = conn(fb)
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + chunked)
    status, _, body = read_response(s)
    assert status == 200, body
    s.close()


def test_expect_100_continue(fb):
    req = sts_request(fb)
    head, body = req.split(b"\r\n\r\n", 1)
    s = conn(fb)
    s.sendall(head + b"\r\nExpect: 100-continue\r\n\r\n")
    interim = s.recv(4096)
    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
    lib._pending[s.fileno()] = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    s.sendall(body)
    assert read_response(s)[0] == 200
    s.close()


def read_interim_and_final(s):
    """Reads a 100 Continue then a whole final response from socket s."""
    data = b""
    while data.count(b"\r\n\r\n") < 2:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    return data


def test_expect_100_continue_always_answered(fb):
    # 100 Continue comes first whenever Expect is sent, even for an empty
    # body or a body written with the head: botocore, seeing a final status
    # where it waited for 100, keeps that status line on the connection and
    # misreads the next 100-continue exchange there (it was an intermittent
    # 60 s hang in `aws s3 sync` of a tree holding an empty file).
    for body in (b"", b"0123456789"):
        s = conn(fb)
        s.sendall(b"PUT /expect-raw HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"Expect: 100-continue\r\n\r\n%s" % (len(body), body))
        data = read_interim_and_final(s)
        assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 "), data
        s.close()
    # The failure itself, through boto3 on one pooled connection: an empty
    # file-like body, then a non-empty one whose client gives up waiting
    # for the 100 (as a loaded machine makes it do after its 1 s wait).
    import io
    import boto3
    import botocore.awsrequest as awsrequest
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=fb.endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(retries={"max_attempts": 0}, max_pool_connections=1,
                                    read_timeout=20))  # a retry would hide the hang
    s3.create_bucket(Bucket="expect-continue")
    real_wait = awsrequest.urllib3.util.wait_for_read

    def late(sock, timeout=None):
        real_wait(sock, timeout)  # the 100 is there by now, but too late
        return False
    s3.put_object(Bucket="expect-continue", Key="empty", Body=io.BytesIO(b""))
    awsrequest.urllib3.util.wait_for_read = late
    try:
        s3.put_object(Bucket="expect-continue", Key="data", Body=io.BytesIO(b"x" * 70000))
    finally:
        awsrequest.urllib3.util.wait_for_read = real_wait
    assert s3.get_object(Bucket="expect-continue", Key="data")["Body"].read() == b"x" * 70000


def test_limits_and_malformed(fb):
    s = conn(fb)
    s.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    assert read_response(s)[0] == 431
    s.close()
    s = conn(fb)
    s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n")
    assert read_response(s)[0] == 413
    s.close()
    for bad in (b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
        s = conn(fb)
        s.sendall(bad)
        status, hdrs, _ = read_response(s)
        assert status == 400, (bad, status)
        assert hdrs.get("connection") == "close"
        assert s.recv(10) == b""  # closed after the error
        s.close()
    # the daemon is fine afterwards
    assert fb.http("GET", "/_fogbank/health")[0] == 200


def spool_files(fb):
    import os
    d = os.path.join(fb.data_dir, "tmp")
    return [f for f in os.listdir(d) if f.startswith("spool-")] if os.path.isdir(d) else []


def test_large_bodies_are_spooled(fb):
    """Bodies over the 1 MiB in-memory threshold go through a spool file
    (Content-Length and chunked alike), decode the same, and leave no file."""
    ct = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"}
    body = '{"SecretId": "no-such-secret"' + " " * (5 << 20) + "}"
    s = conn(fb)
    s.sendall(raw_request("POST", "/", sign(fb, "secretsmanager", body, ct), body))
    status, _, out = read_response(s)
    assert status == 400 and json.loads(out)["__type"] == "ResourceNotFoundException", out[:200]
    hdrs = sign(fb, "secretsmanager", body, ct)
    lines = ["POST / HTTP/1.1"] + ["%s: %s" % kv for kv in hdrs.items()] + ["Transfer-Encoding: chunked"]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    b = body.encode()
    for i in range(0, len(b), 700000):
        piece = b[i:i + 700000]
        s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    status, _, out = read_response(s)
    assert status == 400 and json.loads(out)["__type"] == "ResourceNotFoundException", out[:200]
    s.close()
    assert spool_files(fb) == []


def test_rpc_body_limit(fb):
    ct = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"}
    body = '{"SecretId": "x"' + " " * (17 << 20) + "}"
    s = conn(fb)
    s.sendall(raw_request("POST", "/", sign(fb, "secretsmanager", body, ct), body))
    status, _, out = read_response(s)
    assert status == 413 and json.loads(out)["__type"] == "RequestEntityTooLarge", out[:200]
    s.close()
    assert spool_files(fb) == []


def test_many_connections(fb):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4096)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    n = min(2000, want - 100)  # thousands where the machine allows
    socks = [conn(fb) for _ in range(n)]
    req = sts_request(fb)
    for s in socks:
        s.sendall(req)
    for s in socks:
        assert read_response(s)[0] == 200
        s.close()


def test_missing_auth(fb):
    status, hdrs, body = fb.http("POST", "/", STS_BODY, STS_CT)
    assert status == 403, body
    assert b"<Code>MissingAuthenticationToken</Code>" in body
    status, hdrs, body = fb.http("POST", "/", '{"SecretId": "x"}',
                                 {"Content-Type": "application/x-amz-json-1.1",
                                  "X-Amz-Target": "secretsmanager.GetSecretValue"})
    assert status == 400
    assert json.loads(body)["__type"] == "MissingAuthenticationTokenException"


def test_tampered_and_wrong_secret(fb):
    # body changed after signing: the payload hash no longer matches
    hdrs = sign(fb, "sts", STS_BODY, STS_CT)
    s = conn(fb)
    s.sendall(raw_request("POST", "/", hdrs, STS_BODY.replace("06-15", "06-16")))
    status, _, body = read_response(s)
    assert status == 403 and b"SignatureDoesNotMatch" in body, body
    # signature hex flipped
    hdrs = sign(fb, "sts", STS_BODY, STS_CT)
    a = hdrs["Authorization"]
    hdrs["Authorization"] = a[:-1] + ("0" if a[-1] != "0" else "1")
    s.sendall(raw_request("POST", "/", hdrs, STS_BODY))
    status, _, body = read_response(s)
    assert status == 403 and b"SignatureDoesNotMatch" in body, body
    s.close()
    # real clients with a wrong secret
    expect_error("SignatureDoesNotMatch", fb.aws, "sts", "get-caller-identity", secret="wrong")
    expect_error("InvalidSignatureException", fb.aws, "secretsmanager", "list-secrets", secret="wrong")
    expect_error("InvalidClientTokenId", fb.aws, "sts", "get-caller-identity",
                 access_key="AKIAUNKNOWNKEY000000", secret="x")
    expect_error("UnrecognizedClientException", fb.aws, "kms", "list-keys",
                 access_key="AKIAUNKNOWNKEY000000", secret="x")


def test_clock_skew(fb):
    import datetime
    from unittest import mock
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = old
        dt.datetime.strptime = datetime.datetime.strptime
        hdrs = sign(fb, "sts", STS_BODY, STS_CT)
    assert hdrs["X-Amz-Date"].startswith(old.strftime("%Y%m%dT%H%M"))
    s = conn(fb)
    s.sendall(raw_request("POST", "/", hdrs, STS_BODY))
    status, _, body = read_response(s)
    assert status == 400 and b"RequestExpired" in body, body
    s.close()


def test_unimplemented_operation(fb):
    e = expect_error("NotImplemented", fb.aws, "ec2", "describe-regions")
    assert "DescribeRegions" in e.message
    status, _, body = fb.http("POST", "/", "{}", dict(
        sign(fb, "kms", "{}", {"Content-Type": "application/x-amz-json-1.1",
                               "X-Amz-Target": "TrentService.NoSuchOperation"})))
    assert status == 400 and json.loads(body)["__type"] == "UnknownOperationException"


def test_query_compatible_json_routing(fb):
    """Newer SDKs send SQS and CloudWatch as JSON 1.0 with x-amzn-query-mode;
    Debian's CLI sends them as query. Both reach the same operation."""
    for svc, target, action, version in (("sqs", "AmazonSQS.ListQueues", "ListQueues", "2012-11-05"),
                                         ("monitoring", "GraniteServiceVersion20100801.ListMetrics",
                                          "ListMetrics", "2010-08-01")):
        hdrs = sign(fb, svc, "{}", {"Content-Type": "application/x-amz-json-1.0",
                                    "X-Amz-Target": target, "x-amzn-query-mode": "true"})
        status, h, body = fb.http("POST", "/", "{}", hdrs)
        doc = json.loads(body)
        assert status == 501 and doc["__type"] == "NotImplemented", body
        assert action in doc["message"]
        assert h.get("x-amzn-query-error", "").startswith("NotImplemented;"), h
        form = "Action=%s&Version=%s" % (action, version)
        status, h, body = fb.http("POST", "/", form, sign(fb, svc, form, STS_CT))
        assert status == 501 and b"<Code>NotImplemented</Code>" in body, body


def test_validation_errors(fb):
    # clients validate too, so send what a buggy client would
    ct = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"}
    for body, code, text in (('{"SecretId": ""}', "ValidationException", "secretId"),
                             ('{}', "ValidationException", "Member must not be null"),
                             ('{"SecretId": 5}', "SerializationException", "")):
        status, _, out = fb.http("POST", "/", body, sign(fb, "secretsmanager", body, ct))
        doc = json.loads(out)
        assert status == 400 and doc["__type"] == code and text in doc.get("message", ""), out
    hdrs = sign(fb, "secretsmanager", "{not json", {"Content-Type": "application/x-amz-json-1.1",
                                                     "X-Amz-Target": "secretsmanager.GetSecretValue"})
    status, _, body = fb.http("POST", "/", "{not json", hdrs)
    assert status == 400 and json.loads(body)["__type"] == "SerializationException"
    body = "Action=CreateUser&Version=2010-05-08&UserName="
    status, _, out = fb.http("POST", "/", body, sign(fb, "iam", body, STS_CT))
    assert status == 400 and b"<Code>ValidationError</Code>" in out, out


def test_auth_soft_and_off(fb):
    for mode in ("soft", "off"):
        other = lib.Fogbank(auth=mode)
        try:
            out = other.aws("sts", "get-caller-identity", secret="wrong")
            assert out["Account"] == "000000000000"
        finally:
            other.close()


def test_refuses_non_loopback(fb):
    d = tempfile.mkdtemp()
    for host in ("0.0.0.0", "10.1.2.3", "192.168.1.1", "::"):
        p = subprocess.run([lib.BINARY, "up", "--host", host, "--port", "0", "--data-dir", d],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (host, p.returncode)
        assert "loopback" in p.stderr


def test_graceful_stop(fb):
    other = lib.Fogbank()
    rc = other.stop()
    assert rc == 0, rc
    other.close()


if __name__ == "__main__":
    lib.main(globals())
