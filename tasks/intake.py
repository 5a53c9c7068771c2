"""Intake: take each complete new file in the intake folder exactly once, archive it, log it.

A file is identified by the SHA-256 of its bytes. It is taken only when it is complete: its size
and modification time stayed the same for ``settle_seconds`` (two listings, the second once the
youngest file is that old; a file still being copied changes between them and waits for the
next run, see ``tasks.intake_files.list_stable``). The original bytes go to
``archive/<fy>/<sha256>.xlsx`` (written once, never replaced) and every sighting has an entry in
the ledger ``ledger/<fy>.json`` (受付台帳): the same bytes under another name are recorded as a
``duplicate`` and never processed twice.

Any name is data (``tasks.names``): the ledger holds its display form and its exact bytes. A
file that cannot be read at all (a name the storage refuses, no permission) is one rejected
entry whose first error says so; a file that vanished while being read waits. Neither stops
the other files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tasks.intake_files import is_system_file, list_stable, read_unchanged
from tasks.names import display_name, exact_name_hex, ledger_text, name_bytes
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
    """The key as listed (escaped as ``\\x8c`` where its bytes are not UTF-8)."""
    original_name: str
    """The file name as shown to people (``tasks.names.display_name``)."""
    original_name_bytes: str | None = None
    """The exact bytes of the file name in hex, when they are not ``original_name`` in UTF-8."""
    size: int
    source_mtime: float = 0.0
    """Modification time of the source when taken (epoch seconds), to skip re-hashing it."""
    received_at: str
    """When the file was taken, ISO 8601 in UTC."""
    archive_key: str
    """Where the bytes are kept; empty for a file that could not be read at all."""
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
    unreadable: list[LedgerEntry] = []
    """Files that can never be read (name refused, no permission), recorded as rejected."""


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
    stable = [o for o in stable if not is_system_file(o.key)]
    waiting = [k for k in waiting if not is_system_file(k)]
    taken: list[LedgerEntry] = []
    duplicates: list[LedgerEntry] = []
    unreadable: list[LedgerEntry] = []
    candidates = [o for o in stable if (ledger_text(o.key), o.size, o.mtime) not in seen_sources]
    # Read in chunks: a chunk's bytes are archived before the next is read (memory stays
    # bounded however many files arrived).
    for start in range(0, len(candidates), _READ_CHUNK_FILES):
        chunk = candidates[start : start + _READ_CHUNK_FILES]
        unchanged, replaced, refused = read_unchanged(storage, fiscal_year, chunk)
        waiting += replaced
        for stored, reason in refused:
            unreadable.append(
                _sighting(
                    stored, fiscal_year, department_ids, _unreadable_id(stored), received_at
                ).model_copy(update={"status": "rejected", "first_error": reason, "blocking": 1})
            )
        for stored, data in unchanged:
            sha256 = hashlib.sha256(data).hexdigest()
            if (ledger_text(stored.key), sha256) in seen_pairs:
                continue  # touched but not changed
            seen_pairs.add((ledger_text(stored.key), sha256))
            entry = _sighting(stored, fiscal_year, department_ids, sha256, received_at)
            if (entry.department_id, sha256) in in_force:
                duplicates.append(entry.model_copy(update={"status": "duplicate"}))
                continue
            if sha256 in undecided:
                seen_pairs.discard((ledger_text(stored.key), sha256))
                waiting.append(ledger_text(stored.key))
                continue
            in_force.add((entry.department_id, sha256))
            undecided.add(sha256)
            if not storage.exists(entry.archive_key):
                storage.write_bytes(entry.archive_key, data)
            taken.append(entry)

    # The ledger's order is the order of submission: a department's newest file is its last.
    taken.sort(key=lambda e: (e.source_mtime, e.source_key))
    updated = ledger.model_copy(
        update={"entries": [*ledger.entries, *taken, *duplicates, *unreadable]}
    )
    result = IntakeResult(
        taken=taken,
        duplicates=duplicates,
        unreadable=unreadable,
        waiting=sorted(ledger_text(k) for k in waiting),
    )
    return updated, result


def _sighting(
    stored: StoredObject,
    fiscal_year: int,
    department_ids: set[str],
    sha256: str,
    received_at: str,
) -> LedgerEntry:
    """Return the ledger entry of a listed file: its key and name as text, its exact bytes."""
    folder = _department_folder(stored, fiscal_year)
    name = stored.key.rsplit("/", 1)[-1]
    return LedgerEntry(
        sha256=sha256,
        department_id=folder if folder in department_ids else None,
        source_key=ledger_text(stored.key),
        original_name=display_name(name),
        original_name_bytes=exact_name_hex(name),
        size=stored.size,
        source_mtime=stored.mtime,
        received_at=received_at,
        archive_key=f"archive/{fiscal_year}/{sha256}.xlsx" if len(sha256) == 64 else "",
    )


def _unreadable_id(stored: StoredObject) -> str:
    """Return an id for a file whose bytes cannot be read: from its name, size and time."""
    listed = name_bytes(stored.key) + f"\0{stored.size}\0{stored.mtime}".encode()
    return "unreadable-" + hashlib.sha256(listed).hexdigest()[:32]


_READ_CHUNK_FILES = 500
"""New intake files read, then checked against a fresh listing, at a time."""


def _department_folder(stored: StoredObject, fiscal_year: int) -> str | None:
    parts = stored.key.split("/")
    # intake/<fy>/<department>/<file>: anything else was dropped in the wrong place.
    if len(parts) == 4 and parts[1] == str(fiscal_year):
        return unicodedata.normalize("NFC", parts[2])
    return None
