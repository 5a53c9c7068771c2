"""Kill runner: run the real collection and publication flows in a child process, SIGKILL it at
the Nth write, and report what happened.

Run as ``python -m tests.faults SCENARIOS.json RESULTS.json``. The runner imports the product
once, then forks one child per run (imports are the slow part; a fork costs milliseconds). Each
child runs ``collect_submissions`` then ``publish_shiryo`` on its scenario's workspace, against
the Prefect server in ``PREFECT_API_URL``. Before it runs, the child wraps the places where the
pipeline writes:

- the folder backend's ``write_bytes`` (phases ``before``: nothing written yet; ``partial``: the
  temporary file holds half the bytes; ``unrenamed``: the temporary file is whole, the target
  not yet replaced; ``after``: replaced, the call not yet returned);
- the collection lock's conditional writes (``before``, ``after``: a lock left by a dead run);
- Prefect's result files (``LocalFileSystem.write_path``: ``before``, ``partial``, ``after``),
  which decide what a later run may skip as cached.

Every write is numbered in the order it starts and logged (``op_log``). When the run reaches the
scenario's ``(number, phase)`` it sends itself SIGKILL: no ``finally``, no flush, as when a
machine loses power. A scenario is a list of runs on one workspace, usually a killed run and
then an uninterrupted one.

The clock of intake is fixed (``received_at`` is written into the ledger and the 差戻し票), so
that an interrupted and an uninterrupted run can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
import types
from pathlib import Path
from typing import Any

FIXED_NOW = dt.datetime(2021, 6, 1, 9, 0, tzinfo=dt.UTC)
STORAGE_PHASES = ("before", "partial", "unrenamed", "after")
RESULT_PHASES = ("before", "partial", "after")
LOCK_PHASES = ("before", "after")


class _Switch:
    """Numbers the writes of one run and kills the process at the chosen one."""

    def __init__(self, target: tuple[int, str] | None, log_path: Path) -> None:
        self.target = target
        self.count = 0
        self.current = 0
        self.log = log_path.open("a", encoding="utf-8")
        self.started = time.monotonic()

    def start(self, kind: str, name: str) -> int:
        self.count += 1
        self.current = self.count
        self.log.write(f"{self.count}\t{kind}\t{name}\t{time.monotonic() - self.started:.2f}\n")
        self.log.flush()
        return self.count

    def at(self, number: int, phase: str) -> None:
        if self.target == (number, phase):
            os.kill(os.getpid(), signal.SIGKILL)


def _install(switch: _Switch) -> None:
    """Wrap the folder backend's writes and Prefect's result writes with the switch."""
    from prefect.filesystems import LocalFileSystem

    import tasks.intake.collect
    import tasks.workspace.folder

    real_write = tasks.workspace.folder.FolderStorage.write_bytes

    def write_bytes(self: Any, key: str, data: bytes) -> None:
        number = switch.start("storage", key)
        switch.at(number, "before")
        real_write(self, key, data)
        switch.at(number, "after")

    class _KilledFile:
        """A temporary file whose write stops halfway when the switch says so."""

        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def __enter__(self) -> _KilledFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

        def write(self, data: bytes) -> int:
            if switch.target == (switch.current, "partial"):
                self._handle.write(data[: len(data) // 2])
                self._handle.flush()
                os.fsync(self._handle.fileno())
                switch.at(switch.current, "partial")
            return int(self._handle.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        return _KilledFile(os.fdopen(fd, *args, **kwargs))

    def replace(src: Any, dst: Any) -> None:
        switch.at(switch.current, "unrenamed")
        os.replace(src, dst)

    shim = types.ModuleType("os_with_kill_points")
    shim.__dict__.update({k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    shim.__dict__.update(fdopen=fdopen, replace=replace)
    tasks.workspace.folder.os = shim  # type: ignore[attr-defined]
    tasks.workspace.folder.FolderStorage.write_bytes = write_bytes  # type: ignore[method-assign]

    real_write_path = LocalFileSystem.write_path

    def write_path(self: Any, path: str, content: bytes, **_dispatch: object) -> str:
        number = switch.start("result", Path(path).name)
        switch.at(number, "before")
        if switch.target == (number, "partial"):
            resolved = Path(self._resolve_path(path))
            resolved.parent.mkdir(parents=True, exist_ok=True)
            with resolved.open("wb") as handle:
                handle.write(content[: len(content) // 2])
            switch.at(number, "partial")
        written = real_write_path(self, path, content, _sync=True)
        switch.at(number, "after")
        return str(written)

    LocalFileSystem.write_path = write_path  # type: ignore[method-assign]

    real_create = tasks.workspace.folder.FolderStorage.create_exclusive
    real_replace_if = tasks.workspace.folder.FolderStorage.replace_if

    def create_exclusive(self: Any, key: str, data: bytes) -> bool:
        number = switch.start("lock", f"create {key}")
        switch.at(number, "before")
        created = real_create(self, key, data)
        switch.at(number, "after")
        return created

    def replace_if(self: Any, key: str, data: bytes | None, version: str) -> bool:
        number = switch.start("lock", f"{'delete' if data is None else 'replace'} {key}")
        switch.at(number, "before")
        replaced = real_replace_if(self, key, data, version)
        switch.at(number, "after")
        return replaced

    tasks.workspace.folder.FolderStorage.create_exclusive = create_exclusive  # type: ignore[method-assign]
    tasks.workspace.folder.FolderStorage.replace_if = replace_if  # type: ignore[method-assign]

    class _FixedClock(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> _FixedClock:  # type: ignore[override]
            moment = FIXED_NOW.astimezone(tz) if tz else FIXED_NOW.replace(tzinfo=None)
            return cls.fromtimestamp(moment.timestamp(), tz)

    tasks.intake.collect.dt = types.SimpleNamespace(  # type: ignore[assignment]
        datetime=_FixedClock, UTC=dt.UTC, date=dt.date, timedelta=dt.timedelta
    )


def _child(run: dict[str, Any], scenario: dict[str, Any], log_dir: Path, index: int) -> None:
    """Run the flows once in this (forked) process and exit; never returns."""
    output = os.open(log_dir / f"run-{index}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(output, 1)
    os.dup2(output, 2)
    code = 1
    try:
        target = tuple(run["kill"]) if run.get("kill") else None
        _install(_Switch(target, log_dir / f"run-{index}.ops"))  # type: ignore[arg-type]
        from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

        from flows.annual_cycle import collect_submissions, publish_shiryo

        year, config, workspace = scenario["year"], scenario["config"], scenario["workspace"]
        # Each scenario keeps its own Prefect results, as one installation would.
        with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: Path(scenario["results"])}):
            collected = collect_submissions(
                year, config, workspace, settle_seconds=0, return_state=True
            )
            published = publish_shiryo(year, config, workspace, return_state=True)
        code = 0 if collected.is_completed() and published.is_completed() else 3
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run_scenario(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """Run a scenario's runs one after the other, each in its own child."""
    log_dir = Path(scenario["log_dir"])
    log_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for index, run in enumerate(scenario["runs"]):
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(run, scenario, log_dir, index)
        _, status = os.waitpid(pid, 0)
        ops_path = log_dir / f"run-{index}.ops"
        ops = ops_path.read_text(encoding="utf-8").splitlines() if ops_path.exists() else []
        outcomes.append(
            {
                "killed": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
                "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "ops": ops,
                "seconds": round(time.monotonic() - started, 2),
            }
        )
    return outcomes


