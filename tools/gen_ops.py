#!/usr/bin/python3
"""gen_ops.py - generate fogbank's C model tables from botocore service models.

Reads botocore's service-2.json (Debian python3-botocore) for each service
fogbank emulates and writes, into src/aws/gen/:

  <cid>_model.c   const struct model_service model_svc_<cid> (see src/aws/model.h)
  <cid>_ops.h     aws_handler_fn prototypes for every operation's handler
  services.c      model_services[] sorted by id, and model_nservices

Handlers are bound through weak references: <cid>_model.c declares each
handler weak, so an operation nobody implemented reads as NULL (-> 501).

Usage:
  tools/gen_ops.py                 regenerate src/aws/gen/
  tools/gen_ops.py --check         regenerate into a temp dir and diff; exit 1 on drift
  tools/gen_ops.py --botocore DIR  use another botocore package directory

Stdlib only; output is deterministic (everything sorted or in model order).
"""

import argparse
import difflib
import gzip
import json
import os
import re
import shutil
import sys
import tempfile

DEFAULT_BOTOCORE = "/usr/lib/python3/dist-packages/botocore"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN_REL = os.path.join("src", "aws", "gen")

# botocore data directory ids of the emulated services.
SERVICES = [
    "application-autoscaling", "cloudfront", "cloudwatch", "cognito-idp", "ec2", "ecr",
    "ecs", "elasticache", "elbv2", "iam", "kms", "logs", "rds", "s3", "secretsmanager",
    "sns", "sqs", "sts",
]

# C identifier of a service where the botocore id is not one already.
CID_OVERRIDES = {
    "application-autoscaling": "appautoscaling",
    "cognito-idp": "cognito_idp",
}

# Query-compatible JSON. Newer SDKs talk to SQS and CloudWatch in JSON 1.0
# (X-Amz-Target "<prefix>.<Op>", x-amzn-query-mode header) while the
# botocore 1.29 models still only describe the query protocol; these
# prefixes come from the later models that added awsQueryCompatible.
# The JSON flavour of both is 1.0, so json_version says so too.
QUERY_COMPATIBLE = {
    "sqs": {"json_target_prefix": "AmazonSQS", "json_version": "1.0"},
    "cloudwatch": {"json_target_prefix": "GraniteServiceVersion20100801", "json_version": "1.0"},
}

# S3 output roots. botocore's parser ignores the root element of a rest-xml
# response, so its S3 model names none and the generic "<OutputShape>"
# root would be used; real S3 (and the SDKs that do check) use these.
# GetBucketLocation's root is its one member, <LocationConstraint>region
# </LocationConstraint> (proto_rest.c writes such a root as text), which
# is what botocore's parse_get_bucket_location handler reads.
S3_OUTPUT_ROOTS = {
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "DeleteObjectsOutput": "DeleteResult",
    "GetBucketAccelerateConfigurationOutput": "AccelerateConfiguration",
    "GetBucketAclOutput": "AccessControlPolicy",
    "GetBucketCorsOutput": "CORSConfiguration",
    "GetBucketLifecycleConfigurationOutput": "LifecycleConfiguration",
    "GetBucketLifecycleOutput": "LifecycleConfiguration",
    "GetBucketLocationOutput": "LocationConstraint",
    "GetBucketLoggingOutput": "BucketLoggingStatus",
    "GetBucketRequestPaymentOutput": "RequestPaymentConfiguration",
    "GetBucketTaggingOutput": "Tagging",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetBucketWebsiteOutput": "WebsiteConfiguration",
    "GetObjectAclOutput": "AccessControlPolicy",
    "GetObjectAttributesOutput": "GetObjectAttributesResponse",
    "GetObjectTaggingOutput": "Tagging",
    "ListBucketAnalyticsConfigurationsOutput": "ListBucketAnalyticsConfigurationResult",
    "ListBucketInventoryConfigurationsOutput": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurationsOutput": "ListMetricsConfigurationsResult",
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "ListObjectVersionsOutput": "ListVersionsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "ListPartsOutput": "ListPartsResult",
    "NotificationConfiguration": "NotificationConfiguration",
    "NotificationConfigurationDeprecated": "NotificationConfiguration",
}

