"""lib.py - helpers for fogbank end-to-end tests.

Each test file starts its own fogbank (fresh data dir, ephemeral port) and
drives it with real clients: Debian's `aws` CLI v2 (/usr/bin/aws) and
Debian's boto3. A test is a function named test_* taking the Fogbank;
`lib.main(globals())` runs them in file order and prints
"N passed, N failed" as its last line.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("FOGBANK_BUILD", "build")
BINARY = os.path.join(ROOT, BUILD, "fogbank")
AWS_V2 = "/usr/bin/aws"


class Skip(Exception):
    """Raised by a test whose prerequisite (e.g. terraform) is absent; it is
    counted as skipped, never as passed."""


class AwsError(Exception):
    """A CLI or API call that failed; .code is the AWS error code."""

    def __init__(self, code, message, status=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


def _cli_env(access_key, secret, region, extra=None):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": os.environ.get("FB_TEST_HOME", tempfile.gettempdir()),
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
    }
    if extra:
        env.update(extra)
    return env


class Fogbank:
    """A fogbank daemon owned by one test file."""

    def __init__(self, auth="enforce", data_dir=None, extra_args=()):
        self.auth = auth
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="fogbank-test-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + ".log")
        self.start()

    # -- lifecycle ------------------------------------------------------
    def start(self):
        """Starts the daemon on an ephemeral port and waits for its
        readiness line (no sleeping: we read stderr until it says so)."""
        log = open(self.log_path, "ab")
        args = [BINARY, "up", "--host", "127.0.0.1", "--port", "0",
                "--data-dir", self.data_dir, "--auth", self.auth] + self.extra_args
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("fogbank exited before ready (rc=%s); log %s" % (self.proc.wait(), self.log_path))
            log.write(line)
            log.flush()
            text = line.decode(errors="replace")
            if " ready " in text and "port=" in text:
                self.port = int(text.split("port=")[1].split()[0])
                break
            if time.time() > deadline:
                raise RuntimeError("fogbank not ready in 30s")
        # Keep draining stderr into the log so the daemon never blocks on it.
        import threading

        def drain(pipe, out):
            for l in iter(pipe.readline, b""):
                out.write(l)
                out.flush()
            out.close()

        threading.Thread(target=drain, args=(self.proc.stderr, log), daemon=True).start()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        """SIGKILL, as a crash would."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def restart(self, kill=False):
        if kill:
            self.kill9()
        else:
            self.stop()
        self.start()

    def close(self):
        self.stop()
        if self.own_dir and os.environ.get("FB_KEEP_DATA") is None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # -- clients --------------------------------------------------------
    def aws(self, service, *args, access_key="test", secret="test", region="us-east-1",
            raw=False, env=None):
        """Runs Debian's aws CLI v2 against this fogbank. Returns parsed JSON
        output ({} when empty), or the raw stdout text when raw=True.
        Raises AwsError(code) when the CLI fails."""
        cmd = [AWS_V2, "--endpoint-url", self.endpoint, "--output", "json", service] + [str(a) for a in args]
        p = subprocess.run(cmd, capture_output=True, text=True,
                           env=_cli_env(access_key, secret, region, env), timeout=120)
        if p.returncode != 0:
            err = p.stderr.strip()
            code = "Unknown"
            if "An error occurred (" in err:
                code = err.split("An error occurred (")[1].split(")")[0]
            raise AwsError(code, err)
        if raw:
            return p.stdout
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def client(self, service, access_key="test", secret="test", region="us-east-1", token=None):
        """A Debian boto3 client pointed at this fogbank (no retries)."""
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=access_key, aws_secret_access_key=secret,
                            aws_session_token=token,
                            config=Config(retries={"max_attempts": 1}))

    def http(self, method, path, body=b"", headers=None):
        """A raw HTTP request; returns (status, headers dict lower-cased, body bytes)."""
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data


