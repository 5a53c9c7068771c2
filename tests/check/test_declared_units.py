"""Any unit the plan declares for an indicator is read after a number (「101組織」「2.13人/km」)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl.workbook.workbook import Workbook

from tasks.call.workbook import HEADER_ROW
from tasks.check.normalise import parse_numbers, with_declared_units
from tasks.check.submissions import check_submissions
from tasks.plan.load import load_plan
from tasks.workspace.folder import FolderStorage
from tests.helpers import archive_files, filled_workbook


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        # the plan's own unit, outside the shared list
        ("101組織", "組織", 101.0),
        # a compound unit, typed with the ㎞ sign (NFKC: km)
        ("2.13人/㎞", "人/km", 2.13),
        # full-width digits before it
        ("１０１組織", "組織", 101.0),
        # another indicator's unit is still not a number here
        ("101組織", "人", None),
        # the unit alone is no number
        ("組織", "組織", None),
        # NaN before the unit stays no number
        ("NaN組織", "組織", None),
    ],
)
def test_a_declared_unit_is_read(text: str, unit: str, value: float | None) -> None:
    """It reads a number followed by the indicator's declared unit, and nothing else."""
    cells = pd.Series([text])
    parsed = with_declared_units(cells, parse_numbers(cells), pd.Series([unit]))
    assert bool(parsed.loc[0, "ok"]) is (value is not None)
    if value is not None:
        assert parsed.loc[0, "value"] == value and parsed.loc[0, "unit"] == unit


def test_cells_the_shared_parser_reads_are_left_as_they_are() -> None:
    """It changes nothing the shared parser already read (4,510件, －, blank)."""
    cells = pd.Series(["4,510件", "－", None])
    parsed = parse_numbers(cells)
    again = with_declared_units(cells, parsed, pd.Series(["件", "件", "件"]))
    pd.testing.assert_frame_equal(again, parsed)


def test_a_department_typing_the_plans_unit_is_accepted(tmp_path: Path) -> None:
    """It accepts 「101組織」 for an indicator the plan counts in 組織 (西東京市's 防災市民組織)."""
    plan = load_plan("nishitokyo")

    def typed(workbook: Workbook) -> None:
        sheet = workbook[plan.submission.indicator_sheet_name]
        sheet.cell(row=HEADER_ROW + 1, column=9, value="101組織")

    storage = FolderStorage(tmp_path)
    data = filled_workbook(plan, "kiki-kanri", grade="A", edit=typed)
    batch = check_submissions(storage, plan, archive_files(storage, {"k": ("kiki-kanri", data)}))
    assert batch.rejected == frozenset()
    (value,) = batch.indicators["actual_value"].tolist()
    assert value == 101.0
