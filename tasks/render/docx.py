"""Render the committee's Word 資料 from a docxtpl template (``tasks.render.templates``).

Every value the template prints is data, whatever it holds: escaped as XML text, with control
and bidi characters shown as ``<U+202E>`` (``tasks.workspace.names.visible_text``), and
guarded against docxtpl's own rewriting of ``{_{`` into ``{{`` after rendering. Nothing in a
value is ever evaluated: the tags are the template's. Whether a tag would be left in the
document is therefore asked of the template alone (its literal text and string constants),
before rendering: a template at fault is named, and no department's text can fail a render.

Two cell tags of our own, beside docxtpl's (``{%tr %}``, ``{% colspan %}`` …), merge a
table's cells as a seed prints them:

- ``{% vmerge <condition> %}`` in a cell of a repeated row: the cell begins a vertical merge
  where the condition holds and continues the one above (its text left out) where it does not
  (``{% vmerge ind.starts.item %}``: one cell per 項目 over its measures);
- ``{% cellif <condition> %}``: the cell is there only where the condition holds (beside a
  cell that spans two columns with ``{% colspan 2 %}`` where it does not).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from docx.opc.exceptions import PackageNotFoundError
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment, StrictUndefined, TemplateError, nodes
from markupsafe import Markup, escape

from tasks.errors import RenderError
from tasks.ooxml import normalise_package
from tasks.render.chart import build_grade_chart
from tasks.render.templates import TemplateSource, read_template
from tasks.workspace.names import visible_text

_LEFTOVER_TAG = re.compile(r"\{\{|\{%|%\}|\}\}|\{_\{|\}_\}|\{_%|%_\}")
"""Jinja's tag marks, and docxtpl's escapes that it turns into them after rendering."""
_DOCXTPL_ESCAPES = {"{_{": "{&#95;{", "}_}": "}&#95;}", "{_%": "{&#95;%", "%_}": "%&#95;}"}
_XML_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")
_XML_TAG = re.compile(r"<[^>]+>")
_CELL_IF = re.compile(
    r"(<w:tc[ >](?:(?!<w:tc[ >]).)*?)\{%\s*cellif\s+((?:(?!%\}).)*?)\s*%\}(.*?</w:tc>)", re.S
)
_VMERGE_CELL = re.compile(r"<w:tc[ >](?:(?!<w:tc[ >]).)*?\{%\s*vmerge\s.*?</w:tc>", re.S)
_VMERGE_TEXT = re.compile(
    r"(<w:t(?: [^>]*)?>)([^<]*?)\{%\s*vmerge\s+((?:(?!%\}).)*?)\s*%\}([^<]*)(</w:t>)", re.S
)
_CELL_PROPERTIES = re.compile(
    r"<w:tcPr>(?:<w:(?:cnfStyle|tcW|gridSpan|hMerge)\b[^>]*/>)*|<w:tcPr/>|(?=<w:p[ >])"
)


class _Template(DocxTemplate):  # type: ignore[misc]
    """docxtpl's template with the ``vmerge`` and ``cellif`` cell tags (see the module)."""

    def patch_xml(self, src_xml: str) -> str:
        """Return the XML ready for Jinja, our cell tags turned into Jinja and Word markup."""
        xml = super().patch_xml(src_xml)
        xml = _CELL_IF.sub(_cell_if, xml)
        return _VMERGE_CELL.sub(_vertical_merge, xml)

    def resolve_listing(self, xml: str) -> str:
        """docxtpl's, given only the paragraphs that hold a tab or a break: the same XML, without
        its three patterns run over every paragraph of a thousand-row table."""
        resolve = super().resolve_listing
        return _PARAGRAPH.sub(
            lambda p: resolve(p.group(0)) if _LISTING.search(p.group(0)) else p.group(0), xml
        )


_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)  # as docxtpl finds them
_LISTING = re.compile("[\t\a\n\f]")


def _cell_if(match: re.Match[str]) -> str:
    return "{% if " + match.group(2) + " %}" + match.group(1) + match.group(3) + "{% endif %}"


