"""``shiryo serve`` as a service in an office: one per port, quick to stop, schedules kept.

Real processes throughout: ``prefect server start`` and the coordinator's ``shiryo serve``,
stopped as a terminal's Ctrl+C (SIGINT to the process group) and as a service manager does
(SIGTERM to the command).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tasks.settings import REPO_ROOT
from tests.live import (
    LiveServer,
    api,
    clean_env,
    collected_workspace,
    free_port,
    prefect_server,
    wait_until,
)

SHIRYO = str(Path(sys.executable).with_name("shiryo"))
DEPLOYMENTS = {"call-for-submissions", "collect-submissions", "publish-shiryo", "send-reminders"}
STOPPED_JA = (
    "自動実行を止めました。予定（スケジュール）は有効のままで、次に shiryo serve を"
    "起動すると再開します。"
)


@pytest.fixture(scope="module")
def served_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose year is collected, as a served one is by the time it matters."""
    root = tmp_path_factory.mktemp("served")
    return collected_workspace(root, REPO_ROOT / "config/presets/niigata-minami/plan.yaml")[0]


@contextmanager
def _serve(args: list[str], env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``shiryo serve`` in its own process group, as a terminal starts a command."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [SHIRYO, "serve", *args],
            env=clean_env({"PREFECT_RUNNER_POLL_FREQUENCY": "2", **env}),
            cwd=REPO_ROOT,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _serving(process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"shiryo serve exited: {log.read_text(encoding='utf-8')}")
    return "自動実行を待ち受けています".encode() in log.read_bytes()


def _stop(process: subprocess.Popen[bytes], how: str) -> tuple[int, float]:
    """Stop the command; return its exit code and the seconds it took."""
    started = time.monotonic()
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=120)
    return code, time.monotonic() - started


def _deployments(server: LiveServer) -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    with api(server), get_client(sync_client=True) as client:
        return {d.name: d for d in client.read_deployments() if d.name in DEPLOYMENTS}


def _assert_scheduled(server: LiveServer) -> None:
    deployments = _deployments(server)
    assert set(deployments) == DEPLOYMENTS
    for deployment in deployments.values():
        assert not deployment.paused, deployment.name
        assert deployment.schedules and all(s.active for s in deployment.schedules)


def _assert_clean_stop(log: Path, code: int) -> None:
    text = log.read_text(encoding="utf-8")
    assert code == 0, text
    assert text.strip().splitlines()[-1] == STOPPED_JA
    for sign in ("Traceback", "ConnectError", "Pausing all deployments"):
        assert sign not in text, text


def test_a_second_serve_on_a_taken_port_is_refused(served_workspace: Path, tmp_path: Path) -> None:
    """It refuses a port another server holds, in Japanese, before registering anything."""
    with prefect_server(tmp_path) as server:
        port = str(urlsplit(server.url).port)
        log = tmp_path / "second.log"
        with _serve(["-w", str(served_workspace), "--port", port], {}, log) as second:
            code = second.wait(timeout=120)
        text = log.read_text(encoding="utf-8")
        assert code == 2, text
        (line,) = text.strip().splitlines()
        assert line.startswith(f"エラー: ポート {port} はすでに使われています")
        assert "already in use" not in text
        assert _deployments(server) == {}


def test_serve_stops_at_once_and_leaves_the_schedules_active(
    served_workspace: Path, tmp_path: Path
) -> None:
    """It stops within seconds on Ctrl+C with its own server, and the schedules stay active
    (read from that server's database afterwards); schedules a past stop paused are resumed
    by the next serve, which a service manager's SIGTERM stops as cleanly."""
    home = {"PREFECT_HOME": str(tmp_path / "prefect-home")}  # where prefect_server keeps it
    first = tmp_path / "first.log"
    port = str(free_port())
    with _serve(["-w", str(served_workspace), "--port", port], home, first) as serve:
        wait_until(lambda: _serving(serve, first), 300, "the deployments to be served")
        children = _children(serve.pid)
        code, seconds = _stop(serve, "ctrl-c")
    print(f"\nshiryo serve (own server) stopped {seconds:.1f} s after Ctrl+C")
    _assert_clean_stop(first, code)
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), 30, "server")

    with prefect_server(tmp_path) as server:
        _assert_scheduled(server)
        from prefect.client.orchestration import get_client

        with api(server), get_client(sync_client=True) as client:
            for deployment in _deployments(server).values():
                client.pause_deployment(deployment.id)  # as an earlier version's stop did
        second = tmp_path / "second.log"
        env = {**home, "PREFECT_API_URL": server.api}
        with _serve(["-w", str(served_workspace)], env, second) as serve:
            wait_until(lambda: _serving(serve, second), 300, "the deployments to be served")
            _assert_scheduled(server)
            code, seconds = _stop(serve, "sigterm")
        print(f"shiryo serve (external server) stopped {seconds:.1f} s after SIGTERM")
        _assert_clean_stop(second, code)
        _assert_scheduled(server)


def _children(pid: int) -> list[int]:
    """Return the processes ``pid`` started (its Prefect server among them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found
