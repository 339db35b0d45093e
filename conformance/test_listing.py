"""ListObjectsV2 / ListObjects (v1) / ListObjectVersions against a model computed in Python.

A module-scoped bucket holds 2,500 keys (ASCII, upper-case, spaces, '+', and
non-ASCII first bytes, so UTF-8 byte order matters). Every listing is compared
with `s3support.model_listing`, which sorts by `key.encode()`.
"""

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import s3support as sup

N_KEYS = 2500


def make_keys() -> list[str]:
    keys = []
    for i in range(N_KEYS):
        r = i % 20
        if r == 0:
            k = f"top-{i:04d}"
        elif r == 1:
            k = f"Z/upper-{i:04d}"
        elif r == 2:
            k = f"\u00e9/{i % 5}/x{i:04d}"          # é: first byte 0xC3, sorts after ASCII
        elif r == 3:
            k = f"d{i % 7}/with space+plus {i:04d}"
        elif r == 4:
            k = f"d{i % 7}/f{i:04d}"
        else:
            k = f"d{i % 7}/sub{i % 11:02d}/f{i:04d}"
        keys.append(k)
    assert len(set(keys)) == N_KEYS
    return keys


KEYS = make_keys()


def body_for(key: str) -> bytes:
    return key.encode("utf-8")


@pytest.fixture(scope="module")
def big_bucket(s3):
    name = "cf-list-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)

    def put(k):
        s3.put_object(Bucket=name, Key=k, Body=body_for(k))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, KEYS))
    return name


SCENARIOS = [
    pytest.param("", "/", id="root-slash"),
    pytest.param("d3/", "/", id="d3-slash"),
    pytest.param("d3/sub05/", None, id="leaf-prefix-no-delim"),
    pytest.param("", None, id="everything"),
    pytest.param("d", "/sub", id="multichar-delimiter"),
    pytest.param("\u00e9/", "/", id="utf8-prefix"),
    pytest.param("d2/with", "+", id="plus-delimiter",
                 marks=pytest.mark.shoebox_only("moto does not URL-encode Delimiter, so botocore decodes '+' to ' '")),
]
PAGE_SIZES = [1, 7, 1000]
MAX_REQUESTS = 300  # keeps the run fast: bigger listings are covered by larger pages


def _skip_if_too_many_requests(expected, page_size):
    if len(expected) / page_size > MAX_REQUESTS:
        pytest.skip(f"{len(expected)} entries at page size {page_size}: covered by larger pages")


def _list_v2_all(s3, bucket, prefix, delimiter, page_size, start_after=None):
    entries, pages = [], []
    kw = dict(Bucket=bucket, Prefix=prefix, MaxKeys=page_size)
    if delimiter is not None:
        kw["Delimiter"] = delimiter
    if start_after is not None:
        kw["StartAfter"] = start_after
    token = None
    for _ in range(N_KEYS + 10):
        resp = s3.list_objects_v2(**kw, **({"ContinuationToken": token} if token else {}))
        pages.append(resp)
        page = sup.page_entries(resp)
        # per-page invariants
        assert resp["KeyCount"] == len(page)
        assert resp["KeyCount"] <= page_size
        assert resp["MaxKeys"] == page_size
        assert resp.get("Prefix", "") == prefix
        if delimiter is not None:
            assert resp.get("Delimiter") == delimiter
        entries.extend(page)
        if not resp["IsTruncated"]:
            assert "NextContinuationToken" not in resp
            return entries, pages
        assert resp["KeyCount"] >= 1
        token = resp["NextContinuationToken"]
        assert token
    pytest.fail("pagination did not terminate")


@pytest.mark.parametrize("page_size", PAGE_SIZES)
@pytest.mark.parametrize("prefix,delimiter", SCENARIOS)
def test_list_v2_pagination_matches_model(s3, big_bucket, prefix, delimiter, page_size):
    expected = sup.model_listing(KEYS, prefix, delimiter)
    _skip_if_too_many_requests(expected, page_size)
    entries, pages = _list_v2_all(s3, big_bucket, prefix, delimiter, page_size)
    assert entries == expected  # same entries, same (UTF-8 byte) order, no duplicates
    assert pages[-1]["IsTruncated"] is False


@pytest.mark.shoebox_only("moto does not echo ContinuationToken")
def test_list_v2_echoes_continuation_token(s3, big_bucket):
    first = s3.list_objects_v2(Bucket=big_bucket, Prefix="d1/", MaxKeys=5)
    token = first["NextContinuationToken"]
    second = s3.list_objects_v2(Bucket=big_bucket, Prefix="d1/", MaxKeys=5, ContinuationToken=token)
    assert second["ContinuationToken"] == token
    assert "ContinuationToken" not in first


