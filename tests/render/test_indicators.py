"""The indicator table: values as the department typed them, years from the plan."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.plan.load import load_plan
from tasks.render.indicators import indicator_rows

PLAN = load_plan("nishitokyo")
INDICATOR = PLAN.initiatives[1].indicators[0]  # 自治会・町内会等の加入世帯数, unit 世帯


def _frame(
    year: int, value: float | None, typed: object, status: str | None = None
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "fiscal_year": year,
                "initiative_id": PLAN.initiatives[1].id,
                "indicator_id": INDICATOR.id,
                "department_id": PLAN.initiatives[1].departments[0],
                "indicator_name": INDICATOR.name,
                "unit": INDICATOR.unit,
                "value": value,
                "original_text": typed,
                "status": status,
            }
        ]
    )


@pytest.mark.parametrize(
    ("value", "typed", "status", "shown"),
    [
        # a number cell: separators and the plan's unit added
        (20135.0, "20135", None, "20,135世帯"),
        # typed with its unit and separators: as typed
        (20135.0, "20,135世帯", None, "20,135世帯"),
        # a rate with its trailing zero
        (50.7, "50.70%", None, "50.70%"),
        # a dash for "no value", as the seed prints it (not 値なし)
        (None, "－", "値なし", "－"),
        # full-width digits typed: as typed (the seed prints ２団体 beside 2団体)
        (101.0, "１０１組織", None, "１０１組織"),
        # nothing typed, no number: the status word
        (None, None, "事業休止", "事業休止"),
    ],
)
def test_a_value_is_printed_as_typed(
    value: float | None, typed: object, status: str | None, shown: str
) -> None:
    """It prints what the department typed, the number kept for rates beside it."""
    rows, _ = indicator_rows(PLAN, _frame(2019, value, typed, status), _frame(2017, None, None)[:0])
    assert rows[0]["series_shown"][-1] == shown


def test_the_year_columns_come_from_the_plan_in_its_first_year() -> None:
    """It gives the plan's years (baseline to this year) though no earlier year is known."""
    rows, years = indicator_rows(PLAN, _frame(2019, 513.0, "513"), _frame(2017, None, None)[:0])
    assert [y["year"] for y in years] == [2017, 2018, 2019]
    assert years[0]["heading"] == "平成29年度（現状値）"
    assert rows[0]["series_shown"] == ["", "", "513世帯"]
