"""Bucket operations: CreateBucket, DeleteBucket, HeadBucket, ListBuckets, GetBucketLocation."""

import re
import uuid

import pytest
from botocore.exceptions import ClientError

import s3support as sup


def _unique(prefix="cfb"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


# moto 5.2.1 only checks the length (3..63) of bucket names, so every other
# naming rule is shoebox_only. Rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
NAMING = pytest.mark.shoebox_only("moto only validates bucket-name length")
INVALID_NAMES = [
    pytest.param("ab", id="too-short"),
    pytest.param("a" * 64, id="too-long"),
    pytest.param("UPPER", id="uppercase", marks=NAMING),
    pytest.param("Mixedcase-bucket", id="mixedcase", marks=NAMING),
    pytest.param("bad_name", id="underscore", marks=NAMING),
    pytest.param("-x-", id="leading-hyphen", marks=NAMING),
    pytest.param("abc-", id="trailing-hyphen", marks=NAMING),
    pytest.param(".abc", id="leading-dot", marks=NAMING),
    pytest.param("abc.", id="trailing-dot", marks=NAMING),
    pytest.param("192.168.1.1", id="ip-address", marks=NAMING),
    pytest.param("a..b", id="double-dot", marks=NAMING),
    pytest.param("xn--abc", id="xn-prefix", marks=NAMING),
    pytest.param("abc-s3alias", id="s3alias-suffix", marks=NAMING),
]


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_create_bucket_invalid_name(s3, name):
    with pytest.raises(ClientError) as ei:
        s3.create_bucket(Bucket=name)
    assert sup.error_code(ei.value) == "InvalidBucketName"
    assert sup.http_status(ei.value) == 400
    # and nothing was created
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert name not in names


@pytest.mark.parametrize("name_fn", [
    lambda: "z" + uuid.uuid4().hex[:2],  # shortest legal name (3 chars)
    lambda: ("n" + uuid.uuid4().hex * 2)[:63],
    lambda: "d.o.t-" + uuid.uuid4().hex[:10],
    lambda: "0" + uuid.uuid4().hex[:10] + "9",
], ids=["3-chars", "63-chars", "dots-and-hyphens", "digits-at-ends"])
def test_create_bucket_valid_names(s3, name_fn):
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    name = name_fn()
    while name in existing:
        name = name_fn()
    resp = s3.create_bucket(Bucket=name)
    assert sup.http_status(resp) == 200
    s3.head_bucket(Bucket=name)
    assert name in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    s3.delete_bucket(Bucket=name)


def test_create_bucket_returns_location(s3, bucket_name):
    resp = s3.create_bucket(Bucket=bucket_name)
    assert sup.http_status(resp) == 200
    # AWS returns "Location: /bucket" for path-style us-east-1 creates.
    assert resp.get("Location") == f"/{bucket_name}"


def test_recreate_own_bucket_us_east_1_is_ok(s3, bucket):
    """Re-creating a bucket you already own.

    AWS docs (BucketAlreadyOwnedByYou): "Amazon S3 returns this error in all
    AWS Regions except in the North Virginia Region. For legacy compatibility,
    if you re-create an existing bucket that you already own in the North
    Virginia Region, Amazon S3 returns 200 OK". moto does the same. The server
    runs as us-east-1, so we expect 200 and the bucket (and its objects) intact.
    """
    s3.put_object(Bucket=bucket, Key="keep-me", Body=b"x")
    resp = s3.create_bucket(Bucket=bucket)
    assert sup.http_status(resp) == 200
    assert s3.get_object(Bucket=bucket, Key="keep-me")["Body"].read() == b"x"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names.count(bucket) == 1


def test_delete_bucket(s3, bucket):
    resp = s3.delete_bucket(Bucket=bucket)
    assert sup.http_status(resp) == 204
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=bucket)
    assert sup.http_status(ei.value) == 404
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_delete_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="dir/obj", Body=b"data")
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket)
    assert sup.error_code(ei.value) == "BucketNotEmpty"
    assert sup.http_status(ei.value) == 409
    # bucket and object survive
    assert s3.get_object(Bucket=bucket, Key="dir/obj")["Body"].read() == b"data"
    s3.delete_object(Bucket=bucket, Key="dir/obj")
    assert sup.http_status(s3.delete_bucket(Bucket=bucket)) == 204


def test_delete_bucket_missing(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.delete_bucket(Bucket=bucket_name)
    assert sup.error_code(ei.value) == "NoSuchBucket"
    assert sup.http_status(ei.value) == 404


def test_delete_then_recreate_is_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="old", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="old")
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_head_bucket(s3, bucket, bucket_name):
    assert sup.http_status(s3.head_bucket(Bucket=bucket)) == 200
    missing = bucket_name + "-missing"
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=missing)
    assert sup.http_status(ei.value) == 404


def test_list_buckets_contains_created(s3):
    names = [_unique(), _unique(), _unique()]
    for n in names:
        s3.create_bucket(Bucket=n)
    resp = s3.list_buckets()
    listed = [b["Name"] for b in resp["Buckets"]]
    for n in names:
        assert listed.count(n) == 1
    by_name = {b["Name"]: b for b in resp["Buckets"]}
    for n in names:
        assert by_name[n]["CreationDate"] is not None
    owner = resp["Owner"]
    assert owner.get("ID")


@pytest.mark.shoebox_only("moto lists buckets in creation order; AWS lists them sorted by name")
def test_list_buckets_sorted_by_name(s3):
    names = ["cfz-" + uuid.uuid4().hex[:12], "cfa-" + uuid.uuid4().hex[:12], "cfm-" + uuid.uuid4().hex[:12]]
    for n in names:
        s3.create_bucket(Bucket=n)
    listed = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert listed == sorted(listed)


@pytest.mark.shoebox_only("moto's ListBuckets owner id is 32 hex chars; AWS canonical ids are 64")
def test_list_buckets_owner_is_canonical_id(s3, bucket):
    owner = s3.list_buckets()["Owner"]
    assert re.fullmatch(r"[0-9a-f]{64}", owner["ID"]), owner


@pytest.mark.shoebox_only("moto's ListBuckets Owner is a placeholder different from its object Owner")
def test_list_buckets_owner_matches_fetch_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    owner = s3.list_buckets()["Owner"]
    listed = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"]
    assert listed["ID"] == owner["ID"]


def test_get_bucket_location_us_east_1(s3, bucket, signed):
    resp = s3.get_bucket_location(Bucket=bucket)
    assert resp["LocationConstraint"] is None
    # On the wire: an empty LocationConstraint element.
    raw = signed("GET", f"/{bucket}?location")
    assert raw.status_code == 200
    import xml.etree.ElementTree as ET
    root = ET.fromstring(raw.content)
    assert sup.strip_ns(root.tag) == "LocationConstraint"
    assert not (root.text or "").strip()


def test_get_bucket_location_missing(s3, bucket_name):
    with pytest.raises(ClientError) as ei:
        s3.get_bucket_location(Bucket=bucket_name)
    assert sup.error_code(ei.value) == "NoSuchBucket"
    assert sup.http_status(ei.value) == 404
