"""test_ecs.py - ECS on fogbank with real clients and real processes.

An OCI image (busybox-static in one layer, tests/e2e/oci.py) is pushed to
fogbank's registry with skopeo; task definitions use a Secrets Manager
secret (json-key form) and the awslogs driver. Tasks are real processes:
they print lines (read back with `aws logs tail`) and serve HTTP on their
own loopback address (FOGBANK_TASK_IP). A service keeps two tasks, a
forced deployment replaces them, and after kill -9 + restart the service is
back at its desired count.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import lib  # noqa: E402
import oci  # noqa: E402

TMP = tempfile.mkdtemp(prefix="fogbank-ecs-")
STATE = {}


def wait(fn, timeout=20.0, step=0.1):
    """Polls fn until it returns something truthy; returns it."""
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < end, "timed out waiting"
        time.sleep(step)


def image(fb):
    """Pushes the busybox image once; returns its repositoryUri:tag."""
    if "image" not in STATE:
        layout = os.path.join(TMP, "layout")
        oci.build_layout(layout, "v1")
        fb.client("ecr").create_repository(repositoryName="web")
        tok = fb.client("ecr").get_authorization_token()["authorizationData"][0]
        import base64
        pw = base64.b64decode(tok["authorizationToken"]).decode().split(":", 1)[1]
        p = subprocess.run(["skopeo", "copy", "--dest-creds", "AWS:" + pw, "--dest-tls-verify=false",
                            "oci:%s:v1" % layout, "docker://127.0.0.1:%d/web:v1" % fb.port],
                           capture_output=True, text=True, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "HOME": TMP})
        assert p.returncode == 0, p.stderr
        STATE["image"] = "127.0.0.1:%d/web:v1" % fb.port
    return STATE["image"]


def register(fb, image_ref, family="web", command=None):
    ecs = fb.client("ecs")
    if "secret" not in STATE:
        sm = fb.client("secretsmanager")
        STATE["secret"] = sm.create_secret(Name="app/db", SecretString='{"password":"s3cr3t"}')["ARN"]
    cmd = command or ["/bin/sh", "-c",
                      "echo hello from $HOSTNAME_X pw=$DB_PASSWORD; echo second line; "
                      "exec /bin/busybox httpd -f -p $FOGBANK_TASK_IP:8080 -h /etc"]
    td = ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512",
        containerDefinitions=[{
            "name": "app", "image": image_ref, "essential": True,
            "command": cmd, "stopTimeout": 2,
            "environment": [{"name": "HOSTNAME_X", "value": "fogbank"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": STATE["secret"] + ":password::"}],
            "portMappings": [{"containerPort": 8080}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/" + family, "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}},
        }])["taskDefinition"]
    return td


def task_ip(t):
    return t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]


def describe(fb, arns):
    return fb.client("ecs").describe_tasks(cluster="main", tasks=arns)["tasks"]


def http_get(ip, path="/fogbank-extra"):
    try:
        with socket.create_connection((ip, 8080), timeout=2) as s:
            s.sendall(b"GET /passwd HTTP/1.0\r\n\r\n")
            return s.recv(100)
    except OSError:
        return None


def test_control_plane(fb):
    ecs = fb.client("ecs")
    c = fb.aws("ecs", "create-cluster", "--cluster-name", "main",
               "--capacity-providers", "FARGATE", "FARGATE_SPOT")["cluster"]
    assert c["status"] == "ACTIVE" and c["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert c["clusterArn"] in ecs.list_clusters()["clusterArns"]
    ecs.create_cluster(clusterName="tmp")
    ecs.delete_cluster(cluster="tmp")
    assert ecs.describe_clusters(clusters=["tmp"])["clusters"][0]["status"] == "INACTIVE"
    td1 = register(fb, "oci:/nonexistent:v1", family="fam")
    td2 = register(fb, "oci:/nonexistent:v1", family="fam")
    assert td1["taskDefinitionArn"].endswith(":task-definition/fam:1")
    assert td2["revision"] == 2
    got = fb.aws("ecs", "describe-task-definition", "--task-definition", "fam")["taskDefinition"]
    assert got["revision"] == 2 and got["containerDefinitions"][0]["name"] == "app"
    ecs.deregister_task_definition(taskDefinition="fam:1")
    arns = ecs.list_task_definitions(familyPrefix="fam", sort="DESC")["taskDefinitionArns"]
    assert arns == [td2["taskDefinitionArn"]]
    assert len(ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"]) == 1
    assert "fam" in ecs.list_task_definition_families()["families"]
    ecs.tag_resource(resourceArn=c["clusterArn"], tags=[{"key": "team", "value": "web"}])
    assert ecs.list_tags_for_resource(resourceArn=c["clusterArn"])["tags"] == [{"key": "team", "value": "web"}]


def test_run_task_logs_port_stop(fb):
    ecs = fb.client("ecs")
    td = register(fb, image(fb))
    t0 = time.time()
    t = ecs.run_task(cluster="main", taskDefinition="web", launchType="FARGATE")["tasks"][0]
    arn = t["taskArn"]
    wait(lambda: describe(fb, [arn])[0]["lastStatus"] == "RUNNING")
    print("  RunTask -> RUNNING: %.0f ms (first run includes the unpack)" % ((time.time() - t0) * 1000))
    ip = task_ip(describe(fb, [arn])[0])
    assert ip.startswith("127.") and ip != "127.0.0.1"
    body = wait(lambda: http_get(ip))
    assert body.startswith(b"HTTP/1.") , body
    tid = arn.rsplit("/", 1)[1]
    out = wait(lambda: (lambda s: "second line" in s and s)(
        fb.aws("logs", "tail", "/ecs/web", "--since", "10m", raw=True)), timeout=15, step=0.3)
    assert "hello from fogbank pw=s3cr3t" in out and ("ecs/app/" + tid) in out, out
    fb.aws("ecs", "stop-task", "--cluster", "main", "--task", arn, "--reason", "test over")
    t = wait(lambda: (lambda x: x["lastStatus"] == "STOPPED" and x)(describe(fb, [arn])[0]), timeout=10)
    assert t["stopCode"] == "UserInitiated" and t["stoppedReason"] == "test over"
    assert t["containers"][0]["exitCode"] in (143, 137, 0, 1), t["containers"]
    # second run: rootfs cached
    t0 = time.time()
    arn2 = ecs.run_task(cluster="main", taskDefinition=td["taskDefinitionArn"])["tasks"][0]["taskArn"]
    wait(lambda: describe(fb, [arn2])[0]["lastStatus"] == "RUNNING")
    print("  RunTask -> RUNNING (cached image): %.0f ms" % ((time.time() - t0) * 1000))
    ecs.stop_task(cluster="main", task=arn2)


def test_essential_exit_and_missing_image(fb):
    ecs = fb.client("ecs")
    register(fb, image(fb), family="oneshot", command=["/bin/sh", "-c", "echo bye; exit 3"])
    arn = ecs.run_task(cluster="main", taskDefinition="oneshot")["tasks"][0]["taskArn"]
    t = wait(lambda: (lambda x: x["lastStatus"] == "STOPPED" and x)(describe(fb, [arn])[0]))
    assert t["stopCode"] == "EssentialContainerExited", t
    assert t["containers"][0]["exitCode"] == 3
    register(fb, "127.0.0.1:%d/web:missing" % fb.port, family="broken")
    arn = ecs.run_task(cluster="main", taskDefinition="broken")["tasks"][0]["taskArn"]
    t = wait(lambda: (lambda x: x["lastStatus"] == "STOPPED" and x)(describe(fb, [arn])[0]))
    assert t["stopCode"] == "TaskFailedToStart"
    assert t["stoppedReason"].startswith("CannotPullContainerError:"), t["stoppedReason"]


def running_of(fb, svc):
    s = fb.client("ecs").describe_services(cluster="main", services=[svc])["services"][0]
    arns = fb.client("ecs").list_tasks(cluster="main", serviceName=svc)["taskArns"]
    tasks = describe(fb, arns) if arns else []
    return s, [t for t in tasks if t["lastStatus"] == "RUNNING"]


def stable(fb, svc):
    """Polls like `aws ecs wait services-stable` (whose 15 s delay is too slow to poll with)."""
    def ok():
        s = fb.client("ecs").describe_services(cluster="main", services=[svc])["services"][0]
        return len(s["deployments"]) == 1 and s["runningCount"] == s["desiredCount"]
    wait(ok, timeout=30, step=0.2)


def test_service_deploy_and_restart(fb):
    ecs = fb.client("ecs")
    ecs.create_service(cluster="main", serviceName="websvc", taskDefinition="web", desiredCount=2,
                       launchType="FARGATE",
                       deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 200})
    stable(fb, "websvc")
    # the CLI's own waiter agrees (its first check passes at once)
    fb.aws("ecs", "wait", "services-stable", "--cluster", "main", "--services", "websvc")
    s, run = running_of(fb, "websvc")
    assert s["runningCount"] == 2 and len(run) == 2
    ips = [task_ip(t) for t in run]
    assert ips[0] != ips[1] and all(wait(lambda ip=ip: http_get(ip)) for ip in ips)
    old = {t["taskArn"] for t in run}
    # the new deployment exists when UpdateService answers, so "one
    # deployment" below can only be the new one, done
    ecs.update_service(cluster="main", service="websvc", forceNewDeployment=True)
    stable(fb, "websvc")
    s, run = running_of(fb, "websvc")
    assert len(run) == 2 and not old & {t["taskArn"] for t in run}
    stopped = describe(fb, list(old))
    assert all(t["lastStatus"] == "STOPPED" and t["stopCode"] == "ServiceSchedulerInitiated"
               for t in stopped), stopped
    assert s["deployments"][0]["rolloutState"] == "COMPLETED" and len(s["deployments"]) == 1
    fb.restart(kill=True)
    before = describe(fb, [t["taskArn"] for t in run])
    assert all(t["lastStatus"] == "STOPPED" for t in before)
    stable(fb, "websvc")
    s, run = running_of(fb, "websvc")
    assert len(run) == 2
    ecs = fb.client("ecs")  # new port after the restart
    ecs.delete_service(cluster="main", service="websvc", force=True)
    wait(lambda: not fb.client("ecs").list_tasks(cluster="main", serviceName="websvc")["taskArns"])


if __name__ == "__main__":
    lib.main(globals())
