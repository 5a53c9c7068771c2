"""Tests of the report context that every 資料 template reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openpyxl.workbook.workbook import Workbook

from tasks.cycle.steps import build_report_context_for, consolidate_year
from tasks.plan.model import Plan
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, submit


def _full_width_indicator(plan: Plan) -> Callable[[Workbook], None]:
    def edit(workbook: Workbook) -> None:
        sheet = workbook[plan.submission.indicator_sheet_name]
        sheet.cell(row=6, column=9, value="３８")

    return edit


def test_a_warned_file_is_marked_and_a_missing_department_listed(
    workspace: Path, minami: Plan
) -> None:
    """It marks the rows that passed with a warning (△) and lists who did not submit."""
    summary = submit(
        workspace,
        minami,
        "intake/2021/kenko-fukushi/提出.xlsx",
        filled_workbook(minami, "kenko-fukushi", edit=_full_width_indicator(minami)),
    )
    assert [(f.status, f.warnings) for f in summary.files] == [("accepted", 1)]
    consolidate_year(minami, open_storage(workspace))
    context = build_report_context_for(minami, open_storage(workspace))
    rows = {row["id"]: row for row in context["initiatives"]}
    assert rows["i002"]["warned"] == "△"  # the row whose indicator was typed full-width
    assert rows["i001"]["warned"] == ""  # same file, no warning on this row
    assert rows["i008"]["warned"] == ""  # 社会福祉協議会's, not submitted
    assert rows["i008"]["grade"] == "未提出"
    assert {m["name"] for m in context["missing"]} == {
        d.name for d in minami.departments if d.id != "kenko-fukushi"
    }
    hiroba = next(i for i in context["indicators"] if i["initiative_id"] == "i002")
    # As the department typed it (全角 digits kept); the number is read for the rate.
    assert hiroba["actual"] == "３８" and hiroba["rate"] == "70%"
    assert hiroba["implied_grade"] == "C"
    assert context["year_label"] == "2021年度（令和3年度）"
