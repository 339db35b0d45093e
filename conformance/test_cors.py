"""Bucket CORS: Put/Get/DeleteBucketCors, preflight OPTIONS, CORS headers on actual requests.

Expected behaviour from the AWS documentation (userguide/cors.html, "How does Amazon S3
evaluate the CORS configuration on a bucket?"): the first rule whose AllowedOrigin,
AllowedMethod and (for a preflight) every Access-Control-Request-Headers entry match
is used; AllowedOrigin and AllowedHeader may hold one `*` wildcard; a preflight is
answered without authentication, 403 when no rule matches, 400 without Origin; the
headers are added to the responses of matching actual requests.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

import s3support as sup

AUTH = pytest.mark.shoebox_only("moto does not authenticate requests")

ACAO = "Access-Control-Allow-Origin"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
ACEH = "Access-Control-Expose-Headers"
ACMA = "Access-Control-Max-Age"


def error_of(resp: requests.Response) -> dict:
    assert resp.content, f"no error body (status {resp.status_code})"
    return sup.parse_error(resp.content)


def header_list(value: str | None) -> list[str]:
    return [v.strip().lower() for v in (value or "").split(",") if v.strip()]


def preflight(endpoint: str, path: str, origin: str | None, method: str | None,
              headers: str | None = None) -> requests.Response:
    h = {}
    if origin is not None:
        h["Origin"] = origin
    if method is not None:
        h["Access-Control-Request-Method"] = method
    if headers is not None:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(endpoint + path, headers=h, timeout=30)


def put_cors_raw(signed, bucket: str, xml: bytes) -> requests.Response:
    # PutBucketCors requires an integrity header; botocore sends a CRC32 checksum, this
    # sends Content-MD5 (both are accepted by S3).
    return signed("PUT", f"/{bucket}?cors", body=xml, headers={"Content-MD5": sup.content_md5(xml)})


# --------------------------------------------------------------------------
# configuration API
# --------------------------------------------------------------------------

RULES = [
    {
        "ID": "uploads",
        "AllowedHeaders": ["*"],
        "AllowedMethods": ["PUT", "POST", "DELETE"],
        "AllowedOrigins": ["http://www.example.com"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 3000,
    },
    {
        "AllowedHeaders": ["x-amz-meta-color", "Content-Type"],
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": ["http://*.example.net"],
    },
    {
        "AllowedMethods": ["GET"],
        "AllowedOrigins": ["*"],
    },
]


def test_put_get_delete_round_trip(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_cors(Bucket=bucket)
    assert sup.http_status(ei.value) == 404
    assert sup.error_code(ei.value) == "NoSuchCORSConfiguration"

    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got == RULES

    # replace, not merge
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [RULES[2]]})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [RULES[2]]

    resp = s3.delete_bucket_cors(Bucket=bucket)
    assert sup.http_status(resp) == 204
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_cors(Bucket=bucket)
    assert sup.error_code(ei.value) == "NoSuchCORSConfiguration"
    # deleting again is fine
    assert sup.http_status(s3.delete_bucket_cors(Bucket=bucket)) == 204


def test_cors_on_missing_bucket(s3, bucket_name):
    for call in (lambda: s3.get_bucket_cors(Bucket=bucket_name),
                 lambda: s3.put_bucket_cors(Bucket=bucket_name, CORSConfiguration={"CORSRules": RULES})):
        with pytest.raises(ClientError) as ei:
            call()
        assert sup.error_code(ei.value) == "NoSuchBucket"


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "get", "CONNECT"])
def test_unsupported_method_rejected(s3, bucket, method):
    # AllowedMethod is one of GET, PUT, POST, DELETE, HEAD (case-sensitive)
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET", method], "AllowedOrigins": ["*"]}]})
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "InvalidRequest"
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


@pytest.mark.parametrize("xml", [
    b"this is not xml",
    b"<CORSConfiguration></CORSConfiguration>",  # no rule
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",  # no origin
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",  # no method
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>",  # truncated
], ids=["garbage", "no-rule", "no-origin", "no-method", "truncated"])
@pytest.mark.shoebox_only("moto accepts malformed CORS documents")
def test_malformed_configuration(s3, bucket, signed, xml):
    resp = put_cors_raw(signed, bucket, xml)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["Code"] == "MalformedXML"
    assert signed("GET", f"/{bucket}?cors").status_code == 404


@pytest.mark.shoebox_only("moto accepts origins with two wildcards")
def test_two_wildcards_rejected(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET"], "AllowedOrigins": ["http://*.*.example.com"]}]})
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "InvalidRequest"


def test_raw_document_with_namespace(s3, bucket, signed):
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           b"<CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
           b"<AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader>"
           b"<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule>"
           b"</CORSConfiguration>")
    resp = put_cors_raw(signed, bucket, xml)
    assert resp.status_code == 200, resp.text
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [{
        "AllowedOrigins": ["https://a.example"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]


# --------------------------------------------------------------------------
# preflight
# --------------------------------------------------------------------------


@pytest.fixture
def cors_bucket(s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="photo.png", Body=b"png")
    return bucket


# (origin, method, request headers) -> expected: None for 403, else
# (Allow-Origin, methods that must be listed, Max-Age or None)
PREFLIGHT_CASES = [
    # rule 1: exact origin, AllowedHeader "*" allows anything
    ("http://www.example.com", "PUT", "content-type", ("http://www.example.com", {"PUT"}, "3000")),
    ("http://www.example.com", "POST", None, ("http://www.example.com", {"POST"}, "3000")),
    ("http://www.example.com", "DELETE", "x-amz-date, authorization, x-amz-content-sha256",
     ("http://www.example.com", {"DELETE"}, "3000")),
    # rule 1 does not allow GET; rule 3 (origin *) does, without headers
    ("http://www.example.com", "GET", None, ("*", {"GET"}, None)),
    ("http://www.example.com", "GET", "x-custom", None),
    # rule 2: wildcard origin, headers by exact name (case-insensitive)
    ("http://photos.example.net", "GET", "x-amz-meta-color", ("http://photos.example.net", {"GET"}, None)),
    ("http://photos.example.net", "HEAD", "Content-Type,X-Amz-Meta-Color", ("http://photos.example.net", {"HEAD"}, None)),
    ("http://a.b.example.net", "HEAD", None, ("http://a.b.example.net", {"HEAD"}, None)),
    ("http://photos.example.net", "GET", "x-amz-meta-size", None),  # header not allowed anywhere
    ("http://photos.example.net", "HEAD", "x-amz-meta-color, x-amz-meta-size", None),  # one of two not allowed
    ("http://photos.example.net", "PUT", "content-type", None),
    ("https://photos.example.net", "HEAD", None, None),  # scheme differs, rule 3 has no HEAD
    ("http://example.net", "HEAD", None, None),  # the wildcard needs the "." before example.net
    # rule 3: any origin, GET only
    ("http://evil.example.org", "GET", None, ("*", {"GET"}, None)),
    ("http://evil.example.org", "PUT", None, None),
    ("http://evil.example.org", "DELETE", "content-type", None),
    ("null", "GET", None, ("*", {"GET"}, None)),
    # methods are matched exactly
    ("http://www.example.com", "put", None, None),
]


@pytest.mark.shoebox_only("moto does not answer CORS preflight requests from the bucket's rules")
@pytest.mark.parametrize("origin,method,req_headers,expected", PREFLIGHT_CASES,
                         ids=[f"{o}-{m}-{h}" for o, m, h, _ in PREFLIGHT_CASES])
@pytest.mark.parametrize("path", ["object", "bucket"])
def test_preflight_matrix(endpoint, cors_bucket, origin, method, req_headers, expected, path):
    target = f"/{cors_bucket}/photo.png" if path == "object" else f"/{cors_bucket}"
    resp = preflight(endpoint, target, origin, method, req_headers)
    if expected is None:
        assert resp.status_code == 403, (resp.status_code, dict(resp.headers))
        assert error_of(resp)["Code"] == "AccessForbidden"
        assert ACAO not in resp.headers
        return
    allow_origin, methods, max_age = expected
    assert resp.status_code == 200, resp.text
    assert resp.headers.get(ACAO) == allow_origin, dict(resp.headers)
    assert methods <= set(m.upper() for m in header_list(resp.headers.get(ACAM))), dict(resp.headers)
    if req_headers:
        allowed = header_list(resp.headers.get(ACAH))
        for h in header_list(req_headers):
            assert h in allowed or "*" in allowed, (h, dict(resp.headers))
    if max_age is not None:
        assert resp.headers.get(ACMA) == max_age
    if allow_origin != "*":
        assert "origin" in header_list(resp.headers.get("Vary")), dict(resp.headers)
    assert resp.content == b""


@pytest.mark.shoebox_only("moto does not answer CORS preflight requests from the bucket's rules")
def test_preflight_expose_headers(endpoint, cors_bucket):
    resp = preflight(endpoint, f"/{cors_bucket}/new.png", "http://www.example.com", "PUT", "content-type")
    assert resp.status_code == 200
    assert set(header_list(resp.headers.get(ACEH))) == {"etag", "x-amz-request-id"}


@pytest.mark.shoebox_only("moto does not answer CORS preflight requests from the bucket's rules")
def test_preflight_without_origin_is_400(endpoint, cors_bucket):
    resp = preflight(endpoint, f"/{cors_bucket}/photo.png", None, "GET")
    assert resp.status_code == 400, resp.text
    assert ACAO not in resp.headers


@pytest.mark.shoebox_only("moto does not answer CORS preflight requests from the bucket's rules")
def test_preflight_without_configuration_is_403(endpoint, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    resp = preflight(endpoint, f"/{bucket}/k", "http://www.example.com", "GET")
    assert resp.status_code == 403
    assert error_of(resp)["Code"] == "AccessForbidden"
    assert ACAO not in resp.headers
    # and after a configuration is deleted
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert preflight(endpoint, f"/{bucket}/k", "http://www.example.com", "GET").status_code == 200
    s3.delete_bucket_cors(Bucket=bucket)
    assert preflight(endpoint, f"/{bucket}/k", "http://www.example.com", "GET").status_code == 403


@pytest.mark.shoebox_only("moto does not answer CORS preflight requests from the bucket's rules")
def test_preflight_missing_bucket_is_403(endpoint):
    resp = preflight(endpoint, f"/cf-{uuid.uuid4().hex[:16]}/k", "http://www.example.com", "GET")
    assert resp.status_code == 403
    assert ACAO not in resp.headers


@AUTH
def test_preflight_ignores_presigned_query(endpoint, cors_bucket, client_factory):
    # Chromium sends the preflight to the presigned URL itself, query string and all, and
    # without credentials: it must be answered from the rules whatever the query says
    # (expired, or signed with a wrong key).
    good = client_factory(signature_version="s3v4")
    bad = client_factory(sup.ROOT_ACCESS_KEY, "wrong-secret", signature_version="s3v4")
    urls = [
        good.generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "up.png",
                                                          "ContentType": "image/png"}, ExpiresIn=300),
        bad.generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "up.png"}, ExpiresIn=300),
        client_factory().generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "up.png"},
                                                ExpiresIn=300),
        good.generate_presigned_url("put_object", Params={"Bucket": cors_bucket, "Key": "up.png"}, ExpiresIn=1),
    ]
    time.sleep(1.5)
    for url in urls:
        resp = requests.options(url, headers={"Origin": "http://www.example.com",
                                              "Access-Control-Request-Method": "PUT",
                                              "Access-Control-Request-Headers": "content-type"}, timeout=30)
        assert resp.status_code == 200, (url, resp.text)
        assert resp.headers.get(ACAO) == "http://www.example.com"
        # a non-matching preflight to the same URL is still 403 AccessForbidden, not an auth error
        resp = requests.options(url, headers={"Origin": "http://other.example.org",
                                              "Access-Control-Request-Method": "PUT",
                                              "Access-Control-Request-Headers": "content-type"}, timeout=30)
        assert resp.status_code == 403
        assert error_of(resp)["Code"] == "AccessForbidden"
    # nothing was written by the preflights
    assert good.list_objects_v2(Bucket=cors_bucket)["KeyCount"] == 1


@AUTH
def test_preflight_is_not_authenticated(endpoint, cors_bucket):
    # an OPTIONS with a broken Authorization header is still just a preflight
    resp = requests.options(f"{endpoint}/{cors_bucket}/photo.png", headers={
        "Origin": "http://www.example.com", "Access-Control-Request-Method": "PUT",
        "Authorization": "AWS4-HMAC-SHA256 Credential=nobody/20000101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=00"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers.get(ACAO) == "http://www.example.com"


# --------------------------------------------------------------------------
# actual requests
# --------------------------------------------------------------------------

ORIGIN = "http://app.example.com"
ACTUAL_RULES = [{
    "AllowedOrigins": [ORIGIN, "http://*.example.org"],
    "AllowedMethods": ["GET", "PUT", "HEAD", "POST", "DELETE"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag", "x-amz-version-id"],
    "MaxAgeSeconds": 600,
}]


@pytest.fixture
def actual_bucket(s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": ACTUAL_RULES})
    s3.put_object(Bucket=bucket, Key="photo.png", Body=b"png bytes")
    return bucket


def assert_cors_headers(resp, origin: str = ORIGIN) -> None:
    assert resp.headers.get(ACAO) == origin, (resp.status_code, dict(resp.headers))
    assert "etag" in header_list(resp.headers.get(ACEH)), dict(resp.headers)
    assert "origin" in header_list(resp.headers.get("Vary")), dict(resp.headers)


def assert_no_cors_headers(resp) -> None:
    assert ACAO not in resp.headers, dict(resp.headers)
    assert ACEH not in resp.headers, dict(resp.headers)


@pytest.mark.shoebox_only("moto does not add CORS headers to responses")
def test_actual_requests_get_cors_headers(actual_bucket, signed):
    b = actual_bucket
    o = {"Origin": ORIGIN}
    body = b"new png"
    resp = signed("PUT", f"/{b}/new.png", body=body, headers=o)
    assert resp.status_code == 200
    assert resp.headers["ETag"] == sup.md5_etag(body)
    assert_cors_headers(resp)
    resp = signed("GET", f"/{b}/new.png", headers=o)
    assert resp.content == body
    assert_cors_headers(resp)
    resp = signed("HEAD", f"/{b}/new.png", headers=o)
    assert resp.status_code == 200
    assert_cors_headers(resp)
    resp = signed("GET", f"/{b}?list-type=2", headers=o)
    assert resp.status_code == 200
    assert_cors_headers(resp)
    resp = signed("DELETE", f"/{b}/new.png", headers=o)
    assert resp.status_code == 204
    assert_cors_headers(resp)
    # wildcard origin rule
    resp = signed("GET", f"/{b}/photo.png", headers={"Origin": "http://cdn.example.org"})
    assert resp.status_code == 200
    assert_cors_headers(resp, "http://cdn.example.org")


@pytest.mark.shoebox_only("moto does not add CORS headers to responses")
def test_error_responses_get_cors_headers(actual_bucket, signed, endpoint):
    b = actual_bucket
    o = {"Origin": ORIGIN}
    resp = signed("GET", f"/{b}/missing.png", headers=o)
    assert resp.status_code == 404
    assert_cors_headers(resp)
    # anonymous (private bucket): 403 AccessDenied, still readable by the page
    resp = requests.get(f"{endpoint}/{b}/photo.png", headers=o, timeout=30)
    assert resp.status_code == 403
    assert error_of(resp)["Code"] == "AccessDenied"
    assert_cors_headers(resp)
    # a bad signature
    resp = signed("PUT", f"/{b}/x.png", body=b"x", headers=o, secret_key="wrong")
    assert resp.status_code == 403
    assert error_of(resp)["Code"] == "SignatureDoesNotMatch"
    assert_cors_headers(resp)
    # an expired presigned URL
    from test_presigned import hand_presign_v2
    url = hand_presign_v2("GET", endpoint, f"/{b}/photo.png", expires_at=int(time.time()) - 5)
    resp = requests.get(url, headers=o, timeout=30)
    assert resp.status_code == 403
    assert_cors_headers(resp)


@pytest.mark.shoebox_only("moto does not add CORS headers to responses")
def test_presigned_get_with_origin(actual_bucket, client_factory):
    for ps in (client_factory(), client_factory(signature_version="s3v4")):
        url = ps.generate_presigned_url("get_object", Params={"Bucket": actual_bucket, "Key": "photo.png"},
                                        ExpiresIn=300)
        resp = requests.get(url, headers={"Origin": ORIGIN}, timeout=30)
        assert resp.status_code == 200
        assert resp.content == b"png bytes"
        assert_cors_headers(resp)


@pytest.mark.shoebox_only("moto does not add CORS headers to responses")
def test_non_matching_origin_gets_no_cors_headers(actual_bucket, signed, s3):
    b = actual_bucket
    for origin in ("http://evil.example.com", "https://app.example.com", "http://app.example.com:8080",
                   "http://example.org"):
        resp = signed("GET", f"/{b}/photo.png", headers={"Origin": origin})
        assert resp.status_code == 200  # the request itself is served; the browser hides it
        assert_no_cors_headers(resp)
    # no Origin at all
    resp = signed("GET", f"/{b}/photo.png")
    assert resp.status_code == 200
    assert_no_cors_headers(resp)
    # a bucket without CORS configuration
    bucket_name = "cf-" + uuid.uuid4().hex[:20]
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"")
    resp = signed("GET", f"/{bucket_name}/k", headers={"Origin": ORIGIN})
    assert resp.status_code == 200
    assert_no_cors_headers(resp)


@pytest.mark.shoebox_only("moto does not add CORS headers to responses")
def test_method_not_in_rule_gets_no_cors_headers(s3, bucket, signed):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [ORIGIN], "AllowedMethods": ["GET"], "ExposeHeaders": ["ETag"]}]})
    resp = signed("PUT", f"/{bucket}/k", body=b"x", headers={"Origin": ORIGIN})
    assert resp.status_code == 200
    assert_no_cors_headers(resp)
    resp = signed("GET", f"/{bucket}/k", headers={"Origin": ORIGIN})
    assert resp.status_code == 200
    assert_cors_headers(resp)


@pytest.mark.shoebox_only("moto does not add CORS headers to responses")
def test_post_upload_gets_cors_headers(actual_bucket, client_factory):
    post = client_factory(signature_version="s3v4").generate_presigned_post(actual_bucket, "form.png", ExpiresIn=300)
    parts = [(k, (None, v)) for k, v in post["fields"].items()] + [("file", ("f.png", b"form", "image/png"))]
    resp = requests.post(post["url"], files=parts, headers={"Origin": ORIGIN}, timeout=30)
    assert resp.status_code == 204, resp.text
    assert resp.headers["ETag"] == sup.md5_etag(b"form")
    assert_cors_headers(resp)
    # a rejected form (wrong signature) too
    fields = dict(post["fields"], **{"x-amz-signature": "0" * 64})
    parts = [(k, (None, v)) for k, v in fields.items()] + [("file", ("f.png", b"form", "image/png"))]
    resp = requests.post(post["url"], files=parts, headers={"Origin": ORIGIN}, timeout=30)
    assert resp.status_code == 403
    assert_cors_headers(resp)


# AllowedOrigin with one `*` anywhere in it (AWS: "can contain at most one * wildcard
# character", e.g. http://*.example.com): the star stands for any run of characters.
WILDCARD_RULES = [
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*.example.com"]},
    {"AllowedMethods": ["PUT"], "AllowedOrigins": ["http://*.suffix"]},
    {"AllowedMethods": ["DELETE"], "AllowedOrigins": ["https://www.*.com"]},
]
WILDCARD_CASES = [
    ("http://www.example.com", "GET", True),
    ("https://a.b.example.com", "GET", True),
    ("http://example.com", "GET", False),  # the "." before example.com is in the pattern
    ("http://www.example.com.evil.net", "GET", False),
    ("http://photos.suffix", "PUT", True),
    ("http://a.b.suffix", "PUT", True),
    ("https://photos.suffix", "PUT", False),  # scheme is part of the pattern
    ("http://photos.suffix.net", "PUT", False),
    ("https://www.anything.com", "DELETE", True),
    ("https://www.a.b.com", "DELETE", True),
    ("https://www.example.org", "DELETE", False),
    ("http://www.example.com", "DELETE", False),  # scheme differs
    ("https://mail.example.com", "DELETE", False),  # prefix differs
]


@pytest.mark.shoebox_only("moto does not answer CORS preflight requests from the bucket's rules")
@pytest.mark.parametrize("origin,method,allowed", WILDCARD_CASES, ids=[f"{o}-{m}" for o, m, _ in WILDCARD_CASES])
def test_wildcard_origin_patterns(s3, bucket, endpoint, signed, origin, method, allowed):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": WILDCARD_RULES})
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [r["AllowedOrigins"] for r in rules] == [r["AllowedOrigins"] for r in WILDCARD_RULES]
    resp = preflight(endpoint, f"/{bucket}/k", origin, method)
    if not allowed:
        assert resp.status_code == 403, dict(resp.headers)
        assert ACAO not in resp.headers
        return
    assert resp.status_code == 200, resp.text
    assert resp.headers.get(ACAO) == origin  # the origin itself, not the pattern
    assert method in [m.upper() for m in header_list(resp.headers.get(ACAM))]
    # the actual request gets the same headers
    actual = signed(method, f"/{bucket}/k", headers={"Origin": origin}, body=b"x" if method == "PUT" else b"")
    assert actual.headers.get(ACAO) == origin, dict(actual.headers)
