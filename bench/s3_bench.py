#!/usr/bin/python3
"""s3_bench.py FOGBANK_BINARY - S3 figures of `make bench`.

Side by side in one run: fogbank, moto_server (when on PATH) and s3rver
(npm; installed into bench/.npm on first use). For each server:

  * PUT and GET of 1 MiB objects (MB/s, 10^6 bytes)
  * PUT and GET of small objects (ops/s)
  * ListObjectsV2 pages of 1,000 keys over a bucket of 100,000 keys (pages/s)
  * peak RSS while one large object is streamed in (PUT of BENCH_S3_BIG_MIB)

Load comes from replaying presigned SigV4 URLs (computed here once, so
the client does no signing while measuring): fogbank and s3rver verify them
(s3rver with its own S3RVER/S3RVER key), moto accepts any signature. Each
figure is a fixed-duration run with the same threads and connections for
every server. Two clients replay them:

  * the 1 MiB PUT and GET figures: bench/loadgen.c (`make bench` builds it
    as loadgen next to the fogbank binary), a lean HTTP/1.1 client that
    reads answers 256 KiB per recv() (woken per 256 KiB with SO_RCVLOWAT,
    not per segment: on loopback the server pays for each wake-up) and
    sends bodies from one in-memory copy. wrk reads 8 KiB per read() and
    runs Lua per request: on GET 1 MiB it burnt ~150% CPU of a 2-core
    machine while fogbank used ~46%, so the figure measured wrk, not the
    server. Without the loadgen binary these figures fall back to wrk,
    with a warning.
  * everything else (small objects, listing, and populating buckets): wrk,
    which is not the limit there. GET 1 MiB is also measured with wrk
    (figure get1w), for comparison with the loadgen figure.

Numbers vary with the machine and its load; nothing here is a pass/fail
threshold.

Environment: BENCH_S3_SECONDS (5), BENCH_S3_CONNECTIONS (16),
BENCH_THREADS (2), BENCH_S3_LIST_KEYS (100000), BENCH_S3_SMALL_BYTES
(4096), BENCH_S3_BIG_MIB (5120, the largest single PUT; 0 skips),
BENCH_S3_PEERS ("moto,s3rver"; empty: fogbank alone), BENCH_S3_ONLY (a
comma list of figures among put1,get1,get1w,putn,getn,list,big; empty:
all).
"""
import datetime
import hashlib
import hmac
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from common import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = int(os.environ.get("BENCH_S3_SECONDS", "5"))
CONNS = int(os.environ.get("BENCH_S3_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
LIST_KEYS = int(os.environ.get("BENCH_S3_LIST_KEYS", "100000"))
SMALL = int(os.environ.get("BENCH_S3_SMALL_BYTES", "4096"))
BIG_MIB = int(os.environ.get("BENCH_S3_BIG_MIB", "5120"))
# moto keeps objects in memory (several times their size): its large
# upload is capped so the benchmark cannot exhaust the machine
BIG_PEER_MIB = int(os.environ.get("BENCH_S3_BIG_PEER_MIB", "256"))
# a page of a slow peer can take seconds: list for at least this long
LIST_SECONDS = max(SECONDS, 15)
PEERS = [p for p in os.environ.get("BENCH_S3_PEERS", "moto,s3rver").split(",") if p]
ONLY = [f for f in os.environ.get("BENCH_S3_ONLY", "").split(",") if f]
MIB = 1 << 20
BUCKET = "bench"
# bench/loadgen.c's binary, set by main() when it is next to fogbank
LOADGEN = None
REGION = "us-east-1"


def wait_listening(port, proc, deadline_s=60.0):
    """Polls until something answers HTTP on port (any status). A benchmark
    may poll; tests never do."""
    t0 = time.time()
    while time.time() - t0 < deadline_s:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/")
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server on %d not up" % port)


# ---- SigV4 presigning (AWS's documented algorithm, no botocore in the loop) ----

class Presigner:
    """Presigned path-style URLs for one server; the signing key is derived
    once, so 100,000 URLs take about a second."""

    def __init__(self, port, access_key, secret):
        self.host = "127.0.0.1:%d" % port
        self.ak = access_key
        now = datetime.datetime.utcnow()
        self.amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        self.day = now.strftime("%Y%m%d")
        k = ("AWS4" + secret).encode()
        for part in (self.day, REGION, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        self.key = k
        self.scope = "%s/%s/s3/aws4_request" % (self.day, REGION)

    def path(self, method, key, params=None, expires=3600):
        """The path and query of a presigned request for /BUCKET/key (key
        None: the bucket itself) with extra query params."""
        path = "/" + BUCKET + ("/" + urllib.parse.quote(key, safe="/~") if key is not None else "")
        q = dict(params or {})
        q.update({"X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                  "X-Amz-Credential": "%s/%s" % (self.ak, self.scope),
                  "X-Amz-Date": self.amz_date, "X-Amz-Expires": str(expires),
                  "X-Amz-SignedHeaders": "host"})
        qs = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                                 urllib.parse.quote(str(v), safe="-_.~"))
                      for k, v in sorted(q.items()))
        canon = "\n".join([method, path, qs, "host:" + self.host, "", "host",
                           "UNSIGNED-PAYLOAD"])
        sts = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope,
                         hashlib.sha256(canon.encode()).hexdigest()])
        sig = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        return "%s?%s&X-Amz-Signature=%s" % (path, qs, sig)


