"""The output's cell styles: the template's own, each looked up once, and those of merges.

The output workbook takes over the template workbook's style collections (fonts, fills,
borders, number formats, cell formats), so a template cell's style is written under the same
index. Each distinct style is looked up once per render, not once per cell (hashing a style
for each of 30,000 cells was a third of the old rendering time).
"""

from __future__ import annotations

from copy import copy

from openpyxl.styles import Border
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook.workbook import Workbook


class CellStyles:
    """The style attribute (`` s="3"``) of each style written, for one output workbook."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._attributes: dict[tuple[int, ...], str] = {}
        self._runs: dict[tuple[int, ...], tuple[str, str, str]] = {}

    def attribute(self, style: StyleArray) -> str:
        """Return a cell's style attribute, or "" for a cell without a style (as openpyxl)."""
        key = tuple(style)
        found = self._attributes.get(key)
        if found is None:
            found = self._attributes[key] = (
                f' s="{self.workbook._cell_styles.add(style)}"' if any(style) else ""
            )
        return found

    def merged_run(self, style: StyleArray) -> tuple[str, str, str]:
        """Return the style attributes of a vertical merge's first, inner and last cells.

        As openpyxl's ``MergedCellRange.format``: the first cell's borders drawn round the
        merged range (its top on the first cell, its sides on every cell, its bottom on the
        last), and its protection on every cell; the cells under the first have no other style.
        """
        key = tuple(style)
        if key not in self._runs:
            top, middle, bottom = _run_styles(self.workbook, style)
            self._runs[key] = (
                self.attribute(top),
                self.attribute(middle),
                self.attribute(bottom),
            )
        return self._runs[key]


def _run_styles(workbook: Workbook, first: StyleArray) -> tuple[StyleArray, ...]:
    borders = workbook._borders
    cells = {"top": StyleArray(first), "middle": StyleArray(), "bottom": StyleArray()}
    edges = {
        "top": ["top"],
        "left": ["top", "middle", "bottom"],
        "right": ["top", "middle", "bottom"],
        "bottom": ["bottom"],
    }
    start_border = borders[first.borderId]
    for name, touched in edges.items():
        side = getattr(start_border, name)
        if side and side.style is None:
            continue  # no border style: nothing to carry (as openpyxl does)
        edge = Border(**{name: side})
        for cell in touched:
            cells[cell].borderId = borders.add(borders[cells[cell].borderId] + edge)
    protection = workbook._protections.add(copy(workbook._protections[first.protectionId]))
    for style in cells.values():
        style.protectionId = protection
    return cells["top"], cells["middle"], cells["bottom"]