# CORS preflight. Browsers send an unsigned OPTIONS to an object or bucket
# URL; S3 answers it from the bucket's CORS rules. No botocore model has
# the operation (no SDK sends it), so the S3 model gets two synthetic,
# unauthenticated ones with the request and response headers as members.
_CORS_HDR = {"shape": "CorsHeaderValue", "location": "header"}
S3_SYNTHETIC = {
    "operations": {
        "OptionsBucket": {
            "name": "OptionsBucket", "authtype": "none",
            "http": {"method": "OPTIONS", "requestUri": "/{Bucket}"},
            "input": {"shape": "OptionsBucketRequest"}, "output": {"shape": "OptionsOutput"},
        },
        "OptionsObject": {
            "name": "OptionsObject", "authtype": "none",
            "http": {"method": "OPTIONS", "requestUri": "/{Bucket}/{Key+}"},
            "input": {"shape": "OptionsObjectRequest"}, "output": {"shape": "OptionsOutput"},
        },
    },
    "shapes": {
        "CorsHeaderValue": {"type": "string"},
        "OptionsBucketRequest": {
            "type": "structure", "required": ["Bucket"],
            "members": {
                "Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"},
                "Origin": dict(_CORS_HDR, locationName="Origin"),
                "AccessControlRequestMethod": dict(_CORS_HDR, locationName="Access-Control-Request-Method"),
                "AccessControlRequestHeaders": dict(_CORS_HDR, locationName="Access-Control-Request-Headers"),
            },
        },
        "OptionsObjectRequest": {
            "type": "structure", "required": ["Bucket", "Key"],
            "members": {
                "Bucket": {"shape": "BucketName", "location": "uri", "locationName": "Bucket"},
                "Key": {"shape": "ObjectKey", "location": "uri", "locationName": "Key"},
                "Origin": dict(_CORS_HDR, locationName="Origin"),
                "AccessControlRequestMethod": dict(_CORS_HDR, locationName="Access-Control-Request-Method"),
                "AccessControlRequestHeaders": dict(_CORS_HDR, locationName="Access-Control-Request-Headers"),
            },
        },
        "OptionsOutput": {
            "type": "structure",
            "members": {
                "AccessControlAllowOrigin": dict(_CORS_HDR, locationName="Access-Control-Allow-Origin"),
                "AccessControlAllowMethods": dict(_CORS_HDR, locationName="Access-Control-Allow-Methods"),
                "AccessControlAllowHeaders": dict(_CORS_HDR, locationName="Access-Control-Allow-Headers"),
                "AccessControlExposeHeaders": dict(_CORS_HDR, locationName="Access-Control-Expose-Headers"),
                "AccessControlMaxAge": dict(_CORS_HDR, locationName="Access-Control-Max-Age"),
                "AccessControlAllowCredentials": dict(_CORS_HDR, locationName="Access-Control-Allow-Credentials"),
                "Vary": dict(_CORS_HDR, locationName="Vary"),
            },
        },
    },
}


# Members newer S3 models have and fogbank serves (ListBuckets pagination,
# added to the API in 2024): {shape: {member: ref}}, plus new shapes.
S3_EXTRA_SHAPES = {
    "BucketRegion": {"type": "string"},
    "MaxBuckets": {"type": "integer", "min": 1, "max": 10000},
    "ListBucketsRequest": {
        "type": "structure",
        "members": {
            "MaxBuckets": {"shape": "MaxBuckets", "location": "querystring", "locationName": "max-buckets"},
            "ContinuationToken": {"shape": "Token", "location": "querystring", "locationName": "continuation-token"},
            "Prefix": {"shape": "Prefix", "location": "querystring", "locationName": "prefix"},
            "BucketRegion": {"shape": "BucketRegion", "location": "querystring", "locationName": "bucket-region"},
        },
    },
}
S3_EXTRA_MEMBERS = {
    "ListBucketsOutput": {"ContinuationToken": {"shape": "Token"}, "Prefix": {"shape": "Prefix"}},
    "Bucket": {"BucketRegion": {"shape": "BucketRegion"}},
}
S3_EXTRA_INPUTS = {"ListBuckets": "ListBucketsRequest"}


