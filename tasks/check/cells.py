"""What the reader says about single cells: hidden characters taken out, numbers that are none.

A department's text is data: the reader keeps it as written, but never what cannot be seen
(``tasks.check.normalise.clean_text``), and a number cell whose stored value is no number
(``NaN``, ``1e999``, ``0x10``; Excel never writes one) is read as the text stored there. Each
is a note on its cell, which checking turns into a finding like any other: 注意 (warning) for
what was cleaned, 要修正 (critical) for a number that is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks.check.guard_sheet import column_letter
from tasks.check.normalise import PRIVATE_USE_MARK, clean_text
from tasks.workspace.names import visible_text

HIDDEN_RULE = "no_hidden_characters"
PRIVATE_USE_RULE = "no_private_use_characters"
NOT_A_NUMBER_RULE = "finite_number"
_SHOWN_CHARACTERS = 5


@dataclass(frozen=True)
class CellNote:
    """A problem the reader saw in one cell; checking reports it as a finding (指摘事項)."""

    sheet: str
    cell: str
    severity: str
    """``critical`` (blocks the file) or ``warning`` (reported, file accepted)."""
    message: str
    found: str | None
    expected: str
    rule: str
    initiative_id: str | None = None


def read_row(
    sheet: str,
    row_number: int,
    row: list[Any],
    positions: dict[str, int],
    not_numbers: dict[str, str],
) -> tuple[dict[str, str | None], list[CellNote]]:
    """Return a row's cleaned text by record key, and the notes on its cells.

    ``not_numbers`` maps cells (``K6``) to the value stored in a number cell that is no
    number: the record holds that text instead of calamine's NaN or infinity.
    """
    values: dict[str, str | None] = {}
    notes: list[CellNote] = []
    for key, col in positions.items():
        cell = f"{column_letter(col)}{row_number}"
        raw = row[col] if col < len(row) else None
        stored = not_numbers.get(cell)
        cleaned = clean_text(stored if stored is not None else raw)
        values[key] = cleaned.text
        if stored is not None:
            notes.append(_not_a_number(sheet, cell, cleaned.text))
        if cleaned.removed:
            notes.append(_hidden(sheet, cell, cleaned.removed, raw))
        if cleaned.replaced:
            notes.append(_private_use(sheet, cell, cleaned.replaced, raw))
    initiative = values.get("initiative_id")
    return values, [_on_row(note, initiative) for note in notes]


def _codes(characters: tuple[str, ...]) -> str:
    shown = "、".join(f"U+{ord(c):04X}" for c in characters[:_SHOWN_CHARACTERS])
    return shown + (" ほか" if len(characters) > _SHOWN_CHARACTERS else "")


def _found(raw: object) -> str | None:
    # What was in the cell, with what cannot be seen shown as <U+202E>: never the raw bytes.
    return None if raw is None else visible_text(str(raw))


def _not_a_number(sheet: str, cell: str, stored: str | None) -> CellNote:
    return CellNote(
        sheet=sheet,
        cell=cell,
        severity="critical",
        message=(
            f"セル {cell} の値「{stored}」は数値として読み取れません（NaN・無限大・16進数・"
            "桁あふれなどは数値ではありません）。セルの値を消して、半角の数字や文字で"
            "入力し直してください（例: 38、91.1）。"
        ),
        found=stored,
        expected="有限の数値（例: 38）または文字",
        rule=NOT_A_NUMBER_RULE,
    )


def _hidden(sheet: str, cell: str, removed: tuple[str, ...], raw: object) -> CellNote:
    return CellNote(
        sheet=sheet,
        cell=cell,
        severity="warning",
        message=(
            f"セル {cell} に見えない制御文字（{_codes(removed)}）が含まれていたため、取り除いて"
            "読み取りました。文字の向きを変える記号などがコピーで紛れ込んでいないか確かめ、"
            "次回は取り除いて入力してください。"
        ),
        found=_found(raw),
        expected="見えない文字を含まない文字",
        rule=HIDDEN_RULE,
    )


def _private_use(sheet: str, cell: str, replaced: tuple[str, ...], raw: object) -> CellNote:
    return CellNote(
        sheet=sheet,
        cell=cell,
        severity="warning",
        message=(
            f"セル {cell} の外字（{_codes(replaced)}）はほかのパソコンでは表示できないため、"
            f"「{PRIVATE_USE_MARK}」に置き換えて読み取りました。"
            "次回は標準の文字（JIS の文字）で入力してください。"
        ),
        found=_found(raw),
        expected="標準の文字（外字を使わない）",
        rule=PRIVATE_USE_RULE,
    )


def _on_row(note: CellNote, initiative_id: str | None) -> CellNote:
    return CellNote(**{**note.__dict__, "initiative_id": initiative_id})
