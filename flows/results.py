"""Prefect task results kept in the workspace itself (``_prefect/results/``), folder or S3.

A Retry pressed in the UI skips a finished step only when it finds that step's persisted
result under the step's cache key. Kept in Prefect's home folder, results stay on the machine
that ran the step; kept in the workspace, every worker that can open the workspace finds
them, and they travel with it (a backup, a copied workspace).
"""

from __future__ import annotations

import hashlib
import threading

import anyio.to_thread
from prefect.filesystems import WritableFileSystem

from tasks.workspace.keys import result_key
from tasks.workspace.storage import open_storage


class WorkspaceResults(WritableFileSystem):
    """A Prefect result store over the workspace's own storage (``tasks.workspace.storage``)."""

    _block_type_name = "shiryo workspace results"
    workspace: str
    """The workspace: a folder path or ``s3://bucket/prefix``."""

    def _read(self, path: str) -> bytes:
        storage = open_storage(self.workspace)
        key = result_key(path)
        if not storage.exists(key):  # Prefect reads this as "no result yet": not cached
            raise FileNotFoundError(storage.describe(key))
        return storage.read_bytes(key)

    def _write(self, path: str, content: bytes) -> None:
        open_storage(self.workspace).write_bytes(result_key(path), content)

    async def aread_path(self, path: str) -> bytes:
        """Return a stored result (from an async caller)."""
        return await anyio.to_thread.run_sync(self._read, path)

    def read_path(self, path: str, _sync: bool = True) -> bytes:  # type: ignore[override]
        """Return a stored result (Prefect's synchronous callers pass ``_sync``)."""
        return self._read(path)

    async def awrite_path(self, path: str, content: bytes) -> None:
        """Store a result, atomically as every workspace write (from an async caller)."""
        await anyio.to_thread.run_sync(self._write, path, content)

    def write_path(self, path: str, content: bytes, _sync: bool = True) -> None:  # type: ignore[override]
        """Store a result, atomically as every workspace write."""
        self._write(path, content)


def workspace_results(workspace: str) -> WorkspaceResults:
    """Return the result store of a workspace, saved as a block on the Prefect server.

    Prefect only takes result storage that the server knows (a saved block): the block is
    named after the workspace (``shiryo-results-<hash>``). A process asks the server once
    per workspace: a block already there is used as it is (one call, ~50 ms, where saving
    takes five, 0.15–0.25 s); a new workspace's is saved after that look.
    """
    from prefect.settings import PREFECT_API_URL

    name = "shiryo-results-" + hashlib.sha256(workspace.encode()).hexdigest()[:12]
    where = (str(PREFECT_API_URL.value()), name)
    with _SAVED_LOCK:
        saved = _SAVED.get(where)
        if saved is None:
            saved = _already_saved(name, workspace)
            if saved is None:
                saved = WorkspaceResults(workspace=workspace)
                saved.save(name, overwrite=True)
            _SAVED[where] = saved
    return saved


def _already_saved(name: str, workspace: str) -> WorkspaceResults | None:
    """Return the workspace's block as the server has it, or None when it must be saved."""
    try:
        found = WorkspaceResults.load(name, _sync=True)  # type: ignore[call-arg]
    except Exception:  # not there, or saved by another version of this class: save it anew
        return None
    return found if isinstance(found, WorkspaceResults) and found.workspace == workspace else None


_SAVED: dict[tuple[str, str], WorkspaceResults] = {}
_SAVED_LOCK = threading.Lock()
