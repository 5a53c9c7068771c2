"""Small builders for tests: filled submission workbooks edited the way people edit them."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from tasks.call.workbook import HEADER_ROW, build_submission_workbook, field_label
from tasks.cycle.steps import CollectionSummary, check_pending, take_intake
from tasks.intake.ledger import LedgerEntry
from tasks.plan.model import Plan
from tasks.workspace.storage import Storage, open_storage


def filled_workbook(
    plan: Plan,
    department_id: str,
    grade: str = "A",
    edit: Callable[[Workbook], None] | None = None,
) -> bytes:
    """Return a department's workbook with every input filled in, then edited by ``edit``."""
    workbook = load_workbook(io.BytesIO(build_submission_workbook(plan, department_id)))
    sheet = workbook[plan.submission.sheet_name]
    headers = {cell.value: cell.column for cell in sheet[HEADER_ROW]}
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        for field in plan.submission.fields:
            column = headers[field_label(plan, field.label)]
            value = grade if field.kind == "grade" else f"{field.key} の記入 {row}"
            sheet.cell(row=row, column=column, value=value)
    if plan.submission.indicator_sheet_name in workbook.sheetnames:
        indicators = workbook[plan.submission.indicator_sheet_name]
        for row in range(HEADER_ROW + 1, indicators.max_row + 1):
            indicators.cell(row=row, column=9, value=10)
    if edit is not None:
        edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cell_of(plan: Plan, workbook: Workbook, initiative_id: str, label: str) -> str:
    """Return the coordinate of an initiative's cell under a header label."""
    sheet = workbook[plan.submission.sheet_name]
    column = next(c.column_letter for c in sheet[HEADER_ROW] if c.value == label)
    row = next(
        r
        for r in range(HEADER_ROW + 1, sheet.max_row + 1)
        if sheet.cell(row=r, column=1).value == initiative_id
    )
    return f"{column}{row}"


def archive_files(
    storage: Storage, files: Mapping[str, tuple[str | None, bytes]]
) -> list[LedgerEntry]:
    """Archive each (department, bytes) and return its ledger entry, named by its key."""
    entries = []
    for name, (department_id, data) in files.items():
        key = f"archive/2021/{name}.xlsx"
        storage.write_bytes(key, data)
        entries.append(
            LedgerEntry(
                sha256=name,
                department_id=department_id,
                source_key=f"intake/2021/{department_id}/{name}.xlsx",
                original_name=f"{name}.xlsx",
                size=len(data),
                received_at="2021-06-01T00:00:00+00:00",
                archive_key=key,
            )
        )
    return entries


def submit(workspace: Path, plan: Plan, relative: str, data: bytes) -> CollectionSummary:
    """Drop one file into the workspace and run intake and checking, as a daily run would."""
    target = workspace / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    take_intake(plan, open_storage(workspace), settle_seconds=0)
    return check_pending(plan, open_storage(workspace))


def needs(available: bool, what: str) -> pytest.MarkDecorator:
    """Skip a test on a developer's machine that lacks ``what``; never in CI, where it must run.

    ``.ci/system`` installs every system tool the tests drive, so in CI (``CI=true``) a missing
    one is a failure of the test, not a skip.
    """
    return pytest.mark.skipif(
        not available and not os.environ.get("CI"), reason=f"{what} is not installed here"
    )
