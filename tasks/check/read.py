"""Read a submission workbook (調査票) into plain records, safely.

No parser sees a submission before the package guard (``tasks.check.guard``) has: it refuses what
is not an .xlsx, zip bombs, macros, links, DTDs and sheets too large for a form, and notes the
formulas and merged cells of every sheet. Only then does python-calamine read cell values; it
never evaluates formulas. Formulas and merged cells in the sheets we read are refused by cell,
as are hidden or missing sheets. Everything else is returned as data, cleaned cell by cell
(``tasks.check.cells``): hidden characters taken out and number cells holding no number read
as their stored text, each with a note on its cell.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from tasks.call.workbook import (
    ID_HEADER,
    IDENTITY_KEYS,
    IDENTITY_MARK,
    IDENTITY_SHEET,
    INDICATOR_ID_HEADER,
    INDICATOR_INPUT_HEADER,
    INDICATOR_NOTE_HEADER,
    field_label,
)
from tasks.check.cells import CellNote, read_row
from tasks.check.guard import inspect_package
from tasks.check.guard_bounds import RESAVE
from tasks.check.guard_sheet import CELL_REF, SheetFacts, column_letter
from tasks.check.normalise import normalise_text
from tasks.errors import SubmissionError
from tasks.plan.model import Plan

# How far down a sheet the header row (``ID_HEADER`` in column A) is looked for.
MAX_HEADER_SEARCH_ROWS = 30


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
    notes: list[CellNote] = field(default_factory=list)
    """What was cleaned or refused in single cells of the table sheets, cell by cell."""


def read_submission(data: bytes, plan: Plan) -> ReadSubmission:
    """Return the identity and rows of a submission workbook, or raise SubmissionError."""
    facts = inspect_package(data)
    workbook = _open_workbook(data)
    visible = {m.name: m.visible for m in workbook.sheets_metadata}
    if not visible:
        raise SubmissionError(f"ブックにシートが 1 枚もありません。{RESAVE}")
    _check_identity_sheet(visible)
    identity, identity_cells = _read_identity(workbook, facts.get(IDENTITY_SHEET))
    main_name = plan.submission.sheet_name
    _check_visible(visible, main_name)
    main_labels = {ID_HEADER: "initiative_id"} | {
        field_label(plan, f.label): f.key for f in plan.submission.fields
    }
    records, main_columns, notes = _read_table(
        workbook, main_name, main_labels, facts.get(main_name)
    )
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
        indicator_records, indicator_columns, indicator_notes = _read_table(
            workbook, indicator_name, indicator_labels, facts.get(indicator_name)
        )
        columns[indicator_name] = indicator_columns
        notes += indicator_notes
    return ReadSubmission(
        identity=identity,
        records=records,
        indicator_records=indicator_records,
        columns=columns,
        identity_cells=identity_cells,
        notes=notes,
    )


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


def _refuse_formulas(sheet: str, facts: SheetFacts | None) -> None:
    """Refuse a sheet we read that holds any formula (a department's formula is never run) or
    any error value (#N/A, #DIV/0!: it would read as a blank, and the department meant one)."""
    if facts is None:
        return
    _refuse_cells(
        sheet,
        facts.formulas,
        "に数式が入力されています。"
        "数式ではなく値を入力してください（コピーして「値の貼り付け」で値にできます）。",
    )
    _refuse_cells(
        sheet,
        facts.errors,
        "にエラー値（#N/A、#DIV/0! など）が入っています。"
        "エラー値を消して、文字や数値を入力してください。",
    )


def _refuse_cells(sheet: str, cells: list[str], problem: str) -> None:
    if cells:
        shown = "、".join(cells[:10]) + (" ほか" if len(cells) > 10 else "")
        raise SubmissionError(
            f"シート「{sheet}」のセル {shown} {problem}", sheet=sheet, cell=cells[0]
        )


def _refuse_merged(sheet: str, facts: SheetFacts | None, header_row: int) -> None:
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


MAX_CELL_CHARS = 32_767
"""The most characters Excel holds in a cell: a longer text was not typed in Excel."""


def _sheet_rows(workbook: CalamineWorkbook, sheet_name: str) -> list[list[Any]]:
    """Return a sheet's cell values, or refuse the file when its cells cannot be read."""
    try:
        rows: list[list[Any]] = workbook.get_sheet_by_name(sheet_name).to_python(
            skip_empty_area=False
        )
    except (CalamineError, ValueError) as err:
        raise SubmissionError(
            f"シート「{sheet_name}」のセルが壊れていて読み取れません（{err}）。"
            "配布した調査票に入力し直し、Excel で保存して提出してください。",
            sheet=sheet_name,
        ) from err
    return rows


def _refuse_long_texts(
    sheet_name: str, row: int, values: dict[str, str | None], positions: dict[str, int]
) -> None:
    for key, value in values.items():
        if value is not None and len(value) > MAX_CELL_CHARS:
            cell = f"{column_letter(positions[key])}{row}"
            raise SubmissionError(
                f"シート「{sheet_name}」のセル {cell} の文字数（{len(value):,}字）が Excel の"
                f"上限（{MAX_CELL_CHARS:,}字）を超えています。要約して入力し直してください。",
                sheet=sheet_name,
                cell=cell,
            )


def _last_row(ref: str) -> int:
    match = CELL_REF.fullmatch(ref.rpartition(":")[2])
    return int(match.group(2)) if match else 0


def _read_identity(
    workbook: CalamineWorkbook, facts: SheetFacts | None
) -> tuple[dict[str, str | None], dict[str, str]]:
    _refuse_formulas(IDENTITY_SHEET, facts)
    _refuse_merged(IDENTITY_SHEET, facts, header_row=1)
    rows = _sheet_rows(workbook, IDENTITY_SHEET)
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
    facts: SheetFacts | None,
) -> tuple[list[SheetRecord], dict[str, str], list[CellNote]]:
    _refuse_formulas(sheet_name, facts)
    rows = _sheet_rows(workbook, sheet_name)
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
    notes: list[CellNote] = []
    not_numbers = facts.not_numbers if facts is not None else {}
    for offset, row in enumerate(rows[header_index + 1 :], start=1):
        row_number = header_index + 1 + offset
        values, row_notes = read_row(sheet_name, row_number, row, positions, not_numbers)
        if all(v is None for v in values.values()):
            continue
        _refuse_long_texts(sheet_name, row_number, values, positions)
        records.append(SheetRecord(sheet=sheet_name, row=row_number, values=values))
        notes += row_notes
    letters = {key: column_letter(col) for key, col in positions.items()}
    return records, letters, notes
