"""Bucket notifications to webhooks: configuration, message format, retries, durability.

A real webhook receiver (webhook_receiver.py: http.server in a thread) gets the events.
Every expected value -- event names, encoded keys, sizes, ETags (MD5 of the bytes sent,
multipart ETags computed from the parts), request ids (from the responses), owner ids
(from --config or list_buckets) -- is computed here, never read back from the events.

Message format: https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
Configuration:  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
and /work/shared/docs/clients-on-the-wire.md ("S3 event notifications").

Runs its own servers (the session server has no webhook targets):
  * a module server with targets "gallery" (healthy receiver) and "flaky" (a receiver
    told to answer 500), plus two --config users;
  * a server that is kill -9'd and restarted on the same data dir (durability);
  * a server whose target has queueLimit 3 (503 SlowDown, nothing dropped).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote_plus, unquote_plus

import pytest
import requests
from botocore.exceptions import ClientError

import s3support as sup
from webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.shoebox_only(
    "moto does not deliver webhooks; kill -9/restart and queue limits need the shoebox server")

MiB = 1024 * 1024
DELIVERY_TIMEOUT = 60.0  # retries back off up to 30 s; wait generously


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def shoebox_arn(target_id: str) -> str:
    return f"arn:shoebox:sqs:{sup.REGION}:{target_id}:webhook"


def minio_arn(target_id: str) -> str:
    return f"arn:minio:sqs::{target_id}:webhook"


def queue_conf(conf_id: str | None, arn: str, events: list[str], prefix: str | None = None,
               suffix: str | None = None) -> dict:
    conf = {"QueueArn": arn, "Events": list(events)}
    if conf_id is not None:
        conf["Id"] = conf_id
    rules = []
    if prefix is not None:
        rules.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        rules.append({"Name": "suffix", "Value": suffix})
    if rules:
        conf["Filter"] = {"Key": {"FilterRules": rules}}
    return conf


def put_conf(client, bucket: str, *confs: dict):
    return client.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": list(confs)} if confs else {})


def expect_error(call, code: str, status: int) -> ClientError:
    with pytest.raises(ClientError) as ei:
        call()
    err = ei.value
    assert (sup.error_code(err), sup.http_status(err)) == (code, status), err.response
    return err


def webhook_config(path, webhooks: list[dict], users: list[sup.User] = ()) -> str:
    path.write_text(json.dumps({"users": [u.config_entry() for u in users], "webhooks": webhooks}, indent=2))
    return path


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def unquoted(etag: str) -> str:
    assert etag.startswith('"') and etag.endswith('"'), etag
    return etag[1:-1]


def request_id(resp) -> str:
    rid = resp["ResponseMetadata"]["RequestId"]
    assert rid, resp["ResponseMetadata"]
    return rid


def host_id(resp) -> str | None:
    return resp["ResponseMetadata"].get("HostId") or None


def form_encoded(key: str) -> str:
    """The key as S3 events carry it (application/x-www-form-urlencoded, '/' kept).

    Only used for keys made of letters, digits, '-', '_', '.', '/', space, '+', '%' and
    non-ASCII characters, where the encoding is unambiguous.
    """
    return quote_plus(key, safe="/")


def seq_cmp_key(seq: str, width: int) -> str:
    """AWS: compare sequencers after right-padding the shorter with zeros."""
    return seq.upper().ljust(width, "0")


def seq_less(a: str, b: str) -> bool:
    w = max(len(a), len(b))
    return seq_cmp_key(a, w) < seq_cmp_key(b, w)


def assert_sequencers_increase(seqs: list[str], strict: bool, what: str) -> None:
    for s in seqs:
        assert re.fullmatch(r"[0-9A-Fa-f]+", s), f"{what}: sequencer {s!r} is not hex"
    for a, b in zip(seqs, seqs[1:]):
        if strict:
            assert seq_less(a, b), f"{what}: sequencer {b} does not follow {a} (all: {seqs})"
        else:
            assert not seq_less(b, a), f"{what}: sequencer {b} arrived after the later {a} (all: {seqs})"


def dedup(records: list[tuple]) -> list[tuple]:
    """Drop redeliveries (at-least-once): same configuration, key and sequencer."""
    seen, out = set(), []
    for d, r in records:
        ident = (r["s3"]["configurationId"], r["s3"]["object"]["key"], r["s3"]["object"]["sequencer"])
        if ident not in seen:
            seen.add(ident)
            out.append((d, r))
    return out


def metrics(endpoint: str) -> dict:
    """Prometheus text -> {(name, frozenset(labels)): value}."""
    resp = requests.get(endpoint + "/_shoebox/metrics", timeout=10)
    assert resp.status_code == 200, (resp.status_code, resp.text[:500])
    out = {}
    for line in resp.text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)', line)
        assert m, f"unparsable metrics line {line!r}"
        labels = frozenset(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(endpoint: str, name: str, target: str) -> float | None:
    for (n, labels), value in metrics(endpoint).items():
        if n == name and ("target", target) in labels:
            return value
    return None


def poll(fn, timeout: float, interval: float = 0.1):
    """Calls fn() until it returns a truthy value; returns (value, seconds) or (last, None)."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout:
        last = fn()
        if last:
            return last, time.monotonic() - start
        time.sleep(interval)
    return last, None


def presigned_post(client, bucket: str, key: str, body: bytes, content_type: str) -> requests.Response:
    post = client.generate_presigned_post(bucket, key, Fields={"Content-Type": content_type},
                                          Conditions=[{"Content-Type": content_type}], ExpiresIn=300)
    parts = [(name, (None, value)) for name, value in post["fields"].items()]
    parts.append(("file", ("upload.bin", body, content_type)))
    return requests.post(post["url"], files=parts, timeout=60, allow_redirects=False)


def get_or_none(client, bucket: str, key: str) -> bytes | None:
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as e:
        if sup.error_code(e) == "NoSuchKey":
            return None
        raise


@dataclass
class Expected:
    key: str
    event: str                  # e.g. "ObjectCreated:Put"
    request_id: str
    conf_id: str
    size: int | None = None     # None for removals
    etag: str | None = None     # hex, no quotes
    host_id: str | None = None
    content_type: str | None = None
    user_metadata: dict | None = None


