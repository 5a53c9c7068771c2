"""A live Prefect service for tests: ``prefect server start`` and ``shiryo serve`` as processes.

The server runs with its UI and all its services (scheduler, triggers, actions), unlike the
in-process test harness; ``shiryo serve`` is the coordinator's own command, pointed at it.
Both keep their state under a temporary folder and send no telemetry.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from tasks.cycle.steps import (
    check_pending,
    consolidate_year,
    drop_demo_submissions,
    seed_demo_history,
    take_intake,
    write_call_workbooks,
)
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.settings import PRESETS_DIR, REPO_ROOT
from tasks.workspace.storage import open_storage

QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """Return this process's environment without Prefect/AWS/GX variables, plus ``extra``.

    PREFECT_HOME stays the test session's own (``tests/conftest.py``) unless ``extra`` names
    one: a command never finds the developer's ``shiryo serve`` in ``~/.prefect``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AWS_", "GX_"))}
    home = {"PREFECT_HOME": os.environ["PREFECT_HOME"]} if "PREFECT_HOME" in os.environ else {}
    return {**env, **home, **QUIET, **extra}


def wait_until(check: Any, seconds: float, what: str, every: float = 0.5) -> Any:
    """Poll ``check()`` until it returns something truthy; fail with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@dataclass(frozen=True)
class LiveServer:
    """A running Prefect server: its UI, its API and its own PREFECT_HOME."""

    url: str
    home: Path

    @property
    def api(self) -> str:
        """Return the API's address (``PREFECT_API_URL``)."""
        return f"{self.url}/api"


@contextmanager
def prefect_server(root: Path, timeout: float = 180) -> Iterator[LiveServer]:
    """Run ``prefect server start`` with the UI and all services on a free port."""
    port = free_port()
    home = root / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    log = (root / "prefect-server.log").open("wb")
    env = clean_env(
        {"PREFECT_HOME": str(home), "PREFECT_UI_URL": url, "PREFECT_UI_API_URL": f"{url}/api"}
    )
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        wait_until(lambda: _healthy(f"{url}/api/health", process), timeout, "the Prefect server")
        yield LiveServer(url=url, home=home)
    finally:
        _stop(process, log)


def _healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"prefect server start exited with {process.returncode}")
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    log.close()


@contextmanager
def shiryo_serve(
    server: LiveServer,
    workspace: Path,
    config: Path,
    root: Path,
    extra_env: Mapping[str, str] | None = None,
    notify: Path | None = None,
    timeout: float = 180,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``shiryo serve`` against ``server`` until its deployments are registered."""
    log = (root / "shiryo-serve.log").open("wb")
    env = clean_env(
        {
            "PREFECT_API_URL": server.api,
            "PREFECT_HOME": str(server.home),
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            **(extra_env or {}),
        }
    )
    shiryo = str(Path(sys.executable).with_name("shiryo"))
    process = subprocess.Popen(
        [shiryo, "serve", "-w", str(workspace), "-c", str(config)]
        + (["--notify", str(notify)] if notify else []),
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until(lambda: _served(server, process), timeout, "shiryo serve's deployments")
        yield process
    finally:
        _stop(process, log)


def _served(server: LiveServer, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"shiryo serve exited with {process.returncode}")
    from prefect.client.orchestration import get_client

    with api(server), get_client(sync_client=True) as client:
        names = {d.name for d in client.read_deployments()}
    return {"call-for-submissions", "collect-submissions", "publish-shiryo"} <= names


@contextmanager
def api(server: LiveServer) -> Iterator[None]:
    """Point this process's Prefect client at ``server``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.api}):
        yield


def broken_preset(root: Path) -> tuple[Path, Path]:
    """Copy 新潟市南区's preset with its Word template replaced by a broken file.

    Returns the plan.yaml and the template the coordinator later repairs.
    """
    preset = root / "preset"
    shutil.copytree(PRESETS_DIR / "niigata-minami", preset)
    template = root / "coordinator-templates" / "shiryo.docx"
    template.parent.mkdir()
    template.write_bytes(b"not a docx")
    plan_yaml = preset / "plan.yaml"
    text = plan_yaml.read_text(encoding="utf-8")
    plan_yaml.write_text(
        text.replace("docx_template: hyoka/shiryo.docx", f"docx_template: {template}"),
        encoding="utf-8",
    )
    return plan_yaml, template


def repair_template(template: Path) -> None:
    """Put the preset's real Word template back, as a coordinator fixing it in Word would."""
    shutil.copy(REPO_ROOT / "templates" / "hyoka" / "shiryo.docx", template)


def collected_workspace(root: Path, config: Path) -> tuple[Path, Plan]:
    """Return a workspace where the year's submissions are collected and consolidated."""
    workspace = root / "workspace"
    plan = load_plan(str(config))
    location = str(workspace)
    seed_demo_history(plan, str(config), open_storage(location))
    write_call_workbooks(plan, open_storage(location))
    drop_demo_submissions(plan, str(config), open_storage(location))
    take_intake(plan, open_storage(location), settle_seconds=0)
    check_pending(plan, open_storage(location))
    consolidate_year(plan, open_storage(location))
    return workspace, plan


def start_deployment_run(server: LiveServer, name: str, **parameters: Any) -> UUID:
    """Start a run of a served deployment now; return its id."""
    from prefect.deployments import run_deployment

    with api(server):
        run = run_deployment(name, parameters=parameters or None, timeout=0)
    return run.id  # type: ignore[union-attr]


def wait_for_final_state(
    server: LiveServer,
    flow_run_id: UUID,
    seconds: float = 300,
    after: dt.datetime | None = None,
) -> Any:
    """Wait until the flow run is in a final state (entered after ``after``); return it."""
    from prefect.client.orchestration import get_client

    def final() -> Any:
        with api(server), get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
        state = run.state
        if state is None or not state.is_final():
            return None
        return run if after is None or state.timestamp >= after else None

    return wait_until(final, seconds, f"flow run {flow_run_id} to finish", every=1)


def task_states(server: LiveServer, flow_run_id: UUID, since: dt.datetime) -> dict[str, str]:
    """Return task name → state name of the flow run's task runs created since ``since``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with api(server), get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    states: dict[str, str] = {}
    for run in sorted(runs, key=lambda r: r.created or since):
        if run.created is not None and run.created >= since:
            states[run.name.rsplit("-", 1)[0]] = str(run.state_name)
    return states
