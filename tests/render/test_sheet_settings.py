"""Tests of the settings an output sheet takes over from its template sheet, as rows move.

A coordinator's template has more than the shipped ones: a note under the table (merged,
taller), a merge within the repeated row, a grade validation and a conditional format on the
grade column, a print area, a page break, headers naming the goal, a logo and a picture under
the table. Each follows the rows.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import PIL.Image
import pytest
from openpyxl import load_workbook
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break

from tasks.dataset.store import INDICATOR_KEY, KEY
from tasks.intake.ledger import Ledger
from tasks.plan.model import Plan
from tasks.render.report import build_report_context
from tasks.render.xlsx import render_committee_xlsx
from tasks.settings import REPO_ROOT, TEMPLATES_DIR


def _coordinators_template(path: Path) -> Path:
    """The 評価シート template with what a coordinator may add in Excel."""
    workbook = load_workbook(TEMPLATES_DIR / "hyoka/shiryo.xlsx")
    sheet = workbook["様式"]
    sheet["K4"] = "欄外"
    sheet.merge_cells("J5:K5")  # within the repeated row: on every copy of it
    sheet["A7"] = "注：{{ municipality }}の記入による"
    sheet.merge_cells("A7:C7")
    sheet.row_dimensions[7].height = 30
    grades = DataValidation(type="list", formula1='"A,B,C,D"')
    grades.add("H5")
    sheet.add_data_validation(grades)
    red = PatternFill("solid", fgColor="FFC7CE")
    sheet.conditional_formatting.add("H5", CellIsRule(operator="equal", formula=['"D"'], fill=red))
    sheet.print_area = "A1:K7"
    sheet.row_breaks.append(Break(id=6))
    sheet.oddHeader.left.text = "{{ goal.title }}"
    sheet.evenHeader.center.text = "{{ municipality }} &P"
    for anchor, colour in (("L1", "red"), ("A8", "blue")):
        png = io.BytesIO()
        PIL.Image.new("RGB", (40, 20), colour).save(png, format="PNG")
        sheet.add_image(Image(png), anchor)
    workbook.save(path)
    return path


@pytest.fixture(scope="module")
def context(minami: Plan) -> dict[str, Any]:
    """The report context of a year with no submission yet (every row 未提出)."""
    return build_report_context(
        minami,
        pd.DataFrame(columns=KEY),
        pd.DataFrame(columns=INDICATOR_KEY),
        pd.DataFrame(columns=[*INDICATOR_KEY, "value"]),
        Ledger(fiscal_year=minami.fiscal_year.current),
    )


@pytest.fixture(scope="module")
def rendered(
    context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Workbook]:
    """The coordinator's template rendered: the context and the workbook."""
    template = _coordinators_template(tmp_path_factory.mktemp("template") / "shiryo.xlsx")
    return context, load_workbook(io.BytesIO(render_committee_xlsx(template, context)))


def test_what_lies_below_the_table_moves_down(rendered: tuple[dict[str, Any], Workbook]) -> None:
    """It writes the note under each goal's last row, merged and as tall as in the template."""
    context, workbook = rendered
    for sheet, goal in zip(workbook.worksheets, context["goals"], strict=True):
        note = 7 + len(goal["rows"]) - 1
        assert sheet[f"A{note}"].value == f"注：{context['municipality']}の記入による"
        assert f"A{note}:C{note}" in {str(r) for r in sheet.merged_cells.ranges}
        assert sheet.row_dimensions[note].height == 30
        assert [b.id for b in sheet.row_breaks.brk] == [note - 1]


def test_a_merge_in_the_repeated_row_is_on_every_copy(
    rendered: tuple[dict[str, Any], Workbook],
) -> None:
    """It merges J:K on every repeated row, as the template's row is merged."""
    context, workbook = rendered
    for sheet, goal in zip(workbook.worksheets, context["goals"], strict=True):
        merged = {str(r) for r in sheet.merged_cells.ranges}
        rows = range(5, 5 + len(goal["rows"]))
        assert {f"J{r}:K{r}" for r in rows} <= merged
        assert sheet["K4"].value == "欄外"


def test_ranges_over_the_repeated_row_grow_with_it(
    rendered: tuple[dict[str, Any], Workbook],
) -> None:
    """It extends the grade list, its conditional format and the print area over every row."""
    context, workbook = rendered
    for sheet, goal in zip(workbook.worksheets, context["goals"], strict=True):
        last = 5 + len(goal["rows"]) - 1
        (validation,) = sheet.data_validations.dataValidation
        assert (str(validation.sqref), validation.formula1) == (f"H5:H{last}", '"A,B,C,D"')
        (formatting,) = list(sheet.conditional_formatting)
        assert str(formatting.sqref) == f"H5:H{last}"
        assert formatting.rules[0].formula == ['"D"']
        assert sheet.print_area == f"'{sheet.title}'!$A$1:$K${last + 2}"


def test_headers_name_each_sheets_goal(rendered: tuple[dict[str, Any], Workbook]) -> None:
    """It renders every header and footer part with the sheet's own goal, codes kept."""
    context, workbook = rendered
    for sheet, goal in zip(workbook.worksheets, context["goals"], strict=True):
        assert sheet.oddHeader.left.text == goal["title"]
        assert sheet.evenHeader.center.text == f"{context['municipality']} &P"
        assert sheet.oddFooter.center.text == "&P / &N"


def test_pictures_stay_by_the_table(rendered: tuple[dict[str, Any], Workbook]) -> None:
    """It keeps the logo where it was and the picture under the table under the last row."""
    context, workbook = rendered
    for sheet, goal in zip(workbook.worksheets, context["goals"], strict=True):
        rows = sorted((image.anchor._from.row, image.anchor._from.col) for image in sheet._images)
        assert rows == [(0, 11), (7 + len(goal["rows"]) - 1, 0)]  # from 0: L1, and A8 moved
        assert {(image.width, image.height) for image in sheet._images} == {(40, 20)}


def test_the_same_template_gives_the_same_bytes(context: dict[str, Any], tmp_path: Path) -> None:
    """It writes the same bytes twice from a template with pictures, rules and merges."""
    template = _coordinators_template(tmp_path / "shiryo.xlsx")
    assert render_committee_xlsx(template, context) == render_committee_xlsx(template, context)


_RENDER_IN_ANOTHER_PROCESS = """
import pickle, sys
from pathlib import Path
from tasks.render.xlsx import render_committee_xlsx
context = pickle.loads(Path(sys.argv[2]).read_bytes())
Path(sys.argv[3]).write_bytes(render_committee_xlsx(Path(sys.argv[1]), context))
"""


def test_every_process_writes_the_same_bytes(context: dict[str, Any], tmp_path: Path) -> None:
    """Processes with different string hashes (each run of shiryo is one) write the same
    bytes: openpyxl keeps the merged ranges in a set, which must not set their order."""
    template = _coordinators_template(tmp_path / "shiryo.xlsx")
    pickled = tmp_path / "context.pickle"
    pickled.write_bytes(pickle.dumps(context))
    outputs = []
    for seed in ("1", "2", "3"):
        out = tmp_path / f"seed-{seed}.xlsx"
        environment = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO_ROOT)}
        subprocess.run(
            [
                sys.executable,
                "-c",
                _RENDER_IN_ANOTHER_PROCESS,
                str(template),
                str(pickled),
                str(out),
            ],
            check=True,
            env=environment,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
