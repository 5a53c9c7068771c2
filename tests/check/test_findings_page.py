"""The coordinator's 指摘事項一覧: the 差戻し票's findings on one Japanese page, inert text."""

from __future__ import annotations

import io
import random
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from tasks.check.findings_page import CheckedFile, build_findings_page
from tasks.check.validate import Finding
from tasks.cycle.steps import CollectionSummary, check_pending, take_intake
from tasks.intake.ledger import LedgerEntry
from tasks.plan.model import Plan
from tasks.workspace.keys import findings_page_key
from tasks.workspace.storage import open_storage
from tests import hostile
from tests.helpers import cell_of, filled_workbook

MARKUP_GRADE = "<script>alert(1)</script>"
BIDI_NAME = "報告\u202eexe.xlsx"


@dataclass
class Run:
    workspace: Path
    summary: CollectionSummary
    page: str


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, minami: Plan) -> Run:
    """One collection of three files: markup as a grade under a bidi name, hostile text
    everywhere, and a clean file."""
    workspace = tmp_path_factory.mktemp("ws")

    def markup_grade(workbook: object) -> None:
        sheet = workbook[minami.submission.sheet_name]  # type: ignore[index]
        sheet[cell_of(minami, workbook, "i049", "評価")] = MARKUP_GRADE  # type: ignore[arg-type]

    drops = {
        f"chiiki-somu/{BIDI_NAME}": filled_workbook(minami, "chiiki-somu", edit=markup_grade),
        "shakyo/hostile.xlsx": hostile.typed_text(minami, "shakyo"),
        "kenko-fukushi/clean.xlsx": filled_workbook(minami, "kenko-fukushi"),
    }
    for name, data in drops.items():
        target = workspace / "intake" / "2021" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    take_intake(minami, open_storage(workspace), settle_seconds=0)
    summary = check_pending(minami, open_storage(workspace))
    assert summary.findings_page == str(workspace / findings_page_key(2021))
    return Run(workspace, summary, Path(summary.findings_page).read_text(encoding="utf-8"))


@dataclass
class _Tables(HTMLParser):
    """The page's tables as rows of cell texts, each file's under its heading."""

    tables: dict[str, list[list[str]]] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    _heading: str = ""
    _text: str | None = None
    _row: list[str] | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "a":
            self.links.append(str(dict(attrs).get("href")))
        if tag in ("h3", "td", "th"):
            self._text = ""
        if tag == "tr":
            self._row = []
        if tag == "table":
            self.tables[self._heading] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self._text is not None:
            self._heading, self._text = self._text, None
        if tag in ("td", "th") and self._row is not None and self._text is not None:
            self._row.append(self._text)
            self._text = None
        if tag == "tr" and self._row is not None:
            self.tables[self._heading].append(self._row)

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text += data


def _parsed(page: str) -> _Tables:
    tables = _Tables()
    tables.feed(page)
    return tables


def _feedback_rows(path: Path) -> list[list[str]]:
    """The findings rows of a 差戻し票, as its first sheet shows them."""
    sheet = load_workbook(io.BytesIO(path.read_bytes()), read_only=True).worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(rows) if row and row[0] == "No.")
    return rows[header + 1 :]


def test_it_lists_the_findings_of_each_feedback_workbook(run: Run) -> None:
    """It shows each file with the rows of its 差戻し票, cell by cell."""
    tables = _parsed(run.page)
    with_feedback = [f for f in run.summary.files if f.feedback_key]
    assert len(with_feedback) == 2
    for outcome in with_feedback:
        (heading,) = [h for h in tables.tables if h == outcome.original_name]
        page_rows = tables.tables[heading][1:]
        sheet_rows = _feedback_rows(run.workspace / str(outcome.feedback_key))
        assert len(page_rows) == len(sheet_rows) > 0
        for shown, sent in zip(page_rows, sheet_rows, strict=True):
            number, severity, sheet, cell, message, found, expected = shown
            # 差戻し票: No., 区分, シート, セル, 入力されていた値, 内容と直し方, 正しい入力
            assert [number, severity, sheet, cell, found, message, expected] == sent[:7]
        # Its 差戻し票 is one click away, by a path relative to the page.
        link = next(a for a in tables.links if unquote(a).endswith(str(outcome.feedback_key)))
        page_folder = run.workspace / findings_page_key(2021)
        assert (page_folder.parent / unquote(link)).resolve().is_file()
    summary = tables.tables[""]
    assert [row[0] for row in summary[1:]] == ["健康福祉課", "社会福祉協議会", "地域総務課"]
    assert "指摘事項はありません。" in run.page  # the clean file is listed, with nothing to fix


