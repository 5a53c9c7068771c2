"""Tests of the consolidated dataset: history, plan changes, idempotent writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from tasks.cycle.steps import build_report_context_for, check_pending, consolidate_year, take_intake
from tasks.dataset.merge import plan_changes
from tasks.dataset.store import write_dataset_exports
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, submit


def test_plan_changes_are_visible(minami: Plan) -> None:
    """It tells added, renamed, ended and continued initiatives apart by their stable ids."""
    previous = pd.DataFrame(
        {
            "initiative_id": ["i001", "i002", "i999"],
            "initiative_name": ["多様な手法による子育て情報の発信", "旧い名前", "廃止した事業"],
        }
    )
    ended = minami.initiatives[2].model_copy(update={"status": "ended"})
    plan = minami.model_copy(
        update={"initiatives": [*minami.initiatives[:2], ended, *minami.initiatives[3:]]}
    )
    changes = plan_changes(plan, previous).set_index("initiative_id")["change"].to_dict()
    assert changes["i001"] == "continued"
    assert changes["i002"] == "renamed"
    assert changes["i003"] == "ended"  # marked ended in this year's plan
    assert changes["i999"] == "ended"  # gone from the plan
    assert changes["i004"] == "added"


def test_running_a_year_twice_gives_identical_files(workspace: Path) -> None:
    """It writes byte-identical dataset files when the same year is consolidated again."""
    plan = load_plan("niigata-minami")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))

    def hashes() -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((workspace / "curated" / "2021").glob("*.*"))
        }

    storage = open_storage(str(workspace))
    consolidate_year(plan, open_storage(workspace))
    write_dataset_exports(storage, 2021)
    first = hashes()
    consolidate_year(plan, open_storage(workspace))
    write_dataset_exports(storage, 2021)
    assert hashes() == first
    assert set(first) == {
        "consolidated.parquet",
        "indicators.parquet",
        "plan_changes.parquet",
        "consolidated.xlsx",
        "consolidated.csv",
        "indicators.csv",
    }


def test_the_csv_export_neutralises_formula_like_text() -> None:
    """It prefixes text that a spreadsheet would run as a formula and keeps the rest."""
    from tasks.dataset.store import to_csv

    frame = pd.DataFrame({"comment": ["=1+1", "+81", "記入", None], "value": [1.0, 2.0, 3.0, 4.0]})
    text = to_csv(frame).decode("utf-8-sig").splitlines()
    assert text == ["comment,value", "'=1+1,1.0", "'+81,2.0", "記入,3.0", ",4.0"]


def test_the_xlsx_export_keeps_text_as_text_and_numbers_as_numbers() -> None:
    """It writes a formula-like value as text, hidden characters shown, numbers as numbers,
    and no cell for a missing value, sheet by sheet with the header frozen."""
    import io

    from openpyxl import load_workbook

    from tasks.dataset.store import _to_xlsx

    frame = pd.DataFrame(
        {
            "comment": ["=SUM(A1)", "a\u202eb", " lead & <tag>", None],
            "value": [1, 2.5, float("nan"), 10**12],
            "flag": [True, False, None, True],
        }
    )
    workbook = load_workbook(io.BytesIO(_to_xlsx({"事業別": frame, "空": frame.iloc[:0]})))
    sheet = workbook["事業別"]
    assert sheet.freeze_panes == "A2" and sheet.dimensions == "A1:C5"
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["comment", "value", "flag"],
        ["=SUM(A1)", 1, True],
        ["a<U+202E>b", 2.5, False],
        [" lead & <tag>", None, None],
        [None, 10**12, True],
    ]
    assert sheet["A2"].data_type == "s"  # text, not a formula
    assert [[c.value for c in row] for row in workbook["空"].iter_rows()] == [
        ["comment", "value", "flag"]
    ]


def test_the_nishitokyo_indicators_keep_four_years(workspace: Path) -> None:
    """It shows 平成29年度 (現状値), 平成30年度, 令和元年度 and the 令和5年度 目標値 together."""
    from tasks.cycle.steps import drop_demo_submissions, seed_demo_history, write_call_workbooks

    plan = load_plan("nishitokyo")
    ws = str(workspace)
    seed_demo_history(plan, "nishitokyo", open_storage(ws))
    write_call_workbooks(plan, open_storage(ws))
    drop_demo_submissions(plan, "nishitokyo", open_storage(ws))
    take_intake(plan, open_storage(ws), settle_seconds=0)
    check_pending(plan, open_storage(ws))
    consolidate_year(plan, open_storage(ws))
    context = build_report_context_for(plan, open_storage(ws))
    assert [y["label"] for y in context["indicator_years"]] == [
        "平成29年度",
        "平成30年度",
        "令和元年度",
    ]
    consumer = next(i for i in context["indicators"] if i["indicator"].startswith("消費者"))
    assert consumer["series"] == ["1,161", "1,494", "1,405"]
    assert consumer["final_target"] == "1,100" and consumer["direction"] == "↓"
    assert consumer["rate"] == "78%"  # lower is better: 目標 1,100 / 実績 1,405
