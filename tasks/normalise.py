"""Japanese normalisation of cell values before validation (正規化).

The original text is always kept beside what is parsed from it; nothing is rewritten in
place. Unicode NFKC (the standard library's ``unicodedata``) already folds 全角 digits and
letters, ``％`` and full-width punctuation into their ASCII forms, which is all that parsing
numbers and grades needs; no third-party normaliser is required for it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DASHES = {"-", "－", "—", "―", "‐", "ー", "─", "–", "/", "／"}
_STATUS_WORDS = ("事業休止", "休止", "中止", "未実施", "実施なし", "該当なし", "なし")
_PREFIXES = ("延べ", "延", "約", "計")
_UNITS = re.compile(
    r"(件|回|人|名|団体|組|世帯|か所|箇所|ヶ所|カ所|校|園|施設|%|パーセント|円|千円|万円|時間|日|冊|部|戸)$"
)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class ParsedNumber:
    """A number read from a cell: the value, or a status word, or neither (an error)."""

    value: float | None
    status: str | None
    ok: bool


def normalise_text(value: object) -> str | None:
    """Return a cell value as clean text, or ``None`` for an empty cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    text = _CONTROL.sub("", text).replace("\r\n", "\n").strip()
    return text or None


def normalise_grade(text: str | None) -> str | None:
    """Return a grade in its canonical form: ``Ａ`` and ``a `` become ``A``."""
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    return folded or None


def parse_number(text: str | None) -> ParsedNumber:
    """Parse ``4,510件``, ``91.1％``, ``延べ354人``, ``３８``; dashes and 中止 become a status."""
    if text is None:
        return ParsedNumber(value=None, status=None, ok=True)
    raw = text.strip()
    if raw in _DASHES:
        return ParsedNumber(value=None, status="値なし", ok=True)
    for word in _STATUS_WORDS:
        if raw == word:
            return ParsedNumber(value=None, status=word, ok=True)
    folded = unicodedata.normalize("NFKC", raw).replace(",", "").replace(" ", "")
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            folded = folded[len(prefix) :]
    folded = _UNITS.sub("", folded)
    if _NUMBER.match(folded):
        return ParsedNumber(value=float(folded), status=None, ok=True)
    return ParsedNumber(value=None, status=None, ok=False)
