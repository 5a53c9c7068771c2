"""A sheet's rows filled from the report and written as SpreadsheetML, row after row.

The fixed rows are evaluated once, the repeated row once per item; the result is the sheet's
``<sheetData>`` element, written here as text (openpyxl writes everything around it, see
``tasks.render.xlsx``). A cell is written as openpyxl writes it: an inline string (never a
formula), a number, or only its style. A repeated row is as tall as its wrapped text (openpyxl
cannot measure text and LibreOffice does not refit the rows of an .xlsx it opens), and equal
neighbours in a ``|vmerge`` column are merged, with the borders Excel draws round a merge.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.compat.strings import safe_string

from tasks.ooxml import COLUMN_LETTERS, number_cell_xml, text_cell_xml
from tasks.render.cell_expressions import Scope
from tasks.render.cell_styles import CellStyles
from tasks.render.workbook_template import SheetTemplate, TemplateCell, TemplateRow
from tasks.workspace.names import visible_text

_LETTERS = COLUMN_LETTERS
MAX_CELL_CHARS = 32_767
"""Excel's limit on a cell's text; a longer text is cut there and ends with "…"."""


@dataclass
class FilledSheet:
    """One output sheet: its ``<sheetData>``, what it merges, how far the template grew."""

    template: SheetTemplate
    title: str
    xml: str
    a1: object
    """A1 as written (a section left out this year renders it empty)."""
    extra_rows: int
    """Rows written below the template's repeated row (one per item after the first)."""
    merges: list[str] = field(default_factory=list)
    last_row: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    """Each page header and footer text that holds ``{{``, rendered."""


def fill_sheet(
    sheet: SheetTemplate,
    title: str,
    scope: dict[str, Any],
    items: Sequence[Any],
    styles: CellStyles,
) -> FilledSheet:
    """Return the sheet filled: its fixed rows from ``scope``, its repeated row per item."""
    loop = sheet.loop
    loop_number = loop.number if loop is not None else None
    extra = max(len(items) - 1, 0) if loop is not None else 0
    filled = FilledSheet(sheet, title, "", None, extra)
    chunks = ["<sheetData>"]
    before = [r for r in sheet.rows if loop_number is None or r.number < loop_number]
    after = [r for r in sheet.rows if loop_number is not None and r.number > loop_number]
    for row in before:
        chunks.append(_fixed_row(sheet, row, row.number, scope, styles, filled))
    if loop is not None and sheet.variable is not None:
        chunks.extend(_repeated_rows(sheet, loop, scope, sheet.variable, items, styles, filled))
    for row in after:
        chunks.append(_fixed_row(sheet, row, row.number + extra, scope, styles, filled))
    chunks.append("</sheetData>")
    filled.xml = "".join(chunks)
    return filled


def _fixed_row(
    sheet: SheetTemplate,
    row: TemplateRow,
    number: int,
    scope: Scope,
    styles: CellStyles,
    filled: FilledSheet,
) -> str:
    dimension = sheet.sheet.row_dimensions.get(row.number)
    attributes = _attributes(dict(dimension) if dimension is not None else {})
    cells = []
    for cell in row.cells:
        value = _value(cell, scope)
        if number == 1 and cell.column == 1:
            filled.a1 = value
        cells.append(_cell_xml(cell, number, value, styles.attribute(cell.style)))
    filled.last_row = number
    return f'<row r="{number}"{attributes}>{"".join(cells)}</row>'


def _repeated_rows(
    sheet: SheetTemplate,
    loop: TemplateRow,
    scope: dict[str, Any],
    variable: str,
    items: Sequence[Any],
    styles: CellStyles,
    filled: FilledSheet,
) -> Iterator[str]:
    dimension = sheet.sheet.row_dimensions.get(loop.number)
    kept = {k: v for k, v in dict(dimension or {}).items() if k not in ("ht", "customHeight")}
    item_scope = dict(scope)
    rows: list[list[Any]] = []
    for item in items:
        item_scope[variable] = item
        rows.append([_value(cell, item_scope) for cell in loop.cells])
    if not rows:  # no item: the row stays, empty, with its styles and height
        rows.append([None] * len(loop.cells))
        kept = dict(dimension or {})
    merged = _merged_runs(loop, rows, styles, filled)
    for offset, values in enumerate(rows):
        number = loop.number + offset
        if number == 1:
            filled.a1 = values[0] if values else None
        attributes = _attributes({**kept, "ht": _fit_height(loop, values)} if items else kept)
        cells = []
        for index, (cell, value) in enumerate(zip(loop.cells, values, strict=True)):
            style = merged.get((offset, index))
            if style is not None:
                value, attribute = style
            else:
                attribute = styles.attribute(cell.style)
            cells.append(_cell_xml(cell, number, value, attribute))
        filled.last_row = number
        yield f'<row r="{number}"{attributes}>{"".join(cells)}</row>'


