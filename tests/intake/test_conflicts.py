"""Conflicts between files are decided by a stated rule and shown, never silently.

The rules (``tasks.check.conflicts``): the same bytes in several folders are checked once, as
the file of the folder the workbook's identity names (else the one received first), the
other copies rejected with a note; of several files of one department checked together, the
accepted one received last is taken. Each file the rule touches has a note in the ledger
naming the files and the one taken, shown in the 提出状況 (備考).
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from pathlib import Path

from tasks.cycle.steps import check_pending, consolidate_year, take_intake
from tasks.dataset.store import load_consolidated
from tasks.intake.files import anything_new
from tasks.intake.ledger import Ledger, LedgerEntry, load_ledger
from tasks.intake.status import build_status_rows
from tasks.plan.model import Plan
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook

T0 = 1_622_505_600  # 2021-06-01, the order of submission


def _drop(workspace: Path, relative: str, data: bytes, at: int) -> None:
    path = workspace / "intake/2021" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (T0 + at, T0 + at))


def _run(workspace: Path, plan: Plan) -> Ledger:
    storage = open_storage(workspace)
    intake = take_intake(plan, storage, settle_seconds=0)
    assert intake.waiting == []  # nothing is held back to another run
    check_pending(plan, storage)
    consolidate_year(plan, storage)
    return load_ledger(storage, 2021)


def _by_name(ledger: Ledger) -> dict[str, LedgerEntry]:
    return {e.source_key.removeprefix("intake/2021/"): e for e in ledger.entries}


def _remarks(plan: Plan, ledger: Ledger, department: str) -> str:
    rows = build_status_rows(plan, ledger, dt.date(2021, 6, 1))
    return next(r["備考"] for r in rows if r["部署"] == department)


def test_two_files_of_one_department_take_the_last_and_say_so(
    workspace: Path, minami: Plan
) -> None:
    """It takes the file received last and notes on both which one was taken, and why."""
    _drop(workspace, "shakyo/a-最新.xlsx", filled_workbook(minami, "shakyo", "A"), at=20)
    _drop(workspace, "shakyo/b-古い.xlsx", filled_workbook(minami, "shakyo", "B"), at=10)
    ledger = _run(workspace, minami)

    files = _by_name(ledger)
    assert files["shakyo/a-最新.xlsx"].status == "accepted"
    assert files["shakyo/b-古い.xlsx"].status == "superseded"
    for entry in files.values():
        (note,) = entry.notes
        assert "同時に 2 件" in note and "「b-古い.xlsx」" in note and "「a-最新.xlsx」" in note
        assert "「a-最新.xlsx」を採用しました" in note and "最後に置かれたもの" in note
    assert "「a-最新.xlsx」を採用しました" in _remarks(minami, ledger, "社会福祉協議会")


def test_a_rejected_file_never_replaces_an_accepted_one_of_the_same_run(
    workspace: Path, minami: Plan
) -> None:
    """It takes the older accepted file when the newer one of the same run is rejected."""
    _drop(workspace, "shakyo/good.xlsx", filled_workbook(minami, "shakyo", "A"), at=10)
    _drop(workspace, "shakyo/bad.xlsx", filled_workbook(minami, "shakyo", "Z"), at=20)
    files = _by_name(_run(workspace, minami))
    assert (files["shakyo/good.xlsx"].status, files["shakyo/bad.xlsx"].status) == (
        "accepted",
        "rejected",
    )
    assert "「good.xlsx」を採用しました" in files["shakyo/bad.xlsx"].notes[0]


def test_names_that_look_the_same_are_told_apart(workspace: Path, minami: Plan) -> None:
    """It notes NFC and NFD twins with how each name is written, and which was taken."""
    nfc = "ポスター.xlsx"
    nfd = unicodedata.normalize("NFD", nfc)
    _drop(workspace, f"shakyo/{nfc}", filled_workbook(minami, "shakyo", "A"), at=10)
    _drop(workspace, f"shakyo/{nfd}", filled_workbook(minami, "shakyo", "B"), at=20)
    ledger = _run(workspace, minami)

    first, second = ledger.entries
    assert first.original_name == second.original_name == nfc
    assert (first.status, second.status) == ("superseded", "accepted")
    for entry, other_form in ((first, "UTF-8・NFD（Mac の表記）"), (second, "UTF-8・NFC")):
        twin_note, batch_note = entry.notes
        assert "同じ名前に見える別のファイル" in twin_note and other_form in twin_note
        assert f"「{nfc}（UTF-8・NFD（Mac の表記））」を採用しました" in batch_note
    assert "NFD" in _remarks(minami, ledger, "社会福祉協議会")


def test_the_same_bytes_in_two_folders_are_checked_as_their_own_departments(
    workspace: Path, minami: Plan
) -> None:
    """It checks a workbook copied into another folder once, as the folder its identity names,
    rejects the copy with a note naming both, and holds nothing back to the next run."""
    hokatsu = filled_workbook(minami, "chiiki-hokatsu")
    _drop(workspace, "shakyo/コピー.xlsx", hokatsu, at=10)  # the misplaced copy came first
    _drop(workspace, "shakyo/自分の.xlsx", filled_workbook(minami, "shakyo"), at=20)
    _drop(workspace, "chiiki-hokatsu/提出.xlsx", hokatsu, at=30)
    ledger = _run(workspace, minami)

    files = _by_name(ledger)
    own, copy = files["chiiki-hokatsu/提出.xlsx"], files["shakyo/コピー.xlsx"]
    assert own.sha256 == copy.sha256
    assert (own.status, copy.status) == ("accepted", "rejected")
    assert files["shakyo/自分の.xlsx"].status == "accepted"
    assert copy.first_error and "「地域包括支援センター」の「提出.xlsx」" in copy.first_error
    assert "識別情報の部署のフォルダにあるもの" in copy.first_error
    assert any("「社会福祉協議会」の「コピー.xlsx」" in n for n in own.notes)
    assert "コピー.xlsx" in _remarks(minami, ledger, "社会福祉協議会")
    assert "コピー.xlsx" in _remarks(minami, ledger, "地域包括支援センター")
    # Each department's rows once; a second run finds nothing new and changes nothing.
    storage = open_storage(workspace)
    consolidated = load_consolidated(storage, 2021)
    submitted = consolidated[consolidated["submitted"]]
    assert not submitted.duplicated(["initiative_id", "department_id"]).any()
    assert set(submitted["department_id"]) == {"chiiki-hokatsu", "shakyo"}
    assert not anything_new(storage, ledger)
    assert not (workspace / "feedback/2021/shakyo").exists()  # the copy has its note, no 差戻し票


def test_the_same_bytes_in_folders_none_of_them_names(workspace: Path, minami: Plan) -> None:
    """It checks the copy received first when no folder is the workbook's; it is rejected."""
    npo = filled_workbook(minami, "npo")
    _drop(workspace, "chiiki-somu/npo.xlsx", npo, at=20)
    _drop(workspace, "shakyo/npo.xlsx", npo, at=10)
    files = _by_name(_run(workspace, minami))
    checked, other = files["shakyo/npo.xlsx"], files["chiiki-somu/npo.xlsx"]
    assert checked.status == other.status == "rejected"
    assert checked.first_error and "別の部署" in checked.first_error
    assert other.first_error and "最初に置かれたもの" in other.first_error
    assert "「社会福祉協議会」の「npo.xlsx」" in other.first_error


