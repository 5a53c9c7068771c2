"""The indicator table of the 資料: each indicator's values over the years, target and rate."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from tasks.dataset.values import number_of, text_of
from tasks.plan.fiscal_year import wareki_label
from tasks.plan.model import Plan
from tasks.render.layout import plan_indicator_years

_TREND_JA = {"improving": "改善", "worsening": "悪化", "flat": "横ばい"}
_BARE_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""What a number cell reads as: printed by the product, with separators and the unit."""


Series = dict[int, dict[str, Any]]
"""An indicator's records by fiscal year."""
SeriesKey = tuple[str, str, str]
"""(initiative_id, indicator_id, department_id)."""


def indicator_rows(
    plan: Plan, indicators: pd.DataFrame, history: pd.DataFrame
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return one row per indicator value of the year, and the years its series spans."""
    year = plan.fiscal_year.current
    earlier: dict[SeriesKey, Series] = {}
    for record in records(history):
        earlier.setdefault(_series_key(record), {})[int(record["fiscal_year"])] = record
    # The plan's years (its earliest baseline to this year) whether or not a value is known,
    # so that a template's year columns are there from the first year; earlier data too.
    known = {y for series in earlier.values() for y in series if y < year}
    years = sorted(known | set(plan_indicator_years(plan)))
    rows = []
    for record in sorted(records(indicators), key=_plan_order(plan)):
        series = dict(earlier.get(_series_key(record), {}))
        series[year] = record
        rows.append(_indicator_row(plan, record, series, years))
    return rows, _year_labels(plan, years)


def _plan_order(plan: Plan) -> Any:
    """Return a sort key putting indicator rows in the plan's order (initiative, indicator)."""
    initiatives = {i.id: n for n, i in enumerate(plan.ordered_initiatives())}
    indicators = {(i.id, m.id): n for i in plan.initiatives for n, m in enumerate(i.indicators)}
    departments = {d.id: n for n, d in enumerate(plan.departments)}

    def key(record: dict[str, Any]) -> tuple[int, int, int]:
        initiative, indicator = str(record["initiative_id"]), str(record["indicator_id"])
        return (
            initiatives.get(initiative, len(initiatives)),
            indicators.get((initiative, indicator), 0),
            departments.get(str(record["department_id"]), 0),
        )

    return key


def _series_key(record: dict[str, Any]) -> SeriesKey:
    return (
        str(record["initiative_id"]),
        str(record["indicator_id"]),
        str(record["department_id"]),
    )


def _indicator_row(
    plan: Plan, record: dict[str, Any], series: Series, years: list[int]
) -> dict[str, Any]:
    """Return one indicator value as the 資料's indicator table shows it."""
    baseline = number_of(record.get("baseline"))
    rate = number_of(record.get("achievement_rate"))
    yoy = number_of(record.get("yoy_ratio"))
    name = plan.initiative(str(record["initiative_id"])).name
    unit = text_of(record.get("unit"))
    texts = [_without(_shown(series[y], unit), unit) if y in series else "" for y in years]
    return {
        "initiative_id": str(record["initiative_id"]),
        "initiative": name,
        "indicator": record["indicator_name"],
        "item": name if record["indicator_name"] == name else f"{name}\n{record['indicator_name']}",
        "series_shown": [_shown(series[y], unit) if y in series else "" for y in years],
        "department": plan.department(str(record["department_id"])).name,
        "unit": unit,
        "direction": "↓" if record.get("direction") == "lower" else "↑",
        "baseline": format_number(baseline),
        "baseline_year": text_of(record.get("baseline_year")),
        "series": texts,
        "previous": format_number(number_of(record.get("previous_value"))),
        "actual": _without(_shown(record, unit), unit),
        "target": format_number(number_of(record.get("target_used"))),
        "final_target": format_number(number_of(record.get("final_target"))),
        "final_target_shown": _with_unit(number_of(record.get("final_target")), unit),
        "rate": f"{rate:.0%}" if rate is not None else "",
        "yoy": f"{yoy:.0%}" if yoy is not None else "",
        "trend": _TREND_JA.get(text_of(record.get("trend")), ""),
        "implied_grade": text_of(record.get("implied_grade")),
    }


def _year_labels(plan: Plan, years: list[int]) -> list[dict[str, Any]]:
    """Return each year's labels; a plan's baseline year is headed 「…（現状値）」."""
    baselines = {m.baseline_year for i in plan.initiatives for m in i.indicators}
    return [
        {
            "year": y,
            "label": wareki_label(y),
            "western": f"{y}年度",
            "heading": f"{wareki_label(y)}（現状値）" if y in baselines else wareki_label(y),
        }
        for y in years
    ]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a frame's rows as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _without(shown: str, unit: str) -> str:
    """Return a value as shown, less the indicator's unit at its end (for unit columns)."""
    return shown.removesuffix(unit) if unit else shown


def _shown(record: dict[str, Any], unit: str = "") -> str:
    """Return an indicator value as the department typed it (「50.70%」「101組織」「－」).

    A bare number (what a number cell gives) is printed with thousands separators and
    ``unit``; a value with no number and no text shows its status word.
    """
    typed = text_of(record.get("original_text")).strip()
    if typed and not _BARE_NUMBER.fullmatch(typed):
        return typed
    value = number_of(record.get("value"))
    if value is not None:
        return f"{format_number(value)}{unit}"
    return text_of(record.get("status")) or typed


def format_number(value: float | None) -> str:
    """Return a number as printed: thousands separated, up to two decimals (2.09, 48.4)."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _with_unit(value: float | None, unit: str) -> str:
    return f"{format_number(value)}{unit}" if value is not None else ""
