"""One number parser: after Japanese normalisation only finite decimal numbers are numbers.

What a department's Excel stores as a number cell, and what it types as text where a number is
asked for, go through ``tasks.check.normalise``; a value that is no finite decimal number is a
要修正 naming its cell, never a "nan" or "inf" in the dataset.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tasks.check.cells import NOT_A_NUMBER_RULE
from tasks.check.normalise import parse_number, parse_numbers, parse_stored_number
from tasks.check.submissions import check_submissions
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tests import hostile
from tests.helpers import archive_files, filled_workbook

NOT_NUMBERS = [
    # not a number, in every spelling a tool writes it
    "NaN",
    "nan",
    # infinity, as Python and Excel's neighbours write it
    "inf",
    "-inf",
    "Infinity",
    # an exponent that overflows a float, and one that does not (still no decimal number)
    "1e999",
    "1e5",
    # the exponent in 全角, folded by NFKC to 1e9
    "１ｅ９",
    # hexadecimal
    "0x10",
    "0X1F",
    # 400 digits: a float of them is infinity
    "9" * 400,
    # NFKC makes digits out of these: 10² would read as 102, ① as 1, ⑩件 as 10件
    "10²",
    "①",
    "⑩件",
    # a fraction, and Python's digit separator
    "½",
    "1_000",
]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_only_finite_decimal_numbers_are_numbers(text: str) -> None:
    """It reads none of these as a number, one cell at a time and as a column alike."""
    assert parse_number(text).ok is False
    assert parse_number(text).value is None
    column = parse_numbers(pd.Series([text, "38"], dtype=object))
    assert column["ok"].tolist() == [False, True]
    assert pd.isna(column["value"].iloc[0])


@pytest.mark.parametrize(
    ("stored", "value"),
    [
        # as Excel writes numbers in <v>: integers, decimals, exponents
        ("38", 38.0),
        ("91.1", 91.1),
        ("1.5E-3", 0.0015),
        ("1E+20", 1e20),
        ("-0", -0.0),
        (".5", 0.5),
        # the largest finite double
        ("1.7976931348623157E+308", 1.7976931348623157e308),
        # none of these is a number
        ("NaN", None),
        ("INF", None),
        ("-Infinity", None),
        ("1e999", None),
        ("0x10", None),
        (" 12", None),
        ("12 ", None),
        ("1,000", None),
        ("", None),
    ],
)
def test_a_stored_number_is_a_finite_decimal(stored: str, value: float | None) -> None:
    """It reads a number cell's stored value only when it is a finite decimal number."""
    assert parse_stored_number(stored) == value


def test_number_cells_holding_no_number_are_fixed_by_cell(tmp_path: Path, minami: Plan) -> None:
    """It rejects NaN, 1e999, 0x10 and -INF in number cells with a 要修正 naming each cell."""
    storage = FolderStorage(tmp_path)
    data = hostile.numbers_not_numbers(filled_workbook(minami, "chiiki-somu"))
    entries = archive_files(storage, {"odd": ("chiiki-somu", data)})
    batch = check_submissions(storage, minami, entries)

    assert batch.rejected == {"odd"}
    by_cell = {f.cell: f for f in batch.findings}
    for cell, stored in hostile.NOT_NUMBERS_STORED.items():
        finding = by_cell[cell]
        assert finding.severity == "critical" and finding.rule == NOT_A_NUMBER_RULE
        assert finding.found == stored.decode()
        assert f"セル {cell} の値「{stored.decode()}」は数値として読み取れません" in finding.message
        assert finding.initiative_id is not None
    # One finding per cell: no second one about the same cell from the suites.
    assert len([f for f in batch.findings if f.cell in hostile.NOT_NUMBERS_STORED]) == 4
    # What is staged is the stored text, never a float's "nan" or "inf".
    texts = set(batch.main[["plan_text", "result_text"]].stack())
    assert {"NaN", "1e999", "0x10", "-INF"} <= texts
    assert not texts & {"nan", "inf", "-inf"}
    assert set(batch.main["row_state"].iloc[:2]) == {"要修正"}


def test_indicator_results_typed_as_no_number_are_fixed(tmp_path: Path, minami: Plan) -> None:
    """It rejects an indicator result typed as NaN, 1e999, 0x10 … with the cell named."""
    department = next(
        d.id
        for d in minami.departments
        if sum(len(i.indicators_of(d.id)) for i in minami.initiatives_of(d.id)) >= 2
    )
    storage = FolderStorage(tmp_path)
    files = {
        text.encode().hex()[:40] or "x": (
            department,
            hostile.indicator_texts(minami, department, [text, "38"]),
        )
        for text in hostile.NOT_NUMBER_TEXTS
    }
    batch = check_submissions(storage, minami, archive_files(storage, files))

    assert batch.rejected == set(files)
    for sha in files:
        (finding,) = [f for f in batch.findings if f.sha256 == sha]
        assert finding.severity == "critical" and finding.sheet == "指標"
        assert finding.cell == "I6"
        assert "を数値として読み取れません" in finding.message
    values = batch.indicators["actual_value"]
    assert not values.isin([float("inf"), float("-inf")]).any()
