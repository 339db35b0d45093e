"""Thumbnails and previews through the whole host: `shoebox up`, real files, boto3 uploads.

Every image uploaded to the gallery bucket gets a WebP thumbnail (long edge 360), a
progressive JPEG preview (long edge 1440), its upright size and a ThumbHash placeholder, made
by the index service and listed by the gallery API; bad files end `unprocessable` with a
reason while the service keeps answering. Test images are made here with Pillow (and the
`vips` command for HEIC, which Pillow cannot write); nothing is downloaded.

Run from the repo root:  python -m pytest conformance/test_thumbnails.py -q
"""

from __future__ import annotations

import io
import os
import random
import shutil
import signal
import struct
import subprocess
import time
import zlib

import pytest
import requests

PIL = pytest.importorskip("PIL", reason="pip install pillow")
from PIL import Image  # noqa: E402

from test_gallery_page import Stack, stack, wait_for  # noqa: E402,F401 (stack: the module's `shoebox up`)

pytestmark = pytest.mark.shoebox_only("needs `shoebox up` (S3 server + gallery index service)")

GALLERY = "thumbs"
RED, BLUE = (230, 20, 20), (20, 40, 220)


# --------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------


def photo(width: int, height: int, seed: int = 1) -> Image.Image:
    """A photo-like RGB picture (gradient and noise), so encoders have real work."""
    rnd = random.Random(seed)
    img = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40 + rnd.randint(0, 20))
    return Image.merge("RGB", (img, noise, Image.eval(img, lambda v: 255 - v)))


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def portrait_jpeg() -> bytes:
    """Stored 400x300 (landscape) with a red block top-left, EXIF orientation 6: upright it is
    300x400 and the block is top-right, as a phone shot held upright."""
    img = Image.new("RGB", (400, 300), BLUE)
    img.paste(Image.new("RGB", (100, 100), RED), (0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {2: (1.0, 2.0, 3.0)}  # GPSLatitude: must not survive into derivatives
    return encode(img, "JPEG", quality=95, exif=exif)


def heic_file(tmp_path) -> bytes:
    if not shutil.which("vips"):
        pytest.skip("the vips command (Debian libvips-tools) makes the HEIC")
    src, dst = tmp_path / "src.png", tmp_path / "photo.heic"
    photo(1600, 1200, seed=7).save(src)
    subprocess.run(["vips", "copy", str(src), str(dst)], check=True, capture_output=True)
    return dst.read_bytes()


def png_bomb() -> bytes:
    """A valid PNG header claiming 20000x20000 pixels (400 MP) with a few bytes of data: it
    must be refused from its header, before anything is decoded."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 60001)) + chunk(b"IEND", b""))


def many_frames_gif(frames: int) -> bytes:
    # Each frame differs from the one before (Pillow merges repeated frames).
    images = [Image.new("RGB", (16, 16), (i % 256, (i * 7) % 256, 255 - i % 256)) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=20, loop=0)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3(stack):
    return stack.s3_client(stack.s3_endpoint, "gallery")


def put(s3, name: str, body: bytes, content_type: str, gallery: str = GALLERY) -> str:
    key = f"{gallery}/{name}"
    s3.put_object(Bucket="gallery", Key=key, Body=body, ContentType=content_type)
    return key


def settled(stack: Stack, key: str, gallery: str = GALLERY, timeout: float = 60.0) -> dict:
    """The API's image once it is no longer `processing`."""
    def done():
        for image in stack.all_images(gallery):
            if image["key"] == key and image["status"] != "processing":
                return image
        return None
    return wait_for(done, timeout, f"{key} to be processed", interval=0.2)


def fetch_image(url: str) -> Image.Image:
    r = requests.get(url, timeout=10)  # anonymous: the page loads them so
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:200]}"
    return Image.open(io.BytesIO(r.content))


