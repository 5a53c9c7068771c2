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
  baseline year, and ``caption``, the heading with its marks: 「令和元年度\n※２\n（計画1年目）」),
  ``series_shown`` (numbers with their unit), ``final_target_shown``, target, rate, 前年度比
  and trend; ``item`` (the 項目 with its note) and ``measure`` (the indicator's name where the
  項目 has several); ``starts`` (``goal``, ``item``, ``department``: the row begins a run that
  the tables merge);
  ``overview`` (the plan's narrative); ``notes`` (printed under the tables);
- years: ``year_short`` ("R2"), ``final_year`` / ``final_wareki`` / ``final_short`` (the plan's
  目標年度, or None / "") and ``final_heading`` (「令和5年度（目標値）」, else 「目標値」);
- ``sections``: the parts to print, in order (``key``, ``new_page``; see ``tasks.render.sections``),
  and ``shown``, their keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from tasks.call.workbook import field_label
from tasks.intake.ledger import Ledger
from tasks.plan.fiscal_year import fiscal_year_label, wareki_label, wareki_short
from tasks.plan.model import Plan
from tasks.render.indicators import indicator_rows, records
from tasks.render.rows import initiative_values, missing_departments, passed_with_warnings
from tasks.render.sections import shown_sections

RowMaker = Callable[[str], dict[str, Any]]
"""Builds an initiative's row of the 資料 from its id (a fresh dict each call)."""


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
    indicator_table, indicator_years = indicator_rows(plan, indicators, history)
    make_row = _row_maker(plan, consolidated, indicator_table, ledger)
    goals = [_goal(plan, top.id, make_row) for top in plan.goals]
    initiatives = [make_row(i.id) for i in plan.ordered_initiatives()]
    totals = [sum(g["counts"][i] for g in goals) for i in range(len(plan.grade_scale.codes))]
    context = {
        **_header(plan),
        "goals": goals,
        "initiatives": initiatives,
        "rows_by_id": {row["id"]: row for row in initiatives},
        "totals": totals,
        "total": sum(totals),
        "grade_totals": _grade_totals(plan, totals),
        "missing": missing_departments(plan, ledger),
        "indicators": indicator_table,
        "indicator_years": indicator_years,
        "overview": plan.overview.model_dump() if plan.overview else None,
        "notes": list(plan.report.notes),
        "marks_used": any(r["check"] or r["warned"] for r in initiatives),
    }
    sections = shown_sections(plan, context)
    return {**context, "sections": sections, "shown": [s["key"] for s in sections]}


def _header(plan: Plan) -> dict[str, Any]:
    """Return what the 資料 says of itself: who, which year, which plan, which labels."""
    year = plan.fiscal_year.current
    final = plan.fiscal_year.final
    return {
        "municipality": plan.municipality,
        "plan_name": plan.plan_name,
        "committee": plan.committee,
        "title": plan.report.title,
        "document_number": plan.report.document_number,
        "fiscal_year": year,
        "previous_year": plan.fiscal_year.before,
        "year_label": fiscal_year_label(year),
        "year_wareki": wareki_label(year),
        "year_short": wareki_short(year),
        "final_year": final,
        "final_wareki": wareki_label(final) if final else "",
        "final_short": wareki_short(final) if final else "",
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
        "grade_codes": plan.grade_scale.codes,
        "goal_titles": [g.title for g in plan.goals],
        "warning_mark": plan.report.warning_mark,
        "check_mark": plan.report.check_mark,
    }


def _grade_totals(plan: Plan, totals: list[int]) -> list[dict[str, Any]]:
    """Return each grade with its count and share of all graded initiatives."""
    return [
        {
            "code": g.code,
            "label": g.label,
            "criterion": f"（{g.criterion}）" if g.criterion else "",
            "count": count,
            "share": f"{count / sum(totals):.0%}" if sum(totals) else "",
        }
        for g, count in zip(plan.grade_scale.grades, totals, strict=True)
    ]


def _row_maker(
    plan: Plan,
    consolidated: pd.DataFrame,
    indicator_table: list[dict[str, Any]],
    ledger: Ledger,
) -> RowMaker:
    """Return the builder of initiative rows over the year's consolidated parts."""
    parts_of: dict[str, list[dict[str, Any]]] = {}
    for record in records(consolidated):
        parts_of.setdefault(str(record["initiative_id"]), []).append(record)
    numbers = {i.id: n for n, i in enumerate(plan.ordered_initiatives(), start=1)}
    marks, home = _goal_marks(plan)
    cells = _goal_cells(plan)
    warned = {e.sha256 for e in ledger.entries if e.status == "accepted" and e.warnings}

    def make_row(initiative_id: str) -> dict[str, Any]:
        initiative = plan.initiative(initiative_id)
        parts = parts_of.get(initiative_id, [])
        row = initiative_values(plan, parts)
        warned_here = any(passed_with_warnings(p, warned) for p in parts)
        row["warned"] = plan.report.warning_mark if warned_here else ""
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
            goal_cell=cells[home[initiative_id]][0],
            goal_pages=cells[home[initiative_id]][1],
            indicators=[r for r in indicator_table if r["initiative_id"] == initiative_id],
        )
        return row

    return make_row


def _goal_cells(plan: Plan) -> dict[str, tuple[str, str]]:
    """Return by top goal title its cell as 西東京市 prints it, and its page numbers.

    「基本目標１」, the title, then each next-level title on a line 「　・…」.
    """
    return {
        goal.title: (
            f"{plan.levels[0]}{_zenkaku(number)}\n{goal.title}"
            + "".join(f"\n　・{child.title}" for child in goal.children),
            goal.pages,
        )
        for number, goal in enumerate(plan.goals, start=1)
    }


def _goal_marks(plan: Plan) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Return each initiative's ○ per top goal it serves, and the top goal where first listed."""
    top_ids = [g.id for g in plan.goals]
    marks: dict[str, list[str]] = {}
    home: dict[str, str] = {}
    for placement in plan.placements():
        row_marks = marks.setdefault(placement.initiative.id, [""] * len(top_ids))
        row_marks[top_ids.index(placement.goal_path[0].id)] = "○"
        home.setdefault(placement.initiative.id, placement.goal_path[0].title)
    return marks, home


def _goal(plan: Plan, top_id: str, make_row: RowMaker) -> dict[str, Any]:
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
        # The bottom level the initiative is listed under (目標 of three, 施策 of two levels).
        row["target"] = path[-1].title if len(path) > 1 else ""
        if placement.is_repost:
            row["name"] = f"{row['name']}（再掲）"
        else:
            for grade in _counted_grades(plan, row["grades"]):
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


def _counted_grades(plan: Plan, grades: list[str]) -> list[str]:
    """Return what an initiative adds to the grade counts.

    Per 事業 (``report.count_by: initiative``, the default): one grade, the worst its
    departments gave when they differ. Per answer (``answer``): each department's grade.
    """
    codes = plan.grade_scale.codes
    known = [g for g in grades if g in codes]
    if plan.report.count_by == "answer" or not known:
        return known
    return [max(known, key=codes.index)]


def _zenkaku(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