def apply_s3_overrides(model):
    """Adds the S3 output roots and the synthetic preflight operations to
    the loaded S3 model (in place); fails loudly when the model changed
    under the tables."""
    shapes = model["shapes"]
    for name, root in S3_OUTPUT_ROOTS.items():
        if name not in shapes or shapes[name].get("type") != "structure":
            raise GenError("s3: S3_OUTPUT_ROOTS names unknown structure %s" % name)
        shapes[name] = dict(shapes[name], locationName=root)
    # botocore's CopySource pattern wants a leading '/', but botocore itself
    # sends "bucket/key" (and so does S3's own documentation): not enforced
    shapes["CopySource"] = {k: v for k, v in shapes["CopySource"].items() if k != "pattern"}
    for name, sh in S3_SYNTHETIC["shapes"].items():
        if name in shapes:
            raise GenError("s3: synthetic shape %s exists in the model" % name)
        shapes[name] = sh
    for name, sh in S3_EXTRA_SHAPES.items():
        if name in shapes:
            raise GenError("s3: extra shape %s exists in the model" % name)
        shapes[name] = sh
    for name, members in S3_EXTRA_MEMBERS.items():
        sh = dict(shapes[name])
        sh["members"] = dict(sh["members"])
        for m, ref in members.items():
            if m in sh["members"]:
                raise GenError("s3: extra member %s.%s exists in the model" % (name, m))
            sh["members"][m] = ref
        shapes[name] = sh
    for op, shape in S3_EXTRA_INPUTS.items():
        if "input" in model["operations"][op]:
            raise GenError("s3: %s already has an input" % op)
        model["operations"][op] = dict(model["operations"][op], input={"shape": shape})
    for name, op in S3_SYNTHETIC["operations"].items():
        if name in model["operations"]:
            raise GenError("s3: synthetic operation %s exists in the model" % name)
        model["operations"][name] = op


PROTOCOLS = {
    "query": "MP_QUERY",
    "ec2": "MP_EC2",
    "json": "MP_JSON",
    "rest-json": "MP_REST_JSON",
    "rest-xml": "MP_REST_XML",
}

# Smithy types botocore may use beyond the core set are folded into the
# closest C-side type: arbitrary-precision numbers stay exact as strings.
TYPES = {
    "structure": "MT_STRUCTURE",
    "list": "MT_LIST",
    "map": "MT_MAP",
    "string": "MT_STRING",
    "integer": "MT_INTEGER",
    "long": "MT_LONG",
    "boolean": "MT_BOOLEAN",
    "double": "MT_DOUBLE",
    "float": "MT_FLOAT",
    "timestamp": "MT_TIMESTAMP",
    "blob": "MT_BLOB",
    "bigdecimal": "MT_STRING",
    "biginteger": "MT_STRING",
    "character": "MT_STRING",
    "byte": "MT_INTEGER",
    "short": "MT_INTEGER",
}

TS_FORMATS = {
    None: "MTS_DEFAULT",
    "iso8601": "MTS_ISO8601",
    "unixTimestamp": "MTS_EPOCH",
    "rfc822": "MTS_RFC822",
}

LOCATIONS = {
    None: "ML_BODY",
    "header": "ML_HEADER",
    "headers": "ML_HEADERS",
    "uri": "ML_URI",
    "querystring": "ML_QUERY",
    "statusCode": "ML_STATUS",
}

# Member-level traits that botocore folds into the member's resolved shape
# but model.h only has room for as shape flags. A member carrying one points
# at a variant copy of its target shape (same name) with the trait applied.
SHAPE_TRAITS_ON_MEMBERS = ("streaming", "timestampFormat")


# `make format` runs clang-format over src/; on the banner's own line so
# even that over-long first line is left alone (--check would flag it).
FORMAT_OFF = " /* clang-format off */"


class GenError(Exception):
    pass


def bkey(s):
    """Sort key giving C strcmp order (byte order of the UTF-8 encoding)."""
    return s.encode("utf-8")


def cid_of(service):
    return CID_OVERRIDES.get(service, service.replace("-", "_"))


