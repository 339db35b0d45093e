"""Error documents, request ids, authentication failures (raw HTTP where it matters)."""

import datetime as dt
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.exceptions import ClientError

import s3support as sup


def _error(resp) -> dict:
    assert resp.headers.get("Content-Type", "").startswith("application/xml"), resp.headers
    err = sup.parse_error(resp.content)
    assert err.get("Code")
    assert err.get("Message")
    assert err.get("RequestId")
    return err


# ------------------------------------------------------------ error bodies

def test_no_such_key_document(bucket, signed):
    resp = signed("GET", f"/{bucket}/missing/key.txt")
    assert resp.status_code == 404
    err = _error(resp)
    assert err["Code"] == "NoSuchKey"
    assert err.get("Key") == "missing/key.txt"


def test_no_such_bucket_document(bucket_name, signed):
    resp = signed("GET", f"/{bucket_name}/k")
    assert resp.status_code == 404
    err = _error(resp)
    assert err["Code"] == "NoSuchBucket"
    assert err.get("BucketName") == bucket_name
    resp = signed("GET", f"/{bucket_name}?list-type=2")
    assert resp.status_code == 404
    assert _error(resp)["Code"] == "NoSuchBucket"


def test_bucket_not_empty_document(s3, bucket, signed):
    s3.put_object(Bucket=bucket, Key="x", Body=b"")
    resp = signed("DELETE", f"/{bucket}")
    assert resp.status_code == 409
    assert _error(resp)["Code"] == "BucketNotEmpty"


def test_head_errors_have_no_body(bucket, signed):
    resp = signed("HEAD", f"/{bucket}/missing")
    assert resp.status_code == 404
    assert resp.content == b""


REQUEST_ID = pytest.mark.shoebox_only("moto sends x-amzn-requestid instead of x-amz-request-id")


@REQUEST_ID
def test_request_id_on_every_response(s3, bucket, signed, endpoint):
    s3.put_object(Bucket=bucket, Key="rid", Body=b"rid")
    responses = {
        "ListBuckets": signed("GET", "/"),
        "HeadBucket": signed("HEAD", f"/{bucket}"),
        "PutObject": signed("PUT", f"/{bucket}/rid2", body=b"x"),
        "GetObject": signed("GET", f"/{bucket}/rid"),
        "HeadObject": signed("HEAD", f"/{bucket}/rid"),
        "GetObject 404": signed("GET", f"/{bucket}/nope"),
        "HeadObject 404": signed("HEAD", f"/{bucket}/nope"),
        "GetObject 206": signed("GET", f"/{bucket}/rid", headers={"Range": "bytes=0-0"}),
        "GetObject 304": signed("GET", f"/{bucket}/rid", headers={"If-None-Match": sup.md5_etag(b"rid")}),
        "ListObjectsV2": signed("GET", f"/{bucket}?list-type=2"),
        "DeleteObject": signed("DELETE", f"/{bucket}/rid2"),
        "Anonymous 403": requests.get(f"{endpoint}/{bucket}/rid", timeout=10),
    }
    ids = set()
    for name, resp in responses.items():
        rid = resp.headers.get("x-amz-request-id")
        assert rid, f"{name}: no x-amz-request-id in {dict(resp.headers)}"
        ids.add(rid)
    assert len(ids) == len(responses), "request ids must be unique per request"


@REQUEST_ID
def test_error_request_id_matches_header(bucket, signed):
    resp = signed("GET", f"/{bucket}/nope")
    assert _error(resp)["RequestId"] == resp.headers["x-amz-request-id"]


# ------------------------------------------------------------ authentication
# moto accepts any credentials and anonymous requests.
AUTH = pytest.mark.shoebox_only("moto does not authenticate requests")


@AUTH
@pytest.mark.parametrize("method,path_fmt", [
    ("GET", "/{b}/obj"),
    ("HEAD", "/{b}/obj"),
    ("GET", "/{b}"),
    ("GET", "/{b}?list-type=2"),
    ("PUT", "/{b}/anon-upload"),
    ("DELETE", "/{b}/obj"),
    ("GET", "/"),
])
def test_anonymous_request_denied(s3, bucket, endpoint, method, path_fmt):
    s3.put_object(Bucket=bucket, Key="obj", Body=b"private")
    resp = requests.request(method, endpoint + path_fmt.format(b=bucket),
                            data=b"anon" if method == "PUT" else None, timeout=10)
    assert resp.status_code == 403
    if method != "HEAD":
        assert _error(resp)["Code"] == "AccessDenied"
    # nothing changed
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"private"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["obj"]


@AUTH
def test_wrong_secret_is_signature_mismatch(s3, bucket, client_factory):
    bad = client_factory(sup.ROOT_ACCESS_KEY, sup.ROOT_SECRET_KEY + "-wrong")
    for call in (lambda: bad.list_buckets(),
                 lambda: bad.list_objects_v2(Bucket=bucket),
                 lambda: bad.put_object(Bucket=bucket, Key="forged", Body=b"x"),
                 lambda: bad.get_object(Bucket=bucket, Key="forged")):
        with pytest.raises(ClientError) as ei:
            call()
        assert sup.http_status(ei.value) == 403
        assert sup.error_code(ei.value) == "SignatureDoesNotMatch"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@AUTH