def _vertical_merge(match: re.Match[str]) -> str:
    cell = match.group(0)
    text = _VMERGE_TEXT.search(cell)
    if text is None:  # the tag split over runs docxtpl could not join: left for Jinja to name
        return cell
    condition = text.group(3)
    merge = '<w:vMerge w:val="{% if ' + condition + ' %}restart{% else %}continue{% endif %}"/>'
    shown = (
        text.group(1)
        + "{% if "
        + condition
        + " %}"
        + text.group(2)
        + text.group(4)
        + "{% endif %}"
        + text.group(5)
    )
    cell = cell[: text.start()] + shown + cell[text.end() :]
    properties = _CELL_PROPERTIES.search(cell)
    assert properties is not None  # a cell always holds a paragraph
    found = properties.group(0)  # after tcW and gridSpan, as the schema orders them
    replaced = found + merge if found.startswith("<w:tcPr>") else f"<w:tcPr>{merge}</w:tcPr>"
    return cell[: properties.start()] + replaced + cell[properties.end() :]


def render_committee_docx(template: str | Path | TemplateSource, context: dict[str, Any]) -> bytes:
    """Return the 資料 as .docx bytes; raise RenderError for a broken template."""
    source = template if isinstance(template, TemplateSource) else read_template(template, "docx")
    path = source.shown
    try:
        document = _Template(io.BytesIO(source.data))
        document.init_docx()
        declared = document.get_undeclared_template_variables()
        if "grade_chart" in declared:
            # The chart is drawn only where the section is shown: never an empty chart.
            chart: object = ""
            if "grade_chart" in context.get("shown", ["grade_chart"]):
                image = io.BytesIO(build_grade_chart(context))
                chart = InlineImage(document, image, width=Mm(150))
            context = {**context, "grade_chart": chart}
        missing = sorted(declared - set(context))
    except (OSError, KeyError, zipfile.BadZipFile, TemplateError, PackageNotFoundError) as err:
        raise RenderError(
            f"{path}: Word のテンプレートを読めません（.docx として開けないか、壊れています）。"
            f"templates/ の元のテンプレートから作り直してください: {err}"
        ) from err
    if missing:
        raise RenderError(
            f"{path}: テンプレートに資料にない項目名があります（つづりを確認）: {missing}"
        )
    env = Environment(undefined=StrictUndefined, autoescape=True, finalize=_as_data)
    try:
        leftover = _template_leftovers(document, env)
        if not leftover:
            document.render(context, jinja_env=env, autoescape=True)
    except TemplateError as err:
        raise RenderError(
            f"{path}: Word のテンプレートの {{ }} や {{% %}} の書き方に誤りがあります: {err}"
        ) from err
    if leftover:
        raise RenderError(
            f"{path}: テンプレートに、置き換えられずに資料に残るタグの記号があります"
            f"（{{{{ }}}} や {{% %}} の書き方を確認）: {leftover[:3]}"
        )
    buffer = io.BytesIO()
    document.save(buffer)
    return normalise_package(buffer.getvalue())


def docx_text(data: bytes) -> str:
    """Return the visible text of a .docx body, headers and footers, one paragraph a line."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in sorted(package.namelist()):
            if re.match(r"word/(document|header\d*|footer\d*)\.xml$", name):
                xml = package.read(name).decode("utf-8")
                for paragraph in re.split(r"</w:p>", xml):
                    parts.append("".join(_XML_TEXT.findall(paragraph)))
    return "\n".join(p for p in parts if p)


def _as_data(value: object) -> object:
    """Return a printed value as XML text that shows exactly what it holds (Jinja's finalize)."""
    if not isinstance(value, str) or isinstance(value, Markup):
        return value  # numbers print as they are; InlineImage and the like are markup
    escaped = str(escape(visible_text(value)))
    for mark, kept in _DOCXTPL_ESCAPES.items():
        escaped = escaped.replace(mark, kept)  # docxtpl rewrites these after rendering
    return Markup(escaped)


def _template_leftovers(document: DocxTemplate, env: Environment) -> list[str]:
    """Return the template's own text that would stay in the 資料 as a tag (``{{`` …).

    Looked for where only the template can put it: the literal text between tags (after
    docxtpl's own preparation of the XML) and the string constants inside tags.
    """
    parts = [document.get_xml()] + [
        document.get_part_xml(part)
        for uri in (document.HEADER_URI, document.FOOTER_URI)
        for _, part in document.get_headers_footers(uri)
    ]
    found: list[str] = []
    for xml in parts:
        tree = env.parse(document.patch_xml(xml))
        texts = [_XML_TAG.sub("", node.data) for node in tree.find_all(nodes.TemplateData)]
        texts += [n.value for n in tree.find_all(nodes.Const) if isinstance(n.value, str)]
        found += [text.strip() for text in texts if _LEFTOVER_TAG.search(text)]
    return found
