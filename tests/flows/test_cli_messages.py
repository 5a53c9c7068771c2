"""What the command says when it cannot do what was asked: one Japanese line, no traceback.

Usage mistakes, 和暦 years, a year another run is collecting, missing S3 credentials, and
Ctrl+C (or a service manager's SIGTERM) in the middle of ``shiryo run``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.terminal import INTERRUPTED, INTERRUPTED_JA, parse_year
from tasks.cycle.steps import write_call_workbooks
from tasks.errors import LockBusyError
from tasks.plan.load import load_plan
from tasks.settings import REPO_ROOT
from tasks.workspace.lock import collection_lock, ensure_lock_free
from tasks.workspace.presence import mark_workspace
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, submit
from tests.live import clean_env, wait_until

runner = CliRunner()
SHIRYO = str(Path(sys.executable).with_name("shiryo"))


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2021", 2021),  # 西暦
        ("R3", 2021),  # the short 和暦 of forms and file names
        ("r3", 2021),  # typed without shift
        ("令和3年度", 2021),  # as the plan and the committee write it
        ("令和元年度", 2019),  # the first year of an era
        ("H30", 2018),  # the era before
        ("2021年度", 2021),  # 西暦 with 年度
        ("Ｒ３", 2021),  # full-width, as a Japanese input method types it
    ],
)
def test_a_year_is_read_in_either_calendar(text: str, year: int) -> None:
    """It reads 西暦 and 和暦 labels as the fiscal year they name."""
    assert parse_year(text) == year


def test_a_wareki_year_reaches_the_command(workspace: Path) -> None:
    """It runs status for 令和3年度 as for 2021, and names 2018 for H30."""
    plan = load_plan("niigata-minami")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    for year in ("R3", "令和3年度"):
        result = runner.invoke(app, ["status", "--year", year, "-w", str(workspace)])
        assert result.exit_code == 0, result.output
        assert "社会福祉協議会\t受理" in result.output
    other = runner.invoke(app, ["status", "--year", "H30", "-w", str(workspace)])
    assert other.exit_code == 2 and "2018年度" in other.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run"], "--year を指定してください"),  # the year forgotten
        (["run", "--year", "令和"], "「令和」を年度として読めません"),  # no number
        (["run", "--yeer", "2021"], "--yeer というオプションはありません（--year のことですか）"),
        (["runn", "--year", "2021"], "runn というコマンドはありません（run のことですか）"),
        (["run", "--year"], "--year の後に値を書いてください"),  # the value forgotten
        (["serve", "--port", "四二〇〇"], "--port の値が正しくありません: 半角の整数"),
        (["status", "--year", "2021", "南区"], "余分な値があります: 南区"),  # a stray word
    ],
)
def test_a_usage_mistake_is_one_japanese_line(args: list[str], expected: str) -> None:
    """It names the mistake in Japanese and where the help is, with exit code 2."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("エラー: ") and expected in line, line
    assert "--help" in line
    assert not any(word in result.output for word in ("Usage", "Error", "Missing", "Try"))


