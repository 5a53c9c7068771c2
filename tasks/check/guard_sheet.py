"""Follow a sheet's cells as calamine will, before it does, and note what reading must refuse.

calamine builds a dense range from A1 to the last cell it finds, so one value in XFD1048576
would make it allocate 17 billion cells. The scanner refuses any cell position or used range
past the bounds of ``tasks.check.guard_bounds`` and counts cells against the workbook's budget. It
also notes the cells holding formulas and the merged ranges, for the reader to refuse, and
the number cells whose stored value is no number (``NaN``, ``1e999``, ``0x10``: calamine would
read them as NaN, infinity or text), for the reader to report by cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.check import guard_bounds as bounds
from tasks.check.guard_parts import Package, local_name
from tasks.check.normalise import parse_stored_number
from tasks.errors import SubmissionError

# A cell reference as sheets write it (A1 style, no $): column letters, then the row.
CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")


@dataclass
class SheetFacts:
    """What the guard saw in one sheet: cells holding a formula or an error value (#N/A …),
    merged ranges (A1 style), and number cells holding no number (by cell, as stored)."""

    formulas: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_numbers: dict[str, str] = field(default_factory=dict)


_MAX_SHOWN_VALUE = 40
"""The most characters of a stored value kept to show the department."""


class SheetScanner:
    """Follow a sheet's cell positions as calamine will, refusing any out of bounds."""

    def __init__(self, sheet: str, package: Package) -> None:
        self.sheet = sheet
        self.package = package
        self.facts = SheetFacts()
        # Zero-based, as calamine counts: <row r> sets the row and </row> adds one; <c r> sets
        # the column and </c> adds one; a cell without r sits at the current row and column.
        self.row = 0
        self.col = 0
        self.cell: str | None = None
        self.numeric = False
        self.value: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> bool:
        """Handle an element as it opens; return True for a number cell's value (its text)."""
        local = local_name(name)
        if local == "c":
            self._start_cell(attrs.get("r"))
            self.numeric = attrs.get("t", "n") == "n"
            if attrs.get("t") == "e" and self.cell is not None:
                self.facts.errors.append(self.cell)
        elif local == "v" and self.numeric and self.cell is not None:
            self.value = []
            return True
        elif local == "f" and self.cell is not None:
            self.facts.formulas.append(self.cell)
        elif local == "row":
            if "r" in attrs:
                self.row = self._parse_row(attrs["r"])
            self.col = 0
        elif local == "dimension":
            self._check_dimension(attrs.get("ref", ""))
        elif local == "mergeCell":
            self.facts.merged.append(attrs.get("ref", ""))
        return False

    def end(self, name: str) -> None:
        """Handle an element as it closes."""
        local = local_name(name)
        if local == "v" and self.value is not None:
            self._check_number("".join(self.value))
            self.value = None
        elif local == "c":
            self.cell = None
            self.numeric = False
            self.col += 1
        elif local == "row":
            self.row += 1

    def text(self, data: str) -> None:
        """Handle text: kept only inside a number cell's value."""
        if self.value is not None and len(self.value) < 64:  # a number is short; enough to show
            self.value.append(data)

    def _check_number(self, raw: str) -> None:
        if raw and self.cell is not None and parse_stored_number(raw) is None:
            shown = raw if len(raw) <= _MAX_SHOWN_VALUE else f"{raw[:_MAX_SHOWN_VALUE]}…"
            self.facts.not_numbers[self.cell.upper()] = shown

    def _start_cell(self, ref: str | None) -> None:
        row = self.row
        if ref is not None:
            row, self.col = self._parse_ref(ref)
        self.cell = ref or f"{column_letter(self.col)}{row + 1}"
        self._check_position(row, self.col, self.cell)
        self.package.cells += 1
        if self.package.cells > bounds.MAX_CELLS:
            raise bounds.too_many_cells(f"シート「{self.sheet}」", self.sheet)

    def _check_position(self, row: int, col: int, cell: str) -> None:
        # Rows alone hold nothing: only a cell's position can stretch calamine's range.
        if row >= bounds.MAX_SHEET_ROWS or col >= bounds.MAX_SHEET_COLS:
            limit = f"{column_letter(bounds.MAX_SHEET_COLS - 1)}{bounds.MAX_SHEET_ROWS}"
            raise SubmissionError(
                f"シート「{self.sheet}」のセル {cell} に入力または書式があり、調査票で使える範囲"
                f"（A1:{limit}）の外です。範囲外の入力や書式を削除するか、{bounds.RESAVE}",
                sheet=self.sheet,
                cell=cell,
            )

    def _check_dimension(self, ref: str) -> None:
        corners = [self._parse_ref(corner) for corner in ref.split(":")]
        if any(
            row >= bounds.MAX_SHEET_ROWS or col >= bounds.MAX_SHEET_COLS for row, col in corners
        ):
            raise SubmissionError(
                f"シート「{self.sheet}」の使用範囲（{ref}）が大きすぎます（上限 "
                f"{bounds.MAX_SHEET_ROWS:,} 行 × {bounds.MAX_SHEET_COLS} 列）。"
                f"不要な行・列の入力や書式を削除するか、{bounds.RESAVE}",
                sheet=self.sheet,
                cell=ref,
            )

    def _parse_ref(self, ref: str) -> tuple[int, int]:
        match = CELL_REF.fullmatch(ref)
        if match is None:
            raise bounds.broken_part(f"シート「{self.sheet}」", self.sheet)
        letters, digits = match.groups()
        col = 0
        for letter in letters.upper():
            col = col * 26 + ord(letter) - ord("A") + 1
        return self._parse_row(digits), col - 1

    def _parse_row(self, digits: str) -> int:
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 7 or int(digits) < 1:
            raise bounds.broken_part(f"シート「{self.sheet}」", self.sheet)
        return int(digits) - 1


def column_letter(index: int) -> str:
    """Return the letters of a zero-based column index (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
