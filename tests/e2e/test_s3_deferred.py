#!/usr/bin/python3
"""test_s3_deferred.py - uploads whose answer is deferred while workers
write, digest and fsync the body (PutObject and UploadPart of plain bodies
that become data files: in memory over 64 KiB, or spooled over 1 MiB).

Many concurrent PUTs to distinct keys and to one key, clients that leave
before the answer, pipelined requests behind a deferred PUT on one
connection (answered in order), racing If-None-Match: * PUTs (exactly one
wins), checksums and Content-MD5 checked after the worker ran, multipart
parts stored concurrently, and kill -9 during a stream of concurrent PUTs:
every acknowledged PUT survives byte-exact and no temp file is left.
"""
import base64
import hashlib
import os
import socket
import struct
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402

KiB = 1024
MiB = 1024 * 1024
# in memory and deferred, in memory and inline (not deferred), spooled and adopted
SIZES = (300 * KiB, 1 * MiB, 20 * KiB, 2 * MiB + 17)


def md5(b):
    return hashlib.md5(b).hexdigest()


def presigner(fb):
    """A SigV4 presigning client (query-string auth, UNSIGNED-PAYLOAD)."""
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=fb.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version="s3v4"))


def presigned_path(ps, method, bucket, key):
    op = {"PUT": "put_object", "GET": "get_object", "HEAD": "head_object",
          "DELETE": "delete_object"}[method]
    url = ps.generate_presigned_url(op, Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
    u = urllib.parse.urlsplit(url)
    return u.path + "?" + u.query


def req_bytes(fb, method, path, body=b"", headers=None):
    hd = {"Host": "127.0.0.1:%d" % fb.port}
    hd.update(headers or {})
    return lib.raw_request(method, path, hd, body)


def put_raw(fb, ps, bucket, key, body, headers=None):
    """One presigned PUT on its own connection: (status, headers, body)."""
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=60)
    try:
        s.sendall(req_bytes(fb, "PUT", presigned_path(ps, "PUT", bucket, key), body, headers))
        return lib.read_response(s)
    finally:
        s.close()


def store_root(fb):
    return os.path.join(fb.data_dir, "s3")


def tmp_files(fb):
    return sorted(os.listdir(os.path.join(store_root(fb), "tmp")))


def obj_files(fb):
    root = os.path.join(store_root(fb), "obj")
    return [f for sub in os.listdir(root) for f in os.listdir(os.path.join(root, sub))]


def check_store(fb):
    lib.s3_check_store(fb)


def run_threads(n, fn):
    """Runs fn(i) in n threads released together; re-raises the first error."""
    barrier = threading.Barrier(n)
    errors = []

    def body(i):
        try:
            barrier.wait()
            fn(i)
        except BaseException as e:  # reported to the caller
            errors.append(e)

    ts = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


def test_concurrent_puts_distinct_and_same_key(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="conc")
    n = 16
    bodies = {i: os.urandom(SIZES[i % len(SIZES)] + i) for i in range(n)}
    same = {i: os.urandom(SIZES[i % len(SIZES)] + 3 * i) for i in range(n)}
    etags = {}

    def put(i):
        c = fb.client("s3")
        r = c.put_object(Bucket="conc", Key="k/%02d" % i, Body=bodies[i])
        etags[i] = r["ETag"]
        r2 = c.put_object(Bucket="conc", Key="same", Body=same[i])
        assert r2["ETag"] == '"%s"' % md5(same[i]), r2

    run_threads(n, put)
    for i in range(n):
        assert etags[i] == '"%s"' % md5(bodies[i])
        o = s3.get_object(Bucket="conc", Key="k/%02d" % i)
        assert o["Body"].read() == bodies[i], "key %d differs" % i
        assert o["ETag"] == etags[i] and o["ContentLength"] == len(bodies[i])
    o = s3.get_object(Bucket="conc", Key="same")
    got = o["Body"].read()
    assert got in same.values(), "the shared key holds none of the bodies written"
    assert o["ETag"] == '"%s"' % md5(got)
    # every answer came after its commit: nothing is left in tmp/
    assert tmp_files(fb) == []
    listed = s3.list_objects_v2(Bucket="conc", Prefix="k/")["Contents"]
    assert len(listed) == n
    # the same through presigned URLs (no x-amz-content-sha256 header,
    # so the server must not need the body's SHA-256)
    ps = presigner(fb)

    def put_presigned(i):
        st, h, b = put_raw(fb, ps, "conc", "p/%02d" % i, bodies[i])
        assert st == 200, (st, b)
        assert h["etag"] == '"%s"' % md5(bodies[i])

    run_threads(8, put_presigned)
    for i in range(8):
        assert s3.get_object(Bucket="conc", Key="p/%02d" % i)["Body"].read() == bodies[i]
    check_store(fb)


