"""The whole annual cycle end to end, on the 新潟市南区 demo, in a real Prefect run."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.cycle.demo import load_demo
from tasks.cycle.steps import render_shiryo
from tasks.plan.model import Plan
from tasks.render.docx import docx_text
from tasks.workspace.storage import open_storage
from tests.conftest import DemoRuns

pytestmark = pytest.mark.scenario

PRESET = "niigata-minami"


@pytest.fixture(scope="module")
def demo_run(demo_runs: DemoRuns) -> Path:
    """The session's demo run into a folder: its workspace, shared (tests here only read it)."""
    run = demo_runs.get(PRESET)
    assert len(run.outputs) == 2
    return run.folder


def _report(workspace: Path, suffix: str) -> Path:
    (path,) = sorted((workspace / "reports" / "2021").glob(f"*{suffix}"))
    return path


def _expected_grades(plan: Plan) -> tuple[dict[str, str], str]:
    demo = load_demo(PRESET)
    assert demo.broken is not None
    accepted = {
        (e.initiative, e.department): e.values["grade"]
        for e in demo.entries
        if e.department != demo.broken.department
    }
    return {f"{i}/{d}": g for (i, d), g in accepted.items()}, demo.broken.department


def test_the_ledger_accepts_all_but_the_broken_file(demo_run: Path, minami: Plan) -> None:
    """It accepts every department's file except the one with mistakes, which it rejects."""
    ledger = json.loads((demo_run / "ledger" / "2021.json").read_text(encoding="utf-8"))
    statuses = {e["department_id"]: e["status"] for e in ledger["entries"]}
    _, broken = _expected_grades(minami)
    assert statuses == {
        d.id: "rejected" if d.id == broken else "accepted" for d in minami.departments
    }


def test_the_broken_file_gets_japanese_feedback_naming_cells(demo_run: Path) -> None:
    """It writes a 差戻し票 naming the sheet and cell of each mistake, in Japanese."""
    (path,) = sorted((demo_run / "feedback" / "2021").rglob("差戻し票_*.xlsx"))
    rows = [r for r in load_workbook(path).active.iter_rows(values_only=True) if any(r)]
    assert "差し戻します" in str(rows[2][0])
    findings = {(r[1], r[2], r[3]) for r in rows[4:]}
    assert ("要修正", "評価シート", "K8") in findings  # 評価 "Ｅ"
    assert ("要修正", "評価シート", "J6") in findings  # blank 実績
    assert ("注意", "指標", "I6") in findings  # full-width digits, read as 1
    assert any("評価「Ｅ」は評価の指標にありません" in str(r[5]) for r in rows[4:])


def test_the_word_shiryo_lists_every_initiative_under_each_goal(
    demo_run: Path, minami: Plan
) -> None:
    """It lists each initiative once per goal it belongs to, 再掲 marked, with grades."""
    text = docx_text(_report(demo_run, ".docx").read_bytes())
    assert "資料1" in text  # the seed prints no cover: the municipality is in the header only
    for goal in minami.goals:
        assert goal.title in text
    for placement in minami.placements():
        name = placement.initiative.name + ("（再掲）" if placement.is_repost else "")
        assert name in text, name
    for initiative in minami.initiatives:
        listings = sum(1 for p in minami.placements() if p.initiative.id == initiative.id)
        # A name can be the prefix of another; count whole table cells instead.
        assert (
            text.count(f"\n{initiative.name}\n") + text.count(f"\n{initiative.name}（再掲）\n")
            == listings
        ), initiative.name
    assert "Ａ．" not in text or "A．目標を達成（概ね90％以上）" in text
    assert "評価の集計" not in text and "提出状況" not in text  # not in the seed (issue 16)
    assert "{{" not in text and "{%" not in text


def test_the_excel_shiryo_has_each_goal_with_grades_and_counts(
    demo_run: Path, minami: Plan
) -> None:
    """It writes one sheet per 基本目標 with each row's grade, and counts that add up."""
    workbook = load_workbook(_report(demo_run, ".xlsx"))
    assert len(workbook.sheetnames) == len(minami.goals)  # the seed's sheets only
    expected, broken = _expected_grades(minami)
    placements = minami.placements()
    per_goal: dict[str, Counter[str]] = {}
    for placement in placements:
        if placement.is_repost:
            continue
        counter = per_goal.setdefault(placement.goal_path[0].title, Counter())
        grades = [
            expected[f"{placement.initiative.id}/{department}"]
            for department in placement.initiative.departments
            if expected.get(f"{placement.initiative.id}/{department}")
        ]
        if grades:  # per 事業, once: the worst grade where its departments differ
            counter[max(grades, key=minami.grade_scale.codes.index)] += 1
    from tasks.cycle.steps import build_report_context_for

    context = build_report_context_for(minami, open_storage(demo_run))  # counts for a 集計 section
    rows = {g["title"]: (*g["counts"], g["total"]) for g in context["goals"]}
    for goal in minami.goals:
        counts = per_goal[goal.title]
        assert rows[goal.title] == (
            counts["A"],
            counts["B"],
            counts["C"],
            counts["D"],
            sum(counts.values()),
        )
    for number, goal in enumerate(minami.goals, start=1):
        sheet = workbook.worksheets[number - 1]
        assert sheet["A1"].value == f"基本目標　{goal.title}"
        listed = [r for r in sheet.iter_rows(min_row=5, values_only=True) if r[1]]
        names = [str(r[1]).removesuffix("（再掲）") for r in listed]
        in_goal = [p for p in placements if p.goal_path[0].id == goal.id]
        assert names == [p.initiative.name for p in in_goal]
        for row, placement in zip(listed, in_goal, strict=True):
            grades = {
                expected.get(f"{placement.initiative.id}/{d}")
                for d in placement.initiative.departments
            } - {None}
            shown = str(row[7]).removesuffix("※")  # ※: the numbers imply another grade
            if len(grades) == 1:
                assert shown in grades
            elif grades:  # departments disagree: each part is shown, attributed
                assert all(f"】{g}" in shown for g in grades)
            elif broken in placement.initiative.departments:
                assert row[7] == "未提出"


