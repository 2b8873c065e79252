#!/usr/bin/python3
"""test_ecs_runc.py - ECS task containers under runc, as fogbank runs them
when it is root and runc works (the rest of the ECS tests run under
whichever runtime fogbank picks; these check what only runc gives):

- the application is PID 1 of its own pid namespace, sees no host
  process, and has the task's hostname (ip-127-...);
- every task has its own writable filesystem (an overlay over the image's
  shared unpacked tree, which stays unchanged), removed when it stops;
  readonlyRootFilesystem makes it read-only;
- cgroup limits: the container's `memory` as the memory limit, an
  allocation beyond it is an OOM kill reported as ECS does (exit code 137,
  "OutOfMemoryError: Container killed due to memory usage"); task cpu as
  a CFS quota, container cpu as shares;
- stopping: a container that traps SIGTERM exits at once; one whose PID 1
  has no handler ignores it (the kernel's rule for a namespace's init, as
  in Docker) and is SIGKILLed after stopTimeout;
- kill -9 of fogbank leaves no container process alive, and the next
  fogbank removes the leftover bundles, mounts and runc state;
- healthCheck probes run inside the container (`runc exec`);
- a container is RUNNING only once runc has created its process (the
  application's command line is on the host by then), and a task stopped
  while runc is still creating its container stops cleanly.

Every test skips (never passes) unless fogbank logged that it chose runc.
Nothing sleeps: tests poll real state (DescribeTasks, /proc, the data
dir) with a deadline.
"""
import glob
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import test_ecs as base  # noqa: E402  (image push, polling)

os.environ["FOGBANK_ECS_HEALTH_SECOND_MS"] = "100"
STATE = {}
SH = "/bin/sh"
OOM = "OutOfMemoryError: Container killed due to memory usage"


def ecs(fb):
    return fb.client("ecs")


def need_runc(fb):
    """Skips unless this fogbank runs tasks with runc (its start-up log
    says which runtime it chose, and why not runc)."""
    if os.geteuid() != 0:
        raise lib.Skip("runc containers need fogbank to run as root")
    with open(fb.log_path, errors="replace") as f:
        log = f.read()
    if "task runtime: runc" not in log:
        why = [l for l in log.splitlines() if "FOGBANK_ECS_RUNTIME" in l or "task runtime" in l]
        raise lib.Skip("fogbank did not choose runc: %s" % (why or "no runtime line"))
    if "image" not in STATE:
        STATE["image"] = base.image(fb)
        ecs(fb).create_cluster(clusterName="main")


def logs_cfg(family):
    return {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/" + family, "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}


def register(fb, family, containers, cpu="256", memory="512"):
    for c in containers:
        c.setdefault("image", STATE["image"])
        c.setdefault("logConfiguration", logs_cfg(family))
        c.setdefault("stopTimeout", 2)
    return ecs(fb).register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu=cpu, memory=memory, containerDefinitions=containers)["taskDefinition"]


def run(fb, family):
    return ecs(fb).run_task(cluster="main", taskDefinition=family,
                            launchType="FARGATE")["tasks"][0]["taskArn"]


def describe(fb, arn):
    return ecs(fb).describe_tasks(cluster="main", tasks=[arn])["tasks"][0]


def until(fb, arn, pred, timeout=30):
    return base.wait(lambda: (lambda t: pred(t) and t)(describe(fb, arn)), timeout=timeout)


def ctr(task, name="app"):
    return [c for c in task["containers"] if c["name"] == name][0]


def tid(arn):
    return arn.rsplit("/", 1)[1]


def lines_of(fb, family, arn, name="app"):
    try:
        ev = fb.client("logs").get_log_events(
            logGroupName="/ecs/" + family, startFromHead=True,
            logStreamName="ecs/%s/%s" % (name, tid(arn)))["events"]
    except Exception:  # the stream appears with the first flush
        return []
    return [e["message"] for e in ev]


def line_with(fb, family, arn, prefix, name="app"):
    """Waits for a log line starting with prefix; returns the rest."""
    got = base.wait(lambda: [l for l in lines_of(fb, family, arn, name) if l.startswith(prefix)])
    return got[0][len(prefix):]


