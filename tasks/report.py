"""The report context: everything a 資料 template may show, built from plan and dataset.

Both renderers (Word and Excel) read this one context, so the two documents always agree, and
every preset's templates choose what they show from it. Text is kept as the departments wrote
it. The context (all plain dicts, lists, strings and numbers):

- header: ``municipality``, ``plan_name``, ``committee``, ``title``, ``document_number``,
  ``fiscal_year`` / ``previous_year`` (西暦), ``year_label`` ("2021年度（令和3年度）"),
  ``year_wareki`` ("令和3年度"), ``levels``, ``initiative_label``, ``labels`` (column headers
  by field key, plus ``previous``), ``legend_title``, ``legend``, ``grades``, ``grade_codes``;
- ``goals``: one per top goal, with ``targets`` (leaf groups, ``label`` like "（１）…") whose
  ``rows`` are the initiatives listed there (a later listing is marked （再掲）), and the goal's
  grade ``counts``, ``breakdown`` and ``total`` (an initiative counts once, where first listed);
- ``initiatives``: each initiative once, in plan order, with ``goal_marks`` (○ per top goal);
  ``rows_by_id`` the same rows by initiative id (for indicator tables);
- a row: ``no``, ``id``, ``name``, ``plain_name``, ``summary``, ``final_goal``,
  ``departments``, ``previous``, every field key, ``grade_shared`` and
  ``departments_graded`` (北本市: one grade per row, or a grade after each department's
  name), ``implied_grade``, ``achievement``,
  ``check`` (※ where the department's grade differs from what the numbers imply),
  ``warned`` (△ where the department's file passed with warnings, see its 差戻し票),
  ``goal_marks``, ``goal_title`` (the top goal where first listed), ``indicators``;
- ``totals``, ``total``, ``grade_totals``; ``marks_used`` (a row carries ※ or △);
  ``missing`` (departments without an accepted file);
- ``indicators``: one per indicator value with ``series`` over ``indicator_years`` (baseline,
  history, this year; each year with ``label`` and ``heading``, 「平成29年度（現状値）」 for the
  baseline year), ``series_shown`` (numbers with their unit), target, rate, 前年度比 and trend;
  ``overview`` (the plan's narrative); ``notes`` (printed under the tables);
- years: ``year_short`` ("R2"), ``final_year`` / ``final_wareki`` / ``final_short`` (the plan's
  目標年度, or None / "") and ``final_heading`` (「令和5年度（目標値）」, else 「目標値」);
- ``sections``: the parts to print, in order (``key``, ``new_page``; see ``tasks.sections``),
  and ``shown``, their keys.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from tasks.fiscal_year import fiscal_year_label, wareki_label
from tasks.intake import Ledger
from tasks.plan import Plan
from tasks.sections import shown_sections
from tasks.workbook import field_label

_TREND_JA = {"improving": "改善", "worsening": "悪化", "flat": "横ばい"}
_ERA_LETTERS = {"明治": "M", "大正": "T", "昭和": "S", "平成": "H", "令和": "R"}


def build_report_context(
    plan: Plan,
    consolidated: pd.DataFrame,
    indicators: pd.DataFrame,
    history: pd.DataFrame,
    ledger: Ledger,
) -> dict[str, Any]:
    """Return the context of the year's 資料.

    ``history`` holds earlier years' indicator rows (with ``fiscal_year``), possibly empty.
    """
    year = plan.fiscal_year.current
    codes = plan.grade_scale.codes
    indicator_rows, indicator_years = _indicator_rows(plan, indicators, history)
    parts_of: dict[str, list[dict[str, Any]]] = {}
    for record in _records(consolidated):
        parts_of.setdefault(str(record["initiative_id"]), []).append(record)
    numbers = {i.id: n for n, i in enumerate(plan.ordered_initiatives(), start=1)}
    top_ids = [g.id for g in plan.goals]
    marks: dict[str, list[str]] = {}
    home: dict[str, str] = {}
    for placement in plan.placements():
        row_marks = marks.setdefault(placement.initiative.id, [""] * len(top_ids))
        row_marks[top_ids.index(placement.goal_path[0].id)] = "○"
        home.setdefault(placement.initiative.id, placement.goal_path[0].title)

    warned = {e.sha256 for e in ledger.entries if e.status == "accepted" and e.warnings}

    def make_row(initiative_id: str) -> dict[str, Any]:
        initiative = plan.initiative(initiative_id)
        row = _row(plan, parts_of.get(initiative_id, []))
        parts = parts_of.get(initiative_id, [])
        row["warned"] = "△" if any(_warned(p, warned) for p in parts) else ""
        if initiative.status == "ended":
            row[plan.submission.grade_key] = "（事業終了）"
        row.update(
            no=numbers[initiative_id],
            id=initiative_id,
            name=initiative.name,
            plain_name=initiative.name,
            summary=initiative.summary,
            final_goal=initiative.final_goal,
            goal_marks=marks[initiative_id],
            goal_title=home[initiative_id],
            indicators=[r for r in indicator_rows if r["initiative_id"] == initiative_id],
        )
        return row

    goals = [_goal(plan, top.id, make_row) for top in plan.goals]
    initiatives = [make_row(i.id) for i in plan.ordered_initiatives()]
    totals = [sum(g["counts"][i] for g in goals) for i in range(len(codes))]
    final = plan.fiscal_year.final
    context = {
        "municipality": plan.municipality,
        "plan_name": plan.plan_name,
        "committee": plan.committee,
        "title": plan.report.title,
        "document_number": plan.report.document_number,
        "fiscal_year": year,
        "previous_year": plan.fiscal_year.previous or year - 1,
        "year_label": fiscal_year_label(year),
        "year_wareki": wareki_label(year),
        "year_short": _wareki_short(year),
        "final_year": final,
        "final_wareki": wareki_label(final) if final else "",
        "final_short": _wareki_short(final) if final else "",
        "final_heading": f"{wareki_label(final)}（目標値）" if final else "目標値",
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
        "goal_titles": [g.title for g in plan.goals],
        "goals": goals,
        "initiatives": initiatives,
        "rows_by_id": {row["id"]: row for row in initiatives},
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
        "indicators": indicator_rows,
        "indicator_years": indicator_years,
        "overview": plan.overview.model_dump() if plan.overview else None,
        "notes": list(plan.report.notes),
        "marks_used": any(r["check"] or r["warned"] for r in initiatives),
    }
    sections = shown_sections(plan, context)
    return {**context, "sections": sections, "shown": [s["key"] for s in sections]}


def _goal(plan: Plan, top_id: str, make_row: Any) -> dict[str, Any]:
    codes = plan.grade_scale.codes
    counts = dict.fromkeys(codes, 0)
    targets: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    sections: list[str] = []
    for placement in plan.placements():
        path = placement.goal_path
        if path[0].id != top_id:
            continue
        row = make_row(placement.initiative.id)
        row["is_repost"] = placement.is_repost
        row["section"] = path[1].title if len(path) > 1 else ""
        row["target"] = path[-1].title if len(path) > 2 else ""
        if placement.is_repost:
            row["name"] = f"{row['name']}（再掲）"
        else:
            for grade in row["grades"]:
                if grade in counts:
                    counts[grade] += 1
        if row["section"] and row["section"] not in sections:
            sections.append(row["section"])
        if not targets or targets[-1]["title"] != row["target"]:
            number = sum(1 for t in targets if t["title"]) + 1
            label = f"（{_zenkaku(number)}）{row['target']}" if row["target"] else ""
            targets.append(
                {"title": row["target"], "label": label, "section": row["section"], "rows": []}
            )
        row["target_label"] = targets[-1]["label"]
        targets[-1]["rows"].append(row)
        rows.append(row)
    top = next(g for g in plan.goals if g.id == top_id)
    return {
        "no": plan.goals.index(top) + 1,
        "title": top.title,
        "section": "、".join(sections),
        "targets": targets,
        "rows": rows,
        "counts": [counts[c] for c in codes],
        "breakdown": "　".join(f"{c} {counts[c]}" for c in codes),
        "total": sum(counts.values()),
    }


def _row(plan: Plan, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one initiative's values; each department's differing part is attributed."""
    keys = ["previous_result_text", *[f.key for f in plan.submission.fields]]
    submitted = [p for p in parts if p.get("submitted")]
    row: dict[str, Any] = {"departments": "\n".join(str(p["department_name"]) for p in parts)}
    for key in keys:
        texts = [(str(p["department_name"]), _text(p.get(key))) for p in submitted]
        texts = [(d, t) for d, t in texts if t]
        if len(texts) <= 1 or len({t for _, t in texts}) == 1:
            row[key] = texts[0][1] if texts else ""
        else:
            row[key] = "\n".join(f"【{d}】{t}" for d, t in texts)
    grade_key = plan.submission.grade_key
    row["grades"] = [str(p[grade_key]) for p in submitted if _text(p.get(grade_key))]
    if not submitted:
        row[grade_key] = "未提出"
    row.update(_graded_departments(plan, parts, submitted))
    row["previous"] = row.pop("previous_result_text")
    implied = [_text(p.get("implied_grade")) for p in parts]
    row["implied_grade"] = "／".join(dict.fromkeys(g for g in implied if g))
    rates = [p.get("achievement_rate") for p in parts]
    row["achievement"] = "／".join(f"{r:.0%}" for r in rates if _number(r) is not None)
    row["check"] = "※" if any(p.get("grade_disagrees") is True for p in parts) else ""
    return row


