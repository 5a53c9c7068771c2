"""Regenerate the default 資料 templates shipped in templates/, one layout per seed format.

Coordinators restyle the .docx and .xlsx files directly in Word or Excel; this script only
rebuilds the defaults from scratch (``python templates/build_defaults.py``), sized from each
preset's plan (number of grades, goals, indicator years). Both kinds of template use Jinja
tags naming keys of the report context (``tasks.render.report``); the Word one is a docxtpl
document, the Excel one follows the conventions in ``tasks.render.xlsx``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tasks.ooxml import normalise_package  # noqa: E402
from tasks.plan.load import list_presets, load_plan  # noqa: E402
from tasks.plan.model import Plan  # noqa: E402

FONT = "ＭＳ 明朝"
GOTHIC = "ＭＳ ゴシック"
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


@dataclass(frozen=True)
class Column:
    """One table column: its header, its body cell, its width (mm in Word, chars in Excel)."""

    header: str
    body: str
    width: float


@dataclass(frozen=True)
class Layout:
    """How one seed format lays out its 資料."""

    per_goal: bool
    """One table (and one Excel sheet) per 基本目標; else one table for the whole plan."""
    columns: list[Column]
    loop: str = "row"
    """``row`` for initiatives, ``ind`` for indicator rows."""
    heading: str = "{{ levels[0] }}　{{ goal.title }}"
    group_label: str | None = "{{ target.label }}"
    """Per-goal tables: the merged row that opens each leaf group, or None for no groups."""
    excel_group_columns: list[Column] | None = None
    """Per-goal Excel sheets: leading columns merged over equal neighbours (目標, 施策 …)."""
    paper_a3: bool = True
    legend: bool = True
    """Print the grade legend by the tables (the seed grades its rows)."""
    table_heading: str | None = None
    """One-table layouts: the heading above the table, or None (the title section heads it)."""
    title_year: bool = False
    """The ``title`` section prints the year under the title (「令和元年度」)."""


def hyoka_layout(plan: Plan) -> Layout:
    """新潟市南区 評価シート: per 基本目標, grouped by 目標, plan / result / grade / comment."""
    return Layout(
        per_goal=True,
        heading="{{ levels[0] }}　{{ goal.title }}　／　{{ levels[1] }}　{{ goal.section }}",
        columns=[
            Column("{{ initiative_label }}", "{{ row.name }}", 40),
            Column("概要", "{{ row.summary }}", 48),
            Column("担当部署", "{{ row.departments }}", 22),
            Column("{{ labels.previous }}", "{{ row.previous }}", 48),
            Column("{{ labels.plan_text }}", "{{ row.plan_text }}", 48),
            Column("{{ labels.result_text }}", "{{ row.result_text }}", 48),
            Column("{{ labels.grade }}", "{{ row.grade }}{{ row.check }}{{ row.warned }}", 12),
            Column("{{ labels.comment }}", "{{ row.comment }}", 58),
            Column("{{ labels.remarks }}", "{{ row.remarks }}", 22),
        ],
        excel_group_columns=[Column("{{ levels[2] }}", "{{ row.target_label|vmerge }}", 32)],
    )


def kitamoto_layout(plan: Plan) -> Layout:
    """北本市 進捗状況: per 目標, grouped by 施策 and 取組, A–C in words, 事業主体."""
    return Layout(
        per_goal=True,
        group_label=(
            "{{ levels[1] }}　{{ target.section }}　／　{{ levels[2] }}　{{ target.label }}"
        ),
        columns=[
            Column("{{ initiative_label }}", "{{ row.name }}", 36),
            Column("事業内容", "{{ row.summary }}", 46),
            Column("計画最終年度までの目標", "{{ row.final_goal }}", 40),
            Column("{{ labels.progress_text }}", "{{ row.progress_text }}", 56),
            Column(
                "{{ labels.grade }}", "{{ row.grade_shared }}{{ row.check }}{{ row.warned }}", 14
            ),
            Column("{{ labels.reason }}", "{{ row.reason }}", 52),
            Column("{{ labels.next_target }}", "{{ row.next_target }}", 44),
            Column("事業主体", "{{ row.departments_graded }}", 22),
        ],
        excel_group_columns=[
            Column("{{ levels[1] }}", "{{ row.section|vmerge }}", 22),
            Column("{{ levels[2] }}", "{{ row.target_label|vmerge }}", 26),
        ],
    )


def nishitokyo_layout(plan: Plan) -> Layout:
    """西東京市 調査票 資料2: one row per indicator, values across the years, what was done."""
    years = _indicator_years(plan)
    series = [
        Column(
            "{{ indicator_years[" + str(i) + "].heading }}",
            "{{ ind.series_shown[" + str(i) + "] }}",
            20,
        )
        for i in range(len(years))
    ]
    return Layout(
        per_goal=False,
        loop="ind",
        legend=False,
        title_year=True,
        columns=[
            Column(
                "{{ levels[0] }}・{{ levels[1] }}",
                "{{ rows_by_id[ind.initiative_id].goal_title }}",
                30,
            ),
            Column("{{ initiative_label }}", "{{ ind.item }}", 46),
            Column("担当部署", "{{ ind.department }}", 22),
            *series,
            Column("{{ final_heading }}", "{{ ind.final_target_shown }}", 20),
            Column("{{ labels.done_text }}", "{{ rows_by_id[ind.initiative_id].done_text }}", 64),
            Column("{{ labels.next_steps }}", "{{ rows_by_id[ind.initiative_id].next_steps }}", 60),
        ],
    )


def niigata_nishi_layout(plan: Plan) -> Layout:
    """新潟市西区 資料3-1: NO, ○ under each 基本目標 served, 取組内容, R2実績, 3年後の目標値."""
    marks = [
        Column("{{ levels[0] }}" + str(i + 1), "{{ row.goal_marks[" + str(i) + "] }}", 12)
        for i in range(len(plan.goals))
    ]
    return Layout(
        per_goal=False,
        legend=False,
        columns=[
            Column("NO", "{{ row.no }}", 10),
            Column("{{ initiative_label }}", "{{ row.name }}", 48),
            *marks,
            Column("取組内容", "{{ row.summary }}", 70),
            Column("{{ year_short }}実績", "{{ row.result_text }}", 60),
            Column("3年後の目標値（{{ final_short }}）", "{{ row.final_goal }}", 50),
        ],
    )


def overview_layout(plan: Plan) -> Layout:
    """Plan overview page (計画の概要): the narrative, then each 施策展開の方向性, ◎ for 重点."""
    mark = "{% if row.plain_name in overview.priorities %}◎{% else %}○{% endif %}"
    return Layout(
        per_goal=False,
        paper_a3=False,
        table_heading="{{ initiative_label }}",
        columns=[
            Column("{{ levels[0] }}", "{{ row.goal_title }}", 36),
            Column("{{ initiative_label }}", mark + "{{ row.name }}", 44),
            Column("内容", "{{ row.summary }}", 84),
            Column("担当", "{{ row.departments }}", 22),
            Column("{{ labels.result_text }}", "{{ row.result_text }}", 64),
            Column("{{ labels.grade }}", "{{ row.grade }}{{ row.check }}{{ row.warned }}", 14),
        ],
    )


LAYOUTS: dict[str, Callable[[Plan], Layout]] = {
    "hyoka": hyoka_layout,
    "kitamoto": kitamoto_layout,
    "nishitokyo": nishitokyo_layout,
    "niigata-nishi": niigata_nishi_layout,
    "overview": overview_layout,
}


def build_docx(plan: Plan, layout: Layout, path: Path) -> None:
    """Write a Word template that prints the report's ``sections`` in their order."""
    document = Document()
    _set_fonts(document)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = (
        (Mm(420), Mm(297)) if layout.paper_a3 else (Mm(297), Mm(210))
    )
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(12))
    header = section.header.paragraphs[0]
    header.text = "{{ document_number }}"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer)

    document.add_paragraph("{%p for s in sections %}")
    _page_break(document, "s.new_page")
    for number, (key, write) in enumerate(_SECTION_WRITERS.items()):
        keyword = "if" if number == 0 else "elif"
        document.add_paragraph("{%p " + keyword + ' s.key == "' + key + '" %}')
        write(document, layout)
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p endfor %}")
    document.core_properties.author = "shiryo"
    document.save(str(path))
    path.write_bytes(normalise_package(path.read_bytes()))


