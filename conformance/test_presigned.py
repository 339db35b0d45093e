"""Presigned URLs (query-string authentication), fetched with plain `requests`.

Both schemes real clients produce:
  * SigV2 (`AWSAccessKeyId`, `Signature`, `Expires`): what boto3 and `aws s3 presign`
    generate by default in us-east-1;
  * SigV4 (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
    `X-Amz-SignedHeaders`, `X-Amz-Signature`): boto3 with signature_version='s3v4'.

URLs come from boto3 / aws-cli, and for the cases clients refuse to produce (past
times, out-of-range expiry) from the small signers below, written from the AWS
documentation (sigv4-query-string-auth, RESTAuthentication#RESTAuthenticationQueryStringAuth)
and checked against the server with valid URLs first.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
import uuid
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
import requests

import s3support as sup

AUTH = pytest.mark.shoebox_only("moto does not authenticate presigned URLs")

SIGVERS = ["v2", "v4"]


# --------------------------------------------------------------------------
# helpers (hand_presign_v2 is also used by test_cors.py)
# --------------------------------------------------------------------------


def presigner(client_factory, sigver: str, access_key: str = sup.ROOT_ACCESS_KEY,
              secret_key: str = sup.ROOT_SECRET_KEY):
    """A boto3 client whose generate_presigned_url produces `sigver` URLs."""
    if sigver == "v4":
        return client_factory(access_key, secret_key, signature_version="s3v4")
    return client_factory(access_key, secret_key)  # botocore default: SigV2 query auth in us-east-1


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def assert_scheme(url: str, sigver: str) -> None:
    q = query_of(url)
    if sigver == "v2":
        assert {"AWSAccessKeyId", "Signature", "Expires"} <= set(q), url
        assert "X-Amz-Signature" not in q, url
    else:
        assert {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                "X-Amz-SignedHeaders", "X-Amz-Signature"} <= set(q), url
        assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert "host" in q["X-Amz-SignedHeaders"].split(";")


def with_query(url: str, **changes) -> str:
    """`url` with query parameters replaced (order kept, values re-encoded)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs = [(k, changes.pop(k) if k in changes else v) for k, v in pairs]
    pairs += list(changes.items())
    return urlunsplit(parts._replace(query=urlencode(pairs, quote_via=quote, safe="")))


def flip_char(s: str) -> str:
    """`s` with its last hex/base64 character changed."""
    last = s[-1]
    repl = "0" if last != "0" else "1"
    if s.endswith("="):  # base64 padding: change a data character instead
        i = s.rstrip("=")
        return i[:-1] + ("A" if i[-1] != "A" else "B") + s[len(i):]
    return s[:-1] + repl


def _uri(s: str) -> str:
    return quote(s, safe="-_.~")


