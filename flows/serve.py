"""Serve the annual cycle's deployments from this machine (``shiryo serve``)."""

from __future__ import annotations

from typing import Any

from prefect import Flow, serve
from prefect.schedules import Cron

from flows.annual_cycle import call_for_submissions, collect_submissions, publish_shiryo
from tasks.service import load_deployment_specs

FLOWS: dict[str, Flow[Any, Any]] = {
    "call_for_submissions": call_for_submissions,
    "collect_submissions": collect_submissions,
    "publish_shiryo": publish_shiryo,
}


def build_deployments(overrides: dict[str, Any] | None = None) -> list[Any]:
    """Return the deployments of prefect.yaml, with parameters overridden where given."""
    deployments = []
    for spec in load_deployment_specs():
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


def serve_cycle(overrides: dict[str, Any] | None = None) -> None:
    """Register the deployments and run them on their schedules until stopped."""
    serve(*build_deployments(overrides))
