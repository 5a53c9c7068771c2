"""Feedback workbooks (差戻し票) that tell a department what to fix, cell by cell.

A file refused as a whole (empty, not a workbook, not the 調査票, in the wrong folder) was
never read row by row: its 差戻し票 says what was wrong with the file and marks no row
問題なし, since none was looked at.
"""

from __future__ import annotations

import io
import math

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from tasks.check.submissions import FILE_RULE, row_state
from tasks.check.validate import Finding
from tasks.intake.ledger import LedgerEntry, japan_time
from tasks.ooxml import normalise_package
from tasks.plan.model import Plan
from tasks.workspace.keys import correction_key as correction_key_of
from tasks.workspace.keys import feedback_key as feedback_key_of
from tasks.workspace.names import safe_stem, visible_text

_HEADERS = ["No.", "区分", "シート", "セル", "入力されていた値", "内容と直し方", "正しい入力"]
_WIDTHS = [6, 10, 14, 8, 30, 70, 24]
_SEVERITY_JA = {"critical": "要修正", "warning": "注意"}


def feedback_key(plan: Plan, entry: LedgerEntry) -> str:
    """Return where a file's feedback workbook goes."""
    folder = entry.department_id or "_unassigned"
    stem = safe_stem(entry.original_name)  # a name is data: never a path of the product's
    return feedback_key_of(plan.fiscal_year.current, folder, stem, entry.sha256)


def correction_key(plan: Plan, entry: LedgerEntry) -> str:
    """Return where a file's correction copy (修正用の調査票) goes."""
    folder = entry.department_id or "_unassigned"
    return correction_key_of(
        plan.fiscal_year.current, folder, safe_stem(entry.original_name), entry.sha256
    )


def build_feedback_workbook(plan: Plan, entry: LedgerEntry, findings: list[Finding]) -> bytes:
    """Return a feedback workbook listing each finding with its cell, in plain Japanese."""
    # Write-only: a 差戻し票 goes to one file in seven; streaming it out costs a third.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("差戻し票")
    department = plan.department(entry.department_id).name if entry.department_id else "（不明）"
    states = row_states(plan, entry, findings)
    lines = [
        f"{plan.municipality} {plan.fiscal_year.current}年度 提出内容の確認結果（差戻し票）",
        f"部署: {department}　ファイル: {entry.original_name}　"
        f"受付: {japan_time(entry.received_at)}",
        *_verdict(findings, states),
    ]
    header_row = len(lines) + 2
    for col, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[chr(64 + col)].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    _print_on_a4(sheet, title_rows=f"{header_row}:{header_row}")
    for number, text in enumerate(lines):
        sheet.append([_cell(sheet, text, font=TITLE_FONT if number == 0 else None)])
    sheet.append([])
    sheet.append([_cell(sheet, header, font=BOLD_FONT, fill=HEADER_FILL) for header in _HEADERS])
    for number, finding in enumerate(findings, start=1):
        values = [
            number,
            _SEVERITY_JA[finding.severity],
            finding.sheet or "",
            finding.cell or "",
            finding.found or "",
            finding.message,
            finding.expected,
        ]
        # Printed (LibreOffice, Excel's PDF) rows keep the height they are given: one that
        # holds every wrapped line, so that no text is cut.
        sheet.row_dimensions[header_row + number].height = _row_height(values, _WIDTHS)
        sheet.append([_cell(sheet, value, alignment=WRAP) for value in values])
    if states:
        _write_row_states(workbook, plan, states)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _verdict(findings: list[Finding], states: list[tuple[str, str, str, int]]) -> list[str]:
    """Return what the 差戻し票 says of the file as a whole and of its rows."""
    refused = [f for f in findings if f.rule == FILE_RULE]
    if refused:
        return [
            "差し戻します。このファイルは全体として受け付けられませんでした"
            "（ファイルを読み取れないため、行ごとの確認はしていません）。",
            f"理由: {refused[0].message}",
            "下の「要修正」を直して、同じフォルダに提出し直してください。",
        ]
    if any(f.severity == "critical" for f in findings):
        verdict = "差し戻します。下の「要修正」をすべて直して、同じフォルダに提出し直してください。"
    else:
        verdict = "受け付けました。下の「注意」を次回の入力の参考にしてください。"
    counts = {s: sum(1 for r in states if r[2] == s) for s in ("要修正", "注意", "問題なし")}
    return [
        verdict,
        f"行ごとの状況（シート「{_ROWS_SHEET}」）: 全 {len(states)} 行のうち "
        + "・".join(f"{s} {n} 行" for s, n in counts.items()),
    ]


