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

from tasks.errors import StorageError, UnreadableObjectError


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
        """Return every object under ``prefix``, sorted by key; none is left out.

        Objects whose key no safe key can name (``a//b``, ``a/./b``, ``a/../b``, a NUL; on a
        folder, a link or a FIFO) are listed too: reading one raises UnreadableObjectError.
        """
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
    """Return ``key`` if it is a safe relative key, else raise UnreadableObjectError.

    Safe: POSIX segments joined by single slashes, none empty, ``.`` or ``..``, no backslash
    and no NUL; the key is its own canonical form, so that it names one path on every backend.
    """
    if not key or "\\" in key or "\x00" in key or str(PurePosixPath(key)) != key:
        raise UnreadableObjectError(f"unsafe storage key: {key!r}", kind="key")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise UnreadableObjectError(f"unsafe storage key: {key!r}", kind="key")
    return key


def is_safe_key(key: str) -> bool:
    """Return whether ``key`` is a safe relative key (see ``safe_key``)."""
    try:
        safe_key(key)
    except StorageError:
        return False
    return True


def own_objects(objects: list[StoredObject]) -> list[StoredObject]:
    """Return the objects that shiryo itself could have written: those with safe keys.

    For the folders only shiryo writes (curated, feedback, results); an odd key there is
    nobody's output, and reading it would fail.
    """
    return [o for o in objects if is_safe_key(o.key)]


def resolved_parts(key: str) -> list[str]:
    """Return the folders and name a key spells, with empty and ``.`` segments dropped and
    ``..`` going up: ``intake/2021/a//../a/./x.xlsx`` is ``[intake, 2021, a, x.xlsx]``."""
    parts: list[str] = []
    for part in key.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return parts


def open_storage(workspace: str | Path) -> Storage:
    """Return the storage for a workspace: S3 for ``s3://bucket/prefix``, else a folder."""
    # Imported here: a folder workspace never loads boto3, and the backends import this module.
    if isinstance(workspace, str) and workspace.startswith("s3://"):
        from tasks.workspace.s3 import S3Storage

        return S3Storage.from_url(workspace)
    from tasks.workspace.folder import FolderStorage

    return FolderStorage(workspace)
