"""Virtual-host style addressing with --domain: the bucket is in the Host name."""
import pytest
import requests

import s3support as sup

pytestmark = pytest.mark.shoebox_only("needs Shoebox's --domain")

DOMAIN = "s3.shoebox.test"


class DomainServer(sup.ServerProcess):
    def command(self) -> list[str]:
        return super().command() + ["--domain", DOMAIN]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("vhost")
    server = DomainServer("shoebox", base / "data", base)
    server.start()
    yield server
    server.stop()


def send(server, method, bucket, path, body=b""):
    """Signs for http://<bucket>.<domain>:<port><path> and sends it to 127.0.0.1 (no DNS needed)."""
    host = f"{bucket}.{DOMAIN}:{server.port}"
    headers = sup.sign_headers(method, f"http://{host}{path}", body=body)
    headers["Host"] = host
    return requests.request(method, f"http://127.0.0.1:{server.port}{path}", data=body, headers=headers)


def test_virtual_host_put_get_list_delete(server):
    s3 = sup.make_client(server.endpoint)
    s3.create_bucket(Bucket="vh-photos")
    body = b"virtual host body"
    put = send(server, "PUT", "vh-photos", "/summer/a%20b.jpg", body)
    assert put.status_code == 200, put.text
    assert put.headers["ETag"] == sup.md5_etag(body)
    # The same object through path style.
    assert s3.get_object(Bucket="vh-photos", Key="summer/a b.jpg")["Body"].read() == body
    got = send(server, "GET", "vh-photos", "/summer/a%20b.jpg")
    assert got.status_code == 200 and got.content == body
    listing = send(server, "GET", "vh-photos", "/?list-type=2&prefix=summer%2F")
    assert listing.status_code == 200, listing.text
    assert "<Key>summer/a b.jpg</Key>" in listing.text
    assert send(server, "DELETE", "vh-photos", "/summer/a%20b.jpg").status_code == 204
    assert send(server, "GET", "vh-photos", "/summer/a%20b.jpg").status_code == 404


def test_virtual_host_unknown_bucket(server):
    resp = send(server, "GET", "vh-missing", "/key")
    assert resp.status_code == 404
    assert sup.parse_error(resp.content)["Code"] == "NoSuchBucket"
