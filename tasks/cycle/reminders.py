"""Reminders (督促): which departments the secretariat chases, and why.

A department is reminded while the year's collection still waits for it:

- 未提出: no file of it has come in;
- 差戻し（再提出待ち）: its latest file was sent back and nothing came after it (also when an
  earlier file was accepted: the 資料 uses that one meanwhile);
- 未記入の行あり: its accepted file leaves rows unanswered, a required field left empty where
  the rules accept a blank with a 注意, or no row at all for an initiative added to the plan
  after the 調査票 went out.

A department whose latest file waits for its check (確認待ち) has done its part: it is named
apart, for the coordinator to run the check. Reminders are due from ``days_before`` days
before the plan's deadline (``submission.deadline``), and at any time when it has none.

The states are the 提出状況's (``tasks.intake.status``), the 差戻し票 are found as the run's
summary finds them (``tasks.cycle.summary``), the unanswered rows are read from the year's
dataset as the last collection left it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from tasks.call.workbook import group_graded_rows
from tasks.cycle.summary import feedback_of
from tasks.dataset.store import load_consolidated
from tasks.dataset.values import text_of
from tasks.intake.ledger import japan_date, load_ledger
from tasks.intake.status import (
    ACCEPTED,
    NOT_SUBMITTED,
    SENT_BACK,
    SENT_BACK_AFTER_ACCEPTED,
    WAITING,
    WAITING_AFTER_ACCEPTED,
    build_status_rows,
    latest_entry,
)
from tasks.plan.model import Plan
from tasks.workspace.keys import feedback_prefix, intake_prefix, outgoing_key
from tasks.workspace.storage import Storage

NOT_SENT = "未提出"
RESUBMIT = "差戻し（再提出待ち）"
UNANSWERED = "未記入の行あり"
REASONS = (NOT_SENT, RESUBMIT, UNANSWERED)
"""Why a department is reminded (督促の理由), in the order the list sorts them."""


@dataclass(frozen=True)
class Reminder:
    """One department to remind: why, its latest file, and where its files are."""

    department_id: str
    department: str
    reason: str
    """One of :data:`REASONS`."""
    state: str
    """The department's state as ``shiryo status`` says it."""
    latest_file: str
    received: str
    """When its latest file was taken, Japan time; empty when none came."""
    blocking: int
    """The 要修正 of its latest file (a file sent back)."""
    blank_rows: tuple[str, ...]
    """Initiatives (by name) of its accepted file with a required field left empty."""
    missing_rows: tuple[str, ...]
    """Initiatives (by name) its accepted file has no row for (added to the plan since)."""
    call_key: str
    """Its 調査票 (outgoing)."""
    intake_folder: str
    """Where it drops its file (the folder ``intake/<fy>/<department>``)."""
    feedback_key: str | None
    correction_key: str | None
    email: str | None
    contact: str

    @property
    def files(self) -> list[tuple[str, str]]:
        """Return the department's files to point it to, by label, and where it drops the new."""
        files = [("調査票", self.call_key)]
        if self.reason == RESUBMIT and self.feedback_key:
            files.append(("差戻し票", self.feedback_key))
        if self.reason == RESUBMIT and self.correction_key:
            files.append(("修正用の調査票", self.correction_key))
        return [*files, ("提出先", self.intake_folder)]

    @property
    def summary(self) -> str:
        """Return what is missing in one short line, as the 督促一覧 shows it."""
        if self.reason == NOT_SENT:
            return "調査票の提出がありません"
        if self.reason == RESUBMIT:
            kept = (
                "（前に受理したファイルを資料に使用中）"
                if self.state == SENT_BACK_AFTER_ACCEPTED
                else ""
            )
            return f"「{self.latest_file}」を差戻し（要修正 {self.blocking} 件）{kept}"
        parts = []
        if self.blank_rows:
            parts.append(
                f"未記入の欄がある行 {len(self.blank_rows)} 件: {'、'.join(self.blank_rows)}"
            )
        if self.missing_rows:
            parts.append(
                f"調査票にない行 {len(self.missing_rows)} 件: {'、'.join(self.missing_rows)}"
            )
        return " ／ ".join(parts)


@dataclass(frozen=True)
class ReminderList:
    """The year's departments to remind on one day (督促一覧)."""

    fiscal_year: int
    today: dt.date
    deadline: dt.date | None
    due_from: dt.date | None
    """The first day reminders are due (``days_before`` before the deadline); None: always."""
    reminders: tuple[Reminder, ...]
    """The departments to remind today; empty before ``due_from``."""
    not_yet_due: tuple[str, ...]
    """Departments that would be reminded, were reminders due yet (by name)."""
    waiting: tuple[str, ...]
    """Departments whose latest file waits for its check (by name): not reminded."""

    @property
    def due(self) -> bool:
        """Return whether reminders are due today."""
        return self.due_from is None or self.today >= self.due_from