def snake(name):
    """Operation name -> snake_case: split before an uppercase letter that
    follows a lowercase letter or digit, and before the last uppercase of a
    run followed by a lowercase letter (EnableMFADevice -> enable_mfa_device)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
        raise GenError("operation name %r does not make a C identifier" % name)
    out = []
    for i, c in enumerate(name):
        if i > 0 and c.isupper():
            prev = name[i - 1]
            nxt = name[i + 1] if i + 1 < len(name) else ""
            if prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower()):
                out.append("_")
        out.append(c.lower())
    return "".join(out)


def c_str(s):
    """A C string literal for s (or NULL for None). Non-printable and
    non-ASCII bytes become 3-digit octal escapes (never greedy like \\x), and
    a '?' after a '?' is escaped so -std=c11 trigraphs cannot fire."""
    if s is None:
        return "NULL"
    out = ['"']
    prev = 0
    for b in s.encode("utf-8", "surrogatepass"):
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x22:
            out.append('\\"')
        elif b == 0x3F and prev == 0x3F:
            out.append("\\?")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\%03o" % b)
        prev = b
    out.append('"')
    return "".join(out)


def c_double(v):
    """A C double constant for a JSON number."""
    f = float(v)
    if f != f or f in (float("inf"), float("-inf")):
        raise GenError("non-finite bound %r" % v)
    r = repr(f)
    if "e" in r or "." in r:
        return r
    return r + ".0"


def c_flags(names):
    return "|".join(names) if names else "0"


def botocore_version(botocore_dir):
    with open(os.path.join(botocore_dir, "__init__.py"), encoding="utf-8") as f:
        m = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", f.read(), re.M)
    if not m:
        raise GenError("no __version__ in %s/__init__.py" % botocore_dir)
    return m.group(1)


OVERLAY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_overlays")


def apply_overlay(service, model):
    """Merges tools/model_overlays/<service>.json (operations newer than the
    Debian model, written by hand) into model. An overlay may only add:
    redefining an existing operation or shape is an error, so a newer
    botocore that gains the operation makes the overlay line obsolete
    loudly instead of silently shadowing the model."""
    path = os.path.join(OVERLAY_DIR, service + ".json")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        overlay = json.load(f)
    for kind in ("operations", "shapes"):
        for name, body in overlay.get(kind, {}).items():
            if name in model[kind]:
                raise GenError("%s overlay redefines %s %s" % (service, kind[:-1], name))
            model[kind][name] = body
    # members newer than the model, added to its existing structures
    for shape, members in overlay.get("members", {}).items():
        target = model["shapes"].get(shape)
        if not target or target.get("type") != "structure":
            raise GenError("%s overlay adds members to unknown structure %s" % (service, shape))
        for name, body in members.items():
            if name in target["members"]:
                raise GenError("%s overlay redefines member %s.%s" % (service, shape, name))
            target["members"][name] = body


def load_model(botocore_dir, service):
    """Returns (api_version, model dict) of the newest API version."""
    base = os.path.join(botocore_dir, "data", service)
    if not os.path.isdir(base):
        raise GenError("no botocore data for %s in %s" % (service, base))
    for ver in sorted(os.listdir(base), reverse=True):
        for fname, opener in (("service-2.json", open), ("service-2.json.gz", gzip.open)):
            path = os.path.join(base, ver, fname)
            if os.path.exists(path):
                with opener(path, "rt", encoding="utf-8") as f:
                    return ver, json.load(f)
    raise GenError("no service-2.json under %s" % base)


class ServiceGen:
    """Flattens one botocore model into the arrays of a struct model_service."""

    def __init__(self, service, api_version, model, version):
        self.service = service
        self.cid = cid_of(service)
        self.api_version = api_version
        self.model = model
        self.version = version
        self.shapes_json = model["shapes"]
        self.index = {}  # (shape name, variant) -> shape index
        self.order = []  # [(name, variant)] in index order

    # -- reachability --------------------------------------------------

    def shape_json(self, name):
        try:
            return self.shapes_json[name]
        except KeyError:
            raise GenError("%s: unknown shape %r" % (self.service, name)) from None

    def ref_key(self, ref):
        """The (name, variant) a member reference resolves to."""
        variant = tuple((t, ref[t]) for t in SHAPE_TRAITS_ON_MEMBERS if ref.get(t))
        return (ref["shape"], variant)

    def child_refs(self, name):
        sh = self.shape_json(name)
        t = sh["type"]
        if t == "structure":
            return list(sh.get("members", {}).values())
        if t == "list":
            return [sh["member"]]
        if t == "map":
            return [sh["key"], sh["value"]]
        return []

    def collect(self):
        """Every shape reachable from an operation's input, output or errors."""
        seen = set()
        stack = []
        for op in self.model["operations"].values():
            for k in ("input", "output"):
                if k in op:
                    stack.append((op[k]["shape"], ()))
            for e in op.get("errors", []):
                stack.append((e["shape"], ()))
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            for ref in self.child_refs(key[0]):
                stack.append(self.ref_key(ref))
        # by name; a member-trait variant right after its plain shape
        self.order = sorted(seen, key=lambda k: (bkey(k[0]), len(k[1]), repr(k[1])))
        self.index = {k: i for i, k in enumerate(self.order)}

    # -- rows ------------------------------------------------------------

    def member_row(self, name, ref, flags):
        loc = ref.get("location")
        if loc not in LOCATIONS:
            raise GenError("%s: member %s: unknown location %r" % (self.service, name, loc))
        ns = ref.get("xmlNamespace")
        if isinstance(ns, dict):
            ns = ns.get("uri")
        for k, flag in (("flattened", "MF_FLATTENED"), ("xmlAttribute", "MF_XML_ATTRIBUTE"),
                        ("idempotencyToken", "MF_IDEMPOTENCY"), ("hostLabel", "MF_HOST_LABEL"),
                        ("jsonvalue", "MF_JSONVALUE"), ("deprecated", "MF_DEPRECATED")):
            if ref.get(k):
                flags.append(flag)
        order = ["MF_REQUIRED", "MF_FLATTENED", "MF_XML_ATTRIBUTE", "MF_PAYLOAD",
                 "MF_IDEMPOTENCY", "MF_HOST_LABEL", "MF_JSONVALUE", "MF_DEPRECATED"]
        flags = sorted(set(flags), key=order.index)
        return "M(%s, %s, %s, %s, %d, %s, %s)," % (
            c_str(name), c_str(ref.get("locationName")), c_str(ref.get("queryName")),
            c_str(ns), self.index[self.ref_key(ref)], LOCATIONS[loc], c_flags(flags))

    def build(self):
        self.collect()
        self.shape_rows = []
        self.member_rows = []
        self.enum_rows = []
        for i, (name, variant) in enumerate(self.order):
            sh = self.shape_json(name)
            traits = dict(variant)
            t = sh["type"]
            if t not in TYPES:
                raise GenError("%s: shape %s: unknown type %r" % (self.service, name, t))
            first_member = len(self.member_rows)
            if t == "structure":
                required = set(sh.get("required", []))
                payload = sh.get("payload")
                members = sh.get("members", {})
                for r in required:
                    if r not in members:
                        raise GenError("%s: %s requires unknown member %s" % (self.service, name, r))
                for mname, ref in members.items():
                    fl = []
                    if mname in required:
                        fl.append("MF_REQUIRED")
                    if mname == payload:
                        fl.append("MF_PAYLOAD")
                    self.member_rows.append(self.member_row(mname, ref, fl))
            elif t == "list":
                self.member_rows.append(self.member_row("member", sh["member"], []))
            elif t == "map":
                self.member_rows.append(self.member_row("key", sh["key"], []))
                self.member_rows.append(self.member_row("value", sh["value"], []))
            nmembers = len(self.member_rows) - first_member

            first_enum = len(self.enum_rows)
            for e in sh.get("enum", []):
                self.enum_rows.append(c_str(e) + ",")
            nenums = len(self.enum_rows) - first_enum

            flags = []
            for k, flag in (("flattened", "SF_FLATTENED"), ("exception", "SF_EXCEPTION"),
                            ("fault", "SF_FAULT"), ("sensitive", "SF_SENSITIVE")):
                if sh.get(k):
                    flags.append(flag)
            if sh.get("streaming") or traits.get("streaming"):
                flags.append("SF_STREAMING")
            if "min" in sh:
                flags.append("SF_HAS_MIN")
            if "max" in sh:
                flags.append("SF_HAS_MAX")
            for k, flag in (("eventstream", "SF_EVENTSTREAM"), ("document", "SF_DOCUMENT"),
                            ("union", "SF_UNION")):
                if sh.get(k):
                    flags.append(flag)

            ts = traits.get("timestampFormat", sh.get("timestampFormat"))
            if ts not in TS_FORMATS:
                raise GenError("%s: shape %s: unknown timestampFormat %r" % (self.service, name, ts))

            err_code, err_status = None, 0
            if sh.get("exception") or sh.get("fault") or "error" in sh:
                err = sh.get("error", {})
                err_code = err.get("code", name)
                err_status = err.get("httpStatusCode", 500 if sh.get("fault") else 400)

            ns = sh.get("xmlNamespace")
            if isinstance(ns, dict):
                ns = ns.get("uri")

            self.shape_rows.append("/* %d */ S(%s, %s, %s, %s, %d, %d, %d, %d, %s, %s, %s, %s, %d, %s, %s)," % (
                i, c_str(name), TYPES[t], TS_FORMATS[ts], c_flags(flags), first_member if nmembers else 0,
                nmembers, first_enum if nenums else 0, nenums,
                c_double(sh["min"]) if "min" in sh else "0.0",
                c_double(sh["max"]) if "max" in sh else "0.0",
                c_str(sh.get("pattern")), c_str(err_code), err_status, c_str(ns),
                c_str(sh.get("locationName"))))

        self.error_rows = []
        self.op_rows = []
        self.handlers = []
        # The operations key is botocore's OperationModel.name; "name" inside
        # is the wire name, which differs only for cloudfront
        # ("CreateDistribution2020_05_31"), a rest-xml service routed by URI.
        ops = sorted(self.model["operations"].items(), key=lambda kv: bkey(kv[0]))
        seen_syms = {}
        for name, op in ops:
            sym = "%s_op_%s" % (self.cid, snake(name))
            if sym in seen_syms:
                raise GenError("%s: %s and %s both map to %s" % (self.service, seen_syms[sym], name, sym))
            seen_syms[sym] = name
            self.handlers.append(sym)
            http = op.get("http", {})
            first_err = len(self.error_rows)
            for e in op.get("errors", []):
                self.error_rows.append("%d, /* %s */" % (self.index[(e["shape"], ())], e["shape"]))
            nerrors = len(self.error_rows) - first_err
            flags = []
            auth = op.get("authtype")
            if auth == "none":
                flags.append("OPF_AUTH_NONE")
            elif auth == "v4-unsigned-body":
                flags.append("OPF_UNSIGNED_PAYLOAD")
            if op.get("httpChecksumRequired") or op.get("httpChecksum", {}).get("requestChecksumRequired"):
                flags.append("OPF_CHECKSUM_REQUIRED")
            if op.get("deprecated"):
                flags.append("OPF_DEPRECATED")
            inp = self.index[(op["input"]["shape"], ())] if "input" in op else -1
            out = self.index[(op["output"]["shape"], ())] if "output" in op else -1
            self.op_rows.append("O(%s, %s, %s, %d, %d, %s, %d, %d, %s, %d, %s)," % (
                c_str(name), c_str(http.get("method", "POST")), c_str(http.get("requestUri", "/")),
                inp, out, c_str(op.get("output", {}).get("resultWrapper")),
                first_err if nerrors else 0, nerrors, c_flags(flags),
                int(http.get("responseCode", 200)), sym))

    # -- files -----------------------------------------------------------

    def banner(self):
        overlay = ""
        if os.path.exists(os.path.join(OVERLAY_DIR, self.service + ".json")):
            overlay = " + tools/model_overlays/%s.json" % self.service
        return ("/* DO NOT EDIT; generated by tools/gen_ops.py from botocore %s %s/%s/service-2.json%s */"
                "%s\n" % (self.version, self.service, self.api_version, overlay, FORMAT_OFF))

    def ops_h(self):
        guard = "FB_GEN_%s_OPS_H" % self.cid.upper()
        out = [self.banner()]
        out.append("/* %s_ops.h - the service table and a prototype for every operation's\n"
                   " * handler. A handler file includes this so its definition is checked\n"
                   " * against aws_handler_fn; handlers never written stay NULL (501). */\n"
                   % self.cid)
        out.append("#ifndef %s\n#define %s\n#include \"aws/model.h\"\n\n" % (guard, guard))
        out.append("extern const struct model_service model_svc_%s;\n\n" % self.cid)
        for sym in self.handlers:
            out.append("aws_handler_fn %s;\n" % sym)
        out.append("#endif\n")
        return "".join(out)

    def model_c(self):
        md = self.model["metadata"]
        qc = QUERY_COMPATIBLE.get(self.service)
        protocol = md.get("protocol")
        if protocol not in PROTOCOLS:
            raise GenError("%s: unknown protocol %r" % (self.service, protocol))
        xml_ns = md.get("xmlNamespace")
        if isinstance(xml_ns, dict):
            xml_ns = xml_ns.get("uri")
        json_version = md.get("jsonVersion")
        if qc and not json_version:
            json_version = qc["json_version"]
        c = self.cid
        out = [self.banner()]
        out.append('#include "aws/gen/%s_ops.h"\n\n' % c)
        out.append("/* Weak: an operation whose handler is defined nowhere gets NULL. */\n")
        for sym in self.handlers:
            out.append("extern aws_handler_fn %s __attribute__((weak));\n" % sym)
        out.append("\n/* Rows are positional through these macros so each fits on one line\n"
                   " * while the initializers stay designated (robust to model.h reorders). */\n")
        out.append("#define M(n, ln, qn, ns, sh, loc, fl) \\\n"
                   "\t{.name = n, .loc_name = ln, .query_name = qn, .xml_ns = ns, .shape = sh, \\\n"
                   "\t .location = loc, .flags = fl}\n")
        out.append("#define S(n, t, ts, fl, m, nm, e, ne, mn, mx, pat, ec, es, ns, ln) \\\n"
                   "\t{.name = n, .type = t, .ts_format = ts, .flags = fl, .members = m, .nmembers = nm, \\\n"
                   "\t .enums = e, .nenums = ne, .min = mn, .max = mx, .pattern = pat, .error_code = ec, \\\n"
                   "\t .error_status = es, .xml_ns = ns, .loc_name = ln}\n")
        out.append("#define O(n, meth, uri, in, outp, rw, e, ne, fl, st, h) \\\n"
                   "\t{.name = n, .http_method = meth, .request_uri = uri, .input = in, .output = outp, \\\n"
                   "\t .result_wrapper = rw, .errors = e, .nerrors = ne, .flags = fl, .http_status = st, \\\n"
                   "\t .handler = h}\n\n")

        out.append("static const struct model_shape shapes[] = {\n")
        out.extend("\t%s\n" % r for r in self.shape_rows)
        out.append("};\n\n")
        if self.member_rows:
            out.append("static const struct model_member members[] = {\n")
            out.extend("\t%s\n" % r for r in self.member_rows)
            out.append("};\n\n")
        if self.enum_rows:
            out.append("static const char *const enums[] = {\n")
            out.extend("\t%s\n" % r for r in self.enum_rows)
            out.append("};\n\n")
        if self.error_rows:
            out.append("static const uint32_t errors[] = {\n")
            out.extend("\t%s\n" % r for r in self.error_rows)
            out.append("};\n\n")
        out.append("/* sorted by name (strcmp) for model_find_op */\n")
        out.append("static const struct model_op ops[] = {\n")
        out.extend("\t%s\n" % r for r in self.op_rows)
        out.append("};\n\n")
        out.append("#undef M\n#undef S\n#undef O\n\n")
        fields = [
            ("id", c_str(self.service)),
            ("service_id", c_str(md.get("serviceId"))),
            ("api_version", c_str(md.get("apiVersion", self.api_version))),
            ("protocol", PROTOCOLS[protocol]),
            ("query_compatible", "1" if qc else "0"),
            ("json_version", c_str(json_version)),
            ("target_prefix", c_str(md.get("targetPrefix"))),
            ("json_target_prefix", c_str(qc["json_target_prefix"] if qc else None)),
            ("signing_name", c_str(md.get("signingName", md.get("endpointPrefix")))),
            ("endpoint_prefix", c_str(md.get("endpointPrefix"))),
            ("xml_namespace", c_str(xml_ns)),
            ("model_version", c_str("botocore %s" % self.version)),
            ("ops", "ops"),
            ("nops", "FB_ARRAY_LEN(ops)"),
            ("shapes", "shapes"),
            ("nshapes", "FB_ARRAY_LEN(shapes)"),
            ("members", "members" if self.member_rows else "NULL"),
            ("enums", "enums" if self.enum_rows else "NULL"),
            ("errors", "errors" if self.error_rows else "NULL"),
        ]
        out.append("const struct model_service model_svc_%s = {\n" % c)
        out.extend("\t.%s = %s,\n" % f for f in fields)
        out.append("};\n")
        return "".join(out)