def hand_presign_v4(method: str, endpoint: str, path: str, *, expires: int | str = 300,
                    when: dt.datetime | None = None, access_key: str = sup.ROOT_ACCESS_KEY,
                    secret_key: str = sup.ROOT_SECRET_KEY, region: str = sup.REGION,
                    headers: dict | None = None, params: dict | None = None) -> str:
    """A SigV4 presigned URL computed from the AWS documentation (not with botocore).

    `path` is already URI-encoded ("/bucket/key"). `headers` are extra signed headers the
    caller must send. `when` is the signing time (naive or aware UTC).
    """
    when = (when or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = when.strftime("%Y%m%d")
    scope = f"{day}/{region}/s3/aws4_request"
    hdrs = {"host": urlsplit(endpoint).netloc}
    hdrs.update({k.lower(): str(v).strip() for k, v in (headers or {}).items()})
    signed = ";".join(sorted(hdrs))
    q = dict(params or {})
    q.update({
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": signed,
    })
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted((_uri(k), _uri(str(v))) for k, v in q.items()))
    canonical_headers = "".join(f"{k}:{hdrs[k]}\n" for k in sorted(hdrs))
    creq = "\n".join([method, path, canonical_query, canonical_headers, signed, "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = signing_key_v4(secret_key, day, region)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return f"{endpoint}{path}?{canonical_query}&X-Amz-Signature={sig}"


def signing_key_v4(secret_key: str, day: str, region: str = sup.REGION, service: str = "s3") -> bytes:
    k = hmac.new(("AWS4" + secret_key).encode(), day.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    return hmac.new(k, b"aws4_request", hashlib.sha256).digest()


def hand_presign_v2(method: str, endpoint: str, path: str, *, expires_at: int,
                    access_key: str = sup.ROOT_ACCESS_KEY, secret_key: str = sup.ROOT_SECRET_KEY,
                    content_type: str = "", content_md5: str = "") -> str:
    """A SigV2 query-string URL: Signature = Base64(HMAC-SHA1(secret,
    VERB\\nContent-MD5\\nContent-Type\\nExpires\\nCanonicalizedResource))."""
    sts = f"{method}\n{content_md5}\n{content_type}\n{expires_at}\n{path}"
    sig = base64.b64encode(hmac.new(secret_key.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return f"{endpoint}{path}?AWSAccessKeyId={_uri(access_key)}&Expires={expires_at}&Signature={_uri(sig)}"


def error_of(resp: requests.Response) -> dict:
    assert resp.content, f"no error body (status {resp.status_code})"
    return sup.parse_error(resp.content)


# --------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sigver", SIGVERS)
def test_put_get_head_delete_round_trip(s3, bucket, client_factory, sigver):
    ps = presigner(client_factory, sigver)
    key = f"presigned/{sigver}/object.bin"
    body = sup.deterministic_body(key, 70_001)
    params = {"Bucket": bucket, "Key": key}

    put_url = ps.generate_presigned_url("put_object", Params=params, ExpiresIn=300)
    assert_scheme(put_url, sigver)
    resp = requests.put(put_url, data=body, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["ETag"] == sup.md5_etag(body)
    stored = s3.get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == body

    get_url = ps.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    assert_scheme(get_url, sigver)
    resp = requests.get(get_url, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == body
    assert resp.headers["ETag"] == sup.md5_etag(body)

    head_url = ps.generate_presigned_url("head_object", Params=params, ExpiresIn=300)
    resp = requests.head(head_url, timeout=30)
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) == len(body)
    assert resp.headers["ETag"] == sup.md5_etag(body)

    # The same URL fetched twice works twice (presigned URLs are not one-shot).
    assert requests.get(get_url, timeout=30).content == body

    del_url = ps.generate_presigned_url("delete_object", Params=params, ExpiresIn=300)
    resp = requests.delete(del_url, timeout=30)
    assert resp.status_code == 204, resp.text
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    # GET with the still-valid URL: authenticated, so the answer is NoSuchKey, not 403
    resp = requests.get(get_url, timeout=30)
    assert resp.status_code == 404
    assert error_of(resp)["Code"] == "NoSuchKey"


@pytest.mark.parametrize("sigver", SIGVERS)
def test_put_with_content_type(s3, bucket, client_factory, sigver):
    ps = presigner(client_factory, sigver)
    url = ps.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pic.png",
                                                          "ContentType": "image/png"}, ExpiresIn=300)
    assert_scheme(url, sigver)
    if sigver == "v4":
        assert "content-type" in query_of(url)["X-Amz-SignedHeaders"].split(";")
    resp = requests.put(url, data=b"\x89PNG fake", headers={"Content-Type": "image/png"}, timeout=30)
    assert resp.status_code == 200, resp.text
    head = s3.head_object(Bucket=bucket, Key="pic.png")
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == len(b"\x89PNG fake")


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_put_with_other_content_type_is_rejected(s3, bucket, client_factory, sigver):
    ps = presigner(client_factory, sigver)
    url = ps.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pic.png",
                                                          "ContentType": "image/png"}, ExpiresIn=300)
    resp = requests.put(url, data=b"not a png", headers={"Content-Type": "text/plain"}, timeout=30)
    assert resp.status_code == 403, resp.text
    assert error_of(resp)["Code"] == "SignatureDoesNotMatch"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("sigver", SIGVERS)
def test_odd_keys(s3, bucket, client_factory, sigver):
    ps = presigner(client_factory, sigver)
    keys = ["dir/a b+c&d=e.txt", "ünïcødé/ファイル.txt", "semi;colon,comma'quote(1)", "tilde~star*!$"]
    for key in keys:
        body = key.encode() * 3
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        url = ps.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
        resp = requests.get(url, timeout=30)
        assert resp.status_code == 200, (key, resp.text)
        assert resp.content == body
        put = ps.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key + ".copy"}, ExpiresIn=300)
        resp = requests.put(put, data=body, timeout=30)
        assert resp.status_code == 200, (key, resp.text)
        assert s3.get_object(Bucket=bucket, Key=key + ".copy")["Body"].read() == body


