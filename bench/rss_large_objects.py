#!/usr/bin/env python3
"""Peak server memory while moving one large object through Shoebox.

Starts a shoebox binary on a fresh data directory, then, for an object of
--size-mib (default 2048):

  put-single      one PutObject, body streamed by `requests` from a generator
                  with Content-Length and x-amz-content-sha256: UNSIGNED-PAYLOAD
  get-single      one GetObject, streamed and hashed
  put-multipart   boto3 upload_file (s3transfer: 8 MiB parts, 10 threads)
  get-multipart   boto3 download_file (parallel ranged GETs)

While each phase runs, /proc/PID/status of the server is sampled every 100 ms.
Printed per phase: seconds, MB/s (10^6 bytes/s), peak VmRSS and, separately,
peak RssAnon (heap and stacks) and RssFile (mapped file pages: LMDB's mmap is
counted here, and the kernel can drop those pages at any time). The downloaded
bytes are checked against the source's sha256 and the ETags against md5s.

    python3 bench/rss_large_objects.py                       # release binary, 2 GiB
    python3 bench/rss_large_objects.py --binary .build/debug/shoebox --size-mib 512
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import boto3
import requests
from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parent.parent
ACCESS_KEY = "BENCHROOTKEY00000001"
SECRET_KEY = "bench/root/secret/key/0123456789abcdef"
REGION = "us-east-1"
MiB = 1024 * 1024
BLOCK = MiB


# --------------------------------------------------------------------------
# Server and memory sampling
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_binary() -> Path:
    for candidate in (REPO / ".build-release" / "release" / "shoebox", REPO / ".build" / "release" / "shoebox"):
        if candidate.exists():
            return candidate
    return REPO / ".build" / "debug" / "shoebox"


def start_server(binary: Path, data: Path, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, SHOEBOX_ACCESS_KEY=ACCESS_KEY, SHOEBOX_SECRET_KEY=SECRET_KEY)
    logf = open(log, "wb")
    proc = subprocess.Popen(
        [str(binary), "server", "--data", str(data), "--address", f"127.0.0.1:{port}",
         "--region", REGION, "--log-level", "warning"],
        stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("server did not start listening within 30 s")


FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem")


def read_status(pid: int) -> dict[str, int]:
    """The FIELDS of /proc/PID/status in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in FIELDS:
                out[name] = int(rest.split()[0])
    return out


