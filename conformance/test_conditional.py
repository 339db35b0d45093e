"""Conditional GET/HEAD (RFC 7232 as S3 applies it), conditional PUT, Range GET."""

import datetime as dt

import pytest
from botocore.exceptions import ClientError

import s3support as sup

UTC = dt.timezone.utc
PAST = dt.datetime(2001, 1, 1, tzinfo=UTC)
FUTURE = dt.datetime.now(UTC) + dt.timedelta(days=365)
BODY = b"0123456789abcdefghijklmnopqrstuvwxyz"  # 36 bytes


@pytest.fixture
def obj(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="cond", Body=BODY)
    return bucket, "cond", put["ETag"]


def _status(fn, **kw):
    try:
        resp = fn(**kw)
        return sup.http_status(resp), None
    except ClientError as e:
        return sup.http_status(e), sup.error_code(e)


@pytest.mark.parametrize("op", ["get_object", "head_object"])
class TestConditionalRead:
    def test_if_match(self, s3, obj, op):
        b, k, etag = obj
        fn = getattr(s3, op)
        assert _status(fn, Bucket=b, Key=k, IfMatch=etag)[0] == 200
        status, code = _status(fn, Bucket=b, Key=k, IfMatch='"0123456789abcdef0123456789abcdef"')
        assert status == 412
        if op == "get_object":
            assert code == "PreconditionFailed"

    def test_if_none_match(self, s3, obj, op):
        b, k, etag = obj
        fn = getattr(s3, op)
        assert _status(fn, Bucket=b, Key=k, IfNoneMatch=etag)[0] == 304
        assert _status(fn, Bucket=b, Key=k, IfNoneMatch='"0123456789abcdef0123456789abcdef"')[0] == 200

    def test_if_modified_since(self, s3, obj, op):
        b, k, _ = obj
        fn = getattr(s3, op)
        assert _status(fn, Bucket=b, Key=k, IfModifiedSince=PAST)[0] == 200
        assert _status(fn, Bucket=b, Key=k, IfModifiedSince=FUTURE)[0] == 304

    def test_if_modified_since_equal_to_last_modified(self, s3, obj, op):
        b, k, _ = obj
        lm = s3.head_object(Bucket=b, Key=k)["LastModified"]
        # not modified *since* its own LastModified
        assert _status(getattr(s3, op), Bucket=b, Key=k, IfModifiedSince=lm)[0] == 304

    def test_if_unmodified_since(self, s3, obj, op):
        b, k, _ = obj
        fn = getattr(s3, op)
        assert _status(fn, Bucket=b, Key=k, IfUnmodifiedSince=FUTURE)[0] == 200
        status, code = _status(fn, Bucket=b, Key=k, IfUnmodifiedSince=PAST)
        assert status == 412
        if op == "get_object":
            assert code == "PreconditionFailed"

    @pytest.mark.shoebox_only("moto answers 412; the GetObject/HeadObject docs say 200")
    def test_if_match_true_overrides_if_unmodified_since_false(self, s3, obj, op):
        # AWS: If-Match true and If-Unmodified-Since false -> 200
        b, k, etag = obj
        assert _status(getattr(s3, op), Bucket=b, Key=k, IfMatch=etag, IfUnmodifiedSince=PAST)[0] == 200

    def test_if_none_match_false_with_if_modified_since_true(self, s3, obj, op):
        # AWS: If-None-Match false and If-Modified-Since true -> 304
        b, k, etag = obj
        assert _status(getattr(s3, op), Bucket=b, Key=k, IfNoneMatch=etag, IfModifiedSince=PAST)[0] == 304

    def test_conditions_on_missing_key_are_404(self, s3, bucket, op):
        status, _ = _status(getattr(s3, op), Bucket=bucket, Key="ghost", IfMatch='"abc"')
        assert status == 404


def test_get_304_has_etag_and_no_body(s3, obj, signed):
    b, k, etag = obj
    resp = signed("GET", f"/{b}/{k}", headers={"If-None-Match": etag})
    assert resp.status_code == 304
    assert resp.content == b""
    assert resp.headers.get("ETag") == etag


# ---------------------------------------------------------------- Range GET