def check_record(rec: dict, exp: Expected, *, bucket: str, principal: str, owner: str,
                 t_from: float, t_to: float) -> None:
    what = f"event for {exp.event} {exp.key!r}"
    assert rec.get("eventVersion") == "2.1", (what, rec)
    assert rec.get("eventSource") == "aws:s3", (what, rec)
    assert rec.get("awsRegion") == sup.REGION, (what, rec)
    assert rec.get("eventName") == exp.event, (what, rec)
    t = rec.get("eventTime", "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t), f"{what}: eventTime {t!r}"
    when = dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc).timestamp()
    assert t_from - 2 <= when <= t_to + 2, f"{what}: eventTime {t} not within the request ({t_from}..{t_to})"
    assert rec.get("userIdentity") == {"principalId": principal}, (what, rec.get("userIdentity"))
    assert rec.get("requestParameters") == {"sourceIPAddress": "127.0.0.1"}, (what, rec.get("requestParameters"))
    elements = rec.get("responseElements") or {}
    assert elements.get("x-amz-request-id") == exp.request_id, \
        f"{what}: x-amz-request-id {elements.get('x-amz-request-id')!r}, the response had {exp.request_id!r}"
    assert elements.get("x-amz-id-2"), (what, elements)
    if exp.host_id is not None:
        assert elements["x-amz-id-2"] == exp.host_id, (what, elements, exp.host_id)
    s3 = rec.get("s3") or {}
    assert s3.get("s3SchemaVersion") == "1.0", (what, s3)
    assert s3.get("configurationId") == exp.conf_id, (what, s3.get("configurationId"))
    assert s3.get("bucket") == {"name": bucket, "ownerIdentity": {"principalId": owner},
                                "arn": f"arn:aws:s3:::{bucket}"}, (what, s3.get("bucket"))
    obj = s3.get("object") or {}
    assert obj.get("key") == form_encoded(exp.key), f"{what}: key {obj.get('key')!r}, expected {form_encoded(exp.key)!r}"
    assert unquote_plus(obj["key"]) == exp.key, (what, obj["key"])
    assert re.fullmatch(r"[0-9A-Fa-f]+", obj.get("sequencer") or ""), (what, obj)
    if exp.event.startswith("ObjectRemoved:"):
        assert "size" not in obj and "eTag" not in obj, f"{what}: a removal has size/eTag: {obj}"
    else:
        assert obj.get("size") == exp.size, f"{what}: size {obj.get('size')!r}, expected {exp.size}"
        assert obj.get("eTag") == exp.etag, f"{what}: eTag {obj.get('eTag')!r}, expected {exp.etag}"
        if exp.content_type is not None:
            assert obj.get("contentType") == exp.content_type, (what, obj)
        if exp.user_metadata is not None:
            assert obj.get("userMetadata") == exp.user_metadata, (what, obj)


# --------------------------------------------------------------------------
# the module server: targets "gallery" (healthy) and "flaky" (500 on demand)
# --------------------------------------------------------------------------


@dataclass
class Env:
    server: sup.ServerProcess
    gallery: WebhookReceiver
    flaky: WebhookReceiver
    gallery_token: str
    flaky_token: str
    root: object
    root_id: str
    alice: sup.User
    bob: sup.User

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    def client(self, user: sup.User | None = None):
        if user is None:
            return sup.make_client(self.endpoint)
        return sup.make_client(self.endpoint, user.access_key, user.secret_key)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("notify")
    (base / "data").mkdir()
    gallery, flaky = WebhookReceiver().start(), WebhookReceiver().start()
    gallery_token, flaky_token = "gallery-" + uuid.uuid4().hex, "flaky-" + uuid.uuid4().hex
    alice, bob = sup.make_user("alice"), sup.make_user("bob")
    config = webhook_config(base / "config.json", [
        {"id": "gallery", "endpoint": gallery.url, "authToken": gallery_token, "queueLimit": 100000},
        {"id": "flaky", "endpoint": flaky.url, "authToken": flaky_token, "queueLimit": 100000},
    ], [alice, bob])
    server = sup.ServerProcess(sup.TARGET, base / "data", base, config=config)
    server.start()
    root = sup.make_client(server.endpoint)
    root_id = root.list_buckets()["Owner"]["ID"]
    try:
        yield Env(server, gallery, flaky, gallery_token, flaky_token, root, root_id, alice, bob)
    finally:
        server.stop()
        gallery.stop()
        flaky.stop()


@pytest.fixture
def nbucket(env):
    name = "cf-nt-" + uuid.uuid4().hex[:16]
    env.root.create_bucket(Bucket=name)
    return name


def wait_marker(rx: WebhookReceiver, bucket: str, marker_key: str) -> list:
    """Waits for the event of `marker_key`; returns the bucket's records (deduplicated) before it."""
    enc = form_encoded(marker_key)
    recs = rx.wait_for(lambda rs: any(r["s3"]["object"]["key"] == enc for _, r in rs),
                       timeout=DELIVERY_TIMEOUT, what=f"the marker event {marker_key!r}", bucket=bucket)
    recs = dedup(recs)
    idx = next(i for i, (_, r) in enumerate(recs) if r["s3"]["object"]["key"] == enc)
    return recs[:idx]


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------


def _get_rules(conf: dict) -> list[tuple]:
    out = []
    for q in conf.get("QueueConfigurations", []):
        rules = {r["Name"].lower(): r["Value"] for r in q.get("Filter", {}).get("Key", {}).get("FilterRules", [])}
        out.append((q.get("Id"), q["QueueArn"], sorted(q["Events"]), rules.get("prefix"), rules.get("suffix")))
    return sorted(out)