def shared_root(fb):
    dirs = [d for d in glob.glob(os.path.join(fb.data_dir, "ecs", "rootfs", "*"))
            if not d.endswith(".tmp")]
    assert len(dirs) == 1, dirs
    return dirs[0]


def bundles(fb):
    d = os.path.join(fb.data_dir, "ecs", "bundles")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def runc_state(fb):
    d = os.path.join(fb.data_dir, "ecs", "runc")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [l.split()[4] for l in f if l.split()[4].startswith(path + "/")]


def pids_with(marker):
    """Host pids whose command line contains marker."""
    out = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    out.append(int(d[6:]))
        except OSError:
            pass
    return out


def task_cleaned(fb, arn):
    """Nothing of task arn's containers is left on the host."""
    return (not [b for b in bundles(fb) if b.startswith(tid(arn))]
            and not [s for s in runc_state(fb) if s.startswith(tid(arn))]
            and not [m for m in mounts_under(fb.data_dir) if tid(arn) in m])


def test_pid1_namespaces_hostname(fb):
    need_runc(fb)
    register(fb, "ns", [{"name": "app", "command": [SH, "-c", (
        "echo pid=$$; echo procs=$(cd /proc && echo [0-9]*); "
        "echo host=$(busybox hostname); echo hosts=$(cat /etc/hosts | busybox grep ip-); "
        "echo ip=$FOGBANK_TASK_IP; echo done; exec sleep 600")]}])
    arn = run(fb, "ns")
    until(fb, arn, lambda t: t["lastStatus"] == "RUNNING")
    assert line_with(fb, "ns", arn, "pid=") == "1"
    # the shell, and the subshell listing /proc: nothing of the host's
    procs = line_with(fb, "ns", arn, "procs=").split()
    assert "1" in procs and len(procs) <= 3 and os.getpid() > 3, procs
    ip = line_with(fb, "ns", arn, "ip=")
    want = "ip-" + ip.replace(".", "-")
    assert ip.startswith("127.") and line_with(fb, "ns", arn, "host=") == want
    assert line_with(fb, "ns", arn, "hosts=").split() == [ip, want]
    ecs(fb).stop_task(cluster="main", task=arn)
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    # sleep is PID 1 without a SIGTERM handler: SIGKILL after stopTimeout
    assert ctr(t)["exitCode"] == 137, t["containers"]


def test_private_filesystems(fb):
    need_runc(fb)
    register(fb, "fs", [{"name": "app", "command": [SH, "-c", (
        "busybox ls /tmp | busybox grep -q private && echo seen=yes || echo seen=no; "
        "echo $ECS_TASK_ARN > /tmp/private; echo wrote=$(cat /tmp/private); "
        "exec sleep 600")]}])
    a = run(fb, "fs")
    assert line_with(fb, "fs", a, "wrote=") == a
    b = run(fb, "fs")
    assert line_with(fb, "fs", b, "wrote=") == b
    # b did not see a's file; each one reads back its own
    assert line_with(fb, "fs", b, "seen=") == "no"
    root = shared_root(fb)
    assert not os.path.exists(os.path.join(root, "tmp", "private"))
    assert os.listdir(os.path.join(root, "tmp")) == []
    # the writes live in each container's own bundle (the overlay's upper layer)
    ups = {bd: open(os.path.join(fb.data_dir, "ecs", "bundles", bd, "upper", "tmp",
                                 "private")).read().strip() for bd in bundles(fb)
           if bd.startswith((tid(a), tid(b)))}
    assert sorted(ups.values()) == sorted([a, b]), ups
    for arn in (a, b):
        ecs(fb).stop_task(cluster="main", task=arn)
    for arn in (a, b):
        until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
        base.wait(lambda arn=arn: task_cleaned(fb, arn))


def test_readonly_root_filesystem(fb):
    need_runc(fb)
    register(fb, "ro", [{"name": "app", "readonlyRootFilesystem": True, "command": [
        SH, "-c", "echo x > /tmp/f 2>/dev/null && echo tmp=rw || echo tmp=ro; "
                  "echo x > /dev/shm/f && echo shm=rw; exit 0"]}])
    arn = run(fb, "ro")
    until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert line_with(fb, "ro", arn, "tmp=") == "ro"
    assert line_with(fb, "ro", arn, "shm=") == "rw"


