"""What a coordinator is told at the end of a run: the 差戻し票 to send now.

Only the plan's year counts, and of each department only its latest file (a 差戻し票 of a file
that a later submission replaced is history, not something to send). A file dropped outside
any department's folder is its own case: each one's 差戻し票 is listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.intake.ledger import STATUS_JA, Ledger, LedgerEntry
from tasks.plan.model import Plan
from tasks.workspace.keys import feedback_prefix
from tasks.workspace.storage import Storage

STRAY_DEPARTMENT = "（フォルダ違い）"


@dataclass(frozen=True)
class FeedbackToSend:
    """A 差戻し票 (or a note of 注意 on an accepted file) that a department should get now."""

    department: str
    """The department's name, or （フォルダ違い） for a file outside every department folder."""
    original_name: str
    status: str
    """What became of the file, in Japanese (差戻し, 受理 …)."""
    key: str


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
        key = _feedback_of(written, year, entry)
        if key is not None:
            found.append(FeedbackToSend(name, entry.original_name, STATUS_JA[entry.status], key))
    return found


def _feedback_of(written: list[str], year: int, entry: LedgerEntry) -> str | None:
    """Return the feedback workbook written for ``entry``, found by folder and hash.

    Matched by the hash in its name rather than rebuilt from the file name, so that a change
    in how names are made safe never hides an older 差戻し票.
    """
    folder = f"{feedback_prefix(year)}/{entry.department_id or '_unassigned'}/"
    suffix = f"_{entry.sha256[:8]}.xlsx"
    matches = [k for k in written if k.startswith(folder) and k.endswith(suffix)]
    return matches[-1] if matches else None
