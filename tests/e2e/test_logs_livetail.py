"""CloudWatch Logs StartLiveTail: an AWS event stream on the response.

The raw tests sign the request with Debian's botocore and decode the
stream with botocore's own event-stream decoder (which checks both CRCs
of every message). Debian's botocore (1.29) predates StartLiveTail, so a
newer boto3 (the image's pip one) drives the SDK test when it is there."""
import json
import os
import shutil
import socket
import subprocess
import time

import lib
from lib import raw_request, sign

TARGET = "Logs_20140328.StartLiveTail"
ARN = "arn:aws:logs:us-east-1:000000000000:log-group:%s"


def start(fb, body):
    """Sends StartLiveTail with JSON body on a new socket; returns (socket,
    status, headers, bytes already read past the head)."""
    data = json.dumps(body)
    hdrs = sign(fb, "logs", data, {"Content-Type": "application/x-amz-json-1.1",
                                   "X-Amz-Target": TARGET})
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=30)
    s.sendall(raw_request("POST", "/", hdrs, data))
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    h = dict((k.strip().lower(), v.strip()) for k, v in (l.split(":", 1) for l in lines[1:]))
    return s, status, h, rest


def error_body(s, h, rest):
    """The JSON error body of a non-streamed answer (by Content-Length)."""
    n = int(h["content-length"])
    while len(rest) < n:
        rest += s.recv(65536)
    return json.loads(rest[:n])


class Events:
    """Reads a chunked event-stream body and decodes it with botocore."""

    def __init__(self, sock, rest):
        from botocore.eventstream import EventStreamBuffer
        self.sock, self.raw, self.decoder = sock, rest, EventStreamBuffer()
        self.ready = []

    def _chunk(self):
        while b"\r\n" not in self.raw:
            self._more()
        size_line, self.raw = self.raw.split(b"\r\n", 1)
        n = int(size_line, 16)
        while len(self.raw) < n + 2:
            self._more()
        data, self.raw = self.raw[:n], self.raw[n + 2:]
        return data

    def _more(self):
        chunk = self.sock.recv(65536)
        assert chunk, "stream closed"
        self.raw += chunk

    def next(self):
        """The next message as (headers dict, payload object)."""
        while not self.ready:
            data = self._chunk()
            assert data, "stream ended"
            self.decoder.add_data(data)
            for m in self.decoder:
                self.ready.append((m.headers, json.loads(m.payload or b"{}")))
        return self.ready.pop(0)


def put(fb, group, stream, *messages):
    logs = fb.client("logs")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now, "message": m} for m in messages])


def test_stream_of_matching_events(fb):
    logs = fb.client("logs")
    logs.create_log_group(logGroupName="tail-a")
    for st in ("web/1", "web/2", "worker/1"):
        logs.create_log_stream(logGroupName="tail-a", logStreamName=st)
    s, status, h, rest = start(fb, {"logGroupIdentifiers": [ARN % "tail-a"],
                                    "logStreamNamePrefixes": ["web/"],
                                    "logEventFilterPattern": "ERROR"})
    assert status == 200
    assert h["content-type"] == "application/vnd.amazon.eventstream"
    assert h["transfer-encoding"] == "chunked"
    ev = Events(s, rest)
    hd, body = ev.next()  # JSON protocols open with the initial response
    assert hd[":event-type"] == "initial-response" and body == {}
    hd, body = ev.next()
    assert hd[":message-type"] == "event" and hd[":event-type"] == "sessionStart", hd
    assert body["logGroupIdentifiers"] == [ARN % "tail-a"]
    assert body["logStreamNamePrefixes"] == ["web/"]
    assert body["logEventFilterPattern"] == "ERROR" and body["sessionId"]
    put(fb, "tail-a", "web/1", "ERROR disk full", "INFO all good")
    put(fb, "tail-a", "worker/1", "ERROR not this stream")
    put(fb, "tail-a", "web/2", "ERROR second")
    got = []
    while len(got) < 2:  # updates come every second, empty ones too
        hd, body = ev.next()
        assert hd[":event-type"] == "sessionUpdate", hd
        assert body["sessionMetadata"] == {"sampled": False}
        got += body["sessionResults"]
    assert [(e["logStreamName"], e["message"]) for e in got] == [
        ("web/1", "ERROR disk full"), ("web/2", "ERROR second")]
    assert got[0]["logGroupIdentifier"] == ARN % "tail-a"
    assert got[0]["ingestionTime"] >= got[0]["timestamp"] > 0
    s.close()


