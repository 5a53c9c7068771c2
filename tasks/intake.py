"""Intake: take each complete new file in the intake folder exactly once, archive it, log it.

A file is identified by the SHA-256 of its bytes. It is taken only when it is complete: its size
and modification time are the same in two listings ``settle_seconds`` apart (a file still being
copied changes between them and waits for the next run). The original bytes go to
``archive/<fy>/<sha256>.xlsx`` (written once, never replaced) and every sighting has an entry in
the ledger ``ledger/<fy>.json`` (受付台帳): the same bytes under another name are recorded as a
``duplicate`` and never processed twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tasks.plan import Plan
from tasks.storage import Storage, StoredObject

Status = Literal["pending", "accepted", "rejected", "superseded", "duplicate"]

STATUS_JA: dict[str, str] = {
    "pending": "確認待ち",
    "accepted": "受理",
    "rejected": "差戻し",
    "superseded": "受理（新しい提出で置換）",
    "duplicate": "重複（同じ内容の提出済みファイルあり）",
}


class LedgerEntry(BaseModel):
    """One sighting of a file in intake, with what became of it."""

    model_config = ConfigDict(extra="forbid")

    sha256: str
    department_id: str | None
    """The department whose intake folder the file was dropped in (None: no such folder)."""
    source_key: str
    original_name: str
    size: int
    source_mtime: float = 0.0
    """Modification time of the source when taken (epoch seconds), to skip re-hashing it."""
    received_at: str
    """When the file was taken, ISO 8601 in UTC."""
    archive_key: str
    status: Status = "pending"
    first_error: str | None = None
    blocking: int = 0
    warnings: int = 0
    row_states: dict[str, int] = {}
    """Rows of the file by state (要修正, 注意, 問題なし), so one bad row hides no other."""


class Ledger(BaseModel):
    """Every file seen for one fiscal year, in the order taken."""

    model_config = ConfigDict(extra="forbid")

    fiscal_year: int
    entries: list[LedgerEntry] = []


class IntakeResult(BaseModel):
    """What one look at the intake folder found."""

    model_config = ConfigDict(extra="forbid")

    taken: list[LedgerEntry]
    """New files, archived and recorded as pending."""
    duplicates: list[LedgerEntry]
    """Known bytes under a new name, recorded and not processed again."""
    waiting: list[str]
    """Keys of files left for the next run: still changing between the two looks, or the
    same bytes as a file of another folder that is not yet checked."""


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


def list_stable(
    storage: Storage, prefix: str, settle_seconds: float
) -> tuple[list[StoredObject], list[str]]:
    """Return the objects whose size and time did not change between two looks, and the rest."""
    first = {o.key: o for o in storage.list(prefix)}
    if settle_seconds > 0:
        time.sleep(settle_seconds)
    second = storage.list(prefix)
    stable = [o for o in second if first.get(o.key) == o]
    changing = sorted({o.key for o in second} - {o.key for o in stable})
    return stable, changing


def collect_new_files(
    storage: Storage,
    plan: Plan,
    ledger: Ledger,
    settle_seconds: float = 2.0,
    now: dt.datetime | None = None,
) -> tuple[Ledger, IntakeResult]:
    """Archive every complete file in the year's intake that the ledger has not seen.

    Returns the ledger with the new sightings appended and what was found.
    """
    fiscal_year = plan.fiscal_year.current
    received_at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    department_ids = {d.id for d in plan.departments}
    seen_sources = {(e.source_key, e.size, e.source_mtime) for e in ledger.entries}
    seen_pairs = {(e.source_key, e.sha256) for e in ledger.entries}
    # Bytes count as already taken only while they are in force for the same folder: a file
    # rejected for its folder and moved into the right one, or an older version sent again to
    # revert a newer one, is taken anew.
    in_force = {
        (e.department_id, e.sha256) for e in ledger.entries if e.status in ("pending", "accepted")
    }
    # Checking decides per sha256: the same bytes from two folders in one batch would share
    # one verdict (a misplaced copy would reject the department's own file). The second
    # folder's file waits until the first is decided, for the next run.
    undecided = {e.sha256 for e in ledger.entries if e.status == "pending"}
    stable, waiting = list_stable(storage, f"intake/{fiscal_year}", settle_seconds)
    stable = [o for o in stable if not _is_system_file(o.key)]
    waiting = [k for k in waiting if not _is_system_file(k)]
    taken: list[LedgerEntry] = []
    duplicates: list[LedgerEntry] = []
    candidates = [o for o in stable if (o.key, o.size, o.mtime) not in seen_sources]
    # Read in chunks: a chunk's bytes are archived before the next is read (memory stays
    # bounded however many files arrived).
    for start in range(0, len(candidates), _READ_CHUNK_FILES):
        chunk = candidates[start : start + _READ_CHUNK_FILES]
        unchanged, replaced = _read_unchanged(storage, fiscal_year, chunk)
        waiting += replaced
        for stored, data in unchanged:
            sha256 = hashlib.sha256(data).hexdigest()
            if (stored.key, sha256) in seen_pairs:
                continue  # touched but not changed
            seen_pairs.add((stored.key, sha256))
            folder = _department_folder(stored, fiscal_year)
            entry = LedgerEntry(
                sha256=sha256,
                department_id=folder if folder in department_ids else None,
                source_key=stored.key,
                original_name=unicodedata.normalize("NFC", stored.key.rsplit("/", 1)[-1]),
                size=stored.size,
                source_mtime=stored.mtime,
                received_at=received_at,
                archive_key=f"archive/{fiscal_year}/{sha256}.xlsx",
            )
            if (entry.department_id, sha256) in in_force:
                duplicates.append(entry.model_copy(update={"status": "duplicate"}))
                continue
            if sha256 in undecided:
                seen_pairs.discard((stored.key, sha256))
                waiting.append(stored.key)
                continue
            in_force.add((entry.department_id, sha256))
            undecided.add(sha256)
            if not storage.exists(entry.archive_key):
                storage.write_bytes(entry.archive_key, data)
            taken.append(entry)

    # The ledger's order is the order of submission: a department's newest file is its last.
    taken.sort(key=lambda e: (e.source_mtime, e.source_key))
    updated = ledger.model_copy(update={"entries": [*ledger.entries, *taken, *duplicates]})
    return updated, IntakeResult(taken=taken, duplicates=duplicates, waiting=sorted(waiting))


_READ_CHUNK_FILES = 500
"""New intake files read, then checked against a fresh listing, at a time."""


def _read_unchanged(
    storage: Storage, fiscal_year: int, candidates: list[StoredObject]
) -> tuple[list[tuple[StoredObject, bytes]], list[str]]:
    """Read the candidates; return those still as listed after reading, and the others' keys.

    A file can be replaced after the two looks, while it is read (a department saving over
    it): bytes that do not match the listing, or a listing that changed, are not taken.
    """
    read = [(stored, storage.read_bytes(stored.key)) for stored in candidates]
    if not read:
        return [], []
    after = {o.key: o for o in storage.list(f"intake/{fiscal_year}")}
    unchanged = [(o, data) for o, data in read if after.get(o.key) == o and len(data) == o.size]
    kept = {o.key for o, _ in unchanged}
    return unchanged, [o.key for o, _ in read if o.key not in kept]


_SYSTEM_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def _is_system_file(key: str) -> bool:
    """Return whether a key is an editor's lock file or an OS file, not a submission."""
    name = key.rsplit("/", 1)[-1]
    # Excel keeps "~$name.xlsx" while a workbook is open; Finder and Explorer leave the rest.
    return name.startswith(("~$", ".")) or name.lower() in _SYSTEM_NAMES


def _department_folder(stored: StoredObject, fiscal_year: int) -> str | None:
    parts = stored.key.split("/")
    # intake/<fy>/<department>/<file>: anything else was dropped in the wrong place.
    if len(parts) == 4 and parts[1] == str(fiscal_year):
        return unicodedata.normalize("NFC", parts[2])
    return None
