"""The gallery page in a real browser: `shoebox up` + headless Chromium (Selenium).

Starts `shoebox up` (S3 server and index service together; it creates the `gallery` bucket
with CORS for the page's origin and event notifications to the index), opens the page,
creates a gallery by typing its name, uploads three generated PNGs with photographer and
event through the page (POST /api/uploads, then a presigned cross-origin XHR PUT), waits
for the grid to show them as loaded thumbnails, and checks the stored bytes and metadata
with boto3. Then it adds 30 images through the API, reloads (the gallery is kept in the
address, /g/<gallery>) and scrolls: every image must appear exactly once, newest first, with the first
page only (24) before scrolling. A separate API-level test checks that a cursor is stable
when images are added between pages (docs/index-api.md).

Needs Debian `chromium` + `chromium-driver` and pip `selenium`; skipped when they are missing.
Run from the repo root:  python -m pytest conformance/test_gallery_page.py -q -s
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import tempfile
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import requests

import s3support as sup

pytestmark = pytest.mark.shoebox_only("needs `shoebox up` (S3 server + gallery index service)")

CHROMEDRIVER = "/usr/bin/chromedriver"
PHOTOGRAPHER = "Ann Lee"
EVENT = "Summer fair"
PAGE_SIZE = 24


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def make_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid 8-bit RGB PNG: a colour with a horizontal gradient, so every file differs."""
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type None
        for x in range(width):
            row += bytes(((rgb[0] + x) % 256, (rgb[1] + y) % 256, rgb[2]))
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Polls predicate() until it returns a truthy value; fails with `what` after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")
        time.sleep(interval)


