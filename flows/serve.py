"""Serve the annual cycle's deployments from this machine (``shiryo serve``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefect import Flow, serve
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
    serve(*build_deployments(overrides), pause_on_shutdown=False)
