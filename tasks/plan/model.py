"""The plan (地域福祉計画) as typed data: hierarchy, initiatives, departments, grades, profile.

A preset lives in ``config/presets/<name>/plan.yaml``. It is loaded once at flow start with
:func:`load_plan` and passed down as a frozen :class:`Plan`. Every rule that can be checked
without a submission is checked here, so that later steps may trust the plan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar, cast

from pydantic import Field, model_validator

from tasks.plan.parts import (
    Department,
    FiscalYears,
    Goal,
    GradeScale,
    Initiative,
    Placement,
    PlanModel,
    PlanOverview,
    ReportProfile,
    SubmissionLayout,
    require_unique,
)

_Identified = TypeVar("_Identified", "Department", "Initiative")
_Made = TypeVar("_Made")
_INDEXES: dict[int, tuple[Any, Any]] = {}
_ORDERED: dict[int, tuple[Any, Any]] = {}
_MAX_INDEXES = 32
_INDEX_LOCK = threading.RLock()  # one list made may ask for another (an index)


def _made_once(
    table: dict[int, tuple[Any, Any]], owner: object, make: Callable[[], _Made]
) -> _Made:
    """Return what ``make`` makes of ``owner`` (frozen), made once per owner and kept in
    ``table`` by the owner itself; only the most recent few are kept."""
    with _INDEX_LOCK:  # steps may run in threads
        hit = table.get(id(owner))
        if hit is None or hit[0] is not owner:
            if len(table) >= _MAX_INDEXES:
                table.pop(next(iter(table)))
            hit = (owner, make())
            table[id(owner)] = hit
        return cast(_Made, hit[1])


def _by_id(items: Sequence[_Identified]) -> dict[str, _Identified]:
    """Return an index by id of a plan's list, made once per list (ids are unique).

    Lookups run for every row of a dataset; a scan each time made consolidation quadratic.
    The index is keyed by the list itself (a plan copied with other initiatives has another
    list).
    """
    return _made_once(_INDEXES, items, lambda: {item.id: item for item in items})


class Plan(PlanModel):
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
    report: ReportProfile = Field(default_factory=ReportProfile)
    overview: PlanOverview | None = None

    @model_validator(mode="after")
    def _check_references(self) -> Plan:
        marks = {self.report.warning_mark, self.report.check_mark}
        if marks & set(self.grade_scale.codes):
            raise ValueError(
                f"report.warning_mark / check_mark {sorted(marks)} are grade codes: "
                "choose other marks (e.g. warning_mark: ▲)"
            )
        require_unique("department id", [d.id for d in self.departments])
        require_unique("initiative id", [i.id for i in self.initiatives])
        require_unique("goal id", [g.id for g, _ in self.iter_goals()])
        department_ids = {d.id for d in self.departments}
        for initiative in self.initiatives:
            unknown = [d for d in initiative.departments if d not in department_ids]
            if unknown:
                raise ValueError(f"initiative {initiative.id} names unknown departments {unknown}")
            require_unique(
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
        """Return each initiative once, in the order it first appears under a goal.

        Made once per plan (it is frozen): each department's rows ask for it again.
        """
        return list(_made_once(_ORDERED, self, self._first_listed))

    def _first_listed(self) -> list[Initiative]:
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
