"""Shared helpers for the Shoebox conformance suite (no pytest fixtures here).

Everything that talks to the server goes through real clients (boto3, aws-cli)
or through `requests` / raw sockets with SigV4 headers produced by botocore's
own signer, so the suite never depends on how the server is implemented.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from unittest import mock
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import boto3
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
TARGET = os.environ.get("S3_TARGET", "shoebox").strip().lower() or "shoebox"

# Root user of the server under test (any value works for moto).
ROOT_ACCESS_KEY = "SHOEBOXROOTKEY000001"
ROOT_SECRET_KEY = "shoebox/root/secret/key/0123456789abcdef"

S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


# --------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shoebox_binary() -> Path:
    return Path(os.environ.get("SHOEBOX_BIN", REPO_ROOT / ".build" / "debug" / "shoebox"))


def moto_command(port: int) -> list[str]:
    script = shutil.which("moto_server")
    if script:
        return [script, "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


@dataclass
class User:
    access_key: str
    secret_key: str
    canonical_id: str | None = None
    display_name: str | None = None
    email: str | None = None

    def config_entry(self) -> dict:
        return {
            "accessKey": self.access_key,
            "secretKey": self.secret_key,
            "id": self.canonical_id,
            "displayName": self.display_name,
            "email": self.email,
        }


def make_user(name: str) -> User:
    """A fresh user for --config, with a 64-hex canonical id."""
    return User(
        access_key=("AK" + name.upper() + uuid.uuid4().hex)[:20].upper(),
        secret_key="sk-" + name + "-" + uuid.uuid4().hex,
        canonical_id=hashlib.sha256(("canonical-" + name + uuid.uuid4().hex).encode()).hexdigest(),
        display_name=name,
        email=f"{name}@example.com",
    )


def write_config(path: Path, users: list[User]) -> Path:
    path.write_text(json.dumps({"users": [u.config_entry() for u in users]}, indent=2))
    return path


class ServerProcess:
    """A server child process (shoebox or moto_server) on 127.0.0.1:port."""

    def __init__(self, kind: str, data_dir: Path | None, log_dir: Path, config: Path | None = None):
        self.kind = kind
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.starts = 0
        # More `shoebox server` flags (ignored for moto).
        self.extra_args: list[str] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.kind == "moto":
            return moto_command(self.port)
        binary = shoebox_binary()
        if not binary.exists():
            raise RuntimeError(
                f"shoebox binary not found at {binary}; build it first or set SHOEBOX_BIN "
                "(or run with S3_TARGET=moto)"
            )
        cmd = [str(binary), "server", "--data", str(self.data_dir),
               "--address", f"127.0.0.1:{self.port}", "--region", REGION]
        if self.config is not None:
            cmd += ["--config", str(self.config)]
        return cmd + self.extra_args

    def start(self, port: int | None = None, timeout: float = 30.0) -> None:
        assert self.proc is None, "already running"
        self.port = port or free_port()
        self.starts += 1
        env = dict(os.environ)
        env["SHOEBOX_ACCESS_KEY"] = ROOT_ACCESS_KEY
        env["SHOEBOX_SECRET_KEY"] = ROOT_SECRET_KEY
        self.log_path = self.log_dir / f"{self.kind}-{self.starts}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._log.flush()
                raise RuntimeError(
                    f"{self.kind} exited with {self.proc.returncode} before accepting connections; "
                    f"log:\n{self.log_tail()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill9()
                raise RuntimeError(f"{self.kind} did not accept connections within {timeout}s; "
                                   f"log:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return "<no log>"

    def _reap(self) -> None:
        self.proc = None
        try:
            self._log.close()
        except Exception:
            pass

    def kill9(self) -> None:
        if self.proc is None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self._reap()

    def stop(self) -> None:
        if self.proc is None:
            return
        terminate(self.proc)
        self._reap()


def terminate(proc: subprocess.Popen) -> None:
    """SIGTERM by pid, SIGKILL if it is still there after 10 s; waits for the exit."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------


def client_config(**overrides) -> Config:
    kw = dict(
        region_name=REGION,
        retries={"max_attempts": 1},
        s3={"addressing_style": "path"},
        connect_timeout=10,
        read_timeout=30,
    )
    kw.update(overrides)
    return Config(**kw)