def test_a_departments_text_stays_text(run: Run) -> None:
    """It escapes markup, shows bidi and hidden characters as <U+…>, runs and loads nothing."""
    tables = _parsed(run.page)
    assert tables.tags.isdisjoint({"script", "img", "iframe", "link", "object", "embed"})
    assert "default-src 'none'" in run.page
    assert MARKUP_GRADE not in run.page and "&lt;script&gt;" in run.page
    assert "報告<U+202E>exe.xlsx" in "".join(tables.tables)  # the file's heading, inert
    hidden = [c for c in run.page if c not in "\n" and unicodedata.category(c) in ("Cc", "Cf")]
    assert hidden == []
    assert all(not re.match(r"(https?:|javascript:|//)", link) for link in tables.links)


def test_the_same_files_give_the_same_bytes(minami: Plan) -> None:
    """It writes the same bytes for the same files and findings, whatever their order."""
    entries = [
        LedgerEntry(
            sha256=f"{n:064x}",
            department_id=department,
            source_key=f"intake/2021/{department}/{n}.xlsx",
            original_name=f"{n}.xlsx",
            size=1,
            received_at=f"2021-06-0{n}T00:00:00+00:00",
            archive_key=f"archive/2021/{n:064x}.xlsx",
            status="rejected",
        )
        for n, department in enumerate(["shakyo", None, "chiiki-somu", "shakyo"], start=1)
    ]
    files = [
        CheckedFile(
            entry,
            [
                Finding(
                    sha256=entry.sha256,
                    sheet="評価シート",
                    cell="K8",
                    severity="critical",
                    message="評価「Ｅ」は評価の指標にありません。",
                    found="E",
                    expected="A、B、C、D のいずれか",
                    rule="grade",
                )
            ],
            f"feedback/2021/{entry.department_id}/{entry.original_name}",
        )
        for entry in entries
    ]
    page = build_findings_page(minami, files)
    shuffled = files[:]
    random.Random(7).shuffle(shuffled)
    assert build_findings_page(minami, shuffled) == page == build_findings_page(minami, files)
    text = page.decode("utf-8")
    # Departments in plan order, each department's files as received; no folder comes last.
    headings = re.findall(r"<h[23][^>]*>([^<]+)</h[23]>", text)
    assert headings == [
        *("社会福祉協議会", "1.xlsx", "4.xlsx"),
        *("地域総務課", "3.xlsx"),
        *("（フォルダ違い）", "2.xlsx"),
    ]


def test_hidden_characters_show_even_where_the_reader_left_them(minami: Plan) -> None:
    """It shows bidi overrides and controls as <U+…> in every text it is given, notes too."""
    entry = LedgerEntry(
        sha256="a" * 64,
        department_id="shakyo",
        source_key="intake/2021/shakyo/x.xlsx",
        original_name="x\u202eslx.exe",
        size=1,
        received_at="2021-06-01T00:00:00+00:00",
        archive_key="archive/2021/x.xlsx",
        status="accepted",
        notes=["同じ内容\u2066のファイル\x1b[31m"],
    )
    finding = Finding(
        sha256=entry.sha256,
        sheet="評価\u200bシート",
        cell="L6",
        severity="warning",
        message="注意\u202e",
        found="<b>\u0085",
        expected="\ufeff",
        rule="text",
    )
    text = build_findings_page(minami, [CheckedFile(entry, [finding], None)]).decode("utf-8")
    for shown in ("U+202E", "U+2066", "U+001B", "U+200B", "U+0085", "U+FEFF"):
        assert f"&lt;{shown}&gt;" in text
    assert "&lt;b&gt;" in text
    hidden = [c for c in text if c not in "\n" and unicodedata.category(c) in ("Cc", "Cf")]
    assert hidden == []
