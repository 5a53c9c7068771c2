"""The whole demo cycle on S3 (moto's server over HTTP): the same outcomes as on a folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.cycle.demo import load_demo
from tasks.plan.model import Plan
from tasks.workspace.s3 import S3Storage
from tasks.workspace.storage import open_storage
from tests.conftest import DemoRun, DemoRuns

pytestmark = pytest.mark.scenario

PRESET = "niigata-minami"


@pytest.fixture(scope="module")
def s3_run(demo_runs: DemoRuns) -> DemoRun:
    """The session's demo run into a fresh bucket on moto's S3 server, over HTTP."""
    return demo_runs.get(PRESET, "s3")


@pytest.fixture(scope="module")
def folder_run(demo_runs: DemoRuns) -> DemoRun:
    """The session's demo run into a folder, for comparison."""
    return demo_runs.get(PRESET)


def _broken_department() -> str:
    broken = load_demo(PRESET).broken
    assert broken is not None
    return broken.department


def test_it_runs_the_cycle_in_the_bucket(s3_run: DemoRun) -> None:
    """It is opened as S3 storage and returns the two 資料 under reports/2021."""
    assert isinstance(open_storage(s3_run.workspace), S3Storage)
    assert [Path(key).suffix for key in s3_run.outputs] == [".docx", ".xlsx"]
    assert all(key.startswith("reports/2021/") for key in s3_run.outputs)
    assert set(s3_run.outputs) <= set(s3_run.objects)


def test_the_ledger_accepts_all_but_the_broken_file(s3_run: DemoRun, minami: Plan) -> None:
    """It accepts every department's file except the one with mistakes, which it rejects."""
    ledger = json.loads(s3_run.objects["ledger/2021.json"])
    statuses = {e["department_id"]: e["status"] for e in ledger["entries"]}
    broken = _broken_department()
    assert statuses == {
        d.id: "rejected" if d.id == broken else "accepted" for d in minami.departments
    }


def test_the_broken_file_gets_its_feedback_under_feedback(s3_run: DemoRun) -> None:
    """It writes one 差戻し票 and its 修正用 copy, in the broken department's folder."""
    feedback = sorted(key for key in s3_run.objects if key.startswith("feedback/"))
    folder = f"feedback/2021/{_broken_department()}/"
    assert [k.removeprefix(folder).split("_", 1)[0] for k in feedback] == ["修正用", "差戻し票"]
    key = feedback[1]
    assert key.startswith(f"feedback/2021/{_broken_department()}/") and key.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(s3_run.objects[key])).active
    findings = {(r[1], r[2], r[3]) for r in sheet.iter_rows(min_row=5, values_only=True)}
    assert ("要修正", "評価シート", "K8") in findings


def test_it_writes_the_same_keys_as_the_folder_run(s3_run: DemoRun, folder_run: DemoRun) -> None:
    """It lays out the bucket exactly as the folder: the same keys, the same outputs."""

    def keys(run: DemoRun) -> list[str]:
        # Data Docs pages are named by validation time; they differ between any two runs.
        # Task results are named by cache keys, which include the workspace's address.
        return sorted(k for k in run.objects if not k.startswith(("datadocs/", "_prefect/")))

    assert keys(s3_run) == keys(folder_run)
    assert any(k.startswith("datadocs/2021/") for k in s3_run.objects)
    assert any(k.startswith("_prefect/results/") for k in s3_run.objects)
    assert s3_run.outputs == folder_run.outputs


def test_the_shiryo_are_byte_identical_to_the_folder_runs(
    s3_run: DemoRun, folder_run: DemoRun
) -> None:
    """It renders the same .docx and .xlsx bytes from S3 as from a folder."""
    reports = [key for key in folder_run.objects if key.startswith("reports/2021/")]
    assert sorted(Path(key).suffix for key in reports) == [".docx", ".xlsx"]
    for key in reports:
        assert s3_run.objects[key] == folder_run.objects[key], key
