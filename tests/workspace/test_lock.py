"""Runs at the same time: one collection holds the year, a dead one's lock is taken over, files
still arriving wait for the next run and are never read half written."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.cycle.steps import take_intake
from tasks.errors import LockBusyError, LockLostError
from tasks.intake.collect import collect_new_files
from tasks.intake.ledger import load_ledger
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tasks.workspace.lock import Lease, acquire_lock, collection_lock, lock_key
from tasks.workspace.storage import Storage, open_storage
from tests.flows.test_annual_cycle_kill import RunOutcome, run_scenarios, template  # noqa: F401  # fixtures
from tests.helpers import filled_workbook

YEAR = 2021


def _plant(storage: Storage, **fields: object) -> None:
    """Write a lease as another run would have left it."""
    lease = {
        "token": "other",
        "owner": "someone",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "acquired_at": time.time(),
        "expires_at": time.time() + 300,
        **fields,
    }
    storage.write_bytes(lock_key(YEAR), json.dumps(lease).encode())


def _dead_pid() -> int:
    """Return the id of a process of this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_a_second_run_waits_then_ends_with_a_clear_message(storage: Storage) -> None:
    """It refuses a second holder while the first lives, naming the holder, in Japanese."""
    first = acquire_lock(storage, YEAR)
    started = time.monotonic()
    with pytest.raises(LockBusyError) as raised:
        acquire_lock(storage, YEAR, wait_seconds=1, poll_seconds=0.2)
    assert 1 <= time.monotonic() - started < 10
    message = str(raised.value)
    assert "別の取り込み処理" in message and f"プロセス {os.getpid()}" in message
    assert storage.describe(lock_key(YEAR)) in message
    first.release()
    assert not storage.exists(lock_key(YEAR))
    acquire_lock(storage, YEAR, wait_seconds=0).release()


@pytest.mark.parametrize(
    "stale",
    [
        {"pid": "dead"},  # a killed run of this machine: taken over at once
        {"host": "other-host", "expires_at": 0},  # another machine stopped renewing
        {"garbage": True},  # not a lease at all
    ],
    ids=["dead-pid", "expired", "unreadable"],
)
def test_a_stale_lock_is_taken_over(storage: Storage, stale: dict[str, object]) -> None:
    """It takes over a lease whose holder is gone, without waiting for anyone."""
    if stale.get("garbage"):
        storage.write_bytes(lock_key(YEAR), b"{not json")
    else:
        _plant(storage, **{**stale, "pid": _dead_pid() if stale.get("pid") else 1})
    lock = acquire_lock(storage, YEAR, wait_seconds=0)
    held = json.loads(storage.read_bytes(lock_key(YEAR)))
    assert (held["token"], held["pid"]) == (lock.lease.token, os.getpid())
    lock.release()


def test_a_live_lock_of_another_machine_is_respected(storage: Storage) -> None:
    """It does not take a lease that another machine still renews."""
    _plant(storage, host="other-host", pid=1)
    with pytest.raises(LockBusyError, match="other-host"):
        acquire_lock(storage, YEAR, wait_seconds=0)


def test_the_lease_is_renewed_and_a_lost_lease_is_reported(storage: Storage) -> None:
    """It pushes the expiry forward while held, and says so when another run took it over."""
    lost = pytest.raises(LockLostError, match="ロックを失いました")
    with lost, collection_lock(storage, YEAR, ttl_seconds=0.6) as lease:
        time.sleep(0.5)
        renewed = Lease(**json.loads(storage.read_bytes(lock_key(YEAR))))
        assert renewed.token == lease.token and renewed.expires_at > lease.expires_at
        _plant(storage, token="thief", host="other-host")  # a frozen run, overtaken
        time.sleep(0.5)
    assert json.loads(storage.read_bytes(lock_key(YEAR)))["token"] == "thief"


def test_only_one_of_many_racing_runs_gets_the_lock(workspace: Path) -> None:
    """It lets exactly one of eight simultaneous contenders hold the lease (folder)."""
    storage = FolderStorage(workspace)
    barrier = threading.Barrier(8)
    winners: list[object] = []
    busy: list[LockBusyError] = []

    def contend() -> None:
        barrier.wait()
        try:
            winners.append(acquire_lock(storage, YEAR, wait_seconds=0))
        except LockBusyError as err:
            busy.append(err)

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(winners), len(busy)) == (1, 7)
    winners[0].release()  # type: ignore[attr-defined]
    assert not [p for p in workspace.rglob(".tmp-*")]


def test_a_killed_writers_temp_files_are_swept_under_the_lock(workspace: Path) -> None:
    """It removes temporary files of dead writers and keeps a live writer's."""
    host = socket.gethostname()
    dead = workspace / "curated/2021" / f".tmp-{_dead_pid()}@{host}.abc.part"
    alive = workspace / "curated/2021" / f".tmp-{os.getpid()}@{host}.def.part"
    dead.parent.mkdir(parents=True)
    dead.write_bytes(b"half")
    alive.write_bytes(b"in flight")
    with collection_lock(open_storage(workspace), YEAR):
        assert not dead.exists() and alive.exists()


# --- Two collection runs at once, in two processes ------------------------------------------


