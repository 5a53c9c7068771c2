"""The ``shiryo`` command for coordinators: demo, run, template, presets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from tasks.settings import environment, quiet_environment

quiet_environment()  # before Prefect or GX is imported: they read these at import

app = typer.Typer(help="地域福祉計画の進捗資料を作る (shiryo)", no_args_is_help=True)

Workspace = Annotated[
    str, typer.Option("--workspace", "-w", help="作業フォルダ、または s3://バケット/接頭辞")
]
Config = Annotated[str, typer.Option("--config", "-c", help="プリセット名または plan.yaml")]
Year = Annotated[int, typer.Option("--year", "-y", help="年度（西暦）")]
Pdf = Annotated[bool, typer.Option("--pdf", help="LibreOffice があれば資料の PDF も作ります")]
DEFAULT_PRESET = "niigata-minami"


@app.command()
def demo(
    workspace: Workspace = "demo-workspace",
    preset: Annotated[str, typer.Option(help="プリセット名")] = DEFAULT_PRESET,
    pdf: Pdf = False,
) -> None:
    """デモ: 調査票の作成から資料の出力まで、プリセットのデータで一通り実行します。"""
    from flows.demo import demo_cycle

    location = _location(workspace)
    _report(location, _guarded(lambda: _in_foreground(lambda: demo_cycle(preset, location, pdf))))


@app.command()
def run(
    year: Year,
    workspace: Workspace = "workspace",
    config: Config = DEFAULT_PRESET,
    pdf: Pdf = False,
) -> None:
    """部署が提出したファイルを取り込み、確認し、資料を出力します。"""
    from tasks.cycle.noop import current_outputs

    location = _location(workspace)
    current = _guarded(lambda: current_outputs(config, year, location, pdf))
    if current is not None:
        typer.echo(
            "新しい提出はなく、資料は最新です（実行は省きました。提出状況は shiryo status）。",
            err=True,
        )
        _report(location, current)
        return
    from flows.annual_cycle import annual_cycle

    outputs = _guarded(lambda: _in_foreground(lambda: annual_cycle(year, config, location, pdf)))
    _report(location, outputs)


@app.command()
def template(
    year: Year, workspace: Workspace = "workspace", config: Config = DEFAULT_PRESET
) -> None:
    """各部署に配布する調査票を outgoing/ に作成します。"""
    from flows.annual_cycle import call_for_submissions
    from tasks.workspace.storage import open_storage

    location = _location(workspace)
    keys = _guarded(lambda: call_for_submissions(year, config, location))
    storage = open_storage(location)
    for key in keys:
        typer.echo(storage.describe(key))


@app.command()
def status(year: Year, workspace: Workspace = "workspace", config: Config = DEFAULT_PRESET) -> None:
    """部署ごとの提出状況（未提出・差戻し中・期限超過）を表示します。"""
    import datetime as dt

    from tasks.intake.ledger import load_ledger
    from tasks.intake.status import build_status_rows, format_status_table
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    def table() -> str:
        plan = plan_for_year(load_plan(config), year)
        ledger = load_ledger(open_storage(_location(workspace)), year)
        return format_status_table(build_status_rows(plan, ledger, dt.date.today()))

    typer.echo(_guarded(table))


@app.command()
def docs(year: Year, workspace: Workspace = "workspace", config: Config = DEFAULT_PRESET) -> None:
    """確認済みの提出ファイルを確認し直し、GX Data Docs（確認結果の詳しい画面）を作ります。

    shiryo run は指摘事項があったときだけ Data Docs を作ります。すべてのファイルの詳細を
    見たいときに使います。台帳・差戻し票・集計データは変わりません。
    """
    from tasks.cycle.steps import build_data_docs
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    def build() -> str:
        plan = plan_for_year(load_plan(config), year)
        index = build_data_docs(plan, open_storage(_location(workspace)))
        return index or f"{year}年度に確認済みのファイルがありません。"

    typer.echo(_guarded(build))


@app.command()
def serve(
    workspace: Workspace = "workspace",
    config: Config = DEFAULT_PRESET,
    port: Annotated[int, typer.Option(help="Prefect サーバーのポート")] = 4200,
    notify: Annotated[
        Path | None,
        typer.Option(help="失敗の通知の設定（省略時は config/notifications.yaml）"),
    ] = None,
) -> None:
    """年間の自動実行（調査票の配布・収集・資料の作成）を登録し、予定どおり実行します。

    PREFECT_API_URL が未設定なら、この機械で Prefect サーバー（画面: http://127.0.0.1:PORT）
    も起動します。失敗したときの通知も登録します（--notify の設定）。止めるときは Ctrl+C。
    """
    server = None
    if environment().prefect_api_url is None:
        ui = f"http://127.0.0.1:{port}"
        # The UI's own pages call the API; without this they look for port 4200.
        server_env = {**os.environ, "PREFECT_UI_URL": ui, "PREFECT_UI_API_URL": f"{ui}/api"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=server_env,
        )
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        _wait_for_server(f"http://127.0.0.1:{port}/api/health", server)
        typer.echo(f"Prefect の画面: http://127.0.0.1:{port}")
    from flows.serve import serve_cycle

    signal.signal(signal.SIGTERM, _stop)  # a service manager's stop also stops the server
    try:
        overrides = {"workspace": _location(workspace), "config": config}
        _guarded(lambda: serve_cycle(overrides, notify))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _wait_for_server(url: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            typer.echo("エラー: Prefect サーバーを起動できませんでした。", err=True)
            raise typer.Exit(2)
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    server.terminate()
    typer.echo("エラー: Prefect サーバーが時間内に起動しませんでした。", err=True)
    raise typer.Exit(2)


@app.command("import-history")
def import_history(
    year: Year,
    file: Annotated[Path, typer.Option("--file", "-f", help="過去の一覧（.xlsx）")],
    workspace: Workspace = "workspace",
    config: Config = DEFAULT_PRESET,
) -> None:
    """過去の年度の一覧（Excel）を取り込み、その年度の実績・評価として保存します。"""
    from tasks.dataset.history import import_history_workbook, write_imported_year
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    def run_import() -> str:
        plan = plan_for_year(load_plan(config), year)
        imported = import_history_workbook(plan, file.read_bytes(), year)
        key = write_imported_year(open_storage(_location(workspace)), imported, year)
        for name in imported.unmatched:
            typer.echo(f"計画にない事業名のため取り込まなかった行: {name}", err=True)
        return f"{len(imported.consolidated)} 行を取り込みました: {key}"

    typer.echo(_guarded(run_import))


@app.command()
def presets() -> None:
    """同梱のプリセットを一覧表示します。"""
    from tasks.plan.load import list_presets, load_plan

    for name in list_presets():
        plan = load_plan(name)
        typer.echo(f"{name}\t{plan.municipality}\t{plan.report.title}")


T = TypeVar("T")


def _in_foreground(action: Callable[[], T]) -> T:
    """Run flows in this process: on the server of ``PREFECT_API_URL`` if set, else a temporary one.

    No flow-run heartbeats: this command's own process shows whether the run lives, and each
    flow run's heartbeat thread would make its end wait up to a second.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    api = environment().prefect_api_url
    if api:
        typer.echo(f"Prefect サーバー {api} を使います（PREFECT_API_URL）。", err=True)
    else:
        typer.echo(
            "一時的な Prefect サーバーを起動します（起動済みのサーバーを使うと速くなります:"
            " shiryo serve、または PREFECT_API_URL を設定）。",
            err=True,
        )
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return action()


def _guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a ShiryoError ends the command with its message, not a traceback."""
    from tasks.errors import ShiryoError

    try:
        return action()
    except ShiryoError as err:
        typer.echo(f"エラー: {err}", err=True)
        raise typer.Exit(2) from err


def _location(workspace: str) -> str:
    return workspace if workspace.startswith("s3://") else str(Path(workspace).resolve())


def _report(location: str, outputs: list[str]) -> None:
    from tasks.workspace.storage import open_storage, own_objects

    storage = open_storage(location)
    typer.echo("\n資料:")
    for key in outputs:
        typer.echo(f"  {storage.describe(key)}")
    feedback = [o.key for o in own_objects(storage.list("feedback")) if o.key.endswith(".xlsx")]
    if feedback:
        typer.echo("差戻し票・確認結果:")
        for key in feedback:
            typer.echo(f"  {storage.describe(key)}")
