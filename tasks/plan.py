"""The plan (地域福祉計画) as typed data: hierarchy, initiatives, departments, grades, profile.

A preset lives in ``config/presets/<name>/plan.yaml``. It is loaded once at flow start with
:func:`load_plan` and passed down as a frozen :class:`Plan`. Every rule that can be checked
without a submission is checked here, so that later steps may trust the plan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tasks.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
PRESETS_DIR = REPO_ROOT / "config" / "presets"

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
"""An ASCII identifier safe in folder names, S3 keys and Prefect artifact keys."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Department(_Model):
    """A responsible department (担当部署)."""

    id: Slug
    name: str = Field(min_length=1)


class Grade(_Model):
    """One step of the grade scale (評価), best first in the scale."""

    code: str = Field(min_length=1, max_length=8)
    label: str
    criterion: str = ""
    min_rate: float | None = Field(default=None, ge=0)
    """Lowest achievement rate (実績/目標) that earns this grade; ``None`` for a grade that
    no rate implies (such as ``D ほとんど実施せず``)."""


class GradeScale(_Model):
    """The grade scale with its legend text (評価の指標)."""

    title: str = "評価の指標"
    grades: list[Grade] = Field(min_length=2)

    @property
    def codes(self) -> list[str]:
        return [grade.code for grade in self.grades]

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
        return self


class Indicator(_Model):
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
    final_year: int | None = None
    reported_by: list[Slug] = Field(default_factory=list)
    """Departments that report this indicator; empty means every department of the initiative."""


class Initiative(_Model):
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


class Goal(_Model):
    """A node of the plan's hierarchy (基本目標 → 分野別計画 → 目標 …)."""

    id: Slug
    title: str = Field(min_length=1)
    children: list[Goal] = Field(default_factory=list)
    initiatives: list[Slug] = Field(default_factory=list)
    """Initiatives listed directly under this node, in the plan's order."""


class FiscalYears(_Model):
    """The year being reported and the one before it (西暦 fiscal years)."""

    current: int = Field(ge=1989, le=2200)
    previous: int | None = Field(default=None, ge=1989, le=2200)
    final: int | None = Field(default=None, ge=1989, le=2200)
    """The plan's target year (目標年度, 計画最終年度), printed in headers such as
    「令和5年度（目標値）」; ``None`` where the 資料 names no such year."""


class SubmissionField(_Model):
    """One input column of the submission workbook (調査票).

    ``label`` may contain ``{year}`` and ``{previous}``, replaced by the fiscal years.
    """

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
    label: str
    kind: Literal["text", "grade"] = "text"
    required: bool = False
    max_length: int = Field(default=2000, ge=1, le=32767)
    width: float = Field(default=24, gt=0)


class SubmissionLayout(_Model):
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
"""A part of the 資料 (see ``tasks.sections`` for what each one prints)."""

DEFAULT_SECTIONS: tuple[Section, ...] = (
    "cover",
    "grade_summary",
    "grade_chart",
    "submission_status",
    "indicator_summary",
    "overview",
    "tables",
)


class ReportProfile(_Model):
    """Which templates render the committee's 資料, what the header says, what it holds."""

    name: Slug
    title: str
    document_number: str = ""
    docx_template: str
    xlsx_template: str
    suite: str
    """Name of the expectation suite in ``expectations/`` (without ``.json``)."""
    indicator_suite: str = "indicators"
    """Suite for the indicator sheet (指標), so that a preset can set its own severities."""
    sections: list[Section] = Field(default_factory=lambda: list(DEFAULT_SECTIONS), min_length=1)
    """The parts of the 資料 in the order printed, as the municipality's committee reads them;
    a listed part whose data do not exist (no grade given, no indicator) is left out."""
    notes: list[str] = Field(default_factory=list)
    """Notes printed under the tables (※１ …), shown where ``notes`` is a section."""

    @model_validator(mode="after")
    def _check_sections(self) -> ReportProfile:
        _require_unique("report section", list(self.sections))
        return self


