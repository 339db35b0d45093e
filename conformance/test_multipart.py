"""Multipart upload with boto3 over http.

Covers CreateMultipartUpload, UploadPart (parallel, out of order, replaced parts,
per-part checksums), UploadPartCopy with x-amz-copy-source-range,
CompleteMultipartUpload (ETag, composite checksum, EntityTooSmall, InvalidPart,
InvalidPartOrder), AbortMultipartUpload, ListParts and ListMultipartUploads
pagination, GetObject/HeadObject ?partNumber=N, and DeleteBucket with only
incomplete uploads left.

Every expected value (ETags, checksums, bytes, listing order) is computed here
from the bytes sent, never read back from the server first.
References: https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
and the API pages of each operation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import s3support as sup

MiB = 1024 * 1024
MIN_PART = 5 * MiB  # every part but the last must be at least 5 MiB
MOTO = sup.TARGET == "moto"
MOTO_500 = pytest.mark.shoebox_only("moto answers 500 to UploadPart for an unknown upload id (AWS: 404 NoSuchUpload)")


def body(tag: str, size: int) -> bytes:
    return sup.deterministic_body("mpu|" + tag, size)


def multipart_etag(parts: list[bytes]) -> str:
    """'"' + hex md5(concatenated binary md5 of each part) + '-N"'."""
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return '"' + hashlib.md5(digests).hexdigest() + f'-{len(parts)}"'


def crc32_raw(data: bytes) -> bytes:
    return (binascii.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")


def composite_crc32(parts: list[bytes]) -> str:
    """base64(crc32(concat of each part's 4-byte crc32)) + '-N'."""
    joined = b"".join(crc32_raw(p) for p in parts)
    return base64.b64encode(crc32_raw(joined)).decode() + f"-{len(parts)}"


def expect_error(fn, code: str, status: int, **kw) -> ClientError:
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    err = ei.value
    assert (sup.error_code(err), sup.http_status(err)) == (code, status), err.response
    return err


def create(s3, bucket: str, key: str, **kw) -> str:
    resp = s3.create_multipart_upload(Bucket=bucket, Key=key, **kw)
    assert resp["Bucket"] == bucket
    assert resp["Key"] == key
    assert resp["UploadId"]
    return resp["UploadId"]


def upload(s3, bucket: str, key: str, upload_id: str, number: int, data: bytes, **kw) -> dict:
    resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, **kw)
    assert resp["ETag"] == sup.md5_etag(data), f"part {number}"
    return resp


def complete(s3, bucket: str, key: str, upload_id: str, parts: list[dict]) -> dict:
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})


def all_parts(s3, bucket: str, key: str, upload_id: str) -> list[dict]:
    return s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts", [])


# --------------------------------------------------------------------------
# Upload and complete
# --------------------------------------------------------------------------


