"""A run's progress: its Japanese lines as each stage begins, and a bar in the Prefect UI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterType,
)

from flows.annual_cycle import annual_cycle, call_for_submissions, collect_submissions
from tasks.plan.load import load_plan
from tasks.workspace.keys import intake_prefix
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook
from tests.midorino import YEAR, midorino_config

CYCLE_LINES = [
    "1/6 調査票の作成",
    "2/6 提出ファイルの受付",
    "3/6 提出ファイルの読み取り（3 件）",
    "4/6 内容の確認（3 件）",
    "5/6 年度データの更新",
    "6/6 資料の作成（Word・Excel）",
]


def _progress_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("進捗 ")]


def _progress_artifact(flow_run_id: UUID) -> Any:
    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
                type=ArtifactFilterType(any_=["progress"]),
            )
        )
    return artifact


def _drop_three(config: Path, location: Path) -> None:
    plan = load_plan(config)
    storage = open_storage(location)
    for department in [d.id for d in plan.departments][:3]:
        key = f"{intake_prefix(YEAR)}/{department}/{department}.xlsx"
        storage.write_bytes(key, filled_workbook(plan, department))


def test_each_stage_is_said_as_it_begins_and_the_ui_bar_ends_full(
    prefect_server: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cycle says its six stages in order, with the files it works on; the flow run's
    progress artifact ends at 100 % with 完了."""
    config, location = midorino_config(tmp_path / "config"), tmp_path / "ws"
    annual_cycle(YEAR, str(config), str(location))  # the call: 調査票 to fill
    _drop_three(config, location)
    capsys.readouterr()
    state = annual_cycle(YEAR, str(config), str(location), return_state=True)
    assert state.is_completed()
    lines = _progress_lines(capsys.readouterr().err)
    assert [line.split("] ", 1)[1] for line in lines] == CYCLE_LINES
    bars = [re.search(r"\[([■□]+)\]", line)[1] for line in lines]  # type: ignore[index]
    assert [bar.count("■") for bar in bars] == [0, 1, 3, 5, 6, 8]
    artifact = _progress_artifact(state.state_details.flow_run_id)
    assert (artifact.data, artifact.description) == (100.0, "進捗: 完了")


def test_the_ui_bar_keeps_the_stage_where_a_run_stopped(
    prefect_server: None, tmp_path: Path
) -> None:
    """A run that fails while it makes the 資料 (an unreadable Word template) leaves its bar
    at that stage, so the coordinator sees where it stopped."""

    def broken_template(document: dict[str, Any]) -> None:
        document["report"]["docx_template"] = "評価シート.docx"

    config = midorino_config(tmp_path / "config", broken_template)
    (config / "評価シート.docx").write_bytes(b"not a Word file")
    state = annual_cycle(YEAR, str(config), str(tmp_path / "ws"), return_state=True)
    assert state.is_failed()
    artifact = _progress_artifact(state.state_details.flow_run_id)
    assert artifact.description == "進捗: 6/6 資料の作成（Word・Excel）"
    assert artifact.data == pytest.approx(100 * 5 / 6, abs=0.1)


def test_each_batch_read_moves_the_bar(
    prefect_server: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files read in three batches move the bar three times, each naming its batch."""
    config, location = midorino_config(tmp_path / "config"), tmp_path / "ws"
    call_for_submissions(YEAR, str(config), str(location))
    _drop_three(config, location)
    capsys.readouterr()
    collect_submissions(YEAR, str(config), str(location), settle_seconds=0, batch_files=1)
    lines = [line.split("] ", 1)[1] for line in _progress_lines(capsys.readouterr().err)]
    assert lines[1:5] == [
        "2/4 提出ファイルの読み取り（3 件）",
        "提出ファイルの読み取り 1/3",
        "提出ファイルの読み取り 2/3",
        "提出ファイルの読み取り 3/3",
    ]
