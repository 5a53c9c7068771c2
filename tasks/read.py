"""Read a submission workbook (調査票) into plain records, safely.

The bytes are checked before any parser sees them (size, zip structure, expanded size, macros,
DTDs); then python-calamine reads cell values only (formulas are never evaluated: a formula
cell yields its cached value or nothing). A file that cannot be read at all raises
:class:`SubmissionError` with a Japanese message; everything else is returned as data.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

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

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_EXPANDED_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
MAX_HEADER_SEARCH_ROWS = 30
MAX_DATA_ROWS = 5000
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


def read_submission(data: bytes, plan: Plan) -> ReadSubmission:
    """Return the identity and rows of a submission workbook, or raise SubmissionError."""
    _check_package(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as err:
        raise SubmissionError(
            "ファイルを Excel ブック（.xlsx）として開けません。壊れているか、別の形式です。"
            "配布した調査票に入力し、.xlsx 形式で保存し直してください。"
        ) from err
    visible = {m.name: m.visible for m in workbook.sheets_metadata}
    if IDENTITY_SHEET not in visible or visible[IDENTITY_SHEET] != SheetVisibleEnum.VeryHidden:
        raise SubmissionError(
            "配布した調査票ではないため読み込めません（識別情報がありません）。"
            "事務局が配布した調査票に入力して提出してください。"
        )
    identity, identity_cells = _read_identity(workbook)
    main_name = plan.submission.sheet_name
    if main_name not in visible:
        raise SubmissionError(
            f"シート「{main_name}」が見つかりません。シート名を変更せずに提出してください。",
            sheet=main_name,
        )
    main_labels = {ID_HEADER: "initiative_id"} | {
        field_label(plan, f.label): f.key for f in plan.submission.fields
    }
    records, main_columns = _read_table(workbook, main_name, main_labels)
    indicator_records: list[SheetRecord] = []
    columns = {main_name: main_columns}
    indicator_name = plan.submission.indicator_sheet_name
    if indicator_name in visible:
        indicator_labels = {
            ID_HEADER: "initiative_id",
            INDICATOR_ID_HEADER: "indicator_id",
            INDICATOR_INPUT_HEADER.format(year=plan.fiscal_year.current): "actual",
            INDICATOR_NOTE_HEADER: "note",
        }
        indicator_records, indicator_columns = _read_table(
            workbook, indicator_name, indicator_labels
        )
        columns[indicator_name] = indicator_columns
    return ReadSubmission(
        identity=identity,
        records=records,
        indicator_records=indicator_records,
        columns=columns,
        identity_cells=identity_cells,
    )


def _check_package(data: bytes) -> None:
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
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise SubmissionError(
            "Excel ブック（.xlsx）ではありません（CSV やテキスト、途中で切れたファイルなど）。"
            "配布した調査票に入力し、.xlsx 形式で保存してください。"
        ) from err
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SubmissionError("ブックの構成要素が多すぎるため読み込めません。")
    if sum(e.file_size for e in entries) > MAX_EXPANDED_BYTES:
        raise SubmissionError(
            "展開後のサイズが大きすぎるため読み込めません（圧縮爆弾の疑い）。"
            "配布した調査票に入力して提出してください。"
        )
    names = {e.filename.lower() for e in entries}
    if any(name.endswith("vbaproject.bin") for name in names):
        raise SubmissionError(
            "マクロを含むブックは受け付けられません。マクロなしの .xlsx 形式で保存してください。"
        )
    for entry in entries:
        if entry.filename.lower().endswith((".xml", ".rels", ".vml")):
            with archive.open(entry) as handle:
                content = handle.read(MAX_EXPANDED_BYTES + 1)
            if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
                raise SubmissionError(
                    "ブックに外部参照や定義（DTD）が含まれているため読み込めません。"
                    "配布した調査票に入力して保存し直してください。"
                )


def _read_identity(workbook: CalamineWorkbook) -> tuple[dict[str, str | None], dict[str, str]]:
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
    workbook: CalamineWorkbook, sheet_name: str, labels: dict[str, str]
) -> tuple[list[SheetRecord], dict[str, str]]:
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
    for offset, row in enumerate(rows[header_index + 1 :][:MAX_DATA_ROWS], start=1):
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
