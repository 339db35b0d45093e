"""Access control lists: canned ACLs, x-amz-grant-* headers, Get/Put Bucket/Object ACL,
and their enforcement between the owner, a second user and anonymous requesters.

Expected behaviour from the AWS documentation (acl-overview.html, "Canned ACL",
"Permissions that you can grant"): on a bucket READ lists objects, WRITE creates,
overwrites and deletes objects; on an object READ reads data and metadata; READ_ACP /
WRITE_ACP read / write the ACL itself (the owner of a resource always may); FULL_CONTROL
is all of them. Bucket configuration (CORS, location, deletion) is the owner's only.

Runs its own server: root (owner of everything created below) plus users bob and carol
from a --config file. Anonymous requests go through boto3 with UNSIGNED.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
import requests
from botocore import UNSIGNED
from botocore.exceptions import ClientError

import s3support as sup

ENFORCED = pytest.mark.shoebox_only("moto stores ACLs but does not enforce them, and has a single user")

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


@dataclass
class Env:
    endpoint: str
    clients: dict
    ids: dict
    users: dict


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("acl")
    (base / "data").mkdir()
    bob, carol = sup.make_user("bob"), sup.make_user("carol")
    config = sup.write_config(base / "users.json", [bob, carol])
    server = sup.ServerProcess(sup.TARGET, base / "data", base, config=config)
    server.start()
    ep = server.endpoint
    clients = {
        "root": sup.make_client(ep),
        "bob": sup.make_client(ep, bob.access_key, bob.secret_key),
        "carol": sup.make_client(ep, carol.access_key, carol.secret_key),
        "anon": sup.make_client(ep, signature_version=UNSIGNED),
    }
    # root's canonical id as its ACLs show it (moto's ListBuckets shows another id)
    scratch = new_name()
    clients["root"].create_bucket(Bucket=scratch)
    root_id = clients["root"].get_bucket_acl(Bucket=scratch)["Owner"]["ID"]
    ids = {"root": root_id, "bob": bob.canonical_id, "carol": carol.canonical_id}
    yield Env(ep, clients, ids, {"bob": bob, "carol": carol})
    server.stop()


def new_name() -> str:
    return "cf-acl-" + uuid.uuid4().hex[:14]


def outcome(call) -> str:
    """'ok', or the error code (HEAD has none: its status as a string)."""
    try:
        call()
        return "ok"
    except ClientError as e:
        return sup.error_code(e)


def denied(code: str) -> bool:
    return code in ("AccessDenied", "403")


def grants_of(acl: dict) -> set[tuple[str, str, str]]:
    """{(kind, who, permission)}: kind 'id' (canonical user) or 'uri' (group)."""
    out = set()
    for g in acl["Grants"]:
        grantee = g["Grantee"]
        if grantee["Type"] == "CanonicalUser":
            out.add(("id", grantee["ID"], g["Permission"]))
        elif grantee["Type"] == "Group":
            out.add(("uri", grantee["URI"], g["Permission"]))
        else:
            out.add((grantee["Type"], grantee.get("EmailAddress", ""), g["Permission"]))
    return out


# --------------------------------------------------------------------------
# the matrices
# --------------------------------------------------------------------------

BUCKET_OPS = ["list", "put", "delete", "get-acl", "put-acl"]

# canned bucket ACL -> actor -> operations allowed (the owner may do everything)
BUCKET_MATRIX = {
    "private": {"bob": set(), "anon": set()},
    "public-read": {"bob": {"list"}, "anon": {"list"}},
    "public-read-write": {"bob": {"list", "put", "delete"}, "anon": {"list", "put", "delete"}},
    "authenticated-read": {"bob": {"list"}, "anon": set()},
}


def bucket_op(env: Env, actor: str, op: str, bucket: str, canned: str) -> str:
    c = env.clients[actor]
    if op == "list":
        return outcome(lambda: c.list_objects_v2(Bucket=bucket))
    if op == "put":
        return outcome(lambda: c.put_object(Bucket=bucket, Key=f"by-{actor}-{uuid.uuid4().hex[:6]}", Body=b"w"))
    if op == "delete":
        env.clients["root"].put_object(Bucket=bucket, Key="victim", Body=b"v")
        return outcome(lambda: c.delete_object(Bucket=bucket, Key="victim"))
    if op == "get-acl":
        return outcome(lambda: c.get_bucket_acl(Bucket=bucket))
    if op == "put-acl":
        return outcome(lambda: c.put_bucket_acl(Bucket=bucket, ACL=canned))  # same ACL again
    raise ValueError(op)


@ENFORCED
@pytest.mark.parametrize("canned", list(BUCKET_MATRIX))
def test_bucket_canned_acl_matrix(env, canned):
    bucket = new_name()
    env.clients["root"].create_bucket(Bucket=bucket, ACL=canned)
    wrong = []
    for actor in ("root", "bob", "anon"):
        allowed = set(BUCKET_OPS) if actor == "root" else BUCKET_MATRIX[canned][actor]
        for op in BUCKET_OPS:
            got = bucket_op(env, actor, op, bucket, canned)
            want_ok = op in allowed
            if (got == "ok") != want_ok or (not want_ok and not denied(got)):
                wrong.append(f"{actor} {op}: got {got}, expected {'ok' if want_ok else 'AccessDenied'}")
    assert not wrong, f"bucket ACL {canned}:\n" + "\n".join(wrong)
    # deleting the bucket stays the owner's, whatever the ACL
    for actor in ("bob", "anon"):
        assert denied(outcome(lambda: env.clients[actor].delete_bucket(Bucket=bucket)))


OBJECT_OPS = ["get", "head", "get-acl", "put-acl"]

# canned object ACL (object and bucket owned by root, bucket private) -> actor -> allowed
OBJECT_MATRIX = {
    "private": {"bob": set(), "anon": set()},
    "public-read": {"bob": {"get", "head"}, "anon": {"get", "head"}},
    "public-read-write": {"bob": {"get", "head"}, "anon": {"get", "head"}},
    "authenticated-read": {"bob": {"get", "head"}, "anon": set()},
    # the object owner is the bucket owner: nothing more than private
    "bucket-owner-read": {"bob": set(), "anon": set()},
    "bucket-owner-full-control": {"bob": set(), "anon": set()},
}


def object_op(env: Env, actor: str, op: str, bucket: str, key: str, canned: str) -> str:
    c = env.clients[actor]
    if op == "get":
        return outcome(lambda: c.get_object(Bucket=bucket, Key=key)["Body"].read())
    if op == "head":
        return outcome(lambda: c.head_object(Bucket=bucket, Key=key))
    if op == "get-acl":
        return outcome(lambda: c.get_object_acl(Bucket=bucket, Key=key))
    if op == "put-acl":
        return outcome(lambda: c.put_object_acl(Bucket=bucket, Key=key, ACL=canned))
    raise ValueError(op)


@ENFORCED
@pytest.mark.parametrize("canned", list(OBJECT_MATRIX))
def test_object_canned_acl_matrix(env, canned):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="obj", Body=b"object data", ACL=canned)
    wrong = []
    for actor in ("root", "bob", "anon"):
        allowed = set(OBJECT_OPS) if actor == "root" else OBJECT_MATRIX[canned][actor]
        for op in OBJECT_OPS:
            got = object_op(env, actor, op, bucket, "obj", canned)
            want_ok = op in allowed
            if (got == "ok") != want_ok or (not want_ok and not denied(got)):
                wrong.append(f"{actor} {op}: got {got}, expected {'ok' if want_ok else 'AccessDenied'}")
        # the bucket is private: nobody else may write or delete in it
        if actor != "root":
            for op in ("put", "delete", "list"):
                got = bucket_op(env, actor, op, bucket, "private")
                if not denied(got):
                    wrong.append(f"{actor} {op} in private bucket: got {got}, expected AccessDenied")
    assert not wrong, f"object ACL {canned}:\n" + "\n".join(wrong)
    assert root.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"object data"


@ENFORCED
def test_public_read_object_raw_http(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="pub/photo one.txt", Body=b"public!", ACL="public-read",
                    ContentType="text/plain")
    root.put_object(Bucket=bucket, Key="priv.txt", Body=b"private")
    url = f"{env.endpoint}/{bucket}/{sup.quote_key('pub/photo one.txt')}"
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200
    assert resp.content == b"public!"
    assert resp.headers["Content-Type"] == "text/plain"
    assert requests.head(url, timeout=30).status_code == 200
    assert requests.get(url, headers={"Range": "bytes=1-3"}, timeout=30).content == b"ubl"
    assert requests.get(f"{env.endpoint}/{bucket}/priv.txt", timeout=30).status_code == 403
    # the object is readable, the bucket still is not listable, nor writable
    assert requests.get(f"{env.endpoint}/{bucket}", timeout=30).status_code == 403
    assert requests.put(f"{env.endpoint}/{bucket}/pub/photo one.txt", data=b"x", timeout=30).status_code == 403
    assert requests.delete(url, timeout=30).status_code == 403
    assert root.get_object(Bucket=bucket, Key="pub/photo one.txt")["Body"].read() == b"public!"


@ENFORCED
def test_missing_key_404_only_for_listers(env):
    # S3 reports a missing key as NoSuchKey only to requesters who may list the bucket
    pub, priv = new_name(), new_name()
    env.clients["root"].create_bucket(Bucket=pub, ACL="public-read")
    env.clients["root"].create_bucket(Bucket=priv)
    assert outcome(lambda: env.clients["anon"].get_object(Bucket=pub, Key="nope")) == "NoSuchKey"
    assert outcome(lambda: env.clients["bob"].get_object(Bucket=pub, Key="nope")) == "NoSuchKey"
    assert outcome(lambda: env.clients["anon"].get_object(Bucket=priv, Key="nope")) == "AccessDenied"
    assert outcome(lambda: env.clients["bob"].get_object(Bucket=priv, Key="nope")) == "AccessDenied"


@ENFORCED
def test_public_read_write_bucket_writes(env):
    bucket = new_name()
    root, bob, anon = env.clients["root"], env.clients["bob"], env.clients["anon"]
    root.create_bucket(Bucket=bucket, ACL="public-read-write")
    root.put_object(Bucket=bucket, Key="roots", Body=b"root")
    anon.put_object(Bucket=bucket, Key="anon-upload", Body=b"anon")
    bob.put_object(Bucket=bucket, Key="bobs", Body=b"bob")
    listing = root.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
    assert sorted(o["Key"] for o in listing) == ["anon-upload", "bobs", "roots"]
    owners = {o["Key"]: o.get("Owner", {}).get("ID") for o in listing}
    assert owners["bobs"] == env.ids["bob"]
    assert owners["roots"] == env.ids["root"]
    # WRITE on the bucket: others may overwrite and delete any object in it
    bob.put_object(Bucket=bucket, Key="roots", Body=b"overwritten by bob")
    anon.delete_object(Bucket=bucket, Key="bobs")
    assert sorted(o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]) == ["anon-upload", "roots"]
    # ...but not read objects they do not own: bucket WRITE is no object READ
    assert denied(outcome(lambda: anon.get_object(Bucket=bucket, Key="roots")))
    # and the bucket configuration stays the owner's
    assert denied(outcome(lambda: bob.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})))
    assert denied(outcome(lambda: bob.get_bucket_location(Bucket=bucket)))
    assert denied(outcome(lambda: bob.delete_bucket(Bucket=bucket)))
    assert denied(outcome(lambda: anon.put_bucket_acl(Bucket=bucket, ACL="private")))
    assert denied(outcome(lambda: bob.get_bucket_acl(Bucket=bucket)))


@ENFORCED
def test_bucket_owner_canned_acls(env):
    # bob writes into root's bucket (root granted him WRITE); the bucket-owner-* ACLs
    # decide what root, the bucket owner, may do with bob's objects.
    bucket = new_name()
    root, bob, carol = env.clients["root"], env.clients["bob"], env.clients["carol"]
    root.create_bucket(Bucket=bucket, GrantWrite=f'id="{env.ids["bob"]}"',
                       GrantFullControl=f'id="{env.ids["root"]}"')
    bob.put_object(Bucket=bucket, Key="default", Body=b"d")
    bob.put_object(Bucket=bucket, Key="owner-read", Body=b"r", ACL="bucket-owner-read")
    bob.put_object(Bucket=bucket, Key="owner-full", Body=b"f", ACL="bucket-owner-full-control")

    # the object writer owns the object; a private object is not readable by the bucket owner
    assert denied(outcome(lambda: root.get_object(Bucket=bucket, Key="default")))
    assert root.get_object(Bucket=bucket, Key="owner-read")["Body"].read() == b"r"
    assert denied(outcome(lambda: root.get_object_acl(Bucket=bucket, Key="owner-read")))
    assert root.get_object(Bucket=bucket, Key="owner-full")["Body"].read() == b"f"
    acl = root.get_object_acl(Bucket=bucket, Key="owner-full")
    assert acl["Owner"]["ID"] == env.ids["bob"]
    assert grants_of(acl) == {("id", env.ids["bob"], "FULL_CONTROL"), ("id", env.ids["root"], "FULL_CONTROL")}
    acl = bob.get_object_acl(Bucket=bucket, Key="owner-read")
    assert grants_of(acl) == {("id", env.ids["bob"], "FULL_CONTROL"), ("id", env.ids["root"], "READ")}
    # carol has nothing
    for key in ("default", "owner-read", "owner-full"):
        assert denied(outcome(lambda: carol.get_object(Bucket=bucket, Key=key)))
    # bob may not list root's bucket (WRITE only), root may; root may delete bob's objects
    assert denied(outcome(lambda: bob.list_objects_v2(Bucket=bucket)))
    assert sorted(o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]) == \
        ["default", "owner-full", "owner-read"]
    root.delete_object(Bucket=bucket, Key="default")
    assert sorted(o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]) == ["owner-full", "owner-read"]


# --------------------------------------------------------------------------
# grant headers
# --------------------------------------------------------------------------


@ENFORCED
@pytest.mark.parametrize("form", ["id", "emailAddress"])
def test_grant_read_header_on_object(env, form):
    bucket = new_name()
    root, bob, carol, anon = (env.clients[a] for a in ("root", "bob", "carol", "anon"))
    root.create_bucket(Bucket=bucket)
    who = env.ids["bob"] if form == "id" else env.users["bob"].email
    root.put_object(Bucket=bucket, Key="shared", Body=b"for bob", GrantRead=f'{form}="{who}"',
                    GrantFullControl=f'id="{env.ids["root"]}"')
    assert bob.get_object(Bucket=bucket, Key="shared")["Body"].read() == b"for bob"
    assert denied(outcome(lambda: carol.get_object(Bucket=bucket, Key="shared")))
    assert denied(outcome(lambda: anon.get_object(Bucket=bucket, Key="shared")))
    assert denied(outcome(lambda: bob.get_object_acl(Bucket=bucket, Key="shared")))
    acl = root.get_object_acl(Bucket=bucket, Key="shared")
    assert acl["Owner"]["ID"] == env.ids["root"]
    # a grant by e-mail is stored (and shown) as the user's canonical id
    assert grants_of(acl) == {("id", env.ids["bob"], "READ"), ("id", env.ids["root"], "FULL_CONTROL")}
    bob_grant = [g for g in acl["Grants"] if g["Grantee"].get("ID") == env.ids["bob"]][0]
    assert bob_grant["Grantee"].get("DisplayName") == "bob"


@ENFORCED
def test_grant_headers_on_bucket(env):
    bucket = new_name()
    root, bob, carol, anon = (env.clients[a] for a in ("root", "bob", "carol", "anon"))
    root.create_bucket(Bucket=bucket, GrantRead=f'id="{env.ids["bob"]}"',
                       GrantWrite=f'emailAddress="{env.users["carol"].email}"',
                       GrantReadACP=f'uri="{ALL_USERS}"',
                       GrantFullControl=f'id="{env.ids["root"]}"')
    acl = root.get_bucket_acl(Bucket=bucket)
    assert grants_of(acl) == {("id", env.ids["bob"], "READ"), ("id", env.ids["carol"], "WRITE"),
                              ("uri", ALL_USERS, "READ_ACP"), ("id", env.ids["root"], "FULL_CONTROL")}
    assert bob.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert denied(outcome(lambda: bob.put_object(Bucket=bucket, Key="b", Body=b"")))
    carol.put_object(Bucket=bucket, Key="c", Body=b"carol's")
    assert denied(outcome(lambda: carol.list_objects_v2(Bucket=bucket)))
    assert [o["Key"] for o in bob.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]
    # READ_ACP for everyone: anyone may read the ACL, nobody else may change it or list
    assert grants_of(anon.get_bucket_acl(Bucket=bucket)) == grants_of(acl)
    assert denied(outcome(lambda: anon.list_objects_v2(Bucket=bucket)))
    assert denied(outcome(lambda: bob.put_bucket_acl(Bucket=bucket, ACL="public-read-write")))


@ENFORCED
def test_grant_uri_all_users_and_authenticated(env):
    bucket = new_name()
    root, bob, anon = env.clients["root"], env.clients["bob"], env.clients["anon"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="everyone", Body=b"e", GrantRead=f'uri="{ALL_USERS}"')
    root.put_object(Bucket=bucket, Key="signed-in", Body=b"s", GrantRead=f'uri="{AUTH_USERS}"')
    assert anon.get_object(Bucket=bucket, Key="everyone")["Body"].read() == b"e"
    assert bob.get_object(Bucket=bucket, Key="everyone")["Body"].read() == b"e"
    assert bob.get_object(Bucket=bucket, Key="signed-in")["Body"].read() == b"s"
    assert denied(outcome(lambda: anon.get_object(Bucket=bucket, Key="signed-in")))


@ENFORCED
def test_grant_several_grantees_in_one_header(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x",
                    GrantRead=f'id="{env.ids["bob"]}", emailAddress="{env.users["carol"].email}"',
                    GrantFullControl=f'id="{env.ids["root"]}"')
    assert env.clients["bob"].get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert env.clients["carol"].get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert denied(outcome(lambda: env.clients["anon"].get_object(Bucket=bucket, Key="k")))


@ENFORCED
def test_grant_full_control_to_other_user(env):
    bucket = new_name()
    root, bob = env.clients["root"], env.clients["bob"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x", GrantFullControl=f'id="{env.ids["bob"]}"')
    assert bob.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert grants_of(bob.get_object_acl(Bucket=bucket, Key="k")) == {("id", env.ids["bob"], "FULL_CONTROL")}
    bob.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")  # WRITE_ACP
    assert env.clients["anon"].get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    # public-read set by bob: the owner stays root, and the FULL_CONTROL grant goes to root
    acl = root.get_object_acl(Bucket=bucket, Key="k")
    assert acl["Owner"]["ID"] == env.ids["root"]
    assert grants_of(acl) == {("id", env.ids["root"], "FULL_CONTROL"), ("uri", ALL_USERS, "READ")}


@ENFORCED
@pytest.mark.parametrize("header,value,code", [
    ("GrantRead", 'id="' + "0" * 64 + '"', "InvalidArgument"),
    ("GrantRead", 'emailAddress="nobody@example.invalid"', "UnresolvableGrantByEmailAddress"),
    ("GrantRead", 'uri="http://acs.amazonaws.com/groups/global/Nobody"', "InvalidArgument"),
    ("GrantRead", "nonsense", "InvalidArgument"),
])
def test_bad_grant_headers(env, header, value, code):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as ei:
        root.put_object(Bucket=bucket, Key="k", Body=b"x", **{header: value})
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == code
    with pytest.raises(ClientError) as ei:
        root.create_bucket(Bucket=new_name(), **{header: value})
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == code
    assert root.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@ENFORCED
def test_canned_and_grant_headers_together(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as ei:
        root.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read", GrantRead=f'id="{env.ids["bob"]}"')
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "InvalidRequest"
    with pytest.raises(ClientError) as ei:
        root.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="world-readable")
    assert sup.http_status(ei.value) == 400
    assert sup.error_code(ei.value) == "InvalidArgument"
    assert root.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# --------------------------------------------------------------------------
# AccessControlPolicy documents
# --------------------------------------------------------------------------


def policy(owner_id: str, *grants) -> dict:
    return {"Owner": {"ID": owner_id}, "Grants": [{"Grantee": g, "Permission": p} for g, p in grants]}


def user_grantee(canonical_id: str) -> dict:
    return {"Type": "CanonicalUser", "ID": canonical_id}


def email_grantee(email: str) -> dict:
    return {"Type": "AmazonCustomerByEmail", "EmailAddress": email}


def group_grantee(uri: str) -> dict:
    return {"Type": "Group", "URI": uri}


@ENFORCED
def test_put_object_acl_policy_by_id_email_and_groups(env):
    bucket = new_name()
    root, bob, carol, anon = (env.clients[a] for a in ("root", "bob", "carol", "anon"))
    root.create_bucket(Bucket=bucket)
    for k in ("by-id", "by-email", "all-users", "auth-users"):
        root.put_object(Bucket=bucket, Key=k, Body=k.encode())
    rid = env.ids["root"]
    owner_full = (user_grantee(rid), "FULL_CONTROL")
    root.put_object_acl(Bucket=bucket, Key="by-id", AccessControlPolicy=policy(
        rid, owner_full, (user_grantee(env.ids["bob"]), "READ")))
    root.put_object_acl(Bucket=bucket, Key="by-email", AccessControlPolicy=policy(
        rid, owner_full, (email_grantee(env.users["carol"].email), "READ")))
    root.put_object_acl(Bucket=bucket, Key="all-users", AccessControlPolicy=policy(
        rid, owner_full, (group_grantee(ALL_USERS), "READ")))
    root.put_object_acl(Bucket=bucket, Key="auth-users", AccessControlPolicy=policy(
        rid, owner_full, (group_grantee(AUTH_USERS), "READ")))

    expect = {  # key -> who may read
        "by-id": {"bob"}, "by-email": {"carol"}, "all-users": {"bob", "carol", "anon"},
        "auth-users": {"bob", "carol"},
    }
    wrong = []
    for key, readers in expect.items():
        for actor in ("bob", "carol", "anon"):
            got = outcome(lambda: env.clients[actor].get_object(Bucket=bucket, Key=key)["Body"].read())
            if (got == "ok") != (actor in readers):
                wrong.append(f"{actor} GET {key}: {got}")
    assert not wrong, "\n".join(wrong)
    assert grants_of(root.get_object_acl(Bucket=bucket, Key="by-email")) == {
        ("id", rid, "FULL_CONTROL"), ("id", env.ids["carol"], "READ")}
    assert grants_of(root.get_object_acl(Bucket=bucket, Key="auth-users")) == {
        ("id", rid, "FULL_CONTROL"), ("uri", AUTH_USERS, "READ")}


@ENFORCED
def test_put_bucket_acl_policy_acp_permissions(env):
    bucket = new_name()
    root, bob, carol, anon = (env.clients[a] for a in ("root", "bob", "carol", "anon"))
    root.create_bucket(Bucket=bucket)
    rid = env.ids["root"]
    root.put_bucket_acl(Bucket=bucket, AccessControlPolicy=policy(
        rid, (user_grantee(rid), "FULL_CONTROL"),
        (user_grantee(env.ids["bob"]), "READ_ACP"),
        (email_grantee(env.users["carol"].email), "WRITE_ACP")))
    # bob: may read the ACL, nothing else
    acl = bob.get_bucket_acl(Bucket=bucket)
    assert grants_of(acl) == {("id", rid, "FULL_CONTROL"), ("id", env.ids["bob"], "READ_ACP"),
                              ("id", env.ids["carol"], "WRITE_ACP")}
    assert denied(outcome(lambda: bob.list_objects_v2(Bucket=bucket)))
    assert denied(outcome(lambda: bob.put_bucket_acl(Bucket=bucket, ACL="public-read")))
    # carol: may change the ACL without reading it
    assert denied(outcome(lambda: carol.get_bucket_acl(Bucket=bucket)))
    assert denied(outcome(lambda: anon.list_objects_v2(Bucket=bucket)))
    carol.put_bucket_acl(Bucket=bucket, AccessControlPolicy=policy(
        rid, (user_grantee(rid), "FULL_CONTROL"), (group_grantee(ALL_USERS), "READ")))
    assert anon.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert denied(outcome(lambda: carol.put_bucket_acl(Bucket=bucket, ACL="private")))  # WRITE_ACP gone
    assert grants_of(root.get_bucket_acl(Bucket=bucket)) == {("id", rid, "FULL_CONTROL"), ("uri", ALL_USERS, "READ")}


@ENFORCED
def test_owner_keeps_acl_access(env):
    # "the owner of a resource ... always has READ_ACP and WRITE_ACP": an ACL without
    # grants does not lock the owner out of the ACL
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x")
    root.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=policy(env.ids["root"]))
    assert grants_of(root.get_object_acl(Bucket=bucket, Key="k")) == set()
    root.put_object_acl(Bucket=bucket, Key="k", ACL="private")
    assert root.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


@ENFORCED
@pytest.mark.parametrize("grantee,code", [
    (user_grantee("0" * 64), "InvalidArgument"),
    (email_grantee("nobody@example.invalid"), "UnresolvableGrantByEmailAddress"),
])
def test_put_acl_policy_unknown_grantee(env, grantee, code):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x")
    doc = policy(env.ids["root"], (user_grantee(env.ids["root"]), "FULL_CONTROL"), (grantee, "READ"))
    for call in (lambda: root.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=doc),
                 lambda: root.put_bucket_acl(Bucket=bucket, AccessControlPolicy=doc)):
        with pytest.raises(ClientError) as ei:
            call()
        assert sup.http_status(ei.value) == 400
        assert sup.error_code(ei.value) == code
    # unchanged
    assert grants_of(root.get_object_acl(Bucket=bucket, Key="k")) == {("id", env.ids["root"], "FULL_CONTROL")}
    assert grants_of(root.get_bucket_acl(Bucket=bucket)) == {("id", env.ids["root"], "FULL_CONTROL")}


@ENFORCED
def test_put_acl_malformed(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = f"{env.endpoint}/{bucket}/k?acl"
    for body in (b"not xml", b"<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission>"
                             b"</Grant></AccessControlList></AccessControlPolicy>"):
        resp = sup.signed_request("PUT", url, body=body)
        assert resp.status_code == 400, resp.text
        assert sup.parse_error(resp.content)["Code"] == "MalformedACLError"
    assert grants_of(root.get_object_acl(Bucket=bucket, Key="k")) == {("id", env.ids["root"], "FULL_CONTROL")}


# --------------------------------------------------------------------------
# ACLs on other writes
# --------------------------------------------------------------------------


@ENFORCED
def test_overwrite_resets_acl(env):
    bucket = new_name()
    root, anon = env.clients["root"], env.clients["anon"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"v1", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    root.put_object(Bucket=bucket, Key="k", Body=b"v2")  # a new object: default (private) ACL
    assert denied(outcome(lambda: anon.get_object(Bucket=bucket, Key="k")))


@ENFORCED
def test_copy_object_acl(env):
    bucket = new_name()
    root, anon = env.clients["root"], env.clients["anon"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="src", Body=b"source", ACL="public-read")
    root.copy_object(Bucket=bucket, Key="copy-default", CopySource={"Bucket": bucket, "Key": "src"})
    root.copy_object(Bucket=bucket, Key="copy-public", CopySource={"Bucket": bucket, "Key": "src"},
                     ACL="public-read")
    root.copy_object(Bucket=bucket, Key="copy-granted", CopySource={"Bucket": bucket, "Key": "src"},
                     GrantRead=f'id="{env.ids["bob"]}"')
    # the source's ACL is not copied
    assert denied(outcome(lambda: anon.get_object(Bucket=bucket, Key="copy-default")))
    assert anon.get_object(Bucket=bucket, Key="copy-public")["Body"].read() == b"source"
    assert env.clients["bob"].get_object(Bucket=bucket, Key="copy-granted")["Body"].read() == b"source"
    assert denied(outcome(lambda: anon.get_object(Bucket=bucket, Key="copy-granted")))
    # bob may copy a public-read object into his own bucket (READ on the source)
    mine = new_name()
    env.clients["bob"].create_bucket(Bucket=mine)
    env.clients["bob"].copy_object(Bucket=mine, Key="got", CopySource={"Bucket": bucket, "Key": "src"})
    assert env.clients["bob"].get_object(Bucket=mine, Key="got")["Body"].read() == b"source"
    assert denied(outcome(lambda: env.clients["bob"].copy_object(
        Bucket=mine, Key="nope", CopySource={"Bucket": bucket, "Key": "copy-default"})))


@ENFORCED
def test_multipart_upload_acl(env):
    bucket = new_name()
    root, anon = env.clients["root"], env.clients["anon"]
    root.create_bucket(Bucket=bucket)
    up = root.create_multipart_upload(Bucket=bucket, Key="mp", ACL="public-read")
    part = root.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"multi")
    root.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                   MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert anon.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"multi"
    assert grants_of(root.get_object_acl(Bucket=bucket, Key="mp")) == {
        ("id", env.ids["root"], "FULL_CONTROL"), ("uri", ALL_USERS, "READ")}


@ENFORCED
def test_presigned_url_acts_as_its_signer(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="private", Body=b"p")
    root.put_object(Bucket=bucket, Key="public", Body=b"q", ACL="authenticated-read")
    bob_v4 = sup.make_client(env.endpoint, env.users["bob"].access_key, env.users["bob"].secret_key,
                             signature_version="s3v4")
    bob_v2 = sup.make_client(env.endpoint, env.users["bob"].access_key, env.users["bob"].secret_key)
    for ps in (bob_v4, bob_v2):
        url = ps.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "private"}, ExpiresIn=60)
        resp = requests.get(url, timeout=30)
        assert resp.status_code == 403
        assert sup.parse_error(resp.content)["Code"] == "AccessDenied"
        url = ps.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "public"}, ExpiresIn=60)
        assert requests.get(url, timeout=30).content == b"q"


@ENFORCED
def test_post_policy_acts_as_its_signer(env):
    bucket = new_name()
    root, bob = env.clients["root"], env.clients["bob"]
    root.create_bucket(Bucket=bucket)
    bob_v4 = sup.make_client(env.endpoint, env.users["bob"].access_key, env.users["bob"].secret_key,
                             signature_version="s3v4")

    def post():
        form = bob_v4.generate_presigned_post(bucket, "from-bob", ExpiresIn=60)
        parts = [(k, (None, v)) for k, v in form["fields"].items()] + [("file", ("f", b"bob's", "text/plain"))]
        return requests.post(form["url"], files=parts, timeout=30)

    resp = post()
    assert resp.status_code == 403
    assert sup.parse_error(resp.content)["Code"] == "AccessDenied"
    assert root.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    root.put_bucket_acl(Bucket=bucket, GrantWrite=f'id="{env.ids["bob"]}"',
                        GrantFullControl=f'id="{env.ids["root"]}"')
    resp = post()
    assert resp.status_code == 204, resp.text
    listed = root.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
    assert [(o["Key"], o["Owner"]["ID"]) for o in listed] == [("from-bob", env.ids["bob"])]


# --------------------------------------------------------------------------
# document shape (also checked against moto)
# --------------------------------------------------------------------------


@pytest.mark.shoebox_only("moto's ListBuckets Owner ID differs from the ID in its ACLs")
def test_owner_id_is_consistent(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x")
    rid = root.list_buckets()["Owner"]["ID"]
    assert root.get_bucket_acl(Bucket=bucket)["Owner"]["ID"] == rid
    assert root.get_object_acl(Bucket=bucket, Key="k")["Owner"]["ID"] == rid
    assert root.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"]["ID"] == rid
    bob = env.clients["bob"]
    assert bob.list_buckets()["Owner"]["ID"] == env.ids["bob"]
    assert bob.list_buckets()["Owner"]["DisplayName"] == "bob"


def test_default_acls(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x")
    rid = env.ids["root"]
    for acl in (root.get_bucket_acl(Bucket=bucket), root.get_object_acl(Bucket=bucket, Key="k")):
        assert acl["Owner"]["ID"] == rid
        assert grants_of(acl) == {("id", rid, "FULL_CONTROL")}


@pytest.mark.parametrize("canned,extra", [
    ("private", set()),
    ("public-read", {("uri", ALL_USERS, "READ")}),
    pytest.param("public-read-write", {("uri", ALL_USERS, "READ"), ("uri", ALL_USERS, "WRITE")},
                 marks=pytest.mark.shoebox_only("moto's public-read-write bucket ACL lacks the AllUsers WRITE grant")),
    ("authenticated-read", {("uri", AUTH_USERS, "READ")}),
])
def test_canned_acl_documents(env, canned, extra):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket, ACL=canned)
    rid = env.ids["root"]
    assert grants_of(root.get_bucket_acl(Bucket=bucket)) == {("id", rid, "FULL_CONTROL")} | extra
    if canned != "public-read-write":  # WRITE has no meaning on objects; not asserted there
        root.put_object(Bucket=bucket, Key="k", Body=b"x", ACL=canned)
        assert grants_of(root.get_object_acl(Bucket=bucket, Key="k")) == {("id", rid, "FULL_CONTROL")} | extra
    root.put_bucket_acl(Bucket=bucket, ACL="private")
    assert grants_of(root.get_bucket_acl(Bucket=bucket)) == {("id", rid, "FULL_CONTROL")}


@pytest.mark.shoebox_only("moto ignores an AccessControlPolicy body on PutObjectAcl")
def test_acl_policy_round_trip_groups(env):
    bucket = new_name()
    root = env.clients["root"]
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"x")
    rid = env.ids["root"]
    root.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=policy(
        rid, (user_grantee(rid), "FULL_CONTROL"), (group_grantee(ALL_USERS), "READ"),
        (group_grantee(AUTH_USERS), "READ_ACP")))
    acl = root.get_object_acl(Bucket=bucket, Key="k")
    assert acl["Owner"]["ID"] == rid
    assert grants_of(acl) == {("id", rid, "FULL_CONTROL"), ("uri", ALL_USERS, "READ"), ("uri", AUTH_USERS, "READ_ACP")}
    root.put_object_acl(Bucket=bucket, Key="k", GrantRead=f'uri="{ALL_USERS}"', GrantFullControl=f'id="{rid}"')
    assert grants_of(root.get_object_acl(Bucket=bucket, Key="k")) == {("id", rid, "FULL_CONTROL"),
                                                                     ("uri", ALL_USERS, "READ")}
