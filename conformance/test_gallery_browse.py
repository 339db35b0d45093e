"""Browsing the gallery page in a real browser: addresses, lightbox, justified grid (issue 15).

`shoebox up` + headless Chromium (Selenium), as in test_gallery_page.py (whose helpers and
fixtures this reuses). Checks that `/g/<gallery>`, `/?gallery=<gallery>` and the old
`/#gallery=<gallery>` open a gallery directly (the last two rewritten to `/g/<gallery>`), that
`/g/<gallery>/<image name>` opens that image's lightbox, keyboard navigation in the lightbox
(Right, Left, Escape) with the address following, back/forward, and that the grid is laid out
as justified rows (no overlaps, equal heights per row, full rows filling the width, each tile
keeping its image's aspect ratio), at two window widths, with a screenshot of each; the
statuses `processing` (re-polled) and `unprocessable` (reason shown); the ThumbHash decoder
against reference pixels; and, once the index sends thumbnails, an upload through the page
showing processing, placeholder, thumbnail, then the preview in the lightbox.

Run from the repo root:  python -m pytest conformance/test_gallery_browse.py -q -s
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from test_gallery_page import browser, make_png, stack, wait_for  # noqa: F401 - fixtures

pytestmark = pytest.mark.shoebox_only("needs `shoebox up` (S3 server + gallery index service)")

# (name, width, height): names with a space, a plus and non-ASCII letters; varied aspects.
SPECS = [("sunrise wide.png", 96, 48), ("tall+one.png", 30, 60), ("caf\u00e9 square.png", 50, 50),
         ("pano.png", 120, 40), ("portrait.png", 40, 56), ("land.png", 64, 48),
         ("\u65e5\u672c.png", 45, 30), ("b.png", 36, 48), ("c.png", 80, 45), ("d.png", 48, 64),
         ("e.png", 70, 50), ("f.png", 50, 75), ("g.png", 66, 44)]

LIGHTBOX_JS = """
var d = document.getElementById('lightbox');
return {open: d.open, key: d.getAttribute('data-key'), path: location.pathname,
        src: document.getElementById('lightbox-image').currentSrc,
        active: document.activeElement ? document.activeElement.id : null};
"""

ROW_HEIGHT = 220   # grid.js's target row height at these window widths

RECTS_JS = """
var grid = document.getElementById('grid').getBoundingClientRect();
return {grid: {left: grid.left, right: grid.right, width: grid.width},
        tiles: Array.from(document.querySelectorAll('#grid .tile')).map(function (t) {
          var r = t.getBoundingClientRect();
          var img = t.querySelector('img');
          return {key: t.getAttribute('data-key'), phase: t.getAttribute('data-phase'),
                  left: r.left, top: r.top + window.scrollY, right: r.right, bottom: r.bottom + window.scrollY,
                  width: r.width, height: r.height,
                  natural: img ? [img.naturalWidth, img.naturalHeight] : null};
        })};