def test_signature_mismatch_document(bucket, signed):
    resp = signed("GET", f"/{bucket}?list-type=2", secret_key="not-the-secret")
    assert resp.status_code == 403
    err = _error(resp)
    assert err["Code"] == "SignatureDoesNotMatch"


@AUTH
def test_unknown_access_key(bucket, client_factory):
    bad = client_factory("AKIDONOTEXIST0000000", "whatever")
    with pytest.raises(ClientError) as ei:
        bad.list_buckets()
    assert sup.http_status(ei.value) == 403
    assert sup.error_code(ei.value) == "InvalidAccessKeyId"
    with pytest.raises(ClientError) as ei:
        bad.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert sup.error_code(ei.value) == "InvalidAccessKeyId"


@AUTH
def test_tampered_request_is_rejected(s3, bucket, endpoint):
    # signed for one key, sent to another
    url = f"{endpoint}/{bucket}/signed-key"
    headers = sup.sign_headers("PUT", url, body=b"x")
    resp = requests.put(f"{endpoint}/{bucket}/other-key", data=b"x", headers=headers, timeout=10)
    assert resp.status_code == 403
    assert _error(resp)["Code"] == "SignatureDoesNotMatch"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@AUTH
def test_request_time_too_skewed(bucket, endpoint):
    url = f"{endpoint}/{bucket}?list-type=2"
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=30)
    headers = sup.sign_headers("GET", url, when=when)
    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == 403
    assert _error(resp)["Code"] == "RequestTimeTooSkewed"


@AUTH
def test_missing_bucket_with_bad_signature_is_403_not_404(endpoint):
    # authentication comes before resource lookup
    name = "cf-" + uuid.uuid4().hex[:16]
    url = f"{endpoint}/{name}/k"
    resp = requests.get(url, headers=sup.sign_headers("GET", url, secret_key="wrong"), timeout=10)
    assert resp.status_code == 403
    assert _error(resp)["Code"] == "SignatureDoesNotMatch"


# ------------------------------------------------------------ request time: Date and x-amz-date
# SigV4 takes the request time from x-amz-date, or, when there is none, from the Date header
# (which must then be signed). botocore signs with Date alone when the request carries one,
# written as email.utils.formatdate writes it: "Fri, 04 Dec 2026 17:00:00 -0000".


class _BothDatesSigner(sup.S3SigV4Auth):
    """botocore's signer, but keeping the caller's Date beside the X-Amz-Date it adds."""

    def _set_necessary_date_headers(self, request):
        if "X-Amz-Date" in request.headers:
            del request.headers["X-Amz-Date"]
        request.headers["X-Amz-Date"] = request.context["timestamp"]


def _sign_both(method, url, body, date_value):
    req = sup.AWSRequest(method=method, url=url, data=body, headers={"Date": date_value})
    req.context = {}
    _BothDatesSigner(sup.Credentials(sup.ROOT_ACCESS_KEY, sup.ROOT_SECRET_KEY), "s3", sup.REGION).add_auth(req)
    return dict(req.headers.items())


@AUTH
def test_sigv4_with_only_a_date_header(s3, bucket, endpoint):
    url = f"{endpoint}/{bucket}/dated"
    headers = sup.sign_headers("PUT", url, body=b"dated", headers={"Date": "placeholder"})
    assert "X-Amz-Date" not in headers and "date" in headers["Authorization"], headers
    resp = requests.put(url, data=b"dated", headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    headers = sup.sign_headers("GET", url, headers={"Date": "placeholder"})
    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.content == b"dated"


@AUTH
def test_sigv4_with_only_a_date_header_too_old_is_skewed(bucket, endpoint):
    url = f"{endpoint}/{bucket}?list-type=2"
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=30)
    headers = sup.sign_headers("GET", url, headers={"Date": "placeholder"}, when=when)
    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == 403
    assert _error(resp)["Code"] == "RequestTimeTooSkewed"


@AUTH
def test_sigv4_with_date_and_x_amz_date_both_signed(s3, bucket, endpoint):
    # x-amz-date wins: a Date an hour old (a proxy's, say) does not make the request skewed.
    url = f"{endpoint}/{bucket}/both"
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    headers = _sign_both("PUT", url, b"both", old)
    assert "date;" in headers["Authorization"] and "x-amz-date" in headers["Authorization"], headers
    resp = requests.put(url, data=b"both", headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert s3.get_object(Bucket=bucket, Key="both")["Body"].read() == b"both"
    # the signature covers the Date: another value does not match
    headers["Date"] = old.replace(" GMT", " +0000")
    resp = requests.put(url, data=b"both", headers=headers, timeout=10)
    assert resp.status_code == 403
    assert _error(resp)["Code"] == "SignatureDoesNotMatch"


@AUTH
def test_sigv4_with_x_amz_date_signed_and_date_unsigned(s3, bucket, endpoint):
    url = f"{endpoint}/{bucket}/amz-dated"
    headers = sup.sign_headers("PUT", url, body=b"amz")
    headers["Date"] = "Mon, 01 Jan 2001 00:00:00 GMT"  # not signed, not the request time
    resp = requests.put(url, data=b"amz", headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert s3.get_object(Bucket=bucket, Key="amz-dated")["Body"].read() == b"amz"
