"""A round of ``collect-municipalities``: begin each municipality, check together, finish each.

Begin: a municipality's plan and rules are checked and its year's collection lock taken
(here, in the flow), then its new files are taken and read. Check together: the suites run
once over every municipality's files (``check-together``). Finish: each one's checks,
feedback, dataset and artifacts with its share, then with ``render`` its 資料. A failure of
one municipality is its outcome, never the others'. With the default thread pool the
municipalities are begun and finished one after the other in the flow's process; on a task
runner of other processes (Dask, a process pool: ``flows.runners``) their intake and reads,
then their finishing and rendering, run side by side there as tasks, the flow holding each
one's lock until its dataset is rebuilt. A round's files are held only until it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, replace

from prefect import get_run_logger, task
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from flows.annual_cycle import check_and_consolidate, kept, opaque, publish, take_and_read
from flows.progress import ALL_CHECKED, CYCLE_STAGES, EACH_BEGUN, EACH_FINISHED, RunProgress
from flows.results import WorkspaceResults, workspace_results
from flows.steps import UNCACHED, check_rules_task, check_together_task, load_plan_task
from tasks.check.submissions import ReadBatch
from tasks.check.together import SharedCheck
from tasks.cycle.municipalities import Municipality, MunicipalityOutcome, failed_outcome
from tasks.intake.collect import IntakeResult
from tasks.plan.model import Plan
from tasks.workspace.lock import collection_lock
from tasks.workspace.storage import Storage, open_storage


def collect_round(
    listed: list[Municipality], options: Options, progress: RunProgress
) -> list[MunicipalityOutcome]:
    """Begin each municipality, check all their files together, finish each.

    On a task runner of other processes (Dask, a process pool: ``flows.runners``), the
    municipalities' intake and reads, then their finishing, run side by side there; with the
    default thread pool they run one after the other here (GX's validation store is one per
    process, so two municipalities' checks never share a process at once).
    """
    count = len(listed)
    elsewhere = runs_elsewhere()
    with ExitStack() as locks:
        held: dict[int, ExitStack] = {}
        progress.begin(EACH_BEGUN, f"{count} 自治体")
        if elsewhere:
            begun = begin_elsewhere(listed, options, held, locks, progress)
        else:
            begun = [
                begin_municipality(municipality, options, held, locks)
                for municipality in progress.parts(EACH_BEGUN, listed, count)
            ]
        started = [b for b in begun if isinstance(b, Begun)]
        progress.begin(ALL_CHECKED, f"{len(started)} 自治体")
        shares = dict(zip([b.number for b in started], check_all(started), strict=True))
        progress.begin(EACH_FINISHED, f"{count} 自治体")
        if elsewhere:
            finished = finish_elsewhere(begun, shares, options, held, progress)
        else:
            finished = [
                finish_municipality(b, shares[b.number], options, held[b.number])
                if isinstance(b, Begun)
                else b
                for b in progress.parts(EACH_FINISHED, begun, count)
            ]
    return finished


def runs_elsewhere() -> bool:
    """Return whether the flow's task runner runs tasks in other processes."""
    context = FlowRunContext.get()
    return context is not None and not isinstance(context.task_runner, ThreadPoolTaskRunner)


@dataclass(frozen=True)
class Options:
    """The flow's options, the same for every municipality of the list."""

    fiscal_year: int | None
    settle_seconds: float
    batch_files: int
    render: bool


@dataclass(frozen=True)
class Opened:
    """A municipality whose plan and rules are checked, its year's collection lock held."""

    municipality: Municipality
    plan: Plan
    storage: Storage
    results: WorkspaceResults

    @property
    def number(self) -> int:
        """The municipality's place in the list."""
        return self.municipality.number


@dataclass(frozen=True)
class Begun:
    """An opened municipality whose new files are taken and read (its lock held by the flow)."""

    opened: Opened
    intake: IntakeResult
    reads: list[ReadBatch]

    @property
    def number(self) -> int:
        """The municipality's place in the list."""
        return self.opened.number


def open_municipality(
    municipality: Municipality, options: Options, held: dict[int, ExitStack], locks: ExitStack
) -> Opened | MunicipalityOutcome:
    """Load a municipality's plan, check its rules and take its lock (kept in ``held``, and
    released at the latest with ``locks``); a failure is its outcome, never the others'."""
    if municipality.problem is not None:
        return _reported(failed_outcome(municipality, municipality.problem))
    lock = locks.enter_context(ExitStack())
    try:
        storage = open_storage(municipality.workspace)
        results = workspace_results(municipality.workspace)
        plan = kept(load_plan_task, results)(municipality.config, options.fiscal_year)
        kept(check_rules_task, results)(opaque(plan), opaque(storage))  # before intake
        lock.enter_context(collection_lock(storage, plan.fiscal_year.current))
    except Exception as err:  # one municipality's fault, whatever it is, stops only it
        lock.close()
        return _reported(failed_outcome(municipality, err))
    held[municipality.number] = lock
    return Opened(municipality, plan, storage, results)


def take_and_read_municipality(opened: Opened, options: Options) -> Begun:
    """Take a municipality's new files and read the pending ones."""
    intake, reads = take_and_read(
        opened.plan,
        opened.storage,
        opened.results,
        _UNSHOWN,
        options.settle_seconds,
        options.batch_files,
    )
    return Begun(opened, intake, reads)


def begin_municipality(
    municipality: Municipality, options: Options, held: dict[int, ExitStack], locks: ExitStack
) -> Begun | MunicipalityOutcome:
    """Open a municipality, take and read its new files; a failure is its outcome."""
    opened = open_municipality(municipality, options, held, locks)
    if not isinstance(opened, Opened):
        return opened
    return _begun(opened, lambda: take_and_read_municipality(opened, options), held)


def begin_elsewhere(
    listed: list[Municipality],
    options: Options,
    held: dict[int, ExitStack],
    locks: ExitStack,
    progress: RunProgress,
) -> list[Begun | MunicipalityOutcome]:
    """Open each municipality here, then take and read all their files side by side on the
    task runner's processes."""
    opened = [open_municipality(m, options, held, locks) for m in listed]
    futures = {
        o.number: take_and_read_task.submit(o, options) for o in opened if isinstance(o, Opened)
    }
    for _ in progress.parts(EACH_BEGUN, as_completed(list(futures.values())), len(futures)):
        pass
    return [
        _begun(o, futures[o.number].result, held) if isinstance(o, Opened) else o for o in opened
    ]


def _begun(
    opened: Opened, take: Callable[[], Begun], held: dict[int, ExitStack]
) -> Begun | MunicipalityOutcome:
    try:
        return take()
    except Exception as err:  # one municipality's fault, whatever it is, stops only it
        held.pop(opened.number).close()
        return _reported(failed_outcome(opened.municipality, err))


def check_all(started: list[Begun]) -> list[SharedCheck | None]:
    """Run the suites over every municipality's files at once (one GX run per shared suite).

    Should that fail, each municipality runs its own checks in ``check-submissions``, where
    the error is its own to report.
    """
    pending = [(b.opened.plan, b.opened.storage, b.reads) for b in started]
    try:
        return check_together_task(opaque(pending))
    except Exception as err:
        get_run_logger().warning("checks run together failed, each runs alone: %r", err)
        return [None] * len(started)


_ONE_CHECK_AT_A_TIME = threading.Lock()
"""A Dask worker may run several tasks at once in threads of one process; GX's validation
store is one per process, and each check publishes the Data Docs of all it holds, so two
municipalities' checks must never overlap in a process (one's results in the other's site)."""


def finish_municipality(
    begun: Begun,
    shared: SharedCheck | None,
    options: Options,
    lock: AbstractContextManager[object] | None = None,
) -> MunicipalityOutcome:
    """Check a municipality's files, rebuild its dataset (``lock`` then released), and with
    ``render`` its 資料; a failure is its outcome, never the others'."""
    opened = begun.opened
    plan, storage, results = opened.plan, opened.storage, opened.results
    try:
        with lock or nullcontext(), _ONE_CHECK_AT_A_TIME:
            summary = check_and_consolidate(
                plan, storage, results, _UNSHOWN, begun.intake, begun.reads, shared
            )
    except Exception as err:  # one municipality's fault, whatever it is, stops only it
        return _reported(failed_outcome(opened.municipality, err))
    workspace = opened.municipality.workspace
    outcome = MunicipalityOutcome(opened.number, workspace, plan.municipality, summary)
    return render_municipality(opened, outcome) if options.render else outcome


def render_municipality(opened: Opened, outcome: MunicipalityOutcome) -> MunicipalityOutcome:
    """Render a collected municipality's 資料 (``publish-shiryo``'s steps, without PDF)."""
    try:
        shiryo = publish(opened.plan, opened.storage, opened.results, _UNSHOWN, pdf=False)
    except Exception as err:  # one municipality's fault, whatever it is, stops only it
        return _reported(failed_outcome(opened.municipality, err))
    return replace(outcome, shiryo=shiryo)


def finish_elsewhere(
    begun: list[Begun | MunicipalityOutcome],
    shares: dict[int, SharedCheck | None],
    options: Options,
    held: dict[int, ExitStack],
    progress: RunProgress,
) -> list[MunicipalityOutcome]:
    """Finish the municipalities side by side on the task runner's processes. Each one's
    lock is released here as its dataset is rebuilt; its 資料 are then rendered there too
    (rendering takes the lock itself)."""
    started = {b.number: b for b in begun if isinstance(b, Begun)}
    without_render = replace(options, render=False)
    futures = {
        number: finish_task.submit(b, shares[number], without_render)
        for number, b in started.items()
    }
    numbers = {id(future): number for number, future in futures.items()}
    outcomes: dict[int, MunicipalityOutcome] = {}
    rendering: dict[int, PrefectFuture[MunicipalityOutcome]] = {}
    for future in progress.parts(EACH_FINISHED, as_completed(list(futures.values())), len(futures)):
        number = numbers[id(future)]
        outcomes[number] = _outcome(started[number], future, held.pop(number))
        if options.render and not outcomes[number].error:
            rendering[number] = render_task.submit(started[number].opened, outcomes[number])
    for number, future in rendering.items():
        outcomes[number] = _outcome(started[number], future, nullcontext())
    return [outcomes[b.number] if isinstance(b, Begun) else b for b in begun]


def _outcome(
    begun: Begun,
    future: PrefectFuture[MunicipalityOutcome],
    lock: AbstractContextManager[object],
) -> MunicipalityOutcome:
    """Return what a task run elsewhere made of a municipality, releasing ``lock``."""
    with lock:
        try:
            return future.result()
        except Exception as err:  # its process lost: it alone failed
            return _reported(failed_outcome(begun.opened.municipality, err))


_UNSHOWN = RunProgress(CYCLE_STAGES, shown=False)
"""Each municipality's stages say nothing: the run's table of outcomes shows them all."""


def _reported(outcome: MunicipalityOutcome) -> MunicipalityOutcome:
    """Log a failed municipality in the run's log (the UI shows it), and return it."""
    get_run_logger().error(outcome.error)
    return outcome


take_and_read_task = task(name="take-and-read", **UNCACHED)(take_and_read_municipality)
finish_task = task(name="finish-municipality", **UNCACHED)(finish_municipality)
render_task = task(name="render-municipality", **UNCACHED)(render_municipality)