def services_c(gens, version):
    out = ["/* DO NOT EDIT; generated by tools/gen_ops.py from botocore %s "
           "<service>/<api-version>/service-2.json of %d services */%s\n" % (version, len(gens), FORMAT_OFF)]
    for g in gens:
        out.append('#include "aws/gen/%s_ops.h" /* %s/%s */\n' % (g.cid, g.service, g.api_version))
    out.append("\n/* sorted by id (strcmp) for model_find_service */\n")
    out.append("const struct model_service *const model_services[] = {\n")
    for g in gens:
        out.append("\t&model_svc_%s,\n" % g.cid)
    out.append("};\n\n")
    out.append("const size_t model_nservices = FB_ARRAY_LEN(model_services);\n")
    return "".join(out)


def generate(botocore_dir):
    """Returns {file name: text} of every generated file."""
    version = botocore_version(botocore_dir)
    files = {}
    gens = []
    for service in sorted(SERVICES, key=bkey):
        api_version, model = load_model(botocore_dir, service)
        apply_overlay(service, model)
        if service == "s3":
            apply_s3_overrides(model)
        g = ServiceGen(service, api_version, model, version)
        g.build()
        files["%s_model.c" % g.cid] = g.model_c()
        files["%s_ops.h" % g.cid] = g.ops_h()
        gens.append(g)
    cids = [g.cid for g in gens]
    if len(set(cids)) != len(cids):
        raise GenError("duplicate service C identifiers: %s" % cids)
    files["services.c"] = services_c(gens, version)
    return files