def test_list_v2_start_after_ignored_with_continuation_token(s3, big_bucket):
    # AWS: StartAfter is ignored when a ContinuationToken is given (the token wins).
    first = s3.list_objects_v2(Bucket=big_bucket, Prefix="d1/", MaxKeys=5)
    second = s3.list_objects_v2(Bucket=big_bucket, Prefix="d1/", MaxKeys=5,
                                ContinuationToken=first["NextContinuationToken"], StartAfter="d1/sub09/")
    expected = [k for _, k in sup.model_listing(KEYS, "d1/")][5:10]
    assert [o["Key"] for o in second["Contents"]] == expected


def test_list_v2_contents_fields(s3, big_bucket):
    resp = s3.list_objects_v2(Bucket=big_bucket, Prefix="d4/sub", MaxKeys=50)
    assert resp["Contents"]
    for obj in resp["Contents"]:
        body = body_for(obj["Key"])
        assert obj["Size"] == len(body)
        assert obj["ETag"] == '"' + hashlib.md5(body).hexdigest() + '"'
        assert obj["StorageClass"] == "STANDARD"
        assert obj["LastModified"] is not None
        assert "Owner" not in obj  # only with FetchOwner=true


def test_list_v2_fetch_owner(s3, big_bucket):
    resp = s3.list_objects_v2(Bucket=big_bucket, Prefix="top-", MaxKeys=3, FetchOwner=True)
    assert len(resp["Contents"]) == 3
    for obj in resp["Contents"]:
        assert obj["Owner"]["ID"]


@pytest.mark.parametrize("start_after", ["d3/sub05/f0200", "d3/", "c", "top-1000", "zzzz", "\u00e9/3", "\u00ff"])
def test_list_v2_start_after(s3, big_bucket, start_after):
    expected = sup.model_listing(KEYS, "", None, after=start_after)
    entries, _ = _list_v2_all(s3, big_bucket, "", None, 1000, start_after=start_after)
    assert entries == expected


def test_list_v2_start_after_with_delimiter(s3, big_bucket):
    # StartAfter between two common prefixes
    expected = sup.model_listing(KEYS, "d3/", "/", after="d3/sub03/~")
    entries, pages = _list_v2_all(s3, big_bucket, "d3/", "/", 5, start_after="d3/sub03/~")
    assert entries == expected
    assert pages[0]["StartAfter"] == "d3/sub03/~"


def test_list_v2_prefix_matches_nothing(s3, big_bucket):
    resp = s3.list_objects_v2(Bucket=big_bucket, Prefix="no-such-prefix/")
    assert resp["KeyCount"] == 0
    assert "Contents" not in resp
    assert resp["IsTruncated"] is False


def test_list_v2_default_max_keys_is_1000(s3, big_bucket):
    resp = s3.list_objects_v2(Bucket=big_bucket)
    assert resp["MaxKeys"] == 1000
    assert resp["KeyCount"] == 1000
    assert resp["IsTruncated"] is True
    assert [o["Key"] for o in resp["Contents"]] == sup.utf8_sorted(KEYS)[:1000]


def test_list_v2_paginator(s3, big_bucket):
    # the boto3 paginator (what most applications use)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=big_bucket, PaginationConfig={"PageSize": 333}):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert keys == sup.utf8_sorted(KEYS)


# ------------------------------------------------------------------ v1

def _list_v1_all(s3, bucket, prefix, delimiter, page_size, strict=False):
    """Page through ListObjects v1. `strict` adds the AWS page invariants moto breaks."""
    entries = []
    kw = dict(Bucket=bucket, Prefix=prefix, MaxKeys=page_size)
    if delimiter is not None:
        kw["Delimiter"] = delimiter
    marker = None
    for _ in range(N_KEYS + 10):
        resp = s3.list_objects(**kw, **({"Marker": marker} if marker else {}))
        page = sup.page_entries(resp)
        if strict:
            assert resp.get("Marker", "") == (marker or "")  # the request's marker is echoed
            assert len(page) <= page_size  # CommonPrefixes count toward MaxKeys, as in v2
        entries.extend(page)
        if not resp["IsTruncated"]:
            return entries
        assert page
        if strict:
            if delimiter is None:
                # AWS: "NextMarker: This element is returned only if you have the
                # delimiter request parameter specified."
                assert "NextMarker" not in resp
            else:
                # ...and then it is the last Key or CommonPrefix of the page.
                assert resp["NextMarker"] == page[-1][1]
        # the client algorithm (botocore's paginator): NextMarker, else the last Key
        marker = resp.get("NextMarker") or resp["Contents"][-1]["Key"]
    pytest.fail("pagination did not terminate")


