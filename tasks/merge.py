"""The consolidated dataset of a fiscal year (集計データ), in Parquet, with xlsx/CSV for people.

``curated/<fy>/consolidated.parquet``: one row per (fiscal_year, initiative_id,
department_id) for every pair the plan expects, submitted or not; the plan's text fields, the
grade, ``previous_result_text`` from the year before, the source file's sha256 and
``submitted``. ``curated/<fy>/indicators.parquet``: one row per (fiscal_year, initiative_id,
indicator_id, department_id) with the parsed value, the original text, a status word and the
year's target. Rows are sorted by key so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from tasks.achievement import grade_agreement, with_achievement
from tasks.intake import Ledger
from tasks.keys import dataset_export_keys
from tasks.ooxml import normalise_package
from tasks.plan import Plan
from tasks.storage import Storage
from tasks.workbook import PreviousValues

SCHEMA_VERSION = 1
KEY = ["fiscal_year", "initiative_id", "department_id"]
INDICATOR_KEY = ["fiscal_year", "initiative_id", "indicator_id", "department_id"]


def staged_key(fiscal_year: int, shas: list[str], kind: str) -> str:
    """Return where the staged rows of a batch of accepted files are kept (kind: main, indicators).

    The name is a hash of the batch's files, so staging the same batch again writes nothing new.
    """
    digest = hashlib.sha256("\n".join(sorted(shas)).encode()).hexdigest()[:32]
    return f"curated/{fiscal_year}/staged/{digest}.{kind}.parquet"


def stage_accepted(
    storage: Storage,
    fiscal_year: int,
    main: pd.DataFrame,
    indicators: pd.DataFrame,
    accepted: list[str],
) -> None:
    """Keep the staged rows of a batch's accepted files: one Parquet file per kind and batch."""
    if not accepted:
        return
    for kind, frame in (("main", main), ("indicators", indicators)):
        key = staged_key(fiscal_year, accepted, kind)
        if storage.exists(key):
            continue
        rows = frame.drop(columns=["record_id"], errors="ignore")
        if not rows.empty:  # a plan without indicators stages none
            rows = rows[rows["sha256"].isin(accepted)].sort_values(["sha256", "row"])
        storage.write_bytes(key, to_parquet(rows.reset_index(drop=True)))


def load_staged(storage: Storage, fiscal_year: int, kind: str, shas: set[str]) -> pd.DataFrame:
    """Return the staged rows of the given files, in file and row order."""
    frames = []
    for stored in storage.list(f"curated/{fiscal_year}/staged"):
        if stored.key.endswith(f".{kind}.parquet"):
            frame = pd.read_parquet(io.BytesIO(storage.read_bytes(stored.key)))
            frames.append(frame[frame["sha256"].isin(shas)] if "sha256" in frame else frame[:0])
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=["sha256", "department_id", "initiative_id"])
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(["sha256", "sheet", "row"])
    return rows.sort_values(["sha256", "row"], ignore_index=True)


