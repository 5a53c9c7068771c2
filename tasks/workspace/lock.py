"""The collection lock (取り込みロック): one collection run per workspace and year at a time.

A lease stored in the workspace itself, ``locks/collect-<fy>.json``, so that it works for every
run that can reach the workspace, on any machine: a folder (created with a hard link, which
fails when the name exists) or S3 (``PutObject`` with ``If-None-Match: *``). It names its
holder (owner, host, pid) and an expiry that a thread of the holder renews while the run lives.

A lease is taken over when it has expired (its holder stopped renewing) or when its holder is
a process of this machine that no longer exists (a run killed a moment ago need not wait for
the expiry). Every change to an existing lease is conditional on the version read (the
folder's rename-and-check, S3's ``If-Match``), so two runs never both hold it. A run that finds
a live lease waits up to ``wait_seconds`` and then ends with ``LockBusyError``.
"""

from __future__ import annotations

import getpass
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from tasks.errors import LockBusyError, LockLostError, StorageError
from tasks.workspace.keys import TOP_FOLDERS, lock_key
from tasks.workspace.storage import HOST, Storage, process_alive

DEFAULT_TTL_SECONDS = 300.0
DEFAULT_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Lease:
    """Who holds the collection of one year, until when (epoch seconds)."""

    token: str
    owner: str
    host: str
    pid: int
    acquired_at: float
    expires_at: float

    def to_bytes(self) -> bytes:
        """Return the lease as the JSON stored in the workspace."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode("utf-8")

    def describe_ja(self) -> str:
        """Return the holder and expiry in Japanese, for messages to coordinators."""
        until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.expires_at))
        return f"{self.host} のプロセス {self.pid}（{self.owner}、期限 {until}）"


class CollectionLock:
    """A held lease: renewed by a thread until ``release``."""

    def __init__(self, storage: Storage, key: str, lease: Lease, version: str, ttl: float):
        self._storage = storage
        self._key = key
        self.lease = lease
        self._version = version
        self._ttl = ttl
        self._stop = threading.Event()
        self.lost: str | None = None
        self._thread = threading.Thread(target=self._renew_until_stopped, daemon=True)
        self._thread.start()

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(self._ttl / 3):
            self.renew()

    def renew(self) -> None:
        """Push the expiry forward; note the loss if another run took the lease meanwhile."""
        renewed = Lease(**{**asdict(self.lease), "expires_at": time.time() + self._ttl})
        data = renewed.to_bytes()
        try:
            self._storage.replace_if(self._key, data, self._version)
            # Read back rather than trust the answer: a retried write may be refused although
            # its first attempt went through.
            current = self._storage.read_versioned(self._key)
        except StorageError:
            # Not a loss yet: the lease runs until its expiry; the next tick tries again.
            return
        if current is None or current[0] != data:
            self.lost = "別の実行にロックを引き継がれたか、ロックが消えました"
            self._stop.set()
            return
        self.lease, self._version = renewed, current[1]

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still this run's."""
        self._stop.set()
        self._thread.join()
        if self.lost is None:
            self._storage.replace_if(self._key, None, self._version)


def _read_lease(data: bytes) -> Lease | None:
    try:
        return Lease(**json.loads(data))
    except (ValueError, TypeError):
        return None  # not a lease this code wrote: treated as abandoned


def _abandoned(lease: Lease | None, now: float) -> bool:
    if lease is None or lease.expires_at < now:
        return True
    return lease.host == HOST and lease.pid != os.getpid() and not process_alive(lease.pid)


def acquire_lock(
    storage: Storage,
    fiscal_year: int,
    *,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = 0.5,
) -> CollectionLock:
    """Take the year's collection lock, waiting up to ``wait_seconds`` for a live holder."""
    key = lock_key(fiscal_year)
    deadline = time.monotonic() + wait_seconds
    # One token for every attempt: a write whose answer was lost (and that S3 then refused
    # on the retry) is recognised as this run's own when read back.
    token = uuid.uuid4().hex
    while True:
        now = time.time()
        lease = Lease(
            token=token,
            owner=_user(),
            host=HOST,
            pid=os.getpid(),
            acquired_at=now,
            expires_at=now + ttl_seconds,
        )
        data = lease.to_bytes()
        if not storage.create_exclusive(key, data):
            current = storage.read_versioned(key)
            if current is None:
                continue  # released between the two calls: try again at once
            holder = _read_lease(current[0])
            if holder is not None and holder.token == token:
                return CollectionLock(storage, key, holder, current[1], ttl_seconds)
            if _abandoned(holder, now):
                storage.replace_if(key, data, current[1])
            elif time.monotonic() >= deadline:
                raise _busy(storage, key, holder)
        written = storage.read_versioned(key)
        if written is not None and written[0] == data:
            return CollectionLock(storage, key, lease, written[1], ttl_seconds)
        holder_now = _read_lease(written[0]) if written is not None else None
        if holder_now is not None and holder_now.token == token:
            continue  # ours, from an earlier attempt: taken as such on the next pass
        time.sleep(poll_seconds)


def ensure_lock_free(storage: Storage, fiscal_year: int) -> None:
    """Raise LockBusyError at once if a live run holds the year's lock (nothing is taken).

    A look before starting a run, for the coordinator's command: the run itself would wait
    for the holder, then fail. A lease that has expired or whose holder is gone is free.
    """
    key = lock_key(fiscal_year)
    current = storage.read_versioned(key)
    if current is None:
        return
    holder = _read_lease(current[0])
    if not _abandoned(holder, time.time()):
        raise _busy(storage, key, holder)


def _busy(storage: Storage, key: str, holder: Lease | None) -> LockBusyError:
    return LockBusyError(
        f"{storage.describe(key)}: 別の取り込み処理"
        f"（{holder.describe_ja() if holder else '不明'}）が実行中のため、"
        "この実行は何も取り込まずに終了しました。"
        "その処理が終わってから再実行してください。"
        "その処理が止まっている場合、ロックは期限が過ぎると次の実行が自動で"
        "引き継ぎます。"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@contextmanager
def collection_lock(
    storage: Storage,
    fiscal_year: int,
    *,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> Iterator[Lease]:
    """Hold the year's collection lock for the block; sweep killed writers' leftovers first.

    Raises LockBusyError when another run holds it past ``wait_seconds``, and LockLostError
    after the block when the lease was lost while it ran.
    """
    lock = acquire_lock(storage, fiscal_year, ttl_seconds=ttl_seconds, wait_seconds=wait_seconds)
    try:
        # Holding the lock, no other collection writes: what a killed one left is litter.
        for prefix in TOP_FOLDERS:
            storage.remove_partial_writes(prefix)
        yield lock.lease
    finally:
        lock.release()
    if lock.lost is not None:
        raise LockLostError(
            f"{storage.describe(lock_key(fiscal_year))}: 取り込み中にロックを失いました"
            f"（{lock.lost}）。同時に別の実行が動いた可能性があります。"
            "結果は次の実行で正しく揃いますが、念のため取り込みを再実行してください。"
        )