def test_parallel_out_of_order_parts_and_multipart_etag(s3, bucket):
    key = "big/parallel.bin"
    parts = [body("p1", MIN_PART), body("p2", MIN_PART + 12345), body("p3", 777_777)]
    upload_id = create(s3, bucket, key)

    def send(number: int) -> tuple[int, str]:
        # Each thread has its own client, so the parts really go over separate connections.
        client = sup.make_client(s3.meta.endpoint_url)
        resp = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                  PartNumber=number, Body=parts[number - 1])
        return number, resp["ETag"]

    with ThreadPoolExecutor(max_workers=3) as pool:
        etags = dict(pool.map(send, [3, 1, 2]))
    for n in (1, 2, 3):
        assert etags[n] == sup.md5_etag(parts[n - 1]), f"part {n}"

    listed = all_parts(s3, bucket, key, upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (n, sup.md5_etag(parts[n - 1]), len(parts[n - 1])) for n in (1, 2, 3)]

    resp = complete(s3, bucket, key, upload_id,
                    [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)])
    assert resp["ETag"] == multipart_etag(parts)
    assert resp["Key"] == key
    assert resp["Bucket"] == bucket

    whole = b"".join(parts)
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(whole)
    assert head["ETag"] == multipart_etag(parts)
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["ETag"] == multipart_etag(parts)
    data = got["Body"].read()
    assert len(data) == len(whole)
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(whole).hexdigest()

    listing = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listing] == [(key, len(whole), multipart_etag(parts))]

    # The upload is finished: it no longer exists and is no longer listed.
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key=key, UploadId=upload_id)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_range_get_across_part_boundary(s3, bucket):
    key = "boundary.bin"
    parts = [body("b1", MIN_PART), body("b2", MIN_PART), body("b3", 1000)]
    upload_id = create(s3, bucket, key)
    done = [{"PartNumber": n, "ETag": upload(s3, bucket, key, upload_id, n, p)["ETag"]}
            for n, p in enumerate(parts, 1)]
    complete(s3, bucket, key, upload_id, done)
    whole = b"".join(parts)
    for first, last in [(MIN_PART - 10, MIN_PART + 9), (2 * MIN_PART - 1, 2 * MIN_PART + 999), (0, 0)]:
        got = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}")
        assert got["ContentRange"] == f"bytes {first}-{last}/{len(whole)}"
        assert got["Body"].read() == whole[first:last + 1]


