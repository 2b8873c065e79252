#!/usr/bin/python3
"""test_ecs_terraform.py - Terraform's AWS provider (the 5.x in
/opt/tf-plugins mirror this image has; skipped without it) creates
aws_cloudwatch_log_group, aws_ecs_cluster, aws_ecs_task_definition and
aws_ecs_service (two tasks of an image pushed to fogbank's ECR with
skopeo, waiting for steady state) against fogbank; the tasks really run,
a second plan shows no drift, and destroy removes everything (the
service's tasks stop).
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import test_ecs as base  # noqa: E402  (image push)
from lib import expect_error  # noqa: E402

os.environ["FOGBANK_ECS_HEALTH_SECOND_MS"] = "100"  # health checks every 0.5 s
MAIN_TF = """
terraform {
  required_providers { aws = { source = "hashicorp/aws" } }
}
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    ecs  = "%(endpoint)s"
    logs = "%(endpoint)s"
    iam  = "%(endpoint)s"
    sts  = "%(endpoint)s"
  }
}
resource "aws_cloudwatch_log_group" "web" {
  name              = "/ecs/tfweb"
  retention_in_days = 7
}
resource "aws_ecs_cluster" "main" {
  name = "tf-main"
  setting {
    name  = "containerInsights"
    value = "disabled"
  }
  tags = { team = "web" }
}
resource "aws_ecs_task_definition" "web" {
  family                   = "tfweb"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name         = "web"
    image        = "%(image)s"
    essential    = true
    command      = ["/bin/sh", "-c", "echo up; exec /bin/busybox httpd -f -p $FOGBANK_TASK_IP:8080 -h /etc"]
    stopTimeout  = 2
    portMappings = [{ containerPort = 8080, protocol = "tcp" }]
    environment  = [{ name = "MODE", value = "tf" }]
    healthCheck  = { command = ["CMD-SHELL", "exit 0"], interval = 5, timeout = 2, retries = 2 }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.web.name
        "awslogs-region"        = "us-east-1"
        "awslogs-stream-prefix" = "ecs"
      }
    }
  }])
  tags = { team = "web" }
}
resource "aws_ecs_service" "web" {
  name                               = "tfweb"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.web.arn
  desired_count                      = 2
  launch_type                        = "FARGATE"
  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 200
  wait_for_steady_state              = true
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets          = ["subnet-12345678"]
    security_groups  = ["sg-12345678"]
    assign_public_ip = false
  }
  tags = { team = "web" }
}
output "service" { value = aws_ecs_service.web.id }
"""


def tf(work, *args):
    t0 = time.time()
    try:
        return _tf(work, *args)
    finally:
        print("  terraform %s: %.1f s" % (args[0], time.time() - t0), flush=True)



def _tf(work, *args):
    return lib.terraform(work, *args, timeout=600)


def drift_lines(plan):
    """The attribute lines a plan wants to change ("+ name = value" ...)."""
    return [" ".join(l.split()) for l in plan.splitlines()
            if l.strip()[:2] in ("+ ", "- ", "~ ") and " = " in l
            and not l.strip().startswith(("~ resource", "+ resource", "- resource"))]


def test_terraform_ecs_service(fb):
    if not shutil.which("terraform") or not os.path.isdir(lib.TF_PLUGINS):
        raise lib.Skip("terraform or its offline AWS provider is not installed")
    image = base.image(fb)
    work = lib.terraform_workspace("fogbank-tf-ecs-", MAIN_TF % {"endpoint": fb.endpoint, "image": image})
    try:
        p = tf(work, "init", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        p = tf(work, "apply", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        ecs = fb.client("ecs")
        s = ecs.describe_services(cluster="tf-main", services=["tfweb"])["services"][0]
        assert s["status"] == "ACTIVE" and s["runningCount"] == 2, s
        arns = ecs.list_tasks(cluster="tf-main", serviceName="tfweb")["taskArns"]
        tasks = ecs.describe_tasks(cluster="tf-main", tasks=arns)["tasks"]
        assert len(tasks) == 2 and all(t["lastStatus"] == "RUNNING" for t in tasks), tasks
        ips = [t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in tasks]
        assert all(base.wait(lambda ip=ip: base.http_get(ip)) for ip in ips)
        p = tf(work, "plan", "-detailed-exitcode", "-input=false")
        # availabilityZoneRebalancing (2024) is newer than the botocore
        # model fogbank's tables come from, so it cannot be answered until
        # the model gains it: the only drift tolerated, and then reported
        # as a skip rather than a pass
        az_only = (p.returncode == 2 and "availabilityZoneRebalancing" not in s
                   and drift_lines(p.stdout) == ['+ availability_zone_rebalancing = "DISABLED"'])
        assert p.returncode == 0 or az_only, "drift on the second plan:\n" + p.stdout + p.stderr
        p = tf(work, "destroy", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        c = ecs.describe_clusters(clusters=["tf-main"])["clusters"]
        assert [x["status"] for x in c] == ["INACTIVE"], c
        # the service's processes are gone with it
        assert all(base.http_get(ip) is None for ip in ips)
        expect_error("ClientException", ecs.describe_task_definition, taskDefinition="tfweb")
        assert fb.client("logs").describe_log_groups(
            logGroupNamePrefix="/ecs/tfweb")["logGroups"] == []
        if az_only:
            raise lib.Skip("all checked, but the second plan shows availability_zone_rebalancing:"
                           " the ECS model lacks the member (see the report)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    lib.main(globals())
