#!/usr/bin/python3
"""bench.py FOGBANK_BINARY - `make bench`.

GetSecretValue through the full stack (HTTP, SigV4 verification, store, KMS
decrypt) with wrk replaying one signed request, for fogbank and, in the same
run, for moto_server when it is installed. Also fogbank's CPU time per
request (user + kernel, from /proc: steadier than req/s on a busy machine),
its cold start to the first 200 and its idle RSS. Prints a table; numbers
vary with the machine, so nothing here is a pass/fail threshold.
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from common import free_port, wait_http

WRK_SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WRK_CONNS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
# load threads (BENCH_THREADS); on 2 cores, 2 measured faster than 1
WRK_THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def signed_get_secret(port, secret_id):
    """A GetSecretValue request signed now with test/test (valid 15 min)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    body = json.dumps({"SecretId": secret_id})
    req = botocore.awsrequest.AWSRequest(
        method="POST", url="http://127.0.0.1:%d/" % port, data=body,
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "secretsmanager.GetSecretValue"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"),
                            "secretsmanager", "us-east-1").add_auth(req)
    return body, dict(req.headers.items())


def wrk(port, body, headers, tmp):
    lua = os.path.join(tmp, "req.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = %s\n' % json.dumps(body))
        for k, v in headers.items():
            if k.lower() in ("host", "content-length"):
                continue
            f.write("wrk.headers[%s] = %s\n" % (json.dumps(k), json.dumps(v)))
        f.write('wrk.headers["Host"] = "127.0.0.1:%d"\n' % port)
        f.write("""done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %f %d %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(99) / 1000.0, summary.errors.status, summary.requests))
end
""")
    out = subprocess.run(["wrk", "-t%d" % WRK_THREADS, "-c%d" % WRK_CONNS, "-d%ds" % WRK_SECONDS, "--latency",
                          "-s", lua, "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("RESULT"):
            _, rps, p99, errs, n = line.split()
            return float(rps), float(p99), int(errs), int(n)
    raise RuntimeError("wrk failed:\n" + out)


def cpu_ticks(pid):
    """utime + stime of pid, in clock ticks (/proc/PID/stat fields 14, 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def aws_env():
    return dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                AWS_SHARED_CREDENTIALS_FILE="/dev/null")


def create_secret(port):
    subprocess.run(["/usr/bin/aws", "--endpoint-url", "http://127.0.0.1:%d" % port,
                    "secretsmanager", "create-secret", "--name", "bench/db",
                    "--secret-string", '{"user":"app","password":"hunter2"}'],
                   check=True, capture_output=True, env=aws_env())


def bench_fogbank(binary, tmp):
    data = os.path.join(tmp, "fb-data")
    port = free_port()
    # cold start, exec to first 200: the first start on an empty data dir
    # (creates every schema, the master key, the S3 store layout), then
    # restarts on that same dir (what a developer or CI sees every time)
    fresh, again = [], []
    for i in range(5):
        d = os.path.join(tmp, "cold%d" % i)
        for bucket in (fresh, again):
            t0 = time.perf_counter()
            p = subprocess.Popen([binary, "up", "--port", str(port), "--data-dir", d,
                                  "--log-level", "warn"], stderr=subprocess.DEVNULL)
            wait_http(port, "/_fogbank/health")
            bucket.append((time.perf_counter() - t0) * 1000)
            p.terminate()
            p.wait()
    p = subprocess.Popen([binary, "up", "--port", str(port), "--data-dir", data,
                          "--log-level", "warn"], stderr=subprocess.DEVNULL)
    try:
        wait_http(port, "/_fogbank/health")
        time.sleep(0.5)
        idle, idle_pss = rss_kib(p.pid), pss_kib(p.pid)
        create_secret(port)
        body, headers = signed_get_secret(port, "bench/db")
        # CPU time the daemon spent (user + kernel) per request: unlike
        # req/s it hardly depends on what else the machine is doing
        u0, s0 = cpu_ticks(p.pid)
        rps, p99, errs, n = wrk(port, body, headers, tmp)
        u1, s1 = cpu_ticks(p.pid)
        loaded = rss_kib(p.pid)
    finally:
        p.terminate()
        p.wait()
    us = 1e6 / os.sysconf("SC_CLK_TCK") / max(n, 1)
    return {"rps": rps, "p99_ms": p99, "errors": errs, "requests": n,
            "fresh_start_ms": sorted(fresh)[2], "restart_ms": sorted(again)[2],
            "idle_rss_kib": idle, "idle_pss_kib": idle_pss,
            "cpu_user_us": (u1 - u0) * us, "cpu_sys_us": (s1 - s0) * us,
            "rss_after_kib": loaded}


def bench_moto(tmp):
    moto = shutil.which("moto_server")
    if not moto:
        return None
    port = free_port()
    p = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(port, "/moto-api/")
        create_secret(port)
        body, headers = signed_get_secret(port, "bench/db")
        rps, p99, errs, n = wrk(port, body, headers, tmp)
    finally:
        p.terminate()
        p.wait()
    return {"rps": rps, "p99_ms": p99, "errors": errs, "requests": n}


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/fogbank")
    tmp = tempfile.mkdtemp(prefix="fogbank-bench-")
    try:
        fb = bench_fogbank(binary, tmp)
        moto = bench_moto(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("GetSecretValue, wrk -t%d -c%d -d%ds, %s" % (WRK_THREADS, WRK_CONNS, WRK_SECONDS,
                                                      datetime.datetime.now().isoformat(timespec="seconds")))
    print("%-12s %12s %10s %8s" % ("server", "req/s", "p99 ms", "non-2xx"))
    print("%-12s %12.0f %10.2f %8d" % ("fogbank", fb["rps"], fb["p99_ms"], fb["errors"]))
    print("fogbank CPU per request: %.1f us (user %.1f + kernel %.1f)"
          % (fb["cpu_user_us"] + fb["cpu_sys_us"], fb["cpu_user_us"], fb["cpu_sys_us"]))
    if moto:
        print("%-12s %12.0f %10.2f %8d" % ("moto_server", moto["rps"], moto["p99_ms"], moto["errors"]))
        print("ratio fogbank/moto: %.1fx req/s" % (fb["rps"] / max(moto["rps"], 1)))
    else:
        print("moto_server not installed: no peer figure")
    print("fogbank start to first 200 (median of 5, includes Python's spawn and polling):")
    print("  first start on an empty data dir: %.1f ms; restart on it: %.1f ms"
          % (fb["fresh_start_ms"], fb["restart_ms"]))
    print("fogbank idle RSS: %.1f MiB (PSS %.1f MiB); after load: %.1f MiB"
          % (fb["idle_rss_kib"] / 1024, fb["idle_pss_kib"] / 1024, fb["rss_after_kib"] / 1024))


if __name__ == "__main__":
    main()
