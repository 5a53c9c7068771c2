"""The 調査票 to send again after a plan edit, as the coordinator is told them: at the end of
a run, in ``shiryo status``, in the Prefect UI and by ``shiryo template`` (real flows)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from flows.annual_cycle import annual_cycle, call_for_submissions
from flows.artifacts import artifact_key
from flows.summary import ledger_before, print_call, print_resend, print_summary
from tasks.cycle.summary import CALL_OUTDATED, RESEND_TITLE, RESEND_UNTIL
from tasks.plan.load import load_plan
from tasks.workspace.keys import outgoing_key
from tasks.workspace.storage import open_storage
from tests.midorino import (
    YEAR,
    add_department,
    add_initiative_for_bosai,
    change_report_only,
    midorino_config,
    raise_sodan_target,
)


def _run(config: Path, location: str) -> None:
    """``shiryo run``'s flow and summary."""
    before = ledger_before(location, str(config), YEAR)
    outputs = annual_cycle(YEAR, str(config), location)
    print_summary(location, str(config), YEAR, outputs, before)


def _resend_section(output: str) -> list[str]:
    lines = output.splitlines()
    if RESEND_TITLE not in lines:
        return []
    start = lines.index(RESEND_TITLE) + 1
    return [line for line in lines[start:] if line.startswith("  ")]


def _resend_artifact(config: Path, location: str) -> str:
    key = artifact_key(load_plan(config), "resend", YEAR, location)
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return str(artifact.data)


def test_the_coordinator_is_told_which_workbooks_to_send_again(
    prefect_server: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After 企画課 joins and 防災安全課 gets one more initiative, the run, ``status`` and the UI
    name exactly those two 調査票, until ``shiryo template`` lists them; an edit of the
    report section alone names none."""
    config, location = midorino_config(tmp_path / "config"), str(tmp_path / "ws")
    storage = open_storage(location)
    keys = call_for_submissions(YEAR, str(config), location)  # shiryo template, in spring
    print_call(location, str(config), YEAR, keys)
    assert capsys.readouterr().out.splitlines() == [storage.describe(k) for k in keys]

    midorino_config(tmp_path / "config", add_department, add_initiative_for_bosai)
    _run(config, location)

    edited = load_plan(config)
    expected = [
        f"  防災安全課（plan.yaml の変更）: {storage.describe(outgoing_key(edited, 'bosai'))}",
        f"  企画課（新しい部署）: {storage.describe(outgoing_key(edited, 'kikaku'))}",
        f"  {RESEND_UNTIL}",
    ]
    assert _resend_section(capsys.readouterr().out) == expected
    shown = _resend_artifact(config, location)
    assert "防災安全課" in shown and "企画課" in shown and "福祉政策課" not in shown
    print_resend(location, str(config), YEAR)  # after shiryo status's table
    assert _resend_section(capsys.readouterr().out) == expected

    keys = call_for_submissions(YEAR, str(config), location)  # shiryo template
    print_call(location, str(config), YEAR, keys)
    printed = capsys.readouterr().out.splitlines()
    assert printed[: len(keys)] == [storage.describe(k) for k in keys]
    assert printed[len(keys) :] == [
        RESEND_TITLE,
        *expected[:2],
        "  ほかの部署の調査票は内容が変わっていません（送り直す必要はありません）。",
    ]
    print_resend(location, str(config), YEAR)
    assert capsys.readouterr().out == ""

    midorino_config(
        tmp_path / "config", add_department, add_initiative_for_bosai, change_report_only
    )
    _run(config, location)
    assert _resend_section(capsys.readouterr().out) == []
    assert "送り直す調査票はありません" in _resend_artifact(config, location)

    midorino_config(tmp_path / "config", raise_sodan_target)  # edited, not yet written
    print_resend(location, str(config), YEAR)
    assert capsys.readouterr().out.splitlines() == [CALL_OUTDATED]
