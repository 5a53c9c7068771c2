"""The 督促一覧 on paper and on screen: a workbook to print, a table to paste."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook

from tasks.cycle.reminder_settings import load_reminder_settings
from tasks.cycle.reminder_sheet import (
    REMINDER_COLUMNS,
    build_reminder_workbook,
    format_reminder_table,
    write_reminder_list,
)
from tasks.cycle.reminders import build_reminder_list, locator
from tasks.cycle.steps import write_call_workbooks
from tasks.plan.load import load_plan
from tasks.workspace.storage import open_storage
from tests.cycle.test_reminders import with_deadline
from tests.helpers import filled_workbook, submit

FORMULA_NAME = '=HYPERLINK("evil","開く").xlsx'


def _season(workspace: Path) -> None:
    """Every 南区 department late; 地域総務課 sent back, its file named like a formula."""
    plan = with_deadline(load_plan("niigata-minami"))
    write_call_workbooks(plan, open_storage(workspace))
    bad = filled_workbook(plan, "chiiki-somu", grade="Z")
    submit(workspace, plan, f"intake/2021/chiiki-somu/{FORMULA_NAME}", bad)


def test_the_list_prints_on_a4_with_every_late_department(workspace: Path) -> None:
    """It writes a title, the deadline, a header and one row per department to remind, on A4
    landscape one page wide; a file name that looks like a formula is shown as written."""
    _season(workspace)
    plan = with_deadline(load_plan("niigata-minami"))
    storage = open_storage(workspace)
    listed = build_reminder_list(plan, storage, dt.date(2021, 7, 1), 7)
    data = build_reminder_workbook(plan, listed, locator(storage, None))

    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "新潟市南区 2021年度（令和3年度） 督促一覧（2021年7月1日（木） 現在）"
    assert values[1][0] == "提出期限: 2021年6月30日（水）（期限を 1 日過ぎています）"
    header = values.index(REMINDER_COLUMNS)
    rows = values[header + 1 :]
    assert [r[0] for r in rows] == [d.name for d in plan.departments if d.id != "chiiki-somu"] + [
        "地域総務課"
    ]
    somu = rows[-1]
    assert somu[1] == "差戻し（再提出待ち）"
    assert FORMULA_NAME in somu[3]
    assert "差戻し票: " in somu[4] and str(workspace) in somu[4]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == f"${header + 1}:${header + 1}"
    # Same inputs, same bytes.
    assert build_reminder_workbook(plan, listed, locator(storage, None)) == data


def test_the_table_pastes_as_one_line_per_department(workspace: Path) -> None:
    """It prints the heading, then tab-separated rows with no line break inside a cell."""
    _season(workspace)
    plan = with_deadline(load_plan("niigata-minami"))
    storage = open_storage(workspace)
    listed = build_reminder_list(plan, storage, dt.date(2021, 6, 20), 7)
    assert not listed.due
    early = format_reminder_table(plan, listed, locator(storage, None))
    assert early.splitlines()[2] == (
        "督促は 2021年6月23日（水） からです。いま督促の対象になる部署: "
        + "、".join(d.name for d in plan.departments if d.id != "chiiki-somu")
        + "、地域総務課"
    )
    assert "\t" not in early  # nobody to remind yet: no table

    due = build_reminder_list(plan, storage, dt.date(2021, 6, 23), 7)
    lines = format_reminder_table(plan, due, locator(storage, None)).splitlines()
    table = lines[lines.index("\t".join(REMINDER_COLUMNS)) + 1 :]
    assert len(table) == len(plan.departments)
    assert all(len(line.split("\t")) == len(REMINDER_COLUMNS) for line in table)
    assert " ／ 提出先: " in table[-1]


def test_a_list_with_mail_sent_keeps_its_own_file(workspace: Path) -> None:
    """It writes the day's list under the day, and a list with mail sent under the time it
    went, so that listing again the same day replaces only the plain list."""
    _season(workspace)
    plan = with_deadline(load_plan("niigata-minami"))
    storage = open_storage(workspace)
    settings = load_reminder_settings("niigata-minami")
    listed = build_reminder_list(plan, storage, dt.date(2021, 7, 1), 7)

    plain = write_reminder_list(plan, storage, listed, settings, {})
    sent = {"chiiki-somu": "送りました（somu@example.lg.jp、2021-07-01 09:00 +09:00）"}
    mailed = write_reminder_list(plan, storage, listed, settings, sent)

    assert plain.list_location == str(workspace / "reminders/2021/督促一覧_2021-07-01.xlsx")
    assert mailed.list_location.startswith(str(workspace / "reminders/2021/督促一覧_2021-07-01_"))
    assert mailed.list_location.endswith("送信.xlsx")
    sheet = load_workbook(mailed.list_location).active
    assert sheet is not None
    assert sent["chiiki-somu"] in [c.value for c in sheet[sheet.max_row]]
