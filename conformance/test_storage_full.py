"""A full store answers a clear S3 error, keeps what it acknowledged, and recovers when room is made."""
import os

import pytest
from botocore.exceptions import ClientError

import s3support as sup

pytestmark = pytest.mark.shoebox_only("needs Shoebox's --map-size")


class SmallServer(sup.ServerProcess):
    def command(self) -> list[str]:
        return super().command() + ["--map-size", "24MiB"]


@pytest.fixture
def small_server(tmp_path):
    server = SmallServer("shoebox", tmp_path / "data", tmp_path)
    server.start()
    yield server
    server.stop()


def test_full_store_gives_insufficient_storage_and_recovers(small_server):
    s3 = sup.make_client(small_server.endpoint)
    s3.create_bucket(Bucket="full")
    stored = {}
    error = None
    for i in range(64):
        body = os.urandom(1 << 20)
        try:
            s3.put_object(Bucket="full", Key=f"k{i}", Body=body)
            stored[f"k{i}"] = body
        except ClientError as e:
            error = e
            break
    assert error is not None, "a 24 MiB store accepted 64 MiB"
    assert sup.http_status(error) == 507
    assert sup.error_code(error) == "InsufficientStorage"
    assert stored, "nothing fit at all"
    # Every acknowledged object is intact; the refused one left nothing behind.
    for key, body in stored.items():
        assert s3.get_object(Bucket="full", Key=key)["Body"].read() == body
    refused = f"k{len(stored)}"
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket="full", Key=refused)
    assert sup.http_status(missing.value) == 404
    # Freeing room makes writes work again.
    for key in list(stored)[:4]:
        s3.delete_object(Bucket="full", Key=key)
    s3.put_object(Bucket="full", Key="after", Body=b"x" * (1 << 20))
    assert s3.get_object(Bucket="full", Key="after")["Body"].read() == b"x" * (1 << 20)