@pytest.mark.parametrize("arn_form", ["shoebox", "minio"])
def test_config_round_trip(env, nbucket, arn_form):
    arn = shoebox_arn("gallery") if arn_form == "shoebox" else minio_arn("gallery")
    confs = [
        queue_conf("images", arn, ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post"], prefix="images/", suffix=".jpg"),
        queue_conf("removals", arn, ["s3:ObjectRemoved:*"]),
        queue_conf("docs", arn, ["s3:ObjectCreated:*"], prefix="docs/"),
    ]
    put_conf(env.root, nbucket, *confs)
    got = env.root.get_bucket_notification_configuration(Bucket=nbucket)
    assert _get_rules(got) == sorted([
        ("images", arn, ["s3:ObjectCreated:Post", "s3:ObjectCreated:Put"], "images/", ".jpg"),
        ("removals", arn, ["s3:ObjectRemoved:*"], None, None),
        ("docs", arn, ["s3:ObjectCreated:*"], "docs/", None),
    ]), got
    assert not got.get("TopicConfigurations") and not got.get("LambdaFunctionConfigurations"), got


def test_config_without_id_gets_one(env, nbucket):
    put_conf(env.root, nbucket, queue_conf(None, shoebox_arn("gallery"), ["s3:ObjectCreated:*"]))
    got = env.root.get_bucket_notification_configuration(Bucket=nbucket)["QueueConfigurations"]
    assert len(got) == 1 and got[0].get("Id"), got


def test_new_bucket_has_empty_config(env, nbucket):
    got = env.root.get_bucket_notification_configuration(Bucket=nbucket)
    assert not got.get("QueueConfigurations"), got


@pytest.mark.parametrize("arn", [
    shoebox_arn("nosuchtarget"),
    minio_arn("nosuchtarget"),
    f"arn:shoebox:sns:{sup.REGION}:gallery:webhook",
    "arn:aws:sqs:us-east-1:123456789012:gallery",
    "gallery",
    "",
])
def test_config_unknown_arn(env, nbucket, arn):
    expect_error(lambda: put_conf(env.root, nbucket, queue_conf("x", arn, ["s3:ObjectCreated:*"])),
                 "InvalidArgument", 400)
    assert not env.root.get_bucket_notification_configuration(Bucket=nbucket).get("QueueConfigurations")


@pytest.mark.parametrize("event", ["s3:ObjectCreated:Bogus", "ObjectCreated:Put", "s3:ObjectRestore:*",
                                   "s3:*", "s3:ObjectRemoved:Gone"])
def test_config_unknown_event(env, nbucket, event):
    expect_error(lambda: put_conf(env.root, nbucket, queue_conf("x", shoebox_arn("gallery"), [event])),
                 "InvalidArgument", 400)


@pytest.mark.parametrize("a,b", [
    # same event type, one prefix contains the other
    (("s3:ObjectCreated:*", "images/", None), ("s3:ObjectCreated:*", "images/thumbs/", None)),
    # same event type, no filters at all
    (("s3:ObjectRemoved:Delete", None, None), ("s3:ObjectRemoved:Delete", None, None)),
    # same event type, identical prefix
    (("s3:ObjectCreated:Put", "a/", None), ("s3:ObjectCreated:Put", "a/", ".txt")),
    # '*' covers Put
    (("s3:ObjectCreated:*", None, None), ("s3:ObjectCreated:Put", "x/", None)),
    (("s3:ObjectCreated:CompleteMultipartUpload", "big/", None), ("s3:ObjectCreated:*", None, None)),
])
def test_config_overlap_rejected(env, nbucket, a, b):
    arn = shoebox_arn("gallery")
    confs = [queue_conf("first", arn, [a[0]], prefix=a[1], suffix=a[2]),
             queue_conf("second", arn, [b[0]], prefix=b[1], suffix=b[2])]
    expect_error(lambda: put_conf(env.root, nbucket, *confs), "InvalidArgument", 400)
    assert not env.root.get_bucket_notification_configuration(Bucket=nbucket).get("QueueConfigurations")


@pytest.mark.parametrize("a,b", [
    (("s3:ObjectCreated:*", "images/", None), ("s3:ObjectCreated:*", "docs/", None)),
    (("s3:ObjectCreated:*", None, None), ("s3:ObjectRemoved:*", None, None)),
    (("s3:ObjectCreated:Put", "images/", ".jpg"), ("s3:ObjectCreated:Put", "images/", ".png")),
    (("s3:ObjectCreated:Put", None, None), ("s3:ObjectCreated:Copy", None, None)),
])
def test_config_non_overlapping_ok(env, nbucket, a, b):
    arn = shoebox_arn("gallery")
    put_conf(env.root, nbucket, queue_conf("first", arn, [a[0]], prefix=a[1], suffix=a[2]),
             queue_conf("second", arn, [b[0]], prefix=b[1], suffix=b[2]))
    got = env.root.get_bucket_notification_configuration(Bucket=nbucket)
    assert sorted(q["Id"] for q in got["QueueConfigurations"]) == ["first", "second"], got


def test_config_empty_clears(env, nbucket):
    put_conf(env.root, nbucket, queue_conf("all", shoebox_arn("gallery"), ["s3:ObjectCreated:*"]))
    assert env.root.get_bucket_notification_configuration(Bucket=nbucket)["QueueConfigurations"]
    put_conf(env.root, nbucket)  # <NotificationConfiguration/>
    assert not env.root.get_bucket_notification_configuration(Bucket=nbucket).get("QueueConfigurations")
    # and no event is sent any more: only the marker (configured again afterwards) arrives
    env.root.put_object(Bucket=nbucket, Key="after-clear", Body=b"x")
    put_conf(env.root, nbucket, queue_conf("all", shoebox_arn("gallery"), ["s3:ObjectCreated:*"]))
    env.root.put_object(Bucket=nbucket, Key="marker", Body=b"m")
    assert wait_marker(env.gallery, nbucket, "marker") == []


def test_config_removed_with_bucket(env, bucket_name):
    env.root.create_bucket(Bucket=bucket_name)
    put_conf(env.root, bucket_name, queue_conf("all", shoebox_arn("gallery"), ["s3:ObjectCreated:*"]))
    env.root.delete_bucket(Bucket=bucket_name)
    env.root.create_bucket(Bucket=bucket_name)
    got = env.root.get_bucket_notification_configuration(Bucket=bucket_name)
    assert not got.get("QueueConfigurations"), got
    # the re-created bucket sends nothing until configured
    env.root.put_object(Bucket=bucket_name, Key="unconfigured", Body=b"x")
    put_conf(env.root, bucket_name, queue_conf("again", shoebox_arn("gallery"), ["s3:ObjectCreated:*"]))
    env.root.put_object(Bucket=bucket_name, Key="marker", Body=b"m")
    assert wait_marker(env.gallery, bucket_name, "marker") == []


def test_config_topic_and_lambda_rejected(env, nbucket):
    expect_error(lambda: env.root.put_bucket_notification_configuration(
        Bucket=nbucket, NotificationConfiguration={"TopicConfigurations": [
            {"Id": "t", "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic", "Events": ["s3:ObjectCreated:*"]}]}),
        "InvalidArgument", 400)
    expect_error(lambda: env.root.put_bucket_notification_configuration(
        Bucket=nbucket, NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"Id": "l", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
             "Events": ["s3:ObjectCreated:*"]}]}),
        "InvalidArgument", 400)
    assert not env.root.get_bucket_notification_configuration(Bucket=nbucket).get("QueueConfigurations")


def test_config_access(env, nbucket):
    bob = env.client(env.bob)
    expect_error(lambda: put_conf(bob, nbucket, queue_conf("x", shoebox_arn("gallery"), ["s3:ObjectCreated:*"])),
                 "AccessDenied", 403)
    expect_error(lambda: bob.get_bucket_notification_configuration(Bucket=nbucket), "AccessDenied", 403)
    missing = "cf-nt-missing-" + uuid.uuid4().hex[:10]
    expect_error(lambda: env.root.get_bucket_notification_configuration(Bucket=missing), "NoSuchBucket", 404)
    expect_error(lambda: put_conf(env.root, missing, queue_conf("x", shoebox_arn("gallery"), ["s3:ObjectCreated:*"])),
                 "NoSuchBucket", 404)


