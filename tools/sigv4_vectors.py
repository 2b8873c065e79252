#!/usr/bin/python3
"""sigv4_vectors.py - SigV4 test vectors for tests/unit/test_sigv4.c.

Signs requests with Debian's botocore (SigV4Auth, S3SigV4Auth, SigV4QueryAuth,
S3SigV4QueryAuth) at a fixed clock and prints a C array of vectors: the raw
HTTP request as it goes on the wire, the secret, the signing time, the S3
flag and botocore's own canonical request. Paste the output into the test,
between its clang-format off/on markers.

    /usr/bin/python3 tools/sigv4_vectors.py > /tmp/vectors.inc
    /usr/bin/python3 tools/sigv4_vectors.py --check tests/unit/test_sigv4.c
"""
import datetime
import io
import sys
from urllib.parse import quote, urlsplit

import botocore.auth
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FIXED = datetime.datetime(2026, 11, 22, 4, 5, 44)
HOST = "127.0.0.1:4566"


class FixedDatetime(datetime.datetime):
    """datetime whose utcnow() is FIXED: botocore reads the clock there."""

    @classmethod
    def utcnow(cls):
        return FIXED


class FakeDatetimeModule:
    datetime = FixedDatetime


botocore.auth.datetime = FakeDatetimeModule


class RawPathSigV4Auth(SigV4Auth):
    """Signs like the Go SDK: non-S3 paths encoded again but not normalised."""

    def _normalize_url_path(self, path):
        return quote(path, safe="/~")


class UnsignedPayloadQueryAuth(SigV4QueryAuth):
    """A presigned non-S3 URL over UNSIGNED-PAYLOAD, as some SDKs make them."""

    def payload(self, request):
        return botocore.auth.UNSIGNED_PAYLOAD


