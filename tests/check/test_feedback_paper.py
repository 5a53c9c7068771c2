"""The 差戻し票 on paper: A4 landscape, every column on the page, no text cut."""

from __future__ import annotations

import io
import math

from openpyxl import load_workbook

from tasks.check.feedback import build_feedback_workbook
from tasks.check.validate import Finding
from tasks.intake.ledger import LedgerEntry
from tasks.plan.load import load_plan

PLAN = load_plan("niigata-minami")
DEPARTMENT = "chiiki-somu"
ENTRY = LedgerEntry(
    sha256="a" * 64,
    department_id=DEPARTMENT,
    source_key=f"intake/2021/{DEPARTMENT}/x.xlsx",
    original_name="x.xlsx",
    size=1,
    received_at="2021-06-01T00:00:00+00:00",
    archive_key="archive/2021/a.xlsx",
)


def _finding(message: str) -> Finding:
    return Finding(
        sha256=ENTRY.sha256,
        sheet="評価シート",
        cell="J6",
        severity="critical",
        message=message,
        found="x",
        expected="今年度の実績",
        rule="expect_column_values_to_not_be_null",
        initiative_id=PLAN.initiatives_of(DEPARTMENT)[0].id,
    )


def test_every_sheet_prints_on_a4_landscape_fit_to_width() -> None:
    """It sets both sheets to A4 landscape, one page wide, the header row on every page."""
    workbook = load_workbook(io.BytesIO(build_feedback_workbook(PLAN, ENTRY, [_finding("短い")])))
    assert len(workbook.worksheets) == 2
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize, setup.fitToWidth) == ("landscape", 9, 1)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows


def test_a_long_message_row_is_tall_enough_for_all_its_lines() -> None:
    """It gives a finding's row the height of its wrapped message, so nothing is cut."""
    message = "実績の書き方を確かめてください。" * 20  # 320 full-width characters
    data = build_feedback_workbook(PLAN, ENTRY, [_finding(message)])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 6).value == message)
    assert sheet.cell(row, 6).alignment.wrap_text
    width = sheet.column_dimensions["F"].width
    lines = math.ceil(len(message) * 2 / (width - 1))
    assert sheet.row_dimensions[row].height >= 15 * lines
    assert "受付: 2021-06-01 09:00 +09:00" in str(sheet.cell(2, 1).value)  # Japan time
