"""PutObject / GetObject / HeadObject / DeleteObject / DeleteObjects and their headers."""

import datetime as dt
import gzip
import hashlib
import time

import pytest
from botocore.exceptions import ClientError

import s3support as sup

UTC = dt.timezone.utc


def _floor_second(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(t), UTC)


@pytest.mark.parametrize("size", [0, 1, 1000, 256 * 1024 + 7])
def test_put_get_roundtrip_and_etag(s3, bucket, size):
    body = sup.deterministic_body(f"rt-{size}", size)
    key = f"obj-{size}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert sup.http_status(put) == 200
    assert put["ETag"] == '"' + hashlib.md5(body).hexdigest() + '"'
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == body
    assert got["ContentLength"] == size
    assert got["ETag"] == put["ETag"]
    assert sup.http_status(got) == 200


def test_large_object_read_right_after_upload(s3, bucket):
    """Chunks of a large body leave the server's page cache once written, so these reads come
    from disk through the server's read-ahead: ranges across chunks (1 MiB) and across the
    4 MiB read-ahead window, taken out of order, then the whole body."""
    mib = 1 << 20
    body = sup.deterministic_body("cold", 9 * mib + 17)
    s3.put_object(Bucket=bucket, Key="cold.bin", Body=body)
    for first, last in [(len(body) - 17, len(body) - 1), (mib - 1, mib), (3 * mib + 5, 8 * mib + 3), (0, 0),
                        (5 * mib, 5 * mib + 4095)]:
        got = s3.get_object(Bucket=bucket, Key="cold.bin", Range=f"bytes={first}-{last}")
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(body)}"
        assert got["Body"].read() == body[first:last + 1]
    got = s3.get_object(Bucket=bucket, Key="cold.bin")
    assert hashlib.md5(got["Body"].read()).hexdigest() == hashlib.md5(body).hexdigest()


def test_put_overwrites(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first version, longer")
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second"
    assert got["ETag"] == put["ETag"] == sup.md5_etag(b"second")
    assert got["ContentLength"] == 6


def test_head_object(s3, bucket):
    body = b"head me please"
    s3.put_object(Bucket=bucket, Key="h", Body=body, ContentType="text/plain")
    head = s3.head_object(Bucket=bucket, Key="h")
    assert sup.http_status(head) == 200
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == sup.md5_etag(body)
    assert head["ContentType"] == "text/plain"
    assert head["LastModified"].tzinfo is not None
    # HEAD has no body but advertises the GET length
    assert head["ResponseMetadata"]["HTTPHeaders"]["content-length"] == str(len(body))


def test_last_modified_not_before_upload(s3, bucket):
    before = time.time()
    s3.put_object(Bucket=bucket, Key="lm", Body=b"x")
    after = time.time()
    head = s3.head_object(Bucket=bucket, Key="lm")
    lm = head["LastModified"]
    # Second precision on the wire: not earlier than the upload's second,
    # and not later than the end of the upload (+1 s slack for rounding up).
    assert lm >= _floor_second(before)
    assert lm <= dt.datetime.fromtimestamp(after + 1, UTC)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"]
    assert _floor_second(before) <= listed <= dt.datetime.fromtimestamp(after + 1, UTC)
    # GET, HEAD and LIST agree to the second
    got = s3.get_object(Bucket=bucket, Key="lm")["LastModified"]
    assert int(got.timestamp()) == int(lm.timestamp()) == int(listed.timestamp())


def test_default_content_type(s3, bucket):
    # boto3 sends no Content-Type for bytes; S3 then stores binary/octet-stream.
    s3.put_object(Bucket=bucket, Key="noct", Body=b"abc")
    assert s3.head_object(Bucket=bucket, Key="noct")["ContentType"] in (
        "binary/octet-stream", "application/octet-stream")


def test_metadata_and_standard_headers_roundtrip(s3, bucket):
    body = gzip.compress(b"hello world" * 10)
    expires = dt.datetime(2031, 5, 17, 8, 30, 0, tzinfo=UTC)
    s3.put_object(
        Bucket=bucket, Key="meta", Body=body,
        Metadata={"color": "blue", "Mixed-Case": "Value With Spaces", "empty-ish": "-"},
        ContentType="application/x-custom; charset=utf-8",
        CacheControl="max-age=3600, must-revalidate",
        ContentDisposition='attachment; filename="report.txt"',
        ContentEncoding="gzip",
        ContentLanguage="de-CH",
        Expires=expires,
    )
    for resp in (s3.head_object(Bucket=bucket, Key="meta"), s3.get_object(Bucket=bucket, Key="meta")):
        # user metadata names come back lower-cased (HTTP headers are case-insensitive)
        assert resp["Metadata"] == {"color": "blue", "mixed-case": "Value With Spaces", "empty-ish": "-"}
        assert resp["ContentType"] == "application/x-custom; charset=utf-8"
        assert resp["CacheControl"] == "max-age=3600, must-revalidate"
        assert resp["ContentDisposition"] == 'attachment; filename="report.txt"'
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentLanguage"] == "de-CH"
        assert resp["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Sat, 17 May 2031 08:30:00 GMT"
    got = s3.get_object(Bucket=bucket, Key="meta")
    assert got["Body"].read() == body  # stored bytes, not decompressed


def test_get_missing_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="nope/missing.txt")
    assert sup.error_code(ei.value) == "NoSuchKey"
    assert sup.http_status(ei.value) == 404


def test_head_missing_key(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="missing")
    assert sup.http_status(ei.value) == 404
    assert sup.error_code(ei.value) == "404"  # HEAD error responses have no body


def test_missing_bucket_errors(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket_name, Key="k")
    assert sup.error_code(ei.value) == "NoSuchBucket"
    assert sup.http_status(ei.value) == 404
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket_name, Key="k", Body=b"x")
    assert sup.error_code(ei.value) == "NoSuchBucket"
    assert sup.http_status(ei.value) == 404
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=bucket_name)
    assert sup.error_code(ei.value) == "NoSuchBucket"
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket_name, Key="k")
    assert sup.http_status(ei.value) == 404