# --------------------------------------------------------------------------
# events: every kind, exact fields
# --------------------------------------------------------------------------


def test_event_kinds_and_fields(env, nbucket):
    s3, b = env.root, nbucket
    conf = "everything-" + uuid.uuid4().hex[:6]
    put_conf(s3, b, queue_conf(conf, shoebox_arn("gallery"), ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]))
    exp: list[Expected] = []
    t_from = time.time()

    k1 = "photos/summer 2024/red+flower ü.jpg"
    body1 = sup.deterministic_body("n1", 1024)
    r = s3.put_object(Bucket=b, Key=k1, Body=body1, ContentType="image/jpeg", Metadata={"color": "red"})
    assert r["ETag"] == sup.md5_etag(body1)
    exp.append(Expected(k1, "ObjectCreated:Put", request_id(r), conf, len(body1), md5_hex(body1), host_id(r),
                        "image/jpeg", {"color": "red"}))

    body2 = sup.deterministic_body("n2", 70_001)
    r = s3.put_object(Bucket=b, Key=k1, Body=body2)
    exp.append(Expected(k1, "ObjectCreated:Put", request_id(r), conf, len(body2), md5_hex(body2), host_id(r)))

    k2 = "uploads/form upload.txt"
    body3 = b"posted from a browser form\n" * 100
    resp = presigned_post(s3, b, k2, body3, "text/plain")
    assert resp.status_code == 204, resp.text
    assert resp.headers.get("ETag") == sup.md5_etag(body3)
    exp.append(Expected(k2, "ObjectCreated:Post", resp.headers["x-amz-request-id"], conf, len(body3), md5_hex(body3),
                        resp.headers.get("x-amz-id-2"), "text/plain"))

    k3 = "copies/red flower (copy).jpg"
    r = s3.copy_object(Bucket=b, Key=k3, CopySource={"Bucket": b, "Key": k1})
    assert r["CopyObjectResult"]["ETag"] == sup.md5_etag(body2)
    exp.append(Expected(k3, "ObjectCreated:Copy", request_id(r), conf, len(body2), md5_hex(body2), host_id(r)))

    k4 = "big/multi part.bin"
    parts = [sup.deterministic_body("mp1", 5 * MiB), sup.deterministic_body("mp2", 5 * MiB + 123)]
    up = s3.create_multipart_upload(Bucket=b, Key=k4)
    etags = [s3.upload_part(Bucket=b, Key=k4, UploadId=up["UploadId"], PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    r = s3.complete_multipart_upload(Bucket=b, Key=k4, UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    mp_etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-2"
    assert r["ETag"] == f'"{mp_etag}"'
    exp.append(Expected(k4, "ObjectCreated:CompleteMultipartUpload", request_id(r), conf,
                        sum(map(len, parts)), mp_etag, host_id(r)))

    r = s3.delete_object(Bucket=b, Key=k1)
    exp.append(Expected(k1, "ObjectRemoved:Delete", request_id(r), conf, host_id=host_id(r)))

    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k2}, {"Key": k3}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted([k2, k3]) and not r.get("Errors"), r
    multi = [Expected(k, "ObjectRemoved:Delete", request_id(r), conf, host_id=host_id(r)) for k in (k2, k3)]

    s3.put_object(Bucket=b, Key="zz-marker", Body=b"m")
    t_to = time.time()
    recs = wait_marker(env.gallery, b, "zz-marker")

    names = [(r["eventName"], unquote_plus(r["s3"]["object"]["key"])) for _, r in recs]
    assert names[:len(exp)] == [(e.event, e.key) for e in exp], names
    assert sorted(names[len(exp):]) == sorted((e.event, e.key) for e in multi), names
    by_key = {e.key: e for e in multi}
    pairs = list(zip([r for _, r in recs[:len(exp)]], exp))
    pairs += [(r, by_key[unquote_plus(r["s3"]["object"]["key"])]) for _, r in recs[len(exp):]]
    for rec, e in pairs:
        check_record(rec, e, bucket=b, principal=env.root_id, owner=env.root_id, t_from=t_from, t_to=t_to)
    for d, _ in recs:
        assert d.headers.get("authorization") == f"Bearer {env.gallery_token}", d.headers
        assert d.headers.get("content-type", "").split(";")[0].strip() == "application/json", d.headers
        assert d.path == "/events", d.path

    # the sequencer grows with every change of one key, in arrival order
    for key in {e.key for e in exp}:
        seqs = [r["s3"]["object"]["sequencer"] for _, r in recs if unquote_plus(r["s3"]["object"]["key"]) == key]
        assert_sequencers_increase(seqs, strict=True, what=key)
    # a key deleted and created again keeps growing too
    r = s3.put_object(Bucket=b, Key=k1, Body=b"again")
    s3.put_object(Bucket=b, Key="zz-marker2", Body=b"m")
    recs2 = wait_marker(env.gallery, b, "zz-marker2")
    seqs = [r["s3"]["object"]["sequencer"] for _, r in recs2 if unquote_plus(r["s3"]["object"]["key"]) == k1]
    assert len(seqs) == 4, seqs
    assert_sequencers_increase(seqs, strict=True, what=k1 + " (re-created)")


def test_principal_is_requester_and_owner(env):
    """principalId is who made the request; ownerIdentity is the bucket owner."""
    alice, bob = env.client(env.alice), env.client(env.bob)
    b = "cf-nt-alice-" + uuid.uuid4().hex[:10]
    alice.create_bucket(Bucket=b)
    assert alice.list_buckets()["Owner"]["ID"] == env.alice.canonical_id
    alice.put_bucket_acl(Bucket=b, GrantFullControl=f'id="{env.alice.canonical_id}"',
                         GrantWrite=f'id="{env.bob.canonical_id}"')
    put_conf(alice, b, queue_conf("alice-conf", minio_arn("gallery"), ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]))
    t_from = time.time()
    ra = alice.put_object(Bucket=b, Key="by alice", Body=b"alice")
    rb = bob.put_object(Bucket=b, Key="by bob", Body=b"bob!")
    rd = bob.delete_object(Bucket=b, Key="by alice")
    alice.put_object(Bucket=b, Key="marker", Body=b"m")
    t_to = time.time()
    recs = wait_marker(env.gallery, b, "marker")
    assert [(r["eventName"], unquote_plus(r["s3"]["object"]["key"])) for _, r in recs] == [
        ("ObjectCreated:Put", "by alice"), ("ObjectCreated:Put", "by bob"), ("ObjectRemoved:Delete", "by alice")]
    common = dict(bucket=b, owner=env.alice.canonical_id, t_from=t_from, t_to=t_to)
    check_record(recs[0][1], Expected("by alice", "ObjectCreated:Put", request_id(ra), "alice-conf", 5, md5_hex(b"alice")),
                 principal=env.alice.canonical_id, **common)
    check_record(recs[1][1], Expected("by bob", "ObjectCreated:Put", request_id(rb), "alice-conf", 4, md5_hex(b"bob!")),
                 principal=env.bob.canonical_id, **common)
    check_record(recs[2][1], Expected("by alice", "ObjectRemoved:Delete", request_id(rd), "alice-conf"),
                 principal=env.bob.canonical_id, **common)


def test_filters_and_event_types(env, nbucket):
    s3, b = env.root, nbucket
    arn = shoebox_arn("gallery")
    put_conf(s3, b,
             queue_conf("jpgs", arn, ["s3:ObjectCreated:*"], prefix="images/", suffix=".jpg"),
             queue_conf("log-removals", arn, ["s3:ObjectRemoved:Delete"], prefix="logs/"),
             queue_conf("copies-only", arn, ["s3:ObjectCreated:Copy"], prefix="copies/"))
    s3.put_object(Bucket=b, Key="images/a.jpg", Body=b"jpg")                # jpgs
    s3.put_object(Bucket=b, Key="images/a.png", Body=b"png")                # suffix differs
    s3.put_object(Bucket=b, Key="docs/a.jpg", Body=b"doc")                  # prefix differs
    s3.put_object(Bucket=b, Key="images/a.jpg.bak", Body=b"bak")            # suffix not at the end
    s3.put_object(Bucket=b, Key="IMAGES/b.jpg", Body=b"case")               # prefixes are case-sensitive
    s3.put_object(Bucket=b, Key="xx/images/c.jpg", Body=b"inner")           # prefix not at the start
    s3.put_object(Bucket=b, Key="logs/x.txt", Body=b"log")                  # removals only
    s3.delete_object(Bucket=b, Key="images/a.png")                          # no removal rule for images/
    s3.delete_object(Bucket=b, Key="logs/x.txt")                            # log-removals
    s3.put_object(Bucket=b, Key="copies/put.txt", Body=b"put")              # Copy only
    s3.copy_object(Bucket=b, Key="copies/copied.txt", CopySource={"Bucket": b, "Key": "docs/a.jpg"})  # copies-only
    s3.copy_object(Bucket=b, Key="images/copied.jpg", CopySource={"Bucket": b, "Key": "docs/a.jpg"})  # jpgs (Copy)
    s3.delete_object(Bucket=b, Key="images/a.jpg")                          # no removal rule for images/
    s3.put_object(Bucket=b, Key="images/zz-marker.jpg", Body=b"m")
    recs = wait_marker(env.gallery, b, "images/zz-marker.jpg")
    got = [(r["s3"]["configurationId"], r["eventName"], unquote_plus(r["s3"]["object"]["key"])) for _, r in recs]
    assert got == [
        ("jpgs", "ObjectCreated:Put", "images/a.jpg"),
        ("log-removals", "ObjectRemoved:Delete", "logs/x.txt"),
        ("copies-only", "ObjectCreated:Copy", "copies/copied.txt"),
        ("jpgs", "ObjectCreated:Copy", "images/copied.jpg"),
    ], got


KEYS = [
    "plain.txt",
    "with space.txt",
    "two  spaces and trailing ",
    "plus+sign+",
    "a +b+ c",
    "percent 100%.txt",
    "literal %2B and %20",
    "dir/sub dir/ünïcödé.txt",
    "日本語/ファイル.txt",
    "emoji 🎉😀/party 🎈.png",
    "mixed-_.chars/ok",
]
ODD_KEYS = [
    "query?x=1&y=2#frag",
    "tilde~star*paren(1)'quote'",
    "eq=semi;colon:comma,at@dollar$",
    "brackets[]{}<>|^`back\\slash",
    'quote"double',
]


def test_key_encoding_round_trip(env, nbucket):
    s3, b = env.root, nbucket
    put_conf(s3, b, queue_conf("keys", shoebox_arn("gallery"), ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]))
    for key in KEYS + ODD_KEYS:
        s3.put_object(Bucket=b, Key=key, Body=key.encode())
    s3.delete_object(Bucket=b, Key="emoji 🎉😀/party 🎈.png")
    s3.put_object(Bucket=b, Key="zz marker", Body=b"m")
    recs = wait_marker(env.gallery, b, "zz marker")
    got = [(r["eventName"], r["s3"]["object"]["key"]) for _, r in recs]
    assert [(n, unquote_plus(k)) for n, k in got] == \
        [("ObjectCreated:Put", k) for k in KEYS + ODD_KEYS] + [("ObjectRemoved:Delete", "emoji 🎉😀/party 🎈.png")], got
    # exact encoding where it is unambiguous (space '+', '+' '%2B', '%' '%25', UTF-8 %XX, '/' kept)
    for (name, enc), key in zip(got, KEYS):
        assert enc == form_encoded(key), (key, enc, form_encoded(key))
    for (name, enc), key in zip(got[len(KEYS):], ODD_KEYS):
        assert " " not in enc and re.fullmatch(r"[A-Za-z0-9%+/\-_.~*!'()]*", enc), (key, enc)
    for (_, r), key in zip(recs, KEYS + ODD_KEYS):
        assert r["s3"]["object"]["size"] == len(key.encode())
        assert r["s3"]["object"]["eTag"] == md5_hex(key.encode())


