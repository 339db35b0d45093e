"""A real headless Chromium uploads to the server from a page on another origin.

The page (conformance/browser/upload.html) is served by a Python http.server on its own
loopback port, so its origin http://127.0.0.1:<page port> differs from the S3 endpoint's.
The bucket gets a CORS rule for that origin. Selenium drives the page, which uploads a
PNG made here in three ways real web apps use:

  (a) fetch() PUT to a SigV4 presigned URL (boto3 signature_version='s3v4'),
  (b) fetch() PUT to a SigV2 presigned URL (boto3's default in us-east-1),
  (c) a FormData POST with a POST policy (generate_presigned_post; SigV4 and SigV2),

reads the ETag from each response (needs Access-Control-Expose-Headers: ETag) and then
shows every image in an <img crossorigin="anonymous"> loaded from the S3 origin, drawing
it on a canvas to read pixels back (which needs Access-Control-Allow-Origin on the GET).

Needs Debian's `chromium` and `chromium-driver` and pip's `selenium` (as in .ci/run).
Without them the tests are skipped, except under CI=true where that is a failure.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import os
import shutil
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest

import s3support as sup

pytestmark = pytest.mark.shoebox_only(
    "moto neither answers CORS preflights from the bucket rules nor adds CORS headers to responses")

PAGE_DIR = Path(__file__).resolve().parent / "browser"
CHROMEDRIVER = "/usr/bin/chromedriver"


# --------------------------------------------------------------------------
# a PNG, made here
# --------------------------------------------------------------------------


def make_png(width: int, height: int, fill: tuple[int, int, int], border: tuple[int, int, int]) -> bytes:
    """An RGB PNG: `fill` with a 2-pixel `border`."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            edge = x < 2 or y < 2 or x >= width - 2 or y >= height - 2
            row += bytes(border if edge else fill)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


