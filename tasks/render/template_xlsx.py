"""Build an Excel template from a layout: a sheet per section that has one, in the plan's order.

The cells hold Jinja tags following the conventions of ``tasks.render.xlsx``; a coordinator
may restyle the workbook in Excel.
"""

from __future__ import annotations

import io
import math

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tasks.ooxml import normalise_package
from tasks.plan.model import Plan
from tasks.render.layout import FONT, GOTHIC, Layout

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


def build_xlsx_template(plan: Plan, layout: Layout) -> bytes:
    """Write an Excel template with a sheet per section that has one, in the plan's order.

    集計 (grade_summary) and 提出状況 (submission_status) open with a conditional A1: the
    renderer leaves the sheet out when that section has nothing to show this year.
    """
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for key in plan.report.sections:
        if key == "grade_summary":
            _summary_sheet(workbook.create_sheet("集計"), plan)
        elif key == "submission_status":
            _status_sheet(workbook.create_sheet("提出状況"))
        elif key == "tables":
            notes = "notes" in plan.report.sections
            _table_sheet(
                workbook.create_sheet("様式" if layout.per_goal else "一覧"), layout, notes
            )
    workbook.remove(first)
    workbook.properties.creator = "shiryo"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _shown_only(section: str, text: str) -> str:
    return "{% if '" + section + "' in shown %}" + text + "{% endif %}"


def _summary_sheet(summary: Worksheet, plan: Plan) -> None:
    summary["A1"] = _shown_only(
        "grade_summary", "{{ municipality }} {{ year_label }} {{ title }}　評価の集計"
    )
    summary["A1"].font = Font(name=GOTHIC, size=14, bold=True)
    codes = len(plan.grade_scale.grades)
    headers = [
        "{{ levels[0] }}",
        *["{{ grade_codes[" + str(i) + "] }}" for i in range(codes)],
        "計",
    ]
    bodies = [
        "{{ goal.title }}",
        *["{{ goal.counts[" + str(i) + "] }}" for i in range(codes)],
        "{{ goal.total }}",
    ]
    _header_row(summary, 3, headers, [40.0] + [8.0] * (codes + 1))
    _body_row(summary, 4, bodies)
    summary["A6"] = "〔{{ legend_title }}〕　{{ legend }}"
    _page_setup(summary, a3=False)


def _status_sheet(missing: Worksheet) -> None:
    missing["A1"] = _shown_only(
        "submission_status", "{{ year_label }} 提出が済んでいない部署（{{ missing|length }}）"
    )
    missing["A1"].font = Font(name=GOTHIC, size=12, bold=True)
    _header_row(missing, 3, ["部署", "状況"], [30, 30])
    _body_row(missing, 4, ["{{ m.name }}", "{{ m.state }}"])
    _page_setup(missing, a3=False)


def _table_sheet(sheet: Worksheet, layout: Layout, notes: bool) -> None:
    columns = (
        [*(layout.excel_group_columns or []), *layout.columns]
        if layout.per_goal
        else (layout.columns)
    )
    sheet["A1"] = "{{ levels[0] }}　{{ goal.title }}" if layout.per_goal else "{{ title }}"
    sheet["A1"].font = Font(name=GOTHIC, size=14, bold=True)
    sheet["A2"] = "{{ municipality }}　{{ year_label }}"
    if layout.legend:
        sheet["A3"] = "〔{{ legend_title }}〕　{{ legend }}"
        sheet["A3"].font = Font(name=GOTHIC, size=9)
    _header_row(sheet, 4, [c.header for c in columns], [c.width * 0.5 for c in columns])
    _body_row(sheet, 5, [c.body for c in columns])
    if notes:
        sheet["A7"] = "{{ notes|join('\\n') }}"
        sheet["A7"].font = Font(name=FONT, size=9)
        sheet["A7"].alignment = Alignment(vertical="top", wrap_text=False)
    sheet.freeze_panes = "B5"
    sheet.print_title_rows = "4:4"
    _page_setup(sheet, a3=layout.paper_a3)


def _header_row(sheet: Worksheet, row: int, texts: list[str], widths: list[float]) -> None:
    for col, (text, width) in enumerate(zip(texts, widths, strict=True), start=1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font = Font(name=GOTHIC, size=10, bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(col)].width = round(width, 1)
    # Excel does not grow a row for wrapped text on its own: give the headers their lines (a
    # full-width character is about two units of column width; a {{ }} label counts long).
    lines = max(
        math.ceil(len(text) * 2 / max(width, 1.0))
        for text, width in zip(texts, widths, strict=True)
    )
    sheet.row_dimensions[row].height = 13.5 * min(max(lines, 1), 4) + 3


def _body_row(sheet: Worksheet, row: int, texts: list[str]) -> None:
    for col, text in enumerate(texts, start=1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font = Font(name=FONT, size=9)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        cell.border = _BORDER


def _page_setup(sheet: Worksheet, a3: bool) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3 if a3 else sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddHeader.right.text = "{{ document_number }}"
    sheet.oddFooter.center.text = "&P / &N"
