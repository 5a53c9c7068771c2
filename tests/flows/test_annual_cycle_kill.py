"""Kill anywhere, run again: the same ledger, dataset and 資料 as a run never interrupted.

The real flows run in child processes (``tests/faults.py``) against the session's Prefect
server and are sent SIGKILL at chosen writes: before a write, with a temporary file half
written, with it whole but not yet renamed, after the rename; and inside Prefect's own result
files. Then an uninterrupted run resumes on the same workspace. Every resumed workspace must
match the uninterrupted one:

- the ledger, byte for byte (intake's clock is fixed in the runner; the file times are fixed
  in the workspace), so every intake file is accounted for exactly once with the same status;
- ``archive/``, ``curated/`` (Parquet, xlsx, CSV, staged rows) and ``reports/`` byte for byte;
- the 差戻し票 cell for cell (openpyxl stamps a workbook with the time it was saved);
- no temporary file left anywhere.

Data Docs pages are named by validation time and are compared by being there, not by bytes;
the cached steps' result records (``_prefect/results``) carry their expiry time, and what they
decide shows in the outputs above.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.plan.model import Plan
from tasks.settings import REPO_ROOT
from tests.faults import LOCK_PHASES, RESULT_PHASES, STORAGE_PHASES
from tests.helpers import filled_workbook

pytestmark = pytest.mark.scenario

PRESET = "niigata-minami"
YEAR = 2021


def _intake_files(plan: Plan) -> dict[str, bytes]:
    """Seven files that exercise every ledger status, each with its own time."""
    same = filled_workbook(plan, "chiiki-hokatsu")
    return {
        "intake/2021/kenko-fukushi/調査票.xlsx": filled_workbook(plan, "kenko-fukushi"),
        "intake/2021/shakyo/v1.xlsx": filled_workbook(plan, "shakyo", grade="B"),  # superseded
        "intake/2021/shakyo/v2.xlsx": filled_workbook(plan, "shakyo", grade="A"),
        "intake/2021/npo/調査票.xlsx": filled_workbook(plan, "npo", grade="Z"),  # rejected
        "intake/2021/chiiki-hokatsu/a.xlsx": same,
        "intake/2021/chiiki-hokatsu/a (2).xlsx": same,  # duplicate
        "intake/2021/置き場所違い.xlsx": filled_workbook(plan, "shakyo", grade="C"),  # no folder
    }


@pytest.fixture(scope="module")
def template(minami: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the intake files dropped, copied (times kept) for every scenario."""
    root = tmp_path_factory.mktemp("kill-template") / "workspace"
    for number, (key, data) in enumerate(_intake_files(minami).items()):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (1_622_505_600 + number * 60, 1_622_505_600 + number * 60))
    return root


@dataclass(frozen=True)
class RunOutcome:
    """One child run: killed by SIGKILL or its exit code, and the writes it started."""

    killed: bool
    exit_code: int | None
    ops: list[str]
    seconds: float


@pytest.fixture(scope="module")
def run_scenarios(
    prefect_server: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., list[list[RunOutcome]]]]:
    """Return a function that runs scenarios through the kill runner, two at a time."""
    from prefect.settings import PREFECT_API_URL

    base = tmp_path_factory.mktemp("kill-runs")
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_LOCAL_STORAGE_PATH": str(base / "prefect-results"),
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }

    def run(scenarios: list[dict[str, object]]) -> list[list[RunOutcome]]:
        batch = base / f"batch-{len(list(base.glob('batch-*')))}"
        batch.mkdir()
        (batch / "scenarios.json").write_text(json.dumps(scenarios), encoding="utf-8")
        subprocess.run(
            [sys.executable, "-m", "tests.faults", "scenarios.json", "results.json", "2"],
            cwd=batch,
            env={**env, "PYTHONPATH": str(REPO_ROOT)},
            check=True,
            timeout=1800,
        )
        results = json.loads((batch / "results.json").read_text(encoding="utf-8"))
        return [[RunOutcome(**run) for run in result] for result in results]

    yield run


def _scenario(
    template: Path, where: Path, kills: list[tuple[int, str] | None]
) -> dict[str, object]:
    workspace = where / "workspace"
    shutil.copytree(template, workspace)
    return {
        "workspace": str(workspace),
        "config": PRESET,
        "year": YEAR,
        "log_dir": str(where / "logs"),
        "results": str(where / "prefect-results"),
        "runs": [{"kill": list(kill) if kill else None} for kill in kills],
    }


