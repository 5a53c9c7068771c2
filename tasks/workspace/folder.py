"""The workspace on a local or network folder: atomic writes by rename, leases by hard link.

A listing leaves nothing out: links and what is no regular file (a FIFO, a socket) are listed
as they are, and reading one refuses (UnreadableObjectError): a link could pull any readable
file of this machine into the archive, and a FIFO would block the reader for ever.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tasks.errors import StorageError, UnreadableObjectError
from tasks.workspace.names import visible_text
from tasks.workspace.storage import HOST, StoredObject, process_alive, safe_key

_O_BINARY = getattr(os, "O_BINARY", 0)
"""Windows opens files in text mode unless told; elsewhere the flag does not exist."""

_FOREIGN_TEMP_AGE = 24 * 3600
"""A temporary file of another machine's writer is litter once this old (seconds)."""


def _writer_is_gone(path: Path) -> bool:
    """Return whether the process that named a temporary file can no longer finish it."""
    pid_text, _, rest = path.name.removeprefix(".tmp-").partition("@")
    if rest.startswith(f"{HOST}.") and pid_text.isdigit():
        return not process_alive(int(pid_text))
    return time.time() - path.stat().st_mtime > _FOREIGN_TEMP_AGE


def _temp_prefix() -> str:
    # Named after the writing process (read at each write: a forked worker has its own id).
    return f".tmp-{os.getpid()}@{HOST}."


# Workspace folders this process has seen: one missing now has vanished (a network share
# dropped), and must not silently be started afresh on the local disk underneath.
_seen_roots: set[Path] = set()


class FolderStorage:
    """Storage on a local or network folder.

    A write creates the workspace folder when it was never there (a new workspace); once this
    process has seen it, a missing workspace is an error, not a new empty one.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / safe_key(key)

    def _check_root(self, *, must_exist: bool = False) -> None:
        if self.root.is_dir():
            _seen_roots.add(self.root)
        elif must_exist or self.root in _seen_roots:
            raise StorageError(
                f"作業フォルダ {self.root} が見つかりません（消えたか、共有フォルダの接続が"
                "切れています）。フォルダと接続を確かめてから再実行してください。"
            )

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            # Not through a link, and without waiting on a FIFO: such an object is refused.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise UnreadableObjectError(
                    f"{self.describe(key)} はリンクのため読みません", kind="link"
                ) from err
            raise StorageError(f"{self.describe(key)} を読めません: {err}") from err
        try:
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise UnreadableObjectError(
                        f"{self.describe(key)} は通常のファイルではないため読みません",
                        kind="special",
                    )
                return handle.read()
        except OSError as err:
            raise StorageError(f"{self.describe(key)} を読めません: {err}") from err

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        self._check_root()
        try:
            with self._temp_beside(target, data) as tmp_name:
                os.replace(tmp_name, target)
        except OSError as err:
            raise StorageError(f"{self.describe(key)} に書き込めません: {err}") from err

    def exists(self, key: str) -> bool:
        path = self._path(key)
        self._check_root()
        return path.is_file()

    def remove_partial_writes(self, prefix: str = "") -> list[str]:
        """Delete the temporary files that killed writers left under ``prefix``; return them.

        A temporary file is named after the process that writes it (``.tmp-<pid>@<host>.…``).
        One is removed when that process is gone from this machine, or, from another machine,
        when it is a day old: a writer still alive is never disturbed.
        """
        base = self._path(prefix) if prefix else self.root
        removed = []
        try:
            for path in sorted(base.rglob(".tmp-*.part")) if base.is_dir() else []:
                if path.is_file() and not path.is_symlink() and _writer_is_gone(path):
                    path.unlink(missing_ok=True)
                    removed.append(path.relative_to(self.root).as_posix())
        except OSError as err:
            raise StorageError(
                f"{self.describe(prefix)} の書きかけの一時ファイルを片付けられません: {err}"
            ) from err
        return removed

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Write ``data`` to ``key`` only if nothing is there; return whether it was written.

        The workspace folder must exist: a lock is never the first thing in a new one.
        """
        target = self._path(key)
        self._check_root(must_exist=True)
        try:
            with self._temp_beside(target, data) as tmp_name:
                try:
                    # A hard link appears whole and fails if the name exists (also on NFS).
                    os.link(tmp_name, target)
                except FileExistsError:
                    return False
        except OSError as err:
            raise StorageError(f"{self.describe(key)} に書き込めません: {err}") from err
        return True

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        """Return the bytes of ``key`` and a version that changes with them, or None."""
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageError(f"{self.describe(key)} を読めません: {err}") from err
        return data, hashlib.sha256(data).hexdigest()

    def replace_if(self, key: str, data: bytes | None, version: str) -> bool:
        """Replace (or, with None, delete) ``key`` only if it is still at ``version``.

        The object is first renamed aside (only one contender can), then checked: if it had
        changed meanwhile, it is put back and nothing is written.
        """
        target = self._path(key)
        aside = target.with_name(f"{_temp_prefix()}{uuid.uuid4().hex}.part")
        try:
            try:
                os.rename(target, aside)
            except FileNotFoundError:
                return False
            try:
                if hashlib.sha256(aside.read_bytes()).hexdigest() != version:
                    with suppress(FileExistsError):
                        os.link(aside, target)
                    return False
            finally:
                aside.unlink(missing_ok=True)
        except OSError as err:
            raise StorageError(f"{self.describe(key)} を置き換えられません: {err}") from err
        return data is None or self.create_exclusive(key, data)

    @contextmanager
    def _temp_beside(self, target: Path, data: bytes) -> Iterator[str]:
        """Yield a temporary file holding ``data`` beside ``target``, for the caller to rename
        or link into place; whatever is left of it is removed afterwards."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp_name = self._write_temp(target, data)
        try:
            yield tmp_name
        finally:
            Path(tmp_name).unlink(missing_ok=True)  # gone already once renamed

    def _write_temp(self, target: Path, data: bytes) -> str:
        # Not mkstemp: its files are 0600 whatever the umask, and a rename keeps the mode, so
        # no colleague could read a 資料. Created as 0666 less the umask, as any program's.
        # O_EXCL: a name already there (a link planted beside the target) is never written.
        tmp_name = str(target.parent / f"{_temp_prefix()}{uuid.uuid4().hex}.part")
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return tmp_name

    def list(self, prefix: str) -> list[StoredObject]:
        prefix = prefix.rstrip("/")  # a folder, with or without its slash
        base = self._path(prefix) if prefix else self.root
        self._check_root()
        if not base.is_dir():
            return []
        objects = []
        try:
            # rglob does not descend into a linked folder: the link itself is listed.
            for path in base.rglob("*"):
                try:
                    info = path.lstat()
                except FileNotFoundError:
                    continue  # gone since the folder was read: not there
                if stat.S_ISDIR(info.st_mode) or path.name.startswith(".tmp-"):
                    continue
                key = path.relative_to(self.root).as_posix()
                objects.append(StoredObject(key=key, size=info.st_size, mtime=info.st_mtime))
        except OSError as err:
            raise StorageError(f"{self.describe(prefix)} の一覧を取得できません: {err}") from err
        return sorted(objects, key=lambda o: o.key)

    def describe(self, key: str) -> str:
        # For messages and logs: a name's control or bidi characters shown, never acting.
        return visible_text(str(self._path(key)) if key else str(self.root))