def test_memory_limit_and_oom(fb):
    need_runc(fb)
    register(fb, "oom", [{"name": "app", "memory": 48, "memoryReservation": 16, "command": [
        SH, "-c", "echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); "
                  "echo soft=$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes); "
                  # tail keeps a line without a newline in memory: it grows
                  # until the OOM killer ends it
                  "exec busybox tail /dev/zero"]}])
    arn = run(fb, "oom")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert line_with(fb, "oom", arn, "limit=") == str(48 << 20)
    assert line_with(fb, "oom", arn, "soft=") == str(16 << 20)
    c = ctr(t)
    assert c["exitCode"] == 137 and c.get("reason") == OOM, c
    assert t["stopCode"] == "EssentialContainerExited", t
    assert t["stoppedReason"] == "Essential container in task exited", t
    base.wait(lambda: task_cleaned(fb, arn))
    # without a container memory the task's memory is the limit; a
    # container that stays below it exits normally, with no reason
    register(fb, "mem", [{"name": "app", "command": [
        SH, "-c", "echo limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); exit 0"]}],
        memory="1024")
    arn = run(fb, "mem")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert line_with(fb, "mem", arn, "limit=") == str(1024 << 20)
    assert ctr(t)["exitCode"] == 0 and "reason" not in ctr(t), t["containers"]


def test_cpu_quota_and_shares(fb):
    need_runc(fb)
    marker = "cpu-" + uuid.uuid4().hex
    register(fb, "cpu", [{"name": "app", "cpu": 128, "command": [
        SH, "-c", "echo quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) "
                  "$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us); "
                  "echo shares=$(cat /sys/fs/cgroup/cpu/cpu.shares); "
                  "while :; do sleep 1; done", marker]}], cpu="512")
    arn = run(fb, "cpu")
    # 512 units of a 1024-unit vCPU: half of every 100 ms period
    assert line_with(fb, "cpu", arn, "quota=") == "50000 100000"
    assert line_with(fb, "cpu", arn, "shares=") == "128"
    # the same numbers in the host's cgroup of the container's process
    pid = base.wait(lambda: pids_with(marker))[0]
    with open("/proc/%d/cgroup" % pid) as f:
        cg = [l.strip().split(":", 2) for l in f]
    cpu_path = [p for _, ctl, p in cg if "cpu" in ctl.split(",")]
    if cpu_path and os.path.isdir("/sys/fs/cgroup/cpu"):
        with open("/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us" % cpu_path[0]) as f:
            assert f.read().strip() == "50000"
    ecs(fb).stop_task(cluster="main", task=arn)
    until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    base.wait(lambda: not pids_with(marker))


def test_stop_sigterm_handler_and_pid1_rule(fb):
    need_runc(fb)
    marker = "stop-" + uuid.uuid4().hex
    register(fb, "stop", [
        {"name": "polite", "stopTimeout": 30, "command": [
            SH, "-c", "trap 'echo got-term; exit 0' TERM; echo ready; sleep 600 & wait", marker]},
        {"name": "plain", "stopTimeout": 2, "command": [SH, "-c", "exec sleep 600"]}])
    arn = run(fb, "stop")
    until(fb, arn, lambda t: t["lastStatus"] == "RUNNING")
    base.wait(lambda: "ready" in lines_of(fb, "stop", arn, "polite"))
    ecs(fb).stop_task(cluster="main", task=arn, reason="done")
    # the handler ran and the container ended cleanly, long before its
    # 30 s stopTimeout (the wait below would time out first)
    t = until(fb, arn, lambda t: ctr(t, "polite")["lastStatus"] == "STOPPED", timeout=20)
    assert ctr(t, "polite")["exitCode"] == 0, t["containers"]
    base.wait(lambda: "got-term" in lines_of(fb, "stop", arn, "polite"))
    # PID 1 without a handler ignores SIGTERM; SIGKILL after stopTimeout
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert ctr(t, "plain")["exitCode"] == 137, t["containers"]
    assert not pids_with(marker)
    base.wait(lambda: task_cleaned(fb, arn))