@pytest.mark.shoebox_only("moto ignores the response-* override query parameters")
@pytest.mark.parametrize("sigver", SIGVERS)
def test_response_header_overrides(s3, bucket, client_factory, sigver):
    # response-* parameters are part of what is signed (SigV2: sub-resources of the
    # canonical resource; SigV4: the canonical query string)
    ps = presigner(client_factory, sigver)
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"hello", ContentType="text/plain")
    url = ps.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "doc.txt",
        "ResponseContentType": "application/x-test",
        "ResponseContentDisposition": 'attachment; filename="greeting.txt"',
        "ResponseCacheControl": "no-store",
    })
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"hello"
    assert resp.headers["Content-Type"] == "application/x-test"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="greeting.txt"'
    assert resp.headers["Cache-Control"] == "no-store"


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_response_override_is_signed(s3, bucket, client_factory, sigver):
    ps = presigner(client_factory, sigver)
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"hello")
    url = ps.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "doc.txt", "ResponseContentType": "text/plain"})
    resp = requests.get(with_query(url, **{"response-content-type": "text/html"}), timeout=30)
    assert resp.status_code == 403, resp.text
    assert error_of(resp)["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize("sigver", SIGVERS)
def test_presigned_list_objects(s3, bucket, client_factory, sigver):
    # For a bucket-only path botocore's SigV2 signer uses the canonical resource
    # "/bucket/" while the URL path is "/bucket" (botocore/handlers.py: "If the request
    # URI is ONLY a bucket, the auth_path must be terminated with a '/' character to
    # generate a signature that the server will accept").
    ps = presigner(client_factory, sigver)
    for k in ("b", "a", "c/d"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    url = ps.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket}, ExpiresIn=300)
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    root = sup.ET.fromstring(resp.content)
    keys = [sup.find_text(c, "Key") for c in sup.find_all(root, "Contents")]
    assert keys == ["a", "b", "c/d"]


def test_aws_cli_presign(s3, bucket, aws_cli):
    body = b"shared via aws s3 presign\n"
    s3.put_object(Bucket=bucket, Key="dir/shared file.txt", Body=body)
    proc = aws_cli("s3", "presign", f"s3://{bucket}/dir/shared file.txt", "--expires-in", "600")
    assert proc.returncode == 0, proc.stderr
    url = proc.stdout.strip()
    assert_scheme(url, "v2")  # aws-cli's default in us-east-1 (clients-on-the-wire.md)
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == body


@AUTH
def test_aws_cli_presign_expired(s3, bucket, aws_cli):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    proc = aws_cli("s3", "presign", f"s3://{bucket}/k", "--expires-in", "1")
    assert proc.returncode == 0, proc.stderr
    time.sleep(2.2)
    resp = requests.get(proc.stdout.strip(), timeout=30)
    assert resp.status_code == 403
    err = error_of(resp)
    assert err["Code"] == "AccessDenied"
    assert err["Message"] == "Request has expired"


# --------------------------------------------------------------------------
# the hand-made signers agree with the server (so the negative tests below are sound)
# --------------------------------------------------------------------------


def test_hand_signed_v4_url_works(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="a b/ü.txt", Body=b"hand v4")
    path = f"/{bucket}/" + sup.quote_key("a b/ü.txt")
    resp = requests.get(hand_presign_v4("GET", endpoint, path, expires=60), timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"hand v4"
    # the longest allowed validity, one week
    resp = requests.get(hand_presign_v4("GET", endpoint, path, expires=604800), timeout=30)
    assert resp.status_code == 200, resp.text
    # signed an hour ago, valid for two
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    resp = requests.get(hand_presign_v4("GET", endpoint, path, expires=7200, when=when), timeout=30)
    assert resp.status_code == 200, resp.text


def test_hand_signed_v2_url_works(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="a b/ü.txt", Body=b"hand v2")
    path = f"/{bucket}/" + sup.quote_key("a b/ü.txt")
    resp = requests.get(hand_presign_v2("GET", endpoint, path, expires_at=int(time.time()) + 60), timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"hand v2"
    resp = requests.put(hand_presign_v2("PUT", endpoint, f"/{bucket}/typed", expires_at=int(time.time()) + 60,
                                        content_type="text/csv"),
                        data=b"a,b\n", headers={"Content-Type": "text/csv"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert s3.head_object(Bucket=bucket, Key="typed")["ContentType"] == "text/csv"


# --------------------------------------------------------------------------
# expiry
# --------------------------------------------------------------------------


@AUTH
def test_expired_urls_from_boto3(s3, bucket, client_factory):
    s3.put_object(Bucket=bucket, Key="k", Body=b"soon gone")
    urls = {}
    for sigver in SIGVERS:
        ps = presigner(client_factory, sigver)
        urls[sigver] = {
            "GET": ps.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1),
            "PUT": ps.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1),
            "DELETE": ps.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1),
            "HEAD": ps.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1),
        }
    time.sleep(2.2)
    for sigver, by_method in urls.items():
        for method, url in by_method.items():
            resp = requests.request(method, url, data=b"overwritten" if method == "PUT" else None, timeout=30)
            assert resp.status_code == 403, (sigver, method, resp.status_code, resp.text)
            if method != "HEAD":
                err = error_of(resp)
                assert err["Code"] == "AccessDenied", (sigver, method, err)
                assert err["Message"] == "Request has expired", (sigver, method, err)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"soon gone"


