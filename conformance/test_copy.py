"""CopyObject: metadata directives, preconditions, copy onto itself."""

import datetime as dt
import time
import uuid

import pytest
from botocore.exceptions import ClientError

import s3support as sup

UTC = dt.timezone.utc
PAST = dt.datetime(2001, 1, 1, tzinfo=UTC)
FUTURE = dt.datetime.now(UTC) + dt.timedelta(days=365)
BODY = sup.deterministic_body("copy-source", 10_000)


@pytest.fixture
def src(s3, bucket):
    put = s3.put_object(
        Bucket=bucket, Key="src/original.bin", Body=BODY,
        ContentType="image/png", Metadata={"origin": "camera", "n": "1"},
        CacheControl="max-age=60",
    )
    return bucket, "src/original.bin", put["ETag"]


def test_copy_default_directive_copies_metadata(s3, src):
    b, k, etag = src
    before = time.time()
    resp = s3.copy_object(Bucket=b, Key="dst/copy.bin", CopySource={"Bucket": b, "Key": k})
    assert sup.http_status(resp) == 200
    result = resp["CopyObjectResult"]
    assert result["ETag"] == etag == sup.md5_etag(BODY)
    assert result["LastModified"] >= dt.datetime.fromtimestamp(int(before), UTC)
    got = s3.get_object(Bucket=b, Key="dst/copy.bin")
    assert got["Body"].read() == BODY
    assert got["ContentType"] == "image/png"
    assert got["Metadata"] == {"origin": "camera", "n": "1"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ETag"] == etag


def test_copy_with_explicit_copy_directive_ignores_new_metadata(s3, src):
    b, k, _ = src
    s3.copy_object(Bucket=b, Key="dst/c2", CopySource={"Bucket": b, "Key": k},
                   MetadataDirective="COPY", Metadata={"ignored": "yes"})
    head = s3.head_object(Bucket=b, Key="dst/c2")
    assert head["Metadata"] == {"origin": "camera", "n": "1"}
    assert head["ContentType"] == "image/png"


def test_copy_replace_directive(s3, src):
    b, k, etag = src
    s3.copy_object(Bucket=b, Key="dst/r", CopySource={"Bucket": b, "Key": k},
                   MetadataDirective="REPLACE", Metadata={"fresh": "meta"},
                   ContentType="text/plain")
    got = s3.get_object(Bucket=b, Key="dst/r")
    assert got["Body"].read() == BODY
    assert got["Metadata"] == {"fresh": "meta"}
    assert got["ContentType"] == "text/plain"
    assert "CacheControl" not in got  # REPLACE drops the source's headers
    assert got["ETag"] == etag
    # the source is untouched
    head = s3.head_object(Bucket=b, Key=k)
    assert head["Metadata"] == {"origin": "camera", "n": "1"}
    assert head["ContentType"] == "image/png"


def test_copy_across_buckets(s3, src):
    b, k, etag = src
    other = "cf-dst-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=other)
    s3.copy_object(Bucket=other, Key="copied", CopySource={"Bucket": b, "Key": k})
    got = s3.get_object(Bucket=other, Key="copied")
    assert got["Body"].read() == BODY
    assert got["ETag"] == etag


def test_copy_source_key_with_special_characters(s3, bucket):
    key = "dir with space/ü+plus&amp?.bin"
    s3.put_object(Bucket=bucket, Key=key, Body=b"special")
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"special"


def test_copy_overwrites_destination(s3, src):
    b, k, _ = src
    s3.put_object(Bucket=b, Key="dst/existing", Body=b"old contents", Metadata={"old": "1"})
    s3.copy_object(Bucket=b, Key="dst/existing", CopySource={"Bucket": b, "Key": k})
    got = s3.get_object(Bucket=b, Key="dst/existing")
    assert got["Body"].read() == BODY
    assert got["Metadata"] == {"origin": "camera", "n": "1"}


def test_copy_missing_source(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "no/such/key"})
    assert sup.error_code(ei.value) == "NoSuchKey"
    assert sup.http_status(ei.value) == 404


