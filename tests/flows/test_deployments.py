"""The annual cycle's deployments and the weekly reminders, scheduled in Japan time, from
prefect.yaml."""

from __future__ import annotations

from prefect.client.orchestration import get_client

from flows.deployments import load_deployment_specs
from flows.serve import build_deployments


def test_prefect_yaml_declares_the_steps_of_the_year_and_the_reminders() -> None:
    """It declares call, collect, publish and the reminders with cron schedules in Asia/Tokyo."""
    specs = {s.name: s for s in load_deployment_specs()}
    assert set(specs) == {
        "call-for-submissions",
        "collect-submissions",
        "publish-shiryo",
        "send-reminders",
    }
    for spec in specs.values():
        assert spec.schedules and all(s.timezone == "Asia/Tokyo" for s in spec.schedules)
        assert set(spec.parameters) == {"fiscal_year", "config", "workspace"}


def test_serving_registers_the_scheduled_deployments(prefect_server: None) -> None:
    """It registers the deployments with their schedules and the given workspace."""
    for deployment in build_deployments({"workspace": "/tmp/shiryo-ws"}):
        deployment.apply()
    with get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
    for name in ("call-for-submissions", "collect-submissions", "publish-shiryo", "send-reminders"):
        deployment = deployments[name]
        assert deployment.parameters["workspace"] == "/tmp/shiryo-ws"
        (schedule,) = deployment.schedules
        assert schedule.schedule.timezone == "Asia/Tokyo"  # type: ignore[union-attr]
    collect = deployments["collect-submissions"].schedules[0].schedule
    assert collect.cron == "0 7 * 4-6 *"  # type: ignore[union-attr]
    # Reminders weekly in the collection season, after that morning's collection.
    remind = deployments["send-reminders"].schedules[0].schedule
    assert remind.cron == "30 9 * 4-6 1"  # type: ignore[union-attr]
