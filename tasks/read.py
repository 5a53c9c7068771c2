"""Read a submission workbook (調査票) into plain records, safely.

No parser sees a submission before the package guard has. The guard reads the zip's central
directory and then every part, inflated by us under a byte cap (the sizes the headers declare
are checked, never trusted), and streams each XML part through expat with DTDs refused, so
nothing is ever expanded or fetched. It refuses, with a Japanese message saying what to do:

- what is not an .xlsx at all: empty, truncated, CSV, legacy .xls or encrypted, .ods, .xlsb;
- packages too large, with too many parts, or inflating too far or too steeply (zip bombs);
- macros, links to other workbooks and data connections, DTDs (external entities, billion laughs);
- sheets whose used range, cell positions or cell count exceed what a 調査票 can hold, so that
  calamine never builds a huge dense range (one value in XFD1048576 aborts the whole process).

Only then does python-calamine read cell values; it never evaluates formulas. Formulas and
merged cells in the sheets we read are refused by cell, as are hidden or missing sheets.
Everything else is returned as data, control characters removed.
"""

from __future__ import annotations

import copy
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from tasks.errors import SubmissionError
from tasks.normalise import normalise_text
from tasks.plan import Plan
from tasks.workbook import (
    ID_HEADER,
    IDENTITY_KEYS,
    IDENTITY_MARK,
    IDENTITY_SHEET,
    INDICATOR_ID_HEADER,
    INDICATOR_INPUT_HEADER,
    INDICATOR_NOTE_HEADER,
    field_label,
)

# Bounds, all enforced before calamine parses anything. A filled 調査票 is 10–50 KB, has about
# a dozen zip parts, 13 columns, one row per initiative and about a thousand cells.

# Leaves room for a few pasted photos; anything larger is not a form someone filled in.
MAX_FILE_BYTES = 20 * 1024 * 1024
# Sum over all parts, of the declared sizes and of the bytes actually inflated: room for stored
# pictures, while bounding what the scan and calamine go through (about 1 s at most).
MAX_EXPANDED_BYTES = 50 * 1024 * 1024
# Excel adds a few parts per sheet, picture or comment; also bounds zipfile's directory parse,
# which costs about 9 µs per entry (a 20 MB directory of empty entries would take 2 s).
MAX_ZIP_ENTRIES = 2000
# Apache POI's default (ZipSecureFile): office XML deflates 5–20×; a part that inflates more
# than 100× (past the first 100 KiB) is padding or a zip bomb.
MAX_COMPRESSION_RATIO = 100
_RATIO_GRACE_BYTES = 100 * 1024
# calamine and to_python() build a dense range from A1 to the last cell: these bound it to
# 320,000 cells (about 13 MB). No department has anywhere near 5,000 initiatives.
MAX_SHEET_ROWS = 5000
MAX_SHEET_COLS = 64
# Cells written (<c>) in the whole workbook: bounds calamine's cell list and the scan's time
# (about 1.5 µs per XML element).
MAX_CELLS = 100_000
# A cell is <c> plus a few children (<v>, <is>, <t>, rich-text runs, furigana); more elements
# than this in sheets and shared strings is padding, not data.
_MAX_SCANNED_ELEMENTS = 5 * MAX_CELLS
MAX_HEADER_SEARCH_ROWS = 30

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_DIRECTORY = struct.Struct("<4s4H2LH")
_CHUNK_BYTES = 64 * 1024
_PLAIN_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # all that Excel writes
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_CONTENT_TYPES = "[content_types].xml"
_SHARED_STRINGS = "xl/sharedstrings.xml"
# calamine only reads a sheet at xl/<kind>/…, looked up case-insensitively: every part there
# is scanned as a sheet, whatever the relationships say.
_SHEET_FOLDERS = ("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")
_LINK_PARTS = ("xl/externallinks/", "xl/connections.xml", "xl/querytables/")
# calamine picks the format itself: with these it would read the package as .xlsb or .ods,
# past this guard (an .ods row can repeat a cell 16,384 times).
_OTHER_FORMAT_PARTS = ("xl/workbook.bin", "content.xml", "mimetype")
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")

