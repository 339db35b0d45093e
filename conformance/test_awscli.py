"""aws-cli 1.x against the server: s3 mb/cp/ls/sync/rm/rb and a few s3api calls."""

import hashlib
import json
import os
import re
import time
import uuid
from pathlib import Path

import pytest

import s3support as sup

LS_OBJECT = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\d+) (.*)$")
LS_PREFIX = re.compile(r"^\s+PRE (.*)$")


def ok(proc):
    assert proc.returncode == 0, f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def parse_ls(out: str):
    """-> (prefixes, {key: size}) from `aws s3 ls` output."""
    prefixes, objects = [], {}
    for line in out.splitlines():
        if not line.strip():
            continue
        m = LS_PREFIX.match(line)
        if m:
            prefixes.append(m.group(1))
            continue
        m = LS_OBJECT.match(line)
        assert m, f"unexpected ls line: {line!r}"
        objects[m.group(3)] = int(m.group(2))
    return prefixes, objects


def write(path: Path, data: bytes, age_seconds: float = 2.0) -> Path:
    """Write a file whose mtime lies `age_seconds` in the past.

    `aws s3 sync` skips a file when the object's LastModified >= the local
    mtime. S3 reports LastModified with second precision, so a file modified
    in the same second as its upload would be re-uploaded by the next sync
    (against AWS too). Files a couple of seconds old behave deterministically.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    t = time.time() - age_seconds
    os.utime(path, (t, t))
    return path


def test_mb_ls_rb(aws_cli, s3):
    name = "cf-cli-" + uuid.uuid4().hex[:12]
    assert f"make_bucket: {name}" in ok(aws_cli("s3", "mb", f"s3://{name}"))
    s3.head_bucket(Bucket=name)
    listing = ok(aws_cli("s3", "ls"))
    names = [line.split()[-1] for line in listing.splitlines() if line.strip()]
    assert name in names
    for line in listing.splitlines():
        if line.endswith(" " + name):
            assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d " + re.escape(name) + "$", line), line
    assert f"remove_bucket: {name}" in ok(aws_cli("s3", "rb", f"s3://{name}"))
    assert name not in ok(aws_cli("s3", "ls")).split()


def test_mb_own_existing_bucket(aws_cli, bucket):
    # Re-creating your own bucket in us-east-1 succeeds (see test_buckets.py).
    proc = aws_cli("s3", "mb", f"s3://{bucket}")
    assert proc.returncode == 0, proc.stderr


def test_rb_non_empty_fails_then_force(aws_cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x/y", Body=b"1")
    proc = aws_cli("s3", "rb", f"s3://{bucket}")
    assert proc.returncode != 0
    assert "BucketNotEmpty" in proc.stderr
    ok(aws_cli("s3", "rb", f"s3://{bucket}", "--force"))
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


@pytest.mark.parametrize("size", [1024, 5 * 1024 * 1024], ids=["1KiB", "5MiB"])
def test_cp_up_and_down(aws_cli, s3, bucket, tmp_path, size):
    data = sup.deterministic_body(f"cli-cp-{size}", size)
    src = write(tmp_path / "up" / "payload.bin", data)
    out = ok(aws_cli("s3", "cp", src, f"s3://{bucket}/dir/payload.bin"))
    assert "upload: " in out and f"s3://{bucket}/dir/payload.bin" in out
    head = s3.head_object(Bucket=bucket, Key="dir/payload.bin")
    assert head["ContentLength"] == size
    assert head["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'  # below the 8 MiB multipart threshold
    dst = tmp_path / "down" / "payload.bin"
    out = ok(aws_cli("s3", "cp", f"s3://{bucket}/dir/payload.bin", dst))
    assert "download: " in out
    assert dst.read_bytes() == data


def test_cp_to_stdout(aws_cli, bucket, tmp_path):
    data = b"streamed through a pipe\n" * 100
    src = write(tmp_path / "s.txt", data)
    ok(aws_cli("s3", "cp", src, f"s3://{bucket}/piped.txt"))
    proc = aws_cli("s3", "cp", f"s3://{bucket}/piped.txt", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.encode() == data


def test_cp_content_type_guess_and_metadata(aws_cli, s3, bucket, tmp_path):
    src = write(tmp_path / "page.html", b"<html></html>")
    ok(aws_cli("s3", "cp", src, f"s3://{bucket}/page.html", "--metadata", "team=storage"))
    head = s3.head_object(Bucket=bucket, Key="page.html")
    assert head["ContentType"] == "text/html"
    assert head["Metadata"] == {"team": "storage"}


@pytest.mark.multipart
def test_cp_20mib_multipart(aws_cli, s3, bucket, tmp_path):
    size = 20 * 1024 * 1024
    data = sup.deterministic_body("cli-cp-20MiB", size)
    src = write(tmp_path / "big.bin", data)
    ok(aws_cli("s3", "cp", src, f"s3://{bucket}/big.bin"))
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == size
    # 8 MiB parts: 8 + 8 + 4 -> multipart ETag = md5(concat(part md5s)) + "-3"
    part_md5s = b"".join(hashlib.md5(data[i:i + 8 * 1024 * 1024]).digest()
                         for i in range(0, size, 8 * 1024 * 1024))
    assert head["ETag"] == '"' + hashlib.md5(part_md5s).hexdigest() + '-3"'
    dst = tmp_path / "big.down"
    ok(aws_cli("s3", "cp", f"s3://{bucket}/big.bin", dst))
    assert dst.read_bytes() == data


@pytest.fixture
def tree_bucket(s3, bucket):
    objects = {
        "a.txt": b"a" * 10,
        "dir1/b.txt": b"b" * 20,
        "dir1/sub/c.txt": b"c" * 30,
        "dir2/d.txt": b"d" * 40,
        "dir2/with space.txt": b"e" * 50,
    }
    for k, v in objects.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    return bucket, objects


def test_ls_prefixes_and_recursive(aws_cli, tree_bucket):
    bucket, objects = tree_bucket
    prefixes, objs = parse_ls(ok(aws_cli("s3", "ls", f"s3://{bucket}/")))
    assert prefixes == ["dir1/", "dir2/"]
    assert objs == {"a.txt": 10}
    prefixes, objs = parse_ls(ok(aws_cli("s3", "ls", f"s3://{bucket}/dir1/")))
    assert prefixes == ["sub/"]
    assert objs == {"b.txt": 20}
    prefixes, objs = parse_ls(ok(aws_cli("s3", "ls", f"s3://{bucket}/dir2/")))
    assert objs == {"d.txt": 40, "with space.txt": 50}
    prefixes, objs = parse_ls(ok(aws_cli("s3", "ls", f"s3://{bucket}", "--recursive")))
    assert prefixes == []
    assert objs == {k: len(v) for k, v in objects.items()}


def test_ls_missing_bucket(aws_cli, bucket_name):
    proc = aws_cli("s3", "ls", f"s3://{bucket_name}")
    assert proc.returncode != 0
    assert "NoSuchBucket" in proc.stderr


def test_rm_recursive(aws_cli, s3, tree_bucket):
    bucket, objects = tree_bucket
    out = ok(aws_cli("s3", "rm", f"s3://{bucket}/dir2/", "--recursive"))
    assert out.count("delete: ") == 2
    remaining = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert remaining == ["a.txt", "dir1/b.txt", "dir1/sub/c.txt"]
    ok(aws_cli("s3", "rm", f"s3://{bucket}/a.txt"))
    ok(aws_cli("s3", "rm", f"s3://{bucket}", "--recursive"))
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def _tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sync_tree(aws_cli, s3, bucket, tmp_path):
    local = tmp_path / "local"
    files = {
        "top.txt": b"top level",
        "docs/readme.md": b"# readme\n",
        "docs/deep/er/nested.bin": sup.deterministic_body("nested", 3000),
        "photos/2024/file with spaces.jpg": sup.deterministic_body("spaces", 1500),
        "photos/2024/plus+name.txt": b"plus",
        "photos/\u00fcml\u00e4ut.txt": b"umlaut",
        "empty.txt": b"",
    }
    for rel, data in files.items():
        write(local / rel, data)

    out = ok(aws_cli("s3", "sync", local, f"s3://{bucket}/backup"))
    assert out.count("upload: ") == len(files)
    listed = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {f"backup/{k}": len(v) for k, v in files.items()}
    for rel, data in files.items():
        assert s3.get_object(Bucket=bucket, Key=f"backup/{rel}")["Body"].read() == data

    # nothing changed: the second sync transfers nothing and prints nothing
    again = aws_cli("s3", "sync", local, f"s3://{bucket}/backup")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == ""

    # one file grows: only it is uploaded
    write(local / "docs/readme.md", b"# readme\nmore text\n")
    out = ok(aws_cli("s3", "sync", local, f"s3://{bucket}/backup"))
    assert out.count("upload: ") == 1 and "docs/readme.md" in out
    assert s3.get_object(Bucket=bucket, Key="backup/docs/readme.md")["Body"].read() == b"# readme\nmore text\n"

    # --delete removes what is gone locally
    (local / "top.txt").unlink()
    out = ok(aws_cli("s3", "sync", local, f"s3://{bucket}/backup", "--delete"))
    assert out.count("delete: ") == 1 and "backup/top.txt" in out
    files.pop("top.txt")
    files["docs/readme.md"] = b"# readme\nmore text\n"

    # and down again into an empty directory
    restored = tmp_path / "restored"
    out = ok(aws_cli("s3", "sync", f"s3://{bucket}/backup", restored))
    assert out.count("download: ") == len(files)
    assert _tree(restored) == files
    again = aws_cli("s3", "sync", f"s3://{bucket}/backup", restored)
    assert again.returncode == 0 and again.stdout.strip() == ""


def test_s3api_calls(aws_cli, s3, bucket, tmp_path):
    data = b"s3api body"
    src = write(tmp_path / "body.txt", data)
    put = json.loads(ok(aws_cli("s3api", "put-object", "--bucket", bucket, "--key", "api/obj.txt",
                                "--body", src, "--content-type", "text/plain",
                                "--metadata", "k1=v1,k2=v2")))
    assert put["ETag"] == sup.md5_etag(data)

    head = json.loads(ok(aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "api/obj.txt")))
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == sup.md5_etag(data)
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"k1": "v1", "k2": "v2"}

    listed = json.loads(ok(aws_cli("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "api/")))
    assert [(o["Key"], o["Size"]) for o in listed["Contents"]] == [("api/obj.txt", len(data))]

    out_file = tmp_path / "got.txt"
    got = json.loads(ok(aws_cli("s3api", "get-object", "--bucket", bucket, "--key", "api/obj.txt", out_file)))
    assert got["ContentLength"] == len(data)
    assert out_file.read_bytes() == data

    ok(aws_cli("s3api", "delete-object", "--bucket", bucket, "--key", "api/obj.txt"))
    proc = aws_cli("s3api", "head-object", "--bucket", bucket, "--key", "api/obj.txt")
    assert proc.returncode != 0
    assert "404" in proc.stderr or "Not Found" in proc.stderr


def test_s3api_list_buckets_and_location(aws_cli, bucket):
    buckets = json.loads(ok(aws_cli("s3api", "list-buckets")))
    assert bucket in [b["Name"] for b in buckets["Buckets"]]
    loc = json.loads(ok(aws_cli("s3api", "get-bucket-location", "--bucket", bucket)))
    assert loc["LocationConstraint"] is None