"""


@pytest.fixture(scope="module")
def gallery(stack):
    """A gallery of len(SPECS) generated PNGs; returns (name, keys newest first)."""
    name = "browse-" + uuid.uuid4().hex[:8]
    keys = [stack.upload(name, filename, make_png(w, h, (20 * i % 256, 200 - 10 * i, 90)))
            for i, (filename, w, h) in enumerate(SPECS)]
    images = stack.wait_indexed(name, keys)
    return name, [i["key"] for i in images]


def image_name(key: str) -> str:
    return key.split("/", 1)[1]


def tile_keys(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#grid .tile')).map(function (t) { return t.dataset.key; });")


def wait_tiles(driver, count: int) -> list[str]:
    return wait_for(lambda: (lambda k: k if len(k) == count else None)(tile_keys(driver)),
                    15, f"{count} tiles in #grid")


def lightbox(driver) -> dict:
    return driver.execute_script(LIGHTBOX_JS)


def wait_lightbox(driver, key: str | None, path: str) -> dict:
    def check():
        lb = lightbox(driver)
        ok = (lb["open"] and lb["key"] == key) if key else not lb["open"]
        return lb if ok and unquote(lb["path"]) == path else None

    return wait_for(check, 10, f"the lightbox {'showing ' + key if key else 'closed'} at {path}")


def press(driver, key) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def test_addresses_open_the_gallery_directly(stack, browser, gallery):
    driver = browser
    name, keys = gallery
    for address in (f"/g/{name}", f"/?gallery={name}", f"/#gallery={name}"):
        driver.get(stack.index + address)
        assert wait_tiles(driver, len(keys)) == keys, address
        assert driver.execute_script("return document.getElementById('gallery-name').value") == name
        assert driver.execute_script("return location.pathname + location.search + location.hash") == f"/g/{name}", address
        assert not lightbox(driver)["open"], address
        assert name in driver.execute_script("return document.getElementById('photos-heading').textContent")

    # An image's address opens the gallery with that image's lightbox (name percent-encoded).
    for key in (keys[1], keys[-1], next(k for k in keys if "\u00e9" in k)):
        driver.get(stack.index + f"/g/{name}/" + quote(image_name(key), safe=""))
        lb = wait_lightbox(driver, key, f"/g/{name}/{image_name(key)}")
        assert lb["active"] == "lightbox-close", lb   # focus moved into the dialog

    # An invalid gallery name is a 404; an unknown image name falls back to the gallery.
    assert __import__("requests").get(stack.index + "/g/Not_Valid", timeout=10).status_code == 404
    driver.get(stack.index + f"/g/{name}/no-such-image.png")
    wait_tiles(driver, len(keys))
    wait_lightbox(driver, None, f"/g/{name}")
    status = driver.execute_script("return document.getElementById('grid-status').textContent")
    assert "no-such-image.png" in status, status


def test_lightbox_keyboard_and_history(stack, browser, gallery):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    name, keys = gallery
    driver.get(stack.index + f"/g/{name}")
    wait_tiles(driver, len(keys))

    def path(i):
        return f"/g/{name}/{image_name(keys[i])}"

    driver.find_element(By.CSS_SELECTOR, f"#grid .tile:nth-child(2) a.thumb").click()
    lb = wait_lightbox(driver, keys[1], path(1))
    assert lb["src"], lb
    press(driver, Keys.ARROW_RIGHT)
    wait_lightbox(driver, keys[2], path(2))
    press(driver, Keys.ARROW_RIGHT)
    wait_lightbox(driver, keys[3], path(3))
    press(driver, Keys.ARROW_LEFT)
    wait_lightbox(driver, keys[2], path(2))
    driver.find_element(By.ID, "lightbox-prev").click()
    wait_lightbox(driver, keys[1], path(1))
    driver.find_element(By.ID, "lightbox-prev").click()
    lb = wait_lightbox(driver, keys[0], path(0))
    assert driver.find_element(By.ID, "lightbox-prev").get_attribute("disabled") is not None, lb
    press(driver, Keys.ARROW_LEFT)   # at the first image: stays
    wait_lightbox(driver, keys[0], path(0))
    press(driver, Keys.ESCAPE)
    wait_lightbox(driver, None, f"/g/{name}")
    focused = driver.execute_script("var a = document.activeElement; var t = a && a.closest('.tile');"
                                    "return t ? t.dataset.key : null;")
    assert focused == keys[0], "focus returns to the shown image's tile"

    # Back closes a lightbox opened from the grid, forward opens it again.
    driver.find_element(By.CSS_SELECTOR, "#grid .tile:nth-child(3) a.thumb").click()
    wait_lightbox(driver, keys[2], path(2))
    press(driver, Keys.ARROW_RIGHT)
    wait_lightbox(driver, keys[3], path(3))
    driver.back()
    wait_lightbox(driver, None, f"/g/{name}")
    driver.forward()
    wait_lightbox(driver, keys[3], path(3))
    driver.find_element(By.ID, "lightbox-close").click()
    wait_lightbox(driver, None, f"/g/{name}")


def check_justified(driver, expected: int) -> dict:
    """The grid's tiles: no overlaps, rows of equal height, full rows filling the width, aspect kept."""
    def all_loaded():
        r = driver.execute_script(RECTS_JS)
        return r if len(r["tiles"]) == expected and all(t["phase"] == "loaded" for t in r["tiles"]) else None

    rects = wait_for(all_loaded, 20, f"{expected} loaded tiles")
    tiles, grid = rects["tiles"], rects["grid"]
    for i, a in enumerate(tiles):
        assert a["width"] > 10 and a["height"] > 10, a
        assert a["left"] >= grid["left"] - 0.5 and a["right"] <= grid["right"] + 0.5, (a, grid)
        for b in tiles[i + 1:]:
            overlap_x = min(a["right"], b["right"]) - max(a["left"], b["left"])
            overlap_y = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, f"tiles overlap: {a} {b}"
    rows: list[list[dict]] = []
    for t in tiles:   # in DOM order: a new row starts lower down
        if rows and abs(rows[-1][0]["top"] - t["top"]) < 1:
            rows[-1].append(t)
        else:
            rows.append([t])
    assert len(rows) >= 2, f"expected several rows: {rows}"
    for n, row in enumerate(rows):
        heights = {round(t["height"]) for t in row}
        assert max(heights) - min(heights) <= 1, f"row {n} has unequal heights: {row}"
        row.sort(key=lambda t: t["left"])
        if n < len(rows) - 1:
            assert abs(row[0]["left"] - grid["left"]) <= 1 and abs(row[-1]["right"] - grid["right"]) <= 1, \
                f"row {n} does not fill the width {grid}: {row}"
        else:
            assert row[-1]["right"] <= grid["right"] + 1
            assert row[0]["height"] <= ROW_HEIGHT + 1, f"the last row is stretched: {row}"
        for t in row[:-1]:   # the last tile of a row absorbs rounding
            w, h = t["natural"]
            assert abs(t["width"] / t["height"] - w / h) < 0.03, f"aspect not kept: {t}"
    return rects


