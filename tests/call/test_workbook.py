"""Tests of the submission workbook (調査票) and of reading it back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.call.workbook import (
    HEADER_ROW,
    IDENTITY_SHEET,
    PreviousValues,
    build_submission_workbook,
    field_label,
)
from tasks.check.read import read_submission
from tasks.errors import SubmissionError
from tasks.plan.model import Plan
from tests.helpers import filled_workbook


def test_it_lists_the_departments_initiatives_once(minami: Plan) -> None:
    """It writes one row per initiative of the department, 再掲 included only once."""
    workbook = load_workbook(io.BytesIO(build_submission_workbook(minami, "kenko-fukushi")))
    sheet = workbook[minami.submission.sheet_name]
    ids = [sheet.cell(row=r, column=1).value for r in range(HEADER_ROW + 1, sheet.max_row + 1)]
    assert ids == [i.id for i in minami.initiatives_of("kenko-fukushi")]
    assert len(ids) == len(set(ids))


def test_it_locks_structure_and_unlocks_inputs(minami: Plan) -> None:
    """It protects the sheet, leaves only the input cells unlocked, and offers a grade list."""
    workbook = load_workbook(io.BytesIO(build_submission_workbook(minami, "shakyo")))
    sheet = workbook[minami.submission.sheet_name]
    assert sheet.protection.sheet
    assert workbook.security is not None and workbook.security.lockStructure
    headers = {c.value: c.column for c in sheet[HEADER_ROW]}
    grade_col = headers[field_label(minami, "評価")]
    first = HEADER_ROW + 1
    assert sheet.cell(row=first, column=1).protection.locked
    assert not sheet.cell(row=first, column=grade_col).protection.locked
    (dropdown,) = sheet.data_validations.dataValidation
    assert dropdown.type == "list" and dropdown.formula1 == '"A,B,C,D"'
    assert workbook[IDENTITY_SHEET].sheet_state == "veryHidden"


def test_it_prefills_last_years_result(minami: Plan) -> None:
    """It shows last year's result beside this year's inputs, read-only."""
    previous = PreviousValues(results={("i001", "kenko-fukushi"): "健診 9回"}, indicators={})
    workbook = load_workbook(
        io.BytesIO(build_submission_workbook(minami, "kenko-fukushi", previous))
    )
    sheet = workbook[minami.submission.sheet_name]
    headers = {c.value: c.column for c in sheet[HEADER_ROW]}
    row = next(
        r
        for r in range(HEADER_ROW + 1, sheet.max_row + 1)
        if sheet.cell(row=r, column=1).value == "i001"
    )
    assert sheet.cell(row=row, column=headers["2020年度（実績）"]).value == "健診 9回"


def test_it_writes_the_same_bytes_twice(minami: Plan) -> None:
    """It is deterministic: the same plan gives the same workbook bytes."""
    assert build_submission_workbook(minami, "shakyo") == build_submission_workbook(
        minami, "shakyo"
    )


def test_it_reads_back_identity_rows_and_cells(minami: Plan) -> None:
    """It reads the identity, each row's values and where each column is."""
    read = read_submission(filled_workbook(minami, "chiiki-somu", grade="Ｂ"), minami)
    assert read.identity["department_id"] == "chiiki-somu"
    assert read.identity["fiscal_year"] == "2021"
    assert [r.values["initiative_id"] for r in read.records] == [
        i.id for i in minami.initiatives_of("chiiki-somu")
    ]
    assert read.records[0].values["grade"] == "Ｂ"  # folded later, kept as written here
    assert read.columns[minami.submission.sheet_name]["grade"] == "K"
    assert read.records[0].row == HEADER_ROW + 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # an empty file
        (b"", "空です"),
        # a CSV renamed to .xlsx
        ("事業ID,評価\ni001,A\n".encode(), "Excel ブック（.xlsx）ではありません"),
        # an encrypted workbook or a legacy .xls (both are OLE compound files)
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "パスワード"),
    ],
)
def test_it_refuses_what_is_not_a_submission(minami: Plan, data: bytes, expected: str) -> None:
    """It refuses a file that is not a workbook with a Japanese message saying what to do."""
    with pytest.raises(SubmissionError, match=expected):
        read_submission(data, minami)


def test_it_refuses_a_workbook_not_made_by_us(minami: Plan) -> None:
    """It refuses a plain workbook that lacks the embedded identity."""
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    with pytest.raises(SubmissionError, match="配布した調査票ではない"):
        read_submission(buffer.getvalue(), minami)


def test_it_names_a_renamed_sheet(minami: Plan) -> None:
    """It says which sheet is missing when a department renamed it."""

    def rename(workbook: object) -> None:
        workbook[minami.submission.sheet_name].title = "Sheet1"  # type: ignore[index]

    with pytest.raises(SubmissionError, match="シート「評価シート」が見つかりません"):
        read_submission(filled_workbook(minami, "shakyo", edit=rename), minami)


def test_indicator_inputs_keep_what_was_typed(minami: Plan) -> None:
    """It formats indicator inputs as text, so "91.1%" does not arrive as Excel's 0.911."""
    workbook = load_workbook(io.BytesIO(build_submission_workbook(minami, "kenko-fukushi")))
    sheet = workbook[minami.submission.indicator_sheet_name]
    assert {sheet.cell(row=r, column=9).number_format for r in range(6, sheet.max_row + 1)} == {"@"}


def test_last_years_result_comes_from_the_presets_result_field(tmp_path: Path) -> None:
    """It prefills 北本市's 調査票 from last year's 進捗状況 (its result field)."""
    import pandas as pd

    from tasks.dataset.store import previous_values, to_parquet
    from tasks.plan.load import load_plan
    from tasks.workspace.folder import FolderStorage

    plan = load_plan("kitamoto")
    storage = FolderStorage(tmp_path)
    frame = pd.DataFrame(
        {
            "initiative_id": ["i001"],
            "department_id": ["gakko-kyoiku"],
            "progress_text": ["実施済み"],
        }
    )
    storage.write_bytes("curated/2022/consolidated.parquet", to_parquet(frame))
    previous = previous_values(storage, 2022, plan.submission.result_key)
    assert previous.results == {("i001", "gakko-kyoiku"): "実施済み"}


def test_a_group_is_graded_on_its_first_row_only() -> None:
    """It asks for a group's grade on its first row and locks the others as （グループで評価）."""
    from tasks.call.workbook import GROUP_GRADED, group_graded_rows
    from tasks.plan.load import load_plan

    plan = load_plan("kitamoto")
    assert group_graded_rows(plan, "korei-kaigo") == {
        "i077": "i076",
        "i078": "i076",
        "i079": "i076",
        "i081": "i080",
    }
    workbook = load_workbook(io.BytesIO(build_submission_workbook(plan, "korei-kaigo")))
    sheet = workbook[plan.submission.sheet_name]
    column = next(c.column for c in sheet[HEADER_ROW] if c.value == plan.grade_scale.title)
    cells = {
        sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=column)
        for r in range(HEADER_ROW + 1, sheet.max_row + 1)
    }
    assert cells["i076"].value is None and not cells["i076"].protection.locked
    assert cells["i077"].value == GROUP_GRADED and cells["i077"].protection.locked
