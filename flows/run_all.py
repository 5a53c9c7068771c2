"""``shiryo run-all``: every municipality of a list file collected in one flow run.

Registered on the ``shiryo`` command by :func:`register`; it runs ``collect-municipalities``
(``flows.municipalities``) in the command's process, as ``shiryo run`` runs one
municipality's cycle, and prints one line per municipality.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from flows.terminal import guarded, parse_year, say

ListFile = Annotated[
    Path,
    typer.Option("--list", "-l", help="自治体の一覧（municipalities.yaml: config と workspace）"),
]
Year = Annotated[
    int | None,
    typer.Option(
        "--year", "-y", parser=parse_year, help="年度（省略すると各自治体の plan.yaml の年度）"
    ),
]
NoRender = Annotated[
    bool, typer.Option("--no-render", help="資料は出力せず、取り込みと確認だけ行います")
]


def run_all(listing: ListFile, year: Year = None, no_render: NoRender = False) -> None:
    """一覧の自治体すべての提出ファイルを 1 回の実行で取り込み、確認し、資料を出力します。

    ある自治体が失敗しても、ほかの自治体は取り込みます（失敗した自治体は最後に表示します）。
    """
    from flows.foreground import in_foreground
    from flows.municipalities import collect_municipalities
    from tasks.cycle.municipalities import MunicipalityOutcome, load_municipalities
    from tasks.errors import CollectionError
    from tasks.workspace.storage import open_storage

    guarded(lambda: load_municipalities(listing))  # a broken list stops before Prefect starts
    state = guarded(
        lambda: in_foreground(
            lambda: collect_municipalities(
                str(listing.resolve()), year, render=not no_render, return_state=True
            )
        )
    )
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException) and not isinstance(result, CollectionError):
        guarded(lambda: _raise(result))  # the list itself could not be read in the flow
    outcomes = cast(
        list[MunicipalityOutcome],
        result.outcomes if isinstance(result, CollectionError) else result,
    )
    for outcome in outcomes:
        if outcome.summary is None:
            continue
        files = outcome.summary.files
        accepted = sum(1 for f in files if f.status == "accepted")
        say(
            f"{outcome.number}. {outcome.municipality}（{outcome.workspace}）: 新しいファイル "
            f"{len(files)} 件（受理 {accepted}、差戻し {len(files) - accepted}）"
        )
        storage = open_storage(outcome.workspace)
        for key in outcome.shiryo:
            say(f"    資料: {storage.describe(key)}")
    if isinstance(result, CollectionError):
        say(f"エラー: {result}", err=True)
        raise typer.Exit(1)


def _raise(error: BaseException) -> None:
    raise error


def register(app: typer.Typer) -> None:
    """Add ``run-all`` to the ``shiryo`` command."""
    app.command("run-all")(run_all)