def consolidate(storage: Storage, plan: Plan, ledger: Ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the year's consolidated rows and indicator rows from the latest accepted files."""
    year = plan.fiscal_year.current
    latest = {
        e.sha256 for e in ledger.entries if e.status == "accepted" and e.department_id is not None
    }
    staged_main = [load_staged(storage, year, "main", latest)]
    staged_indicators = [load_staged(storage, year, "indicators", latest)]
    previous = load_consolidated(storage, plan.fiscal_year.previous or year - 1)
    fields = [f.key for f in plan.submission.fields]
    submitted = _by_key(staged_main, ["department_id", "initiative_id"])
    result_key = plan.submission.result_key
    previous_results = {
        (str(r["initiative_id"]), str(r["department_id"])): _text(r.get(result_key))
        for r in previous.to_dict("records")
    }
    rows = []
    for initiative in plan.ordered_initiatives():
        if initiative.status == "ended":
            continue
        for department_id in initiative.departments:
            found = submitted.get((department_id, initiative.id))
            row: dict[str, object] = {
                "fiscal_year": year,
                "initiative_id": initiative.id,
                "department_id": department_id,
                "department_name": plan.department(department_id).name,
                "initiative_name": initiative.name,
                "submitted": found is not None,
                "sha256": found["sha256"] if found is not None else None,
                "previous_result_text": previous_results.get((initiative.id, department_id)),
            }
            for key in fields:
                row[key] = _text(found.get(key)) if found is not None else None
            # 要修正 / 注意 / 問題なし as validated: the 資料 marks △ on the rows with a 注意.
            row["row_state"] = _text(found.get("row_state")) if found is not None else None
            rows.append(row)
    consolidated = pd.DataFrame(rows).sort_values(KEY, ignore_index=True)
    indicators = with_achievement(
        plan,
        _indicator_rows(plan, staged_indicators),
        load_indicators(storage, plan.fiscal_year.previous or year - 1),
    )
    return grade_agreement(plan, consolidated, indicators), indicators


def _indicator_rows(plan: Plan, staged: list[pd.DataFrame]) -> pd.DataFrame:
    year = plan.fiscal_year.current
    found = _by_key(staged, ["department_id", "initiative_id", "indicator_id"])
    rows = []
    for initiative in plan.ordered_initiatives():
        if initiative.status == "ended":
            continue
        for indicator in initiative.indicators:
            for department_id in indicator.reported_by or initiative.departments:
                value = found.get((department_id, initiative.id, indicator.id))
                rows.append(
                    {
                        "fiscal_year": year,
                        "initiative_id": initiative.id,
                        "indicator_id": indicator.id,
                        "department_id": department_id,
                        "indicator_name": indicator.name,
                        "unit": indicator.unit,
                        "value": _number(value.get("actual_value")) if value is not None else None,
                        "original_text": _text(value.get("actual")) if value is not None else None,
                        "status": _text(value.get("actual_status")) if value is not None else None,
                        "target": indicator.targets.get(year),
                        "final_target": indicator.final_target,
                        "final_year": indicator.final_year,
                        "baseline": indicator.baseline,
                        "baseline_year": indicator.baseline_year,
                        "direction": indicator.direction,
                    }
                )
    columns = [
        *INDICATOR_KEY,
        "indicator_name",
        "unit",
        "value",
        "original_text",
        "status",
        "target",
        "final_target",
        "final_year",
        "baseline",
        "baseline_year",
        "direction",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("value", "target", "final_target", "baseline"):
        frame[column] = frame[column].astype("float64")
    for column in ("final_year", "baseline_year"):
        frame[column] = frame[column].astype("Int64")
    return frame.sort_values(INDICATOR_KEY, ignore_index=True)


def plan_changes(plan: Plan, previous: pd.DataFrame) -> pd.DataFrame:
    """Return how the plan's initiatives changed since last year's dataset.

    One row per initiative in either year: ``added`` (not in last year's data), ``ended``
    (marked ended, or gone from the plan), ``renamed`` (same id, new name) or ``continued``.
    Stable ids keep each initiative's history whole across these changes.
    """
    year = plan.fiscal_year.current
    names: dict[str, str | None] = {}
    for record in previous.to_dict("records"):
        name = record.get("initiative_name")
        names.setdefault(str(record["initiative_id"]), name if isinstance(name, str) else None)
    rows: list[tuple[int, str, str, str | None, str | None]] = []
    for initiative in plan.ordered_initiatives():
        old_name = names.get(initiative.id)
        if initiative.status == "ended":
            change = "ended"
        elif initiative.id not in names:
            change = "added"
        elif old_name is not None and old_name != initiative.name:
            change = "renamed"
        else:
            change = "continued"
        rows.append((year, initiative.id, change, initiative.name, old_name))
    current = {i.id for i in plan.initiatives}
    rows += [(year, gone, "ended", None, names[gone]) for gone in sorted(set(names) - current)]
    columns = ["fiscal_year", "initiative_id", "change", "initiative_name", "previous_name"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["fiscal_year", "initiative_id"], ignore_index=True)


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
        f"curated/{fiscal_year}/consolidated.parquet": to_parquet(consolidated),
        f"curated/{fiscal_year}/indicators.parquet": to_parquet(indicators),
        f"curated/{fiscal_year}/plan_changes.parquet": to_parquet(changes),
    }
    for key, data in keys.items():
        storage.write_bytes(key, data)
    return sorted(keys)


def write_dataset_exports(storage: Storage, fiscal_year: int) -> list[str]:
    """Write the year's dataset as xlsx and CSV for people, from its Parquet files."""
    consolidated = load_consolidated(storage, fiscal_year)
    indicators = load_indicators(storage, fiscal_year)
    changes_key = f"curated/{fiscal_year}/plan_changes.parquet"
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
    key = f"curated/{fiscal_year}/consolidated.parquet"
    if not storage.exists(key):
        return pd.DataFrame(columns=KEY)
    return pd.read_parquet(io.BytesIO(storage.read_bytes(key)))


def previous_values(
    storage: Storage, fiscal_year: int, result_key: str = "result_text"
) -> PreviousValues:
    """Return a year's results and indicator values, to prefill next year's workbooks."""
    results: dict[tuple[str, str], str] = {}
    for record in load_consolidated(storage, fiscal_year).to_dict("records"):
        text = _text(record.get(result_key))
        if text:
            results[(str(record["initiative_id"]), str(record["department_id"]))] = text
    values: dict[tuple[str, str], float] = {}
    for record in load_indicators(storage, fiscal_year).to_dict("records"):
        number = _number(record.get("value"))
        if number is not None:
            values[(str(record["initiative_id"]), str(record["indicator_id"]))] = number
    return PreviousValues(results=results, indicators=values)


def load_indicators(storage: Storage, fiscal_year: int) -> pd.DataFrame:
    """Return a year's indicator rows, or an empty frame when there are none."""
    key = f"curated/{fiscal_year}/indicators.parquet"
    if not storage.exists(key):
        return pd.DataFrame(columns=INDICATOR_KEY)
    return pd.read_parquet(io.BytesIO(storage.read_bytes(key)))


def load_indicator_history(storage: Storage, before_year: int) -> pd.DataFrame:
    """Return the indicator rows of every curated year before ``before_year``, oldest first."""
    years = sorted(
        int(o.key.split("/")[1])
        for o in storage.list("curated")
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
    the CSV is opened in a spreadsheet; it is written with a leading apostrophe instead.
    """
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_neutralise)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def _to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    # Write-only: rows stream out without a cell object each (several times faster).
    workbook = Workbook(write_only=True)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        sheet.append(list(frame.columns))
        for values in frame.itertuples(index=False):
            sheet.append([_xlsx_cell(sheet, value) for value in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    value = _cell_value(value)
    if not isinstance(value, str) or not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # text that starts with "=" stays text
    return cell


def _by_key(frames: list[pd.DataFrame], key: list[str]) -> dict[tuple[str, ...], dict[str, object]]:
    found: dict[tuple[str, ...], dict[str, object]] = {}
    for frame in frames:
        for record in frame.to_dict("records"):
            found.setdefault(
                tuple(str(record[k]) for k in key), {str(k): v for k, v in record.items()}
            )
    return found


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _number(value: object) -> float | None:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return float(value)  # type: ignore[arg-type]


def _cell_value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
