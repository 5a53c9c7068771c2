"""Shared fixtures: a clean environment, a Prefect test server, plans, workspaces, S3 (moto),
and the session's demo runs."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
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


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PREFECT_HOME of the test session's own: no test hands a run to the developer's
    ``shiryo serve`` (``flows.handoff``) or writes into ``~/.prefect``."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, prefect_home: Path) -> None:
    """Scrub AWS, Prefect and GX variables so that no test depends on the developer's shell."""
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) and name not in _QUIET:
            monkeypatch.delenv(name)
    for name, value in _QUIET.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PREFECT_HOME", str(prefect_home))


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


@dataclass(frozen=True)
class DemoRun:
    """One run of the demo flow (``flows.demo.demo_cycle``) and everything it left behind."""

    preset: str
    storage: str
    """Where the workspace is: ``folder`` or ``s3`` (moto's server)."""
    pdf: bool
    """Whether the run was asked for PDF copies (made where LibreOffice is installed)."""
    workspace: str
    """The folder's path or ``s3://bucket/ws``."""
    outputs: tuple[str, ...]
    """The keys the flow returned: the 資料."""
    objects: Mapping[str, bytes]
    """Every object in the workspace right after the run, read back through the storage."""

    @property
    def folder(self) -> Path:
        """Return the folder workspace: to read, never to write in (see ``copy_to``)."""
        assert self.storage == "folder", f"{self.workspace} is not a folder"
        return Path(self.workspace)

    def copy_to(self, target: Path) -> Path:
        """Copy the folder workspace to ``target`` for a test that writes in it; return it."""
        shutil.copytree(self.folder, target)
        return target


def _folder_digests(root: Path) -> dict[str, str]:
    """Return every file under ``root`` (temporary ones too) with the hash of its bytes."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


class DemoRuns:
    """The session's demo runs: one per preset, storage and PDF choice, made when first asked.

    The whole cycle takes a flow run of a few dozen steps; tests that only read what it left
    share one run. A folder run is checked at the end of the session to hold exactly the files
    it held after the run: a test that writes in a shared workspace fails there.
    """

    def __init__(self, root: Path, s3_endpoint: str) -> None:
        self._root = root
        self._s3_endpoint = s3_endpoint
        self._runs: dict[tuple[str, str, bool], DemoRun] = {}
        self._digests: dict[tuple[str, str, bool], dict[str, str]] = {}
        self._failed: dict[tuple[str, str, bool], BaseException] = {}

    def get(self, preset: str, storage: str = "folder", pdf: bool = False) -> DemoRun:
        """Return the demo run of ``preset`` on ``storage``, running it the first time.

        A run that failed is not tried again: every test that asks for it gets its error.
        """
        key = (preset, storage, pdf)
        if key in self._failed:
            raise self._failed[key]
        if key not in self._runs:
            try:
                self._runs[key] = self._run(*key)
            except Exception as error:
                self._failed[key] = error
                raise
            if storage == "folder":
                self._digests[key] = _folder_digests(self._runs[key].folder)
        return self._runs[key]

    def _run(self, preset: str, storage: str, pdf: bool) -> DemoRun:
        name = f"demo-{preset}-{storage}" + ("-pdf" if pdf else "")
        if storage == "folder":
            folder = self._root / name
            folder.mkdir()
            return _run_demo(preset, storage, pdf, str(folder))
        assert storage == "s3", storage
        # Session scope runs before the autouse clean_environment: scrub AWS_* here as it does.
        with pytest.MonkeyPatch.context() as env:
            for variable in [n for n in os.environ if n.startswith("AWS_")]:
                env.delenv(variable)
            env.setenv("AWS_ACCESS_KEY_ID", "testing")
            env.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
            env.setenv("AWS_DEFAULT_REGION", "us-east-1")
            env.setenv("AWS_ENDPOINT_URL_S3", self._s3_endpoint)
            env.setenv("AWS_CONFIG_FILE", str(self._root / "no-aws-config"))
            env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(self._root / "no-aws-credentials"))
            bucket = f"shiryo-{name}-{uuid.uuid4().hex[:8]}"
            raw_s3_client(self._s3_endpoint).create_bucket(Bucket=bucket)
            return _run_demo(preset, storage, pdf, f"s3://{bucket}/ws")

    def check_untouched(self) -> None:
        """Fail if any shared folder workspace differs from what its run left."""
        changed = {}
        for key, before in self._digests.items():
            after = _folder_digests(self._runs[key].folder)
            keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            if keys:
                changed[self._runs[key].workspace] = keys
        assert not changed, f"tests wrote in shared demo workspaces: {changed}"


def _run_demo(preset: str, storage: str, pdf: bool, workspace: str) -> DemoRun:
    """Run the demo flow into ``workspace`` and read back everything through the storage."""
    from flows.demo import demo_cycle

    outputs = demo_cycle(preset, workspace, pdf=pdf)
    opened = open_storage(workspace)
    objects = {o.key: opened.read_bytes(o.key) for o in opened.list("")}
    return DemoRun(
        preset=preset,
        storage=storage,
        pdf=pdf,
        workspace=workspace,
        outputs=tuple(outputs),
        objects=MappingProxyType(objects),
    )


@pytest.fixture(scope="session")
def demo_runs(
    prefect_server: None, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoRuns]:
    """The session's demo runs (``DemoRuns.get``), shared by the tests that only read them."""
    runs = DemoRuns(tmp_path_factory.mktemp("demo-runs"), moto_endpoint)
    yield runs
    runs.check_untouched()
