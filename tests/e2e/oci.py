"""oci.py - builds small OCI images without Docker, for the ECR tests.

build_layout(dir, tag) writes an OCI image layout (oci-layout, index.json,
blobs/sha256/...) holding one image: a single gzip'd layer with Debian's
static /bin/busybox as /bin/busybox plus /bin/sh and a few applet links,
and an image config whose Cmd is ["/bin/sh"]. skopeo copies it with
`oci:DIR:TAG`. Everything is deterministic (fixed mtimes, gzip mtime 0), so
the same arguments give the same digests; `extra` adds a small file
/etc/fogbank-extra with that text, which makes a distinct image cheaply.

image_blobs(extra) returns the same image as bytes (config, layer,
manifest) for tests that talk to the registry directly.
"""
import gzip
import hashlib
import io
import json
import os
import tarfile

BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "ls", "cat", "echo", "sleep", "env", "wget", "nc", "true", "false"]
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
_cache = {}


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def _tar(extra, with_busybox):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add_dir(name):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
            t.addfile(ti)
        for d in ("bin", "etc", "tmp"):
            add_dir(d)
        if with_busybox:
            with open(BUSYBOX, "rb") as f:
                data = f.read()
            ti = tarfile.TarInfo("bin/busybox")
            ti.size, ti.mode, ti.mtime = len(data), 0o755, 0
            t.addfile(ti, io.BytesIO(data))
            for a in APPLETS:
                ti = tarfile.TarInfo("bin/" + a)
                ti.type, ti.linkname, ti.mode, ti.mtime = tarfile.SYMTYPE, "busybox", 0o777, 0
                t.addfile(ti)
        if extra is not None:
            data = extra.encode()
            ti = tarfile.TarInfo("etc/fogbank-extra")
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def image_blobs(extra=None, with_busybox=True):
    """(config bytes, layer bytes, manifest bytes) of one image."""
    key = (extra, with_busybox)
    if key in _cache:
        return _cache[key]
    raw = _tar(extra, with_busybox)
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6) as g:
        g.write(raw)
    layer = gz.getvalue()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [sha256(raw)]},
        "history": [{"created_by": "tests/e2e/oci.py", "comment": extra or ""}],
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": MT_LAYER, "digest": sha256(layer), "size": len(layer)}],
    }, sort_keys=True).encode()
    _cache[key] = (config, layer, manifest)
    return _cache[key]


def build_layout(path, tag="latest", extra=None):
    """Writes an OCI image layout at path; returns {manifest, config,
    layers: [digest], size} for the image tagged tag."""
    config, layer, manifest = image_blobs(extra)
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    for b in (config, layer, manifest):
        with open(os.path.join(blobs, sha256(b)[7:]), "wb") as f:
            f.write(b)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": MT_MANIFEST, "digest": sha256(manifest), "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
    return {"manifest": sha256(manifest), "config": sha256(config),
            "layers": [sha256(layer)], "size": len(layer)}


if __name__ == "__main__":
    import sys
    print(json.dumps(build_layout(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "latest")))
