"""Who is reminded (督促) and why: 未提出, 差戻し not resubmitted, rows left unanswered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from tasks.call.workbook import field_label
from tasks.cycle.reminders import (
    NOT_SENT,
    RESUBMIT,
    UNANSWERED,
    build_reminder_list,
    deadline_note,
    japanese_date,
    locator,
)
from tasks.cycle.steps import consolidate_year, take_intake, write_call_workbooks
from tasks.intake.ledger import load_ledger
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.plan.parts import Initiative, SubmissionLayout
from tasks.workspace.storage import open_storage
from tests.helpers import cell_of, filled_workbook, submit

DEADLINE = dt.date(2021, 6, 30)


def with_deadline(plan: Plan, deadline: dt.date | None = DEADLINE) -> Plan:
    """Return the plan with a submission deadline (提出期限)."""
    layout = SubmissionLayout.model_validate({**plan.submission.model_dump(), "deadline": deadline})
    return plan.model_copy(update={"submission": layout})


@pytest.fixture
def minami_season(workspace: Path) -> Plan:
    """A 南区 season: 社会福祉協議会 accepted; 地域総務課 sent back; 健康福祉課 accepted, then a
    resubmission sent back; 地域包括支援センター's file taken, not yet checked; the rest none."""
    plan = with_deadline(load_plan("niigata-minami"))
    write_call_workbooks(plan, open_storage(workspace))
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    somu = filled_workbook(plan, "chiiki-somu", grade="Z")
    submit(workspace, plan, "intake/2021/chiiki-somu/提出.xlsx", somu)
    fukushi = "intake/2021/kenko-fukushi/"
    submit(workspace, plan, fukushi + "提出.xlsx", filled_workbook(plan, "kenko-fukushi"))
    submit(workspace, plan, fukushi + "修正版.xlsx", filled_workbook(plan, "kenko-fukushi", "Z"))
    waiting = workspace / "intake/2021/chiiki-hokatsu/提出.xlsx"
    waiting.parent.mkdir(parents=True)
    waiting.write_bytes(filled_workbook(plan, "chiiki-hokatsu"))
    take_intake(plan, open_storage(workspace), settle_seconds=0)  # taken, not checked
    consolidate_year(plan, open_storage(workspace))
    return plan


def test_it_reminds_who_has_not_sent_or_was_sent_back(workspace: Path, minami_season: Plan) -> None:
    """It lists 未提出 first, then 差戻し (also after an accepted file), in plan order; an
    accepted department is not listed, one whose file waits for its check is named apart."""
    storage = open_storage(workspace)
    listed = build_reminder_list(minami_season, storage, dt.date(2021, 6, 28), 7)

    assert [(r.department, r.reason) for r in listed.reminders] == [
        ("NPO法人", NOT_SENT),
        ("支え合いのしくみづくり会議及び推進員", NOT_SENT),
        ("健康福祉課", RESUBMIT),
        ("地域総務課", RESUBMIT),
    ]
    assert listed.waiting == ("地域包括支援センター",)
    fukushi, somu = listed.reminders[2], listed.reminders[3]
    blocking = {e.original_name: e.blocking for e in load_ledger(storage, 2021).entries}
    assert fukushi.blocking == blocking["修正版.xlsx"] > 0
    assert fukushi.summary == (
        f"「修正版.xlsx」を差戻し（要修正 {fukushi.blocking} 件）"
        "（前に受理したファイルを資料に使用中）"
    )
    assert somu.summary == f"「提出.xlsx」を差戻し（要修正 {somu.blocking} 件）"
    # Where the department finds what it needs, every file there.
    labels = [label for label, _ in somu.files]
    assert labels == ["調査票", "差戻し票", "修正用の調査票", "提出先"]
    assert all(storage.exists(key) for label, key in somu.files if label != "提出先")
    assert dict(somu.files)["提出先"] == "intake/2021/chiiki-somu"
    npo = listed.reminders[0]
    assert [label for label, _ in npo.files] == ["調査票", "提出先"]
    assert npo.latest_file == npo.received == ""


