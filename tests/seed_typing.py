"""Type a seed's printed values into the product's call workbooks, the way a department would.

The values come from the seeds as printed (tests/data/seeds/, demo.yaml where the seed's
values are kept there), blanks included; the workbook is the product's own, filled with openpyxl.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tasks.call.workbook import (
    HEADER_ROW,
    ID_HEADER,
    INDICATOR_ID_HEADER,
    INDICATOR_INPUT_HEADER,
    build_submission_workbook,
    field_label,
)
from tasks.plan.model import Plan

SEEDS = Path(__file__).parent / "data" / "seeds"
# Letters the PDF extraction turned into look-alikes (Cyrillic В, Greek Α …): the department
# chose the Latin letter from the dropdown. "R" and "Ь" are a garbled B.
_HOMOGLYPHS = str.maketrans({"В": "B", "А": "A", "Α": "A", "С": "C", "Ь": "B", "R": "B", "٨": "A"})
_ALIASES = {"社協": "社会福祉協議会"}

Values = Mapping[str, Mapping[str, str]]
"""Typed values by initiative id, then by field key."""


def type_workbook(
    plan: Plan,
    department_id: str,
    values: Values,
    indicators: Mapping[tuple[str, str], str | float] | None = None,
) -> bytes:
    """Return the department's call workbook with ``values`` typed in (blank where absent)."""
    return type_into(plan, build_submission_workbook(plan, department_id), values, indicators)


def type_into(
    plan: Plan,
    workbook_bytes: bytes,
    values: Values,
    indicators: Mapping[tuple[str, str], str | float] | None = None,
) -> bytes:
    """Return a call workbook (the bytes the call wrote) with ``values`` typed in.

    ``indicators`` are this year's figures by (initiative, indicator): text as printed
    (「513人」「50.70%」) goes into the cell as text, a number as a number.
    """
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    sheet = workbook[plan.submission.sheet_name]
    columns = {c.value: c.column for c in sheet[HEADER_ROW]}
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        typed = values.get(str(sheet.cell(row=row, column=1).value), {})
        for field in plan.submission.fields:
            text = typed.get(field.key, "")
            if text:
                cell = sheet.cell(row=row, column=columns[field_label(plan, field.label)])
                cell.value = text
                cell.data_type = "s"
    if indicators and plan.submission.indicator_sheet_name in workbook.sheetnames:
        sheet = workbook[plan.submission.indicator_sheet_name]
        columns = {c.value: c.column for c in sheet[HEADER_ROW]}
        actual = columns[INDICATOR_INPUT_HEADER.format(year=plan.fiscal_year.current)]
        for row in range(HEADER_ROW + 1, sheet.max_row + 1):
            key = (
                str(sheet.cell(row=row, column=columns[ID_HEADER]).value),
                str(sheet.cell(row=row, column=columns[INDICATOR_ID_HEADER]).value),
            )
            if key in indicators:
                sheet.cell(row=row, column=actual, value=indicators[key])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def nishitokyo_rows() -> list[dict[str, str]]:
    """Return the 西東京市 seed's printed rows, one per measure, in the seed's order."""
    rows: list[dict[str, str]] = _nishitokyo()["rows"]
    return rows


def nishitokyo_headings() -> list[str]:
    """Return the 西東京市 seed's column headings, as printed (項目 once)."""
    headings: list[str] = _nishitokyo()["headings"]
    return headings


def _nishitokyo() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SEEDS / "nishitokyo.json").read_text(encoding="utf-8"))
    return data


def kitamoto_rows() -> list[dict[str, str]]:
    """Return the 北本市 seed's printed rows (not the <再掲> ones), in plan order."""
    data = json.loads((SEEDS / "kitamoto.json").read_text(encoding="utf-8"))
    return [r for r in data["rows"] if not r["repost"]]


def kitamoto_values(plan: Plan, department_id: str) -> dict[str, dict[str, str]]:
    """Return what the seed prints for one department: its 【課】 part of a shared row.

    A row's grade is the 事業評価 cell, or the one printed after the department's name in
    事業主体 (共生福祉課B 市長公室B 社協A).
    """
    name = plan.department(department_id).name
    values: dict[str, dict[str, str]] = {}
    for row in kitamoto_rows():
        if department_id not in plan.initiative(row["initiative"]).departments:
            continue
        typed = {
            key: _part_of(row[key], name) for key in ("progress_text", "reason", "next_target")
        }
        typed["grade"] = _grade_of(row, name)
        values[row["initiative"]] = typed
    return values


def _part_of(text: str, name: str) -> str:
    """Return a department's 【課】 section of a cell, the whole cell when it has none."""
    parts = re.split(r"【([^】]+)】", text)
    if len(parts) == 1:
        return text
    names: list[str] = []
    for header, body in zip(parts[1::2], parts[2::2], strict=True):
        names.append(_ALIASES.get(header, header))
        if body.strip():  # 【子育て支援課】【高齢介護課】 share the text that follows
            if name in names:
                return body.strip()
            names = []
    return ""


def _grade_of(row: dict[str, str], name: str) -> str:
    entities = re.sub(r"\s", "", row["entities"])
    for alias, full in _ALIASES.items():
        if full == name:
            name = alias if alias in entities and name not in entities else name
    match = re.search(re.escape(name) + r"([A-DＡ-Ｄ])", entities)
    return match[1] if match else row["grade"].translate(_HOMOGLYPHS)