def make_client(endpoint: str, access_key: str = ROOT_ACCESS_KEY,
                secret_key: str = ROOT_SECRET_KEY, **config_overrides):
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=client_config(**config_overrides),
    )


def quote_key(key: str) -> str:
    """Percent-encode an object key for a path-style URL (keeps '/')."""
    return quote(key.encode("utf-8"), safe="/~")


class _FixedPayloadSigner(S3SigV4Auth):
    def __init__(self, credentials, service, region, payload_hash):
        super().__init__(credentials, service, region)
        self._payload_hash = payload_hash

    def payload(self, request):
        return self._payload_hash


def sign_headers(method: str, url: str, *, body: bytes = b"", headers: dict | None = None,
                 access_key: str = ROOT_ACCESS_KEY, secret_key: str = ROOT_SECRET_KEY,
                 region: str = REGION, payload_hash: str | None = None,
                 when=None) -> dict:
    """SigV4-sign a request with botocore's own S3 signer; returns the headers to send.

    The payload hash (x-amz-content-sha256) is the hex SHA-256 of `body`, as
    botocore sends over http, unless `payload_hash` (e.g. "UNSIGNED-PAYLOAD") is given.
    `when` (a naive UTC datetime) fakes the signing time.
    """
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    req.context = {}
    creds = Credentials(access_key, secret_key)
    if payload_hash is None:
        signer = S3SigV4Auth(creds, "s3", region)
    else:
        signer = _FixedPayloadSigner(creds, "s3", region, payload_hash)
    if when is None:
        signer.add_auth(req)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(req)
    return dict(req.headers.items())


def signed_request(method: str, url: str, *, body: bytes = b"", headers: dict | None = None,
                   send_body: bytes | None = None, **sign_kw) -> requests.Response:
    """Sign with `body`, send `send_body` (defaults to `body`) via requests."""
    hdrs = sign_headers(method, url, body=body, headers=headers, **sign_kw)
    data = body if send_body is None else send_body
    return requests.request(method, url, data=data, headers=hdrs, timeout=30, allow_redirects=False)


class RawHTTP:
    """One HTTP/1.1 connection on a raw socket: send bytes, read responses one by one."""

    def __init__(self, endpoint: str):
        u = urllib.parse.urlparse(endpoint)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=5)
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk
        return True

    def read_head(self, timeout: float):
        """Read one response head. Returns (status, reason, headers) or None on timeout."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return int(status), (reason[0] if reason else ""), headers

    def read_final(self, timeout: float):
        """The final (non-1xx) response head; extra 1xx responses are legal and skipped."""
        deadline = time.monotonic() + timeout
        while True:
            head = self.read_head(max(0.0, deadline - time.monotonic()))
            if head is None or head[0] >= 200:
                return head

    def read_body(self, headers, timeout: float = 5.0) -> bytes:
        n = int(headers.get("content-length", "0"))
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise TimeoutError("body not received")
        body, self.buf = self.buf[:n], self.buf[n:]
        return body

    def closed_by_server(self, timeout: float) -> bool:
        """True when the server ends the connection (nothing more is sent) within `timeout`."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except ConnectionError:
            return True
        return False

    def close(self):
        self.sock.close()