# ---- wrk ----

WRK_LUA = r"""
-- Replays the presigned requests listed in a file (one "METHOD path" per
-- line), each thread from its own offset. In populate mode each thread
-- sends its share exactly once, then creates the file <marker><tid>.
local paths, methods, reqs = {}, {}, {}
local idx, first, last, ndone, share = 0, 1, 0, 0, 0
local threads_n = 1
local counter = 0
setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
init = function(args)
  threads_n = tonumber(args[3])
  local body = nil
  if args[2] ~= "-" then
    local bf = io.open(args[2], "rb"); body = bf:read("*a"); bf:close()
  end
  for line in io.lines(args[1]) do
    local m, p = line:match("^(%S+) (.*)$")
    table.insert(methods, m); table.insert(paths, p)
  end
  local n = #paths
  share = tonumber(args[4])
  marker = args[5]
  if share > 0 then
    -- populate: thread tid sends entries [first, last] exactly once
    local per = math.ceil(n / threads_n)
    first = tid * per + 1
    last = math.min(n, first + per - 1)
    share = last - first + 1
    idx = first - 1
    -- wrk calls request() once on thread 0's state before any connection
    -- exists (to look for pipelining); that call must not use up a key
    if tid == 0 then idx = first - 2 end
  else
    idx = math.floor(n * tid / threads_n)
  end
  local hdr = {}
  hdr["Host"] = wrk.headers["Host"]
  -- prebuilt requests when few (1 MiB bodies): no per-request copying
  if n <= 256 then
    for i = 1, n do reqs[i] = wrk.format(methods[i], paths[i], hdr, methods[i] == "PUT" and body or nil) end
  else
    bodystr = body
    hdrs = hdr
  end
end
request = function()
  if share > 0 then
    idx = idx + 1
    local i = math.min(math.max(idx, first), last)
    return reqs[i] or wrk.format(methods[i], paths[i], hdrs, methods[i] == "PUT" and bodystr or nil)
  else
    idx = idx % #paths + 1
  end
  if reqs[idx] then return reqs[idx] end
  return wrk.format(methods[idx], paths[idx], hdrs, methods[idx] == "PUT" and bodystr or nil)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %f %d %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(99) / 1000.0, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
"""

# Only where needed: a script with response() makes wrk copy every body
# into Lua, which costs the client more CPU than the fastest server spends
# sending a 1 MiB body; timed runs leave it out (wrk counts error statuses
# without it).
WRK_LUA_RESPONSE = r"""
response = function(status, headers, body)
  if status >= 400 and os.getenv("BENCH_S3_DEBUG") then io.stderr:write(status .. " " .. body:sub(1, 300) .. "\n") end
  if share > 0 then
    ndone = ndone + 1
    if ndone == share then
      -- wrk waits out -d even when every thread stopped: tell the caller
      local f = io.open(marker .. tid, "w"); f:close()
      wrk.thread:stop()
    end
  end
end
"""


def wrk(tmp, port, lines, body_path=None, seconds=SECONDS, conns=CONNS, populate=False):
    """Runs wrk over the requests in lines ("METHOD path") for seconds, or
    in populate mode until each line was sent once; returns dict with rps,
    p99_ms, bad (non-2xx/3xx + socket errors) and n."""
    if populate:
        # ended by SIGINT once every thread is done; the cap only bounds a
        # request that never got an answer (callers check the result)
        seconds = 600 + len(lines) // 20
    lua = os.path.join(tmp, "s3.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
        if populate or os.environ.get("BENCH_S3_DEBUG"):
            f.write(WRK_LUA_RESPONSE)
    lst = os.path.join(tmp, "reqs.txt")
    with open(lst, "w") as f:
        f.write("\n".join(lines) + "\n")
    threads = min(THREADS, conns)
    marker = os.path.join(tmp, "done-%d-" % time.monotonic_ns())
    args = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
            "--timeout", "60s",
            "-H", "Host: 127.0.0.1:%d" % port, "-s", lua, "http://127.0.0.1:%d/" % port,
            "--", lst, body_path or "-", str(threads), "1" if populate else "0", marker]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if populate:
        # wrk sleeps out -d even when all threads stopped; SIGINT ends it
        # once every thread has made its marker file
        while p.poll() is None and not all(os.path.exists(marker + str(i))
                                           for i in range(threads)):
            time.sleep(0.05)
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    out, err = p.communicate()
    return parse_result("wrk", out, err)


