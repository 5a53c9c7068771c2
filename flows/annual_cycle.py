"""The annual cycle as Prefect flows: call → collect → publish.

Each flow reads like a table of contents; the work is in ``tasks.steps``.
"""

from __future__ import annotations

from prefect import flow

from tasks.artifacts import publish_collection_artifacts_task
from tasks.steps import (
    CollectionSummary,
    check_pending_task,
    consolidate_year_task,
    load_plan_task,
    render_shiryo_task,
    take_intake_task,
    write_call_workbooks_task,
)


@flow(name="call-for-submissions", flow_run_name="call-{fiscal_year}")
def call_for_submissions(fiscal_year: int | None, config: str, workspace: str) -> list[str]:
    """Write each department's submission workbook (調査票) for the year."""
    plan = load_plan_task(config, fiscal_year)
    return write_call_workbooks_task(plan, workspace)


@flow(name="collect-submissions", flow_run_name="collect-{fiscal_year}")
def collect_submissions(
    fiscal_year: int | None, config: str, workspace: str, settle_seconds: float = 2.0
) -> CollectionSummary:
    """Take new files from intake, validate them, send feedback, rebuild the dataset."""
    plan = load_plan_task(config, fiscal_year)
    take_intake_task(plan, workspace, settle_seconds)
    summary = check_pending_task(plan, workspace)
    consolidate_year_task(plan, workspace)
    publish_collection_artifacts_task(plan, workspace, summary)
    return summary


@flow(name="publish-shiryo", flow_run_name="publish-{fiscal_year}")
def publish_shiryo(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Render the committee's Word and Excel 資料 (and PDFs) from the year's dataset."""
    plan = load_plan_task(config, fiscal_year)
    return render_shiryo_task(plan, workspace, pdf)


@flow(name="annual-cycle", flow_run_name="annual-cycle-{fiscal_year}")
def annual_cycle(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Run the whole cycle: call for submissions, collect what arrived, publish the 資料."""
    call_for_submissions(fiscal_year, config, workspace)
    collect_submissions(fiscal_year, config, workspace)
    return publish_shiryo(fiscal_year, config, workspace, pdf)
