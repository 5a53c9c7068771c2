"""Intake: take each complete new file in the intake folder exactly once, archive it, log it.

A file is identified by the SHA-256 of its bytes. It is taken only when it is complete: a
workbook written to its end, or a file whose size and modification time stayed the same for
``settle_seconds`` (two listings, the second once the youngest file not known whole is that
old; a file still being copied changes between them and waits for the next run, see
``tasks.intake.files.list_stable``). The original bytes go to
``archive/<fy>/<sha256>.xlsx`` (written once, never replaced) and every sighting has an entry in
the ledger ``ledger/<fy>.json`` (受付台帳): the same bytes under another name in the same folder
are recorded as a ``duplicate`` (its note names the file they repeat) and never processed twice.
The same bytes in another department's folder are taken too: checking decides between the
copies (``tasks.check.conflicts``), so that nothing is held back to another run.

Any name is data (``tasks.workspace.names``): the ledger holds its display form and its
exact bytes, and a name that looks like another file's in the same folder (NFC and NFD, or
Shift_JIS and UTF-8) gets a note naming it. Every object the storage lists is one entry, save
editors' and systems' own files (``is_artefact``): one that cannot be read at all (a key no
safe path can name such as ``a//b`` or ``../x``, a link, no permission) is a rejected entry
whose first error says so; a file that vanished while being read waits. Neither stops the
other files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from tasks.intake.files import is_artefact, is_system_file, list_stable, read_unchanged
from tasks.intake.ledger import Ledger, LedgerEntry, japan_time, name_form
from tasks.plan.model import Plan
from tasks.workspace.keys import archive_key, intake_prefix
from tasks.workspace.names import display_name, exact_name_hex, ledger_text, name_bytes
from tasks.workspace.storage import Storage, StoredObject, resolved_parts


class IntakeResult(BaseModel):
    """What one look at the intake folder found."""

    model_config = ConfigDict(extra="forbid")

    taken: list[LedgerEntry]
    """New files, archived and recorded as pending."""
    duplicates: list[LedgerEntry]
    """Known bytes under a new name, recorded and not processed again."""
    waiting: list[str]
    """Keys of files left for the next run: still changing between the two looks, or
    replaced while being read."""
    unreadable: list[LedgerEntry] = []
    """Files that can never be read (name refused, no permission), recorded as rejected."""


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
    run = _IntakeRun.starting_from(storage, plan, ledger, received_at)
    seen_sources = {(e.source_key, e.size, e.source_mtime) for e in ledger.entries}
    stable, waiting = list_stable(storage, intake_prefix(fiscal_year), settle_seconds)
    stable = [o for o in stable if not is_artefact(o)]
    run.waiting += [k for k in waiting if not is_system_file(k)]
    candidates = [o for o in stable if (ledger_text(o.key), o.size, o.mtime) not in seen_sources]
    # In the order of submission: of the same bytes twice, the first received is taken.
    candidates.sort(key=lambda o: (o.mtime, o.key))
    # Read in chunks: a chunk's bytes are archived before the next is read (memory stays
    # bounded however many files arrived).
    for start in range(0, len(candidates), _READ_CHUNK_FILES):
        chunk = candidates[start : start + _READ_CHUNK_FILES]
        unchanged, replaced, refused = read_unchanged(storage, fiscal_year, chunk)
        run.waiting += replaced
        for stored, reason in refused:
            run.refuse(stored, reason)
        for stored, data in unchanged:
            run.take(stored, data)
    run.note_look_alikes()
    # The ledger's order is the order of submission: a department's newest file is its last.
    run.taken.sort(key=lambda e: (e.source_mtime, e.source_key))
    updated = ledger.model_copy(
        update={"entries": [*ledger.entries, *run.taken, *run.duplicates, *run.unreadable]}
    )
    result = IntakeResult(
        taken=run.taken,
        duplicates=run.duplicates,
        unreadable=run.unreadable,
        waiting=sorted(ledger_text(k) for k in run.waiting),
    )
    return updated, result


@dataclass
class _IntakeRun:
    """What one intake run has decided so far, over what the ledger already holds."""

    storage: Storage
    fiscal_year: int
    department_ids: set[str]
    received_at: str
    seen_pairs: set[tuple[str, str]]
    """(source key, sha256) of every sighting: a file touched but not changed is not new."""
    in_force: dict[tuple[str | None, str], LedgerEntry]
    """By (department, sha256), the file pending or accepted: the same bytes again are a
    duplicate of it."""
    names: dict[tuple[str | None, str], list[LedgerEntry]]
    """By (department, name as shown), every file seen: a new one that looks the same is noted."""
    accepted: dict[str, LedgerEntry]
    """By sha256, a file of an earlier run accepted with those bytes: a copy elsewhere is noted."""
    department_names: dict[str, str]
    taken: list[LedgerEntry] = field(default_factory=list)
    duplicates: list[LedgerEntry] = field(default_factory=list)
    unreadable: list[LedgerEntry] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    @classmethod
    def starting_from(
        cls, storage: Storage, plan: Plan, ledger: Ledger, received_at: str
    ) -> _IntakeRun:
        """Return a run that knows what the ledger has seen and decided."""
        names: dict[tuple[str | None, str], list[LedgerEntry]] = {}
        for entry in ledger.entries:
            names.setdefault((entry.department_id, entry.original_name), []).append(entry)
        return cls(
            storage=storage,
            fiscal_year=plan.fiscal_year.current,
            department_ids={d.id for d in plan.departments},
            received_at=received_at,
            seen_pairs={(e.source_key, e.sha256) for e in ledger.entries},
            # Bytes count as already taken only while they are in force for the same folder:
            # a file rejected for its folder and moved into the right one, or an older
            # version sent again to revert a newer one, is taken anew. The same bytes in
            # another folder are taken too: checking decides between the copies.
            in_force={
                (e.department_id, e.sha256): e
                for e in ledger.entries
                if e.status in ("pending", "accepted")
            },
            names=names,
            accepted={e.sha256: e for e in ledger.entries if e.status == "accepted"},
            department_names={d.id: d.name for d in plan.departments},
        )

    def refuse(self, stored: StoredObject, reason: str) -> None:
        """Record a file that can never be read as rejected, with the reason."""
        entry = _sighting(
            stored, self.fiscal_year, self.department_ids, _unreadable_id(stored), self.received_at
        )
        self.unreadable.append(
            entry.model_copy(update={"status": "rejected", "first_error": reason, "blocking": 1})
        )

    def take(self, stored: StoredObject, data: bytes) -> None:
        """Archive and record a file read whole, unless it is known (a duplicate)."""
        sha256 = hashlib.sha256(data).hexdigest()
        source = ledger_text(stored.key)
        if (source, sha256) in self.seen_pairs:
            return  # touched but not changed
        self.seen_pairs.add((source, sha256))
        entry = _sighting(stored, self.fiscal_year, self.department_ids, sha256, self.received_at)
        repeated = self.in_force.get((entry.department_id, sha256))
        if repeated is not None:
            note = (
                f"内容が「{repeated.original_name}」（{japan_time(repeated.received_at)} 受付）と"
                "同じため、同じ提出として扱いました（確認は 1 回だけです）。"
            )
            self.duplicates.append(
                entry.model_copy(update={"status": "duplicate", "notes": [*entry.notes, note]})
            )
            return
        self.in_force[(entry.department_id, sha256)] = entry
        earlier = self.accepted.get(sha256)
        if earlier is not None and earlier.department_id != entry.department_id:
            # Checked on its own (against the folder it is in); the note says whose it was.
            note = _copied_note(earlier, self.department_names)
            entry = entry.model_copy(update={"notes": [*entry.notes, note]})
        if not self.storage.exists(entry.archive_key):
            self.storage.write_bytes(entry.archive_key, data)
        self.taken.append(entry)

    def note_look_alikes(self) -> None:
        """Note on each new file every other file of its folder whose name looks the same."""
        new = [*self.taken, *self.duplicates, *self.unreadable]
        for entry in new:
            self.names.setdefault((entry.department_id, entry.original_name), []).append(entry)
        self.taken, self.duplicates, self.unreadable = (
            [self._noted(e) for e in entries]
            for entries in (self.taken, self.duplicates, self.unreadable)
        )

    def _noted(self, entry: LedgerEntry) -> LedgerEntry:
        """Return the entry with a note on each other file whose name looks the same."""
        same = self.names[(entry.department_id, entry.original_name)]
        twins = [e for e in same if e.source_key != entry.source_key]
        if not twins:
            return entry
        notes = [
            f"同じ名前に見える別のファイル「{twin.original_name}」（{name_form(twin)}、"
            f"{japan_time(twin.received_at)} 受付）があります。名前の文字の表記"
            f"（このファイルは {name_form(entry)}）が違う別のファイルとして扱いました。"
            for twin in twins[:3]
        ]
        return entry.model_copy(update={"notes": [*entry.notes, *notes]})


def _copied_note(earlier: LedgerEntry, department_names: dict[str, str]) -> str:
    where = department_names.get(earlier.department_id or "", "部署のフォルダの外")
    return (
        f"同じ内容のファイルが、すでに受理した「{earlier.original_name}」（{where}、"
        f"{japan_time(earlier.received_at)} 受付）にあります。このファイルは置かれたフォルダの"
        "部署の提出として確認しました。"
    )


def _sighting(
    stored: StoredObject,
    fiscal_year: int,
    department_ids: set[str],
    sha256: str,
    received_at: str,
) -> LedgerEntry:
    """Return the ledger entry of a listed file: its key and name as text, its exact bytes."""
    folder = _department_folder(stored, fiscal_year)
    name = stored.key.rstrip("/").rsplit("/", 1)[-1] + ("/" if stored.key.endswith("/") else "")
    return LedgerEntry(
        sha256=sha256,
        department_id=folder if folder in department_ids else None,
        source_key=ledger_text(stored.key),
        original_name=display_name(name),
        original_name_bytes=exact_name_hex(name),
        size=stored.size,
        source_mtime=stored.mtime,
        received_at=received_at,
        archive_key=archive_key(fiscal_year, sha256) if len(sha256) == 64 else "",
    )


def _unreadable_id(stored: StoredObject) -> str:
    """Return an id for a file whose bytes cannot be read: from its name, size and time."""
    listed = name_bytes(stored.key) + f"\0{stored.size}\0{stored.mtime}".encode()
    return "unreadable-" + hashlib.sha256(listed).hexdigest()[:32]


_READ_CHUNK_FILES = 500
"""New intake files read, then checked against a fresh listing, at a time."""


def _department_folder(stored: StoredObject, fiscal_year: int) -> str | None:
    # intake/<fy>/<department>/<file>: anything else was dropped in the wrong place. A key
    # that spells its folders oddly (intake/2021/kenko//a.xlsx) belongs where it resolves to.
    parts = resolved_parts(stored.key)
    if len(parts) == 4 and parts[:2] == ["intake", str(fiscal_year)]:
        return unicodedata.normalize("NFC", parts[2])
    return None
