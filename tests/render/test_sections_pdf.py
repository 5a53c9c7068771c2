"""Every preset's demo 資料, printed to PDF, holds the seed's sections and nothing else.

Each preset's demo runs once in the session (``demo_runs``) with PDF copies made by
LibreOffice; the tests read the text of each page with pdftotext, as a committee member would
read the pages.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.cycle.demo import load_demo
from tasks.plan.load import list_presets, load_plan
from tasks.render.pdf import pdf_available
from tests.conftest import DemoRuns
from tests.helpers import needs

pytestmark = [
    pytest.mark.scenario,
    needs(pdf_available() and shutil.which("pdftotext") is not None, "soffice, pdftotext"),
]

GENERIC_PARTS = ["評価の集計", "評価の内訳", "提出状況", "提出が済んでいない", "指標の達成状況"]
"""Headings of the product's own sections, which none of the five seeds prints."""


@dataclass(frozen=True)
class Seed:
    """What a seed prints: its headings in order, and words it never prints."""

    headings: list[str]
    absent: list[str]


SEEDS = {
    # 評価シート: per 基本目標 / 分野別計画, columns, legend 〔評価の指標〕 by each table.
    "niigata-minami": Seed(
        headings=[
            "基本目標安心して産み子育てできるまち／分野別計画子ども・子育て支援",
            "具体的な取り組み・事業",
            "2020年度（実績）",
            "2021年度計画",
            "2021年度実績（見込み）",
            "コメント・課題等",
            "〔評価の指標〕",
            "A．目標を達成（概ね90％以上）",
            "基本目標私たちが支えあい、助けあうまち／分野別計画地域づくり",
        ],
        absent=["前年度比"],  # (the ※ mark's legend names 達成率, where a row carries ※)
    ),
    # 進捗状況: per 目標, grouped by 施策 and 取組, A–C in words.
    "kitamoto": Seed(
        headings=[
            "目標すべての世代に福祉の心を広げる意識づくり",
            "計画最終年度までの目標",
            "令和5年度の進捗状況",
            "評価の理由・課題",
            "令和6年度の目標",
            "事業主体",
            "〔事業評価〕",
            "目標公民協働による地域福祉を推進する体制づくり",
        ],
        absent=["前年度比"],
    ),
    # 調査票 資料２: title, year, one indicator table with the seed's year labels, notes.
    "nishitokyo": Seed(
        headings=[
            "第４期西東京市地域福祉計画進捗状況調査票",
            "令和元年度",
            "基本目標・施策の方向",
            "担当部署",
            "平成29年度（現状値）",
            "平成30年度",
            "令和元年度",
            "令和5年度（目標値）",
            "令和元年度の取組状況（増減に向けて取り組んだ内容等）",
            "令和2年度に向けた今後の展開（課題に向けた取り組み等）",
            "※１",
            "※２",
        ],
        absent=["達成率", "前年度比", "〔評価の指標〕"],
    ),
    # 資料3-1: title above one table; NO, ○ per 基本目標, R2実績, 3年後の目標値（R5).
    "niigata-nishi": Seed(
        headings=[
            "基本目標達成のための主な取り組みと目標値",
            "NO",
            "取組名",
            "取組内容",
            "R2実績",
            "3年後の目標値（R5）",
        ],
        absent=["達成率", "〔評価の指標〕", "令和2年度実績"],
    ),
    # 計画の概要: the narrative, then the 施策展開の方向性 (with the yearly columns).
    "nishi-ku-overview": Seed(
        headings=[
            "基本理念",
            "西区の地域福祉を取り巻く現状と課題",
            "基本方針",
            "めざす状態",
            "重点的に取り組む項目",
            "施策展開の方向性",
            "令和6年度の取組状況",
        ],
        absent=["達成率"],
    ),
}


@pytest.fixture(scope="module", params=list_presets())
def printed(
    request: pytest.FixtureRequest, demo_runs: DemoRuns
) -> tuple[str, dict[str, list[str]], Path]:
    """A preset's demo run with PDF copies (the session's): name, pages by document, workspace."""
    workspace = demo_runs.get(request.param, pdf=True).folder
    pages = {}
    for kind in ("docx", "xlsx"):
        (pdf,) = workspace.glob(f"reports/*/*.{kind}.pdf")
        pages[kind] = _pages(pdf)
    return request.param, pages, workspace


