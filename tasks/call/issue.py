"""Write the year's 調査票, each only when what it shows is new or changed.

What a workbook shows is compared by :func:`workbook_content`; what was compared is kept in
the call record (``tasks.call.record``), with the departments whose workbook to send again.
"""

from __future__ import annotations

import hashlib
import io
import json

from tasks.call.record import CallRecord, load_call_record, save_call_record
from tasks.call.workbook import IDENTITY_SHEET, PreviousValues, build_submission_workbook
from tasks.plan.load import call_version
from tasks.plan.model import Plan
from tasks.workspace.keys import outgoing_key, outgoing_prefix
from tasks.workspace.storage import Storage


def write_call(plan: Plan, storage: Storage, previous: PreviousValues) -> list[str]:
    """Write each department's 調査票 whose content is new or changed; return every key.

    A department whose workbook would show what the one in ``outgoing`` shows keeps that
    one, byte for byte. A changed one, and one of a department added after the others got
    theirs, is written and marked to send (again). The record notes what each shows.
    """
    year = plan.fiscal_year.current
    before = load_call_record(storage, year)
    existing = {o.key for o in storage.list(outgoing_prefix(year))}
    issue = _Issue(before, call_version(plan), handed_out=bool(before.given or existing))
    keys = []
    for department in plan.departments:
        key = outgoing_key(plan, department.id)
        old = storage.read_bytes(key) if key in existing else None
        data = build_submission_workbook(plan, department.id, previous)
        if issue.needs_writing(department.id, old, data):
            storage.write_bytes(key, data)
        keys.append(key)
    record = issue.record({d.id for d in plan.departments})
    if record != before:
        save_call_record(storage, record)
    return keys


class _Issue:
    """The call record being updated by one call, department by department."""

    def __init__(self, before: CallRecord, version: str, handed_out: bool) -> None:
        self._before = before
        self._version = version
        self._handed_out = handed_out
        self._contents = {v: dict(d) for v, d in before.contents.items()}
        self._given = dict(before.given)
        self._resend = dict(before.resend)

    def needs_writing(self, department_id: str, old: bytes | None, data: bytes) -> bool:
        """Return whether ``data`` must replace ``old``, noting what each shows."""
        if old == data:
            self._given[department_id] = self._version
            return False
        if old is not None:
            self._note_old(department_id, old)
        # What it was given: the workbook in outgoing, or one deleted by hand since.
        given_version = self._given.get(department_id)
        given = self._contents.get(given_version or "", {}).get(department_id)
        # After the old one: a version names the plan, not last year's figures prefilled.
        # Noted for a first 調査票 too: deleted by hand later, it is compared with this.
        content = self._note(self._version, department_id, data)
        if given == content and old is not None:
            return False  # the same rows and fields: the one sent stays as it was
        self._given[department_id] = self._version
        if given is None:
            if self._handed_out:  # a department added after the others got theirs
                self._resend[department_id] = "new"
        elif given != content:
            same_plan = given_version == self._version
            self._resend[department_id] = "figures" if same_plan else "changed"
        return True

    def record(self, departments: set[str]) -> CallRecord:
        """Return the record after this call (departments no longer in the plan not to send)."""
        return CallRecord(
            fiscal_year=self._before.fiscal_year,
            current=self._version,
            contents=self._contents,
            given=self._given,
            resend={d: r for d, r in self._resend.items() if d in departments},
        )

    def _note(self, version: str, department_id: str, data: bytes) -> str:
        content = workbook_content(data)[1]
        self._contents.setdefault(version, {})[department_id] = content
        return content

    def _note_old(self, department_id: str, old: bytes) -> None:
        # A workbook whose version cannot be read is given as an unknown one: never the same.
        version, content = workbook_content(old)
        version = version or f"unreadable-{content}"
        self._contents.setdefault(version, {})[department_id] = content
        self._given[department_id] = version


def workbook_content(data: bytes) -> tuple[str | None, str]:
    """Return a 調査票's embedded call version and a digest of everything else it shows.

    Every sheet's name and cell values, in order, the identity sheet without its version.
    A workbook that cannot be read shows nothing known: a digest that matches no other.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    digest = hashlib.sha256()
    version: str | None = None
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in workbook.sheet_names:
            rows = workbook.get_sheet_by_name(name).to_python()
            if name == IDENTITY_SHEET:
                version = next((str(r[1]) for r in rows if r[:1] == ["plan_hash"]), None)
                rows = [r for r in rows if r[:1] != ["plan_hash"]]
            digest.update(json.dumps([name, rows], ensure_ascii=False, default=str).encode())
    except (CalamineError, ValueError, OSError):
        return None, f"unreadable:{hashlib.sha256(data).hexdigest()}"
    return version, digest.hexdigest()
