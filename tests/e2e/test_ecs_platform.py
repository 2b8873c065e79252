#!/usr/bin/python3
"""test_ecs_platform.py - what ECS gives a task from the rest of AWS, and
the scheduler's safety nets, with real clients and real processes:

- task-role credentials: a task with taskRoleArn fetches its credentials
  from fogbank (the ECS agent's /v2/credentials/<id> format) with busybox
  wget, and a signed call made with them is the role's assumed-role
  session; Debian's botocore picks them up unchanged from
  AWS_CONTAINER_CREDENTIALS_FULL_URI; a role that cannot be assumed stops
  the task;
- StartTask on a Fargate cluster (no container instances): MISSING;
- environmentFiles from S3 with ECS's precedence;
- the deployment circuit breaker rolling a broken deployment back.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import test_ecs as base  # noqa: E402  (image push, polling)

STATE = {}
SH = "/bin/sh"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def ecs(fb):
    return fb.client("ecs")


def setup(fb):
    if "image" not in STATE:
        STATE["image"] = base.image(fb)
        ecs(fb).create_cluster(clusterName="main")


def describe(fb, arn):
    return ecs(fb).describe_tasks(cluster="main", tasks=[arn])["tasks"][0]


def until(fb, arn, pred, timeout=30):
    return base.wait(lambda: (lambda t: pred(t) and t)(describe(fb, arn)), timeout=timeout)


def logs_cfg(family):
    return {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/" + family, "awslogs-region": "us-east-1",
        "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}


def lines_of(fb, family, arn, name="app"):
    try:
        ev = fb.client("logs").get_log_events(
            logGroupName="/ecs/" + family, startFromHead=True,
            logStreamName="ecs/%s/%s" % (name, arn.rsplit("/", 1)[1]))["events"]
    except Exception:  # the stream appears with the first flush
        return []
    return [e["message"] for e in ev]


def register(fb, family, command, **extra):
    c = {"name": "app", "image": STATE["image"], "command": [SH, "-c", command],
         "stopTimeout": 1, "logConfiguration": logs_cfg(family)}
    c.update(extra.pop("container", {}))
    return ecs(fb).register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=[c], **extra)["taskDefinition"]


def run(fb, family, **kw):
    return ecs(fb).run_task(cluster="main", taskDefinition=family, launchType="FARGATE",
                            **kw)["tasks"][0]["taskArn"]


def test_task_role_credentials(fb):
    setup(fb)
    role = fb.client("iam").create_role(RoleName="app-task",
                                        AssumeRolePolicyDocument=TRUST)["Role"]
    register(fb, "withrole",
             "echo uri=$AWS_CONTAINER_CREDENTIALS_FULL_URI; "
             "echo rel=$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI; "
             "echo creds=$(wget -qO- $AWS_CONTAINER_CREDENTIALS_FULL_URI); exec sleep 600",
             taskRoleArn=role["Arn"])
    arn = run(fb, "withrole")
    tid = arn.rsplit("/", 1)[1]
    out = base.wait(lambda: (lambda l: len(l) >= 3 and l)(lines_of(fb, "withrole", arn)))
    uri = out[0][len("uri="):]
    assert uri.startswith(fb.endpoint + "/v2/credentials/"), out
    assert out[1] == "rel=", out  # see README: SDKs would try 169.254.170.2 first
    doc = json.loads(out[2][len("creds="):])
    assert set(doc) == {"RoleArn", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}, doc
    assert doc["RoleArn"] == role["Arn"] and doc["AccessKeyId"].startswith("ASIA")
    assert doc["Expiration"].endswith("Z")
    me = fb.client("sts", access_key=doc["AccessKeyId"], secret=doc["SecretAccessKey"],
                   token=doc["Token"]).get_caller_identity()
    assert me["Arn"] == "arn:aws:sts::000000000000:assumed-role/app-task/" + tid, me
    # Debian's botocore resolves the container provider from the same
    # variable, unchanged, as an SDK inside the task would
    code = ("import boto3; print(boto3.client('sts', endpoint_url=%r, region_name='us-east-1')"
            ".get_caller_identity()['Arn'])" % fb.endpoint)
    p = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                       timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
                                        "AWS_CONFIG_FILE": "/dev/null",
                                        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": uri})
    assert p.returncode == 0 and p.stdout.strip().endswith("assumed-role/app-task/" + tid), \
        p.stdout + p.stderr
    ecs(fb).stop_task(cluster="main", task=arn)
    until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    # the agent's answer once the task is gone
    st, _, body = fb.http("GET", uri[len(fb.endpoint):])
    assert st == 400 and json.loads(body)["code"] == "InvalidIdInRequest", body
    # a task without a role gets no credentials endpoint at all
    register(fb, "norole", "echo uri=$AWS_CONTAINER_CREDENTIALS_FULL_URI; exec sleep 600")
    arn = run(fb, "norole")
    assert base.wait(lambda: lines_of(fb, "norole", arn)) == ["uri="]
    ecs(fb).stop_task(cluster="main", task=arn)
    # a role that does not exist cannot be assumed: the task never starts
    register(fb, "badrole", "exec sleep 600",
             taskRoleArn="arn:aws:iam::000000000000:role/does-not-exist")
    arn = run(fb, "badrole")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert t["stopCode"] == "TaskFailedToStart", t
    assert t["stoppedReason"].startswith("ECS was unable to assume the role"), t


def test_start_task_without_container_instances(fb):
    setup(fb)
    register(fb, "st", "exec sleep 600")
    r = ecs(fb).start_task(cluster="main", taskDefinition="st",
                           containerInstances=["0123456789abcdef0123456789abcdef"])
    assert r["tasks"] == [], r
    assert r["failures"] == [{
        "arn": "arn:aws:ecs:us-east-1:000000000000:container-instance/main/"
               "0123456789abcdef0123456789abcdef", "reason": "MISSING"}], r["failures"]
    lib.expect_error("ClusterNotFoundException", ecs(fb).start_task, cluster="nope",
                     taskDefinition="st", containerInstances=["x"])
    lib.expect_error("ClientException", ecs(fb).start_task, cluster="main",
                     taskDefinition="nope", containerInstances=["x"])
    assert ecs(fb).list_tasks(cluster="main", family="st")["taskArns"] == []


def test_environment_files(fb):
    setup(fb)
    s3 = fb.client("s3")
    s3.create_bucket(Bucket="cfg")
    s3.put_object(Bucket="cfg", Key="app.env",
                  Body=b"# shared settings\nMODE=file\nGREETING=hello world\nDUP=first\n"
                       b"URL=http://x/?a=b\nEMPTY=\n")
    s3.put_object(Bucket="cfg", Key="more.env", Body=b"DUP=second\nONLY2=yes\r\n")
    register(fb, "envf", "echo MODE=$MODE; echo GREETING=$GREETING; echo DUP=$DUP; "
                         "echo URL=$URL; echo ONLY2=$ONLY2; echo EMPTY=${EMPTY-unset}; exit 0",
             container={"environment": [{"name": "MODE", "value": "environment"}],
                        "environmentFiles": [
                            {"value": "arn:aws:s3:::cfg/app.env", "type": "s3"},
                            {"value": "arn:aws:s3:::cfg/more.env", "type": "s3"}]})
    arn = run(fb, "envf")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    if "no internal read path" in t.get("stoppedReason", ""):
        raise lib.Skip("this build's S3 has no s3_object_read (see README, ECS)")
    assert t["containers"][0].get("exitCode") == 0, t
    out = base.wait(lambda: (lambda l: len(l) >= 6 and l)(lines_of(fb, "envf", arn)))
    # `environment` wins over files; the first file wins over later ones;
    # an empty value is skipped, as the agent does
    assert out == ["MODE=environment", "GREETING=hello world", "DUP=first",
                   "URL=http://x/?a=b", "ONLY2=yes", "EMPTY=unset"], out
    register(fb, "envmissing", "exit 0", container={"environmentFiles": [
        {"value": "arn:aws:s3:::cfg/nope.env", "type": "s3"}]})
    arn = run(fb, "envmissing")
    t = until(fb, arn, lambda t: t["lastStatus"] == "STOPPED")
    assert t["stopCode"] == "TaskFailedToStart", t
    assert t["stoppedReason"].startswith("ResourceInitializationError: failed to download env "
                                         "files") and "NoSuchKey" in t["stoppedReason"], t


def test_circuit_breaker_rolls_back(fb):
    setup(fb)
    good = register(fb, "cb", "exec sleep 600")["taskDefinitionArn"]
    ecs(fb).create_service(
        cluster="main", serviceName="cb", taskDefinition=good, desiredCount=1,
        launchType="FARGATE", deploymentConfiguration={
            "minimumHealthyPercent": 100, "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})

    def svc():
        return ecs(fb).describe_services(cluster="main", services=["cb"])["services"][0]
    base.wait(lambda: svc()["deployments"][0]["rolloutState"] == "COMPLETED")
    bad = register(fb, "cb", "echo crash; exit 1")["taskDefinitionArn"]
    ecs(fb).update_service(cluster="main", service="cb", taskDefinition=bad)
    failed = base.wait(lambda: [d for d in svc()["deployments"]
                                if d["taskDefinition"] == bad and d["rolloutState"] == "FAILED"],
                       timeout=60)[0]
    assert failed["rolloutStateReason"] == \
        "ECS deployment circuit breaker: tasks failed to start.", failed
    assert failed["failedTasks"] >= 3, failed
    # rolled back: a new primary deployment of the previous task definition
    s = base.wait(lambda: (lambda s: s["taskDefinition"] == good and len(s["deployments"]) == 1
                           and s["deployments"][0]["rolloutState"] == "COMPLETED" and s)(svc()),
                  timeout=60)
    assert s["deployments"][0]["taskDefinition"] == good and s["runningCount"] == 1
    msgs = [e["message"] for e in s["events"]]
    assert any("deployment failed: tasks failed to start" in m for m in msgs), msgs
    assert any("rolling back to deployment" in m for m in msgs), msgs
    stopped = ecs(fb).list_tasks(cluster="main", serviceName="cb",
                                 desiredStatus="STOPPED")["taskArns"]
    ts = ecs(fb).describe_tasks(cluster="main", tasks=stopped[:100])["tasks"]
    crashed = [t for t in ts if t["taskDefinitionArn"] == bad]
    assert len(crashed) >= 3 and all(t["stopCode"] == "EssentialContainerExited"
                                     and t["containers"][0]["exitCode"] == 1 for t in crashed)
    ecs(fb).delete_service(cluster="main", service="cb", force=True)


if __name__ == "__main__":
    lib.main(globals())
