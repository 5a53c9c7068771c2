"""Serve the annual cycle's deployments from this machine (``shiryo serve``)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from prefect import Flow
from prefect.runner import Runner
from prefect.schedules import Cron

from flows.annual_cycle import call_for_submissions, collect_submissions, publish_shiryo
from flows.deployments import DeploymentSpec, load_deployment_specs
from flows.notify import apply_failure_notifications, load_notify_settings, webhook_url
from flows.reminders import send_reminders

FLOWS: dict[str, Flow[Any, Any]] = {
    "call_for_submissions": call_for_submissions,
    "collect_submissions": collect_submissions,
    "publish_shiryo": publish_shiryo,
    "send_reminders": send_reminders,
}


def served_specs() -> list[DeploymentSpec]:
    """Return the deployments of prefect.yaml that ``shiryo serve`` serves: one municipality's.

    ``collect-municipalities`` (a service for many, ``flows.municipalities``) is deployed with
    ``prefect deploy``: its parameters are a list file, not one municipality's workspace.
    """
    return [spec for spec in load_deployment_specs() if spec.flow_name in FLOWS]


def build_deployments(overrides: dict[str, Any] | None = None) -> list[Any]:
    """Return the deployments of prefect.yaml, with parameters overridden where given."""
    deployments = []
    for spec in served_specs():
        deployments.append(
            FLOWS[spec.flow_name].to_deployment(
                name=spec.name,
                description=spec.description,
                parameters={**spec.parameters, **(overrides or {})},
                schedules=[Cron(s.cron, timezone=s.timezone) for s in spec.schedules],
                tags=["shiryo"],
            )
        )
    return deployments


def configure_notifications(notifications: Path | None = None) -> int:
    """Register the failure notifications of ``config/notifications.yaml``; return how many."""
    from prefect.settings import PREFECT_UI_URL

    settings = load_notify_settings(notifications)
    logger = logging.getLogger(__name__)
    if webhook_url(settings) is None and settings.enabled:
        logger.warning(
            "環境変数 %s（通知先の URL）がないため、失敗の通知は送りません。",
            settings.webhook.url_env,
        )
    ui_url = settings.ui_url or PREFECT_UI_URL.value() or "http://127.0.0.1:4200"
    names = [spec.name for spec in served_specs()]
    return len(apply_failure_notifications(settings, names, ui_url))


def serve_cycle(overrides: dict[str, Any] | None = None, notifications: Path | None = None) -> None:
    """Register the deployments and the failure notifications, run on schedule until stopped.

    The schedules stay active when serving stops (Prefect pauses them by default): a service
    restarted, or a second ``shiryo serve`` stopped, must never leave the year's collection
    and publication paused without anyone noticing. Registering resumes any a past stop paused.
    """
    configure_notifications(notifications)
    runner = Runner(pause_on_shutdown=False)
    deployments = build_deployments(overrides)
    for deployment in deployments:
        runner.add_deployment(deployment)
    names = "、".join(sorted(deployment.name for deployment in deployments))
    run_until_stopped(
        runner,
        lambda: print(
            f"自動実行を待ち受けています（{names}）。止めるときは Ctrl+C を押します。", flush=True
        ),
    )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_until_stopped(runner: Runner, on_started: Callable[[], None]) -> None:
    """Run ``runner`` until Ctrl+C, SIGTERM or SIGHUP, then stop it gracefully.

    The runner runs in a thread of its own and the signals only ask it to stop. Raised as an
    exception in the main thread (Prefect's ``serve``), a Ctrl+C that came while the event
    loop was being built left a half-made loop, whose clean-up printed a traceback.
    """
    wanted = threading.Event()
    failure: list[BaseException] = []
    context = contextvars.copy_context()  # Prefect's settings (the API's address) are in it

    def serve_in_thread() -> None:
        try:
            context.run(asyncio.run, runner.start())
        except BaseException as error:  # re-raised in the main thread
            failure.append(error)

    def ask_to_stop(_signum: int, _frame: FrameType | None) -> None:
        wanted.set()

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in STOP_SIGNALS}
    thread = threading.Thread(target=serve_in_thread, name="shiryo-serve-runner", daemon=True)
    try:
        thread.start()
        _watch(runner, thread, wanted, on_started)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failure:
        raise failure[0]


def _watch(
    runner: Runner,
    thread: threading.Thread,
    wanted: threading.Event,
    on_started: Callable[[], None],
) -> None:
    """Wait for the runner's thread; tell ``on_started`` once, stop the runner when wanted."""
    said = stopping = False
    while thread.is_alive():
        wanted.wait(0.2)
        if runner.started and not said:
            said = True
            on_started()
        if wanted.is_set() and runner.started and not stopping:
            stopping = True
            runner.execute_in_background(runner.astop)
    thread.join()