def sign(fb, service, body, headers, method="POST", path="/", access_key="test",
         secret="test", region="us-east-1", token=None):
    """Headers for a request signed with botocore's SigV4 (Debian's
    python3-botocore) for this fogbank's host."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    req = botocore.awsrequest.AWSRequest(method=method, url=fb.endpoint + path, data=body,
                                         headers=dict(headers))
    creds = botocore.credentials.Credentials(access_key, secret, token)
    botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    out = dict(req.headers.items())
    out["Host"] = "127.0.0.1:%d" % fb.port  # signed; botocore adds it only when sending
    return out


def raw_request(method, path, headers, body=b""):
    """Bytes of an HTTP/1.1 request with Content-Length."""
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s HTTP/1.1" % (method, path)]
    for k, v in headers.items():
        if k.lower() != "content-length":
            lines.append("%s: %s" % (k, v))
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


_pending = {}  # bytes read past a response, per socket fd (pipelining)


def read_response(sock):
    """Reads one HTTP response from sock: (status, headers, body). Uses a
    per-socket buffer so pipelined responses can be read one at a time."""
    buf = _pending.pop(sock.fileno(), b"")
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; got %r" % buf)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0")) if status >= 200 else 0
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("body cut short")
        rest += chunk
    _pending[sock.fileno()] = rest[n:]
    return status, hdrs, rest[:n]


def expect_error(code, fn, *args, **kwargs):
    """Calls fn and asserts it fails with AWS error `code` (CLI AwsError or
    botocore ClientError). Returns the exception."""
    try:
        fn(*args, **kwargs)
    except AwsError as e:
        assert e.code == code, "expected %s, got %s" % (code, e)
        return e
    except Exception as e:  # botocore ClientError
        resp = getattr(e, "response", None)
        if resp is None:
            raise
        got = resp.get("Error", {}).get("Code")
        assert got == code, "expected %s, got %s (%s)" % (code, got, e)
        return e
    raise AssertionError("expected error %s, call succeeded" % code)



# -- Terraform (the image's terraform and its offline AWS provider mirror;
#    the project's setup does not install them, so tests skip without) --
TF_PLUGINS = "/opt/tf-plugins"


def terraform_workspace(prefix, main_tf):
    """A new temp dir holding main_tf and a CLI config that installs the
    AWS provider from the offline mirror. Raises Skip when terraform or the
    mirror is missing. The caller removes the dir."""
    if not shutil.which("terraform") or not os.path.isdir(TF_PLUGINS):
        raise Skip("terraform or its offline AWS provider is not installed")
    work = tempfile.mkdtemp(prefix=prefix)
    with open(os.path.join(work, "rc"), "w") as f:
        f.write('provider_installation {\n  filesystem_mirror {\n    path = "%s"\n'
                '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' % TF_PLUGINS)
    with open(os.path.join(work, "main.tf"), "w") as f:
        f.write(main_tf)
    return work


def terraform(work, *args, timeout=600):
    """Runs `terraform ARGS -no-color` in work, isolated from the user's
    config; returns the CompletedProcess."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work,
           "TF_CLI_CONFIG_FILE": os.path.join(work, "rc"), "TF_IN_AUTOMATION": "1",
           "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(["terraform", *args, "-no-color"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=timeout)


def terraform_output(work, name):
    """The raw value of output <name>."""
    p = terraform(work, "output", "-raw", name)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout.strip()


def s3_check_store(fb):
    """Stops fb, then asserts that no S3 temp file or request spool file is
    left, that every data file is referenced and every reference has its
    file. Restarts fb."""
    import sqlite3
    fb.client("s3").list_buckets()  # the first S3 request runs recovery
    fb.stop()  # the database is opened in exclusive mode
    root = os.path.join(fb.data_dir, "s3")
    tmp = os.listdir(os.path.join(root, "tmp"))
    assert tmp == [], "orphaned temp files: %s" % tmp
    spool = os.listdir(os.path.join(fb.data_dir, "tmp"))
    assert spool == [], "orphaned spool files: %s" % spool
    on_disk = set()
    for sub in os.listdir(os.path.join(root, "obj")):
        on_disk |= set(os.listdir(os.path.join(root, "obj", sub)))
    db = sqlite3.connect(os.path.join(fb.data_dir, "state.db"))
    refs = {r[0] for r in db.execute("SELECT file FROM s3_objects WHERE file IS NOT NULL")}
    refs |= {r[0] for r in db.execute("SELECT file FROM s3_parts")}
    db.close()
    assert refs <= on_disk, "missing data files: %s" % (refs - on_disk)
    assert on_disk <= refs, "unreferenced data files: %s" % (on_disk - refs)
    fb.start()


def main(ns, **fogbank_args):
    """Runs every test_* function of module namespace ns against one
    fogbank, in definition order. Prints "N passed, N failed"."""
    tests = [(n, f) for n, f in ns.items() if n.startswith("test_") and callable(f)]
    only = os.environ.get("FB_TEST_ONLY")
    passed = failed = skipped = 0
    fb = Fogbank(**fogbank_args)
    try:
        for name, fn in tests:
            if only and only not in name:
                continue
            t0 = time.time()
            try:
                fn(fb)
                passed += 1
                print("ok   %s (%.2fs)" % (name, time.time() - t0), flush=True)
            except Skip as e:
                skipped += 1
                print("skip %s: %s" % (name, e), flush=True)
            except Exception:
                failed += 1
                print("FAIL %s" % name, flush=True)
                traceback.print_exc()
                if fb.proc and fb.proc.poll() is not None:
                    print("  fogbank died (rc=%s); restarting" % fb.proc.returncode, flush=True)
                    fb.start()
    finally:
        fb.close()
    # Under ASan/UBSan any report in the daemon's log fails the file.
    try:
        with open(fb.log_path, errors="replace") as f:
            log = f.read()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in log:
                failed += 1
                print("FAIL sanitizer report in %s:" % fb.log_path)
                print(log[log.index(marker) - 200:][:4000])
                break
        if not failed:
            os.unlink(fb.log_path)
    except FileNotFoundError:
        pass
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped), flush=True)
    sys.exit(1 if failed else 0)
