"""The ``shiryo`` command for coordinators: demo, run, template, presets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from flows.locations import checked_location, location_of
from flows.remind import register as register_remind
from flows.run_all import register as register_run_all
from flows.terminal import JapaneseGroup, guarded, on_a_terminal, parse_year
from tasks.settings import environment, quiet_environment

quiet_environment()  # before Prefect or GX is imported: they read these at import

app = typer.Typer(
    cls=JapaneseGroup, help="地域福祉計画の進捗資料を作る (shiryo)", no_args_is_help=True
)

Workspace = Annotated[
    str, typer.Option("--workspace", "-w", help="作業フォルダ、または s3://バケット/接頭辞")
]
Config = Annotated[str, typer.Option("--config", "-c", help="プリセット名または plan.yaml")]
Year = Annotated[
    int,
    typer.Option(
        "--year", "-y", parser=parse_year, help="年度（2021、R3、令和3年度、H30 のどれでも）"
    ),
]
Pdf = Annotated[bool, typer.Option("--pdf", help="LibreOffice があれば資料の PDF も作ります")]
NewWorkspace = Annotated[
    bool,
    typer.Option(
        "--new-workspace", help="作業フォルダがまだなければ、新しく作ります（綴りの誤りに注意）"
    ),
]
DEFAULT_PRESET = "niigata-minami"
register_remind(app)  # shiryo remind: the 督促一覧 and its mail (flows/remind.py)
register_run_all(app)  # shiryo run-all: every municipality of a list (flows/run_all.py)


@app.command()
def demo(
    workspace: Workspace = "demo-workspace",
    preset: Annotated[str, typer.Option(help="プリセット名")] = DEFAULT_PRESET,
    pdf: Pdf = False,
) -> None:
    """デモ: 調査票の作成から資料の出力まで、プリセットのデータで一通り実行します。"""
    from flows.servers import started_early

    with started_early():
        from flows.demo import demo_cycle
        from flows.foreground import in_foreground
        from flows.summary import ledger_before, print_summary

        location = checked_location(workspace, preset, create=True)
        before = guarded(lambda: ledger_before(location, preset, None))
        outputs = guarded(lambda: in_foreground(lambda: demo_cycle(preset, location, pdf)))
        print_summary(location, preset, None, outputs, before)


@app.command()
def run(
    year: Year,
    workspace: Workspace = "workspace",
    config: Config = DEFAULT_PRESET,
    pdf: Pdf = False,
    new_workspace: NewWorkspace = False,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="shiryo serve に任せず、このコマンドの中で実行します")
    ] = False,
) -> None:
    """部署が提出したファイルを取り込み、確認し、資料を出力します。

    shiryo serve が動いていれば、その中で実行します（準備が済んでいるので速い）。
    """
    if not no_serve:
        from flows.handoff import hand_off

        request = {"command": "run", "year": year, "workspace": location_of(workspace)}
        request |= {"config": _config_of(config), "pdf": pdf, "new_workspace": new_workspace}
        request |= {"terminal": on_a_terminal()}
        code = hand_off(request)
        if code is not None:
            raise typer.Exit(code)
    from flows.servers import started_early

    # With no server to use, the temporary one starts first: its start overlaps the checks.
    with started_early():
        # Imported here: a run handed to shiryo serve needs none of them (it starts faster).
        from flows.foreground import in_foreground
        from flows.year_run import run_year

        run_year(year, workspace, config, pdf, new_workspace, in_foreground)


@app.command()
def template(
    year: Year, workspace: Workspace = "workspace", config: Config = DEFAULT_PRESET
) -> None:
    """各部署に配布する調査票を outgoing/ に作成します。"""
    from flows.annual_cycle import call_for_submissions
    from flows.summary import print_call

    location = checked_location(workspace, config, create=True)
    keys = guarded(lambda: call_for_submissions(year, config, location))
    guarded(lambda: print_call(location, config, year, keys))


@app.command()
def status(year: Year, workspace: Workspace = "workspace", config: Config = DEFAULT_PRESET) -> None:
    """部署ごとの提出状況（未提出・差戻し中・期限超過）を表示します。"""
    import datetime as dt

    from flows.summary import print_resend
    from tasks.intake.ledger import load_ledger
    from tasks.intake.status import build_status_rows, format_status_table
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    location = checked_location(workspace, config, year=year)

    def table() -> str:
        plan = plan_for_year(load_plan(config), year)
        ledger = load_ledger(open_storage(location), year)
        return format_status_table(build_status_rows(plan, ledger, dt.date.today()))

    typer.echo(guarded(table))
    guarded(lambda: print_resend(location, config, year))


@app.command()
def docs(year: Year, workspace: Workspace = "workspace", config: Config = DEFAULT_PRESET) -> None:
    """確認済みの提出ファイルを確認し直し、指摘事項一覧（日本語）と GX Data Docs を作ります。

    shiryo run は指摘事項があったときだけ作ります。その年度のすべてのファイルの指摘事項や
    詳細を見たいときに使います。台帳・差戻し票・集計データは変わりません。
    """
    from tasks.cycle.docs import build_docs
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    location = checked_location(workspace, config, year=year)

    def build() -> str:
        plan = plan_for_year(load_plan(config), year)
        pages = build_docs(plan, open_storage(location))
        if pages is None:
            return f"{year}年度に確認済みのファイルがありません。"
        return (
            f"指摘事項一覧（日本語）: {pages.findings_page}\n"
            f"GX Data Docs（確認結果の詳細、英語）: {pages.index}"
        )

    typer.echo(guarded(build))


@app.command()
def serve(
    workspace: Workspace = "workspace",
    config: Config = DEFAULT_PRESET,
    port: Annotated[int, typer.Option(help="Prefect サーバーのポート")] = 4200,
    notify: Annotated[
        Path | None,
        typer.Option(help="失敗の通知の設定（省略時は config/notifications.yaml）"),
    ] = None,
    new_workspace: NewWorkspace = False,
) -> None:
    """年間の自動実行（調査票の配布・収集・資料の作成）を登録し、予定どおり実行します。

    PREFECT_API_URL が未設定なら、この機械で Prefect サーバー（画面: http://127.0.0.1:PORT）
    も起動します。失敗したときの通知も登録します（--notify の設定）。止めるときは Ctrl+C。
    """
    from flows.servers import port_taken

    location = checked_location(workspace, config, create=new_workspace)
    own_server = environment().prefect_api_url is None
    if own_server and port_taken(port):
        typer.echo(
            f"エラー: ポート {port} はすでに使われています（別の shiryo serve か Prefect サーバーが"
            f"動いています）。動いている方をそのまま使うか、止めてから起動し直すか、--port で"
            "別のポートを指定してください。",
            err=True,
        )
        raise typer.Exit(2)
    _serve_until_stopped(port if own_server else None, location, config, notify)
    typer.echo(
        "自動実行を止めました。予定（スケジュール）は有効のままで、次に shiryo serve を"
        "起動すると再開します。"
    )


def _serve_until_stopped(port: int | None, location: str, config: str, notify: Path | None) -> None:
    """Serve the deployments until Ctrl+C, SIGTERM or SIGHUP; with ``port``, on a server of
    this command's own (started out of the terminal's process group, stopped last)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.serve import serve_cycle
    from flows.servers import (
        ctrl_c_as_sigterm,
        start_server,
        stop_server,
        stopped_like_ctrl_c,
        wait_until_healthy,
    )
    from flows.warm import WarmService, warm_up_for

    with stopped_like_ctrl_c(), ctrl_c_as_sigterm():
        server = start_server(port, ui=True) if port is not None else None
        try:
            if server is not None and port is not None:
                if not wait_until_healthy(port, server, 120):
                    typer.echo("エラー: Prefect サーバーを起動できませんでした。", err=True)
                    raise typer.Exit(2)
                # The served runs' own processes read the environment.
                os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
                typer.echo(f"Prefect の画面: http://127.0.0.1:{port}")
            overrides = {"workspace": location, "config": config}
            api = str(environment().prefect_api_url)
            warm = WarmService(api)
            warm.start(warm_up_for(config, location))
            try:
                with temporary_settings(updates={PREFECT_API_URL: api}):
                    guarded(lambda: serve_cycle(overrides, notify))
            finally:
                warm.stop()
        except KeyboardInterrupt:
            pass  # stopped before serving began (serving catches its own)
        except SystemExit as stop:
            # Prefect's runner exits this way on a SIGTERM that comes while it starts.
            if stop.code not in (0, None):
                raise
        finally:
            if server is not None:
                stop_server(server)


