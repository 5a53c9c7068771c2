"""The coordinator's commands on a workspace or a year that does not exist: one Japanese line.

A mistyped ``-w`` or ``--year`` must stop the command before it writes anything: no new empty
workspace, no 資料 with every department 未提出.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from flows.cli import app
from tasks.plan.load import load_plan
from tests.conftest import raw_s3_client
from tests.helpers import filled_workbook, submit

runner = CliRunner()


def _ichiran(path: Path) -> Path:
    """Write a past year's 一覧 naming one initiative of the plan."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["A1"] = "令和2年度 評価シート"
    sheet.append([])
    sheet.append(["目標", "具体的な取り組み・事業", "概要", "担当部署", "2020年度実績", "評価"])
    sheet.append(["（１）", "多様な手法による子育て情報の発信", "…", "健康福祉課", "18回", "A"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def _commands(where: str, tmp_path: Path) -> dict[str, list[str]]:
    ichiran = str(_ichiran(tmp_path / "一覧.xlsx"))
    return {
        "run": ["run", "--year", "2021", "-w", where],
        "status": ["status", "--year", "2021", "-w", where],
        "docs": ["docs", "--year", "2021", "-w", where],
        "import-history": ["import-history", "--year", "2020", "-f", ichiran, "-w", where],
    }


COMMANDS = ["run", "status", "docs", "import-history"]


def _refused(result_output: str, exit_code: int) -> str:
    assert exit_code == 2, result_output
    (line,) = result_output.strip().splitlines()
    assert "Traceback" not in result_output
    return line


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "kind",
    [
        "missing",  # a typo: no such folder
        "empty",  # a folder that exists and holds nothing of shiryo's
        "unrelated",  # a folder with someone else's files
    ],
)
def test_a_folder_without_a_workspace_is_refused(tmp_path: Path, command: str, kind: str) -> None:
    """It stops with one Japanese line naming the folder, and creates or writes nothing."""
    where = tmp_path / "workspase"
    if kind != "missing":
        where.mkdir()
    if kind == "unrelated":
        (where / "memo.txt").write_text("会議のメモ", encoding="utf-8")
    before = sorted(p.name for p in where.rglob("*")) if where.exists() else None
    result = runner.invoke(app, _commands(str(where), tmp_path)[command])
    line = _refused(result.output, result.exit_code)
    assert line.startswith("エラー: ") and str(where) in line
    assert "shiryo の作業フォルダではありません" in line and "--new-workspace" in line
    after = sorted(p.name for p in where.rglob("*")) if where.exists() else None
    assert after == before


@pytest.mark.parametrize("command", COMMANDS)
def test_an_s3_prefix_without_a_workspace_is_refused(
    bucket: str, s3_env: str, tmp_path: Path, command: str
) -> None:
    """It stops with one Japanese line naming the prefix, and writes nothing to the bucket."""
    client = raw_s3_client(s3_env)
    client.put_object(Bucket=bucket, Key="real/ledger/2021.json", Body=b"{}")
    where = f"s3://{bucket}/reel"  # a typo of "real"
    result = runner.invoke(app, _commands(where, tmp_path)[command])
    line = _refused(result.output, result.exit_code)
    assert where in line and "shiryo の作業フォルダではありません" in line
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["real/ledger/2021.json"]


@pytest.mark.parametrize("command", ["run", "status", "docs"])
def test_a_year_the_workspace_never_saw_is_refused(
    workspace: Path, tmp_path: Path, command: str
) -> None:
    """It names the year and says how to start it, when the workspace holds only another."""
    plan = load_plan("niigata-minami")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    before = sorted(str(p) for p in workspace.rglob("*"))
    args = [a if a != "2021" else "2022" for a in _commands(str(workspace), tmp_path)[command]]
    result = runner.invoke(app, args)
    line = _refused(result.output, result.exit_code)
    assert "2022年度の調査票も提出も台帳もありません" in line
    assert "shiryo template --year 2022" in line
    assert sorted(str(p) for p in workspace.rglob("*")) == before


def test_a_workspace_from_before_the_marker_is_still_one(workspace: Path) -> None:
    """It reads a workspace that holds a ledger but no marker (made by an older version)."""
    plan = load_plan("niigata-minami")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    assert not (workspace / "shiryo-workspace.json").exists()
    result = runner.invoke(app, ["status", "--year", "2021", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "社会福祉協議会\t受理" in result.output


def test_import_history_creates_a_workspace_only_when_asked(tmp_path: Path) -> None:
    """It writes the past year into a new workspace with --new-workspace, not without."""
    where = tmp_path / "new"
    args = ["import-history", "--year", "2020", "-f", str(_ichiran(tmp_path / "一覧.xlsx"))]
    refused = runner.invoke(app, [*args, "-w", str(where)])
    assert refused.exit_code == 2 and not where.exists()
    made = runner.invoke(app, [*args, "-w", str(where), "--new-workspace"])
    assert made.exit_code == 0, made.output
    assert (where / "shiryo-workspace.json").is_file()
    assert (where / "curated" / "2020" / "consolidated.parquet").is_file()


def test_template_starts_a_workspace_that_the_other_commands_take(
    prefect_server: None, tmp_path: Path
) -> None:
    """It creates the workspace with its marker and the call; status then reads it."""
    where = tmp_path / "ws"
    made = runner.invoke(app, ["template", "--year", "2021", "-w", str(where)])
    assert made.exit_code == 0, made.output
    assert (where / "shiryo-workspace.json").is_file()
    assert list((where / "outgoing" / "2021").glob("*/*.xlsx"))
    status = runner.invoke(app, ["status", "--year", "2021", "-w", str(where)])
    assert status.exit_code == 0, status.output
    assert "健康福祉課\t未提出" in status.output