@pytest.mark.parametrize("rng,start,end", [
    ("bytes=0-9", 0, 9),
    ("bytes=5-", 5, 35),
    ("bytes=-3", 33, 35),
    ("bytes=10-10", 10, 10),
    ("bytes=30-1000", 30, 35),   # end past the size is clamped
    ("bytes=-100", 0, 35),       # suffix longer than the object: whole object
])
def test_range_get(s3, obj, rng, start, end):
    b, k, etag = obj
    resp = s3.get_object(Bucket=b, Key=k, Range=rng)
    assert sup.http_status(resp) == 206
    assert resp["Body"].read() == BODY[start:end + 1]
    assert resp["ContentRange"] == f"bytes {start}-{end}/{len(BODY)}"
    assert resp["ContentLength"] == end - start + 1
    assert resp["ETag"] == etag
    assert resp["ResponseMetadata"]["HTTPHeaders"].get("accept-ranges") == "bytes"


def test_range_beyond_size_is_416(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ten", Body=b"0123456789")
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="ten", Range="bytes=1000-")
    assert sup.http_status(ei.value) == 416
    assert sup.error_code(ei.value) == "InvalidRange"
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="ten", Range="bytes=10-")
    assert sup.http_status(ei.value) == 416


def test_head_with_range(s3, obj):
    b, k, _ = obj
    resp = s3.head_object(Bucket=b, Key=k, Range="bytes=0-9")
    assert sup.http_status(resp) == 206
    assert resp["ContentLength"] == 10
    assert resp["ContentRange"] == f"bytes 0-9/{len(BODY)}"


def test_range_with_checksum_mode_has_no_whole_object_checksum(s3, bucket):
    # PUT stores a CRC32 (boto3 sends one by default); a full GET returns it...
    body = sup.deterministic_body("ranged-checksum", 4096)
    s3.put_object(Bucket=bucket, Key="rc", Body=body, ChecksumAlgorithm="CRC32")
    full = s3.get_object(Bucket=bucket, Key="rc", ChecksumMode="ENABLED")
    assert full["ChecksumCRC32"] == sup.checksum_b64("crc32", body)
    assert full["Body"].read() == body
    # ...but a 206 must not carry the whole-object checksum (botocore would
    # validate it against the partial body and fail).
    part = s3.get_object(Bucket=bucket, Key="rc", Range="bytes=100-199", ChecksumMode="ENABLED")
    assert sup.http_status(part) == 206
    assert part["Body"].read() == body[100:200]
    headers = part["ResponseMetadata"]["HTTPHeaders"]
    assert not [h for h in headers if h.startswith("x-amz-checksum-") and h != "x-amz-checksum-type"], headers


def test_range_and_if_match_together(s3, obj):
    b, k, etag = obj
    resp = s3.get_object(Bucket=b, Key=k, Range="bytes=0-3", IfMatch=etag)
    assert sup.http_status(resp) == 206
    assert resp["Body"].read() == BODY[:4]


# ---------------------------------------------------------- Conditional PUT
def test_put_if_none_match_star(s3, bucket):
    first = s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    assert sup.http_status(first) == 200
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert sup.http_status(ei.value) == 412
    assert sup.error_code(ei.value) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_put_if_match(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="cas", Body=b"v1")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="cas", Body=b"v2", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert sup.http_status(ei.value) == 412
    assert sup.error_code(ei.value) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="cas")["Body"].read() == b"v1"
    ok = s3.put_object(Bucket=bucket, Key="cas", Body=b"v2", IfMatch=put["ETag"])
    assert ok["ETag"] == sup.md5_etag(b"v2")
    assert s3.get_object(Bucket=bucket, Key="cas")["Body"].read() == b"v2"


def test_put_if_match_missing_key(s3, bucket):
    # If-Match with no current object: 404 NoSuchKey, as the S3 user guide documents for
    # conditional writes ("If no object exists with the key, S3 returns 404"); nothing is written.
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"v", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert (sup.http_status(ei.value), sup.error_code(ei.value)) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="absent")
    assert sup.http_status(ei.value) == 404


# Issue 17: If-None-Match on a write takes ETags as well as '*', compared as HTTP compares
# them (a list, quoted, W/ ignored): 412 when one is the current object's ETag, otherwise
# the write proceeds. Both headers together stay 501 NotImplemented.
OTHER_ETAG = '"0123456789abcdef0123456789abcdef"'


