"""The indicator table of the 資料: each indicator's values over the years, target and rate."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from tasks.dataset.values import number_of, text_of
from tasks.plan.fiscal_year import wareki_label
from tasks.plan.model import Plan
from tasks.plan.parts import Initiative
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
    return _with_runs(plan, rows), _year_labels(plan, years)


def _with_runs(plan: Plan, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the rows with ``starts``: where a run of equal cells begins, to merge the rest.

    ``goal``: the first row under a top goal; ``item``: the first of an initiative's rows
    (its measures); ``department``: the first of a department's rows within an initiative.
    """
    top: dict[str, str] = {}
    for placement in plan.placements():
        top.setdefault(placement.initiative.id, placement.goal_path[0].id)
    marked = []
    before: dict[str, Any] | None = None
    for row in rows:
        initiative = row["initiative_id"]
        same_goal = before is not None and top.get(before["initiative_id"]) == top.get(initiative)
        same_item = same_goal and before is not None and before["initiative_id"] == initiative
        same_department = (
            same_item and before is not None and before["department"] == row["department"]
        )
        starts = {"goal": not same_goal, "item": not same_item, "department": not same_department}
        marked.append({**row, "starts": starts})
        before = row
    return marked


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
    initiative = plan.initiative(str(record["initiative_id"]))
    indicator = next((m for m in initiative.indicators if m.id == record["indicator_id"]), None)
    unit = text_of(record.get("unit"))
    texts = [_without(_shown(series[y], unit), unit) if y in series else "" for y in years]
    final = number_of(record.get("final_target"))
    item, measure = _item_cells(initiative, str(record["indicator_name"]))
    return {
        "initiative_id": initiative.id,
        "initiative": initiative.name,
        "indicator": record["indicator_name"],
        "item": item,
        "measure": measure,
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
        "final_target": format_number(final),
        "final_target_shown": (indicator.final_target_text if indicator else "")
        or _with_unit(final, unit),
        "rate": f"{rate:.0%}" if rate is not None else "",
        "yoy": f"{yoy:.0%}" if yoy is not None else "",
        "trend": _TREND_JA.get(text_of(record.get("trend")), ""),
        "implied_grade": text_of(record.get("implied_grade")),
    }


def _item_cells(initiative: Initiative, indicator_name: str) -> tuple[str, str]:
    """Return the 項目 and the measure of an indicator row, as 西東京市 prints them.

    The 項目 is the initiative's name with its own note (``summary``: 「※１日１㎞あたりの
    輸送人員」) under it; the measure is the indicator's name where the initiative has several
    (参加団体数, 延べ利用者数 …), else empty. A single indicator named otherwise than its
    initiative, with no note, is named under the 項目.
    """
    note = initiative.summary
    item = f"{initiative.name}\n{note}" if note else initiative.name
    if len(initiative.indicators) > 1:
        return item, indicator_name
    if not note and indicator_name != initiative.name:
        item = f"{initiative.name}\n{indicator_name}"
    return item, ""


def _year_labels(plan: Plan, years: list[int]) -> list[dict[str, Any]]:
    """Return each year's labels; a plan's baseline year is headed 「…（現状値）」.

    ``caption`` is the heading as the seed prints it, a line each: the year (with
    （現状値）), its mark (``report.year_marks``, else ``report.year_mark``) and, for the
    reported year, 「（計画N年目）」 when the plan names its first year.
    """
    baselines = {m.baseline_year for i in plan.initiatives for m in i.indicators}
    current, first = plan.fiscal_year.current, plan.fiscal_year.first
    labels = []
    for y in years:
        heading = f"{wareki_label(y)}（現状値）" if y in baselines else wareki_label(y)
        mark = plan.report.year_marks.get(y, plan.report.year_mark if y <= current else "")
        plan_year = f"（計画{y - first + 1}年目）" if first is not None and y == current else ""
        labels.append(
            {
                "year": y,
                "label": wareki_label(y),
                "western": f"{y}年度",
                "heading": heading,
                "mark": mark,
                "plan_year": plan_year,
                "caption": "\n".join(part for part in (heading, mark, plan_year) if part),
            }
        )
    return labels


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a frame's rows as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _without(shown: str, unit: str) -> str:
    """Return a value as shown, less the indicator's unit at its end (for unit columns)."""
    return shown.removesuffix(unit) if unit else shown


def _shown(record: dict[str, Any], unit: str = "") -> str:
    """Return an indicator value as the department typed it (「50.70%」「101組織」「－」).

    A bare number (what a number cell gives) is printed with thousands separators and
    ``unit`` (and the decimals typed: 「50.70」); a value with no number and no text shows its
    status word.
    """
    typed = text_of(record.get("original_text")).strip()
    if typed and not _BARE_NUMBER.fullmatch(typed):
        return typed
    value = number_of(record.get("value"))
    if value is not None:
        decimals = len(typed.partition(".")[2]) if "." in typed else None
        return f"{format_number(value, decimals)}{unit}"
    return text_of(record.get("status")) or typed


def format_number(value: float | None, decimals: int | None = None) -> str:
    """Return a number as printed: thousands separated, up to two decimals (2.09, 48.4).

    ``decimals`` keeps as many as were typed (「50.70」 stays 50.70).
    """
    if value is None:
        return ""
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _with_unit(value: float | None, unit: str) -> str:
    return f"{format_number(value)}{unit}" if value is not None else ""
