"""``shiryo run`` handed to the warm service of a live ``shiryo serve`` (``flows.warm``).

Real processes: ``prefect server start``, ``shiryo serve`` against it and ``shiryo run`` as a
coordinator types it, with the same PREFECT_HOME and no PREFECT_API_URL.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tasks.cycle.steps import drop_demo_submissions, seed_demo_history, write_call_workbooks
from tasks.plan.load import load_plan
from tasks.settings import REPO_ROOT
from tasks.workspace.presence import mark_workspace
from tasks.workspace.storage import open_storage
from tests.live import LiveServer, api, clean_env, prefect_server, shiryo_serve, wait_until

pytestmark = pytest.mark.scenario

SHIRYO = str(Path(sys.executable).with_name("shiryo"))
CONFIG = REPO_ROOT / "config" / "presets" / "niigata-minami" / "plan.yaml"


def _ready_workspace(root: Path) -> Path:
    """Return a workspace whose call is sent and whose departments' files wait in intake."""
    plan = load_plan(str(CONFIG))
    storage = open_storage(str(root))
    mark_workspace(storage)
    seed_demo_history(plan, str(CONFIG), storage)
    write_call_workbooks(plan, storage)
    drop_demo_submissions(plan, str(CONFIG), storage)
    return root


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path, int]]:
    """A Prefect server, and ``shiryo serve`` on it with its warm service; its workspace."""
    root = tmp_path_factory.mktemp("warm")
    workspace = _ready_workspace(root / "served")
    with (
        prefect_server(root) as server,
        shiryo_serve(server, workspace, CONFIG, root) as serve,
    ):
        records = server.home / "shiryo-serve"
        wait_until(lambda: list(records.glob("*.json")), 60, "the warm service's record")
        yield server, workspace, serve.pid
        # After runs in its warm service, Ctrl+C still stops it within seconds.
        started = time.monotonic()
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=60) == 0
        assert time.monotonic() - started < 30
    assert not list(records.glob("*.json")), "the record outlived the service"