_RESAVE = "配布した調査票に値だけを入力し、Excel で .xlsx 形式で保存し直して提出してください。"


@dataclass(frozen=True)
class SheetRecord:
    """One data row of a sheet: where it is and the text of each column we asked for."""

    sheet: str
    row: int
    values: dict[str, str | None]


@dataclass(frozen=True)
class ReadSubmission:
    """What a workbook says, before validation.

    ``columns`` maps each record key to its column letter, per sheet, so findings can name
    the cell; ``identity_cells`` maps identity keys to their cell in the identity sheet.
    """

    identity: dict[str, str | None]
    records: list[SheetRecord]
    indicator_records: list[SheetRecord]
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    identity_cells: dict[str, str] = field(default_factory=dict)


@dataclass
class _SheetFacts:
    """What the guard saw in one sheet: cells holding a formula, merged ranges (A1 style)."""

    formulas: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)


def read_submission(data: bytes, plan: Plan) -> ReadSubmission:
    """Return the identity and rows of a submission workbook, or raise SubmissionError."""
    facts = _inspect_package(data)
    workbook = _open_workbook(data)
    visible = {m.name: m.visible for m in workbook.sheets_metadata}
    if not visible:
        raise SubmissionError(f"ブックにシートが 1 枚もありません。{_RESAVE}")
    _check_identity_sheet(visible)
    identity, identity_cells = _read_identity(workbook, facts.get(IDENTITY_SHEET))
    main_name = plan.submission.sheet_name
    _check_visible(visible, main_name)
    main_labels = {ID_HEADER: "initiative_id"} | {
        field_label(plan, f.label): f.key for f in plan.submission.fields
    }
    records, main_columns = _read_table(workbook, main_name, main_labels, facts.get(main_name))
    indicator_records: list[SheetRecord] = []
    columns = {main_name: main_columns}
    indicator_name = plan.submission.indicator_sheet_name
    if indicator_name in visible:
        _check_visible(visible, indicator_name)
        indicator_labels = {
            ID_HEADER: "initiative_id",
            INDICATOR_ID_HEADER: "indicator_id",
            INDICATOR_INPUT_HEADER.format(year=plan.fiscal_year.current): "actual",
            INDICATOR_NOTE_HEADER: "note",
        }
        indicator_records, indicator_columns = _read_table(
            workbook, indicator_name, indicator_labels, facts.get(indicator_name)
        )
        columns[indicator_name] = indicator_columns
    return ReadSubmission(
        identity=identity,
        records=records,
        indicator_records=indicator_records,
        columns=columns,
        identity_cells=identity_cells,
    )


# --- The package guard: everything here runs before calamine sees the bytes. ---


def _inspect_package(data: bytes) -> dict[str, _SheetFacts]:
    """Refuse an unsafe or malformed package; return what was seen in each sheet, by name."""
    _check_file(data)
    archive = _open_archive(data)
    entries = archive.infolist()
    _check_entries(entries)
    package = _Package(archive)
    by_name = {e.filename.lower(): e for e in reversed(entries)}  # calamine takes the first
    workbook, rels = by_name.get(_WORKBOOK), by_name.get(_WORKBOOK_RELS)
    if workbook is None or rels is None:
        raise _not_xlsx()
    content_types = by_name.get(_CONTENT_TYPES)
    if content_types is not None:
        declared = package.collect(content_types, "Default", "Override")
        if any(_is_macro_type(a.get("ContentType", "")) for a in declared):
            raise _macros()
    targets = {a.get("Id"): a.get("Target", "") for a in package.collect(rels, "Relationship")}
    sheet_names: dict[str, str] = {}
    for element in package.collect(workbook, "sheet"):
        target = targets.get(element.get("r:id") or element.get("relationships:id"), "")
        sheet_names.setdefault(_sheet_path(target), element.get("name", ""))
    facts: dict[str, _SheetFacts] = {}
    for entry in entries:
        name = entry.filename.lower()
        if entry in (content_types, rels, workbook):
            continue
        if name.startswith(_SHEET_FOLDERS):
            sheet = sheet_names.get(name, entry.filename)
            scanner = _SheetScanner(sheet, package)
            package.scan(entry, scanner.start, scanner.end, sheet=sheet)
            facts.setdefault(sheet, scanner.facts)
        elif name == _SHARED_STRINGS:
            package.scan(entry, _count_only)  # calamine loads every string up front
        elif name.endswith((".xml", ".rels")):
            package.scan(entry)
        else:
            package.skip(entry)  # pictures, printer settings, VML: nothing here parses them
    return facts


