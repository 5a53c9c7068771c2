"""Japanese normalisation of cell values before validation (正規化).

The original text is always kept beside what is parsed from it; nothing is rewritten in
place. Unicode NFKC folds 全角 digits and letters, ``％``, ``，`` and ``．`` into their ASCII
forms, which is all that parsing numbers, grades and fiscal years needs. Free text is never
NFKC-folded: departments' wording is kept as written.

A number cell (実績値) reads as one number with its unit, a status (a dash or a word meaning
none), or neither. Text with several numbers (``子育て広場 33回 延べ354人``) or a range is
neither: a number is never picked out of a sentence. Kanji numerals (``三十五回``) are not
read either: they collide with ordinary words (``一部``, ``市内一円``, ``一人一人``) and with
the units ``千円``/``万円``, and a department asked to write digits loses nothing.

This module is the one place that says what a number is: after the folding above, only a
finite decimal number is one. ``NaN``, ``inf``, ``1e999``, ``0x10``, digits that NFKC makes
out of other characters (``10²`` would read as 102, ``①`` as 1) and a decimal too long for a
float (it would overflow to infinity) are not numbers. ``parse_stored_number`` applies the
same rule to the value a sheet stores in a number cell (``<v>1.5E-3</v>``).

Cell text keeps its wording, but never what cannot be seen: ``clean_text`` takes out control
and format characters (bidi overrides such as U+202E, zero widths, the byte order mark) and
shows private-use characters (外字, which no other machine displays) as ``〓``, and says what
it took out, so that the reader can tell the department which cell held them.

Fiscal years (和暦 and 西暦 labels) are read and written by ``tasks.plan.fiscal_year``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_LINE_BREAK = re.compile("\r\n|[\r\x85\u2028\u2029]")
_KEPT_CONTROLS = frozenset("\t\n")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
PRIVATE_USE_MARK = "〓"
"""Shown for a private-use character (外字): the mark Japanese print uses for a missing glyph."""

NO_VALUE = "値なし"
"""The status of a cell holding only a dash (－, ―, ー …) or a slash."""

# Written after NFKC, which turns － into "-", ／ into "/" and ｰ into ー.
_DASH = "[-‐‑‒–—―−─━ー/]+"
_STATUS_WORDS = (
    "事業休止", "事業中止", "事業廃止", "休止", "中止", "廃止", "延期",
    "未実施", "実施なし", "実施せず", "実績なし", "該当なし", "なし", "無し", "皆減",
)  # fmt: skip
_PREFIXES = ("延べ", "延", "約", "合計", "累計", "計")
_MINUS_SIGNS = "-−△▲"  # △ and ▲ are minus in Japanese accounting
_SIGNS = re.escape("+" + _MINUS_SIGNS)  # escaped: "+-−" unescaped in [] is a range
_UNITS = (
    "件", "回", "人", "名", "団体", "組", "世帯", "か所", "箇所", "ヶ所", "ケ所", "カ所", "ヵ所",
    "校", "園", "施設", "事業所", "店舗", "地区", "戸", "枚", "冊", "部", "本", "台", "社", "食",
    "講座", "教室", "%", "パーセント", "ポイント", "倍", "円", "千円", "万円", "億円",
    "時間", "日", "か月", "ヶ月", "ケ月", "カ月", "ヵ月",
)  # fmt: skip
_UNIT_SPELLINGS = {
    **{spelling: "か所" for spelling in ("箇所", "ヶ所", "ケ所", "カ所", "ヵ所")},
    **{spelling: "か月" for spelling in ("ヶ月", "ケ月", "カ月", "ヵ月")},
    "パーセント": "%",
}


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


# One pattern, read by Python's `re` for one cell and by pyarrow's RE2 for a column: named
# groups only, [0-9] rather than \d, no lookaround, and no \s (they differ on Unicode).
_CELL = (
    rf"(?P<dash>{_DASH})"
    rf"|\(?(?P<status>{_alternatives(_STATUS_WORDS)})\)?。?"
    rf"|(?:{_alternatives(_PREFIXES)})?[ \t]*(?P<sign>[{_SIGNS}])?[ \t]*"
    r"(?P<number>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    rf"[ \t]*(?P<unit>{_alternatives(_UNITS)})?"
)
_CELL_RE = re.compile(_CELL)
# A number as a sheet stores it in a number cell (<v>), as Excel and every library write it.
_STORED_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class ParsedNumber:
    """A number read from a cell: the value and its unit, or a status word, or neither (an error).

    ``unit`` is the counter or unit written after the number (``件``, ``%``, ``千円`` …), with
    ``箇所``/``ヶ所``/``カ所`` spelled ``か所`` and ``％``/``パーセント`` spelled ``%``. The
    value is as written: ``5千円`` is 5 with unit ``千円``.
    """

    value: float | None
    status: str | None
    ok: bool
    unit: str | None = None


@dataclass(frozen=True)
class CleanText:
    """A cell's text as kept, and what was taken out of it or replaced (each once, in order)."""

    text: str | None
    removed: tuple[str, ...] = ()
    """Control and format characters taken out (U+202E, U+200B, U+0007 …)."""
    replaced: tuple[str, ...] = ()
    """Private-use characters (外字) shown as ``PRIVATE_USE_MARK``."""


