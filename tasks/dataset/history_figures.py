"""Past indicator figures (指標の値) from a coordinator's Excel: 現状値 and each year's value.

A table of figures has a header row (within a sheet's first 30 rows) naming the indicator —
by 指標ID, by 指標 / 指標名, or by the 項目 (the plan's ``initiative_label``, 事業名 …) with the
measure in the column beside it, as 西東京市 prints 参加団体数 under ふれあいのまちづくり… —
and year columns headed in 和暦 or 西暦 (平成29年度（現状値）, 平成30年度, 令和元年度, 2020年度;
※ marks and （計画1年目） allowed). A year headed with 実績 (2020年度実績) is a figure only in
a table with a 指標 column; elsewhere it is an initiative's 実績 text. One row per indicator;
a 項目 left blank (a merged cell) is the one above.

Each value is kept as typed (「19,177世帯」「48.4%」「－」) beside the number the product's
one parser reads from it (any unit the plan declares for the indicator too); a number cell as
Excel shows it. A name that matches no indicator, or several, is listed and never guessed; a
value that is no number, dash or status word is an error naming its cell.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tasks.check.normalise import (
    ParsedNumber,
    clean_text,
    parse_number,
    parse_numbers,
    with_declared_units,
)
from tasks.dataset.history_sheets import NAME_HEADERS, Cell, Sheet, name_key
from tasks.dataset.merge import indicator_plan_columns
from tasks.plan.fiscal_year import parse_fiscal_year, wareki_label
from tasks.plan.model import Plan
from tasks.plan.parts import Indicator, Initiative

MAX_HEADER_ROWS = 30
_NOTES = re.compile(r"\((?:現状値|参考値|基準値|計画[0-9]+年目)\)|※[0-9]+")
_RESULT = re.compile(r"\(?実績値?\)?$")
_YEAR_ONLY = re.compile(
    r"(?:明治|大正|昭和|平成|令和)(?:元|[0-9]{1,2})(?:年度?)?"
    r"|[MTSHR]\.?(?:元|[0-9]{1,2})(?:年度?)?|(?:FY)?[0-9]{4}(?:年度?)?",
    re.IGNORECASE,
)
_ID_HEADERS = ("指標ID",)
_MEASURE_HEADERS = ("指標", "指標名", "成果指標", "数値目標", "測定指標", "評価指標")
_DECIMALS = re.compile(r"\.(0+)")
Match = tuple[Initiative, Indicator]


@dataclass
class Figures:
    """What the figure tables of a workbook gave."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    """One per (fiscal_year, initiative_id, indicator_id, department_id), as merged years."""
    notes: list[str] = field(default_factory=list)
    """Japanese lines: rows not taken (no such indicator, several, which department)."""
    errors: list[str] = field(default_factory=list)
    """Japanese: values that could not be read, each with its cell."""
    taken: set[tuple[str, int]] = field(default_factory=set)
    """(sheet, row) of every row a figure table read, matched or not."""


@dataclass(frozen=True)
class _Table:
    sheet: Sheet
    header: int
    years: dict[int, int]
    """Year by column."""
    item: int | None
    measure: int | None
    ident: int | None
    department: int | None


def figure_year(header: str | None, results_too: bool = False) -> int | None:
    """Return the fiscal year a column of figures is headed with, or None for another column.

    ``平成29年度（現状値）※１※２`` → 2017, ``令和元年度 ※２ （計画1年目）`` → 2019; a target
    (``令和5年度（目標値）``) or a text (``令和元年度の取組状況``) is no column of figures.
    """
    if not header:
        return None
    folded = "".join(unicodedata.normalize("NFKC", header).split())
    bare = _NOTES.sub("", folded)
    if results_too:
        bare = _RESULT.sub("", bare)
    return parse_fiscal_year(bare) if _YEAR_ONLY.fullmatch(bare) else None


def read_figures(plan: Plan, sheets: list[Sheet], up_to: int) -> Figures:
    """Return the figures of every year up to ``up_to`` found in the sheets' figure tables."""
    figures = Figures()
    index = _Index(plan)
    seen: dict[tuple[int, str, str, str], tuple[str, str]] = {}
    for sheet in sheets:
        table = _find_table(plan, sheet)
        if table is None:
            continue
        for column, year in sorted(table.years.items()):
            if year > up_to:
                figures.notes.append(
                    f"{sheet.place(table.header, column)}: {wareki_label(year)}の列は、"
                    f"取り込む年度（{wareki_label(up_to)}）より後の年度なので取り込みませんでした"
                )
        _read_table(plan, table, index, up_to, figures, seen)
    return figures


