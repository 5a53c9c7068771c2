"""Each preset accepts what its municipality really accepted: the seed's own values, blanks and all.

The values a few departments printed in the seed are typed into the product's call workbooks,
collected, checked, merged and rendered; the outcome is what the preset's suite names, and
the 資料 print the rows the way the seed does.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tasks.call.workbook import GROUP_GRADED
from tasks.cycle.demo import load_demo, seed_history
from tasks.cycle.steps import (
    CollectionSummary,
    check_pending,
    consolidate_year,
    render_shiryo,
    take_intake,
)
from tasks.dataset.store import load_consolidated
from tasks.intake.ledger import load_ledger
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.render.docx import docx_text
from tasks.settings import TEMPLATES_DIR
from tasks.workspace.keys import submission_filename
from tasks.workspace.storage import open_storage
from tests.seed_typing import Values, kitamoto_values, type_workbook

pytestmark = pytest.mark.usefixtures("prefect_server")


def _collect(plan: Plan, workspace: Path, files: dict[str, bytes]) -> CollectionSummary:
    """Drop each department's file in its intake folder and run one daily collection."""
    for department_id, data in files.items():
        target = workspace / "intake" / str(plan.fiscal_year.current) / department_id
        target.mkdir(parents=True, exist_ok=True)
        (target / submission_filename(plan, department_id)).write_bytes(data)
    take_intake(plan, open_storage(workspace), settle_seconds=0)
    summary = check_pending(plan, open_storage(workspace))
    consolidate_year(plan, open_storage(workspace))
    render_shiryo(plan, open_storage(workspace))
    return summary


def _outcomes(summary: CollectionSummary) -> dict[str, tuple[str, int, int]]:
    return {f.department_id or "": (f.status, f.blocking, f.warnings) for f in summary.files}


def _xlsx_rows(workspace: Path) -> list[list[str]]:
    path = next(workspace.glob("reports/*/*.xlsx"))
    workbook = load_workbook(path)
    return [
        ["" if v is None else str(v) for v in row]
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]


def _docx(workspace: Path) -> str:
    return docx_text(next(workspace.glob("reports/*/*.docx")).read_bytes())


def _row_of(rows: list[list[str]], name: str) -> dict[str, str]:
    """Return the 資料 row of an initiative as {header: value}, headers from the table above."""
    header: list[str] = []
    for row in rows:
        if "事業主体" in row or "担当部署" in row or "NO" in row:
            header = row
        elif name in row and header:
            return dict(zip(header, row, strict=False))
    raise AssertionError(f"{name} is not in the 資料")


def _submitted_rows(plan: Plan, workspace: Path) -> int:
    consolidated = load_consolidated(open_storage(str(workspace)), plan.fiscal_year.current)
    return int(consolidated["submitted"].sum())


# --- 北本市 -----------------------------------------------------------------------------------

KITAMOTO_DEPARTMENTS = ["shogai-gakushu", "kurashi-anzen", "shicho-koshitsu", "shakyo"]


@pytest.fixture(scope="module")
def kitamoto_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Type six 北本市 departments' printed answers; 高齢介護課 then changes its one D."""
    plan = load_plan("kitamoto")
    workspace = tmp_path_factory.mktemp("kitamoto")
    typed = {d: kitamoto_values(plan, d) for d in [*KITAMOTO_DEPARTMENTS, "korei-kaigo"]}
    first = _collect(plan, workspace, {d: type_workbook(plan, d, v) for d, v in typed.items()})
    feedback = sorted((workspace / "feedback").rglob("差戻し票_*.xlsx"))
    rows_after_first = _submitted_rows(plan, workspace)
    fixed = {k: dict(v) for k, v in typed["korei-kaigo"].items()}
    fixed["i090"]["grade"] = "B"  # the department reconsiders its D after the 注意
    second = _collect(plan, workspace, {"korei-kaigo": type_workbook(plan, "korei-kaigo", fixed)})
    return {
        "plan": plan,
        "workspace": workspace,
        "typed": typed,
        "first": first,
        "second": second,
        "feedback": feedback,
        "rows_after_first": rows_after_first,
    }


def test_kitamoto_accepts_the_printed_blanks_with_warnings(kitamoto_run: dict[str, Any]) -> None:
    """It accepts every department whose only gaps are the seed's blanks, each with 注意."""
    outcomes = _outcomes(kitamoto_run["first"])
    for department_id in KITAMOTO_DEPARTMENTS:
        status, blocking, warnings = outcomes[department_id]
        assert (status, blocking) == ("accepted", 0), (department_id, outcomes[department_id])
        assert warnings > 0, department_id  # the seed has blanks in each of them
    typed = kitamoto_run["typed"]
    # 高齢介護課 too: its printed D is a 注意, not a reason to send it back.
    assert kitamoto_run["rows_after_first"] == sum(len(rows) for rows in typed.values())