def _warned(part: dict[str, Any], warned_files: set[str]) -> bool:
    """Return whether a department's part of a row passed with a 注意 (△ in the 資料)."""
    state = _text(part.get("row_state"))
    if state:  # rows checked since row states were kept: the row's own findings
        return state == "注意"
    return part.get("sha256") in warned_files


def _graded_departments(
    plan: Plan, parts: list[dict[str, Any]], submitted: list[dict[str, Any]]
) -> dict[str, str]:
    """Return ``grade_shared`` and ``departments_graded``, the way 北本市 prints a row.

    When the departments of a row agree (or one reports), the grade stands in the grade
    column once and 事業主体 lists the names; when they differ the grade column is empty and
    each name carries its own grade (共生福祉課B 市長公室B 社協A). A row graded with its
    group has no grade of its own and shows none.
    """
    grade_key = plan.submission.grade_key
    if parts:  # in the plan's order of the initiative's departments, as the seed lists them
        order = plan.initiative(str(parts[0]["initiative_id"])).departments
        parts = sorted(parts, key=lambda p: order.index(str(p["department_id"])))
    if not submitted:
        return {"grade_shared": "未提出", "departments_graded": _names(parts)}
    grades = {str(p["department_name"]): _text(p.get(grade_key)) for p in submitted}
    if len({g for g in grades.values() if g}) <= 1:
        shared = next((g for g in grades.values() if g), "")
        return {"grade_shared": shared, "departments_graded": _names(parts)}
    lines = [f"{name}{grades.get(name, '')}" for name in _names(parts).split("\n")]
    return {"grade_shared": "", "departments_graded": "\n".join(lines)}


