"""Intake: find new files in the intake folder, archive their bytes once, keep a ledger.

A file is identified by the SHA-256 of its bytes. The original bytes go to
``archive/<fy>/<sha256>.xlsx`` (written once, never replaced) and every file ever seen has an
entry in the ledger ``ledger/<fy>.json`` with its status (受付状況).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tasks.plan import Plan
from tasks.storage import Storage, StoredObject

Status = Literal["pending", "accepted", "rejected", "superseded"]


class LedgerEntry(BaseModel):
    """One file ever taken from intake, with what became of it."""

    model_config = ConfigDict(extra="forbid")

    sha256: str
    department_id: str | None
    """The department whose intake folder the file was dropped in (None: no such folder)."""
    source_key: str
    original_name: str
    size: int
    received_at: str
    """When the file was first seen, ISO 8601 in UTC."""
    archive_key: str
    status: Status = "pending"
    first_error: str | None = None
    blocking: int = 0
    warnings: int = 0


class Ledger(BaseModel):
    """Every file seen for one fiscal year, in the order first seen."""

    model_config = ConfigDict(extra="forbid")

    fiscal_year: int
    entries: list[LedgerEntry] = []

    def known(self, sha256: str) -> bool:
        """Return whether these bytes were taken before."""
        return any(e.sha256 == sha256 for e in self.entries)


def ledger_key(fiscal_year: int) -> str:
    """Return the storage key of a year's ledger."""
    return f"ledger/{fiscal_year}.json"


def load_ledger(storage: Storage, fiscal_year: int) -> Ledger:
    """Return the year's ledger, empty if there is none yet."""
    key = ledger_key(fiscal_year)
    if not storage.exists(key):
        return Ledger(fiscal_year=fiscal_year)
    return Ledger.model_validate_json(storage.read_bytes(key))


def save_ledger(storage: Storage, ledger: Ledger) -> None:
    """Write the ledger atomically."""
    payload = json.dumps(ledger.model_dump(), ensure_ascii=False, indent=1, sort_keys=True)
    storage.write_bytes(ledger_key(ledger.fiscal_year), payload.encode("utf-8"))


def collect_new_files(
    storage: Storage, plan: Plan, ledger: Ledger, now: dt.datetime | None = None
) -> tuple[Ledger, list[LedgerEntry]]:
    """Archive every file in the year's intake that the ledger has not seen.

    Returns the ledger with the new entries appended (status ``pending``) and those entries.
    """
    fiscal_year = plan.fiscal_year.current
    received_at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    department_ids = {d.id for d in plan.departments}
    seen = {e.sha256 for e in ledger.entries}
    new_entries: list[LedgerEntry] = []
    for stored in storage.list(f"intake/{fiscal_year}"):
        data = storage.read_bytes(stored.key)
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in seen:
            continue
        seen.add(sha256)
        archive_key = f"archive/{fiscal_year}/{sha256}.xlsx"
        if not storage.exists(archive_key):
            storage.write_bytes(archive_key, data)
        folder = _department_folder(stored, fiscal_year)
        new_entries.append(
            LedgerEntry(
                sha256=sha256,
                department_id=folder if folder in department_ids else None,
                source_key=stored.key,
                original_name=unicodedata.normalize("NFC", stored.key.rsplit("/", 1)[-1]),
                size=stored.size,
                received_at=received_at,
                archive_key=archive_key,
            )
        )
    updated = ledger.model_copy(update={"entries": [*ledger.entries, *new_entries]})
    return updated, new_entries


def _department_folder(stored: StoredObject, fiscal_year: int) -> str | None:
    parts = stored.key.split("/")
    # intake/<fy>/<department>/<file>: anything else was dropped in the wrong place.
    if len(parts) == 4 and parts[1] == str(fiscal_year):
        return parts[2]
    return None