def test_versioned_concurrent_puts_keep_every_version(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="conc-ver")
    s3.put_bucket_versioning(Bucket="conc-ver", VersioningConfiguration={"Status": "Enabled"})
    n = 10
    bodies = [os.urandom(SIZES[i % len(SIZES)] + i) for i in range(n)]
    vids = {}

    def put(i):
        r = fb.client("s3").put_object(Bucket="conc-ver", Key="v", Body=bodies[i])
        vids[i] = r["VersionId"]

    run_threads(n, put)
    assert len(set(vids.values())) == n
    for i in range(n):
        o = s3.get_object(Bucket="conc-ver", Key="v", VersionId=vids[i])
        assert o["Body"].read() == bodies[i]
    versions = s3.list_object_versions(Bucket="conc-ver", Prefix="v")["Versions"]
    assert len(versions) == n and sum(v["IsLatest"] for v in versions) == 1
    latest = [v for v in versions if v["IsLatest"]][0]
    assert s3.get_object(Bucket="conc-ver", Key="v")["VersionId"] == latest["VersionId"]


def test_racing_if_none_match(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="race")
    ps = presigner(fb)
    for rnd, size in enumerate((300 * KiB, 2 * MiB, 100 * KiB)):
        n = 10
        bodies = [os.urandom(size + i) for i in range(n)]
        status = {}

        def put(i):
            st, h, b = put_raw(fb, ps, "race", "lock-%d" % rnd, bodies[i], {"If-None-Match": "*"})
            status[i] = (st, h.get("etag"), b)

        run_threads(n, put)
        won = [i for i in range(n) if status[i][0] == 200]
        lost = [i for i in range(n) if status[i][0] == 412]
        assert len(won) == 1, "round %d: %d PUTs won: %s" % (rnd, len(won), status)
        assert len(lost) == n - 1, status
        assert all(b"PreconditionFailed" in status[i][2] for i in lost)
        got = s3.get_object(Bucket="race", Key="lock-%d" % rnd)["Body"].read()
        assert got == bodies[won[0]] and status[won[0]][1] == '"%s"' % md5(got)
    # If-Match racing: every writer names the current ETag; one wins
    base = os.urandom(200 * KiB)
    etag = s3.put_object(Bucket="race", Key="cas", Body=base)["ETag"]
    bodies = [os.urandom(200 * KiB) for _ in range(8)]
    status = {}

    def cas(i):
        status[i] = put_raw(fb, ps, "race", "cas", bodies[i], {"If-Match": etag})[0]

    run_threads(8, cas)
    assert sorted(status.values()) == [200] + [412] * 7, status
    assert tmp_files(fb) == []
    check_store(fb)


