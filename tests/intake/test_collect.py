"""Tests of intake: exactly once, complete files only, supersession, wrong folders, status."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.cycle.steps import check_pending, take_intake
from tasks.intake.collect import collect_new_files
from tasks.intake.files import list_stable
from tasks.intake.ledger import load_ledger
from tasks.intake.status import build_status_rows
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tasks.workspace.storage import open_storage
from tests.helpers import filled_workbook, submit


def _drop(workspace: Path, relative: str, data: bytes) -> None:
    path = workspace / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _statuses(workspace: Path) -> list[tuple[str | None, str, str]]:
    ledger = load_ledger(FolderStorage(workspace), 2021)
    return [(e.department_id, e.original_name, e.status) for e in ledger.entries]


def test_the_same_file_twice_is_taken_once(workspace: Path, minami: Plan) -> None:
    """It takes a file once, ignores it on the next run, and logs a copy as a duplicate."""
    data = filled_workbook(minami, "shakyo")
    _drop(workspace, "intake/2021/shakyo/提出.xlsx", data)
    assert len(take_intake(minami, open_storage(workspace), settle_seconds=0).taken) == 1
    again = take_intake(minami, open_storage(workspace), settle_seconds=0)
    assert again.taken == [] and again.duplicates == []
    _drop(workspace, "intake/2021/shakyo/提出 (2).xlsx", data)
    copy = take_intake(minami, open_storage(workspace), settle_seconds=0)
    assert copy.taken == [] and [d.original_name for d in copy.duplicates] == ["提出 (2).xlsx"]
    check_pending(minami, open_storage(workspace))
    assert _statuses(workspace) == [
        ("shakyo", "提出.xlsx", "accepted"),
        ("shakyo", "提出 (2).xlsx", "duplicate"),
    ]
    assert len(list((workspace / "archive" / "2021").iterdir())) == 1


def test_a_file_still_being_written_waits(workspace: Path, minami: Plan) -> None:
    """It leaves a file that grows between its two looks for the next run."""
    data = filled_workbook(minami, "shakyo")
    target = workspace / "intake/2021/shakyo/copying.xlsx"
    target.parent.mkdir(parents=True)
    target.write_bytes(data[:100])

    def keep_copying() -> None:
        with target.open("ab") as handle:
            for start in range(100, len(data), max(1, len(data) // 8)):
                handle.write(data[start : start + max(1, len(data) // 8)])
                handle.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=keep_copying)
    writer.start()
    during = collect_new_files(
        FolderStorage(workspace),
        minami,
        load_ledger(FolderStorage(workspace), 2021),
        settle_seconds=0.2,
    )[1]
    writer.join()
    assert during.taken == [] and during.waiting == ["intake/2021/shakyo/copying.xlsx"]
    after = take_intake(minami, open_storage(workspace), settle_seconds=0.1)
    assert [e.size for e in after.taken] == [len(data)]


def test_a_file_dropped_a_while_ago_is_taken_without_waiting(workspace: Path, minami: Plan) -> None:
    """It takes a file last changed longer ago than the settle time at the first look."""
    _drop(workspace, "intake/2021/shakyo/提出.xlsx", filled_workbook(minami, "shakyo"))
    earlier = time.time() - 120
    os.utime(workspace / "intake/2021/shakyo/提出.xlsx", (earlier, earlier))
    began = time.monotonic()
    taken = take_intake(minami, open_storage(workspace), settle_seconds=60).taken
    assert time.monotonic() - began < 30  # far less than the 60 s a second look would wait
    assert [e.original_name for e in taken] == ["提出.xlsx"]


def test_a_whole_workbook_saved_just_now_is_taken_without_waiting(
    workspace: Path, minami: Plan
) -> None:
    """A workbook written to its end is taken at the first look, however young."""
    _drop(workspace, "intake/2021/shakyo/直したもの.xlsx", filled_workbook(minami, "shakyo"))
    began = time.monotonic()
    taken = take_intake(minami, open_storage(workspace), settle_seconds=60).taken
    assert time.monotonic() - began < 30  # far less than the 60 s a second look would wait
    assert [e.original_name for e in taken] == ["直したもの.xlsx"]


def _cut_short(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _size_set_first(data: bytes) -> bytes:
    return data[: len(data) // 2] + bytes(len(data) - len(data) // 2)


def _middle_missing(data: bytes) -> bytes:
    middle = len(data) // 3
    return data[:middle] + bytes(512) + data[middle + 512 :]


@pytest.mark.parametrize("copying", [_cut_short, _size_set_first, _middle_missing])
def test_a_workbook_still_being_copied_waits_for_the_second_look(
    workspace: Path, minami: Plan, copying: Callable[[bytes], bytes]
) -> None:
    """A young workbook not yet whole (cut short, its size set before its bytes, a part
    written out of order) is looked at again after the settle time."""
    storage = FolderStorage(workspace)
    storage.write_bytes(
        "intake/2021/shakyo/copying.xlsx", copying(filled_workbook(minami, "shakyo"))
    )
    began = time.monotonic()
    stable, _ = list_stable(storage, "intake/2021", settle_seconds=1.0)
    assert time.monotonic() - began >= 0.9
    assert [o.key for o in stable] == ["intake/2021/shakyo/copying.xlsx"]  # it did not change


def test_the_second_look_waits_for_the_youngest_file(workspace: Path) -> None:
    """It waits only the rest of the settle time of the most recently changed file."""
    storage = FolderStorage(workspace)
    storage.write_bytes("intake/2021/shakyo/old.xlsx", b"old")
    storage.write_bytes("intake/2021/kenko/new.xlsx", b"new")
    now = time.time()
    os.utime(workspace / "intake/2021/shakyo/old.xlsx", (now - 100, now - 100))
    os.utime(workspace / "intake/2021/kenko/new.xlsx", (now - 0.5, now - 0.5))
    began = time.monotonic()
    stable, changing = list_stable(storage, "intake/2021", settle_seconds=1.5, now=now)
    waited = time.monotonic() - began
    assert 0.9 <= waited < 1.5, waited  # 1.5 s less the 0.5 s the young file has already had
    assert sorted(o.key for o in stable) == [
        "intake/2021/kenko/new.xlsx",
        "intake/2021/shakyo/old.xlsx",
    ]
    assert changing == []
    # A time ahead of this machine's clock (another machine's) counts as just written.
    os.utime(workspace / "intake/2021/kenko/new.xlsx", (now + 50, now + 50))
    began = time.monotonic()
    list_stable(storage, "intake/2021", settle_seconds=0.5, now=now)
    assert time.monotonic() - began >= 0.5


def test_a_resubmission_supersedes_and_both_stay(workspace: Path, minami: Plan) -> None:
    """It keeps the older accepted file as superseded when a newer one is accepted."""
    submit(
        workspace,
        minami,
        "intake/2021/shakyo/v1.xlsx",
        filled_workbook(minami, "shakyo", grade="B"),
    )
    submit(
        workspace,
        minami,
        "intake/2021/shakyo/v2.xlsx",
        filled_workbook(minami, "shakyo", grade="A"),
    )
    assert _statuses(workspace) == [
        ("shakyo", "v1.xlsx", "superseded"),
        ("shakyo", "v2.xlsx", "accepted"),
    ]
    assert len(list((workspace / "archive" / "2021").glob("*.xlsx"))) == 2


def test_a_rejected_resubmission_keeps_the_accepted_one(workspace: Path, minami: Plan) -> None:
    """It keeps the last good file in force when a newer one is rejected."""
    submit(workspace, minami, "intake/2021/shakyo/good.xlsx", filled_workbook(minami, "shakyo"))
    submit(
        workspace,
        minami,
        "intake/2021/shakyo/bad.xlsx",
        filled_workbook(minami, "shakyo", grade="Z"),
    )
    assert _statuses(workspace) == [
        ("shakyo", "good.xlsx", "accepted"),
        ("shakyo", "bad.xlsx", "rejected"),
    ]


def test_misplaced_files_are_rejected_not_lost(workspace: Path, minami: Plan) -> None:
    """It rejects files outside a department folder and says where they should go."""
    data = filled_workbook(minami, "shakyo")
    _drop(workspace, "intake/2021/loose.xlsx", data)
    _drop(workspace, "intake/2021/no-such-dept/x.xlsx", filled_workbook(minami, "npo"))
    take_intake(minami, open_storage(workspace), settle_seconds=0)
    summary = check_pending(minami, open_storage(workspace))
    assert {f.status for f in summary.files} == {"rejected"}
    ledger = load_ledger(FolderStorage(workspace), 2021)
    assert all("自部署のフォルダに提出" in (e.first_error or "") for e in ledger.entries)
    assert len(list((workspace / "feedback" / "2021" / "_unassigned").iterdir())) == 2


def test_a_file_claiming_another_department_replaces_nothing(workspace: Path, minami: Plan) -> None:
    """It rejects a workbook of department A dropped in B's folder; B's file stays in force."""
    submit(workspace, minami, "intake/2021/shakyo/own.xlsx", filled_workbook(minami, "shakyo"))
    submit(workspace, minami, "intake/2021/shakyo/other.xlsx", filled_workbook(minami, "npo"))
    assert _statuses(workspace) == [
        ("shakyo", "own.xlsx", "accepted"),
        ("shakyo", "other.xlsx", "rejected"),
    ]
    ledger = load_ledger(FolderStorage(workspace), 2021)
    assert "別の部署" in (ledger.entries[1].first_error or "")


def test_names_that_differ_only_in_unicode_form(workspace: Path, minami: Plan) -> None:
    """It keeps two files whose names differ only in NFC/NFD form apart and names both NFC."""
    nfc = "ガイド.xlsx"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    _drop(workspace, f"intake/2021/shakyo/{nfc}", filled_workbook(minami, "shakyo", grade="A"))
    _drop(workspace, f"intake/2021/shakyo/{nfd}", filled_workbook(minami, "shakyo", grade="B"))
    taken = take_intake(minami, open_storage(workspace), settle_seconds=0).taken
    assert len(taken) == 2
    assert {e.original_name for e in taken} == {nfc}
    assert len({e.sha256 for e in taken}) == 2


def test_status_shows_who_has_not_submitted(workspace: Path, minami: Plan) -> None:
    """It lists every department: 受理, 差戻し中, 未提出, and 期限超過 after the deadline."""
    _drop(workspace, "intake/2021/shakyo/ok.xlsx", filled_workbook(minami, "shakyo"))
    submit(workspace, minami, "intake/2021/npo/ng.xlsx", filled_workbook(minami, "npo", grade="Z"))
    ledger = load_ledger(FolderStorage(workspace), 2021)
    late_plan = minami.model_copy(
        update={
            "submission": minami.submission.model_copy(update={"deadline": dt.date(2021, 5, 31)})
        }
    )
    rows = {r["部署"]: r for r in build_status_rows(late_plan, ledger, dt.date(2021, 6, 1))}
    assert rows["社会福祉協議会"]["状況"] == "受理"
    assert rows["NPO法人"]["状況"] == "差戻し中（再提出待ち）"
    assert rows["NPO法人"]["期限"] == "期限超過"
    assert rows["健康福祉課"]["状況"] == "未提出"
    assert rows["健康福祉課"]["期限"] == "期限超過"
    on_time = {r["部署"]: r for r in build_status_rows(late_plan, ledger, dt.date(2021, 5, 1))}
    assert on_time["健康福祉課"]["期限"] == "期限内"


def test_lock_and_system_files_are_not_submissions(workspace: Path, minami: Plan) -> None:
    """It ignores Excel's ~$ lock files and OS files left in a department folder."""
    data = filled_workbook(minami, "shakyo")
    _drop(workspace, "intake/2021/shakyo/提出.xlsx", data)
    _drop(workspace, "intake/2021/shakyo/~$提出.xlsx", b"\x00" * 165)
    _drop(workspace, "intake/2021/shakyo/Thumbs.db", b"\x00")
    _drop(workspace, "intake/2021/shakyo/.DS_Store", b"\x00")
    result = take_intake(minami, open_storage(workspace), settle_seconds=0)
    assert [e.original_name for e in result.taken] == ["提出.xlsx"]


