"""Fixtures for the Shoebox black-box conformance suite.

Target selection (env S3_TARGET):
  shoebox (default)  $SHOEBOX_BIN (default <repo>/.build/debug/shoebox) on a fresh data dir
  moto               moto_server, to check that the tests encode real S3 behaviour
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import s3support as sup


def pytest_collection_modifyitems(config, items):
    for item in items:
        marker = item.get_closest_marker("shoebox_only")
        # CONFORMANCE_RUN_ALL=1 runs shoebox_only tests against moto too (to see how moto differs).
        if sup.TARGET == "moto" and marker is not None and not os.environ.get("CONFORMANCE_RUN_ALL"):
            why = marker.args[0] if marker.args else "needs the shoebox server"
            item.add_marker(pytest.mark.skip(reason=f"shoebox_only: {why}"))


def pytest_report_header(config):
    where = "moto_server" if sup.TARGET == "moto" else str(sup.shoebox_binary())
    return f"S3 target: {sup.TARGET} ({where})"


@dataclass
class Target:
    kind: str
    server: sup.ServerProcess

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def is_moto(self) -> bool:
        return self.kind == "moto"


@pytest.fixture(scope="session")
def target(tmp_path_factory) -> Target:
    if sup.TARGET not in ("shoebox", "moto"):
        raise pytest.UsageError(f"S3_TARGET must be 'shoebox' or 'moto', not {sup.TARGET!r}")
    base = tmp_path_factory.mktemp("server")
    data = base / "data"
    data.mkdir()
    server = sup.ServerProcess(sup.TARGET, data, base)
    server.start()
    yield Target(sup.TARGET, server)
    server.stop()


@pytest.fixture(scope="session")
def endpoint(target) -> str:
    return target.endpoint


@pytest.fixture(scope="session")
def client_factory(endpoint):
    """client_factory(access_key=root, secret_key=root, **botocore Config overrides)."""

    def make(access_key: str = sup.ROOT_ACCESS_KEY, secret_key: str = sup.ROOT_SECRET_KEY, **overrides):
        return sup.make_client(endpoint, access_key, secret_key, **overrides)

    return make


@pytest.fixture(scope="session")
def s3(client_factory):
    """boto3 S3 client of the root user."""
    return client_factory()


@pytest.fixture(scope="session")
def aws_cli(endpoint, tmp_path_factory):
    """aws_cli("s3", "ls", ..., access_key=..., secret_key=..., cwd=..., timeout=...) -> CompletedProcess."""
    home = tmp_path_factory.mktemp("awshome")

    def run(*args, access_key: str = sup.ROOT_ACCESS_KEY, secret_key: str = sup.ROOT_SECRET_KEY,
            cwd=None, timeout: float = 120, endpoint_url: str | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=access_key,
            AWS_SECRET_ACCESS_KEY=secret_key,
            AWS_DEFAULT_REGION=sup.REGION,
            AWS_CONFIG_FILE=str(home / "config-does-not-exist"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials-does-not-exist"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_MAX_ATTEMPTS="1",
            AWS_RETRY_MODE="standard",
            AWS_PAGER="",
            HOME=str(home),
        )
        cmd = ["aws", "--endpoint-url", endpoint_url or endpoint, *map(str, args)]
        return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def bucket_name() -> str:
    """A unique, valid, not-yet-created bucket name."""
    return "cf-" + uuid.uuid4().hex[:20]


@pytest.fixture
def bucket(s3, bucket_name) -> str:
    """A freshly created bucket owned by the root user."""
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


@pytest.fixture(scope="session")
def signed(endpoint):
    """signed(method, path_and_query, body=b"", headers=None, send_body=None, access_key=..., secret_key=...)

    Raw `requests` call SigV4-signed by botocore's signer. `path_and_query` is
    already URL-encoded (use s3support.quote_key for keys).
    """

    def call(method: str, path: str, **kw):
        return sup.signed_request(method, endpoint + path, **kw)

    return call
