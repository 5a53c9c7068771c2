"""The indicator table: values as the department typed them, years from the plan."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.plan.load import load_plan, plan_for_year
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


def _plan_rows() -> pd.DataFrame:
    """One value for each of the plan's indicators, in id order (not the plan's)."""
    rows = [
        {
            "fiscal_year": 2019,
            "initiative_id": initiative.id,
            "indicator_id": indicator.id,
            "department_id": initiative.departments[0],
            "indicator_name": indicator.name,
            "unit": indicator.unit,
            "value": 1.0,
            "original_text": "1",
            "final_target": indicator.final_target,
        }
        for initiative in PLAN.initiatives
        for indicator in initiative.indicators
    ]
    return pd.DataFrame(rows).sort_values(["initiative_id", "indicator_id"])


def test_a_measure_is_named_beside_its_item_and_merged_under_it() -> None:
    """It prints a 項目 once over its measures, with its own note, in the plan's order."""
    rows, _ = indicator_rows(PLAN, _plan_rows(), _frame(2017, None, None)[:0])
    by_measure = [(r["item"], r["measure"], r["starts"]["item"]) for r in rows]
    fureai = "ふれあいのまちづくり事業における地域活動拠点"
    assert by_measure[2:5] == [
        (fureai, "参加団体数", True),
        (fureai, "延べ利用者数", False),
        (fureai, "延べ利用回数", False),
    ]
    # a 項目 with one measure: no measure cell; its own note under its name (西東京市's はなバス)
    assert by_measure[0] == ("ボランティア・市民活動センターの登録者数", "", True)
    assert by_measure[-1] == ("はなバス輸送人員\n※１日１㎞あたりの輸送人員", "", True)
    starts = [(r["initiative_id"], r["starts"]["goal"]) for r in rows]
    # 基本目標２ covers i02, i03 (three measures) and i04 (two): one goal cell over six rows
    assert [s for _, s in starts[1:7]] == [True, False, False, False, False, False]
    assert all(r["starts"]["department"] == r["starts"]["item"] for r in rows)


def test_the_year_headings_carry_the_seeds_marks() -> None:
    """It heads the years as the seed does: ※１※２, ※２ and （計画1年目） from plan.yaml."""
    _, years = indicator_rows(PLAN, _plan_rows(), _frame(2017, None, None)[:0])
    assert [y["caption"] for y in years] == [
        "平成29年度（現状値）\n※１※２",
        "平成30年度\n※１※２",
        "令和元年度\n※２\n（計画1年目）",
    ]
    moved = plan_for_year(PLAN, 2020)
    _, later = indicator_rows(moved, _plan_rows().assign(fiscal_year=2020), _frame(2017, 1, 1)[:0])
    assert later[-1]["caption"] == "令和2年度\n※２\n（計画2年目）"


def test_the_final_target_is_printed_as_the_plan_book_prints_it() -> None:
    """It prints 58.40% where the plan says so, and other targets with their unit."""
    rows, _ = indicator_rows(PLAN, _plan_rows(), _frame(2017, None, None)[:0])
    targets = {r["indicator"]: r["final_target_shown"] for r in rows}
    assert targets["高齢者層における地域包括支援センター認知度"] == "58.40%"
    assert targets["自治会・町内会等の加入世帯数"] == "20,186世帯"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("2.10", "2.10世帯"),  # trailing zero typed in a text cell: kept
        ("20135", "20,135世帯"),  # a whole number: separators added
        ("2.1", "2.1世帯"),
    ],
)
def test_a_bare_number_keeps_the_decimals_typed(typed: str, shown: str) -> None:
    """It prints as many decimals as the department typed."""
    rows, _ = indicator_rows(PLAN, _frame(2019, float(typed), typed), _frame(2017, 1, 1)[:0])
    assert rows[0]["series_shown"][-1] == shown