def test_copy_missing_source_bucket(s3, bucket, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket_name + "-nope", "Key": "k"})
    assert sup.error_code(ei.value) == "NoSuchBucket"
    assert sup.http_status(ei.value) == 404


def test_copy_onto_itself_without_replace_is_invalid(s3, src):
    b, k, _ = src
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=b, Key=k, CopySource={"Bucket": b, "Key": k})
    assert sup.error_code(ei.value) == "InvalidRequest"
    assert sup.http_status(ei.value) == 400
    # explicit COPY is the same request
    with pytest.raises(ClientError) as ei:
        s3.copy_object(Bucket=b, Key=k, CopySource={"Bucket": b, "Key": k}, MetadataDirective="COPY")
    assert sup.error_code(ei.value) == "InvalidRequest"


def test_copy_onto_itself_with_replace_updates_metadata(s3, src):
    b, k, etag = src
    s3.copy_object(Bucket=b, Key=k, CopySource={"Bucket": b, "Key": k},
                   MetadataDirective="REPLACE", Metadata={"edited": "true"}, ContentType="image/jpeg")
    got = s3.get_object(Bucket=b, Key=k)
    assert got["Body"].read() == BODY
    assert got["Metadata"] == {"edited": "true"}
    assert got["ContentType"] == "image/jpeg"
    assert got["ETag"] == etag


# ------------------------------------------------------------ preconditions

def _copy(s3, src, **cond):
    b, k, _ = src
    return s3.copy_object(Bucket=b, Key="dst/cond", CopySource={"Bucket": b, "Key": k}, **cond)


def _assert_412(s3, src, **cond):
    b = src[0]
    with pytest.raises(ClientError) as ei:
        _copy(s3, src, **cond)
    assert sup.http_status(ei.value) == 412
    assert sup.error_code(ei.value) == "PreconditionFailed"
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=b, Key="dst/cond")
    assert sup.http_status(ei.value) == 404  # nothing copied


# moto 5.2.1 implements only x-amz-copy-source-if-none-match.
COPY_COND = pytest.mark.shoebox_only("moto implements only x-amz-copy-source-if-none-match")


@COPY_COND
def test_copy_if_match(s3, src):
    _assert_412(s3, src, CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
    assert sup.http_status(_copy(s3, src, CopySourceIfMatch=src[2])) == 200


def test_copy_if_none_match(s3, src):
    _assert_412(s3, src, CopySourceIfNoneMatch=src[2])
    assert sup.http_status(_copy(s3, src, CopySourceIfNoneMatch='"0123456789abcdef0123456789abcdef"')) == 200


@COPY_COND
def test_copy_if_modified_since(s3, src):
    _assert_412(s3, src, CopySourceIfModifiedSince=FUTURE)
    assert sup.http_status(_copy(s3, src, CopySourceIfModifiedSince=PAST)) == 200


@COPY_COND
def test_copy_if_unmodified_since(s3, src):
    _assert_412(s3, src, CopySourceIfUnmodifiedSince=PAST)
    assert sup.http_status(_copy(s3, src, CopySourceIfUnmodifiedSince=FUTURE)) == 200


def test_copy_if_match_true_and_unmodified_since_false_copies(s3, src):
    # AWS CopyObject docs: if-match true + if-unmodified-since false -> 200, copied
    resp = _copy(s3, src, CopySourceIfMatch=src[2], CopySourceIfUnmodifiedSince=PAST)
    assert sup.http_status(resp) == 200
    assert s3.get_object(Bucket=src[0], Key="dst/cond")["Body"].read() == BODY


def test_copy_if_none_match_false_and_modified_since_true_fails(s3, src):
    # AWS CopyObject docs: if-none-match false + if-modified-since true -> 412
    _assert_412(s3, src, CopySourceIfNoneMatch=src[2], CopySourceIfModifiedSince=PAST)