def etag_of(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


# --------------------------------------------------------------------------
# fixtures: the page server and the browser
# --------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass


@pytest.fixture(scope="module")
def page_origin():
    """http://127.0.0.1:<port> serving conformance/browser/ (a different origin from S3)."""
    handler = functools.partial(_QuietHandler, directory=str(PAGE_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _missing_browser() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "pip package selenium is not installed"
    if not Path(CHROMEDRIVER).exists():
        return f"{CHROMEDRIVER} not found (Debian packages chromium and chromium-driver)"
    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        return "chromium not found (Debian package chromium)"
    return None


@pytest.fixture(scope="module")
def driver():
    why = _missing_browser()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need Chromium: {why}")
        pytest.skip(f"browser tests need Chromium: {why}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1100,800", "--disable-extensions", "--no-first-run"):
        opts.add_argument(arg)
    # Service with an explicit path: Selenium Manager would otherwise try the network
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_script_timeout(30)
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


def open_page(driver, origin: str) -> None:
    driver.get(f"{origin}/upload.html")
    assert driver.execute_script("return typeof putPresigned") == "function"


def call(driver, js_call: str, *args):
    """Runs `js_call` (an expression using args[0..n]) that returns a promise; its value."""
    script = ("const done = arguments[arguments.length - 1];"
              "const args = Array.prototype.slice.call(arguments, 0, arguments.length - 1);"
              f"Promise.resolve({js_call}).then(done, (e) => done({{error: String(e)}}));")
    return driver.execute_async_script(script, *args)


def cors_rule(origin: str, expose: bool = True) -> dict:
    rule = {"AllowedOrigins": [origin], "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
            "AllowedHeaders": ["*"], "MaxAgeSeconds": 60}
    if expose:
        rule["ExposeHeaders"] = ["ETag"]
    return rule


# --------------------------------------------------------------------------
# the end-to-end check
# --------------------------------------------------------------------------


def test_upload_three_ways_and_display(driver, page_origin, s3, bucket, client_factory, endpoint, tmp_path):
    t0 = time.monotonic()
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [cors_rule(page_origin)]})
    v4 = client_factory(signature_version="s3v4")
    v2 = client_factory()
    W, H = 24, 16
    pngs = {
        "put-v4": make_png(W, H, (220, 30, 30), (0, 0, 0)),
        "put-v2": make_png(W, H, (30, 160, 40), (0, 0, 0)),
        "post-v4": make_png(W, H, (30, 60, 220), (0, 0, 0)),
        "post-v2": make_png(W, H, (240, 200, 20), (0, 0, 0)),
    }
    colors = {"put-v4": (220, 30, 30), "put-v2": (30, 160, 40), "post-v4": (30, 60, 220), "post-v2": (240, 200, 20)}
    b64 = {k: base64.b64encode(v).decode() for k, v in pngs.items()}
    keys = {"put-v4": "browser/put-v4.png", "put-v2": "browser/put v2.png",
            "post-v4": "browser/post-v4.png", "post-v2": "browser/post-v2.png"}

    open_page(driver, page_origin)
    results = {}

    # (a) SigV4 presigned PUT; Content-Type and x-amz-acl are signed headers the page sends
    url = v4.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": keys["put-v4"], "ContentType": "image/png", "ACL": "public-read"})
    assert "X-Amz-Signature=" in url
    results["put-v4"] = call(driver, "putPresigned(args[0], args[1], args[2])", url, b64["put-v4"],
                             {"Content-Type": "image/png", "x-amz-acl": "public-read"})

    # (b) SigV2 presigned PUT (AWSAccessKeyId/Signature/Expires), Content-Type signed
    url = v2.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": keys["put-v2"], "ContentType": "image/png"})
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    results["put-v2"] = call(driver, "putPresigned(args[0], args[1], args[2])", url, b64["put-v2"],
                             {"Content-Type": "image/png"})

    # (c) FormData POST with a policy: acl public-read, key with ${filename}
    for sigver, client, status in (("v4", v4, "201"), ("v2", v2, "204")):
        name = f"post-{sigver}"
        post = client.generate_presigned_post(
            bucket, "browser/${filename}",
            Fields={"acl": "public-read", "Content-Type": "image/png", "success_action_status": status},
            Conditions=[{"acl": "public-read"}, ["starts-with", "$Content-Type", "image/"],
                        {"success_action_status": status}, ["content-length-range", 1, 1 << 20]],
            ExpiresIn=300)
        assert ("x-amz-signature" in post["fields"]) == (sigver == "v4")
        results[name] = call(driver, "postForm(args[0], args[1], args[2], args[3], args[4])",
                             post["url"], list(post["fields"].items()), b64[name], f"{name}.png", "image/png")

    for name, res in results.items():
        assert not res.get("error"), (name, res)
    assert results["put-v4"]["status"] == 200, results["put-v4"]
    assert results["put-v2"]["status"] == 200, results["put-v2"]
    assert results["post-v4"]["status"] == 201, results["post-v4"]
    assert results["post-v2"]["status"] == 204, results["post-v2"]
    # the page could read each ETag (Access-Control-Expose-Headers: ETag), and it is the MD5
    for name, res in results.items():
        assert res["etag"] == etag_of(pngs[name]), (name, res)
    xml = results["post-v4"]["xml"]
    assert (xml["Bucket"], xml["Key"], xml["ETag"]) == (bucket, keys["post-v4"], etag_of(pngs["post-v4"]))

    # what the server stored
    for name, key in keys.items():
        obj = s3.get_object(Bucket=bucket, Key=key)
        assert obj["Body"].read() == pngs[name], name
        assert obj["ContentType"] == "image/png", name
    # the SigV2 PUT could not carry an ACL: make that object public now
    s3.put_object_acl(Bucket=bucket, Key=keys["put-v2"], ACL="public-read")

    # every image shown from the S3 origin, pixels readable (CORS on GET)
    shown = {}
    for name, key in keys.items():
        src = f"{endpoint}/{bucket}/{sup.quote_key(key)}"
        shown[name] = call(driver, "showImage(args[0], args[1])", src, name)
    for name, img in shown.items():
        assert not img.get("error"), (name, img)
        assert (img["naturalWidth"], img["naturalHeight"]) == (W, H), (name, img)
        assert not img.get("canvasError"), (name, img)
        assert img["center"] == [*colors[name], 255], (name, img)
        assert img["corner"] == [0, 0, 0, 255], (name, img)

    shot = tmp_path / "browser-uploads.png"
    assert driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")
    assert time.monotonic() - t0 < 60


# --------------------------------------------------------------------------
# what the page sees when things go wrong
# --------------------------------------------------------------------------


def test_page_reads_error_responses(driver, page_origin, s3, bucket, client_factory):
    # Access-Control-Allow-Origin on error responses: fetch() resolves with the status
    # and the page can read the S3 error document instead of a bare network error.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [cors_rule(page_origin)]})
    v4 = client_factory(signature_version="s3v4")
    url = v4.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "x.png", "ContentType": "image/png"})
    open_page(driver, page_origin)
    data = base64.b64encode(make_png(4, 4, (1, 2, 3), (4, 5, 6))).decode()
    # a Content-Type other than the signed one
    res = call(driver, "putPresigned(args[0], args[1], args[2])", url, data, {"Content-Type": "image/gif"})
    assert not res.get("error"), res
    assert res["status"] == 403, res
    assert "<Code>SignatureDoesNotMatch</Code>" in res["body"], res
    # a tampered signature
    bad = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    res = call(driver, "putPresigned(args[0], args[1], args[2])", bad, data, {"Content-Type": "image/png"})
    assert res.get("status") == 403, res
    assert "<Code>SignatureDoesNotMatch</Code>" in res["body"], res
    # a form upload that breaks its policy (file too large)
    post = v4.generate_presigned_post(bucket, "small.png", Conditions=[["content-length-range", 1, 10]],
                                      ExpiresIn=300)
    res = call(driver, "postForm(args[0], args[1], args[2], args[3], args[4])",
               post["url"], list(post["fields"].items()), data, "small.png", "image/png")
    assert res.get("status") == 400, res
    assert "<Code>EntityTooLarge</Code>" in res["body"], res
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_other_origin_is_blocked(driver, page_origin, s3, bucket, client_factory):
    # The same page opened as http://localhost:<port> is another origin, which the rule
    # does not allow: the preflight fails, fetch() rejects, and the PUT is never sent.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [cors_rule(page_origin)]})
    other = page_origin.replace("127.0.0.1", "localhost")
    open_page(driver, other)
    v4 = client_factory(signature_version="s3v4")
    url = v4.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "blocked.png", "ContentType": "image/png"})
    data = base64.b64encode(make_png(4, 4, (9, 9, 9), (0, 0, 0))).decode()
    res = call(driver, "putPresigned(args[0], args[1], args[2])", url, data, {"Content-Type": "image/png"})
    assert "error" in res and "Failed to fetch" in res["error"], res
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_etag_hidden_without_expose_headers(driver, page_origin, s3, bucket, client_factory):
    # Without ExposeHeaders the upload works but the page cannot read the ETag header
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [cors_rule(page_origin, expose=False)]})
    open_page(driver, page_origin)
    png = make_png(6, 6, (50, 50, 50), (0, 0, 0))
    url = client_factory(signature_version="s3v4").generate_presigned_url(
        "put_object", ExpiresIn=300, Params={"Bucket": bucket, "Key": "hidden.png", "ContentType": "image/png"})
    res = call(driver, "putPresigned(args[0], args[1], args[2])", url, base64.b64encode(png).decode(),
               {"Content-Type": "image/png"})
    assert res.get("status") == 200, res
    assert res["etag"] is None, res
    assert s3.get_object(Bucket=bucket, Key="hidden.png")["Body"].read() == png


def test_private_image_does_not_load(driver, page_origin, s3, bucket, endpoint, client_factory):
    # A private object is 403 to the page's anonymous <img>; a presigned GET URL loads it.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [cors_rule(page_origin)]})
    png = make_png(10, 8, (120, 0, 120), (0, 0, 0))
    s3.put_object(Bucket=bucket, Key="private.png", Body=png, ContentType="image/png")
    open_page(driver, page_origin)
    res = call(driver, "showImage(args[0], args[1])", f"{endpoint}/{bucket}/private.png", "private")
    assert res.get("error") == "load failed", res
    for client in (client_factory(signature_version="s3v4"), client_factory()):
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "private.png"},
                                            ExpiresIn=300)
        res = call(driver, "showImage(args[0], args[1])", url, "presigned")
        assert not res.get("error"), res
        assert (res["naturalWidth"], res["naturalHeight"]) == (10, 8)
        assert res["center"] == [120, 0, 120, 255], res
