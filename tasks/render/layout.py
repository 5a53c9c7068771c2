"""How a 資料 is laid out: its table columns, grouping and paper, per seed format or from the plan.

A :class:`Layout` is what the template builders (``tasks.render.template_docx`` and
``template_xlsx``) turn into a Word and an Excel template: Jinja tags naming keys of the
report context (``tasks.render.report``). The shipped presets each have the layout of their
seed; any other plan gets :func:`plan_layout`, which follows the plan itself: one table per
top level, the initiative, its departments and the plan's fields in declared order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tasks.plan.model import Plan

FONT = "ＭＳ 明朝"
GOTHIC = "ＭＳ ゴシック"


@dataclass(frozen=True)
class Column:
    """One table column: its header, its body cell, its width (mm in Word, chars in Excel).

    An empty header continues the header to its left (Word merges the two header cells).
    """

    header: str
    body: str
    width: float
    word: str | None = None
    """The body cell in Word where it differs (Word merges cells with its own tags,
    ``tasks.render.docx``; Excel with ``|vmerge`` in ``body``)."""


@dataclass(frozen=True)
class Layout:
    """How one seed format lays out its 資料."""

    per_goal: bool
    """One table (and one Excel sheet) per 基本目標; else one table for the whole plan."""
    columns: list[Column]
    loop: str = "row"
    """``row`` for initiatives, ``ind`` for indicator rows."""
    heading: str = "{{ levels[0] }}　{{ goal.title }}"
    group_label: str | None = "{{ target.label }}"
    """Per-goal tables: the merged row that opens each leaf group, or None for no groups."""
    excel_group_columns: list[Column] | None = None
    """Per-goal Excel sheets: leading columns merged over equal neighbours (目標, 施策 …)."""
    paper_a3: bool = True
    legend: bool = True
    """Print the grade legend by the tables (the seed grades its rows)."""
    table_heading: str | None = None
    """One-table layouts: the heading above the table, or None (the title section heads it)."""
    title_year: bool = False
    """The ``title`` section prints the year under the title (「令和元年度」)."""


def hyoka_layout(plan: Plan) -> Layout:
    """新潟市南区 評価シート: per 基本目標, grouped by 目標, plan / result / grade / comment."""
    return Layout(
        per_goal=True,
        heading="{{ levels[0] }}　{{ goal.title }}　／　{{ levels[1] }}　{{ goal.section }}",
        columns=[
            Column("{{ initiative_label }}", "{{ row.name }}", 40),
            Column("概要", "{{ row.summary }}", 48),
            Column("担当部署", "{{ row.departments }}", 22),
            Column("{{ labels.previous }}", "{{ row.previous }}", 48),
            Column("{{ labels.plan_text }}", "{{ row.plan_text }}", 48),
            Column("{{ labels.result_text }}", "{{ row.result_text }}", 48),
            Column("{{ labels.grade }}", "{{ row.grade }}{{ row.check }}{{ row.warned }}", 12),
            Column("{{ labels.comment }}", "{{ row.comment }}", 58),
            Column("{{ labels.remarks }}", "{{ row.remarks }}", 22),
        ],
        excel_group_columns=[Column("{{ levels[2] }}", "{{ row.target_label|vmerge }}", 32)],
    )


def kitamoto_layout(plan: Plan) -> Layout:
    """北本市 進捗状況: per 目標, grouped by 施策 and 取組, A–C in words, 事業主体."""
    return Layout(
        per_goal=True,
        group_label=(
            "{{ levels[1] }}　{{ target.section }}　／　{{ levels[2] }}　{{ target.label }}"
        ),
        columns=[
            Column("{{ initiative_label }}", "{{ row.name }}", 36),
            Column("事業内容", "{{ row.summary }}", 46),
            Column("計画最終年度までの目標", "{{ row.final_goal }}", 40),
            Column("{{ labels.progress_text }}", "{{ row.progress_text }}", 56),
            Column(
                "{{ labels.grade }}", "{{ row.grade_shared }}{{ row.check }}{{ row.warned }}", 14
            ),
            Column("{{ labels.reason }}", "{{ row.reason }}", 52),
            Column("{{ labels.next_target }}", "{{ row.next_target }}", 44),
            Column("事業主体", "{{ row.departments_graded }}", 22),
        ],
        excel_group_columns=[
            Column("{{ levels[1] }}", "{{ row.section|vmerge }}", 22),
            Column("{{ levels[2] }}", "{{ row.target_label|vmerge }}", 26),
        ],
    )


def nishitokyo_layout(plan: Plan) -> Layout:
    """西東京市 調査票 資料2: one row per indicator, values across the years, what was done.

    The goal, its pages, the 項目, the department and the texts are merged over the rows
    they cover (a goal's 項目, a 項目's measures); a 項目 with one measure spans both of the
    項目 columns in Word.
    """
    years = plan_indicator_years(plan)
    series = [
        Column(
            "{{ indicator_years[" + str(i) + "].caption }}",
            "{{ ind.series_shown[" + str(i) + "] }}",
            22,
        )
        for i in range(len(years))
    ]
    row = "rows_by_id[ind.initiative_id]"
    return Layout(
        per_goal=False,
        loop="ind",
        legend=False,
        title_year=True,
        columns=[
            _merged("{{ levels[0] }}・{{ levels[1] }}", f"{row}.goal_cell", "goal", 36),
            _merged("ページ番号", f"{row}.goal_pages", "goal", 12),
            _merged(
                "{{ initiative_label }}",
                "ind.item",
                "item",
                28,
                span="{% colspan 1 if ind.measure else 2 %}",
            ),
            Column("", "{{ ind.measure }}", 22, word="{% cellif ind.measure %}{{ ind.measure }}"),
            _merged("担当部署", "ind.department", "department", 20),
            *series,
            Column("{{ final_heading }}", "{{ ind.final_target_shown }}", 22),
            _merged("{{ labels.done_text }}", f"{row}.done_text", "item", 76),
            _merged("{{ labels.next_steps }}", f"{row}.next_steps", "item", 72),
        ],
    )


def _merged(header: str, value: str, run: str, width: float, span: str = "") -> Column:
    """Return a column whose cell is merged over a run of rows (``ind.starts``: goal, item …).

    Excel merges equal neighbours (``|vmerge``); Word merges the rows of the run.
    """
    return Column(
        header,
        "{{ " + value + "|vmerge }}",
        width,
        word=span + "{% vmerge ind.starts." + run + " %}{{ " + value + " }}",
    )


def niigata_nishi_layout(plan: Plan) -> Layout:
    """新潟市西区 資料3-1: NO, ○ under each 基本目標 served, 取組内容, R2実績, 3年後の目標値."""
    marks = [
        Column("{{ levels[0] }}" + str(i + 1), "{{ row.goal_marks[" + str(i) + "] }}", 12)
        for i in range(len(plan.goals))
    ]
    return Layout(
        per_goal=False,
        legend=False,
        columns=[
            Column("NO", "{{ row.no }}", 10),
            *marks,
            Column("{{ initiative_label }}", "{{ row.name }}", 48),
            Column("取組内容", "{{ row.summary }}", 70),
            Column("{{ year_short }}実績", "{{ row.result_text }}", 60),
            Column("3年後の目標値（{{ final_short }}）", "{{ row.final_goal }}", 50),
        ],
    )


def overview_layout(plan: Plan) -> Layout:
    """Plan overview page (計画の概要): the narrative, then each 施策展開の方向性, ◎ for 重点."""
    mark = "{% if row.plain_name in overview.priorities %}◎{% else %}○{% endif %}"
    return Layout(
        per_goal=False,
        paper_a3=False,
        table_heading="{{ initiative_label }}",
        columns=[
            Column("{{ levels[0] }}", "{{ row.goal_title }}", 36),
            Column("{{ initiative_label }}", mark + "{{ row.name }}", 44),
            Column("内容", "{{ row.summary }}", 84),
            Column("担当", "{{ row.departments }}", 22),
            Column("{{ labels.result_text }}", "{{ row.result_text }}", 64),
            Column("{{ labels.grade }}", "{{ row.grade }}{{ row.check }}{{ row.warned }}", 14),
        ],
    )


def plan_layout(plan: Plan) -> Layout:
    """The layout that follows the plan: a table per top level, grouped by the bottom level
    (when there are two or more), the initiative, its departments, every field as declared."""
    grade_key = plan.submission.grade_key
    fields = [
        Column(
            "{{ labels." + f.key + " }}",
            "{{ row."
            + f.key
            + " }}"
            + ("{{ row.check }}{{ row.warned }}" if f.key == grade_key else ""),
            14 if f.kind == "grade" else max(24.0, min(f.width * 1.6, 60.0)),
        )
        for f in plan.submission.fields
    ]
    grouped = len(plan.levels) >= 2
    return Layout(
        per_goal=True,
        heading="{{ levels[0] }}　{{ goal.title }}",
        group_label="{{ levels[-1] }}　{{ target.label }}" if grouped else None,
        columns=[
            Column("{{ initiative_label }}", "{{ row.name }}", 40),
            Column("担当部署", "{{ row.departments }}", 22),
            *fields,
        ],
        excel_group_columns=(
            [Column("{{ levels[-1] }}", "{{ row.target_label|vmerge }}", 30)] if grouped else None
        ),
        paper_a3=len(fields) > 3,
    )


LAYOUTS: dict[str, Callable[[Plan], Layout]] = {
    "hyoka": hyoka_layout,
    "kitamoto": kitamoto_layout,
    "nishitokyo": nishitokyo_layout,
    "niigata-nishi": niigata_nishi_layout,
    "overview": overview_layout,
    "plan": plan_layout,
}


def plan_indicator_years(plan: Plan) -> list[int]:
    """Return the years an indicator table shows: from the earliest baseline to this year."""
    baselines = [
        m.baseline_year
        for i in plan.initiatives
        for m in i.indicators
        if m.baseline_year is not None
    ]
    current = plan.fiscal_year.current
    first = min([*baselines, current])
    return list(range(first, current + 1))


def layout_of(plan: Plan, name: str | None = None) -> Layout:
    """Return the named seed layout (a template folder's name), else the plan's own."""
    return LAYOUTS.get(name or "", plan_layout)(plan)
