"""The dataset of a fiscal year as stored: Parquet files in ``curated/<fy>/``, copies for people.

``consolidated.parquet``: one row per (fiscal_year, initiative_id, department_id) for every
pair the plan expects, submitted or not; the plan's text fields, the grade,
``previous_result_text`` from the year before, the source file's sha256 and ``submitted``.
``indicators.parquet``: one row per (fiscal_year, initiative_id, indicator_id, department_id)
with the parsed value, the original text, a status word and the year's target.
``plan_changes.parquet``: what changed in the plan since the year before. The xlsx and CSV
copies are made from these at publication and never read back.
"""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook

from tasks.call.workbook import PreviousValues
from tasks.dataset.values import number_of, optional_text, plain_value
from tasks.ooxml import COLUMN_LETTERS, normalise_package, plain_rows_xml, with_sheet_rows
from tasks.workspace.keys import (
    consolidated_key,
    dataset_export_keys,
    indicators_key,
    plan_changes_key,
)
from tasks.workspace.names import visible_text
from tasks.workspace.storage import Storage, own_objects

SCHEMA_VERSION = 1
KEY = ["fiscal_year", "initiative_id", "department_id"]
INDICATOR_KEY = ["fiscal_year", "initiative_id", "indicator_id", "department_id"]


def write_consolidated(
    storage: Storage,
    fiscal_year: int,
    consolidated: pd.DataFrame,
    indicators: pd.DataFrame,
    changes: pd.DataFrame,
) -> list[str]:
    """Write the year's dataset in Parquet and return the keys written.

    The copies for people (xlsx, CSV) are written at publication (:func:`write_dataset_exports`):
    a collection run during the window need not rebuild them each time.
    """
    keys = {
        consolidated_key(fiscal_year): to_parquet(consolidated),
        indicators_key(fiscal_year): to_parquet(indicators),
        plan_changes_key(fiscal_year): to_parquet(changes),
    }
    for key, data in keys.items():
        storage.write_bytes(key, data)
    return sorted(keys)


def write_dataset_exports(storage: Storage, fiscal_year: int) -> list[str]:
    """Write the year's dataset as xlsx and CSV for people, from its Parquet files."""
    consolidated = load_consolidated(storage, fiscal_year)
    indicators = load_indicators(storage, fiscal_year)
    changes_key = plan_changes_key(fiscal_year)
    changes = (
        pd.read_parquet(io.BytesIO(storage.read_bytes(changes_key)))
        if storage.exists(changes_key)
        else pd.DataFrame()
    )
    xlsx, consolidated_csv, indicators_csv = dataset_export_keys(fiscal_year)
    keys = {
        xlsx: _to_xlsx({"事業別": consolidated, "指標": indicators, "計画の変更": changes}),
        consolidated_csv: to_csv(consolidated),
        indicators_csv: to_csv(indicators),
    }
    for key, data in keys.items():
        if not storage.exists(key) or storage.read_bytes(key) != data:
            storage.write_bytes(key, data)
    return sorted(keys)


def load_consolidated(storage: Storage, fiscal_year: int) -> pd.DataFrame:
    """Return a year's consolidated rows, or an empty frame when there are none."""
    key = consolidated_key(fiscal_year)
    if not storage.exists(key):
        return pd.DataFrame(columns=KEY)
    return pd.read_parquet(io.BytesIO(storage.read_bytes(key)))


def previous_values(
    storage: Storage, fiscal_year: int, result_key: str = "result_text"
) -> PreviousValues:
    """Return a year's results and indicator values, to prefill next year's workbooks."""
    results: dict[tuple[str, str], str] = {}
    for record in load_consolidated(storage, fiscal_year).to_dict("records"):
        text = optional_text(record.get(result_key))
        if text:
            results[(str(record["initiative_id"]), str(record["department_id"]))] = text
    values: dict[tuple[str, str], float] = {}
    for record in load_indicators(storage, fiscal_year).to_dict("records"):
        number = number_of(record.get("value"))
        if number is not None:
            values[(str(record["initiative_id"]), str(record["indicator_id"]))] = number
    return PreviousValues(results=results, indicators=values)


def load_indicators(storage: Storage, fiscal_year: int) -> pd.DataFrame:
    """Return a year's indicator rows, or an empty frame when there are none."""
    key = indicators_key(fiscal_year)
    if not storage.exists(key):
        return pd.DataFrame(columns=INDICATOR_KEY)
    return pd.read_parquet(io.BytesIO(storage.read_bytes(key)))


def load_indicator_history(storage: Storage, before_year: int) -> pd.DataFrame:
    """Return the indicator rows of every curated year before ``before_year``, oldest first."""
    years = sorted(
        int(o.key.split("/")[1])
        for o in own_objects(storage.list("curated"))
        if o.key.endswith("/indicators.parquet") and o.key.split("/")[1].isdigit()
    )
    frames = [load_indicators(storage, y) for y in years if y < before_year]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=[*INDICATOR_KEY, "value"])
    return pd.concat(frames, ignore_index=True)


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Return a frame as Parquet bytes, without the index, with the schema version."""
    buffer = io.BytesIO()
    frame = frame.copy(deep=False)
    frame.attrs = {"shiryo_schema_version": SCHEMA_VERSION}
    frame.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    return buffer.getvalue()


def to_csv(frame: pd.DataFrame) -> bytes:
    """Return a frame as CSV for Excel users (UTF-8 with BOM), formula-like text neutralised.

    A cell starting with =, +, -, @ (or a tab or carriage return) would run as a formula when
    the CSV is opened in a spreadsheet; it is written with a leading apostrophe instead. Control
    and bidi characters are shown as ``<U+202E>``, never written as they are.
    """
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_neutralise)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _neutralise(value: object) -> object:
    if not isinstance(value, str):
        return value
    if value.startswith(("=", "+", "-", "@", "\t", "\r")):
        value = "'" + value
    return visible_text(value)


def _to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    # openpyxl writes the package (write-only, no rows); the rows go in as text, several
    # times faster than a cell object each (tasks.ooxml.plain_rows_xml).
    workbook = Workbook(write_only=True)
    written: list[str] = []
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        reference = f"A1:{COLUMN_LETTERS[max(len(frame.columns), 1)]}{len(frame) + 1}"
        sheet.calculate_dimension = lambda reference=reference: reference  # type: ignore[method-assign]
        header = [visible_text(str(c)) for c in frame.columns]
        body = ([_xlsx_value(v) for v in values] for values in frame.itertuples(index=False))
        written.append(plain_rows_xml([header, *body]))
    buffer = io.BytesIO()
    workbook.save(buffer)  # names each sheet's part
    rows = {ws.path[1:]: xml for ws, xml in zip(workbook.worksheets, written, strict=True)}
    return normalise_package(buffer.getvalue(), with_sheet_rows(rows))


def _xlsx_value(value: object) -> object:
    value = plain_value(value)
    # openpyxl refuses control characters; bidi ones never act. Text stays text.
    return visible_text(value) if isinstance(value, str) else value
