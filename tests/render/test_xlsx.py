"""Tests of the Excel 資料 on the real templates: text that looks like a formula stays text;
every sheet has its template's styles on each repeated row, its merges, widths and printed page.
"""

from __future__ import annotations

import io
import zipfile
from copy import copy
from itertools import groupby
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from lxml import etree
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.workbook.workbook import Workbook

from tasks.cycle.steps import check_pending, consolidate_year, render_shiryo, take_intake
from tasks.dataset.store import INDICATOR_KEY, KEY
from tasks.intake.ledger import Ledger
from tasks.plan.model import Plan
from tasks.render.report import build_report_context
from tasks.render.templates import template_source
from tasks.render.xlsx import render_committee_xlsx
from tasks.settings import TEMPLATES_DIR
from tasks.workspace.storage import open_storage
from tests.helpers import cell_of, filled_workbook

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
LOOKS_LIKE_FORMULAS = ["=1+1", "+81-3-1234-5678", "-5人（前年比）", "@担当者", '=HYPERLINK("x")']


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Render the 資料 of a workspace whose department typed formula-like text."""
    from tasks.plan.load import load_plan

    plan = load_plan("niigata-minami")
    workspace = tmp_path_factory.mktemp("formulas")

    def type_text(workbook: Workbook) -> None:
        for initiative, text in zip(["i049", "i050", "i051"], LOOKS_LIKE_FORMULAS, strict=False):
            cell = workbook["評価シート"][cell_of(plan, workbook, initiative, "コメント・課題等")]
            cell.value = text
            cell.data_type = "s"  # typed as text by the department ('=1+1 in Excel)
        for initiative, text in (
            ("i049", LOOKS_LIKE_FORMULAS[3]),
            ("i050", LOOKS_LIKE_FORMULAS[4]),
        ):
            remarks = workbook["評価シート"][cell_of(plan, workbook, initiative, "備考")]
            remarks.value, remarks.data_type = text, "s"

    target = workspace / "intake/2021/chiiki-somu/提出.xlsx"
    target.parent.mkdir(parents=True)
    target.write_bytes(filled_workbook(plan, "chiiki-somu", edit=type_text))
    take_intake(plan, open_storage(workspace), settle_seconds=0)
    summary = check_pending(plan, open_storage(workspace))
    assert [f.status for f in summary.files] == ["accepted"]
    consolidate_year(plan, open_storage(workspace))
    render_shiryo(plan, open_storage(workspace))
    return next(workspace.glob("reports/2021/*.xlsx"))


def test_formula_like_text_is_written_as_text(rendered: Path, minami: Plan) -> None:
    """It writes text starting with =, +, - or @ as a string cell, never as a formula."""
    workbook = load_workbook(rendered)
    found = {
        cell.value: cell.data_type
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value in LOOKS_LIKE_FORMULAS
    }
    assert set(found) == set(LOOKS_LIKE_FORMULAS)
    assert set(found.values()) == {"s"}
    formulas = [
        cell.coordinate
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []


def test_the_header_names_the_document(rendered: Path) -> None:
    """It fills the printed header with the 資料番号, not the template's tag."""
    workbook = load_workbook(rendered)
    assert {sheet.oddHeader.right.text for sheet in workbook.worksheets} == {"資料1"}


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_a_misspelt_name_in_a_template_is_an_error(
    rendered: Path, tmp_path: Path, minami: Plan, suffix: str
) -> None:
    """It refuses a template naming something the report does not have, instead of a blank."""
    import zipfile

    from tasks.cycle.steps import build_report_context_for
    from tasks.errors import RenderError
    from tasks.render.docx import render_committee_docx
    from tasks.render.xlsx import render_committee_xlsx
    from tasks.settings import TEMPLATES_DIR

    source = TEMPLATES_DIR / "hyoka" / f"shiryo{suffix}"
    broken = tmp_path / f"broken{suffix}"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(broken, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            copy.writestr(item, data.replace(b"row.summary", b"row.sumary"))
    render = render_committee_xlsx if suffix == ".xlsx" else render_committee_docx
    context = build_report_context_for(minami, open_storage(rendered.parents[2]))
    with pytest.raises(RenderError, match="sumary"):
        render(broken, context)


def test_a_word_template_that_is_not_a_docx_is_named_in_japanese(tmp_path: Path) -> None:
    """It names the template and says what to do, rather than the library's English error."""
    from tasks.errors import RenderError
    from tasks.render.docx import render_committee_docx

    template = tmp_path / "shiryo.docx"
    template.write_bytes(b"not a docx")
    with pytest.raises(RenderError, match="Word のテンプレートを読めません") as raised:
        render_committee_docx(template, {})
    assert str(template) in str(raised.value)


def _context(plan: Plan) -> dict[str, Any]:
    """The report context of a year with no submission yet (every row 未提出)."""
    return build_report_context(
        plan,
        pd.DataFrame(columns=KEY),
        pd.DataFrame(columns=INDICATOR_KEY),
        pd.DataFrame(columns=[*INDICATOR_KEY, "value"]),
        Ledger(fiscal_year=plan.fiscal_year.current),
    )


@pytest.fixture(scope="module")
def hyoka(minami: Plan) -> tuple[dict[str, Any], Workbook]:
    """The 評価シート template rendered: its context (one long comment) and the workbook."""
    context = _context(minami)
    first = context["goals"][0]["rows"][0]
    first["comment"] = "地域の見守り活動を広げ、担い手の研修を重ねた。" * 6 + "\n次年度も続ける。"
    return context, load_workbook(io.BytesIO(render_committee_xlsx("hyoka/shiryo.xlsx", context)))


def _style(cell: Any) -> tuple[Any, ...]:
    # copy: the styles themselves, not the proxies that each workbook hands out
    return (
        *(copy(s) for s in (cell.font, cell.fill, cell.border, cell.alignment)),
        cell.number_format,
    )


def _runs(labels: list[str], first_row: int) -> list[tuple[int, int]]:
    """Return the (first, last) rows of each run of two or more equal labels."""
    runs, row = [], first_row
    for _, group in groupby(labels):
        length = len(list(group))
        if length > 1:
            runs.append((row, row + length - 1))
        row += length
    return runs


def test_each_goal_has_its_sheet_and_rows(hyoka: tuple[dict[str, Any], Workbook]) -> None:
    """It writes the 様式 sheet once per 基本目標, named after it, a row per listed initiative."""
    context, workbook = hyoka
    goals = context["goals"]
    assert workbook.sheetnames == [f"{g['no']}_{g['title']}"[:31] for g in goals]
    for sheet, goal in zip(workbook.worksheets, goals, strict=True):
        assert sheet.max_row == 4 + len(goal["rows"])
        assert [sheet.cell(5 + i, 2).value for i in range(len(goal["rows"]))] == [
            row["name"] for row in goal["rows"]
        ]
        assert sheet["A1"].value == f"{context['levels'][0]}　{goal['title']}"


def test_repeated_rows_take_the_template_rows_style(
    hyoka: tuple[dict[str, Any], Workbook],
) -> None:
    """It styles every repeated cell as the template row's (fonts, fill, borders, wrap)."""
    _, workbook = hyoka
    template = load_workbook(TEMPLATES_DIR / "hyoka/shiryo.xlsx")["様式"]
    expected = {cell.column: _style(cell) for cell in template[5]}
    headers = {cell.column: _style(cell) for cell in template[4]}
    for sheet in workbook.worksheets:
        assert {c.column: _style(c) for c in sheet[4]} == headers
        merged_below = {
            (row, column)
            for merged in sheet.merged_cells.ranges
            for row, column in merged.cells
            if row > merged.min_row
        }
        for row in sheet.iter_rows(min_row=5):
            for cell in row:
                if (cell.row, cell.column) not in merged_below:
                    assert _style(cell) == expected[cell.column], cell.coordinate


def test_vmerge_merges_each_run_of_a_target(hyoka: tuple[dict[str, Any], Workbook]) -> None:
    """It merges equal 目標 labels down column A, the label once, the borders round the merge."""
    context, workbook = hyoka
    template_border = load_workbook(TEMPLATES_DIR / "hyoka/shiryo.xlsx")["様式"]["A5"].border
    merged_somewhere = False
    for sheet, goal in zip(workbook.worksheets, context["goals"], strict=True):
        labels = [row["target_label"] for row in goal["rows"]]
        runs = _runs(labels, 5)
        merged_somewhere |= bool(runs)
        assert sorted(str(r) for r in sheet.merged_cells.ranges) == sorted(
            f"A{first}:A{last}" for first, last in runs
        )
        for first, last in runs:
            assert sheet[f"A{first}"].value == labels[first - 5]
            assert all(sheet[f"A{row}"].value is None for row in range(first + 1, last + 1))
            assert sheet[f"A{last}"].border.bottom == template_border.bottom
            assert sheet[f"A{last}"].border.left == template_border.left
    assert merged_somewhere


def test_the_printed_page_is_the_templates(
    hyoka: tuple[dict[str, Any], Workbook], minami: Plan
) -> None:
    """It keeps widths, paper, fit to one page wide, print titles, panes, header and footer."""
    _, workbook = hyoka
    template = load_workbook(TEMPLATES_DIR / "hyoka/shiryo.xlsx")["様式"]
    widths = {k: d.width for k, d in template.column_dimensions.items()}
    for sheet in workbook.worksheets:
        assert {k: d.width for k, d in sheet.column_dimensions.items()} == widths
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.paperSize == template.page_setup.paperSize == 8  # A3
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert sheet.print_title_rows == "$4:$4"
        assert sheet.freeze_panes == "B5"
        assert sheet.row_dimensions[4].height == template.row_dimensions[4].height
        assert sheet.oddHeader.right.text == minami.report.document_number
        assert sheet.oddFooter.center.text == "&P / &N"


def test_a_repeated_row_is_as_tall_as_its_text(hyoka: tuple[dict[str, Any], Workbook]) -> None:
    """It gives each repeated row a height, the long comment's row the tallest."""
    _, workbook = hyoka
    first = workbook.worksheets[0]
    heights = [first.row_dimensions[r].height for r in range(5, first.max_row + 1)]
    assert all(heights) and heights[0] == max(heights) and heights[0] > 2 * min(heights)


def test_a_text_longer_than_a_cell_holds_is_cut_visibly(minami: Plan) -> None:
    """It cuts a text at Excel's 32,767 characters and ends it with "…" (never silently)."""
    context = _context(minami)
    context["goals"][0]["rows"][0]["comment"] = "長" * 40_000
    workbook = load_workbook(io.BytesIO(render_committee_xlsx("hyoka/shiryo.xlsx", context)))
    comment = workbook.worksheets[0]["I5"].value
    assert len(comment) == 32_767 and comment.endswith("長…")


def test_rendering_twice_gives_the_same_bytes(minami: Plan) -> None:
    """It writes the same bytes from the same context (fixed document times)."""
    context = _context(minami)
    first = render_committee_xlsx("hyoka/shiryo.xlsx", context)
    assert render_committee_xlsx("hyoka/shiryo.xlsx", context) == first


def _plan_layout(plan: Plan) -> Plan:
    """The plan without an Excel template: its own layout, with 集計 and 提出状況 sheets."""
    sections = ["grade_summary", "submission_status", "tables"]
    report = plan.report.model_copy(update={"xlsx_template": None, "sections": sections})
    return plan.model_copy(update={"report": report})


def test_a_section_without_data_has_no_sheet(minami: Plan) -> None:
    """It leaves out 集計 when no grade was given, and keeps 提出状況 while some are missing."""
    plan = _plan_layout(minami)
    context = _context(plan)
    workbook = load_workbook(
        io.BytesIO(render_committee_xlsx(template_source(plan, "xlsx"), context))
    )
    assert "集計" not in workbook.sheetnames and workbook.sheetnames[0] == "提出状況"
    assert workbook["提出状況"].max_row == 3 + len(context["missing"])


def test_numbers_stay_numbers_and_text_stays_text(minami: Plan) -> None:
    """It writes counts as numbers and formula-like text as text, in the cells and header."""
    plan = _plan_layout(minami)
    context = _context(plan)
    context["shown"] = [*context["shown"], "grade_summary"]
    context["goals"][0]["counts"] = [2, 1, 0, 3]
    context["municipality"] = "=SUM(A1)"
    context["document_number"] = "資料1&2"
    data = render_committee_xlsx(template_source(plan, "xlsx"), context)
    workbook = load_workbook(io.BytesIO(data))
    summary = workbook["集計"]
    counts: list[Cell] = list(summary[4])[1:5]
    assert [(c.value, c.data_type) for c in counts] == [(2, "n"), (1, "n"), (0, "n"), (3, "n")]
    assert summary["A1"].value.startswith("=SUM(A1) ") and summary["A1"].data_type == "s"
    # A header's & doubled: "&2" would be read as a font size.
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        headers = {
            etree.fromstring(package.read(n)).findtext(f".//{_MAIN}oddHeader") for n in sheets
        }
    assert headers == {"&R資料1&&2"}
