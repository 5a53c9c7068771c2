"""Shared fixtures: a clean environment, a Prefect test server, plans, workspaces, S3 (moto)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.settings import QUIET_DEFAULTS
from tasks.workspace.storage import Storage, open_storage

_SCRUBBED_PREFIXES = ("AWS_", "PREFECT_", "GX_")
_QUIET = QUIET_DEFAULTS


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrub AWS, Prefect and GX variables so that no test depends on the developer's shell."""
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) and name not in _QUIET:
            monkeypatch.delenv(name)
    for name, value in _QUIET.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Run the tests that need it against one temporary Prefect server."""
    for name, value in _QUIET.items():
        os.environ[name] = value
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def minami() -> Plan:
    """The 新潟市南区 preset's plan."""
    return load_plan("niigata-minami")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    path = tmp_path / "workspace"
    path.mkdir()
    return path


FAKE_SECRET = "testing-secret-never-shown"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Serve moto's S3 API over HTTP on a free local port for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(
    clean_environment: None, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """Point the standard AWS chain at moto with fake credentials; return the endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    # Keep the developer's ~/.aws profiles (regions, endpoints, SSO) out of the tests.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return moto_endpoint


def raw_s3_client(endpoint: str) -> Any:
    """Return a plain boto3 client on moto, to look behind the storage's back."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3_env: str) -> str:
    """Create a fresh, empty bucket and return its name."""
    name = f"shiryo-test-{uuid.uuid4().hex[:12]}"
    raw_s3_client(s3_env).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["folder", "s3"])
def storage(request: pytest.FixtureRequest, workspace: Path) -> Storage:
    """An empty workspace storage on each backend, opened the way the flows open it."""
    if request.param == "folder":
        return open_storage(str(workspace))
    bucket = request.getfixturevalue("bucket")
    return open_storage(f"s3://{bucket}/ws")