_ROWS_SHEET = "行ごとの状況"
_ROW_HEADERS = ["事業ID", "事業名", "状況", "指摘の数"]


def row_states(
    plan: Plan, entry: LedgerEntry, findings: list[Finding]
) -> list[tuple[str, str, str, int]]:
    """Return (事業ID, 事業名, 状況, 指摘の数) for every row the department was asked for.

    A blocking finding on one row leaves the others visible: each row shows its own state.
    A file refused as a whole has no row states: none of its rows was read.
    """
    if entry.department_id is None or any(f.rule == FILE_RULE for f in findings):
        return []
    rows = []
    for initiative in plan.initiatives_of(entry.department_id):
        own = [f for f in findings if f.initiative_id == initiative.id]
        rows.append((initiative.id, initiative.name, row_state(own), len(own)))
    return rows


def _write_row_states(
    workbook: Workbook, plan: Plan, states: list[tuple[str, str, str, int]]
) -> None:
    sheet = workbook.create_sheet(_ROWS_SHEET)
    for col, width in enumerate([10, 50, 10, 10], start=1):
        sheet.column_dimensions[chr(64 + col)].width = width
    _print_on_a4(sheet, title_rows="2:2")
    sheet.append([_cell(sheet, f"{plan.initiative_label}ごとの確認結果", font=TITLE_FONT)])
    sheet.append([_cell(sheet, h, font=BOLD_FONT, fill=HEADER_FILL) for h in _ROW_HEADERS])
    for values in states:
        sheet.append([_cell(sheet, value, alignment=WRAP) for value in values])


def _row_height(values: list[object], widths: list[int]) -> float:
    """Return a row height (points) for wrapped values in columns of these widths (chars)."""
    # A full-width character is about two units of column width; a line of 11 pt text is 15 pt.
    lines = max(
        sum(max(1, math.ceil(len(part) * 2 / max(width - 1, 1))) for part in str(v).split("\n"))
        for v, width in zip(values, widths, strict=True)
    )
    return 15.0 * min(lines, 30)


def _print_on_a4(sheet: WriteOnlyWorksheet, title_rows: str) -> None:
    """Print the sheet on A4 landscape, every column on the page, its header on each page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1  # every column on the page; as many pages down as needed
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = title_rows


TITLE_FONT = Font(bold=True, size=14)
"""The printed sheets' look (差戻し票, 督促一覧): title, header row, wrapped cells."""
BOLD_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
WRAP = Alignment(wrap_text=True, vertical="top")


def _cell(
    sheet: WriteOnlyWorksheet,
    value: object,
    font: Font | None = None,
    fill: PatternFill | None = None,
    alignment: Alignment | None = None,
) -> WriteOnlyCell:
    shown = visible_text(value) if isinstance(value, str) else value  # nothing hidden acts
    cell = WriteOnlyCell(sheet, value=shown)
    if isinstance(value, str):
        cell.data_type = "s"  # a found value such as "=1+1" stays text
    style_cell(cell, font, fill, alignment)
    return cell


def style_cell(
    cell: Cell | WriteOnlyCell,
    font: Font | None = None,
    fill: PatternFill | None = None,
    alignment: Alignment | None = None,
) -> None:
    """Give a printed sheet's cell (差戻し票, 督促一覧) the parts of its look that are set."""
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
