"""Merging (集計): the latest accepted submission of each department into the year's dataset.

Accepted rows are staged per checked batch (``curated/<fy>/staged/``); consolidation joins the
staged rows the ledger still counts with the plan and the year before, into the frames that
``tasks.dataset.store`` keeps. Rows are sorted by key so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import io

import pandas as pd

from tasks.dataset.achievement import grade_agreement, with_achievement
from tasks.dataset.store import INDICATOR_KEY, KEY, load_consolidated, load_indicators, to_parquet
from tasks.dataset.values import number_of, optional_text
from tasks.intake.ledger import Ledger
from tasks.plan.model import Plan
from tasks.plan.parts import Indicator
from tasks.workspace.keys import staged_key as staged_key_of
from tasks.workspace.keys import (
    staged_prefix,
)
from tasks.workspace.storage import Storage, own_objects


def staged_key(fiscal_year: int, shas: list[str], kind: str) -> str:
    """Return where the staged rows of a batch of accepted files are kept (kind: main, indicators).

    The name is a hash of the batch's files, so staging the same batch again writes nothing new.
    """
    digest = hashlib.sha256("\n".join(sorted(shas)).encode()).hexdigest()[:32]
    return staged_key_of(fiscal_year, digest, kind)


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
    for stored in own_objects(storage.list(staged_prefix(fiscal_year))):
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
    previous = load_consolidated(storage, plan.fiscal_year.before)
    fields = [f.key for f in plan.submission.fields]
    submitted = _by_key(staged_main, ["department_id", "initiative_id"])
    result_key = plan.submission.result_key
    previous_results = {
        (str(r["initiative_id"]), str(r["department_id"])): optional_text(r.get(result_key))
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
                row[key] = optional_text(found.get(key)) if found is not None else None
            # 要修正 / 注意 / 問題なし as validated: the 資料 marks △ on the rows with a 注意.
            row["row_state"] = optional_text(found.get("row_state")) if found is not None else None
            rows.append(row)
    consolidated = pd.DataFrame(rows).sort_values(KEY, ignore_index=True)
    indicators = with_achievement(
        plan,
        _indicator_rows(plan, staged_indicators),
        load_indicators(storage, plan.fiscal_year.before),
    )
    return grade_agreement(plan, consolidated, indicators), indicators


def indicator_plan_columns(indicator: Indicator, year: int) -> dict[str, object]:
    """Return what the plan says of an indicator beside each of its figures: the year's
    target, the final target and year, the baseline and its year, the direction."""
    return {
        "target": indicator.targets.get(year),
        "final_target": indicator.final_target,
        "final_year": indicator.final_year,
        "baseline": indicator.baseline,
        "baseline_year": indicator.baseline_year,
        "direction": indicator.direction,
    }


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
                        "value": number_of(value.get("actual_value"))
                        if value is not None
                        else None,
                        "original_text": optional_text(value.get("actual"))
                        if value is not None
                        else None,
                        "status": optional_text(value.get("actual_status"))
                        if value is not None
                        else None,
                    }
                    | indicator_plan_columns(indicator, year)
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


def _by_key(frames: list[pd.DataFrame], key: list[str]) -> dict[tuple[str, ...], dict[str, object]]:
    found: dict[tuple[str, ...], dict[str, object]] = {}
    for frame in frames:
        for record in frame.to_dict("records"):
            found.setdefault(
                tuple(str(record[k]) for k in key), {str(k): v for k, v in record.items()}
            )
    return found