class Stack:
    """`shoebox up` on free ports with a fresh data directory."""

    def __init__(self, base: Path):
        self.base = base
        self.data = base / "data"
        self.data.mkdir()
        self.s3_port = sup.free_port()
        self.index_port = sup.free_port()
        self.log_path = base / "shoebox-up.log"
        self.proc: subprocess.Popen | None = None
        self.page_url = f"http://127.0.0.1:{self.index_port}/"
        self.access_key = sup.ROOT_ACCESS_KEY
        self.secret_key = sup.ROOT_SECRET_KEY

    @property
    def index(self) -> str:
        return f"http://127.0.0.1:{self.index_port}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def log(self) -> str:
        try:
            return self.log_path.read_bytes()[-6000:].decode("utf-8", "replace")
        except OSError:
            return "<no log>"

    def start(self, timeout: float = 30.0) -> None:
        binary = sup.shoebox_binary()
        if not binary.exists():
            pytest.fail(f"shoebox binary not found at {binary}; build it or set SHOEBOX_BIN")
        env = dict(os.environ)
        env["SHOEBOX_ACCESS_KEY"] = self.access_key
        env["SHOEBOX_SECRET_KEY"] = self.secret_key
        cmd = [str(binary), "up", "--data", str(self.data),
               "--address", f"127.0.0.1:{self.s3_port}",
               "--index-address", f"127.0.0.1:{self.index_port}"]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"`shoebox up` exited with {self.proc.returncode}; log:\n{self.log()}")
            try:
                r = requests.get(self.index + "/api/galleries", timeout=1)
                if r.status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"index service did not answer GET /api/galleries within {timeout}s; "
                            f"log:\n{self.log()}")
            time.sleep(0.1)
        self._read_banner()

    def _read_banner(self) -> None:
        """Page URL (the origin CORS was set up for) and credentials as `shoebox up` prints them."""
        self._log.flush()
        text = self.log()
        # The page URL: scheme://host:<index port>/ (not /events or /api/..., which may be printed too).
        m = re.search(r"https?://[\w.\-\[\]]+:%d/?(?=[\s\"'<>,;)]|$)" % self.index_port, text, re.M)
        if m:
            url = m.group(0)
            self.page_url = url if url.endswith("/") else url + "/"
        self.printed_keys = []
        ak = re.search(r"(?i)access[ _-]*key(?:[ _-]*id)?\W{0,3}[:=]\s*\"?([A-Za-z0-9][A-Za-z0-9/+_.\-]*)", text)
        sk = re.search(r"(?i)secret(?:[ _-]*(?:access[ _-]*)?key)?\W{0,3}[:=]\s*\"?([A-Za-z0-9][A-Za-z0-9/+_.\-]*)", text)
        if ak and sk:
            self.printed_keys.append((ak.group(1), sk.group(1)))

    def s3_client(self, endpoint: str, bucket: str):
        """boto3 client with the credentials `shoebox up` uses (ours from the env, else printed)."""
        errors = []
        for ak, sk in [(self.access_key, self.secret_key)] + self.printed_keys:
            client = sup.make_client(endpoint, ak, sk)
            try:
                client.head_bucket(Bucket=bucket)
                return client
            except Exception as e:  # noqa: BLE001 - try the next pair
                errors.append(f"{ak}: {e}")
        pytest.fail(f"no working credentials for bucket {bucket} at {endpoint}: {errors}; "
                    f"log:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        sup.terminate(self.proc)
        self.proc = None
        self._log.close()

    # ---- index API, as a script would use it

    def images(self, gallery: str, limit: int = 100, cursor: str | None = None) -> dict:
        params = {"limit": str(limit)}
        if cursor:
            params["cursor"] = cursor
        r = requests.get(f"{self.index}/api/galleries/{gallery}/images", params=params, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def all_images(self, gallery: str) -> list[dict]:
        out, cursor = [], None
        while True:
            body = self.images(gallery, 100, cursor)
            out += body["images"]
            cursor = body.get("nextCursor")
            if not cursor:
                return out

    def upload(self, gallery: str, filename: str, data: bytes, metadata: dict | None = None) -> str:
        req = {"gallery": gallery, "filename": filename, "contentType": "image/png"}
        if metadata:
            req["metadata"] = metadata
        r = requests.post(f"{self.index}/api/uploads", json=req, timeout=10)
        assert r.status_code == 200, r.text
        ticket = r.json()
        put = requests.put(ticket["put"]["url"], data=data, headers=ticket["put"]["headers"], timeout=10)
        assert put.status_code == 200, f"presigned PUT of {ticket['key']}: {put.status_code} {put.text}"
        return ticket["key"]

    def wait_indexed(self, gallery: str, keys, timeout: float = 15.0) -> list[dict]:
        keys = set(keys)

        def ready():
            images = self.all_images(gallery)
            return images if keys <= {i["key"] for i in images} else None

        return wait_for(ready, timeout, f"the index to list {len(keys)} uploaded keys in {gallery}",
                        interval=0.2)


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("shoebox-up"))
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    from selenium.webdriver.chrome.service import Service

    if not Path(CHROMEDRIVER).exists():
        pytest.skip("needs Debian chromium + chromium-driver (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,768"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


# --------------------------------------------------------------------------
# page helpers
# --------------------------------------------------------------------------

TILES_JS = """
return Array.from(document.querySelectorAll('#grid .tile')).map(function (t) {
  var img = t.querySelector('img');
  function text(sel) { var n = t.querySelector(sel); return n ? n.textContent : null; }
  return {key: t.getAttribute('data-key'), src: img ? img.getAttribute('src') : null,
          loading: img ? img.getAttribute('loading') : null,
          width: img ? img.naturalWidth : 0, complete: img ? img.complete : false,
          name: text('.name'), photographer: text('.photographer'), event: text('.event')};
});
"""

STATUS_JS = """
return Array.from(document.querySelectorAll('.upload-status')).map(function (s) {
  return {key: s.getAttribute('data-key'), state: s.getAttribute('data-state'), text: s.textContent};
});
"""


def tiles(driver) -> list[dict]:
    return driver.execute_script(TILES_JS)


def statuses(driver) -> list[dict]:
    return driver.execute_script(STATUS_JS)


def wait_uploads(driver, count: int, state: str, timeout: float = 20.0) -> list[dict]:
    def check():
        st = statuses(driver)
        if state != "error":
            errors = [s for s in st if s["state"] == "error"]
            if errors:
                pytest.fail(f"upload failed in the page: {errors}")
        return st if len(st) == count and all(s["state"] == state for s in st) else None

    return wait_for(check, timeout, f"{count} .upload-status[data-state={state}]")


def fill(driver, css: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.CSS_SELECTOR, css)
    field.clear()
    if text:
        field.send_keys(text)


def click(driver, css: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, css).click()


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------


def test_gallery_page_upload_grid_and_scroll_paging(stack, browser, tmp_path):
    from selenium.webdriver.common.by import By

    driver = browser
    gallery = "fair-" + uuid.uuid4().hex[:8]

    # The page and its assets: same origin, the right types, nothing from the network.
    for path, ctype in (("/", "text/html"), ("/app.js", "javascript"), ("/style.css", "text/css")):
        r = requests.get(stack.index + path, timeout=10)
        assert r.status_code == 200 and ctype in r.headers.get("Content-Type", ""), (path, r.status_code, r.headers)

    driver.get(stack.page_url)
    wait_for(lambda: driver.execute_script(
        "var s = document.getElementById('gallery-select');"
        "return s && s.options.length >= 1 && !/Loading/.test(s.options[0].text);"),
        10, "the gallery list to load")

    # Client-side validation: an invalid name is refused before any request.
    fill(driver, "#gallery-name", "Bad_Name!")
    click(driver, "#upload")
    err = wait_for(lambda: driver.execute_script(
        "var e = document.getElementById('gallery-error'); return e && !e.hidden && e.textContent;"),
        5, "the client-side gallery name error")
    assert "gallery name" in err.lower() or "valid" in err.lower(), err
    assert statuses(driver) == []
    assert driver.find_element(By.CSS_SELECTOR, "#gallery-name").get_attribute("aria-invalid") == "true"

    # Three PNGs of different sizes and colours, one with a name that needs encoding everywhere.
    specs = [("red-square.png", 40, 40, (220, 30, 30)),
             ("green-wide.png", 96, 48, (20, 180, 60)),
             ("blue tall+\u00e9t\u00e9.png", 30, 70, (30, 60, 220))]  # space, plus, non-ASCII
    files: dict[str, bytes] = {}
    paths = []
    for name, w, h, rgb in specs:
        data = make_png(w, h, rgb)
        files[name] = data
        p = tmp_path / name
        p.write_bytes(data)
        paths.append(str(p))

    fill(driver, "#gallery-name", gallery)
    fill(driver, "#photographer", PHOTOGRAPHER)
    fill(driver, "#event", EVENT)
    driver.find_element(By.CSS_SELECTOR, "#files").send_keys("\n".join(paths))
    click(driver, "#upload")

    done = wait_uploads(driver, 3, "done")
    assert {s["key"] for s in done} == {f"{gallery}/{n}" for n in files}, done
    assert driver.execute_script("return location.pathname + location.hash") == "/g/" + gallery

    def grid_ready():
        t = tiles(driver)
        if len(t) != 3 or not all(x["complete"] and x["width"] > 0 for x in t):
            return None
        return t

    shown = wait_for(grid_ready, 15, "three loaded thumbnails in #grid")
    assert {t["key"] for t in shown} == {f"{gallery}/{n}" for n in files}, shown
    for t in shown:
        assert t["loading"] == "lazy", t
        assert t["name"] == t["key"].split("/", 1)[1], t
        assert t["photographer"] == PHOTOGRAPHER, t
        assert t["event"] == EVENT, t
    # Newest first, in the API's order.
    api_order = [i["key"] for i in stack.images(gallery)["images"]]
    assert [t["key"] for t in shown] == api_order
    widths = {t["key"].split("/", 1)[1]: t["width"] for t in shown}
    assert widths == {n: w for n, w, _, _ in specs}, widths
    shot = Path(tempfile.gettempdir()) / f"shoebox-gallery-{gallery}.png"
    driver.execute_script("document.getElementById('photos-heading').scrollIntoView();")
    driver.save_screenshot(str(shot))
    print(f"\nscreenshot: {shot}")

    # The chooser lists the new gallery with its count.
    option_js = ("var g = arguments[0];"
                 "var o = Array.from(document.getElementById('gallery-select').options)"
                 ".find(function (o) { return o.value === g; });"
                 "return o ? o.text : null;")
    option_text = wait_for(lambda: driver.execute_script(option_js, gallery), 10,
                           f"{gallery} in #gallery-select")
    assert option_text.endswith("(3 images)"), option_text

    # Stored bytes and metadata, read back with boto3 (bucket and endpoint from the image URL).
    url = urlsplit(shown[0]["src"])
    bucket = url.path.lstrip("/").split("/", 1)[0]
    assert bucket == "gallery", shown[0]["src"]
    s3 = stack.s3_client(f"{url.scheme}://{url.netloc}", bucket)
    for name, data in files.items():
        obj = s3.get_object(Bucket=bucket, Key=f"{gallery}/{name}")
        assert obj["Body"].read() == data, name
        assert obj["ContentType"] == "image/png", obj["ContentType"]
        assert obj["Metadata"] == {"photographer": PHOTOGRAPHER, "event": EVENT}, obj["Metadata"]

    # A name the server refuses (filename over 200 bytes): the page shows the server's message.
    long_name = "x" * 197 + ".png"
    expected = requests.post(f"{stack.index}/api/uploads", timeout=10,
                             json={"gallery": gallery, "filename": long_name, "contentType": "image/png"})
    assert expected.status_code == 400, expected.text
    server_message = expected.json()["error"]["message"]
    assert expected.json()["error"]["code"] == "InvalidFilename", expected.text
    p = tmp_path / long_name
    p.write_bytes(make_png(8, 8, (1, 2, 3)))
    driver.find_element(By.CSS_SELECTOR, "#files").send_keys(str(p))
    click(driver, "#upload")
    failed = wait_uploads(driver, 1, "error", timeout=10)
    assert server_message in failed[0]["text"], (failed, server_message)

    # Scroll paging: 30 more images through the API, reload (the address keeps the gallery).
    more = {}
    for i in range(30):
        name = f"batch-{i:02d}.png"
        data = make_png(6 + i % 5, 6 + i % 7, (i * 8 % 256, 255 - i * 8 % 256, 90))
        more[stack.upload(gallery, name, data)] = data
    all_keys = set(more) | {f"{gallery}/{n}" for n in files}
    stack.wait_indexed(gallery, all_keys)
    # Tiles are laid out from the derivatives' sizes (square while processing): wait for
    # them so the first page's height, and so what the page loads before any scroll, is stable.
    wait_for(lambda: all(i["status"] != "processing" for i in stack.all_images(gallery)) or None,
             90, "the thumbnails of the batch")
    driver.refresh()
    assert driver.execute_script("return location.pathname + location.hash") == "/g/" + gallery
    first = wait_for(lambda: (lambda t: t if len(t) >= PAGE_SIZE else None)(tiles(driver)),
                     10, "the first page of tiles after reload")
    time.sleep(0.5)
    first = tiles(driver)
    assert len(first) == PAGE_SIZE, f"expected only the first page before scrolling, got {len(first)} tiles"
    assert driver.find_element(By.CSS_SELECTOR, "#gallery-name").get_attribute("value") == gallery

    # Images added now are newer than the page's cursor: the next pages must not shift.
    later = {}
    for i in range(2):
        name = f"later-{i}.png"
        data = make_png(5, 5 + i, (10, 20, 30 + i))
        later[stack.upload(gallery, name, data)] = data
    expected_order = [i["key"] for i in stack.wait_indexed(gallery, later) if i["key"] not in later]
    assert set(expected_order) == all_keys

    def scrolled_all():
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
        t = tiles(driver)
        return t if len(t) >= len(all_keys) else None

    wait_for(scrolled_all, 15, f"{len(all_keys)} tiles after scrolling", interval=0.25)
    time.sleep(0.5)
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
    time.sleep(0.3)
    keys = [t["key"] for t in tiles(driver)]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    assert not dupes, f"tiles shown more than once: {dupes}"
    assert set(keys) == all_keys, (sorted(set(keys) ^ all_keys))
    assert keys == expected_order, "grid order differs from the API's newest-first order"

    # A reload shows the newer images first.
    driver.refresh()
    top = wait_for(lambda: (lambda t: t if len(t) >= 2 else None)(tiles(driver)), 10, "tiles after reload")
    assert {t["key"] for t in top[:2]} == set(later), top[:2]

    # The page used only its own origin and the S3 origin; no JS errors.
    hosts = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    allowed = {urlsplit(stack.page_url).netloc, url.netloc}
    foreign = [h for h in hosts if urlsplit(h).scheme in ("http", "https") and urlsplit(h).netloc not in allowed]
    assert not foreign, foreign
    logs = driver.get_log("browser")
    severe = [e for e in logs if e.get("level") == "SEVERE"
              and "Failed to load resource" not in e.get("message", "")]
    assert not severe, severe


def test_cursor_stable_under_inserts(stack):
    """docs/index-api.md: new images appear before a cursor, never shift a later page."""
    gallery = "cursor-" + uuid.uuid4().hex[:8]
    old = [stack.upload(gallery, f"old-{i}.png", make_png(4, 4 + i, (i, 2, 3))) for i in range(5)]
    stack.wait_indexed(gallery, old)
    page1 = stack.images(gallery, limit=2)
    assert len(page1["images"]) == 2 and page1["nextCursor"], page1
    new = [stack.upload(gallery, f"new-{i}.png", make_png(4, 4 + i, (9, 9, i))) for i in range(3)]
    stack.wait_indexed(gallery, new)
    seen = [i["key"] for i in page1["images"]]
    cursor = page1["nextCursor"]
    while cursor:
        body = stack.images(gallery, limit=2, cursor=cursor)
        seen += [i["key"] for i in body["images"]]
        cursor = body.get("nextCursor")
    assert len(seen) == len(set(seen)), f"duplicates across pages: {seen}"
    assert sorted(seen) == sorted(old), seen
    # Bad cursors and limits are refused with the documented error.
    for params in ({"limit": "0"}, {"limit": "101"}, {"cursor": "not-a-cursor!"}):
        r = requests.get(f"{stack.index}/api/galleries/{gallery}/images", params=params, timeout=10)
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidArgument", (params, r.text)


def test_up_prints_page_url_and_credentials(stack):
    """`shoebox up` tells the operator where the page is and which keys to use, while it runs
    (output redirected to a file, as under systemd or a CI log)."""
    text = stack.log()
    assert f"http://127.0.0.1:{stack.index_port}/" in text, f"no page URL in the output so far:\n{text}"
    assert stack.access_key in text and stack.secret_key in text, f"no credentials in the output so far:\n{text}"