@AUTH
def test_expired_hand_signed(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    path = f"/{bucket}/k"
    # SigV4: signed 20 minutes ago, valid for 10
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=20)
    resp = requests.get(hand_presign_v4("GET", endpoint, path, expires=600, when=when), timeout=30)
    assert resp.status_code == 403
    err = error_of(resp)
    assert (err["Code"], err["Message"]) == ("AccessDenied", "Request has expired")
    # SigV4: signed 8 days ago with the longest validity
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)
    resp = requests.get(hand_presign_v4("GET", endpoint, path, expires=604800, when=when), timeout=30)
    assert resp.status_code == 403
    assert error_of(resp)["Code"] == "AccessDenied"
    # SigV2: Expires in the past
    resp = requests.get(hand_presign_v2("GET", endpoint, path, expires_at=int(time.time()) - 30), timeout=30)
    assert resp.status_code == 403
    err = error_of(resp)
    assert (err["Code"], err["Message"]) == ("AccessDenied", "Request has expired")


WEEK_MESSAGE = ("X-Amz-Expires must be less than a week (in seconds); that is, "
                "the given X-Amz-Expires must be less than 604800 seconds")


@AUTH
@pytest.mark.parametrize("expires,status,code,message", [
    # X-Amz-Expires must be a number (400 AuthorizationQueryParametersError); issue 17:
    # 0, negative, over a week, like an expired URL, are 403 AccessDenied.
    ("0", 403, "AccessDenied", "Request has expired"),
    ("604801", 403, "AccessDenied", WEEK_MESSAGE),
    ("-5", 403, "AccessDenied", "X-Amz-Expires must be non-negative"),
    ("soon", 400, "AuthorizationQueryParametersError", "X-Amz-Expires should be a number"),
])
def test_v4_expires_out_of_range(s3, bucket, endpoint, expires, status, code, message):
    # X-Amz-Expires: "Minimum value of 1, maximum of 604800 (seven days)". boto3 will
    # not produce these, so the URL is signed by hand, correctly otherwise.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    resp = requests.get(hand_presign_v4("GET", endpoint, f"/{bucket}/k", expires=expires), timeout=30)
    assert resp.status_code == status, resp.text
    err = error_of(resp)
    assert (err["Code"], err["Message"]) == (code, message)
    if message == "Request has expired":  # S3 names the validity, the expiry and its own clock
        assert err.get("X-Amz-Expires") == expires, err
        assert err.get("Expires", "").endswith("Z") and err.get("ServerTime", "").endswith("Z"), err


@AUTH
@pytest.mark.parametrize("expires,message", [
    ("soon", "Invalid date (should be seconds since epoch): soon"),
    (None, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"),
])
def test_v2_bad_expires_is_access_denied(s3, bucket, endpoint, expires, message):
    # SigV2 query authentication: an Expires that is not a time, or none, is 403 AccessDenied.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = hand_presign_v2("GET", endpoint, f"/{bucket}/k", expires_at=int(time.time()) + 60)
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query) if k != "Expires"]
    if expires is not None:
        pairs.append(("Expires", expires))
    resp = requests.get(urlunsplit(parts._replace(query=urlencode(pairs))), timeout=30)
    assert resp.status_code == 403, resp.text
    err = error_of(resp)
    assert (err["Code"], err["Message"]) == ("AccessDenied", message)