def _cover(document: Any, layout: Layout) -> None:
    document.add_paragraph("{{ municipality }}　{{ plan_name }}", style="Title")
    document.add_paragraph("{{ year_label }}　{{ title }}", style="Heading 1")
    document.add_paragraph("{{ committee }} 資料", style="Normal")


def _title(document: Any, layout: Layout) -> None:
    document.add_paragraph("{{ title }}", style="Heading 1")
    if layout.title_year:
        document.add_paragraph("{{ year_wareki }}", style="Heading 2")


def _tables(document: Any, layout: Layout) -> None:
    if layout.per_goal:
        document.add_paragraph("{%p for goal in goals %}")
        _page_break(document, "s.new_page or not loop.first")
        document.add_paragraph(layout.heading, style="Heading 1")
        _grouped_table(document, layout)
        _legend(document, layout)
        document.add_paragraph("{%p endfor %}")
        return
    if layout.table_heading:
        document.add_paragraph(layout.table_heading, style="Heading 1")
    source = "indicators" if layout.loop == "ind" else "initiatives"
    _loop_table(document, layout.columns, source, layout.loop)
    _legend(document, layout)


def _legend(document: Any, layout: Layout) -> None:
    if not layout.legend:
        return
    document.add_paragraph("〔{{ legend_title }}〕　{{ legend }}")
    document.add_paragraph("{%p if marks_used %}")
    document.add_paragraph(
        "※ 指標の達成率から見た評価と自己評価が異なるもの　△ 提出時に確認事項（注意）があったもの"
    )
    document.add_paragraph("{%p endif %}")


