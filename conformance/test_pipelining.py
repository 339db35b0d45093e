"""HTTP/1.1 pipelining: requests sent back to back on one connection are answered in order.

Shoebox answers small GET/HEAD of objects on the event loop and everything else (writes,
errors, large bodies) in Swift tasks; whichever path serves a request, the responses must
come back in request order and a read must see the write pipelined before it.
moto's werkzeug server handles one request per read, so these are shoebox_only.
"""

import pytest

import s3support as sup

pytestmark = pytest.mark.shoebox_only("moto's development server does not answer pipelined requests")


def _read_response(conn: sup.RawHTTP, head_request: bool = False, timeout: float = 10.0):
    head = conn.read_final(timeout=timeout)
    assert head is not None, "no response"
    status, _, headers = head
    body = b"" if head_request else conn.read_body(headers, timeout=timeout)
    return status, headers, body


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
