"""みどり野市 (``tests/data/midorino``), a municipality none of the presets, and the plan edits
a coordinator makes to it mid-season."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tasks.settings import REPO_ROOT

MIDORINO = REPO_ROOT / "tests" / "data" / "midorino" / "plan.yaml"
YEAR = 2025

PlanEdit = Callable[[dict[str, Any]], None]
"""An edit of a plan.yaml's document, in place, as a coordinator makes it in an editor."""


def midorino_config(folder: Path, *edits: PlanEdit) -> Path:
    """Write みどり野市's plan.yaml into ``folder`` with ``edits`` made; return the folder."""
    document = yaml.safe_load(MIDORINO.read_text(encoding="utf-8"))
    for edit in edits:
        edit(document)
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    (folder / "plan.yaml").write_text(text, encoding="utf-8")
    return folder


def _add_initiative(document: dict[str, Any], initiative_id: str, *departments: str) -> None:
    document["initiatives"].append(
        {
            "id": initiative_id,
            "name": f"年度途中に加えた事業 {initiative_id}",
            "summary": "年度の途中で加えた事業です。",
            "departments": list(departments),
        }
    )
    document["goals"][2]["children"][0]["initiatives"].append(initiative_id)  # 災害時の支え合い


def add_department(document: dict[str, Any]) -> None:
    """企画課 joins the plan with an initiative of its own."""
    document["departments"].append({"id": "kikaku", "name": "企画課"})
    _add_initiative(document, "i21", "kikaku")


def add_initiative_for_bosai(document: dict[str, Any]) -> None:
    """防災安全課 gets one more initiative."""
    _add_initiative(document, "i22", "bosai")


def change_report_only(document: dict[str, Any]) -> None:
    """Only the 資料's title and mark change: nothing a department sees."""
    document["report"]["title"] = "地域福祉計画の進捗状況（案）"
    document["report"]["warning_mark"] = "※"


def share_kodomo_shokudo(document: dict[str, Any]) -> None:
    """企画課 joins and shares 子ども食堂への助成 (i02) with こども家庭課 and the 社協."""
    document["departments"].append({"id": "kikaku", "name": "企画課"})
    next(i for i in document["initiatives"] if i["id"] == "i02")["departments"].append("kikaku")


def raise_sodan_target(document: dict[str, Any]) -> None:
    """福祉政策課's indicator 相談件数 gets another target for the year."""
    initiative = next(i for i in document["initiatives"] if i["id"] == "i08")
    initiative["indicators"][0]["targets"][YEAR] = 1350