def _notes(document: Any, layout: Layout) -> None:
    document.add_paragraph("{%p for note in notes %}")
    document.add_paragraph("{{ note }}")
    document.add_paragraph("{%p endfor %}")


def _page_break(document: Any, condition: str) -> None:
    """Add a page break printed only when ``condition`` holds (a section or goal begins)."""
    document.add_paragraph("{%p if " + condition + " %}")
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.page_break_before = True
    paragraph.paragraph_format.space_after = Pt(0)
    document.add_paragraph("{%p endif %}")


def build_xlsx(plan: Plan, layout: Layout, path: Path) -> None:
    """Write an Excel template with a sheet per section that has one, in the plan's order.

    集計 (grade_summary) and 提出状況 (submission_status) open with a conditional A1: the
    renderer leaves the sheet out when that section has nothing to show this year.
    """
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for key in plan.report.sections:
        if key == "grade_summary":
            _summary_sheet(workbook.create_sheet("集計"), plan)
        elif key == "submission_status":
            _status_sheet(workbook.create_sheet("提出状況"))
        elif key == "tables":
            notes = "notes" in plan.report.sections
            _table_sheet(
                workbook.create_sheet("様式" if layout.per_goal else "一覧"), layout, notes
            )
    workbook.remove(first)
    workbook.properties.creator = "shiryo"
    workbook.save(str(path))
    path.write_bytes(normalise_package(path.read_bytes()))


def _shown_only(section: str, text: str) -> str:
    return "{% if '" + section + "' in shown %}" + text + "{% endif %}"


def _summary_sheet(summary: Worksheet, plan: Plan) -> None:
    summary["A1"] = _shown_only(
        "grade_summary", "{{ municipality }} {{ year_label }} {{ title }}　評価の集計"
    )
    summary["A1"].font = Font(name=GOTHIC, size=14, bold=True)
    codes = len(plan.grade_scale.grades)
    headers = [
        "{{ levels[0] }}",
        *["{{ grade_codes[" + str(i) + "] }}" for i in range(codes)],
        "計",
    ]
    bodies = [
        "{{ goal.title }}",
        *["{{ goal.counts[" + str(i) + "] }}" for i in range(codes)],
        "{{ goal.total }}",
    ]
    _header_row(summary, 3, headers, [40.0] + [8.0] * (codes + 1))
    _body_row(summary, 4, bodies)
    summary["A6"] = "〔{{ legend_title }}〕　{{ legend }}"
    _page_setup(summary, a3=False)


def _status_sheet(missing: Worksheet) -> None:
    missing["A1"] = _shown_only(
        "submission_status", "{{ year_label }} 提出が済んでいない部署（{{ missing|length }}）"
    )
    missing["A1"].font = Font(name=GOTHIC, size=12, bold=True)
    _header_row(missing, 3, ["部署", "状況"], [30, 30])
    _body_row(missing, 4, ["{{ m.name }}", "{{ m.state }}"])
    _page_setup(missing, a3=False)


