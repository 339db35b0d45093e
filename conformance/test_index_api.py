"""The gallery index service (docs/index-api.md), black-box, against real processes.

Two setups, each started once for the module:
  * `shoebox up` (S3 server + index, webhook wired with a random token): uploads through
    the signed PUT/POST the service hands out, the event path, deletes, queries.
  * a plain `shoebox server` plus a standalone `shoebox-index` with a known webhook token:
    events posted directly (duplicates, out of order), `shoebox-index resync`, and an
    index started late that catches up from the bucket.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests

import s3support as sup

pytestmark = pytest.mark.shoebox_only("runs `shoebox up` and `shoebox-index`")

BUCKET = "gallery"
MAX_SIZE = 25 * 1024 * 1024
TOKEN = "index-test-token-" + uuid.uuid4().hex


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------


def index_binary() -> Path:
    return Path(os.environ.get("SHOEBOX_INDEX_BIN", sup.shoebox_binary().parent / "shoebox-index"))


def child_env() -> dict:
    env = dict(os.environ)
    env["SHOEBOX_ACCESS_KEY"] = sup.ROOT_ACCESS_KEY
    env["SHOEBOX_SECRET_KEY"] = sup.ROOT_SECRET_KEY
    env.pop("SHOEBOX_WEBHOOK_TOKEN", None)
    return env


class Proc:
    """A child process logging to a file; stopped by its own pid."""

    def __init__(self, cmd: list[str], log_path: Path):
        self.cmd = [str(c) for c in cmd]
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=child_env(), start_new_session=True)

    def log(self) -> str:
        self._log.flush()
        try:
            return self.log_path.read_bytes()[-6000:].decode("utf-8", "replace")
        except OSError:
            return "<no log>"

    def wait_until(self, check, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.cmd[:2]} exited with {self.proc.returncode} before {what}; log:\n{self.log()}")
            try:
                if check():
                    return
            except (OSError, requests.RequestException):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.cmd[:2]}: no {what} within {timeout}s; log:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        sup.terminate(self.proc)
        self._log.close()


def galleries_answer(url: str) -> bool:
    return requests.get(url + "/api/galleries", timeout=2).status_code == 200


def start_index(data: Path, log_dir: Path, s3_endpoint: str, name: str) -> tuple[Proc, str]:
    """`shoebox-index serve` on a free port; returns once it answers and its start-up resync (if any) is done."""
    port = sup.free_port()
    url = f"http://127.0.0.1:{port}"
    empty = not (data / "data.mdb").exists()
    proc = Proc([index_binary(), "--data", data, "--address", f"127.0.0.1:{port}", "--s3-endpoint", s3_endpoint,
                 "--bucket", BUCKET, "--webhook-token", TOKEN], log_dir / f"{name}.log")
    proc.wait_until(lambda: galleries_answer(url), "GET /api/galleries")
    if empty:
        # An empty index resyncs from the bucket in the background at start. Wait for it, so
        # the events posted by the tests are not raced by that resync's snapshot.
        proc.wait_until(lambda: "resync:" in proc.log(), "start-up resync")
    return proc, url


@dataclass
class UpSetup:
    s3_endpoint: str
    index_url: str
    s3: object
    proc: Proc


@dataclass
class PlainSetup:
    s3_endpoint: str
    s3: object
    base: Path


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    if not index_binary().exists() or not sup.shoebox_binary().exists():
        pytest.skip("shoebox / shoebox-index binaries not built")
    base = tmp_path_factory.mktemp("up")
    s3_port, index_port = sup.free_port(), sup.free_port()
    while index_port == s3_port:
        index_port = sup.free_port()
    proc = Proc([sup.shoebox_binary(), "up", "--data", base / "data", "--address", f"127.0.0.1:{s3_port}",
                 "--index-address", f"127.0.0.1:{index_port}"], base / "up.log")
    index_url = f"http://127.0.0.1:{index_port}"
    proc.wait_until(lambda: galleries_answer(index_url), "GET /api/galleries")
    proc.wait_until(lambda: socket.create_connection(("127.0.0.1", s3_port), timeout=0.5).close() is None, "S3 port")
    s3_endpoint = f"http://127.0.0.1:{s3_port}"
    yield UpSetup(s3_endpoint, index_url, sup.make_client(s3_endpoint), proc)
    proc.stop()


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A plain `shoebox server` (no webhook) with the bucket `gallery`."""
    if not index_binary().exists() or not sup.shoebox_binary().exists():
        pytest.skip("shoebox / shoebox-index binaries not built")
    base = tmp_path_factory.mktemp("plain")
    (base / "s3").mkdir()
    server = sup.ServerProcess("shoebox", base / "s3", base)
    server.start()
    s3 = sup.make_client(server.endpoint)
    s3.create_bucket(Bucket=BUCKET)
    yield PlainSetup(server.endpoint, s3, base)
    server.stop()


