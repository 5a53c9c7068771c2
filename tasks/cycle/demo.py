"""Demo data of a preset: fill the call workbooks as the departments would, seed last year.

``config/presets/<name>/demo.yaml`` holds what each department reported in the seed (and the
year before), plus the realistic mistakes to put into one department's file.
"""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict

from tasks.call.workbook import (
    HEADER_ROW,
    ID_HEADER,
    INDICATOR_ID_HEADER,
    INDICATOR_INPUT_HEADER,
    field_label,
)
from tasks.dataset.store import INDICATOR_KEY, KEY, to_parquet
from tasks.ooxml import normalise_package
from tasks.plan.load import resolve_config_path
from tasks.plan.model import Plan
from tasks.settings import load_yaml_model
from tasks.workspace.storage import Storage


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DemoEntry(_Model):
    """What one department reported for one initiative."""

    initiative: str
    department: str
    previous_result: str = ""
    values: dict[str, str]


class DemoIndicatorValue(_Model):
    """One indicator value a department reported, and last year's."""

    initiative: str
    indicator: str
    department: str
    previous: float | None = None
    actual: float | None = None


class DemoHistoryValue(_Model):
    """An indicator value of an earlier year, as the seed reports it (history)."""

    fiscal_year: int
    initiative: str
    indicator: str
    department: str
    value: float | None = None
    original_text: str = ""
    """The text as printed in the seed (e.g. "4,510件", "－", "事業休止")."""


class DemoMistake(_Model):
    """A wrong value typed into one cell of the broken department's workbook."""

    initiative: str
    field: str | None = None
    indicator: str | None = None
    value: str


class DemoBroken(_Model):
    """The department whose file carries realistic mistakes."""

    department: str
    mistakes: list[DemoMistake] = []
    indicator_mistakes: list[DemoMistake] = []


class Demo(_Model):
    """A preset's demo data."""

    fiscal_year: int
    previous_year: int
    entries: list[DemoEntry]
    indicator_values: list[DemoIndicatorValue] = []
    history: list[DemoHistoryValue] = []
    """Earlier years' indicator values, beyond ``previous_year``."""
    broken: DemoBroken | None = None


def load_demo(config: str) -> Demo:
    """Load a preset's demo.yaml."""
    path = resolve_config_path(config).with_name("demo.yaml")
    return load_yaml_model(path, Demo, "デモデータ")


def seed_history(storage: Storage, plan: Plan, demo: Demo) -> None:
    """Write earlier years from the demo data as those years' datasets (a history import).

    The previous year gets its results and indicator values; older years in ``history`` get
    their indicator values with the text as the seed printed it.
    """
    year = demo.previous_year
    rows = [
        {
            "fiscal_year": year,
            "initiative_id": e.initiative,
            "department_id": e.department,
            plan.submission.result_key: e.previous_result or None,
        }
        for e in demo.entries
    ]
    storage.write_bytes(
        f"curated/{year}/consolidated.parquet",
        to_parquet(pd.DataFrame(rows).sort_values(KEY, ignore_index=True)),
    )
    values: dict[int, list[dict[str, object]]] = {year: []}
    for v in demo.indicator_values:
        values[year].append(
            {
                "fiscal_year": year,
                "initiative_id": v.initiative,
                "indicator_id": v.indicator,
                "department_id": v.department,
                "value": v.previous,
                "original_text": None,
            }
        )
    for h in demo.history:
        values.setdefault(h.fiscal_year, []).append(
            {
                "fiscal_year": h.fiscal_year,
                "initiative_id": h.initiative,
                "indicator_id": h.indicator,
                "department_id": h.department,
                "value": h.value,
                "original_text": h.original_text or None,
            }
        )
    columns = [*INDICATOR_KEY, "value", "original_text"]
    for fiscal_year, records in sorted(values.items()):
        frame = pd.DataFrame(records, columns=columns).sort_values(INDICATOR_KEY, ignore_index=True)
        frame["value"] = frame["value"].astype("float64")
        storage.write_bytes(f"curated/{fiscal_year}/indicators.parquet", to_parquet(frame))


def fill_workbook(plan: Plan, demo: Demo, department_id: str, blank: bytes) -> bytes:
    """Return the department's workbook filled with its demo values (and mistakes, if any)."""
    workbook = load_workbook(io.BytesIO(blank))
    entries = {e.initiative: e for e in demo.entries if e.department == department_id}
    mistakes = demo.broken if demo.broken and demo.broken.department == department_id else None
    sheet = workbook[plan.submission.sheet_name]
    columns = _header_columns(sheet)
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        entry = entries.get(str(sheet.cell(row=row, column=columns[ID_HEADER]).value))
        if entry is None:
            continue
        values = dict(entry.values)
        for mistake in mistakes.mistakes if mistakes else []:
            if mistake.initiative == entry.initiative and mistake.field:
                values[mistake.field] = mistake.value
        for field in plan.submission.fields:
            text = values.get(field.key, "")
            cell = sheet.cell(row=row, column=columns[field_label(plan, field.label)])
            cell.value = text or None
            if text:
                cell.data_type = "s"
    indicator_sheet = plan.submission.indicator_sheet_name
    if indicator_sheet in workbook.sheetnames:
        _fill_indicators(plan, demo, department_id, workbook[indicator_sheet], mistakes)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _fill_indicators(
    plan: Plan, demo: Demo, department_id: str, sheet: Worksheet, mistakes: DemoBroken | None
) -> None:
    columns = _header_columns(sheet)
    actual_col = columns[INDICATOR_INPUT_HEADER.format(year=plan.fiscal_year.current)]
    values = {
        (v.initiative, v.indicator): v.actual
        for v in demo.indicator_values
        if v.department == department_id
    }
    typed = {
        (m.initiative, m.indicator): m.value
        for m in (mistakes.indicator_mistakes if mistakes else [])
    }
    for row in range(HEADER_ROW + 1, sheet.max_row + 1):
        key = (
            str(sheet.cell(row=row, column=columns[ID_HEADER]).value),
            str(sheet.cell(row=row, column=columns[INDICATOR_ID_HEADER]).value),
        )
        if key in typed:
            sheet.cell(row=row, column=actual_col, value=typed[key]).data_type = "s"
        elif values.get(key) is not None:
            sheet.cell(row=row, column=actual_col, value=values[key])


def _header_columns(sheet: Worksheet) -> dict[str, int]:
    return {
        str(cell.value): cell.column
        for cell in sheet[HEADER_ROW]
        if cell.value is not None and isinstance(cell.column, int)
    }
