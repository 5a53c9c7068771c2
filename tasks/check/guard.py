"""Guard the reader: refuse an unsafe or malformed package before any parser sees it.

``inspect_package`` reads the zip's central directory and then every part, inflated by us
under a byte cap (``tasks.check.guard_parts``), and streams each XML part through expat with DTDs
refused, following each sheet's cells as calamine will (``tasks.check.guard_sheet``). It refuses,
with a Japanese message saying what to do:

- what is not an .xlsx at all: empty, truncated, CSV, legacy .xls or encrypted, .ods, .xlsb;
- packages too large, with too many parts, or inflating too far or too steeply (zip bombs);
- macros, links to other workbooks and data connections, DTDs (external entities, billion laughs);
- sheets whose used range, cell positions or cell count exceed what a 調査票 can hold, so that
  calamine never builds a huge dense range (one value in XFD1048576 aborts the whole process).

The bounds (``tasks.check.guard_bounds``), against a filled 調査票 of 10–50 KB, a dozen parts and
about a thousand cells: a 20 MB file (a few pasted photos); 50 MB declared and inflated over
all parts (about 1 s of scanning); 2,000 zip entries (zipfile parses the whole directory);
100:1 compression past the first 100 KiB (Apache POI's default; office XML deflates 5–20×);
cells within A1:BL5000 (calamine's dense range stays near 13 MB); 100,000 cells in the
workbook and five XML elements per cell (the scan's time).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

from tasks.check import guard_bounds as bounds
from tasks.check.guard_parts import Package
from tasks.check.guard_sheet import SheetFacts, SheetScanner
from tasks.errors import SubmissionError

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")
_PLAIN_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # all that Excel writes
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_CONTENT_TYPES = "[content_types].xml"
_SHARED_STRINGS = "xl/sharedstrings.xml"
_COUNTED_TABLES = (_SHARED_STRINGS, "xl/styles.xml")
_COUNT_ATTRIBUTES = ("count", "uniqueCount")
# calamine only reads a sheet at xl/<kind>/…, looked up case-insensitively: every part there
# is scanned as a sheet, whatever the relationships say.
_SHEET_FOLDERS = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")
_LINK_PARTS = ("xl/externallinks/", "xl/connections.xml", "xl/querytables/")
# calamine picks the format itself: with these it would read the package as .xlsb or .ods,
# past this guard (an .ods row can repeat a cell 16,384 times).
_OTHER_FORMAT_PARTS = ("xl/workbook.bin", "content.xml", "mimetype")


def inspect_package(data: bytes) -> dict[str, SheetFacts]:
    """Refuse an unsafe or malformed package; return what was seen in each sheet, by name."""
    _check_file(data)
    archive = _open_archive(data)
    entries = archive.infolist()
    _check_entries(entries)
    package = Package(archive)
    by_name = {e.filename.lower(): e for e in reversed(entries)}  # calamine takes the first
    workbook, rels = by_name.get(_WORKBOOK), by_name.get(_WORKBOOK_RELS)
    if workbook is None or rels is None:
        raise bounds.not_xlsx()
    content_types = by_name.get(_CONTENT_TYPES)
    if content_types is not None:
        declared = package.collect(content_types, "Default", "Override")
        if any(_is_macro_type(a.get("ContentType", "")) for a in declared):
            raise bounds.macros()
    targets = {a.get("Id"): a.get("Target", "") for a in package.collect(rels, "Relationship")}
    sheet_names: dict[str, str] = {}
    for element in package.collect(workbook, "sheet"):
        target = targets.get(element.get("r:id") or element.get("relationships:id"), "")
        sheet_names.setdefault(_sheet_path(target), element.get("name", ""))
    facts: dict[str, SheetFacts] = {}
    for entry in entries:
        name = entry.filename.lower()
        if entry in (content_types, rels, workbook):
            continue
        if name.startswith(_SHEET_FOLDERS):
            sheet = sheet_names.get(name, entry.filename)
            scanner = SheetScanner(sheet, package)
            package.scan(entry, scanner.start, scanner.end, sheet=sheet, text=scanner.text)
            facts.setdefault(sheet, scanner.facts)
        elif name in _COUNTED_TABLES:
            # calamine loads every string up front, sized by what the table declares.
            package.scan(entry, _declared_counts_checker(entry.filename))
        elif name.endswith((".xml", ".rels")):
            package.scan(entry)
        else:
            package.skip(entry)  # pictures, printer settings, VML: nothing here parses them
    return facts


def _check_file(data: bytes) -> None:
    if not data:
        raise SubmissionError("ファイルが空です（0 バイト）。保存し直してから提出してください。")
    if len(data) > bounds.MAX_FILE_BYTES:
        raise SubmissionError(
            f"ファイルが大きすぎます（{len(data):,} バイト、"
            f"上限 {bounds.MAX_FILE_BYTES:,} バイト）。"
            "画像などを貼り付けず、調査票の入力欄だけに記入してください。"
        )
    if data.startswith(_OLE_MAGIC):
        raise SubmissionError(
            "パスワードで保護されたブック、または古い Excel 形式（.xls）です。"
            "パスワードを解除し、.xlsx 形式で保存し直してください。"
        )


def _open_archive(data: bytes) -> zipfile.ZipFile:
    entries, directory_bytes = _declared_directory(data)
    # A directory entry is 46 bytes plus its name and extras: 1 KiB each is generous.
    if entries > bounds.MAX_ZIP_ENTRIES or directory_bytes > bounds.MAX_ZIP_ENTRIES * 1024:
        raise bounds.too_many_entries(entries)
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise bounds.not_xlsx() from err


def _declared_directory(data: bytes) -> tuple[int, int]:
    """Return the entry count and byte size the end-of-directory record declares.

    zipfile parses the whole directory before anyone can count its entries; this reads the
    record first. A field that Zip64 saturates counts as 0 (zipfile's own count is checked
    next), as does a missing record (zipfile then refuses the file).
    """
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - _END_OF_DIRECTORY.size - 0xFFFF))
    if at < 0 or at > len(data) - _END_OF_DIRECTORY.size:
        return 0, 0
    fields = _END_OF_DIRECTORY.unpack_from(data, at)
    entries, directory_bytes = fields[4], fields[5]
    return (0 if entries == 0xFFFF else entries), (
        0 if directory_bytes == 0xFFFFFFFF else directory_bytes
    )


def _declared_counts_checker(part: str) -> Callable[[str, dict[str, str]], None]:
    """Return an element handler refusing a ``count`` past the element budget."""

    def check(name: str, attrs: dict[str, str]) -> None:
        for attribute in _COUNT_ATTRIBUTES:
            declared = attrs.get(attribute)
            if declared is not None and (
                not declared.isdigit() or int(declared) > bounds.MAX_SCANNED_ELEMENTS
            ):
                raise bounds.declared_count(part, declared[:20])

    return check


def _check_entries(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > bounds.MAX_ZIP_ENTRIES:
        raise bounds.too_many_entries(len(entries))
    if sum(e.file_size for e in entries) > bounds.MAX_EXPANDED_BYTES:
        raise bounds.too_large_expanded()
    seen: set[str] = set()
    for entry in entries:
        name = entry.filename.lower()
        # Nothing here extracts to disk, but a name that climbs (zip slip) or a part that
        # appears twice (each reader may take another copy) is no workbook Excel wrote.
        if name in seen or name.startswith("/") or "\\" in name or ".." in name.split("/"):
            raise bounds.bad_member_name(entry.filename)
        seen.add(name)
        if name.startswith(_OTHER_FORMAT_PARTS):
            raise SubmissionError(
                "OpenDocument（.ods）や Excel バイナリ（.xlsb）形式のブックは読み込めません。"
                "配布した調査票に入力し、Excel ブック（.xlsx）形式で保存してください。"
            )
        if name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/"):
            raise bounds.macros()
        if name.startswith(_LINK_PARTS):
            raise SubmissionError(
                "他のブックへのリンク（外部参照）またはデータ接続が含まれているため"
                "読み込めません。［データ］→［リンクの編集］→［リンクの解除］で値に変換するか、"
                + bounds.RESAVE
            )
        if entry.flag_bits & 0x1 or entry.compress_type not in _PLAIN_COMPRESSION:
            raise SubmissionError(
                f"ブックの一部（{entry.filename}）が Excel の標準でない方式で暗号化または"
                f"圧縮されているため読み込めません。{bounds.RESAVE}"
            )
        if bounds.too_steep(entry.file_size, entry.compress_size):
            raise bounds.too_steep_error(entry.filename)


def _sheet_path(target: str) -> str:
    # calamine's rule for a sheet's relationship target, then its case-insensitive lookup.
    if target.startswith("/xl/"):
        target = target[1:]
    elif not target.startswith("xl/"):
        target = f"xl/{target}"
    return target.lower()


def _is_macro_type(content_type: str) -> bool:
    lowered = content_type.lower()
    return "macroenabled" in lowered or "vbaproject" in lowered or "macrosheet" in lowered
