"""Crash consistency: kill -9 the server while PUTs are in flight, restart, verify.

Invariants after every restart:
  * every acknowledged (200) PUT reads back byte-identical;
  * every listed key has exactly its full deterministic content (never a
    partial object), and only keys that some client tried to write are listed;
  * an in-flight PUT is either absent (404 and not listed) or complete;
  * the server then serves PUT/GET/LIST/DELETE normally.
"""

import hashlib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import s3support as sup

pytestmark = pytest.mark.shoebox_only("kill -9 / restart on the same data dir (moto keeps data in memory)")

N_THREADS = 16
CYCLES = 3
KILL_AFTER = 1.5
SIZES = [0, 1, 100, 4096, 65_536, 262_144, 1_048_577, 2_097_155, 3 * 1024 * 1024 - 5]


def size_for(key: str) -> int:
    return SIZES[hashlib.sha256(key.encode()).digest()[0] % len(SIZES)]


def content_for(key: str) -> bytes:
    return sup.deterministic_body(key, size_for(key))


class Writers:
    def __init__(self, endpoint, bucket, cycle):
        self.endpoint, self.bucket, self.cycle = endpoint, bucket, cycle
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.attempted: set[str] = set()
        self.acked: set[str] = set()
        self.bad_acks: list[str] = []
        # clients are built up front: creating 16 boto3 clients takes longer than KILL_AFTER
        self.clients = [sup.make_client(endpoint, connect_timeout=2, read_timeout=20) for _ in range(N_THREADS)]
        self.threads = [threading.Thread(target=self.run, args=(t,), daemon=True) for t in range(N_THREADS)]

    def run(self, tid):
        client = self.clients[tid]
        n = 0
        while not self.stop.is_set():
            key = f"crash/c{self.cycle}/t{tid:02d}/{n:05d}"
            n += 1
            body = content_for(key)
            with self.lock:
                self.attempted.add(key)
            try:
                resp = client.put_object(Bucket=self.bucket, Key=key, Body=body)
            except Exception:
                return  # the server is gone
            with self.lock:
                if resp["ResponseMetadata"]["HTTPStatusCode"] == 200:
                    self.acked.add(key)
                    if resp["ETag"] != sup.md5_etag(body):
                        self.bad_acks.append(key)

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
            assert not t.is_alive(), "writer thread hung after the server was killed"


def _get_or_none(client, bucket, key):
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        if sup.error_code(e) == "NoSuchKey":
            return None
        raise


def _verify(client, bucket, all_acked: set, all_attempted: set):
    # 1. every acknowledged key is durable and intact
    def check_acked(key):
        data = _get_or_none(client, bucket, key)
        assert data is not None, f"acknowledged key {key} lost after crash"
        assert data == content_for(key), f"acknowledged key {key} corrupted ({len(data)} bytes)"

    # 2. every listed key is complete, and was really written by us
    listed = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="crash/"):
        for obj in page.get("Contents", []):
            listed[obj["Key"]] = obj
    phantom = set(listed) - all_attempted
    assert not phantom, f"keys nobody wrote are listed: {sorted(phantom)[:5]}"
    missing = all_acked - set(listed)
    assert not missing, f"acknowledged keys missing from the listing: {sorted(missing)[:5]}"
    for key, obj in listed.items():
        assert obj["Size"] == size_for(key), f"{key} listed with size {obj['Size']}, expected {size_for(key)}"
        assert obj["ETag"] == sup.md5_etag(content_for(key)), f"{key} listed with a wrong ETag"

    def check_listed(key):
        data = _get_or_none(client, bucket, key)
        assert data is not None, f"{key} is listed but GET says NoSuchKey"
        assert data == content_for(key), f"{key} is listed but its content is partial/wrong"

    # 3. in-flight keys that are not listed must not be readable either (LIST and GET agree)
    def check_inflight(key):
        data = _get_or_none(client, bucket, key)
        assert data is None, f"in-flight key {key} is readable ({len(data)} bytes) but not listed"

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(check_acked, sorted(all_acked)))
        list(pool.map(check_listed, sorted(set(listed) - all_acked)))
        list(pool.map(check_inflight, sorted(all_attempted - all_acked - set(listed))))
    return listed


def _smoke(client, bucket, cycle):
    key = f"after-restart/{cycle}"
    body = sup.deterministic_body(key, 123_457)
    assert client.put_object(Bucket=bucket, Key=key, Body=body)["ETag"] == sup.md5_etag(body)
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="after-restart/")["Contents"]]
    assert key in keys
    client.delete_object(Bucket=bucket, Key=key)
    assert _get_or_none(client, bucket, key) is None


def test_kill9_during_puts(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    data = base / "data"
    data.mkdir()
    server = sup.ServerProcess(sup.TARGET, data, base)
    server.start()
    bucket = "cf-crash-" + uuid.uuid4().hex[:10]
    all_acked: set[str] = set()
    all_attempted: set[str] = set()
    stats = []
    try:
        sup.make_client(server.endpoint).create_bucket(Bucket=bucket)
        for cycle in range(CYCLES):
            writers = Writers(server.endpoint, bucket, cycle)
            writers.start()
            time.sleep(KILL_AFTER)
            server.kill9()
            writers.join()
            assert not writers.bad_acks, f"200 with a wrong ETag: {writers.bad_acks[:5]}"
            in_flight = writers.attempted - writers.acked
            stats.append((len(writers.acked), len(in_flight)))
            assert writers.acked, "no PUT was acknowledged within 1.5 s"
            assert in_flight, "no PUT was in flight when the server was killed"
            all_acked |= writers.acked
            all_attempted |= writers.attempted

            server.start()  # same data dir, new port
            client = sup.make_client(server.endpoint)
            assert bucket in {b["Name"] for b in client.list_buckets()["Buckets"]}
            _verify(client, bucket, all_acked, all_attempted)
            _smoke(client, bucket, cycle)
        print(f"crash cycles (acked, in flight): {stats}")
    finally:
        server.stop()