@app.command("import-history")
def import_history(
    year: Year,
    file: Annotated[Path, typer.Option("--file", "-f", help="過去の一覧（.xlsx）")],
    workspace: Workspace = "workspace",
    config: Config = DEFAULT_PRESET,
    new_workspace: NewWorkspace = False,
) -> None:
    """過去の一覧（Excel）から、その年度の実績・評価と、それまでの指標の値（現状値・各年度）を取り込みます。"""
    from tasks.dataset.history import (
        describe_import,
        import_history_workbook,
        write_imported_year,
    )
    from tasks.plan.load import load_plan, plan_for_year
    from tasks.workspace.storage import open_storage

    location = checked_location(workspace, config, create=new_workspace)

    def run_import() -> str:
        plan = plan_for_year(load_plan(config), year)
        imported = import_history_workbook(plan, file.read_bytes(), year, source=file.name)
        keys = write_imported_year(open_storage(location), imported, year)
        for name in imported.unmatched:
            typer.echo(f"計画にない事業名のため取り込まなかった行: {name}", err=True)
        for note in imported.notes:
            typer.echo(note, err=True)
        return describe_import(imported, keys)

    typer.echo(guarded(run_import))


@app.command()
def check(
    config: Config = DEFAULT_PRESET,
    year: Annotated[int | None, typer.Option("--year", "-y", help="年度（西暦）")] = None,
) -> None:
    """設定（plan.yaml・確認ルール・テンプレート）を互いに照らして確認します。"""
    from tasks.cycle.configuration import configuration_problems

    problems = guarded(lambda: configuration_problems(config, year))
    for line in problems:
        typer.echo(line, err=True)
    if problems:
        typer.echo(f"{len(problems)} 件の問題があります。直してから実行してください。", err=True)
        raise typer.Exit(2)
    typer.echo("設定に問題はありません。")


