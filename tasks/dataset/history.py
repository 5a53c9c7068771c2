"""Import earlier years from a coordinator's existing Excel, so history starts full.

Two kinds of table are read, on any sheet of the workbook, each below a header row:

- an 一覧 laid out like the seeds' 資料: a column naming the initiative (the plan's
  ``initiative_label``, 事業名, 取組名 …) and columns for 担当部署, 実績 and 評価: the year's
  results and grades;
- a table of indicator figures, 現状値 and yearly values under 和暦 or 西暦 year headings
  (``tasks.dataset.history_figures``): each year's figures, as typed.

Rows are matched to the plan by name (spaces, full-width forms and （再掲） ignored); every
name that matches nothing is returned, never guessed. A value that cannot be read stops the
import with its cell named, and nothing is written; an existing year is never overwritten.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from tasks.call.workbook import field_label
from tasks.check.normalise import normalise_grade
from tasks.dataset.history_figures import read_figures
from tasks.dataset.history_sheets import NAME_HEADERS, Sheet, name_key, read_sheets
from tasks.dataset.store import INDICATOR_KEY, KEY, to_parquet
from tasks.errors import ConfigError
from tasks.plan.fiscal_year import wareki_label
from tasks.plan.model import Plan
from tasks.workspace.keys import consolidated_key, indicators_key
from tasks.workspace.storage import Storage

_SHOWN_ERRORS = 5


@dataclass(frozen=True)
class ImportedYear:
    """What an Excel gave: the year's consolidated rows, earlier years' figures, what was left.

    ``indicators``: one row per (fiscal_year, initiative_id, indicator_id, department_id) for
    every year up to the imported one, the value as typed in ``original_text``.
    """

    consolidated: pd.DataFrame
    unmatched: list[str]
    """Initiative names that matched nothing."""
    indicators: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INDICATOR_KEY))
    notes: list[str] = field(default_factory=list)
    """Japanese lines: figure rows and columns not taken, and why."""


def import_history_workbook(
    plan: Plan, data: bytes, fiscal_year: int, source: str = "一覧"
) -> ImportedYear:
    """Return the year's consolidated rows and the figures up to it, read from an Excel.

    ``source`` names the file in messages.
    """
    sheets = read_sheets(data, source)
    figures = read_figures(plan, sheets, fiscal_year)
    if figures.errors:
        more = len(figures.errors) - _SHOWN_ERRORS
        raise ConfigError(
            f"{source}: 読み取れない値があるため、何も取り込みませんでした。"
            + " ／ ".join(figures.errors[:_SHOWN_ERRORS])
            + (f" ／ ほか {more} か所" if more > 0 else "")
        )
    rows, unmatched = _initiative_rows(plan, sheets, fiscal_year, figures.taken)
    consolidated = pd.DataFrame(rows)
    if not consolidated.empty:
        consolidated = consolidated.sort_values(KEY, ignore_index=True)
    indicators = pd.DataFrame(figures.rows)
    if consolidated.empty and indicators.empty:
        raise ConfigError(
            f"{source}: 一覧に計画の事業や指標と一致する行がありません"
            "（見出し行と事業名・指標名を確認してください）"
        )
    if not indicators.empty:
        indicators = indicators.sort_values(INDICATOR_KEY, ignore_index=True)
        indicators["value"] = indicators["value"].astype("float64")
    return ImportedYear(consolidated, sorted(set(unmatched)), indicators, figures.notes)


def _initiative_rows(
    plan: Plan, sheets: list[Sheet], fiscal_year: int, taken: set[tuple[str, int]]
) -> tuple[list[dict[str, object]], list[str]]:
    """Return the year's consolidated rows (results, grades) and the names that matched none.

    A row with neither a result nor a grade gives nothing; a row a figure table read is
    never reported here (its name is an indicator's).
    """
    by_name = {name_key(i.name + i.summary): i for i in plan.initiatives if i.summary}
    by_name |= {name_key(i.name): i for i in plan.initiatives}  # 項目 printed with its note
    departments = {d.name: d.id for d in plan.departments}
    rows: dict[tuple[str, str], dict[str, object]] = {}
    unmatched: list[str] = []
    for sheet in sheets:
        columns = _find_columns(plan, sheet)
        if columns is None:
            continue
        header_row, positions = columns
        for row in range(header_row + 1, len(sheet.rows)):
            cells = {k: sheet.text(row, c) for k, c in positions.items()}
            name = cells.get("name")
            if not name:
                continue
            initiative = by_name.get(name_key(name))
            if initiative is None:
                if (sheet.name, row) not in taken:
                    unmatched.append(name)
                continue
            grade = plan.grade_scale.canonical(normalise_grade(cells.get("grade")))
            if cells.get("result") is None and grade is None:
                continue
            named = [departments[d] for d in departments if d in (cells.get("departments") or "")]
            for department_id in [d for d in initiative.departments if d in named] or (
                initiative.departments
            ):
                rows.setdefault(
                    (initiative.id, department_id),
                    {
                        "fiscal_year": fiscal_year,
                        "initiative_id": initiative.id,
                        "department_id": department_id,
                        "initiative_name": initiative.name,
                        plan.submission.result_key: cells.get("result"),
                        plan.submission.grade_key: grade,
                    },
                )
    return list(rows.values()), unmatched


def _find_columns(plan: Plan, sheet: Sheet) -> tuple[int, dict[str, int]] | None:
    """Return the header row and the columns of name, departments, result and grade.

    The result is the last column headed 実績 (not 計画), or headed as the plan's own
    result field for the year (「令和元年度の取組状況（…）」: the product's own 資料).
    """
    labels = (plan.initiative_label, *NAME_HEADERS)
    result_field = next(f for f in plan.submission.fields if f.key == plan.submission.result_key)
    own = name_key(field_label(plan, result_field.label))
    for index in range(min(30, len(sheet.rows))):
        headers = [sheet.text(index, c) or "" for c in range(len(sheet.rows[index]))]
        name = next((i for i, h in enumerate(headers) if h in labels), None)
        if name is None:
            continue
        positions = {"name": name}
        for i, header in enumerate(headers):
            if ("担当" in header or "事業主体" in header) and "departments" not in positions:
                positions["departments"] = i
            elif name_key(header) == own or ("実績" in header and "計画" not in header):
                positions["result"] = i  # the last 実績 column is the year's own
            elif "評価" in header and not any(w in header for w in ("理由", "指標", "数値")):
                positions.setdefault("grade", i)
        return index, positions
    return None


def write_imported_year(storage: Storage, imported: ImportedYear, fiscal_year: int) -> list[str]:
    """Write an import's years and return the keys written.

    An existing year is never overwritten: then nothing at all is written.
    """
    parts: dict[str, pd.DataFrame] = {}
    if not imported.consolidated.empty:
        parts[consolidated_key(fiscal_year)] = imported.consolidated
    figures = imported.indicators
    for year in _years(imported):
        parts[indicators_key(year)] = figures[figures["fiscal_year"] == year].reset_index(drop=True)
    for key in parts:
        if storage.exists(key):
            year = int(key.split("/")[1])
            raise ConfigError(
                f"{storage.describe(key)}: {year}年度（{wareki_label(year)}）のデータはすでに"
                "あります。過去の年度は上書きしません（何も取り込んでいません。"
                "別の作業フォルダに取り込むか、その年度の列を除いてください）。"
            )
    for key, frame in parts.items():
        storage.write_bytes(key, to_parquet(frame))
    return sorted(parts)


def describe_import(imported: ImportedYear, keys: list[str]) -> str:
    """Return the line that says what an import wrote (Japanese)."""
    parts = []
    if not imported.consolidated.empty:
        parts.append(f"事業の実績・評価 {len(imported.consolidated)} 行")
    if not imported.indicators.empty:
        counts = Counter(int(y) for y in imported.indicators["fiscal_year"])
        years = "・".join(f"{wareki_label(y)} {counts[y]} 件" for y in _years(imported))
        parts.append(f"指標の値 {len(imported.indicators)} 件（{years}）")
    return f"{'、'.join(parts)}を取り込みました: {', '.join(keys)}"


def _years(imported: ImportedYear) -> list[int]:
    return sorted({int(y) for y in imported.indicators.get("fiscal_year", [])})
