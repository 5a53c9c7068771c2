"""One initiative's row of the 資料: each department's part joined, graded, marked.

An initiative may have several departments (健康福祉課 and 社会福祉協議会): their texts are
joined (each attributed where they differ), their grades shown once when they agree, and the
row marked ※ (grade and numbers disagree) or △ (passed with a 注意).
"""

from __future__ import annotations

from typing import Any

from tasks.dataset.values import number_of, text_of
from tasks.intake.ledger import Ledger
from tasks.plan.model import Plan


def initiative_values(plan: Plan, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one initiative's values; each department's differing part is attributed."""
    keys = ["previous_result_text", *[f.key for f in plan.submission.fields]]
    submitted = [p for p in parts if p.get("submitted")]
    row: dict[str, Any] = {"departments": "\n".join(str(p["department_name"]) for p in parts)}
    for key in keys:
        texts = [(str(p["department_name"]), text_of(p.get(key))) for p in submitted]
        texts = [(d, t) for d, t in texts if t]
        if len(texts) <= 1 or len({t for _, t in texts}) == 1:
            row[key] = texts[0][1] if texts else ""
        else:
            row[key] = "\n".join(f"【{d}】{t}" for d, t in texts)
    grade_key = plan.submission.grade_key
    row["grades"] = [str(p[grade_key]) for p in submitted if text_of(p.get(grade_key))]
    if not submitted:
        row[grade_key] = "未提出"
    row.update(_graded_departments(plan, parts, submitted))
    row["previous"] = row.pop("previous_result_text")
    implied = [text_of(p.get("implied_grade")) for p in parts]
    row["implied_grade"] = "／".join(dict.fromkeys(g for g in implied if g))
    rates = [p.get("achievement_rate") for p in parts]
    row["achievement"] = "／".join(f"{r:.0%}" for r in rates if number_of(r) is not None)
    disagrees = any(p.get("grade_disagrees") is True for p in parts)
    row["check"] = plan.report.check_mark if disagrees else ""
    return row


def passed_with_warnings(part: dict[str, Any], warned_files: set[str]) -> bool:
    """Return whether a department's part of a row passed with a 注意 (△ in the 資料)."""
    state = text_of(part.get("row_state"))
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
    grades = {str(p["department_name"]): text_of(p.get(grade_key)) for p in submitted}
    if len({g for g in grades.values() if g}) <= 1:
        shared = next((g for g in grades.values() if g), "")
        return {"grade_shared": shared, "departments_graded": _names(parts)}
    lines = [f"{name}{grades.get(name, '')}" for name in _names(parts).split("\n")]
    return {"grade_shared": "", "departments_graded": "\n".join(lines)}


def _names(parts: list[dict[str, Any]]) -> str:
    return "\n".join(str(p["department_name"]) for p in parts)


def missing_departments(plan: Plan, ledger: Ledger) -> list[dict[str, str]]:
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