# --------------------------------------------------------------------------
# a receiver that fails: retried later, in order; the failure counter grows
# --------------------------------------------------------------------------


def test_failing_receiver_is_retried_in_order(env, nbucket):
    s3, b = env.root, nbucket
    put_conf(s3, b, queue_conf("flaky-conf", shoebox_arn("flaky"), ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]))
    rx = env.flaky
    failures_before = metric(env.endpoint, "shoebox_event_delivery_failures_total", "flaky") or 0.0
    delivered_before = metric(env.endpoint, "shoebox_events_delivered_total", "flaky") or 0.0
    attempts_before = len(rx.attempts)
    rx.status = 500
    try:
        t_from = time.time()
        ops = []
        body_a1, body_a2, body_b = b"a-one", b"a-two-longer", b"b" * 3000
        r = s3.put_object(Bucket=b, Key="a", Body=body_a1)
        ops.append(Expected("a", "ObjectCreated:Put", request_id(r), "flaky-conf", len(body_a1), md5_hex(body_a1)))
        r = s3.put_object(Bucket=b, Key="a", Body=body_a2)
        ops.append(Expected("a", "ObjectCreated:Put", request_id(r), "flaky-conf", len(body_a2), md5_hex(body_a2)))
        r = s3.delete_object(Bucket=b, Key="a")
        ops.append(Expected("a", "ObjectRemoved:Delete", request_id(r), "flaky-conf"))
        r = s3.put_object(Bucket=b, Key="b", Body=body_b)
        ops.append(Expected("b", "ObjectCreated:Put", request_id(r), "flaky-conf", len(body_b), md5_hex(body_b)))
        t_to = time.time()

        # at least three failed POSTs (a first try and two retries)
        _, took = poll(lambda: len(rx.attempts) - attempts_before >= 3, timeout=20)
        assert took is not None, f"only {len(rx.attempts) - attempts_before} POSTs in 20 s while answering 500"
        failed = rx.attempts[attempts_before:]
        assert all(d.status == 500 for d in failed)
        # a retry resends the oldest event first: nothing is skipped
        for d in failed:
            assert [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"].get("eTag")) for r in d.records] == \
                [("ObjectCreated:Put", "a", md5_hex(body_a1))], d.body
        assert rx.records(b) == []
        fails, _ = poll(lambda: (metric(env.endpoint, "shoebox_event_delivery_failures_total", "flaky") or 0)
                        >= failures_before + 3, timeout=5)
        assert fails, ("shoebox_event_delivery_failures_total{target=flaky} did not grow by the failed POSTs",
                       failures_before, metric(env.endpoint, "shoebox_event_delivery_failures_total", "flaky"))
    finally:
        rx.status = 200

    recs = rx.wait_for(lambda rs: len(dedup(rs)) >= len(ops), timeout=DELIVERY_TIMEOUT,
                       what="the retried events", bucket=b)
    all_recs = rx.records(b)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for _, r in dedup(all_recs)] == \
        [(e.event, e.key) for e in ops], all_recs
    for (_, rec), e in zip(dedup(all_recs), ops):
        check_record(rec, e, bucket=b, principal=env.root_id, owner=env.root_id, t_from=t_from, t_to=t_to)
    # arrival order follows the sequencers (redeliveries allowed, never going back)
    for key in ("a", "b"):
        seqs = [r["s3"]["object"]["sequencer"] for _, r in all_recs if r["s3"]["object"]["key"] == key]
        assert_sequencers_increase(seqs, strict=False, what=key)
    for d, _ in recs:
        assert d.headers.get("authorization") == f"Bearer {env.flaky_token}"
    delivered, _ = poll(lambda: (metric(env.endpoint, "shoebox_events_delivered_total", "flaky") or 0)
                        >= delivered_before + len(ops), timeout=5)
    assert delivered, ("shoebox_events_delivered_total{target=flaky} did not grow", delivered_before,
                       metric(env.endpoint, "shoebox_events_delivered_total", "flaky"))
    depth, _ = poll(lambda: metric(env.endpoint, "shoebox_outbox_depth", "flaky") == 0, timeout=10)
    assert depth, metric(env.endpoint, "shoebox_outbox_depth", "flaky")