def test_a_file_moved_into_the_right_folder_is_taken_again(workspace: Path, minami: Plan) -> None:
    """It takes the same bytes again once they are dropped where the rejection said."""
    data = filled_workbook(minami, "shakyo")
    submit(workspace, minami, "intake/2021/提出.xlsx", data)
    submit(workspace, minami, "intake/2021/shakyo/提出.xlsx", data)
    assert _statuses(workspace) == [
        (None, "提出.xlsx", "rejected"),
        ("shakyo", "提出.xlsx", "accepted"),
    ]


def test_an_older_version_sent_again_reverts_to_it(workspace: Path, minami: Plan) -> None:
    """It lets a department go back to an earlier file by sending it again."""
    first = filled_workbook(minami, "shakyo", grade="B")
    submit(workspace, minami, "intake/2021/shakyo/v1.xlsx", first)
    submit(workspace, minami, "intake/2021/shakyo/v2.xlsx", filled_workbook(minami, "shakyo"))
    submit(workspace, minami, "intake/2021/shakyo/v1 (戻す).xlsx", first)
    assert [s for _, _, s in _statuses(workspace)] == ["superseded", "superseded", "accepted"]


def test_the_newest_file_wins_within_one_run(workspace: Path, minami: Plan) -> None:
    """It orders files that arrive together by their time, not by their names."""
    import os

    _drop(workspace, "intake/2021/shakyo/b-old.xlsx", filled_workbook(minami, "shakyo", grade="B"))
    _drop(workspace, "intake/2021/shakyo/a-new.xlsx", filled_workbook(minami, "shakyo", grade="A"))
    os.utime(workspace / "intake/2021/shakyo/b-old.xlsx", (1_000_000_000, 1_000_000_000))
    take_intake(minami, open_storage(workspace), settle_seconds=0)
    check_pending(minami, open_storage(workspace))
    assert _statuses(workspace) == [
        ("shakyo", "b-old.xlsx", "superseded"),
        ("shakyo", "a-new.xlsx", "accepted"),
    ]