class Sampler(threading.Thread):
    """Samples the server every `interval` s; keeps the peaks of the current phase."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.lock = threading.Lock()
        self.peak: dict[str, int] = {}
        self.samples = 0
        self.stopped = threading.Event()

    def reset(self) -> dict[str, int]:
        with self.lock:
            now = read_status(self.pid)
            self.peak = dict(now)
            self.samples = 0
            return now

    def run(self):
        while not self.stopped.is_set():
            try:
                now = read_status(self.pid)
            except (FileNotFoundError, ProcessLookupError):
                return
            with self.lock:
                for k, v in now.items():
                    self.peak[k] = max(self.peak.get(k, 0), v)
                self.samples += 1
            time.sleep(self.interval)

    def take(self) -> tuple[dict[str, int], int]:
        with self.lock:
            return dict(self.peak), self.samples


# --------------------------------------------------------------------------
# Source data
# --------------------------------------------------------------------------


def make_source(path: Path, size: int) -> tuple[str, str, str]:
    """Random file; returns (sha256 hex, md5 hex, multipart ETag for 8 MiB parts)."""
    sha, md5 = hashlib.sha256(), hashlib.md5()
    part_md5s, part, in_part = [], hashlib.md5(), 0
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(BLOCK, left))
            f.write(block)
            sha.update(block)
            md5.update(block)
            part.update(block)
            in_part += len(block)
            left -= len(block)
            if in_part == 8 * MiB:
                part_md5s.append(part.digest())
                part, in_part = hashlib.md5(), 0
    if in_part:
        part_md5s.append(part.digest())
    mp_etag = hashlib.md5(b"".join(part_md5s)).hexdigest() + f"-{len(part_md5s)}"
    return sha.hexdigest(), md5.hexdigest(), mp_etag


class FileBody:
    """A generator body with a length: requests sends Content-Length, not chunked."""

    def __init__(self, path: Path):
        self.path = path
        self.size = path.stat().st_size

    def __len__(self):
        return self.size

    def __iter__(self):
        with open(self.path, "rb") as f:
            while True:
                block = f.read(BLOCK)
                if not block:
                    return
                yield block


class _Unsigned(S3SigV4Auth):
    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


def signed_headers(method: str, url: str, headers: dict, unsigned_payload: bool) -> dict:
    req = AWSRequest(method=method, url=url, data=b"", headers=headers)
    req.context = {}
    signer = (_Unsigned if unsigned_payload else S3SigV4Auth)(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
    signer.add_auth(req)
    return dict(req.headers.items())


# --------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------


def put_single(endpoint, bucket, key, src: Path) -> str:
    url = f"{endpoint}/{bucket}/{quote(key)}"
    body = FileBody(src)
    hdrs = signed_headers("PUT", url, {"Content-Length": str(len(body))}, unsigned_payload=True)
    r = requests.put(url, data=body, headers=hdrs, timeout=600)
    if r.status_code != 200:
        raise SystemExit(f"single PUT: {r.status_code} {r.text[:500]}")
    return r.headers.get("ETag", "").strip('"')


def get_single(endpoint, bucket, key) -> tuple[str, int]:
    url = f"{endpoint}/{bucket}/{quote(key)}"
    hdrs = signed_headers("GET", url, {}, unsigned_payload=False)
    sha, n = hashlib.sha256(), 0
    with requests.get(url, headers=hdrs, stream=True, timeout=600) as r:
        if r.status_code != 200:
            raise SystemExit(f"single GET: {r.status_code} {r.text[:500]}")
        for block in r.iter_content(BLOCK):
            sha.update(block)
            n += len(block)
    return sha.hexdigest(), n


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, default=None,
                    help="shoebox binary (default: .build-release/release/shoebox, else .build/debug/shoebox)")
    ap.add_argument("--size-mib", type=int, default=2048, help="object size in MiB (default 2048)")
    ap.add_argument("--workdir", type=Path, default=None, help="where the source file and data dir go (default: a temp dir)")
    ap.add_argument("--interval", type=float, default=0.1, help="sampling interval in seconds (default 0.1)")
    ap.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    binary = (args.binary or default_binary()).resolve()
    if not binary.exists():
        sys.exit(f"no binary at {binary}")
    size = args.size_mib * MiB
    work = args.workdir or Path(tempfile.mkdtemp(prefix="shoebox-rss-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    data.mkdir(exist_ok=True)
    src, dst = work / "source.bin", work / "download.bin"

    print(f"binary   {binary}")
    print(f"object   {args.size_mib} MiB ({size} bytes); work dir {work}")
    t = time.monotonic()
    sha, md5, mp_etag = make_source(src, size)
    print(f"source   written in {time.monotonic() - t:.1f} s, sha256 {sha[:16]}...")

    port = free_port()
    proc = start_server(binary, data, port, work / "server.log")
    endpoint = f"http://127.0.0.1:{port}"
    sampler = Sampler(proc.pid, args.interval)
    results = []
    try:
        idle = sampler.reset()
        sampler.start()
        print(f"server   pid {proc.pid}, idle VmRSS {idle['VmRSS'] / 1024:.1f} MiB "
              f"(RssAnon {idle['RssAnon'] / 1024:.1f}, RssFile {idle['RssFile'] / 1024:.1f})")

        s3 = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                          read_timeout=600, max_pool_connections=20))
        bucket = "rss-bench"
        s3.create_bucket(Bucket=bucket)
        transfer = TransferConfig()  # boto3 defaults: 8 MiB threshold and parts, 10 threads

        def phase(name, fn):
            start = sampler.reset()
            t0 = time.monotonic()
            check = fn()
            secs = time.monotonic() - t0
            time.sleep(args.interval * 2)  # one more sample after the last byte
            peak, samples = sampler.take()
            row = {
                "phase": name, "seconds": round(secs, 2), "MB_per_s": round(size / 1e6 / secs, 1),
                "start_VmRSS_MiB": round(start["VmRSS"] / 1024, 1),
                "peak_VmRSS_MiB": round(peak["VmRSS"] / 1024, 1),
                "peak_RssAnon_MiB": round(peak["RssAnon"] / 1024, 1),
                "peak_RssFile_MiB": round(peak["RssFile"] / 1024, 1),
                "samples": samples, "check": check,
            }
            results.append(row)
            print(f"  {name:<14} {secs:7.1f} s {row['MB_per_s']:8.1f} MB/s   peak VmRSS {row['peak_VmRSS_MiB']:8.1f} MiB"
                  f"  (RssAnon {row['peak_RssAnon_MiB']:7.1f}, RssFile {row['peak_RssFile_MiB']:7.1f})  {check}",
                  flush=True)

        def do_put_single():
            etag = put_single(endpoint, bucket, "single.bin", src)
            return "etag ok" if etag == md5 else f"ETAG MISMATCH {etag} != {md5}"

        def do_get_single():
            got, n = get_single(endpoint, bucket, "single.bin")
            return "sha256 ok" if (got, n) == (sha, size) else f"MISMATCH {n} bytes sha {got[:16]}"

        def do_put_multipart():
            s3.upload_file(str(src), bucket, "multipart.bin", Config=transfer)
            etag = s3.head_object(Bucket=bucket, Key="multipart.bin")["ETag"].strip('"')
            return "etag ok" if etag == mp_etag else f"ETAG MISMATCH {etag} != {mp_etag}"

        def do_get_multipart():
            s3.download_file(bucket, "multipart.bin", str(dst), Config=transfer)
            got = sha256_file(dst)
            dst.unlink()
            return "sha256 ok" if got == sha else f"MISMATCH sha {got[:16]}"

        print(f"  {'phase':<14} {'time':>9} {'rate':>13}   peak server memory (sampled every {args.interval * 1000:.0f} ms)")
        phase("put-single", do_put_single)
        phase("get-single", do_get_single)
        phase("put-multipart", do_put_multipart)
        phase("get-multipart", do_get_multipart)
    finally:
        sampler.stopped.set()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not args.keep:
            if args.workdir is None:
                shutil.rmtree(work, ignore_errors=True)
            else:  # only what this run created
                shutil.rmtree(data, ignore_errors=True)
                for p in (src, dst, work / "server.log"):
                    p.unlink(missing_ok=True)
    if args.json:
        print(json.dumps({"binary": str(binary), "size_mib": args.size_mib, "results": results}))
    if any(not r["check"].endswith("ok") for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
