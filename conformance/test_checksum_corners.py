"""Checksum corners (issue 17): multipart ChecksumType (COMPOSITE, FULL_OBJECT) on
create, complete and HEAD; wrong checksums as BadDigest; POST form checksum fields.

References: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
(multipart: "full object" and "composite" checksum types; CRC64NVME is full-object only,
SHA1/SHA256 composite only) and https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import s3support as sup
from test_multipart import MIN_PART, body, complete, composite_crc32, expect_error
from test_post_policy import hand_fields, post_form

pytestmark = pytest.mark.shoebox_only("moto does not model multipart checksum types or POST checksums")


def upload_parts(s3, bucket, key, upload_id, alg, parts):
    done = []
    for n, data in enumerate(parts, 1):
        value = sup.checksum_b64(alg, data)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data,
                           **{"Checksum" + alg: value})
        assert r["Checksum" + alg] == value
        done.append({"PartNumber": n, "ETag": r["ETag"], "Checksum" + alg: value})
    return done


def test_composite_is_the_default_type_for_crc32(s3, bucket):
    key = "composite.bin"
    parts = [body("ct1", MIN_PART), body("ct2", 777)]
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")
    assert created.get("ChecksumType") == "COMPOSITE"
    done = upload_parts(s3, bucket, key, created["UploadId"], "CRC32", parts)
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=created["UploadId"])
    assert listed.get("ChecksumType") == "COMPOSITE"
    resp = complete(s3, bucket, key, created["UploadId"], done)
    assert resp["ChecksumCRC32"] == composite_crc32(parts)
    assert resp.get("ChecksumType") == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head.get("ChecksumType")) == (composite_crc32(parts), "COMPOSITE")


@pytest.mark.parametrize("alg,explicit", [("CRC32", True), ("CRC32C", True), ("CRC64NVME", True), ("CRC64NVME", False)])
def test_full_object_checksum(s3, bucket, alg, explicit):
    """FULL_OBJECT: the object's checksum is the CRC of all its bytes (CRC64NVME's default)."""
    key = f"full-{alg}-{explicit}.bin"
    parts = [body(f"fo1{alg}", MIN_PART), body(f"fo2{alg}", MIN_PART + 11), body(f"fo3{alg}", 4321)]
    kw = {"ChecksumType": "FULL_OBJECT"} if explicit else {}
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=alg, **kw)
    assert created.get("ChecksumType") == "FULL_OBJECT"
    done = upload_parts(s3, bucket, key, created["UploadId"], alg, parts)
    whole = sup.checksum_b64(alg, b"".join(parts))
    resp = complete(s3, bucket, key, created["UploadId"], done)
    assert (resp["Checksum" + alg], resp.get("ChecksumType")) == (whole, "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert (head["Checksum" + alg], head.get("ChecksumType")) == (whole, "FULL_OBJECT")
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)


@pytest.mark.parametrize("alg,type_", [("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"), ("CRC64NVME", "COMPOSITE")])
def test_checksum_type_the_algorithm_cannot_have(s3, bucket, alg, type_):
    expect_error(s3.create_multipart_upload, "InvalidRequest", 400, Bucket=bucket, Key="no",
                 ChecksumAlgorithm=alg, ChecksumType=type_)


def test_wrong_part_checksum_in_complete_fails_full_object(s3, bucket):
    key = "bad-full.bin"
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    data = body("bf", 100)
    done = upload_parts(s3, bucket, key, created["UploadId"], "CRC32", [data])
    done[0]["ChecksumCRC32"] = sup.checksum_b64("crc32", data + b"x")
    expect_error(complete, "InvalidPart", 400, s3=s3, bucket=bucket, key=key, upload_id=created["UploadId"], parts=done)
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=created["UploadId"])


@pytest.mark.parametrize("alg", ["crc32", "crc32c", "sha1", "sha256"])
def test_wrong_checksum_value_on_upload_part_is_bad_digest(s3, bucket, alg):
    key = f"bad-part-{alg}"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=alg.upper())["UploadId"]
    data = body("bd" + alg, 3000)
    expect_error(s3.upload_part, "BadDigest", 400, Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
                 Body=data, **{"Checksum" + alg.upper(): sup.checksum_b64(alg, data + b"!")})
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


@pytest.mark.parametrize("sigver", ["v2", "v4"])
def test_post_form_checksum_field_verified(s3, bucket, endpoint, sigver):
    data = sup.deterministic_body("post-checksum", 20_000)
    good = sup.checksum_b64("sha256", data)
    fields = hand_fields(sigver, bucket, "posted-good", conditions=[["eq", "$x-amz-checksum-sha256", good]],
                         extra={"x-amz-checksum-sha256": good})
    resp = post_form(f"{endpoint}/{bucket}", fields, data)
    assert resp.status_code == 204, resp.text
    assert resp.headers.get("x-amz-checksum-sha256") == good
    head = s3.head_object(Bucket=bucket, Key="posted-good", ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256") == good

    wrong = sup.checksum_b64("sha256", data + b"?")
    fields = hand_fields(sigver, bucket, "posted-bad", conditions=[["eq", "$x-amz-checksum-sha256", wrong]],
                         extra={"x-amz-checksum-sha256": wrong})
    resp = post_form(f"{endpoint}/{bucket}", fields, data)
    assert resp.status_code == 400, resp.text
    assert sup.parse_error(resp.content)["Code"] == "BadDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="posted-bad")


def test_post_form_checksum_algorithm_field_stores_checksum(s3, bucket, endpoint):
    data = b"computed by the server"
    fields = hand_fields("v4", bucket, "posted-alg", conditions=[["eq", "$x-amz-checksum-algorithm", "CRC32"]],
                         extra={"x-amz-checksum-algorithm": "CRC32"})
    resp = post_form(f"{endpoint}/{bucket}", fields, data)
    assert resp.status_code == 204, resp.text
    head = s3.head_object(Bucket=bucket, Key="posted-alg", ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC32") == sup.checksum_b64("crc32", data)
