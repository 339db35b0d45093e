"""HTTP/1.1 pipelining: requests sent back to back on one connection are answered in order.

Shoebox answers small GET/HEAD of objects on the event loop and everything else (writes,
errors, large bodies) in Swift tasks; whichever path serves a request, the responses must
come back in request order and a read must see the write pipelined before it.
moto's werkzeug server handles one request per read, so these are shoebox_only.
"""

import os
import signal
import socket
import time

import pytest
from botocore.exceptions import ClientError

import s3support as sup

pytestmark = pytest.mark.shoebox_only("moto's development server does not answer pipelined requests")


def _read_response(conn: sup.RawHTTP, head_request: bool = False, timeout: float = 10.0):
    head = conn.read_final(timeout=timeout)
    assert head is not None, "no response"
    status, _, headers = head
    body = b"" if head_request else conn.read_body(headers, timeout=timeout)
    return status, headers, body


def _assert_answers(conn: sup.RawHTTP, count: int, body: bytes):
    """The next `count` responses are 200s carrying `body`."""
    for _ in range(count):
        status, _, got = _read_response(conn)
        assert status == 200 and got == body


def _assert_whole_then_closed(conn: sup.RawHTTP, body: bytes):
    """A slow reader gets the whole 200 response, then the server ends the connection."""
    status, _, got = _read_response(conn, timeout=30)
    assert status == 200 and got == body
    assert conn.closed_by_server(timeout=10)


def test_mixed_pipeline_is_answered_in_order(s3, bucket, endpoint):
    old = b"first version"
    new = sup.deterministic_body("pipe-new", 3000)
    big = sup.deterministic_body("pipe-big", 3 * 1024 * 1024)  # several map slices: streamed
    s3.put_object(Bucket=bucket, Key="pipe/a", Body=old)
    s3.put_object(Bucket=bucket, Key="pipe/big", Body=big)
    url = f"{endpoint}/{bucket}"
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(b"".join([
            sup.raw_request_head("PUT", f"{url}/pipe/a", body=new) + new,
            sup.raw_request_head("GET", f"{url}/pipe/a"),
            sup.raw_request_head("GET", f"{url}/pipe/big"),
            sup.raw_request_head("HEAD", f"{url}/pipe/a"),
            sup.raw_request_head("GET", f"{url}/pipe/missing"),
            sup.raw_request_head("GET", f"{url}/pipe/a", headers={"Range": "bytes=0-9"}),
            sup.raw_request_head("GET", f"{url}/pipe/a", unsigned={"Connection": "close"}),
        ]))
        status, headers, _ = _read_response(conn)
        assert status == 200 and headers["etag"] == sup.md5_etag(new)

        status, headers, body = _read_response(conn)
        assert status == 200 and body == new, "the GET pipelined after a PUT must see the PUT"
        assert headers["etag"] == sup.md5_etag(new)

        status, headers, body = _read_response(conn)
        assert status == 200 and body == big

        status, headers, _ = _read_response(conn, head_request=True)
        assert status == 200 and headers["content-length"] == str(len(new))

        status, headers, body = _read_response(conn)
        assert status == 404
        err = sup.parse_error(body)
        assert err["Code"] == "NoSuchKey" and err["Key"] == "pipe/missing"

        status, headers, body = _read_response(conn)
        assert status == 206 and body == new[:10]
        assert headers["content-range"] == f"bytes 0-9/{len(new)}"

        status, headers, body = _read_response(conn)
        assert status == 200 and body == new
        assert conn.closed_by_server(timeout=5), "Connection: close must end the connection"
    finally:
        conn.close()


