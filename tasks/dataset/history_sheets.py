"""A coordinator's workbook read for an import: each sheet's cells, with their number formats.

The package guard (``tasks.check.guard``) sees the bytes first, as it sees a submission's:
no macro, link, DTD or sheet too large is ever opened. openpyxl then reads the cells in
read-only mode: formulas as the values Excel saved for them (never evaluated), each cell with
its number format, so that a figure is kept as Excel shows it (0.484 formatted 0.0% is 48.4%).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from tasks.check.guard import inspect_package
from tasks.check.normalise import normalise_text
from tasks.errors import ConfigError, SubmissionError

_REPOST = re.compile(r"[（(]再掲[）)]")
NAME_HEADERS = ("事業名", "取組名", "取り組み", "具体的な取り組み", "事業", "取組", "項目")
"""Headers of a column naming initiatives, beside the plan's own ``initiative_label``."""


@dataclass(frozen=True)
class Cell:
    """A cell's value (as openpyxl reads it) and its number format."""

    value: object
    number_format: str = "General"


@dataclass(frozen=True)
class Sheet:
    """A sheet's cells by row, from the first row (rows may differ in length)."""

    name: str
    rows: list[list[Cell]]

    def cell(self, row: int, column: int) -> Cell:
        """Return the cell at zero-based ``row`` and ``column`` (an empty one past the end)."""
        cells = self.rows[row] if row < len(self.rows) else []
        return cells[column] if column < len(cells) else Cell(None)

    def text(self, row: int, column: int) -> str | None:
        """Return a cell's clean text, or None when it is empty."""
        return normalise_text(self.cell(row, column).value)

    def place(self, row: int, column: int) -> str:
        """Return where a cell is, for a message: 「シート「指標」のセル E7」."""
        return f"シート「{self.name}」のセル {get_column_letter(column + 1)}{row + 1}"


def read_sheets(data: bytes, source: str) -> list[Sheet]:
    """Return every sheet of an import's workbook; raise ConfigError naming ``source``."""
    try:
        inspect_package(data)
    except SubmissionError as err:
        raise ConfigError(f"{source}: 一覧を読み込めません: {err.message_ja}") from err
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise ConfigError(
            f"{source}: 一覧を Excel ブック（.xlsx）として開けません。"
            f"Excel で開いて .xlsx で保存し直してください: {err}"
        ) from err
    try:
        sheets = []
        for worksheet in workbook.worksheets:
            worksheet.reset_dimensions()  # some writers record too small a range
            rows = [
                [Cell(c.value, getattr(c, "number_format", None) or "General") for c in row]
                for row in worksheet.iter_rows()
            ]
            sheets.append(Sheet(worksheet.title, rows))
        return sheets
    finally:
        workbook.close()


def name_key(name: str) -> str:
    """Return a name as compared with the plan's: full-width folded, no spaces, no （再掲）."""
    folded = unicodedata.normalize("NFKC", _REPOST.sub("", name))
    return "".join(folded.split())