_Identified = TypeVar("_Identified", "Department", "Initiative")
_INDEXES: dict[int, tuple[Sequence[Any], dict[str, Any]]] = {}
_MAX_INDEXES = 32
_INDEX_LOCK = threading.Lock()


def _by_id(items: Sequence[_Identified]) -> dict[str, _Identified]:
    """Return an index by id of a plan's list, made once per list (ids are unique).

    Lookups run for every row of a dataset; a scan each time made consolidation quadratic.
    The index is keyed by the list itself (a plan copied with other initiatives has another
    list), and only the most recent few are kept.
    """
    with _INDEX_LOCK:  # steps may run in threads
        hit = _INDEXES.get(id(items))
        if hit is None or hit[0] is not items:
            if len(_INDEXES) >= _MAX_INDEXES:
                _INDEXES.pop(next(iter(_INDEXES)))
            hit = (items, {item.id: item for item in items})
            _INDEXES[id(items)] = hit
        return hit[1]


class Plan(_Model):
    """A municipality's plan, the year being reported, and how it is reported."""

    schema_version: Literal[1]
    municipality: str
    plan_name: str
    committee: str = "地域福祉計画推進委員会"
    levels: list[str] = Field(min_length=1)
    """Names of the hierarchy levels, top first (基本目標, 分野別計画, 目標)."""
    initiative_label: str = "取り組み・事業"
    fiscal_year: FiscalYears
    grade_scale: GradeScale
    departments: list[Department] = Field(min_length=1)
    goals: list[Goal] = Field(min_length=1)
    initiatives: list[Initiative] = Field(min_length=1)
    submission: SubmissionLayout
    report: ReportProfile
    overview: PlanOverview | None = None

    @model_validator(mode="after")
    def _check_references(self) -> Plan:
        _require_unique("department id", [d.id for d in self.departments])
        _require_unique("initiative id", [i.id for i in self.initiatives])
        _require_unique("goal id", [g.id for g, _ in self.iter_goals()])
        department_ids = {d.id for d in self.departments}
        for initiative in self.initiatives:
            unknown = [d for d in initiative.departments if d not in department_ids]
            if unknown:
                raise ValueError(f"initiative {initiative.id} names unknown departments {unknown}")
            _require_unique(
                f"indicator id in {initiative.id}", [i.id for i in initiative.indicators]
            )
            for indicator in initiative.indicators:
                strangers = set(indicator.reported_by) - set(initiative.departments)
                if strangers:
                    raise ValueError(
                        f"indicator {initiative.id}/{indicator.id} is reported_by departments "
                        f"outside its initiative: {sorted(strangers)}"
                    )
        initiative_ids = {i.id for i in self.initiatives}
        placed: set[str] = set()
        for goal, depth in self.iter_goals():
            if depth >= len(self.levels):
                raise ValueError(f"goal {goal.id} is deeper than the {len(self.levels)} levels")
            unknown = [i for i in goal.initiatives if i not in initiative_ids]
            if unknown:
                raise ValueError(f"goal {goal.id} lists unknown initiatives {unknown}")
            placed.update(goal.initiatives)
        unplaced = sorted(initiative_ids - placed)
        if unplaced:
            raise ValueError(f"initiatives under no goal: {unplaced}")
        return self

    def iter_goals(self) -> Iterator[tuple[Goal, int]]:
        """Yield every goal node depth-first with its depth (0 = top level)."""
        stack: list[tuple[Goal, int]] = [(g, 0) for g in reversed(self.goals)]
        while stack:
            goal, depth = stack.pop()
            yield goal, depth
            stack.extend((child, depth + 1) for child in reversed(goal.children))

    def department(self, department_id: str) -> Department:
        """Return the department with this id."""
        return _by_id(self.departments)[department_id]

    def initiative(self, initiative_id: str) -> Initiative:
        """Return the initiative with this id."""
        return _by_id(self.initiatives)[initiative_id]

    def initiatives_of(self, department_id: str) -> list[Initiative]:
        """Return the active initiatives a department reports on, in plan order."""
        return [
            i
            for i in self.ordered_initiatives()
            if department_id in i.departments and i.status == "active"
        ]

    def ordered_initiatives(self) -> list[Initiative]:
        """Return each initiative once, in the order it first appears under a goal."""
        seen: dict[str, Initiative] = {}
        for goal, _ in self.iter_goals():
            for initiative_id in goal.initiatives:
                seen.setdefault(initiative_id, self.initiative(initiative_id))
        return list(seen.values())

    def placements(self) -> list[Placement]:
        """Return every (goal path, initiative) listing; later listings are 再掲 (reposts)."""
        placements: list[Placement] = []
        first_seen: set[str] = set()
        for path in self._goal_paths():
            for initiative_id in path[-1].initiatives:
                placements.append(
                    Placement(
                        goal_path=tuple(path),
                        initiative=self.initiative(initiative_id),
                        is_repost=initiative_id in first_seen,
                    )
                )
                first_seen.add(initiative_id)
        return placements

    def _goal_paths(self) -> Iterator[list[Goal]]:
        def walk(goal: Goal, prefix: list[Goal]) -> Iterator[list[Goal]]:
            path = [*prefix, goal]
            yield path
            for child in goal.children:
                yield from walk(child, path)

        for goal in self.goals:
            yield from walk(goal, [])