@pytest.mark.parametrize(
    ("today", "due", "note"),
    [
        (dt.date(2021, 6, 22), False, "期限まであと 8 日です"),  # the day before the window
        (dt.date(2021, 6, 23), True, "期限まであと 7 日です"),  # the window's first day
        (dt.date(2021, 6, 30), True, "今日が期限です"),  # the deadline itself
        (dt.date(2021, 7, 3), True, "期限を 3 日過ぎています"),  # past it
    ],
)
def test_reminders_are_due_from_days_before_the_deadline(
    workspace: Path, minami_season: Plan, today: dt.date, due: bool, note: str
) -> None:
    """It reminds nobody before the window opens and names who it would remind."""
    listed = build_reminder_list(minami_season, open_storage(workspace), today, 7)

    assert listed.due is due
    assert bool(listed.reminders) is due
    assert len(listed.not_yet_due) == (0 if due else 4)
    assert deadline_note(listed) == f"提出期限: 2021年6月30日（水）（{note}）"


def test_without_a_deadline_reminders_are_always_due(workspace: Path) -> None:
    """It reminds whenever asked when the plan sets no deadline, and says there is none."""
    plan = load_plan("niigata-minami")
    assert plan.submission.deadline is None
    listed = build_reminder_list(plan, open_storage(workspace), dt.date(2021, 4, 2), 7)

    assert listed.due and len(listed.reminders) == len(plan.departments)
    assert deadline_note(listed) == "提出期限は決めていません（plan.yaml の submission.deadline）"


def test_an_initiative_added_after_the_call_is_an_unanswered_row(workspace: Path) -> None:
    """It reminds an accepted department of an initiative its file has no row for."""
    plan = load_plan("niigata-minami")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    consolidate_year(plan, open_storage(workspace))
    added = Initiative(id="i900", name="見守り訪問の新設", departments=["shakyo"])
    goals = [plan.goals[0].model_copy(update={"initiatives": [*plan.goals[0].initiatives, "i900"]})]
    later = plan.model_copy(
        update={"initiatives": [*plan.initiatives, added], "goals": goals + plan.goals[1:]}
    )

    listed = build_reminder_list(later, open_storage(workspace), dt.date(2021, 6, 1), 7)

    (shakyo,) = [r for r in listed.reminders if r.department_id == "shakyo"]
    assert (shakyo.reason, shakyo.missing_rows, shakyo.blank_rows) == (
        UNANSWERED,
        ("見守り訪問の新設",),
        (),
    )
    assert shakyo.summary == "調査票にない行 1 件: 見守り訪問の新設"
    # Before the new initiative, the same department owed nothing.
    before = build_reminder_list(plan, open_storage(workspace), dt.date(2021, 6, 1), 7)
    assert "shakyo" not in [r.department_id for r in before.reminders]


def test_a_required_field_accepted_blank_is_an_unanswered_row(workspace: Path) -> None:
    """It reminds a department whose file was accepted with a required cell left empty (北本市
    accepts a blank with a 注意) and names the row."""
    plan = load_plan("kitamoto")
    department = "jinken-suishin"
    first, second = plan.initiatives_of(department)
    label = field_label(plan, plan.submission.fields[0].label)

    def blank(workbook: Workbook) -> None:
        workbook[plan.submission.sheet_name][cell_of(plan, workbook, first.id, label)] = None

    summary = submit(
        workspace,
        plan,
        f"intake/2023/{department}/提出.xlsx",
        filled_workbook(plan, department, edit=blank),
    )
    assert [f.status for f in summary.files] == ["accepted"]
    consolidate_year(plan, open_storage(workspace))

    listed = build_reminder_list(plan, open_storage(workspace), dt.date(2023, 6, 1), 7)

    (row,) = [r for r in listed.reminders if r.department_id == department]
    assert (row.reason, row.blank_rows, row.missing_rows) == (UNANSWERED, (first.name,), ())
    assert second.name not in row.summary


def test_departments_see_the_workspace_where_they_reach_it(workspace: Path) -> None:
    """It shows a key under the folder departments know (a Windows share), or as stored."""
    storage = open_storage(workspace)
    key = "feedback/2021/shakyo/差戻し票_提出_0123abcd.xlsx"
    assert locator(storage, r"\\fs01\shiryo\ws" + "\\")(key) == (
        r"\\fs01\shiryo\ws\feedback\2021\shakyo\差戻し票_提出_0123abcd.xlsx"
    )
    assert locator(storage, "/mnt/shiryo/")(key) == f"/mnt/shiryo/{key}"
    assert locator(storage, None)(key) == str(workspace / key)


def test_a_date_is_written_as_a_letter_writes_it() -> None:
    """It writes the date with its day of the week."""
    assert japanese_date(dt.date(2022, 6, 30)) == "2022年6月30日（木）"