def test_a_symlink_in_intake_is_not_followed(workspace: Path, minami: Plan, tmp_path: Path) -> None:
    """It ignores links, so no file outside intake can be pulled into the archive."""
    secret = tmp_path / "secret.txt"
    secret.write_text("password", encoding="utf-8")
    link = workspace / "intake/2021/shakyo/link.xlsx"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    assert take_intake(minami, open_storage(workspace), settle_seconds=0).taken == []


def test_many_files_are_read_a_chunk_at_a_time_and_each_taken_once(
    workspace: Path, minami: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It takes every new file exactly once when they are read in several chunks."""
    import tasks.intake.collect

    monkeypatch.setattr(tasks.intake.collect, "_READ_CHUNK_FILES", 2)
    expected = set()
    for number, department in enumerate(minami.departments[:5]):
        key = f"intake/2021/{department.id}/提出{number}.xlsx"
        (workspace / key).parent.mkdir(parents=True, exist_ok=True)
        (workspace / key).write_bytes(filled_workbook(minami, department.id))
        expected.add(key)
    storage = FolderStorage(workspace)
    ledger, result = collect_new_files(storage, minami, load_ledger(storage, 2021), 0)
    assert sorted(e.source_key for e in result.taken) == sorted(expected)
    assert len(ledger.entries) == 5 and result.waiting == []
    assert len(list((workspace / "archive" / "2021").iterdir())) == 5