def test_kitamoto_keeps_the_printed_d_with_a_warning(kitamoto_run: dict[str, Any]) -> None:
    """It accepts 高齢介護課's printed D as typed, with a 注意 naming it, and lists every row."""
    status, blocking, _ = _outcomes(kitamoto_run["first"])["korei-kaigo"]
    assert (status, blocking) == ("accepted", 0)
    d_findings = [
        f
        for f in kitamoto_run["first"].findings
        if f.initiative_id == "i090" and "「D」" in f.message
    ]
    assert [f.severity for f in d_findings] == ["warning"]
    [path] = [p for p in kitamoto_run["feedback"] if p.parent.name == "korei-kaigo"]
    sheet = load_workbook(path)["行ごとの状況"]
    states = {r[0]: r[2] for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert set(states) == set(kitamoto_run["typed"]["korei-kaigo"])
    assert states["i090"] == "注意"
    assert states["i004"] == "注意"  # 事業評価 not printed
    assert states["i077"] == "問題なし"  # graded with its group (i076 C)
    # Its later file (D changed to B) supersedes the first; nothing is 要修正 in either.
    assert _outcomes(kitamoto_run["second"])["korei-kaigo"][:2] == ("accepted", 0)
    plan: Plan = kitamoto_run["plan"]
    ledger = load_ledger(open_storage(str(kitamoto_run["workspace"])), plan.fiscal_year.current)
    first, second = [e for e in ledger.entries if e.department_id == "korei-kaigo"]
    assert first.row_states["要修正"] == 0 and sum(first.row_states.values()) == len(states)
    assert (first.status, second.status) == ("superseded", "accepted")


def test_kitamoto_prints_grades_the_way_the_seed_does(kitamoto_run: dict[str, Any]) -> None:
    """It prints per-department grades in 事業主体, a group's grade once, blanks as blanks."""
    plan: Plan = kitamoto_run["plan"]
    rows = _xlsx_rows(kitamoto_run["workspace"])
    grade, entities = plan.grade_scale.title, "事業主体"

    shared = _row_of(rows, plan.initiative("i025").name)  # 共生福祉課B 市長公室B 社協A
    assert shared[grade].strip("△") == ""
    assert shared[entities] == "共生福祉課\n市長公室B\n社会福祉協議会A"
    agreed = _row_of(rows, plan.initiative("i026").name)  # くらし安全課A 社協A
    assert agreed[grade].startswith("A") and agreed[entities].endswith(
        "くらし安全課\n社会福祉協議会"
    )

    lead = _row_of(rows, plan.initiative("i076").name)
    assert lead[grade].startswith("C")
    for member in ("i077", "i078", "i079"):
        assert _row_of(rows, plan.initiative(member).name)[grade] == "", member
    assert GROUP_GRADED not in "\n".join("\n".join(r) for r in rows)

    blank = _row_of(rows, plan.initiative("i086").name)  # no 事業評価 printed: 注意
    assert blank[grade] == "△"
    printed = kitamoto_run["typed"]["kurashi-anzen"]["i086"]["progress_text"]
    assert blank[plan.submission.fields[0].label.format(year_wareki="令和5年度")] == printed
    dash = _row_of(rows, plan.initiative("i083").name)
    assert dash[grade] == "A" and dash["評価の理由・課題"] == "_"  # as printed
    assert "市長公室B" in _docx(kitamoto_run["workspace"])


# --- the other presets: the seed's values as kept in demo.yaml ----------------------------------


def _demo_values(preset: str, department_id: str) -> tuple[Values, dict[tuple[str, str], float]]:
    demo = load_demo(preset)
    values = {e.initiative: e.values for e in demo.entries if e.department == department_id}
    indicators = {
        (v.initiative, v.indicator): v.actual
        for v in demo.indicator_values
        if v.department == department_id and v.actual is not None
    }
    return values, indicators


SEED_RUNS = [
    # (preset, departments typed from the seed, a value the 資料 must print as the seed does)
    ("niigata-minami", ["kenko-fukushi", "chiiki-somu", "shakyo"]),
    ("nishitokyo", ["chiiki-kyosei", "kyodo-community", "koreisha-shien"]),
    ("niigata-nishi", ["nishi-ku", "nishi-shakyo"]),
    ("nishi-ku-overview", ["ku-yakusho", "ku-shakyo"]),
]


@pytest.mark.parametrize(("preset", "departments"), SEED_RUNS)
def test_the_seed_values_are_accepted_and_printed(
    preset: str, departments: list[str], tmp_path: Path
) -> None:
    """It accepts each department's printed values (the seed's blanks too) and prints them."""
    plan = load_plan(preset)
    seed_history(open_storage(str(tmp_path)), plan, load_demo(preset))  # the seed's earlier years
    typed = {d: _demo_values(preset, d) for d in departments}
    summary = _collect(
        plan, tmp_path, {d: type_workbook(plan, d, v, i) for d, (v, i) in typed.items()}
    )
    for department_id, (status, blocking, _) in _outcomes(summary).items():
        assert (status, blocking) == ("accepted", 0), (preset, department_id, summary.findings)
    assert _submitted_rows(plan, tmp_path) == sum(len(v) for v, _ in typed.values())
    rows = _xlsx_rows(tmp_path)
    text = "\n".join("\n".join(r) for r in rows)
    document = _squeezed(_docx(tmp_path))  # Word breaks a cell's lines into paragraphs
    for values, _ in typed.values():
        for initiative_id, fields in values.items():
            for key, printed in fields.items():
                if printed and key != plan.submission.grade_key and _shown(plan, key):
                    assert printed in text, (preset, initiative_id, key)
                    assert _squeezed(printed) in document, (preset, initiative_id, key)


def _squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)


def _shown(plan: Plan, key: str) -> bool:
    """Return whether the preset's 資料 has a column for the field (its template names it)."""
    template = TEMPLATES_DIR / plan.report.xlsx_template
    workbook = load_workbook(io.BytesIO(template.read_bytes()))
    return any(
        f"row.{key}" in str(v) or f"].{key}" in str(v)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for v in row
        if v is not None
    )