def is_generated_name(fname):
    return fname == "services.c" or fname.endswith("_model.c") or fname.endswith("_ops.h")


def write_files(files, outdir):
    """Writes files into outdir, touching only those whose content changed
    (so make does not recompile the big tables needlessly); removes stale
    generated files. Returns the names written."""
    os.makedirs(outdir, exist_ok=True)
    written = []
    for fname in sorted(files):
        path = os.path.join(outdir, fname)
        data = files[fname].encode("utf-8")
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        except FileNotFoundError:
            pass
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        written.append(fname)
    for fname in sorted(os.listdir(outdir)):
        if is_generated_name(fname) and fname not in files:
            os.remove(os.path.join(outdir, fname))
            written.append(fname + " (removed)")
    return written


def check(files, gendir):
    """Regenerates into a temp dir and compares with gendir; returns the
    number of differing files and prints a short diff of each."""
    bad = 0
    tmp = tempfile.mkdtemp(prefix="gen_ops.")
    try:
        write_files(files, tmp)
        names = set(files)
        if os.path.isdir(gendir):
            names |= {f for f in os.listdir(gendir) if is_generated_name(f)}
        for fname in sorted(names):
            new_path = os.path.join(tmp, fname)
            old_path = os.path.join(gendir, fname)
            new = open(new_path, encoding="utf-8").read() if os.path.exists(new_path) else None
            old = open(old_path, encoding="utf-8").read() if os.path.exists(old_path) else None
            if new == old:
                continue
            bad += 1
            if old is None:
                print("gen-check: %s/%s is missing" % (GEN_REL, fname))
            elif new is None:
                print("gen-check: %s/%s is stale (not generated any more)" % (GEN_REL, fname))
            else:
                print("gen-check: %s/%s differs:" % (GEN_REL, fname))
                diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(),
                                                 "committed/" + fname, "generated/" + fname,
                                                 lineterm="", n=1))
                for line in diff[:40]:
                    print("  " + line)
                if len(diff) > 40:
                    print("  ... (%d more diff lines)" % (len(diff) - 40))
    finally:
        shutil.rmtree(tmp)
    return bad


def main(argv):
    ap = argparse.ArgumentParser(description="Generate src/aws/gen/ from botocore models.")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temp dir and diff against the committed files")
    ap.add_argument("--botocore", default=DEFAULT_BOTOCORE, help="botocore package directory")
    ap.add_argument("--out", default=os.path.join(REPO, GEN_REL), help="output directory")
    args = ap.parse_args(argv)
    try:
        files = generate(args.botocore)
    except (GenError, OSError, ValueError) as e:
        print("gen_ops: %s" % e, file=sys.stderr)
        return 2
    if args.check:
        bad = check(files, args.out)
        if bad:
            print("gen-check: %d generated file(s) out of date; run `make gen` and commit" % bad)
            return 1
        print("gen-check: %d files up to date" % len(files))
        return 0
    written = write_files(files, args.out)
    print("gen_ops: %d files, %d written%s" % (len(files), len(written),
                                                 (": " + ", ".join(written)) if written else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
