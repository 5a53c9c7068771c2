"""``shiryo remind``: the year's 督促一覧, and with ``--send`` the reminder mail.

Registered on the ``shiryo`` command by :func:`register`; it runs the ``send-reminders`` flow
(``flows.reminders``) in the command's process, as ``shiryo run`` runs the cycle.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flows.locations import checked_location
from flows.terminal import guarded, parse_year

Year = Annotated[
    int,
    typer.Option(
        "--year", "-y", parser=parse_year, help="年度（2021、R3、令和3年度、H30 のどれでも）"
    ),
]
Workspace = Annotated[
    str, typer.Option("--workspace", "-w", help="作業フォルダ、または s3://バケット/接頭辞")
]
Config = Annotated[str, typer.Option("--config", "-c", help="プリセット名または plan.yaml")]
Send = Annotated[
    bool,
    typer.Option("--send", help="督促メールも送ります（reminders.yaml でメールを設定したとき）"),
]


def remind(
    year: Year,
    workspace: Workspace = "workspace",
    config: Config = "niigata-minami",
    send: Send = False,
) -> None:
    """督促一覧（未提出・差戻し中・未記入の行がある部署）を作ります。

    --send を付けると、reminders.yaml でメールを設定したときに督促メールも送ります。
    """
    from flows.foreground import in_foreground
    from flows.reminders import send_reminders
    from tasks.cycle.reminder_settings import load_reminder_settings, settings_path

    location = checked_location(workspace, config, year=year)
    settings = guarded(lambda: load_reminder_settings(config))  # a typo stops before Prefect
    result = guarded(lambda: in_foreground(lambda: send_reminders(year, config, location, send)))
    typer.echo(result.table)
    typer.echo(f"督促一覧: {result.list_location}")
    if not settings.mail.configured:
        typer.echo(
            f"メールの送信は設定されていません（{settings_path(config)} の mail.smtp_host）。"
            "督促一覧を印刷するか、表を貼り付けて部署に連絡してください。",
            err=True,
        )
        if send:
            typer.echo("エラー: メールの設定がないため、督促メールは送っていません。", err=True)
            raise typer.Exit(2)
    elif not send:
        typer.echo(
            f"督促メールは送っていません（宛先のある部署 {result.addressed}）。"
            "送るときは --send を付けます。",
            err=True,
        )
    else:
        sent = sum(1 for o in result.outcomes.values() if o.startswith("送りました"))
        typer.echo(f"督促メールを {sent} 部署に送りました。", err=True)


def register(app: typer.Typer) -> None:
    """Add ``remind`` to the ``shiryo`` command."""
    app.command("remind")(remind)
