"""``shiryo run``'s work, wherever it runs: in the command's own process or in the warm
service (``flows.warm``) that ``shiryo serve`` keeps, which prints through :func:`say`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

from flows.locations import checked_location
from flows.summary import ledger_before, print_summary
from flows.terminal import guarded, say

T = TypeVar("T")

Runner = Callable[[Callable[[], T], Callable[[], None]], T]
"""Runs the flow after its preparation: ``flows.foreground.in_foreground`` here (preparing while
a temporary server starts), ``flows.foreground.in_this_process`` in the warm service."""


def run_year(
    year: int,
    workspace: str,
    config: str,
    pdf: bool,
    new_workspace: bool,
    runner: Runner[list[str]],
) -> None:
    """Take the year's new files, check them, publish the 資料, and say what happened."""
    from tasks.cycle.noop import current_outputs

    location = checked_location(workspace, config, create=new_workspace, year=year)
    guarded(lambda: _lock_free(location, year))
    before = guarded(lambda: ledger_before(location, config, year))
    current = guarded(lambda: current_outputs(config, year, location, pdf))
    if current is not None:
        say(
            "新しい提出はなく、資料は最新です（実行は省きました。提出状況は shiryo status）。",
            err=True,
        )
        print_summary(location, config, year, current, before)
        return

    def prepare() -> None:
        _check_before_intake(config, year, location)
        _load_the_steps()

    def cycle() -> list[str]:
        from flows.annual_cycle import annual_cycle

        return annual_cycle(year, config, location, pdf)

    outputs = guarded(lambda: runner(cycle, prepare))
    print_summary(location, config, year, outputs, before)


def _load_the_steps() -> None:
    """Import the flows and make GX's context now (seconds, cold), not inside the first step:
    a command's own process does it while its temporary Prefect server starts."""
    import flows.annual_cycle  # noqa: F401
    from tasks.check.gx_context import warm_up_context

    warm_up_context()


def _lock_free(location: str, year: int) -> None:
    """Stop at once when another run collects the year (it would wait, then fail)."""
    from tasks.workspace.lock import ensure_lock_free
    from tasks.workspace.storage import open_storage

    ensure_lock_free(open_storage(location), year)


def _check_before_intake(config: str, year: int | None, location: str) -> None:
    """Stop before any file is taken when the configuration does not fit together."""
    from tasks.cycle.configuration import problems_before_run
    from tasks.workspace.storage import open_storage

    problems = guarded(lambda: problems_before_run(config, year, open_storage(location)))
    if problems:
        for line in problems:
            say(f"エラー: {line}", err=True)
        say("設定を直してから実行してください（提出ファイルは取り込んでいません）。", err=True)
        raise typer.Exit(2)
