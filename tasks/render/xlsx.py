"""Render the committee's Excel 資料 from a styled template workbook in ``templates/``.

A coordinator restyles the template in Excel; its cells say what goes where, in the same
Jinja expressions as the Word template (see ``tasks.render.report`` for the context):

- a cell with ``{{ … }}`` is filled from the context (a cell that is one expression and whose
  value is a number stays a number);
- a row whose cells use a loop variable is repeated, once per item, with the template row's
  style: ``row`` (initiatives: a goal's rows on a 様式 sheet, else each initiative once),
  ``goal`` (goals), ``ind`` (indicator rows), ``m`` (missing departments), ``g`` (grade totals);
  what lies below it moves down, and a range over it (print area, validation) grows with it;
- a sheet whose A1 is a ``{% if … %}`` that renders empty is left out (a section of the
  資料 that is not shown this year, see ``tasks.render.sections``);
- a sheet named ``様式`` is copied once per 基本目標 (``goal`` is that goal there) and named
  after it; ``|vmerge`` in a cell merges equal neighbours in that column (the 目標 column);
- each sheet keeps its template sheet's settings: column widths, panes, print settings
  (paper, fit to width, print titles), header and footer, merges, validations, conditional
  formats (``tasks.render.sheet_settings``).

Every text is written as a string cell, so a value such as ``=SUM(A1)`` stays text; control
and bidi characters in it are shown as ``<U+202E>`` (openpyxl refuses the first, and the second
would reorder what the committee reads), a text longer than a cell holds (32,767 characters)
is cut there and ends with "…", and a value printed in a page header or footer has its ``&``
doubled, so that it is never read as one of Excel's header codes (``&P``, ``&"font"``).

The template is read once (``tasks.render.workbook_template``); the output is an openpyxl
write-only workbook with the template's styles, whose rows are written as text
(``tasks.render.sheet_rows``): 3,000 initiatives take about as long as a bare openpyxl write of
the same cells. Same inputs, same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from copy import copy
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from tasks.errors import RenderError
from tasks.ooxml import normalise_package, with_sheet_rows
from tasks.render.cell_expressions import Evaluate, compile_cell
from tasks.render.cell_styles import CellStyles
from tasks.render.sheet_rows import FilledSheet, fill_sheet
from tasks.render.sheet_settings import HEADER_PARTS, take_over_settings
from tasks.render.templates import TemplateSource, read_template
from tasks.render.workbook_template import (
    SYNTAX_ERROR,
    SheetTemplate,
    WorkbookTemplate,
    read_workbook_template,
)
from tasks.workspace.names import visible_text

_MAX_SHEET_TITLE = 31
_FORBIDDEN_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_TAKEN_OVER = (
    # The template's styles, under the same indexes, and what the package says of itself.
    "_fonts",
    "_fills",
    "_borders",
    "_number_formats",
    "_protections",
    "_alignments",
    "_table_styles",
    "_cell_styles",
    "_named_styles",
    "_date_formats",
    "_timedelta_formats",
    "_colors",
    "_differential_styles",
    "loaded_theme",
    "custom_doc_props",
    "security",
    "calculation",
    "code_name",
    "epoch",
    "views",
    "defined_names",
)


def render_committee_xlsx(template: str | Path | TemplateSource, context: dict[str, Any]) -> bytes:
    """Return the 資料 as .xlsx bytes; raise RenderError for a broken template."""
    source = template if isinstance(template, TemplateSource) else read_template(template, "xlsx")
    book = read_workbook_template(source)
    try:
        filled = _filled_sheets(book, context, CellStyles(book.workbook))
        if not filled:
            raise RenderError(f"{source.shown}: Excel のテンプレートに書き出すシートがありません")
        output = Workbook(write_only=True)
        for name in _TAKEN_OVER:
            setattr(output, name, getattr(book.workbook, name))
        output.properties = copy(book.workbook.properties)
        for index, sheet in enumerate(filled):
            written = output.create_sheet(sheet.title)
            take_over_settings(sheet, written, selected=index == 0)
            reference = f"A1:{get_column_letter(sheet.template.max_column)}{sheet.last_row}"
            written.calculate_dimension = lambda reference=reference: reference
    except (TemplateError, KeyError, TypeError, IndexError) as err:
        raise RenderError(f"{source.shown}: {SYNTAX_ERROR}: {err}") from err
    buffer = io.BytesIO()
    output.save(buffer)
    rows = {ws.path[1:]: sheet.xml for ws, sheet in zip(output.worksheets, filled, strict=True)}
    return normalise_package(buffer.getvalue(), with_sheet_rows(rows))


def _filled_sheets(
    book: WorkbookTemplate, context: dict[str, Any], styles: CellStyles
) -> list[FilledSheet]:
    """Return the output sheets in order: each sheet once, ``様式`` once per goal."""
    header_text = _header_renderer()
    filled = []
    for sheet in book.sheets:
        if sheet.per_goal:
            for goal in context["goals"]:
                scope = {**context, "goal": goal}
                title = _sheet_title(f"{goal['no']}_{goal['title']}")
                written = fill_sheet(sheet, title, scope, _items(sheet, scope), styles)
                written.headers = _headers(sheet, scope, header_text)
                filled.append(written)
            continue
        written = fill_sheet(sheet, sheet.sheet.title, context, _items(sheet, context), styles)
        written.headers = _headers(sheet, context, header_text)
        # A sheet whose A1 is {% if … %} and renders empty is a section not shown.
        if not (sheet.conditional and not written.a1):
            filled.append(written)
    return filled


def _items(sheet: SheetTemplate, scope: dict[str, Any]) -> list[Any]:
    variable = sheet.variable
    if variable is None:
        return []
    if variable == "row":
        return list(scope["goal"]["rows"] if sheet.per_goal else scope["initiatives"])
    source = {"goal": "goals", "ind": "indicators", "m": "missing", "g": "grade_totals"}
    return list(scope[source[variable]])


HeaderText = Callable[[str, dict[str, Any]], str]


def _header_renderer() -> HeaderText:
    """Return the renderer of page header and footer texts, each compiled once."""
    env = Environment(undefined=StrictUndefined, finalize=_header_value)
    compiled: dict[str, Evaluate] = {}

    def header_text(text: str, scope: dict[str, Any]) -> str:
        if text not in compiled:
            compiled[text] = compile_cell(env, text, values=False)
        return visible_text(str(compiled[text](scope)))

    return header_text


def _headers(
    sheet: SheetTemplate, scope: dict[str, Any], header_text: HeaderText
) -> dict[str, str]:
    """Return each page header and footer text of the sheet that holds ``{{``, rendered."""
    texts = {
        side.text
        for part in HEADER_PARTS
        for side in _sides(getattr(sheet.sheet.HeaderFooter, part))
        if side.text and "{{" in side.text
    }
    return {text: header_text(text, scope) for text in sorted(texts)}


def _sides(part: Any) -> tuple[Any, Any, Any]:
    return part.left, part.center, part.right


def _header_value(value: object) -> object:
    """Return a value printed in a page header with its ``&`` doubled (Jinja's finalize)."""
    if value is None:
        return ""
    return value.replace("&", "&&") if isinstance(value, str) else value


def _sheet_title(text: str) -> str:
    return _FORBIDDEN_SHEET_CHARS.sub("・", text)[:_MAX_SHEET_TITLE]