def _check_file(data: bytes) -> None:
    if not data:
        raise SubmissionError("ファイルが空です（0 バイト）。保存し直してから提出してください。")
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionError(
            f"ファイルが大きすぎます（{len(data):,} バイト、上限 {MAX_FILE_BYTES:,} バイト）。"
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
    if entries > MAX_ZIP_ENTRIES or directory_bytes > MAX_ZIP_ENTRIES * 1024:
        raise _too_many_entries(entries)
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise _not_xlsx() from err


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


def _check_entries(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _too_many_entries(len(entries))
    if sum(e.file_size for e in entries) > MAX_EXPANDED_BYTES:
        raise _too_large_expanded()
    for entry in entries:
        name = entry.filename.lower()
        if name.startswith(_OTHER_FORMAT_PARTS):
            raise SubmissionError(
                "OpenDocument（.ods）や Excel バイナリ（.xlsb）形式のブックは読み込めません。"
                "配布した調査票に入力し、Excel ブック（.xlsx）形式で保存してください。"
            )
        if name.endswith("vbaproject.bin") or name.startswith("xl/macrosheets/"):
            raise _macros()
        if name.startswith(_LINK_PARTS):
            raise SubmissionError(
                "他のブックへのリンク（外部参照）またはデータ接続が含まれているため"
                "読み込めません。［データ］→［リンクの編集］→［リンクの解除］で値に変換するか、"
                + _RESAVE
            )
        if entry.flag_bits & 0x1 or entry.compress_type not in _PLAIN_COMPRESSION:
            raise SubmissionError(
                f"ブックの一部（{entry.filename}）が Excel の標準でない方式で暗号化または"
                f"圧縮されているため読み込めません。{_RESAVE}"
            )
        if _too_steep(entry.file_size, entry.compress_size):
            raise _too_steep_error(entry.filename)


class _Package:
    """A submission's zip, read part by part within the byte, element and cell budgets."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.inflated = 0
        self.elements = 0
        self.cells = 0

    def chunks(self, entry: zipfile.ZipInfo) -> Iterator[bytes]:
        """Yield a part's bytes as inflated, refusing a bomb however its headers lie."""
        remaining = MAX_EXPANDED_BYTES - self.inflated
        # zipfile stops at the size the entry declares. Declare one chunk past our cap instead,
        # so that what stops it is the real end of the stream, or the cap.
        capped = copy.copy(entry)
        capped.file_size = remaining + _CHUNK_BYTES + 1
        produced = 0
        try:
            with self.archive.open(capped) as stream:
                while chunk := stream.read(_CHUNK_BYTES):
                    produced += len(chunk)
                    self.inflated += len(chunk)
                    if produced > remaining:
                        raise _too_large_expanded()
                    if _too_steep(produced, entry.compress_size):
                        raise _too_steep_error(entry.filename)
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as err:
            raise _broken_part(entry.filename) from err
        if produced != entry.file_size:
            raise _broken_part(entry.filename)

    def skip(self, entry: zipfile.ZipInfo) -> None:
        """Inflate a part nobody parses, only to hold it to the byte budget."""
        for _ in self.chunks(entry):
            pass

    def scan(
        self,
        entry: zipfile.ZipInfo,
        start: Callable[[str, dict[str, str]], None] | None = None,
        end: Callable[[str], None] | None = None,
        sheet: str | None = None,
    ) -> None:
        """Stream an XML part through expat, refusing any DTD, and call the handlers.

        Parts with a ``start`` handler are held to the element budget: the handler costs
        Python time per element. Without one, expat runs at C speed and nothing is counted.
        """
        where = f"シート「{sheet}」" if sheet else entry.filename
        parser = expat.ParserCreate()

        def refuse_dtd(*_: object) -> None:
            raise SubmissionError(
                f"ブックの一部（{where}）に DTD（文書型定義・外部実体の参照）が含まれているため"
                f"読み込めません。{_RESAVE}",
                sheet=sheet,
            )

        def count_then_start(name: str, attrs: dict[str, str]) -> None:
            self.elements += 1
            if self.elements > _MAX_SCANNED_ELEMENTS:
                raise _too_many_cells(where, sheet)
            if start is not None:
                start(name, attrs)

        # Rejecting the DOCTYPE as it opens means no entity is ever declared, let alone expanded.
        parser.StartDoctypeDeclHandler = refuse_dtd
        parser.EntityDeclHandler = refuse_dtd
        if start is not None:
            parser.StartElementHandler = count_then_start
        if end is not None:
            parser.EndElementHandler = end
        try:
            for chunk in self.chunks(entry):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except expat.ExpatError as err:
            raise _broken_part(where, sheet) from err

    def collect(self, entry: zipfile.ZipInfo, *local_names: str) -> list[dict[str, str]]:
        """Return the attributes of every element of a part named one of ``local_names``."""
        found: list[dict[str, str]] = []

        def start(name: str, attrs: dict[str, str]) -> None:
            if _local(name) in local_names:
                found.append(attrs)

        self.scan(entry, start)
        return found


class _SheetScanner:
    """Follow a sheet's cell positions as calamine will, refusing any out of bounds."""

    def __init__(self, sheet: str, package: _Package) -> None:
        self.sheet = sheet
        self.package = package
        self.facts = _SheetFacts()
        # Zero-based, as calamine counts: <row r> sets the row and </row> adds one; <c r> sets
        # the column and </c> adds one; a cell without r sits at the current row and column.
        self.row = 0
        self.col = 0
        self.cell: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "c":
            self._start_cell(attrs.get("r"))
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

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "c":
            self.cell = None
            self.col += 1
        elif local == "row":
            self.row += 1

    def _start_cell(self, ref: str | None) -> None:
        row = self.row
        if ref is not None:
            row, self.col = self._parse_ref(ref)
        self.cell = ref or f"{_column_letter(self.col)}{row + 1}"
        self._check_position(row, self.col, self.cell)
        self.package.cells += 1
        if self.package.cells > MAX_CELLS:
            raise _too_many_cells(f"シート「{self.sheet}」", self.sheet)

    def _check_position(self, row: int, col: int, cell: str) -> None:
        # Rows alone hold nothing: only a cell's position can stretch calamine's range.
        if row >= MAX_SHEET_ROWS or col >= MAX_SHEET_COLS:
            limit = f"{_column_letter(MAX_SHEET_COLS - 1)}{MAX_SHEET_ROWS}"
            raise SubmissionError(
                f"シート「{self.sheet}」のセル {cell} に入力または書式があり、調査票で使える範囲"
                f"（A1:{limit}）の外です。範囲外の入力や書式を削除するか、{_RESAVE}",
                sheet=self.sheet,
                cell=cell,
            )

    def _check_dimension(self, ref: str) -> None:
        corners = [self._parse_ref(corner) for corner in ref.split(":")]
        if any(row >= MAX_SHEET_ROWS or col >= MAX_SHEET_COLS for row, col in corners):
            raise SubmissionError(
                f"シート「{self.sheet}」の使用範囲（{ref}）が大きすぎます（上限 "
                f"{MAX_SHEET_ROWS:,} 行 × {MAX_SHEET_COLS} 列）。不要な行・列の入力や書式を"
                f"削除するか、{_RESAVE}",
                sheet=self.sheet,
                cell=ref,
            )

    def _parse_ref(self, ref: str) -> tuple[int, int]:
        match = _CELL_REF.fullmatch(ref)
        if match is None:
            raise _broken_part(f"シート「{self.sheet}」", self.sheet)
        letters, digits = match.groups()
        col = 0
        for letter in letters.upper():
            col = col * 26 + ord(letter) - ord("A") + 1
        return self._parse_row(digits), col - 1

    def _parse_row(self, digits: str) -> int:
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 7 or int(digits) < 1:
            raise _broken_part(f"シート「{self.sheet}」", self.sheet)
        return int(digits) - 1


def _count_only(name: str, attrs: dict[str, str]) -> None:
    """Handle an element only so that the element budget counts it."""


def _local(name: str) -> str:
    # expat runs without namespace processing, as calamine does: match on the local name.
    return name.rpartition(":")[2]


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


def _too_steep(inflated: int, compressed: int) -> bool:
    return inflated > _RATIO_GRACE_BYTES and inflated > MAX_COMPRESSION_RATIO * compressed


def _not_xlsx() -> SubmissionError:
    return SubmissionError(
        "Excel ブック（.xlsx）ではありません（CSV やテキスト、途中で切れたファイルなど）。"
        "配布した調査票に入力し、.xlsx 形式で保存してください。"
    )


def _macros() -> SubmissionError:
    return SubmissionError(
        "マクロを含むブック（.xlsm など）は受け付けられません。"
        "マクロなしの Excel ブック（.xlsx）形式で保存し直してください。"
    )


def _too_many_entries(count: int) -> SubmissionError:
    return SubmissionError(
        f"ブックの構成要素が多すぎるため読み込めません（{count:,} 個、上限 "
        f"{MAX_ZIP_ENTRIES:,} 個）。{_RESAVE}"
    )


def _too_large_expanded() -> SubmissionError:
    return SubmissionError(
        f"展開後のサイズが上限（{MAX_EXPANDED_BYTES:,} バイト）を超えるため読み込めません"
        f"（圧縮爆弾の疑い）。{_RESAVE}"
    )


def _too_steep_error(part: str) -> SubmissionError:
    return SubmissionError(
        f"ブックの一部（{part}）の圧縮率が異常に高いため読み込めません（圧縮爆弾の疑い）。"
        + _RESAVE
    )


def _too_many_cells(where: str, sheet: str | None) -> SubmissionError:
    return SubmissionError(
        f"ブックのセルや要素が多すぎるため読み込めません（{where}、ブック全体で上限 "
        f"{MAX_CELLS:,} セル）。不要な入力や書式を削除するか、{_RESAVE}",
        sheet=sheet,
    )


def _broken_part(where: str, sheet: str | None = None) -> SubmissionError:
    return SubmissionError(
        f"ブックの一部（{where}）が壊れているため読み込めません。"
        f"Excel で開けることを確かめ、.xlsx 形式で保存し直してください。",
        sheet=sheet,
    )


# --- Reading values with calamine, once the guard has passed. ---


def _open_workbook(data: bytes) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as err:
        raise SubmissionError(
            "ファイルを Excel ブック（.xlsx）として開けません。壊れているか、別の形式です。"
            "配布した調査票に入力し、.xlsx 形式で保存し直してください。"
        ) from err


def _check_identity_sheet(visible: dict[str, SheetVisibleEnum]) -> None:
    if IDENTITY_SHEET not in visible:
        raise SubmissionError(
            "配布した調査票ではないため読み込めません（識別情報がありません）。"
            "事務局が配布した調査票に入力して提出してください。"
        )
    if visible[IDENTITY_SHEET] != SheetVisibleEnum.VeryHidden:
        raise SubmissionError(
            f"配布した調査票ではないため読み込めません（識別用のシート「{IDENTITY_SHEET}」が"
            "表示されています）。事務局が配布した調査票に入力して提出してください。",
            sheet=IDENTITY_SHEET,
        )


def _check_visible(visible: dict[str, SheetVisibleEnum], sheet: str) -> None:
    if sheet not in visible:
        raise SubmissionError(
            f"シート「{sheet}」が見つかりません。シート名を変更せずに提出してください。",
            sheet=sheet,
        )
    if visible[sheet] != SheetVisibleEnum.Visible:
        raise SubmissionError(
            f"シート「{sheet}」が非表示になっています。提出する内容が見えるよう、"
            "シートを再表示してから保存し、提出してください。",
            sheet=sheet,
        )


def _refuse_formulas(sheet: str, facts: _SheetFacts | None) -> None:
    """Refuse a sheet we read that holds any formula: a department's formula is never run."""
    if facts is not None and facts.formulas:
        shown = "、".join(facts.formulas[:10]) + (" ほか" if len(facts.formulas) > 10 else "")
        raise SubmissionError(
            f"シート「{sheet}」のセル {shown} に数式が入力されています。"
            "数式ではなく値を入力してください（コピーして「値の貼り付け」で値にできます）。",
            sheet=sheet,
            cell=facts.formulas[0],
        )


def _refuse_merged(sheet: str, facts: _SheetFacts | None, header_row: int) -> None:
    """Refuse merged cells from the header row down: each value belongs in its own cell."""
    if facts is None:
        return
    merged = [ref for ref in facts.merged if _last_row(ref) >= header_row]
    if merged:
        raise SubmissionError(
            f"シート「{sheet}」のセル {'、'.join(merged[:10])} が結合されています。"
            "セルの結合を解除し、値はそれぞれのセルに入力してください。",
            sheet=sheet,
            cell=merged[0],
        )


def _last_row(ref: str) -> int:
    match = _CELL_REF.fullmatch(ref.rpartition(":")[2])
    return int(match.group(2)) if match else 0


def _read_identity(
    workbook: CalamineWorkbook, facts: _SheetFacts | None
) -> tuple[dict[str, str | None], dict[str, str]]:
    _refuse_formulas(IDENTITY_SHEET, facts)
    _refuse_merged(IDENTITY_SHEET, facts, header_row=1)
    rows = workbook.get_sheet_by_name(IDENTITY_SHEET).to_python(skip_empty_area=False)
    identity: dict[str, str | None] = dict.fromkeys(IDENTITY_KEYS)
    cells: dict[str, str] = {}
    for index, row in enumerate(rows[: len(IDENTITY_KEYS) + 5], start=1):
        if len(row) >= 2 and row[0] in IDENTITY_KEYS:
            identity[str(row[0])] = normalise_text(row[1])
            cells[str(row[0])] = f"B{index}"
    if identity["format"] != IDENTITY_MARK:
        raise SubmissionError(
            "配布した調査票ではないため読み込めません（識別情報が壊れています）。"
            "事務局が配布した調査票に入力して提出してください。",
            sheet=IDENTITY_SHEET,
        )
    return identity, cells


def _read_table(
    workbook: CalamineWorkbook,
    sheet_name: str,
    labels: dict[str, str],
    facts: _SheetFacts | None,
) -> tuple[list[SheetRecord], dict[str, str]]:
    _refuse_formulas(sheet_name, facts)
    rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    header_index = next(
        (
            i
            for i, row in enumerate(rows[:MAX_HEADER_SEARCH_ROWS])
            if row and normalise_text(row[0]) == ID_HEADER
        ),
        None,
    )
    if header_index is None:
        raise SubmissionError(
            f"シート「{sheet_name}」に見出し行（A列「{ID_HEADER}」）が見つかりません。"
            "行や列を削除・挿入せずに提出してください。",
            sheet=sheet_name,
        )
    _refuse_merged(sheet_name, facts, header_row=header_index + 1)
    header = [normalise_text(v) for v in rows[header_index]]
    positions: dict[str, int] = {}
    for label, key in labels.items():
        if label not in header:
            raise SubmissionError(
                f"シート「{sheet_name}」の見出し行（{header_index + 1}行目）に"
                f"「{label}」の列が見つかりません。列を削除・変更せずに提出してください。",
                sheet=sheet_name,
                cell=f"{header_index + 1}",
            )
        positions[key] = header.index(label)
    records = []
    for offset, row in enumerate(rows[header_index + 1 :], start=1):
        values = {
            key: normalise_text(row[col]) if col < len(row) else None
            for key, col in positions.items()
        }
        if all(v is None for v in values.values()):
            continue
        records.append(SheetRecord(sheet=sheet_name, row=header_index + 1 + offset, values=values))
    letters = {key: _column_letter(col) for key, col in positions.items()}
    return records, letters


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
