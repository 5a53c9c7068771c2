"""Submission status per department (提出状況): expected vs received, late, rejected.

One table serves the ``shiryo status`` command and the Prefect artifact of every run.
"""

from __future__ import annotations

import datetime as dt

from tasks.intake.ledger import STATUS_JA, Ledger, LedgerEntry, japan_date, japan_time
from tasks.plan.model import Plan
from tasks.workspace.names import display_name

NOT_SUBMITTED = "未提出"
WAITING = "確認待ち"
WAITING_AFTER_ACCEPTED = "確認待ち（前に受理したファイルあり）"
SENT_BACK = "差戻し中（再提出待ち）"
SENT_BACK_AFTER_ACCEPTED = "受理（その後の再提出は差戻し）"
ACCEPTED = "受理"
"""A department's state (状況), as ``shiryo status``, the run's summary and the 督促一覧 say it."""

STATUS_COLUMNS = [
    "部署", "状況", "最終受付", "ファイル", "要修正", "注意", "行の状況", "期限", "備考",
]  # fmt: skip


def build_status_rows(plan: Plan, ledger: Ledger, today: dt.date) -> list[dict[str, str]]:
    """Return one row per department: its state, its latest file and whether it is late."""
    deadline = plan.submission.deadline
    rows = []
    for department in plan.departments:
        entries = [e for e in ledger.entries if e.department_id == department.id]
        latest = latest_entry(entries)
        accepted = [e for e in entries if e.status == "accepted"]
        if latest is not None and latest.status == "pending":
            # Not yet checked: what the department sent last decides nothing yet.
            state = WAITING_AFTER_ACCEPTED if accepted else WAITING
        elif accepted and latest is not None and latest.status == "rejected":
            state = SENT_BACK_AFTER_ACCEPTED
        elif accepted:
            state = ACCEPTED
        elif any(e.status == "pending" for e in entries):
            state = WAITING
        elif entries:
            state = SENT_BACK
        else:
            state = NOT_SUBMITTED
        late = deadline is not None and (
            (not accepted and today > deadline)
            or (bool(accepted) and japan_date(accepted[-1].received_at) > deadline)
        )
        rows.append(
            {
                "部署": department.name,
                "状況": state,
                "最終受付": japan_time(latest.received_at) if latest else "",
                "ファイル": latest.original_name if latest else "",
                "要修正": str(latest.blocking) if latest else "",
                "注意": str(latest.warnings) if latest else "",
                "行の状況": _row_states(latest),
                "期限": ("期限超過" if late else "期限内") if deadline else "",
                "備考": _remarks(entries),
            }
        )
    stray = [e for e in ledger.entries if e.department_id is None]
    for entry in stray:
        rows.append(
            {
                "部署": "（フォルダ違い）",
                "状況": STATUS_JA[entry.status],
                "最終受付": japan_time(entry.received_at),
                "ファイル": display_name(entry.source_key),
                "要修正": str(entry.blocking),
                "注意": str(entry.warnings),
                "行の状況": _row_states(entry),
                "期限": "",
                "備考": _remarks([entry]),
            }
        )
    return rows


def format_status_table(rows: list[dict[str, str]]) -> str:
    """Return the rows as a plain-text table for the terminal."""
    lines = ["\t".join(STATUS_COLUMNS)]
    lines += ["\t".join(row[c] for c in STATUS_COLUMNS) for row in rows]
    return "\n".join(lines)


def _remarks(entries: list[LedgerEntry]) -> str:
    """Return what the latest run noted on a department's files: conflicts and how they were
    decided (same bytes elsewhere, several files at once, names that look the same), and why
    a file could not be read at all."""
    if not entries:
        return ""
    last_run = max(e.received_at for e in entries)
    remarks: dict[str, None] = {}
    for entry in entries:
        if entry.received_at != last_run:
            continue
        remarks.update(dict.fromkeys(entry.notes))
        if not entry.archive_key and entry.first_error:  # never read: nothing else says why
            remarks[f"「{entry.original_name}」: {entry.first_error}"] = None
    return " ／ ".join(remarks)


def _row_states(entry: LedgerEntry | None) -> str:
    """Return a file's rows by state, e.g. ``要修正 1・注意 20・問題なし 7``."""
    if entry is None or not entry.row_states:
        return ""
    states = ("要修正", "注意", "問題なし")
    return "・".join(f"{state} {entry.row_states.get(state, 0)}" for state in states)


def latest_entry(entries: list[LedgerEntry]) -> LedgerEntry | None:
    """Return a department's latest file that counts (a duplicate of an earlier one does not)."""
    counted = [e for e in entries if e.status != "duplicate"]
    return counted[-1] if counted else None
