"""The coordinator's quick paths through the steps: what a run with nothing new skips, what
publication writes, Data Docs on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cycle.steps import check_pending, consolidate_year, render_shiryo, take_intake
from tasks.intake.ledger import load_ledger
from tasks.plan.load import load_plan
from tasks.render.pdf import pdf_available
from tasks.settings import REPO_ROOT
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, needs

PRESET = "niigata-minami"


def _drop(workspace: Path, department_id: str) -> None:
    plan = load_plan(PRESET)
    target = workspace / "intake" / "2021" / department_id / "提出.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(filled_workbook(plan, department_id))


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


MIDORINO = REPO_ROOT / "tests" / "data" / "midorino"


@pytest.mark.scenario
@needs(pdf_available(), "LibreOffice (soffice)")
def test_a_render_without_pdf_removes_the_earlier_pdfs(tmp_path: Path) -> None:
    """It leaves no PDF of an earlier 資料 beside a new one rendered without --pdf."""
    plan, storage = load_plan(MIDORINO), open_storage(tmp_path)
    with_pdf = render_shiryo(plan, storage, pdf=True)
    assert sum(key.endswith(".pdf") for key in with_pdf) == 2
    without = render_shiryo(plan, storage, pdf=False)
    reports = sorted(o.key for o in storage.list("reports"))
    assert reports == sorted(without)
    assert not any(key.endswith(".pdf") for key in reports)


def test_a_check_never_shows_an_earlier_runs_validations(workspace: Path) -> None:
    """It leaves out of the Data Docs what this process validated before (a warm service's
    earlier run that stopped before publishing, perhaps for another municipality)."""
    from tasks.check.submissions import validate_staged
    from tasks.check.validate import stack_batches
    from tasks.cycle.configuration import _blank_batch

    other = load_plan(REPO_ROOT / "tests" / "data" / "midorino" / "plan.yaml")
    validate_staged(other, stack_batches([_blank_batch(other)]))  # validated, not published
    plan = load_plan(PRESET)
    ws = str(workspace)
    target = workspace / "intake" / "2021" / "chiiki-somu" / "提出.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)

    def bad_grade(workbook: object) -> None:
        from tests.helpers import cell_of

        sheet = workbook[plan.submission.sheet_name]  # type: ignore[index]
        sheet[cell_of(plan, workbook, "i049", "評価")] = "E"  # type: ignore[arg-type]

    target.write_bytes(filled_workbook(plan, "chiiki-somu", edit=bad_grade))
    take_intake(plan, open_storage(ws), settle_seconds=0)
    summary = check_pending(plan, open_storage(ws))
    assert summary.data_docs is not None
    pages = [p.read_text(encoding="utf-8") for p in (workspace / "datadocs").rglob("*.html")]
    assert pages and not any("みどり野" in page or "midorino" in page for page in pages)