def sign(name, signer_cls, method, path_query, headers=(), body=b"", service="s3",
         region="us-east-1", akid="AKIDEXAMPLE", secret="test", token=None, expires=None,
         exact=1):
    """Signs one request; returns a dict describing the vector. exact=0 marks
    requests whose canonical form is not the one sigv4.c tries first (it
    accepts them through a fallback), so only the signature is checked."""
    req = AWSRequest(method=method, url="http://" + HOST + path_query, data=body)
    req.headers["Host"] = HOST
    for k, v in headers:
        req.headers[k] = v  # HTTPHeaders appends, so repeats are kept
    creds = Credentials(akid, secret, token)
    if expires is not None:
        signer = signer_cls(creds, service, region, expires=expires)
    else:
        signer = signer_cls(creds, service, region)
    seen = {}
    orig = signer.canonical_request

    def capture(r):
        seen["creq"] = orig(r)
        return seen["creq"]

    signer.canonical_request = capture
    signer.add_auth(req)
    parts = urlsplit(req.url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    wire = f"{method} {target} HTTP/1.1\r\n"
    for k, v in req.headers.items():
        wire += f"{k}: {v}\r\n"
    if body:
        wire += f"Content-Length: {len(body)}\r\n"
    wire += "\r\n"
    wire += body.decode() if isinstance(body, bytes) else body
    return {
        "name": name,
        "wire": wire,
        "secret": secret,
        "s3": 1 if signer_cls in (S3SigV4Auth, S3SigV4QueryAuth) else 0,
        "exact": exact,
        "creq": seen["creq"],
    }


def c_string(s, indent):
    """s as adjacent C string literals, one per line of s."""
    out = []
    for line in s.splitlines(keepends=True):
        esc = (line.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t"))
        out.append(indent + '"' + esc + '"')
    return "\n".join(out) if out else indent + '""'


def vectors():
    v = []
    # S3 PUT of 'dir/a b+c.txt' with metadata, content type and MD5 (§5.3 shape)
    v.append(sign("s3_put_key_with_space_plus", S3SigV4Auth, "PUT", "/mybucket/dir/a%20b%2Bc.txt",
                  [("Content-Type", "text/plain"), ("x-amz-meta-k", "v"),
                   ("Content-MD5", "sZRqySSS0jR8YjW00mERhA==")], b"hello\n"))
    # S3 ListObjectsV2 as `aws s3 ls s3://mybucket/some/prefix/` sends it
    v.append(sign("s3_list_objects_v2", S3SigV4Auth, "GET",
                  "/mybucket?list-type=2&prefix=some%2Fprefix%2F&delimiter=%2F&encoding-type=url"))
    # S3 sub-resource without a value, and a non-ASCII key
    v.append(sign("s3_acl_subresource", S3SigV4Auth, "GET", "/mybucket/%C3%A9t%C3%A9.txt?acl"))
    # presigned S3 GET with a session token (+ / = in it)
    v.append(sign("s3_presigned_get_token", S3SigV4QueryAuth, "GET",
                  "/mybucket/dir/a%20b%2Bc.txt", token="FQoG+abc/def==", expires=3600))
    # presigned S3 GET with response overrides and a version id
    v.append(sign("s3_presigned_get_params", S3SigV4QueryAuth, "GET",
                  "/mybucket/k?versionId=abc&response-content-disposition="
                  "attachment%3B%20filename%3D%22x.txt%22", expires=604800))
    # presigned STS GetCallerIdentity with a signed extra header (EKS token)
    v.append(sign("sts_presigned_eks", SigV4QueryAuth, "GET",
                  "/?Action=GetCallerIdentity&Version=2011-06-15",
                  [("x-k8s-aws-id", "my-cluster")], service="sts", expires=60))
    # CloudFront-style rest-xml path with '%' (double encoding)
    v.append(sign("cloudfront_double_encoding", SigV4Auth, "POST",
                  "/2020-05-31/distribution/E%2F123/invalidation", [],
                  b"<InvalidationBatch/>", service="cloudfront"))
    # non-S3 path with dot and empty segments (botocore normalises them)
    v.append(sign("lambda_dot_segments", SigV4Auth, "GET", "/a/./b/../c//d/", [], b"",
                  service="lambda"))
    # header values with runs of blanks, and a repeated header
    v.append(sign("json_trimall_repeated", SigV4Auth, "POST", "/",
                  [("X-Amz-Target", "secretsmanager.ListSecrets"),
                   ("Content-Type", "application/x-amz-json-1.1"),
                   ("X-Amz-Meta-Spaces", "a   b \t c"),
                   ("X-Amz-Foo", "1"), ("X-Amz-Foo", "2")],
                  b"{}", service="secretsmanager"))
    # Date header (RFC 1123, "-0000" zone as Python writes it) instead of X-Amz-Date
    v.append(sign("query_date_header", SigV4Auth, "POST", "/",
                  [("Date", "placeholder"),
                   ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                  b"Action=GetCallerIdentity&Version=2011-06-15", service="sts"))
    # session token in a header, JSON protocol, another region
    v.append(sign("json_session_token", SigV4Auth, "POST", "/",
                  [("X-Amz-Target", "TrentService.ListKeys"),
                   ("Content-Type", "application/x-amz-json-1.1")],
                  b"{}", service="kms", region="eu-west-3", akid="ASIAEXAMPLE",
                  secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token="IQoJb3JpZ2luX2VjE+/=="))
    # S3 PUT with a query string of many kinds of characters
    v.append(sign("s3_query_specials", S3SigV4Auth, "GET",
                  "/mybucket?prefix=a%20b%2Bc%26d%3De%2F~&marker=%C3%A9&max-keys=5"))
    # --- accepted through fallbacks: botocore signs a hand-made query as
    # sent ('%7E', raw '/'), Go does not normalise paths, some SDKs presign
    # non-S3 URLs over UNSIGNED-PAYLOAD
    v.append(sign("s3_query_as_sent", S3SigV4Auth, "GET", "/mybucket?prefix=a/b%7E&x=%2f",
                  exact=0))
    v.append(sign("s3_query_as_sent_equals", S3SigV4Auth, "GET", "/mybucket?x=a=b", exact=0))
    v.append(sign("go_raw_path", RawPathSigV4Auth, "GET", "/a/./b/../c//d/", [], b"",
                  service="lambda", exact=0))
    v.append(sign("presigned_unsigned_payload", UnsignedPayloadQueryAuth, "GET",
                  "/?Action=GetCallerIdentity&Version=2011-06-15", service="sts", expires=900,
                  exact=0))
    return v


def render(out):
    """Writes the C block of vectors to out."""
    ts = int(FIXED.replace(tzinfo=datetime.timezone.utc).timestamp())
    out.write("/* Generated by tools/sigv4_vectors.py (botocore %s) at a fixed clock of\n"
              " * %s UTC = %d. */\n" % (botocore.__version__, FIXED.isoformat(), ts))
    out.write("#define BOTOCORE_SIGN_TIME %d\n" % ts)
    out.write("static const struct vector botocore_vectors[] = {\n")
    for vec in vectors():
        out.write("\t{\n\t\t\"%s\",\n" % vec["name"])
        out.write(c_string(vec["wire"], "\t\t") + ",\n")
        out.write("\t\t\"%s\",\n\t\t%d,\n\t\t%d,\n" % (vec["secret"], vec["s3"], vec["exact"]))
        out.write(c_string(vec["creq"], "\t\t") + ",\n\t},\n")
    out.write("};\n")


def main():
    """Prints the vectors, or with --check FILE exits 1 unless FILE holds
    exactly the block this botocore generates."""
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        buf = io.StringIO()
        render(buf)
        text = open(sys.argv[2]).read()
        if buf.getvalue() not in text:
            sys.stderr.write("%s: botocore vectors are stale; regenerate with "
                             "tools/sigv4_vectors.py\n" % sys.argv[2])
            return 1
        return 0
    render(sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
