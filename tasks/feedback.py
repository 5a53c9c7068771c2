"""Feedback workbooks (差戻し票) that tell a department what to fix, cell by cell."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from tasks.intake import LedgerEntry
from tasks.ooxml import normalise_package
from tasks.plan import Plan
from tasks.validate import Finding

_HEADERS = ["No.", "区分", "シート", "セル", "入力されていた値", "内容と直し方", "正しい入力"]
_WIDTHS = [6, 10, 14, 8, 30, 70, 24]
_SEVERITY_JA = {"critical": "要修正", "warning": "注意"}


def feedback_key(plan: Plan, entry: LedgerEntry) -> str:
    """Return where a file's feedback workbook goes."""
    folder = entry.department_id or "_unassigned"
    stem = entry.original_name.rsplit(".", 1)[0][:80]
    return f"feedback/{plan.fiscal_year.current}/{folder}/差戻し票_{stem}_{entry.sha256[:8]}.xlsx"


def build_feedback_workbook(plan: Plan, entry: LedgerEntry, findings: list[Finding]) -> bytes:
    """Return a feedback workbook listing each finding with its cell, in plain Japanese."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "差戻し票"
    blocking = sum(1 for f in findings if f.severity == "critical")
    department = plan.department(entry.department_id).name if entry.department_id else "（不明）"
    verdict = (
        "差し戻します。下の「要修正」をすべて直して、同じフォルダに提出し直してください。"
        if blocking
        else "受け付けました。下の「注意」を次回の入力の参考にしてください。"
    )
    lines = [
        f"{plan.municipality} {plan.fiscal_year.current}年度 提出内容の確認結果（差戻し票）",
        f"部署: {department}　ファイル: {entry.original_name}　受付: {entry.received_at}",
        verdict,
    ]
    for row, text in enumerate(lines, start=1):
        sheet.cell(row=row, column=1, value=text).data_type = "s"
    sheet["A1"].font = Font(bold=True, size=14)
    header_row = len(lines) + 2
    for col, header in enumerate(_HEADERS, start=1):
        cell = sheet.cell(row=header_row, column=col, value=header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
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
        row = header_row + number
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=col, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a found value such as "=1+1" stays text
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[chr(64 + col)].width = width
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())