def test_reuploading_a_part_replaces_it(s3, bucket):
    key = "replace.bin"
    first, second, tail = body("r1-old", MIN_PART), body("r1-new", MIN_PART + 1), body("r2", 4096)
    upload_id = create(s3, bucket, key)
    upload(s3, bucket, key, upload_id, 1, first)
    e2 = upload(s3, bucket, key, upload_id, 2, tail)["ETag"]
    e1 = upload(s3, bucket, key, upload_id, 1, second)["ETag"]
    assert e1 != sup.md5_etag(first)

    listed = all_parts(s3, bucket, key, upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (1, sup.md5_etag(second), len(second)), (2, sup.md5_etag(tail), len(tail))]

    # The replaced part's ETag is no longer valid.
    expect_error(complete, "InvalidPart", 400, s3=s3, bucket=bucket, key=key, upload_id=upload_id,
                 parts=[{"PartNumber": 1, "ETag": sup.md5_etag(first)}, {"PartNumber": 2, "ETag": e2}])

    resp = complete(s3, bucket, key, upload_id, [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    assert resp["ETag"] == multipart_etag([second, tail])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == second + tail


def test_parts_left_out_of_complete_are_discarded(s3, bucket):
    key = "subset.bin"
    parts = {n: body(f"s{n}", MIN_PART if n < 4 else 3333) for n in (1, 2, 3, 4)}
    upload_id = create(s3, bucket, key)
    etags = {n: upload(s3, bucket, key, upload_id, n, p)["ETag"] for n, p in parts.items()}
    chosen = [1, 3, 4]
    resp = complete(s3, bucket, key, upload_id, [{"PartNumber": n, "ETag": etags[n]} for n in chosen])
    assert resp["ETag"] == multipart_etag([parts[n] for n in chosen])
    expected = b"".join(parts[n] for n in chosen)
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(got) == len(expected)
    assert got == expected
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(expected)
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key=key, UploadId=upload_id)
    if not MOTO:  # moto answers 500 to UploadPart for a finished upload
        expect_error(s3.upload_part, "NoSuchUpload", 404, Bucket=bucket, Key=key, UploadId=upload_id,
                     PartNumber=2, Body=b"late")


def test_single_small_part_is_allowed(s3, bucket):
    # The 5 MiB minimum does not apply to the last part, so a single tiny part is fine.
    key = "tiny.txt"
    data = b"only part"
    upload_id = create(s3, bucket, key, ContentType="text/plain", Metadata={"origin": "mpu"})
    etag = upload(s3, bucket, key, upload_id, 1, data)["ETag"]
    resp = complete(s3, bucket, key, upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert resp["ETag"] == multipart_etag([data])
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == data
    # Headers given to CreateMultipartUpload belong to the completed object.
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"origin": "mpu"}


def test_complete_replaces_existing_object(s3, bucket):
    key = "overwrite.bin"
    s3.put_object(Bucket=bucket, Key=key, Body=b"old single-part object")
    upload_id = create(s3, bucket, key)
    data = body("ow", 1234)
    etag = upload(s3, bucket, key, upload_id, 1, data)["ETag"]
    # Until completion the old object is what readers see.
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"old single-part object"
    complete(s3, bucket, key, upload_id, [{"PartNumber": 1, "ETag": etag}])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_upload_is_invisible_until_complete(s3, bucket):
    key = "pending.bin"
    upload_id = create(s3, bucket, key)
    upload(s3, bucket, key, upload_id, 1, b"pending")
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# --------------------------------------------------------------------------
# Complete errors
# --------------------------------------------------------------------------


def test_small_part_not_last_is_entity_too_small(s3, bucket):
    key = "too-small.bin"
    upload_id = create(s3, bucket, key)
    small, last = body("ts1", MIN_PART - 1), body("ts2", 100)
    e1 = upload(s3, bucket, key, upload_id, 1, small)["ETag"]
    e2 = upload(s3, bucket, key, upload_id, 2, last)["ETag"]
    expect_error(complete, "EntityTooSmall", 400, s3=s3, bucket=bucket, key=key, upload_id=upload_id,
                 parts=[{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    # The failed complete leaves the upload intact and nothing was created.
    assert [p["PartNumber"] for p in all_parts(s3, bucket, key, upload_id)] == [1, 2]
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key=key)
    # Completing with just the small part (now the last one) works.
    resp = complete(s3, bucket, key, upload_id, [{"PartNumber": 1, "ETag": e1}])
    assert resp["ETag"] == multipart_etag([small])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == small


def test_wrong_etag_is_invalid_part(s3, bucket):
    key = "invalid-part.bin"
    upload_id = create(s3, bucket, key)
    data = body("ip", 1000)
    upload(s3, bucket, key, upload_id, 1, data)
    wrong = sup.md5_etag(data + b"x")
    expect_error(complete, "InvalidPart", 400, s3=s3, bucket=bucket, key=key, upload_id=upload_id,
                 parts=[{"PartNumber": 1, "ETag": wrong}])
    # A part number that was never uploaded is InvalidPart too.
    expect_error(complete, "InvalidPart", 400, s3=s3, bucket=bucket, key=key, upload_id=upload_id,
                 parts=[{"PartNumber": 2, "ETag": sup.md5_etag(data)}])
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key=key)
    # The upload survives both failures.
    assert [p["PartNumber"] for p in all_parts(s3, bucket, key, upload_id)] == [1]


@pytest.mark.shoebox_only("moto sorts the parts itself and completes")
def test_descending_order_is_invalid_part_order(s3, bucket):
    key = "order.bin"
    upload_id = create(s3, bucket, key)
    # Both parts >= 5 MiB, so only the order is wrong whichever way they are listed.
    p1, p2 = body("o1", MIN_PART), body("o2", MIN_PART)
    e1 = upload(s3, bucket, key, upload_id, 1, p1)["ETag"]
    e2 = upload(s3, bucket, key, upload_id, 2, p2)["ETag"]
    expect_error(complete, "InvalidPartOrder", 400, s3=s3, bucket=bucket, key=key, upload_id=upload_id,
                 parts=[{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}])
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key=key)
    resp = complete(s3, bucket, key, upload_id, [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
    assert resp["ETag"] == multipart_etag([p1, p2])


@pytest.mark.shoebox_only("moto accepts part number 0")
@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range(s3, bucket, number):
    key = "range.bin"
    upload_id = create(s3, bucket, key)
    expect_error(s3.upload_part, "InvalidArgument", 400, Bucket=bucket, Key=key, UploadId=upload_id,
                 PartNumber=number, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# --------------------------------------------------------------------------
# Unknown and aborted uploads
# --------------------------------------------------------------------------


@MOTO_500
def test_unknown_upload_id_is_no_such_upload(s3, bucket):
    key = "ghost.bin"
    bogus = "bm90LWFuLXVwbG9hZC1pZA"
    common = dict(Bucket=bucket, Key=key, UploadId=bogus)
    expect_error(s3.upload_part, "NoSuchUpload", 404, PartNumber=1, Body=b"x", **common)
    expect_error(s3.list_parts, "NoSuchUpload", 404, **common)
    expect_error(s3.complete_multipart_upload, "NoSuchUpload", 404,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": sup.md5_etag(b"x")}]}, **common)
    expect_error(s3.abort_multipart_upload, "NoSuchUpload", 404, **common)


@pytest.mark.shoebox_only("moto does not check that the upload id belongs to the key")
def test_upload_id_belongs_to_its_key(s3, bucket):
    upload_id = create(s3, bucket, "right-key")
    expect_error(s3.upload_part, "NoSuchUpload", 404, Bucket=bucket, Key="wrong-key", UploadId=upload_id,
                 PartNumber=1, Body=b"x")
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="wrong-key", UploadId=upload_id)
    s3.abort_multipart_upload(Bucket=bucket, Key="right-key", UploadId=upload_id)


@MOTO_500
def test_abort_then_no_such_upload(s3, bucket):
    key = "aborted.bin"
    upload_id = create(s3, bucket, key)
    upload(s3, bucket, key, upload_id, 1, body("ab", 2048))
    resp = s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert sup.http_status(resp) == 204
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key=key, UploadId=upload_id)
    expect_error(s3.upload_part, "NoSuchUpload", 404, Bucket=bucket, Key=key, UploadId=upload_id,
                 PartNumber=2, Body=b"y")
    expect_error(s3.complete_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key=key,
                 UploadId=upload_id,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": sup.md5_etag(body("ab", 2048))}]})
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    expect_error(s3.head_object, "404", 404, Bucket=bucket, Key=key)


def test_missing_bucket_is_no_such_bucket(s3, bucket_name):
    expect_error(s3.create_multipart_upload, "NoSuchBucket", 404, Bucket=bucket_name, Key="k")
    expect_error(s3.list_multipart_uploads, "NoSuchBucket", 404, Bucket=bucket_name)


# --------------------------------------------------------------------------
# ListParts / ListMultipartUploads
# --------------------------------------------------------------------------


def test_list_parts_pagination(s3, bucket):
    key = "many-parts.bin"
    upload_id = create(s3, bucket, key)
    datas = {n: body(f"lp{n}", 100 + n) for n in range(1, 8)}
    # Upload out of order; the listing is by part number.
    for n in (5, 1, 7, 3, 2, 6, 4):
        upload(s3, bucket, key, upload_id, n, datas[n])

    def expected(numbers):
        return [(n, sup.md5_etag(datas[n]), len(datas[n])) for n in numbers]

    def rows(page):
        return [(p["PartNumber"], p["ETag"], p["Size"]) for p in page.get("Parts", [])]

    full = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert rows(full) == expected(range(1, 8))
    assert full["IsTruncated"] is False
    assert full["UploadId"] == upload_id
    assert full["Key"] == key
    assert all(p["LastModified"] for p in full["Parts"])

    page1 = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=3)
    assert rows(page1) == expected([1, 2, 3])
    assert page1["IsTruncated"] is True
    assert page1["MaxParts"] == 3
    assert int(page1["NextPartNumberMarker"]) == 3

    page2 = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=3, PartNumberMarker=3)
    assert rows(page2) == expected([4, 5, 6])
    assert page2["IsTruncated"] is True
    assert int(page2["PartNumberMarker"]) == 3
    assert int(page2["NextPartNumberMarker"]) == 6

    page3 = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=3, PartNumberMarker=6)
    assert rows(page3) == expected([7])
    assert page3["IsTruncated"] is False

    # The boto3 paginator walks the same pages.
    walked = []
    for page in s3.get_paginator("list_parts").paginate(
            Bucket=bucket, Key=key, UploadId=upload_id, PaginationConfig={"PageSize": 2}):
        walked += rows(page)
    assert walked == expected(range(1, 8))

    # A marker past the last part: empty and not truncated.
    tail = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=7)
    assert rows(tail) == []
    assert tail["IsTruncated"] is False
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