def test_pipelined_requests_answered_in_order(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="pipe")
    ps = presigner(fb)
    b1, b2, b3, small = os.urandom(400 * KiB), os.urandom(2 * MiB), os.urandom(900 * KiB), b"tiny"
    reqs = [
        ("PUT", "a", b1), ("GET", "a", b""),      # deferred PUT, then a read of it
        ("PUT", "a", b2), ("PUT", "a", b3),       # two deferred PUTs to one key
        ("GET", "a", b""), ("PUT", "s", small),   # the last one wins; a synchronous PUT
        ("GET", "s", b""), ("HEAD", "a", b""), ("DELETE", "a", b""), ("GET", "a", b""),
    ]
    data = b"".join(req_bytes(fb, m, presigned_path(ps, m, "pipe", k), body)
                    for m, k, body in reqs)
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=60)
    try:
        s.sendall(data)
        got = []
        for m, k, body in reqs:
            if m == "HEAD":
                st, h, _ = read_head_only(s)
            else:
                st, h, b = lib.read_response(s)
            got.append((st, h, b if m != "HEAD" else b""))
    finally:
        s.close()
    assert [g[0] for g in got] == [200, 200, 200, 200, 200, 200, 200, 200, 204, 404], \
        [(g[0], g[2][:200]) for g in got]
    assert got[0][1]["etag"] == '"%s"' % md5(b1)
    assert got[1][2] == b1, "GET behind the deferred PUT did not see it"
    assert got[2][1]["etag"] == '"%s"' % md5(b2) and got[3][1]["etag"] == '"%s"' % md5(b3)
    assert got[4][2] == b3, "the second deferred PUT was not last"
    assert got[6][2] == small
    assert int(got[7][1]["content-length"]) == len(b3)
    # and Connection: close on a deferred PUT: answered, then closed
    s = socket.create_connection(("127.0.0.1", fb.port), timeout=60)
    try:
        s.sendall(req_bytes(fb, "PUT", presigned_path(ps, "PUT", "pipe", "c"), b1,
                            {"Connection": "close"}) +
                  req_bytes(fb, "GET", presigned_path(ps, "GET", "pipe", "c")))
        st, h, _ = lib.read_response(s)
        assert st == 200 and h.get("connection") == "close", h
        rest = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        assert rest == b"", "answered a request after Connection: close"
    finally:
        lib._pending.pop(s.fileno(), None)
        s.close()
    assert s3.get_object(Bucket="pipe", Key="c")["Body"].read() == b1


def read_head_only(s):
    """The answer to a HEAD: status line and headers, no body."""
    buf = lib._pending.pop(s.fileno(), b"")
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("closed")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lib._pending[s.fileno()] = rest
    lines = head.decode().split("\r\n")
    hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    return int(lines[0].split()[1]), hdrs, b""


def test_client_leaves_before_answer(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="gone")
    ps = presigner(fb)
    bodies = {}
    for i in range(24):
        body = os.urandom(SIZES[i % len(SIZES)] + i)
        bodies[i] = body
        s = socket.create_connection(("127.0.0.1", fb.port), timeout=60)
        data = req_bytes(fb, "PUT", presigned_path(ps, "PUT", "gone", "k%d" % i), body)
        if i % 3 == 1:
            # a pipelined request behind the PUT, then a reset (not a FIN)
            data += req_bytes(fb, "GET", presigned_path(ps, "GET", "gone", "k%d" % i))
        s.sendall(data)
        if i % 3 == 1:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    # the daemon is alive and every object is absent or whole
    for i, body in bodies.items():
        try:
            o = s3.get_object(Bucket="gone", Key="k%s" % i)
        except Exception as e:
            assert "NoSuchKey" in str(e), e
            continue
        got = o["Body"].read()
        assert got == body, "key %s torn (%d bytes of %d)" % (i, len(got), len(body))
        assert o["ETag"] == '"%s"' % md5(body)
    # a deferred PUT behind answers the client does not read (so the
    # server is still writing them when the reset comes): the connection
    # is closed while the worker is still fsyncing the PUT's spooled body
    s3.put_object(Bucket="gone", Key="inline", Body=os.urandom(60 * KiB))
    get = req_bytes(fb, "GET", presigned_path(ps, "GET", "gone", "inline"))
    for i in range(3):
        body = os.urandom(48 * MiB)
        bodies["big%d" % i] = body
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", fb.port))
        # 3.8 MB of answers: less than the server buffers before it stops
        # reading, more than the kernel takes while the client reads nothing
        s.sendall(get * 64 + req_bytes(fb, "PUT", presigned_path(ps, "PUT", "gone", "kbig%d" % i),
                                       body))
        # wait for the state, not for a time: the worker has moved the
        # spool file into tmp/ (and fsyncs 48 MiB next), or it is done
        n0 = len(obj_files(fb))
        while not tmp_files(fb) and len(obj_files(fb)) == n0:
            pass
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    # a write on a fresh connection after all of them is answered normally
    r = s3.put_object(Bucket="gone", Key="after", Body=bodies[0])
    assert r["ETag"] == '"%s"' % md5(bodies[0])
    check_store(fb)
    s3 = fb.client("s3")  # a new port after the restart
    for i, body in bodies.items():
        try:
            got = s3.get_object(Bucket="gone", Key="k%s" % i)["Body"].read()
        except Exception as e:
            assert "NoSuchKey" in str(e), e
            continue
        assert got == body