def test_many_pipelined_reads_keep_their_order(s3, bucket, endpoint):
    bodies = {f"order/{i:02d}": sup.deterministic_body(f"order{i}", 100 + 97 * i) for i in range(40)}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    keys = list(bodies)
    conn = sup.RawHTTP(endpoint)
    try:
        # Every fifth request is a write, answered by the task path in between reads.
        pipeline = []
        for i, key in enumerate(keys):
            if i % 5 == 4:
                bodies[key] = sup.deterministic_body(f"rewritten{i}", 500 + i)
                pipeline.append(sup.raw_request_head("PUT", f"{endpoint}/{bucket}/{key}", body=bodies[key]) + bodies[key])
            pipeline.append(sup.raw_request_head("GET", f"{endpoint}/{bucket}/{key}"))
        conn.send(b"".join(pipeline))
        for i, key in enumerate(keys):
            if i % 5 == 4:
                status, headers, _ = _read_response(conn)
                assert status == 200 and headers["etag"] == sup.md5_etag(bodies[key]), key
            status, headers, body = _read_response(conn)
            assert status == 200 and body == bodies[key], f"response {i} is not {key}'s body"
    finally:
        conn.close()


# The front of each connection reads request heads itself and answers small reads without
# NIO's HTTP codec; everything else is handed to NIO as the bytes that arrived. These check
# the seams: heads split across reads, requests it hands on, and where the connection ends.

def test_head_arriving_a_few_bytes_at_a_time_is_answered(s3, bucket, endpoint):
    body = sup.deterministic_body("trickle", 777)
    s3.put_object(Bucket=bucket, Key="trickle", Body=body)
    request = sup.raw_request_head("GET", f"{endpoint}/{bucket}/trickle")
    conn = sup.RawHTTP(endpoint)
    try:
        for start in range(0, len(request), 7):
            conn.send(request[start:start + 7])
            time.sleep(0.002)
        status, headers, got = _read_response(conn)
        assert status == 200 and got == body
        # And the connection still serves the next one.
        conn.send(request)
        status, _, got = _read_response(conn)
        assert status == 200 and got == body
    finally:
        conn.close()


def test_request_body_is_never_read_as_a_request(s3, bucket, endpoint):
    """A GET carrying a body that looks like a request: only the outer request is answered,
    and the request after it is answered next, so no request hides inside another."""
    body = sup.deterministic_body("outer", 100)
    s3.put_object(Bucket=bucket, Key="outer", Body=body)
    s3.put_object(Bucket=bucket, Key="after", Body=b"after")
    hidden = sup.raw_request_head("DELETE", f"{endpoint}/{bucket}/outer")
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(sup.raw_request_head("GET", f"{endpoint}/{bucket}/outer", body=hidden) + hidden
                  + sup.raw_request_head("GET", f"{endpoint}/{bucket}/after"))
        status, _, got = _read_response(conn)
        assert status == 200 and got == body
        status, _, got = _read_response(conn)
        assert status == 200 and got == b"after"
        assert conn.read_head(timeout=0.5) is None, "a third response: the body was read as a request"
    finally:
        conn.close()
    assert s3.get_object(Bucket=bucket, Key="outer")["Body"].read() == body


