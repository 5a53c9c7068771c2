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
        "collect-municipalities",
    }
    for spec in specs.values():
        assert spec.schedules and all(s.timezone == "Asia/Tokyo" for s in spec.schedules)
    for name in set(specs) - {"collect-municipalities"}:
        assert set(specs[name].parameters) == {"fiscal_year", "config", "workspace"}
    # A service for many municipalities: the list file instead of one config and workspace.
    assert set(specs["collect-municipalities"].parameters) == {"fiscal_year", "municipalities"}


def test_the_many_municipality_deployment_names_a_flow_that_takes_its_parameters() -> None:
    """It points collect-municipalities at the flow, whose parameters prefect.yaml gives."""
    import inspect

    from flows.municipalities import collect_municipalities

    (spec,) = [s for s in load_deployment_specs() if s.name == "collect-municipalities"]
    assert spec.entrypoint == "flows/municipalities.py:collect_municipalities"
    accepted = inspect.signature(collect_municipalities.fn).parameters
    assert set(spec.parameters) <= set(accepted)


def test_serving_registers_the_scheduled_deployments(prefect_server: None) -> None:
    """It registers the deployments with their schedules and the given workspace."""
    built = build_deployments({"workspace": "/tmp/shiryo-ws"})
    # One municipality's service: the many-municipality collection is left to prefect deploy.
    assert "collect-municipalities" not in {d.name for d in built}
    for deployment in built:
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
