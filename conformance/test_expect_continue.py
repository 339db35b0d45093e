"""Expect: 100-continue on a raw socket (botocore sends it on every PutObject).

moto's werkzeug server answers 100 Continue promptly (sometimes twice, which
HTTP allows), so only the authentication part is shoebox_only.
"""

import time

import pytest

import s3support as sup



def _request_head(endpoint, bucket, key, body, secret_key=sup.ROOT_SECRET_KEY):
    # botocore never signs Expect
    return sup.raw_request_head("PUT", f"{endpoint}/{bucket}/{sup.quote_key(key)}", body=body,
                                unsigned={"Expect": "100-continue"}, secret_key=secret_key)


def test_100_continue_then_200(s3, bucket, endpoint):
    body = sup.deterministic_body("expect-continue", 200_000)
    conn = sup.RawHTTP(endpoint)
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
    conn = sup.RawHTTP(endpoint)
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
    conn = sup.RawHTTP(endpoint)
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
                conn = sup.RawHTTP(endpoint)
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
