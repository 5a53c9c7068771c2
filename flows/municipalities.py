"""One flow run that collects many municipalities: a prefecture's or a vendor's service.

``collect-municipalities`` reads the list file (``tasks.cycle.municipalities``) and runs the
``collect`` stage of ``flows.annual_cycle`` for each municipality in turn, each on its own
plan, its own workspace and its own result store: ledgers, datasets, 資料, Data Docs and the
UI's artifacts (keyed by municipality and workspace) stay apart. A municipality that fails
(a broken plan, a storage fault, a busy lock) is reported, in the log and in the list's
table, and the others are still collected; the run then ends Failed, naming each failed one.
A Retry runs the list again: each municipality's finished steps are skipped (their results
are kept in its workspace), so only what failed is done again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from flows.annual_cycle import collect, kept, opaque, publish
from flows.results import workspace_results
from flows.runners import task_runner
from flows.steps import load_plan_task
from tasks.cycle.municipalities import (
    Municipality,
    MunicipalityOutcome,
    collection_error,
    failed_outcome,
    load_municipalities,
)
from tasks.cycle.steps import READ_BATCH_FILES
from tasks.intake.ledger import STATUS_JA
from tasks.workspace.storage import open_storage

load_municipalities_task = task(name="load-municipalities")(load_municipalities)


def _run_name() -> str:
    """Name a run after its list and year: ``collect-municipalities-2021``."""
    from prefect.runtime import flow_run

    parameters = flow_run.parameters
    stem = Path(str(parameters["municipalities"])).stem
    year = parameters.get("fiscal_year")
    return f"collect-{stem}" + (f"-{year}" if year is not None else "")


@flow(name="collect-municipalities", flow_run_name=_run_name, task_runner=task_runner())
def collect_municipalities(
    municipalities: str,
    fiscal_year: int | None = None,
    settle_seconds: float = 2.0,
    batch_files: int = READ_BATCH_FILES,
    render: bool = False,
) -> list[MunicipalityOutcome]:
    """Collect every municipality of the list: intake, checks, feedback, dataset, artifacts.

    ``municipalities`` is the list file (``municipalities.yaml``); ``fiscal_year`` the year
    for all, or None for each plan's own; with ``render``, each municipality's 資料 are
    rendered after its collection (as ``publish-shiryo`` does).
    """
    listed = load_municipalities_task(Path(municipalities))
    options = Options(fiscal_year, settle_seconds, batch_files, render)
    outcomes = [collect_municipality(municipality, options) for municipality in listed]
    publish_outcomes_task(municipalities, opaque(outcomes))
    failure = collection_error(outcomes)
    if failure is not None:
        raise failure
    return outcomes


@dataclass(frozen=True)
class Options:
    """The flow's options, the same for every municipality of the list."""

    fiscal_year: int | None
    settle_seconds: float
    batch_files: int
    render: bool


def collect_municipality(municipality: Municipality, options: Options) -> MunicipalityOutcome:
    """Collect one municipality of the list; its failure is its outcome, never the others'."""
    if municipality.problem is not None:
        return _reported(failed_outcome(municipality, municipality.problem))
    try:
        storage = open_storage(municipality.workspace)
        results = workspace_results(municipality.workspace)
        plan = kept(load_plan_task, results)(municipality.config, options.fiscal_year)
        summary = collect(plan, storage, results, options.settle_seconds, options.batch_files)
        shiryo = publish(plan, storage, results, pdf=False) if options.render else []
    except Exception as err:  # one municipality's fault, whatever it is, stops only it
        return _reported(failed_outcome(municipality, err))
    return MunicipalityOutcome(
        municipality.number, municipality.workspace, plan.municipality, summary, shiryo=shiryo
    )


def _reported(outcome: MunicipalityOutcome) -> MunicipalityOutcome:
    """Log a failed municipality in the run's log (the UI shows it), and return it."""
    get_run_logger().error(outcome.error)
    return outcome


def publish_outcomes(municipalities: str, outcomes: list[MunicipalityOutcome]) -> None:
    """Show every municipality's outcome as one table in the UI (the list's own artifact)."""
    location = str(Path(municipalities).resolve())
    rows = [
        {
            "番号": o.number,
            "自治体": o.municipality or "",
            "作業フォルダ": o.workspace,
            "結果": "失敗" if o.error else "完了",
            "新しいファイル": len(o.summary.files) if o.summary else 0,
            **{
                STATUS_JA[status]: sum(1 for f in o.summary.files if f.status == status)
                if o.summary
                else 0
                for status in ("accepted", "rejected")
            },
            "エラー": o.error or "",
        }
        for o in outcomes
    ]
    digest = hashlib.sha256(location.encode("utf-8")).hexdigest()[:8]
    create_table_artifact(
        key=f"municipalities-{digest}",
        table=rows,
        description=f"自治体の一覧（{location}）の取り込み結果",
    )


publish_outcomes_task = task(name="publish-municipalities")(publish_outcomes)