def test_rendering_again_gives_the_same_bytes(
    demo_runs: DemoRuns, minami: Plan, tmp_path: Path
) -> None:
    """It renders the same dataset to byte-identical .docx and .xlsx."""
    workspace = demo_runs.get(PRESET).copy_to(tmp_path / "workspace")  # rendering writes
    before = {p.name: p.read_bytes() for p in (workspace / "reports" / "2021").iterdir()}
    render_shiryo(minami, open_storage(workspace))
    after = {p.name: p.read_bytes() for p in (workspace / "reports" / "2021").iterdir()}
    assert before == after


def test_the_dataset_keeps_each_departments_part(demo_run: Path) -> None:
    """It stores one row per (initiative, department), submitted or not."""
    import pandas as pd

    data = (demo_run / "curated" / "2021" / "consolidated.parquet").read_bytes()
    frame = pd.read_parquet(io.BytesIO(data))
    assert not frame.duplicated(["fiscal_year", "initiative_id", "department_id"]).any()
    shared = frame[frame["initiative_id"] == "i012"].set_index("department_id")
    assert set(shared.index) == {"kenko-fukushi", "shakyo"}
    assert shared.loc["kenko-fukushi", "grade"] != shared.loc["shakyo", "grade"]
    assert frame["previous_result_text"].notna().sum() > 40


def test_the_coordinator_gets_data_docs_and_ui_artifacts(demo_run: Path) -> None:
    """It publishes GX Data Docs and the 指摘事項一覧 and shows status, findings and links to
    both in the UI."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    index = demo_run / "datadocs" / "2021" / "index.html"
    assert index.is_file() and "hyoka" in index.read_text(encoding="utf-8")
    from flows.artifacts import artifact_key
    from tasks.plan.load import load_plan

    plan = load_plan(PRESET)
    kinds = ["status", "findings", "files", "data-docs", "findings-page"]
    keys = [artifact_key(plan, kind, 2021, str(demo_run)) for kind in kinds]
    assert all(key.startswith(f"{kind}-2021-") for key, kind in zip(keys, kinds, strict=True))
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
    # Other tests' runs share the keys on this server: keep this workspace's run.
    (run,) = {a.flow_run_id for a in artifacts if f"({index.as_uri()})" in str(a.data)}
    by_key = {a.key: a for a in artifacts if a.flow_run_id == run}
    assert set(by_key) == set(keys)
    by_key = {kind: by_key[key] for key, kind in zip(keys, kinds, strict=True)}
    assert "地域総務課" in str(by_key["findings"].data)
    assert "評価「Ｅ」は評価の指標にありません" in str(by_key["findings"].data)
    status = json.loads(str(by_key["status"].data))
    assert {"部署": "地域総務課", "状況": "差戻し中（再提出待ち）"}.items() <= next(
        row for row in status if row["部署"] == "地域総務課"
    ).items()
    assert f"({index.as_uri()})" in str(by_key["data-docs"].data)
    # The Japanese 指摘事項一覧 beside it, linked too: the findings the 差戻し票 shows.
    findings_page = index.parent / "指摘事項一覧.html"
    assert f"({findings_page.as_uri()})" in str(by_key["findings-page"].data)
    assert "評価「Ｅ」は評価の指標にありません" in findings_page.read_text(encoding="utf-8")


def test_a_run_with_nothing_new_is_known_without_running(demo_run: Path) -> None:
    """It finds every step's result under the key the run stored it by; a new file undoes it.

    Cache keys name the workspace's place, so this test works in the shared workspace itself
    (a copy elsewhere has no stored results): what it adds and deletes it puts back, and the
    session checks at its end that the workspace is as the run left it.
    """
    from tasks.cycle.noop import current_outputs

    keys = current_outputs(PRESET, 2021, str(demo_run))
    assert keys is not None and [Path(k).suffix for k in keys] == [".docx", ".xlsx"]
    assert all((demo_run / key).is_file() for key in keys)
    dropped = demo_run / "intake" / "2021" / "shakyo" / "追加.xlsx"
    dropped.write_bytes(b"new")
    try:
        assert current_outputs(PRESET, 2021, str(demo_run)) is None
    finally:
        dropped.unlink()
    report = _report(demo_run, ".xlsx")
    data = report.read_bytes()
    report.unlink()
    try:
        assert current_outputs(PRESET, 2021, str(demo_run)) is None  # an output deleted
    finally:
        report.write_bytes(data)
    assert current_outputs(PRESET, 2021, str(demo_run)) == keys
