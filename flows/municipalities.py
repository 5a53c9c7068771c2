"""One flow run that collects many municipalities: a prefecture's or a vendor's service.

``collect-municipalities`` reads the list file (``tasks.cycle.municipalities``) and runs the
``collect`` stage of ``flows.annual_cycle`` for every municipality, in its two halves: first
each municipality's rules, lock, intake and reads; then the suites over all their files
at once (``check-together``: one GX run per suite that plans share, each row carrying
its own plan's values, ``tasks.check.together``); then each one's checks, feedback, dataset
and artifacts with its share (``flows.rounds``, which also runs them side by side on Dask).
Each has its own plan, workspace and result store: ledgers,
datasets, 資料, Data Docs and the UI's artifacts (keyed by municipality and workspace) stay
apart. A municipality that fails (a broken plan, a storage fault, a busy lock) is reported,
in the log and in the list's table, and the others are still collected; the run then ends
Failed, naming each failed one. A Retry runs the list again: each municipality's finished
steps are skipped (their results are kept in its workspace), so only what failed is redone.
A long list is taken in rounds of ``per_round`` municipalities, each through the three
passes: the files read are held only until the round's end.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_table_artifact

from flows.annual_cycle import opaque
from flows.progress import MANY_STAGES, RunProgress
from flows.rounds import Options, collect_round
from flows.runners import task_runner
from flows.steps import UNCACHED
from tasks.cycle.municipalities import (
    MunicipalityOutcome,
    collection_error,
    load_municipalities,
)
from tasks.cycle.steps import READ_BATCH_FILES
from tasks.intake.ledger import STATUS_JA

load_municipalities_task = task(name="load-municipalities", **UNCACHED)(load_municipalities)

ROUND_MUNICIPALITIES = 40
"""Municipalities per round: about 2,000 files of a prefecture's, 0.7 GiB in the flow."""


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
    per_round: int = ROUND_MUNICIPALITIES,
) -> list[MunicipalityOutcome]:
    """Collect every municipality of the list: intake, checks, feedback, dataset, artifacts.

    ``municipalities`` is the list file (``municipalities.yaml``); ``fiscal_year`` the year
    for all, or None for each plan's own; with ``render``, each municipality's 資料 are
    rendered after its collection (as ``publish-shiryo`` does). The list is taken in rounds
    of ``per_round`` municipalities: a round's files are held in memory until it ends.
    """
    listed = load_municipalities_task(Path(municipalities))
    options = Options(fiscal_year, settle_seconds, batch_files, render)
    rounds = [listed[i : i + max(per_round, 1)] for i in range(0, len(listed), max(per_round, 1))]
    outcomes: list[MunicipalityOutcome] = []
    with RunProgress(MANY_STAGES) as progress:
        for number, chunk in enumerate(rounds, start=1):
            progress.round_of(number, len(rounds))
            outcomes += collect_round(chunk, options, progress)
        progress.finish()
    publish_outcomes_task(municipalities, opaque(outcomes))
    failure = collection_error(outcomes)
    if failure is not None:
        raise failure
    return outcomes


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


publish_outcomes_task = task(name="publish-municipalities", **UNCACHED)(publish_outcomes)
