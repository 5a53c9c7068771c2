"""Tests of hostile and broken submissions: each is refused with a clear message, or read safely.

The corpus is built at test time from a real filled-in workbook (see ``tests.hostile``). A
refused file raises SubmissionError with a Japanese message saying what is wrong and what to
do; nothing else may escape, hang or exhaust memory (a value in XFD1048576 that reached
calamine would abort the whole test process).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasks.check.read import read_submission
from tasks.check.submissions import check_submissions
from tasks.errors import SubmissionError
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tasks.workspace.storage import open_storage
from tests import hostile
from tests.helpers import archive_files, filled_workbook

Build = Callable[[bytes], bytes]
MAIN = "評価シート"

# (build, part of the message, sheet, cell) for every file that must be refused.
REFUSED: list[tuple[Build, str, str | None, str | None]] = [
    # a 0-byte file
    (hostile.empty, "ファイルが空です", None, None),
    # the first half of a workbook
    (hostile.truncated_zip, "Excel ブック（.xlsx）ではありません", None, None),
    # noise
    (hostile.random_bytes, "Excel ブック（.xlsx）ではありません", None, None),
    # a Shift_JIS CSV renamed to .xlsx
    (hostile.csv_renamed, "Excel ブック（.xlsx）ではありません", None, None),
    # a legacy .xls or an encrypted workbook
    (hostile.ole_compound_file, "パスワードで保護されたブック、または古い Excel 形式", None, None),
    # an .ods renamed to .xlsx
    (hostile.ods_renamed, "OpenDocument（.ods）", None, None),
    # a VBA project inside
    (hostile.vba_project, "マクロを含むブック", None, None),
    # a macro-enabled content type without any VBA part
    (hostile.xlsm_content_type, "マクロを含むブック", None, None),
    # a link to another workbook
    (hostile.external_link, "他のブックへのリンク（外部参照）", None, None),
    # an external entity (file:///etc/passwd) in the main sheet
    (hostile.xxe_in_sheet, "シート「評価シート」）に DTD", MAIN, None),
    # an external entity in the shared strings
    (hostile.xxe_in_shared_strings, "xl/sharedStrings.xml）に DTD", None, None),
    # nested entities expanding to a billion "lol"s
    (hostile.billion_laughs, "DTD（文書型定義・外部実体の参照）", MAIN, None),
    # a sheet declaring and inflating to 60 MB
    (hostile.zip_bomb, "展開後のサイズが上限", None, None),
    # the same bomb declaring its original small size
    (hostile.zip_bomb_lying_header, "圧縮率が異常に高い", None, None),
    # 8 MB of whitespace deflated into 8 KB
    (hostile.whitespace_padded, "圧縮率が異常に高い", None, None),
    # 3,000 extra parts
    (hostile.too_many_entries, "構成要素が多すぎる", None, None),
    # bytes flipped inside the main sheet's deflated data
    (hostile.corrupt_part, "xl/worksheets/sheet1.xml）が壊れている", None, None),
    # bzip2, which Excel never writes
    (hostile.bzip2_part, "標準でない方式で暗号化または圧縮", None, None),
    # one value in XFD1048576
    (hostile.far_cell, "セル XFD1048576 に入力または書式があり", MAIN, "XFD1048576"),
    # that value and a dimension of A1:XFD1048576
    (
        hostile.far_cell_and_dimension,
        "使用範囲（A1:XFD1048576）が大きすぎます",
        MAIN,
        "A1:XFD1048576",
    ),
    # two million cells
    (hostile.many_cells, "セルや要素が多すぎる", MAIN, None),
    # formulas instead of values, named cell by cell
    (hostile.formulas, "セル K6、L6、K7、L7、K8 に数式", MAIN, "K6"),
    # input cells merged
    (hostile.merged_input_cells, "セル I6:J7 が結合されています", MAIN, "I6:J7"),
    # the main sheet renamed
    (hostile.main_renamed, "シート「評価シート」が見つかりません", MAIN, None),
    # the main sheet hidden
    (hostile.main_hidden, "シート「評価シート」が非表示", MAIN, None),
    # the identity sheet made visible
    (hostile.identity_visible, "識別用のシート「_shiryo」が表示されています", "_shiryo", None),
    # the identity sheet deleted
    (hostile.identity_deleted, "識別情報がありません", None, None),
    # no sheet at all
    (hostile.zero_sheets, "シートが 1 枚もありません", None, None),
]


@pytest.fixture(scope="module")
def submission(minami: Plan) -> bytes:
    """A real, filled-in submission of 地域総務課 to corrupt."""
    return filled_workbook(minami, "chiiki-somu")


@pytest.mark.parametrize(
    ("build", "expected", "sheet", "cell"),
    [pytest.param(*case, id=case[0].__name__) for case in REFUSED],
)
def test_it_refuses_a_hostile_file_with_a_message(
    minami: Plan,
    submission: bytes,
    build: Build,
    expected: str,
    sheet: str | None,
    cell: str | None,
) -> None:
    """It refuses each hostile file with a Japanese message naming the sheet and cell."""
    with pytest.raises(SubmissionError) as refused:
        read_submission(build(submission), minami)
    assert expected in refused.value.message_ja
    assert "してください" in refused.value.message_ja  # and says what to do
    assert (refused.value.sheet, refused.value.cell) == (sheet, cell)


def test_it_caps_the_bytes_it_inflates_whatever_the_headers_say(
    minami: Plan, submission: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It stops inflating at the byte cap a part that lies about its size but not its ratio."""
    monkeypatch.setattr("tasks.check.guard_bounds.MAX_EXPANDED_BYTES", 1024 * 1024)
    with pytest.raises(SubmissionError, match="展開後のサイズが上限"):
        read_submission(hostile.lying_header_low_ratio(submission), minami)


