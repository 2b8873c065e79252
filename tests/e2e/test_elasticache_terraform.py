#!/usr/bin/python3
"""test_elasticache_terraform.py - Terraform's AWS provider (the 5.x in
/opt/tf-plugins mirror this image has; skipped without it) creates an
aws_elasticache_replication_group (a primary and a replica, automatic
failover, AUTH + TLS, snapshots kept for a day) with its
aws_elasticache_parameter_group and aws_elasticache_subnet_group against
fogbank; a second plan shows no drift, redis-cli talks to the primary
endpoint Terraform outputs, and destroy removes everything.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402

TOKEN = "tf-auth-token-0123456789abcdef"
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
    elasticache = "%(endpoint)s"
    sts         = "%(endpoint)s"
  }
}
resource "aws_elasticache_subnet_group" "cache" {
  name        = "plccoach-cache"
  description = "private subnets"
  subnet_ids  = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
}
resource "aws_elasticache_parameter_group" "redis7" {
  name   = "plccoach-redis7"
  family = "redis7"
  parameter {
    name  = "maxmemory-policy"
    value = "allkeys-lru"
  }
}
resource "aws_elasticache_replication_group" "sessions" {
  replication_group_id       = "plccoach-sessions"
  description                = "sessions"
  engine                     = "redis"
  engine_version             = "7.0"
  node_type                  = "cache.t4g.micro"
  num_cache_clusters         = 2
  port                       = 6379
  parameter_group_name       = aws_elasticache_parameter_group.redis7.name
  subnet_group_name          = aws_elasticache_subnet_group.cache.name
  automatic_failover_enabled = true
  multi_az_enabled           = true
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = "%(token)s"
  snapshot_retention_limit   = 1
  snapshot_window            = "03:00-04:00"
  maintenance_window         = "sun:05:00-sun:06:00"
  apply_immediately          = true
  tags = { team = "api" }
}
output "primary" { value = aws_elasticache_replication_group.sessions.primary_endpoint_address }
output "reader" { value = aws_elasticache_replication_group.sessions.reader_endpoint_address }
"""



def tf(work, *args):
    return lib.terraform(work, *args, timeout=600)



def output(work, name):
    return lib.terraform_output(work, name)


def test_terraform_replication_group_no_drift(fb):
    work = lib.terraform_workspace("fogbank-tf-ec-", MAIN_TF % {"endpoint": fb.endpoint, "token": TOKEN})
    try:
        p = tf(work, "init", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        p = tf(work, "apply", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        c = fb.client("elasticache")
        rg = c.describe_replication_groups(
            ReplicationGroupId="plccoach-sessions")["ReplicationGroups"][0]
        assert rg["Status"] == "available" and rg["AutomaticFailover"] == "enabled"
        assert rg["MemberClusters"] == ["plccoach-sessions-001", "plccoach-sessions-002"]
        primary = output(work, "primary")
        assert primary == rg["NodeGroups"][0]["PrimaryEndpoint"]["Address"], primary
        ca = os.path.join(fb.data_dir, "ca", "ca.pem")
        cli = ["redis-cli", "--tls", "--cacert", ca, "-h", primary, "-p", "6379",
               "--no-auth-warning", "-a", TOKEN]
        ping = subprocess.run(cli + ["ping"], capture_output=True, text=True, timeout=20)
        assert ping.stdout.strip() == "PONG", ping.stdout + ping.stderr
        policy = subprocess.run(cli + ["config", "get", "maxmemory-policy"],
                                capture_output=True, text=True, timeout=20)
        assert policy.stdout.split() == ["maxmemory-policy", "allkeys-lru"], policy.stdout
        p = tf(work, "plan", "-detailed-exitcode", "-input=false")
        assert p.returncode == 0, "drift on the second plan:\n" + p.stdout + p.stderr
        p = tf(work, "destroy", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        expect_error("ReplicationGroupNotFoundFault", c.describe_replication_groups,
                     ReplicationGroupId="plccoach-sessions")
        expect_error("CacheParameterGroupNotFound", c.describe_cache_parameter_groups,
                     CacheParameterGroupName="plccoach-redis7")
        expect_error("CacheSubnetGroupNotFoundFault", c.describe_cache_subnet_groups,
                     CacheSubnetGroupName="plccoach-cache")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    lib.main(globals())
