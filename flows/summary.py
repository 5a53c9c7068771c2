"""What a run tells the coordinator at its end: the 資料, what came in, what to send back."""

from __future__ import annotations

import datetime as dt

from flows.terminal import say
from tasks.intake.ledger import Ledger


def ledger_before(location: str, config: str, year: int | None) -> Ledger:
    """Return the year's ledger before a run, to tell afterwards what the run took."""
    from tasks.intake.ledger import load_ledger
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    plan = plan_for_year(load_plan(config), year)
    return load_ledger(open_storage(location), plan.fiscal_year.current)


def print_summary(
    location: str, config: str, year: int | None, outputs: list[str], before: Ledger
) -> None:
    """Print where the 資料 are, then the files of the run, each department's state and the
    year's current 差戻し票 to send."""
    from tasks.cycle.summary import format_run_summary, summarise_run
    from tasks.intake.ledger import load_ledger
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    storage = open_storage(location)
    say("\n資料:")
    for key in outputs:
        say(f"  {storage.describe(key)}")
    plan = plan_for_year(load_plan(config), year)
    after = load_ledger(storage, plan.fiscal_year.current)
    summary = summarise_run(plan, before, after, storage, dt.date.today())
    for line in format_run_summary(summary, storage.describe):
        say(line)