def parse_result(client, out, err):
    """The RESULT line both clients print (wrk's done() above, loadgen's
    main()) as the dict wrk() returns."""
    if os.environ.get("BENCH_S3_DEBUG"):
        sys.stderr.write(err[-3000:])
    for line in out.splitlines():
        if line.startswith("RESULT"):
            _, rps, p99, status_errs, sock_errs, n = line.split()
            return {"rps": float(rps), "p99_ms": float(p99),
                    "bad": int(status_errs) + int(sock_errs), "status_errs": int(status_errs), "n": int(n)}
    raise RuntimeError("%s failed:\n%s%s" % (client, out, err))


def loadgen(tmp, port, lines, body_path=None, seconds=SECONDS, conns=CONNS):
    """Like wrk() (timed mode), with bench/loadgen.c: the same threads,
    connections, duration and requests, a client cheap enough that 1 MiB
    figures measure the server. Falls back to wrk when it was not built."""
    if not LOADGEN:
        return wrk(tmp, port, lines, body_path=body_path, seconds=seconds, conns=conns)
    lst = os.path.join(tmp, "reqs.txt")
    with open(lst, "w") as f:
        f.write("\n".join(lines) + "\n")
    threads = min(THREADS, conns)
    args = [LOADGEN, "-t%d" % threads, "-c%d" % conns, "-d%d" % seconds, "--timeout", "60",
            "127.0.0.1:%d" % port, lst, body_path or "-"]
    p = subprocess.run(args, capture_output=True, text=True)
    return parse_result("loadgen", p.stdout, p.stderr)


# ---- servers ----

def rss_kib(pid, field="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid):
    """RSS of pid and its children (moto_server runs under pyenv's shim;
    s3rver under node)."""
    total = rss_kib(pid)
    try:
        for child in open("/proc/%d/task/%d/children" % (pid, pid)).read().split():
            total += tree_rss_kib(int(child))
    except OSError:
        pass
    return total


def start_fogbank(binary, tmp):
    port = free_port()
    data = os.path.join(tmp, "fogbank-data")
    p = subprocess.Popen([binary, "up", "--port", str(port), "--data-dir", data,
                          "--log-level", "warn"], stderr=subprocess.DEVNULL)
    return p, port, ("test", "test")


def start_moto(tmp):
    moto = shutil.which("moto_server")
    if not moto:
        return None, "moto_server is not on PATH"
    port = free_port()
    p = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (p, port, ("test", "test")), None


def s3rver_bin():
    """bench/.npm's s3rver, installed with npm on first use; None when npm
    is absent or fails."""
    prefix = os.path.join(HERE, ".npm")
    path = os.path.join(prefix, "node_modules", ".bin", "s3rver")
    if os.path.exists(path):
        return path
    if not shutil.which("npm"):
        return None
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix,
                        "s3rver@3"], capture_output=True, text=True)
    return path if r.returncode == 0 and os.path.exists(path) else None