def _v1_params():
    moto_broken = pytest.mark.shoebox_only(
        "moto's v1 repeats every CommonPrefix on every page when paginating with a delimiter")
    out = []
    for sc in SCENARIOS:
        prefix, delimiter = sc.values
        for size in PAGE_SIZES:
            marks = list(sc.marks)
            if delimiter is not None and size < 1000:
                marks.append(moto_broken)
            out.append(pytest.param(prefix, delimiter, size, marks=marks, id=f"{sc.id}-{size}"))
    return out


@pytest.mark.parametrize("prefix,delimiter,page_size", _v1_params())
def test_list_v1_pagination_matches_model(s3, big_bucket, prefix, delimiter, page_size):
    expected = sup.model_listing(KEYS, prefix, delimiter)
    _skip_if_too_many_requests(expected, page_size)
    assert _list_v1_all(s3, big_bucket, prefix, delimiter, page_size) == expected


@pytest.mark.shoebox_only("moto's v1 does not echo Marker, returns an opaque NextMarker (also without a "
                          "delimiter) and does not count CommonPrefixes toward MaxKeys")
@pytest.mark.parametrize("prefix,delimiter,page_size", [
    ("", "/", 1), ("", "/", 4), ("d3/", "/", 7), ("d3/sub05/", None, 7), ("", None, 1000),
])
def test_list_v1_page_invariants(s3, big_bucket, prefix, delimiter, page_size):
    expected = sup.model_listing(KEYS, prefix, delimiter)
    assert _list_v1_all(s3, big_bucket, prefix, delimiter, page_size, strict=True) == expected


def test_list_v1_marker(s3, big_bucket):
    resp = s3.list_objects(Bucket=big_bucket, Marker="d5/sub10/", MaxKeys=20)
    expected = [k for _, k in sup.model_listing(KEYS, "", None, after="d5/sub10/")][:20]
    assert [o["Key"] for o in resp["Contents"]] == expected


def test_list_v1_contents_have_owner(s3, big_bucket):
    resp = s3.list_objects(Bucket=big_bucket, Prefix="top-", MaxKeys=2)
    for obj in resp["Contents"]:
        assert obj["Owner"]["ID"]
        assert obj["Size"] == len(body_for(obj["Key"]))


# --------------------------------------------------------- small buckets

def test_list_empty_bucket(s3, bucket):
    v2 = s3.list_objects_v2(Bucket=bucket)
    assert v2["KeyCount"] == 0 and v2["IsTruncated"] is False and "Contents" not in v2
    v1 = s3.list_objects(Bucket=bucket)
    assert v1["IsTruncated"] is False and "Contents" not in v1


def test_list_reflects_deletes_and_overwrites(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    s3.delete_object(Bucket=bucket, Key="b")
    s3.put_object(Bucket=bucket, Key="c", Body=b"longer")
    contents = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in contents] == [("a", 1), ("c", 6)]


@pytest.mark.shoebox_only("moto answers 500 to a malformed continuation token")
def test_list_v2_invalid_continuation_token(s3, big_bucket):
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=big_bucket, ContinuationToken="this-is-not-a-token!!")
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "InvalidArgument"


def test_list_object_versions_unversioned(s3, bucket):
    bodies = {"v/one": b"1", "v/two": b"22", "three": b"333"}
    for k, v in bodies.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    resp = s3.list_object_versions(Bucket=bucket)
    versions = resp["Versions"]
    assert sorted(v["Key"] for v in versions) == sorted(bodies)
    assert [v["Key"] for v in versions] == sup.utf8_sorted(bodies)
    for v in versions:
        assert v["VersionId"] == "null"
        assert v["IsLatest"] is True
        assert v["Size"] == len(bodies[v["Key"]])
        assert v["ETag"] == sup.md5_etag(bodies[v["Key"]])
    assert resp.get("DeleteMarkers", []) == []
    assert resp["IsTruncated"] is False


def test_list_object_versions_prefix_delimiter(s3, bucket):
    for k in ("p/a", "p/b/c", "q"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = s3.list_object_versions(Bucket=bucket, Prefix="p/", Delimiter="/")
    assert [v["Key"] for v in resp.get("Versions", [])] == ["p/a"]
    assert [c["Prefix"] for c in resp.get("CommonPrefixes", [])] == ["p/b/"]
