"""Whether a location holds a shiryo workspace, and a year in it: a typo must not become one.

A workspace is created on purpose only: by ``shiryo template``, ``shiryo demo`` or an explicit
``--new-workspace``, which write its marker (``shiryo-workspace.json``). A folder or S3 prefix
counts as a workspace when it holds the marker, or (a workspace from before the marker) a
ledger, a call or a dataset. A year counts as started when the workspace holds its call
workbooks, its intake folder or its ledger. The checks only look: they never write.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json

from tasks.errors import WorkspaceError
from tasks.workspace.keys import (
    WORKSPACE_MARKER,
    intake_prefix,
    ledger_key,
    outgoing_prefix,
)
from tasks.workspace.storage import HOST, Storage

_LEGACY_FOLDERS = ("ledger", "outgoing", "curated")
"""Folders whose contents show a workspace written before the marker existed (all small)."""


def is_workspace(storage: Storage) -> bool:
    """Return whether the storage holds a shiryo workspace."""
    if storage.exists(WORKSPACE_MARKER):
        return True
    return any(storage.list(folder) for folder in _LEGACY_FOLDERS)


def mark_workspace(storage: Storage) -> bool:
    """Make the location a workspace (write its marker) unless it is one; return if it was new."""
    if is_workspace(storage):
        return False
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    marker = {
        "shiryo": "この場所は shiryo の作業フォルダです。このファイルを消さないでください。",
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "created_by": f"{user}@{HOST}",
    }
    storage.write_bytes(WORKSPACE_MARKER, json.dumps(marker, ensure_ascii=False).encode())
    return True


def require_workspace(storage: Storage) -> None:
    """Raise WorkspaceError unless the storage holds a shiryo workspace."""
    if not is_workspace(storage):
        raise WorkspaceError(
            f"{storage.describe('')} は shiryo の作業フォルダではありません（見つからないか、"
            "shiryo のファイルがありません）。-w の指定を確かめてください。新しく始めるときは "
            "shiryo template で作るか、--new-workspace を付けてください。"
        )


def year_started(storage: Storage, fiscal_year: int) -> bool:
    """Return whether the workspace holds the year's ledger, call workbooks or intake."""
    if storage.exists(ledger_key(fiscal_year)):
        return True
    return any(storage.list(prefix(fiscal_year)) for prefix in (outgoing_prefix, intake_prefix))


def require_year(storage: Storage, fiscal_year: int) -> None:
    """Raise WorkspaceError unless the workspace holds something of ``fiscal_year``."""
    if not year_started(storage, fiscal_year):
        raise WorkspaceError(
            f"{storage.describe('')} には {fiscal_year}年度の調査票も提出も台帳もありません。"
            "--year の指定を確かめてください。その年度を始めるときは、先に "
            f"shiryo template --year {fiscal_year} で調査票を作ってください。"
        )
