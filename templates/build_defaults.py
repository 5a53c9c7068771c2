"""Regenerate the default 資料 templates shipped in templates/.

Coordinators restyle the .docx and .xlsx files directly in Word or Excel; this script only
rebuilds the defaults from scratch (``python templates/build_defaults.py``). The Word
template is a docxtpl (Jinja) document: its tags name keys of ``tasks.report`` 's context.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tasks.ooxml import normalise_package  # noqa: E402

FONT = "ＭＳ 明朝"
GOTHIC = "ＭＳ ゴシック"
HYOKA_COLUMNS = [
    # (header, body cell, width in mm on A3 landscape; in Excel, width in characters)
    ("{{ initiative_label }}", "{{ row.name }}", 40),
    ("概要", "{{ row.summary }}", 48),
    ("担当部署", "{{ row.departments }}", 22),
    ("{{ labels.previous }}", "{{ row.previous }}", 48),
    ("{{ labels.plan_text }}", "{{ row.plan_text }}", 48),
    ("{{ labels.result_text }}", "{{ row.result_text }}", 48),
    ("{{ labels.grade }}", "{{ row.grade }}", 12),
    ("{{ labels.comment }}", "{{ row.comment }}", 58),
    ("{{ labels.remarks }}", "{{ row.remarks }}", 22),
]


def _set_fonts(document: Document) -> None:
    for style_name in ("Normal", "Table Grid", "Heading 1", "Heading 2", "Title"):
        style = document.styles[style_name]
        style.font.name = FONT if style_name in ("Normal", "Table Grid") else GOTHIC
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), style.font.name)
    document.styles["Normal"].font.size = Pt(8)


def _repeat_header(row: object) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _shade(cell: object, color: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), color)
    tc_pr.append(shading)


def _page_number(paragraph: object) -> None:
    run = paragraph.add_run()  # type: ignore[attr-defined]
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _loop_table(document: Document, headers: list[str], cells: list[str], loop: str) -> None:
    table = document.add_table(rows=3, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, text in enumerate(headers):
        cell = table.rows[0].cells[i]
        cell.text = text
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _shade(cell, "D9E1F2")
    _repeat_header(table.rows[0])
    table.rows[1].cells[0].text = "{%tr for row in " + loop + " %}"
    for i, text in enumerate(cells):
        table.rows[2].cells[i].text = text
    row = table.add_row()
    row.cells[0].text = "{%tr endfor %}"


def _grouped_table(document: Document, columns: list[tuple[str, str, int]]) -> None:
    """Add a table: header row, then per 目標 a merged group row followed by its rows."""
    table = document.add_table(rows=7, cols=len(columns))
    table.style = "Table Grid"
    table.autofit = False
    for i, (header, _, width) in enumerate(columns):
        table.columns[i].width = Mm(width)
        for row in table.rows:
            row.cells[i].width = Mm(width)
        cell = table.rows[0].cells[i]
        cell.text = header
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _shade(cell, "D9E1F2")
    _repeat_header(table.rows[0])
    table.rows[1].cells[0].text = "{%tr for target in goal.targets %}"
    group = table.rows[2].cells[0].merge(table.rows[2].cells[len(columns) - 1])
    group.text = "{{ target.label }}"
    _shade(group, "F2F2F2")
    table.rows[3].cells[0].text = "{%tr for row in target.rows %}"
    for i, (_, body, _) in enumerate(columns):
        table.rows[4].cells[i].text = body
    table.rows[5].cells[0].text = "{%tr endfor %}"
    table.rows[6].cells[0].text = "{%tr endfor %}"


def build_hyoka_docx(path: Path) -> None:
    """Write the 評価シート Word template (A3 landscape, one table per 基本目標)."""
    document = Document()
    _set_fonts(document)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(420), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(12))
    header = section.header.paragraphs[0]
    header.text = "{{ document_number }}"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer)

    document.add_paragraph("{{ municipality }}　{{ plan_name }}", style="Title")
    document.add_paragraph("{{ fiscal_year }}年度　{{ title }}", style="Heading 1")
    document.add_paragraph("{{ committee }} 資料", style="Normal")
    document.add_paragraph("評価の集計", style="Heading 2")
    _loop_table(
        document,
        ["{{ levels[0] }}", "評価の内訳", "件数"],
        ["{{ row.title }}", "{{ row.breakdown }}", "{{ row.total }}"],
        "goals",
    )
    _loop_table(
        document,
        ["評価", "内容", "件数", "割合"],
        [
            "{{ row.code }}",
            "{{ row.label }}{{ row.criterion }}",
            "{{ row.count }}",
            "{{ row.share }}",
        ],
        "grade_totals",
    )
    document.add_paragraph("〔{{ legend_title }}〕　{{ legend }}")

    document.add_paragraph("提出状況", style="Heading 2")
    document.add_paragraph("{%p if missing %}")
    document.add_paragraph("次の部署の提出が済んでいません（{{ missing|length }} 部署）。")
    document.add_paragraph("{%p for m in missing %}")
    document.add_paragraph("・{{ m.name }}：{{ m.state }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p else %}")
    document.add_paragraph("すべての部署から提出がありました。")
    document.add_paragraph("{%p endif %}")

    document.add_paragraph("{%p if indicators %}")
    document.add_paragraph("指標の推移", style="Heading 2")
    _loop_table(
        document,
        [
            "{{ initiative_label }}",
            "指標",
            "単位",
            "現状値",
            "{{ previous_year }}年度",
            "{{ fiscal_year }}年度目標",
            "{{ fiscal_year }}年度実績",
            "達成率",
            "前年度比",
        ],
        [
            "{{ row.initiative }}",
            "{{ row.indicator }}",
            "{{ row.unit }}",
            "{{ row.baseline }}",
            "{{ row.previous }}",
            "{{ row.target }}",
            "{{ row.actual }}",
            "{{ row.rate }}",
            "{{ row.yoy }}",
        ],
        "indicators",
    )
    document.add_paragraph("{%p endif %}")

    document.add_paragraph("{%p for goal in goals %}")
    heading = document.add_paragraph(
        "{{ levels[0] }}　{{ goal.title }}　／　{{ levels[1] }}　{{ goal.section }}",
        style="Heading 1",
    )
    heading.paragraph_format.page_break_before = True
    _grouped_table(document, HYOKA_COLUMNS)
    document.add_paragraph("〔{{ legend_title }}〕　{{ legend }}")
    document.add_paragraph("{%p endfor %}")
    document.core_properties.author = "shiryo"
    document.save(str(path))
    path.write_bytes(normalise_package(path.read_bytes()))


def build_hyoka_xlsx(path: Path) -> None:
    """Write the 評価シート Excel template: one styled sheet the renderer copies per goal."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "様式"
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    sheet["A1"] = "（基本目標）"
    sheet["A1"].font = Font(name=GOTHIC, size=14, bold=True)
    sheet["A2"] = "（分野別計画）"
    sheet["A2"].font = Font(name=GOTHIC, size=11)
    sheet["A3"] = "（評価の指標）"
    sheet["A3"].font = Font(name=GOTHIC, size=9)
    for col, (_, _, width) in enumerate([("目標", "", 32), *HYOKA_COLUMNS], start=1):
        header = sheet.cell(row=4, column=col, value="（見出し）")
        header.font = Font(name=GOTHIC, size=10, bold=True)
        header.fill = PatternFill("solid", fgColor="D9E1F2")
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.border = border
        body = sheet.cell(row=5, column=col, value="（本文）")
        body.font = Font(name=FONT, size=9)
        body.alignment = Alignment(vertical="top", wrap_text=True)
        body.border = border
        sheet.column_dimensions[header.column_letter].width = round(width * 0.5, 1)
    summary = workbook.create_sheet("集計")
    summary["A1"] = "（表題）"
    summary["A1"].font = Font(name=GOTHIC, size=14, bold=True)
    for col in range(1, 8):
        cell = summary.cell(row=3, column=col, value="（見出し）")
        cell.font = Font(name=GOTHIC, size=10, bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        cell.border = border
        body = summary.cell(row=4, column=col, value="（本文）")
        body.font = Font(name=FONT, size=10)
        body.border = border
    summary.column_dimensions["A"].width = 40
    workbook.properties.creator = "shiryo"
    workbook.save(str(path))
    path.write_bytes(normalise_package(path.read_bytes()))


if __name__ == "__main__":
    target = HERE / "hyoka"
    target.mkdir(exist_ok=True)
    build_hyoka_docx(target / "shiryo.docx")
    build_hyoka_xlsx(target / "shiryo.xlsx")
    print(f"wrote {target}")
