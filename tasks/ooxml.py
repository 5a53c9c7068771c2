"""Deterministic Office Open XML packages (.docx, .xlsx) and text that stays text.

openpyxl and python-docx stamp the current time into the zip entries and into
``docProps/core.xml``. Rewriting the package with fixed times makes the same inputs give the
same bytes, which is what lets a re-run prove it changed nothing.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence

from openpyxl.compat.strings import safe_string
from openpyxl.utils import get_column_letter

from tasks.errors import RenderError

FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2000-01-01T00:00:00Z"

_CORE_TIME = re.compile(
    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)"
)


def normalise_package(data: bytes, rewrite: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """Return the package rewritten with fixed entry times and fixed document times.

    ``rewrite`` (entry name, content) gives each entry's content to keep, if given.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if rewrite is not None:
                content = rewrite(info.filename, content)
            if info.filename == "docProps/core.xml":
                content = _CORE_TIME.sub(
                    lambda m: m.group(1) + FIXED_DOC_TIME.encode() + m.group(2), content
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


COLUMN_LETTERS = [""] + [get_column_letter(i) for i in range(1, 16385)]
"""Column letters by number (1 → A), looked up instead of computed once per cell."""

_EMPTY_ROWS = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")


def text_cell_xml(reference: str, text: str, style: str = "") -> str:
    """Return a cell holding ``text`` as an inline string: text, never a formula."""
    space = ' xml:space="preserve"' if text != text.strip() else ""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{reference}"{style} t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


def number_cell_xml(reference: str, value: float | int, style: str = "") -> str:
    """Return a cell holding a number, as openpyxl writes it."""
    return f'<c r="{reference}"{style} t="n"><v>{safe_string(value)}</v></c>'


def plain_rows_xml(rows: Iterable[Sequence[object]]) -> str:
    """Return ``<sheetData>`` for plain rows: text (already made visible), numbers, booleans
    and None (no cell), row after row from row 1."""
    parts = ["<sheetData>"]
    for number, values in enumerate(rows, start=1):
        cells = []
        for column, value in enumerate(values, start=1):
            reference = f"{COLUMN_LETTERS[column]}{number}"
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                continue
            if isinstance(value, bool):
                cells.append(f'<c r="{reference}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                cells.append(number_cell_xml(reference, value))
            else:
                cells.append(text_cell_xml(reference, str(value)))
        parts.append(f'<row r="{number}">{"".join(cells)}</row>')
    parts.append("</sheetData>")
    return "".join(parts)


def with_sheet_rows(rows: dict[str, str]) -> Callable[[str, bytes], bytes]:
    """Return the package rewrite (for :func:`normalise_package`) that puts each sheet's rows
    (by entry name, ``xl/worksheets/sheet1.xml``) into the empty ``<sheetData>`` openpyxl's
    write-only mode wrote: the rows are written as text, far faster than cell by cell."""

    def rewrite(name: str, content: bytes) -> bytes:
        if name not in rows:
            return content
        filled, count = _EMPTY_ROWS.subn(lambda _: rows[name].encode("utf-8"), content, count=1)
        if count != 1:
            raise RenderError(f"{name}: openpyxl の書いたシートに行の場所がありません")
        return filled

    return rewrite