def _pages(pdf: Path) -> list[str]:
    """Return the text of each page, whitespace removed (cells wrap across lines)."""
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return ["".join(page.split()) for page in text.split("\f")[:-1]]


def _body(page: str, document_number: str) -> str:
    """Return a page without its running header (資料番号) and footer (page number)."""
    page = page.replace("".join(document_number.split()), "", 1)
    return re.sub(r"[0-9]+(/[0-9]+)?$", "", page)


def test_the_seeds_headings_are_printed_in_its_order(
    printed: tuple[str, dict[str, list[str]], Path],
) -> None:
    """It prints the seed's headings, worded as the seed, in the seed's order, from page 1.

    PDF text comes in drawing order, not reading order, within a page: the order is checked
    by the page where each heading first appears.
    """
    preset, pages, _ = printed
    expected = SEEDS[preset].headings
    first_pages = []
    for heading in expected:
        found = [n for n, page in enumerate(pages["docx"]) if heading in page]
        assert found, (preset, heading)
        first_pages.append(found[0])
    assert first_pages == sorted(first_pages), (
        preset,
        list(zip(expected, first_pages, strict=True)),
    )
    first = _body(pages["docx"][0], load_plan(preset).report.document_number)
    assert expected[0] in first[:200], (preset, first[:80])


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_no_section_the_seed_lacks(
    printed: tuple[str, dict[str, list[str]], Path], kind: str
) -> None:
    """It prints none of the product's generic sections, nor words the seed never prints."""
    preset, pages, _ = printed
    for number, page in enumerate(pages[kind], start=1):
        for word in [*GENERIC_PARTS, *SEEDS[preset].absent]:
            assert word not in page, (preset, kind, number, word)


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_no_page_is_empty_or_only_zeros(
    printed: tuple[str, dict[str, list[str]], Path], kind: str
) -> None:
    """It prints no page that holds nothing, or nothing but zeros, beside header and footer."""
    preset, pages, _ = printed
    document_number = load_plan(preset).report.document_number
    for number, page in enumerate(pages[kind], start=1):
        body = _body(page, document_number)
        assert body, (preset, kind, number)
        figures = re.findall(r"[0-9][0-9,.]*", body)
        words = re.sub(r"[0-9,.%％件]", "", body)
        assert words or any(float(f.replace(",", "")) for f in figures), (preset, kind, number)
        assert not (len(figures) >= 4 and not any(float(f.replace(",", "")) for f in figures))


def test_the_yearly_column_is_filled(printed: tuple[str, dict[str, list[str]], Path]) -> None:
    """It prints each accepted department's yearly result, so no yearly column is empty."""
    preset, pages, _ = printed
    plan = load_plan(preset)
    demo = load_demo(preset)
    broken = demo.broken.department if demo.broken else None
    text = "".join(pages["docx"])
    results = [
        "".join(e.values.get(plan.submission.result_key, "").split())
        for e in demo.entries
        if e.department != broken
    ]
    results = [r for r in results if r]
    assert results, preset
    # A cell's text wraps over lines drawn among its neighbours': look for each beginning.
    found = [r for r in results if r[:6] in text]
    assert len(found) >= 0.8 * len(results), (preset, sorted(set(results) - set(found)))


def test_the_excel_headers_carry_the_seeds_year_labels(
    printed: tuple[str, dict[str, list[str]], Path],
) -> None:
    """It heads the Excel 資料's columns with the same year labels as the Word one."""
    preset, _, workspace = printed
    (path,) = workspace.glob("reports/*/*.xlsx")
    workbook = load_workbook(path)
    cells = {
        "".join(str(v).split())
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(max_row=4, values_only=True)
        for v in row
        if v is not None
    }
    years = [h for h in SEEDS[preset].headings if re.search(r"年度|R[0-9]", h) and len(h) < 40]
    for heading in years:
        assert any(heading in cell for cell in cells), (preset, heading)
    assert not {"集計", "提出状況"} & set(workbook.sheetnames)