@pytest.fixture
def uploads(s3, bucket):
    """Several uploads in one bucket, two of them for the same key.

    Returns (bucket, [(key, upload_id)] in the order S3 lists them: by key
    (UTF-8 bytes), then by initiation time within a key).
    """
    keys = ["a/1", "a/2", "a/b/3", "a/1", "b/1", "c", "a/b/4", "d\u00e9/x"]
    made = []
    for k in keys:
        made.append((k, create(s3, bucket, k)))
        time.sleep(0.01)  # distinct initiation times for the two "a/1" uploads
    order = sorted(range(len(made)), key=lambda i: (made[i][0].encode(), i))
    return bucket, [made[i] for i in order]


def upload_rows(page) -> list[tuple[str, str]]:
    return [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]


def prefix_rows(page) -> list[str]:
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


SORTED_UPLOADS = pytest.mark.shoebox_only("moto lists uploads in creation order; AWS sorts them by key")


@SORTED_UPLOADS
def test_list_multipart_uploads_all(s3, uploads):
    bucket, expected = uploads
    page = s3.list_multipart_uploads(Bucket=bucket)
    assert upload_rows(page) == expected
    assert page["IsTruncated"] is False
    for u in page["Uploads"]:
        assert u["Initiated"]
    # ...and completing or aborting removes an upload from the list.
    key, upload_id = expected[0]
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert upload_rows(s3.list_multipart_uploads(Bucket=bucket)) == expected[1:]


