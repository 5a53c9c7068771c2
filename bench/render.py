"""Rendering the 資料 for a plan of K departments × 20 initiatives (300, 3,000 …).

Two steps, each in its own process (run by ``bench/run.py``):

- ``prepare``: the year's dataset, made by the product's own plain step functions (intake,
  check, consolidate; no Prefect) from a generated set of K filled workbooks, so the
  consolidated frame has the product's exact shape, with the set's rejected files missing;
- ``render``: times ``build_report_context`` and the Word and Excel renderers on it, as the
  ``publish-shiryo`` flow calls them, and writes the figures as JSON to ``--result``.

    python -m bench.render prepare --config PLAN_DIR --workspace WS
    python -m bench.render render --config PLAN_DIR --workspace WS --result render.json
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import time
from pathlib import Path

from tasks.cycle.steps import check_pending, consolidate_year, take_intake
from tasks.dataset.store import load_consolidated, load_indicator_history, load_indicators
from tasks.intake.ledger import load_ledger
from tasks.plan.load import load_plan
from tasks.render.docx import render_committee_docx
from tasks.render.report import build_report_context
from tasks.render.xlsx import render_committee_xlsx
from tasks.workspace.storage import open_storage


def prepare(config: str, workspace: str) -> None:
    """Build the year's dataset from the workbooks in the workspace's intake."""
    plan, storage = load_plan(config), open_storage(workspace)
    take_intake(plan, storage, 0)
    check_pending(plan, storage)
    consolidate_year(plan, storage)


def render(config: str, workspace: str, result: Path, keep: Path | None) -> None:
    """Time the report context and both renderers, and write the figures as JSON."""
    plan = load_plan(config)
    storage = open_storage(workspace)
    year = plan.fiscal_year.current
    frames = (
        load_consolidated(storage, year),
        load_indicators(storage, year),
        load_indicator_history(storage, year),
        load_ledger(storage, year),
    )
    began = time.perf_counter()
    context = build_report_context(plan, *frames)
    built = time.perf_counter()
    docx = render_committee_docx(plan.report.docx_template, context)
    rendered_docx = time.perf_counter()
    xlsx = render_committee_xlsx(plan.report.xlsx_template, context)
    rendered_xlsx = time.perf_counter()
    bare_xlsx = bare_xlsx_seconds(xlsx)
    bare_docx = bare_docx_seconds(docx)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "shiryo.docx").write_bytes(docx)
        (keep / "shiryo.xlsx").write_bytes(xlsx)
    figures = {
        "initiatives": len(context["initiatives"]),
        "submitted_rows": int(frames[0]["submitted"].sum()),
        "context_seconds": built - began,
        "docx_seconds": rendered_docx - built,
        "xlsx_seconds": rendered_xlsx - rendered_docx,
        "xlsx_bare_seconds": bare_xlsx,
        "docx_bare_seconds": bare_docx,
        "docx_bytes": len(docx),
        "xlsx_bytes": len(xlsx),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    result.write_text(json.dumps(figures), encoding="utf-8")


def bare_xlsx_seconds(rendered: bytes) -> float:
    """Time a bare openpyxl write-only workbook of the rendered 資料's cells (values only)."""
    from openpyxl import Workbook, load_workbook

    source = load_workbook(io.BytesIO(rendered), read_only=True)
    sheets = {sheet.title: [list(row) for row in sheet.values] for sheet in source.worksheets}
    began = time.perf_counter()
    workbook = Workbook(write_only=True)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(io.BytesIO())
    return time.perf_counter() - began


def bare_docx_seconds(rendered: bytes) -> float:
    """Time bare python-docx tables of the rendered 資料's table cells (texts only)."""
    from docx import Document

    tables = [
        [[cell.text for cell in row.cells] for row in table.rows]
        for table in Document(io.BytesIO(rendered)).tables
    ]
    began = time.perf_counter()
    document = Document()
    for rows in tables:
        table = document.add_table(rows=len(rows), cols=max((len(r) for r in rows), default=1))
        for cells, values in zip(table.rows, rows, strict=True):
            for cell, value in zip(cells.cells, values, strict=False):
                cell.text = value
    document.save(io.BytesIO())
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    """Prepare the dataset or time the rendering."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "render"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--result", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="also write the 資料 here")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        prepare(args.config, args.workspace)
    else:
        if args.result is None:
            parser.error("render needs --result")
        render(args.config, args.workspace, args.result, args.keep)


if __name__ == "__main__":
    main()
