"""ListBuckets paging, as AWS added it in 2024: max-buckets (1 to 10,000), continuation-token,
prefix, bucket-region; the response carries ContinuationToken (when more follow) and Prefix.
Without any of them, every bucket comes in one answer, as before.
"""

from __future__ import annotations

import uuid

import pytest

import s3support as sup


@pytest.fixture
def bucket_family(s3):
    prefix = "lb-" + uuid.uuid4().hex[:10] + "-"
    names = [prefix + s for s in ("a", "b", "c", "d", "e")]
    for n in names:
        s3.create_bucket(Bucket=n)
    return prefix, names


def test_list_buckets_prefix(s3, bucket_family):
    prefix, names = bucket_family
    resp = s3.list_buckets(Prefix=prefix)
    assert [b["Name"] for b in resp["Buckets"]] == names
    assert resp["Prefix"] == prefix
    assert "ContinuationToken" not in resp


def test_list_buckets_pages(s3, bucket_family):
    prefix, names = bucket_family
    first = s3.list_buckets(Prefix=prefix, MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == names[:2]
    token = first["ContinuationToken"]
    second = s3.list_buckets(Prefix=prefix, MaxBuckets=2, ContinuationToken=token)
    assert [b["Name"] for b in second["Buckets"]] == names[2:4]
    third = s3.list_buckets(Prefix=prefix, MaxBuckets=2, ContinuationToken=second["ContinuationToken"])
    assert [b["Name"] for b in third["Buckets"]] == names[4:]
    assert "ContinuationToken" not in third


def test_list_buckets_paginator(s3, bucket_family):
    prefix, names = bucket_family
    pages = list(s3.get_paginator("list_buckets").paginate(Prefix=prefix, PaginationConfig={"PageSize": 1}))
    assert [b["Name"] for p in pages for b in p["Buckets"]] == names
    assert len(pages) == len(names)


def test_list_buckets_max_buckets_alone_pages_all_buckets(s3, bucket_family):
    prefix, names = bucket_family
    listed, token = [], None
    while True:
        resp = s3.list_buckets(MaxBuckets=3, **({"ContinuationToken": token} if token else {}))
        assert len(resp["Buckets"]) <= 3
        listed += [b["Name"] for b in resp["Buckets"]]
        token = resp.get("ContinuationToken")
        if not token:
            break
    assert listed == sorted(listed)
    assert [n for n in listed if n.startswith(prefix)] == names


def test_list_buckets_bucket_region(s3, bucket_family):
    prefix, names = bucket_family
    here = s3.list_buckets(Prefix=prefix, BucketRegion=sup.REGION)
    assert [b["Name"] for b in here["Buckets"]] == names
    assert all(b["BucketRegion"] == sup.REGION for b in here["Buckets"])
    assert s3.list_buckets(Prefix=prefix, BucketRegion="eu-west-3")["Buckets"] == []


@pytest.mark.shoebox_only("moto accepts any max-buckets and token")
@pytest.mark.parametrize("query", ["max-buckets=0", "max-buckets=10001", "max-buckets=x", "continuation-token=bm90IGEgdG9rZW4%3D%21"])
def test_list_buckets_invalid_arguments(signed, query):
    resp = signed("GET", "/?" + query)
    assert resp.status_code == 400, resp.text[:500]
    assert sup.parse_error(resp.content)["Code"] == "InvalidArgument"


def test_list_buckets_without_parameters_lists_everything(s3, bucket_family):
    prefix, names = bucket_family
    resp = s3.list_buckets()
    assert [b["Name"] for b in resp["Buckets"] if b["Name"].startswith(prefix)] == names
    assert "ContinuationToken" not in resp and "Prefix" not in resp
