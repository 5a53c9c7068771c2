"""The correction copy: the department's own workbook, each cell to fix marked, resubmittable."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from tasks.check.correction import build_correction_copy
from tasks.intake.ledger import load_ledger
from tasks.plan.model import Plan
from tasks.workspace.storage import open_storage
from tests.helpers import cell_of, filled_workbook, submit

DEPARTMENT = "chiiki-somu"
GRADE, RESULT = "評価", "2021年度実績（見込み）"


def _mistakes(plan: Plan) -> tuple[bytes, str, str]:
    """Return a filled workbook with a grade outside the scale and a blank result."""
    cells: dict[str, str] = {}

    def edit(workbook: Workbook) -> None:
        sheet = workbook[plan.submission.sheet_name]
        cells["grade"] = cell_of(plan, workbook, "i049", GRADE)
        cells["result"] = cell_of(plan, workbook, "i051", RESULT)
        sheet[cells["grade"]] = "Ｅ"
        sheet[cells["result"]] = None

    data = filled_workbook(plan, DEPARTMENT, edit=edit)
    return data, cells["grade"], cells["result"]


def test_a_sent_back_file_gets_its_own_workbook_marked(workspace: Path, minami: Plan) -> None:
    """It writes beside the 差戻し票 the workbook as sent, each cell to fix red with its reason."""
    data, grade_cell, result_cell = _mistakes(minami)
    relative = f"intake/2021/{DEPARTMENT}/提出.xlsx"
    summary = submit(workspace, minami, relative, data)
    assert [f.status for f in summary.files] == ["rejected"]
    (copy,) = sorted((workspace / "feedback" / "2021" / DEPARTMENT).glob("修正用_*.xlsx"))
    sheet = load_workbook(copy)[minami.submission.sheet_name]
    assert sheet[grade_cell].value == "Ｅ"  # the value as the department typed it
    assert sheet[grade_cell].fill.fgColor.rgb.endswith("FFC7CE")
    assert "【要修正】" in sheet[grade_cell].comment.text
    assert "評価「Ｅ」" in sheet[grade_cell].comment.text
    assert "実績が空欄" in sheet[result_cell].comment.text
    unmarked = cell_of(minami, load_workbook(copy), "i049", RESULT)
    assert sheet[unmarked].comment is None  # only the cells with a finding are marked

    # The department fixes the two cells in the copy and sends it again: accepted.
    workbook = load_workbook(copy)
    fixed = workbook[minami.submission.sheet_name]
    fixed[grade_cell], fixed[result_cell] = "A", "予定どおり実施した"
    buffer = io.BytesIO()
    workbook.save(buffer)
    again = submit(workspace, minami, f"intake/2021/{DEPARTMENT}/提出_修正.xlsx", buffer.getvalue())
    assert [f.status for f in again.files] == ["accepted"]
    ledger = load_ledger(open_storage(workspace), 2021)
    assert [e.status for e in ledger.entries] == ["rejected", "accepted"]


def test_a_file_refused_as_a_whole_gets_no_copy(minami: Plan) -> None:
    """It makes no copy of a file that is not a workbook, or whose findings name no cell."""
    from tasks.check.validate import Finding

    whole = Finding(
        sha256="a" * 64,
        sheet=None,
        cell=None,
        severity="critical",
        message="ブックとして開けません",
        found=None,
        expected="",
        rule="read",
    )
    assert build_correction_copy(b"not a workbook", [whole]) is None
    data, grade_cell, _ = _mistakes(minami)
    cell = whole.__class__(**{**whole.__dict__, "sheet": "評価シート", "cell": grade_cell})
    assert build_correction_copy(b"not a workbook", [cell]) is None
    assert build_correction_copy(data, [cell]) is not None