def _table_sheet(sheet: Worksheet, layout: Layout, notes: bool) -> None:
    columns = (
        [*(layout.excel_group_columns or []), *layout.columns]
        if layout.per_goal
        else (layout.columns)
    )
    sheet["A1"] = "{{ levels[0] }}　{{ goal.title }}" if layout.per_goal else "{{ title }}"
    sheet["A1"].font = Font(name=GOTHIC, size=14, bold=True)
    sheet["A2"] = "{{ municipality }}　{{ year_label }}"
    if layout.legend:
        sheet["A3"] = "〔{{ legend_title }}〕　{{ legend }}"
        sheet["A3"].font = Font(name=GOTHIC, size=9)
    _header_row(sheet, 4, [c.header for c in columns], [c.width * 0.5 for c in columns])
    _body_row(sheet, 5, [c.body for c in columns])
    if notes:
        sheet["A7"] = "{{ notes|join('\\n') }}"
        sheet["A7"].font = Font(name=FONT, size=9)
        sheet["A7"].alignment = Alignment(vertical="top", wrap_text=False)
    sheet.freeze_panes = "B5"
    sheet.print_title_rows = "4:4"
    _page_setup(sheet, a3=layout.paper_a3)


def _grade_summary(document: Any, layout: Layout) -> None:
    document.add_paragraph("評価の集計", style="Heading 2")
    _loop_table(
        document,
        [
            Column("{{ levels[0] }}", "{{ goal.title }}", 120),
            Column("評価の内訳", "{{ goal.breakdown }}", 120),
            Column("件数", "{{ goal.total }}", 30),
        ],
        "goals",
        "goal",
    )
    _loop_table(
        document,
        [
            Column("評価", "{{ g.code }}", 20),
            Column("内容", "{{ g.label }}{{ g.criterion }}", 200),
            Column("件数", "{{ g.count }}", 30),
            Column("割合", "{{ g.share }}", 30),
        ],
        "grade_totals",
        "g",
    )
    document.add_paragraph("〔{{ legend_title }}〕　{{ legend }}")


def _grade_chart(document: Any, layout: Layout) -> None:
    document.add_paragraph("{{ grade_chart }}").alignment = WD_ALIGN_PARAGRAPH.CENTER


def _submission_status(document: Any, layout: Layout) -> None:
    document.add_paragraph("提出状況", style="Heading 2")
    document.add_paragraph("{%p if missing %}")
    document.add_paragraph("次の部署の提出が済んでいません（{{ missing|length }} 部署）。")
    document.add_paragraph("{%p for m in missing %}")
    document.add_paragraph("・{{ m.name }}：{{ m.state }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p else %}")
    document.add_paragraph("すべての部署から提出がありました。")
    document.add_paragraph("{%p endif %}")


def _indicator_summary(document: Any, layout: Layout) -> None:
    document.add_paragraph("指標の達成状況", style="Heading 2")
    _loop_table(
        document,
        [
            Column("{{ initiative_label }}", "{{ ind.initiative }}", 70),
            Column("指標", "{{ ind.indicator }}", 60),
            Column("単位", "{{ ind.unit }}", 14),
            Column("現状値", "{{ ind.baseline }}", 22),
            Column("前年度", "{{ ind.previous }}", 22),
            Column("目標", "{{ ind.target }}", 22),
            Column("実績", "{{ ind.actual }}", 22),
            Column("達成率", "{{ ind.rate }}", 20),
            Column("前年度比", "{{ ind.yoy }}", 20),
            Column("傾向", "{{ ind.trend }}", 18),
            Column("数値から見た評価", "{{ ind.implied_grade }}", 24),
        ],
        "indicators",
        "ind",
    )