def test_grid_is_justified_at_two_widths(stack, browser, gallery):
    driver = browser
    name, keys = gallery
    try:
        for width in (1024, 700):
            driver.set_window_size(width, 768)
            driver.get(stack.index + f"/g/{name}")
            wait_tiles(driver, len(keys))
            check_justified(driver, len(keys))
            shot = Path(tempfile.gettempdir()) / f"shoebox-grid-{name}-{width}.png"
            driver.execute_script("document.getElementById('photos-heading').scrollIntoView();")
            driver.save_screenshot(str(shot))
            print(f"\nscreenshot: {shot}")
        # A resize without reload is laid out again.
        driver.set_window_size(1024, 768)
        time.sleep(0.5)
        check_justified(driver, len(keys))
    finally:
        driver.set_window_size(1024, 768)


RECORDER_JS = """
window.__phases = [];
function note(t) {
  if (t.classList && t.classList.contains('tile')) {
    window.__phases.push({key: t.dataset.key, phase: t.dataset.phase, placeholder: t.dataset.placeholder || null,
                          background: t.querySelector('.thumb').style.backgroundImage.slice(0, 30)});
  }
}
new MutationObserver(function (records) {
  records.forEach(function (r) {
    if (r.type === 'attributes') note(r.target);
    r.addedNodes.forEach(note);
  });
}).observe(document.getElementById('grid'), {childList: true, subtree: true, attributes: true, attributeFilter: ['data-phase']});
"""


