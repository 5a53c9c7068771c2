"""Render the committee's Word 資料 from a docxtpl template in ``templates/``."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from docx.opc.exceptions import PackageNotFoundError
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment, StrictUndefined, TemplateError

from tasks.errors import RenderError
from tasks.ooxml import normalise_package
from tasks.render.chart import build_grade_chart
from tasks.render.templates import TemplateSource, read_template

_LEFTOVER_TAG = re.compile(r"\{\{|\{%|%\}|\}\}")
_XML_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")


def render_committee_docx(template: str | Path | TemplateSource, context: dict[str, Any]) -> bytes:
    """Return the 資料 as .docx bytes; raise RenderError for a broken template."""
    source = template if isinstance(template, TemplateSource) else read_template(template, "docx")
    path = source.shown
    try:
        document = DocxTemplate(io.BytesIO(source.data))
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
    try:
        document.render(context, jinja_env=Environment(undefined=StrictUndefined), autoescape=True)
    except TemplateError as err:
        raise RenderError(
            f"{path}: Word のテンプレートの {{ }} や {{% %}} の書き方に誤りがあります: {err}"
        ) from err
    buffer = io.BytesIO()
    document.save(buffer)
    data = normalise_package(buffer.getvalue())
    leftover = _leftover_tags(data)
    if leftover:
        raise RenderError(f"{path}: 置き換えられなかったタグが残っています: {leftover[:3]}")
    return data


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


def _leftover_tags(data: bytes) -> list[str]:
    return [line for line in docx_text(data).splitlines() if _LEFTOVER_TAG.search(line)]