def test_digests_checked_after_the_worker(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="digests")
    ps = presigner(fb)
    for size in (300 * KiB, 2 * MiB):
        body = os.urandom(size)
        wrong = base64.b64encode(hashlib.md5(body + b"x").digest()).decode()
        st, h, b = put_raw(fb, ps, "digests", "bad", body, {"Content-MD5": wrong})
        assert st == 400 and b"BadDigest" in b, (st, b)
        right = base64.b64encode(hashlib.md5(body).digest()).decode()
        st, h, b = put_raw(fb, ps, "digests", "good-%d" % size, body, {"Content-MD5": right})
        assert st == 200, b
        sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
        st, h, b = put_raw(fb, ps, "digests", "sha-%d" % size, body,
                           {"x-amz-checksum-sha256": sha})
        assert st == 200 and h["x-amz-checksum-sha256"] == sha, (st, h, b)
        st, h, b = put_raw(fb, ps, "digests", "sha-bad", body,
                           {"x-amz-checksum-sha256": base64.b64encode(b"\0" * 32).decode()})
        assert st == 400 and b"BadDigest" in b, (st, b)
        r = s3.put_object(Bucket="digests", Key="crc-%d" % size, Body=body,
                          ChecksumAlgorithm="CRC32")
        o = s3.get_object(Bucket="digests", Key="crc-%d" % size, ChecksumMode="ENABLED")
        assert o["Body"].read() == body and o["ChecksumCRC32"] == r["ChecksumCRC32"]
    expect_error("NoSuchKey", s3.get_object, Bucket="digests", Key="bad")
    expect_error("NoSuchKey", s3.get_object, Bucket="digests", Key="sha-bad")
    assert tmp_files(fb) == []
    # a bucket removed while... cannot be: a PUT to a missing bucket fails
    st, h, b = put_raw(fb, ps, "no-such-bucket-d", "k", os.urandom(300 * KiB))
    assert st == 404 and b"NoSuchBucket" in b
    check_store(fb)


