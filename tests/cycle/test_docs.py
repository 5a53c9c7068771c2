"""The coordinator's pages on demand (``shiryo docs``): every checked file of the year."""

from __future__ import annotations

from pathlib import Path

from tasks.cycle.docs import build_docs
from tasks.plan.load import load_plan
from tasks.workspace.storage import open_storage
from tests.helpers import cell_of, filled_workbook, submit

PRESET = "niigata-minami"


def test_the_pages_on_demand_list_every_checked_file_of_the_year(workspace: Path) -> None:
    """It lists the files of earlier runs too, each with its 差戻し票, and records nothing."""
    plan = load_plan(PRESET)
    ws = str(workspace)
    assert build_docs(plan, open_storage(ws)) is None  # nothing checked yet

    def bad_grade(workbook: object) -> None:
        sheet = workbook[plan.submission.sheet_name]  # type: ignore[index]
        sheet[cell_of(plan, workbook, "i049", "評価")] = "E"  # type: ignore[arg-type]

    first = submit(
        workspace,
        plan,
        "intake/2021/chiiki-somu/a.xlsx",
        filled_workbook(plan, "chiiki-somu", edit=bad_grade),
    )
    second = submit(workspace, plan, "intake/2021/shakyo/b.xlsx", filled_workbook(plan, "shakyo"))
    assert first.findings_page and second.findings_page is None  # a clean run writes none
    ledger = (workspace / "ledger" / "2021.json").read_bytes()
    pages = build_docs(plan, open_storage(ws))
    assert pages is not None and pages.findings_page and pages.index
    text = Path(pages.findings_page).read_text(encoding="utf-8")
    assert '<h3 id="file-1">b.xlsx</h3>' in text and '<h3 id="file-2">a.xlsx</h3>' in text
    assert "評価「E」は評価の指標にありません" in text
    feedback = first.files[0].feedback_key
    assert feedback and feedback in text
    assert (workspace / "ledger" / "2021.json").read_bytes() == ledger
