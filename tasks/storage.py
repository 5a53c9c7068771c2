"""Workspace storage: one small protocol, a folder backend and its S3 twin, chosen by location.

Keys are POSIX-style relative paths (``intake/2021/kenko-fukushi/調査票.xlsx``). Every write
is atomic: a reader sees the old bytes or the new bytes, never half a file. A workspace is a
folder path or an ``s3://bucket/prefix`` URL (see ``open_storage``); both backends hold the
same keys under their root.

The workspace layout, the same on every backend::

    outgoing/<fy>/<department>/   submission workbooks sent to departments (調査票)
    intake/<fy>/<department>/     where departments drop their filled workbooks
    archive/<fy>/<sha256>.xlsx    original bytes of every file taken, never rewritten
    ledger/<fy>.json              every file ever seen with its status
    feedback/<fy>/<department>/   feedback workbooks (差戻し票) for departments
    curated/<fy>/                 the consolidated dataset (Parquet, xlsx)
    reports/<fy>/                 the committee's 資料 (docx, xlsx)
    datadocs/<fy>/                GX Data Docs of the validations, for the coordinator
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

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


_HOST = socket.gethostname()
_FOREIGN_TEMP_AGE = 24 * 3600


def _writer_is_gone(path: Path) -> bool:
    """Return whether the process that named a temporary file can no longer finish it."""
    pid_text, _, rest = path.name.removeprefix(".tmp-").partition("@")
    if rest.startswith(f"{_HOST}.") and pid_text.isdigit():
        return not process_alive(int(pid_text))
    return time.time() - path.stat().st_mtime > _FOREIGN_TEMP_AGE


def _temp_prefix() -> str:
    # Named after the writing process (read at each write: a forked worker has its own id).
    return f".tmp-{os.getpid()}@{_HOST}."


def process_alive(pid: int) -> bool:
    """Return whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise StorageError."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or "\x00" in key:
        raise StorageError(f"unsafe storage key: {key!r}")
    return str(path)


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
        return self.root / check_key(key)

    def _check_root(self, *, must_exist: bool = False) -> None:
        if self.root.is_dir():
            _seen_roots.add(self.root)
        elif must_exist or self.root in _seen_roots:
            raise StorageError(
                f"作業フォルダ {self.root} が見つかりません（消えたか、共有フォルダの接続が"
                "切れています）。フォルダと接続を確かめてから再実行してください。"
            )

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
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
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(), suffix=".part")
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
        base = self._path(prefix) if prefix else self.root
        self._check_root()
        if not base.is_dir():
            return []
        objects = []
        try:
            for path in base.rglob("*"):
                # A link could pull any readable file of this machine into the archive.
                if path.is_symlink() or not path.is_file() or path.name.startswith(".tmp-"):
                    continue
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                objects.append(StoredObject(key=key, size=stat.st_size, mtime=stat.st_mtime))
        except OSError as err:
            raise StorageError(f"{self.describe(prefix)} の一覧を取得できません: {err}") from err
        return sorted(objects, key=lambda o: o.key)

    def describe(self, key: str) -> str:
        return str(self._path(key)) if key else str(self.root)


# Credentials, region and endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, for moto or MinIO)
# come from the standard AWS chain; only the transport's behaviour is set here. botocore
# itself retries connection errors, 500/503 and throttling in "standard" mode.
_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 4},
    connect_timeout=5,
    read_timeout=30,
)
# Error codes S3 answers with when an object is not there (HeadObject has no body: "404").
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
# A conditional write that lost: the object exists, changed, or another write was under way.
_CONFLICT_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_session_lock = threading.Lock()


@functools.cache
def _boto3_session() -> Any:
    # One session per process: it loads the service model and resolves the credential chain
    # once, so each further client costs milliseconds. boto3 is imported here, not at the top,
    # so that folder workspaces never pay for it.
    import boto3

    return boto3.session.Session()


def _new_s3_client(config: Config) -> Any:
    """Create an S3 client from the standard AWS chain (env, profile, instance role)."""
    # A boto3 session is not thread-safe; the clients it makes are.
    with _session_lock:
        return _boto3_session().client("s3", config=config)


_ACTIONS_JA = {
    "read": "を読めません",
    "write": "に書き込めません",
    "check": "を確認できません",
    "list": "の一覧を取得できません",
}


@contextmanager
def _s3_errors(action: str, url: str) -> Iterator[None]:
    """Translate botocore's errors inside the block to StorageError naming ``url``, in Japanese.

    By then botocore has already retried what may pass (5xx, throttling, resets, timeouts).
    """
    what = f"{url} {_ACTIONS_JA[action]}"
    try:
        yield
    except ClientError as err:
        code = _error_code(err)
        if code in _MISSING_CODES:
            raise StorageError(f"{what}: そのオブジェクトがありません。") from err
        attempts = err.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
        raise StorageError(
            f"{what}: S3 がエラー {code} を返しました（{attempts} 回試行）。"
            "S3 の状態と権限を確かめ、復旧してから再実行してください。"
        ) from err
    except (ConnectTimeoutError, ReadTimeoutError) as err:
        raise StorageError(
            f"{what}: S3 が時間内に応答しません（再試行後も同じ）。"
            "ネットワークと S3 の状態を確かめ、復旧してから再実行してください。"
        ) from err
    except BotoCoreError as err:
        raise StorageError(
            f"{what}: S3 に接続できません（{type(err).__name__}、再試行後も同じ）。"
            "ネットワークと S3 の状態を確かめ、復旧してから再実行してください。"
        ) from err


