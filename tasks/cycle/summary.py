"""What a coordinator is told at the end of a run: what came in, where each department
stands, the 差戻し票 to send now, and the 調査票 to send again after a plan edit.

The files of the run are the ledger's entries that were not there before it. Only the plan's
year counts for the 差戻し票, and of each department only its latest file (a 差戻し票 of a file
that a later submission replaced is history, not something to send). A file dropped outside
any department's folder is its own case: each one's 差戻し票 is listed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from tasks.call.record import (
    REASONS_JA,
    CallToResend,
    call_is_current,
    calls_to_resend,
    load_call_record,
)
from tasks.intake.ledger import STATUS_JA, Ledger, LedgerEntry
from tasks.intake.status import build_status_rows
from tasks.plan.fiscal_year import fiscal_year_label
from tasks.plan.model import Plan
from tasks.workspace.keys import feedback_prefix
from tasks.workspace.storage import Storage

STRAY_DEPARTMENT = "（フォルダ違い）"

OUTCOMES_JA = {
    "accepted": "受理",
    "superseded": "受理",  # accepted, then replaced by a later file of the same run
    "rejected": "差戻し",
    "pending": "確認待ち",
    "duplicate": "重複",
}
"""What became of a file in this run, in the words of the summary (in this order)."""


@dataclass(frozen=True)
class FeedbackToSend:
    """A 差戻し票 (or a note of 注意 on an accepted file) that a department should get now."""

    department: str
    """The department's name, or （フォルダ違い） for a file outside every department folder."""
    original_name: str
    status: str
    """What became of the file, in Japanese (差戻し, 受理 …)."""
    key: str
    correction: str | None = None
    """The department's own workbook with each cell to fix marked (修正用の調査票), if made."""


def current_feedback(plan: Plan, ledger: Ledger, storage: Storage) -> list[FeedbackToSend]:
    """Return the year's current 差戻し票: of each department's latest file, and of strays."""
    year = plan.fiscal_year.current
    written = [o.key for o in storage.list(feedback_prefix(year))]
    latest: list[tuple[str, LedgerEntry]] = []
    for department in plan.departments:
        counted = [
            e
            for e in ledger.entries
            if e.department_id == department.id and e.status != "duplicate"
        ]
        if counted:
            latest.append((department.name, counted[-1]))
    latest += [(STRAY_DEPARTMENT, e) for e in ledger.entries if e.department_id is None]
    found = []
    for name, entry in latest:
        key = feedback_of(written, year, entry)
        if key is not None:
            correction = feedback_of(written, year, entry, kind="修正用")
            found.append(
                FeedbackToSend(name, entry.original_name, STATUS_JA[entry.status], key, correction)
            )
    return found


def feedback_of(
    written: list[str], year: int, entry: LedgerEntry, kind: str = "差戻し票"
) -> str | None:
    """Return the feedback workbook written for ``entry``, found by folder and hash.

    Matched by the hash in its name rather than rebuilt from the file name, so that a change
    in how names are made safe never hides an older 差戻し票.
    """
    folder = f"{feedback_prefix(year)}/{entry.department_id or '_unassigned'}/"
    suffix = f"_{entry.sha256[:8]}.xlsx"
    matches = [k for k in written if k.startswith(f"{folder}{kind}_") and k.endswith(suffix)]
    return matches[-1] if matches else None


@dataclass(frozen=True)
class DepartmentSummary:
    """Where one department stands after the run, and what its files of this run became."""

    department: str
    state: str
    """As ``shiryo status`` says it (受理, 差戻し中（再提出待ち）, 確認待ち, 未提出 …)."""
    this_run: dict[str, int]
    """This run's files by outcome (受理, 差戻し, 確認待ち, 重複); empty when none came."""


@dataclass(frozen=True)
class RunSummary:
    """What a run of the year did and what is left to do."""

    fiscal_year: int
    new_files: dict[str, int]
    """This run's files by outcome; empty when nothing new came in."""
    departments: list[DepartmentSummary]
    feedback: list[FeedbackToSend]
    resend: list[CallToResend] = field(default_factory=list)
    """The 調査票 to send (again): changed since sent, or of a department added since."""


