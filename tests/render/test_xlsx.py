"""Tests of the Excel 資料: text that looks like a formula stays text."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from tasks.cycle.steps import check_pending, consolidate_year, render_shiryo, take_intake
from tasks.plan.model import Plan
from tasks.workspace.storage import open_storage
from tests.helpers import cell_of, filled_workbook

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
