"""The Word renderer's own cell tags: cells merged over a run of rows, a cell only where asked."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.oxml.ns import qn

from tasks.errors import RenderError
from tasks.render.docx import render_committee_docx
from tasks.render.templates import TemplateSource


def _template(cells: list[str]) -> TemplateSource:
    """A Word template: a header row, then a table row repeated for each item of ``rows``."""
    document = Document()
    table = document.add_table(rows=4, cols=len(cells))
    for i in range(len(cells)):
        table.rows[0].cells[i].text = f"見出し{i}"
    table.rows[1].cells[0].text = "{%tr for r in rows %}"
    for i, text in enumerate(cells):
        table.rows[2].cells[i].text = text
    table.rows[3].cells[0].text = "{%tr endfor %}"
    buffer = io.BytesIO()
    document.save(buffer)
    return TemplateSource("test.docx", buffer.getvalue())


ROWS = [
    {"item": "ふれあい", "first": True, "sub": "参加団体数"},
    {"item": "ふれあい", "first": False, "sub": "延べ利用者数"},
    {"item": "地域協力", "first": True, "sub": ""},
]


def _body(data: bytes) -> list[list[tuple[str, str | None, int]]]:
    """Return each body row's cells: text, vMerge value (None when absent) and grid span."""
    table = Document(io.BytesIO(data)).tables[0]
    rows = []
    for tr in table._tbl.tr_lst[1:]:
        cells = []
        for tc in tr.tc_lst:
            merge = tc.tcPr.find(qn("w:vMerge")) if tc.tcPr is not None else None
            value = None if merge is None else merge.get(qn("w:val"))
            text = "".join(t.text or "" for t in tc.iter(qn("w:t")))
            cells.append((text, value, tc.grid_span))
        rows.append(cells)
    return rows


def test_a_vmerge_cell_begins_or_continues_a_merge() -> None:
    """It merges a cell over the rows that continue it, their text left out."""
    template = _template(["{% vmerge r.first %}{{ r.item }}", "{{ r.sub }}"])
    rows = _body(render_committee_docx(template, {"rows": ROWS}))
    assert [r[0] for r in rows] == [
        ("ふれあい", "restart", 1),
        ("", "continue", 1),
        ("地域協力", "restart", 1),
    ]
    assert [r[1][0] for r in rows] == ["参加団体数", "延べ利用者数", ""]


def test_a_cellif_cell_gives_way_to_a_cell_spanning_two_columns() -> None:
    """It leaves a cell out where its condition fails, its neighbour spanning both columns."""
    template = _template(
        [
            "{% colspan 1 if r.sub else 2 %}{% vmerge r.first %}{{ r.item }}",
            "{% cellif r.sub %}{{ r.sub }}",
        ]
    )
    rows = _body(render_committee_docx(template, {"rows": ROWS}))
    assert rows == [
        [("ふれあい", "restart", 1), ("参加団体数", None, 1)],
        [("", "continue", 1), ("延べ利用者数", None, 1)],
        [("地域協力", "restart", 2)],
    ]


def test_a_department_text_is_never_read_as_a_cell_tag() -> None:
    """It prints a value that looks like one of the tags as the text it is."""
    template = _template(["{% vmerge r.first %}{{ r.item }}", "{{ r.sub }}"])
    typed = [{"item": "{% vmerge False %}", "first": True, "sub": "{% cellif False %}"}]
    (row,) = _body(render_committee_docx(template, {"rows": typed}))
    assert row == [("{% vmerge False %}", "restart", 1), ("{% cellif False %}", None, 1)]


def test_a_broken_tag_names_the_template() -> None:
    """It names the template when a vmerge tag has no condition Jinja can read."""
    template = _template(["{% vmerge r.first == %}{{ r.item }}", "{{ r.sub }}"])
    with pytest.raises(RenderError, match=r"test\.docx"):
        render_committee_docx(template, {"rows": ROWS})


def test_line_breaks_and_tabs_a_department_typed_are_kept_as_docxtpl_keeps_them() -> None:
    """Text with a line break, a tab, or neither becomes the same Word XML as docxtpl's own
    renderer makes of it (breaks and tabs as Word's), row for row."""
    from docxtpl import DocxTemplate
    from jinja2 import Environment

    template = _template(["{{ r.item }}", "{{ r.sub }}"])
    rows = [
        {"item": "一行目\n二行目", "sub": "前\tタブの後"},
        {"item": "改行なし", "sub": ""},
        {"item": "二つ\n\n空けて", "sub": "\t先頭のタブ"},
    ]
    ours = Document(io.BytesIO(render_committee_docx(template, {"rows": rows})))
    reference = DocxTemplate(io.BytesIO(template.data))
    reference.render({"rows": rows}, jinja_env=Environment(autoescape=True), autoescape=True)
    body = ours.element.body.xml
    assert body == reference.docx.element.body.xml
    assert body.count("<w:br/>") == 3 and body.count("<w:tab/>") == 2
