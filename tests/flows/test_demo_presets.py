"""Every shipped preset runs its demo end to end and its 資料 hold the seed's rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.cycle.demo import load_demo
from tasks.cycle.steps import render_shiryo
from tasks.plan.load import list_presets, load_plan
from tasks.render.docx import docx_text
from tasks.workspace.storage import open_storage
from tests.conftest import DemoRuns

pytestmark = pytest.mark.scenario

OTHER_PRESETS = [name for name in list_presets() if name != "niigata-minami"]


@pytest.fixture(scope="module", params=OTHER_PRESETS)
def preset_run(request: pytest.FixtureRequest, demo_runs: DemoRuns) -> tuple[str, Path]:
    """One preset's demo run: the session's, with PDF copies, which tests/render/
    test_sections_pdf.py reads too (its Word and Excel 資料 are those of a run without)."""
    return request.param, demo_runs.get(request.param, pdf=True).folder


def _reports(workspace: Path) -> dict[str, Path]:
    """Return the Word and Excel 資料 by suffix (their PDF copies aside)."""
    found = sorted(workspace.glob("reports/*/*"))
    return {p.suffix: p for p in found if p.suffix in (".docx", ".xlsx")}


def test_every_initiative_is_in_both_documents(preset_run: tuple[str, Path]) -> None:
    """It shows every initiative of the seed in the Word and the Excel 資料."""
    preset, workspace = preset_run
    plan = load_plan(preset)
    reports = _reports(workspace)
    text = docx_text(reports[".docx"].read_bytes())
    workbook = load_workbook(reports[".xlsx"])
    cells = "\n".join(
        str(v)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
        if v is not None
    )
    for initiative in plan.initiatives:
        assert initiative.name in text, (preset, initiative.id)
        assert initiative.name in cells, (preset, initiative.id)
    assert plan.report.document_number in text
    assert "{{" not in text and "{%" not in text and "{{" not in cells


def test_each_row_carries_its_departments_grade(preset_run: tuple[str, Path]) -> None:
    """It puts each accepted department's grade on the initiative's row in Excel."""
    preset, workspace = preset_run
    plan = load_plan(preset)
    demo = load_demo(preset)
    broken = demo.broken.department if demo.broken else None
    grades: dict[str, set[str]] = {}
    for entry in demo.entries:
        grade = entry.values.get(plan.submission.grade_key, "")
        if grade and entry.department != broken:
            grades.setdefault(entry.initiative, set()).add(grade)
    if not grades:
        pytest.skip(f"{preset}: the seed has no self-evaluation grades")
    workbook = load_workbook(_reports(workspace)[".xlsx"])
    rows = [
        [str(v) for v in row if v is not None]
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(min_row=5, values_only=True)
    ]
    for initiative_id, expected in grades.items():
        name = plan.initiative(initiative_id).name
        # a name cell may carry a mark before it (◎ 重点) or （再掲） after it
        names = {name, f"{name}（再掲）", f"◎{name}", f"○{name}"}
        found = [r for r in rows if names & set(r)]
        assert found, (preset, initiative_id)
        for row in found:
            shown = "\n".join(row)
            assert any(g in shown for g in expected), (preset, initiative_id, expected)


def test_rendering_twice_gives_the_same_bytes(preset_run: tuple[str, Path], tmp_path: Path) -> None:
    """It renders byte-identical documents from the same dataset."""
    preset, shared = preset_run
    workspace = tmp_path / "workspace"  # rendering writes: into a copy of the shared run
    shutil.copytree(shared, workspace)
    before = {p: p.read_bytes() for p in _reports(workspace).values()}
    assert sorted(p.suffix for p in before) == [".docx", ".xlsx"]
    render_shiryo(load_plan(preset), open_storage(workspace))
    assert {p: p.read_bytes() for p in _reports(workspace).values()} == before


def test_the_broken_department_gets_feedback(preset_run: tuple[str, Path]) -> None:
    """It rejects the demo's broken file and writes its 差戻し票 in its own folder."""
    preset, workspace = preset_run
    demo = load_demo(preset)
    assert demo.broken is not None
    feedback = list((workspace / "feedback").rglob("差戻し票_*.xlsx"))
    assert [p.parent.name for p in feedback] == [demo.broken.department]


def test_the_plan_overview_page_is_in_the_word_document(preset_run: tuple[str, Path]) -> None:
    """It prints 基本理念, 現状と課題, 基本方針 and the ◎ items where the plan has an overview."""
    preset, workspace = preset_run
    plan = load_plan(preset)
    if plan.overview is None:
        pytest.skip(f"{preset}: the plan has no overview page")
    text = docx_text(_reports(workspace)[".docx"].read_bytes())
    assert "基本理念" in text and "重点的に取り組む項目" in text
    assert plan.overview.philosophy.splitlines()[0] in text
    for item in [*plan.overview.issues, *plan.overview.priorities]:
        assert item in text, item
    for priority in plan.overview.priorities:
        assert f"◎{priority}" in text  # marked in the table of 施策展開の方向性 too