def build_reminder_list(
    plan: Plan, storage: Storage, today: dt.date, days_before: int
) -> ReminderList:
    """Return the departments to remind on ``today``, and those that wait for a check."""
    year = plan.fiscal_year.current
    ledger = load_ledger(storage, year)
    rows = build_status_rows(plan, ledger, today)
    consolidated = load_consolidated(storage, year)
    written = [o.key for o in storage.list(feedback_prefix(year))]
    found: list[Reminder] = []
    waiting: list[str] = []
    for department, row in zip(plan.departments, rows, strict=False):
        state = row["状況"]
        if state in (WAITING, WAITING_AFTER_ACCEPTED):
            waiting.append(department.name)
            continue
        blank, missing = _unanswered(plan, consolidated, department.id)
        reason = _reason(state, blank + missing)
        if reason is None:
            continue
        latest = latest_entry([e for e in ledger.entries if e.department_id == department.id])
        found.append(
            Reminder(
                department_id=department.id,
                department=department.name,
                reason=reason,
                state=state,
                latest_file=row["ファイル"],
                received=row["最終受付"],
                blocking=latest.blocking if latest else 0,
                blank_rows=tuple(blank) if reason == UNANSWERED else (),
                missing_rows=tuple(missing) if reason == UNANSWERED else (),
                call_key=outgoing_key(plan, department.id),
                intake_folder=f"{intake_prefix(year)}/{department.id}",
                feedback_key=feedback_of(written, year, latest) if latest else None,
                correction_key=feedback_of(written, year, latest, "修正用") if latest else None,
                email=department.email,
                contact=department.contact,
            )
        )
    found.sort(key=lambda r: REASONS.index(r.reason))  # stable: plan order within a reason
    deadline = plan.submission.deadline
    due_from = deadline - dt.timedelta(days=days_before) if deadline else None
    due = due_from is None or today >= due_from
    return ReminderList(
        fiscal_year=year,
        today=today,
        deadline=deadline,
        due_from=due_from,
        reminders=tuple(found) if due else (),
        not_yet_due=() if due else tuple(r.department for r in found),
        waiting=tuple(waiting),
    )


def list_reminders(plan: Plan, storage: Storage, days_before: int) -> ReminderList:
    """Return the departments to remind today (Japan time)."""
    return build_reminder_list(plan, storage, japan_today(), days_before)


def _reason(state: str, unanswered: list[str]) -> str | None:
    """Return why a department in ``state`` is reminded, or None when it is not."""
    if state == NOT_SUBMITTED:
        return NOT_SENT
    if state in (SENT_BACK, SENT_BACK_AFTER_ACCEPTED):
        return RESUBMIT
    if state == ACCEPTED and unanswered:
        return UNANSWERED
    return None


def _unanswered(
    plan: Plan, consolidated: pd.DataFrame, department_id: str
) -> tuple[list[str], list[str]]:
    """Return a department's initiatives with a required field empty, and those without a row.

    Only a department the dataset has accepted rows of is judged: before its first collection
    nothing is known. A grade left to its group (グループで評価) is not empty.
    """
    if consolidated.empty:
        return [], []
    rows = consolidated[consolidated["department_id"] == department_id].to_dict("records")
    answered = {str(r["initiative_id"]): r for r in rows if bool(r.get("submitted"))}
    if not answered:
        return [], []
    grouped = group_graded_rows(plan, department_id)
    required = [f for f in plan.submission.fields if f.required]
    blank, missing = [], []
    for initiative in plan.initiatives_of(department_id):
        row = answered.get(initiative.id)
        if row is None:
            missing.append(initiative.name)
            continue
        empty = [
            f
            for f in required
            if not (f.kind == "grade" and initiative.id in grouped)
            and not text_of(row.get(f.key)).strip()
        ]
        if empty:
            blank.append(initiative.name)
    return blank, missing


def deadline_note(reminders: ReminderList) -> str:
    """Return the deadline and where today stands against it, in one Japanese phrase."""
    if reminders.deadline is None:
        return "提出期限は決めていません（plan.yaml の submission.deadline）"
    days = (reminders.deadline - reminders.today).days
    if days < 0:
        where = f"期限を {-days} 日過ぎています"
    elif days == 0:
        where = "今日が期限です"
    else:
        where = f"期限まであと {days} 日です"
    return f"提出期限: {japanese_date(reminders.deadline)}（{where}）"


_WEEKDAYS = "月火水木金土日"


def japanese_date(day: dt.date) -> str:
    """Return a date as a letter writes it: ``2022年6月30日（木）``."""
    return f"{day.year}年{day.month}月{day.day}日（{_WEEKDAYS[day.weekday()]}）"


def locator(storage: Storage, department_folder: str | None) -> Callable[[str], str]:
    """Return how a key is shown to departments: under ``department_folder`` (the workspace
    as they reach it, ``\\\\fileserver\\shiryo``) when given, else where the storage has it."""
    if not department_folder:
        return storage.describe
    separator = "\\" if "\\" in department_folder else "/"
    root = department_folder.rstrip("/\\")

    def locate(key: str) -> str:
        return separator.join([root, *key.split("/")])

    return locate


def japan_today() -> dt.date:
    """Return today's date in Japan, whatever the machine's time zone."""
    return japan_date(dt.datetime.now(dt.UTC).isoformat())