def test_the_real_command_says_the_same(tmp_path: Path) -> None:
    """It prints the same line from the installed ``shiryo`` command, without click's box."""
    child = subprocess.run(
        [SHIRYO, "run", "--yeer", "2021"],
        env=clean_env({}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 2
    assert child.stdout == ""
    assert child.stderr.strip().splitlines() == [
        "エラー: --yeer というオプションはありません（--year のことですか）。"
        "使い方は shiryo run --help で見られます。"
    ]


def test_a_year_being_collected_is_refused_at_once(workspace: Path) -> None:
    """It prints the lock's Japanese message without waiting for the holder or a traceback,
    and takes nothing; a free year passes."""
    plan = load_plan("niigata-minami")
    storage = open_storage(workspace)
    mark_workspace(storage)
    write_call_workbooks(plan, storage)
    (workspace / "intake/2021/shakyo").mkdir(parents=True)
    (workspace / "intake/2021/shakyo/提出.xlsx").write_bytes(filled_workbook(plan, "shakyo"))
    with collection_lock(storage, 2021):
        result = runner.invoke(app, ["run", "--year", "2021", "-w", str(workspace)])
        with pytest.raises(LockBusyError):
            ensure_lock_free(storage, 2021)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert "別の取り込み処理" in line and "実行中" in line and "Traceback" not in result.output
    assert not (workspace / "ledger").exists()
    ensure_lock_free(storage, 2021)  # released: free again


def test_missing_s3_credentials_are_named_as_such(bucket: str, s3_env: str, tmp_path: Path) -> None:
    """It says the access key is missing, not that S3 cannot be reached."""
    env = clean_env(
        {
            "AWS_ENDPOINT_URL_S3": s3_env,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",  # no instance role to look for here
        }
    )
    child = subprocess.run(
        [SHIRYO, "status", "--year", "2021", "-w", f"s3://{bucket}/ws"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 2, child.stderr
    (line,) = child.stderr.strip().splitlines()
    assert "S3 の認証情報（アクセスキー）が見つかりません" in line
    assert "AWS_ACCESS_KEY_ID" in line and "接続できません" not in line


def _server_of(pid: int) -> int | None:
    """Return the pid of the Prefect server a ``shiryo`` process started, if any."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"uvicorn" in command:
            return int(entry.name)
    return None


@pytest.mark.parametrize(
    "stop",
    [
        "ctrl-c",  # SIGINT to the terminal's whole process group
        "sigterm",  # a service manager stops the command alone
    ],
)
def test_stopping_a_run_says_so_in_japanese(tmp_path: Path, stop: str) -> None:
    """It ends a run stopped midway with one Japanese line and exit code 130: no traceback,
    no failed attempts to report to a server already gone, and its server stopped too."""
    plan = load_plan("niigata-minami")
    workspace = tmp_path / "workspace"
    storage = open_storage(workspace)
    mark_workspace(storage)
    write_call_workbooks(plan, storage)
    for department in ("shakyo", "kenko-fukushi"):
        dropped = workspace / "intake" / "2021" / department / "提出.xlsx"
        dropped.parent.mkdir(parents=True)
        dropped.write_bytes(filled_workbook(plan, department))
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        child = subprocess.Popen(
            [SHIRYO, "run", "--year", "2021", "-w", str(workspace)],
            env=clean_env({"PREFECT_HOME": str(tmp_path / "prefect-home")}),
            cwd=REPO_ROOT,
            stdout=output,
            stderr=output,
            start_new_session=True,  # its own process group, as a terminal gives a command
        )
        try:
            wait_until(lambda: b"Beginning flow run" in log.read_bytes(), 300, "the run", 0.05)
            server = _server_of(child.pid)
            assert server is not None
            if stop == "ctrl-c":
                os.killpg(child.pid, signal.SIGINT)
            else:
                child.send_signal(signal.SIGTERM)
            code = child.wait(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
    text = log.read_text(encoding="utf-8")
    assert code == INTERRUPTED, text
    assert text.strip().splitlines()[-1] == INTERRUPTED_JA
    for sign in ("Traceback", "Error logging to API", "ConnectError", "Aborted"):
        assert sign not in text, text
    wait_until(lambda: not Path(f"/proc/{server}").exists(), 30, "the server to stop")


def _servers_of_home(home: Path) -> list[int]:
    """Return the pids of the Prefect servers started for PREFECT_HOME ``home``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"uvicorn" in command and f"PREFECT_HOME={home}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def test_the_temporary_server_started_ahead_never_outlives_the_command(tmp_path: Path) -> None:
    """``shiryo run`` starts its temporary server before its checks: a run with nothing new,
    one stopped by a mistake and one stopped (SIGTERM) during the checks each leave none."""
    plan = load_plan("niigata-minami")
    workspace = tmp_path / "workspace"
    storage = open_storage(workspace)
    mark_workspace(storage)
    write_call_workbooks(plan, storage)
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    home = tmp_path / "prefect-home"
    env = clean_env({"PREFECT_HOME": str(home)})
    command = [SHIRYO, "run", "--year", "2021", "-w", str(workspace)]
    # submit() checked the file already: nothing is new, but outputs are missing, so it runs
    # once; the second run has nothing new and ends before any flow.
    for args, expected in (([], 0), ([], 0), (["-c", str(tmp_path / "no-plan")], 2)):
        done = subprocess.run(
            [*command, *args], env=env, cwd=REPO_ROOT, capture_output=True, timeout=600
        )
        assert done.returncode == expected, done.stderr.decode()
        assert _servers_of_home(home) == []
    (workspace / "intake/2021/kenko-fukushi").mkdir(parents=True)
    (workspace / "intake/2021/kenko-fukushi/提出.xlsx").write_bytes(
        filled_workbook(plan, "kenko-fukushi")
    )
    child = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: _servers_of_home(home), 60, "the early server", 0.02)
        child.send_signal(signal.SIGTERM)  # while it still checks, before any flow run
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == INTERRUPTED, err.decode()
    assert "Beginning flow run" not in err.decode()
    wait_until(lambda: not _servers_of_home(home), 30, "the server to stop")