def test_upload_shows_placeholder_then_thumbnail_then_preview(stack, browser, tmp_path):
    """Through the page: an upload shows as processing, then the ThumbHash placeholder, then the
    thumbnail (srcset picks it for a tile narrower than it); the lightbox shows the preview."""
    from selenium.webdriver.common.by import By

    probe = "probe-" + uuid.uuid4().hex[:8]
    key = stack.upload(probe, "probe.png", make_png(8, 8, (1, 2, 3)))
    if "thumbnailUrl" not in stack.wait_indexed(probe, [key])[0]:
        pytest.skip("the index API has no thumbnailUrl yet (issue 15 backend)")

    driver = browser
    name = "thumbs-" + uuid.uuid4().hex[:8]
    driver.get(stack.index + f"/g/{name}")
    wait_for(lambda: "No photos" in driver.execute_script(
        "return document.getElementById('grid-status').textContent"), 10, "the empty gallery")
    driver.execute_script(RECORDER_JS)
    path = tmp_path / "wide photo.png"
    path.write_bytes(make_png(400, 300, (200, 40, 40)))   # thumbnail 360 wide, preview 400
    driver.find_element(By.CSS_SELECTOR, "#files").send_keys(str(path))
    driver.find_element(By.CSS_SELECTOR, "#upload").click()
    key = f"{name}/wide photo.png"

    def loaded():
        t = driver.execute_script(
            "var t = document.querySelector('#grid .tile'); var i = t && t.querySelector('img');"
            "return t && i ? {phase: t.dataset.phase, src: i.currentSrc, w: i.naturalWidth,"
            " tile: t.getBoundingClientRect().width, srcset: i.getAttribute('srcset'), sizes: i.getAttribute('sizes')} : null;")
        return t if t and t["phase"] == "loaded" else None

    shown = wait_for(loaded, 60, "the thumbnail loaded in the tile", interval=0.2)
    image = next(i for i in stack.all_images(name) if i["key"] == key)
    assert image["status"] == "ready" and image["width"] == 400 and image["height"] == 300, image
    assert shown["tile"] <= 360, shown
    assert shown["src"] == image["thumbnailUrl"] and shown["w"] > 0, (shown, image)
    assert image["thumbnailUrl"] in shown["srcset"] and image["previewUrl"] in shown["srcset"], shown
    assert shown["sizes"].endswith("px"), shown

    phases = [p for p in driver.execute_script("return window.__phases") if p["key"] == key]
    waiting = [i for i, p in enumerate(phases) if p["phase"] == "waiting"]
    done = [i for i, p in enumerate(phases) if p["phase"] == "loaded"]
    assert waiting and done and waiting[0] < done[0], phases
    assert phases[waiting[0]]["placeholder"] == "true", phases
    assert phases[waiting[0]]["background"].startswith('url("data:image/png'), phases
    # The decoded placeholder has the image's aspect (4:3 -> 32x24).
    ratio = driver.execute_async_script(
        "var done = arguments[0]; var bg = document.querySelector('#grid .tile .thumb').style.backgroundImage;"
        "var img = new Image(); img.onload = function () { done(img.naturalWidth / img.naturalHeight); };"
        "img.onerror = function () { done(0); }; img.src = bg.slice(5, -2);")
    assert abs(ratio - 4 / 3) < 0.1, ratio

    driver.find_element(By.CSS_SELECTOR, "#grid .tile a.thumb").click()
    lb = wait_lightbox(driver, key, f"/g/{name}/wide photo.png")
    preview = wait_for(lambda: driver.execute_script(
        "var i = document.getElementById('lightbox-image');"
        "return i.complete && i.naturalWidth > 0 ? {src: i.currentSrc, w: i.naturalWidth} : null;"),
        10, "the preview in the lightbox")
    assert preview == {"src": image["previewUrl"], "w": 400}, (preview, lb)


FAKE_STATUS_JS = """
(function () {
  var realFetch = window.fetch;
  var calls = 0;
  var none = {thumbnailUrl: null, previewUrl: null, width: null, height: null, placeholder: null, reason: null};
  window.fetch = async function (url) {
    var res = await realFetch.apply(this, arguments);
    if (String(url).indexOf('api/galleries/%s/images') < 0) return res;
    calls += 1;
    var body = await res.json();
    body.images.forEach(function (i) {
      if (i.name === 'slow.png') {
        Object.assign(i, none, calls < 3 ? {status: 'processing'}
          : {status: 'ready', width: 60, height: 30, thumbnailUrl: i.url, previewUrl: i.url});
      } else if (i.name === 'bad.png') {
        Object.assign(i, none, {status: 'unprocessable', reason: 'not an image (test)'});
      }
    });
    window.__imageCalls = calls;
    return new Response(JSON.stringify(body), {status: 200, headers: {'Content-Type': 'application/json'}});
  };
})();
"""