def main(scenarios_path: str, results_path: str, jobs: int = 2) -> None:
    """Run every scenario, ``jobs`` at a time, and write their outcomes as JSON."""
    # Import the product and Prefect once, before any fork; no flow has run here, so no
    # thread exists yet to be lost in the children.
    import great_expectations.checkpoint.actions  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_fontja  # noqa: F401
    from prefect.filesystems import LocalFileSystem  # noqa: F401

    import flows.annual_cycle  # noqa: F401
    import tasks.check.submissions  # noqa: F401

    scenarios = json.loads(Path(scenarios_path).read_text(encoding="utf-8"))
    running: dict[int, int] = {}
    for number, scenario in enumerate(scenarios):
        while len(running) >= jobs:
            pid, _ = os.wait()
            running.pop(pid, None)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                outcome = _run_scenario(scenario)
                Path(scenario["log_dir"], "outcome.json").write_text(
                    json.dumps(outcome), encoding="utf-8"
                )
                code = 0
            finally:
                os._exit(code)
        running[pid] = number
    while running:
        pid, _ = os.wait()
        running.pop(pid, None)
    results = []
    for scenario in scenarios:
        path = Path(scenario["log_dir"], "outcome.json")
        results.append(json.loads(path.read_text(encoding="utf-8")) if path.exists() else None)
    Path(results_path).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