@app.command()
def new(
    folder: Annotated[Path, typer.Argument(help="新しい設定フォルダ（plan.yaml を作ります）")],
    from_preset: Annotated[
        str, typer.Option("--from", help="もとにするプリセット名")
    ] = DEFAULT_PRESET,
) -> None:
    """プリセットをもとに、自治体の設定フォルダ（plan.yaml）を作ります。"""
    from tasks.plan.load import resolve_config_path

    def create() -> Path:
        source = resolve_config_path(from_preset)
        target = folder / "plan.yaml"
        if target.exists():
            from tasks.errors import ConfigError

            raise ConfigError(f"{target}: すでにあります。別のフォルダを指定してください。")
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        return target

    target = guarded(create)
    typer.echo(
        f"{target} を作りました。自治体の計画に書き換え、"
        f"shiryo check -c {folder} で確認してください。"
    )


@app.command()
def presets() -> None:
    """同梱のプリセットを一覧表示します。"""
    from tasks.plan.load import list_presets, load_plan

    for name in list_presets():
        plan = load_plan(name)
        typer.echo(f"{name}\t{plan.municipality}\t{plan.report.title}")


def _config_of(config: str) -> str:
    """Return a configuration option that means the same from any folder (a preset's name
    stays a name; a plan.yaml or its folder becomes an absolute path)."""
    path = Path(config)
    if path.is_file() or (path / "plan.yaml").is_file():
        return str(path.resolve())
    return config