@SORTED_UPLOADS
def test_list_multipart_uploads_prefix_and_delimiter(s3, uploads):
    bucket, expected = uploads
    page = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert upload_rows(page) == [u for u in expected if u[0].startswith("a/")]
    assert page["Prefix"] == "a/"

    page = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert upload_rows(page) == [u for u in expected if u[0] in ("a/1", "a/2")]
    assert prefix_rows(page) == ["a/b/"]
    assert page["Delimiter"] == "/"

    page = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert upload_rows(page) == [u for u in expected if u[0] == "c"]
    assert prefix_rows(page) == ["a/", "b/", "d\u00e9/"]

    page = s3.list_multipart_uploads(Bucket=bucket, Prefix="zzz")
    assert upload_rows(page) == []
    assert prefix_rows(page) == []


@pytest.mark.shoebox_only("moto ignores KeyMarker/UploadIdMarker/MaxUploads")
def test_list_multipart_uploads_markers(s3, uploads):
    bucket, expected = uploads

    # KeyMarker alone: only keys strictly after it.
    page = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="a/1")
    assert upload_rows(page) == [u for u in expected if u[0].encode() > b"a/1"]
    page = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="a/")
    assert upload_rows(page) == expected

    # MaxUploads truncates and hands back the markers of the last upload listed.
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert upload_rows(page) == expected[:2]
    assert page["IsTruncated"] is True
    assert page["MaxUploads"] == 2
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == expected[1]

    # KeyMarker + UploadIdMarker resume after that upload, even in the middle of one key.
    page = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=expected[0][0],
                                     UploadIdMarker=expected[0][1], MaxUploads=3)
    assert upload_rows(page) == expected[1:4]

    # One at a time with the Next* markers gives the whole list exactly once.
    walked, key_marker, id_marker = [], "", ""
    for _ in range(len(expected) + 2):
        kw = {"KeyMarker": key_marker, "UploadIdMarker": id_marker} if key_marker else {}
        page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1, **kw)
        walked += upload_rows(page)
        if not page["IsTruncated"]:
            break
        key_marker, id_marker = page["NextKeyMarker"], page["NextUploadIdMarker"]
    assert walked == expected

    # The paginator with a delimiter pages through uploads and common prefixes together.
    seen_uploads, seen_prefixes = [], []
    for page in s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}):
        seen_uploads += upload_rows(page)
        seen_prefixes += prefix_rows(page)
    assert seen_uploads == [u for u in expected if u[0] == "c"]
    assert seen_prefixes == ["a/", "b/", "d\u00e9/"]


