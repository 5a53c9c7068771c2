"""An output sheet's settings, taken over from its template sheet.

Column widths, row format, views (frozen panes), margins, page setup (paper, fit to width),
print titles and area, header and footer, merged ranges, data validations, conditional
formats, filter, protection, page breaks and pictures are the template sheet's. What lies below
the repeated row moves down by the rows added; a range over the repeated row grows with it (a
print area, a validation of the column), and a merge within it is repeated on every copy.
Cell comments and hyperlinks of the template are not carried (notes to the coordinator).
"""

from __future__ import annotations

import io
from copy import copy

from openpyxl.drawing.image import Image
from openpyxl.drawing.spreadsheet_drawing import OneCellAnchor, TwoCellAnchor
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from tasks.render.sheet_rows import FilledSheet

HEADER_PARTS = ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter")


def take_over_settings(filled: FilledSheet, target: WriteOnlyWorksheet, selected: bool) -> None:
    """Give ``target`` the settings of ``filled``'s template sheet, moved as its rows moved.

    ``selected``: the sheet keeps the template's selected tab (only the first sheet does, so
    that Excel does not open the per-goal copies grouped).
    """
    source = filled.template.sheet
    loop = filled.template.loop
    moved = _Mover(loop.number if loop is not None else None, filled.extra_rows)
    target.sheet_format = copy(source.sheet_format)
    target.sheet_properties = copy(source.sheet_properties)
    target.sheet_state = source.sheet_state
    target.views = copy(source.views)
    if not selected:
        for view in target.views.sheetView:
            view.tabSelected = None
    for key, dimension in source.column_dimensions.items():
        target.column_dimensions[key] = copy(dimension)
        target.column_dimensions[key].worksheet = target
    target.page_margins = copy(source.page_margins)
    target.page_setup = copy(source.page_setup)
    target.print_options = copy(source.print_options)
    target.print_title_rows = source.print_title_rows
    target.print_title_cols = source.print_title_cols
    if source._print_area.ranges:
        target.print_area = [moved.range(r.coord) for r in source._print_area.sorted()]
    target.HeaderFooter = copy(source.HeaderFooter)
    for name in HEADER_PARTS:  # their texts rendered with the sheet's scope
        part = getattr(target.HeaderFooter, name)
        for side in (part.left, part.center, part.right):
            if side.text in filled.headers:
                side.text = filled.headers[side.text]
    # CellRanges, not strings: openpyxl puts them in a set, and strings' hashes (so the
    # order the ranges are written in) change from one process to the next.
    merges = [*moved.merges(source.merged_cells), *filled.merges]
    target.merged_cells = MultiCellRange([CellRange(coord) for coord in merges])
    _take_over_rules(source, target, moved)
    _take_over_images(source, target, moved)
    target.protection = copy(source.protection)
    target.auto_filter = copy(source.auto_filter)
    if target.auto_filter.ref:
        target.auto_filter.ref = moved.range(target.auto_filter.ref)
    target.row_breaks = copy(source.row_breaks)
    for brk in target.row_breaks.brk:
        brk.id = moved.row(brk.id)
    target.col_breaks = copy(source.col_breaks)
    for name, defined in source.defined_names.items():
        target.defined_names[name] = copy(defined)


def _take_over_rules(source: Worksheet, target: WriteOnlyWorksheet, moved: _Mover) -> None:
    """Copy the data validations and conditional formats, over the moved ranges."""
    for validation in source.data_validations.dataValidation:
        taken = copy(validation)
        taken.sqref = MultiCellRange(
            [CellRange(moved.range(r.coord)) for r in validation.sqref.sorted()]
        )
        target.data_validations.append(taken)
    for formatting in source.conditional_formatting:
        ranges = " ".join(moved.range(r.coord) for r in formatting.sqref.sorted())
        for rule in formatting.rules:
            target.conditional_formatting.add(ranges, rule)


def _take_over_images(source: Worksheet, target: WriteOnlyWorksheet, moved: _Mover) -> None:
    """Copy the pictures (a logo, a map); one below the repeated row moves down with it."""
    for image in source._images:
        data = image.ref.getvalue() if isinstance(image.ref, io.BytesIO) else image._data()
        taken = Image(io.BytesIO(data))
        taken.width, taken.height = image.width, image.height
        anchor = copy(image.anchor)
        if isinstance(anchor, OneCellAnchor | TwoCellAnchor):
            # Anchor rows count from 0; the picture keeps its size.
            down = moved.row(anchor._from.row + 1) - (anchor._from.row + 1)
            anchor._from.row += down
            if isinstance(anchor, TwoCellAnchor):
                anchor.to.row += down
        taken.anchor = anchor
        target.add_image(taken)


class _Mover:
    """Where a template row or range lands once the repeated row is written ``extra`` more times."""

    def __init__(self, loop_row: int | None, extra: int) -> None:
        self.loop_row = loop_row
        self.extra = extra if loop_row is not None else 0

    def row(self, number: int) -> int:
        """Return where a template row lands: moved down when below the repeated row."""
        if self.loop_row is None or number <= self.loop_row:
            return number
        return number + self.extra

    def range(self, coord: str) -> str:
        """Return a range moved; one over the repeated row grows over its copies."""
        cells = CellRange(coord)
        first = self.row(cells.min_row)
        last = cells.max_row + self.extra if self._covers(cells) else self.row(cells.max_row)
        moved = CellRange(min_col=cells.min_col, min_row=first, max_col=cells.max_col, max_row=last)
        return str(moved.coord)

    def merges(self, merged: MultiCellRange) -> list[str]:
        """Return the template's merged ranges moved; one within the repeated row, repeated."""
        ranges = []
        for cells in merged.sorted():
            if self.loop_row is not None and cells.min_row == cells.max_row == self.loop_row:
                for offset in range(self.extra + 1):
                    repeated = CellRange(cells.coord)
                    repeated.shift(row_shift=offset)
                    ranges.append(repeated.coord)
            else:
                ranges.append(self.range(cells.coord))
        return ranges

    def _covers(self, cells: CellRange) -> bool:
        return self.loop_row is not None and cells.min_row <= self.loop_row <= cells.max_row
