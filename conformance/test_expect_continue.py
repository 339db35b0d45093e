"""Expect: 100-continue on a raw socket (botocore sends it on every PutObject).

moto's werkzeug server answers 100 Continue promptly (sometimes twice, which
HTTP allows), so only the authentication part is shoebox_only.
"""

import time
import uuid

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


def _refused_before_the_body(endpoint, head: bytes) -> tuple[int, str]:
    """Sends `head` (announcing a body it never sends) and returns the first answer: the
    server must refuse on the headers alone, with no `100 Continue` first."""
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(head)
        first = conn.read_head(timeout=3)
        assert first is not None, "server waited for the body instead of refusing the request"
        assert first[0] != 100, "100 Continue sent for a request access control refuses"
        return first[0], sup.parse_error(conn.read_body(first[2]))["Code"]
    finally:
        conn.close()


@pytest.mark.shoebox_only("moto does not enforce ACLs")
def test_anonymous_put_to_private_bucket_gets_403_not_100(s3, bucket, endpoint):
    body = sup.deterministic_body("anonymous-expect", 50_000)
    url = f"{endpoint}/{bucket}/anon"
    head = (f"PUT /{bucket}/anon HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n").encode()
    assert _refused_before_the_body(endpoint, head) == (403, "AccessDenied")
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="anon")


@pytest.fixture(scope="module")
def two_users(tmp_path_factory):
    """A server of its own with a second user, bob, besides root."""
    base = tmp_path_factory.mktemp("expect-users")
    (base / "data").mkdir()
    bob = sup.make_user("bob")
    config = sup.write_config(base / "users.json", [bob])
    server = sup.ServerProcess(sup.TARGET, base / "data", base, config=config)
    server.start()
    yield server.endpoint, bob
    server.stop()


@pytest.mark.shoebox_only("moto has a single user and does not enforce ACLs")
def test_signed_put_without_write_permission_gets_403_not_100(two_users):
    endpoint, bob = two_users
    root = sup.make_client(endpoint)
    name = "cf-expect-" + uuid.uuid4().hex[:12]
    root.create_bucket(Bucket=name)
    body = sup.deterministic_body("bob-expect", 50_000)
    head = sup.raw_request_head("PUT", f"{endpoint}/{name}/bobs", body=body, unsigned={"Expect": "100-continue"},
                                access_key=bob.access_key, secret_key=bob.secret_key)
    assert _refused_before_the_body(endpoint, head) == (403, "AccessDenied")
    assert root.list_objects_v2(Bucket=name)["KeyCount"] == 0
    # With WRITE granted the same request is continued and stored.
    root.put_bucket_acl(Bucket=name, GrantWrite=f"id={bob.canonical_id}",
                        GrantFullControl=f"id={root.get_bucket_acl(Bucket=name)['Owner']['ID']}")
    conn = sup.RawHTTP(endpoint)
    try:
        conn.send(head)
        interim = conn.read_head(timeout=3)
        assert interim is not None and interim[0] == 100, interim
        conn.send(body)
        final = conn.read_final(timeout=10)
        assert final is not None and final[0] == 200, final
    finally:
        conn.close()
    bobs_client = sup.make_client(endpoint, bob.access_key, bob.secret_key)  # bob owns what he wrote
    assert bobs_client.get_object(Bucket=name, Key="bobs")["Body"].read() == body
