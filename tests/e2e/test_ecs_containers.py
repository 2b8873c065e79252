#!/usr/bin/python3
"""test_ecs_containers.py - what ECS does inside a task, with real processes:
container health checks (HEALTHY / UNHEALTHY for containers and the task,
and a service replacing a task whose essential container turns
UNHEALTHY), dependsOn (SUCCESS, HEALTHY, START and a condition that can
never hold), essential and nonessential exits, stopTimeout (SIGTERM, then
SIGKILL), `user` (names from the image's own /etc/passwd, uid:gid) and
exit codes in DescribeTasks.

Nothing here waits on the clock: the tests flip a container's state by
writing a file into the task's root from the host (the image's unpacked
root, or a runc container's own overlay; they run as the same user as
fogbank) and poll DescribeTasks until ECS reports it. Health-check
seconds are shortened with FOGBANK_ECS_HEALTH_SECOND_MS so valid ECS
values (interval 5 s) run quickly.
"""
import base64
import glob
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import oci  # noqa: E402
import test_ecs as base  # noqa: E402  (image push, polling)

os.environ["FOGBANK_ECS_HEALTH_SECOND_MS"] = "100"
TMP = tempfile.mkdtemp(prefix="fogbank-ecs-ctr-")
STATE = {}
CHECK = {"interval": 5, "timeout": 2, "retries": 2}
SH = "/bin/sh"


def ecs(fb):
    return fb.client("ecs")


def cluster(fb):
    if "cluster" not in STATE:
        ecs(fb).create_cluster(clusterName="main")
        STATE["cluster"] = True


def tid_of(arn):
    return arn.rsplit("/", 1)[1]


def describe(fb, arn):
    return ecs(fb).describe_tasks(cluster="main", tasks=[arn])["tasks"][0]


def ctr(task, name):
    return [c for c in task["containers"] if c["name"] == name][0]


def until(fb, arn, pred, timeout=30):
    """Polls DescribeTasks until pred(task) holds; returns the task."""
    return base.wait(lambda: (lambda t: pred(t) and t)(describe(fb, arn)), timeout=timeout)


def rootfs(fb):
    """The unpacked root of the busybox image (tests write marker files in
    its /tmp; every task of the image shares it)."""
    dirs = [d for d in glob.glob(os.path.join(fb.data_dir, "ecs", "rootfs", "*"))
            if not d.endswith(".tmp")]
    assert dirs, "no unpacked rootfs"
    for d in dirs:
        if not os.path.exists(os.path.join(d, "etc", "passwd")):
            return d
    return dirs[0]


def touch(fb, name):
    """Writes /tmp/<name> where the tasks see it: the shared root (the
    chroot and direct runtimes) and each runc container's own root."""
    with open(os.path.join(rootfs(fb), "tmp", name), "w") as f:
        f.write("x")
    for r in glob.glob(os.path.join(fb.data_dir, "ecs", "bundles", "*", "rootfs")):
        # a container that ended may be unmounted and removed meanwhile;
        # it needs no file, and a running one's root stays mounted
        try:
            if os.path.ismount(r):
                with open(os.path.join(r, "tmp", name), "w") as f:
                    f.write("x")
        except FileNotFoundError:
            pass


def logs_cfg(family):
    return {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/" + family, "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}


def events_of(fb, family, arn, name):
    """The log events of container name of task arn (awslogs)."""
    try:
        return fb.client("logs").get_log_events(
            logGroupName="/ecs/" + family,
            logStreamName="ecs/%s/%s" % (name, tid_of(arn)), startFromHead=True)["events"]
    except Exception:  # the stream appears with the first flush
        return []


def lines_of(fb, family, arn, name):
    """The log lines of container name of task arn (awslogs)."""
    return [e["message"] for e in events_of(fb, family, arn, name)]


def register(fb, family, containers):
    for c in containers:
        c.setdefault("image", STATE["image"])
        c.setdefault("logConfiguration", logs_cfg(family))
    return ecs(fb).register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=containers)["taskDefinition"]


def run(fb, family):
    cluster(fb)
    return ecs(fb).run_task(cluster="main", taskDefinition=family,
                            launchType="FARGATE")["tasks"][0]["taskArn"]


def setup_image(fb):
    STATE["image"] = base.image(fb)


