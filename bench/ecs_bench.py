#!/usr/bin/python3
"""ecs_bench.py FOGBANK_BINARY - ECS and CloudWatch Logs figures.

  python3 bench/ecs_bench.py build/fogbank

Measures, against a fresh fogbank (own data dir, ephemeral port):
  - RunTask -> lastStatus RUNNING, image already unpacked (the first run,
    which unpacks, is reported apart);
  - a line written by a task to its stdout -> visible through GetLogEvents
    and through FilterLogEvents (awslogs driver);
  - PutLogEvents throughput (events/s) loading BENCH_LOG_EVENTS events
    (default 1,000,000), then FilterLogEvents over all of them;
and the same log figures for moto_server in the same run when it is on
PATH. moto does not run tasks (its RunTask only records them), so the
task figures have no moto column.

Environment: BENCH_LOG_EVENTS, BENCH_SAMPLES (default 20), BENCH_BATCH
(events per PutLogEvents call, default 5000), BENCH_FILTER_CAP_S (a
FilterLogEvents scan stops paging after this, default 300, and says so). Numbers vary with the
machine and its load; nothing here is a pass/fail threshold. Polling is
fine in a benchmark (it bounds the resolution: about 1 ms here).
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

# Debian's boto3 is what the tests use; a newer one on PATH may speak
# protocols fogbank's 1.29 model predates
if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3") \
        and not os.environ.get("ECS_BENCH_REEXEC"):
    os.environ["ECS_BENCH_REEXEC"] = "1"
    os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import oci  # noqa: E402  (busybox image without Docker)
from common import free_port

EVENTS = int(os.environ.get("BENCH_LOG_EVENTS", "1000000"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "20"))
BATCH = int(os.environ.get("BENCH_BATCH", "5000"))
FILTER_CAP_S = float(os.environ.get("BENCH_FILTER_CAP_S", "300"))
PATTERNS = ['{ $.level = "error" }', '"error"']


def client(port, service):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url="http://127.0.0.1:%d" % port,
                        region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, read_timeout=600))


def start_fogbank(binary, data_dir):
    """Starts fogbank; returns (proc, port) once its ready line is out."""
    log = open(data_dir + ".log", "wb")
    p = subprocess.Popen([binary, "up", "--host", "127.0.0.1", "--port", "0", "--data-dir",
                          data_dir], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    while True:
        line = p.stderr.readline()
        if not line:
            raise RuntimeError("fogbank exited before ready; see %s.log" % data_dir)
        log.write(line)
        if b" ready " in line and b"port=" in line:
            port = int(line.split(b"port=")[1].split()[0])
            break
    import threading
    threading.Thread(target=lambda: [log.write(l) for l in iter(p.stderr.readline, b"")],
                     daemon=True).start()
    return p, port


def start_moto():
    exe = shutil.which("moto_server")
    if not exe:
        return None, None
    port = free_port()
    p = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import http.client
    for _ in range(3000):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/moto-api/")
            c.getresponse().read()
            return p, port
        except OSError:
            time.sleep(0.01)
    p.kill()
    return None, None


def stop(p):
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def push_image(port, tmp):
    """Pushes the busybox image with skopeo; returns its reference."""
    import base64
    layout = os.path.join(tmp, "layout")
    oci.build_layout(layout, "v1")
    ecr = client(port, "ecr")
    ecr.create_repository(repositoryName="bench")
    tok = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    pw = base64.b64decode(tok).decode().split(":", 1)[1]
    subprocess.run(["skopeo", "copy", "--dest-creds", "AWS:" + pw, "--dest-tls-verify=false",
                    "oci:%s:v1" % layout, "docker://127.0.0.1:%d/bench:v1" % port],
                   check=True, capture_output=True, timeout=300,
                   env={"PATH": "/usr/bin:/bin", "HOME": tmp})
    return "127.0.0.1:%d/bench:v1" % port


def poll(fn, timeout=60.0):
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.001)
    raise RuntimeError("timed out")


def quiet(fn, **kw):
    """fn(**kw), or {} while the log group or stream does not exist yet
    (the first line creates them)."""
    try:
        return fn(**kw)
    except Exception as e:
        if "ResourceNotFoundException" in str(e):
            return {}
        raise


def open_writer(path):
    """A write end of FIFO path, or None while no reader has it open."""
    import errno
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            return None
        raise
    os.set_blocking(fd, True)
    return fd


def ms(xs):
    xs = sorted(xs)
    return "p50 %.0f ms, p95 %.0f ms (n=%d)" % (
        statistics.median(xs) * 1000, xs[min(len(xs) - 1, int(len(xs) * 0.95))] * 1000, len(xs))


def task_figures(port, data_dir, tmp):
    ecs, logs = client(port, "ecs"), client(port, "logs")
    image = push_image(port, tmp)
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(family="idle", containerDefinitions=[{
        "name": "app", "image": image, "command": ["/bin/sh", "-c", "exec sleep 600"],
        "stopTimeout": 1}])

    def run_once():
        t0 = time.perf_counter()
        arn = ecs.run_task(cluster="bench", taskDefinition="idle")["tasks"][0]["taskArn"]
        poll(lambda: ecs.describe_tasks(cluster="bench", tasks=[arn])["tasks"][0]
             ["lastStatus"] == "RUNNING")
        dt = time.perf_counter() - t0
        ecs.stop_task(cluster="bench", task=arn)
        return dt
    first = run_once()
    runs = [run_once() for _ in range(SAMPLES)]
    print("  RunTask -> RUNNING: first %.0f ms, cached %s" % (first * 1000, ms(runs)),
          flush=True)
    # a task echoing whatever the benchmark writes into a FIFO in its root
    ecs.register_task_definition(family="echo", containerDefinitions=[{
        "name": "app", "image": image, "stopTimeout": 1,
        "command": ["/bin/sh", "-c", "while :; do cat /tmp/bench.fifo; done"],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/bench/echo", "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "b", "awslogs-create-group": "true"}}}])
    root = [d for d in os.listdir(os.path.join(data_dir, "ecs", "rootfs"))
            if not d.endswith(".tmp")][0]
    # under runc each container has its own overlay root (its bundle's
    # rootfs/), which the FIFO must be in; otherwise tasks share the tree
    runc = os.path.isdir(os.path.join(data_dir, "ecs", "bundles"))
    if not runc:
        os.mkfifo(os.path.join(data_dir, "ecs", "rootfs", root, "tmp", "bench.fifo"))
    arn = ecs.run_task(cluster="bench", taskDefinition="echo")["tasks"][0]["taskArn"]
    stream = "b/app/" + arn.rsplit("/", 1)[1]
    fifo = os.path.join(data_dir, "ecs", "rootfs", root, "tmp", "bench.fifo")
    if runc:
        tmp = os.path.join(data_dir, "ecs", "bundles", arn.rsplit("/", 1)[1] + "-app",
                           "rootfs", "tmp")
        poll(lambda: os.path.ismount(os.path.dirname(tmp)) and os.path.isdir(tmp))
        fifo = os.path.join(tmp, "bench.fifo")
        os.mkfifo(fifo)
    # the task's cat has the FIFO open for reading once this succeeds
    fd = poll(lambda: open_writer(fifo))
    w = os.fdopen(fd, "w")
    get, filt = [], []
    for i in range(2 * SAMPLES):
        mark = "mark-%d-%d" % (i, time.time_ns())
        t0 = time.perf_counter()
        w.write(mark + "\n")
        w.flush()
        if i % 2 == 0:
            poll(lambda: any(e["message"] == mark for e in quiet(
                logs.get_log_events, logGroupName="/bench/echo", logStreamName=stream,
                startFromHead=False, limit=50).get("events", [])))
            get.append(time.perf_counter() - t0)
        else:
            poll(lambda: quiet(logs.filter_log_events, logGroupName="/bench/echo",
                               logStreamNames=[stream],
                               filterPattern='"%s"' % mark).get("events"))
            filt.append(time.perf_counter() - t0)
    w.close()
    ecs.stop_task(cluster="bench", task=arn)
    print("  line -> GetLogEvents %s; -> FilterLogEvents %s" % (ms(get), ms(filt)), flush=True)
    return first, runs, get, filt


def put_requests(base):
    """The PutLogEvents requests loading EVENTS events, signed now, as raw
    (body, headers): built before the clock starts, so the figure is the
    server's, not boto3's (whose validation of 5000-event batches costs
    more than fogbank's handling of them). Every 100th event is an error."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    creds = botocore.credentials.Credentials("test", "test")
    out, sent = [], 0
    while sent < EVENTS:
        n = min(BATCH, EVENTS - sent)
        body = json.dumps({"logGroupName": "/bench/load", "logStreamName": "s", "logEvents": [
            {"timestamp": base + (sent + i) // 1000,
             "message": json.dumps({"level": "error" if (sent + i) % 100 == 0 else "info",
                                    "msg": "request served", "path": "/api/items",
                                    "n": sent + i})} for i in range(n)]}).encode()
        req = botocore.awsrequest.AWSRequest(
            method="POST", url="http://127.0.0.1/", data=body,
            headers={"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "Logs_20140328.PutLogEvents"})
        botocore.auth.SigV4Auth(creds, "logs", "us-east-1").add_auth(req)
        out.append((body, dict(req.headers.items())))
        sent += n
    return out


def filter_all(logs, pattern, base):
    """FilterLogEvents over the whole group, every page, for at most
    FILTER_CAP_S: (seconds, matches, pages, finished)."""
    t0 = time.perf_counter()
    matches = pages = 0
    kw = {"logGroupName": "/bench/load", "filterPattern": pattern, "startTime": base}
    while True:
        r = logs.filter_log_events(**kw)
        pages += 1
        matches += len(r.get("events", []))
        if not r.get("nextToken"):
            return time.perf_counter() - t0, matches, pages, True
        if time.perf_counter() - t0 > FILTER_CAP_S:
            return time.perf_counter() - t0, matches, pages, False
        kw["nextToken"] = r["nextToken"]


def log_figures(port, label, reqs, base):
    """Loads the events with PutLogEvents, then filters them. Returns
    (events/s, {pattern: (seconds, matches, pages)})."""
    import http.client
    logs = client(port, "logs")
    logs.create_log_group(logGroupName="/bench/load")
    logs.create_log_stream(logGroupName="/bench/load", logStreamName="s")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    for body, headers in reqs:
        headers = dict(headers, Host="127.0.0.1")
        conn.request("POST", "/", body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200 or b"rejectedLogEventsInfo" in data:
            raise RuntimeError("%s PutLogEvents: %d %s" % (label, r.status, data[:300]))
    put_s = time.perf_counter() - t0
    conn.close()
    print("  %s: %d events put in %.1f s" % (label, EVENTS, put_s), flush=True)
    filt = {}
    for pattern in PATTERNS:
        filt[pattern] = filter_all(logs, pattern, base)
        print("  %s: filter %s: %.2f s, %d matches, %d pages%s" % (
            (label, pattern) + filt[pattern][:3] +
            ("" if filt[pattern][3] else " (stopped at the cap)",)), flush=True)
    return EVENTS / put_s, filt


def fmt_filter(f):
    if f[3]:
        return "%.2f s, %d matches" % (f[0], f[1])
    return "> %.0f s (stopped after %d pages, %d matches so far)" % (f[0], f[2], f[1])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ecs_bench.py FOGBANK_BINARY")
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="fogbank-ecs-bench-")
    data_dir = os.path.join(tmp, "data")
    os.mkdir(data_dir)
    print("load average at start: %s" % open("/proc/loadavg").read().strip(), flush=True)
    fb, port = start_fogbank(binary, data_dir)
    moto = None
    try:
        first, runs, get, filt = task_figures(port, data_dir, tmp)
        base = int(time.time() * 1000) - 3600 * 1000
        reqs = put_requests(base)
        fb_logs = log_figures(port, "fogbank", reqs, base)
        moto, mport = start_moto()
        mo_logs = log_figures(mport, "moto_server", reqs, base) if moto else None
    finally:
        stop(fb)
        stop(moto)
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| figure | fogbank | moto_server |")
    print("|---|---|---|")
    print("| RunTask -> RUNNING, first run (unpacks the image) | %.0f ms | n/a: moto runs "
          "no tasks |" % (first * 1000))
    print("| RunTask -> RUNNING, cached image | %s | n/a |" % ms(runs))
    print("| task stdout line -> GetLogEvents | %s | n/a |" % ms(get))
    print("| task stdout line -> FilterLogEvents | %s | n/a |" % ms(filt))
    print("| PutLogEvents, %d events in batches of %d (one connection) | %.0f events/s | %s |"
          % (EVENTS, BATCH, fb_logs[0], "%.0f events/s" % mo_logs[0] if mo_logs else "-"))
    for pattern in PATTERNS:
        f = fb_logs[1][pattern]
        m = mo_logs[1][pattern] if mo_logs else None
        print("| FilterLogEvents `%s` over all of them (every page) | %s | %s |"
              % (pattern, fmt_filter(f), fmt_filter(m) if m else "-"))
    print("load average at end: %s" % open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
