"""Achievement (達成状況): rates, the grade the numbers imply, trends, disagreements.

For a numeric indicator with a target:

- ``achievement_rate`` is 実績/目標 when higher is better and 目標/実績 when lower is better,
  so that 1.0 always means "target met" and the plan's thresholds (A ≥ 0.9 …) apply as written;
- ``progress`` is how far the value moved from the baseline (現状値) toward the target:
  (実績 − 現状値) / (目標 − 現状値), the same formula for both directions;
- ``implied_grade`` is the best grade whose ``min_rate`` the rate reaches, else the scale's
  grade without a rate (such as ``D ほとんど実施せず``);
- ``yoy_ratio`` (前年度比) is 実績/前年度実績, and ``trend`` says whether the value moved the
  good way (``improving``), the bad way (``worsening``) or not at all (``flat``).

Where a value is text only (中止, －) every derived number stays empty: nothing is invented.
"""

from __future__ import annotations

import math

import pandas as pd

from tasks.plan.model import Plan
from tasks.plan.parts import GradeScale

DERIVED_COLUMNS = [
    "target_used",
    "target_kind",
    "achievement_rate",
    "progress",
    "implied_grade",
    "previous_value",
    "yoy_ratio",
    "trend",
]


def implied_grade(rate: float | None, scale: GradeScale) -> str | None:
    """Return the grade a rate earns on the scale, or None without a rate."""
    if rate is None or math.isnan(rate) or not scale.has_thresholds:
        return None  # a scale in words only implies no grade
    for grade in scale.grades:
        if grade.min_rate is not None and rate >= grade.min_rate - 1e-9:
            return grade.code
    floor = [g.code for g in scale.grades if g.min_rate is None]
    return floor[-1] if floor else scale.grades[-1].code


def achievement_rate(value: float | None, target: float | None, direction: str) -> float | None:
    """Return the rate at which the target is met (1.0 = met), or None if it has no meaning."""
    if value is None or target is None or _missing(value) or _missing(target):
        return None
    if direction == "lower":
        if value <= 0:
            return 1.0 if target >= value else None
        return target / value
    if target == 0:
        return None
    return value / target


def progress(value: float | None, baseline: float | None, target: float | None) -> float | None:
    """Return how far the value went from the baseline toward the target (1.0 = reached)."""
    if any(v is None or _missing(v) for v in (value, baseline, target)):
        return None
    assert value is not None and baseline is not None and target is not None
    if target == baseline:
        return None
    return (value - baseline) / (target - baseline)


def trend(value: float | None, previous: float | None, direction: str) -> str | None:
    """Return improving, worsening or flat compared with the year before."""
    if value is None or previous is None or _missing(value) or _missing(previous):
        return None
    if value == previous:
        return "flat"
    better = value > previous if direction == "higher" else value < previous
    return "improving" if better else "worsening"


def with_achievement(plan: Plan, indicators: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Return the indicator rows with the derived columns added (a new frame).

    ``indicators`` needs value, target, final_target, baseline and direction columns;
    ``previous`` is last year's indicator rows (may be empty).
    """
    before = {
        (str(r["initiative_id"]), str(r["indicator_id"]), str(r["department_id"])): _num(
            r.get("value")
        )
        for r in previous.to_dict("records")
    }
    rows = []
    for record in indicators.to_dict("records"):
        value = _num(record.get("value"))
        yearly = _num(record.get("target"))
        target = yearly if yearly is not None else _num(record.get("final_target"))
        direction = str(record.get("direction") or "higher")
        rate = achievement_rate(value, target, direction)
        prior = before.get(
            (
                str(record["initiative_id"]),
                str(record["indicator_id"]),
                str(record["department_id"]),
            )
        )
        rows.append(
            {
                "target_used": target,
                "target_kind": None
                if target is None
                else ("yearly" if yearly is not None else "final"),
                "achievement_rate": rate,
                "progress": progress(value, _num(record.get("baseline")), target),
                "implied_grade": implied_grade(rate, plan.grade_scale),
                "previous_value": prior,
                "yoy_ratio": value / prior if value is not None and prior else None,
                "trend": trend(value, prior, direction),
            }
        )
    derived = pd.DataFrame(rows, columns=DERIVED_COLUMNS, index=indicators.index)
    for column in ("target_used", "achievement_rate", "progress", "previous_value", "yoy_ratio"):
        derived[column] = derived[column].astype("float64")
    return pd.concat([indicators, derived], axis=1)


def grade_agreement(
    plan: Plan, consolidated: pd.DataFrame, indicators: pd.DataFrame
) -> pd.DataFrame:
    """Return the consolidated rows with the implied grade and a disagreement flag (new frame).

    An initiative's rate is the mean rate of the indicators its department reports;
    ``grade_disagrees`` is True where the department's own grade differs from the implied one,
    and empty where either is missing.
    """
    rates: dict[tuple[str, str], list[float]] = {}
    for record in indicators.to_dict("records"):
        rate = _num(record.get("achievement_rate"))
        if rate is not None:
            key = (str(record["initiative_id"]), str(record["department_id"]))
            rates.setdefault(key, []).append(rate)
    grade_key = plan.submission.grade_key
    mean_rates, implied, disagrees = [], [], []
    for record in consolidated.to_dict("records"):
        found = rates.get((str(record["initiative_id"]), str(record["department_id"])))
        rate = sum(found) / len(found) if found else None
        grade = implied_grade(rate, plan.grade_scale)
        own = record.get(grade_key)
        mean_rates.append(rate)
        implied.append(grade)
        disagrees.append(None if grade is None or not isinstance(own, str) else own != grade)
    result = consolidated.copy()
    result["achievement_rate"] = pd.Series(mean_rates, index=result.index, dtype="float64")
    result["implied_grade"] = pd.Series(implied, index=result.index, dtype="object")
    result["grade_disagrees"] = pd.Series(disagrees, index=result.index, dtype="boolean")
    return result


def _num(value: object) -> float | None:
    if value is None or isinstance(value, str):
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _missing(value: float) -> bool:
    return math.isnan(value)