# --------------------------------------------------------------------------
# durability: receiver down, kill -9 with PUTs in flight, restart, nothing lost
# --------------------------------------------------------------------------


@dataclass
class Op:
    key: str
    event: str
    etag: str | None
    request_id: str | None = None
    acked: bool = False


class KeyOwner:
    """One thread owning a few keys: its operations on them happen in a known order."""

    def __init__(self, endpoint: str, bucket: str, tid: int, keys: list[str]):
        self.client = sup.make_client(endpoint, connect_timeout=2, read_timeout=20)
        self.bucket, self.tid, self.keys = bucket, tid, keys
        self.ops: list[Op] = []          # every attempted op, in order
        self.exists = {k: False for k in keys}
        self.rng = random.Random(f"owner{tid}")
        self.errors: list[str] = []
        self.n = 0

    def body(self, key: str, size: int) -> bytes:
        self.n += 1
        head = f"{key}|{self.tid}|{self.n}|{uuid.uuid4().hex}|".encode()
        return head + sup.deterministic_body(head.decode(), size)

    def put(self, key: str, size: int) -> bool:
        data = self.body(key, size)
        op = Op(key, "ObjectCreated:Put", md5_hex(data))
        self.ops.append(op)
        try:
            r = self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except ClientError as e:
            self.errors.append(f"PUT {key}: {e.response['Error']}")
            return False
        except Exception:
            return False  # the server is gone
        if r["ResponseMetadata"]["HTTPStatusCode"] == 200:
            op.acked, op.request_id = True, request_id(r)
            self.exists[key] = True
            if r["ETag"] != f'"{op.etag}"':
                self.errors.append(f"PUT {key}: 200 with ETag {r['ETag']}, sent {op.etag}")
        return True

    def delete(self, key: str) -> bool:
        op = Op(key, "ObjectRemoved:Delete", None)
        self.ops.append(op)
        try:
            r = self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            self.errors.append(f"DELETE {key}: {e.response['Error']}")
            return False
        except Exception:
            return False
        if r["ResponseMetadata"]["HTTPStatusCode"] == 204:
            op.acked, op.request_id = True, request_id(r)
            self.exists[key] = False
        return True

    def phase_a(self, n_ops: int) -> None:
        """Puts and deletes (a delete only of a key that exists) while the receiver is down."""
        for i in range(n_ops):
            key = self.keys[i % len(self.keys)] if i < len(self.keys) else self.rng.choice(self.keys)
            if self.exists[key] and self.rng.random() < 0.3:
                self.delete(key)
            else:
                self.put(key, self.rng.choice([0, 10, 1000, 20_000]))

    def phase_b(self, stop: threading.Event) -> None:
        """PUTs until the server dies."""
        while not stop.is_set():
            if not self.put(self.rng.choice(self.keys), 400_000):
                return