def test_concurrent_upload_parts(fb):
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="parts")
    uid = s3.create_multipart_upload(Bucket="parts", Key="big", ChecksumAlgorithm="SHA256")[
        "UploadId"]
    parts = [os.urandom(5 * MiB + i) for i in range(5)] + [os.urandom(100 * KiB)]
    res = {}

    def up(i):
        c = fb.client("s3")
        res[i] = c.upload_part(Bucket="parts", Key="big", UploadId=uid, PartNumber=i + 1,
                               Body=parts[i], ChecksumAlgorithm="SHA256")

    run_threads(len(parts), up)
    # the same part twice at once: one of the two bodies is the part
    again = [os.urandom(5 * MiB) for _ in range(2)]
    twice = {}

    def up2(i):
        twice[i] = fb.client("s3").upload_part(Bucket="parts", Key="big", UploadId=uid,
                                               PartNumber=2, Body=again[i],
                                               ChecksumAlgorithm="SHA256")["ETag"]

    run_threads(2, up2)
    listed = {p["PartNumber"]: p["ETag"] for p in
              s3.list_parts(Bucket="parts", Key="big", UploadId=uid)["Parts"]}
    assert listed[2] in twice.values()
    parts[1] = again[[i for i, e in twice.items() if e == listed[2]][0]]
    res[1] = {"ETag": listed[2]}
    for i, p in enumerate(parts):
        assert listed[i + 1] == '"%s"' % md5(p), (i, listed, md5(p), res[i])
    s3.complete_multipart_upload(Bucket="parts", Key="big", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": res[i]["ETag"]} for i in range(len(parts))]})
    assert s3.get_object(Bucket="parts", Key="big")["Body"].read() == b"".join(parts)
    # a part for an upload that is gone
    expect_error("NoSuchUpload", s3.upload_part, Bucket="parts", Key="big", UploadId=uid,
                 PartNumber=1, Body=os.urandom(300 * KiB))
    assert tmp_files(fb) == []
    check_store(fb)


def test_kill9_during_concurrent_puts(fb):
    """A separate daemon: kill -9 while 8 clients PUT (distinct keys and
    one shared key), after a fixed number of acknowledgements."""
    crash = lib.Fogbank(auth="enforce")
    try:
        crash.client("s3").create_bucket(Bucket="crash")
        acked = {}  # key -> body, for every PUT answered 200
        tried_same = []
        lock = threading.Lock()
        enough = threading.Event()
        ps = presigner(crash)

        errors = []

        def writer(t):
            try:
                write_until_killed(t)
            except BaseException as e:  # reported below
                errors.append(e)
                enough.set()

        def write_until_killed(t):
            i = 0
            while True:
                body = os.urandom(SIZES[(t + i) % len(SIZES)] + t)
                key = "t%d/%d" % (t, i) if i % 3 else "same"
                if key == "same":
                    with lock:
                        tried_same.append(body)
                try:
                    st, h, b = put_raw(crash, ps, "crash", key, body)
                except (OSError, EOFError):
                    return  # the daemon died under us
                assert st == 200, (st, b)
                assert h["etag"] == '"%s"' % md5(body)
                with lock:
                    if key != "same":
                        acked[key] = body
                    if len(acked) >= 40:
                        enough.set()
                i += 1

        ts = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
        for t in ts:
            t.start()
        enough.wait(300)
        assert enough.is_set(), "no progress"
        crash.kill9()
        for t in ts:
            t.join()
        if errors:
            raise errors[0]
        crash.start()
        s3 = crash.client("s3")
        for key, body in acked.items():
            o = s3.get_object(Bucket="crash", Key=key)
            assert o["Body"].read() == body, "acknowledged %s lost or torn" % key
            assert o["ETag"] == '"%s"' % md5(body)
        try:
            got = s3.get_object(Bucket="crash", Key="same")["Body"].read()
            assert got in tried_same, "the shared key is torn"
        except Exception as e:
            assert "NoSuchKey" in str(e), e
        check_store(crash)
        crash.stop()
        with open(crash.log_path, errors="replace") as f:
            log = f.read()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in log, log[log.index(marker) - 200:][:4000]
        os.unlink(crash.log_path)
    finally:
        crash.close()


def test_stop_while_puts_are_deferred(fb):
    """SIGTERM with deferred PUTs in flight: a clean exit (no sanitizer
    report) and a consistent store after the restart."""
    d = lib.Fogbank(auth="enforce")
    try:
        d.client("s3").create_bucket(Bucket="stop")
        ps = presigner(d)
        socks = []
        for i in range(12):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=60)
            s.sendall(req_bytes(d, "PUT", presigned_path(ps, "PUT", "stop", "k%d" % i),
                                os.urandom(SIZES[i % len(SIZES)])))
            socks.append(s)
        rc = d.stop()
        for s in socks:
            s.close()
        assert rc == 0, "exit code %s" % rc
        with open(d.log_path, errors="replace") as f:
            log = f.read()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in log, log[log.index(marker) - 200:][:4000]
        d.start()
        check_store(d)
        d.stop()
        os.unlink(d.log_path)
    finally:
        d.close()


if __name__ == "__main__":
    lib.main(globals())
