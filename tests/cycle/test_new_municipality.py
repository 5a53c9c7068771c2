"""A municipality that is none of the presets, set up by its plan.yaml alone, over two rounds.

みどり野市 (``tests/data/midorino/plan.yaml``, fictional): 3 基本目標 → 8 施策 → 20 事業,
6 departments, grades ◎○△× in words with no thresholds, 8 indicators, no suite, no template.
Departments fill their 調査票 the way people do (全角 digits, 和暦, a blank required cell, a
grade outside the scale, ``〇`` for ``○``, one department silent); the real flows run on the
folder and on S3; the Word and Excel 資料 are read back.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from flows.annual_cycle import annual_cycle, call_for_submissions
from tasks.call.workbook import HEADER_ROW, field_label
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.render.docx import docx_text
from tasks.settings import REPO_ROOT
from tasks.workspace.keys import intake_key, outgoing_key, submission_filename
from tasks.workspace.storage import Storage, open_storage

pytestmark = pytest.mark.scenario

CONFIG = str(REPO_ROOT / "tests" / "data" / "midorino")
YEAR = 2025
Edit = Callable[[Workbook, Plan], None]


def _cell(plan: Plan, workbook: Workbook, initiative_id: str, key: str) -> tuple[int, int]:
    """Return (row, column) of an initiative's input under the field ``key``."""
    sheet = workbook[plan.submission.sheet_name]
    label = field_label(plan, next(f.label for f in plan.submission.fields if f.key == key))
    column = next(c.column for c in sheet[HEADER_ROW] if c.value == label)
    row = next(
        r
        for r in range(HEADER_ROW + 1, sheet.max_row + 1)
        if sheet.cell(row=r, column=1).value == initiative_id
    )
    return row, column


def _answer(plan: Plan, storage: Storage, department_id: str, edit: Edit | None = None) -> None:
    """Fill a department's 調査票 as sent, every row 〇-graded, and drop it in intake."""
    workbook = load_workbook(io.BytesIO(storage.read_bytes(outgoing_key(plan, department_id))))
    sheet = workbook[plan.submission.sheet_name]
    for initiative in plan.initiatives_of(department_id):
        for key, value in (
            ("jisseki", f"{initiative.name}を令和７年度に実施しました。"),
            ("hyoka", "○"),
            ("kadai", "担い手の確保"),
        ):
            row, column = _cell(plan, workbook, initiative.id, key)
            sheet.cell(row=row, column=column, value=value)
    if plan.submission.indicator_sheet_name in workbook.sheetnames:
        indicators = workbook[plan.submission.indicator_sheet_name]
        for row in range(HEADER_ROW + 1, indicators.max_row + 1):
            indicators.cell(row=row, column=9, value="１，２３０")  # 全角 digits and comma
    if edit is not None:
        edit(workbook, plan)
    buffer = io.BytesIO()
    workbook.save(buffer)
    name = submission_filename(plan, department_id)
    storage.write_bytes(intake_key(YEAR, department_id, name), buffer.getvalue())


def _blank_result(initiative_id: str) -> Edit:
    def edit(workbook: Workbook, plan: Plan) -> None:
        row, column = _cell(plan, workbook, initiative_id, "jisseki")
        # ``cell(..., value=None)`` would leave the value: openpyxl sets only a non-None one.
        workbook[plan.submission.sheet_name].cell(row=row, column=column).value = None

    return edit


def _grade(initiative_id: str, grade: str) -> Edit:
    def edit(workbook: Workbook, plan: Plan) -> None:
        row, column = _cell(plan, workbook, initiative_id, "hyoka")
        workbook[plan.submission.sheet_name].cell(row=row, column=column, value=grade)

    return edit


