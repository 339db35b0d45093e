"""Upload integrity: Content-MD5, x-amz-content-sha256, flexible checksums."""

import hashlib

import pytest
from botocore.exceptions import ClientError

import s3support as sup


def _assert_absent(s3, bucket, key):
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key=key)
    assert sup.http_status(ei.value) == 404
    assert sup.error_code(ei.value) == "NoSuchKey"


# ------------------------------------------------------------------ Content-MD5

def test_correct_content_md5_accepted(s3, bucket):
    body = b"integrity matters"
    resp = s3.put_object(Bucket=bucket, Key="md5-ok", Body=body, ContentMD5=sup.content_md5(body))
    assert resp["ETag"] == sup.md5_etag(body)
    assert s3.get_object(Bucket=bucket, Key="md5-ok")["Body"].read() == body


NO_VERIFY = pytest.mark.shoebox_only("moto never verifies Content-MD5 or x-amz-checksum-* (AWS: 400 BadDigest)")


@NO_VERIFY
def test_wrong_content_md5_is_bad_digest(s3, bucket):
    body = b"the real body"
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="md5-bad", Body=body, ContentMD5=sup.content_md5(b"another body"))
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "BadDigest"
    _assert_absent(s3, bucket, "md5-bad")


@NO_VERIFY
def test_wrong_content_md5_keeps_previous_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="md5-keep", Body=b"version 1")
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="md5-keep", Body=b"version 2",
                      ContentMD5=sup.content_md5(b"version 3"))
    assert sup.error_code(ei.value) == "BadDigest"
    assert s3.get_object(Bucket=bucket, Key="md5-keep")["Body"].read() == b"version 1"


@pytest.mark.shoebox_only("moto does not validate the form of Content-MD5")
def test_malformed_content_md5_is_invalid_digest(s3, bucket):
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key="md5-malformed", Body=b"x", ContentMD5="not-base64-md5")
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "InvalidDigest"
    _assert_absent(s3, bucket, "md5-malformed")


# --------------------------------------------------------- x-amz-content-sha256

@pytest.mark.shoebox_only("moto does not verify x-amz-content-sha256")
def test_content_sha256_mismatch(s3, bucket, signed):
    signed_body = b"A" * 64
    sent_body = b"B" * 64  # same length, different bytes
    resp = signed("PUT", f"/{bucket}/sha-mismatch", body=signed_body, send_body=sent_body)
    assert resp.status_code == 400, resp.content
    err = sup.parse_error(resp.content)
    assert err["Code"] == "XAmzContentSHA256Mismatch"
    _assert_absent(s3, bucket, "sha-mismatch")


def test_content_sha256_correct_raw_put(s3, bucket, signed):
    body = b"signed with botocore's S3SigV4Auth"
    resp = signed("PUT", f"/{bucket}/sha-ok", body=body)
    assert resp.status_code == 200, resp.content
    assert resp.headers["ETag"] == sup.md5_etag(body)
    assert s3.get_object(Bucket=bucket, Key="sha-ok")["Body"].read() == body


def test_unsigned_payload_put(s3, bucket, signed):
    body = b"payload not hashed"
    resp = signed("PUT", f"/{bucket}/unsigned-payload", body=body, payload_hash="UNSIGNED-PAYLOAD")
    assert resp.request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert resp.status_code == 200, resp.content
    assert s3.get_object(Bucket=bucket, Key="unsigned-payload")["Body"].read() == body


# ------------------------------------------------------- flexible checksums

ALGORITHMS = ["crc32", "crc32c", "sha1", "sha256"]
CHECKSUM_PARAM = {"crc32": "ChecksumCRC32", "crc32c": "ChecksumCRC32C",
                  "sha1": "ChecksumSHA1", "sha256": "ChecksumSHA256"}
# moto 5.2.1 computes CRC32C with the `crc32c` package and silently falls back
# to plain CRC32 when it is not installed (it is not here).
CRC32C_MOTO = pytest.mark.shoebox_only("moto without the crc32c package returns CRC32 for CRC32C")


