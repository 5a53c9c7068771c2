"""The report context: everything a 資料 template may show, built from plan and dataset.

Both renderers (Word and Excel) read this one context, so the two documents always agree.
Text is kept as the departments wrote it; each initiative is listed under every goal it
belongs to, later listings marked （再掲）.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tasks.intake import Ledger
from tasks.plan import Plan
from tasks.workbook import field_label


def build_report_context(
    plan: Plan,
    consolidated: pd.DataFrame,
    indicators: pd.DataFrame,
    previous_indicators: pd.DataFrame,
    ledger: Ledger,
) -> dict[str, Any]:
    """Return the context of the year's 資料 (JSON-like: dicts, lists, strings, numbers)."""
    year = plan.fiscal_year.current
    previous_year = plan.fiscal_year.previous or year - 1
    codes = plan.grade_scale.codes
    by_initiative: dict[str, list[dict[str, Any]]] = {}
    for record in consolidated.to_dict("records"):
        by_initiative.setdefault(str(record["initiative_id"]), []).append(
            {str(k): v for k, v in record.items()}
        )

    placements = plan.placements()
    goals: list[dict[str, Any]] = []
    for top in plan.goals:
        rows: list[dict[str, Any]] = []
        counts = dict.fromkeys(codes, 0)
        for placement in placements:
            if placement.goal_path[0].id != top.id:
                continue
            parts = by_initiative.get(placement.initiative.id, [])
            row = _row(plan, placement.initiative.name, placement.initiative.summary, parts)
            path = placement.goal_path
            row["target"] = path[-1].title if len(path) > 2 else ""
            row["section"] = path[1].title if len(path) > 1 else ""
            row["is_repost"] = placement.is_repost
            if placement.is_repost:
                row["name"] += "（再掲）"
            else:
                for part in parts:
                    if part.get("grade") in counts:
                        counts[str(part["grade"])] += 1
            rows.append(row)
        _number_targets(rows)
        targets: list[dict[str, Any]] = []
        for row in rows:
            if not targets or targets[-1]["label"] != row["target_label"]:
                targets.append({"label": row["target_label"], "rows": []})
            targets[-1]["rows"].append(row)
        goals.append(
            {
                "title": top.title,
                "section": ", ".join(dict.fromkeys(r["section"] for r in rows if r["section"])),
                "rows": rows,
                "targets": targets,
                "counts": [counts[c] for c in codes],
                "breakdown": "　".join(f"{c} {counts[c]}" for c in codes),
                "total": sum(counts.values()),
            }
        )
    totals = [sum(g["counts"][i] for g in goals) for i in range(len(codes))]
    return {
        "municipality": plan.municipality,
        "plan_name": plan.plan_name,
        "committee": plan.committee,
        "title": plan.report.title,
        "document_number": plan.report.document_number,
        "fiscal_year": year,
        "previous_year": previous_year,
        "levels": plan.levels,
        "initiative_label": plan.initiative_label,
        "labels": {
            "previous": field_label(plan, plan.submission.previous_label),
            **{f.key: field_label(plan, f.label) for f in plan.submission.fields},
        },
        "legend_title": plan.grade_scale.title,
        "legend": plan.grade_scale.legend(),
        "grades": [
            {"code": g.code, "label": g.label, "criterion": g.criterion}
            for g in plan.grade_scale.grades
        ],
        "grade_codes": codes,
        "goals": goals,
        "totals": totals,
        "total": sum(totals),
        "grade_totals": [
            {
                "code": g.code,
                "label": g.label,
                "criterion": f"（{g.criterion}）" if g.criterion else "",
                "count": count,
                "share": f"{count / sum(totals):.0%}" if sum(totals) else "",
            }
            for g, count in zip(plan.grade_scale.grades, totals, strict=True)
        ],
        "missing": _missing_departments(plan, ledger),
        "indicators": _indicator_rows(plan, indicators, previous_indicators),
    }


def _row(plan: Plan, name: str, summary: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ["previous_result_text", *[f.key for f in plan.submission.fields]]
    submitted = [p for p in parts if p.get("submitted")]
    row: dict[str, Any] = {
        "name": name,
        "summary": summary,
        "departments": "\n".join(str(p["department_name"]) for p in parts),
    }
    for key in keys:
        texts = [(str(p["department_name"]), _text(p.get(key))) for p in submitted]
        texts = [(d, t) for d, t in texts if t]
        if len(texts) <= 1 or len({t for _, t in texts}) == 1:
            row[key] = texts[0][1] if texts else ""
        else:
            row[key] = "\n".join(f"【{d}】{t}" for d, t in texts)
    if not submitted:
        row[plan.submission.grade_key] = "未提出"
    row["previous"] = row.pop("previous_result_text")
    return row


def _number_targets(rows: list[dict[str, Any]]) -> None:
    # The seed numbers 目標 within each 基本目標: （１）, （２）, …
    numbers: dict[str, int] = {}
    for row in rows:
        if row["target"] and row["target"] not in numbers:
            numbers[row["target"]] = len(numbers) + 1
        if row["target"]:
            row["target_label"] = f"（{_zenkaku(numbers[row['target']])}）{row['target']}"
        else:
            row["target_label"] = ""


def _missing_departments(plan: Plan, ledger: Ledger) -> list[dict[str, str]]:
    statuses: dict[str, set[str]] = {}
    for entry in ledger.entries:
        if entry.department_id:
            statuses.setdefault(entry.department_id, set()).add(entry.status)
    missing = []
    for department in plan.departments:
        seen = statuses.get(department.id, set())
        if "accepted" in seen:
            continue
        state = "差戻し中（再提出待ち）" if "rejected" in seen else "未提出"
        missing.append({"id": department.id, "name": department.name, "state": state})
    return missing


def _indicator_rows(
    plan: Plan, indicators: pd.DataFrame, previous: pd.DataFrame
) -> list[dict[str, Any]]:
    previous_values = (
        {(r.initiative_id, r.indicator_id, r.department_id): r.value for r in previous.itertuples()}
        if not previous.empty
        else {}
    )
    rows = []
    for record in indicators.to_dict("records"):
        key = (record["initiative_id"], record["indicator_id"], record["department_id"])
        value = _number(record.get("value"))
        before = _number(previous_values.get(key))
        target = _number(record.get("target"))
        rows.append(
            {
                "initiative": plan.initiative(str(record["initiative_id"])).name,
                "indicator": record["indicator_name"],
                "unit": record["unit"] or "",
                "baseline": _format(_number(record.get("baseline"))),
                "previous": _format(before),
                "target": _format(target),
                "actual": _format(value) if value is not None else _text(record.get("status")),
                "rate": f"{value / target:.0%}" if value is not None and target else "",
                "yoy": f"{value / before:.0%}" if value is not None and before else "",
            }
        )
    return rows


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return float(value)


def _format(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _zenkaku(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
