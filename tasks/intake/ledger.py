"""The ledger (受付台帳): every file seen in a year's intake, with what became of it.

One JSON document per year, ``ledger/<fy>.json``, written whole and atomically. Intake adds
entries (``tasks.intake.collect``); checking sets their status (``tasks.check.submissions``).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tasks.workspace.keys import ledger_key
from tasks.workspace.storage import Storage

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
    """The file name as shown to people (``tasks.workspace.names.display_name``)."""
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