class S3Storage:
    """Storage in an S3 bucket under a key prefix, with the folder backend's key layout.

    Objects under the prefix that no key can name (folder markers ending in ``/``, keys with
    ``//``, ``..`` or a backslash) are not listed: the folder backend cannot hold them either.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        page_size: int = 1000,
        client_config: Config | None = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise StorageError(f"not an S3 bucket name: {bucket!r}")
        self.bucket = bucket
        self.prefix = check_key(prefix.strip("/")) if prefix.strip("/") else ""
        self.page_size = page_size
        self.client_config = (
            _CLIENT_CONFIG.merge(client_config) if client_config else _CLIENT_CONFIG
        )

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        """Return the storage rooted at ``s3://bucket/prefix``."""
        if not url.startswith("s3://"):
            raise StorageError(f"not an s3:// URL: {url!r}")
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return cls(bucket, prefix)

    @functools.cached_property
    def _client(self) -> Any:
        # Created on first use, so that opening a storage never touches the network.
        return _new_s3_client(self.client_config)

    def _object_key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def read_bytes(self, key: str) -> bytes:
        url = self.describe(key)
        with _s3_errors("read", url):
            response = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
            with closing(response["Body"]) as body:
                data: bytes = body.read()
        return data

    def write_bytes(self, key: str, data: bytes) -> None:
        # One PutObject: S3 makes the object visible whole or not at all.
        url = self.describe(key)
        with _s3_errors("write", url):
            self._client.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=data)

    def exists(self, key: str) -> bool:
        with _s3_errors("check", self.describe(key)):
            try:
                self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
            except ClientError as err:
                if _error_code(err) in _MISSING_CODES:
                    return False
                raise
        return True

    def remove_partial_writes(self, prefix: str = "") -> list[str]:
        """Return nothing: a PutObject is visible whole or not at all, never half written."""
        return []

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Write ``data`` to ``key`` only if nothing is there (``If-None-Match: *``)."""
        with _s3_errors("write", self.describe(key)):
            try:
                self._client.put_object(
                    Bucket=self.bucket, Key=self._object_key(key), Body=data, IfNoneMatch="*"
                )
            except ClientError as err:
                if _error_code(err) in _CONFLICT_CODES:
                    return False
                raise
        return True

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        """Return the bytes of ``key`` and its ETag, or None when there is no object."""
        with _s3_errors("read", self.describe(key)):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
            except ClientError as err:
                if _error_code(err) in _MISSING_CODES:
                    return None
                raise
            with closing(response["Body"]) as body:
                data: bytes = body.read()
        return data, str(response["ETag"])

    def replace_if(self, key: str, data: bytes | None, version: str) -> bool:
        """Replace (or, with None, delete) ``key`` only if its ETag is still ``version``."""
        with _s3_errors("write", self.describe(key)):
            try:
                if data is None:
                    self._client.delete_object(
                        Bucket=self.bucket, Key=self._object_key(key), IfMatch=version
                    )
                else:
                    self._client.put_object(
                        Bucket=self.bucket, Key=self._object_key(key), Body=data, IfMatch=version
                    )
            except ClientError as err:
                if _error_code(err) in _CONFLICT_CODES | _MISSING_CODES:
                    return False
                raise
        return True

    def list(self, prefix: str) -> list[StoredObject]:
        root = f"{self.prefix}/" if self.prefix else ""
        # A prefix names a folder, as on disk: "intake/2021" must not match "intake/20210/".
        search = f"{self._object_key(prefix)}/" if prefix else root
        objects = []
        with _s3_errors("list", self.describe(prefix)):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=search, PaginationConfig={"PageSize": self.page_size}
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = str(item["Key"]).removeprefix(root)
                    if _is_canonical_key(key):
                        objects.append(
                            StoredObject(
                                key=key,
                                size=int(item["Size"]),
                                mtime=item["LastModified"].timestamp(),
                            )
                        )
        return sorted(objects, key=lambda o: o.key)

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._object_key(key) if key else self.prefix}"


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _is_canonical_key(key: str) -> bool:
    # A "\\" is only a character in S3: such a key is listed (the intake refuses it by name,
    # visibly) though it is never read or written.
    try:
        return check_key(key.replace("\\", "_")) == key.replace("\\", "_")
    except StorageError:
        return False


def open_storage(workspace: str | Path) -> Storage:
    """Return the storage for a workspace: S3 for ``s3://bucket/prefix``, else a folder."""
    if isinstance(workspace, str) and workspace.startswith("s3://"):
        return S3Storage.from_url(workspace)
    return FolderStorage(workspace)
