"""The state store's group commit, watched from outside with strace: an
answer to a write never leaves before the write-ahead log is fsynced, and
writes that arrive together share one fsync."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import lib
from lib import raw_request, read_response, sign

CT = {"Content-Type": "application/x-amz-json-1.1"}


def create_secret_request(fb, name):
    body = json.dumps({"Name": name, "SecretString": "v-" + name})
    hdrs = dict(CT, **{"X-Amz-Target": "secretsmanager.CreateSecret"})
    return raw_request("POST", "/", sign(fb, "secretsmanager", body, hdrs), body)


class Trace:
    """strace attached to the daemon (every thread), recording fdatasync
    and fsync with file paths and the first bytes of every send."""

    def __init__(self, fb):
        if not shutil.which("strace"):
            raise lib.Skip("strace is not installed")
        fd, self.path = tempfile.mkstemp(prefix="fogbank-strace-")
        os.close(fd)
        self.proc = subprocess.Popen(
            ["strace", "-f", "-y", "-s", "16", "-e", "trace=fdatasync,fsync,sendto,sendmsg",
             "-e", "signal=none", "-o", self.path, "-p", str(fb.proc.pid)],
            stderr=subprocess.PIPE, text=True)
        # "Process N attached with K threads": tracing is live from here
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("strace failed: %s" % self.proc.poll())
            if "attached" in line:
                break

    def stop(self):
        """Detaches; returns the trace's lines."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)
        with open(self.path) as f:
            lines = f.read().splitlines()
        os.unlink(self.path)
        return lines


def wal_syncs(lines):
    return [i for i, l in enumerate(lines) if re.search(r"f(data)?sync\(\d+<[^>]*-wal>\)", l)]


def answers(lines):
    return [i for i, l in enumerate(lines) if "send" in l and "HTTP/1.1 200" in l]


def test_answer_after_wal_sync(fb):
    t = Trace(fb)
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=10)
    s.sendall(create_secret_request(fb, "gc-one"))
    status, _, body = read_response(s)
    s.close()
    lines = t.stop()
    assert status == 200, body
    syncs, sent = wal_syncs(lines), answers(lines)
    assert sent, "no answer in the trace:\n" + "\n".join(lines[-20:])
    assert syncs, "the write was answered with no fsync of the WAL:\n" + "\n".join(lines)
    assert syncs[0] < sent[0], "answered before the WAL was synced:\n" + "\n".join(lines)


def test_pipelined_writes_share_a_sync(fb):
    n = 32
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=10)
    payload = b"".join(create_secret_request(fb, "gc-batch-%02d" % i) for i in range(n))
    t = Trace(fb)
    s.sendall(payload)
    for _ in range(n):
        status, _, body = read_response(s)
        assert status == 200, body
    s.close()
    lines = t.stop()
    syncs, sent = wal_syncs(lines), answers(lines)
    assert sent and syncs and syncs[0] < sent[0], "\n".join(lines)
    # one fsync per transaction would be n; a group commit needs far fewer
    assert len(syncs) < n, "%d WAL syncs for %d writes" % (len(syncs), n)


def test_acknowledged_writes_survive_kill(fb):
    names = ["gc-kill-%02d" % i for i in range(16)]
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=10)
    s.sendall(b"".join(create_secret_request(fb, n) for n in names))
    for _ in names:
        status, _, body = read_response(s)
        assert status == 200, body
    s.close()
    fb.proc.send_signal(signal.SIGKILL)
    fb.proc.wait()
    fb.start()
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=10)
    reqs = []
    for n in names:
        body = json.dumps({"SecretId": n})
        hdrs = dict(CT, **{"X-Amz-Target": "secretsmanager.GetSecretValue"})
        reqs.append(raw_request("POST", "/", sign(fb, "secretsmanager", body, hdrs), body))
    s.sendall(b"".join(reqs))
    for n in names:
        status, _, body = read_response(s)
        assert status == 200, body
        assert json.loads(body)["SecretString"] == "v-" + n
    s.close()

if __name__ == "__main__":
    lib.main(globals())
