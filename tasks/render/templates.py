"""Where a 資料 template comes from: a file the plan names, or the layout that follows the plan.

A plan's ``report.docx_template`` / ``xlsx_template`` name a file (beside plan.yaml, made
absolute when the plan is loaded, or under ``templates/``); when it names none, the template is
built from the plan's own layout (``tasks.render.layout.plan_layout``), so a municipality
needs no template until it wants its own styling.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tasks.errors import RenderError
from tasks.plan.model import Plan
from tasks.render.layout import layout_of
from tasks.render.template_docx import build_docx_template
from tasks.render.template_xlsx import build_xlsx_template
from tasks.settings import TEMPLATES_DIR

Kind = Literal["docx", "xlsx"]
_KIND_JA = {"docx": "Word", "xlsx": "Excel"}


@dataclass(frozen=True)
class TemplateSource:
    """A template's bytes and how messages name it (its path, or where it was built from)."""

    shown: str
    data: bytes


def template_path(configured: str | Path) -> Path:
    """Return the file of a configured template: absolute as given, else under templates/."""
    path = Path(configured)
    return path if path.is_absolute() else TEMPLATES_DIR / path


def configured_template(plan: Plan, kind: Kind) -> str | None:
    """Return the template file the plan names for ``kind``, or None for the plan's layout."""
    return plan.report.docx_template if kind == "docx" else plan.report.xlsx_template


def template_source(plan: Plan, kind: Kind) -> TemplateSource:
    """Return the plan's template of ``kind``; raise RenderError when its file is missing."""
    configured = configured_template(plan, kind)
    if configured is None:
        layout = layout_of(plan)
        data = build_docx_template(layout) if kind == "docx" else build_xlsx_template(plan, layout)
        return TemplateSource(f"plan.yaml の構成から作った {_KIND_JA[kind]} のテンプレート", data)
    return read_template(configured, kind)


def read_template(configured: str | Path, kind: Kind) -> TemplateSource:
    """Return a template file's bytes; raise RenderError naming the file when it is missing."""
    path = template_path(configured)
    try:
        return TemplateSource(str(path), path.read_bytes())
    except OSError as err:
        raise RenderError(
            f"{path}: {_KIND_JA[kind]} のテンプレートが見つかりません"
            "（plan.yaml の report のファイル名を確認してください）"
        ) from err