# --------------------------------------------------------------------------
# UploadPartCopy
# --------------------------------------------------------------------------


def test_upload_part_copy_with_ranges(s3, bucket):
    src = body("copy-src", 12 * MiB + 321)
    s3.put_object(Bucket=bucket, Key="source.bin", Body=src)
    key = "assembled.bin"
    upload_id = create(s3, bucket, key)
    ranges = [(0, MIN_PART - 1), (7 * MiB + 5, 12 * MiB + 4)]
    etags = []
    for n, (first, last) in enumerate(ranges, 1):
        resp = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n,
                                   CopySource={"Bucket": bucket, "Key": "source.bin"},
                                   CopySourceRange=f"bytes={first}-{last}")
        assert resp["CopyPartResult"]["ETag"] == sup.md5_etag(src[first:last + 1]), f"part {n}"
        assert resp["CopyPartResult"]["LastModified"]
        etags.append(resp["CopyPartResult"]["ETag"])
    tail = body("copy-tail", 999)
    etags.append(upload(s3, bucket, key, upload_id, 3, tail)["ETag"])

    pieces = [src[a:b + 1] for a, b in ranges] + [tail]
    listed = all_parts(s3, bucket, key, upload_id)
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(n, len(p)) for n, p in enumerate(pieces, 1)]

    resp = complete(s3, bucket, key, upload_id, [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)])
    assert resp["ETag"] == multipart_etag(pieces)
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert got == b"".join(pieces)
    # The source is untouched.
    assert s3.get_object(Bucket=bucket, Key="source.bin")["Body"].read() == src


def test_upload_part_copy_whole_object_and_from_multipart_source(s3, bucket):
    small = body("whole-src", 4321)
    s3.put_object(Bucket=bucket, Key="small-src", Body=small)
    # A multipart source object: UploadPartCopy reads its bytes across its parts.
    mp_parts = [body("mp-src-1", MIN_PART), body("mp-src-2", 2000)]
    src_id = create(s3, bucket, "mp-src")
    done = [{"PartNumber": n, "ETag": upload(s3, bucket, "mp-src", src_id, n, p)["ETag"]}
            for n, p in enumerate(mp_parts, 1)]
    complete(s3, bucket, "mp-src", src_id, done)
    mp_whole = b"".join(mp_parts)

    key = "copied.bin"
    upload_id = create(s3, bucket, key)
    r1 = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "mp-src"})
    assert r1["CopyPartResult"]["ETag"] == sup.md5_etag(mp_whole)
    first, last = MIN_PART - 100, MIN_PART + 99  # straddles the source's part boundary
    r2 = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "mp-src"},
                             CopySourceRange=f"bytes={first}-{last}")
    assert r2["CopyPartResult"]["ETag"] == sup.md5_etag(mp_whole[first:last + 1])
    r3 = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=3,
                             CopySource={"Bucket": bucket, "Key": "small-src"})
    assert r3["CopyPartResult"]["ETag"] == sup.md5_etag(small)
    # Part 2 (200 bytes) is left out of the complete: it is below 5 MiB and not last.
    pieces = [mp_whole, small]
    resp = complete(s3, bucket, key, upload_id, [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
        {"PartNumber": 3, "ETag": r3["CopyPartResult"]["ETag"]}])
    assert resp["ETag"] == multipart_etag(pieces)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == mp_whole + small


