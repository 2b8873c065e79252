"""The state store's group commit, watched from outside with strace: an
answer to a write never leaves before the write-ahead log is fsynced,
writes that arrive together share one fsync, and S3 requests of one loop
iteration share one SQLite transaction (batched transactions)."""
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

    def __init__(self, fb, calls="fdatasync,fsync,sendto,sendmsg"):
        if not shutil.which("strace"):
            raise lib.Skip("strace is not installed")
        fd, self.path = tempfile.mkstemp(prefix="fogbank-strace-")
        os.close(fd)
        self.proc = subprocess.Popen(
            ["strace", "-f", "-y", "-s", "16", "-e", "trace=" + calls,
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


def pipeline_traced(fb, s, reqs, calls=None):
    """Sends reqs pipelined on socket s under strace, reads every answer
    (each a 200), closes s; checks that the first answer left after a WAL
    sync. Returns the trace's lines."""
    t = Trace(fb, calls) if calls else Trace(fb)
    s.sendall(b"".join(reqs))
    for _ in reqs:
        status, _, body = read_response(s)
        assert status == 200, body
    s.close()
    lines = t.stop()
    syncs, sent = wal_syncs(lines), answers(lines)
    assert sent and syncs and syncs[0] < sent[0], "answered before the WAL sync:\n" + \
        "\n".join(lines)
    return lines


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
    lines = pipeline_traced(fb, s, [create_secret_request(fb, "gc-batch-%02d" % i)
                                    for i in range(n)])
    syncs = wal_syncs(lines)
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

def s3_put_requests(fb, bucket, items):
    """Presigned PUT requests (bytes) for (key, body) items."""
    import urllib.parse
    ps = fb.client("s3")
    out = []
    for key, body in items:
        url = ps.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key},
                                        ExpiresIn=3600)
        u = urllib.parse.urlsplit(url)
        out.append(raw_request("PUT", u.path + "?" + u.query,
                               {"Host": "127.0.0.1:%d" % fb.port}, body))
    return out


def wal_writes(lines):
    return [l for l in lines if re.search(r"pwrite64\(\d+<[^>]*-wal>", l)]


def test_s3_puts_of_one_iteration_share_a_transaction(fb):
    fb.client("s3").create_bucket(Bucket="batch")
    calls = "fdatasync,fsync,sendto,sendmsg,pwrite64"
    # one small PUT alone: the WAL writes of one transaction
    one = s3_put_requests(fb, "batch", [("alone", os.urandom(4096))])[0]
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=10)
    t = Trace(fb, calls)
    s.sendall(one)
    status, _, body = read_response(s)
    lines = t.stop()
    assert status == 200, body
    single = len(wal_writes(lines))
    assert single > 0, "\n".join(lines)
    # n pipelined PUTs are handled in one loop iteration: one batch
    n = 32
    items = [("k%02d" % i, os.urandom(4096)) for i in range(n)]
    lines = pipeline_traced(fb, s, s3_put_requests(fb, "batch", items), calls)
    # a transaction each would write every index page n times over
    batched = len(wal_writes(lines))
    assert batched < n * single / 2, "%d WAL writes for %d PUTs (%d for one)" % (
        batched, n, single)
    s3 = fb.client("s3")
    for key, body in items:
        assert s3.get_object(Bucket="batch", Key=key)["Body"].read() == body


def test_batched_s3_puts_survive_kill(fb):
    import threading
    fb.client("s3").create_bucket(Bucket="batchkill")
    conns, per = 4, 16
    items = [[("c%d-%02d" % (c, i), os.urandom(1000 + 97 * i)) for i in range(per)]
             for c in range(conns)]
    errors = []

    def run(c):
        try:
            s = socket.create_connection(("127.0.0.1", fb.port), timeout=30)
            s.sendall(b"".join(s3_put_requests(fb, "batchkill", items[c])))
            for _ in range(per):
                status, _, body = read_response(s)
                if status != 200:
                    errors.append(body)
            s.close()
        except Exception as e:  # reported below
            errors.append(repr(e))
    threads = [threading.Thread(target=run, args=(c,)) for c in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]
    fb.proc.send_signal(signal.SIGKILL)
    fb.proc.wait()
    fb.start()
    s3 = fb.client("s3")
    for row in items:
        for key, body in row:
            assert s3.get_object(Bucket="batchkill", Key=key)["Body"].read() == body, key
    lib.s3_check_store(fb)


if __name__ == "__main__":
    lib.main(globals())
