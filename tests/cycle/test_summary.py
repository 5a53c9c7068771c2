"""The 差戻し票 a run tells the coordinator to send: this year's, of each latest file only."""

from __future__ import annotations

from pathlib import Path

from tasks.cycle.summary import current_feedback
from tasks.intake.ledger import load_ledger
from tasks.plan.load import load_plan
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, submit


def test_only_the_current_feedback_of_the_year_is_listed(workspace: Path) -> None:
    """It lists a department's latest 差戻し票 and a stray's, not superseded or other years'."""
    plan = load_plan("niigata-minami")
    wrong, right = filled_workbook(plan, "shakyo", grade="Z"), filled_workbook(plan, "shakyo")
    # 社会福祉協議会: rejected, then accepted — its 差戻し票 is history.
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", wrong)
    submit(workspace, plan, "intake/2021/shakyo/再提出.xlsx", right)
    # 健康福祉課: accepted, then a resubmission rejected — that one is to send.
    fukushi = "intake/2021/kenko-fukushi/"
    submit(workspace, plan, fukushi + "提出.xlsx", filled_workbook(plan, "kenko-fukushi"))
    submit(workspace, plan, fukushi + "修正版.xlsx", filled_workbook(plan, "kenko-fukushi", "Z"))
    # A file outside every department's folder.
    submit(workspace, plan, "intake/2021/健康福祉課/提出.xlsx", right)
    # Another year's 差戻し票 in the same workspace.
    old = workspace / "feedback/2020/kenko-fukushi/差戻し票_2020_健康福祉課_0123abcd.xlsx"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x")
    storage = open_storage(workspace)
    written = sorted(p.relative_to(workspace).as_posix() for p in workspace.glob("feedback/**/*"))
    assert len([k for k in written if k.endswith(".xlsx")]) == 4  # three of 2021, one of 2020

    listed = current_feedback(plan, load_ledger(storage, 2021), storage)

    assert [(f.department, f.original_name, f.status) for f in listed] == [
        ("健康福祉課", "修正版.xlsx", "差戻し"),
        ("（フォルダ違い）", "提出.xlsx", "差戻し"),
    ]
    assert all(f.key.startswith("feedback/2021/") and storage.exists(f.key) for f in listed)
