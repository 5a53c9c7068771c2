"""The collection flow's read batches on other task runners: same ledger, dataset and 資料.

A Dask cluster (or a process pool) reads the batches in other processes; everything that
comes out must be what the default thread pool makes, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from flows.annual_cycle import call_for_submissions, collect_submissions, publish_shiryo
from flows.runners import task_runner
from tasks.cycle.steps import (
    CollectionSummary,
    drop_demo_submissions,
    load_plan_step,
    seed_demo_history,
)
from tasks.errors import ConfigError
from tasks.workspace.storage import open_storage

PRESET = "niigata-minami"


def _prepared(root: Path) -> str:
    """Return a workspace with the year's call written and the demo's files in intake."""
    root.mkdir()
    plan = load_plan_step(PRESET, None)
    seed_demo_history(plan, PRESET, open_storage(root))
    call_for_submissions(None, PRESET, str(root))
    drop_demo_submissions(plan, PRESET, open_storage(root))
    return str(root)


def _outputs(workspace: Path) -> dict[str, str]:
    """Return the hash of every dataset and 資料 file, by path."""
    return {
        str(path.relative_to(workspace)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in ("curated", "reports")
        for path in sorted((workspace / folder).rglob("*"))
        if path.is_file()
    }


def _statuses(workspace: Path) -> dict[str, str]:
    (ledger,) = (workspace / "ledger").glob("*.json")
    entries = json.loads(ledger.read_text(encoding="utf-8"))["entries"]
    return {e["sha256"]: e["status"] for e in entries}


def _collect_and_publish(workspace: str, runner: str) -> CollectionSummary:
    collect = collect_submissions.with_options(task_runner=task_runner(runner))
    summary = collect(None, PRESET, workspace, settle_seconds=0, batch_files=2)
    publish_shiryo(None, PRESET, workspace)
    return summary


@pytest.fixture(scope="module")
def default_run(
    prefect_server: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[CollectionSummary, Path]:
    """The demo collected with the default thread pool, in batches of two files."""
    workspace = _prepared(tmp_path_factory.mktemp("threads") / "workspace")
    return _collect_and_publish(workspace, "threads"), Path(workspace)


@pytest.mark.scenario
@pytest.mark.parametrize("runner", ["dask", "processes"])
def test_another_runner_gives_the_same_outputs(
    runner: str,
    default_run: tuple[CollectionSummary, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It reads the batches in other processes and writes byte-identical outputs."""
    # Worker processes reach the same Prefect server through the environment.
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    workspace = _prepared(tmp_path / "workspace")
    other = _collect_and_publish(workspace, runner)
    default, default_ws = default_run
    assert len(default.files) == 6  # three batches of two
    assert other.files == default.files
    assert other.findings == default.findings and default.findings
    assert _statuses(Path(workspace)) == _statuses(default_ws)
    outputs = _outputs(default_ws)
    assert any(key.endswith(".docx") for key in outputs)
    assert _outputs(Path(workspace)) == outputs


def test_an_unknown_runner_is_named_in_japanese() -> None:
    """It refuses a runner it does not know, saying which ones it does."""
    with pytest.raises(ConfigError, match="SHIRYO_TASK_RUNNER='spark' は使えません"):
        task_runner("spark")