class PlanOverview(_Model):
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


class Placement(_Model):
    """One listing of an initiative under a goal path, as the 資料 shows it."""

    goal_path: tuple[Goal, ...]
    initiative: Initiative
    is_repost: bool


def _require_unique(what: str, values: list[str]) -> None:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what} repeats: {repeated}")


def resolve_config_path(config: str | Path) -> Path:
    """Return the plan file for a preset name or a path to a plan.yaml or its folder.

    A folder holding a plan.yaml wins over a preset of the same name; any other file or
    folder of that name (a workspace named like the preset, say) does not hide the preset.
    """
    candidate = Path(config)
    if candidate.is_dir():
        candidate = candidate / "plan.yaml"
    preset = PRESETS_DIR / str(config) / "plan.yaml"
    if not candidate.is_file() and preset.is_file():
        candidate = preset
    if not candidate.is_file():
        shadow = (
            f"（{Path(config).resolve()} にも plan.yaml がありません）"
            if Path(config).exists()
            else ""
        )
        raise ConfigError(
            f"{config}: そのようなプリセットや plan.yaml はありません{shadow}"
            f"（同梱のプリセット: {', '.join(list_presets())}）"
        )
    return candidate


def list_presets() -> list[str]:
    """Return the names of the shipped presets."""
    return sorted(p.name for p in PRESETS_DIR.iterdir() if (p / "plan.yaml").is_file())


def load_plan(config: str | Path) -> Plan:
    """Load and validate a plan; a malformed file stops with file, key path and problem."""
    path = resolve_config_path(config)
    raw = _read_yaml(path)
    try:
        return Plan.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_describe_validation_error(path, err)) from err


def plan_hash(plan: Plan) -> str:
    """Return a short content hash of the plan, embedded in workbooks and cache keys."""
    canonical = plan.model_dump_json(exclude_none=False).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


def _read_yaml(path: Path) -> object:
    try:
        # libyaml's loader when PyYAML was built with it: a large plan loads ~10x faster.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: ファイルを読めません: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(
            f"{path}: YAML として読めません（インデントや記号を確認してください）: {err}"
        ) from err


def _describe_validation_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: 計画の設定に {err.error_count()} 件の問題があります"]
    for problem in err.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  場所 {location}: {problem['msg']}")
    return "\n".join(lines)


def plan_for_year(plan: Plan, fiscal_year: int | None) -> Plan:
    """Return the plan reporting on ``fiscal_year`` (the year before as previous)."""
    if fiscal_year is None or fiscal_year == plan.fiscal_year.current:
        return plan
    years = FiscalYears(current=fiscal_year, previous=fiscal_year - 1)
    return plan.model_copy(update={"fiscal_year": years})