def test_health_check_runs_inside(fb):
    need_runc(fb)
    # the probe passes only inside this container: its private /tmp and
    # its pid namespace, where PID 1 is the app
    register(fb, "hc", [{"name": "app", "command": [
        SH, "-c", "echo up > /tmp/ready-here; exec sleep 600"],
        "healthCheck": {"interval": 5, "timeout": 2, "retries": 2, "command": [
            "CMD-SHELL", "[ -f /tmp/ready-here ] && busybox grep -q sleep /proc/1/cmdline"]}}])
    arn = run(fb, "hc")
    t = until(fb, arn, lambda t: t.get("healthStatus") == "HEALTHY")
    assert ctr(t)["healthStatus"] == "HEALTHY"
    assert not os.path.exists(os.path.join(shared_root(fb), "tmp", "ready-here"))
    ecs(fb).stop_task(cluster="main", task=arn)
    until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")


def test_running_only_once_the_process_exists(fb):
    need_runc(fb)
    marker = "started-" + uuid.uuid4().hex
    # the shell keeps the marker in its command line (as fogbank-init,
    # which runc has exec'd before it writes the pid file, does before it)
    register(fb, "early", [{"name": "app", "command": [
        SH, "-c", "while :; do sleep 1; done", marker]}])
    arn = run(fb, "early")
    # no pause between polls: the first answer that says RUNNING counts
    end = time.time() + 30
    while True:
        t = describe(fb, arn)
        if ctr(t)["lastStatus"] == "RUNNING" or t["lastStatus"] == "RUNNING":
            break
        assert t["lastStatus"] != "STOPPED" and time.time() < end, t
    seen = pids_with(marker)
    assert seen, "RUNNING before the container's process exists: %s" % t
    assert t["lastStatus"] == "RUNNING" and ctr(t)["lastStatus"] == "RUNNING", t
    ecs(fb).stop_task(cluster="main", task=arn)
    until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    base.wait(lambda: not pids_with(marker) and task_cleaned(fb, arn))


def test_stop_while_runc_creates_the_container(fb):
    need_runc(fb)
    marker = "starting-" + uuid.uuid4().hex
    register(fb, "starting", [{"name": "app", "stopTimeout": 2, "command": [
        SH, "-c", "trap 'exit 0' TERM; while :; do sleep 1; done", marker]}])
    arn = run(fb, "starting")
    # the bundle appears just before `runc run` is spawned: stop then,
    # while runc is still creating the container
    end = time.time() + 30
    while not [b for b in bundles(fb) if b.startswith(tid(arn))]:
        assert time.time() < end, "no bundle"
    ecs(fb).stop_task(cluster="main", task=arn, reason="early stop")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert t["stoppedReason"] == "early stop", t
    assert ctr(t)["lastStatus"] == "STOPPED", t["containers"]
    base.wait(lambda: not pids_with(marker) and task_cleaned(fb, arn))


def test_kill9_leaves_nothing_running_and_restart_cleans(fb):
    need_runc(fb)
    marker = "orphan-" + uuid.uuid4().hex
    register(fb, "orphan", [{"name": "app", "command": [
        SH, "-c", "trap 'echo ignoring' TERM; echo started; while :; do sleep 1; done",
        marker]}])
    arn = run(fb, "orphan")
    until(fb, arn, lambda t: t["lastStatus"] == "RUNNING")
    base.wait(lambda: "started" in lines_of(fb, "orphan", arn))
    assert pids_with(marker)
    fb.kill9()
    # runc died with fogbank, and fogbank-init's death signal took the
    # container's PID 1 and with it the whole pid namespace
    base.wait(lambda: not pids_with(marker), timeout=10)
    # the bundle, its overlay mount and runc's state are left behind...
    left = [b for b in bundles(fb) if b.startswith(tid(arn))]
    assert left and runc_state(fb) and mounts_under(fb.data_dir), left
    fb.start()
    # ...until the next fogbank removes them
    base.wait(lambda: task_cleaned(fb, arn) and not bundles(fb) and not runc_state(fb))
    assert not mounts_under(fb.data_dir)
    t = describe(fb, arn)
    assert t["lastStatus"] == "STOPPED", t


if __name__ == "__main__":
    lib.main(globals())
