"""Past indicator figures from a coordinator's Excel: 現状値 and each year's value, as typed."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from typer.testing import CliRunner

from flows.cli import app
from tasks.dataset.history import import_history_workbook, write_imported_year
from tasks.dataset.history_figures import figure_year
from tasks.dataset.store import load_indicator_history
from tasks.errors import ConfigError
from tasks.plan.load import load_plan, plan_for_year
from tasks.render.indicators import indicator_rows
from tasks.workspace.folder import FolderStorage

NISHITOKYO = load_plan("nishitokyo")
H30 = plan_for_year(NISHITOKYO, 2018)


def _workbook(
    header: Sequence[object], rows: Sequence[Sequence[object]], title: str = "指標"
) -> Workbook:
    """A coordinator's sheet: a title, a blank row, the header, one row per measure."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(["第４期地域福祉計画の指標"])
    sheet.append([])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    return workbook


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _figures(imported_frame: pd.DataFrame) -> dict[tuple[int, str], str]:
    return {
        (int(r["fiscal_year"]), str(r["indicator_id"])): str(r["original_text"])
        for r in imported_frame.to_dict("records")
    }


@pytest.mark.parametrize(
    ("header", "year"),
    [
        ("平成29年度（現状値）", 2017),  # the seed's baseline column
        ("平成29年度\n（現状値）\n※１※２", 2017),  # with the seed's marks, on three lines
        ("令和元年度 ※２ （計画1年目）", 2019),  # the plan's first year, marked
        ("平成30年度", 2018),
        ("2018年度", 2018),  # 西暦
        ("H30", 2018),  # the short 和暦 of file names
        (2018, 2018),  # a year typed as a number
        ("令和５年度（目標値）", None),  # the target: no column of figures
        ("令和元年度の取組状況（増減に向けて取り組んだ内容等）", None),  # a text column
        ("2020年度実績", None),  # an initiative's 実績 (a text) outside a 指標 table
        ("2021年度計画", None),
        ("担当部署", None),
    ],
)
def test_a_year_column_is_told_from_other_columns(header: object, year: int | None) -> None:
    """It reads 和暦 and 西暦 headings as a year of figures, and nothing else as one."""
    assert figure_year(str(header)) == year


def test_a_result_year_is_a_figure_beside_an_indicator_column() -> None:
    """It takes 2020年度実績 as figures in a table that names its indicators."""
    assert figure_year("2020年度実績", results_too=True) == 2020


def _seed_sheet() -> Workbook:
    """西東京市's figures as the seed prints them: 項目 merged over its measures, beside them."""
    header = ["項目", None, "担当部署", "平成29年度（現状値）", "2018年度", "令和５年度（目標値）"]
    rows: list[list[object]] = [
        ["ボランティア・市民活動センターの登録者数", None, "地域共生課", "504人", 515, "700人"],
        ["ふれあいのまちづくり事業における地域活動拠点", "参加団体数", "地域共生課", "83団体"],
        [None, "延べ利用者数", "地域共生課", "15,260人", 16063],
        ["地域協力ネットワーク", "設立数", "協働コミュニティ課", "２団体", "2団体"],
        [None, "参加団体数", "協働コミュニティ課", "60団体", "73団体"],
        ["高齢者層における地域包括支援センター認知度", None, "高齢者支援課", 0.484, "－"],
        ["はなバス輸送人員\n※１日１㎞あたりの輸送人員", None, "交通課", "2.09人/km", 2.18],
    ]
    workbook = _workbook(header, rows)
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.merge_cells("A5:A6")  # ふれあい… over its two measures
    sheet.merge_cells("A7:A8")
    sheet["D9"].number_format = "0.0%"  # 48.4% as Excel shows 0.484
    sheet["E10"].number_format = "0.00"
    return workbook