ID = "${ECS_TASK_ARN##*/}"  # the task id, inside the container's shell


def test_health_checks_standalone(fb):
    setup_image(fb)
    register(fb, "hc", [
        {"name": "ok", "command": [SH, "-c", "exec sleep 600"], "stopTimeout": 1,
         "healthCheck": dict(CHECK, command=["CMD-SHELL", "[ -d /tmp ] && exit 0"])},
        {"name": "sick", "essential": True, "command": [SH, "-c", "exec sleep 600"],
         "stopTimeout": 1,
         "healthCheck": dict(CHECK, command=["CMD", "/bin/false"])},
        {"name": "plain", "essential": False, "command": [SH, "-c", "exec sleep 600"],
         "stopTimeout": 1}])
    arn = run(fb, "hc")
    t = until(fb, arn, lambda t: ctr(t, "ok")["healthStatus"] == "HEALTHY"
              and ctr(t, "sick")["healthStatus"] == "UNHEALTHY")
    # a standalone task lives on whatever its health (ECS's rule)
    assert t["lastStatus"] == "RUNNING" and t["healthStatus"] == "UNHEALTHY", t
    assert ctr(t, "plain")["healthStatus"] == "UNKNOWN"
    ecs(fb).stop_task(cluster="main", task=arn)
    # only essential containers with checks make the task's health
    register(fb, "hc2", [
        {"name": "ok", "command": [SH, "-c", "exec sleep 600"], "stopTimeout": 1,
         "healthCheck": dict(CHECK, command=["CMD-SHELL", "exit 0"])},
        {"name": "side", "essential": False, "command": [SH, "-c", "exec sleep 600"],
         "stopTimeout": 1, "healthCheck": dict(CHECK, command=["CMD", "/bin/false"])}])
    arn = run(fb, "hc2")
    t = until(fb, arn, lambda t: t["healthStatus"] == "HEALTHY"
              and ctr(t, "side")["healthStatus"] == "UNHEALTHY")
    ecs(fb).stop_task(cluster="main", task=arn)


def test_service_replaces_unhealthy_task(fb):
    setup_image(fb)
    register(fb, "hcsvc", [
        {"name": "app", "command": [SH, "-c", "exec sleep 600"], "stopTimeout": 1,
         "healthCheck": dict(CHECK, command=["CMD-SHELL", "[ ! -f /tmp/sick-%s ]" % ID])}])
    cluster(fb)
    ecs(fb).create_service(cluster="main", serviceName="hcsvc", taskDefinition="hcsvc",
                           desiredCount=1, launchType="FARGATE")

    def healthy_task():
        arns = ecs(fb).list_tasks(cluster="main", serviceName="hcsvc")["taskArns"]
        ts = ecs(fb).describe_tasks(cluster="main", tasks=arns)["tasks"] if arns else []
        ok = [t for t in ts if t["healthStatus"] == "HEALTHY"]
        return ok[0]["taskArn"] if ok else None
    first = base.wait(healthy_task, timeout=30)
    # the deployment completes only once its task is HEALTHY
    base.wait(lambda: ecs(fb).describe_services(cluster="main", services=["hcsvc"])
              ["services"][0]["deployments"][0]["rolloutState"] == "COMPLETED")
    touch(fb, "sick-" + tid_of(first))
    t = until(fb, first, lambda t: t["lastStatus"] == "STOPPED")
    assert t["stoppedReason"] == "Task failed container health checks", t
    assert t["stopCode"] == "ServiceSchedulerInitiated" and t["healthStatus"] == "UNHEALTHY"
    second = base.wait(healthy_task, timeout=30)
    assert second != first
    msgs = [e["message"] for e in ecs(fb).describe_services(
        cluster="main", services=["hcsvc"])["services"][0]["events"]]
    assert any("(task %s) failed container health checks." % tid_of(first) in m
               for m in msgs), msgs
    ecs(fb).delete_service(cluster="main", service="hcsvc", force=True)


