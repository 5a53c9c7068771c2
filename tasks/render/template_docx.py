"""Build a Word template (docxtpl) from a layout: the report's sections in the plan's order.

The result is an ordinary .docx with Jinja tags that a coordinator may restyle in Word; the
renderer (``tasks.render.docx``) fills it from the report context.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tasks.ooxml import normalise_package
from tasks.render.layout import FONT, GOTHIC, Column, Layout


def build_docx_template(layout: Layout) -> bytes:
    """Return a Word template that prints the report's ``sections`` in their order."""
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
    buffer = io.BytesIO()
    document.save(buffer)
    return normalise_package(buffer.getvalue())


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
        "{{ check_mark }} 指標の達成率から見た評価と自己評価が異なるもの　"
        "{{ warning_mark }} 提出時に確認事項（注意）があったもの"
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
    # A header left empty continues the one to its left (項目 over its two columns).
    cells = table.rows[0].cells
    for i in reversed([i for i, c in enumerate(columns) if i and not c.header]):
        merged = cells[i - 1].merge(cells[i])
        for paragraph in merged.paragraphs[1:]:  # the empty one the right cell brought
            if not paragraph.text:
                paragraph._p.getparent().remove(paragraph._p)
    _repeat_header(table.rows[0])
    return table


def _loop_table(document: Any, columns: list[Column], source: str, variable: str = "row") -> None:
    table = _table(document, columns, rows=4)
    table.rows[1].cells[0].text = "{%tr for " + variable + " in " + source + " %}"
    for i, column in enumerate(columns):
        table.rows[2].cells[i].text = column.word or column.body
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
        table.rows[4].cells[i].text = column.word or column.body
    table.rows[5].cells[0].text = "{%tr endfor %}"
    table.rows[6].cells[0].text = "{%tr endfor %}"