@pytest.mark.shoebox_only("moto answers a bare 404 without an error code for a missing copy source")
def test_upload_part_copy_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload_id = create(s3, bucket, "dst")
    expect_error(s3.upload_part_copy, "NoSuchKey", 404, Bucket=bucket, Key="dst", UploadId=upload_id,
                 PartNumber=1, CopySource={"Bucket": bucket, "Key": "missing"})
    expect_error(s3.upload_part_copy, "NoSuchUpload", 404, Bucket=bucket, Key="dst",
                 UploadId="bm90LWFuLXVwbG9hZC1pZA", PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"})
    s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id)


@pytest.mark.shoebox_only("moto does not validate x-amz-copy-source-range against the source size")
def test_upload_part_copy_range_outside_source(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload_id = create(s3, bucket, "dst")
    expect_error(s3.upload_part_copy, "InvalidRange", 416, Bucket=bucket, Key="dst", UploadId=upload_id,
                 PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=5-10")
    s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=upload_id)


# --------------------------------------------------------------------------
# GetObject / HeadObject ?partNumber=N
# --------------------------------------------------------------------------


@pytest.mark.shoebox_only("moto ignores partNumber on GetObject/HeadObject")
def test_get_and_head_by_part_number(s3, bucket):
    key = "by-part.bin"
    parts = [body("pn1", MIN_PART + 1), body("pn2", MIN_PART + 2), body("pn3", 30)]
    upload_id = create(s3, bucket, key)
    done = [{"PartNumber": n, "ETag": upload(s3, bucket, key, upload_id, n, p)["ETag"]}
            for n, p in enumerate(parts, 1)]
    complete(s3, bucket, key, upload_id, done)
    total = sum(len(p) for p in parts)
    etag = multipart_etag(parts)

    offset = 0
    for n, part in enumerate(parts, 1):
        got = s3.get_object(Bucket=bucket, Key=key, PartNumber=n)
        assert sup.http_status(got) == 206, f"part {n}"
        assert got["PartsCount"] == 3
        assert got["ContentLength"] == len(part)
        assert got["ContentRange"] == f"bytes {offset}-{offset + len(part) - 1}/{total}"
        assert got["ETag"] == etag
        assert got["Body"].read() == part, f"part {n}"

        head = s3.head_object(Bucket=bucket, Key=key, PartNumber=n)
        assert sup.http_status(head) == 206
        assert head["PartsCount"] == 3
        assert head["ContentLength"] == len(part)
        assert head["ContentRange"] == f"bytes {offset}-{offset + len(part) - 1}/{total}"
        offset += len(part)

    # Without partNumber: the whole object.
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == total
    assert sup.http_status(head) == 200

    # Issue 17: 400 InvalidPartNumber for a part number beyond the object's parts.
    expect_error(s3.get_object, "InvalidPartNumber", 400, Bucket=bucket, Key=key, PartNumber=4)
    expect_error(s3.head_object, "400", 400, Bucket=bucket, Key=key, PartNumber=4)


@pytest.mark.shoebox_only("moto answers 200 without PartsCount for partNumber=1 of a single-part object")
def test_part_number_one_of_single_part_object(s3, bucket):
    data = b"not multipart at all"
    s3.put_object(Bucket=bucket, Key="plain", Body=data)
    got = s3.get_object(Bucket=bucket, Key="plain", PartNumber=1)
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)
    # partNumber=1 of a plain object is the whole object; beyond is 400 InvalidPartNumber.
    expect_error(s3.get_object, "InvalidPartNumber", 400, Bucket=bucket, Key="plain", PartNumber=2)
    expect_error(s3.head_object, "400", 400, Bucket=bucket, Key="plain", PartNumber=2)


# --------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------