def _value(cell: TemplateCell, scope: Scope) -> Any:
    """Return the cell's value as written: a number, a text, or None for empty."""
    if cell.evaluate is None:
        return cell.value
    value = cell.evaluate(scope)
    if isinstance(value, int | float):
        return value
    text = _shown(str(value))
    if len(text) > MAX_CELL_CHARS:  # Excel would not open the file: cut, and show it
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text or None


def _shown(text: str) -> str:
    # visible_text, without its character-by-character pass for the usual reason a text is
    # not printable: line breaks, tabs and full-width spaces (none of them hidden).
    if (
        text.isprintable()
        or text.replace("\n", "").replace("\t", "").replace("\u3000", "").isprintable()
    ):
        return text
    return visible_text(text)


def _cell_xml(cell: TemplateCell, number: int, value: Any, style: str) -> str:
    reference = f"{_LETTERS[cell.column]}{number}"
    if cell.evaluate is None and value is cell.value and cell.literal_xml is not None:
        head, tail = cell.literal_xml
        return f"{head}{reference}{tail}"  # as openpyxl writes it
    if value is None:
        return f'<c r="{reference}"{style}/>' if style else ""
    if isinstance(value, str):
        return text_cell_xml(reference, value, style)
    return number_cell_xml(reference, value, style)


def _attributes(values: dict[str, Any]) -> str:
    if "ht" in values and not isinstance(values["ht"], str):
        values = {**values, "ht": safe_string(values["ht"]), "customHeight": "1"}
    return "".join(f' {key}="{value}"' for key, value in values.items())


def _fit_height(loop: TemplateRow, values: list[Any]) -> float:
    """Return a row's height for its wrapped text, estimated from the column widths."""
    lines, size = 1, 11.0
    for cell, value in zip(loop.cells, values, strict=True):
        if not isinstance(value, str):
            continue
        size = cell.font_size or size
        per_line = cell.line_width
        parts = value.split("\n")
        # Measured only when it may be the tallest: at most two units a character.
        if sum(max(1, math.ceil(2 * len(part) / per_line)) for part in parts) <= lines:
            continue
        wrapped = sum(max(1, math.ceil(_display_width(part) / per_line)) for part in parts)
        lines = max(lines, wrapped)
    return round(lines * size * 1.35 + 4, 1)


class _Widths(dict[str, int]):
    """A character's display width (a full-width character is 2), looked up once."""

    def __missing__(self, char: str) -> int:
        width = self[char] = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        return width


_WIDTHS = _Widths()


def _display_width(text: str) -> int:
    return len(text) if text.isascii() else sum(map(_WIDTHS.__getitem__, text))


def _merged_runs(
    loop: TemplateRow, rows: list[list[Any]], styles: CellStyles, filled: FilledSheet
) -> dict[tuple[int, int], tuple[Any, str]]:
    """Merge equal neighbours of each ``|vmerge`` column; return the cells a merge restyles.

    Keyed by (row offset, cell index): the value and style attribute written there (the
    first cell keeps its value, the others are empty and carry the merge's borders).
    """
    restyled: dict[tuple[int, int], tuple[Any, str]] = {}
    for index, cell in enumerate(loop.cells):
        if not cell.vmerge:
            continue
        start = 0
        for offset in range(len(rows)):
            value = rows[offset][index]
            last = offset == len(rows) - 1
            if last or rows[offset + 1][index] != value:
                if offset > start:
                    top, middle, bottom = styles.merged_run(cell.style)
                    restyled[start, index] = (value, top)
                    for inside in range(start + 1, offset):
                        restyled[inside, index] = (None, middle)
                    restyled[offset, index] = (None, bottom)
                    letter = _LETTERS[cell.column]
                    first_row, last_row = loop.number + start, loop.number + offset
                    filled.merges.append(f"{letter}{first_row}:{letter}{last_row}")
                start = offset + 1
    return restyled
