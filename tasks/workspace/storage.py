"""Workspace storage: one small protocol, a folder backend and its S3 twin, chosen by location.

Keys are POSIX-style relative paths (``intake/2021/kenko-fukushi/調査票.xlsx``), built in
``tasks.workspace.keys``. Every write is atomic: a reader sees the old bytes or the new bytes,
never half a file. A workspace is a folder path or an ``s3://bucket/prefix`` URL (see
``open_storage``); both backends (``tasks.workspace.folder``, ``tasks.workspace.s3``) hold the
same keys under their root, and both offer the conditional writes the collection lease needs
(``tasks.workspace.lock``).
"""

from __future__ import annotations

import os
import socket
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

    def describe(self, key: str) -> str:
        """Return where ``key`` lives, for messages to people (a path or an s3:// URL)."""
        ...

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Write ``data`` to ``key`` only if nothing is there; return whether it was written."""
        ...

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        """Return the content of ``key`` and a version to replace it by, or None if absent."""
        ...

    def replace_if(self, key: str, data: bytes | None, version: str) -> bool:
        """Replace (``data``) or delete (None) ``key`` only if it is still at ``version``."""
        ...

    def remove_partial_writes(self, prefix: str = "") -> list[str]:
        """Remove what killed writers left under ``prefix``; return what was removed."""
        ...

    # Declared last: below it, ``list`` in this class body would name this method.
    def list(self, prefix: str) -> list[StoredObject]:
        """Return every object under ``prefix``, sorted by key."""
        ...


HOST = socket.gethostname()
"""This machine's name, in temporary files' and leases' names."""


def process_alive(pid: int) -> bool:
    """Return whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def safe_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise StorageError."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or "\x00" in key:
        raise StorageError(f"unsafe storage key: {key!r}")
    return str(path)


def open_storage(workspace: str | Path) -> Storage:
    """Return the storage for a workspace: S3 for ``s3://bucket/prefix``, else a folder."""
    # Imported here: a folder workspace never loads boto3, and the backends import this module.
    if isinstance(workspace, str) and workspace.startswith("s3://"):
        from tasks.workspace.s3 import S3Storage

        return S3Storage.from_url(workspace)
    from tasks.workspace.folder import FolderStorage

    return FolderStorage(workspace)
