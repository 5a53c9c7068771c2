"""The workspace in an S3 bucket under a key prefix (boto3): the folder backend's twin."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from tasks.errors import CredentialsError, StorageError
from tasks.workspace.names import visible_text
from tasks.workspace.storage import StoredObject, safe_key

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
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise CredentialsError(
            f"{what}: S3 の認証情報（アクセスキー）が見つかりません。環境変数 AWS_ACCESS_KEY_ID と"
            " AWS_SECRET_ACCESS_KEY、または AWS_PROFILE（~/.aws/credentials のプロファイル）を"
            "設定してから再実行してください。"
        ) from err
    except BotoCoreError as err:
        raise StorageError(
            f"{what}: S3 に接続できません（{type(err).__name__}、再試行後も同じ）。"
            "ネットワークと S3 の状態を確かめ、復旧してから再実行してください。"
        ) from err


class S3Storage:
    """Storage in an S3 bucket under a key prefix, with the folder backend's key layout.

    S3 holds any key: ``a//b``, ``a/./b``, ``a/../b``, a NUL, a backslash, a folder marker
    ending in ``/``. No safe key names them (the folder backend cannot hold them), but each
    is listed, so that nobody's file vanishes: reading one raises UnreadableObjectError. A
    listing also finds the keys that spell its folder oddly (``ws//intake/2021/…``,
    ``ws/intake/./2021/…``), by following empty and ``.`` segments down the way.
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
        self.prefix = safe_key(prefix.strip("/")) if prefix.strip("/") else ""
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
        key = safe_key(key)
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

    def _list_all(self, search: str) -> dict[str, tuple[int, float]]:
        """Return every key under ``search`` with its size and time."""
        found: dict[str, tuple[int, float]] = {}
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=search, PaginationConfig={"PageSize": self.page_size}
        )
        for page in pages:
            for item in page.get("Contents", []):
                found[str(item["Key"])] = (int(item["Size"]), item["LastModified"].timestamp())
        return found

    def _odd_spellings(self, start: str, folders: list[str]) -> list[str]:
        """Return the prefixes below ``start`` that spell ``folders`` with extra ``//`` or ``/./``.

        One listing by folder level (with a delimiter, so only the level's names come back);
        the plain spelling is listed by the caller.
        """
        found: list[str] = []
        level: list[tuple[str, int, bool]] = [(start, 0, False)]
        while level:
            below: list[tuple[str, int, bool]] = []
            for at, depth, odd in level:
                if depth == len(folders):
                    if odd:
                        found.append(at)
                    continue
                for name in self._folder_names(at):
                    if name in ("", "."):
                        below.append((f"{at}{name}/", depth, True))
                    elif name == folders[depth]:
                        below.append((f"{at}{name}/", depth + 1, odd))
            level = below
        return found

    def _folder_names(self, at: str) -> list[str]:
        """Return the names of the folders directly below ``at`` (S3's common prefixes)."""
        names: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=at, Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                names.append(str(common["Prefix"])[len(at) : -1])
        return names

    def describe(self, key: str) -> str:
        # For messages and logs: a key's control or bidi characters shown, never acting.
        return visible_text(f"s3://{self.bucket}/{self._object_key(key) if key else self.prefix}")

    # Declared last: below it, ``list`` in this class body would name this method.
    def list(self, prefix: str) -> list[StoredObject]:
        prefix = prefix.rstrip("/")  # a folder, with or without its slash
        root = f"{self.prefix}/" if self.prefix else ""
        # A prefix names a folder, as on disk: "intake/2021" must not match "intake/20210/".
        search = f"{self._object_key(prefix)}/" if prefix else root
        with _s3_errors("list", self.describe(prefix)):
            found = self._list_all(search)
            if prefix:
                for odd in self._odd_spellings(root, prefix.split("/")):
                    found |= self._list_all(odd)
        objects = [
            StoredObject(key=key.removeprefix(root), size=size, mtime=mtime)
            for key, (size, mtime) in found.items()
        ]
        return sorted(objects, key=lambda o: o.key)


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
