"""Fiscal years (年度, April to March) in 西暦 and 和暦: reading labels, writing labels.

Read with a table of the five modern eras (明治–令和), whose first days are facts. The era
libraries on PyPI (japanera, jpdatetime, jeraconv) read dates, not fiscal-year labels: none
reads ``R5``, ``H30`` and ``令和元年度`` as fiscal years without as much glue as the table.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import NamedTuple


class _Era(NamedTuple):
    name: str
    letter: str
    first_day: dt.date


# Gregorian first days. 明治 was proclaimed on 1868-10-23 and counted from the first day of
# that (lunar) year, 1868-01-25; only the first year matters for fiscal years anyway.
_ERAS = (
    _Era("明治", "M", dt.date(1868, 1, 25)),
    _Era("大正", "T", dt.date(1912, 7, 30)),
    _Era("昭和", "S", dt.date(1926, 12, 25)),
    _Era("平成", "H", dt.date(1989, 1, 8)),
    _Era("令和", "R", dt.date(2019, 5, 1)),
)
_ERA_BY_KEY = {key: era for era in _ERAS for key in (era.name, era.letter)}
_FIRST_FISCAL_YEAR = _ERAS[0].first_day.year

# A year mention: 令和5年度, 令和元年, R5, R.5, H30年度, 2021年度, FY2021; with a month when
# it is a date (令和6年3月, R6.3.31), which moves January–March to the fiscal year before.
_YEAR_RE = re.compile(
    r"(?P<era>明治|大正|昭和|平成|令和) ?(?P<era_year>元|[0-9]{1,2})(?![0-9])"
    r"(?: ?年(?:度|(?P<era_month>[0-9]{1,2})月)?)?"
    r"|(?<![A-Za-z])(?P<letter>[MTSHRmtshr])\.? ?(?P<letter_year>元|[0-9]{1,2})(?![0-9])"
    r"(?:年(?:度|(?P<letter_month>[0-9]{1,2})月)?|[./](?P<dot_month>[0-9]{1,2})(?![0-9]))?"
    r"|(?<![A-Za-z0-9])FY ?(?P<fy>[0-9]{4})(?![0-9])"
    r"|(?<![0-9])(?P<western>[0-9]{4}) ?年(?:度|(?P<western_month>[0-9]{1,2})月)?"
    r"|^(?P<bare>[0-9]{4})$",
    re.IGNORECASE,
)
_LEADING = re.compile(r"[ (【\[]*")


def parse_fiscal_year(text: str | None) -> int | None:
    """Return the 西暦 fiscal year a label names (``令和5年度（目標値）`` → 2023), else ``None``.

    The label starts with the year; what follows is free (``（現状値）``, ``の進捗状況``).
    Every year the label mentions must be the same fiscal year (``平成31年度/令和元年度``);
    a range or two different years give ``None``. An era year past the era's end counts on
    (``平成32年度`` → 2020), as plans written before 2019 do.
    """
    if text is None:
        return None
    folded = unicodedata.normalize("NFKC", text).strip()
    start = _LEADING.match(folded)
    mentions = list(_YEAR_RE.finditer(folded))
    if not mentions or start is None or mentions[0].start() != start.end():
        return None
    years = {_fiscal_year_of(mention) for mention in mentions}
    if len(years) != 1:
        return None
    year = years.pop()
    return year if year is not None and year >= _FIRST_FISCAL_YEAR else None


def _fiscal_year_of(mention: re.Match[str]) -> int | None:
    era_key = mention["era"] or (mention["letter"] or "").upper()
    if era_key:
        number = mention["era_year"] or mention["letter_year"]
        era_year = 1 if number == "元" else int(number)
        if era_year < 1:
            return None
        year = _ERA_BY_KEY[era_key].first_day.year + era_year - 1
    else:
        year = int(mention["fy"] or mention["western"] or mention["bare"])
    month = next(
        (
            mention[g]
            for g in ("era_month", "letter_month", "dot_month", "western_month")
            if mention[g]
        ),
        None,
    )
    if month is not None and not 1 <= int(month) <= 12:
        return None
    return year - 1 if month is not None and int(month) < 4 else year


def wareki_label(fiscal_year: int) -> str:
    """Return the 和暦 label of a fiscal year: 2021 → ``令和3年度``, 2019 → ``令和元年度``.

    A fiscal year in which the era changed takes the era in force for most of it (on
    1 October): 2019 is 令和元年度, 1988 is 昭和63年度.
    """
    middle = dt.date(fiscal_year, 10, 1)
    for era in reversed(_ERAS):
        if era.first_day <= middle:
            era_year = fiscal_year - era.first_day.year + 1
            return f"{era.name}{'元' if era_year == 1 else era_year}年度"
    raise ValueError(f"fiscal year {fiscal_year} is before 明治 ({_FIRST_FISCAL_YEAR})")


def fiscal_year_label(fiscal_year: int) -> str:
    """Return both labels of a fiscal year: 2021 → ``2021年度（令和3年度）``."""
    return f"{fiscal_year}年度（{wareki_label(fiscal_year)}）"


def wareki_short(fiscal_year: int) -> str:
    """Return the short 和暦 of a fiscal year as seeds print it: 2020 → ``R2``, 2018 → ``H30``."""
    label = wareki_label(fiscal_year).removesuffix("年度").replace("元", "1")
    return _ERA_BY_KEY[label[:2]].letter + label[2:]
