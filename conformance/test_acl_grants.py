"""The exact grant lists of canned ACLs, and x-amz-expected-bucket-owner.

AWS documents each canned ACL's grants ("Canned ACL" in acl-overview.html): the owner's
FULL_CONTROL first, then the group grants; `bucket-owner-read` / `bucket-owner-full-control`
add a grant to the bucket owner when someone else writes the object (and mean `private` on
a bucket). Every grantee is complete: a CanonicalUser has Type, ID and DisplayName, a Group
Type and URI, nothing else, so code that compares whole grant dictionaries, or sorts them
(as the S3 test suites do), works.

`x-amz-expected-bucket-owner` (API reference, "Verifying bucket ownership"): a request whose
bucket is not owned by the expected owner is refused with 403 AccessDenied, whatever the
operation; a matching value changes nothing. AWS compares account ids; Shoebox compares
the bucket owner's canonical user id.

Runs its own server, with the fixture of test_acl.py: root, users bob and carol, anonymous.
"""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

import s3support as sup
# The server of test_acl (root, bob, carol, anonymous), started once more for this module.
from test_acl import ALL_USERS, AUTH_USERS, Env, env, new_name  # noqa: F401

pytestmark = pytest.mark.shoebox_only("needs several users (moto has one)")


def user(env: Env, who: str, permission: str) -> dict:
    """A grant to a user, as boto3 parses the one AWS sends."""
    return {"Grantee": {"Type": "CanonicalUser", "ID": env.ids[who], "DisplayName": who}, "Permission": permission}


def group(uri: str, permission: str) -> dict:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def owner(env: Env, who: str) -> dict:
    return {"ID": env.ids[who], "DisplayName": who}


def canned_grants(env: Env, canned: str, writer: str, bucket_owner: str) -> list[dict]:
    """The grants AWS lists, in its order, for `canned` set by (or for) `writer` on an
    object in a bucket of `bucket_owner` (the same user for a bucket ACL)."""
    grants = [user(env, writer, "FULL_CONTROL")]
    if canned == "public-read":
        grants.append(group(ALL_USERS, "READ"))
    elif canned == "public-read-write":
        grants += [group(ALL_USERS, "READ"), group(ALL_USERS, "WRITE")]
    elif canned == "authenticated-read":
        grants.append(group(AUTH_USERS, "READ"))
    elif canned == "bucket-owner-read" and writer != bucket_owner:
        grants.append(user(env, bucket_owner, "READ"))
    elif canned == "bucket-owner-full-control" and writer != bucket_owner:
        grants.append(user(env, bucket_owner, "FULL_CONTROL"))
    return grants


def grant_key(grant: dict) -> tuple:
    """A sort key over whole grants, as client code writes one."""
    g = grant["Grantee"]
    return (g["Type"], g.get("ID", ""), g.get("URI", ""), grant["Permission"])


CANNED = ["private", "public-read", "public-read-write", "authenticated-read",
          "bucket-owner-read", "bucket-owner-full-control"]


def assert_acl(acl: dict, owner_doc: dict, grants: list[dict]) -> None:
    assert acl["Owner"] == owner_doc
    assert acl["Grants"] == grants
    # sortable and comparable as whole dictionaries
    assert sorted(acl["Grants"], key=grant_key) == sorted(grants, key=grant_key)


# --------------------------------------------------------------------------
# canned ACLs: exact grant lists
# --------------------------------------------------------------------------


@pytest.mark.parametrize("canned", CANNED)
def test_bucket_canned_acl_grants(env, canned):
    root = env.clients["root"]
    want = canned_grants(env, canned, "root", "root")
    at_create = new_name()
    root.create_bucket(Bucket=at_create, ACL=canned)
    assert_acl(root.get_bucket_acl(Bucket=at_create), owner(env, "root"), want)
    later = new_name()
    root.create_bucket(Bucket=later)
    root.put_bucket_acl(Bucket=later, ACL=canned)
    assert_acl(root.get_bucket_acl(Bucket=later), owner(env, "root"), want)


@pytest.mark.parametrize("canned", CANNED)
def test_object_canned_acl_grants_by_bucket_owner(env, canned):
    root = env.clients["root"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket)
    want = canned_grants(env, canned, "root", "root")
    root.put_object(Bucket=bucket, Key="at-create", Body=b"x", ACL=canned)
    assert_acl(root.get_object_acl(Bucket=bucket, Key="at-create"), owner(env, "root"), want)
    root.put_object(Bucket=bucket, Key="later", Body=b"x")
    root.put_object_acl(Bucket=bucket, Key="later", ACL=canned)
    assert_acl(root.get_object_acl(Bucket=bucket, Key="later"), owner(env, "root"), want)


