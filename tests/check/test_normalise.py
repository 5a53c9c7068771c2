"""Tests of Japanese normalisation: cell text, grades, numbers with units, fiscal years.

The strings marked "seed" are as they appear in the committee materials in shared/seeds/.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tasks.check.normalise import (
    NO_VALUE,
    ParsedNumber,
    normalise_grade,
    normalise_text,
    parse_number,
    parse_numbers,
)
from tasks.plan.fiscal_year import fiscal_year_label, parse_fiscal_year, wareki_label

NUMBERS = [
    # seed (新潟市西区): a count with a thousands separator and a counter
    ("4,510件", 4510.0, "件"),
    # the same in 全角 digits and a 全角 comma
    ("４，５１０件", 4510.0, "件"),
    # seed (新潟市西区): a percentage with a 全角 ％
    ("91.1％", 91.1, "%"),
    # seed (西東京市): a percentage with a trailing zero and a 半角 %
    ("50.70%", 50.7, "%"),
    # seed (新潟市西区): 全角 digits and a counter
    ("１２０組", 120.0, "組"),
    # seed (新潟市南区): 延べ (cumulative) before the number
    ("延べ354人", 354.0, "人"),
    # seed (西東京市): a household count
    ("19,177世帯", 19177.0, "世帯"),
    # seed (西東京市): 全角 digit with 団体
    ("２団体", 2.0, "団体"),
    # seed (新潟市西区): か所 in its commonest spelling
    ("4か所", 4.0, "か所"),
    # 箇所, ヶ所 and カ所 are the same unit, spelled か所
    ("3箇所", 3.0, "か所"),
    ("3ヶ所", 3.0, "か所"),
    ("３カ所", 3.0, "か所"),
    # パーセント is %
    ("12パーセント", 12.0, "%"),
    # a plain number, as most departments type it
    ("38", 38.0, None),
    # zero
    ("0", 0.0, None),
    # a number with a decimal point in 全角
    ("１．５", 1.5, None),
    # 約 (about) and spaces between the parts
    ("約 1,000 人", 1000.0, "人"),
    # 延 without べ, and 計
    ("延120回", 120.0, "回"),
    ("計5校", 5.0, "校"),
    # △ and ▲ are minus in Japanese accounting; the unit 千円 keeps the value as written
    ("△5", -5.0, None),
    ("▲1,200千円", -1200.0, "千円"),
    # △0 is zero, not minus zero
    ("△0", 0.0, None),
    # an ASCII minus and a 全角 minus
    ("-3", -3.0, None),
    ("－3", -3.0, None),
    # other counters departments use
    ("12店舗", 12.0, "店舗"),
    ("3事業所", 3.0, "事業所"),
    ("2地区", 2.0, "地区"),
    ("1.5時間", 1.5, "時間"),
    ("300部", 300.0, "部"),
    ("50万円", 50.0, "万円"),
    # a zero-width space copied from a web page
    ("\u200b38", 38.0, None),
]

STATUSES = [
    # seed (西東京市, 新潟市西区): a 全角 dash for "no value"
    ("－", NO_VALUE),
    # seed (新潟市南区): an em dash; and a katakana long sign typed for a dash
    ("—", NO_VALUE),
    ("ー", NO_VALUE),
    # a horizontal bar, a hyphen, an ASCII minus, two dashes
    ("―", NO_VALUE),
    ("‐", NO_VALUE),
    ("-", NO_VALUE),
    ("--", NO_VALUE),
    # a slash for "not applicable"
    ("／", NO_VALUE),
    # seed (新潟市西区): the initiative was suspended
    ("事業休止", "事業休止"),
    # seed (北本市, 新潟市南区): cancelled; also in brackets and with a full stop
    ("中止", "中止"),
    ("（中止）", "中止"),
    ("中止。", "中止"),
    # other words meaning none
    ("休止", "休止"),
    ("未実施", "未実施"),
    ("実施なし", "実施なし"),
    ("該当なし", "該当なし"),
    ("なし", "なし"),
    ("皆減", "皆減"),
]

NOT_NUMBERS = [
    # seed (新潟市南区): two numbers in one cell; never pick one
    "子育て広場　33回　延べ354人",
    # two numbers split by a space must not run together into 33354
    "33 354人",
    # a comma that is not a thousands separator: a list, not 4510
    "45,10",
    # a range
    "1～3回",
    # a threshold, not a result (seed: 評価 A 概ね90％以上)
    "90％以上",
    # a note after the number
    "4,510件（見込み）",
    # kanji numerals: 一部 is "partly", not one copy
    "一部",
    "三十五回",
    # a fiscal year is not a number
    "R5",
    # an empty or blank cell that reached the parser
    "",
    "　",
    # digits of another script are not read as 3
    "٣",
]


@pytest.mark.parametrize(("text", "value", "unit"), NUMBERS)
def test_parse_number_reads_one_number_and_its_unit(
    text: str, value: float, unit: str | None
) -> None:
    """It reads the value and the unit and sets no status."""
    assert parse_number(text) == ParsedNumber(value=value, status=None, ok=True, unit=unit)


@pytest.mark.parametrize(("text", "status"), STATUSES)
def test_parse_number_keeps_dashes_and_words_as_a_status(text: str, status: str) -> None:
    """It keeps a dash or a word meaning none as a status, with no value."""
    assert parse_number(text) == ParsedNumber(value=None, status=status, ok=True)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_parse_number_refuses_text_that_is_not_one_number(text: str) -> None:
    """It reads no number from text that is not one number, and says so."""
    assert parse_number(text) == ParsedNumber(value=None, status=None, ok=False)


def test_parse_number_takes_an_empty_cell_as_nothing() -> None:
    """It takes ``None`` as an empty cell: fine, with nothing in it."""
    assert parse_number(None) == ParsedNumber(value=None, status=None, ok=True, unit=None)


def test_parsed_number_is_built_as_before() -> None:
    """It still builds a ParsedNumber from value, status and ok alone."""
    assert ParsedNumber(4510.0, None, True) == ParsedNumber(value=4510.0, status=None, ok=True)
    assert ParsedNumber(value=1.0, status=None, ok=True).unit is None


def _expected_frame(cells: list[str | None], index: pd.Index) -> pd.DataFrame:
    parsed = [parse_number(cell) for cell in cells]
    return pd.DataFrame(
        {
            "value": pd.Series([p.value for p in parsed], dtype="float64"),
            "status": pd.Series([p.status for p in parsed], dtype="str"),
            "unit": pd.Series([p.unit for p in parsed], dtype="str"),
            "ok": pd.Series([p.ok for p in parsed], dtype="bool"),
        }
    ).set_axis(index)


def test_parse_numbers_agrees_with_parse_number_on_every_case() -> None:
    """It parses a column exactly as parse_number parses each of its cells."""
    cells: list[str | None] = [
        *(text for text, _, _ in NUMBERS),
        *(text for text, _ in STATUSES),
        *NOT_NUMBERS,
        None,
    ]
    cells = cells + cells[::-1]  # repeated texts are parsed once and spread back
    index = pd.Index([f"r{i}" for i in range(len(cells))])
    column = pd.Series(cells, index=index, dtype=object)
    pd.testing.assert_frame_equal(parse_numbers(column), _expected_frame(cells, index))


@pytest.mark.parametrize(
    "column",
    [
        # no cells at all
        pd.Series([], dtype=object),
        # only empty cells
        pd.Series([None, None], dtype=object),
        # pandas' own string dtype, with a missing value
        pd.Series(["4,510件", None, "－"], dtype="str"),
    ],
)
def test_parse_numbers_keeps_its_columns_whatever_the_input(column: pd.Series) -> None:
    """It returns value, status, unit and ok with the same types for any column."""
    parsed = parse_numbers(column)
    assert list(parsed.columns) == ["value", "status", "unit", "ok"]
    assert parsed["value"].dtype == "float64" and parsed["ok"].dtype == "bool"
    assert parsed["status"].dtype == "str" and parsed["unit"].dtype == "str"
    assert parsed.index.equals(column.index)
    assert parsed["ok"][column.isna()].all()


@pytest.mark.parametrize(
    ("text", "fiscal_year"),
    [
        # seed (北本市): 令和 with 年度
        ("令和5年度", 2023),
        # seed (西東京市): the first year of an era is 元年
        ("令和元年度", 2019),
        # seed (西東京市): a label with a suffix in 全角 brackets, in 全角 digits
        ("令和５年度（目標値）", 2023),
        ("平成29年度（現状値）", 2017),
        # seed (西東京市): 平成
        ("平成30年度", 2018),
        # 平成31年度 and 令和元年度 are the same fiscal year, alone or together
        ("平成31年度", 2019),
        ("平成31年度/令和元年度", 2019),
        # seed (新潟市西区, 北本市, seeds README): abbreviations, 半角 and 全角, a dot, 年度
        ("R5", 2023),
        ("R.5", 2023),
        ("Ｒ５", 2023),
        ("R05", 2023),
        ("R5年度", 2023),
        ("H30", 2018),
        ("Ｈ30", 2018),
        # seed (新潟市西区): an abbreviation with a suffix
        ("R2実績", 2020),
        # seed (新潟市南区): 西暦 with a suffix
        ("2021年度", 2021),
        ("2020年度（見込み）", 2020),
        # 西暦 alone, and FY
        ("2021", 2021),
        ("FY2021", 2021),
        ("FY 2021", 2021),
        # both labels of one year, as fiscal_year_label writes them
        ("2021年度（令和3年度）", 2021),
        # 昭和 and the era sign ㍻
        ("昭和63年度", 1988),
        ("㍻30年度", 2018),
        # a plan written before 2019 counts on in 平成
        ("平成32年度", 2020),
        # a date: January to March belong to the fiscal year before
        ("令和6年3月", 2023),
        ("令和5年12月10日", 2023),
        ("R6.3.31", 2023),
    ],
)
def test_parse_fiscal_year_reads_western_and_japanese_labels(text: str, fiscal_year: int) -> None:
    """It returns the 西暦 fiscal year a label names."""
    assert parse_fiscal_year(text) == fiscal_year


@pytest.mark.parametrize(
    "text",
    [
        # an empty cell
        None,
        "",
        # seed (新潟市西区): the year is not at the start of the label
        "3年後の目標値（R5)",
        # two different years
        "2021年度（令和4年度）",
        "R2～R5",
        "2020～2022年度",
        # year 0 of an era, and a year before 明治
        "R0",
        "1800年度",
        # no year at all
        "目標値",
        "38",
    ],
)
def test_parse_fiscal_year_refuses_what_names_no_single_year(text: str | None) -> None:
    """It returns None when a label names no year, or more than one."""
    assert parse_fiscal_year(text) is None


@pytest.mark.parametrize(
    ("fiscal_year", "label"),
    [
        # an ordinary year
        (2021, "令和3年度"),
        # the year the era changed on 1 May: 令和元年度, as the seeds write it
        (2019, "令和元年度"),
        (2018, "平成30年度"),
        # the era changed on 8 January 1989: that fiscal year was still 昭和
        (1988, "昭和63年度"),
        (1989, "平成元年度"),
        # 昭和 began on 25 December 1926: that fiscal year was 大正's
        (1926, "大正15年度"),
        (1927, "昭和2年度"),
        # the first fiscal year of 明治
        (1868, "明治元年度"),
    ],
)
def test_wareki_label_names_the_era_year(fiscal_year: int, label: str) -> None:
    """It writes the 和暦 label of a fiscal year, with 元 for an era's first year."""
    assert wareki_label(fiscal_year) == label