def _overview(document: Any, layout: Layout) -> None:
    """The plan overview page (計画の概要), headed as the seed heads its parts."""
    document.add_paragraph("基本理念", style="Heading 2")
    document.add_paragraph("{{ overview.philosophy }}")
    document.add_paragraph("{{ municipality }}の地域福祉を取り巻く現状と課題", style="Heading 2")
    document.add_paragraph("{%p for item in overview.issues %}")
    document.add_paragraph("○{{ item }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("基本方針", style="Heading 2")
    document.add_paragraph("{%p for item in overview.policies %}")
    document.add_paragraph("{{ loop.index }}．{{ item }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p if overview.aims %}")
    document.add_paragraph("めざす状態", style="Heading 2")
    document.add_paragraph("{%p for item in overview.aims %}")
    document.add_paragraph("・{{ item }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("重点的に取り組む項目", style="Heading 2")
    document.add_paragraph("{%p for item in overview.priorities %}")
    document.add_paragraph("◎ {{ item }}")
    document.add_paragraph("{%p endfor %}")


_SECTION_WRITERS: dict[str, Callable[[Any, Layout], None]] = {
    "cover": _cover,
    "title": _title,
    "grade_summary": _grade_summary,
    "grade_chart": _grade_chart,
    "submission_status": _submission_status,
    "indicator_summary": _indicator_summary,
    "overview": _overview,
    "tables": _tables,
    "notes": _notes,
}
"""What the Word template prints for each section (``tasks.render.sections`` lists them)."""


def _set_fonts(document: Any) -> None:
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


def _repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _shade(cell: Any, color: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), color)
    tc_pr.append(shading)


def _page_number(paragraph: Any) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _table(document: Any, columns: list[Column], rows: int) -> Any:
    table = document.add_table(rows=rows, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, column in enumerate(columns):
        table.columns[i].width = Mm(column.width)
        for row in table.rows:
            row.cells[i].width = Mm(column.width)
        cell = table.rows[0].cells[i]
        cell.text = column.header
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _shade(cell, "D9E1F2")
    _repeat_header(table.rows[0])
    return table


def _loop_table(document: Any, columns: list[Column], source: str, variable: str = "row") -> None:
    table = _table(document, columns, rows=4)
    table.rows[1].cells[0].text = "{%tr for " + variable + " in " + source + " %}"
    for i, column in enumerate(columns):
        table.rows[2].cells[i].text = column.body
    table.rows[3].cells[0].text = "{%tr endfor %}"


def _grouped_table(document: Any, layout: Layout) -> None:
    columns = layout.columns
    table = _table(document, columns, rows=7)
    table.rows[1].cells[0].text = "{%tr for target in goal.targets %}"
    group = table.rows[2].cells[0].merge(table.rows[2].cells[len(columns) - 1])
    group.text = layout.group_label or ""
    _shade(group, "F2F2F2")
    table.rows[3].cells[0].text = "{%tr for row in target.rows %}"
    for i, column in enumerate(columns):
        table.rows[4].cells[i].text = column.body
    table.rows[5].cells[0].text = "{%tr endfor %}"
    table.rows[6].cells[0].text = "{%tr endfor %}"


def _header_row(sheet: Worksheet, row: int, texts: list[str], widths: list[float]) -> None:
    for col, (text, width) in enumerate(zip(texts, widths, strict=True), start=1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font = Font(name=GOTHIC, size=10, bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(col)].width = round(width, 1)
    # Excel does not grow a row for wrapped text on its own: give the headers their lines (a
    # full-width character is about two units of column width; a {{ }} label counts long).
    lines = max(
        math.ceil(len(text) * 2 / max(width, 1.0))
        for text, width in zip(texts, widths, strict=True)
    )
    sheet.row_dimensions[row].height = 13.5 * min(max(lines, 1), 4) + 3


def _body_row(sheet: Worksheet, row: int, texts: list[str]) -> None:
    for col, text in enumerate(texts, start=1):
        cell = sheet.cell(row=row, column=col, value=text)
        cell.font = Font(name=FONT, size=9)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        cell.border = _BORDER


def _page_setup(sheet: Worksheet, a3: bool) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3 if a3 else sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddHeader.right.text = "{{ document_number }}"
    sheet.oddFooter.center.text = "&P / &N"


def _indicator_years(plan: Plan) -> list[int]:
    from tasks.cycle.demo import load_demo

    preset = next(name for name in list_presets() if load_plan(name) == plan)
    demo = load_demo(preset)
    years = {h.fiscal_year for h in demo.history} | {demo.previous_year, demo.fiscal_year}
    return sorted(years)


def build_all() -> list[Path]:
    """Build the templates of every preset whose layout is known; return the folders."""
    written = []
    for name in list_presets():
        plan = load_plan(name)
        layout_name = Path(plan.report.docx_template).parent.name
        layout = LAYOUTS[layout_name](plan)
        folder = HERE / layout_name
        folder.mkdir(exist_ok=True)
        build_docx(plan, layout, HERE / plan.report.docx_template)
        build_xlsx(plan, layout, HERE / plan.report.xlsx_template)
        written.append(folder)
    return written


if __name__ == "__main__":
    for folder in build_all():
        print(f"wrote {folder}")
