"""Browser-based uploads: POST /bucket with multipart/form-data and a POST policy.

Policies come from boto3's generate_presigned_post (SigV2 by default in us-east-1,
SigV4 with signature_version='s3v4') or are built and signed by hand from the AWS
documentation (RESTObjectPOST, sigv4-HTTPPOSTConstructPolicy, HTTPPOSTForms) when a
test needs a policy boto3 will not produce (expired, tampered). The form is sent with
`requests`, fields in order and the file last, as a browser's FormData does.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from botocore.exceptions import ClientError

import s3support as sup

AUTH = pytest.mark.shoebox_only("moto does not check POST policies or signatures")
# S3 answers a successful POST with ETag and Location headers (RESTObjectPOST, "Response Headers")
NO_ETAG = pytest.mark.shoebox_only("moto's POST response has no ETag header")
SIGVERS = ["v2", "v4"]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def poster(client_factory, sigver: str, access_key: str = sup.ROOT_ACCESS_KEY,
           secret_key: str = sup.ROOT_SECRET_KEY):
    if sigver == "v4":
        return client_factory(access_key, secret_key, signature_version="s3v4")
    return client_factory(access_key, secret_key)


def assert_post_scheme(fields: dict, sigver: str) -> None:
    if sigver == "v2":
        assert {"AWSAccessKeyId", "policy", "signature"} <= set(fields), fields
    else:
        assert {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"} <= set(fields), fields


def post_form(url: str, fields, data: bytes, filename: str = "upload.bin",
              file_content_type: str = "application/octet-stream", **kw) -> requests.Response:
    """POST fields (dict or list of pairs, in order) then the file part, as FormData does."""
    pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
    parts = [(name, (None, value)) for name, value in pairs]
    parts.append(("file", (filename, data, file_content_type)))
    return requests.post(url, files=parts, timeout=60, allow_redirects=False, **kw)


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def encode_policy(expiration: dt.datetime, conditions: list) -> str:
    doc = {"expiration": iso(expiration), "conditions": conditions}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def sign_policy_v2(policy_b64: str, secret_key: str = sup.ROOT_SECRET_KEY) -> str:
    return base64.b64encode(hmac.new(secret_key.encode(), policy_b64.encode(), hashlib.sha1).digest()).decode()


def sign_policy_v4(policy_b64: str, day: str, secret_key: str = sup.ROOT_SECRET_KEY,
                   region: str = sup.REGION) -> str:
    k = hmac.new(("AWS4" + secret_key).encode(), day.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"s3", hashlib.sha256).digest()
    k = hmac.new(k, b"aws4_request", hashlib.sha256).digest()
    return hmac.new(k, policy_b64.encode(), hashlib.sha256).hexdigest()


def hand_fields(sigver: str, bucket: str, key: str, *, conditions: list | None = None,
                expiration: dt.datetime | None = None, extra: dict | None = None,
                access_key: str = sup.ROOT_ACCESS_KEY, secret_key: str = sup.ROOT_SECRET_KEY) -> list:
    """Form fields with a hand-made policy: bucket and key conditions, `conditions`, and
    for SigV4 the x-amz-algorithm/credential/date conditions. `extra` fields are sent
    (before the auth fields) but only constrained by what `conditions` says."""
    now = dt.datetime.now(dt.timezone.utc)
    expiration = expiration or now + dt.timedelta(minutes=10)
    conds = [{"bucket": bucket}, ["eq", "$key", key]] + list(conditions or [])
    fields = [("key", key)] + list((extra or {}).items())
    if sigver == "v4":
        day = now.strftime("%Y%m%d")
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        credential = f"{access_key}/{day}/{sup.REGION}/s3/aws4_request"
        conds += [{"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": credential},
                  {"x-amz-date": amz_date}]
        policy = encode_policy(expiration, conds)
        fields += [("x-amz-algorithm", "AWS4-HMAC-SHA256"), ("x-amz-credential", credential),
                   ("x-amz-date", amz_date), ("policy", policy),
                   ("x-amz-signature", sign_policy_v4(policy, day, secret_key))]
    else:
        policy = encode_policy(expiration, conds)
        fields += [("AWSAccessKeyId", access_key), ("policy", policy),
                   ("signature", sign_policy_v2(policy, secret_key))]
    return fields


def error_of(resp: requests.Response) -> dict:
    assert resp.content, f"no error body (status {resp.status_code})"
    return sup.parse_error(resp.content)


def assert_rejected(resp, status: int, code: str, message_part: str | None = None) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.text)
    err = error_of(resp)
    assert err["Code"] == code, err
    if message_part is not None:
        assert message_part.lower() in err.get("Message", "").lower(), err
    return err


def keys_of(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


# --------------------------------------------------------------------------
# successful uploads
# --------------------------------------------------------------------------


@NO_ETAG
@pytest.mark.parametrize("sigver", SIGVERS)
def test_basic_upload(s3, bucket, client_factory, sigver):
    body = sup.deterministic_body("post", 100_003)
    post = poster(client_factory, sigver).generate_presigned_post(bucket, "forms/basic.bin", ExpiresIn=300)
    assert_post_scheme(post["fields"], sigver)
    resp = post_form(post["url"], post["fields"], body)
    assert resp.status_code == 204, resp.text  # the default success_action_status
    assert resp.content == b""
    assert resp.headers["ETag"] == sup.md5_etag(body)
    obj = s3.get_object(Bucket=bucket, Key="forms/basic.bin")
    assert obj["Body"].read() == body
    assert obj["ETag"] == sup.md5_etag(body)
    # Location names the new object
    loc = resp.headers.get("Location")
    assert loc, resp.headers
    assert urljoin(post["url"] + "/", loc) == post["url"] + "/forms/basic.bin"


@pytest.mark.parametrize("sigver", SIGVERS)
def test_filename_substitution(s3, bucket, client_factory, sigver):
    post = poster(client_factory, sigver).generate_presigned_post(
        bucket, "uploads/${filename}", ExpiresIn=300)
    data = b"\x89PNG\r\n\x1a\n fake"
    resp = post_form(post["url"], post["fields"], data, filename="holiday photo 1.png",
                     file_content_type="image/png")
    assert resp.status_code == 204, resp.text
    assert keys_of(s3, bucket) == ["uploads/holiday photo 1.png"]
    assert s3.get_object(Bucket=bucket, Key="uploads/holiday photo 1.png")["Body"].read() == data


@pytest.mark.parametrize("sigver", SIGVERS)
def test_stored_metadata_and_acl(s3, bucket, client_factory, endpoint, sigver):
    fields = {
        "acl": "public-read",
        "Content-Type": "image/png",
        "Content-Disposition": 'inline; filename="dot.png"',
        "Cache-Control": "max-age=60",
        "x-amz-meta-color": "blue",
        "x-amz-meta-Photographer": "Ada",
    }
    conditions = [{"acl": "public-read"}, ["starts-with", "$Content-Type", "image/"],
                  {"Content-Disposition": 'inline; filename="dot.png"'}, {"Cache-Control": "max-age=60"},
                  {"x-amz-meta-color": "blue"}, ["starts-with", "$x-amz-meta-photographer", ""]]
    post = poster(client_factory, sigver).generate_presigned_post(
        bucket, "meta.png", Fields=fields, Conditions=conditions, ExpiresIn=300)
    data = b"\x89PNG metadata test"
    resp = post_form(post["url"], post["fields"], data, file_content_type="application/octet-stream")
    assert resp.status_code == 204, resp.text
    head = s3.head_object(Bucket=bucket, Key="meta.png")
    assert head["ContentType"] == "image/png"  # from the Content-Type field, not the file part
    assert head["ContentDisposition"] == 'inline; filename="dot.png"'
    assert head["CacheControl"] == "max-age=60"
    assert head["Metadata"] == {"color": "blue", "photographer": "Ada"}
    # acl=public-read: an anonymous GET works
    anon = requests.get(f"{endpoint}/{bucket}/meta.png", timeout=30)
    assert anon.status_code == 200, anon.text
    assert anon.content == data
    assert anon.headers["Content-Type"] == "image/png"


@pytest.mark.shoebox_only("moto does not limit user metadata size")
@pytest.mark.parametrize("sigver", SIGVERS)
def test_user_metadata_limit_as_put_object(s3, bucket, client_factory, sigver):
    # S3 allows 2 KB of user metadata (names after x-amz-meta- plus values). A form the policy
    # allows is held to the same limit as PutObject's headers, with the same answer. (AWS
    # documents MetadataTooLarge; Shoebox has always answered PUT with InvalidArgument, and
    # POST agrees with it.)
    def metadata(total: int) -> dict:
        # three fields, names "m0".."m2" (2 bytes each), values filling up to `total` bytes
        sizes = [total // 3 - 2] * 2 + [total - 2 * (total // 3) - 2]
        return {f"m{i}": "v" * n for i, n in enumerate(sizes)}

    over, under = metadata(2049), metadata(2048)
    assert sum(len(k) + len(v) for k, v in over.items()) == 2049
    with pytest.raises(ClientError) as put_error:
        s3.put_object(Bucket=bucket, Key="put-meta", Body=b"x", Metadata=over)
    put = put_error.value.response
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 400

    ps = poster(client_factory, sigver)
    conditions = [["starts-with", f"$x-amz-meta-{name}", ""] for name in over]
    post = ps.generate_presigned_post(bucket, "post-meta", Fields={f"x-amz-meta-{k}": v for k, v in over.items()},
                                      Conditions=conditions, ExpiresIn=300)
    assert_rejected(post_form(post["url"], post["fields"], b"too much metadata"), 400,
                    put["Error"]["Code"], put["Error"]["Message"])
    assert keys_of(s3, bucket) == []

    post = ps.generate_presigned_post(bucket, "post-meta", Fields={f"x-amz-meta-{k}": v for k, v in under.items()},
                                      Conditions=conditions, ExpiresIn=300)
    resp = post_form(post["url"], post["fields"], b"just enough metadata")
    assert resp.status_code == 204, resp.text
    assert s3.head_object(Bucket=bucket, Key="post-meta")["Metadata"] == under


@NO_ETAG
@pytest.mark.parametrize("sigver", SIGVERS)
def test_success_action_status(s3, bucket, client_factory, sigver):
    ps = poster(client_factory, sigver)
    for status in ("200", "201", "204"):
        key = f"status/{status}.txt"
        body = f"status {status}".encode()
        post = ps.generate_presigned_post(bucket, key, Fields={"success_action_status": status},
                                          Conditions=[{"success_action_status": status}], ExpiresIn=300)
        resp = post_form(post["url"], post["fields"], body)
        assert resp.status_code == int(status), resp.text
        assert resp.headers["ETag"] == sup.md5_etag(body)
        if status == "201":
            root = ET.fromstring(resp.content)
            assert sup.strip_ns(root.tag) == "PostResponse"
            assert sup.find_text(root, "Bucket") == bucket
            assert sup.find_text(root, "Key") == key
            assert sup.find_text(root, "ETag") == sup.md5_etag(body)
            assert urljoin(post["url"] + "/", sup.find_text(root, "Location")) == post["url"] + "/" + key
        else:
            assert resp.content == b""
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


@NO_ETAG
@pytest.mark.parametrize("sigver", SIGVERS)
def test_success_action_redirect(s3, bucket, client_factory, sigver):
    target = "http://app.example.invalid/uploaded?from=form"
    post = poster(client_factory, sigver).generate_presigned_post(
        bucket, "redir/${filename}", Fields={"success_action_redirect": target},
        Conditions=[{"success_action_redirect": target}], ExpiresIn=300)
    body = b"redirect me"
    resp = post_form(post["url"], post["fields"], body, filename="a b.txt")
    assert resp.status_code == 303, resp.text
    loc = urlsplit(resp.headers["Location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("http", "app.example.invalid", "/uploaded")
    q = parse_qs(loc.query)
    assert q["from"] == ["form"]
    assert q["bucket"] == [bucket]
    assert q["key"] == ["redir/a b.txt"]
    assert q["etag"] == [sup.md5_etag(body)]
    assert s3.get_object(Bucket=bucket, Key="redir/a b.txt")["Body"].read() == body


@pytest.mark.shoebox_only("moto stores fields that come after the file")
def test_fields_after_file_are_ignored(s3, bucket, client_factory):
    # "The file or text content must be the last field in the form. Any fields below it
    # are ignored." (HTTPPOSTForms) -- so they are neither stored nor checked.
    post = poster(client_factory, "v4").generate_presigned_post(bucket, "after.txt", ExpiresIn=300)
    parts = [(k, (None, v)) for k, v in post["fields"].items()]
    parts.append(("file", ("after.txt", b"body", "text/plain")))
    parts.append(("x-amz-meta-late", (None, "ignored")))
    resp = requests.post(post["url"], files=parts, timeout=30)
    assert resp.status_code == 204, resp.text
    assert s3.head_object(Bucket=bucket, Key="after.txt")["Metadata"] == {}


def test_x_ignore_fields_need_no_condition(s3, bucket, client_factory):
    post = poster(client_factory, "v4").generate_presigned_post(bucket, "ign.txt", ExpiresIn=300)
    fields = dict(post["fields"])
    fields["x-ignore-tracking"] = "abc"
    resp = post_form(post["url"], fields, b"ignored field")
    assert resp.status_code == 204, resp.text
    assert s3.get_object(Bucket=bucket, Key="ign.txt")["Body"].read() == b"ignored field"


@pytest.mark.parametrize("sigver", SIGVERS)
def test_hand_signed_policy_works(s3, bucket, sigver):
    url = f"{s3.meta.endpoint_url}/{bucket}"
    fields = hand_fields(sigver, bucket, "hand.txt", conditions=[["content-length-range", 1, 100]])
    resp = post_form(url, fields, b"hand signed")
    assert resp.status_code == 204, resp.text
    assert s3.get_object(Bucket=bucket, Key="hand.txt")["Body"].read() == b"hand signed"


@NO_ETAG
def test_empty_file(s3, bucket, client_factory):
    post = poster(client_factory, "v4").generate_presigned_post(bucket, "empty", ExpiresIn=300)
    resp = post_form(post["url"], post["fields"], b"")
    assert resp.status_code == 204, resp.text
    assert resp.headers["ETag"] == sup.md5_etag(b"")
    assert s3.head_object(Bucket=bucket, Key="empty")["ContentLength"] == 0


# --------------------------------------------------------------------------
# content-length-range
# --------------------------------------------------------------------------


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_content_length_range(s3, bucket, client_factory, sigver):
    post = poster(client_factory, sigver).generate_presigned_post(
        bucket, "sized", Conditions=[["content-length-range", 10, 1000]], ExpiresIn=300)
    assert_rejected(post_form(post["url"], post["fields"], b"x" * 9), 400, "EntityTooSmall")
    assert_rejected(post_form(post["url"], post["fields"], b"x" * 1001), 400, "EntityTooLarge")
    assert keys_of(s3, bucket) == []
    for size in (10, 1000):
        resp = post_form(post["url"], post["fields"], b"y" * size)
        assert resp.status_code == 204, resp.text
        assert s3.head_object(Bucket=bucket, Key="sized")["ContentLength"] == size


@AUTH
def test_content_length_range_large_upload(s3, bucket, client_factory):
    # 6 MiB against a 1 MiB limit: rejected, nothing stored, and the earlier object kept
    post = poster(client_factory, "v4").generate_presigned_post(
        bucket, "big", Conditions=[["content-length-range", 0, 1 << 20]], ExpiresIn=300)
    s3.put_object(Bucket=bucket, Key="big", Body=b"previous")
    try:
        resp = post_form(post["url"], post["fields"], sup.deterministic_body("big", 6 << 20))
    except requests.ConnectionError:
        # a server may close the connection after answering early; the body is then unread
        pass
    else:
        assert_rejected(resp, 400, "EntityTooLarge")
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"previous"
    assert keys_of(s3, bucket) == ["big"]


# --------------------------------------------------------------------------
# policy conditions
# --------------------------------------------------------------------------


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_eq_condition(s3, bucket, client_factory, sigver):
    post = poster(client_factory, sigver).generate_presigned_post(
        bucket, "eq.png", Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}], ExpiresIn=300)
    # another value
    fields = dict(post["fields"], **{"Content-Type": "text/html"})
    assert_rejected(post_form(post["url"], fields, b"x"), 403, "AccessDenied", "Invalid according to Policy")
    # the field missing
    fields = {k: v for k, v in post["fields"].items() if k != "Content-Type"}
    assert_rejected(post_form(post["url"], fields, b"x"), 403, "AccessDenied", "Policy Condition failed")
    # another key than the policy's
    fields = dict(post["fields"], key="other.png")
    assert_rejected(post_form(post["url"], fields, b"x"), 403, "AccessDenied", "Invalid according to Policy")
    assert keys_of(s3, bucket) == []
    resp = post_form(post["url"], post["fields"], b"x")
    assert resp.status_code == 204, resp.text


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_starts_with_condition(s3, bucket, client_factory, sigver):
    post = poster(client_factory, sigver).generate_presigned_post(
        bucket, "user/42/${filename}", Fields={"Content-Type": "image/jpeg"},
        Conditions=[["starts-with", "$Content-Type", "image/"]], ExpiresIn=300)
    for ctype in ("image/jpeg", "image/png"):
        fields = dict(post["fields"], **{"Content-Type": ctype})
        resp = post_form(post["url"], fields, b"img", filename=f"a.{ctype[6:]}")
        assert resp.status_code == 204, (ctype, resp.text)
        assert s3.head_object(Bucket=bucket, Key=f"user/42/a.{ctype[6:]}")["ContentType"] == ctype
    fields = dict(post["fields"], **{"Content-Type": "text/html"})
    assert_rejected(post_form(post["url"], fields, b"<script>"), 403, "AccessDenied", "Invalid according to Policy")
    # key outside the starts-with prefix that boto3 derived from the ${filename} key
    fields = dict(post["fields"], key="user/43/${filename}")
    assert_rejected(post_form(post["url"], fields, b"img", filename="b.jpeg"), 403, "AccessDenied")
    assert sorted(keys_of(s3, bucket)) == ["user/42/a.jpeg", "user/42/a.png"]


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_extra_field_is_rejected(s3, bucket, client_factory, sigver):
    # "Each form field that you specify in a form (except x-amz-signature, file, policy,
    # and field names that have an x-ignore- prefix) must appear in the list of conditions."
    post = poster(client_factory, sigver).generate_presigned_post(bucket, "extra.txt", ExpiresIn=300)
    for name, value in (("x-amz-meta-sneaky", "1"), ("acl", "public-read"), ("Content-Type", "text/html"),
                        ("success_action_status", "201")):
        fields = dict(post["fields"], **{name: value})
        err = assert_rejected(post_form(post["url"], fields, b"x"), 403, "AccessDenied", "Extra input fields")
        assert name.lower() in err["Message"].lower(), err
    assert keys_of(s3, bucket) == []


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_bucket_condition(s3, bucket, sigver):
    url = f"{s3.meta.endpoint_url}/{bucket}"
    other = "cf-" + uuid.uuid4().hex[:16]
    # a policy written for another bucket, correctly signed
    fields = [(k, v) for k, v in hand_fields(sigver, other, "k")]
    assert_rejected(post_form(url, fields, b"x"), 403, "AccessDenied", "Invalid according to Policy")
    assert keys_of(s3, bucket) == []


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_expired_policy(s3, bucket, sigver):
    url = f"{s3.meta.endpoint_url}/{bucket}"
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    fields = hand_fields(sigver, bucket, "late.txt", expiration=past)
    err = assert_rejected(post_form(url, fields, b"too late"), 403, "AccessDenied", "expired")
    assert "Invalid according to Policy" in err["Message"], err
    assert keys_of(s3, bucket) == []


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_wrong_signature(s3, bucket, client_factory, sigver):
    post = poster(client_factory, sigver).generate_presigned_post(bucket, "sig.txt", ExpiresIn=300)
    sig_field = "signature" if sigver == "v2" else "x-amz-signature"
    # well-formed but wrong: HMAC-SHA1 is 20 bytes (base64), HMAC-SHA256 32 bytes (hex)
    bad = base64.b64encode(bytes(20)).decode() if sigver == "v2" else "0" * 64
    assert bad != post["fields"][sig_field]
    fields = dict(post["fields"], **{sig_field: bad})
    assert_rejected(post_form(post["url"], fields, b"x"), 403, "SignatureDoesNotMatch")
    # a policy changed after signing (a longer expiry, say)
    doc = json.loads(base64.b64decode(post["fields"]["policy"]))
    doc["expiration"] = "2099-01-01T00:00:00Z"
    fields = dict(post["fields"], policy=base64.b64encode(json.dumps(doc).encode()).decode())
    assert_rejected(post_form(post["url"], fields, b"x"), 403, "SignatureDoesNotMatch")
    # signed with another secret
    other = poster(client_factory, sigver, secret_key="not-the-secret").generate_presigned_post(
        bucket, "sig.txt", ExpiresIn=300)
    assert_rejected(post_form(other["url"], other["fields"], b"x"), 403, "SignatureDoesNotMatch")
    assert keys_of(s3, bucket) == []


@AUTH
@pytest.mark.parametrize("sigver", SIGVERS)
def test_unknown_access_key(s3, bucket, client_factory, sigver):
    post = poster(client_factory, sigver, access_key="AKIDUNKNOWN000000000",
                  secret_key="whatever").generate_presigned_post(bucket, "k", ExpiresIn=300)
    assert_rejected(post_form(post["url"], post["fields"], b"x"), 403, "InvalidAccessKeyId")
    assert keys_of(s3, bucket) == []


@AUTH
def test_missing_key_or_file(s3, bucket, client_factory):
    post = poster(client_factory, "v4").generate_presigned_post(bucket, "k", ExpiresIn=300)
    fields = {k: v for k, v in post["fields"].items() if k != "key"}
    assert_rejected(post_form(post["url"], fields, b"x"), 400, "InvalidArgument")
    # no file part at all
    resp = requests.post(post["url"], files=[(k, (None, v)) for k, v in post["fields"].items()], timeout=30)
    assert_rejected(resp, 400, "InvalidArgument")
    assert keys_of(s3, bucket) == []


# --------------------------------------------------------------------------
# anonymous uploads (no policy): allowed only with bucket WRITE for everyone
# --------------------------------------------------------------------------


@AUTH
def test_anonymous_post_private_bucket_denied(s3, bucket, endpoint):
    resp = post_form(f"{endpoint}/{bucket}", {"key": "anon.txt"}, b"anon")
    assert_rejected(resp, 403, "AccessDenied")
    assert keys_of(s3, bucket) == []


@AUTH
def test_anonymous_post_public_read_only_bucket_denied(s3, bucket_name, endpoint):
    s3.create_bucket(Bucket=bucket_name, ACL="public-read")
    resp = post_form(f"{endpoint}/{bucket_name}", {"key": "anon.txt"}, b"anon")
    assert_rejected(resp, 403, "AccessDenied")
    assert keys_of(s3, bucket_name) == []


@NO_ETAG
def test_anonymous_post_public_read_write_bucket(s3, bucket_name, endpoint):
    s3.create_bucket(Bucket=bucket_name, ACL="public-read-write")
    body = b"dropped in by anyone"
    resp = post_form(f"{endpoint}/{bucket_name}", {"key": "drop/${filename}"}, body, filename="note.txt")
    assert resp.status_code == 204, resp.text
    assert resp.headers["ETag"] == sup.md5_etag(body)
    listed = s3.list_objects_v2(Bucket=bucket_name)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("drop/note.txt", len(body), sup.md5_etag(body))]
    # with acl=public-read the uploader can make it readable by everyone
    resp = post_form(f"{endpoint}/{bucket_name}", {"key": "drop/public.txt", "acl": "public-read",
                                                   "Content-Type": "text/plain"}, body)
    assert resp.status_code == 204, resp.text
    anon = requests.get(f"{endpoint}/{bucket_name}/drop/public.txt", timeout=30)
    assert anon.status_code == 200
    assert anon.content == body
    assert anon.headers["Content-Type"] == "text/plain"


@AUTH
def test_default_acl_is_private(s3, bucket, client_factory, endpoint):
    post = poster(client_factory, "v4").generate_presigned_post(bucket, "private.txt", ExpiresIn=300)
    assert post_form(post["url"], post["fields"], b"mine").status_code == 204
    assert requests.get(f"{endpoint}/{bucket}/private.txt", timeout=30).status_code == 403
    assert s3.get_object(Bucket=bucket, Key="private.txt")["Body"].read() == b"mine"


def test_post_to_missing_bucket(client_factory, endpoint):
    name = "cf-" + uuid.uuid4().hex[:16]
    post = poster(client_factory, "v4").generate_presigned_post(name, "k", ExpiresIn=300)
    assert_rejected(post_form(post["url"], post["fields"], b"x"), 404, "NoSuchBucket")


@AUTH
def test_size_limit_enforced_while_streaming(s3, bucket, client_factory, endpoint):
    # The form announces a 64 MiB file against a 1 MiB limit and sends only 3 MiB of it:
    # the answer (400 EntityTooLarge) must come without waiting for the rest.
    import socket
    from urllib.parse import urlsplit

    post = poster(client_factory, "v4").generate_presigned_post(
        bucket, "stream", Conditions=[["content-length-range", 0, 1 << 20]], ExpiresIn=300)
    boundary = "----shoeboxboundary" + uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in post["fields"].items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    announced = 64 << 20
    u = urlsplit(endpoint)
    request = (f"POST /{bucket} HTTP/1.1\r\nHost: {u.netloc}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               f"Content-Length: {len(head) + announced + len(tail)}\r\n\r\n").encode()
    with socket.create_connection((u.hostname, u.port), timeout=15) as sock:
        sock.sendall(request + head)
        chunk = b"z" * (64 << 10)
        sent = 0
        try:
            while sent < (3 << 20):
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server may stop reading once it has answered
        sock.settimeout(10)
        reply = b""
        try:
            while b"</Error>" not in reply:
                data = sock.recv(65536)
                if not data:
                    break
                reply += data
        except socket.timeout:
            pass
    assert reply.startswith(b"HTTP/1.1 400"), reply[:300]
    assert b"<Code>EntityTooLarge</Code>" in reply, reply[:600]
    assert keys_of(s3, bucket) == []