def test_fiscal_year_label_writes_both_calendars() -> None:
    """It writes 西暦 first and 和暦 in brackets."""
    assert fiscal_year_label(2021) == "2021年度（令和3年度）"


def test_labels_read_back_as_the_same_fiscal_year() -> None:
    """It reads back every label it writes, from 明治 to 2100."""
    for fiscal_year in range(1868, 2101):
        assert parse_fiscal_year(wareki_label(fiscal_year)) == fiscal_year
        assert parse_fiscal_year(fiscal_year_label(fiscal_year)) == fiscal_year


def test_wareki_label_refuses_a_year_before_meiji() -> None:
    """It raises for a fiscal year with no modern era."""
    with pytest.raises(ValueError, match="1867"):
        wareki_label(1867)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # an empty cell and a blank one
        (None, None),
        ("", None),
        ("　 ", None),
        # 全角 letters and spaces inside free text are kept as written (no NFKC)
        ("ＮＰＯと連携　１２０組", "ＮＰＯと連携　１２０組"),
        # Windows and old Mac line endings become \n
        ("一行目\r\n二行目", "一行目\n二行目"),
        ("一行目\r二行目", "一行目\n二行目"),
        # Unicode line and paragraph separators become \n
        ("一行目\u2028二行目\u2029三行目", "一行目\n二行目\n三行目"),
        # zero-width characters and a byte order mark go
        ("\ufeff相談\u200b件数\u200d", "相談件数"),
        # control characters go, tabs stay
        ("a\x00b\tc", "ab\tc"),
        # numbers, booleans and dates as Excel gives them
        (4510.0, "4510"),
        (91.1, "91.1"),
        (True, "TRUE"),
        (dt.date(2021, 4, 1), "2021-04-01"),
    ],
)
def test_normalise_text_cleans_without_rewording(value: object, text: str | None) -> None:
    """It removes what cannot be seen and keeps the wording."""
    assert normalise_text(value) == text


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        # 全角 and lower case
        ("Ａ", "A"),
        ("b ", "B"),
        # empty
        (None, None),
        ("　", None),
    ],
)
def test_normalise_grade_folds_to_the_canonical_letter(text: str | None, grade: str | None) -> None:
    """It folds a grade to its 半角 capital."""
    assert normalise_grade(text) == grade
