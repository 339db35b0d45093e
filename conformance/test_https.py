"""Shoebox over https (--tls-cert / --tls-key) with aws-cli and boto3.

Over https, aws-cli and boto3 switch PutObject/UploadPart to aws-chunked bodies
(`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`, a trailing
`x-amz-checksum-*`, HTTP chunked framing, no Content-Length; see
docs/clients-on-the-wire.md). These tests start their own TLS server with a
self-signed certificate made here (SAN 127.0.0.1 and localhost), check that the
clients really send that encoding, and compare everything that comes back with
values computed locally (sha256 of files, md5-based ETags, checksums).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import shutil
import socket
import ssl
import time
import uuid
from pathlib import Path

import boto3
import botocore.httpchecksum as httpchecksum
import pytest
from botocore.exceptions import SSLError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import s3support as sup

pytestmark = pytest.mark.shoebox_only("TLS is served by shoebox itself (--tls-cert/--tls-key)")

MiB = 1024 * 1024
CLI_PART = 8 * MiB  # aws-cli multipart_threshold and multipart_chunksize defaults


# --------------------------------------------------------------------------
# Certificate and server
# --------------------------------------------------------------------------


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed RSA certificate for CN=127.0.0.1, SAN IP:127.0.0.1, DNS:localhost."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Shoebox conformance")])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
            x509.DNSName("localhost"),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class TLSServer(sup.ServerProcess):
    """conftest's server process, started with --tls-cert/--tls-key and reached over https."""

    def __init__(self, data_dir: Path, log_dir: Path, cert: Path, key: Path):
        super().__init__("shoebox", data_dir, log_dir)
        self.cert = cert
        self.key = key

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return super().command() + ["--tls-cert", str(self.cert), "--tls-key", str(self.key)]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """The running TLS server: .endpoint (https://127.0.0.1:port), .cert (the CA bundle)."""
    base = tmp_path_factory.mktemp("tls-server")
    cert, key = make_self_signed(base)
    data = base / "data"
    data.mkdir()
    server = TLSServer(data, base, cert, key)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(data, ignore_errors=True)  # up to a few hundred MiB of test objects


def https_client(tls, endpoint: str | None = None, **config):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint or tls.endpoint, region_name=sup.REGION,
        aws_access_key_id=sup.ROOT_ACCESS_KEY, aws_secret_access_key=sup.ROOT_SECRET_KEY,
        verify=str(tls.cert), config=sup.client_config(**config))


@pytest.fixture
def s3s(tls):
    """boto3 client over https, trusting the test certificate."""
    return https_client(tls, read_timeout=120)


@pytest.fixture
def tls_bucket(s3s):
    name = "cf-tls-" + uuid.uuid4().hex[:16]
    s3s.create_bucket(Bucket=name)
    return name


@pytest.fixture
def cli(aws_cli, tls):
    """aws-cli against the TLS endpoint with --ca-bundle."""

    def run(*args, timeout: float = 300):
        return aws_cli("--ca-bundle", tls.cert, *args, endpoint_url=tls.endpoint, timeout=timeout)

    return run


def ok(proc):
    assert proc.returncode == 0, f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    return proc.stdout


# --------------------------------------------------------------------------
# Local files
# --------------------------------------------------------------------------


class FileInfo:
    def __init__(self, path: Path, size: int, sha256: str, part_md5s: list[bytes]):
        self.path, self.size, self.sha256, self.part_md5s = path, size, sha256, part_md5s

    @property
    def cli_etag(self) -> str:
        """ETag of an `aws s3 cp` upload: plain md5 below 8 MiB, else 8 MiB parts."""
        if self.size < CLI_PART:
            return '"' + self.part_md5s[0].hex() + '"'
        return '"' + hashlib.md5(b"".join(self.part_md5s)).hexdigest() + f'-{len(self.part_md5s)}"'


