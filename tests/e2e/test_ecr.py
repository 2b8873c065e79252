#!/usr/bin/python3
"""test_ecr.py - ECR and its registry endpoint end to end, with no Docker:
images are built by oci.py (Debian's busybox-static in one layer), pushed
and pulled with Debian's skopeo, and inspected with Debian's aws CLI v2
and boto3. A small raw registry client covers what skopeo does not show:
tampered and mislabelled blobs, chunked uploads, ranges, mounts, indexes.

Lifecycle days are shortened (FOGBANK_ECR_DAY_SECONDS) and the blob
collection grace period too (FOGBANK_REGISTRY_GC_GRACE_SECONDS), so the
sweep on the daemon's 10 s timer is observable within the test.
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import oci  # noqa: E402
from lib import expect_error  # noqa: E402

DAY_SECONDS = 0.5
os.environ["FOGBANK_ECR_DAY_SECONDS"] = str(DAY_SECONDS)
os.environ["FOGBANK_REGISTRY_GC_GRACE_SECONDS"] = "4"
TMP = tempfile.mkdtemp(prefix="fogbank-ecr-")
MT_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"


def ecr(fb):
    return fb.client("ecr")


def password(fb):
    """What `aws ecr get-login-password` prints, through boto3 (faster than
    starting the CLI; test_auth_required checks the CLI gives the same)."""
    tok = ecr(fb).get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(tok).decode().split(":", 1)[1]


def sh(fb, script):
    """Runs a shell line in which `aws` is Debian's CLI v2 pointed at this
    fogbank, so the documented commands are tested verbatim."""
    prelude = 'aws() { /usr/bin/aws --endpoint-url %s "$@"; }\nPORT=%d\n' % (fb.endpoint, fb.port)
    env = lib._cli_env("test", "test", "us-east-1", {"HOME": TMP})
    p = subprocess.run(["/bin/sh", "-c", prelude + script], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, "%s failed: %s" % (script, p.stderr)
    return p.stdout


def skopeo(*args, check=True):
    p = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "HOME": TMP})
    if check:
        assert p.returncode == 0, "skopeo %s: %s" % (" ".join(args), p.stderr)
    return p


def push(fb, layout, tag, repo, ref=None):
    """skopeo copy oci:layout:tag -> fogbank (the command the docs give)."""
    return skopeo("copy", "--dest-creds", "AWS:" + password(fb), "--dest-tls-verify=false",
                  "oci:%s:%s" % (layout, tag), "docker://127.0.0.1:%d/%s:%s" % (fb.port, repo, ref or tag))


class Reg:
    """A raw registry v2 client with the ECR token."""

    def __init__(self, fb, auth=True):
        self.fb = fb
        self.headers = {}
        if auth:
            tok = base64.b64encode(("AWS:" + password(fb)).encode()).decode()
            self.headers["Authorization"] = "Basic " + tok

    def req(self, method, path, body=b"", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.fb.port, timeout=30)
        h = dict(self.headers)
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data

    def blob(self, repo, data, digest=None):
        """Monolithic upload (POST ?digest=)."""
        digest = digest or oci.sha256(data)
        return self.req("POST", "/v2/%s/blobs/uploads/?digest=%s" % (repo, digest), data,
                        {"Content-Type": "application/octet-stream"})

    def manifest(self, repo, ref, body, mt=oci.MT_MANIFEST):
        return self.req("PUT", "/v2/%s/manifests/%s" % (repo, ref), body, {"Content-Type": mt})

    def image(self, repo, ref, extra, busybox=False):
        """Pushes a whole small image; returns its manifest digest."""
        config, layer, manifest = oci.image_blobs(extra, with_busybox=busybox)
        for b in (layer, config):
            st, _, body = self.blob(repo, b)
            assert st == 201, body
        st, h, body = self.manifest(repo, ref, manifest)
        assert st == 201, body
        return h["docker-content-digest"]


def error_code(body):
    return json.loads(body)["errors"][0]["code"]


def test_auth_required(fb):
    st, h, body = fb.http("GET", "/v2/")
    assert st == 401 and h["www-authenticate"].startswith("Basic realm="), (st, h)
    assert error_code(body) == "UNAUTHORIZED"
    assert h["docker-distribution-api-version"] == "registry/2.0"
    tok = ecr(fb).get_authorization_token()["authorizationData"][0]
    user, _, pw = base64.b64decode(tok["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and ":" not in pw
    assert pw.startswith("fbecr1.000000000000.us-east-1.")
    cli = fb.aws("ecr", "get-login-password", raw=True).strip()
    assert cli.startswith("fbecr1.000000000000.us-east-1.") and ":" not in cli
    assert tok["proxyEndpoint"] == "http://127.0.0.1:%d" % fb.port
    assert tok["expiresAt"].timestamp() > time.time() + 11 * 3600
    st, _, _ = Reg(fb).req("GET", "/v2/")
    assert st == 200
    forged = pw[:-1] + ("0" if pw[-1] != "0" else "1")
    bad = base64.b64encode(("AWS:" + forged).encode()).decode()
    st, _, body = fb.http("GET", "/v2/", headers={"Authorization": "Basic " + bad})
    assert st == 401 and error_code(body) == "UNAUTHORIZED"
    # a signed S3-style request for a bucket named v2 is not the registry's
    st, _, _ = fb.http("GET", "/v2/x", headers={"Authorization": "AWS4-HMAC-SHA256 x"})
    assert st != 401 or b"UNAUTHORIZED" not in body


def test_repository_crud(fb):
    c = ecr(fb)
    r = c.create_repository(repositoryName="crud/app", imageTagMutability="IMMUTABLE",
                            imageScanningConfiguration={"scanOnPush": True},
                            tags=[{"Key": "team", "Value": "web"}])["repository"]
    assert r["repositoryUri"] == "127.0.0.1:%d/crud/app" % fb.port
    assert r["repositoryArn"] == "arn:aws:ecr:us-east-1:000000000000:repository/crud/app"
    assert r["registryId"] == "000000000000" and r["imageTagMutability"] == "IMMUTABLE"
    assert r["imageScanningConfiguration"] == {"scanOnPush": True}
    assert r["encryptionConfiguration"] == {"encryptionType": "AES256"}
    expect_error("RepositoryAlreadyExistsException", c.create_repository, repositoryName="crud/app")
    expect_error("InvalidParameterException", c.create_repository, repositoryName="Bad_Name")
    for n in ("crud/b", "crud/c"):
        c.create_repository(repositoryName=n)
    got = fb.aws("ecr", "describe-repositories", "--repository-names", "crud/app")["repositories"]
    assert got[0]["repositoryUri"].endswith("/crud/app") and got[0]["imageTagMutability"] == "IMMUTABLE"
    expect_error("RepositoryNotFoundException", c.describe_repositories, repositoryNames=["nope"])
    page = c.describe_repositories(maxResults=2)
    assert len(page["repositories"]) == 2 and "nextToken" in page
    rest = c.describe_repositories(maxResults=2, nextToken=page["nextToken"])
    names = [x["repositoryName"] for x in page["repositories"] + rest["repositories"]]
    assert {"crud/app", "crud/b", "crud/c"} <= set(names)
    arn = r["repositoryArn"]
    c.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}])
    c.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert c.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "env", "Value": "prod"}]
    pol = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow",
                      "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                      "Action": ["ecr:BatchGetImage"]}]})
    expect_error("RepositoryPolicyNotFoundException", c.get_repository_policy, repositoryName="crud/b")
    c.set_repository_policy(repositoryName="crud/b", policyText=pol)
    assert json.loads(c.get_repository_policy(repositoryName="crud/b")["policyText"]) == json.loads(pol)
    c.delete_repository_policy(repositoryName="crud/b")
    expect_error("InvalidParameterException", c.set_repository_policy, repositoryName="crud/b",
                 policyText="{not json")
    out = c.put_image_tag_mutability(repositoryName="crud/b", imageTagMutability="IMMUTABLE")
    assert out["imageTagMutability"] == "IMMUTABLE"
    c.put_image_scanning_configuration(repositoryName="crud/b",
                                       imageScanningConfiguration={"scanOnPush": True})
    r = c.describe_repositories(repositoryNames=["crud/b"])["repositories"][0]
    assert r["imageTagMutability"] == "IMMUTABLE" and r["imageScanningConfiguration"]["scanOnPush"]
    k = c.create_repository(repositoryName="crud/kms",
                            encryptionConfiguration={"encryptionType": "KMS"})["repository"]
    assert k["encryptionConfiguration"]["kmsKey"].startswith("arn:aws:kms:us-east-1:000000000000:key/")
    assert c.delete_repository(repositoryName="crud/c")["repository"]["repositoryName"] == "crud/c"
    expect_error("RepositoryNotFoundException", c.delete_repository, repositoryName="crud/c")
    # other accounts do not see it
    other = fb.client("ecr", access_key="111111111111")
    expect_error("RepositoryNotFoundException", other.describe_repositories, repositoryNames=["crud/b"])


def test_skopeo_push_pull(fb):
    c = ecr(fb)
    uri = c.create_repository(repositoryName="app/web")["repository"]["repositoryUri"]
    layout = os.path.join(TMP, "busybox")
    info = oci.build_layout(layout, "latest")
    # exactly what a user types (docs/README): the token from the CLI
    sh(fb, "skopeo copy --dest-creds AWS:$(aws ecr get-login-password) --dest-tls-verify=false "
           "oci:%s:latest docker://127.0.0.1:$PORT/app/web:v1" % layout)
    d = fb.aws("ecr", "describe-images", "--repository-name", "app/web")["imageDetails"]
    assert len(d) == 1, d
    d = d[0]
    assert d["imageDigest"] == info["manifest"] and d["imageTags"] == ["v1"]
    assert d["imageSizeInBytes"] == info["size"]
    assert d["imageManifestMediaType"] == oci.MT_MANIFEST
    pushed = c.describe_images(repositoryName="app/web")["imageDetails"][0]["imagePushedAt"]
    assert abs(pushed.timestamp() - time.time()) < 60
    ids = c.list_images(repositoryName="app/web")["imageIds"]
    assert ids == [{"imageDigest": info["manifest"], "imageTag": "v1"}]
    # pull it back by the repositoryUri and compare what arrived
    out = os.path.join(TMP, "pulled")
    skopeo("copy", "--src-creds", "AWS:" + password(fb), "--src-tls-verify=false",
           "docker://%s:v1" % uri, "oci:%s:v1" % out)
    with open(os.path.join(out, "index.json")) as f:
        mdig = json.load(f)["manifests"][0]["digest"]
    assert mdig == info["manifest"]
    with open(os.path.join(out, "blobs", "sha256", mdig[7:]), "rb") as f:
        m = json.load(f)
    assert [l["digest"] for l in m["layers"]] == info["layers"]
    for dg in info["layers"] + [info["config"]]:
        with open(os.path.join(out, "blobs", "sha256", dg[7:]), "rb") as f:
            assert oci.sha256(f.read()) == dg
    insp = json.loads(skopeo("inspect", "--creds", "AWS:" + password(fb), "--tls-verify=false",
                             "docker://%s:v1" % uri).stdout)
    assert insp["Digest"] == info["manifest"] and insp["Layers"] == info["layers"]
    got = c.batch_get_image(repositoryName="app/web", imageIds=[{"imageTag": "v1"}, {"imageTag": "zz"}])
    with open(os.path.join(layout, "blobs", "sha256", info["manifest"][7:]), "rb") as f:
        assert got["images"][0]["imageManifest"] == f.read().decode()
    assert got["failures"][0]["failureCode"] == "ImageNotFound"
    # a pull records the pull time
    d = c.describe_images(repositoryName="app/web")["imageDetails"][0]
    assert "lastRecordedPullTime" in d
    # the blob store is content-addressed on disk
    lay = info["layers"][0][7:]
    assert os.path.exists(os.path.join(fb.data_dir, "registry", "blobs", "sha256", lay[:2], lay))


def test_tampered_and_wrong_digest(fb):
    ecr(fb).create_repository(repositoryName="tamper")
    reg = Reg(fb)
    good = b"layer bytes " * 1000
    bad = bytearray(good)
    bad[5] ^= 1
    # monolithic upload whose bytes do not hash to the digest claimed
    st, _, body = reg.blob("tamper", bytes(bad), digest=oci.sha256(good))
    assert st == 400 and error_code(body) == "DIGEST_INVALID", (st, body)
    st, _, _ = reg.req("HEAD", "/v2/tamper/blobs/" + oci.sha256(good))
    assert st == 404
    # chunked upload finished with a wrong digest
    st, h, _ = reg.req("POST", "/v2/tamper/blobs/uploads/")
    assert st == 202 and h["location"].startswith("/v2/tamper/blobs/uploads/")
    loc = h["location"]
    st, h, _ = reg.req("PATCH", loc, good)
    assert st == 202 and h["range"] == "0-%d" % (len(good) - 1)
    st, _, body = reg.req("PUT", loc + "?digest=" + oci.sha256(b"something else"))
    assert st == 400 and error_code(body) == "DIGEST_INVALID"
    st, _, body = reg.req("GET", loc)
    assert st == 404 and error_code(body) == "BLOB_UPLOAD_UNKNOWN"
    # malformed digests
    st, _, body = reg.req("POST", "/v2/tamper/blobs/uploads/?digest=md5:abc", b"x")
    assert st == 400 and error_code(body) == "DIGEST_INVALID"
    # a manifest whose digest reference does not match its bytes
    st, _, body = reg.blob("tamper", good)
    assert st == 201
    m = json.dumps({"schemaVersion": 2, "mediaType": oci.MT_MANIFEST,
                    "config": {"mediaType": oci.MT_CONFIG, "digest": oci.sha256(good), "size": len(good)},
                    "layers": []}).encode()
    st, _, body = reg.manifest("tamper", oci.sha256(m + b" "), m)
    assert st == 400 and error_code(body) == "DIGEST_INVALID"
    st, h, _ = reg.manifest("tamper", oci.sha256(m), m)
    assert st == 201 and h["docker-content-digest"] == oci.sha256(m)


def test_manifest_blob_unknown(fb):
    ecr(fb).create_repository(repositoryName="unknown")
    reg = Reg(fb)
    config, layer, manifest = oci.image_blobs("unknown-blob")
    st, _, _ = reg.blob("unknown", config)
    assert st == 201
    st, _, body = reg.manifest("unknown", "v1", manifest)
    assert st == 400 and error_code(body) == "MANIFEST_BLOB_UNKNOWN", body
    expect_error("LayersNotFoundException", ecr(fb).put_image, repositoryName="unknown",
                 imageManifest=manifest.decode(), imageTag="v1")
    st, _, body = reg.manifest("unknown", "v1", b"{not json", oci.MT_MANIFEST)
    assert st == 400 and error_code(body) == "MANIFEST_INVALID"
    st, _, body = reg.req("GET", "/v2/unknown/manifests/v1")
    assert st == 404 and error_code(body) == "MANIFEST_UNKNOWN"
    st, _, body = reg.req("GET", "/v2/no-such-repo/manifests/v1")
    assert st == 404 and error_code(body) == "NAME_UNKNOWN"


def test_chunked_range_mount(fb):
    ecr(fb).create_repository(repositoryName="chunks")
    ecr(fb).create_repository(repositoryName="chunks-copy")
    reg = Reg(fb)
    data = os.urandom(300000)
    st, h, _ = reg.req("POST", "/v2/chunks/blobs/uploads/")
    loc, uuid = h["location"], h["docker-upload-uuid"]
    assert loc.endswith(uuid) and h["range"] == "0-0"
    st, h, _ = reg.req("PATCH", loc, data[:100000], {"Content-Range": "0-99999"})
    assert st == 202 and h["range"] == "0-99999"
    st, h, body = reg.req("PATCH", loc, data[200000:], {"Content-Range": "200000-299999"})
    assert st == 416, (st, body)
    st, h, _ = reg.req("GET", loc)
    assert st == 204 and h["range"] == "0-99999"
    st, h, _ = reg.req("PATCH", loc, data[100000:250000], {"Content-Range": "100000-249999"})
    assert st == 202 and h["range"] == "0-249999"
    digest = oci.sha256(data)
    st, h, _ = reg.req("PUT", loc + "?digest=" + digest, data[250000:])
    assert st == 201 and h["docker-content-digest"] == digest
    assert h["location"] == "/v2/chunks/blobs/" + digest
    st, h, body = reg.req("GET", "/v2/chunks/blobs/" + digest)
    assert st == 200 and body == data and h["docker-content-digest"] == digest
    st, h, body = reg.req("GET", "/v2/chunks/blobs/" + digest, headers={"Range": "bytes=10-19"})
    assert st == 206 and body == data[10:20] and h["content-range"] == "bytes 10-19/300000"
    st, h, body = reg.req("HEAD", "/v2/chunks/blobs/" + digest)
    assert st == 200 and int(h["content-length"]) == len(data) and body == b""
    st, h, _ = reg.req("GET", "/v2/chunks/blobs/" + digest, headers={"Range": "bytes=400000-"})
    assert st == 416
    # not in the other repository until mounted from this one
    st, _, _ = reg.req("HEAD", "/v2/chunks-copy/blobs/" + digest)
    assert st == 404
    st, h, _ = reg.req("POST", "/v2/chunks-copy/blobs/uploads/?mount=%s&from=chunks" % digest)
    assert st == 201 and h["docker-content-digest"] == digest
    st, _, body = reg.req("GET", "/v2/chunks-copy/blobs/" + digest)
    assert st == 200 and body == data
    # a mount from where the blob is not falls back to an upload
    st, h, _ = reg.req("POST", "/v2/chunks/blobs/uploads/?mount=%s&from=nowhere" % oci.sha256(b"x"))
    assert st == 202 and "docker-upload-uuid" in h
    st, _, _ = reg.req("DELETE", h["location"])
    assert st == 204
    avail = ecr(fb).batch_check_layer_availability(repositoryName="chunks-copy",
                                                   layerDigests=[digest, oci.sha256(b"nope")])
    assert [l["layerAvailability"] for l in avail["layers"]] == ["AVAILABLE", "UNAVAILABLE"]


def test_large_blobs(fb):
    """Bodies over 1 MiB arrive spooled to disk: a monolithic upload becomes
    the blob by rename, chunks are copied from the spool."""
    ecr(fb).create_repository(repositoryName="large")
    reg = Reg(fb)
    data = os.urandom(3 << 20)
    digest = oci.sha256(data)
    st, h, body = reg.blob("large", data[:-1] + b"!", digest=digest)
    assert st == 400 and error_code(body) == "DIGEST_INVALID"
    st, h, _ = reg.blob("large", data)
    assert st == 201 and h["docker-content-digest"] == digest
    st, h, body = reg.req("GET", "/v2/large/blobs/" + digest)
    assert st == 200 and body == data
    st, h, body = reg.req("GET", "/v2/large/blobs/" + digest, headers={"Range": "bytes=3145000-"})
    assert st == 206 and body == data[3145000:]
    other = os.urandom(5 << 20)
    st, h, _ = reg.req("POST", "/v2/large/blobs/uploads/")
    st, h, _ = reg.req("PATCH", h["location"], other[:(2 << 20) + 7])
    assert st == 202 and h["range"] == "0-%d" % ((2 << 20) + 6)
    st, h, _ = reg.req("PATCH", h["location"], other[(2 << 20) + 7:(4 << 20)])
    st, h, _ = reg.req("PUT", h["location"] + "?digest=" + oci.sha256(other), other[4 << 20:])
    assert st == 201, h
    st, h, body = reg.req("GET", "/v2/large/blobs/" + oci.sha256(other))
    assert st == 200 and body == other
    # the spool files went: none is left in the data dir's tmp
    time.sleep(0.2)
    assert not [f for f in os.listdir(os.path.join(fb.data_dir, "tmp")) if f.startswith("spool")]


def test_immutable_tags(fb):
    c = ecr(fb)
    c.create_repository(repositoryName="frozen", imageTagMutability="IMMUTABLE")
    a = os.path.join(TMP, "img-a")
    b = os.path.join(TMP, "img-b")
    oci.build_layout(a, "latest", extra="a")
    info_b = oci.build_layout(b, "latest", extra="b")
    push(fb, a, "latest", "frozen", "v1")
    push(fb, a, "latest", "frozen", "v1")  # the same image again is fine
    p = skopeo("copy", "--dest-creds", "AWS:" + password(fb), "--dest-tls-verify=false",
        "oci:%s:latest" % b, "docker://127.0.0.1:%d/frozen:v1" % fb.port, check=False)
    assert p.returncode != 0 and "tag invalid" in p.stderr and "immutable" in p.stderr, p.stderr
    with open(os.path.join(b, "blobs", "sha256", info_b["manifest"][7:])) as f:
        mb = f.read()
    expect_error("ImageTagAlreadyExistsException", c.put_image, repositoryName="frozen",
                 imageManifest=mb, imageTag="v1")
    # the layers of b did arrive: PutImage under a new tag works
    out = c.put_image(repositoryName="frozen", imageManifest=mb, imageTag="v2")["image"]
    assert out["imageId"] == {"imageDigest": info_b["manifest"], "imageTag": "v2"}
    expect_error("ImageAlreadyExistsException", c.put_image, repositoryName="frozen",
                 imageManifest=mb, imageTag="v2")
    expect_error("ImageDigestDoesNotMatchException", c.put_image, repositoryName="frozen",
                 imageManifest=mb, imageTag="v3", imageDigest=oci.sha256(b"x"))
    c.put_image_tag_mutability(repositoryName="frozen", imageTagMutability="MUTABLE")
    push(fb, b, "latest", "frozen", "v1")
    tags = {i["imageTag"]: i["imageDigest"] for i in c.list_images(repositoryName="frozen")["imageIds"]
            if "imageTag" in i}
    assert tags["v1"] == info_b["manifest"]
    # image a lost its only tag: it stays, untagged
    un = c.list_images(repositoryName="frozen", filter={"tagStatus": "UNTAGGED"})["imageIds"]
    assert len(un) == 1 and "imageTag" not in un[0]


def test_index_and_docker_schema2(fb):
    c = ecr(fb)
    c.create_repository(repositoryName="multi")
    reg = Reg(fb)
    d1 = reg.image("multi", oci.sha256(oci.image_blobs("arch1", False)[2]), "arch1")
    d2 = reg.image("multi", oci.sha256(oci.image_blobs("arch2", False)[2]), "arch2")
    def desc(dg, arch):
        m = oci.image_blobs(arch, False)[2]
        return {"mediaType": oci.MT_MANIFEST, "digest": dg, "size": len(m),
                "platform": {"architecture": arch, "os": "linux"}}
    idx = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX,
                      "manifests": [desc(d1, "arch1"), desc(d2, "arch2")]}).encode()
    st, h, body = reg.manifest("multi", "latest", idx, MT_INDEX)
    assert st == 201, body
    st, h, body = reg.req("GET", "/v2/multi/manifests/latest", headers={"Accept": MT_INDEX})
    assert st == 200 and body == idx and h["content-type"] == MT_INDEX
    st, h, body = reg.req("HEAD", "/v2/multi/manifests/" + oci.sha256(idx))
    assert st == 200 and int(h["content-length"]) == len(idx)
    bad = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX,
                      "manifests": [desc(oci.sha256(b"missing"), "x")]}).encode()
    st, _, body = reg.manifest("multi", "broken", bad, MT_INDEX)
    assert st == 400 and error_code(body) == "MANIFEST_BLOB_UNKNOWN"
    r = c.batch_delete_image(repositoryName="multi", imageIds=[{"imageDigest": d1}])
    assert r["failures"][0]["failureCode"] == "ImageReferencedByManifestList"
    det = c.describe_images(repositoryName="multi", imageIds=[{"imageTag": "latest"}])["imageDetails"][0]
    assert det["imageManifestMediaType"] == MT_INDEX
    # Docker schema 2 with its own media types
    config, layer, _ = oci.image_blobs("docker", False)
    m = json.dumps({"schemaVersion": 2, "mediaType": MT_DOCKER,
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                               "digest": oci.sha256(config), "size": len(config)},
                    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                "digest": oci.sha256(layer), "size": len(layer)}]}).encode()
    for b in (config, layer):
        assert reg.blob("multi", b)[0] == 201
    st, h, body = reg.manifest("multi", "docker", m, MT_DOCKER)
    assert st == 201, body
    st, h, body = reg.req("GET", "/v2/multi/manifests/docker")
    assert h["content-type"] == MT_DOCKER and body == m
    det = c.describe_images(repositoryName="multi", imageIds=[{"imageTag": "docker"}])["imageDetails"][0]
    assert det["imageManifestMediaType"] == MT_DOCKER and det["imageSizeInBytes"] == len(layer)
    # the tag list pages with a Link header
    st, h, body = reg.req("GET", "/v2/multi/tags/list?n=1")
    assert json.loads(body) == {"name": "multi", "tags": ["docker"]} and 'rel="next"' in h["link"]
    st, h, body = reg.req("GET", h["link"].split(">")[0][1:])
    assert json.loads(body)["tags"] == ["latest"] and "link" not in h
    # delete by tag (only the tag), then by digest
    st, _, _ = reg.req("DELETE", "/v2/multi/manifests/docker")
    assert st == 202
    st, _, _ = reg.req("DELETE", "/v2/multi/manifests/" + oci.sha256(m))
    assert st == 202
    assert reg.req("GET", "/v2/multi/manifests/" + oci.sha256(m))[0] == 404


def test_list_describe_delete_images(fb):
    c = ecr(fb)
    c.create_repository(repositoryName="listing")
    reg = Reg(fb)
    dt = reg.image("listing", "one", "l1")
    reg.manifest("listing", "two", oci.image_blobs("l1", False)[2])
    du = reg.image("listing", oci.sha256(oci.image_blobs("l2", False)[2]), "l2")
    tagged = c.list_images(repositoryName="listing", filter={"tagStatus": "TAGGED"})["imageIds"]
    assert sorted(i["imageTag"] for i in tagged) == ["one", "two"]
    un = c.describe_images(repositoryName="listing", filter={"tagStatus": "UNTAGGED"})["imageDetails"]
    assert [i["imageDigest"] for i in un] == [du] and "imageTags" not in un[0]
    expect_error("ImageNotFoundException", c.describe_images, repositoryName="listing",
                 imageIds=[{"imageTag": "nope"}])
    page = c.list_images(repositoryName="listing", maxResults=2)
    assert len(page["imageIds"]) == 2 and page.get("nextToken")
    r = c.batch_delete_image(repositoryName="listing", imageIds=[{"imageTag": "one"}])
    assert r["imageIds"] == [{"imageDigest": dt, "imageTag": "one"}]
    assert c.describe_images(repositoryName="listing", imageIds=[{"imageDigest": dt}])["imageDetails"][0]["imageTags"] == ["two"]
    r = c.batch_delete_image(repositoryName="listing", imageIds=[{"imageTag": "two"}, {"imageDigest": du},
                                                                 {"imageTag": "gone"}])
    assert len(r["imageIds"]) == 2 and r["failures"][0]["failureCode"] == "ImageNotFound"
    assert c.list_images(repositoryName="listing")["imageIds"] == []


def test_scanning_is_honest(fb):
    c = ecr(fb)
    c.create_repository(repositoryName="scan", imageScanningConfiguration={"scanOnPush": True})
    Reg(fb).image("scan", "v1", "scan")
    e = expect_error("ValidationException", c.start_image_scan, repositoryName="scan",
                     imageId={"imageTag": "v1"})
    assert "not available" in str(e)
    expect_error("ScanNotFoundException", c.describe_image_scan_findings, repositoryName="scan",
                 imageId={"imageTag": "v1"})
    expect_error("ImageNotFoundException", c.start_image_scan, repositoryName="scan",
                 imageId={"imageTag": "v9"})
    d = c.describe_images(repositoryName="scan")["imageDetails"][0]
    assert "imageScanFindingsSummary" not in d and "imageScanStatus" not in d


SEED_POLICY = {"rules": [
    {"rulePriority": 1, "description": "Keep last 10 tagged images",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan",
                   "countNumber": 10}, "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "Expire untagged images after 7 days",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                   "countNumber": 7}, "action": {"type": "expire"}}]}


def test_lifecycle_policy_expires(fb):
    c = ecr(fb)
    c.create_repository(repositoryName="plccoach/api")
    reg = Reg(fb)
    tagged = [reg.image("plccoach/api", "v%d" % i, "t%d" % i) for i in range(12)]
    for bad in ({"rules": []},
                {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged", "countType": "imageCountMoreThan",
                                                             "countNumber": 1}, "action": {"type": "expire"}}]},
                {"rules": [dict(SEED_POLICY["rules"][0], rulePriority=2), SEED_POLICY["rules"][1]]}):
        expect_error("InvalidParameterException", c.put_lifecycle_policy, repositoryName="plccoach/api",
                     lifecyclePolicyText=json.dumps(bad) + " " * 100)
    text = json.dumps(SEED_POLICY)
    expect_error("LifecyclePolicyNotFoundException", c.get_lifecycle_policy, repositoryName="plccoach/api")
    expect_error("LifecyclePolicyNotFoundException", c.start_lifecycle_policy_preview,
                 repositoryName="plccoach/api")
    untagged = [reg.image("plccoach/api", oci.sha256(oci.image_blobs("u%d" % i, False)[2]), "u%d" % i)
                for i in range(3)]
    # preview the policy before it is in force (nothing can race it): the
    # two oldest tagged go; the untagged are young
    c.start_lifecycle_policy_preview(repositoryName="plccoach/api", lifecyclePolicyText=text)
    pv = c.get_lifecycle_policy_preview(repositoryName="plccoach/api")
    assert pv["status"] == "COMPLETE"
    assert sorted(r["imageDigest"] for r in pv["previewResults"]) == sorted(tagged[:2])
    assert all(r["appliedRulePriority"] == 1 and r["action"]["type"] == "EXPIRE" for r in pv["previewResults"])
    assert pv["summary"]["expiringImageTotalCount"] == 2
    # "7 days" pass (FOGBANK_ECR_DAY_SECONDS): now the untagged go too
    time.sleep(7 * DAY_SECONDS + 0.2)
    c.start_lifecycle_policy_preview(repositoryName="plccoach/api", lifecyclePolicyText=text)
    pv = c.get_lifecycle_policy_preview(repositoryName="plccoach/api")
    assert sorted(r["imageDigest"] for r in pv["previewResults"]) == sorted(tagged[:2] + untagged)
    assert {r["appliedRulePriority"] for r in pv["previewResults"] if "imageTags" not in r} == {2}
    # put it in force; the daemon's sweep really deletes
    fb.aws("ecr", "put-lifecycle-policy", "--repository-name", "plccoach/api",
           "--lifecycle-policy-text", text)
    assert json.loads(c.get_lifecycle_policy(repositoryName="plccoach/api")["lifecyclePolicyText"]) == SEED_POLICY
    deadline = time.time() + 25
    while time.time() < deadline:
        left = {i["imageDigest"] for i in c.describe_images(repositoryName="plccoach/api")["imageDetails"]}
        if len(left) == 10:
            break
        time.sleep(0.5)
    assert left == set(tagged[2:]), (len(left), left)
    assert "lastEvaluatedAt" in c.get_lifecycle_policy(repositoryName="plccoach/api")
    st, _, body = reg.req("GET", "/v2/plccoach/api/manifests/v0")
    assert st == 404
    c.delete_lifecycle_policy(repositoryName="plccoach/api")
    expect_error("LifecyclePolicyNotFoundException", c.delete_lifecycle_policy, repositoryName="plccoach/api")


def test_delete_repository_and_gc(fb):
    c = ecr(fb)
    c.create_repository(repositoryName="doomed")
    reg = Reg(fb)
    reg.image("doomed", "v1", "doomed-only")
    expect_error("RepositoryNotEmptyException", c.delete_repository, repositoryName="doomed")
    c.delete_repository(repositoryName="doomed", force=True)
    st, _, body = reg.req("GET", "/v2/doomed/manifests/v1")
    assert st == 404 and error_code(body) == "NAME_UNKNOWN"
    layer = oci.sha256(oci.image_blobs("doomed-only", False)[1])[7:]
    path = os.path.join(fb.data_dir, "registry", "blobs", "sha256", layer[:2], layer)
    assert os.path.exists(path)
    deadline = time.time() + 25  # grace 4 s, then the 10 s timer
    while os.path.exists(path) and time.time() < deadline:
        time.sleep(0.5)
    assert not os.path.exists(path), "unreferenced blob not collected"
    # blobs still referenced elsewhere stay
    lay = oci.build_layout(os.path.join(TMP, "busybox"), "latest")["layers"][0][7:]
    assert os.path.exists(os.path.join(fb.data_dir, "registry", "blobs", "sha256", lay[:2], lay))


def test_kill9_durability(fb):
    c = ecr(fb)
    c.create_repository(repositoryName="durable")
    reg = Reg(fb)
    dg = reg.image("durable", "v1", "durable")
    st, h, _ = reg.req("POST", "/v2/durable/blobs/uploads/")
    st, h, _ = reg.req("PATCH", h["location"], b"half of a layer")
    loc = h["location"]
    fb.restart(kill=True)
    c = ecr(fb)
    st, h, body = reg.req("GET", "/v2/durable/manifests/v1")
    assert st == 200 and h["docker-content-digest"] == dg  # the old token still works
    st, h, _ = reg.req("GET", loc)
    assert st == 204 and h["range"] == "0-14"
    rest = b" and the rest"
    st, h, _ = reg.req("PUT", loc + "?digest=" + oci.sha256(b"half of a layer" + rest), rest)
    assert st == 201
    d = c.describe_images(repositoryName="durable")["imageDetails"]
    assert [i["imageDigest"] for i in d] == [dg]
    out = os.path.join(TMP, "after-restart")
    skopeo("copy", "--src-creds", "AWS:" + password(fb), "--src-tls-verify=false",
           "docker://127.0.0.1:%d/app/web:v1" % fb.port, "oci:%s:v1" % out)


if __name__ == "__main__":
    try:
        lib.main(globals())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
