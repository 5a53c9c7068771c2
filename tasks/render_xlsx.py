"""Render the committee's Excel 資料 from a styled workbook in ``templates/``.

The template's ``様式`` sheet gives the look (title rows, the header row 4, the body row 5);
the renderer copies it once per 基本目標 and fills it. The ``集計`` sheet gets the grade counts.
Every text is written as a string cell, so a value such as ``=SUM(A1)`` stays text.
"""

from __future__ import annotations

import io
import math
import unicodedata
import zipfile
from copy import copy
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from tasks.errors import RenderError
from tasks.ooxml import normalise_package
from tasks.render_docx import TEMPLATES_DIR

LAYOUT_SHEET = "様式"
SUMMARY_SHEET = "集計"
HEADER_ROW = 4
BODY_ROW = 5
_MAX_SHEET_TITLE = 31


def render_committee_xlsx(template: str | Path, context: dict[str, Any]) -> bytes:
    """Return the 資料 as .xlsx bytes; raise RenderError for a broken template."""
    path = Path(template) if Path(template).is_absolute() else TEMPLATES_DIR / template
    try:
        workbook = load_workbook(path)
        layout = workbook[LAYOUT_SHEET]
        summary = workbook[SUMMARY_SHEET]
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise RenderError(f"{path}: the Excel template cannot be used: {err}") from err
    labels = context["labels"]
    headers = [
        context["levels"][-1],
        context["initiative_label"],
        "概要",
        "担当部署",
        labels["previous"],
        labels["plan_text"],
        labels["result_text"],
        labels["grade"],
        labels["comment"],
        labels["remarks"],
    ]
    keys = [
        "target_label",
        "name",
        "summary",
        "departments",
        "previous",
        "plan_text",
        "result_text",
        "grade",
        "comment",
        "remarks",
    ]
    for number, goal in enumerate(context["goals"], start=1):
        sheet = workbook.copy_worksheet(layout)
        sheet.title = f"{number}_{goal['title']}"[:_MAX_SHEET_TITLE]
        _fill_goal_sheet(sheet, layout, context, goal, headers, keys)
    _fill_summary(summary, context)
    workbook.remove(layout)
    workbook.move_sheet(SUMMARY_SHEET, offset=-workbook.index(summary))
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _fill_goal_sheet(
    sheet: Worksheet,
    layout: Worksheet,
    context: dict[str, Any],
    goal: dict[str, Any],
    headers: list[str],
    keys: list[str],
) -> None:
    _set_text(sheet["A1"], f"{context['levels'][0]}　{goal['title']}")
    _set_text(sheet["A2"], f"{context['levels'][1]}　{goal['section']}")
    _set_text(sheet["A3"], f"〔{context['legend_title']}〕　{context['legend']}")
    for col, header in enumerate(headers, start=1):
        _set_text(sheet.cell(row=HEADER_ROW, column=col), header)
    body_styles = [layout.cell(row=BODY_ROW, column=col) for col in range(1, len(keys) + 1)]
    merge_start = BODY_ROW
    for offset, row in enumerate(goal["rows"]):
        excel_row = BODY_ROW + offset
        for col, key in enumerate(keys, start=1):
            cell = sheet.cell(row=excel_row, column=col)
            _copy_style(body_styles[col - 1], cell)
            _set_text(cell, str(row.get(key, "")))
        _fit_row_height(sheet, excel_row, len(keys))
        is_last = offset == len(goal["rows"]) - 1
        if is_last or goal["rows"][offset + 1]["target_label"] != row["target_label"]:
            if excel_row > merge_start:
                sheet.merge_cells(
                    start_row=merge_start, start_column=1, end_row=excel_row, end_column=1
                )
            merge_start = excel_row + 1
    sheet.freeze_panes = sheet.cell(row=BODY_ROW, column=3)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddHeader.right.text = context["document_number"]
    sheet.oddFooter.center.text = "&P / &N"


def _fill_summary(sheet: Worksheet, context: dict[str, Any]) -> None:
    style_header = [copy(sheet.cell(row=3, column=c)._style) for c in range(1, 8)]
    style_body = [copy(sheet.cell(row=4, column=c)._style) for c in range(1, 8)]
    blank = copy(sheet.cell(row=1, column=8)._style)
    for row in sheet.iter_rows(min_row=3, max_row=4):
        for cell in row:
            cell.value = None
            cell._style = copy(blank)
    _set_text(
        sheet["A1"],
        f"{context['municipality']} {context['fiscal_year']}年度 {context['title']}　評価の集計",
    )
    codes = context["grade_codes"]
    header = [context["levels"][0], *codes, "計"]
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    for col, text in enumerate(header, start=1):
        cell = sheet.cell(row=3, column=col)
        cell._style = copy(style_header[min(col, 7) - 1])
        _set_text(cell, text)
    rows = [[g["title"], *g["counts"], g["total"]] for g in context["goals"]]
    rows.append(["合計", *context["totals"], context["total"]])
    for offset, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=4 + offset, column=col)
            cell._style = copy(style_body[min(col, 7) - 1])
            if isinstance(value, str):
                _set_text(cell, value)
            else:
                cell.value = value
    line = 4 + len(rows) + 1
    _set_text(sheet.cell(row=line, column=1), f"〔{context['legend_title']}〕　{context['legend']}")
    if context["missing"]:
        _set_text(sheet.cell(row=line + 2, column=1), "提出が済んでいない部署")
        for offset, item in enumerate(context["missing"], start=1):
            _set_text(sheet.cell(row=line + 2 + offset, column=1), item["name"])
            _set_text(sheet.cell(row=line + 2 + offset, column=2), item["state"])
    sheet.oddHeader.right.text = context["document_number"]


def _fit_row_height(sheet: Worksheet, row: int, columns: int) -> None:
    # openpyxl cannot measure text and LibreOffice does not refit rows of an .xlsx it opens:
    # estimate the wrapped line count from the column width (a full-width character is 2).
    lines = 1
    for col in range(1, columns + 1):
        cell = sheet.cell(row=row, column=col)
        if not isinstance(cell.value, str):
            continue
        width = sheet.column_dimensions[cell.column_letter].width or 8.43
        per_line = max(int(width) - 1, 2)
        wrapped = sum(
            max(1, math.ceil(_display_width(line) / per_line)) for line in cell.value.split("\n")
        )
        lines = max(lines, wrapped)
    size = cell.font.sz or 11
    sheet.row_dimensions[row].height = round(lines * float(size) * 1.35 + 4, 1)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _copy_style(source: Cell, target: Cell) -> None:
    target._style = copy(source._style)


def _set_text(cell: Cell, text: str) -> None:
    # Assigning a str that starts with "=" makes openpyxl write a formula; force a string.
    cell.value = text if text else None
    if text:
        cell.data_type = "s"