def _find_table(plan: Plan, sheet: Sheet) -> _Table | None:
    item_labels = {name_key(h) for h in (plan.initiative_label, *NAME_HEADERS)}
    for row in range(min(MAX_HEADER_ROWS, len(sheet.rows))):
        headers = [sheet.text(row, c) or "" for c in range(len(sheet.rows[row]))]
        keys = [name_key(h).upper() for h in headers]
        ident = _first(keys, {k.upper() for k in _ID_HEADERS})
        measure = _first(keys, set(_MEASURE_HEADERS))
        item = _first(keys, {k.upper() for k in item_labels})
        named = ident is not None or measure is not None
        years = {
            c: year
            for c, header in enumerate(headers)
            if (year := figure_year(header, results_too=named)) is not None
        }
        if not years or (item is None and not named):
            continue
        if measure is None and item is not None and item + 1 not in years:
            beside = headers[item + 1] if item + 1 < len(headers) else ""
            measure = item + 1 if not beside else None  # 項目 over two columns (西東京市)
        department = next(
            (c for c, h in enumerate(headers) if "担当" in h or "事業主体" in h), None
        )
        return _Table(sheet, row, years, item, measure, ident, department)
    return None


def _first(keys: list[str], wanted: set[str]) -> int | None:
    return next((c for c, key in enumerate(keys) if key in wanted), None)


class _Index:
    """The plan's indicators by id, by name, and by the 項目 that names them."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.by_id: dict[str, list[Match]] = {}
        self.by_name: dict[str, list[Match]] = {}
        self.items: dict[str, list[Initiative]] = {}
        for initiative in plan.initiatives:
            for indicator in initiative.indicators:
                self.by_id.setdefault(indicator.id.upper(), []).append((initiative, indicator))
                self.by_name.setdefault(name_key(indicator.name), []).append(
                    (initiative, indicator)
                )
            # The 項目 as written: its name, with its note, or with its one measure's name.
            names = {initiative.name, initiative.name + initiative.summary}
            if len(initiative.indicators) == 1:
                names.add(initiative.name + initiative.indicators[0].name)
            for name in names:
                self.items.setdefault(name_key(name), []).append(initiative)

    def match(self, ident: str | None, item: str | None, measure: str | None) -> list[Match]:
        """Return the indicators a row may name: one when it names one, else none or several."""
        if ident:
            found = self.by_id.get(name_key(ident).upper(), [])
        elif measure:
            found = self.by_name.get(name_key(measure), [])
        elif item:
            named = self.items.get(name_key(item), [])
            found = [(i, i.indicators[0]) for i in named if len(i.indicators) == 1]
            found += [m for m in self.by_name.get(name_key(item), []) if m not in found]
            return found
        else:
            return []
        if item and (ident or measure):
            initiatives = self.items.get(name_key(item), [])
            found = [m for m in found if m[0] in initiatives] or (found if not initiatives else [])
        return found


def _read_table(
    plan: Plan,
    table: _Table,
    index: _Index,
    up_to: int,
    figures: Figures,
    seen: dict[tuple[int, str, str, str], tuple[str, str]],
) -> None:
    sheet, item_above = table.sheet, None
    for row in range(table.header + 1, len(sheet.rows)):
        ident, item, measure = (
            sheet.text(row, c) if c is not None else None
            for c in (table.ident, table.item, table.measure)
        )
        if item is None and table.measure is not None and measure:
            item = item_above  # a 項目 merged over its measures
        item_above = item or item_above
        cells = {
            year: (column, sheet.cell(row, column))
            for column, year in table.years.items()
            if year <= up_to and clean_text(sheet.cell(row, column).value).text is not None
        }
        if not cells:
            continue
        figures.taken.add((sheet.name, row))
        name = " ".join(p for p in (ident, item, measure) if p)
        where = sheet.place(
            row, next(c for c in (table.ident, table.measure, table.item) if c is not None)
        )
        found = index.match(ident, item, measure)
        if len(found) != 1:
            figures.notes.append(_unmatched(where, name, found))
            continue
        initiative, indicator = found[0]
        department = _department(plan, table, row, initiative, indicator)
        if department is None:
            figures.notes.append(
                f"{where}: 担当部署を特定できないため取り込まなかった行: {name}"
                "（担当部署の列に部署名を 1 つ書いてください）"
            )
            continue
        for year, (column, cell) in sorted(cells.items()):
            place = sheet.place(row, column)
            record = _figure(plan, initiative, indicator, department, year, cell, place, figures)
            if record is None:
                continue
            key = (year, initiative.id, indicator.id, department)
            typed = str(record["original_text"])
            if key in seen and seen[key][1] != typed:
                figures.errors.append(
                    f"{place}「{typed}」と{seen[key][0]}「{seen[key][1]}」: "
                    f"同じ指標の{wareki_label(year)}の値が 2 か所にあり、違っています"
                )
            elif key not in seen:
                seen[key] = (place, typed)
                figures.rows.append(record)


def _unmatched(where: str, name: str, found: list[Match]) -> str:
    if not name:
        return f"{where}: 指標の名前がない行は取り込みませんでした"
    if not found:
        return f"{where}: 計画にない指標のため取り込まなかった行: {name}"
    named = "・".join(dict.fromkeys(f"{i.name}「{m.name}」" for i, m in found))
    return (
        f"{where}: 計画に当たる指標が複数あるため取り込まなかった行: {name}（{named}）。"
        "項目（事業名）と指標名を別の列に書いてください"
    )


def _department(
    plan: Plan, table: _Table, row: int, initiative: Initiative, indicator: Indicator
) -> str | None:
    reporting = indicator.reported_by or initiative.departments
    text = table.sheet.text(row, table.department) if table.department is not None else None
    named = [d for d in reporting if text and plan.department(d).name in text]
    if len(named) == 1:
        return named[0]
    return reporting[0] if len(reporting) == 1 and not named else None


def _figure(
    plan: Plan,
    initiative: Initiative,
    indicator: Indicator,
    department: str,
    year: int,
    cell: Cell,
    place: str,
    figures: Figures,
) -> dict[str, Any] | None:
    """Return one figure as the year's indicator row, or None (its error noted)."""
    typed, parsed = _read_value(cell, indicator.unit)
    if not parsed.ok:
        figures.errors.append(
            f"{place}「{typed}」は数値として読み取れません"
            "（数字と単位「1,234件」「48.4%」か、値がなければ「－」と書いてください）"
        )
        return None
    if parsed.unit and indicator.unit and _folded(parsed.unit) != _folded(indicator.unit):
        figures.notes.append(
            f"{place}: 「{typed}」の単位は計画の単位（{indicator.unit}）と違います"
            "（書かれたとおりに取り込みました）"
        )
    return {
        "fiscal_year": year,
        "initiative_id": initiative.id,
        "indicator_id": indicator.id,
        "department_id": department,
        "indicator_name": indicator.name,
        "unit": indicator.unit,
        "value": parsed.value,
        "original_text": typed,
        "status": parsed.status,
    } | indicator_plan_columns(indicator, year)


