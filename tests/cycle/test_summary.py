"""The 差戻し票 a run tells the coordinator to send: this year's, of each latest file only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tasks.cycle.steps import check_pending, take_intake
from tasks.cycle.summary import current_feedback, format_run_summary, summarise_run
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
    sheets = [k for k in written if "/差戻し票_" in k]
    assert len(sheets) == 4  # three of 2021, one of 2020
    # Beside each 差戻し票 of a file with cells to fix; not for the stray, refused as a whole.
    assert len([k for k in written if "/修正用_" in k]) == 2

    listed = current_feedback(plan, load_ledger(storage, 2021), storage)

    assert [(f.department, f.original_name, f.status) for f in listed] == [
        ("健康福祉課", "修正版.xlsx", "差戻し"),
        ("（フォルダ違い）", "提出.xlsx", "差戻し"),
    ]
    assert all(f.key.startswith("feedback/2021/") and storage.exists(f.key) for f in listed)
    assert listed[0].correction and storage.exists(listed[0].correction)
    assert listed[1].correction is None  # the stray file: refused as a whole, nothing to mark


def test_a_run_is_summed_up_by_department(workspace: Path) -> None:
    """It counts the run's new files by outcome, overall and per department, beside each
    department's state, and lists the 差戻し票 to send."""
    plan = load_plan("niigata-minami")
    storage = open_storage(workspace)
    good = filled_workbook(plan, "shakyo")
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", good)
    before = load_ledger(storage, 2021)
    # This run: 健康福祉課 rejected, 社会福祉協議会 the same file again, 地域総務課 accepted,
    # a file outside every department's folder, and a file taken but not yet checked.
    drops = {
        "intake/2021/kenko-fukushi/提出.xlsx": filled_workbook(plan, "kenko-fukushi", "Z"),
        "intake/2021/shakyo/再送.xlsx": good,
        "intake/2021/chiiki-somu/提出.xlsx": filled_workbook(plan, "chiiki-somu"),
        "intake/2021/健康福祉課/提出.xlsx": good,
    }
    for key, data in drops.items():
        (workspace / key).parent.mkdir(parents=True, exist_ok=True)
        (workspace / key).write_bytes(data)
    take_intake(plan, storage, settle_seconds=0)
    check_pending(plan, storage)
    late = workspace / "intake/2021/npo/提出.xlsx"
    late.parent.mkdir(parents=True)
    late.write_bytes(filled_workbook(plan, "npo"))
    take_intake(plan, storage, settle_seconds=0)  # the run stopped before checking it

    summary = summarise_run(plan, before, load_ledger(storage, 2021), storage, dt.date(2021, 6, 1))

    assert summary.new_files == {"受理": 1, "差戻し": 2, "確認待ち": 1, "重複": 1}
    states = {d.department: (d.state, d.this_run) for d in summary.departments}
    assert states["健康福祉課"] == ("差戻し中（再提出待ち）", {"差戻し": 1})
    assert states["社会福祉協議会"] == ("受理", {"重複": 1})
    assert states["地域総務課"] == ("受理", {"受理": 1})
    assert states["NPO法人"] == ("確認待ち", {"確認待ち": 1})
    assert states["地域包括支援センター"] == ("未提出", {})
    assert states["（フォルダ違い）"][1] == {"差戻し": 1}
    lines = format_run_summary(summary, storage.describe)
    assert lines[0] == (
        "2021年度（令和3年度）の取り込み: 新しいファイル 5 件"
        "（受理 1 件・差戻し 2 件・確認待ち 1 件・重複 1 件）"
    )
    assert any(
        line.strip().startswith("健康福祉課") and "今回 差戻し 1 件" in line for line in lines
    )
    after = lines[lines.index("部署に返す差戻し票（各部署の最新の提出）:") + 1 :]
    sent = [line for line in after if "修正用の調査票" not in line]
    assert len(sent) == 2 and len(after) == 3  # 健康福祉課's with its marked workbook
    assert sent[0].strip().startswith("健康福祉課（差戻し）: ")
    assert sent[1].strip().startswith("（フォルダ違い）（差戻し）: ")
    assert all(f"{workspace}/feedback/2021/" in line for line in sent)


def test_a_run_with_nothing_new_says_so(workspace: Path) -> None:
    """It reports no new file and no 差戻し票 when the run took nothing."""
    plan = load_plan("niigata-minami")
    storage = open_storage(workspace)
    submit(workspace, plan, "intake/2021/shakyo/提出.xlsx", filled_workbook(plan, "shakyo"))
    ledger = load_ledger(storage, 2021)
    summary = summarise_run(plan, ledger, ledger, storage, dt.date(2021, 6, 1))
    lines = format_run_summary(summary, storage.describe)
    assert lines[0] == "2021年度（令和3年度）の取り込み: 新しいファイル 0 件"
    assert lines[-1] == "部署に返す差戻し票はありません。"
