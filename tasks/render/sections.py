"""The parts (sections) of a 資料: which ones the preset lists, and which of those have data.

A preset lists its sections in ``report.sections`` of its plan.yaml, in the order its
committee reads them; the templates print each section of that list (the Word template
loops over it, the Excel template's sheets follow it). A listed section is left out when its
data do not exist, so that no page shows only zeros or an empty chart:

- ``cover``: 表紙 lines (municipality, plan, year, title, committee);
- ``title``: the document's title and year, as the seed prints them above its table;
- ``grade_summary``: 評価の集計, counts per goal and in total: only when a grade was given;
- ``grade_chart``: the chart of those counts: only when a grade was given;
- ``submission_status``: 提出状況, the departments without an accepted file;
- ``indicator_summary``: 指標の達成状況 (rate, 前年度比, trend): only when there are indicators;
- ``overview``: 計画の概要 (基本理念, 現状と課題 …): only when the plan has one;
- ``tables``: the preset's own tables (per goal, or one list), always;
- ``notes``: the notes printed under the tables (※１ …): only when the plan has some.
"""

from __future__ import annotations

from typing import Any

from tasks.plan.model import Plan
from tasks.plan.parts import Section

_NEW_PAGE: frozenset[Section] = frozenset({"overview", "tables", "indicator_summary"})
"""Sections that begin a page of their own when something other than the title precedes."""


def section_has_data(section: Section, plan: Plan, context: dict[str, Any]) -> bool:
    """Return whether the section has anything to show in this year's 資料."""
    if section in ("grade_summary", "grade_chart"):
        return bool(context["total"])
    if section == "indicator_summary":
        return bool(context["indicators"])
    if section == "overview":
        return plan.overview is not None
    if section == "notes":
        return bool(plan.report.notes)
    return True


def shown_sections(plan: Plan, context: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the sections to print, in the plan's order: ``key`` and ``new_page``.

    ``context`` is the report context built so far (it needs ``total`` and ``indicators``).
    """
    keys = [s for s in plan.report.sections if section_has_data(s, plan, context)]
    return [
        {
            "key": key,
            "new_page": key in _NEW_PAGE and position > 0 and keys[position - 1] != "title",
        }
        for position, key in enumerate(keys)
    ]
