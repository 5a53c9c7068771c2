"""Submission workbooks (調査票): one per department and fiscal year, written with openpyxl.

The main sheet has one row per initiative of the department: structure columns (locked), last
year's result (locked, prefilled), then the plan's input fields (unlocked, yellow), the grade
as an in-sheet list dropdown. A second sheet asks for indicator values when the department
has any. A very hidden sheet carries the identity the pipeline checks on the way back.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tasks.ooxml import normalise_package
from tasks.plan.fiscal_year import wareki_label
from tasks.plan.load import call_version
from tasks.plan.model import Plan
from tasks.plan.parts import Initiative

IDENTITY_SHEET = "_shiryo"
IDENTITY_MARK = "shiryo-submission"
IDENTITY_KEYS = (
    "format",
    "municipality",
    "department_id",
    "department_name",
    "fiscal_year",
    "template_version",
    "plan_hash",
)
ID_HEADER = "事業ID"
INDICATOR_ID_HEADER = "指標ID"
INDICATOR_INPUT_HEADER = "{year}年度実績"
INDICATOR_NOTE_HEADER = "備考"
HEADER_ROW = 5
GROUP_GRADED = "（グループで評価）"
"""Shown in the grade cell of a row graded once with its group (the group's first row)."""

_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_GROUPED_FILL = PatternFill("solid", fgColor="EDEDED")
_FONT = Font(name="ＭＳ ゴシック", size=10)
_WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class PreviousValues:
    """Last year's figures to prefill: results by (initiative, department), indicator values."""

    results: Mapping[tuple[str, str], str]
    indicators: Mapping[tuple[str, str], float]
    """Indicator values by (initiative_id, indicator_id)."""


def field_label(plan: Plan, label: str) -> str:
    """Return a header label with the plan's years filled in.

    Placeholders: ``{year}``, ``{previous}``, ``{next}`` (西暦, e.g. 2021) and
    ``{year_wareki}``, ``{previous_wareki}``, ``{next_wareki}`` (和暦, e.g. 令和3年度).
    """
    year = plan.fiscal_year.current
    previous = plan.fiscal_year.before
    return label.format(
        year=year,
        previous=previous,
        next=year + 1,
        year_wareki=wareki_label(year),
        previous_wareki=wareki_label(previous),
        next_wareki=wareki_label(year + 1),
    )


def group_graded_rows(plan: Plan, department_id: str) -> dict[str, str]:
    """Return the department's rows graded with their group: initiative id → the group's first.

    A group (``grade_group`` in the plan) takes one grade, on its first row in the workbook.
    """
    leads: dict[str, str] = {}
    members: dict[str, str] = {}
    for initiative in plan.initiatives_of(department_id):
        group = initiative.grade_group
        if group is None:
            continue
        if group in leads:
            members[initiative.id] = leads[group]
        else:
            leads[group] = initiative.id
    return members


def structure_headers(plan: Plan) -> list[str]:
    """Return the locked columns' headers of the main sheet, in order."""
    return [
        ID_HEADER,
        *plan.levels,
        plan.initiative_label,
        "概要",
        "担当部署",
        field_label(plan, plan.submission.previous_label),
    ]


def build_submission_workbook(
    plan: Plan, department_id: str, previous: PreviousValues | None = None
) -> bytes:
    """Return the bytes of one department's submission workbook for the plan's fiscal year."""
    previous = previous or PreviousValues(results={}, indicators={})
    department = plan.department(department_id)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = plan.submission.sheet_name
    _write_main_sheet(plan, sheet, department_id, previous)
    initiatives = plan.initiatives_of(department_id)
    if any(i.indicators_of(department_id) for i in initiatives):
        indicator_sheet = workbook.create_sheet(plan.submission.indicator_sheet_name)
        _write_indicator_sheet(plan, indicator_sheet, department_id, initiatives, previous)
    identity = workbook.create_sheet(IDENTITY_SHEET)
    values = {
        "format": IDENTITY_MARK,
        "municipality": plan.municipality,
        "department_id": department.id,
        "department_name": department.name,
        "fiscal_year": str(plan.fiscal_year.current),
        "template_version": plan.submission.template_version,
        "plan_hash": call_version(plan),
    }
    for row, key in enumerate(IDENTITY_KEYS, start=1):
        identity.cell(row=row, column=1, value=key)
        identity.cell(row=row, column=2, value=values[key]).data_type = "s"
    identity.sheet_state = "veryHidden"
    identity.protection.sheet = True
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook.properties.creator = "shiryo"
    workbook.properties.title = f"{plan.municipality} {plan.submission.sheet_name}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _write_main_sheet(
    plan: Plan, sheet: Worksheet, department_id: str, previous: PreviousValues
) -> None:
    fields = plan.submission.fields
    headers = structure_headers(plan) + [field_label(plan, f.label) for f in fields]
    _write_sheet_head(plan, sheet, plan.department(department_id).name, headers)
    paths = {p.initiative.id: p.goal_path for p in plan.placements() if not p.is_repost}
    first_input_col = len(structure_headers(plan)) + 1
    initiatives = plan.initiatives_of(department_id)
    grouped = group_graded_rows(plan, department_id)
    grade_col = first_input_col + [f.key for f in fields].index(plan.submission.grade_key)
    for offset, initiative in enumerate(initiatives):
        row = HEADER_ROW + 1 + offset
        goal_titles = [g.title for g in paths[initiative.id]]
        goal_titles += [""] * (len(plan.levels) - len(goal_titles))
        department_names = "、".join(plan.department(d).name for d in initiative.departments)
        locked_values = [
            initiative.id,
            *goal_titles,
            initiative.name,
            initiative.summary,
            department_names,
            previous.results.get((initiative.id, department_id), ""),
        ]
        for col, value in enumerate(locked_values, start=1):
            cell = sheet.cell(row=row, column=col, value=value)
            cell.data_type = "s"
            cell.border, cell.font, cell.alignment = _BORDER, _FONT, _WRAP
        for col in range(first_input_col, first_input_col + len(fields)):
            cell = sheet.cell(row=row, column=col)
            cell.fill, cell.border, cell.font, cell.alignment = _INPUT_FILL, _BORDER, _FONT, _WRAP
            cell.protection = Protection(locked=False)
        if initiative.id in grouped:
            cell = sheet.cell(row=row, column=grade_col, value=GROUP_GRADED)
            cell.fill, cell.protection = _GROUPED_FILL, Protection(locked=True)
    _add_grade_dropdown(plan, sheet, grade_col, HEADER_ROW + max(len(initiatives), 1))
    widths = [10] + [16] * len(plan.levels) + [24, 30, 12, 24] + [f.width for f in fields]
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _finish_sheet(sheet, len(headers))