def raw_request_head(method: str, url: str, *, body: bytes = b"", headers: dict | None = None,
                     unsigned: dict | None = None, **sign_kw) -> bytes:
    """The head of a SigV4-signed HTTP/1.1 request, as bytes for a raw socket; `unsigned`
    headers are added after signing. A body is announced with Content-Length, not sent."""
    headers = dict(headers or {})
    if body or method in ("PUT", "POST"):
        headers.setdefault("Content-Length", str(len(body)))
    signed = sign_headers(method, url, body=body, headers=headers, **sign_kw)
    signed.update(unsigned or {})
    u = urllib.parse.urlparse(url)
    target = u.path + (f"?{u.query}" if u.query else "")
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in signed.items()]
    if not any(k.lower() == "host" for k in signed):
        lines.insert(1, f"Host: {u.netloc}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_error(body: bytes) -> dict:
    """Parse an S3 error document into {tag: text}; asserts the root is <Error>."""
    root = ET.fromstring(body)
    assert strip_ns(root.tag) == "Error", body
    return {strip_ns(child.tag): (child.text or "") for child in root}


def strip_ns(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def find_all(elem: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in elem if strip_ns(e.tag) == name]


def find_text(elem: ET.Element, name: str) -> str | None:
    for e in elem:
        if strip_ns(e.tag) == name:
            return e.text or ""
    return None


def error_code(exc) -> str:
    return exc.response["Error"]["Code"]


def http_status(exc_or_resp) -> int:
    resp = getattr(exc_or_resp, "response", exc_or_resp)
    return resp["ResponseMetadata"]["HTTPStatusCode"]


# --------------------------------------------------------------------------
# Checksums (computed independently of botocore)
# --------------------------------------------------------------------------


def _make_crc_table(poly: int) -> list[int]:
    """Byte table of a reflected CRC with polynomial `poly`."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _make_crc_table(0x82F63B78)  # Castagnoli, reflected
_CRC64NVME_TABLE = _make_crc_table(0x9A6C9329AC4BC9B5)  # as AWS's CRC64NVME, reflected


def _reflected_crc(data: bytes, table: list[int], ones: int) -> int:
    crc = ones
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ ones


def crc32c(data: bytes) -> int:
    return _reflected_crc(data, _CRC32C_TABLE, 0xFFFFFFFF)


def crc64nvme(data: bytes) -> int:
    return _reflected_crc(data, _CRC64NVME_TABLE, 0xFFFFFFFFFFFFFFFF)


assert crc32c(b"123456789") == 0xE3069283  # RFC 3720 check value
assert crc64nvme(b"123456789") == 0xAE8B14860A799888  # CRC-64/NVME check value


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum_b64(algorithm: str, data: bytes) -> str:
    algorithm = algorithm.lower()
    if algorithm == "crc32":
        return b64((binascii.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big"))
    if algorithm == "crc32c":
        return b64(crc32c(data).to_bytes(4, "big"))
    if algorithm == "crc64nvme":
        return b64(crc64nvme(data).to_bytes(8, "big"))
    if algorithm == "sha1":
        return b64(hashlib.sha1(data).digest())
    if algorithm == "sha256":
        return b64(hashlib.sha256(data).digest())
    raise ValueError(algorithm)


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def content_md5(data: bytes) -> str:
    return b64(hashlib.md5(data).digest())


# --------------------------------------------------------------------------
# Deterministic content and the listing model
# --------------------------------------------------------------------------


def deterministic_body(key: str, size: int) -> bytes:
    """Bytes fully determined by (key, size)."""
    return random.Random(f"{key}|{size}").randbytes(size)


def utf8_sorted(keys) -> list[str]:
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def model_listing(keys, prefix: str = "", delimiter: str | None = None,
                  after: str | None = None) -> list[tuple[str, str]]:
    """What S3 lists, in order: [("key", k) | ("prefix", p)].

    Keys are ordered by UTF-8 bytes; with a delimiter, every key whose
    remainder after `prefix` contains the delimiter is rolled up into the
    CommonPrefix ending at the first delimiter occurrence. `after` (StartAfter /
    Marker) excludes every entry <= after.
    """
    out: list[tuple[str, str]] = []
    seen_prefixes: set[str] = set()
    for k in utf8_sorted(keys):
        if not k.startswith(prefix):
            continue
        if after is not None and k.encode() <= after.encode():
            continue
        if delimiter:
            rest = k[len(prefix):]
            idx = rest.find(delimiter)
            if idx >= 0:
                cp = prefix + rest[: idx + len(delimiter)]
                if after is not None and cp.encode() <= after.encode():
                    continue
                if cp not in seen_prefixes:
                    seen_prefixes.add(cp)
                    out.append(("prefix", cp))
                continue
        out.append(("key", k))
    return out


def page_entries(page: dict) -> list[tuple[str, str]]:
    """Contents + CommonPrefixes of one boto3 list page, merged in UTF-8 order."""
    entries = [("key", o["Key"]) for o in page.get("Contents", [])]
    entries += [("prefix", p["Prefix"]) for p in page.get("CommonPrefixes", [])]
    return sorted(entries, key=lambda e: e[1].encode("utf-8"))