@pytest.fixture(params=["folder", "s3"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty workspace on each backend."""
    if request.param == "folder":
        return str(tmp_path / "ws")
    return f"s3://{request.getfixturevalue('bucket')}/midorino"


def _statuses(storage: Storage) -> dict[str, str]:
    ledger = json.loads(storage.read_bytes(f"ledger/{YEAR}.json"))
    return {
        e["department_id"]: e["status"] for e in ledger["entries"] if e["status"] != "superseded"
    }


def _report(storage: Storage, suffix: str) -> bytes:
    (key,) = [o.key for o in storage.list(f"reports/{YEAR}") if o.key.endswith(suffix)]
    return storage.read_bytes(key)


def test_a_new_municipality_runs_from_its_plan_alone(prefect_server: None, location: str) -> None:
    """It sends the call, checks, rejects and accepts, and renders the plan's own 資料."""
    plan = load_plan(CONFIG)
    assert plan.report.suite is None and plan.report.docx_template is None
    storage = open_storage(location)
    call_for_submissions(YEAR, CONFIG, location)
    assert len(list(storage.list(f"outgoing/{YEAR}"))) == 6

    # Round 1: 高齢福祉課 leaves a required cell blank, 障がい福祉課 grades "A" (not in the
    # scale), こども家庭課 writes 〇 (U+3007) for ○, 防災安全課 sends nothing.
    _answer(plan, storage, "fukushi-seisaku", _grade("i03", "◎"))
    _answer(plan, storage, "korei-fukushi", _blank_result("i09"))
    _answer(plan, storage, "shogai-fukushi", _grade("i10", "A"))
    _answer(plan, storage, "kosodate", _grade("i15", "〇"))
    _answer(plan, storage, "shakyo")
    annual_cycle(YEAR, CONFIG, location)

    assert _statuses(storage) == {
        "fukushi-seisaku": "accepted",
        "korei-fukushi": "rejected",
        "shogai-fukushi": "rejected",
        "kosodate": "accepted",
        "shakyo": "accepted",
    }
    feedback = {
        o.key.split("/")[2]: o.key
        for o in storage.list(f"feedback/{YEAR}")
        if "/差戻し票_" in o.key
    }
    korei = load_workbook(io.BytesIO(storage.read_bytes(feedback["korei-fukushi"]))).active
    messages = [str(r[5]) for r in korei.iter_rows(min_row=7, values_only=True) if r[5]]
    assert any("「令和7年度の取組実績」が空欄です" in m for m in messages), messages
    shogai = load_workbook(io.BytesIO(storage.read_bytes(feedback["shogai-fukushi"]))).active
    messages = [str(r[5]) for r in shogai.iter_rows(min_row=7, values_only=True) if r[5]]
    assert any("自己評価「A」は自己評価にありません" in m for m in messages), messages

    text = docx_text(_report(storage, ".docx"))
    # One table per 基本目標, grouped by 施策, the plan's field labels as columns in order.
    for goal in plan.goals:
        assert f"基本目標　{goal.title}" in text
        for child in goal.children:
            assert child.title in text
    labels = ["令和7年度の取組実績", "自己評価", "課題", "令和8年度の取組予定"]
    header = text[text.index(labels[0]) :]  # the first table's header row, read in order
    positions = [header.index(label) for label in labels]
    assert positions == sorted(positions)
    assert "防災安全課" in text and "未提出" in text  # the silent department
    # No implied grade from a scale in words: no ※ beside any grade.
    assert "※" not in text.replace("※ 指標", "")

    workbook = load_workbook(io.BytesIO(_report(storage, ".xlsx")))
    summary = workbook["集計"]
    header = [c.value for c in summary[3]]
    assert header[1:5] == ["◎", "○", "△", "×"]
    titles = [g.title for g in plan.goals]
    counts = {
        str(row[0]): row[1:5]
        for row in summary.iter_rows(min_row=4, values_only=True)
        if row[0] in titles
    }
    # Per 事業, each once (i02, i07 have two departments; i04's 再掲 under 基本目標3 is not
    # counted again); 〇 written by こども家庭課 for i15 counts as ○; i09, i10 (rejected) and
    # 防災安全課's 事業 (silent) have no grade yet. Numbers, not text.
    assert counts == {titles[0]: (1, 6, 0, 0), titles[1]: (0, 6, 0, 0), titles[2]: (0, 1, 0, 0)}

    # Round 2: the two rejected departments send their corrected files.
    _answer(plan, storage, "korei-fukushi")
    _answer(plan, storage, "shogai-fukushi")
    annual_cycle(YEAR, CONFIG, location)
    statuses = _statuses(storage)
    assert statuses["korei-fukushi"] == statuses["shogai-fukushi"] == "accepted"
    text = docx_text(_report(storage, ".docx"))
    assert "高齢福祉課" not in [line for line in text.splitlines() if "未提出" in line]