def assert_ready(image: dict, width: int, height: int) -> tuple[Image.Image, Image.Image]:
    assert image["status"] == "ready", image
    assert (image["width"], image["height"]) == (width, height)
    assert image["reason"] is None
    assert isinstance(image["placeholder"], str) and len(image["placeholder"]) >= 8
    thumb, preview = fetch_image(image["thumbnailUrl"]), fetch_image(image["previewUrl"])
    assert thumb.format == "WEBP" and preview.format == "JPEG"
    scale = min(1.0, 1440 / max(width, height))
    assert abs(preview.size[0] - width * scale) <= 1 and abs(preview.size[1] - height * scale) <= 1, preview.size
    assert max(thumb.size) == min(360, max(width, height)), thumb.size
    assert preview.info.get("progressive") or preview.info.get("progression"), "the preview is progressive"
    assert not preview.getexif(), "EXIF is stripped from the preview"
    assert not thumb.getexif(), "EXIF is stripped from the thumbnail"
    return thumb, preview


def close_to(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour))


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------


def test_portrait_phone_photo_comes_out_upright(stack, s3):
    key = put(s3, "portrait.jpg", portrait_jpeg(), "image/jpeg")
    thumb, preview = assert_ready(settled(stack, key), 300, 400)
    assert preview.size == (300, 400)
    preview = preview.convert("RGB")
    assert close_to(preview.getpixel((270, 30)), RED), preview.getpixel((270, 30))
    assert close_to(preview.getpixel((30, 30)), BLUE), preview.getpixel((30, 30))
    assert close_to(preview.getpixel((150, 350)), BLUE)
    thumb = thumb.convert("RGB")
    assert thumb.size == (270, 360)
    assert close_to(thumb.getpixel((250, 20)), RED), thumb.getpixel((250, 20))
    # The original keeps its EXIF (orientation and GPS) untouched.
    original = Image.open(io.BytesIO(s3.get_object(Bucket="gallery", Key=key)["Body"].read()))
    assert original.getexif().get(0x0112) == 6


@pytest.mark.parametrize("name,make,content_type,size", [
    ("cmyk.jpg", lambda tmp: encode(photo(800, 600).convert("CMYK"), "JPEG", quality=90), "image/jpeg", (800, 600)),
    ("deep.png", lambda tmp: encode(Image.linear_gradient("L").resize((640, 480)).convert("I;16"), "PNG"), "image/png", (640, 480)),
    ("anim.gif", lambda tmp: many_frames_gif(5), "image/gif", (16, 16)),
    ("photo.webp", lambda tmp: encode(photo(2000, 1000), "WEBP", quality=80), "image/webp", (2000, 1000)),
    ("scan.tiff", lambda tmp: encode(photo(500, 700), "TIFF"), "image/tiff", (500, 700)),
    ("photo.heic", heic_file, "image/heic", (1600, 1200)),
])
def test_formats_produce_derivatives(stack, s3, tmp_path, name, make, content_type, size):
    if name == "deep.png":
        assert Image.open(io.BytesIO(make(tmp_path))).mode.startswith("I;16"), "the fixture is 16-bit"
    key = put(s3, name, make(tmp_path), content_type)
    assert_ready(settled(stack, key), *size)


@pytest.mark.parametrize("name,body,content_type,why", [
    ("truncated.jpg", lambda: encode(photo(1200, 900), "JPEG", quality=90)[:20000], "image/jpeg", ""),
    ("text.jpg", lambda: b"this is not a picture at all\n" * 50, "image/jpeg", "not an image"),
    ("bomb.png", png_bomb, "image/png", "over the limit"),
    ("frames.gif", lambda: many_frames_gif(1000), "image/gif", "1000 frames"),
])
def test_bad_files_end_unprocessable_and_service_keeps_answering(stack, s3, name, body, content_type, why):
    key = put(s3, name, body(), content_type)
    image = settled(stack, key)
    assert image["status"] == "unprocessable", image
    assert why in image["reason"], image["reason"]
    assert str(stack.data) not in image["reason"], "the reason does not leak the service's paths"
    assert image["thumbnailUrl"] is None and image["previewUrl"] is None and image["width"] is None
    # Still serving: the API and a good image after it.
    good = put(s3, f"after-{name}.jpg", encode(photo(64, 48), "JPEG"), "image/jpeg")
    assert_ready(settled(stack, good), 64, 48)


