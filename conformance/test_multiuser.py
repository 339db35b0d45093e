"""Several users (--config): each owns its buckets; others get 403 AccessDenied.

Runs its own server (root user + two users from a --config file).
"""

import uuid

import pytest
from botocore.exceptions import ClientError

import s3support as sup

pytestmark = pytest.mark.shoebox_only("moto has no per-user bucket ownership")


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    base = tmp_path_factory.mktemp("multiuser")
    (base / "data").mkdir()
    bob, carol = sup.make_user("bob"), sup.make_user("carol")
    config = sup.write_config(base / "users.json", [bob, carol])
    server = sup.ServerProcess(sup.TARGET, base / "data", base, config=config)
    server.start()
    clients = {
        "root": sup.make_client(server.endpoint),
        "bob": sup.make_client(server.endpoint, bob.access_key, bob.secret_key),
        "carol": sup.make_client(server.endpoint, carol.access_key, carol.secret_key),
    }
    yield clients, {"bob": bob, "carol": carol}
    server.stop()


@pytest.fixture
def root_bucket(multi):
    clients, _ = multi
    name = "cf-root-" + uuid.uuid4().hex[:12]
    clients["root"].create_bucket(Bucket=name)
    clients["root"].put_object(Bucket=name, Key="secret.txt", Body=b"root's data")
    return name


def _denied(call):
    with pytest.raises(ClientError) as ei:
        call()
    assert sup.http_status(ei.value) == 403, ei.value.response
    code = sup.error_code(ei.value)
    assert code in ("AccessDenied", "403"), code  # HEAD has no body: code "403"
    return code


def test_other_user_cannot_read_or_list(multi, root_bucket):
    clients, _ = multi
    bob = clients["bob"]
    assert _denied(lambda: bob.list_objects_v2(Bucket=root_bucket)) == "AccessDenied"
    assert _denied(lambda: bob.list_objects(Bucket=root_bucket)) == "AccessDenied"
    assert _denied(lambda: bob.get_object(Bucket=root_bucket, Key="secret.txt")) == "AccessDenied"
    _denied(lambda: bob.head_object(Bucket=root_bucket, Key="secret.txt"))
    _denied(lambda: bob.head_bucket(Bucket=root_bucket))
    assert _denied(lambda: bob.get_bucket_location(Bucket=root_bucket)) == "AccessDenied"
    # a missing key in someone else's bucket is still 403, not 404
    assert _denied(lambda: bob.get_object(Bucket=root_bucket, Key="no-such-key")) == "AccessDenied"


def test_other_user_cannot_write_or_delete(multi, root_bucket):
    clients, _ = multi
    root, bob = clients["root"], clients["bob"]
    assert _denied(lambda: bob.put_object(Bucket=root_bucket, Key="intruder", Body=b"x")) == "AccessDenied"
    assert _denied(lambda: bob.delete_object(Bucket=root_bucket, Key="secret.txt")) == "AccessDenied"
    assert _denied(lambda: bob.delete_bucket(Bucket=root_bucket)) == "AccessDenied"
    try:
        resp = bob.delete_objects(Bucket=root_bucket, Delete={"Objects": [{"Key": "secret.txt"}]})
        # AWS may answer 200 with a per-key AccessDenied error instead of a 403
        assert [e["Code"] for e in resp.get("Errors", [])] == ["AccessDenied"]
        assert resp.get("Deleted", []) == []
    except ClientError as e:
        assert sup.http_status(e) == 403
        assert sup.error_code(e) == "AccessDenied"
    # everything is intact
    assert root.get_object(Bucket=root_bucket, Key="secret.txt")["Body"].read() == b"root's data"
    assert [o["Key"] for o in root.list_objects_v2(Bucket=root_bucket)["Contents"]] == ["secret.txt"]


def test_other_user_cannot_copy_out_or_in(multi, root_bucket):
    clients, _ = multi
    root, bob = clients["root"], clients["bob"]
    mine = "cf-bob-" + uuid.uuid4().hex[:12]
    bob.create_bucket(Bucket=mine)
    bob.put_object(Bucket=mine, Key="bobs.txt", Body=b"bob")
    # read side: copying root's object into bob's bucket
    assert _denied(lambda: bob.copy_object(Bucket=mine, Key="stolen",
                                           CopySource={"Bucket": root_bucket, "Key": "secret.txt"})) == "AccessDenied"
    # write side: copying bob's object into root's bucket
    assert _denied(lambda: bob.copy_object(Bucket=root_bucket, Key="planted",
                                           CopySource={"Bucket": mine, "Key": "bobs.txt"})) == "AccessDenied"
    assert [o["Key"] for o in bob.list_objects_v2(Bucket=mine)["Contents"]] == ["bobs.txt"]
    assert [o["Key"] for o in root.list_objects_v2(Bucket=root_bucket)["Contents"]] == ["secret.txt"]


def test_list_buckets_shows_only_own(multi, root_bucket):
    clients, users = multi
    bob, carol, root = clients["bob"], clients["carol"], clients["root"]
    bobs = "cf-bob-" + uuid.uuid4().hex[:12]
    bob.create_bucket(Bucket=bobs)
    bob_list = bob.list_buckets()
    bob_names = {b["Name"] for b in bob_list["Buckets"]}
    assert bobs in bob_names
    assert root_bucket not in bob_names
    assert bob_list["Owner"]["ID"] == users["bob"].canonical_id
    root_names = {b["Name"] for b in root.list_buckets()["Buckets"]}
    assert root_bucket in root_names and bobs not in root_names
    carol_list = carol.list_buckets()
    assert bobs not in {b["Name"] for b in carol_list["Buckets"]}
    assert root_bucket not in {b["Name"] for b in carol_list["Buckets"]}
    assert carol_list["Owner"]["ID"] == users["carol"].canonical_id


def test_object_owner_is_bucket_user(multi):
    clients, users = multi
    bob = clients["bob"]
    name = "cf-bob-" + uuid.uuid4().hex[:12]
    bob.create_bucket(Bucket=name)
    bob.put_object(Bucket=name, Key="k", Body=b"")
    owner = bob.list_objects_v2(Bucket=name, FetchOwner=True)["Contents"][0]["Owner"]
    assert owner["ID"] == users["bob"].canonical_id


def test_create_bucket_owned_by_other_user(multi, root_bucket):
    clients, _ = multi
    for who in ("bob", "carol"):
        with pytest.raises(ClientError) as ei:
            clients[who].create_bucket(Bucket=root_bucket)
        assert sup.http_status(ei.value) == 409
        assert sup.error_code(ei.value) == "BucketAlreadyExists"
    # and the bucket still belongs to root, with its data
    assert clients["root"].get_object(Bucket=root_bucket, Key="secret.txt")["Body"].read() == b"root's data"
    # the reverse direction too
    bobs = "cf-bob-" + uuid.uuid4().hex[:12]
    clients["bob"].create_bucket(Bucket=bobs)
    with pytest.raises(ClientError) as ei:
        clients["root"].create_bucket(Bucket=bobs)
    assert sup.error_code(ei.value) == "BucketAlreadyExists"


def test_each_user_has_own_secret(multi, root_bucket):
    # bob's access key with carol's secret is a signature failure, not access
    _, users = multi
    clients, _ = multi
    endpoint = clients["root"].meta.endpoint_url
    mixed = sup.make_client(endpoint, users["bob"].access_key, users["carol"].secret_key)
    with pytest.raises(ClientError) as ei:
        mixed.list_buckets()
    assert sup.http_status(ei.value) == 403
    assert sup.error_code(ei.value) == "SignatureDoesNotMatch"
