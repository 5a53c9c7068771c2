"""Tests of the coordinator's command line (without starting Prefect)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from tasks.plan.load import list_presets
from tests.helpers import filled_workbook, submit

runner = CliRunner()


def test_it_lists_every_shipped_preset() -> None:
    """It prints one line per preset with its municipality."""
    result = runner.invoke(app, ["presets"])
    assert result.exit_code == 0
    names = [line.split("\t")[0] for line in result.output.splitlines()]
    assert names == list_presets()
    assert "新潟市南区" in result.output


def test_status_names_who_has_not_submitted(workspace: Path) -> None:
    """It prints every department's state, in Japanese, from the ledger."""
    from tasks.plan.load import load_plan

    plan = load_plan("niigata-minami")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    result = runner.invoke(app, ["status", "--year", "2021", "--workspace", str(workspace)])
    assert result.exit_code == 0
    lines = {line.split("\t")[0]: line for line in result.output.splitlines()}
    assert "受理" in lines["社会福祉協議会"]
    assert "未提出" in lines["健康福祉課"]


def test_a_configuration_error_is_a_message_not_a_traceback(workspace: Path) -> None:
    """It ends with exit code 2 and the problem, not a Python traceback."""
    result = runner.invoke(
        app, ["status", "--year", "2021", "--workspace", str(workspace), "--config", "nope"]
    )
    assert result.exit_code == 2
    assert "エラー" in result.output and "nope" in result.output
    assert "Traceback" not in result.output