def _names(parts: list[dict[str, Any]]) -> str:
    return "\n".join(str(p["department_name"]) for p in parts)


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
    plan: Plan, indicators: pd.DataFrame, history: pd.DataFrame
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    year = plan.fiscal_year.current
    earlier: dict[tuple[str, str, str], dict[int, tuple[float | None, str]]] = {}
    for record in _records(history):
        key = (
            str(record["initiative_id"]),
            str(record["indicator_id"]),
            str(record["department_id"]),
        )
        shown = _shown(record)
        earlier.setdefault(key, {})[int(record["fiscal_year"])] = (
            _number(record.get("value")),
            shown,
        )
    years = sorted({y for series in earlier.values() for y in series if y < year} | {year})
    rows = []
    for record in _records(indicators):
        key = (
            str(record["initiative_id"]),
            str(record["indicator_id"]),
            str(record["department_id"]),
        )
        series = dict(earlier.get(key, {}))
        series[year] = (_number(record.get("value")), _shown(record))
        baseline = _number(record.get("baseline"))
        rate = _number(record.get("achievement_rate"))
        yoy = _number(record.get("yoy_ratio"))
        name = plan.initiative(str(record["initiative_id"])).name
        unit = _text(record.get("unit"))
        texts = [series.get(y, (None, ""))[1] for y in years]
        rows.append(
            {
                "initiative_id": str(record["initiative_id"]),
                "initiative": name,
                "indicator": record["indicator_name"],
                "item": name
                if record["indicator_name"] == name
                else f"{name}\n{record['indicator_name']}",
                "series_shown": [
                    f"{t}{unit}" if series.get(y, (None, ""))[0] is not None else t
                    for y, t in zip(years, texts, strict=True)
                ],
                "department": plan.department(str(record["department_id"])).name,
                "unit": _text(record.get("unit")),
                "direction": "↓" if record.get("direction") == "lower" else "↑",
                "baseline": _format(baseline),
                "baseline_year": _text(record.get("baseline_year")),
                "series": texts,
                "previous": _format(_number(record.get("previous_value"))),
                "actual": _shown(record),
                "target": _format(_number(record.get("target_used"))),
                "final_target": _format(_number(record.get("final_target"))),
                "final_target_shown": _with_unit(_number(record.get("final_target")), unit),
                "rate": f"{rate:.0%}" if rate is not None else "",
                "yoy": f"{yoy:.0%}" if yoy is not None else "",
                "trend": _TREND_JA.get(_text(record.get("trend")), ""),
                "implied_grade": _text(record.get("implied_grade")),
            }
        )
    baselines = {m.baseline_year for i in plan.initiatives for m in i.indicators}
    labels = [
        {
            "year": y,
            "label": wareki_label(y),
            "western": f"{y}年度",
            "heading": f"{wareki_label(y)}（現状値）" if y in baselines else wareki_label(y),
        }
        for y in years
    ]
    return rows, labels


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _shown(record: dict[str, Any]) -> str:
    """Return an indicator value as the 資料 shows it: the number, else the status word."""
    value = _number(record.get("value"))
    if value is not None:
        return _format(value)
    return _text(record.get("status")) or _text(record.get("original_text"))


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return float(value)


def _format(value: float | None) -> str:
    """Return a number as printed: thousands separated, up to two decimals (2.09, 48.4)."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _with_unit(value: float | None, unit: str) -> str:
    return f"{_format(value)}{unit}" if value is not None else ""


def _wareki_short(fiscal_year: int) -> str:
    """Return the short 和暦 of a fiscal year as seeds print it: 2020 → ``R2``, 2018 → ``H30``."""
    label = wareki_label(fiscal_year).removesuffix("年度").replace("元", "1")
    return _ERA_LETTERS[label[:2]] + label[2:]


def _zenkaku(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