def test_a_loose_copy_of_a_departments_file_is_refused_beside_it(
    workspace: Path, minami: Plan
) -> None:
    """It takes the copy in the department's folder and refuses the one left loose in intake."""
    data = filled_workbook(minami, "shakyo")
    _drop(workspace, "提出.xlsx", data, at=10)
    _drop(workspace, "shakyo/提出.xlsx", data, at=20)
    files = _by_name(_run(workspace, minami))
    assert (files["shakyo/提出.xlsx"].status, files["提出.xlsx"].status) == ("accepted", "rejected")
    assert "部署のフォルダの外" in (files["提出.xlsx"].first_error or "")


def test_unreadable_bytes_in_two_folders_get_the_same_refusal(
    workspace: Path, minami: Plan
) -> None:
    """It refuses an empty file in each folder for what it is, each with its own 差戻し票."""
    _drop(workspace, "shakyo/空.xlsx", b"", at=10)
    _drop(workspace, "npo/空.xlsx", b"", at=20)
    ledger = _run(workspace, minami)
    assert [e.status for e in ledger.entries] == ["rejected", "rejected"]
    assert all("ファイルが空です" in (e.first_error or "") and not e.notes for e in ledger.entries)
    assert len(list((workspace / "feedback/2021").rglob("差戻し票_*.xlsx"))) == 2


def test_the_same_bytes_again_in_one_folder_name_the_file_they_repeat(
    workspace: Path, minami: Plan
) -> None:
    """It records a second copy in the same folder as a duplicate that names the first."""
    data = filled_workbook(minami, "shakyo")
    _drop(workspace, "shakyo/提出.xlsx", data, at=10)
    _drop(workspace, "shakyo/提出 - コピー.xlsx", data, at=20)
    ledger = _run(workspace, minami)
    files = _by_name(ledger)
    duplicate = files["shakyo/提出 - コピー.xlsx"]
    assert duplicate.status == "duplicate"
    assert (
        "「提出.xlsx」" in duplicate.notes[0] and "同じ提出として扱いました" in duplicate.notes[0]
    )
    assert "同じ提出として扱いました" in _remarks(minami, ledger, "社会福祉協議会")


def test_a_copy_of_a_file_accepted_earlier_names_it(workspace: Path, minami: Plan) -> None:
    """It checks a later copy in another folder on its own and notes the file it copies."""
    hokatsu = filled_workbook(minami, "chiiki-hokatsu")
    _drop(workspace, "chiiki-hokatsu/提出.xlsx", hokatsu, at=10)
    _run(workspace, minami)
    _drop(workspace, "shakyo/コピー.xlsx", hokatsu, at=20)
    files = _by_name(_run(workspace, minami))
    own, copy = files["chiiki-hokatsu/提出.xlsx"], files["shakyo/コピー.xlsx"]
    assert (own.status, copy.status) == ("accepted", "rejected")
    assert copy.first_error and "別の部署" in copy.first_error  # its identity is not shakyo's
    (note,) = copy.notes
    assert "すでに受理した「提出.xlsx」（地域包括支援センター" in note
