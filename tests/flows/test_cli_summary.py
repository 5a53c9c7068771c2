"""How ``shiryo run`` ends, and what ``shiryo status`` says of a file not yet checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tasks.cycle.steps import take_intake, write_call_workbooks
from tasks.plan.load import load_plan
from tasks.settings import REPO_ROOT
from tasks.workspace.presence import mark_workspace
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, submit
from tests.live import clean_env

runner = CliRunner()
SHIRYO = str(Path(sys.executable).with_name("shiryo"))


def test_status_says_a_file_not_yet_checked_is_waiting(workspace: Path) -> None:
    """It shows 確認待ち for a department whose latest file is taken but not checked, also
    when an earlier file of it was accepted."""
    plan = load_plan("niigata-minami")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    second = workspace / "intake/2021/shakyo/再提出.xlsx"
    second.write_bytes(filled_workbook(plan, "shakyo", grade="Z"))
    first = workspace / "intake/2021/kenko-fukushi/提出.xlsx"
    first.parent.mkdir(parents=True)
    first.write_bytes(filled_workbook(plan, "kenko-fukushi"))
    take_intake(plan, open_storage(workspace), settle_seconds=0)  # taken, not checked
    result = runner.invoke(app, ["status", "--year", "2021", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    states = {line.split("\t")[0]: line.split("\t")[1] for line in result.output.splitlines()}
    assert states["社会福祉協議会"] == "確認待ち（前に受理したファイルあり）"
    assert states["健康福祉課"] == "確認待ち"


def _shiryo_run(workspace: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHIRYO, "run", "--year", "令和3年度", "-w", str(workspace)],
        env=clean_env({"PREFECT_HOME": str(home)}),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_every_run_ends_with_a_summary_in_japanese(tmp_path: Path) -> None:
    """It ends with the new files by outcome, each department's state and the 差戻し票 to
    send; a second run with nothing new says 0 files and the same 差戻し票."""
    plan = load_plan("niigata-minami")
    workspace = tmp_path / "workspace"
    storage = open_storage(workspace)
    mark_workspace(storage)
    write_call_workbooks(plan, storage)
    drops = {
        "shakyo": filled_workbook(plan, "shakyo"),
        "chiiki-somu": filled_workbook(plan, "chiiki-somu", grade="Z"),
    }
    for department, data in drops.items():
        (workspace / "intake/2021" / department).mkdir(parents=True)
        (workspace / "intake/2021" / department / "提出.xlsx").write_bytes(data)

    first = _shiryo_run(workspace, tmp_path / "prefect-home")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    start = lines.index(
        "2021年度（令和3年度）の取り込み: 新しいファイル 2 件（受理 1 件・差戻し 1 件）"
    )
    states = [line.split() for line in lines[start + 2 : start + 8]]
    assert [s[0].strip("　") for s in states] == [d.name for d in plan.departments]
    by_name = {s[0].strip("　"): s[1:] for s in states}
    assert by_name["社会福祉協議会"] == ["受理", "今回", "受理", "1", "件"]
    assert by_name["地域総務課"] == ["差戻し中（再提出待ち）", "今回", "差戻し", "1", "件"]
    assert by_name["健康福祉課"] == ["未提出"]
    sent, correction = lines[lines.index("部署に返す差戻し票（各部署の最新の提出）:") + 1 :]
    assert sent.strip().startswith("地域総務課（差戻し）: ")
    assert (workspace / sent.split(": ", 1)[1]).is_file()
    assert correction.strip().startswith("修正用の調査票（直すセルに印）: ")
    assert (workspace / correction.split(": ", 1)[1]).is_file()
    assert lines[-1] == correction

    again = _shiryo_run(workspace, tmp_path / "prefect-home")
    assert again.returncode == 0, again.stderr
    tail = again.stdout.strip().splitlines()
    assert "2021年度（令和3年度）の取り込み: 新しいファイル 0 件" in tail
    assert tail[-2:] == [sent, correction]