def test_figures_are_kept_as_typed_for_every_year() -> None:
    """It keeps each figure as typed (unit, 全角, 「－」), a number cell as Excel shows it."""
    imported = import_history_workbook(H30, _bytes(_seed_sheet()), 2018, source="指標.xlsx")
    assert imported.consolidated.empty and imported.notes == []
    figures = _figures(imported.indicators)
    assert figures == {
        (2017, "volunteer-center-torokusha"): "504人",
        (2018, "volunteer-center-torokusha"): "515",
        (2017, "fureai-sanka-dantai"): "83団体",
        (2017, "fureai-riyosha"): "15,260人",
        (2018, "fureai-riyosha"): "16063",
        (2017, "kyoryoku-nw-setsuritsu"): "２団体",
        (2018, "kyoryoku-nw-setsuritsu"): "2団体",
        (2017, "kyoryoku-nw-sanka-dantai"): "60団体",
        (2018, "kyoryoku-nw-sanka-dantai"): "73団体",
        (2017, "hokatsu-ninchido"): "48.4%",
        (2018, "hokatsu-ninchido"): "－",
        (2017, "hanabus-yuso-jinin"): "2.09人/km",
        (2018, "hanabus-yuso-jinin"): "2.18",
    }
    values = imported.indicators.set_index(["fiscal_year", "indicator_id"])
    assert values.loc[(2017, "hokatsu-ninchido"), "value"] == pytest.approx(48.4)
    assert values.loc[(2017, "kyoryoku-nw-setsuritsu"), "value"] == 2.0
    assert values.loc[(2017, "hanabus-yuso-jinin"), "value"] == 2.09  # the plan's unit 人/km
    assert str(values.loc[(2018, "hokatsu-ninchido"), "value"]) == "nan"
    assert values.loc[(2018, "hokatsu-ninchido"), "status"] == "値なし"


def test_the_shiryo_shows_the_imported_years(tmp_path: Path) -> None:
    """It prints the imported years in the next year's indicator table, as typed."""
    imported = import_history_workbook(H30, _bytes(_seed_sheet()), 2018)
    storage = FolderStorage(tmp_path)
    keys = write_imported_year(storage, imported, 2018)
    assert keys == ["curated/2017/indicators.parquet", "curated/2018/indicators.parquet"]
    this_year = imported.indicators[imported.indicators["fiscal_year"] == 2018].assign(
        fiscal_year=2019, original_text="50.70%", value=50.7, status=None
    )
    rows, years = indicator_rows(NISHITOKYO, this_year, load_indicator_history(storage, 2019))
    assert [y["year"] for y in years] == [2017, 2018, 2019]
    shown = {(r["initiative_id"], r["indicator"]): r["series_shown"] for r in rows}
    assert shown[("i08", "高齢者層における地域包括支援センター認知度")] == ["48.4%", "－", "50.70%"]
    assert shown[("i03", "延べ利用者数")][:2] == ["15,260人", "16,063人"]
    assert shown[("i04", "参加団体数")][:2] == ["60団体", "73団体"]


def test_names_that_match_no_indicator_or_several_are_listed_never_guessed() -> None:
    """It lists a measure the plan does not have, and one that two 項目 share, by cell."""
    header = ["指標名", "担当部署", "平成29年度（現状値）"]
    rows: list[list[object]] = [
        ["参加団体数", "地域共生課", "83団体"],  # ふれあい… and 地域協力ネットワーク both count it
        ["計画にない指標", "地域共生課", "5件"],
        ["女性相談件数", "協働コミュニティ課", "493件"],
        ["※１ 各年度の末日を基準日としている", None, None],  # a note: no figure, not listed
    ]
    imported = import_history_workbook(H30, _bytes(_workbook(header, rows)), 2018)
    assert _figures(imported.indicators) == {(2017, "josei-sodan"): "493件"}
    assert len(imported.notes) == 2
    several, unknown = imported.notes
    assert several.startswith("シート「指標」のセル A4: 計画に当たる指標が複数ある")
    assert "ふれあいのまちづくり事業における地域活動拠点「参加団体数」" in several
    assert (
        unknown == "シート「指標」のセル A5: 計画にない指標のため取り込まなかった行: 計画にない指標"
    )
    assert imported.unmatched == []