def clean_text(value: object) -> CleanText:
    """Return a cell value as clean text, and the hidden characters that were in it.

    Line breaks become ``\\n`` and the ends are trimmed; control and format characters go
    (tabs and line breaks stay), private-use characters become ``〓``; the wording itself
    (全角 letters included) is kept as written.
    """
    if value is None:
        return CleanText(None)
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    text = _LINE_BREAK.sub("\n", text)
    removed: dict[str, None] = {}
    replaced: dict[str, None] = {}
    if not text.isprintable():  # the common case costs one C call; the rest looks closer
        kept = []
        for char in text:
            if char.isprintable() or char in _KEPT_CONTROLS:
                kept.append(char)
                continue
            category = unicodedata.category(char)
            if category == "Co":
                replaced[char] = None
                kept.append(PRIVATE_USE_MARK)
            elif category in _REMOVED_CATEGORIES or _is_noncharacter(char):
                removed[char] = None
            else:
                kept.append(char)  # spaces, and code points newer than this Python knows
        text = "".join(kept)
    return CleanText(text.strip() or None, tuple(removed), tuple(replaced))


def normalise_text(value: object) -> str | None:
    """Return a cell value as clean text, or ``None`` for an empty cell (see ``clean_text``)."""
    return clean_text(value).text


def parse_stored_number(raw: str) -> float | None:
    """Return the number a sheet stores in a number cell (``<v>``), or None if it is none.

    Only a finite decimal is a number: ``NaN``, ``INF``, ``1e999``, ``0x10`` are not.
    """
    if _STORED_NUMBER.fullmatch(raw) is None:
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _has_other_digits(text: str) -> bool:
    """Return whether text holds a character NFKC turns into a digit that is no decimal digit.

    Superscripts (``10²`` would read as 102), circled and parenthesised numbers (``①`` as 1),
    fractions: Unicode's "other number" (No). pyarrow's RE2 calls the same class ``\\p{No}``.
    """
    return not text.isascii() and any(unicodedata.category(char) == "No" for char in text)


def _is_noncharacter(char: str) -> bool:
    # U+FDD0–U+FDEF and the last two code points of every plane: never text (XML refuses some).
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE


def normalise_grade(text: str | None) -> str | None:
    """Return a grade in its canonical form: ``Ａ`` and ``a `` become ``A``."""
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    return folded or None


def parse_number(text: str | None) -> ParsedNumber:
    """Parse ``4,510件``, ``91.1％``, ``延べ354人``, ``△5``; dashes and 中止 become a status."""
    if text is None:
        return ParsedNumber(value=None, status=None, ok=True)
    folded = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text)).strip()
    match = _CELL_RE.fullmatch(folded)
    if match is None or _has_other_digits(text):
        return ParsedNumber(value=None, status=None, ok=False)
    if match["dash"]:
        return ParsedNumber(value=None, status=NO_VALUE, ok=True)
    if match["status"]:
        return ParsedNumber(value=None, status=match["status"], ok=True)
    value = float(match["number"].replace(",", ""))
    if not math.isfinite(value):  # digits enough to overflow a float: no number
        return ParsedNumber(value=None, status=None, ok=False)
    if match["sign"] and match["sign"] in _MINUS_SIGNS:
        value = -value
    unit = match["unit"]
    # + 0.0 turns the -0.0 of "△0" into 0.0.
    return ParsedNumber(
        value=value + 0.0, status=None, ok=True, unit=_UNIT_SPELLINGS.get(unit, unit)
    )


