#!/usr/bin/python3
"""test_ecr_terraform.py - Terraform's AWS provider (the 5.x in
/opt/tf-plugins mirror this image has; skipped without it) creates
aws_ecr_repository (with KMS encryption, scan on push, immutable tags,
tags), aws_ecr_lifecycle_policy (the seed's policy) and
aws_ecr_repository_policy against fogbank, a second plan shows no drift,
and destroy removes them.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
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
    ecr = "%(endpoint)s"
    sts = "%(endpoint)s"
  }
}
resource "aws_ecr_repository" "api" {
  name                 = "plccoach/api"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = true
  image_scanning_configuration { scan_on_push = true }
  encryption_configuration { encryption_type = "KMS" }
  tags = { team = "api" }
}
resource "aws_ecr_lifecycle_policy" "api" {
  repository = aws_ecr_repository.api.name
  policy = jsonencode({ rules = [
    { rulePriority = 1, description = "Keep last 10 tagged images",
      selection = { tagStatus = "tagged", tagPrefixList = ["v"],
                    countType = "imageCountMoreThan", countNumber = 10 },
      action = { type = "expire" } },
    { rulePriority = 2, description = "Expire untagged images after 7 days",
      selection = { tagStatus = "untagged", countType = "sinceImagePushed",
                    countUnit = "days", countNumber = 7 },
      action = { type = "expire" } } ] })
}
resource "aws_ecr_repository_policy" "api" {
  repository = aws_ecr_repository.api.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "pull",
    Effect = "Allow", Principal = { AWS = "arn:aws:iam::000000000000:root" },
    Action = ["ecr:BatchGetImage"] }] })
}
output "url" { value = aws_ecr_repository.api.repository_url }
"""



def tf(work, *args):
    return lib.terraform(work, *args, timeout=300)


def test_terraform_ecr_no_drift(fb):
    work = lib.terraform_workspace("fogbank-tf-ecr-", MAIN_TF % {"endpoint": fb.endpoint})
    try:
        p = tf(work, "init", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        p = tf(work, "apply", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        c = fb.client("ecr")
        r = c.describe_repositories(repositoryNames=["plccoach/api"])["repositories"][0]
        assert r["imageTagMutability"] == "IMMUTABLE" and r["encryptionConfiguration"]["encryptionType"] == "KMS"
        assert "url = \"127.0.0.1:%d/plccoach/api\"" % fb.port in p.stdout
        pol = json.loads(c.get_lifecycle_policy(repositoryName="plccoach/api")["lifecyclePolicyText"])
        assert [x["rulePriority"] for x in pol["rules"]] == [1, 2]
        p = tf(work, "plan", "-detailed-exitcode", "-input=false")
        assert p.returncode == 0, "drift on the second plan:\n" + p.stdout + p.stderr
        p = tf(work, "destroy", "-auto-approve", "-input=false")
        assert p.returncode == 0, p.stdout + p.stderr
        expect_error("RepositoryNotFoundException", c.describe_repositories,
                     repositoryNames=["plccoach/api"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    lib.main(globals())
