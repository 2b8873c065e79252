#!/usr/bin/python3
"""run.py - fogbank's test runner (what `make test` and CI run).

  run.py --build DIR     unit tests + every e2e file against DIR/fogbank
  run.py --all           the normal build, then the ASan+UBSan build, then
                         the fuzz smoke; one summary line at the end

The last line is always "N passed, N failed" over everything run.
E2E files run two at a time (the machine has two cores); each starts its own
fogbank on an ephemeral port with its own data dir.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNT = re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?")


SKIPPED = [0]  # tests skipped for a missing prerequisite, over the whole run


def counts(text):
    """(passed, failed) from the last summary line of a test program; its
    skipped count is added to SKIPPED."""
    for line in reversed(text.splitlines()):
        m = COUNT.match(line.strip())
        if m:
            SKIPPED[0] += int(m.group(3) or 0)
            return int(m.group(1)), int(m.group(2))
    return 0, 1  # no summary: the program crashed or hung


def run_one(cmd, env, label, timeout=1200):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        out = p.stdout + p.stderr
        passed, failed = counts(p.stdout)
        if p.returncode != 0 and failed == 0:
            failed = 1
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += "\nTIMEOUT after %ds" % timeout
        passed, failed = 0, 1
    return label, passed, failed, out, time.time() - t0


def suite(build, only=None, terraform=True):
    """Unit tests and every e2e file against build. The Terraform files
    (minutes each: a provider plugin drives the same operations the CLI
    and boto3 tests cover) start first so they do not end the run alone;
    terraform=False leaves them out (the sanitizer pass)."""
    env = dict(os.environ, FOGBANK_BUILD=build, PYTHONDONTWRITEBYTECODE="1")
    jobs = [([os.path.join(build, "unit_tests")], "unit (%s)" % build)]
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "e2e", "test_*.py")),
                   key=lambda f: (not f.endswith("_terraform.py"), f))
    for f in files:
        if (only and only not in f) or (not terraform and f.endswith("_terraform.py")):
            continue
        jobs.append((["/usr/bin/python3", f], "%s (%s)" % (os.path.relpath(f, ROOT), build)))
    total_p = total_f = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for label, p, f, out, secs in ex.map(lambda j: run_one(j[0], env, j[1]), jobs):
            total_p += p
            total_f += f
            print("%-50s %4d passed %3d failed  %6.1fs" % (label, p, f, secs), flush=True)
            if f:
                print(out[-8000:], flush=True)
    return total_p, total_f


def fuzz_smoke(seconds):
    env = dict(os.environ)
    p = subprocess.run(["sh", "tests/fuzz/smoke.sh", str(seconds)], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    print(p.stdout[-4000:], p.stderr[-4000:] if p.returncode else "", flush=True)
    return counts(p.stdout)


def make(*args):
    r = subprocess.run(["make", "-j2", *args], cwd=ROOT)
    if r.returncode != 0:
        print("0 passed, 1 failed")
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--fuzz-seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "15")))
    a = ap.parse_args()
    if not a.all:
        p, f = suite(a.build, a.only)
    else:
        make("build/fogbank", "build/unit_tests")
        p, f = suite("build", a.only)
        make("SAN=1", "build-san/fogbank", "build-san/unit_tests")
        p2, f2 = suite("build-san", a.only, terraform=False)
        # the same tree must build warning-free with clang too
        make("CC=clang", "BUILD=build-clang", "build-clang/fogbank", "build-clang/unit_tests")
        make("fuzz-bins")
        p3, f3 = fuzz_smoke(a.fuzz_seconds)
        p, f = p + p2 + p3, f + f2 + f3
    print("%d passed, %d failed, %d skipped" % (p, f, SKIPPED[0]))
    sys.exit(1 if f else 0)


if __name__ == "__main__":
    main()
