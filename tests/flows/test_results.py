"""A failed run, repaired and run again, redoes only what failed or changed."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterEndTime
from prefect.client.schemas.sorting import TaskRunSort

from flows.annual_cycle import annual_cycle
from flows.demo import demo_cycle
from tasks.settings import PRESETS_DIR, REPO_ROOT

pytestmark = pytest.mark.scenario


def _task_states_since(moment: dt.datetime) -> dict[str, list[str]]:
    """Return the states of every task run started since ``moment``, by task name."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            task_run_filter=TaskRunFilter(end_time=TaskRunFilterEndTime(after_=moment)),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    states: dict[str, list[str]] = {}
    for run in runs:
        states.setdefault(run.name.rsplit("-", 1)[0], []).append(str(run.state_name))
    return states


def test_a_repaired_template_reruns_only_the_render(prefect_server: None, tmp_path: Path) -> None:
    """It fails at a broken template, then on the next run renders and reuses the rest."""
    preset = tmp_path / "preset"
    shutil.copytree(PRESETS_DIR / "niigata-minami", preset)
    template = tmp_path / "shiryo.docx"
    template.write_bytes(b"not a docx")
    plan = (preset / "plan.yaml").read_text(encoding="utf-8")
    (preset / "plan.yaml").write_text(
        plan.replace("docx_template: hyoka/shiryo.docx", f"docx_template: {template}"),
        encoding="utf-8",
    )
    workspace = tmp_path / "workspace"
    failed = demo_cycle(str(preset), str(workspace), return_state=True)
    assert failed.is_failed()
    assert not list(workspace.glob("reports/2021/*.docx"))

    shutil.copy(REPO_ROOT / "templates" / "hyoka" / "shiryo.docx", template)
    moment = dt.datetime.now(dt.UTC)
    again = annual_cycle(2021, str(preset), str(workspace), return_state=True)
    assert again.is_completed()
    states = _task_states_since(moment)
    assert states["render-shiryo"] == ["Completed"]
    for step in ("load-plan", "write-call-workbooks", "check-submissions", "consolidate-year"):
        assert set(states[step]) == {"Cached"}, (step, states)
    assert states["take-intake"] == ["Completed"]  # it always looks for new files
    assert list(workspace.glob("reports/2021/*.docx"))

    # A coordinator deletes the 資料: the next run writes them again instead of skipping.
    for report in workspace.glob("reports/2021/*"):
        report.unlink()
    assert annual_cycle(2021, str(preset), str(workspace), return_state=True).is_completed()
    assert len(list(workspace.glob("reports/2021/*"))) == 2
