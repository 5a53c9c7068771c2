"""Which 調査票 changed after a plan edit, and must be sent again (再送が必要).

Every 調査票 embeds the call version (``tasks.plan.load.call_version``): a hash of the whole
plan as departments see it. An edit that touches one department changes the version of all
of them, but not what the others' workbooks show. The call record, ``outgoing/<fy>.json``,
keeps for each version the digest of what each department's workbook shows (every cell of
every sheet, the embedded version aside), so that:

- the call rewrites a department's workbook only when what it shows changed; one whose
  content is the same stays as it was sent (its older version is as good as the new one);
- the check accepts a returned workbook of an older version as current when, for its
  department, that version shows what the current one shows, and tells the department
  plainly when it does not (``expectations/identity.json``);
- the coordinator is told which workbooks to send again: each department whose workbook
  changed, and a department added after the others got theirs, until ``shiryo template``
  has listed them (:func:`mark_listed`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tasks.plan.load import call_version
from tasks.plan.model import Plan
from tasks.workspace.keys import call_record_key, outgoing_key
from tasks.workspace.storage import Storage

Reason = Literal["changed", "figures", "new"]
"""Why a 調査票 is to be sent: the plan's edit changed what it shows, last year's figures
prefilled in it changed (the same plan), or its department was added after the others
got theirs."""

REASONS_JA: dict[str, str] = {
    "changed": "plan.yaml の変更",
    "figures": "前年度の実績の変更",
    "new": "新しい部署",
}

VersionState = Literal["current", "changed", "unknown"]
"""How a returned workbook's version stands for its department: the current one or one that
shows the same (current), one that shows something else (changed), or one the record cannot
compare (unknown: written before the record, or the plan edited since the last call)."""


class CallRecord(BaseModel):
    """What the year's 調査票 show, by version and department, and which are to be sent again."""

    model_config = ConfigDict(extra="forbid")

    fiscal_year: int
    current: str | None = None
    """The call version the outgoing workbooks were last written for."""
    contents: dict[str, dict[str, str]] = {}
    """By call version, by department id: the digest of what that department's workbook shows."""
    given: dict[str, str] = {}
    """By department id: the version of its workbook in ``outgoing`` (what it was given)."""
    resend: dict[str, Reason] = {}
    """By department id: a workbook written since ``shiryo template`` last listed them."""


@dataclass(frozen=True)
class CallToResend:
    """One department's 調査票 to send (again)."""

    department_id: str
    department: str
    reason: Reason
    key: str


def load_call_record(storage: Storage, fiscal_year: int) -> CallRecord:
    """Return the year's call record, empty if no call has written one."""
    key = call_record_key(fiscal_year)
    if not storage.exists(key):
        return CallRecord(fiscal_year=fiscal_year)
    return CallRecord.model_validate_json(storage.read_bytes(key))


def save_call_record(storage: Storage, record: CallRecord) -> None:
    """Write the call record atomically (sorted keys: the same record, the same bytes)."""
    payload = json.dumps(record.model_dump(), ensure_ascii=False, indent=1, sort_keys=True)
    storage.write_bytes(call_record_key(record.fiscal_year), payload.encode("utf-8"))


def calls_to_resend(plan: Plan, storage: Storage) -> list[CallToResend]:
    """Return the 調査票 to send (again), in the plan's order of departments."""
    resend = load_call_record(storage, plan.fiscal_year.current).resend
    return [
        CallToResend(d.id, d.name, resend[d.id], outgoing_key(plan, d.id))
        for d in plan.departments
        if d.id in resend
    ]


def mark_listed(storage: Storage, fiscal_year: int) -> None:
    """Forget the 調査票 to send again: ``shiryo template`` has just listed them."""
    record = load_call_record(storage, fiscal_year)
    if record.resend:
        save_call_record(storage, record.model_copy(update={"resend": {}}))


def call_is_current(plan: Plan, storage: Storage) -> bool:
    """Return whether the outgoing workbooks were last written for this plan's version.

    Not so after an edit and back (the step's earlier result is cached under the older
    key, but ``outgoing`` holds the edit's workbooks), nor before a call made a record.
    """
    record = load_call_record(storage, plan.fiscal_year.current)
    return record.current == call_version(plan)


def version_state(
    record: CallRecord, current: str, department_id: str | None, version: str | None
) -> VersionState | None:
    """Return how a returned workbook's ``version`` stands for its department (None: no
    version to judge; the identity rules report what is missing)."""
    if version is None:
        return None
    if version == current:
        return "current"
    shown = record.contents.get(current, {}).get(department_id or "")
    sent = record.contents.get(version, {}).get(department_id or "")
    if shown is None or sent is None:
        return "unknown"
    return "current" if shown == sent else "changed"


def version_contents(record: CallRecord) -> bytes:
    """Return what the check reads of the record (its cache key's part): the contents."""
    return json.dumps(record.contents, sort_keys=True).encode()