def start_s3rver(tmp):
    path = s3rver_bin()
    if not path:
        return None, "s3rver could not be installed with npm (bench/.npm)"
    port = free_port()
    d = os.path.join(tmp, "s3rver-data")
    os.makedirs(d)
    # s3rver 3 makes continuation tokens with DES, which Node 17+ only
    # offers through OpenSSL's legacy provider (else every truncated
    # listing answers 500)
    env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
    p = subprocess.Popen([path, "-d", d, "-a", "127.0.0.1", "-p", str(port), "--silent"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return (p, port, ("S3RVER", "S3RVER")), None


def request(port, method, path, body=b"", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


# ---- the figures ----

def big_upload(port, signer, pid, mib):
    """PUTs a mib MiB object streamed from a generator (never in memory
    here) while sampling the server's RSS; returns (peak RSS KiB, MB/s)."""
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss_kib(pid))
            stop.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    block = os.urandom(MIB)
    path = signer.path("PUT", "big/object")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=1200)
    t0 = time.perf_counter()
    c.putrequest("PUT", path, skip_accept_encoding=True)
    c.putheader("Content-Length", str(mib * MIB))
    c.endheaders()
    for _ in range(mib):
        c.send(block)
    r = c.getresponse()
    r.read()
    secs = time.perf_counter() - t0
    stop.set()
    t.join()
    c.close()
    if r.status != 200:
        raise RuntimeError("big PUT answered %d" % r.status)
    return peak[0], mib * MIB / secs / 1e6


def populate_list(tmp, port, signer):
    """Puts LIST_KEYS empty objects named list/kNNNNNNN, each exactly once."""
    lines = ["PUT " + signer.path("PUT", "list/k%07d" % i) for i in range(LIST_KEYS)]
    r = wrk(tmp, port, lines, body_path=os.path.join(tmp, "empty.bin"), populate=True)
    if r["bad"]:
        raise RuntimeError("populating the list bucket: %d failed requests" % r["bad"])


def list_pages(signer):
    """Presigned ListObjectsV2 pages of 1,000 keys: each page starts after
    a known key (start-after), so every page is an independent request."""
    out = []
    for start in range(0, LIST_KEYS, 1000):
        params = {"list-type": "2", "prefix": "list/", "max-keys": "1000"}
        if start:
            params["start-after"] = "list/k%07d" % (start - 1)
        out.append("GET " + signer.path("GET", None, params))
    return out


def check_list(port, lines):
    """The first and last pages must be full, else the figure is
    meaningless (and a key went missing while populating)."""
    for line in (lines[0], lines[-1]):
        status, body = request(port, "GET", line.split(" ", 1)[1])
        n = body.count(b"<Key>")
        want = min(1000, LIST_KEYS - 1000 * (len(lines) - 1)) if line is lines[-1] else min(1000, LIST_KEYS)
        if status != 200 or n != want:
            raise RuntimeError("ListObjectsV2 page answered %d with %d keys, not %d"
                               % (status, n, want))


def figure(res, key, fn):
    """Runs one figure; a failure is recorded and the next figure runs."""
    if ONLY and key not in ONLY:
        return
    sys.stderr.write("  %s: %s\n" % (res["name"], key))
    try:
        res[key] = fn()
    except Exception as e:  # a peer that fails one figure is reported, not fatal
        res.setdefault("errors", []).append("%s: %s" % (key, e))


def run_server(name, started, tmp):
    proc, port, (ak, sk) = started
    res = {"name": name}
    try:
        wait_listening(port, proc)
        signer = Presigner(port, ak, sk)
        status, body = request(port, "PUT", signer.path("PUT", None))
        if status != 200:
            raise RuntimeError("CreateBucket answered %d: %s" % (status, body[:200]))
        res["idle_rss_kib"] = tree_rss_kib(proc.pid)
        big = os.path.join(tmp, "big.bin")
        small = os.path.join(tmp, "small.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(MIB))
        with open(small, "wb") as f:
            f.write(os.urandom(SMALL))
        open(os.path.join(tmp, "empty.bin"), "wb").close()
        # 1 MiB: 64 distinct keys, overwritten in turn
        put1 = ["PUT " + signer.path("PUT", "mib/%03d" % i) for i in range(64)]
        get1 = ["GET " + signer.path("GET", "mib/%03d" % i) for i in range(64)]
        putn = ["PUT " + signer.path("PUT", "small/%05d" % i) for i in range(10000)]
        getn = ["GET " + signer.path("GET", "small/%05d" % i) for i in range(10000)]
        figure(res, "put1", lambda: loadgen(tmp, port, put1, body_path=big))
        # every key exists before GETs are timed
        if not ONLY or "get1" in ONLY or "get1w" in ONLY:
            wrk(tmp, port, put1, body_path=big, populate=True)
        figure(res, "get1", lambda: loadgen(tmp, port, get1))
        figure(res, "get1w", lambda: wrk(tmp, port, get1))
        figure(res, "putn", lambda: wrk(tmp, port, putn, body_path=small))
        if not ONLY or "getn" in ONLY:
            wrk(tmp, port, putn, body_path=small, populate=True)
        figure(res, "getn", lambda: wrk(tmp, port, getn))
        if LIST_KEYS:
            def listing():
                t0 = time.perf_counter()
                populate_list(tmp, port, signer)
                res["populate_s"] = time.perf_counter() - t0
                pages = list_pages(signer)
                check_list(port, pages)
                return wrk(tmp, port, pages, seconds=LIST_SECONDS)
            figure(res, "list", listing)
        if BIG_MIB:
            mib = BIG_MIB if name == "fogbank" else min(BIG_MIB, BIG_PEER_MIB)

            def big_put():
                res["big_mib"] = mib
                res["big_peak_kib"], res["big_mbps"] = big_upload(port, signer, proc.pid, mib)
                return None
            figure(res, "big", big_put)
    except Exception as e:
        res.setdefault("errors", []).append(str(e))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return res


def fmt_fig(res, key):
    r = res.get(key)
    if not r:
        return "-"
    if key in ("put1", "get1", "get1w"):
        v = "%.0f MB/s" % (r["rps"] * MIB / 1e6)
    elif key == "list":
        v = "%.1f pages/s" % r["rps"] if r["n"] else "0 in %ds" % LIST_SECONDS
    else:
        v = "%.0f ops/s" % r["rps"]
    return v + (" (%d bad)" % r["bad"] if r["bad"] else "")


def ratio(a, b, key):
    ra, rb = a.get(key), b.get(key)
    if not ra or not rb or not rb["rps"]:
        return ""
    return "%.1fx" % (ra["rps"] / rb["rps"])


def main():
    global LOADGEN
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/fogbank")
    lg = os.path.join(os.path.dirname(binary), "loadgen")
    if os.access(lg, os.X_OK):
        LOADGEN = lg
    elif not ONLY or "put1" in ONLY or "get1" in ONLY:
        sys.stderr.write("s3_bench: warning: %s is missing (make bench builds it); the 1 MiB "
                         "figures use wrk, whose 8 KiB reads limit GET 1 MiB\n" % lg)
    tmp = tempfile.mkdtemp(prefix="fogbank-s3bench-")
    results, notes = [], []
    try:
        results.append(run_server("fogbank", start_fogbank(binary, tmp), tmp))
        for peer, starter in (("moto", start_moto), ("s3rver", start_s3rver)):
            if peer not in PEERS:
                continue
            started, why = starter(tmp)
            if not started:
                notes.append("%s skipped: %s" % (peer, why))
                continue
            sub = os.path.join(tmp, peer)
            os.makedirs(sub)
            results.append(run_server(peer, started, sub))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    fb = results[0]
    print("S3, %s -t%d -c%d -d%ds over presigned SigV4 URLs, %s, %d cores, load %.1f" % (
        "wrk (1 MiB figures: loadgen)" if LOADGEN else "wrk", min(THREADS, CONNS), CONNS, SECONDS,
        datetime.datetime.now().isoformat(timespec="seconds"),
        os.cpu_count(), os.getloadavg()[0]))
    rows = [("PUT 1 MiB", "put1"), ("GET 1 MiB", "get1"), ("GET 1 MiB (wrk)", "get1w"),
            ("PUT %d B" % SMALL, "putn"), ("GET %d B" % SMALL, "getn"),
            ("ListObjectsV2 %dk keys, 1000/page" % (LIST_KEYS // 1000), "list")]
    names = [r["name"] for r in results]
    head = "%-34s" % "figure" + "".join("%24s" % n for n in names)
    head += "".join("%14s" % ("fb/" + n) for n in names[1:])
    print(head)
    for label, key in rows:
        line = "%-34s" % label + "".join("%24s" % fmt_fig(r, key) for r in results)
        line += "".join("%14s" % ratio(fb, r, key) for r in results[1:])
        print(line)
    if BIG_MIB:
        line = "%-34s" % "peak RSS during one large PUT"
        for r in results:
            v = r.get("big_peak_kib")
            line += "%24s" % ("%.0f MiB (%d MiB PUT)" % (v / 1024, r["big_mib"]) if v else "-")
        print(line)
        line = "%-34s" % "  (that upload's rate)"
        for r in results:
            v = r.get("big_mbps")
            line += "%24s" % ("%.0f MB/s" % v if v else "-")
        print(line)
    line = "%-34s" % "idle RSS (server process tree)"
    for r in results:
        v = r.get("idle_rss_kib")
        line += "%24s" % ("%.1f MiB" % (v / 1024) if v else "-")
    print(line)
    for r in results:
        if "populate_s" in r:
            notes.append("%s: %d keys stored in %.1f s" % (r["name"], LIST_KEYS, r["populate_s"]))
        for e in r.get("errors", []):
            notes.append("%s failed: %s" % (r["name"], e))
        for key in ("put1", "get1", "get1w", "putn", "getn", "list"):
            if r.get(key):
                notes.append("%s %s p99 %.1f ms" % (r["name"], key, r[key]["p99_ms"]))
    for n in notes:
        print("  " + n)


if __name__ == "__main__":
    main()