def _write_sheet_head(plan: Plan, sheet: Worksheet, department: str, headers: list[str]) -> None:
    """Write the title, the guidance, the grade legend and the header row."""
    sheet["A1"] = (
        f"{plan.municipality} {plan.plan_name} {plan.fiscal_year.current}年度 "
        f"{plan.submission.sheet_name}（{department}）"
    )
    sheet["A1"].font = Font(name="ＭＳ ゴシック", size=14, bold=True)
    sheet["A2"] = (
        "黄色のセルに入力してください。評価は一覧から選んでください。"
        "行・列の追加や削除、シート名の変更はしないでください。"
    )
    sheet["A3"] = f"〔{plan.grade_scale.title}〕　{plan.grade_scale.legend()}"
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=col, value=header)
        cell.fill, cell.border, cell.font = _HEADER_FILL, _BORDER, _FONT
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")


def _add_grade_dropdown(plan: Plan, sheet: Worksheet, grade_col: int, last_row: int) -> None:
    """Let the grade column take only the scale's codes, with the legend as its prompt."""
    grade_letter = get_column_letter(grade_col)
    dropdown = DataValidation(
        type="list",
        formula1='"' + ",".join(plan.grade_scale.codes) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="評価の入力",
        error=f"評価は {'、'.join(plan.grade_scale.codes)} のいずれかを選んでください。",
        showInputMessage=True,
        promptTitle="評価",
        prompt=plan.grade_scale.legend()[:255],
    )
    dropdown.add(f"{grade_letter}{HEADER_ROW + 1}:{grade_letter}{last_row}")
    sheet.add_data_validation(dropdown)


def _write_indicator_sheet(
    plan: Plan,
    sheet: Worksheet,
    department_id: str,
    initiatives: list[Initiative],
    previous: PreviousValues,
) -> None:
    year = plan.fiscal_year.current
    prev_year = plan.fiscal_year.before
    headers = [
        ID_HEADER,
        INDICATOR_ID_HEADER,
        plan.initiative_label,
        "指標",
        "単位",
        "現状値",
        f"{prev_year}年度実績",
        f"{year}年度目標",
        INDICATOR_INPUT_HEADER.format(year=year),
        INDICATOR_NOTE_HEADER,
    ]
    sheet["A1"] = f"{plan.municipality} {year}年度 指標の実績（{sheet.title}）"
    sheet["A1"].font = Font(name="ＭＳ ゴシック", size=14, bold=True)
    sheet["A2"] = "黄色のセルに数値を入力してください（単位は不要です）。"
    for col, header in enumerate(headers, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=col, value=header)
        cell.fill, cell.border, cell.font = _HEADER_FILL, _BORDER, _FONT
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    row = HEADER_ROW
    for initiative in initiatives:
        for indicator in initiative.indicators_of(department_id):
            row += 1
            locked = [
                initiative.id,
                indicator.id,
                initiative.name,
                indicator.name,
                indicator.unit,
                indicator.baseline,
                previous.indicators.get((initiative.id, indicator.id)),
                indicator.targets.get(year),
            ]
            for col, value in enumerate(locked, start=1):
                cell = sheet.cell(row=row, column=col, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                cell.border, cell.font, cell.alignment = _BORDER, _FONT, _WRAP
            for col in (len(locked) + 1, len(locked) + 2):
                cell = sheet.cell(row=row, column=col)
                cell.fill, cell.border, cell.font = _INPUT_FILL, _BORDER, _FONT
                cell.protection = Protection(locked=False)
                # Text format: "91.1%" or "4,510件" arrive as typed, not as Excel's 0.911.
                cell.number_format = "@"
    for col, width in enumerate([10, 22, 28, 26, 8, 10, 12, 12, 12, 20], start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    _finish_sheet(sheet, len(headers))


def _finish_sheet(sheet: Worksheet, columns: int) -> None:
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A3
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_area = f"A1:{get_column_letter(columns)}{max(sheet.max_row, HEADER_ROW)}"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
