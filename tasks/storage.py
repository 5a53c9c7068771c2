"""Workspace storage: one small protocol, a folder backend (and an S3 twin, chosen by config).

Keys are POSIX-style relative paths (``intake/2021/kenko-fukushi/調査票.xlsx``). Every write
is atomic: a reader sees the old bytes or the new bytes, never half a file.

The workspace layout, the same on every backend::

    outgoing/<fy>/<department>/   submission workbooks sent to departments (調査票)
    intake/<fy>/<department>/     where departments drop their filled workbooks
    archive/<fy>/<sha256>.xlsx    original bytes of every file taken, never rewritten
    ledger/<fy>.json              every file ever seen with its status
    feedback/<fy>/<department>/   feedback workbooks (差戻し票) for departments
    curated/<fy>/                 the consolidated dataset (Parquet, xlsx)
    reports/<fy>/                 the committee's 資料 (docx, xlsx)
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from tasks.errors import StorageError


@dataclass(frozen=True)
class StoredObject:
    """One object in storage: its key, size in bytes and modification time (epoch seconds)."""

    key: str
    size: int
    mtime: float


class Storage(Protocol):
    """What the pipeline needs from a place that holds files."""

    def read_bytes(self, key: str) -> bytes:
        """Return the whole content of ``key``."""
        ...

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write ``data`` to ``key`` atomically, replacing what was there."""
        ...

    def exists(self, key: str) -> bool:
        """Return whether ``key`` holds an object."""
        ...

    def list(self, prefix: str) -> list[StoredObject]:
        """Return every object under ``prefix``, sorted by key."""
        ...

    def describe(self, key: str) -> str:
        """Return where ``key`` lives, for messages to people (a path or an s3:// URL)."""
        ...


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise StorageError."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or "\x00" in key:
        raise StorageError(f"unsafe storage key: {key!r}")
    return str(path)


class FolderStorage:
    """Storage on a local or network folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as err:
            raise StorageError(f"cannot read {self.describe(key)}: {err}") from err

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp_name, target)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as err:
            raise StorageError(f"cannot write {self.describe(key)}: {err}") from err

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[StoredObject]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        objects = []
        try:
            for path in base.rglob("*"):
                if not path.is_file() or path.name.startswith(".tmp-"):
                    continue
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                objects.append(StoredObject(key=key, size=stat.st_size, mtime=stat.st_mtime))
        except OSError as err:
            raise StorageError(f"cannot list {self.describe(prefix)}: {err}") from err
        return sorted(objects, key=lambda o: o.key)

    def describe(self, key: str) -> str:
        return str(self._path(key)) if key else str(self.root)


def open_storage(workspace: str | Path) -> Storage:
    """Return the storage for a workspace location (a folder path)."""
    return FolderStorage(workspace)