def _run(
    server: LiveServer, args: list[str], env: Mapping[str, str] | None = None
) -> tuple[int, str]:
    done = subprocess.run(
        [SHIRYO, "run", "--year", "2021", "-c", str(CONFIG), *args],
        env=clean_env({"PREFECT_HOME": str(server.home), **(env or {})}),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.returncode, done.stdout + done.stderr


def _outputs(workspace: Path) -> dict[str, bytes]:
    """The 資料 and the dataset: what a run makes from the files, byte for byte."""
    kept = sorted(workspace.glob("reports/**/*")) + sorted(workspace.glob("curated/**/*.parquet"))
    return {p.relative_to(workspace).as_posix(): p.read_bytes() for p in kept if p.is_file()}


def test_a_run_is_handed_to_the_service_and_makes_the_same_bytes(
    service: tuple[LiveServer, Path, int], tmp_path: Path
) -> None:
    """It runs in the service (its lines and its flow's log come back), records the flow run on
    the service's server, and makes the 資料 and dataset a run of its own makes."""
    server, workspace, pid = service
    twin = tmp_path / "twin"
    shutil.copytree(workspace, twin)
    code, output = _run(server, ["-w", str(workspace)])
    assert code == 0, output
    assert f"shiryo serve（プロセス {pid}）に実行を任せます。" in output
    assert "Task run 'check-submissions" in output and "Finished in state Completed()" in output
    assert "資料:" in output and "新しいファイル" in output
    with api(server):
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            runs = [r for r in client.read_flow_runs() if r.name == "annual-cycle-2021"]
    assert [r.state_name for r in runs] == ["Completed"]

    code, here = _run(server, ["-w", str(twin), "--no-serve"], {"PREFECT_API_URL": server.api})
    assert code == 0, here
    assert "に実行を任せます" not in here
    assert _outputs(workspace) == _outputs(twin)
    assert any(k.endswith(".docx") for k in _outputs(workspace))

    code, again = _run(server, ["-w", str(workspace)])
    assert code == 0, again
    assert "新しい提出はなく、資料は最新です" in again


def test_the_service_answers_in_japanese_and_runs_here_when_it_would_differ(
    service: tuple[LiveServer, Path, int], tmp_path: Path
) -> None:
    """It sends back the Japanese line of a mistake; with other settings it runs here."""
    server, workspace, _pid = service
    code, output = _run(server, ["-w", str(tmp_path / "typo")])
    assert code == 2, output
    assert "に実行を任せます" in output and "エラー:" in output
    assert "Traceback" not in output and not (tmp_path / "typo").exists()

    other = {"SHIRYO_TASK_RUNNER": "threads", "PREFECT_API_URL": server.api}
    code, output = _run(server, ["-w", str(workspace)], other)
    assert code == 0, output
    assert "環境変数（AWS_… や SHIRYO_…）が違うため、この場で実行します" in output
    assert "に実行を任せます" not in output


def test_only_its_owner_can_hand_it_a_run(service: tuple[LiveServer, Path, int]) -> None:
    """It keeps its token in a file only its owner reads, and ignores a request without it."""
    server, _workspace, _pid = service
    (record,) = (server.home / "shiryo-serve").glob("*.json")
    assert record.stat().st_mode & 0o777 == 0o600
    port = json.loads(record.read_text(encoding="utf-8"))["port"]
    request = {"command": "run", "token": "guess", "year": 2021, "workspace": "/tmp/x"}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(json.dumps(request).encode() + b"\n")
        connection.settimeout(30)
        assert connection.recv(1024) == b""  # closed without a word


def test_a_stopped_client_does_not_stop_the_service(
    service: tuple[LiveServer, Path, int], tmp_path: Path
) -> None:
    """It finishes a run whose command was stopped with Ctrl+C, and serves the next one."""
    server, _workspace, _pid = service
    workspace = _ready_workspace(tmp_path / "stopped")
    command = [SHIRYO, "run", "--year", "2021", "-c", str(CONFIG), "-w", str(workspace)]
    env = clean_env({"PREFECT_HOME": str(server.home)})
    client = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
    assert client.stderr is not None
    wait_until(lambda: "に実行を任せます" in client.stderr.readline(), 120, "the hand-over")
    client.send_signal(signal.SIGINT)
    _, rest = client.communicate(timeout=60)
    assert client.returncode == 130, rest
    assert "実行は shiryo serve の中で最後まで続きます" in rest
    assert "中断しました" not in rest  # the run was not interrupted
    ledger = workspace / "ledger" / "2021.json"
    wait_until(lambda: list(workspace.glob("reports/2021/*.docx")), 300, "the run to finish")
    assert ledger.is_file()
    code, output = _run(server, ["-w", str(workspace)])
    assert code == 0 and "新しい提出はなく" in output, output


def _run_at_terminal(
    server: LiveServer, args: list[str], env: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """``shiryo run`` as a coordinator sees it: its output a terminal (a pseudo-terminal)."""
    main, side = pty.openpty()
    command = [SHIRYO, "run", "--year", "2021", "-c", str(CONFIG), *args]
    process = subprocess.Popen(
        command,
        env=clean_env({"PREFECT_HOME": str(server.home), **(env or {})}),
        cwd=REPO_ROOT,
        stdin=side,
        stdout=side,
        stderr=side,
    )
    os.close(side)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1.0)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(main, 65536)
        except OSError:  # the terminal closed with the command
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("served", [True, False])
def test_at_a_terminal_the_run_shows_its_progress_not_each_step(
    service: tuple[LiveServer, Path, int], tmp_path: Path, served: bool
) -> None:
    """At a terminal, handed over or run here, the coordinator reads the run's stages in
    Japanese, not Prefect's line for every step; the summary follows."""
    server, _workspace, _pid = service
    workspace = _ready_workspace(tmp_path / "at-terminal")
    here = [] if served else ["--no-serve"]
    code, output = _run_at_terminal(
        server, ["-w", str(workspace), *here], {"PREFECT_API_URL": server.api}
    )
    assert code == 0, output
    assert ("に実行を任せます" in output) is served
    stages = [line.split("] ", 1)[1] for line in output.splitlines() if line.startswith("進捗 [")]
    assert stages[0] == "1/6 調査票の作成" and stages[-1] == "6/6 資料の作成（Word・Excel）"
    assert "Task run '" not in output and "Finished in state" not in output
    assert "資料:" in output and "新しいファイル 6 件" in output
