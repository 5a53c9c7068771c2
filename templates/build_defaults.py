"""Regenerate the default 資料 templates shipped in templates/, one layout per seed format.

Coordinators restyle the .docx and .xlsx files directly in Word or Excel; this script only
rebuilds the defaults from scratch (``python templates/build_defaults.py``), sized from each
preset's plan (number of grades, goals, indicator years). The layouts and the builders are
the product's own (``tasks.render.layout``, ``template_docx``, ``template_xlsx``): a plan
that names no template gets the same builders' output for its own layout at render time.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tasks.plan.load import list_presets, load_plan  # noqa: E402
from tasks.render.layout import layout_of  # noqa: E402
from tasks.render.template_docx import build_docx_template  # noqa: E402
from tasks.render.template_xlsx import build_xlsx_template  # noqa: E402


def build_all() -> list[Path]:
    """Build the templates of every preset whose layout is known; return the folders."""
    written = []
    for name in list_presets():
        plan = load_plan(name)
        if plan.report.docx_template is None or plan.report.xlsx_template is None:
            continue  # the layout that follows the plan, built at render time
        layout_name = Path(plan.report.docx_template).parent.name
        layout = layout_of(plan, layout_name)
        folder = HERE / layout_name
        folder.mkdir(exist_ok=True)
        (HERE / plan.report.docx_template).write_bytes(build_docx_template(layout))
        (HERE / plan.report.xlsx_template).write_bytes(build_xlsx_template(plan, layout))
        written.append(folder)
    return written


if __name__ == "__main__":
    for folder in build_all():
        print(f"wrote {folder}")
