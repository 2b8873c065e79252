#!/usr/bin/python3
"""test_rds_terraform.py - Terraform's AWS provider (the 5.x in
/opt/tf-plugins mirror this image has; skipped without it) creates an
aws_db_instance with an aws_db_parameter_group and an aws_db_subnet_group
against fogbank; a second plan shows no drift; the real psql connects to
the endpoint Terraform reports (and sees the parameter group's setting);
destroy removes all three.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import test_rds as base  # noqa: E402
from lib import expect_error  # noqa: E402

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
    rds = "%(endpoint)s"
    sts = "%(endpoint)s"
    kms = "%(endpoint)s"
  }
}
resource "aws_db_subnet_group" "app" {
  name       = "app-subnets"
  subnet_ids = ["subnet-0a1", "subnet-0b2"]
  tags       = { team = "core" }
}
resource "aws_db_parameter_group" "app" {
  name   = "app-pg15"
  family = "postgres15"
  parameter {
    name  = "work_mem"
    value = "8192"
  }
  parameter {
    name         = "log_min_duration_statement"
    value        = "500"
    apply_method = "immediate"
  }
}
resource "aws_db_instance" "app" {
  identifier              = "tf-app-db"
  engine                  = "postgres"
  engine_version          = "15.4"
  instance_class          = "db.t3.micro"
  allocated_storage       = 20
  db_name                 = "appdb"
  username                = "app"
  password                = "%(password)s"
  parameter_group_name    = aws_db_parameter_group.app.name
  db_subnet_group_name    = aws_db_subnet_group.app.name
  backup_retention_period = 1
  skip_final_snapshot     = true
  apply_immediately       = true
  tags                    = { team = "core" }
}
output "address" { value = aws_db_instance.app.address }
output "port" { value = aws_db_instance.app.port }
"""



def tf(work, *args):
    return lib.terraform(work, *args, timeout=600)


def timings(p):
    """Terraform's own "... complete after Ns" lines, for the log."""
    for line in p.stdout.splitlines():
        if "complete after" in line:
            print("  " + line.strip())



def output(work, name):
    return lib.terraform_output(work, name)


def test_terraform_db_instance_no_drift(fb):
    work = lib.terraform_workspace("fogbank-tf-rds-", MAIN_TF % {"endpoint": fb.endpoint, "password": base.PW})
    try:
        p = tf(work, "init", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        # the provider waits for "available" itself (polling DescribeDBInstances)
        p = tf(work, "apply", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        timings(p)
        inst = base.rds(fb).describe_db_instances(DBInstanceIdentifier="tf-app-db")["DBInstances"][0]
        assert inst["DBInstanceStatus"] == "available"
        assert inst["DBParameterGroups"][0]["DBParameterGroupName"] == "app-pg15"
        assert inst["DBSubnetGroup"]["DBSubnetGroupName"] == "app-subnets"
        p = tf(work, "plan", "-detailed-exitcode", "-input=false")
        assert p.returncode == 0, "drift on the second plan:\n" + p.stdout + p.stderr
        ep = {"Endpoint": {"Address": output(work, "address"), "Port": int(output(work, "port"))}}
        assert ep["Endpoint"]["Address"] == inst["Endpoint"]["Address"]
        assert base.psql(ep, "select current_user || '@' || current_database()") == "app@appdb"
        assert base.psql(ep, "show work_mem") == "8MB"
        p = tf(work, "destroy", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        timings(p)
        expect_error("DBInstanceNotFound", base.rds(fb).describe_db_instances,
                     DBInstanceIdentifier="tf-app-db")
        expect_error("DBParameterGroupNotFound", base.rds(fb).describe_db_parameter_groups,
                     DBParameterGroupName="app-pg15")
        expect_error("DBSubnetGroupNotFoundFault", base.rds(fb).describe_db_subnet_groups,
                     DBSubnetGroupName="app-subnets")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    lib.main(globals())