@pytest.mark.shoebox_only("moto does not return per-part or composite checksums")
def test_crc32_part_checksums_and_composite(s3, bucket):
    key = "checksummed.bin"
    parts = [body("ck1", MIN_PART), body("ck2", MIN_PART + 3), body("ck3", 4444)]
    resp = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")
    assert resp.get("ChecksumAlgorithm") == "CRC32"
    upload_id = resp["UploadId"]

    done = []
    for n, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=p,
                           ChecksumAlgorithm="CRC32")
        assert r["ETag"] == sup.md5_etag(p)
        assert r["ChecksumCRC32"] == sup.checksum_b64("crc32", p), f"part {n}"
        done.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})

    listed = all_parts(s3, bucket, key, upload_id)
    assert [(p["PartNumber"], p.get("ChecksumCRC32")) for p in listed] == [
        (n, sup.checksum_b64("crc32", p)) for n, p in enumerate(parts, 1)]

    resp = complete(s3, bucket, key, upload_id, done)
    assert resp["ETag"] == multipart_etag(parts)
    assert resp["ChecksumCRC32"] == composite_crc32(parts)

    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == composite_crc32(parts)
    # Per part, the checksum returned is that part's own CRC32.
    got = s3.get_object(Bucket=bucket, Key=key, PartNumber=2, ChecksumMode="ENABLED")
    assert got["Body"].read() == parts[1]
    assert got.get("ChecksumCRC32") in (None, sup.checksum_b64("crc32", parts[1]))

    whole = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert whole["Body"].read() == b"".join(parts)


@pytest.mark.shoebox_only("moto does not verify part checksums")
def test_wrong_part_checksum_is_bad_digest(s3, bucket):
    key = "bad-part-checksum.bin"
    upload_id = create(s3, bucket, key, ChecksumAlgorithm="CRC32")
    data = body("bad", 5000)
    expect_error(s3.upload_part, "BadDigest", 400, Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1,
                 Body=data, ChecksumCRC32=sup.checksum_b64("crc32", data + b"!"))
    assert all_parts(s3, bucket, key, upload_id) == []
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


@pytest.mark.shoebox_only("moto does not verify part checksums in CompleteMultipartUpload")
def test_complete_with_wrong_part_checksum_is_invalid_part(s3, bucket):
    key = "bad-complete-checksum.bin"
    upload_id = create(s3, bucket, key, ChecksumAlgorithm="CRC32")
    data = body("cc", 100)
    r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=data,
                       ChecksumAlgorithm="CRC32")
    expect_error(complete, "InvalidPart", 400, s3=s3, bucket=bucket, key=key, upload_id=upload_id,
                 parts=[{"PartNumber": 1, "ETag": r["ETag"],
                         "ChecksumCRC32": sup.checksum_b64("crc32", data + b"?")}])
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# --------------------------------------------------------------------------
# Buckets with incomplete uploads
# --------------------------------------------------------------------------


def test_delete_bucket_with_only_incomplete_uploads(s3, bucket):
    upload_id = create(s3, bucket, "left/behind.bin")
    upload(s3, bucket, "left/behind.bin", upload_id, 1, body("lb", 3000))
    create(s3, bucket, "second")
    resp = s3.delete_bucket(Bucket=bucket)
    assert sup.http_status(resp) == 204
    expect_error(s3.head_bucket, "404", 404, Bucket=bucket)
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    expect_error(s3.list_parts, "NoSuchBucket", 404, Bucket=bucket, Key="left/behind.bin", UploadId=upload_id)
    # A new bucket of the same name starts without the old uploads.
    s3.create_bucket(Bucket=bucket)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    expect_error(s3.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="left/behind.bin", UploadId=upload_id)


def test_delete_bucket_with_completed_multipart_object_is_not_empty(s3, bucket):
    upload_id = create(s3, bucket, "done")
    etag = upload(s3, bucket, "done", upload_id, 1, b"x")["ETag"]
    complete(s3, bucket, "done", upload_id, [{"PartNumber": 1, "ETag": etag}])
    expect_error(s3.delete_bucket, "BucketNotEmpty", 409, Bucket=bucket)