def test_overwrite_replaces_and_delete_removes_derivatives(stack, s3):
    key = put(s3, "changing.jpg", encode(photo(800, 400), "JPEG"), "image/jpeg")
    first = settled(stack, key)
    assert_ready(first, 800, 400)
    put(s3, "changing.jpg", encode(photo(300, 600, seed=3), "JPEG"), "image/jpeg")

    def replaced():
        image = next(i for i in stack.all_images(GALLERY) if i["key"] == key)
        return image if image["status"] == "ready" and image["width"] == 300 else None
    image = wait_for(replaced, 60, "the overwrite's derivatives")
    _, preview = assert_ready(image, 300, 600)
    assert preview.size == (300, 600)

    s3.delete_object(Bucket="gallery", Key=key)

    def gone():
        listed = s3.list_objects_v2(Bucket="gallery", Prefix=f"_derived/{key}/").get("KeyCount", 0)
        return True if listed == 0 else None
    wait_for(gone, 30, "the derivatives to be deleted")
    # Anonymous readers get AccessDenied for a missing key, as S3 answers those who may not list.
    assert [requests.get(first[u], timeout=5).status_code for u in ("thumbnailUrl", "previewUrl")] == [403, 403]
    assert all(i["key"] != key for i in stack.all_images(GALLERY))


def test_derivatives_are_not_indexed_as_images(stack, s3):
    key = put(s3, "solo.jpg", encode(photo(100, 100), "JPEG"), "image/jpeg", gallery="solo")
    settled(stack, key, gallery="solo")
    time.sleep(1)  # the derivatives' own events have arrived by now
    galleries = requests.get(f"{stack.index}/api/galleries", timeout=5).json()["galleries"]
    assert all(not g["name"].startswith("_") for g in galleries), galleries
    assert [i["key"] for i in stack.all_images("solo")] == [key]


def test_metrics_count_processed_and_unprocessable(stack, s3):
    key = put(s3, "metrics.jpg", encode(photo(120, 80), "JPEG"), "image/jpeg")
    settled(stack, key)
    text = requests.get(f"{stack.index}/metrics", timeout=5).text
    values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")}
    assert values["shoebox_index_thumbnails_processed_total"] >= 1
    assert "shoebox_index_thumbnails_unprocessable_total" in values
    assert values["shoebox_index_thumbnail_queue_depth"] >= 0
    assert values["shoebox_index_thumbnail_seconds_count"] >= 1


def test_kill_9_while_processing_loses_no_derivatives(tmp_path_factory):
    """Events the index acknowledged lead to derivatives even when the process is killed in the
    middle of making them: the queue is in the index's LMDB, and a restart finishes it."""
    stack = Stack(tmp_path_factory.mktemp("shoebox-thumbs-kill"))
    stack.start()
    try:
        s3 = stack.s3_client(stack.s3_endpoint, "gallery")
        keys = [put(s3, f"big-{i}.jpg", encode(photo(3000, 2000, seed=i), "JPEG", quality=92), "image/jpeg", gallery="kill")
                for i in range(10)]
        stack.wait_indexed("kill", keys, timeout=30)
        statuses = [i["status"] for i in stack.all_images("kill")]
        assert "processing" in statuses, "the kill must land while images are still being processed"
        os.killpg(stack.proc.pid, signal.SIGKILL)
        stack.proc.wait(timeout=10)
        stack.proc = None
        stack.start()

        def all_ready():
            images = stack.all_images("kill")
            return images if len(images) == 10 and all(i["status"] == "ready" for i in images) else None
        images = wait_for(all_ready, 120, "every image to be ready after the restart", interval=0.5)
        for image in images:
            assert_ready(image, 3000, 2000)
    finally:
        stack.stop()