@pytest.mark.scenario
def test_two_collection_runs_at_once_take_each_file_once(
    template: Path,  # noqa: F811
    run_scenarios: Callable[..., list[list[RunOutcome]]],  # noqa: F811
    tmp_path: Path,
) -> None:
    """It records and archives every file once when two runs start together on one intake."""
    workspace = tmp_path / "shared" / "workspace"
    shutil.copytree(template, workspace)
    scenarios = [
        {
            "workspace": str(workspace),
            "config": "niigata-minami",
            "year": YEAR,
            "log_dir": str(tmp_path / f"run-{n}"),
            "results": str(tmp_path / f"results-{n}"),
            "runs": [{"kill": None}],
        }
        for n in range(2)
    ]
    outcomes = run_scenarios(scenarios)
    assert [[(r.killed, r.exit_code) for r in o] for o in outcomes] == [[(False, 0)]] * 2
    ledger = load_ledger(FolderStorage(workspace), YEAR)
    intake = sorted(p.relative_to(workspace).as_posix() for p in workspace.glob("intake/**/*.*"))
    assert sorted(e.source_key for e in ledger.entries) == intake
    assert len(list((workspace / "archive" / "2021").iterdir())) == len(
        {e.sha256 for e in ledger.entries}
    )
    assert "pending" not in {e.status for e in ledger.entries}
    assert not (workspace / lock_key(YEAR)).exists()
    # One run took every file; the other, which waited for the lock, found nothing new.
    taken = [sum(1 for op in o[0].ops if "\tarchive/" in op) for o in outcomes]
    assert sorted(taken) == [0, len({e.sha256 for e in ledger.entries})]


# --- Files arriving during a run ------------------------------------------------------------


def test_a_file_written_during_a_run_is_taken_whole_by_the_next(
    workspace: Path, minami: Plan
) -> None:
    """It never records a file still being copied; the run after the copy takes all of it."""
    data = filled_workbook(minami, "shakyo")
    target = workspace / "intake/2021/shakyo/コピー中.xlsx"
    target.parent.mkdir(parents=True)
    done = threading.Event()

    def copy_slowly() -> None:
        with target.open("wb") as handle:
            for start in range(0, len(data), 512):
                handle.write(data[start : start + 512])
                handle.flush()
                time.sleep(0.03)
        done.set()

    writer = threading.Thread(target=copy_slowly)
    writer.start()
    runs = 0
    while not done.is_set():
        take_intake(minami, open_storage(workspace), settle_seconds=0.1)
        runs += 1
    writer.join()
    take_intake(minami, open_storage(workspace), settle_seconds=0.1)
    assert runs >= 3
    (entry,) = load_ledger(FolderStorage(workspace), YEAR).entries
    assert entry.size == len(data)
    assert (workspace / entry.archive_key).read_bytes() == data


class _SavedOverWhileRead(FolderStorage):
    """A folder where a department saves over one file at the moment intake reads it."""

    def __init__(self, root: Path, key: str, new_bytes: bytes) -> None:
        super().__init__(root)
        self.key, self.new_bytes = key, new_bytes

    def read_bytes(self, key: str) -> bytes:
        data = super().read_bytes(key)
        if key == self.key and self.new_bytes:
            path = self.root / key
            with path.open("wb") as handle:  # Explorer truncates, then writes
                handle.write(self.new_bytes[: len(self.new_bytes) // 2])
            os.utime(path, (time.time() + 5, time.time() + 5))
            self.new_bytes = b""
            return data
        return data


def test_a_file_saved_over_while_read_waits_for_the_next_run(workspace: Path, minami: Plan) -> None:
    """It does not take a file that changed between its listing and its reading."""
    old = filled_workbook(minami, "shakyo", grade="B")
    new = filled_workbook(minami, "shakyo", grade="A")
    key = "intake/2021/shakyo/提出.xlsx"
    (workspace / key).parent.mkdir(parents=True)
    (workspace / key).write_bytes(old)
    storage = _SavedOverWhileRead(workspace, key, new)
    ledger, result = collect_new_files(storage, minami, load_ledger(storage, YEAR), 0)
    assert result.taken == [] and result.waiting == [key]
    (workspace / key).write_bytes(new)  # the department's save completes
    _, again = collect_new_files(storage, minami, ledger, 0)
    assert [e.size for e in again.taken] == [len(new)]


def test_the_same_bytes_in_two_folders_are_decided_one_at_a_time(
    workspace: Path, minami: Plan
) -> None:
    """It does not let a misplaced copy's rejection fall on the department's own file."""
    from tasks.cycle.steps import check_pending

    data = filled_workbook(minami, "shakyo")
    for key in ("intake/2021/shakyo/提出.xlsx", "intake/2021/提出.xlsx"):
        (workspace / key).parent.mkdir(parents=True, exist_ok=True)
        (workspace / key).write_bytes(data)
    first = take_intake(minami, open_storage(workspace), settle_seconds=0)
    assert first.waiting == []  # both taken: checking decides between the copies at once
    check_pending(minami, open_storage(workspace))
    ledger = load_ledger(FolderStorage(workspace), YEAR)
    assert [(e.department_id, e.status) for e in ledger.entries] == [
        ("shakyo", "accepted"),
        (None, "rejected"),
    ]
