"""The 督促一覧 as people use it: a table for the terminal and the UI, a workbook to print.

One row per department to remind: why, what is missing, its latest file, where its files
are, its address and, once mail went, what became of it. Above the table: the deadline and
where today stands, the departments not yet due and those whose file waits for its check.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from tasks.check.feedback import BOLD_FONT, HEADER_FILL, TITLE_FONT, WRAP, style_cell
from tasks.cycle.reminder_settings import ReminderSettings
from tasks.cycle.reminders import ReminderList, deadline_note, japanese_date, locator
from tasks.intake.ledger import japan_time
from tasks.ooxml import normalise_package
from tasks.plan.fiscal_year import fiscal_year_label
from tasks.plan.model import Plan
from tasks.workspace.keys import reminder_list_key
from tasks.workspace.names import visible_text
from tasks.workspace.storage import Storage

REMINDER_COLUMNS = ["部署", "督促の理由", "内容", "最終受付", "案内するファイル", "宛先", "メール"]
_WIDTHS = [20, 20, 40, 22, 60, 26, 30]
NOT_MAILED = "（送っていません）"
NOT_MAILED_PREFIX = "送っていません"
"""How the outcome of a department not mailed begins (no address: ``NO_ADDRESS``)."""


def reminder_rows(
    reminders: ReminderList, locate: Callable[[str], str], outcomes: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """Return one row per department to remind (cells may hold line breaks)."""
    return [
        {
            "部署": r.department,
            "督促の理由": r.reason,
            "内容": r.summary,
            "最終受付": f"{r.received}\n{r.latest_file}" if r.latest_file else "",
            "案内するファイル": "\n".join(f"{label}: {locate(key)}" for label, key in r.files),
            "宛先": r.email or "（plan.yaml に email なし）",
            "メール": (outcomes or {}).get(r.department_id, NOT_MAILED),
        }
        for r in reminders.reminders
    ]


def reminder_heading(plan: Plan, reminders: ReminderList) -> list[str]:
    """Return the lines above the table: title, deadline, who is not due or waits."""
    lines = [
        f"{plan.municipality} {fiscal_year_label(reminders.fiscal_year)} 督促一覧"
        f"（{japanese_date(reminders.today)} 現在）",
        deadline_note(reminders),
    ]
    if not reminders.due and reminders.due_from is not None:
        lines.append(
            f"督促は {japanese_date(reminders.due_from)} からです。いま督促の対象になる部署: "
            + ("、".join(reminders.not_yet_due) or "なし")
        )
    elif not reminders.reminders:
        lines.append("督促する部署はありません。")
    if reminders.waiting:
        lines.append(
            "提出ファイルの確認待ちの部署（督促しません。shiryo run で確認してください）: "
            + "、".join(reminders.waiting)
        )
    return lines


def format_reminder_table(
    plan: Plan,
    reminders: ReminderList,
    locate: Callable[[str], str],
    outcomes: dict[str, str] | None = None,
) -> str:
    """Return the heading and the rows as tab-separated text, to read or paste into Excel."""
    rows = reminder_rows(reminders, locate, outcomes)
    lines = reminder_heading(plan, reminders)
    if rows:
        lines.append("\t".join(REMINDER_COLUMNS))
        lines += ["\t".join(r[c].replace("\n", " ／ ") for c in REMINDER_COLUMNS) for r in rows]
    return "\n".join(lines)


def build_reminder_workbook(
    plan: Plan,
    reminders: ReminderList,
    locate: Callable[[str], str],
    outcomes: dict[str, str] | None = None,
) -> bytes:
    """Return the 督促一覧 workbook: A4 landscape, one page wide, the header on every page."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "督促一覧"
    heading = reminder_heading(plan, reminders)
    for number, line in enumerate(heading, start=1):
        _put(sheet, number, 1, line, TITLE_FONT if number == 1 else None)
    header_row = len(heading) + 2
    for column, (name, width) in enumerate(zip(REMINDER_COLUMNS, _WIDTHS, strict=True), 1):
        _put(sheet, header_row, column, name, BOLD_FONT, HEADER_FILL)
        sheet.column_dimensions[get_column_letter(column)].width = width
    rows = reminder_rows(reminders, locate, outcomes)
    for offset, row in enumerate(rows, start=1):
        values = [row[c] for c in REMINDER_COLUMNS]
        for column, value in enumerate(values, start=1):
            _put(sheet, header_row + offset, column, value, alignment=WRAP)
        sheet.row_dimensions[header_row + offset].height = _height(values)
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _put(
    sheet: Worksheet,
    row: int,
    column: int,
    value: str,
    font: Font | None = None,
    fill: PatternFill | None = None,
    alignment: Alignment | None = None,
) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = visible_text(value)
    cell.data_type = "s"  # a file name such as "=1+1.xlsx" stays text
    style_cell(cell, font, fill, alignment)


def _height(values: list[str]) -> float:
    """Return a row's height for its wrapped text (LibreOffice does not grow a row itself)."""
    lines = max(
        sum(max(1, math.ceil(_units(part) / max(width - 1, 1))) for part in value.split("\n"))
        for value, width in zip(values, _WIDTHS, strict=True)
    )
    return 15.0 * min(lines, 30)


def _units(text: str) -> int:
    """Return the width of text in column units: a full-width character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


@dataclass(frozen=True)
class RemindResult:
    """What a reminder run did: the list as text, where it was written, the mail."""

    fiscal_year: int
    table: str
    """The heading and one row per department, tab-separated (``shiryo remind`` prints it)."""
    list_location: str
    mail_configured: bool
    addressed: int
    """Departments to remind that have a mail address (``departments[].email``)."""
    outcomes: dict[str, str] = field(default_factory=dict)
    """What became of each department's mail (by department id); empty when none went."""


def write_reminder_list(
    plan: Plan,
    storage: Storage,
    reminders: ReminderList,
    settings: ReminderSettings,
    outcomes: dict[str, str],
) -> RemindResult:
    """Write the day's 督促一覧 to ``reminders/<fy>/``; return what the run did.

    With mail sent, the key carries the time it went (Japan time), so that a listing later on
    the same day never replaces the record of what was sent.
    """
    sent_at = None
    if any(not outcome.startswith(NOT_MAILED_PREFIX) for outcome in outcomes.values()):
        sent_at = japan_time(dt.datetime.now(dt.UTC).isoformat())[11:16].replace(":", "")
    key = reminder_list_key(reminders.fiscal_year, reminders.today, sent_at)
    locate = locator(storage, settings.department_folder)
    storage.write_bytes(key, build_reminder_workbook(plan, reminders, locate, outcomes))
    return RemindResult(
        fiscal_year=reminders.fiscal_year,
        table=format_reminder_table(plan, reminders, locate, outcomes),
        list_location=storage.describe(key),
        mail_configured=settings.mail.configured,
        addressed=sum(1 for r in reminders.reminders if r.email),
        outcomes=outcomes,
    )
