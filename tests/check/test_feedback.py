"""Each kind of mistake a department makes: its message, its 差戻し票, the batch goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from tasks.call.workbook import IDENTITY_KEYS, IDENTITY_SHEET
from tasks.cycle.steps import check_pending, take_intake
from tasks.intake.ledger import load_ledger
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tasks.workspace.storage import open_storage
from tests.helpers import cell_of, filled_workbook

SHEET = "評価シート"
Edit = Callable[[Plan, Workbook], str]
"""Changes a filled workbook and returns the cell ("シート!A1") the finding must name."""


def _main(initiative: str, label: str, value: object) -> Edit:
    def edit(plan: Plan, workbook: Workbook) -> str:
        ref = cell_of(plan, workbook, initiative, label)
        workbook[SHEET][ref] = value
        return f"{SHEET}!{ref}"

    return edit


def _identity(key: str, value: str) -> Edit:
    def edit(plan: Plan, workbook: Workbook) -> str:
        ref = f"B{IDENTITY_KEYS.index(key) + 1}"
        workbook[IDENTITY_SHEET][ref] = value
        return f"{IDENTITY_SHEET}!{ref}"

    return edit


def _indicator(value: object) -> Edit:
    def edit(plan: Plan, workbook: Workbook) -> str:
        workbook["指標"]["I6"] = value
        return "指標!I6"

    return edit


MISTAKES: list[tuple[str, Edit, str, bool]] = [
    # (case, edit, part of the Japanese message, is the file still accepted?)
    (
        "grade outside the scale",
        _main("i051", "評価", "Ｅ"),
        "評価「Ｅ」は評価の指標にありません",
        False,
    ),
    (
        "blank required result",
        _main("i049", "2021年度実績（見込み）", None),
        "実績が空欄です",
        False,
    ),
    ("blank grade", _main("i050", "評価", None), "評価が空欄です", False),
    ("text over the limit", _main("i049", "コメント・課題等", "あ" * 1001), "長すぎます", False),
    ("duplicate row", _main("i051", "事業ID", "i049"), "重複しています", False),
    (
        "initiative of another department",
        _main("i051", "事業ID", "i001"),
        "担当事業にありません",
        False,
    ),
    ("last year's workbook", _identity("fiscal_year", "2020"), "2020 年度用です", False),
    ("another municipality's workbook", _identity("municipality", "北本市"), "別の自治体", False),
    ("number that is not a number", _indicator("約半数"), "数値として読み取れません", False),
    ("blank number", _indicator(None), "指標の実績値が空欄です", False),
    ("full-width digits", _indicator("１２"), "全角数字", True),
]


@pytest.mark.parametrize(
    ("edit", "message", "accepted"),
    [pytest.param(edit, message, accepted, id=case) for case, edit, message, accepted in MISTAKES],
)
def test_a_mistake_is_named_in_the_feedback_and_the_batch_goes_on(
    workspace: Path, minami: Plan, edit: Edit, message: str, accepted: bool
) -> None:
    """It names the sheet and cell in Japanese in a 差戻し票 and still accepts the other file."""
    where: list[str] = []
    broken = filled_workbook(minami, "chiiki-somu", edit=lambda wb: where.append(edit(minami, wb)))
    for department, data in (
        ("chiiki-somu", broken),
        ("shakyo", filled_workbook(minami, "shakyo")),
    ):
        target = workspace / "intake" / "2021" / department / "提出.xlsx"
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
    take_intake(minami, open_storage(workspace), settle_seconds=0)
    check_pending(minami, open_storage(workspace))

    statuses = {
        e.department_id: e.status for e in load_ledger(FolderStorage(workspace), 2021).entries
    }
    assert statuses == {"chiiki-somu": "accepted" if accepted else "rejected", "shakyo": "accepted"}
    (feedback,) = (workspace / "feedback" / "2021" / "chiiki-somu").glob("差戻し票_*.xlsx")
    rows = [r for r in load_workbook(feedback).active.iter_rows(values_only=True) if any(r)]
    sheet, cell = where[0].split("!")
    named = [r for r in rows[4:] if r[2] == sheet and r[3] == cell]
    assert named and any(message in str(r[5]) for r in named), rows
    verdict = "受け付けました" if accepted else "差し戻します"
    assert verdict in str(rows[2][0])
