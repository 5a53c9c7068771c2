"""The demo: a whole cycle on a preset's data, departments played by the demo data."""

from __future__ import annotations

from prefect import flow

from flows.annual_cycle import annual_cycle, call_for_submissions
from flows.steps import drop_demo_submissions_task, load_plan_task, seed_demo_history_task
from tasks.workspace.storage import open_storage


@flow(name="demo", flow_run_name="demo-{preset}")
def demo_cycle(preset: str, workspace: str, pdf: bool = False) -> list[str]:
    """Seed last year, send the call, fill it as departments would, then run the cycle."""
    plan, storage = load_plan_task(preset, None), open_storage(workspace)
    seed_demo_history_task(plan, preset, storage)
    call_for_submissions(plan.fiscal_year.current, preset, workspace)
    drop_demo_submissions_task(plan, preset, storage)
    return annual_cycle(plan.fiscal_year.current, preset, workspace, pdf)
