"""Failure notifications: configured in config/notifications.yaml, sent by the Prefect server."""

from __future__ import annotations

import json
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.notify import (
    NOTIFICATIONS_YAML,
    RUN_CRASHED_AUTOMATION,
    STEP_FAILED_AUTOMATION,
    load_notify_settings,
)
from flows.serve import configure_notifications
from tasks.errors import ConfigError
from tests.live import (
    LiveServer,
    api,
    broken_preset,
    collected_workspace,
    prefect_server,
    shiryo_serve,
    start_deployment_run,
    wait_for_final_state,
    wait_until,
)


class _Inbox(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.received: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        """Return the address to post to."""
        return f"http://127.0.0.1:{self.server_address[1]}/shiryo-hook"

    def wait_for(self, text: str, seconds: float = 180) -> dict[str, Any]:
        """Return the first message whose text contains ``text``, waiting up to ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self.received:
                if text in message.get("text", ""):
                    return message
            try:
                self.received.append(self.messages.get(timeout=1))
            except queue.Empty:
                continue
        raise AssertionError(f"no notification mentioning {text!r}; got {self.received}")


class _Handler(BaseHTTPRequestHandler):
    server: _Inbox

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.messages.put({"path": self.path, **json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


@dataclass(frozen=True)
class Service:
    """``shiryo serve`` against a live server, with a broken Word template and a webhook."""

    server: LiveServer
    inbox: _Inbox
    settings: Path
    serve_pid: int
    workspace: Path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Serve the cycle with notifications to a local receiver, on a collected workspace."""
    root = tmp_path_factory.mktemp("notify")
    plan_yaml, _template = broken_preset(root)
    workspace, _plan = collected_workspace(root, plan_yaml)
    settings = root / "notifications.yaml"
    settings.write_text(
        NOTIFICATIONS_YAML.read_text(encoding="utf-8").replace(
            "allow_private_urls: false", "allow_private_urls: true"
        ),
        encoding="utf-8",
    )
    inbox = _Inbox()
    threading.Thread(target=inbox.serve_forever, daemon=True).start()
    env = {"SHIRYO_NOTIFY_WEBHOOK_URL": inbox.url}
    try:
        with (
            prefect_server(root) as server,
            shiryo_serve(server, workspace, plan_yaml, root, env, notify=settings) as serve,
        ):
            yield Service(server, inbox, settings, serve.pid, workspace)
    finally:
        inbox.shutdown()
        inbox.server_close()


def _automations(server: LiveServer) -> dict[str, list[Any]]:
    from prefect.client.orchestration import get_client

    with api(server), get_client(sync_client=True) as client:
        return {
            name: client.read_automations_by_name(name)
            for name in (STEP_FAILED_AUTOMATION, RUN_CRASHED_AUTOMATION)
        }


@pytest.mark.scenario
def test_a_failed_step_notifies_the_coordinator(service: Service) -> None:
    """It posts a Japanese message naming the run and the step, with a link to the run."""
    run_id = start_deployment_run(service.server, "publish-shiryo/publish-shiryo")
    failed = wait_for_final_state(service.server, run_id)
    assert failed.state.is_failed()
    message = service.inbox.wait_for(str(run_id))
    print("\nnotification:", json.dumps(message, ensure_ascii=False, indent=1))
    assert message["path"] == "/shiryo-hook"
    assert (
        message["subject"] == f"【shiryo】{failed.name} のステップ check-templates が失敗しました"
    )
    assert "失敗したステップ: check-templates\n" in message["body"]
    assert f"画面: {service.server.url}/runs/flow-run/{run_id}" in message["body"]
    assert "Word のテンプレートを読めません" in message["body"]  # the reason the step gave
    assert message["text"] == f"{message['subject']}\n\n{message['body']}"


@pytest.mark.scenario
def test_a_crashed_run_notifies_the_coordinator(service: Service) -> None:
    """It posts a message when a run's process is killed in the middle of a step."""
    # A file not seen yet, so that take-intake waits for it to settle (with nothing new it
    # returns at once); removed again below, so the module's other runs never see it.
    arriving = next((service.workspace / "intake").glob("*/*")) / "arriving.xlsx"
    arriving.write_bytes(b"still being copied")
    run_id = start_deployment_run(
        service.server, "collect-submissions/collect-submissions", settle_seconds=600
    )
    child = wait_until(
        lambda: _flow_run_process(service.serve_pid, run_id), 120, "the flow run's process"
    )
    _wait_for_running_task(service.server, run_id, "take-intake")
    os.kill(child, signal.SIGKILL)  # the machine "stops" while intake waits for files to settle
    arriving.unlink()
    crashed = wait_for_final_state(service.server, run_id)
    assert crashed.state.is_crashed(), crashed.state
    message = service.inbox.wait_for(f"{service.server.url}/runs/flow-run/{run_id}")
    print("\nnotification:", json.dumps(message, ensure_ascii=False, indent=1))
    assert message["subject"] == f"【shiryo】{crashed.name} が途中で止まりました"
    assert "（Crashed）" in message["body"]
    assert "理由: Process exited" in message["body"]


@pytest.mark.scenario
def test_serving_again_updates_the_automations_in_place(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It keeps one automation of each kind when served again, and disables them on request."""
    before = _automations(service.server)
    assert all(len(found) == 1 and found[0].enabled for found in before.values()), before
    monkeypatch.setenv("SHIRYO_NOTIFY_WEBHOOK_URL", service.inbox.url)
    with api(service.server):
        assert configure_notifications(service.settings) == 2
    after = _automations(service.server)
    assert {n: [a.id for a in f] for n, f in after.items()} == {
        n: [a.id for a in f] for n, f in before.items()
    }
    off = service.settings.with_name("off.yaml")
    off.write_text(
        service.settings.read_text(encoding="utf-8").replace("enabled: true", "enabled: false"),
        encoding="utf-8",
    )
    with api(service.server):
        assert configure_notifications(off) == 0
    assert not any(a.enabled for found in _automations(service.server).values() for a in found)
    with api(service.server):  # leave them on for any later test
        configure_notifications(service.settings)


def test_the_shipped_settings_load() -> None:
    """It loads config/notifications.yaml with both messages and the webhook's variable."""
    settings = load_notify_settings()
    assert settings.webhook.url_env == "SHIRYO_NOTIFY_WEBHOOK_URL"
    assert "{{ step }}" in settings.step_failed.body
    assert "{{ run_url }}" in settings.run_crashed.body


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        # a misspelt key
        (("url_env:", "url_envv:"), "webhook.url_envv"),
        # a method the webhook block cannot use
        (("method: POST", "method: GET"), "webhook.method"),
        # a Jinja tag left open in a message
        (("{{ flow_run.name }} が途中で", "{{ flow_run.name が途中で"), "run_crashed.subject"),
        # a message without its body
        (
            ("  body: |\n    地域福祉計画の資料づくりの自動実行が、", "  bdy: |\n    x"),
            "run_crashed",
        ),
    ],
)
def test_a_mistake_in_the_settings_names_the_key(
    tmp_path: Path, edit: tuple[str, str], named: str
) -> None:
    """It refuses the settings with a Japanese message that names the key."""
    text = NOTIFICATIONS_YAML.read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "notifications.yaml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"通知の設定に \d+ 件の問題があります") as raised:
        load_notify_settings(path)
    assert named in str(raised.value)


def _flow_run_process(ancestor: int, run_id: UUID) -> int | None:
    """Return the pid of the process ``shiryo serve`` started for the flow run, if any."""
    parents: dict[int, int] = {}
    runs: list[int] = []
    marker = f"PREFECT__FLOW_RUN_ID={run_id}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int(
                (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            )
            if marker in (entry / "environ").read_bytes():
                runs.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    for pid in runs:
        up = parents.get(pid)
        while up and up != ancestor:
            up = parents.get(up)
        if up == ancestor:
            return pid
    return None


def _wait_for_running_task(server: LiveServer, run_id: UUID, task: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    def running() -> bool:
        with api(server), get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
        return any(r.name.startswith(task) and r.state_name == "Running" for r in runs)

    wait_until(running, 120, f"{task} to run", every=1)
