"""What a run tells the coordinator at its end: the 資料 and the 差戻し票 to send."""

from __future__ import annotations

import typer


def print_outputs(location: str, config: str, year: int | None, outputs: list[str]) -> None:
    """Print where the 資料 are, and the year's current 差戻し票 to send."""
    from tasks.cycle.summary import current_feedback
    from tasks.intake.ledger import load_ledger
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    storage = open_storage(location)
    typer.echo("\n資料:")
    for key in outputs:
        typer.echo(f"  {storage.describe(key)}")
    plan = plan_for_year(load_plan(config), year)
    feedback = current_feedback(plan, load_ledger(storage, plan.fiscal_year.current), storage)
    if feedback:
        typer.echo(f"部署に返す差戻し票（{plan.fiscal_year.current}年度、各部署の最新の提出）:")
        for item in feedback:
            typer.echo(f"  {item.department}（{item.status}）: {storage.describe(item.key)}")
