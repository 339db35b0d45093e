"""GetObjectAttributes (issue 17): `GET /bucket/key?attributes` with `x-amz-object-attributes`.

Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
(ETag without quotes, Checksum with ChecksumType, ObjectParts paged by x-amz-max-parts and
x-amz-part-number-marker, StorageClass, ObjectSize; Last-Modified as a header).
"""

from __future__ import annotations

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

import s3support as sup
from test_multipart import MIN_PART, body, complete, composite_crc32, expect_error

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def test_single_part_object_without_checksum(s3, bucket, client_factory):
    data = b"attributes of a plain object"
    # Recent botocore adds a CRC32 to every upload unless told to add one only when required.
    plain = client_factory(request_checksum_calculation="when_required")
    put = plain.put_object(Bucket=bucket, Key="plain.txt", Body=data)
    head = s3.head_object(Bucket=bucket, Key="plain.txt")
    r = s3.get_object_attributes(Bucket=bucket, Key="plain.txt", ObjectAttributes=ALL)
    assert r["ETag"] == put["ETag"].strip('"')
    assert r["ObjectSize"] == len(data)
    assert r["StorageClass"] == "STANDARD"
    assert r["LastModified"] == head["LastModified"]
    assert "Checksum" not in r and "ObjectParts" not in r


def test_only_the_requested_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="some.txt", Body=b"12345")
    r = s3.get_object_attributes(Bucket=bucket, Key="some.txt", ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 5
    assert "ETag" not in r and "StorageClass" not in r


def test_single_part_object_with_checksum(s3, bucket):
    data = b"checksummed body"
    value = sup.checksum_b64("SHA256", data)
    s3.put_object(Bucket=bucket, Key="sum.txt", Body=data, ChecksumSHA256=value)
    r = s3.get_object_attributes(Bucket=bucket, Key="sum.txt", ObjectAttributes=["Checksum", "ObjectSize"])
    assert r["Checksum"]["ChecksumSHA256"] == value
    assert r["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    assert r["ObjectSize"] == len(data)


@pytest.mark.shoebox_only("moto does not model composite multipart checksums")
def test_multipart_object_checksum_and_parts_paging(s3, bucket):
    key = "multi.bin"
    parts = [body("oa1", MIN_PART), body("oa2", MIN_PART), body("oa3", 1234)]
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")
    done = []
    for n, data in enumerate(parts, 1):
        value = sup.checksum_b64("CRC32", data)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=created["UploadId"], PartNumber=n, Body=data, ChecksumCRC32=value)
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": value})
    resp = complete(s3, bucket, key, created["UploadId"], done)

    r = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=ALL)
    assert r["ETag"] == resp["ETag"].strip('"')
    assert r["ObjectSize"] == sum(map(len, parts))
    assert r["Checksum"] == {"ChecksumCRC32": composite_crc32(parts), "ChecksumType": "COMPOSITE"}
    op = r["ObjectParts"]
    assert op["TotalPartsCount"] == 3
    assert op["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["ChecksumCRC32"]) for p in op["Parts"]] == \
        [(n, len(d), sup.checksum_b64("CRC32", d)) for n, d in enumerate(parts, 1)]

    first = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"], MaxParts=2)["ObjectParts"]
    assert (first["MaxParts"], first["IsTruncated"], first["NextPartNumberMarker"]) == (2, True, 2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    rest = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts"], MaxParts=2,
                                    PartNumberMarker=2)["ObjectParts"]
    assert (rest["PartNumberMarker"], rest["IsTruncated"], rest["TotalPartsCount"]) == (2, False, 3)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3]


def test_multipart_object_without_checksum_lists_no_part(bucket, client_factory):
    """AWS: "if an additional checksum ... isn't applied to the object ..., the response doesn't return Part"."""
    plain = client_factory(request_checksum_calculation="when_required")
    upload_id = plain.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    etag = plain.upload_part(Bucket=bucket, Key="m", UploadId=upload_id, PartNumber=1, Body=b"one small part")["ETag"]
    complete(plain, bucket, "m", upload_id, [{"PartNumber": 1, "ETag": etag}])
    r = plain.get_object_attributes(Bucket=bucket, Key="m", ObjectAttributes=["ObjectParts", "Checksum"])
    assert "Checksum" not in r
    assert r["ObjectParts"]["TotalPartsCount"] == 1
    assert "Parts" not in r["ObjectParts"]


def test_missing_attributes_header_is_invalid_argument(s3, bucket, signed):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = signed("GET", f"/{bucket}/k?attributes")
    assert r.status_code == 400, r.text
    assert "<Code>InvalidArgument</Code>" in r.text


def test_unknown_attribute_is_invalid_argument(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expect_error(lambda: s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ETag", "Colour"]),
                 "InvalidArgument", 400)


def test_missing_key_is_no_such_key(s3, bucket):
    expect_error(lambda: s3.get_object_attributes(Bucket=bucket, Key="absent", ObjectAttributes=["ETag"]),
                 "NoSuchKey", 404)


def test_anonymous_on_private_object_is_access_denied(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="private", Body=b"x")
    anon = sup.make_client(endpoint, signature_version=UNSIGNED)
    with pytest.raises(ClientError) as e:
        anon.get_object_attributes(Bucket=bucket, Key="private", ObjectAttributes=["ETag"])
    assert e.value.response["Error"]["Code"] == "AccessDenied"