def test_durable_delivery_across_kill9(tmp_path_factory):
    base = tmp_path_factory.mktemp("notify-durable")
    (base / "data").mkdir()
    rx = WebhookReceiver()  # not started: the target is down
    token = "durable-" + uuid.uuid4().hex
    config = webhook_config(base / "config.json", [
        {"id": "durable", "endpoint": rx.url, "authToken": token, "queueLimit": 100000}])
    server = sup.ServerProcess(sup.TARGET, base / "data", base, config=config)
    server.start()
    bucket = "cf-nt-durable-" + uuid.uuid4().hex[:8]
    try:
        root = sup.make_client(server.endpoint)
        root.create_bucket(Bucket=bucket)
        put_conf(root, bucket, queue_conf("durable-all", shoebox_arn("durable"),
                                          ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]))
        n_threads, keys_per_thread = 4, 3
        owners = [KeyOwner(server.endpoint, bucket, t,
                           [f"dur/t{t}/key {j} ü+{t}" for j in range(keys_per_thread)]) for t in range(n_threads)]

        # phase A: 60 changes from 4 threads, all acknowledged, receiver down
        threads = [threading.Thread(target=o.phase_a, args=(15,)) for o in owners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(not o.errors for o in owners), [o.errors for o in owners]
        phase_a = [op for o in owners for op in o.ops]
        assert len(phase_a) == 60 and all(op.acked for op in phase_a), \
            f"{sum(op.acked for op in phase_a)}/{len(phase_a)} acknowledged with the receiver down"
        assert any(op.event == "ObjectRemoved:Delete" for op in phase_a)

        # phase B: kill -9 while PUTs are in flight
        for o in owners:
            o.client = sup.make_client(server.endpoint, connect_timeout=2, read_timeout=20)
        stop = threading.Event()
        threads = [threading.Thread(target=o.phase_b, args=(stop,), daemon=True) for o in owners]
        for t in threads:
            t.start()
        time.sleep(0.8)
        server.kill9()
        stop.set()
        for t in threads:
            t.join(30)
            assert not t.is_alive(), "writer thread hung after kill -9"
        assert all(not o.errors for o in owners), [o.errors for o in owners]
        ops = [op for o in owners for op in o.ops]
        phase_a_ids = {id(op) for op in phase_a}
        in_flight = [op for op in ops if not op.acked]
        acked_b = [op for op in ops if op.acked and id(op) not in phase_a_ids]
        assert acked_b, "no PUT was acknowledged between the start of phase B and kill -9"
        assert in_flight, "no PUT was in flight at kill -9"

        # restart on the same data dir and config, then bring the receiver up
        server.start()
        root = sup.make_client(server.endpoint)
        time.sleep(0.3)
        rx.start()
        acked = [op for o in owners for op in o.ops if op.acked]

        def ident(r):
            o = r["s3"]["object"]
            return (unquote_plus(o["key"]), r["eventName"], o.get("eTag"), r["responseElements"]["x-amz-request-id"])

        wanted = {(op.key, op.event, op.etag, op.request_id) for op in acked}
        rx.wait_for(lambda rs: wanted <= {ident(r) for _, r in rs}, timeout=DELIVERY_TIMEOUT,
                    what=f"all {len(wanted)} acknowledged changes", bucket=bucket)
        # let anything still queued (in-flight PUTs that committed) arrive: the depth drops to 0
        drained, _ = poll(lambda: metric(server.endpoint, "shoebox_outbox_depth", "durable") == 0, timeout=30, interval=0.2)
        assert drained, ("outbox did not drain", metric(server.endpoint, "shoebox_outbox_depth", "durable"))
        recs = rx.records(bucket)
        received = {ident(r) for _, r in recs}
        missing = wanted - received
        assert not missing, f"{len(missing)} acknowledged changes never arrived: {sorted(missing)[:5]}"

        # no phantom events: every event is some attempted change
        attempted = {(op.key, op.event, op.etag) for op in ops}
        phantom = [ident(r) for _, r in recs if ident(r)[:3] not in attempted]
        assert not phantom, f"events for changes nobody made: {phantom[:5]}"
        for d, r in recs:
            assert d.headers.get("authorization") == f"Bearer {token}"
            assert r["s3"]["configurationId"] == "durable-all"
            assert r["s3"]["object"]["key"] == form_encoded(unquote_plus(r["s3"]["object"]["key"]))

        for o in owners:
            for key in o.keys:
                per_key = [r for _, r in recs if unquote_plus(r["s3"]["object"]["key"]) == key]
                seqs = [r["s3"]["object"]["sequencer"] for r in per_key]
                # arrival order is the order of the sequencers (duplicates allowed)
                assert_sequencers_increase(seqs, strict=False, what=f"arrival order of {key}")
                distinct = [ident(r)[:3] for _, r in dedup([(None, r) for r in per_key])]
                # the owner's acknowledged changes appear in the order it made them
                order = [(op.key, op.event, op.etag) for op in o.ops if op.key == key and op.acked]
                it = iter(distinct)
                assert all(any(x == want for x in it) for want in order), \
                    f"{key}: acknowledged changes {order} not in this order in the events {distinct}"
                # the event with the highest sequencer describes the object as it is now
                last = per_key[-1]
                head = None
                try:
                    head = root.head_object(Bucket=bucket, Key=key)
                except ClientError as e:
                    assert sup.http_status(e) == 404, e.response
                if last["eventName"].startswith("ObjectCreated:"):
                    assert head is not None, f"{key}: last event {last['eventName']} but the object is gone"
                    assert head["ETag"] == f'"{last["s3"]["object"]["eTag"]}"', \
                        f"{key}: last event has eTag {last['s3']['object']['eTag']}, the object {head['ETag']}"
                else:
                    assert head is None, f"{key}: last event is a removal but the object exists"
                # a key whose last acknowledged change is a PUT (nothing in flight after it)
                last_op = [op for op in o.ops if op.key == key][-1]
                if last_op.acked and last_op.event == "ObjectCreated:Put":
                    assert head is not None and head["ETag"] == f'"{last_op.etag}"', (key, last_op, head)
                    assert ident(last)[:3] == (key, last_op.event, last_op.etag), (key, ident(last), last_op)

        # the server carries on normally: a new change is delivered right away
        r = root.put_object(Bucket=bucket, Key="after restart", Body=b"fresh")
        rx.wait_for(lambda rs: any(r2["responseElements"]["x-amz-request-id"] == request_id(r) for _, r2 in rs),
                    timeout=DELIVERY_TIMEOUT, what="the event of a PUT after the restart", bucket=bucket)
        print(f"durability: {len(phase_a)} changes with the receiver down, {len(acked_b)} acked + "
              f"{len(in_flight)} in flight at kill -9, {len(recs)} events received")
    finally:
        server.stop()
        rx.stop()


# --------------------------------------------------------------------------
# queue limit: a full outbox refuses changes (503 SlowDown) instead of dropping events
# --------------------------------------------------------------------------


def test_queue_limit_slowdown(tmp_path_factory):
    base = tmp_path_factory.mktemp("notify-limit")
    (base / "data").mkdir()
    rx = WebhookReceiver()  # down
    config = webhook_config(base / "config.json", [
        {"id": "tiny", "endpoint": rx.url, "authToken": "t", "queueLimit": 3}])
    server = sup.ServerProcess(sup.TARGET, base / "data", base, config=config)
    server.start()
    problems: list[str] = []
    try:
        s3 = sup.make_client(server.endpoint)
        b = "cf-nt-limit-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=b)
        put_conf(s3, b, queue_conf("watched", shoebox_arn("tiny"), ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                                   prefix="w/"))
        a1, b1, a2, a3 = b"a one", b"b one", b"a two", b"a three"
        # a multipart upload with its part in place before the queue fills (parts make no events)
        mp_body = b"multipart body, one part"
        mpu = s3.create_multipart_upload(Bucket=b, Key="w/mp")["UploadId"]
        mp_part = s3.upload_part(Bucket=b, Key="w/mp", UploadId=mpu, PartNumber=1, Body=mp_body)["ETag"]
        mp_parts = {"Parts": [{"PartNumber": 1, "ETag": mp_part}]}
        r1 = s3.put_object(Bucket=b, Key="w/a", Body=a1)
        time.sleep(0.5)  # the delivery loop is now busy trying the (down) target
        r2 = s3.put_object(Bucket=b, Key="w/b", Body=b1)
        r3 = s3.put_object(Bucket=b, Key="w/a", Body=a2)
        refused_at = time.monotonic()

        # the 4th change of a watched key is refused, and nothing changes
        e = expect_error(lambda: s3.put_object(Bucket=b, Key="w/a", Body=a3), "SlowDown", 503)
        assert get_or_none(s3, b, "w/a") == a2, "a refused PUT changed the object"
        expect_error(lambda: s3.put_object(Bucket=b, Key="w/new", Body=b"new"), "SlowDown", 503)
        assert get_or_none(s3, b, "w/new") is None, "a refused PUT created the object"
        expect_error(lambda: s3.delete_object(Bucket=b, Key="w/b"), "SlowDown", 503)
        assert get_or_none(s3, b, "w/b") == b1, "a refused DELETE removed the object"
        expect_error(lambda: s3.copy_object(Bucket=b, Key="w/a", CopySource={"Bucket": b, "Key": "w/b"}), "SlowDown", 503)
        assert get_or_none(s3, b, "w/a") == a2, "a refused copy changed the object"
        resp = presigned_post(s3, b, "w/posted", b"posted", "text/plain")
        assert resp.status_code == 503 and b"<Code>SlowDown</Code>" in resp.content, (resp.status_code, resp.text)
        assert get_or_none(s3, b, "w/posted") is None, "a refused POST created the object"
        try:
            resp = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "w/b"}]})
            assert [x["Code"] for x in resp.get("Errors", [])] == ["SlowDown"] and not resp.get("Deleted"), resp
        except ClientError as err:
            assert (sup.error_code(err), sup.http_status(err)) == ("SlowDown", 503), err.response
        assert get_or_none(s3, b, "w/b") == b1, "a refused DeleteObjects removed the object"
        expect_error(lambda: s3.complete_multipart_upload(Bucket=b, Key="w/mp", UploadId=mpu, MultipartUpload=mp_parts),
                     "SlowDown", 503)
        assert get_or_none(s3, b, "w/mp") is None, "a refused CompleteMultipartUpload created the object"
        # changes no rule watches do not add to the queue: they go through
        s3.put_object(Bucket=b, Key="unwatched/x", Body=b"free")
        assert get_or_none(s3, b, "unwatched/x") == b"free"

        limit = metric(server.endpoint, "shoebox_outbox_limit", "tiny")
        assert limit == 3, f"shoebox_outbox_limit{{target=tiny}} = {limit}"
        depth, took = poll(lambda: metric(server.endpoint, "shoebox_outbox_depth", "tiny") == 3,
                           timeout=max(0.5, 5 - (time.monotonic() - refused_at)))
        if not depth:
            problems.append(
                "shoebox_outbox_depth{target=tiny} was "
                f"{metric(server.endpoint, 'shoebox_outbox_depth', 'tiny')} (not 3) for 5 s after the queue was full "
                "(3 events queued, 4th change refused)")
            depth, _ = poll(lambda: metric(server.endpoint, "shoebox_outbox_depth", "tiny") == 3, timeout=30)
            problems[-1] += (f"; it reached 3 only {time.monotonic() - refused_at:.1f} s after the queue was full"
                             if depth else "; it never reached 3")

        # the receiver comes up: the three queued events arrive in order, the queue drains
        rx.start()
        recs = rx.wait_for(lambda rs: len(dedup(rs)) >= 3, timeout=DELIVERY_TIMEOUT, what="the 3 queued events", bucket=b)
        got = [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"].get("eTag"),
                r["responseElements"]["x-amz-request-id"]) for _, r in dedup(recs)]
        assert got == [("ObjectCreated:Put", "w/a", md5_hex(a1), request_id(r1)),
                       ("ObjectCreated:Put", "w/b", md5_hex(b1), request_id(r2)),
                       ("ObjectCreated:Put", "w/a", md5_hex(a2), request_id(r3))], got
        drained, _ = poll(lambda: metric(server.endpoint, "shoebox_outbox_depth", "tiny") == 0, timeout=30, interval=0.2)
        assert drained, ("outbox depth after delivery", metric(server.endpoint, "shoebox_outbox_depth", "tiny"))

        # writes succeed again, and only they produce events (nothing for refused changes)
        r4 = s3.put_object(Bucket=b, Key="w/a", Body=a3)
        assert get_or_none(s3, b, "w/a") == a3
        recs = rx.wait_for(lambda rs: len(dedup(rs)) >= 4, timeout=DELIVERY_TIMEOUT, what="the event after draining",
                           bucket=b)
        # the refused CompleteMultipartUpload can be retried: the upload was kept
        r5 = s3.complete_multipart_upload(Bucket=b, Key="w/mp", UploadId=mpu, MultipartUpload=mp_parts)
        assert get_or_none(s3, b, "w/mp") == mp_body
        mp_etag = hashlib.md5(hashlib.md5(mp_body).digest()).hexdigest() + "-1"
        assert r5["ETag"] == f'"{mp_etag}"'
        rx.wait_for(lambda rs: len(dedup(rs)) >= 5, timeout=DELIVERY_TIMEOUT,
                    what="the event of the retried CompleteMultipartUpload", bucket=b)
        time.sleep(0.5)
        got = [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"].get("eTag"),
                r["responseElements"]["x-amz-request-id"]) for _, r in dedup(rx.records(b))]
        assert got[3:] == [("ObjectCreated:Put", "w/a", md5_hex(a3), request_id(r4)),
                           ("ObjectCreated:CompleteMultipartUpload", "w/mp", mp_etag, request_id(r5))], got
        assert not problems, problems
    finally:
        server.stop()
        rx.stop()