def test_depends_on_order(fb):
    setup_image(fb)
    register(fb, "order", [
        {"name": "init", "essential": False, "command": [SH, "-c", "echo init-done; exit 0"]},
        {"name": "db", "essential": False, "command": [SH, "-c", "exec sleep 600"],
         "stopTimeout": 1, "healthCheck": dict(CHECK, command=["CMD-SHELL", "exit 0"])},
        {"name": "app", "command": [SH, "-c", "echo app-started; exec sleep 600"],
         "stopTimeout": 1,
         "dependsOn": [{"containerName": "init", "condition": "SUCCESS"},
                       {"containerName": "db", "condition": "HEALTHY"}]},
        {"name": "sidecar", "essential": False, "command": [SH, "-c", "exec sleep 600"],
         "stopTimeout": 1, "dependsOn": [{"containerName": "app", "condition": "START"}]}])
    arn = run(fb, "order")
    t = until(fb, arn, lambda t: t["lastStatus"] == "RUNNING")
    # RUNNING only once nothing waits: app started after init succeeded and
    # db was healthy, and the sidecar after app
    assert ctr(t, "init")["lastStatus"] == "STOPPED" and ctr(t, "init")["exitCode"] == 0, t
    assert ctr(t, "db")["healthStatus"] == "HEALTHY", t
    assert ctr(t, "app")["lastStatus"] == "RUNNING" and ctr(t, "sidecar")["lastStatus"] == "RUNNING"
    # containers of a task share no files (each has its own root, as on
    # Fargate): the order shows in when fogbank read their lines
    init = base.wait(lambda: events_of(fb, "order", arn, "init"))
    app = base.wait(lambda: events_of(fb, "order", arn, "app"))
    assert [e["message"] for e in init] == ["init-done"], init
    assert [e["message"] for e in app] == ["app-started"], app
    assert init[0]["timestamp"] <= app[0]["timestamp"], (init, app)
    ecs(fb).stop_task(cluster="main", task=arn)


