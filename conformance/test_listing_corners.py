"""Listing corners real SDKs hit (issue 17): max-keys=0, an empty continuation token, keys
and prefixes with control characters (percent-encoded with encoding-type=url, which botocore
always asks for and decodes; XML character references without it).
"""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

import s3support as sup

CONTROL_KEYS = ["ctl/a\x01b", "ctl/tab\there", "ctl/line\nfeed", "ctl/cr\rkey", "ctl/dir\x1f/x", "ctl/del\x7fkey",
                "ctl/amp&<lt>\"q'"]


@pytest.fixture
def filled(s3, bucket):
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"1")
    return bucket


def test_max_keys_zero_v2_is_empty_and_not_truncated(s3, filled):
    resp = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert resp["IsTruncated"] is False
    assert resp["KeyCount"] == 0
    assert resp["MaxKeys"] == 0
    assert "Contents" not in resp and "NextContinuationToken" not in resp


def test_max_keys_zero_v1_and_versions_are_empty_and_not_truncated(s3, filled):
    v1 = s3.list_objects(Bucket=filled, MaxKeys=0, Delimiter="/")
    assert v1["IsTruncated"] is False
    assert "Contents" not in v1 and "NextMarker" not in v1
    versions = s3.list_object_versions(Bucket=filled, MaxKeys=0)
    assert versions["IsTruncated"] is False
    assert "Versions" not in versions


@pytest.mark.shoebox_only("moto lists from the start for an empty continuation token")
def test_empty_continuation_token_is_invalid_argument(s3, filled):
    # AWS (observed, minio/minio#5931, aws-sdk-go in minio/minio#5940) answers InvalidArgument
    # "The continuation token provided is incorrect" with ArgumentName continuation-token.
    with pytest.raises(ClientError) as ei:
        s3.list_objects_v2(Bucket=filled, ContinuationToken="")
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "InvalidArgument"
    assert ei.value.response["Error"].get("ArgumentName") == "continuation-token"


def _xml_text(s: str) -> str:
    """XML 1.0 parsers refuse character references to control characters: unescape by hand."""
    s = re.sub(r"&#x([0-9a-fA-F]+);", lambda m: chr(int(m.group(1), 16)), s)
    s = re.sub(r"&#([0-9]+);", lambda m: chr(int(m.group(1))), s)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        s = s.replace(entity, char)
    return s


@pytest.fixture
def control_bucket(s3, bucket):
    for k in CONTROL_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    return bucket


def test_control_character_keys_round_trip_through_boto3(s3, control_bucket):
    # botocore asks for encoding-type=url and decodes what comes back.
    v2 = s3.list_objects_v2(Bucket=control_bucket, Prefix="ctl/")
    assert [o["Key"] for o in v2["Contents"]] == sorted(CONTROL_KEYS, key=str.encode)
    v1 = s3.list_objects(Bucket=control_bucket, Prefix="ctl/")
    assert [o["Key"] for o in v1["Contents"]] == sorted(CONTROL_KEYS, key=str.encode)
    versions = s3.list_object_versions(Bucket=control_bucket, Prefix="ctl/")
    assert [o["Key"] for o in versions["Versions"]] == sorted(CONTROL_KEYS, key=str.encode)


def test_control_character_prefixes_and_delimiter_url_encoded(s3, control_bucket, signed):
    resp = s3.list_objects_v2(Bucket=control_bucket, Prefix="ctl/dir\x1f", Delimiter="\x1f")
    assert resp["Prefix"] == "ctl/dir\x1f"
    assert [p["Prefix"] for p in resp.get("CommonPrefixes", [])] == []
    resp = s3.list_objects_v2(Bucket=control_bucket, Prefix="ctl/", Delimiter="\x1f")
    assert resp["Delimiter"] == "\x1f"
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["ctl/dir\x1f"]
    raw = signed("GET", f"/{control_bucket}?list-type=2&encoding-type=url&prefix=ctl%2F&delimiter=%1F")
    assert raw.status_code == 200, raw.text[:500]
    assert "<Prefix>ctl%2Fdir%1F</Prefix>" in raw.text or "<Prefix>ctl/dir%1F</Prefix>" in raw.text, raw.text
    assert "<Delimiter>%1F</Delimiter>" in raw.text, raw.text
    assert "<Key>ctl/a%01b</Key>" in raw.text or "<Key>ctl%2Fa%01b</Key>" in raw.text, raw.text


def test_control_character_keys_xml_escaped_without_encoding_type(control_bucket, signed):
    raw = signed("GET", f"/{control_bucket}?list-type=2&prefix=ctl%2F")
    assert raw.status_code == 200, raw.text[:500]
    keys = [_xml_text(k) for k in re.findall(r"<Key>(.*?)</Key>", raw.text, re.S)]
    assert keys == sorted(CONTROL_KEYS, key=str.encode)
    # Escaped, never raw: a raw CR would be read back as LF by any XML parser.
    assert "\r" not in raw.text and "\x01" not in raw.text
    assert "<EncodingType>" not in raw.text
