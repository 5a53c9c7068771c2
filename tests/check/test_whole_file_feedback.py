"""A file refused as a whole says so in its 差戻し票: what was wrong, and no row 問題なし."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.intake.ledger import load_ledger
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tests import hostile
from tests.helpers import filled_workbook, submit


def _feedback_text(workspace: Path) -> tuple[list[str], str]:
    (path,) = (workspace / "feedback/2021/shakyo").glob("差戻し票_*.xlsx")
    workbook = load_workbook(path)
    text = "\n".join(
        str(v)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
        if v is not None
    )
    return workbook.sheetnames, text


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        # a 0-byte file
        (hostile.empty, "ファイルが空です"),
        # a Shift_JIS CSV renamed to .xlsx
        (hostile.csv_renamed, "Excel ブック（.xlsx）ではありません"),
        # a legacy .xls or an encrypted workbook
        (hostile.ole_compound_file, "パスワードで保護されたブック"),
    ],
)
def test_a_file_refused_as_a_whole_marks_no_row_as_fine(
    workspace: Path, minami: Plan, build: Callable[[bytes], bytes], reason: str
) -> None:
    """It says the file was refused as a whole, why, and lists no 事業 as 問題なし."""
    data = build(filled_workbook(minami, "shakyo"))
    submit(workspace, minami, "intake/2021/shakyo/提出.xlsx", data)

    sheets, text = _feedback_text(workspace)
    assert "全体として受け付けられませんでした" in text and "行ごとの確認はしていません" in text
    assert f"理由: {reason}" in text
    assert "問題なし" not in text and "全 " not in text
    assert sheets == ["差戻し票"]  # no sheet of row states: no row was read
    (entry,) = load_ledger(FolderStorage(workspace), 2021).entries
    assert entry.status == "rejected" and entry.row_states == {}


def test_a_file_read_row_by_row_still_shows_each_rows_state(workspace: Path, minami: Plan) -> None:
    """It keeps the per-row states for a file that was read and has a bad row."""
    submit(
        workspace, minami, "intake/2021/shakyo/提出.xlsx", filled_workbook(minami, "shakyo", "Z")
    )
    sheets, text = _feedback_text(workspace)
    assert sheets == ["差戻し票", "行ごとの状況"]
    assert "全体として受け付けられませんでした" not in text
    assert "差し戻します" in text and "要修正" in text
