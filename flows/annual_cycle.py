"""The annual cycle as Prefect flows: call → collect → publish.

Each stage (``send_call``, ``collect``, ``publish``) is the table of contents of its steps;
the work is in ``tasks.steps``. A stage runs as its own flow (the scheduled deployments, a
Retry from the UI) or inside ``annual-cycle``, which runs all three in one flow run for
``shiryo run``: no subflows, so no subflow bookkeeping on the server (with its SQLite
database, creating a subflow right after another one ended was refused as busy and retried
2 s later). Cached steps keep their results in the workspace (``kept``), so that a Retry on
any worker skips them. The plan and the batches pass to the steps ``opaque``: Prefect would
otherwise walk every object in them (a plan's thousand initiatives) at each step, which cost
more than the steps themselves.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from prefect import Task, flow, unmapped
from prefect.utilities.annotations import quote

from flows.runners import task_runner
from tasks.artifacts import publish_collection_artifacts_task
from tasks.keys import call_keys, publication_keys
from tasks.lock import collection_lock
from tasks.plan import Plan
from tasks.results import WorkspaceResults, workspace_results
from tasks.steps import (
    READ_BATCH_FILES,
    CollectionSummary,
    check_pending_task,
    consolidate_year_task,
    load_plan_task,
    outputs_missing_task,
    pending_batches_task,
    read_pending_task,
    render_shiryo_task,
    run_name,
    take_intake_task,
    write_call_workbooks_task,
)

T = TypeVar("T", bound=Task[..., Any])
V = TypeVar("V")


def opaque(value: V) -> V:
    """Pass ``value`` to a step as it is, without Prefect walking everything inside it."""
    return cast(V, quote(value))


def kept(step: T, results: WorkspaceResults) -> T:
    """Return a cached step whose results are kept in the workspace (see ``tasks.results``)."""
    return step.with_options(result_storage=results)  # type: ignore[return-value]


def send_call(plan: Plan, workspace: str, results: WorkspaceResults) -> list[str]:
    """Write each department's submission workbook (調査票) for the plan's year."""
    refresh = outputs_missing_task(workspace, call_keys(plan))  # deleted by hand: write again
    write = kept(write_call_workbooks_task, results).with_options(refresh_cache=refresh)
    return write(opaque(plan), workspace)


def collect(
    plan: Plan,
    workspace: str,
    results: WorkspaceResults,
    settle_seconds: float = 2.0,
    batch_files: int = READ_BATCH_FILES,
) -> CollectionSummary:
    """Take new files from intake, validate them, send feedback, rebuild the dataset."""
    with collection_lock(workspace, plan.fiscal_year.current):
        take_intake_task(opaque(plan), workspace, settle_seconds)
        batches = pending_batches_task(opaque(plan), workspace, batch_files)
        read = kept(read_pending_task, results)
        # Not opaque: prefect-dask hands a quoted parameter to the task still wrapped.
        reads = read.map(unmapped(plan), unmapped(workspace), batches).result()
        summary = kept(check_pending_task, results)(opaque(plan), workspace, opaque(reads))
        kept(consolidate_year_task, results)(opaque(plan), workspace)
        publish_collection_artifacts_task(opaque(plan), workspace, opaque(summary))
    return summary


def publish(plan: Plan, workspace: str, results: WorkspaceResults, pdf: bool) -> list[str]:
    """Render the committee's Word and Excel 資料 (and PDFs) from the year's dataset."""
    with collection_lock(workspace, plan.fiscal_year.current):  # never a dataset half rebuilt
        refresh = outputs_missing_task(
            workspace, publication_keys(plan, pdf)
        )  # deleted: render again
        render = kept(render_shiryo_task, results).with_options(refresh_cache=refresh)
        return render(opaque(plan), workspace, pdf)


@flow(name="call-for-submissions", flow_run_name=run_name("call"))
def call_for_submissions(fiscal_year: int | None, config: str, workspace: str) -> list[str]:
    """Write each department's submission workbook (調査票) for the year."""
    results = workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    return send_call(plan, workspace, results)


@flow(name="collect-submissions", flow_run_name=run_name("collect"), task_runner=task_runner())
def collect_submissions(
    fiscal_year: int | None,
    config: str,
    workspace: str,
    settle_seconds: float = 2.0,
    batch_files: int = READ_BATCH_FILES,
) -> CollectionSummary:
    """Take new files from intake, validate them, send feedback, rebuild the dataset.

    Files are read in batches of ``batch_files``, spread by the flow's task runner
    (``flows.runners``); they are validated together. One collection of a year at a time.
    """
    results = workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    return collect(plan, workspace, results, settle_seconds, batch_files)


@flow(name="publish-shiryo", flow_run_name=run_name("publish"))
def publish_shiryo(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Render the committee's Word and Excel 資料 (and PDFs) from the year's dataset."""
    results = workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    return publish(plan, workspace, results, pdf)


@flow(name="annual-cycle", flow_run_name=run_name("annual-cycle"), task_runner=task_runner())
def annual_cycle(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Run the whole cycle in one flow run: call for submissions, collect, publish the 資料."""
    results = workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    send_call(plan, workspace, results)
    collect(plan, workspace, results)
    return publish(plan, workspace, results, pdf)