def _read_value(cell: Cell, unit: str) -> tuple[str, ParsedNumber]:
    """Return a cell's text as shown and what it says: a number cell as Excel formats it."""
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown, number = _as_shown(float(value), cell.number_format)
        return shown, ParsedNumber(value=number, status=None, ok=True)
    typed = clean_text(value).text or ""
    if not isinstance(value, str):  # a date, a time, TRUE: no figure
        return typed, ParsedNumber(value=None, status=None, ok=False)
    parsed = parse_number(typed)
    if parsed.ok or not unit:
        return typed, parsed
    cells = pd.Series([typed])
    read = with_declared_units(cells, parse_numbers(cells), pd.Series([unit])).iloc[0]
    if not bool(read["ok"]):
        return typed, parsed
    return typed, ParsedNumber(value=float(read["value"]), status=None, ok=True, unit=unit)


def _as_shown(value: float, number_format: str) -> tuple[str, float]:
    """Return a number cell as Excel shows it (less separators) and the number it holds.

    A percentage format shows and holds the number times 100 (0.484 in 0.0% is 48.4%).
    """
    section = number_format.split(";")[0]
    found = _DECIMALS.search(section)
    decimals = len(found.group(1)) if found else None
    if "%" in section:
        number = round(value * 100, 10)
        return f"{number:.{decimals or 0}f}%", number
    if decimals is not None:
        return f"{value:.{decimals}f}", value
    return clean_text(value).text or "", value


def _folded(unit: str) -> str:
    return unicodedata.normalize("NFKC", unit).strip()
