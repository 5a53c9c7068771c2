"""What a run tells the coordinator at its end: the 資料, what came in, what to send back;
and what ``shiryo template`` and ``shiryo status`` say of the 調査票 to send again."""

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


def print_call(location: str, config: str, year: int | None, keys: list[str]) -> None:
    """Print ``shiryo template``'s workbooks, then the ones to send again, which it has now
    listed: the run's summary and ``shiryo status`` stop showing them."""
    from tasks.call.record import calls_to_resend, mark_listed
    from tasks.cycle.summary import format_resend
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    storage = open_storage(location)
    for key in keys:
        say(storage.describe(key))
    plan = plan_for_year(load_plan(config), year)
    resend = calls_to_resend(plan, storage)
    if not resend:
        return
    for line in format_resend(resend, storage.describe):
        say(line)
    if len(resend) < len(plan.departments):
        say("  ほかの部署の調査票は内容が変わっていません（送り直す必要はありません）。")
    mark_listed(storage, plan.fiscal_year.current)


def print_resend(location: str, config: str, year: int | None) -> None:
    """Print the 調査票 to send again, if any, and whether plan.yaml changed since they were
    written (after ``shiryo status``'s table)."""
    from tasks.call.record import calls_to_resend
    from tasks.cycle.summary import RESEND_UNTIL, call_outdated_note, format_resend
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    storage = open_storage(location)
    plan = plan_for_year(load_plan(config), year)
    resend = calls_to_resend(plan, storage)
    if resend:
        for line in [*format_resend(resend, storage.describe), f"  {RESEND_UNTIL}"]:
            say(line)
    note = call_outdated_note(plan, storage)
    if note:
        say(note)
