"""A 調査票 returned in an older version, after a plan edit, on みどり野市 (none of the presets)."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from tasks.call.workbook import IDENTITY_SHEET
from tasks.cycle.steps import CollectionSummary, check_pending, take_intake, write_call_workbooks
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.workspace.keys import intake_key
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook
from tests.midorino import YEAR, add_department, add_initiative_for_bosai, midorino_config

CHANGED = "この調査票は、計画の変更でこの部署の調査票の内容（行や記入欄）が変わる前の版です。"
UNKNOWN = "この調査票は、配布後に更新された計画より前の版です。"


def _returned(
    workspace: Path, sent: Plan, checked: Plan, departments: list[str]
) -> CollectionSummary:
    """Drop each department's 調査票 of ``sent``, filled in, and check it with ``checked``."""
    storage = open_storage(workspace)
    for department in departments:
        data = filled_workbook(sent, department, grade="○")
        storage.write_bytes(intake_key(YEAR, department, "提出.xlsx"), data)
    take_intake(checked, storage, settle_seconds=0)
    return check_pending(checked, storage)


def test_an_older_workbook_is_judged_by_what_it_showed_its_department(
    tmp_path: Path, workspace: Path
) -> None:
    """It accepts 社協's workbook of the version before the edit as current (nothing in it
    changed: it was not sent again), and tells 防災安全課, whose rows changed, in its 差戻し票
    that its workbook is older than the one sent again; both are accepted."""
    before = load_plan(midorino_config(tmp_path / "config"))
    storage = open_storage(workspace)
    write_call_workbooks(before, storage)
    after = load_plan(midorino_config(tmp_path / "config", add_initiative_for_bosai))
    write_call_workbooks(after, storage)

    summary = _returned(workspace, before, after, ["shakyo", "bosai"])

    outcomes = {f.department_id: f for f in summary.files}
    assert {d: f.status for d, f in outcomes.items()} == {"shakyo": "accepted", "bosai": "accepted"}
    assert outcomes["shakyo"].warnings == 0 and outcomes["shakyo"].feedback_key is None
    (finding,) = summary.findings
    assert (finding.sheet, finding.cell, finding.severity) == (IDENTITY_SHEET, "B7", "warning")
    assert finding.message.startswith(CHANGED)
    assert finding.sha256 == outcomes["bosai"].sha256
    key = outcomes["bosai"].feedback_key
    assert key is not None
    sheet = load_workbook(io.BytesIO(storage.read_bytes(key))).active
    assert sheet is not None
    assert any(CHANGED in str(c.value) for row in sheet.iter_rows() for c in row)


def test_a_plan_edited_since_the_last_call_keeps_the_general_note(
    tmp_path: Path, workspace: Path
) -> None:
    """It cannot compare versions when no call was written for the edited plan (a scheduled
    collection after an edit): every older workbook gets the general 注意, and is accepted."""
    before = load_plan(midorino_config(tmp_path / "config"))
    write_call_workbooks(before, open_storage(workspace))
    edited = load_plan(midorino_config(tmp_path / "config", add_department))

    summary = _returned(workspace, before, edited, ["shakyo"])

    (outcome,) = summary.files
    assert (outcome.status, outcome.warnings) == ("accepted", 1)
    (finding,) = summary.findings
    assert finding.message.startswith(UNKNOWN)


def test_the_current_workbook_gets_no_note(tmp_path: Path, workspace: Path) -> None:
    """It says nothing of the version of a workbook written for the plan as it is."""
    plan = load_plan(midorino_config(tmp_path / "config", add_initiative_for_bosai))
    write_call_workbooks(plan, open_storage(workspace))

    summary = _returned(workspace, plan, plan, ["bosai"])

    assert [(f.status, f.warnings) for f in summary.files] == [("accepted", 0)]
    assert summary.findings == []
