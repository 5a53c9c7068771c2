"""Which warm service ``shiryo run`` hands its run to (``flows.handoff``), from real records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.handoff import chosen_service, live_services, run_variables_fingerprint
from tasks.settings import read_code_version


def _record(folder: Path, name: str, **changes: object) -> None:
    record = {
        "pid": os.getpid(),
        "port": 1,
        "token": "t",
        "api_url": "http://127.0.0.1:4200/api",
        "variables": run_variables_fingerprint(),
        "code": read_code_version(),
        "started": "2026-12-07T00:00:00+00:00",
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({**record, **changes}), encoding="utf-8")


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "shiryo-serve"


def test_it_takes_the_newest_live_service(records: Path) -> None:
    """It skips records of dead processes and unreadable records, newest first among the rest."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    _record(records, "dead", pid=int(dead.stdout), started="2026-12-07T09:00:00+00:00")
    _record(records, "old", started="2026-12-06T00:00:00+00:00")
    _record(records, "new", port=2, started="2026-12-07T01:00:00+00:00")
    (records / "torn.json").write_text('{"pid": ', encoding="utf-8")
    assert [s.port for s in live_services()] == [2, 1]
    service = chosen_service()
    assert service is not None and service.port == 2


@pytest.mark.parametrize(
    ("change", "environment", "said"),
    [
        # the service was started before shiryo was updated
        ({"code": "0123456789abcdef"}, {}, "shiryo が更新されているため"),
        # the coordinator's shell has other S3 credentials than the service
        ({}, {"AWS_PROFILE": "other"}, "環境変数（AWS_… や SHIRYO_…）が違うため"),
        # the command is pointed at another Prefect server
        ({}, {"PREFECT_API_URL": "http://127.0.0.1:9999/api"}, "別の Prefect サーバー"),
    ],
)
def test_it_runs_here_when_the_service_would_run_it_differently(
    records: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, object],
    environment: dict[str, str],
    said: str,
) -> None:
    """It says why, in Japanese, and hands nothing over."""
    _record(records, "service", **change)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert chosen_service() is None
    assert said in capsys.readouterr().err


def test_it_hands_over_to_the_service_of_the_same_server(
    records: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It takes the service whose server PREFECT_API_URL names (a trailing / aside)."""
    _record(records, "a", port=3, api_url="http://127.0.0.1:4300/api")
    _record(records, "b", port=4, started="2026-12-08T00:00:00+00:00")
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4300/api/")
    service = chosen_service()
    assert service is not None and service.port == 3