_COLUMNS = {"value": "float64", "status": "str", "unit": "str", "ok": "bool"}


def with_declared_units(cells: pd.Series, parsed: pd.DataFrame, units: pd.Series) -> pd.DataFrame:
    """Return ``parsed`` with cells that end in their indicator's declared unit read as numbers.

    The shared unit list knows 件, 人, % …; a plan may declare any unit for an indicator
    (「組織」, 「人/km」): a cell such as 「101組織」 is that unit after a number. ``units`` holds
    each cell's declared unit (on the same index; empty where none).
    """
    result = parsed.copy()
    for index in parsed.index[~parsed["ok"].to_numpy(dtype=bool)]:
        text, unit = cells[index], units[index]
        if not isinstance(text, str) or not isinstance(unit, str) or not unit.strip():
            continue
        folded = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text)).strip()
        declared = unicodedata.normalize("NFKC", unit).strip()
        if not folded.endswith(declared):
            continue
        number = parse_number(folded.removesuffix(declared))
        if number.ok and number.value is not None and number.unit is None:
            result.loc[index, ["value", "status", "unit", "ok"]] = [number.value, None, unit, True]
    return result.astype(_COLUMNS)


def parse_numbers(cells: pd.Series) -> pd.DataFrame:
    """Parse a column of cell text at once, exactly as ``parse_number`` parses one cell.

    Returns one row per cell, on the same index: ``value`` (float, NaN when none), ``status``
    and ``unit`` (text or missing) and ``ok`` (bool). Missing cells are ok with nothing.
    """
    # Each distinct text is parsed once, and by pyarrow's kernels (NFKC, RE2) over the whole
    # column; pandas' str.extract would call Python's `re` once per cell for this pattern.
    encoded = pc.dictionary_encode(pa.chunked_array([pa.array(cells.astype("str"))]))
    encoded = encoded.combine_chunks()
    distinct = _parse_distinct(encoded.dictionary).astype(object)
    # The row after the distinct texts stands for a missing cell: ok, with nothing in it.
    missing = len(distinct)
    distinct.loc[missing] = [float("nan"), None, None, True]
    rows = pc.fill_null(encoded.indices, missing).to_numpy(zero_copy_only=False)
    parsed: pd.DataFrame = distinct.iloc[rows]
    return parsed.astype(_COLUMNS).set_axis(cells.index)


def _parse_distinct(texts: pa.Array) -> pd.DataFrame:
    other_digits = pc.match_substring_regex(texts, r"\p{No}").to_numpy(zero_copy_only=False)
    texts = pc.replace_substring_regex(texts, _ZERO_WIDTH.pattern, "")
    folded = pc.utf8_trim_whitespace(pc.utf8_normalize(texts, form="NFKC"))
    extracted = pc.extract_regex(folded, f"^(?:{_CELL})$")
    # A group that took no part in the match, or any group of a cell that did not match,
    # comes back as "".
    parts = pa.Table.from_struct_array(extracted).to_pandas().replace("", None)
    # astype, not to_numeric: 400 digits are an int too large for a float there, inf here.
    number = parts["number"].str.replace(",", "", regex=False).astype("float64")
    negative = parts["sign"].isin(list(_MINUS_SIGNS)).to_numpy()
    value = number.where(~negative, -number) + 0.0
    status = parts["status"].where(parts["dash"].isna(), NO_VALUE)
    unit = parts["unit"].replace(_UNIT_SPELLINGS)
    # Not a number, as parse_number says: digits NFKC made up, or too many for a float.
    refused = other_digits.astype(bool) | np.isinf(value.to_numpy())
    value, status, unit = value.mask(refused), status.mask(refused), unit.mask(refused)
    ok = status.notna() | value.notna()
    return pd.DataFrame({"value": value, "status": status, "unit": unit, "ok": ok})
