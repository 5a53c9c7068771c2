"""The annual cycle as Prefect flows: call → collect → publish.

Each flow reads like a table of contents; the work is in ``tasks.steps``.
"""

from __future__ import annotations

from prefect import flow

from tasks.artifacts import publish_collection_artifacts_task
from tasks.lock import collection_lock
from tasks.steps import (
    CollectionSummary,
    call_keys,
    check_pending_task,
    consolidate_year_task,
    load_plan_task,
    outputs_missing,
    render_shiryo_task,
    report_keys,
    run_name,
    take_intake_task,
    write_call_workbooks_task,
)


@flow(name="call-for-submissions", flow_run_name=run_name("call"))
def call_for_submissions(fiscal_year: int | None, config: str, workspace: str) -> list[str]:
    """Write each department's submission workbook (調査票) for the year."""
    plan = load_plan_task(config, fiscal_year)
    refresh = outputs_missing(workspace, call_keys(plan))  # deleted by hand: write them again
    return write_call_workbooks_task.with_options(refresh_cache=refresh)(plan, workspace)


@flow(name="collect-submissions", flow_run_name=run_name("collect"))
def collect_submissions(
    fiscal_year: int | None, config: str, workspace: str, settle_seconds: float = 2.0
) -> CollectionSummary:
    """Take new files from intake, validate them, send feedback, rebuild the dataset."""
    plan = load_plan_task(config, fiscal_year)
    with collection_lock(workspace, plan.fiscal_year.current):  # one collection at a time
        take_intake_task(plan, workspace, settle_seconds)
        summary = check_pending_task(plan, workspace)
        consolidate_year_task(plan, workspace)
        publish_collection_artifacts_task(plan, workspace, summary)
    return summary


@flow(name="publish-shiryo", flow_run_name=run_name("publish"))
def publish_shiryo(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Render the committee's Word and Excel 資料 (and PDFs) from the year's dataset."""
    plan = load_plan_task(config, fiscal_year)
    refresh = outputs_missing(workspace, report_keys(plan, pdf))  # deleted by hand: render again
    return render_shiryo_task.with_options(refresh_cache=refresh)(plan, workspace, pdf)


@flow(name="annual-cycle", flow_run_name=run_name("annual-cycle"))
def annual_cycle(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Run the whole cycle: call for submissions, collect what arrived, publish the 資料."""
    call_for_submissions(fiscal_year, config, workspace)
    collect_submissions(fiscal_year, config, workspace)
    return publish_shiryo(fiscal_year, config, workspace, pdf)
