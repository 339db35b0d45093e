"""Request bodies and object headers at the corners real SDKs hit (issue 17).

Plain HTTP chunking: some SDKs stream a body of unknown size as `Transfer-Encoding: chunked`
without Content-Length (nor aws-chunked). Shoebox stores it streamed; with a signed
`x-amz-content-sha256` the hash is checked once the body has ended, with UNSIGNED-PAYLOAD it
is taken as is. (AWS itself answers 501 NotImplemented naming the Transfer-Encoding header;
Shoebox accepts, as MinIO does, since the body is fully framed by the chunking.)

Content-Encoding comes back exactly as sent, less `aws-chunked` (as AWS). User metadata that
is not ASCII: boto3 refuses it (botocore's validate_ascii_metadata), so boto3 users send the
RFC 2047 form `=?UTF-8?B?...?=`; AWS decodes it before storing and re-encodes non-ASCII values
the same way when returning them, so both that form and raw UTF-8 come back as the encoded word.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests
from botocore.exceptions import ClientError

import s3support as sup

KiB = 1024


def _pieces(data: bytes, piece: int = 7001):
    # A generator body makes requests send `Transfer-Encoding: chunked`, no Content-Length.
    for i in range(0, len(data), piece):
        yield data[i:i + piece]


def put_chunked(url: str, data: bytes, *, payload_hash: str | None = None, headers: dict | None = None):
    hdrs = sup.sign_headers("PUT", url, body=data, headers=headers, payload_hash=payload_hash)
    hdrs.pop("Content-Length", None)
    return requests.put(url, data=_pieces(data), headers=hdrs, timeout=30)


def object_url(endpoint: str, bucket: str, key: str) -> str:
    return f"{endpoint}/{bucket}/{sup.quote_key(key)}"


@pytest.mark.parametrize("payload_hash", [None, "UNSIGNED-PAYLOAD"], ids=["signed-sha256", "unsigned"])
def test_plain_chunked_put_is_stored(s3, endpoint, bucket, payload_hash):
    data = sup.deterministic_body("plain-chunked", 300 * KiB + 11)
    resp = put_chunked(object_url(endpoint, bucket, "chunked.bin"), data, payload_hash=payload_hash)
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["ETag"] == sup.md5_etag(data)
    got = s3.get_object(Bucket=bucket, Key="chunked.bin")
    assert got["ContentLength"] == len(data)
    assert got["Body"].read() == data


def test_plain_chunked_empty_put(s3, endpoint, bucket):
    resp = put_chunked(object_url(endpoint, bucket, "empty"), b"", payload_hash="UNSIGNED-PAYLOAD")
    assert resp.status_code == 200, resp.text[:500]
    assert s3.head_object(Bucket=bucket, Key="empty")["ContentLength"] == 0


@pytest.mark.shoebox_only("moto does not verify x-amz-content-sha256")
def test_plain_chunked_put_with_wrong_sha256_is_refused(s3, endpoint, bucket):
    data = b"the real body" * 1000
    resp = put_chunked(object_url(endpoint, bucket, "bad"), data,
                       payload_hash=hashlib.sha256(b"another body").hexdigest())
    assert resp.status_code == 400, resp.text[:500]
    assert sup.parse_error(resp.content)["Code"] == "XAmzContentSHA256Mismatch"
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key="bad")
    assert sup.http_status(ei.value) == 404


def test_plain_chunked_upload_part(s3, endpoint, bucket):
    part = sup.deterministic_body("chunked-part", 5 * KiB * KiB + 3)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    url = object_url(endpoint, bucket, "mp") + f"?partNumber=1&uploadId={upload}"
    resp = put_chunked(url, part, payload_hash="UNSIGNED-PAYLOAD")
    assert resp.status_code == 200, resp.text[:500]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": resp.headers["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == part


def test_plain_chunked_keeps_content_encoding_and_metadata(s3, endpoint, bucket):
    data = b"\x1f\x8b compressed-ish" * 50
    resp = put_chunked(object_url(endpoint, bucket, "gz"), data, payload_hash="UNSIGNED-PAYLOAD",
                       headers={"Content-Encoding": "gzip", "x-amz-meta-origin": "stream"})
    assert resp.status_code == 200, resp.text[:500]
    head = s3.head_object(Bucket=bucket, Key="gz")
    assert head["ContentEncoding"] == "gzip"
    assert head["Metadata"] == {"origin": "stream"}


@pytest.mark.parametrize("encoding", ["gzip", "gzip, br", "br,gzip", "x-Custom ;q=1", "identity"])
def test_content_encoding_comes_back_as_sent(s3, bucket, encoding):
    s3.put_object(Bucket=bucket, Key="enc", Body=b"x", ContentEncoding=encoding)
    assert s3.head_object(Bucket=bucket, Key="enc")["ContentEncoding"] == encoding
    assert s3.get_object(Bucket=bucket, Key="enc")["ContentEncoding"] == encoding


@pytest.mark.parametrize("sent,kept", [("aws-chunked", None), ("aws-chunked, gzip", "gzip"), ("gzip, aws-chunked", "gzip")])
def test_aws_chunked_is_removed_from_content_encoding(s3, endpoint, bucket, sent, kept):
    url = object_url(endpoint, bucket, "enc")
    resp = sup.signed_request("PUT", url, body=b"plain body", headers={"Content-Encoding": sent})
    assert resp.status_code == 200, resp.text[:500]
    assert s3.head_object(Bucket=bucket, Key="enc").get("ContentEncoding") == kept


def rfc2047(text: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def test_rfc2047_metadata_from_boto3_round_trips(s3, bucket):
    # What a boto3 user sends: botocore refuses non-ASCII metadata values.
    value = rfc2047("héllo wörld ✓")
    s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"title": value, "plain": "ascii"})
    assert s3.head_object(Bucket=bucket, Key="m")["Metadata"] == {"title": value, "plain": "ascii"}
    assert s3.get_object(Bucket=bucket, Key="m")["Metadata"] == {"title": value, "plain": "ascii"}


@pytest.mark.shoebox_only("moto returns raw UTF-8 metadata as latin-1")
def test_utf8_metadata_comes_back_rfc2047_encoded(s3, endpoint, bucket):
    text = "héllo wörld ✓"
    url = object_url(endpoint, bucket, "u")
    hdrs = sup.sign_headers("PUT", url, body=b"x", headers={"x-amz-meta-title": text})
    # requests would send a str header as latin-1: send the UTF-8 bytes.
    hdrs = {k: (v.encode() if k.lower() == "x-amz-meta-title" else v) for k, v in hdrs.items()}
    resp = requests.put(url, data=b"x", headers=hdrs, timeout=30)
    assert resp.status_code == 200, resp.text[:500]
    head = s3.head_object(Bucket=bucket, Key="u")
    assert head["Metadata"] == {"title": rfc2047(text)}
