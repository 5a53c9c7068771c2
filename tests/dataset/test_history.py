"""Importing an earlier year from a coordinator's Excel 一覧 (the seed's 評価シート layout)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from tasks.dataset.history import import_history_workbook, write_imported_year
from tasks.errors import ConfigError
from tasks.plan.load import load_plan, plan_for_year
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage


def _ichiran(rows: list[tuple[str, str, str, str]]) -> bytes:
    """An 一覧 as a coordinator keeps it: a title, a header row, one row per initiative."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "基本目標1"
    sheet["A1"] = "令和2年度 評価シート"
    sheet.append([])
    sheet.append(["目標", "具体的な取り組み・事業", "概要", "担当部署", "2020年度実績", "評価"])
    for name, department, result, grade in rows:
        sheet.append(["（１）", name, "…", department, result, grade])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_it_imports_results_and_grades_by_initiative_name(minami: Plan, tmp_path: Path) -> None:
    """It matches names (（再掲） and 全角 ignored) and lists the names it could not match."""
    plan = plan_for_year(minami, 2020)
    data = _ichiran(
        [
            ("多様な手法による子育て情報の発信", "健康福祉課", "育児相談会　18回", "Ａ"),
            ("訪問・相談事業の強化（再掲）", "健康福祉課", "全戸訪問", "B"),
            ("計画にない事業", "健康福祉課", "…", "C"),
        ]
    )
    imported = import_history_workbook(plan, data, 2020)
    frame = imported.consolidated.set_index(["initiative_id", "department_id"])
    assert frame.loc[("i001", "kenko-fukushi"), "result_text"] == "育児相談会　18回"
    assert frame.loc[("i001", "kenko-fukushi"), "grade"] == "A"
    assert frame.loc[("i003", "kenko-fukushi"), "grade"] == "B"
    assert imported.unmatched == ["計画にない事業"]
    storage = FolderStorage(tmp_path)
    (key,) = write_imported_year(storage, imported, 2020)
    stored = pd.read_parquet(io.BytesIO(storage.read_bytes(key)))
    assert list(stored["initiative_id"]) == ["i001", "i003"]
    with pytest.raises(ConfigError, match="上書きしません"):
        write_imported_year(storage, imported, 2020)


def test_it_refuses_a_sheet_without_matching_rows(minami: Plan) -> None:
    """It says so when no row of the 一覧 names an initiative of the plan."""
    with pytest.raises(ConfigError, match="一致する行がありません"):
        import_history_workbook(minami, _ichiran([("別の事業", "総務課", "…", "A")]), 2020)


def test_it_takes_the_results_under_the_plans_own_label(tmp_path: Path) -> None:
    """It reads the result column the 資料 heads with the plan's own label, the 項目 with its
    note, as shiryo printed them the year before (西東京市's 令和元年度の取組状況)."""
    plan = plan_for_year(load_plan("nishitokyo"), 2019)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["項目", "担当部署", "令和元年度の取組状況（増減に向けて取り組んだ内容等）"])
    sheet.append(
        ["はなバス輸送人員\n※１日１㎞あたりの輸送人員", "交通課", "特別ダイヤを試験的に実施"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    imported = import_history_workbook(plan, buffer.getvalue(), 2019)
    (row,) = imported.consolidated.to_dict("records")
    assert (row["initiative_id"], row["done_text"]) == ("i12", "特別ダイヤを試験的に実施")
    assert imported.unmatched == []
