"""Which sections of a 資料 are printed: those the preset lists that have data."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.plan.model import Plan
from tasks.render.sections import shown_sections


def _plan(minami: Plan, sections: list[str]) -> Plan:
    report = minami.report.model_copy(update={"sections": sections})
    return minami.model_copy(update={"report": report})


@pytest.mark.parametrize(
    ("sections", "context", "expected"),
    [
        # no grade given: neither 評価の集計 nor an empty chart
        (
            ["cover", "grade_summary", "grade_chart", "tables"],
            {"total": 0, "indicators": []},
            [("cover", False), ("tables", True)],
        ),
        # grades given: both, on the cover's page; the tables on a page of their own
        (
            ["cover", "grade_summary", "grade_chart", "tables"],
            {"total": 3, "indicators": []},
            [("cover", False), ("grade_summary", False), ("grade_chart", False), ("tables", True)],
        ),
        # a title heads the tables on the same page; the plan's order is kept
        (
            ["title", "tables", "indicator_summary"],
            {"total": 0, "indicators": [{"x": 1}]},
            [("title", False), ("tables", False), ("indicator_summary", True)],
        ),
        # no indicators, no notes, no overview in the plan: left out
        (
            ["indicator_summary", "notes", "overview", "tables"],
            {"total": 5, "indicators": []},
            [("tables", False)],
        ),
    ],
)
def test_it_prints_listed_sections_that_have_data(
    minami: Plan, sections: list[str], context: dict[str, Any], expected: list[tuple[str, bool]]
) -> None:
    """It keeps a listed section only when its data exist, in the listed order."""
    shown = shown_sections(_plan(minami, sections), context)
    assert [(s["key"], s["new_page"]) for s in shown] == expected