def _snapshot(workspace: Path) -> dict[str, object]:
    """What must not differ between an interrupted and an uninterrupted workspace."""
    files = sorted(p for p in workspace.rglob("*") if p.is_file())
    snapshot: dict[str, object] = {}
    for path in files:
        key = path.relative_to(workspace).as_posix()
        if key.startswith(("datadocs/", "_prefect/")):
            continue  # page names and result records carry the time they were made
        if key.startswith("feedback/"):
            sheet = load_workbook(io.BytesIO(path.read_bytes())).active
            snapshot[key] = [list(row) for row in sheet.iter_rows(values_only=True)]
        else:
            snapshot[key] = path.read_bytes()
    return snapshot


def _kill_points(ops: list[str], every: bool) -> list[tuple[int, str]]:
    """Where to kill, from the writes of an uninterrupted run.

    Each write once, its phase turning with its number, the ledger's saves halfway and after;
    Data Docs' first and last page halfway (the other pages are alike); the lock right after it
    is taken and right before it is released. With ``every``, each phase of each write.
    """
    points: list[tuple[int, str]] = []
    docs = [int(op.split("\t")[0]) for op in ops if "\tdatadocs/" in op]
    for op in ops:
        number_text, kind, name, _ = op.split("\t")
        number = int(number_text)
        phases = {"storage": STORAGE_PHASES, "result": RESULT_PHASES, "lock": LOCK_PHASES}[kind]
        if name.startswith("datadocs/"):
            if number in (docs[0], docs[-1]):
                points += (
                    [(number, "before"), (number, "partial")] if every else [(number, "partial")]
                )
        elif every:
            points += [(number, phase) for phase in phases]
        elif kind == "lock":
            points.append((number, "after" if name.startswith("create") else "before"))
        elif name.startswith("ledger/"):
            points += [(number, "partial"), (number, "after")]
        else:
            points.append((number, phases[number % len(phases)]))
    return points


def _tree(workspace: Path) -> set[str]:
    return {p.relative_to(workspace).as_posix() for p in workspace.rglob("*") if p.is_file()}


def test_a_killed_run_resumes_to_the_same_outputs(
    template: Path, run_scenarios: Callable[..., list[list[RunOutcome]]], tmp_path: Path
) -> None:
    """It ends in the uninterrupted run's ledger, dataset and 資料 wherever it is killed."""
    (baseline,) = run_scenarios([_scenario(template, tmp_path / "baseline", [None])])
    assert [(r.killed, r.exit_code) for r in baseline] == [(False, 0)]
    expected = _snapshot(tmp_path / "baseline" / "workspace")
    ledger = json.loads(expected["ledger/2021.json"])  # type: ignore[arg-type]
    intake = sorted(k for k in _tree(template) if k.startswith("intake/"))
    assert sorted(e["source_key"] for e in ledger["entries"]) == intake  # each once
    assert {e["status"] for e in ledger["entries"]} == {
        "accepted",
        "superseded",
        "rejected",
        "duplicate",
    }
    assert any(k.startswith("reports/2021/") for k in expected)
    assert not any("/.tmp-" in k for k in _tree(tmp_path / "baseline" / "workspace"))

    points = _kill_points(baseline[0].ops, every=os.environ.get("SHIRYO_KILL_POINTS") == "all")
    assert len(points) >= 30
    names = {int(op.split("\t")[0]): op.split("\t")[2] for op in baseline[0].ops}
    scenarios = [
        _scenario(template, tmp_path / f"kill-{number}-{phase}", [(number, phase), None])
        for number, phase in points
    ]
    outcomes = run_scenarios(scenarios)

    failures = []
    for (number, phase), scenario, outcome in zip(points, scenarios, outcomes, strict=True):
        where = f"{phase} write {number} ({names[number]})"
        if [(r.killed, r.exit_code) for r in outcome] != [(True, None), (False, 0)]:
            failures.append(f"{where}: runs ended {[(r.killed, r.exit_code) for r in outcome]}")
            continue
        got = _snapshot(Path(str(scenario["workspace"])))
        differing = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
        if differing:
            failures.append(f"{where}: differs in {differing}")
    print(f"kill points: {len(points)}, intake files: {len(intake)}, failures: {len(failures)}")
    assert not failures, "\n".join(failures)
