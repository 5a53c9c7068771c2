"""Render the committee's Excel 資料 from a styled template workbook in ``templates/``.

A coordinator restyles the template in Excel; its cells say what goes where, in the same
Jinja expressions as the Word template (see ``tasks.render.report`` for the context):

- a cell with ``{{ … }}`` is filled from the context (a cell that is one expression and whose
  value is a number stays a number);
- a row whose cells use a loop variable is repeated, once per item, with the template row's
  style: ``row`` (initiatives: a goal's rows on a 様式 sheet, else each initiative once),
  ``goal`` (goals), ``ind`` (indicator rows), ``m`` (missing departments), ``g`` (grade totals);
- a sheet whose A1 is a ``{% if … %}`` that renders empty is left out (a section of the
  資料 that is not shown this year, see ``tasks.render.sections``);
- a sheet named ``様式`` is copied once per 基本目標 (``goal`` is that goal there) and named
  after it; ``|vmerge`` in a cell merges equal neighbours in that column (the 目標 column).

Every text is written as a string cell, so a value such as ``=SUM(A1)`` stays text; control
and bidi characters in it are shown as ``<U+202E>`` (openpyxl refuses the first, and the second
would reorder what the committee reads), and a value printed in a page header or footer has its
``&`` doubled, so that it is never read as one of Excel's header codes (``&P``, ``&"font"``).
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from copy import copy
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError, Undefined, UndefinedError
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Border
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet

from tasks.errors import RenderError
from tasks.ooxml import normalise_package
from tasks.render.templates import TemplateSource, read_template
from tasks.workspace.names import visible_text

PER_GOAL_SHEET = "様式"
_MAX_SHEET_TITLE = 31
_LOOP_VARIABLES = ("row", "goal", "ind", "m", "g")
_VARIABLE_USE = {name: re.compile(r"\b" + name + r"\b[.\[]") for name in _LOOP_VARIABLES}
_SINGLE_EXPRESSION = re.compile(r"^\{\{((?:(?!\}\}|\{\{).)*)\}\}$", re.S)
_FORBIDDEN_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def render_committee_xlsx(template: str | Path | TemplateSource, context: dict[str, Any]) -> bytes:
    """Return the 資料 as .xlsx bytes; raise RenderError for a broken template."""
    source = template if isinstance(template, TemplateSource) else read_template(template, "xlsx")
    path = source.shown
    try:
        workbook = load_workbook(io.BytesIO(source.data))
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise RenderError(f"{path}: Excel のテンプレートを読めません: {err}") from err
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters["vmerge"] = lambda value: value
    evaluate = _Evaluator(env)
    headers = _Evaluator(Environment(undefined=StrictUndefined, finalize=_header_value))
    try:
        for sheet in list(workbook.worksheets):
            if sheet.title == PER_GOAL_SHEET:
                position = workbook.index(sheet)
                for offset, goal in enumerate(context["goals"]):
                    copied = workbook.copy_worksheet(sheet)
                    copied.title = _sheet_title(f"{goal['no']}_{goal['title']}")
                    # copy_worksheet leaves out what a printed page needs: bring it along.
                    copied.HeaderFooter = copy(sheet.HeaderFooter)
                    copied.print_title_rows = sheet.print_title_rows
                    copied.freeze_panes = sheet.freeze_panes
                    workbook.move_sheet(copied, offset=position + offset - workbook.index(copied))
                    _fill_sheet(evaluate, headers, copied, {**context, "goal": goal}, per_goal=True)
                workbook.remove(sheet)
            else:
                # A sheet whose A1 is {% if … %} and renders empty is a section not shown.
                conditional = str(sheet["A1"].value or "").startswith("{% if")
                _fill_sheet(evaluate, headers, sheet, context, per_goal=False)
                if conditional and not sheet["A1"].value:
                    workbook.remove(sheet)
    except (TemplateError, KeyError, TypeError, IndexError) as err:
        raise RenderError(
            f"{path}: Excel のテンプレートの {{ }} の書き方か項目名に誤りがあります: {err}"
        ) from err
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _fill_sheet(
    evaluate: _Evaluator,
    headers: _Evaluator,
    sheet: Worksheet,
    context: dict[str, Any],
    per_goal: bool,
) -> None:
    # On a per-goal sheet ``goal`` is that sheet's goal, not a loop.
    for part in (sheet.oddHeader, sheet.oddFooter):
        for side in (part.left, part.center, part.right):
            if side.text and "{{" in side.text:
                side.text = visible_text(str(headers(side.text, context)))
    loop_row, variable = _find_loop_row(sheet, skip={"goal"} if per_goal else set())
    for row in sheet.iter_rows():
        if row[0].row == loop_row:
            continue
        for cell in row:
            if isinstance(cell.value, str) and "{{" in cell.value:
                _write(cell, evaluate(cell.value, context))
    if loop_row is None or variable is None:
        return
    items = _loop_items(context, variable, per_goal)
    template = [copy(c) for c in sheet[loop_row]]
    texts = [c.value for c in sheet[loop_row]]
    merges = [isinstance(t, str) and "vmerge" in t for t in texts]
    if len(items) > 1:
        sheet.insert_rows(loop_row + 1, amount=len(items) - 1)
    for offset, item in enumerate(items):
        excel_row = loop_row + offset
        scope = {**context, variable: item}
        for col, (source, text) in enumerate(zip(template, texts, strict=True), start=1):
            cell = sheet.cell(row=excel_row, column=col)
            cell._style = copy(source._style)
            if isinstance(text, str) and "{{" in text:
                _write(cell, evaluate(text, scope))
            else:
                cell.value = text
        _fit_row_height(sheet, excel_row, len(template))
    if not items:
        for cell in sheet[loop_row]:
            cell.value = None
    for col, merge in enumerate(merges, start=1):
        if merge:
            _merge_equal_runs(sheet, col, loop_row, loop_row + len(items) - 1)


def _find_loop_row(sheet: Worksheet, skip: set[str]) -> tuple[int | None, str | None]:
    for row in sheet.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or "{{" not in cell.value:
                continue
            for name, pattern in _VARIABLE_USE.items():
                if name not in skip and pattern.search(cell.value):
                    return cell.row, name
    return None, None


def _loop_items(context: dict[str, Any], variable: str, per_goal: bool) -> list[Any]:
    if variable == "row":
        return list(context["goal"]["rows"] if per_goal else context["initiatives"])
    source = {"goal": "goals", "ind": "indicators", "m": "missing", "g": "grade_totals"}
    return list(context[source[variable]])


class _Evaluator:
    """Evaluate a cell's text in a scope, compiling each distinct text once.

    A template row is evaluated once per item (3,000 initiatives): compiling its Jinja again
    for each was most of the rendering time.
    """

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._expressions: dict[str, Any] = {}
        self._templates: dict[str, Any] = {}

    def __call__(self, text: str, scope: dict[str, Any]) -> object:
        single = _SINGLE_EXPRESSION.match(text.strip())
        if single and "|vmerge" not in single.group(1):
            source = single.group(1).strip()
            expression = self._expressions.get(source)
            if expression is None:
                expression = self.env.compile_expression(source, undefined_to_none=False)
                self._expressions[source] = expression
            value = expression(**scope)
            if isinstance(value, Undefined):
                raise UndefinedError(f"{source} is not in the report")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
            return "" if value is None else str(value)
        template = self._templates.get(text)
        if template is None:
            template = self._templates[text] = self.env.from_string(text)
        return template.render(**scope)


def _write(cell: Cell, value: object) -> None:
    if isinstance(value, int | float):
        cell.value = value
        return
    text = visible_text(str(value))
    # Assigning a str that starts with "=" makes openpyxl write a formula; force a string.
    cell.value = text if text else None
    if text:
        cell.data_type = "s"


def _header_value(value: object) -> object:
    """Return a value printed in a page header with its ``&`` doubled (Jinja's finalize)."""
    return value.replace("&", "&&") if isinstance(value, str) else value


def _merge_equal_runs(sheet: Worksheet, column: int, first: int, last: int) -> None:
    start = first
    for row in range(first, last + 1):
        current = sheet.cell(row=row, column=column).value
        following = sheet.cell(row=row + 1, column=column).value if row < last else object()
        if following != current:
            if row > start:
                _merge_column_run(sheet, column, start, row)
            start = row + 1


def _merge_column_run(sheet: Worksheet, column: int, first: int, last: int) -> None:
    """Merge rows ``first``–``last`` of a column as ``Worksheet.merge_cells`` does, faster.

    The same cells, borders and protection as openpyxl's ``MergedCellRange.format``; each
    distinct style is looked up in the workbook's collections once, not once per cell (that
    lookup hashes the whole style and was a third of the rendering time).
    """
    merged = MergedCellRange(
        sheet, f"{get_column_letter(column)}{first}:{get_column_letter(column)}{last}"
    )
    sheet.merged_cells.add(merged)
    cells = sheet._cells
    for row in range(first + 1, last + 1):
        cells[row, column] = MergedCell(sheet, row, column)
    start = merged.start_cell
    workbook = sheet.parent
    looked_up: dict[tuple[str, int], int] = {}
    for name in ("top", "left", "right", "bottom"):
        side = getattr(start.border, name)
        if side and side.style is None:
            continue  # no border style: nothing to carry (as openpyxl does)
        border = Border(**{name: side})
        for coord in getattr(merged, name):
            style = _style_array(cells[coord])
            key = (name, style.borderId)
            if key not in looked_up:
                looked_up[key] = workbook._borders.add(cells[coord].border + border)
            style.borderId = looked_up[key]
    if start.protection is not None:
        protection = workbook._protections.add(copy(start.protection))
        for row in range(first, last + 1):
            _style_array(cells[row, column]).protectionId = protection


def _style_array(cell: Cell | MergedCell) -> StyleArray:
    # As openpyxl's style descriptors do: a cell without its own style array gets one.
    if not cell._style:
        cell._style = StyleArray()
    return cell._style


def _fit_row_height(sheet: Worksheet, row: int, columns: int) -> None:
    # openpyxl cannot measure text and LibreOffice does not refit rows of an .xlsx it opens:
    # estimate the wrapped line count from the column width (a full-width character is 2).
    lines, size = 1, 11.0
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
        size = float(cell.font.sz or size)
    sheet.row_dimensions[row].height = round(lines * size * 1.35 + 4, 1)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _sheet_title(text: str) -> str:
    return _FORBIDDEN_SHEET_CHARS.sub("・", text)[:_MAX_SHEET_TITLE]
