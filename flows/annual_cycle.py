"""The annual cycle as Prefect flows: call → collect → publish.

Each stage (``send_call``, ``collect``, ``publish``) is the table of contents of its steps;
the work is in ``tasks.cycle.steps``. A stage runs as its own flow (the scheduled deployments, a
Retry from the UI) or inside ``annual-cycle``, which runs all three in one flow run for
``shiryo run``: no subflows, so no subflow bookkeeping on the server (with its SQLite
database, creating a subflow right after another one ended was refused as busy and retried
2 s later). Cached steps keep their results in the workspace (``kept``), so that a Retry on
any worker skips them. The plan and the batches pass to the steps ``opaque``: Prefect would
otherwise walk every object in them (a plan's thousand initiatives) at each step, which cost
more than the steps themselves. The workspace is opened once per flow run and handed to every
step as its storage.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from prefect import Task, flow, unmapped
from prefect.futures import as_completed
from prefect.utilities.annotations import quote

from flows.artifacts import publish_collection_artifacts_task
from flows.progress import (
    CALL,
    CALL_STAGES,
    CHECK,
    COLLECT_STAGES,
    CYCLE_STAGES,
    DATASET,
    INTAKE,
    PUBLISH_STAGES,
    READ,
    RENDER,
    RunProgress,
)
from flows.results import WorkspaceResults, workspace_results
from flows.runners import task_runner
from flows.steps import (
    call_outdated_task,
    check_pending_task,
    check_rules_task,
    check_templates_task,
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
from tasks.check.submissions import ReadBatch
from tasks.check.together import SharedCheck
from tasks.cycle.steps import READ_BATCH_FILES, CollectionSummary
from tasks.intake.collect import IntakeResult
from tasks.intake.ledger import LedgerEntry
from tasks.plan.model import Plan
from tasks.render.pdf import pdf_available
from tasks.workspace.keys import publication_keys
from tasks.workspace.lock import collection_lock
from tasks.workspace.storage import Storage, open_storage

T = TypeVar("T", bound=Task[..., Any])
V = TypeVar("V")


def opaque(value: V) -> V:
    """Pass ``value`` to a step as it is, without Prefect walking everything inside it."""
    return cast(V, quote(value))


def kept(step: T, results: WorkspaceResults) -> T:
    """Return a cached step whose results are kept in the workspace (see ``flows.results``)."""
    return step.with_options(result_storage=results)  # type: ignore[return-value]


def send_call(
    plan: Plan, storage: Storage, results: WorkspaceResults, progress: RunProgress
) -> list[str]:
    """Write each department's submission workbook (調査票) for the plan's year."""
    progress.begin(CALL)
    # A workbook deleted by hand, or an edit undone (outgoing holds the edit's), is written again.
    refresh = call_outdated_task(opaque(plan), opaque(storage))
    write = kept(write_call_workbooks_task, results).with_options(refresh_cache=refresh)
    return write(opaque(plan), opaque(storage))


def collect(
    plan: Plan,
    storage: Storage,
    results: WorkspaceResults,
    progress: RunProgress,
    settle_seconds: float = 2.0,
    batch_files: int = READ_BATCH_FILES,
) -> CollectionSummary:
    """Take new files from intake, validate them, send feedback, rebuild the dataset."""
    progress.begin(INTAKE)
    kept(check_rules_task, results)(opaque(plan), opaque(storage))  # before intake
    with collection_lock(storage, plan.fiscal_year.current):
        intake, reads = take_and_read(plan, storage, results, progress, settle_seconds, batch_files)
        return check_and_consolidate(plan, storage, results, progress, intake, reads)


def take_and_read(
    plan: Plan,
    storage: Storage,
    results: WorkspaceResults,
    progress: RunProgress,
    settle_seconds: float = 2.0,
    batch_files: int = READ_BATCH_FILES,
) -> tuple[IntakeResult, list[ReadBatch]]:
    """Take new files from intake and read the pending ones (the collection's first half)."""
    intake = take_intake_task(opaque(plan), opaque(storage), settle_seconds)
    batches = pending_batches_task(opaque(plan), opaque(storage), batch_files)
    pending = sum(len(batch) for batch in batches)
    progress.begin(READ, f"{pending} 件")
    return intake, read_batches(plan, storage, results, progress, batches)


def check_and_consolidate(
    plan: Plan,
    storage: Storage,
    results: WorkspaceResults,
    progress: RunProgress,
    intake: IntakeResult,
    reads: list[ReadBatch],
    shared: SharedCheck | None = None,
) -> CollectionSummary:
    """Validate what was read, send feedback, rebuild the dataset, show it in the UI (the
    collection's second half). ``shared``: the suites' findings, run with other plans'."""
    progress.begin(CHECK, f"{sum(len(r.shas) for r in reads)} 件")
    check = kept(check_pending_task, results)
    extra = {"shared": opaque(shared)} if shared is not None else {}
    summary = check(opaque(plan), opaque(storage), opaque(reads), **extra)
    progress.begin(DATASET)
    kept(consolidate_year_task, results)(opaque(plan), opaque(storage))
    publish_collection_artifacts_task(
        opaque(plan), opaque(storage), opaque(summary), opaque(intake)
    )
    return summary


def read_batches(
    plan: Plan,
    storage: Storage,
    results: WorkspaceResults,
    progress: RunProgress,
    batches: list[list[LedgerEntry]],
) -> list[ReadBatch]:
    """Read the pending files: one batch here, several spread by the flow's task runner."""
    read = kept(read_pending_task, results)
    if len(batches) <= 1:
        # Nothing to spread (a city's files fit in one batch): no thread or worker to start.
        return [read(opaque(plan), opaque(storage), opaque(batch)) for batch in batches]
    # Not opaque: prefect-dask hands a quoted parameter to the task still wrapped.
    futures = read.map(unmapped(plan), unmapped(storage), batches)
    for _ in progress.parts(READ, as_completed(futures), len(batches)):
        pass
    return futures.result()


def publish(
    plan: Plan, storage: Storage, results: WorkspaceResults, progress: RunProgress, pdf: bool
) -> list[str]:
    """Render the committee's Word and Excel 資料 (and PDFs) from the year's dataset."""
    progress.begin(RENDER, "Word・Excel・PDF" if pdf and pdf_available() else "Word・Excel")
    kept(check_templates_task, results)(opaque(plan), opaque(storage))  # before rendering
    with collection_lock(storage, plan.fiscal_year.current):  # never a dataset half rebuilt
        # An output deleted by hand is rendered again.
        outputs = publication_keys(plan, pdf and pdf_available())
        refresh = outputs_missing_task(opaque(storage), outputs)
        render = kept(render_shiryo_task, results).with_options(refresh_cache=refresh)
        rendered = render(opaque(plan), opaque(storage), pdf)
    progress.finish()
    return rendered


@flow(name="call-for-submissions", flow_run_name=run_name("call"))
def call_for_submissions(fiscal_year: int | None, config: str, workspace: str) -> list[str]:
    """Write each department's submission workbook (調査票) for the year."""
    storage, results = open_storage(workspace), workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    with RunProgress(CALL_STAGES) as progress:
        written = send_call(plan, storage, results, progress)
        progress.finish()
    return written


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
    storage, results = open_storage(workspace), workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    with RunProgress(COLLECT_STAGES) as progress:
        summary = collect(plan, storage, results, progress, settle_seconds, batch_files)
        progress.finish()
    return summary


@flow(name="publish-shiryo", flow_run_name=run_name("publish"))
def publish_shiryo(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Render the committee's Word and Excel 資料 (and PDFs) from the year's dataset."""
    storage, results = open_storage(workspace), workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    with RunProgress(PUBLISH_STAGES) as progress:
        return publish(plan, storage, results, progress, pdf)


@flow(name="annual-cycle", flow_run_name=run_name("annual-cycle"), task_runner=task_runner())
def annual_cycle(
    fiscal_year: int | None, config: str, workspace: str, pdf: bool = False
) -> list[str]:
    """Run the whole cycle in one flow run: call for submissions, collect, publish the 資料."""
    storage, results = open_storage(workspace), workspace_results(workspace)
    plan = kept(load_plan_task, results)(config, fiscal_year)
    with RunProgress(CYCLE_STAGES) as progress:
        send_call(plan, storage, results, progress)
        collect(plan, storage, results, progress)
        return publish(plan, storage, results, progress, pdf)
