"""Shared fixtures: a clean environment, a Prefect test server, plans and workspaces."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks.plan import Plan, load_plan

_SCRUBBED_PREFIXES = ("AWS_", "PREFECT_", "GX_")
_QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


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
