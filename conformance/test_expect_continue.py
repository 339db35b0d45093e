"""Expect: 100-continue on a raw socket (botocore sends it on every PutObject).

moto's werkzeug server answers 100 Continue promptly (sometimes twice, which
HTTP allows), so only the authentication part is shoebox_only.
"""

import socket
import time
import urllib.parse

import pytest

import s3support as sup



class RawHTTP:
    def __init__(self, endpoint: str):
        u = urllib.parse.urlparse(endpoint)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=5)
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk
        return True

    def read_head(self, timeout: float):
        """Read one response head. Returns (status, reason, headers) or None on timeout."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, *reason = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return int(status), (reason[0] if reason else ""), headers

    def read_final(self, timeout: float):
        """The final (non-1xx) response head; extra 1xx responses are legal and skipped."""
        deadline = time.monotonic() + timeout
        while True:
            head = self.read_head(max(0.0, deadline - time.monotonic()))
            if head is None or head[0] >= 200:
                return head

    def read_body(self, headers, timeout: float = 5.0) -> bytes:
        n = int(headers.get("content-length", "0"))
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise TimeoutError("body not received")
        body, self.buf = self.buf[:n], self.buf[n:]
        return body

    def close(self):
        self.sock.close()


def _request_head(endpoint, bucket, key, body, secret_key=sup.ROOT_SECRET_KEY):
    url = f"{endpoint}/{bucket}/{sup.quote_key(key)}"
    headers = sup.sign_headers("PUT", url, body=body, secret_key=secret_key,
                               headers={"Content-Length": str(len(body))})
    headers["Expect"] = "100-continue"  # botocore never signs Expect
    path = urllib.parse.urlparse(url).path
    lines = [f"PUT {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    if not any(k.lower() == "host" for k in headers):
        lines.insert(1, f"Host: {urllib.parse.urlparse(url).netloc}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def test_100_continue_then_200(s3, bucket, endpoint):
    body = sup.deterministic_body("expect-continue", 200_000)
    conn = RawHTTP(endpoint)
    try:
        start = time.monotonic()
        conn.send(_request_head(endpoint, bucket, "continued", body))
        interim = conn.read_head(timeout=0.5)
        elapsed = time.monotonic() - start
        assert interim is not None, "no 100 Continue within 0.5 s"
        assert interim[0] == 100, interim
        assert elapsed < 0.5
        conn.send(body)
        final = conn.read_final(timeout=10)
        assert final is not None and final[0] == 200, final
        assert final[2].get("etag") == sup.md5_etag(body)
        conn.read_body(final[2])
    finally:
        conn.close()
    assert s3.get_object(Bucket=bucket, Key="continued")["Body"].read() == body


@pytest.mark.shoebox_only("moto does not authenticate requests")
def test_bad_signature_is_rejected_before_the_body(s3, bucket, endpoint):
    body = sup.deterministic_body("expect-reject", 100_000)
    conn = RawHTTP(endpoint)
    try:
        conn.send(_request_head(endpoint, bucket, "rejected", body, secret_key="wrong-secret"))
        # The body is never sent: the server must answer 403 on the headers alone.
        final = conn.read_head(timeout=3)  # a 100 Continue here would be wrong too
        assert final is not None, "server waited for the body instead of rejecting the request"
        assert final[0] == 403, final
        err = sup.parse_error(conn.read_body(final[2]))
        assert err["Code"] == "SignatureDoesNotMatch"
    finally:
        conn.close()
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="rejected")


def test_several_puts_with_expect_in_a_row(s3, bucket, endpoint):
    bodies = {f"seq/{i}": sup.deterministic_body(f"seq{i}", 1000 * i) for i in range(1, 6)}
    conn = RawHTTP(endpoint)
    try:
        start = time.monotonic()
        for key, body in bodies.items():
            conn.send(_request_head(endpoint, bucket, key, body))
            interim = conn.read_head(timeout=0.5)
            assert interim is not None and interim[0] == 100, interim
            conn.send(body)
            final = conn.read_final(timeout=10)
            assert final is not None and final[0] == 200, final
            conn.read_body(final[2])
            if final[2].get("connection", "").lower() == "close":  # keep-alive is optional
                conn.close()
                conn = RawHTTP(endpoint)
        assert time.monotonic() - start < 2.5  # no 1 s stall per request
    finally:
        conn.close()
    for key, body in bodies.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_boto3_puts_are_not_stalled(s3, bucket):
    # botocore waits 1 s for 100 Continue before sending the body anyway.
    start = time.monotonic()
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"fast/{i}", Body=b"x" * 1000)
    assert time.monotonic() - start < 2.0
