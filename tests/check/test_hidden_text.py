"""Hidden characters in cells: taken out (or 外字 shown as 〓) with a 注意 naming the cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl.workbook.workbook import Workbook

from tasks.check.cells import HIDDEN_RULE, PRIVATE_USE_RULE
from tasks.check.normalise import clean_text
from tasks.check.submissions import check_submissions
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tasks.workspace.names import visible_text
from tests import hostile
from tests.helpers import archive_files, cell_of, filled_workbook


@pytest.mark.parametrize(
    ("value", "text", "removed", "replaced"),
    [
        # bidi override and pop: 報告exe.xlsx would read reversed
        ("報告\u202eexe.xlsx\u202c", "報告exe.xlsx", ("\u202e", "\u202c"), ()),
        # bidi isolates and marks
        (
            "\u2066a\u2069\u200e\u200f\u061c",
            "a",
            ("\u2066", "\u2069", "\u200e", "\u200f", "\u061c"),
            (),
        ),
        # zero widths, a byte order mark, a soft hyphen, tag characters
        (
            "a\u200bb\ufeffc\u00add\U000e0041",
            "abcd",
            ("\u200b", "\ufeff", "\u00ad", "\U000e0041"),
            (),
        ),
        # C0 and C1 controls (a bell, an escape, a CSI); tabs and line breaks stay
        ("a\x07\x1b[1m\x9bb\tc\nd", "a[1mb\tc\nd", ("\x07", "\x1b", "\x9b"), ()),
        # noncharacters
        ("a\ufdd0b\U0001fffe", "ab", ("\ufdd0", "\U0001fffe"), ()),
        # private use (外字), in the BMP and in plane 15
        ("外字\ue000と\U000f0001", "外字〓と〓", (), ("\ue000", "\U000f0001")),
        # what is kept: outside the BMP, 異体字 with a variation selector, 全角 space, emoji
        ("𠮷野家　葛󠄀飾😀", "𠮷野家　葛󠄀飾😀", (), ()),
    ],
)
def test_clean_text_takes_out_what_cannot_be_seen(
    value: str, text: str, removed: tuple[str, ...], replaced: tuple[str, ...]
) -> None:
    """It keeps the wording, takes out hidden characters and says which, each once."""
    cleaned = clean_text(value)
    assert (cleaned.text, cleaned.removed, cleaned.replaced) == (text, removed, replaced)


def test_visible_text_shows_what_would_act_unseen() -> None:
    """It shows bidi, control and private-use characters as code points, keeping line breaks."""
    assert visible_text("a\u202eb\x07c\ue000\nd\te") == "a<U+202E>b<U+0007>c<U+E000>\nd\te"
    assert visible_text("普通の文章。") == "普通の文章。"


def test_hidden_characters_are_noted_by_cell_and_the_file_accepted(
    tmp_path: Path, minami: Plan
) -> None:
    """It accepts the file with a 注意 per cell that held bidi overrides, controls or 外字."""
    cells: dict[str, str] = {}

    def type_text(workbook: Workbook) -> None:
        sheet = workbook[minami.submission.sheet_name]
        for initiative, label, text in (
            ("i049", "コメント・課題等", "順調\u202eです\u202c"),
            ("i050", "備考", "外字\ue000の名前"),
            ("i051", "2021年度実績（見込み）", "実\u200b績\x9b"),
        ):
            ref = cell_of(minami, workbook, initiative, label)
            sheet[ref] = text
            cells[initiative] = ref

    storage = FolderStorage(tmp_path)
    data = filled_workbook(minami, "chiiki-somu", edit=type_text)
    batch = check_submissions(storage, minami, archive_files(storage, {"t": ("chiiki-somu", data)}))

    assert batch.rejected == frozenset()
    found = {(f.cell, f.rule): f for f in batch.findings}
    assert set(found) == {
        (cells["i049"], HIDDEN_RULE),
        (cells["i050"], PRIVATE_USE_RULE),
        (cells["i051"], HIDDEN_RULE),
    }
    bidi = found[(cells["i049"], HIDDEN_RULE)]
    assert bidi.severity == "warning" and bidi.initiative_id == "i049"
    assert f"セル {cells['i049']}" in bidi.message and "U+202E" in bidi.message
    assert bidi.found == "順調<U+202E>です<U+202C>"
    gaiji = found[(cells["i050"], PRIVATE_USE_RULE)]
    assert "U+E000" in gaiji.message and "〓" in gaiji.message
    rows = batch.main.set_index("initiative_id")
    assert rows.loc["i049", "comment"] == "順調です"
    assert rows.loc["i050", "remarks"] == "外字〓の名前"
    assert rows.loc["i051", "result_text"] == "実績"
    assert set(rows.loc[["i049", "i050", "i051"], "row_state"]) == {"注意"}


def test_every_hostile_text_reads_as_data(tmp_path: Path, minami: Plan) -> None:
    """It accepts a 調査票 full of template syntax, formulas, markup and hidden characters."""
    storage = FolderStorage(tmp_path)
    data = hostile.ansi_escape(hostile.typed_text(minami, "chiiki-somu"))
    batch = check_submissions(storage, minami, archive_files(storage, {"h": ("chiiki-somu", data)}))

    assert batch.rejected == frozenset()
    assert {f.severity for f in batch.findings} == {"warning"}
    fields = ["plan_text", "result_text", "comment", "remarks"]
    texts = [t for t in [*batch.main[fields].stack(), *batch.indicators["note"]] if t]
    assert any("{{7*7}}" in t for t in texts) and not any("49" in t for t in texts)
    assert any(t.startswith("=HYPERLINK(") for t in texts)
    for text in texts:
        assert visible_text(text) == text, text  # nothing hidden is kept
    assert {"NA", "#N/A"} <= set(texts)  # text, never missing
    ansi = next(f for f in batch.findings if f.cell == "L6")
    assert ansi.found == "色<U+001B>[31m赤<U+0007><U+0000>"