def test_depends_on_never_met(fb):
    setup_image(fb)
    register(fb, "never", [
        {"name": "migrate", "essential": False, "command": [SH, "-c", "exit 3"]},
        {"name": "app", "command": [SH, "-c", "echo must-not-run; exec sleep 600"],
         "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]}])
    arn = run(fb, "never")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert t["stopCode"] == "TaskFailedToStart", t
    assert ctr(t, "migrate")["exitCode"] == 3
    app = ctr(t, "app")
    assert "exitCode" not in app and "dependency" in app.get("reason", ""), app
    assert "dependency" in t["stoppedReason"]
    # a dependsOn naming no container of the task is refused at registration
    lib.expect_error("ClientException", ecs(fb).register_task_definition, family="bad",
                     containerDefinitions=[{"name": "a", "image": STATE["image"],
                                            "dependsOn": [{"containerName": "zz",
                                                           "condition": "START"}]}])
    lib.expect_error("ClientException", ecs(fb).register_task_definition, family="bad",
                     containerDefinitions=[
                         {"name": "a", "image": STATE["image"]},
                         {"name": "b", "image": STATE["image"],
                          "dependsOn": [{"containerName": "a", "condition": "SUCCESS"}]}])


def test_essential_and_nonessential_exits(fb):
    setup_image(fb)
    register(fb, "ess", [
        {"name": "main", "command": [SH, "-c",
                                     "while [ ! -f /tmp/go-%s ]; do sleep 0.1; done; exit 7" % ID]},
        {"name": "side", "essential": False, "command": [SH, "-c", "exit 5"]}])
    arn = run(fb, "ess")
    t = until(fb, arn, lambda t: ctr(t, "side")["lastStatus"] == "STOPPED")
    assert ctr(t, "side")["exitCode"] == 5
    assert t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING", t
    touch(fb, "go-" + tid_of(arn))
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert t["stopCode"] == "EssentialContainerExited", t
    assert t["stoppedReason"] == "Essential container in task exited"
    assert ctr(t, "main")["exitCode"] == 7 and ctr(t, "side")["exitCode"] == 5


def test_stop_timeout_sigterm_then_sigkill(fb):
    setup_image(fb)
    register(fb, "stop", [
        {"name": "stubborn", "stopTimeout": 2,
         "command": [SH, "-c", "trap '' TERM; echo trapped; while true; do sleep 1; done"]},
        # a handler: under runc the shell is its pid namespace's PID 1,
        # which the kernel spares signals it does not handle
        {"name": "polite", "stopTimeout": 2,
         "command": [SH, "-c", "trap 'exit 143' TERM; sleep 600 & wait"]}])
    arn = run(fb, "stop")
    until(fb, arn, lambda t: t["lastStatus"] == "RUNNING")
    base.wait(lambda: "trapped" in lines_of(fb, "stop", arn, "stubborn"))
    ecs(fb).stop_task(cluster="main", task=arn, reason="rolling")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    # SIGTERM ended the polite one (143); the stubborn one ignored it
    # and got SIGKILL (128+9) once its stopTimeout passed
    assert ctr(t, "polite")["exitCode"] == 143, t["containers"]
    assert ctr(t, "stubborn")["exitCode"] == 137, t["containers"]
    assert t["stopCode"] == "UserInitiated" and t["stoppedReason"] == "rolling"


def passwd_image(fb):
    """Pushes a two-layer image: busybox, then /etc/passwd and /etc/group
    (user app = 1000:1001). Returns its reference."""
    config0, layer0, _ = oci.image_blobs()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                          "app:x:1000:1001:App:/home/app:/bin/sh\n"),
                           ("etc/group", "root:x:0:\napp:x:1001:\nstaff:x:50:app\n")):
            data = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(raw)
    layer1 = gz.getvalue()
    cfg = json.loads(config0)
    cfg["rootfs"]["diff_ids"].append(oci.sha256(raw))
    config = json.dumps(cfg, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": oci.MT_MANIFEST,
        "config": {"mediaType": oci.MT_CONFIG, "digest": oci.sha256(config), "size": len(config)},
        "layers": [{"mediaType": oci.MT_LAYER, "digest": oci.sha256(l), "size": len(l)}
                   for l in (layer0, layer1)]}, sort_keys=True).encode()
    layout = os.path.join(TMP, "passwd-layout")
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    for b in (config, layer0, layer1, manifest):
        with open(os.path.join(layout, "blobs", "sha256", oci.sha256(b)[7:]), "wb") as f:
            f.write(b)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": oci.MT_MANIFEST, "digest": oci.sha256(manifest), "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, f)
    fb.client("ecr").create_repository(repositoryName="withusers")
    tok = fb.client("ecr").get_authorization_token()["authorizationData"][0]
    pw = base64.b64decode(tok["authorizationToken"]).decode().split(":", 1)[1]
    p = subprocess.run(["skopeo", "copy", "--dest-creds", "AWS:" + pw, "--dest-tls-verify=false",
                        "oci:%s:v1" % layout, "docker://127.0.0.1:%d/withusers:v1" % fb.port],
                       capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "HOME": TMP})
    assert p.returncode == 0, p.stderr
    return "127.0.0.1:%d/withusers:v1" % fb.port


def test_user(fb):
    if os.geteuid() != 0:
        raise lib.Skip("`user` is applied only when fogbank runs as root")
    setup_image(fb)
    img = passwd_image(fb)
    show = [SH, "-c", "echo ids=$(busybox id -u):$(busybox id -g) home=$HOME; exit 0"]
    register(fb, "users", [
        {"name": "byname", "image": img, "user": "app", "command": show, "essential": False},
        {"name": "bygroup", "image": img, "user": "app:staff", "command": show,
         "essential": False},
        {"name": "byid", "image": img, "user": "1234:5678", "command": show, "essential": False},
        {"name": "root", "image": img, "command": show,
         "dependsOn": [{"containerName": n, "condition": "COMPLETE"}
                       for n in ("byname", "bygroup", "byid")]}])
    arn = run(fb, "users")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert all(c["exitCode"] == 0 for c in t["containers"]), t["containers"]
    want = {"byname": "ids=1000:1001 home=/home/app", "bygroup": "ids=1000:50 home=/home/app",
            "byid": "ids=1234:5678 home=/", "root": "ids=0:0 home=/root"}
    for name, line in want.items():
        got = base.wait(lambda n=name: lines_of(fb, "users", arn, n))
        assert got == [line], (name, got)
    register(fb, "nouser", [{"name": "app", "image": img, "user": "nobody", "command": show}])
    arn = run(fb, "nouser")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert t["stopCode"] == "TaskFailedToStart", t
    assert "unable to find user nobody" in t["stoppedReason"], t["stoppedReason"]


if __name__ == "__main__":
    lib.main(globals())