def test_an_unreadable_figure_stops_the_import_naming_its_cell(tmp_path: Path) -> None:
    """It names the file, sheet and cell of a value that is no figure, and writes nothing."""
    header = ["指標ID", "平成29年度（現状値）", "平成30年度"]
    rows: list[list[object]] = [["josei-sodan", "493件", "約半数"], ["coordinator-sodan", "#N/A"]]
    with pytest.raises(ConfigError) as caught:
        import_history_workbook(H30, _bytes(_workbook(header, rows)), 2018, source="指標.xlsx")
    message = str(caught.value)
    assert message.startswith("指標.xlsx: 読み取れない値があるため、何も取り込みませんでした。")
    assert "シート「指標」のセル C4「約半数」は数値として読み取れません" in message
    assert "シート「指標」のセル B5「#N/A」は数値として読み取れません" in message
    assert not list(tmp_path.iterdir())


def test_a_year_after_the_imported_one_is_left_out() -> None:
    """It leaves out a column of a later year than --year, and says so."""
    header = ["指標ID", "平成30年度", "令和元年度"]
    rows: list[list[object]] = [["josei-sodan", "447件", "469件"]]
    imported = import_history_workbook(H30, _bytes(_workbook(header, rows)), 2018)
    assert _figures(imported.indicators) == {(2018, "josei-sodan"): "447件"}
    (note,) = imported.notes
    assert note.startswith("シート「指標」のセル C3: 令和元年度の列は、取り込む年度（平成30年度）")


def test_a_year_already_held_is_never_overwritten(tmp_path: Path) -> None:
    """It refuses the whole import when one of its years is already in the workspace."""
    storage = FolderStorage(tmp_path)
    first = _workbook(["指標ID", "平成29年度（現状値）"], [["josei-sodan", "493件"]])
    write_imported_year(storage, import_history_workbook(H30, _bytes(first), 2018), 2018)
    both = _workbook(["指標ID", "平成29年度", "平成30年度"], [["josei-sodan", "500件", "447件"]])
    with pytest.raises(ConfigError, match="2017年度（平成29年度）のデータはすでにあります"):
        write_imported_year(storage, import_history_workbook(H30, _bytes(both), 2018), 2018)
    assert sorted(p.name for p in (tmp_path / "curated").iterdir()) == ["2017"]


def test_the_command_says_what_it_took_and_what_it_left(tmp_path: Path) -> None:
    """It prints the years and counts it took, and each row it left out, in Japanese."""
    path = tmp_path / "指標.xlsx"
    header = ["指標名", "平成29年度（現状値）", "平成30年度"]
    rows: list[list[object]] = [["女性相談件数", "493件", "447件"], ["計画にない指標", "1件"]]
    path.write_bytes(_bytes(_workbook(header, rows)))
    where = tmp_path / "ws"
    args = ["import-history", "--year", "H30", "-f", str(path), "-w", str(where)]
    result = CliRunner().invoke(app, [*args, "-c", "nishitokyo", "--new-workspace"])
    assert result.exit_code == 0, result.output
    assert "計画にない指標のため取り込まなかった行: 計画にない指標" in result.output
    assert "指標の値 2 件（平成29年度 1 件・平成30年度 1 件）を取り込みました" in result.output
    broken = _workbook(["指標名", "令和元年度"], [["女性相談件数", "約半数"]])
    path.write_bytes(_bytes(broken))
    refused = CliRunner().invoke(
        app,
        ["import-history", "--year", "R1", "-f", str(path), "-w", str(where), "-c", "nishitokyo"],
    )
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert "指標.xlsx" in refused.output and "セル B4「約半数」" in refused.output
