"""Checksum corners (issue 17): wrong checksums as BadDigest; POST form checksum fields.

References: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
(multipart: "full object" and "composite" checksum types; CRC64NVME is full-object only,
SHA1/SHA256 composite only) and https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import s3support as sup
from test_multipart import body, expect_error
from test_post_policy import hand_fields, post_form

pytestmark = pytest.mark.shoebox_only("moto does not verify POST checksums")


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