def test_chunked_upload_then_reads_on_one_connection(s3, bucket, endpoint):
    """Transfer-Encoding hands the rest of the connection to NIO's codec: what follows is
    still answered, in order."""
    s3.put_object(Bucket=bucket, Key="te/read", Body=b"read me")
    payload = sup.deterministic_body("te", 3000)
    signed = sup.sign_headers("PUT", f"{endpoint}/{bucket}/te/put", body=payload, headers={"Transfer-Encoding": "chunked"})
    signed.setdefault("Host", endpoint.split("//", 1)[1])
    head = (f"PUT /{bucket}/te/put HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in signed.items()) + "\r\n").encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 1000]), payload[i:i + 1000]) for i in range(0, 3000, 1000)) + b"0\r\n\r\n"
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(head + chunked + sup.raw_request_head("GET", f"{endpoint}/{bucket}/te/read")
                  + sup.raw_request_head("GET", f"{endpoint}/{bucket}/te/read"))
        status, _, got = _read_response(conn)
        assert status == 200, (status, got)
        _assert_answers(conn, 2, b"read me")
    finally:
        conn.close()
    assert s3.get_object(Bucket=bucket, Key="te/put")["Body"].read() == payload


def test_answers_reach_a_client_that_stopped_sending(s3, bucket, endpoint):
    """A client may send its requests and shut down its side at once."""
    s3.put_object(Bucket=bucket, Key="halfclose", Body=b"still here")
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(sup.raw_request_head("GET", f"{endpoint}/{bucket}/halfclose") * 3)
        conn.sock.shutdown(socket.SHUT_WR)
        _assert_answers(conn, 3, b"still here")
    finally:
        conn.close()


def test_http10_request_is_answered(s3, bucket, endpoint):
    """HTTP/1.0 is left to NIO's codec; it is answered all the same."""
    s3.put_object(Bucket=bucket, Key="old", Body=b"old client")
    head = sup.raw_request_head("GET", f"{endpoint}/{bucket}/old").replace(b" HTTP/1.1\r\n", b" HTTP/1.0\r\n", 1)
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(head)
        status, headers, got = _read_response(conn)
        assert status == 200 and got == b"old client"
    finally:
        conn.close()


def test_graceful_shutdown_closes_idle_connections(tmp_path):
    """SIGTERM: connections between requests are closed and the server exits promptly, even
    when every request on them was answered by the fast path."""
    server = sup.ServerProcess(sup.TARGET, tmp_path / "data", tmp_path)
    server.start()
    try:
        s3 = sup.make_client(server.endpoint)
        s3.create_bucket(Bucket="quiesce")
        s3.put_object(Bucket="quiesce", Key="k", Body=b"x")
        conns = [sup.RawHTTP(server.endpoint) for _ in range(3)]
        for conn in conns:
            conn.send(sup.raw_request_head("GET", f"{server.endpoint}/quiesce/k"))
            status, _, got = _read_response(conn)
            assert status == 200 and got == b"x"
        started = time.monotonic()
        os.kill(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=10)
        assert time.monotonic() - started < 5
        for conn in conns:
            assert conn.closed_by_server(timeout=1)
            conn.close()
    finally:
        server.kill9()


def test_idle_connections_are_closed_and_busy_ones_kept(tmp_path):
    """--idle-timeout, by the rule of Hummingbird's own idle check: a connection with nothing
    in flight is closed after it, and so is one stalled in the middle of sending a request;
    one that keeps sending requests (answered by the fast path, which Hummingbird never sees)
    is kept, and so is one whose response is still going out to a slow reader."""
    server = sup.ServerProcess(sup.TARGET, tmp_path / "data", tmp_path)
    server.extra_args = ["--idle-timeout", "1"]
    server.start()
    try:
        s3 = sup.make_client(server.endpoint)
        s3.create_bucket(Bucket="idle")
        s3.put_object(Bucket="idle", Key="k", Body=b"x")
        big = sup.deterministic_body("idle-big", 8 * 1024 * 1024 + 3)
        s3.put_object(Bucket="idle", Key="big", Body=big)
        get = sup.raw_request_head("GET", f"{server.endpoint}/idle/k")
        idle, busy, stalled, slow = (sup.RawHTTP(server.endpoint) for _ in range(4))
        body = b"0123456789"
        stalled.send(sup.raw_request_head("PUT", f"{server.endpoint}/idle/stalled", body=body) + body[:4])
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        slow.send(sup.raw_request_head("GET", f"{server.endpoint}/idle/big"))
        try:
            for conn in (idle, busy):
                conn.send(get)
                assert _read_response(conn)[2] == b"x"
            started = time.monotonic()
            while time.monotonic() - started < 2.5:
                busy.send(get)
                assert _read_response(busy)[2] == b"x"
                time.sleep(0.25)
            assert idle.closed_by_server(timeout=1), "an idle connection outlived --idle-timeout"
            assert stalled.closed_by_server(timeout=1), "a request stalled mid-body outlived --idle-timeout"
            busy.send(get)
            assert _read_response(busy)[2] == b"x", "a busy connection was closed"
            status, _, got = _read_response(slow, timeout=30)
            assert status == 200 and got == big, "a response still going out was cut off"
        finally:
            for conn in (idle, busy, stalled, slow):
                conn.close()
        with pytest.raises(ClientError) as err:
            s3.head_object(Bucket="idle", Key="stalled")
        assert err.value.response["Error"]["Code"] in ("404", "NoSuchKey")
    finally:
        server.stop()


def test_shutdown_lets_responses_in_flight_finish(tmp_path):
    """SIGTERM while a large response is still going out to a slow reader: it arrives whole,
    then the connection closes and the server exits."""
    server = sup.ServerProcess(sup.TARGET, tmp_path / "data", tmp_path)
    server.start()
    try:
        s3 = sup.make_client(server.endpoint)
        s3.create_bucket(Bucket="drain")
        big = sup.deterministic_body("drain-big", 8 * 1024 * 1024 + 5)
        s3.put_object(Bucket="drain", Key="big", Body=big)
        conn = sup.RawHTTP(server.endpoint)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        try:
            conn.send(sup.raw_request_head("GET", f"{server.endpoint}/drain/big"))
            time.sleep(0.5)
            os.kill(server.proc.pid, signal.SIGTERM)
            time.sleep(0.5)
            _assert_whole_then_closed(conn, big)
        finally:
            conn.close()
        server.proc.wait(timeout=10)
    finally:
        server.kill9()


def test_connection_close_with_a_body_in_the_same_segment(s3, bucket, endpoint):
    body = b"hello"
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(sup.raw_request_head("PUT", f"{endpoint}/{bucket}/close-put", body=body, unsigned={"Connection": "close"}) + body)
        status, _, _ = _read_response(conn)
        assert status == 200
        assert conn.closed_by_server(timeout=5)
    finally:
        conn.close()
    assert s3.get_object(Bucket=bucket, Key="close-put")["Body"].read() == body


def test_connection_close_answer_arrives_whole(s3, bucket, endpoint):
    body = sup.deterministic_body("close-big", 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="close-big", Body=body)
    assert s3.get_object(Bucket=bucket, Key="close-big")["Body"].read() == body  # now cached
    conn = sup.RawHTTP(endpoint)
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    try:
        conn.send(sup.raw_request_head("GET", f"{endpoint}/{bucket}/close-big", unsigned={"Connection": "close"}))
        time.sleep(0.3)
        _assert_whole_then_closed(conn, body)
    finally:
        conn.close()


@pytest.mark.parametrize("bad", [b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n",
                                 b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"])
def test_rejected_request_is_answered_before_anything_after_it(s3, bucket, endpoint, bad):
    s3.put_object(Bucket=bucket, Key="after-bad", Body=b"never first")
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(bad + sup.raw_request_head("GET", f"{endpoint}/{bucket}/after-bad"))
        status, _, _ = _read_response(conn)
        assert status == 400, "the request NIO rejects is answered first"
        assert conn.closed_by_server(timeout=5)
    finally:
        conn.close()


def test_head_with_bare_line_feeds_arriving_in_pieces_is_answered(s3, bucket, endpoint):
    """A head outside the front handler's subset (LF line endings) that arrives in pieces is
    handed to NIO as soon as it shows, not held until more bytes come."""
    s3.put_object(Bucket=bucket, Key="lf", Body=b"lf")
    head = sup.raw_request_head("GET", f"{endpoint}/{bucket}/lf").replace(b"\r\n", b"\n")
    first_line = head.index(b"\n")
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(head[:first_line])
        time.sleep(0.2)
        conn.send(head[first_line:])
        answer = conn.read_final(timeout=5)
        assert answer is not None, "no answer: the head was held"
        assert answer[0] in (200, 400), answer
    finally:
        conn.close()