def test_errors(fb):
    logs = fb.client("logs")
    logs.create_log_group(logGroupName="tail-b")
    cases = [
        ({"logGroupIdentifiers": ["tail-b"]}, "InvalidParameterException"),  # a name, not an ARN
        ({"logGroupIdentifiers": [ARN % "tail-b" + ":*"]}, "InvalidParameterException"),
        ({"logGroupIdentifiers": [ARN % "missing"]}, "ResourceNotFoundException"),
        ({"logGroupIdentifiers": [ARN % "tail-b"], "logStreamNames": ["a"],
          "logStreamNamePrefixes": ["b"]}, "InvalidParameterException"),
        ({"logGroupIdentifiers": [ARN % "tail-b", ARN % "tail-b"], "logStreamNames": ["a"]},
         "InvalidParameterException"),
        ({"logGroupIdentifiers": []}, "InvalidParameterException"),  # min 1, from the model
        ({}, "InvalidParameterException"),
        ({"logGroupIdentifiers": [ARN % "tail-b"], "logEventFilterPattern": "{ $.x = "},
         "InvalidParameterException"),
    ]
    for body, code in cases:
        s, status, h, rest = start(fb, body)
        assert status == 400, (body, status)
        err = error_body(s, h, rest)
        assert err["__type"].endswith(code), (body, err)
        s.close()


def test_session_limit_and_release(fb):
    logs = fb.client("logs")
    logs.create_log_group(logGroupName="tail-c")
    body = {"logGroupIdentifiers": [ARN % "tail-c"]}
    open_ = []
    for _ in range(15):  # AWS's quota of concurrent sessions per account
        s, status, _, _ = start(fb, body)
        assert status == 200
        open_.append(s)
    s, status, h, rest = start(fb, body)
    assert status == 400 and error_body(s, h, rest)["__type"].endswith("LimitExceededException")
    s.close()
    open_.pop().close()  # a client that leaves frees its session
    deadline = time.time() + 30
    while True:
        s, status, _, _ = start(fb, body)
        s.close()
        if status == 200:
            break
        assert time.time() < deadline, "session not released"
    for s in open_:
        s.close()


def newer_python():
    """A python3 other than Debian's whose boto3 knows StartLiveTail."""
    for exe in (shutil.which("python3"), "/usr/local/bin/python3"):
        if not exe or os.path.realpath(exe) == os.path.realpath("/usr/bin/python3"):
            continue
        probe = subprocess.run([exe, "-c", "import boto3; "
                                "boto3.client('logs', region_name='us-east-1').start_live_tail"],
                               capture_output=True)
        if probe.returncode == 0:
            return exe
    return None


SDK_SCRIPT = r"""
import sys, time, threading, boto3
from botocore.config import Config
port = int(sys.argv[1])
logs = boto3.client("logs", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                    aws_access_key_id="test", aws_secret_access_key="test",
                    config=Config(inject_host_prefix=False))
r = logs.start_live_tail(logGroupIdentifiers=[sys.argv[2]])
stream = r["responseStream"]
for ev in stream:
    if "sessionStart" in ev:
        logs.put_log_events(logGroupName="tail-sdk", logStreamName="s",
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "hello sdk"}])
    elif ev.get("sessionUpdate", {}).get("sessionResults"):
        print(ev["sessionUpdate"]["sessionResults"][0]["message"])
        break
stream.close()
"""


def test_boto3_sdk(fb):
    exe = newer_python()
    if not exe:
        raise lib.Skip("no boto3 with StartLiveTail (Debian's botocore 1.29 predates it)")
    logs = fb.client("logs")
    logs.create_log_group(logGroupName="tail-sdk")
    logs.create_log_stream(logGroupName="tail-sdk", logStreamName="s")
    out = subprocess.run([exe, "-c", SDK_SCRIPT, str(fb.port), ARN % "tail-sdk"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello sdk", out.stdout


if __name__ == "__main__":
    lib.main(globals())