def test_processing_is_polled_and_unprocessable_says_why(stack, browser):
    """Statuses the index will send (issue 15), faked in the page's fetch: a processing image
    is a square box until a later poll says ready; an unprocessable one shows its reason."""
    from selenium.webdriver.common.by import By

    driver = browser
    name = "status-" + uuid.uuid4().hex[:8]
    keys = [stack.upload(name, n, make_png(w, h, (90, 90, 200))) for n, w, h in
            (("slow.png", 60, 30), ("bad.png", 20, 20), ("ok.png", 30, 40))]
    stack.wait_indexed(name, keys)
    script = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_STATUS_JS % name})
    try:
        driver.get(stack.index + f"/g/{name}")
        wait_tiles(driver, 3)
        tile_js = ("var t = document.querySelector('#grid .tile[data-key=\"' + arguments[0] + '\"]'); var r = t.getBoundingClientRect();"
                   "var s = t.querySelector('.tile-state'); var a = t.querySelector('a.thumb');"
                   "return {status: t.dataset.status, phase: t.dataset.phase, w: r.width, h: r.height, img: !!t.querySelector('img'),"
                   " text: s ? s.textContent : null, title: a.title};")
        slow = driver.execute_script(tile_js, f"{name}/slow.png")
        assert slow["status"] == "processing" and not slow["img"] and "Processing" in slow["text"], slow
        assert abs(slow["w"] - slow["h"]) <= 1, f"a processing image without a size is square: {slow}"
        bad = driver.execute_script(tile_js, f"{name}/bad.png")
        assert bad["status"] == "unprocessable" and not bad["img"], bad
        assert "not an image (test)" in bad["text"] and bad["title"] == "not an image (test)", bad

        ready = wait_for(lambda: (lambda t: t if t["phase"] == "loaded" else None)(driver.execute_script(tile_js, f"{name}/slow.png")),
                         15, "the processing image to be re-polled and shown")
        assert abs(ready["w"] / ready["h"] - 2) < 0.05, f"laid out again with the API's 60x30: {ready}"
        calls = driver.execute_script("return window.__imageCalls")
        time.sleep(4)
        assert driver.execute_script("return window.__imageCalls") == calls, "polling stops once nothing is processing"

        driver.find_element(By.CSS_SELECTOR, f"#grid .tile[data-key='{name}/bad.png'] a.thumb").click()
        wait_lightbox(driver, f"{name}/bad.png", f"/g/{name}/bad.png")
        message = driver.execute_script("var m = document.getElementById('lightbox-message'); return m.hidden ? null : m.textContent;")
        assert message and "not an image (test)" in message, message
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})


# A ThumbHash of a 45x100 opaque gradient, and pixels of its 14x32 decoding, from an
# independent implementation (the fast-thumbhash Rust bindings, not needed to run this test).
THUMBHASH = "mvkJcxqFcIiIh4eHcHQH+Ic="
THUMBHASH_PIXELS = {(0, 0): [11, 6, 191, 255], (13, 0): [255, 0, 4, 255], (0, 31): [9, 249, 160, 255],
                    (13, 31): [232, 228, 0, 255], (7, 16): [125, 138, 41, 255]}


def test_thumbhash_decoder_matches_the_reference(stack, browser):
    driver = browser
    driver.get(stack.index + "/")
    got = driver.execute_async_script("""
        var done = arguments[1];
        var url = window.Shoebox.placeholderURL(arguments[0]);
        var img = new Image();
        img.onload = function () {
          var c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
          var ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
          done({w: c.width, h: c.height, data: Array.from(ctx.getImageData(0, 0, c.width, c.height).data)});
        };
        img.onerror = function () { done(null); };
        img.src = url;
    """, THUMBHASH)
    assert got and (got["w"], got["h"]) == (14, 32), got and (got["w"], got["h"])
    for (x, y), want in THUMBHASH_PIXELS.items():
        i = 4 * (y * got["w"] + x)
        assert all(abs(a - b) <= 2 for a, b in zip(got["data"][i:i + 4], want)), ((x, y), got["data"][i:i + 4], want)
    assert driver.execute_script("return window.Shoebox.placeholderURL('not base64!')") is None