@pytest.fixture(scope="module")
def standalone(plain):
    """A standalone `shoebox-index` against the plain server, with the known token; yields its URL."""
    proc, url = start_index(plain.base / "standalone-index", plain.base, plain.s3_endpoint, "standalone-index")
    yield url
    proc.stop()


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def image_bytes(seed: str, size: int = 300) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + random.Random(seed).randbytes(size)


def request_upload(index_url: str, gallery: str, filename: str, content_type: str = "image/png",
                   metadata: dict | None = None) -> dict:
    body = {"gallery": gallery, "filename": filename, "contentType": content_type}
    if metadata is not None:
        body["metadata"] = metadata
    r = requests.post(index_url + "/api/uploads", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def put_upload(index_url: str, gallery: str, filename: str, data: bytes, content_type: str = "image/png",
               metadata: dict | None = None) -> dict:
    grant = request_upload(index_url, gallery, filename, content_type, metadata)
    r = requests.put(grant["put"]["url"], data=data, headers=grant["put"]["headers"], timeout=10)
    assert r.status_code == 200, r.text
    return grant


def images_page(index_url: str, gallery: str, **params) -> requests.Response:
    return requests.get(f"{index_url}/api/galleries/{gallery}/images", params=params, timeout=10)


def all_images(index_url: str, gallery: str, limit: int = 100) -> list[dict]:
    out, cursor = [], None
    for _ in range(1000):
        params = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = images_page(index_url, gallery, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["images"]
        cursor = body["nextCursor"]
        if cursor is None:
            return out
    raise AssertionError("cursor never ended")


def gallery_summary(index_url: str, gallery: str) -> dict | None:
    r = requests.get(index_url + "/api/galleries", timeout=10)
    assert r.status_code == 200, r.text
    return next((g for g in r.json()["galleries"] if g["name"] == gallery), None)


def poll(fn, timeout: float = 10.0, interval: float = 0.1):
    """Calls fn until it returns something truthy or the time is up; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_for_keys(index_url: str, gallery: str, keys, timeout: float = 10.0) -> list[dict]:
    want = set(keys)
    images = poll(lambda: (lambda imgs: imgs if {i["key"] for i in imgs} == want else None)(all_images(index_url, gallery)),
                  timeout)
    assert images, f"{gallery}: expected {sorted(want)}, have {sorted(i['key'] for i in all_images(index_url, gallery))}"
    return images


def error_code(r: requests.Response) -> str:
    body = r.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"].get("message"), str), body
    return body["error"]["code"]


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def record(key: str, name: str = "ObjectCreated:Put", seq: str = "0001", *, size: int = 10, etag: str = "e",
           when: datetime = T0, content_type: str = "image/png", metadata: dict | None = None,
           raw_key: str | None = None) -> dict:
    """One S3 event record (event version 2.1, with Shoebox's contentType/userMetadata extension)."""
    obj = {"key": raw_key if raw_key is not None else quote_plus(key, safe="/"), "sequencer": seq}
    if name.startswith("ObjectCreated:"):
        obj.update(size=size, eTag=etag, contentType=content_type, userMetadata=metadata or {})
    return {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": sup.REGION, "eventTime": iso(when),
        "eventName": name, "userIdentity": {"principalId": "tester"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper(), "x-amz-id-2": "host"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "gallery-index",
               "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "tester"}, "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": obj},
    }


def post_events(index_url: str, *records, token: str = TOKEN) -> requests.Response:
    return requests.post(index_url + "/events", data=json.dumps({"Records": list(records)}),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, timeout=10)


def applied(r: requests.Response) -> tuple[int, int]:
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"applied", "ignored"}, body
    return body["applied"], body["ignored"]


# --------------------------------------------------------------------------
# POST /api/uploads
# --------------------------------------------------------------------------

GOOD = {"gallery": "summer", "filename": "a.png", "contentType": "image/png",
        "metadata": {"photographer": "Ann", "event": "Wedding"}}


def with_(**changes) -> dict:
    body = json.loads(json.dumps(GOOD))
    for k, v in changes.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


BAD_UPLOADS = [
    (with_(gallery="Summer"), "InvalidGallery"),
    (with_(gallery="-summer"), "InvalidGallery"),
    (with_(gallery="sum_mer"), "InvalidGallery"),
    (with_(gallery="sum mer"), "InvalidGallery"),
    (with_(gallery="a" * 64), "InvalidGallery"),
    (with_(gallery=""), "InvalidGallery"),
    (with_(gallery=None), "InvalidGallery"),
    (with_(gallery=7), "InvalidGallery"),
    (with_(filename="a/b.png"), "InvalidFilename"),
    (with_(filename="a\\b.png"), "InvalidFilename"),
    (with_(filename=".."), "InvalidFilename"),
    (with_(filename="."), "InvalidFilename"),
    (with_(filename=""), "InvalidFilename"),
    (with_(filename="a\x01b.png"), "InvalidFilename"),
    (with_(filename="a\nb.png"), "InvalidFilename"),
    (with_(filename="a\x7fb.png"), "InvalidFilename"),
    (with_(filename="x" * 201), "InvalidFilename"),
    (with_(filename="é" * 101), "InvalidFilename"),  # 202 bytes
    (with_(filename=None), "InvalidFilename"),
    (with_(contentType="text/plain"), "InvalidContentType"),
    (with_(contentType="application/octet-stream"), "InvalidContentType"),
    (with_(contentType="image/png, text/html"), "InvalidContentType"),
    (with_(contentType=None), "InvalidContentType"),
    (with_(metadata="Ann"), "InvalidMetadata"),
    (with_(metadata=["Ann"]), "InvalidMetadata"),
    (with_(metadata={"Photographer": "Ann"}), "InvalidMetadata"),
    (with_(metadata={"photo_grapher": "Ann"}), "InvalidMetadata"),
    (with_(metadata={"a" * 33: "Ann"}), "InvalidMetadata"),
    (with_(metadata={"": "Ann"}), "InvalidMetadata"),
    (with_(metadata={"photographer": 5}), "InvalidMetadata"),
    (with_(metadata={"photographer": "x" * 257}), "InvalidMetadata"),
    (with_(metadata={"photographer": "a\nb"}), "InvalidMetadata"),
]


@pytest.mark.parametrize("body,code", BAD_UPLOADS, ids=[f"{c}-{i}" for i, (_, c) in enumerate(BAD_UPLOADS)])
def test_upload_request_validation(up, body, code):
    r = requests.post(up.index_url + "/api/uploads", data=json.dumps(body), headers={"Content-Type": "application/json"},
                      timeout=10)
    assert r.status_code == 400, r.text
    assert error_code(r) == code


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"summer"', b"\xff\xfe"])
def test_upload_request_malformed_json(up, raw):
    r = requests.post(up.index_url + "/api/uploads", data=raw, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400, r.text
    assert error_code(r) == "MalformedJSON"


def test_upload_request_limits_are_inclusive(up):
    grant = request_upload(up.index_url, "a" * 63, "é" * 100, "image/jpeg", {"a" * 32: "v" * 256, "event": "Wedding"})
    assert grant["key"] == "a" * 63 + "/" + "é" * 100
    assert grant["expiresIn"] == 300
    assert grant["maxSize"] == MAX_SIZE
    headers = grant["put"]["headers"]
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["x-amz-acl"] == "public-read"
    assert headers["x-amz-meta-" + "a" * 32] == "v" * 256
    assert headers["x-amz-meta-event"] == "Wedding"
    fields = grant["post"]["fields"]
    for name in ("key", "Content-Type", "acl", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"):
        assert name in fields, fields
    assert fields["key"] == grant["key"]
    assert fields["x-amz-meta-event"] == "Wedding"


def test_presigned_put_and_form_post_upload(up):
    gallery = unique("up")
    meta = {"photographer": "Ann", "event": "Wedding"}

    data = image_bytes("put")
    grant = request_upload(up.index_url, gallery, "put.png", "image/png", meta)
    assert grant["key"] == f"{gallery}/put.png"
    assert grant["put"]["url"].startswith(up.s3_endpoint + f"/{BUCKET}/{gallery}/put.png?")
    # A header the signature covers, changed: refused.
    bad = dict(grant["put"]["headers"], **{"Content-Type": "image/gif"})
    assert requests.put(grant["put"]["url"], data=data, headers=bad, timeout=10).status_code == 403
    r = requests.put(grant["put"]["url"], data=data, headers=grant["put"]["headers"], timeout=10)
    assert r.status_code == 200, r.text

    head = up.s3.head_object(Bucket=BUCKET, Key=f"{gallery}/put.png")
    assert head["ContentType"] == "image/png"
    assert head["Metadata"] == meta
    got = requests.get(f"{up.s3_endpoint}/{BUCKET}/{gallery}/put.png", timeout=10)
    assert got.status_code == 200 and got.content == data, "public-read: readable without credentials"

    form_data = image_bytes("post")
    grant = request_upload(up.index_url, gallery, "post.png", "image/png", meta)
    post = grant["post"]
    assert post["url"] == f"{up.s3_endpoint}/{BUCKET}"
    r = requests.post(post["url"], data=post["fields"], files={"file": ("post.png", form_data, "image/png")}, timeout=10)
    assert r.status_code == 204, r.text
    head = up.s3.head_object(Bucket=BUCKET, Key=f"{gallery}/post.png")
    assert head["ContentType"] == "image/png"
    assert head["Metadata"] == meta
    got = requests.get(f"{up.s3_endpoint}/{BUCKET}/{gallery}/post.png", timeout=10)
    assert got.status_code == 200 and got.content == form_data


def test_post_policy_restricts_prefix_type_and_size(up):
    gallery = unique("policy")
    grant = request_upload(up.index_url, gallery, "a.png", "image/png", {"photographer": "Ann"})
    post = grant["post"]
    data = image_bytes("policy")

    other = dict(post["fields"], key="other-gallery/x")
    r = requests.post(post["url"], data=other, files={"file": ("x", data, "image/png")}, timeout=10)
    assert r.status_code == 403, r.text
    text_type = dict(post["fields"], **{"Content-Type": "text/plain"})
    r = requests.post(post["url"], data=text_type, files={"file": ("x", data, "text/plain")}, timeout=10)
    assert r.status_code == 403, r.text
    for key in ("other-gallery/x", f"{gallery}/a.png"):
        with pytest.raises(Exception) as info:
            up.s3.head_object(Bucket=BUCKET, Key=key)
        assert sup.http_status(info.value) == 404

    # Another name inside the gallery's prefix is within the policy.
    renamed = dict(post["fields"], key=f"{gallery}/renamed.png")
    r = requests.post(post["url"], data=renamed, files={"file": ("x", data, "image/png")}, timeout=10)
    assert r.status_code == 204, r.text

    # The size limit is the policy's content-length-range (not uploading 25 MiB here).
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    ranges = [c for c in policy["conditions"] if isinstance(c, list) and c[0].lower() == "content-length-range"]
    assert len(ranges) == 1, policy
    assert ranges[0][2] == grant["maxSize"] == MAX_SIZE
    assert ranges[0][1] <= 1
    assert ["starts-with", "$key", f"{gallery}/"] in policy["conditions"], policy
    assert {"bucket": BUCKET} in policy["conditions"], policy
    expiration = parse_iso(policy["expiration"])
    now = datetime.now(timezone.utc)
    assert now + timedelta(seconds=240) < expiration <= now + timedelta(seconds=301)
    assert post["fields"]["x-amz-credential"].startswith(sup.ROOT_ACCESS_KEY + "/")


def test_content_type_the_service_accepts_is_one_the_post_policy_accepts(up):
    """The service accepts `IMAGE/PNG` (it lowercases before checking `image/`), but its POST policy
    says `starts-with $Content-Type image/`, which the form's `IMAGE/PNG` does not satisfy."""
    gallery = unique("case")
    r = requests.post(up.index_url + "/api/uploads", json={"gallery": gallery, "filename": "a.png", "contentType": "IMAGE/PNG"},
                      timeout=10)
    if r.status_code == 400:
        assert error_code(r) == "InvalidContentType"
        return
    assert r.status_code == 200, r.text
    post = r.json()["post"]
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a.png", image_bytes("case"), "image/png")}, timeout=10)
    assert r.status_code == 204, f"signed form refused by its own policy: {r.status_code} {r.text}"


# --------------------------------------------------------------------------
# queries (shoebox up: the event path)
# --------------------------------------------------------------------------


def test_uploaded_images_are_listed_newest_first_with_all_fields(up):
    gallery = unique("list")
    uploads = [("first.png", {"photographer": "Ann", "event": "Wedding"}, "image/png"),
               ("red flower+1 ü.jpg", {"photographer": "Bob"}, "image/jpeg"),
               ("third.gif", None, "image/gif")]
    sent = {}
    for i, (name, meta, ctype) in enumerate(uploads):
        data = image_bytes(name, 200 + 50 * i)
        put_upload(up.index_url, gallery, name, data, ctype, meta)
        sent[f"{gallery}/{name}"] = (name, data, meta or {}, ctype)
        time.sleep(0.02)

    images = wait_for_keys(up.index_url, gallery, sent)
    assert [i["key"] for i in images] == [f"{gallery}/{n}" for n, _, _ in reversed(uploads)], "newest first"
    for image in images:
        name, data, meta, ctype = sent[image["key"]]
        assert image["name"] == name
        assert image["size"] == len(data)
        assert image["etag"] == hashlib.md5(data).hexdigest()
        assert image["contentType"] == ctype
        assert image["metadata"] == meta
        assert image["url"] == f"{up.s3_endpoint}/{BUCKET}/{gallery}/" + sup.quote_key(name)
        got = requests.get(image["url"], timeout=10)  # no credentials
        assert got.status_code == 200, got.text
        assert got.content == data
        assert abs(parse_iso(image["uploaded"]) - datetime.now(timezone.utc)) < timedelta(minutes=5)
    times = [parse_iso(i["uploaded"]) for i in images]
    assert times == sorted(times, reverse=True)

    summary = gallery_summary(up.index_url, gallery)
    assert summary == {"name": gallery, "imageCount": 3, "lastUpdate": images[0]["uploaded"]}
    names = [g["name"] for g in requests.get(up.index_url + "/api/galleries", timeout=10).json()["galleries"]]
    assert names == sorted(names)


def test_pagination_across_thirty_images(up):
    gallery = unique("pages")
    keys = [f"{gallery}/img-{i:02d}.png" for i in range(30)]
    for key in keys:
        up.s3.put_object(Bucket=BUCKET, Key=key, Body=image_bytes(key, 20), ContentType="image/png")
    assert poll(lambda: (gallery_summary(up.index_url, gallery) or {}).get("imageCount") == 30), \
        gallery_summary(up.index_url, gallery)

    seen, cursor, sizes = [], None, []
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        r = images_page(up.index_url, gallery, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["gallery"] == gallery
        sizes.append(len(body["images"]))
        seen += body["images"]
        cursor = body["nextCursor"]
        if cursor is None:
            break
        assert len(sizes) < 10
    assert sizes == [7, 7, 7, 7, 2]
    assert sorted(i["key"] for i in seen) == keys, "every image exactly once"
    times = [parse_iso(i["uploaded"]) for i in seen]
    assert times == sorted(times, reverse=True), "newest first across pages"
    assert [i["key"] for i in all_images(up.index_url, gallery)] == [i["key"] for i in seen], "same order in one page"

    default = images_page(up.index_url, gallery).json()
    assert len(default["images"]) == 24 and default["nextCursor"], "default limit 24"
    exact = images_page(up.index_url, gallery, limit=30).json()
    assert len(exact["images"]) == 30 and exact["nextCursor"] is None


def test_bad_query_parameters(up):
    gallery = unique("badq")
    put_upload(up.index_url, gallery, "a.png", image_bytes("badq"))
    put_upload(up.index_url, gallery, "b.png", image_bytes("badq2"))
    wait_for_keys(up.index_url, gallery, [f"{gallery}/a.png", f"{gallery}/b.png"])
    other = unique("badq-other")
    put_upload(up.index_url, other, "a.png", image_bytes("badq3"))
    put_upload(up.index_url, other, "b.png", image_bytes("badq4"))
    wait_for_keys(up.index_url, other, [f"{other}/a.png", f"{other}/b.png"])
    other_cursor = images_page(up.index_url, other, limit=1).json()["nextCursor"]
    assert other_cursor

    for limit in ("0", "101", "-1", "abc", "1.5", ""):
        r = images_page(up.index_url, gallery, limit=limit)
        assert r.status_code == 400, (limit, r.text)
        assert error_code(r) == "InvalidArgument"
    for cursor in ("garbage!!", "AAAA", other_cursor):
        r = images_page(up.index_url, gallery, cursor=cursor)
        assert r.status_code == 400, (cursor, r.text)
        assert error_code(r) == "InvalidArgument"
    for bad in ("Bad_Name", "UPPER", "-dash"):
        r = images_page(up.index_url, bad)
        assert r.status_code == 400, (bad, r.text)
        assert error_code(r) == "InvalidGallery"
    for limit in ("1", "100"):
        assert images_page(up.index_url, gallery, limit=limit).status_code == 200

    unknown = unique("never")
    r = images_page(up.index_url, unknown)
    assert r.status_code == 200, r.text
    assert r.json() == {"gallery": unknown, "images": [], "nextCursor": None}


def test_events_endpoint_auth_on_up(up):
    body = json.dumps({"Records": [record("summer/x.png")]})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer "}, {"Authorization": "Basic eDp5"}):
        r = requests.post(up.index_url + "/events", data=body, headers=headers, timeout=10)
        assert r.status_code == 401, (headers, r.text)
        assert error_code(r) == "Unauthorized"
    assert requests.head(up.index_url + "/events", timeout=10).status_code == 200
    assert gallery_summary(up.index_url, "summer") is None, "nothing was applied"


def test_delete_through_s3_removes_the_image(up):
    gallery = unique("del")
    put_upload(up.index_url, gallery, "keep.png", image_bytes("keep"))
    put_upload(up.index_url, gallery, "drop.png", image_bytes("drop"))
    wait_for_keys(up.index_url, gallery, [f"{gallery}/keep.png", f"{gallery}/drop.png"])

    up.s3.delete_object(Bucket=BUCKET, Key=f"{gallery}/drop.png")
    wait_for_keys(up.index_url, gallery, [f"{gallery}/keep.png"])
    assert gallery_summary(up.index_url, gallery)["imageCount"] == 1

    up.s3.delete_object(Bucket=BUCKET, Key=f"{gallery}/keep.png")
    assert poll(lambda: gallery_summary(up.index_url, gallery) is None), "an emptied gallery is not listed"
    assert all_images(up.index_url, gallery) == []


def test_file_name_starting_with_a_combining_mark_is_listed(up):
    """The upload API accepts any name without '/', '\\' or control characters, e.g. one that
    starts with U+0301; the index must still file it under its gallery."""
    gallery = unique("mark")
    odd = "\u0301accent.png"
    put_upload(up.index_url, gallery, odd, image_bytes("odd"))
    put_upload(up.index_url, gallery, "plain.png", image_bytes("plain"))
    wait = poll(lambda: f"{gallery}/plain.png" in {i["key"] for i in all_images(up.index_url, gallery)})
    assert wait
    keys = poll(lambda: (lambda k: k if f"{gallery}/{odd}" in k else None)({i["key"] for i in all_images(up.index_url, gallery)}),
                timeout=2)
    assert keys, f"{gallery}/{odd!r} uploaded (200) but never indexed"


def test_every_listed_gallery_can_be_opened(up):
    """Objects put straight into the bucket (S3 clients, not the upload API) may have a first
    path segment that is not a valid gallery name. Whatever /api/galleries lists must be
    queryable through /api/galleries/{gallery}/images (or not be listed at all)."""
    sentinel = unique("sentinel")
    up.s3.put_object(Bucket=BUCKET, Key="Holiday_Pics/x.png", Body=image_bytes("odd-gallery"), ContentType="image/png")
    up.s3.put_object(Bucket=BUCKET, Key=f"{sentinel}/x.png", Body=image_bytes("sentinel"), ContentType="image/png")
    assert poll(lambda: gallery_summary(up.index_url, sentinel)), "events are delivered in order: the first one is applied by now"
    for g in requests.get(up.index_url + "/api/galleries", timeout=10).json()["galleries"]:
        r = images_page(up.index_url, quote_plus(g["name"]))
        assert r.status_code == 200, f"gallery {g['name']!r} is listed ({g['imageCount']} images) but cannot be opened: {r.text}"
        assert len(r.json()["images"]) == min(g["imageCount"], 24)


def test_gallery_page_is_served(up):
    r = requests.get(up.index_url + "/", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html" in r.text.lower()
    assert requests.get(up.index_url + "/app.js", timeout=10).status_code == 200
    assert requests.get(up.index_url + "/style.css", timeout=10).status_code == 200


# --------------------------------------------------------------------------
# webhook semantics (standalone shoebox-index with a known token)
# --------------------------------------------------------------------------


def test_events_auth_and_malformed_bodies(standalone):
    good = {"Records": [record("summer/x.png")]}
    r = requests.post(standalone + "/events", json=good, timeout=10)
    assert r.status_code == 401 and error_code(r) == "Unauthorized"
    r = post_events(standalone, record("summer/x.png"), token=TOKEN + "x")
    assert r.status_code == 401 and error_code(r) == "Unauthorized"
    for raw in (b"not json", b"{}", b'{"Records": "no"}', b'{"Records": [{"eventName": "ObjectCreated:Put"}]}', b"[]"):
        r = requests.post(standalone + "/events", data=raw, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert r.status_code == 400, (raw, r.text)
        assert error_code(r) == "MalformedEvent"
    assert requests.head(standalone + "/events", timeout=10).status_code == 200
    assert gallery_summary(standalone, "summer") is None
    assert applied(post_events(standalone)) == (0, 0), "an empty Records list is a valid message"


def test_duplicate_and_out_of_order_events(standalone, plain):
    g = unique("ev")
    meta = {"photographer": "Ann", "event": "Wedding"}
    a = record(f"{g}/a.png", seq="00000000000000000010", size=111, etag="etag-a", when=T0, metadata=meta)
    b = record(f"{g}/red flower+1.png", seq="00000000000000000011", size=222, etag="etag-b", when=T0 + timedelta(seconds=1),
               content_type="image/jpeg")
    assert applied(post_events(standalone, a, b)) == (2, 0)
    assert applied(post_events(standalone, a, b)) == (0, 2), "the same message again changes nothing"
    images = all_images(standalone, g)
    assert [i["key"] for i in images] == [f"{g}/red flower+1.png", f"{g}/a.png"]
    assert images[0]["name"] == "red flower+1.png"
    assert images[0]["url"] == f"{plain.s3_endpoint}/{BUCKET}/{g}/red%20flower%2B1.png"
    # The thumbnail pipeline's fields follow (docs/index-api.md); these events name no real
    # object, so the image is processing, or unprocessable once its download found nothing.
    derived = {k: images[1].pop(k) for k in ("status", "reason", "thumbnailUrl", "previewUrl", "width", "height", "placeholder")}
    assert derived["status"] in ("processing", "unprocessable"), derived
    assert derived["thumbnailUrl"] is None and derived["width"] is None, derived
    assert images[1] == {"key": f"{g}/a.png", "name": "a.png", "size": 111, "etag": "etag-a", "contentType": "image/png",
                         "uploaded": iso(T0), "metadata": meta, "url": f"{plain.s3_endpoint}/{BUCKET}/{g}/a.png"}
    assert gallery_summary(standalone, g) == {"name": g, "imageCount": 2, "lastUpdate": iso(T0 + timedelta(seconds=1))}

    # Out of order: the removal (seq 05) arrives before the create (seq 04) of the same key.
    rm_c = record(f"{g}/c.png", "ObjectRemoved:Delete", seq="00000000000000000005")
    mk_c = record(f"{g}/c.png", seq="00000000000000000004", when=T0 + timedelta(seconds=5))
    assert applied(post_events(standalone, rm_c)) == (1, 0)
    assert applied(post_events(standalone, mk_c)) == (0, 1)
    assert f"{g}/c.png" not in {i["key"] for i in all_images(standalone, g)}

    # A newer create arriving before an older one: the newer data stays.
    new_a = record(f"{g}/a.png", seq="00000000000000000030", size=333, etag="etag-a3", when=T0 + timedelta(seconds=3))
    old_a = record(f"{g}/a.png", seq="00000000000000000020", size=999, etag="etag-a2", when=T0 + timedelta(seconds=2))
    assert applied(post_events(standalone, new_a, old_a)) == (1, 1)
    a_now = next(i for i in all_images(standalone, g) if i["key"] == f"{g}/a.png")
    assert (a_now["size"], a_now["etag"]) == (333, "etag-a3")

    # Delete, then the old create again (a retried delivery): never resurrected.
    rm_b = record(f"{g}/red flower+1.png", "ObjectRemoved:Delete", seq="00000000000000000040")
    assert applied(post_events(standalone, rm_b)) == (1, 0)
    assert applied(post_events(standalone, b)) == (0, 1)
    assert [i["key"] for i in all_images(standalone, g)] == [f"{g}/a.png"]
    assert gallery_summary(standalone, g)["imageCount"] == 1

    # Sequencers of different lengths compare right-padded: "00000000000000000041" < "000000000000000000410001".
    longer = record(f"{g}/red flower+1.png", seq="000000000000000000410001", etag="etag-b2", when=T0 + timedelta(seconds=9))
    assert applied(post_events(standalone, longer)) == (1, 0)
    shorter = record(f"{g}/red flower+1.png", "ObjectRemoved:Delete", seq="00000000000000000041")
    assert applied(post_events(standalone, shorter)) == (0, 1)
    assert [i["key"] for i in all_images(standalone, g)] == [f"{g}/red flower+1.png", f"{g}/a.png"]

    # Keys without a gallery are ignored; keys are decoded tolerantly ('+' is a space, %2F is '/').
    loose = record("loose.png", seq="00000000000000000050")
    encoded = record("", seq="00000000000000000051", raw_key=f"{g}%2Fsub%2Fd+e.png", when=T0 + timedelta(seconds=10))
    assert applied(post_events(standalone, loose, encoded)) == (1, 1)
    assert f"{g}/sub/d e.png" in {i["key"] for i in all_images(standalone, g)}
    assert gallery_summary(standalone, "loose.png") is None

    # Removing everything hides the gallery.
    r = post_events(standalone, *[record(k, "ObjectRemoved:Delete", seq="00000000000000000100")
                                  for k in (f"{g}/a.png", f"{g}/red flower+1.png", f"{g}/sub/d e.png")])
    assert applied(r) == (3, 0)
    assert gallery_summary(standalone, g) is None
    assert images_page(standalone, g).json()["images"] == []


# --------------------------------------------------------------------------
# resync
# --------------------------------------------------------------------------


def run_resync(data: Path, s3_endpoint: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(index_binary()), "resync", "--data", str(data), "--s3-endpoint", s3_endpoint,
                           "--bucket", BUCKET, "--webhook-token", "x"],
                          env=child_env(), capture_output=True, text=True, timeout=60)


def test_resync_command_rebuilds_from_the_bucket(plain):
    g = unique("rs")
    objects = {
        f"{g}/one.png": (image_bytes("one"), "image/png", {"photographer": "Ann", "event": "Wedding"}),
        f"{g}/two words.jpg": (image_bytes("two"), "image/jpeg", {}),
        f"{g}/sub/three.gif": (image_bytes("three"), "image/gif", {"event": "Party"}),
    }
    for key, (data, ctype, meta) in objects.items():
        plain.s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=ctype, Metadata=meta)
        time.sleep(0.01)

    data_dir = plain.base / "resync-index"
    done = run_resync(data_dir, plain.s3_endpoint)
    assert done.returncode == 0, done.stdout + done.stderr

    proc, url = start_index(data_dir, plain.base, plain.s3_endpoint, "resync-serve")
    try:
        images = all_images(url, g)
        assert sorted(i["key"] for i in images) == sorted(objects)
        for image in images:
            data, ctype, meta = objects[image["key"]]
            assert image["size"] == len(data)
            assert image["etag"] == hashlib.md5(data).hexdigest()
            assert image["contentType"] == ctype
            assert image["metadata"] == meta
        times = [parse_iso(i["uploaded"]) for i in images]
        assert times == sorted(times, reverse=True)
        assert gallery_summary(url, g)["imageCount"] == 3

        # The bucket changes while nothing sends events; a second resync (the service still
        # running on the same store) follows it: one removed, one added.
        plain.s3.delete_object(Bucket=BUCKET, Key=f"{g}/one.png")
        plain.s3.put_object(Bucket=BUCKET, Key=f"{g}/four.png", Body=image_bytes("four"), ContentType="image/png")
        again = run_resync(data_dir, plain.s3_endpoint)
        assert again.returncode == 0, again.stdout + again.stderr
        keys = poll(lambda: (lambda k: k if k == {f"{g}/two words.jpg", f"{g}/sub/three.gif", f"{g}/four.png"} else None)(
            {i["key"] for i in all_images(url, g)}), timeout=5)
        assert keys, sorted(i["key"] for i in all_images(url, g))
        assert gallery_summary(url, g)["imageCount"] == 3
    finally:
        proc.stop()


def test_late_index_catches_up_on_start(plain):
    g = unique("late")
    keys = [f"{g}/p{i}.png" for i in range(5)]
    for key in keys:
        plain.s3.put_object(Bucket=BUCKET, Key=key, Body=image_bytes(key), ContentType="image/png",
                            Metadata={"photographer": "Late"})
    proc, url = start_index(plain.base / "late-index", plain.base, plain.s3_endpoint, "late-index")
    try:
        images = wait_for_keys(url, g, keys)
        assert all(i["metadata"] == {"photographer": "Late"} and i["contentType"] == "image/png" for i in images)
        assert gallery_summary(url, g)["imageCount"] == 5
    finally:
        proc.stop()


def test_events_during_the_start_up_resync_are_kept(plain):
    """An index started on an empty store rebuilds from the bucket in the background. An object
    uploaded meanwhile (after the listing was taken) whose event arrives during the rebuild
    must stay indexed: it exists in the bucket and its event was delivered. The bucket holds
    more than one ListObjectsV2 page (1000 keys), so the rebuild takes a moment and follows
    continuation tokens."""
    from concurrent.futures import ThreadPoolExecutor

    bulk = unique("bulk")
    keys = [f"{bulk}/k{i:04d}.png" for i in range(1001)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: plain.s3.put_object(Bucket=BUCKET, Key=k, Body=b"x", ContentType="image/png"), keys))

    port = sup.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = Proc([index_binary(), "--data", plain.base / "race-index", "--address", f"127.0.0.1:{port}",
                 "--s3-endpoint", plain.s3_endpoint, "--bucket", BUCKET, "--webhook-token", TOKEN],
                plain.base / "race-index.log")
    try:
        proc.wait_until(lambda: galleries_answer(url), "GET /api/galleries")
        g = unique("a0-during")  # sorts before the bulk keys: on the listing's first page
        data = image_bytes("during")
        plain.s3.put_object(Bucket=BUCKET, Key=f"{g}/new.png", Body=data, ContentType="image/png")
        event = record(f"{g}/new.png", seq="0000000000000000FFFF", size=len(data), etag=hashlib.md5(data).hexdigest(),
                       when=datetime.now(timezone.utc))
        assert applied(post_events(url, event)) == (1, 0)
        raced = "resync:" not in proc.log()
        proc.wait_until(lambda: "resync:" in proc.log(), "start-up resync", timeout=60)

        assert gallery_summary(url, bulk)["imageCount"] == 1001
        assert len(all_images(url, bulk)) == 1001, "every page of the listing"
        assert [i["key"] for i in all_images(url, g)] == [f"{g}/new.png"], (
            f"the object is in the bucket and its event was applied{' during the rebuild' if raced else ''}, "
            "but the index lost it")
    finally:
        proc.stop()