def write_random(path: Path, size: int, age_seconds: float = 2.0) -> FileInfo:
    """Random file of `size` bytes (written 1 MiB at a time); mtime `age_seconds` ago.

    See test_awscli.write for why synced files are a little old.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    whole = hashlib.sha256()
    part_md5s, part = [], hashlib.md5()
    in_part = 0
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(MiB, left))
            f.write(block)
            whole.update(block)
            part.update(block)
            in_part += len(block)
            left -= len(block)
            if in_part == CLI_PART:
                part_md5s.append(part.digest())
                part, in_part = hashlib.md5(), 0
    if in_part or not part_md5s:
        part_md5s.append(part.digest())
    t = time.time() - age_seconds
    os.utime(path, (t, t))
    return FileInfo(path, size, whole.hexdigest(), part_md5s)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


def tree_digests(root: Path) -> dict[str, tuple[int, str]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size, sha256_file(p))
            for p in sorted(root.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------
# TLS itself
# --------------------------------------------------------------------------


def test_certificate_is_verified(tls):
    ctx = ssl.create_default_context(cafile=str(tls.cert))
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
            assert conn.version() in ("TLSv1.2", "TLSv1.3")
            served = conn.getpeercert(binary_form=True)
    ours = x509.load_pem_x509_certificate(tls.cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    assert served == ours


def test_untrusted_certificate_is_refused_by_the_client(tls):
    # Without the CA bundle, botocore (certifi) must refuse our self-signed certificate:
    # shows the other tests really run TLS with verification.
    client = boto3.session.Session().client(
        "s3", endpoint_url=tls.endpoint, region_name=sup.REGION,
        aws_access_key_id=sup.ROOT_ACCESS_KEY, aws_secret_access_key=sup.ROOT_SECRET_KEY,
        config=sup.client_config())
    with pytest.raises(SSLError):
        client.list_buckets()


def test_localhost_name_and_plain_http_on_tls_port(tls, s3s, tls_bucket):
    local = https_client(tls, endpoint=f"https://localhost:{tls.port}")
    local.put_object(Bucket=tls_bucket, Key="via-localhost", Body=b"hi")
    assert local.get_object(Bucket=tls_bucket, Key="via-localhost")["Body"].read() == b"hi"
    # A plaintext request on the TLS port gets no HTTP answer, and the server keeps going.
    with socket.create_connection(("127.0.0.1", tls.port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            reply = raw.recv(4096)
        except (socket.timeout, ConnectionError):
            reply = b""
        assert not reply.startswith(b"HTTP/1.1 200")
    assert s3s.get_object(Bucket=tls_bucket, Key="via-localhost")["Body"].read() == b"hi"


# --------------------------------------------------------------------------
# aws-cli over https
# --------------------------------------------------------------------------


def test_cli_sends_aws_chunked_over_https(cli, s3s, tls_bucket, tmp_path):
    """The premise of this file: aws-cli over https uploads with unsigned aws-chunked + trailer."""
    info = write_random(tmp_path / "probe.bin", 3000)
    proc = cli("--debug", "s3", "cp", info.path, f"s3://{tls_bucket}/probe.bin")
    ok(proc)
    sent = [line for line in proc.stderr.splitlines() if "method=PUT" in line and "probe.bin" in line]
    assert sent, proc.stderr[-3000:]
    assert "STREAMING-UNSIGNED-PAYLOAD-TRAILER" in sent[-1]
    assert "aws-chunked" in sent[-1]
    assert "x-amz-checksum-crc32" in sent[-1].lower()
    head = s3s.head_object(Bucket=tls_bucket, Key="probe.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == 3000
    assert head["ETag"] == info.cli_etag
    # aws-chunked is a transfer detail and must not be stored as the object's encoding.
    assert "aws-chunked" not in (head.get("ContentEncoding") or "")
    assert head["ChecksumCRC32"] == sup.checksum_b64("crc32", info.path.read_bytes())


@pytest.mark.parametrize("size", [1024, 20 * MiB, 200 * MiB], ids=["1KiB", "20MiB", "200MiB"])
def test_cli_cp_up_and_down(cli, s3s, tls_bucket, tmp_path, size):
    src = tmp_path / f"up-{size}.bin"
    dst = tmp_path / f"down-{size}.bin"
    try:
        info = write_random(src, size)
        key = f"cp/{size}.bin"
        ok(cli("s3", "cp", src, f"s3://{tls_bucket}/{key}", timeout=900))
        head = s3s.head_object(Bucket=tls_bucket, Key=key)
        assert head["ContentLength"] == size
        assert head["ETag"] == info.cli_etag  # md5 of the decoded bytes, part by part
        ok(cli("s3", "cp", f"s3://{tls_bucket}/{key}", dst, timeout=900))
        assert dst.stat().st_size == size
        assert sha256_file(dst) == info.sha256
    finally:
        src.unlink(missing_ok=True)
        dst.unlink(missing_ok=True)
        try:
            s3s.delete_object(Bucket=tls_bucket, Key=f"cp/{size}.bin")
        except Exception:
            pass


def test_cli_sync_tree_up_and_down(cli, s3s, tls_bucket, tmp_path):
    up = tmp_path / "up"
    sizes = {
        "top.txt": 100,
        "empty.txt": 0,
        "dir with spaces/file name with spaces.txt": 2000,
        "nested/a/b/c/deep.bin": 70_000,
        "nested/a/sibling.bin": 1,
        "\u00fcn\u00efc\u00f8d\u00e9/\u65e5\u672c\u8a9e\u30d5\u30a1\u30a4\u30eb.txt": 5000,
        "\u00fcn\u00efc\u00f8d\u00e9/caf\u00e9 cr\u00e8me.bin": 3 * MiB + 17,
        "emoji \U0001F4E6/box.txt": 42,
        "plus+and&amp=.txt": 10,
        "big/multipart.bin": 9 * MiB + 3,  # above the 8 MiB threshold: multipart inside sync
    }
    infos = {rel: write_random(up / rel, size) for rel, size in sizes.items()}

    out = ok(cli("s3", "sync", up, f"s3://{tls_bucket}/tree", timeout=600))
    assert out.count("upload: ") == len(sizes), out

    listed = {}
    for page in s3s.get_paginator("list_objects_v2").paginate(Bucket=tls_bucket, Prefix="tree/"):
        for o in page.get("Contents", []):
            listed[o["Key"]] = (o["Size"], o["ETag"])
    assert listed == {f"tree/{rel}": (info.size, info.cli_etag) for rel, info in infos.items()}

    down = tmp_path / "down"
    down.mkdir()
    out = ok(cli("s3", "sync", f"s3://{tls_bucket}/tree", down, timeout=600))
    assert out.count("download: ") == len(sizes), out
    assert tree_digests(down) == {rel: (info.size, info.sha256) for rel, info in infos.items()}

    # Nothing changed locally: a second sync uploads nothing.
    out = ok(cli("s3", "sync", up, f"s3://{tls_bucket}/tree", timeout=600))
    assert "upload:" not in out, out
    assert out.strip() == "", out


# --------------------------------------------------------------------------
# boto3 over https
# --------------------------------------------------------------------------


class PyCrc32c(httpchecksum.BaseChecksum):
    """Incremental CRC32C for botocore (it only has one with awscrt, not installed here)."""

    _TABLE = None

    def __init__(self):
        if PyCrc32c._TABLE is None:
            table = []
            for i in range(256):
                c = i
                for _ in range(8):
                    c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
                table.append(c)
            PyCrc32c._TABLE = table
        self._crc = 0xFFFFFFFF

    def update(self, chunk):
        crc, table = self._crc, self._TABLE
        for b in chunk:
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
        self._crc = crc

    def digest(self):
        return (self._crc ^ 0xFFFFFFFF).to_bytes(4, "big")


@pytest.fixture
def crc32c_in_botocore(monkeypatch):
    if "crc32c" not in httpchecksum._CHECKSUM_CLS:
        monkeypatch.setitem(httpchecksum._CHECKSUM_CLS, "crc32c", PyCrc32c)
        monkeypatch.setattr(httpchecksum, "_SUPPORTED_CHECKSUM_ALGORITHMS",
                            [*httpchecksum._SUPPORTED_CHECKSUM_ALGORITHMS, "crc32c"])


def record_put_headers(client) -> list[dict]:
    seen: list[dict] = []

    def hook(request, **_):
        seen.append({k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})

    client.meta.events.register("before-send.s3.PutObject", hook)
    client.meta.events.register("before-send.s3.UploadPart", hook)
    return seen


CHECKSUM_PARAM = {"CRC32": "ChecksumCRC32", "CRC32C": "ChecksumCRC32C",
                  "SHA1": "ChecksumSHA1", "SHA256": "ChecksumSHA256"}


@pytest.mark.parametrize("algorithm,size", [("CRC32C", 200_000), ("SHA256", 3 * MiB + 5),
                                            ("SHA1", 1), ("CRC32", 0)])
def test_boto3_put_with_trailing_checksum(s3s, tls_bucket, crc32c_in_botocore, algorithm, size):
    data = sup.deterministic_body("tls-" + algorithm, size)
    expected = sup.checksum_b64(algorithm, data)
    key = f"boto3/{algorithm}"
    sent = record_put_headers(s3s)
    put = s3s.put_object(Bucket=tls_bucket, Key=key, Body=data, ChecksumAlgorithm=algorithm)
    hdrs = sent[-1]
    assert hdrs.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert hdrs.get("x-amz-trailer") == f"x-amz-checksum-{algorithm.lower()}"
    assert "aws-chunked" in hdrs.get("content-encoding", "")
    assert put["ETag"] == sup.md5_etag(data)
    assert put[CHECKSUM_PARAM[algorithm]] == expected

    got = s3s.get_object(Bucket=tls_bucket, Key=key, ChecksumMode="ENABLED")
    assert got[CHECKSUM_PARAM[algorithm]] == expected
    assert got["ContentLength"] == size
    assert "aws-chunked" not in (got.get("ContentEncoding") or "")
    assert got["Body"].read() == data
    head = s3s.head_object(Bucket=tls_bucket, Key=key, ChecksumMode="ENABLED")
    assert head[CHECKSUM_PARAM[algorithm]] == expected


def test_boto3_put_keeps_user_content_encoding(s3s, tls_bucket):
    data = b"\x1f\x8b pretend gzip"
    s3s.put_object(Bucket=tls_bucket, Key="gz", Body=data, ContentEncoding="gzip")
    got = s3s.get_object(Bucket=tls_bucket, Key="gz")
    assert got["ContentEncoding"] == "gzip"  # "gzip,aws-chunked" on the wire, "gzip" stored
    assert got["Body"].read() == data


def test_boto3_multipart_upload_over_https(s3s, tls_bucket, tmp_path):
    from boto3.s3.transfer import TransferConfig

    src = tmp_path / "mp.bin"
    info = write_random(src, 12 * MiB + 1)
    sent = record_put_headers(s3s)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=3)
    s3s.upload_file(str(src), tls_bucket, "mp.bin", Config=cfg)
    assert len(sent) == 3
    assert all(h.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER" for h in sent)
    raw = src.read_bytes()
    parts = [raw[i:i + 5 * MiB] for i in range(0, len(raw), 5 * MiB)]
    head = s3s.head_object(Bucket=tls_bucket, Key="mp.bin")
    assert head["ContentLength"] == len(raw)
    assert head["ETag"] == '"' + hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + '-3"'
    dst = tmp_path / "mp.down"
    s3s.download_file(tls_bucket, "mp.bin", str(dst), Config=cfg)
    assert sha256_file(dst) == info.sha256