def test_delete_object_idempotent(s3, bucket):
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    assert sup.http_status(s3.delete_object(Bucket=bucket, Key="d")) == 204
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="d")
    assert sup.error_code(ei.value) == "NoSuchKey"
    # deleting again, and deleting a key that never existed: still 204
    assert sup.http_status(s3.delete_object(Bucket=bucket, Key="d")) == 204
    assert sup.http_status(s3.delete_object(Bucket=bucket, Key="never-existed")) == 204


def test_delete_object_missing_bucket(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.delete_object(Bucket=bucket_name, Key="k")
    assert sup.error_code(ei.value) == "NoSuchBucket"
    assert sup.http_status(ei.value) == 404


def _keys(s3, bucket):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_delete_objects_verbose(s3, bucket):
    for k in ("a", "b", "c/d", "keep"):
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    resp = s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c/d"}, {"Key": "does-not-exist"}],
        "Quiet": False,
    })
    assert sup.http_status(resp) == 200
    deleted = sorted(d["Key"] for d in resp.get("Deleted", []))
    # keys that do not exist are reported as deleted too
    assert deleted == ["a", "b", "c/d", "does-not-exist"]
    assert resp.get("Errors", []) == []
    assert _keys(s3, bucket) == ["keep"]


def test_delete_objects_quiet(s3, bucket):
    for k in ("q1", "q2", "stay"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    resp = s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": "q1"}, {"Key": "q2"}, {"Key": "ghost"}],
        "Quiet": True,
    })
    assert sup.http_status(resp) == 200
    assert resp.get("Errors", []) == []
    assert _keys(s3, bucket) == ["stay"]


@pytest.mark.shoebox_only("moto lists Deleted entries in quiet mode too")
def test_delete_objects_quiet_reports_only_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="q", Body=b"1")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "q"}, {"Key": "ghost"}], "Quiet": True})
    # AWS: "In quiet mode the response includes only keys where the delete
    # action encountered an error."
    assert "Deleted" not in resp
    assert resp.get("Errors", []) == []
    assert _keys(s3, bucket) == []


def test_delete_objects_version_id_null(s3, bucket):
    s3.put_object(Bucket=bucket, Key="v", Body=b"1")
    s3.put_object(Bucket=bucket, Key="w", Body=b"2")
    resp = s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": "v", "VersionId": "null"}, {"Key": "w"}],
    })
    assert resp.get("Errors", []) == []
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["v", "w"]
    assert _keys(s3, bucket) == []


def test_delete_objects_special_keys(s3, bucket):
    keys = ["with space", "amp&lt;", "quote\"'", "ü/ñ", "plus+sign", "<tag>"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"z")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == sorted(keys)
    assert _keys(s3, bucket) == []


def test_delete_objects_missing_bucket(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.delete_objects(Bucket=bucket_name, Delete={"Objects": [{"Key": "a"}]})
    assert sup.error_code(ei.value) == "NoSuchBucket"
    assert sup.http_status(ei.value) == 404


@pytest.mark.shoebox_only("moto ignores the response-* override query parameters")
def test_response_header_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ov", Body=b"override", ContentType="text/plain")
    resp = s3.get_object(
        Bucket=bucket, Key="ov",
        ResponseContentType="application/json",
        ResponseCacheControl="no-cache",
        ResponseContentDisposition='inline; filename="x.json"',
        ResponseContentEncoding="identity",
        ResponseContentLanguage="fr",
        ResponseExpires=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert resp["Body"].read() == b"override"
    assert resp["ContentType"] == "application/json"
    assert resp["CacheControl"] == "no-cache"
    assert resp["ContentDisposition"] == 'inline; filename="x.json"'
    assert resp["ContentEncoding"] == "identity"
    assert resp["ContentLanguage"] == "fr"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    # overrides do not change what is stored
    assert s3.head_object(Bucket=bucket, Key="ov")["ContentType"] == "text/plain"