def _raw_error(resp) -> tuple[int, str]:
    return resp.status_code, sup.parse_error(resp.content)["Code"]


@pytest.mark.shoebox_only("moto ignores conditional write headers it does not support")
def test_put_if_none_match_etag(s3, obj, signed):
    b, k, etag = obj
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=b, Key=k, Body=b"new", IfNoneMatch=etag)
    assert (sup.http_status(ei.value), sup.error_code(ei.value)) == (412, "PreconditionFailed")
    for value in (f"{OTHER_ETAG}, W/{etag}", etag.strip('"')):
        resp = signed("PUT", f"/{b}/{k}", body=b"new", headers={"If-None-Match": value})
        assert _raw_error(resp) == (412, "PreconditionFailed"), value
    assert s3.get_object(Bucket=b, Key=k)["Body"].read() == BODY
    put = s3.put_object(Bucket=b, Key=k, Body=b"new", IfNoneMatch=OTHER_ETAG)
    assert put["ETag"] == sup.md5_etag(b"new")
    assert s3.get_object(Bucket=b, Key=k)["Body"].read() == b"new"
    # On a missing key no ETag matches: the write proceeds.
    assert sup.http_status(s3.put_object(Bucket=b, Key="fresh", Body=b"f", IfNoneMatch=OTHER_ETAG)) == 200


@pytest.mark.shoebox_only("moto ignores conditional write headers it does not support")
def test_put_if_none_match_with_if_match_is_not_implemented(s3, obj, signed):
    b, k, etag = obj
    resp = signed("PUT", f"/{b}/{k}", body=b"new", headers={"If-None-Match": "*", "If-Match": etag})
    assert _raw_error(resp) == (501, "NotImplemented")
    assert sup.parse_error(resp.content).get("Header") == "If-None-Match"
    assert s3.get_object(Bucket=b, Key=k)["Body"].read() == BODY


def _multipart(s3, bucket, key, data=b"p" * 1000):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=data)
    return upload_id, [{"PartNumber": 1, "ETag": part["ETag"]}]


@pytest.mark.multipart
def test_complete_multipart_if_none_match_star(s3, bucket):
    upload_id, parts = _multipart(s3, bucket, "mp-once")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp-once", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert sup.http_status(done) == 200
    upload_id, parts = _multipart(s3, bucket, "mp-once", b"q" * 1000)
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp-once", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    assert (sup.http_status(ei.value), sup.error_code(ei.value)) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="mp-once")["Body"].read() == b"p" * 1000


@pytest.mark.multipart
@pytest.mark.parametrize("header", [
    "IfMatch",
    pytest.param("IfNoneMatch", marks=pytest.mark.shoebox_only("moto ignores conditional write headers it does not support")),
])
def test_complete_multipart_conditional(s3, obj, header):
    # If-Match fails with another ETag and holds with the current one; If-None-Match the reverse.
    b, k, etag = obj
    failing, holding = (OTHER_ETAG, etag) if header == "IfMatch" else (etag, OTHER_ETAG)
    upload_id, parts = _multipart(s3, b, k)
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(Bucket=b, Key=k, UploadId=upload_id, MultipartUpload={"Parts": parts},
                                     **{header: failing})
    assert (sup.http_status(ei.value), sup.error_code(ei.value)) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=b, Key=k)["Body"].read() == BODY
    done = s3.complete_multipart_upload(Bucket=b, Key=k, UploadId=upload_id, MultipartUpload={"Parts": parts},
                                        **{header: holding})
    assert sup.http_status(done) == 200
    assert s3.get_object(Bucket=b, Key=k)["Body"].read() == b"p" * 1000


@pytest.mark.multipart
@pytest.mark.shoebox_only("moto ignores conditional write headers it does not support")
def test_complete_multipart_if_match_missing_key(s3, bucket):
    upload_id, parts = _multipart(s3, bucket, "mp-absent")
    with pytest.raises(ClientError) as ei:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp-absent", UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfMatch=OTHER_ETAG)
    assert (sup.http_status(ei.value), sup.error_code(ei.value)) == (404, "NoSuchKey")
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="mp-absent")
    assert sup.http_status(ei.value) == 404
