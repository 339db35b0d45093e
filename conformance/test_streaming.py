"""aws-chunked request bodies over http, sent byte by byte with http.client.

Three variants of `x-amz-content-sha256`:
  STREAMING-AWS4-HMAC-SHA256-PAYLOAD          signed chunks (Java/Go/JS SDKs, minio clients)
  STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  signed chunks + signed trailing checksum
  STREAMING-UNSIGNED-PAYLOAD-TRAILER          unsigned chunks + trailing checksum (aws-cli, boto3 over https)

The seed signature comes from botocore's own SigV4 signer (s3support.sign_headers);
the chunk and trailer signatures are computed here as documented in
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html:

  chunk:   hex(size);chunk-signature=SIG CRLF data CRLF
           SIG = HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD" \n date \n scope \n prev-sig \n sha256("") \n sha256(data))
  final:   0;chunk-signature=SIG CRLF CRLF                     (no trailer)
           0;chunk-signature=SIG CRLF name:value CRLF x-amz-trailer-signature:TSIG CRLF CRLF
           TSIG = HMAC(key, "AWS4-HMAC-SHA256-TRAILER" \n date \n scope \n final-sig \n sha256("name:value\\n"))
  unsigned: hex(size) CRLF data CRLF ... 0 CRLF name:value CRLF CRLF
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import re
import socket
import time
import urllib.parse
import uuid

import pytest
from botocore.exceptions import ClientError

import s3support as sup

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
KiB = 1024

# moto accepts aws-chunked bodies but verifies neither chunk signatures nor trailing checksums.
VERIFIES = pytest.mark.shoebox_only("moto verifies neither chunk signatures nor trailing checksums")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str) -> bytes:
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, "s3")
    return _hmac(k, "aws4_request")


class StreamingRequest:
    """Headers (seed-signed by botocore) and an aws-chunked body for one PUT."""

    def __init__(self, endpoint: str, path: str, variant: str, data: bytes, *,
                 chunk_size: int = 64 * KiB, trailer: tuple[str, str] | None = None,
                 extra_headers: dict | None = None, http_chunked: bool = False,
                 decoded_length: int | None = None):
        self.endpoint, self.path, self.variant, self.data = endpoint, path, variant, data
        self.chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]
        self.trailer = trailer
        self.http_chunked = http_chunked
        self.prev_signature = ""
        self.signatures: list[str] = []

        # Build the body once with placeholder signatures to learn its length
        # (the length does not depend on the signature values).
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data) if decoded_length is None else decoded_length),
        }
        if trailer:
            headers["x-amz-trailer"] = trailer[0]
        headers.update(extra_headers or {})
        if not http_chunked:
            self.seed = "0" * 64
            headers["Content-Length"] = str(len(self._encode_all(dry=True)))
        signed = sup.sign_headers("PUT", endpoint + path, headers=headers, payload_hash=variant)
        auth = signed["Authorization"]
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                         r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})", auth)
        assert m, auth
        _, date, region, signed_headers, self.seed = m.groups()
        assert "x-amz-decoded-content-length" in signed_headers.split(";")
        self.amz_date = signed["X-Amz-Date"]
        self.scope = f"{date}/{region}/s3/aws4_request"
        self.key = signing_key(sup.ROOT_SECRET_KEY, date, region)
        self.headers = signed
        self.prev_signature = self.seed  # the first chunk chains from the seed signature

    # ---- signatures

    def chunk_signature(self, data: bytes) -> str:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, self.prev_signature,
                         EMPTY_SHA256, hashlib.sha256(data).hexdigest()])
        sig = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        self.prev_signature = sig
        self.signatures.append(sig)
        return sig

    def trailer_signature(self, canonical: str) -> str:
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, self.prev_signature,
                         hashlib.sha256(canonical.encode()).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    # ---- encoding

    def encode_chunk(self, data: bytes, signed_as: bytes | None = None, dry: bool = False) -> bytes:
        """One data chunk; `signed_as` signs other bytes than those sent (tampering)."""
        if self.variant == UNSIGNED_TRAILER:
            return b"%x\r\n" % len(data) + data + b"\r\n"
        sig = "0" * 64 if dry else self.chunk_signature(data if signed_as is None else signed_as)
        return b"%x;chunk-signature=%s\r\n" % (len(data), sig.encode()) + data + b"\r\n"

    def encode_final(self, dry: bool = False, trailer_value: str | None = None,
                     bad_trailer_signature: bool = False) -> bytes:
        """The 0-size chunk plus, for the trailer variants, the trailer section."""
        if self.variant == UNSIGNED_TRAILER:
            out = b"0\r\n"
        else:
            sig = "0" * 64 if dry else self.chunk_signature(b"")
            out = b"0;chunk-signature=%s\r\n" % sig.encode()
        if self.trailer is None:
            return out + b"\r\n"
        name = self.trailer[0]
        value = self.trailer[1] if trailer_value is None else trailer_value
        out += f"{name}:{value}\r\n".encode()
        if self.variant == SIGNED_TRAILER:
            tsig = "0" * 64 if dry else self.trailer_signature(f"{name}:{value}\n")
            if bad_trailer_signature:
                tsig = tsig[:-1] + ("0" if tsig[-1] != "0" else "1")
            out += f"x-amz-trailer-signature:{tsig}\r\n".encode()
        return out + b"\r\n"

    def _encode_all(self, dry: bool) -> bytes:
        return b"".join(self.encode_chunk(c, dry=dry) for c in self.chunks) + self.encode_final(dry=dry)

    def body(self) -> bytes:
        """The whole correct body (signs the chunks in order)."""
        return self._encode_all(dry=False)


def send(req: StreamingRequest, body: bytes, *, close_after: int | None = None,
         http_piece: int = 7001) -> tuple[int | None, dict, bytes]:
    """PUT `body`. With http_chunked, frame it in HTTP chunks of `http_piece` bytes
    (not aligned with the aws-chunked frames, like aws-cli). With `close_after`,
    send only that many body bytes, close the socket, and return (None, {}, b"")."""
    u = urllib.parse.urlparse(req.endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.putrequest("PUT", req.path, skip_accept_encoding=True)
    for k, v in req.headers.items():
        conn.putheader(k, v)
    if req.http_chunked:
        conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    payload = body if close_after is None else body[:close_after]
    try:
        if req.http_chunked:
            for i in range(0, len(payload), http_piece):
                piece = payload[i:i + http_piece]
                conn.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
            if close_after is None:
                conn.send(b"0\r\n\r\n")
        else:
            for i in range(0, len(payload), 16 * KiB):
                conn.send(payload[i:i + 16 * KiB])
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer (and close) before reading everything
    if close_after is not None:
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        return None, {}, b""
    resp = conn.getresponse()
    content = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, content


def crc32_trailer(data: bytes) -> tuple[str, str]:
    return ("x-amz-checksum-crc32", sup.checksum_b64("crc32", data))


def object_path(bucket: str, key: str) -> str:
    return f"/{bucket}/{sup.quote_key(key)}"


def assert_absent(s3, bucket: str, key: str, settle: float = 0.0):
    if settle:
        time.sleep(settle)
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    assert sup.http_status(ei.value) == 404
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert key not in keys


def assert_error(status, body, want_status: int, want_code: str):
    assert status == want_status, body[:500]
    assert sup.parse_error(body)["Code"] == want_code, body[:500]


# --------------------------------------------------------------------------
# Successful uploads
# --------------------------------------------------------------------------


SIZE = 200 * KiB + 123  # four full 64 KiB chunks and a short one


@pytest.mark.parametrize("chunk_size", [64 * KiB, 8 * KiB + 1])
def test_signed_streaming_put(s3, endpoint, bucket, chunk_size):
    data = sup.deterministic_body("signed-stream", SIZE)
    key = "stream/signed.bin"
    req = StreamingRequest(endpoint, object_path(bucket, key), SIGNED, data, chunk_size=chunk_size,
                           extra_headers={"Content-Type": "application/x-test", "x-amz-meta-mode": "signed"})
    status, headers, content = send(req, req.body())
    assert status == 200, content[:500]
    assert headers.get("etag") == sup.md5_etag(data)
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["ContentLength"] == len(data)
    assert got["ETag"] == sup.md5_etag(data)
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"mode": "signed"}
    # aws-chunked describes the transfer only; it is not the object's Content-Encoding.
    assert "aws-chunked" not in (got.get("ContentEncoding") or "")
    assert got["Body"].read() == data


def test_signed_streaming_put_empty_object(s3, endpoint, bucket):
    req = StreamingRequest(endpoint, object_path(bucket, "empty"), SIGNED, b"")
    assert req.chunks == []
    status, _, content = send(req, req.body())
    assert status == 200, content[:500]
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0
    assert got["ETag"] == sup.md5_etag(b"")


def test_signed_streaming_put_keeps_other_content_encoding(s3, endpoint, bucket):
    data = b"\x1f\x8b gzip-ish bytes" * 100
    req = StreamingRequest(endpoint, object_path(bucket, "gz"), SIGNED, data,
                           extra_headers={"Content-Encoding": "aws-chunked,gzip"})
    status, _, content = send(req, req.body())
    assert status == 200, content[:500]
    got = s3.get_object(Bucket=bucket, Key="gz")
    assert got["ContentEncoding"] == "gzip"
    assert got["Body"].read() == data


def test_signed_streaming_put_with_signed_trailer(s3, endpoint, bucket):
    data = sup.deterministic_body("signed-trailer", SIZE)
    key = "stream/signed-trailer.bin"
    req = StreamingRequest(endpoint, object_path(bucket, key), SIGNED_TRAILER, data,
                           trailer=crc32_trailer(data),
                           extra_headers={"x-amz-sdk-checksum-algorithm": "CRC32"})
    status, headers, content = send(req, req.body())
    assert status == 200, content[:500]
    assert headers.get("etag") == sup.md5_etag(data)
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == sup.checksum_b64("crc32", data)
    assert got["ContentLength"] == len(data)
    assert got["Body"].read() == data


@pytest.mark.parametrize("http_chunked", [False, True], ids=["content-length", "transfer-encoding-chunked"])
@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "sha256"])
def test_unsigned_trailer_like_aws_cli(s3, endpoint, bucket, http_chunked, algorithm):
    data = sup.deterministic_body("unsigned-trailer-" + algorithm, SIZE)
    key = f"stream/unsigned-{algorithm}-{int(http_chunked)}.bin"
    req = StreamingRequest(endpoint, object_path(bucket, key), UNSIGNED_TRAILER, data,
                           chunk_size=64 * KiB, http_chunked=http_chunked,
                           trailer=(f"x-amz-checksum-{algorithm}", sup.checksum_b64(algorithm, data)),
                           extra_headers={"x-amz-sdk-checksum-algorithm": algorithm.upper()})
    status, headers, content = send(req, req.body())
    assert status == 200, content[:500]
    assert headers.get("etag") == sup.md5_etag(data)
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert got["Checksum" + algorithm.upper()] == sup.checksum_b64(algorithm, data)
    assert got["Body"].read() == data


def test_signed_streaming_upload_part(s3, endpoint, bucket):
    key = "stream/part.bin"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    data = sup.deterministic_body("stream-part", SIZE)
    path = object_path(bucket, key) + f"?partNumber=1&uploadId={urllib.parse.quote(upload_id, safe='')}"
    req = StreamingRequest(endpoint, path, SIGNED_TRAILER, data, trailer=crc32_trailer(data))
    status, headers, content = send(req, req.body())
    assert status == 200, content[:500]
    assert headers.get("etag") == sup.md5_etag(data)
    parts = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, len(data), sup.md5_etag(data))]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": sup.md5_etag(data)}]})
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


# --------------------------------------------------------------------------
# Signature failures: 403 SignatureDoesNotMatch, nothing stored
# --------------------------------------------------------------------------


def tampered_body(req: StreamingRequest, how: str) -> bytes:
    out = []
    for i, chunk in enumerate(req.chunks):
        if how == "data" and i == 2:
            sent = bytearray(chunk)
            sent[100] ^= 0x01
            out.append(req.encode_chunk(bytes(sent), signed_as=chunk))
        elif how == "chunk-signature" and i == 1:
            head, rest = req.encode_chunk(chunk).split(b"\r\n", 1)
            out.append(head[:-1] + (b"0" if head[-1:] != b"0" else b"1") + b"\r\n" + rest)
        else:
            out.append(req.encode_chunk(chunk))
    if how == "swapped":
        # Each frame is correctly signed in the original chain; sending two of
        # them in the other order breaks the chain (every signature covers the previous one).
        out[1], out[2] = out[2], out[1]
    if how == "final-signature":
        final = req.encode_final()
        out.append(re.sub(rb"^0;chunk-signature=[0-9a-f]{64}", b"0;chunk-signature=" + b"f" * 64, final))
    elif how == "trailer-signature":
        out.append(req.encode_final(bad_trailer_signature=True))
    else:
        out.append(req.encode_final())
    return b"".join(out)


@VERIFIES
@pytest.mark.parametrize("variant,how", [
    (SIGNED, "data"),
    (SIGNED, "chunk-signature"),
    (SIGNED, "swapped"),
    (SIGNED, "final-signature"),
    (SIGNED_TRAILER, "data"),
    (SIGNED_TRAILER, "trailer-signature"),
])
def test_tampered_stream_is_signature_does_not_match(s3, endpoint, bucket, variant, how):
    data = sup.deterministic_body("tamper", SIZE)
    key = f"stream/tampered-{how}"
    req = StreamingRequest(endpoint, object_path(bucket, key), variant, data,
                           trailer=crc32_trailer(data) if variant == SIGNED_TRAILER else None)
    status, _, content = send(req, tampered_body(req, how))
    assert_error(status, content, 403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, key)


@VERIFIES
def test_tampered_stream_keeps_previous_version(s3, endpoint, bucket):
    key = "stream/keep-old"
    s3.put_object(Bucket=bucket, Key=key, Body=b"previous version")
    data = sup.deterministic_body("tamper-overwrite", SIZE)
    req = StreamingRequest(endpoint, object_path(bucket, key), SIGNED, data)
    status, _, content = send(req, tampered_body(req, "data"))
    assert_error(status, content, 403, "SignatureDoesNotMatch")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"previous version"


@VERIFIES
def test_wrong_seed_signature(s3, endpoint, bucket):
    data = sup.deterministic_body("seed", 10 * KiB)
    key = "stream/bad-seed"
    req = StreamingRequest(endpoint, object_path(bucket, key), SIGNED, data)
    body = req.body()
    req.headers["Authorization"] = re.sub(r"Signature=[0-9a-f]{64}", "Signature=" + "0" * 64,
                                          req.headers["Authorization"])
    status, _, content = send(req, body)
    assert_error(status, content, 403, "SignatureDoesNotMatch")
    assert_absent(s3, bucket, key)


# --------------------------------------------------------------------------
# Trailing checksum failures: 400 BadDigest, nothing stored
# --------------------------------------------------------------------------


@VERIFIES
@pytest.mark.parametrize("variant", [SIGNED_TRAILER, UNSIGNED_TRAILER])
@pytest.mark.parametrize("http_chunked", [False, True], ids=["content-length", "transfer-encoding-chunked"])
def test_wrong_trailing_checksum_is_bad_digest(s3, endpoint, bucket, variant, http_chunked):
    data = sup.deterministic_body("bad-trailer", SIZE)
    key = f"stream/bad-trailer-{variant[-20:]}-{int(http_chunked)}"
    wrong = sup.checksum_b64("crc32", data + b"!")
    req = StreamingRequest(endpoint, object_path(bucket, key), variant, data, http_chunked=http_chunked,
                           trailer=("x-amz-checksum-crc32", wrong))
    # The trailer signature (signed variant) is correct for the wrong value: only the checksum is off.
    status, _, content = send(req, req.body())
    assert_error(status, content, 400, "BadDigest")
    assert_absent(s3, bucket, key)


@VERIFIES
def test_wrong_trailing_checksum_keeps_previous_version(s3, endpoint, bucket):
    key = "stream/bad-trailer-keep"
    s3.put_object(Bucket=bucket, Key=key, Body=b"v1")
    data = sup.deterministic_body("bad-trailer-keep", SIZE)
    req = StreamingRequest(endpoint, object_path(bucket, key), UNSIGNED_TRAILER, data,
                           trailer=("x-amz-checksum-sha256", sup.checksum_b64("sha256", b"other")))
    status, _, content = send(req, req.body())
    assert_error(status, content, 400, "BadDigest")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"v1"


@VERIFIES
def test_decoded_length_mismatch_is_rejected(s3, endpoint, bucket):
    data = sup.deterministic_body("length", 100 * KiB)
    key = "stream/length-mismatch"
    req = StreamingRequest(endpoint, object_path(bucket, key), SIGNED, data, decoded_length=len(data) + 1)
    status, _, content = send(req, req.body())
    assert status == 400, content[:500]
    assert_absent(s3, bucket, key)


# --------------------------------------------------------------------------
# Truncated bodies: the client goes away; nothing is stored
# --------------------------------------------------------------------------


def cut_points(req: StreamingRequest, body: bytes) -> dict[str, int]:
    """Byte offsets at which to close the connection."""
    first = len(req.encode_chunk(req.chunks[0], dry=True))
    data_len = sum(len(req.encode_chunk(c, dry=True)) for c in req.chunks)
    points = {
        "mid-first-chunk": first // 2,
        "chunk-boundary": first,                   # a complete first chunk, nothing after it
        "before-final-chunk": data_len,            # every data byte, no 0-size chunk
        "last-byte-missing": len(body) - 1,
    }
    if req.trailer is not None:
        final0 = len(b"0\r\n") if req.variant == UNSIGNED_TRAILER else len(b"0;chunk-signature=\r\n") + 64
        points["before-trailer"] = data_len + final0
    return points


TRUNCATIONS = [(v, p) for v in (SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER)
               for p in ("mid-first-chunk", "chunk-boundary", "before-final-chunk", "last-byte-missing")]
TRUNCATIONS += [(SIGNED_TRAILER, "before-trailer"), (UNSIGNED_TRAILER, "before-trailer")]


@pytest.mark.parametrize("variant,point", TRUNCATIONS)
@pytest.mark.parametrize("http_chunked", [False, True], ids=["content-length", "transfer-encoding-chunked"])
def test_truncated_body_is_not_stored(s3, endpoint, bucket, variant, point, http_chunked):
    data = sup.deterministic_body("truncated", SIZE)
    key = f"stream/truncated-{uuid.uuid4().hex[:8]}"
    req = StreamingRequest(endpoint, object_path(bucket, key), variant, data, http_chunked=http_chunked,
                           trailer=crc32_trailer(data) if variant != SIGNED else None)
    body = req.body()
    send(req, body, close_after=cut_points(req, body)[point])
    assert_absent(s3, bucket, key, settle=0.5)
    # The server is still fine afterwards.
    s3.put_object(Bucket=bucket, Key=key + "-after", Body=b"ok")
    assert s3.get_object(Bucket=bucket, Key=key + "-after")["Body"].read() == b"ok"


def test_truncated_body_keeps_previous_version(s3, endpoint, bucket):
    key = "stream/truncated-keep"
    s3.put_object(Bucket=bucket, Key=key, Body=b"before")
    data = sup.deterministic_body("truncated-keep", SIZE)
    req = StreamingRequest(endpoint, object_path(bucket, key), UNSIGNED_TRAILER, data,
                           trailer=crc32_trailer(data), http_chunked=True)
    body = req.body()
    send(req, body, close_after=cut_points(req, body)["before-trailer"])
    time.sleep(0.5)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"before"