@pytest.mark.parametrize(
    "build",
    [
        # Strict Open XML: other namespaces, same cells
        hostile.strict_ooxml,
        # 8 MB of whitespace stored uncompressed
        hostile.whitespace_padded_stored,
    ],
)
def test_it_reads_an_odd_but_harmless_file_like_the_original(
    minami: Plan, submission: bytes, build: Build
) -> None:
    """It reads a Strict or whitespace-padded workbook exactly as the original."""
    assert read_submission(build(submission), minami) == read_submission(submission, minami)


def test_it_removes_control_characters_and_keeps_the_text(minami: Plan, submission: bytes) -> None:
    """It drops control characters (written by Excel as _x0007_) and keeps the rest."""
    read = read_submission(hostile.control_characters(submission), minami)
    assert read.records[0].values["plan_text"] == "計画の記入です"


def test_it_reads_extra_rows_and_ignores_an_extra_sheet(minami: Plan, submission: bytes) -> None:
    """It reads a note below the data as a row for validation to judge, and skips added sheets."""
    read = read_submission(hostile.extra_rows_and_sheet(submission), minami)
    note = read.records[-1]
    assert (note.row, note.values["initiative_id"], note.values["result_text"]) == (
        12,
        "メモ",
        "来年度に見直し",
    )
    assert set(read.columns) == {MAIN, "指標"}


def test_hostile_files_do_not_stop_the_good_one(tmp_path: Path, minami: Plan) -> None:
    """It rejects each hostile file of a batch with its message and accepts the good one."""
    storage = FolderStorage(tmp_path)
    good = filled_workbook(minami, "chiiki-somu")
    chosen = {
        case[0].__name__: case[1]
        for case in REFUSED
        if case[0]
        in (
            hostile.csv_renamed,
            hostile.vba_project,
            hostile.xxe_in_sheet,
            hostile.zip_bomb_lying_header,
            hostile.far_cell,
            hostile.formulas,
            hostile.merged_input_cells,
        )
    }
    files = {name: ("shakyo", getattr(hostile, name)(good)) for name in chosen}
    batch = check_submissions(
        storage, minami, archive_files(storage, files | {"good": ("chiiki-somu", good)})
    )
    assert batch.rejected == set(chosen)
    for name, expected in chosen.items():
        assert any(f.sha256 == name and expected in f.message for f in batch.findings), name
    assert not [f for f in batch.findings if f.sha256 == "good" and f.severity == "critical"]
    assert set(batch.main["sha256"]) == {"good"}


def test_every_refused_file_gets_a_feedback_workbook_naming_the_problem(
    workspace: Path, minami: Plan
) -> None:
    """It writes a 差戻し票 for each hostile file dropped in intake and accepts the good file."""
    from openpyxl import load_workbook

    from tasks.cycle.steps import check_pending, take_intake
    from tasks.intake.ledger import load_ledger

    good = filled_workbook(minami, "chiiki-somu")
    folder = workspace / "intake" / "2021"
    (folder / "shakyo").mkdir(parents=True)
    (folder / "chiiki-somu").mkdir()
    for build, *_ in REFUSED:
        (folder / "shakyo" / f"{build.__name__}.xlsx").write_bytes(build(good))
    (folder / "chiiki-somu" / "good.xlsx").write_bytes(good)
    take_intake(minami, open_storage(workspace), settle_seconds=0)
    check_pending(minami, open_storage(workspace))

    statuses = {
        e.original_name: e.status for e in load_ledger(FolderStorage(workspace), 2021).entries
    }
    assert statuses.pop("good.xlsx") == "accepted"
    names = {f"{build.__name__}.xlsx" for build, *_ in REFUSED}
    # Some corrupt builds give identical bytes (taken once, then a recorded duplicate).
    assert set(statuses) == names and set(statuses.values()) <= {"rejected", "duplicate"}
    feedback = {
        path.name: "\n".join(
            str(v)
            for row in load_workbook(path).active.iter_rows(values_only=True)
            for v in row
            if v is not None
        )
        for path in (workspace / "feedback" / "2021" / "shakyo").glob("差戻し票_*.xlsx")
    }
    for build, expected, sheet, cell in REFUSED:
        name = build.__name__
        if statuses[f"{name}.xlsx"] == "duplicate":
            continue
        prefix = f"差戻し票_{name}_"
        (text,) = [
            t for n, t in feedback.items() if n.startswith(prefix) and len(n) == len(prefix) + 13
        ]  # 8 hex digits of the hash and ".xlsx"
        assert "差し戻します" in text and expected in text, name
        for where in (sheet, cell):
            if where is not None:
                assert where in text, (name, where)