@pytest.mark.parametrize("canned", CANNED)
def test_object_canned_acl_grants_by_other_writer(env, canned):
    # bob writes into root's bucket (root granted him WRITE): bob owns the objects, and the
    # bucket-owner-* ACLs grant root, the bucket owner
    root, bob = env.clients["root"], env.clients["bob"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket, GrantWrite=f'id="{env.ids["bob"]}"', GrantFullControl=f'id="{env.ids["root"]}"')
    want = canned_grants(env, canned, "bob", "root")
    bob.put_object(Bucket=bucket, Key="at-create", Body=b"x", ACL=canned)
    assert_acl(bob.get_object_acl(Bucket=bucket, Key="at-create"), owner(env, "bob"), want)
    bob.put_object(Bucket=bucket, Key="later", Body=b"x")
    assert_acl(bob.get_object_acl(Bucket=bucket, Key="later"), owner(env, "bob"), [user(env, "bob", "FULL_CONTROL")])
    bob.put_object_acl(Bucket=bucket, Key="later", ACL=canned)
    assert_acl(bob.get_object_acl(Bucket=bucket, Key="later"), owner(env, "bob"), want)
    up = bob.create_multipart_upload(Bucket=bucket, Key="multipart", ACL=canned)
    part = bob.upload_part(Bucket=bucket, Key="multipart", UploadId=up["UploadId"], PartNumber=1, Body=b"m")
    bob.complete_multipart_upload(Bucket=bucket, Key="multipart", UploadId=up["UploadId"],
                                  MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert_acl(bob.get_object_acl(Bucket=bucket, Key="multipart"), owner(env, "bob"), want)


def test_group_grants_by_header(env):
    root, bob, anon = env.clients["root"], env.clients["bob"], env.clients["anon"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket, GrantRead=f"uri={AUTH_USERS}", GrantFullControl=f'id="{env.ids["root"]}"')
    want = [group(AUTH_USERS, "READ"), user(env, "root", "FULL_CONTROL")]
    assert_acl(root.get_bucket_acl(Bucket=bucket), owner(env, "root"), want)
    assert bob.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    with pytest.raises(ClientError):
        anon.list_objects_v2(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"everyone", GrantRead=f'uri="{ALL_USERS}"',
                    GrantReadACP=f'uri="{AUTH_USERS}"')
    want = [group(ALL_USERS, "READ"), group(AUTH_USERS, "READ_ACP")]
    assert_acl(root.get_object_acl(Bucket=bucket, Key="k"), owner(env, "root"), want)
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"everyone"
    assert_acl(bob.get_object_acl(Bucket=bucket, Key="k"), owner(env, "root"), want)
    root.put_bucket_acl(Bucket=bucket, GrantRead=f'uri="{ALL_USERS}"', GrantWrite=f'uri="{AUTH_USERS}"',
                        GrantFullControl=f'id="{env.ids["root"]}"')
    want = [group(ALL_USERS, "READ"), group(AUTH_USERS, "WRITE"), user(env, "root", "FULL_CONTROL")]
    assert_acl(root.get_bucket_acl(Bucket=bucket), owner(env, "root"), want)
    assert anon.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_recreate_own_bucket_keeps_acl(env):
    root, bob = env.clients["root"], env.clients["bob"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket, ACL="public-read")
    want = canned_grants(env, "public-read", "root", "root")
    # us-east-1's legacy answer: re-creating your own bucket succeeds, and changes nothing
    root.create_bucket(Bucket=bucket, ACL="private")
    assert_acl(root.get_bucket_acl(Bucket=bucket), owner(env, "root"), want)
    root.create_bucket(Bucket=bucket, GrantRead=f'id="{env.ids["bob"]}"')
    assert_acl(root.get_bucket_acl(Bucket=bucket), owner(env, "root"), want)
    with pytest.raises(ClientError) as ei:
        bob.create_bucket(Bucket=bucket, ACL="public-read-write")
    assert sup.http_status(ei.value) == 409
    assert sup.error_code(ei.value) == "BucketAlreadyExists"
    assert_acl(root.get_bucket_acl(Bucket=bucket), owner(env, "root"), want)


# --------------------------------------------------------------------------
# x-amz-expected-bucket-owner
# --------------------------------------------------------------------------


def bucket_operations(c, bucket: str, expected: str) -> dict:
    """Calls that address `bucket` (and its object "k"), each with ExpectedBucketOwner."""
    e = {"ExpectedBucketOwner": expected}
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    return {
        "HeadBucket": lambda: c.head_bucket(Bucket=bucket, **e),
        "ListObjectsV2": lambda: c.list_objects_v2(Bucket=bucket, **e),
        "ListObjects": lambda: c.list_objects(Bucket=bucket, **e),
        "ListMultipartUploads": lambda: c.list_multipart_uploads(Bucket=bucket, **e),
        "GetBucketLocation": lambda: c.get_bucket_location(Bucket=bucket, **e),
        "GetBucketAcl": lambda: c.get_bucket_acl(Bucket=bucket, **e),
        "PutBucketAcl": lambda: c.put_bucket_acl(Bucket=bucket, ACL="public-read", **e),
        "PutBucketCors": lambda: c.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors, **e),
        "GetObject": lambda: c.get_object(Bucket=bucket, Key="k", **e)["Body"].read(),
        "HeadObject": lambda: c.head_object(Bucket=bucket, Key="k", **e),
        "GetObjectAcl": lambda: c.get_object_acl(Bucket=bucket, Key="k", **e),
        "PutObjectAcl": lambda: c.put_object_acl(Bucket=bucket, Key="k", ACL="public-read", **e),
        "PutObject": lambda: c.put_object(Bucket=bucket, Key="new", Body=b"n", **e),
        "CopyObject": lambda: c.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"}, **e),
        "CreateMultipartUpload": lambda: c.create_multipart_upload(Bucket=bucket, Key="mp", **e),
        "DeleteObject": lambda: c.delete_object(Bucket=bucket, Key="new", **e),
        "DeleteObjects": lambda: c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "new"}]}, **e),
        "GetObjectMissingKey": lambda: c.get_object(Bucket=bucket, Key="missing", **e),
    }


