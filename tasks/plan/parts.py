"""The parts of a plan: departments, grades, indicators, initiatives, goals, years, layouts.

Each is a frozen pydantic model checked on its own; :class:`tasks.plan.model.Plan` puts them
together and checks what spans them (every id named exists, once).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
"""An ASCII identifier safe in folder names, S3 keys and Prefect artifact keys."""


class PlanModel(BaseModel):
    """A part of the plan: frozen once loaded, and no key it does not know."""

    # Attribute docstrings become the JSON Schema's descriptions (editors show them).
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


_MAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_MAIL_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_MAIL_ADDRESS = re.compile(
    rf"{_MAIL_ATOM}(?:\.{_MAIL_ATOM})*@{_MAIL_LABEL}(?:\.{_MAIL_LABEL})+", re.ASCII
)


def is_mail_address(text: str) -> bool:
    """Return whether ``text`` is one plain mail address (``name@example.lg.jp``), ASCII only."""
    return len(text) <= 254 and _MAIL_ADDRESS.fullmatch(text) is not None


def mail_address_problem(text: str) -> str:
    """Return what is wrong with a mail address as written, in Japanese, with an example."""
    if any(ord(char) > 0x7F for char in text):
        hint = "全角の文字（＠ や ． など）は使えません。半角で"
    elif "@" not in text:
        hint = "「@」がありません。"
    else:
        hint = ""
    return (
        f"「{text}」はメールアドレスの形ではありません。{hint}"
        "「名前@ドメイン」の形で 1 つだけ書いてください（例: kenko@city.example.lg.jp）"
    )


class Department(PlanModel):
    """A responsible department (担当部署)."""

    id: Slug
    name: str = Field(min_length=1)
    email: str | None = None
    """Where reminders (督促) to this department are mailed (``kenko@city.example.lg.jp``);
    none: the department is listed in the 督促 list, never mailed."""
    contact: str = ""
    """Whom a reminder addresses (担当者, e.g. ``地域福祉係 山田``); empty: ご担当者."""

    @model_validator(mode="after")
    def _check_email(self) -> Department:
        if self.email is not None and not is_mail_address(self.email):
            problem = mail_address_problem(self.email)
            raise ValueError(f"部署「{self.name}」（{self.id}）の email: {problem}")
        return self


class Grade(PlanModel):
    """One step of the grade scale (評価), best first in the scale."""

    code: str = Field(min_length=1, max_length=8)
    label: str
    criterion: str = ""
    min_rate: float | None = Field(default=None, ge=0)
    """Lowest achievement rate (実績/目標) that earns this grade; ``None`` for a grade that
    no rate implies (such as ``D ほとんど実施せず``)."""
    aliases: list[str] = Field(default_factory=list)
    """Other ways departments write this grade, taken as it (``〇`` and ``◯`` for ``○``)."""


class GradeScale(PlanModel):
    """The grade scale with its legend text (評価の指標)."""

    title: str = "評価の指標"
    grades: list[Grade] = Field(min_length=2)

    @property
    def codes(self) -> list[str]:
        return [grade.code for grade in self.grades]

    @property
    def has_thresholds(self) -> bool:
        """Return whether any grade follows from an achievement rate (else: words only)."""
        return any(g.min_rate is not None for g in self.grades)

    def canonical(self, grade: str | None) -> str | None:
        """Return the code a written grade stands for (an alias becomes its grade's code)."""
        for candidate in self.grades:
            if grade in candidate.aliases:
                return candidate.code
        return grade

    def legend(self) -> str:
        """Return the one-line legend used in workbooks and 資料."""
        parts = []
        for grade in self.grades:
            criterion = f"（{grade.criterion}）" if grade.criterion else ""
            parts.append(f"{grade.code}．{grade.label}{criterion}")
        return "　".join(parts)

    @model_validator(mode="after")
    def _check_order(self) -> GradeScale:
        codes = self.codes
        if len(set(codes)) != len(codes):
            raise ValueError(f"grade codes repeat: {codes}")
        rates = [g.min_rate for g in self.grades if g.min_rate is not None]
        if rates != sorted(rates, reverse=True):
            raise ValueError("min_rate must fall from the best grade to the worst")
        aliases = [a for g in self.grades for a in g.aliases]
        if len(set(aliases)) != len(aliases) or set(aliases) & set(codes):
            raise ValueError(f"an alias repeats or is a grade code: {aliases}")
        return self


class Indicator(PlanModel):
    """A numeric indicator (指標) of an initiative, with baseline and targets."""

    id: Slug
    name: str
    unit: str = ""
    direction: Literal["higher", "lower"] = "higher"
    baseline: float | None = None
    baseline_year: int | None = None
    targets: dict[int, float] = Field(default_factory=dict)
    """Yearly targets by fiscal year (西暦)."""
    final_target: float | None = None
    final_target_text: str = ""
    """The final target as the plan book prints it (「58.40%」), shown in the 資料 instead of
    ``final_target`` with the unit; empty to show the number."""
    final_year: int | None = None
    reported_by: list[Slug] = Field(default_factory=list)
    """Departments that report this indicator; empty means every department of the initiative."""


class Initiative(PlanModel):
    """An initiative (取り組み・事業): stored once, listed under one or more goals."""

    id: Slug
    name: str = Field(min_length=1)
    summary: str = ""
    departments: list[Slug] = Field(min_length=1)
    indicators: list[Indicator] = Field(default_factory=list)
    final_goal: str = ""
    """The plan's goal for the initiative in words (計画最終年度までの目標, 3年後の目標値)."""
    status: Literal["active", "ended"] = "active"
    """``ended``: kept in the plan for its history, no longer asked for or expected."""
    grade_group: Slug | None = None
    """Initiatives sharing a group id are graded once (グループで評価): in each department's
    workbook the group's first row takes the grade, the others show （グループで評価）."""

    def indicators_of(self, department_id: str) -> list[Indicator]:
        """Return the indicators this department reports for the initiative."""
        return [i for i in self.indicators if department_id in (i.reported_by or self.departments)]


class Goal(PlanModel):
    """A node of the plan's hierarchy (基本目標 → 分野別計画 → 目標 …)."""

    id: Slug
    title: str = Field(min_length=1)
    children: list[Goal] = Field(default_factory=list)
    initiatives: list[Slug] = Field(default_factory=list)
    """Initiatives listed directly under this node, in the plan's order."""
    pages: str = ""
    """Where the plan book describes this node (ページ番号, e.g. 33-36), for 資料 that print it."""


class FiscalYears(PlanModel):
    """The year being reported and the one before it (西暦 fiscal years)."""

    current: int = Field(ge=1989, le=2200)
    previous: int | None = Field(default=None, ge=1989, le=2200)
    final: int | None = Field(default=None, ge=1989, le=2200)
    """The plan's target year (目標年度, 計画最終年度), printed in headers such as
    「令和5年度（目標値）」; ``None`` where the 資料 names no such year."""
    first: int | None = Field(default=None, ge=1989, le=2200)
    """The plan's first year (計画1年目): the year's heading in indicator tables says
    「（計画N年目）」; ``None`` where the 資料 prints no such mark."""

    @property
    def before(self) -> int:
        """Return the year compared against: ``previous`` when set, else the year before."""
        return self.previous if self.previous is not None else self.current - 1


class SubmissionField(PlanModel):
    """One input column of the submission workbook (調査票).

    ``label`` may contain ``{year}`` and ``{previous}``, replaced by the fiscal years.
    """

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
    label: str
    kind: Literal["text", "grade"] = "text"
    required: bool = False
    max_length: int = Field(default=2000, ge=1, le=32767)
    width: float = Field(default=24, gt=0)


class SubmissionLayout(PlanModel):
    """How the department workbook looks and what it asks for."""

    sheet_name: str = "調査票"
    indicator_sheet_name: str = "指標"
    template_version: str = "1"
    previous_label: str = "{previous}年度（実績）"
    """Header of the read-only column prefilled with last year's result."""
    fields: list[SubmissionField] = Field(min_length=1)
    result_key: str = "result_text"
    """The field holding the year's result, shown as last year's result the year after."""
    deadline: dt.date | None = None
    """Submission deadline (提出期限): a department with no accepted file is late after it."""

    @model_validator(mode="after")
    def _check_fields(self) -> SubmissionLayout:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError(f"field keys repeat: {keys}")
        if sum(1 for f in self.fields if f.kind == "grade") != 1:
            raise ValueError("exactly one field must have kind: grade")
        if self.result_key not in keys:
            raise ValueError(f"result_key {self.result_key!r} is not one of the fields {keys}")
        return self

    @property
    def grade_key(self) -> str:
        return next(f.key for f in self.fields if f.kind == "grade")


Section = Literal[
    "cover",
    "title",
    "grade_summary",
    "grade_chart",
    "submission_status",
    "indicator_summary",
    "overview",
    "tables",
    "notes",
]
"""A part of the 資料 (see ``tasks.render.sections`` for what each one prints)."""

DEFAULT_SECTIONS: tuple[Section, ...] = (
    "cover",
    "grade_summary",
    "grade_chart",
    "submission_status",
    "indicator_summary",
    "overview",
    "tables",
)


class ReportProfile(PlanModel):
    """Which templates render the committee's 資料, what the header says, what it holds."""

    name: Slug = "shiryo"
    title: str = "進捗状況"
    document_number: str = ""
    docx_template: str | None = None
    """The Word template: a file beside plan.yaml, one under ``templates/``, or None for the
    layout that follows the plan (``tasks.render.layout``)."""
    xlsx_template: str | None = None
    """The Excel template, found the same way; None for the layout that follows the plan."""
    suite: str | None = None
    """Rules laid over those that follow from the plan's fields: a suite name in
    ``expectations/`` or a .json beside plan.yaml (``tasks.check.suites``); None for none."""
    indicator_suite: str = "indicators"
    """Rules for the indicator sheet (指標) over the shipped ``indicators`` suite."""
    sections: list[Section] = Field(default_factory=lambda: list(DEFAULT_SECTIONS), min_length=1)
    """The parts of the 資料 in the order printed, as the municipality's committee reads them;
    a listed part whose data do not exist (no grade given, no indicator) is left out."""
    notes: list[str] = Field(default_factory=list)
    """Notes printed under the tables (※１ …), shown where ``notes`` is a section."""
    count_by: Literal["initiative", "answer"] = "initiative"
    """Grade counts per 事業 (once each, the worst grade where its departments differ) or per
    department's answer."""
    warning_mark: str = Field(default="△", min_length=1, max_length=2)
    """Beside a row accepted with a 注意 (never one of the grade codes)."""
    check_mark: str = Field(default="※", min_length=1, max_length=2)
    """Beside a row whose self-evaluation differs from the grade its numbers imply."""
    year_marks: dict[int, str] = Field(default_factory=dict)
    """Marks after a year's heading in indicator tables, by 西暦 year (「※１※２」: the notes
    say why)."""
    year_mark: str = ""
    """The mark after the heading of every other year of values up to the reported one (「※２」)."""

    @model_validator(mode="after")
    def _check_sections(self) -> ReportProfile:
        require_unique("report section", list(self.sections))
        return self


class PlanOverview(PlanModel):
    """The plan's narrative page (計画の概要): philosophy, issues, policies, priorities."""

    philosophy: str = ""
    """基本理念."""
    issues: list[str] = Field(default_factory=list)
    """現状と課題, one paragraph each."""
    policies: list[str] = Field(default_factory=list)
    """基本方針."""
    priorities: list[str] = Field(default_factory=list)
    """重点的に取り組む項目."""
    aims: list[str] = Field(default_factory=list)
    """めざす状態."""


class Placement(PlanModel):
    """One listing of an initiative under a goal path, as the 資料 shows it."""

    goal_path: tuple[Goal, ...]
    initiative: Initiative
    is_repost: bool


def require_unique(what: str, values: list[str]) -> None:
    repeated = sorted(v for v, times in Counter(values).items() if times > 1)
    if repeated:
        raise ValueError(f"{what} repeats: {repeated}")
