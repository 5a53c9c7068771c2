"""The Excel template read once: each sheet's fixed rows, its repeated row, its settings.

A coordinator's template workbook (``templates/*/shiryo.xlsx``, see ``tasks.render.xlsx``
for its conventions) is loaded with openpyxl once per render and described here: per sheet,
the rows written as they are (their cells' Jinja compiled once), the one row repeated per item
(its loop variable, each cell's style and text, what a wrapped line holds in each column), and
the loaded sheet itself, whose settings (widths, print settings, header and footer, panes,
merged ranges, validations, conditional formats) the output sheets take over.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError
from openpyxl import load_workbook
from openpyxl.cell._writer import write_cell
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import xmlfile

from tasks.errors import RenderError
from tasks.render.cell_expressions import Evaluate, compile_cell
from tasks.render.templates import TemplateSource

PER_GOAL_SHEET = "様式"
LOOP_VARIABLES = ("row", "goal", "ind", "m", "g")
"""``row`` initiatives, ``goal`` goals, ``ind`` indicator rows, ``m`` missing departments,
``g`` grade totals."""
_VARIABLE_USE = {name: re.compile(r"\b" + name + r"\b[.\[]") for name in LOOP_VARIABLES}
_DEFAULT_WIDTH = 8.43  # Excel's column width where the template sets none
SYNTAX_ERROR = "Excel のテンプレートの {{ }} の書き方か項目名に誤りがあります"


@dataclass(frozen=True)
class TemplateCell:
    """One cell of a template row: its text to evaluate, or its value written as it is."""

    column: int
    evaluate: Evaluate | None
    """The cell's Jinja (its text holds ``{{``), or None for a value written as it is."""
    value: Any
    style: StyleArray
    vmerge: bool
    """``|vmerge``: equal neighbours in this column are merged."""
    font_size: float | None
    line_width: int
    """Half-width characters a wrapped line holds in this column (a full-width one is 2)."""
    literal_xml: tuple[str, str] | None
    """A value written as it is, as openpyxl writes it, before and after its reference."""


@dataclass(frozen=True)
class TemplateRow:
    """One row of a template sheet, its cells left to right."""

    number: int
    cells: tuple[TemplateCell, ...]


@dataclass(frozen=True)
class SheetTemplate:
    """One sheet of the template: written once, or once per 基本目標 (``様式``)."""

    sheet: Worksheet
    per_goal: bool
    conditional: bool
    """A1 is ``{% if … %}``: the sheet is left out when A1 renders empty."""
    rows: tuple[TemplateRow, ...]
    """The rows written once, in order (the repeated row aside)."""
    loop: TemplateRow | None
    variable: str | None
    """The repeated row and its loop variable (one of ``LOOP_VARIABLES``), or None."""
    max_column: int


@dataclass(frozen=True)
class WorkbookTemplate:
    """The loaded template: its workbook (styles, theme, properties) and its sheets in order."""

    workbook: Workbook
    sheets: tuple[SheetTemplate, ...]
    shown: str
    """How messages name the template (its path, or where it was built from)."""


def read_workbook_template(source: TemplateSource) -> WorkbookTemplate:
    """Return the template's description; raise RenderError for a file or Jinja at fault."""
    try:
        workbook = load_workbook(io.BytesIO(source.data))
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise RenderError(f"{source.shown}: Excel のテンプレートを読めません: {err}") from err
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters["vmerge"] = lambda value: value
    try:
        sheets = tuple(_sheet_template(env, sheet) for sheet in workbook.worksheets)
    except TemplateError as err:
        raise RenderError(f"{source.shown}: {SYNTAX_ERROR}: {err}") from err
    return WorkbookTemplate(workbook, sheets, source.shown)


def _sheet_template(env: Environment, sheet: Worksheet) -> SheetTemplate:
    per_goal = sheet.title == PER_GOAL_SHEET
    loop_row, variable = _find_loop_row(sheet, skip={"goal"} if per_goal else set())
    widths = _line_widths(sheet)
    rows = []
    loop = None
    for cells in sheet.iter_rows():
        number = cells[0].row
        if number == loop_row:
            # Every column of the repeated row, as each copy of it is styled like it.
            loop = TemplateRow(number, tuple(_template_cell(env, c, widths) for c in cells))
            continue
        kept = tuple(_template_cell(env, c, widths) for c in cells if _kept(c))
        if kept or number in sheet.row_dimensions:
            rows.append(TemplateRow(number, kept))
    # A row with a height or a style and no cell below the last cell is written too.
    for number in sorted(set(sheet.row_dimensions) - {r.number for r in rows} - {loop_row}):
        if number > sheet.max_row:
            rows.append(TemplateRow(number, ()))
    a1 = sheet["A1"].value if sheet.max_row >= 1 else None
    return SheetTemplate(
        sheet=sheet,
        per_goal=per_goal,
        conditional=str(a1 or "").startswith("{% if"),
        rows=tuple(rows),
        loop=loop,
        variable=variable,
        max_column=sheet.max_column,
    )


def _kept(cell: Cell | MergedCell) -> bool:
    return cell.value is not None or cell.has_style


def _template_cell(
    env: Environment, cell: Cell | MergedCell, widths: dict[int, int]
) -> TemplateCell:
    text = cell.value if isinstance(cell.value, str) and "{{" in cell.value else None
    return TemplateCell(
        column=cell.column,
        evaluate=None if text is None else compile_cell(env, text),
        value=cell.value,
        style=StyleArray(cell._style) if cell.has_style else StyleArray(),
        vmerge=text is not None and "vmerge" in text,
        font_size=float(cell.font.sz) if cell.font.sz else None,
        line_width=widths.get(cell.column, max(int(_DEFAULT_WIDTH) - 1, 2)),
        literal_xml=_literal_xml(cell) if text is None and _kept(cell) else None,
    )


def _literal_xml(cell: Cell | MergedCell) -> tuple[str, str]:
    """Return a cell written by openpyxl, split around its reference (``r="B4"``)."""
    written = Cell(cell.parent, row=cell.row, column=cell.column)
    written._value, written.data_type = cell._value, cell.data_type
    written._style = StyleArray(cell._style) if cell.has_style else StyleArray()
    out = io.BytesIO()
    with xmlfile(out) as xf:
        write_cell(xf, cell.parent, written, written.has_style)
    head, tail = out.getvalue().decode("utf-8").split(f'r="{written.coordinate}"', 1)
    return f'{head}r="', f'"{tail}'


def _line_widths(sheet: Worksheet) -> dict[int, int]:
    """Return per column what a wrapped line holds: its width less one, at least two."""
    widths = {}
    for dimension in sheet.column_dimensions.values():
        width = dimension.width if dimension.customWidth else None
        for column in range(dimension.min or 0, (dimension.max or 0) + 1):
            widths[column] = max(int(width or _DEFAULT_WIDTH) - 1, 2)
    return widths


def _find_loop_row(sheet: Worksheet, skip: set[str]) -> tuple[int | None, str | None]:
    """Return the first row with a cell that uses a loop variable, and that variable."""
    for row in sheet.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or "{{" not in cell.value:
                continue
            for name, pattern in _VARIABLE_USE.items():
                if name not in skip and pattern.search(cell.value):
                    return cell.row, name
    return None, None
