"""The ledger (受付台帳): every file seen in a year's intake, with what became of it.

One JSON document per year, ``ledger/<fy>.json``, written whole and atomically. Intake adds
entries (``tasks.intake.collect``); checking sets their status (``tasks.check.submissions``).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
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
    notes: list[str] = []
    """How a conflict with other files was decided, in Japanese, naming them and the one taken
    (same bytes elsewhere, several files of one department at once, names that look the same)."""


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


_JAPAN = dt.timezone(dt.timedelta(hours=9), "JST")


def japan_time(received_at: str) -> str:
    """Return a ledger time (UTC) as Japan time with its offset: ``2021-06-01 09:00 +09:00``.

    The one way shiryo shows a time to people (status, 差戻し票, summaries, notes).
    """
    moment = dt.datetime.fromisoformat(received_at).astimezone(_JAPAN)
    return moment.strftime("%Y-%m-%d %H:%M +09:00")


def japan_date(received_at: str) -> dt.date:
    """Return the day in Japan of a ledger time."""
    return dt.datetime.fromisoformat(received_at).astimezone(_JAPAN).date()


def name_form(entry: LedgerEntry) -> str:
    """Return how an entry's file name is written, to tell apart names that look the same."""
    if entry.original_name_bytes is None:
        return "UTF-8・NFC"
    raw = bytes.fromhex(entry.original_name_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "Shift_JIS など UTF-8 以外"
    if unicodedata.is_normalized("NFC", text):
        return "UTF-8・見えない文字あり"
    return "UTF-8・NFD（Mac の表記）"
