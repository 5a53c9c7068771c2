"""The coordinator's quick paths: what a run with nothing new skips, and artifact keys."""

from __future__ import annotations

import re
from pathlib import Path

from flows.artifacts import artifact_key
from tasks.cycle.steps import check_pending, consolidate_year, render_shiryo, take_intake
from tasks.intake.ledger import load_ledger
from tasks.plan.load import load_plan
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook

PRESET = "niigata-minami"


def _drop(workspace: Path, department_id: str) -> None:
    plan = load_plan(PRESET)
    target = workspace / "intake" / "2021" / department_id / "提出.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(filled_workbook(plan, department_id))


def test_artifact_keys_keep_two_municipalities_apart() -> None:
    """It gives each municipality its own artifact keys, in the characters Prefect takes."""
    minami = load_plan(PRESET)
    nishi = load_plan("niigata-nishi")
    keys = {artifact_key(plan, "status", 2021, "/srv/ws") for plan in (minami, nishi)}
    assert len(keys) == 2
    assert all(re.fullmatch(r"status-2021-[0-9a-f]{8}-[0-9a-f]{8}", key) for key in keys)
    again = artifact_key(load_plan(PRESET), "status", 2021, "/srv/ws")
    assert artifact_key(minami, "status", 2021, "/srv/ws") == again


def test_an_intake_with_nothing_new_is_not_watched_twice(workspace: Path) -> None:
    """It returns at once when intake holds nothing unseen, and still takes a new file."""
    plan = load_plan(PRESET)
    ws = str(workspace)
    _drop(workspace, "shakyo")
    assert len(take_intake(plan, open_storage(ws), settle_seconds=0).taken) == 1
    ledger = (workspace / "ledger" / "2021.json").read_bytes()
    # A settle time that would show if the intake were looked at twice.
    again = take_intake(plan, open_storage(ws), settle_seconds=30)
    assert (again.taken, again.duplicates, again.waiting) == ([], [], [])
    assert (workspace / "ledger" / "2021.json").read_bytes() == ledger
    _drop(workspace, "kenko-fukushi")
    assert len(take_intake(plan, open_storage(ws), settle_seconds=0).taken) == 1
    assert len(load_ledger(open_storage(ws), 2021).entries) == 2


def test_the_dataset_for_people_is_written_at_publication(workspace: Path) -> None:
    """It keeps collection to Parquet and writes the dataset's xlsx and CSV with the 資料."""
    plan = load_plan(PRESET)
    ws = str(workspace)
    _drop(workspace, "shakyo")
    take_intake(plan, open_storage(ws), settle_seconds=0)
    summary = check_pending(plan, open_storage(ws))
    consolidate_year(plan, open_storage(ws))
    curated = workspace / "curated" / "2021"
    assert not list(curated.glob("*.xlsx")) and not list(curated.glob("*.csv"))
    # A clean batch builds no Data Docs.
    assert summary.data_docs is None and not (workspace / "datadocs").exists()
    render_shiryo(plan, open_storage(ws))
    names = {p.name for p in curated.iterdir() if p.is_file()}
    assert {"consolidated.xlsx", "consolidated.csv", "indicators.csv"} <= names


def test_data_docs_on_demand_cover_the_checked_files_and_record_nothing(workspace: Path) -> None:
    """It builds Data Docs for a year's checked files and leaves the ledger as it was."""
    from tasks.cycle.steps import build_data_docs

    plan = load_plan(PRESET)
    ws = str(workspace)
    assert build_data_docs(plan, open_storage(ws)) is None  # nothing checked yet
    _drop(workspace, "shakyo")
    take_intake(plan, open_storage(ws), settle_seconds=0)
    check_pending(plan, open_storage(ws))
    ledger = (workspace / "ledger" / "2021.json").read_bytes()
    index = build_data_docs(plan, open_storage(ws))
    assert index is not None
    page = workspace / "datadocs" / "2021" / "index.html"
    assert page.is_file() and "hyoka" in page.read_text(encoding="utf-8")
    assert (workspace / "ledger" / "2021.json").read_bytes() == ledger