def _algo_params(alg, body, explicit=False):
    """botocore computes CRC32/SHA1/SHA256 itself (ChecksumAlgorithm=...); CRC32C
    needs awscrt, so we compute it and pass the header value explicitly."""
    if alg == "crc32c" or explicit:
        return {CHECKSUM_PARAM[alg]: sup.checksum_b64(alg, body)}
    return {"ChecksumAlgorithm": alg.upper()}


@pytest.mark.parametrize("alg", [a if a != "crc32c" else pytest.param(a, marks=CRC32C_MOTO) for a in ALGORITHMS])
def test_checksum_stored_and_returned(s3, bucket, alg):
    body = sup.deterministic_body("checksum-" + alg, 70_000)
    expected = sup.checksum_b64(alg, body)
    key = f"ck/{alg}"
    put = s3.put_object(Bucket=bucket, Key=key, Body=body, **_algo_params(alg, body))
    assert put[CHECKSUM_PARAM[alg]] == expected
    assert put["ETag"] == sup.md5_etag(body)

    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got[CHECKSUM_PARAM[alg]] == expected
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head[CHECKSUM_PARAM[alg]] == expected


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_explicit_checksum_accepted(s3, bucket, alg):
    body = b"explicit checksum " + alg.encode()
    s3.put_object(Bucket=bucket, Key=f"ex/{alg}", Body=body, **_algo_params(alg, body, explicit=True))
    assert s3.get_object(Bucket=bucket, Key=f"ex/{alg}")["Body"].read() == body


@NO_VERIFY
@pytest.mark.parametrize("alg", ALGORITHMS)
def test_wrong_checksum_rejected(s3, bucket, alg):
    body = b"what is actually sent"
    wrong = sup.checksum_b64(alg, b"something else entirely")
    key = f"bad/{alg}"
    with pytest.raises(ClientError) as ei:
        s3.put_object(Bucket=bucket, Key=key, Body=body, **{CHECKSUM_PARAM[alg]: wrong})
    assert sup.http_status(ei.value) == 400
    # AWS answers BadDigest ("The <ALG> you specified did not match the
    # calculated checksum.").
    assert sup.error_code(ei.value) == "BadDigest"
    _assert_absent(s3, bucket, key)


def test_default_crc32_stored(s3, bucket):
    # botocore 1.43 adds x-amz-checksum-crc32 to every PutObject by default.
    body = b"default checksum"
    s3.put_object(Bucket=bucket, Key="default-ck", Body=body)
    got = s3.head_object(Bucket=bucket, Key="default-ck", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == sup.checksum_b64("crc32", body)


def test_copy_keeps_checksum(s3, bucket):
    body = b"copy me with my checksum"
    s3.put_object(Bucket=bucket, Key="ck-src", Body=body, ChecksumAlgorithm="SHA256")
    s3.copy_object(Bucket=bucket, Key="ck-dst", CopySource={"Bucket": bucket, "Key": "ck-src"})
    got = s3.get_object(Bucket=bucket, Key="ck-dst", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    # S3 keeps the source's algorithm unless the copy asks for another one.
    assert got.get("ChecksumSHA256") == sup.checksum_b64("sha256", body)


def test_no_checksum_headers_without_checksum_mode(s3, bucket, signed):
    body = b"quiet unless asked"
    s3.put_object(Bucket=bucket, Key="ck-quiet", Body=body, ChecksumAlgorithm="SHA1")
    resp = signed("GET", f"/{bucket}/ck-quiet")
    assert resp.status_code == 200
    assert resp.content == body
    assert "x-amz-checksum-sha1" not in {k.lower() for k in resp.headers}
    resp = signed("GET", f"/{bucket}/ck-quiet", headers={"x-amz-checksum-mode": "ENABLED"})
    assert resp.headers.get("x-amz-checksum-sha1") == sup.checksum_b64("sha1", body)