def outcome(call) -> str:
    try:
        call()
        return "ok"
    except ClientError as e:
        return f"{sup.http_status(e)} {sup.error_code(e)}"


def test_expected_bucket_owner_mismatch_is_denied(env):
    root = env.clients["root"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"kept")
    for wrong in ("111122223333", env.ids["bob"]):
        got = {name: outcome(call) for name, call in bucket_operations(root, bucket, wrong).items()}
        # HEAD answers have no body: the code is the status
        want = {name: "403 403" if name.startswith("Head") else "403 AccessDenied" for name in got}
        assert got == want
    # nothing was changed
    assert_acl(root.get_bucket_acl(Bucket=bucket), owner(env, "root"), [user(env, "root", "FULL_CONTROL")])
    assert [o["Key"] for o in root.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    assert root.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as ei:
        root.get_bucket_cors(Bucket=bucket)
    assert sup.error_code(ei.value) == "NoSuchCORSConfiguration"


def test_expected_bucket_owner_match_proceeds(env):
    root = env.clients["root"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket)
    root.put_object(Bucket=bucket, Key="k", Body=b"kept")
    got = {name: outcome(call) for name, call in bucket_operations(root, bucket, env.ids["root"]).items()}
    want = {name: "ok" for name in got}
    want["GetObjectMissingKey"] = "404 NoSuchKey"
    assert got == want


def test_expected_bucket_owner_for_other_requesters(env):
    # the value names the bucket owner, not the requester: bob reading root's public bucket
    root, bob, anon = env.clients["root"], env.clients["bob"], env.clients["anon"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket, ACL="public-read")
    root.put_object(Bucket=bucket, Key="k", Body=b"public", ACL="public-read")
    for c in (bob, anon):
        assert c.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=env.ids["root"])["Body"].read() == b"public"
        assert c.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=env.ids["root"])["KeyCount"] == 1
        for wrong in (env.ids["bob"], "111122223333"):
            assert outcome(lambda: c.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=wrong)) == "403 AccessDenied"
            assert outcome(lambda: c.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=wrong)) == "403 AccessDenied"
    # a missing bucket is still NoSuchBucket
    assert outcome(lambda: root.list_objects_v2(Bucket=new_name(), ExpectedBucketOwner="111122223333")) == \
        "404 NoSuchBucket"


def test_expected_source_bucket_owner(env):
    root, bob = env.clients["root"], env.clients["bob"]
    source = new_name()
    root.create_bucket(Bucket=source)
    root.put_object(Bucket=source, Key="k", Body=b"source", ACL="public-read")
    target = new_name()
    bob.create_bucket(Bucket=target)
    copy = {"Bucket": target, "Key": "copy", "CopySource": {"Bucket": source, "Key": "k"}}
    assert outcome(lambda: bob.copy_object(**copy, ExpectedSourceBucketOwner=env.ids["bob"])) == "403 AccessDenied"
    assert outcome(lambda: bob.copy_object(**copy, ExpectedBucketOwner=env.ids["root"])) == "403 AccessDenied"
    bob.copy_object(**copy, ExpectedSourceBucketOwner=env.ids["root"], ExpectedBucketOwner=env.ids["bob"])
    assert bob.get_object(Bucket=target, Key="copy")["Body"].read() == b"source"


def test_expected_bucket_owner_raw_header(env):
    # the header as any client sends it, on a request botocore signs
    root = env.clients["root"]
    bucket = new_name()
    root.create_bucket(Bucket=bucket)
    url = f"{env.endpoint}/{bucket}?acl"
    resp = sup.signed_request("GET", url, headers={"x-amz-expected-bucket-owner": "111122223333"})
    assert resp.status_code == 403
    assert sup.parse_error(resp.content)["Code"] == "AccessDenied"
    resp = sup.signed_request("GET", url, headers={"x-amz-expected-bucket-owner": env.ids["root"]})
    assert resp.status_code == 200, resp.text
    assert requests.get(url, timeout=30).status_code == 403