# --------------------------------------------------------------------------
# tampering and bad credentials
# --------------------------------------------------------------------------


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_tampered_urls(s3, bucket, client_factory, endpoint, sigver):
    ps = presigner(client_factory, sigver)
    s3.put_object(Bucket=bucket, Key="real", Body=b"real")
    s3.put_object(Bucket=bucket, Key="other", Body=b"other")
    url = ps.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "real"}, ExpiresIn=300)
    assert requests.get(url, timeout=30).content == b"real"
    q = query_of(url)
    sig_name = "Signature" if sigver == "v2" else "X-Amz-Signature"
    variants = {
        "signature": with_query(url, **{sig_name: flip_char(q[sig_name])}),
        "key": url.replace(f"/{bucket}/real?", f"/{bucket}/other?"),
    }
    if sigver == "v2":
        variants["expires"] = with_query(url, Expires=str(int(q["Expires"]) + 1000))
    else:
        variants["expires"] = with_query(url, **{"X-Amz-Expires": "3600"})
        d = dt.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ") - dt.timedelta(seconds=1)
        variants["date"] = with_query(url, **{"X-Amz-Date": d.strftime("%Y%m%dT%H%M%SZ")})
        variants["added query parameter"] = with_query(url, **{"versionId": "null"})
    for what, bad in variants.items():
        assert bad != url, what
        resp = requests.get(bad, timeout=30)
        assert resp.status_code == 403, (what, resp.status_code, resp.text)
        assert error_of(resp)["Code"] == "SignatureDoesNotMatch", (what, resp.text)
    # a GET URL used for another method
    for method in ("PUT", "DELETE"):
        resp = requests.request(method, url, data=b"evil" if method == "PUT" else None, timeout=30)
        assert resp.status_code == 403, (method, resp.text)
        assert error_of(resp)["Code"] == "SignatureDoesNotMatch"
    assert s3.get_object(Bucket=bucket, Key="real")["Body"].read() == b"real"
    assert s3.get_object(Bucket=bucket, Key="other")["Body"].read() == b"other"


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_wrong_secret(s3, bucket, client_factory, sigver):
    ps = presigner(client_factory, sigver, secret_key=sup.ROOT_SECRET_KEY + "x")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = ps.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 403
    assert error_of(resp)["Code"] == "SignatureDoesNotMatch"
    put = ps.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    resp = requests.put(put, data=b"forged", timeout=30)
    assert resp.status_code == 403
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_unknown_access_key(s3, bucket, client_factory, sigver):
    ps = presigner(client_factory, sigver, access_key="AKIDUNKNOWN000000000", secret_key="nope")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for op, method in (("get_object", "GET"), ("put_object", "PUT")):
        url = ps.generate_presigned_url(op, Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
        resp = requests.request(method, url, data=b"y" if method == "PUT" else None, timeout=30)
        assert resp.status_code == 403, resp.text
        assert error_of(resp)["Code"] == "InvalidAccessKeyId"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


@AUTH
def test_v4_signed_header_must_be_sent(s3, bucket, endpoint):
    # X-Amz-SignedHeaders names x-amz-meta-color: a request without it does not match
    path = f"/{bucket}/meta"
    url = hand_presign_v4("PUT", endpoint, path, headers={"x-amz-meta-color": "blue"})
    resp = requests.put(url, data=b"m", timeout=30)
    assert resp.status_code == 403, resp.text
    resp = requests.put(url, data=b"m", headers={"x-amz-meta-color": "red"}, timeout=30)
    assert resp.status_code == 403, resp.text
    assert error_of(resp)["Code"] == "SignatureDoesNotMatch"
    resp = requests.put(url, data=b"m", headers={"x-amz-meta-color": "blue"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert s3.head_object(Bucket=bucket, Key="meta")["Metadata"] == {"color": "blue"}


@AUTH
def test_v4_wrong_region(s3, bucket, endpoint):
    # AWS answers a presigned URL whose credential scope names another region with
    # 400 AuthorizationQueryParametersError "Error parsing the X-Amz-Credential parameter;
    # the region 'eu-west-1' is wrong; expecting 'us-east-1'" and <Region>us-east-1</Region>
    # (AuthorizationHeaderMalformed is the header-auth counterpart).
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    resp = requests.get(hand_presign_v4("GET", endpoint, f"/{bucket}/k", region="eu-west-1"), timeout=30)
    assert resp.status_code == 400, resp.text
    err = error_of(resp)
    assert err["Code"] == "AuthorizationQueryParametersError", err
    assert err.get("Region") == sup.REGION, err


@AUTH
def test_presigned_does_not_grant_more_than_the_signer_has(s3, bucket, endpoint):
    # A URL is only as good as its signer: a missing bucket is still NoSuchBucket, and an
    # anonymous plain GET of the same path without the query is AccessDenied.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert requests.get(f"{endpoint}/{bucket}/k", timeout=30).status_code == 403
    missing = "cf-" + uuid.uuid4().hex[:16]
    resp = requests.get(hand_presign_v4("GET", endpoint, f"/{missing}/k"), timeout=30)
    assert resp.status_code == 404
    assert error_of(resp)["Code"] == "NoSuchBucket"
