"""Import an earlier year from a coordinator's existing Excel 一覧, so history starts full.

The 一覧 is laid out like the seeds' 資料: on each sheet, a header row naming the initiative
column (the plan's ``initiative_label``, 事業名, 取組名 …) and columns for 担当部署, 実績 and
評価. Rows are matched to the plan's initiatives by name (spaces, full-width forms and
（再掲） ignored); every name that matches nothing is returned, never guessed.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from tasks.check.guard import inspect_package
from tasks.check.normalise import normalise_grade, normalise_text
from tasks.dataset.store import KEY, to_parquet
from tasks.errors import ConfigError, SubmissionError
from tasks.plan.model import Plan
from tasks.workspace.storage import Storage

_NAME_HEADERS = ("事業名", "取組名", "取り組み", "具体的な取り組み", "事業", "取組", "項目")
_REPOST = re.compile(r"[（(]再掲[）)]")


@dataclass(frozen=True)
class ImportedYear:
    """What an 一覧 gave: consolidated rows for the year and the names that matched nothing."""

    consolidated: pd.DataFrame
    unmatched: list[str]


def import_history_workbook(plan: Plan, data: bytes, fiscal_year: int) -> ImportedYear:
    """Return the year's consolidated rows read from an 一覧 workbook."""
    try:
        inspect_package(data)
    except SubmissionError as err:
        raise ConfigError(f"一覧を読み込めません: {err.message_ja}") from err
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as err:
        raise ConfigError(f"一覧を Excel ブックとして開けません: {err}") from err
    by_name = {_key(i.name): i for i in plan.initiatives}
    departments = {d.name: d.id for d in plan.departments}
    rows: dict[tuple[str, str], dict[str, object]] = {}
    unmatched: list[str] = []
    for sheet_name in workbook.sheet_names:
        table = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        columns = _find_columns(plan, table)
        if columns is None:
            continue
        header_row, positions = columns
        for values in table[header_row + 1 :]:
            cells = {
                k: normalise_text(values[c]) if c < len(values) else None
                for k, c in positions.items()
            }
            name = cells.get("name")
            if not name:
                continue
            initiative = by_name.get(_key(name))
            if initiative is None:
                unmatched.append(name)
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
                        plan.submission.grade_key: plan.grade_scale.canonical(
                            normalise_grade(cells.get("grade"))
                        ),
                    },
                )
    frame = pd.DataFrame(list(rows.values()))
    if frame.empty:
        raise ConfigError(
            "一覧に計画の事業と一致する行がありません（見出し行と事業名を確認してください）"
        )
    return ImportedYear(frame.sort_values(KEY, ignore_index=True), sorted(set(unmatched)))


def _find_columns(
    plan: Plan, table: Sequence[Sequence[object]]
) -> tuple[int, dict[str, int]] | None:
    labels = (plan.initiative_label, *_NAME_HEADERS)
    for index, row in enumerate(table[:30]):
        headers = [normalise_text(v) or "" for v in row]
        name = next((i for i, h in enumerate(headers) if h in labels), None)
        if name is None:
            continue
        positions = {"name": name}
        for i, header in enumerate(headers):
            if ("担当" in header or "事業主体" in header) and "departments" not in positions:
                positions["departments"] = i
            elif "実績" in header and "計画" not in header:
                positions["result"] = i  # the last 実績 column is the year's own
            elif "評価" in header and not any(w in header for w in ("理由", "指標", "数値")):
                positions.setdefault("grade", i)
        return index, positions
    return None


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", _REPOST.sub("", name))
    return "".join(folded.split())


def write_imported_year(storage: Storage, imported: ImportedYear, fiscal_year: int) -> str:
    """Write an imported year's dataset; an existing year is never overwritten."""
    key = f"curated/{fiscal_year}/consolidated.parquet"
    if storage.exists(key):
        raise ConfigError(
            f"{storage.describe(key)}: {fiscal_year}年度のデータはすでにあります。"
            "過去の年度は上書きしません（別の作業フォルダに取り込んでください）。"
        )
    storage.write_bytes(key, to_parquet(imported.consolidated))
    return key
