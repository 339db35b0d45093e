"""Multipart corners real SDKs hit (issue 17).

Small but valid last parts, a part re-uploaded before completion (the latest wins),
ListMultipartUploads Initiator/Owner with ID and DisplayName for any lister,
GetObject partNumber beyond the parts (400 InvalidPartNumber), complete calls
through default boto3 clients (retries on) with varied keys, sizes and concurrency,
and keys with control characters (accepted as PutObject accepts them).
References: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import s3support as sup
from test_multipart import MIN_PART, all_parts, body, complete, create, expect_error, multipart_etag, upload


def test_tiny_last_parts_are_valid(s3, bucket):
    # Every part but the last must be 5 MiB; the last may be a single byte.
    for last in (1, 17):
        key = f"tiny-last-{last}"
        parts = [body(f"tl{last}a", MIN_PART), body(f"tl{last}b", MIN_PART), body(f"tl{last}c", last)]
        upload_id = create(s3, bucket, key)
        done = [{"PartNumber": n, "ETag": upload(s3, bucket, key, upload_id, n, p)["ETag"]}
                for n, p in enumerate(parts, 1)]
        resp = complete(s3, bucket, key, upload_id, done)
        assert resp["ETag"] == multipart_etag(parts)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(parts)


def test_resent_part_latest_wins_then_finish(s3, bucket):
    key = "resend-first-finish-last"
    upload_id = create(s3, bucket, key)
    first = body("rs-old", MIN_PART + 5)
    second = body("rs-new", MIN_PART)
    tail = body("rs-tail", 10)
    old = upload(s3, bucket, key, upload_id, 1, first)
    upload(s3, bucket, key, upload_id, 2, tail)
    new = upload(s3, bucket, key, upload_id, 1, second)
    listed = all_parts(s3, bucket, key, upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [
        (1, new["ETag"], len(second)), (2, sup.md5_etag(tail), len(tail))]
    # The replaced part's ETag no longer names a part.
    expect_error(complete, "InvalidPart", 400, s3=s3, bucket=bucket, key=key, upload_id=upload_id,
                 parts=[{"PartNumber": 1, "ETag": old["ETag"]}, {"PartNumber": 2, "ETag": sup.md5_etag(tail)}])
    resp = complete(s3, bucket, key, upload_id,
                    [{"PartNumber": 1, "ETag": new["ETag"]}, {"PartNumber": 2, "ETag": sup.md5_etag(tail)}])
    assert resp["ETag"] == multipart_etag([second, tail])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == second + tail


@pytest.mark.shoebox_only("moto ignores partNumber on GetObject")
def test_part_number_beyond_single_part_multipart_object(s3, bucket):
    key = "one-part-mpu"
    data = body("one", 1000)
    upload_id = create(s3, bucket, key)
    etag = upload(s3, bucket, key, upload_id, 1, data)["ETag"]
    complete(s3, bucket, key, upload_id, [{"PartNumber": 1, "ETag": etag}])
    got = s3.get_object(Bucket=bucket, Key=key, PartNumber=1)
    assert got["Body"].read() == data
    assert got["PartsCount"] == 1
    expect_error(s3.get_object, "InvalidPartNumber", 400, Bucket=bucket, Key=key, PartNumber=2)


@pytest.mark.parametrize("key,parts,concurrency,alg", [
    ("plain.bin", 1, 1, None), ("dir/sp ace+plus&amp=1.bin", 3, 3, "CRC32"),
    ("ünï/çødé?x=1#frag", 4, 4, "SHA256"), ("a%2Fb//c", 2, 1, "CRC32C"),
])
def test_complete_with_default_client(endpoint, bucket, key, parts, concurrency, alg):
    """A default boto3 client (retries on, as users run it): complete must succeed."""
    s3 = sup.make_client(endpoint, retries={"max_attempts": 5, "mode": "standard"})
    kw = {"ChecksumAlgorithm": alg} if alg else {}
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="text/plain; charset=utf-8", **kw)["UploadId"]
    datas = [body(f"{key}{n}", MIN_PART if n < parts else 3333) for n in range(1, parts + 1)]

    def send(n):
        extra = {"Checksum" + alg: sup.checksum_b64(alg.lower(), datas[n - 1])} if alg else {}
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=datas[n - 1], **extra)
        done = {"PartNumber": n, "ETag": r["ETag"]}
        if alg:
            done["Checksum" + alg] = r["Checksum" + alg]
        return done

    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(send, range(1, parts + 1)))
    resp = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done})
    assert resp["ETag"] == multipart_etag(datas)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(datas)


@pytest.mark.parametrize("key", ["ctl\x01key", "dir/bell\x07/\x1f.txt"])
def test_control_character_key_as_put_object(s3, bucket, key):
    # PutObject stores such a key; a multipart upload of it must work the same through boto3,
    # whose XML parser refuses any reference to a control character (botocore#3496).
    s3.put_object(Bucket=bucket, Key=key, Body=b"put")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"put"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = upload(s3, bucket, key, upload_id, 1, b"multipart")["ETag"]
    assert [p["ETag"] for p in all_parts(s3, bucket, key, upload_id)] == [etag]
    resp = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert resp["ETag"] == multipart_etag([b"multipart"])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"multipart"


@pytest.fixture(scope="module")
def two_users(tmp_path_factory):
    base = tmp_path_factory.mktemp("mpu-owner")
    (base / "data").mkdir()
    bob = sup.make_user("bob")
    server = sup.ServerProcess(sup.TARGET, base / "data", base, config=sup.write_config(base / "users.json", [bob]))
    server.start()
    yield sup.make_client(server.endpoint), sup.make_client(server.endpoint, bob.access_key, bob.secret_key), bob
    server.stop()


@pytest.mark.shoebox_only("needs a second configured user")
def test_list_multipart_uploads_initiator_and_owner_of_other_user(two_users):
    root, bob_client, bob = two_users
    bucket = "cf-mpuowner-" + uuid.uuid4().hex[:10]
    root.create_bucket(Bucket=bucket)
    root.put_bucket_acl(Bucket=bucket, GrantWrite=f"id={bob.canonical_id}",
                        GrantFullControl=f"id={root.list_buckets()['Owner']['ID']}")
    upload_id = bob_client.create_multipart_upload(Bucket=bucket, Key="bobs")["UploadId"]
    uploads = root.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    for element in ("Initiator", "Owner"):
        assert uploads[0][element] == {"ID": bob.canonical_id, "DisplayName": bob.display_name}, element
    parts = root.list_parts(Bucket=bucket, Key="bobs", UploadId=upload_id)
    assert parts["Initiator"] == {"ID": bob.canonical_id, "DisplayName": bob.display_name}


@pytest.mark.parametrize("sizes,quoted", [((MIN_PART, 10), True), ((1,), False)])
def test_repeated_complete_answers_as_the_first(s3, bucket, sizes, quoted):
    """AWS answers a repeated complete (same upload, same parts) as the first one (ceph's
    s3-tests check it: "check extra client.complete_multipart_upload"), and SDKs retry a
    complete whose answer they lost or could not parse: neither may get NoSuchUpload."""
    key = f"completed-twice-{len(sizes)}"
    parts = [body(f"tw{n}", size) for n, size in enumerate(sizes)]
    upload_id = create(s3, bucket, key)
    done = [{"PartNumber": n, "ETag": upload(s3, bucket, key, upload_id, n, p)["ETag"]}
            for n, p in enumerate(parts, 1)]
    if not quoted:
        done = [{**d, "ETag": d["ETag"].strip('"')} for d in done]
    first = complete(s3, bucket, key, upload_id, done)
    second = complete(s3, bucket, key, upload_id, done)
    assert (second["ETag"], second["Key"]) == (first["ETag"], key) == (multipart_etag(parts), key)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(parts)
    # Once the object is replaced, the upload is gone for good.
    s3.put_object(Bucket=bucket, Key=key, Body=b"replaced")
    expect_error(complete, "NoSuchUpload", 404, s3=s3, bucket=bucket, key=key, upload_id=upload_id, parts=done)
