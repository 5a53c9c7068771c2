"""Tests of achievement rates, implied grades, trends and grade disagreement."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tasks.dataset.achievement import (
    achievement_rate,
    grade_agreement,
    implied_grade,
    progress,
    trend,
    with_achievement,
)
from tasks.plan.model import Plan


@pytest.mark.parametrize(
    ("rate", "grade"),
    [
        (1.20, "A"),  # beyond the target
        (0.90, "A"),  # exactly the A threshold (概ね90％以上)
        (0.8999, "B"),  # just under A
        (0.75, "B"),
        (0.70, "C"),  # 子育て広場 38回 of 54回 planned: the seed's own grade is C
        (0.50, "C"),
        (0.49, "D"),  # below every threshold: the grade without a rate
        (0.0, "D"),  # nothing done
        (None, None),  # no number, no grade
    ],
)
def test_it_implies_the_grade_from_the_plans_thresholds(
    minami: Plan, rate: float | None, grade: str | None
) -> None:
    """It gives the best grade whose threshold the rate reaches."""
    assert implied_grade(rate, minami.grade_scale) == grade


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        (38, 54, "higher", 38 / 54),  # plain 実績/目標
        (1100, 1100, "lower", 1.0),  # lower is better, target met exactly
        (1200, 1100, "lower", 1100 / 1200),  # lower is better, missed
        (0, 10, "lower", 1.0),  # lower is better and nothing happened: met
        (5, 0, "higher", None),  # a zero target has no ratio
        (None, 54, "higher", None),  # text only (中止): nothing invented
        (38, None, "higher", None),  # no target
    ],
)
def test_it_rates_achievement_both_ways(
    value: float | None, target: float | None, direction: str, expected: float | None
) -> None:
    """It makes 1.0 mean "target met" whether higher or lower is better."""
    rate = achievement_rate(value, target, direction)
    if expected is None:
        assert rate is None
    else:
        assert rate is not None and math.isclose(rate, expected)


def test_it_measures_progress_from_the_baseline() -> None:
    """It measures the way from 現状値 to 目標値, the same formula for both directions."""
    assert progress(38, 33, 54) == pytest.approx(5 / 21)
    assert progress(1130, 1161, 1100) == pytest.approx(31 / 61)  # lower is better
    assert progress(10, 10, 10) is None
    assert progress(None, 10, 20) is None


@pytest.mark.parametrize(
    ("value", "previous", "direction", "expected"),
    [
        (38, 33, "higher", "improving"),
        (30, 33, "higher", "worsening"),
        (1100, 1161, "lower", "improving"),
        (33, 33, "higher", "flat"),
        (None, 33, "higher", None),
    ],
)
def test_it_reads_the_trend(
    value: float | None, previous: float | None, direction: str, expected: str | None
) -> None:
    """It says whether the value moved the good way since last year."""
    assert trend(value, previous, direction) == expected


def test_it_flags_a_self_evaluation_the_numbers_do_not_support(minami: Plan) -> None:
    """It adds the implied grade, 前年度比 and a disagreement flag to real-shaped rows."""
    indicators = pd.DataFrame(
        [
            # 子育て広場: 38 of 54 → C; the department said C.
            ("i002", "hiroba", "kenko-fukushi", 38.0, 54.0, None, 33.0, "higher"),
            # 出前講座: 0 of 12 → D; the department said A.
            ("i025", "demae", "kenko-fukushi", 0.0, 12.0, None, 8.0, "higher"),
            # 中止: text only, no number, no flag.
            ("i013", "koza", "shakyo", None, 10.0, None, 9.0, "higher"),
        ],
        columns=[
            "initiative_id",
            "indicator_id",
            "department_id",
            "value",
            "target",
            "final_target",
            "baseline",
            "direction",
        ],
    )
    previous = pd.DataFrame(
        [("i002", "hiroba", "kenko-fukushi", 33.0)],
        columns=["initiative_id", "indicator_id", "department_id", "value"],
    )
    rated = with_achievement(minami, indicators, previous)
    assert _texts(rated["implied_grade"]) == ["C", "D", None]
    assert rated.loc[0, "yoy_ratio"] == pytest.approx(38 / 33)
    assert rated.loc[0, "trend"] == "improving"
    assert "achievement_rate" not in indicators.columns  # the argument is left alone
    consolidated = pd.DataFrame(
        [
            ("i002", "kenko-fukushi", "C"),
            ("i025", "kenko-fukushi", "A"),
            ("i013", "shakyo", "B"),
            ("i001", "kenko-fukushi", "A"),
        ],
        columns=["initiative_id", "department_id", "grade"],
    )
    agreed = grade_agreement(minami, consolidated, rated)
    assert _texts(agreed["implied_grade"]) == ["C", "D", None, None]
    assert list(agreed["grade_disagrees"].astype(object)) == [False, True, pd.NA, pd.NA]


def _texts(column: pd.Series) -> list[str | None]:
    return [value if isinstance(value, str) else None for value in column]