def summarise_run(
    plan: Plan, before: Ledger, after: Ledger, storage: Storage, today: dt.date
) -> RunSummary:
    """Return the run's summary from the year's ledger before and after it."""
    seen = {_identity(e) for e in before.entries}
    new = [e for e in after.entries if _identity(e) not in seen]
    rows = build_status_rows(plan, after, today)
    names = [d.name for d in plan.departments] + [STRAY_DEPARTMENT] * (
        len(rows) - len(plan.departments)
    )
    known = {d.id: d.name for d in plan.departments}
    by_department: dict[str, Counter[str]] = {}
    for entry in new:
        # A department taken out of the plan since keeps its id as its name.
        folder = entry.department_id
        name = known.get(folder, folder) if folder is not None else STRAY_DEPARTMENT
        by_department.setdefault(name, Counter())[OUTCOMES_JA[entry.status]] += 1
    departments = [
        DepartmentSummary(name, row["状況"], _ordered(by_department.get(name, Counter())))
        for name, row in zip(names, rows, strict=True)
        if name != STRAY_DEPARTMENT
    ]
    if STRAY_DEPARTMENT in by_department:
        departments.append(
            DepartmentSummary(
                STRAY_DEPARTMENT,
                "部署のフォルダの外のファイル（受け付けません）",
                _ordered(by_department[STRAY_DEPARTMENT]),
            )
        )
    return RunSummary(
        fiscal_year=after.fiscal_year,
        new_files=_ordered(Counter(OUTCOMES_JA[e.status] for e in new)),
        departments=departments,
        feedback=current_feedback(plan, after, storage),
        resend=calls_to_resend(plan, storage),
    )


def format_run_summary(summary: RunSummary, describe: Callable[[str], str]) -> list[str]:
    """Return the summary as lines for the terminal (``describe`` says where a key lives)."""
    total = sum(summary.new_files.values())
    year = fiscal_year_label(summary.fiscal_year)
    lines = [
        f"{year}の取り込み: 新しいファイル {total} 件"
        + (f"（{_counts(summary.new_files)}）" if total else "")
    ]
    width = max(len(d.department) for d in summary.departments)
    lines.append("部署ごとの状況:")
    for department in summary.departments:
        came = f"　今回 {_counts(department.this_run)}" if department.this_run else ""
        lines.append(f"  {department.department.ljust(width, '　')}　{department.state}{came}")
    if summary.feedback:
        lines.append("部署に返す差戻し票（各部署の最新の提出）:")
        for f in summary.feedback:
            lines.append(f"  {f.department}（{f.status}）: {describe(f.key)}")
            if f.correction:
                lines.append(f"    修正用の調査票（直すセルに印）: {describe(f.correction)}")
    else:
        lines.append("部署に返す差戻し票はありません。")
    if summary.resend:
        lines += format_resend(summary.resend, describe)
        lines.append(f"  {RESEND_UNTIL}")
    return lines


RESEND_TITLE = "送り直す調査票（配った後に内容が変わりました。部署に送ってください）:"
RESEND_UNTIL = "この一覧は、shiryo template を実行して表示されるまで、毎回表示されます。"


CALL_OUTDATED = (
    "plan.yaml が、調査票を作った後に変わっています。shiryo template（または shiryo run）で"
    "調査票を作り直すと、送り直す調査票が分かります。"
)


def call_outdated_note(plan: Plan, storage: Storage) -> str | None:
    """Return a note when the plan changed since the 調査票 were written (none before any)."""
    record = load_call_record(storage, plan.fiscal_year.current)
    if record.current is None or call_is_current(plan, storage):
        return None
    return CALL_OUTDATED


def format_resend(calls: list[CallToResend], describe: Callable[[str], str]) -> list[str]:
    """Return the 調査票 to send (again) as lines: each department, why, and where it is."""
    lines = [RESEND_TITLE]
    for call in calls:
        lines.append(f"  {call.department}（{REASONS_JA[call.reason]}）: {describe(call.key)}")
    return lines


def _identity(entry: LedgerEntry) -> tuple[str, str, str]:
    return entry.sha256, entry.source_key, entry.received_at


def _ordered(counts: Counter[str]) -> dict[str, int]:
    order = list(dict.fromkeys(OUTCOMES_JA.values()))
    return {label: counts[label] for label in order if counts[label]}


def _counts(counts: dict[str, int]) -> str:
    return "・".join(f"{label} {number} 件" for label, number in counts.items())
