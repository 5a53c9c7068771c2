"""Validate a batch of submissions with Great Expectations suites stored as JSON.

All files of a run are validated together: their rows are stacked into one frame per sheet
kind and checked by one GX validation each, and the failing rows are split back per file and
cell. A suite is a list of ``type`` + ``kwargs`` + ``severity`` + ``meta``; ``meta`` holds the
Japanese message for departments (``message_ja``), what is expected (``expected_ja``) and the
column it is about (``column``). ``critical`` findings reject a file; ``warning`` ones are
reported and the file is still accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tasks.call.workbook import GROUP_GRADED, IDENTITY_SHEET, group_graded_rows
from tasks.check.gx_context import RECORD_ID, run_suite
from tasks.check.normalise import normalise_grade, parse_numbers, with_declared_units
from tasks.check.read import ReadSubmission
from tasks.check.suites import GRADE_OR_GROUP
from tasks.errors import ConfigError
from tasks.plan.load import call_version
from tasks.plan.model import Plan


@dataclass(frozen=True)
class Finding:
    """One problem in one file, at one cell where there is one (指摘事項)."""

    sha256: str
    sheet: str | None
    cell: str | None
    severity: str
    """``critical`` (blocks the file) or ``warning`` (reported, file accepted)."""
    message: str
    found: str | None
    expected: str
    rule: str
    initiative_id: str | None = None
    """The row's initiative (事業ID) for a finding on a table row; ``None`` for the file."""


FINDING_COLUMNS = [
    "sha256",
    "sheet",
    "cell",
    "severity",
    "message",
    "found",
    "expected",
    "rule",
    "initiative_id",
]


@dataclass(frozen=True)
class StagedBatch:
    """A batch's rows, stacked for validation.

    ``identity``: one row per file (its folder and its embedded identity). ``main``: one row
    per row of the main sheet, text as written, grades folded (``Ａ`` → ``A``) beside the raw
    text. ``indicators``: one row per indicator row, numbers parsed beside the original text.
    ``cells``: where each value was written (sha256, sheet, column, cell): a column letter
    for table columns (the row is the record's), a whole reference for identity values.
    Frames only, so that a batch passes between tasks and processes cheaply.
    """

    identity: pd.DataFrame
    main: pd.DataFrame
    indicators: pd.DataFrame
    cells: pd.DataFrame


_CELL_COLUMNS = ["sha256", "sheet", "column", "cell"]
# Derived columns name the cell they were derived from.
_DERIVED_FROM = {
    "actual_value": "actual",
    "actual_ok": "actual",
    "actual_normalised": "actual",
    "actual_status": "actual",
    "initiative_key": "initiative_id",
    GRADE_OR_GROUP: "grade",
    "indicator_key": "indicator_id",
    "call_version_state": "identity_plan_hash",
}


def stage_frames(plan: Plan, reads: dict[str, tuple[str | None, ReadSubmission]]) -> StagedBatch:
    """Return the rows of the files read as frames ready for validation.

    ``reads`` maps each file's sha256 to (department folder, what was read).
    """
    identity_rows: list[dict[str, object]] = []
    main_rows: list[dict[str, object]] = []
    indicator_rows: list[dict[str, object]] = []
    cells: list[tuple[str, str, str, str]] = []
    for sha256, (department_id, read) in sorted(reads.items()):
        identity: dict[str, object] = {
            "sha256": sha256,
            "department_id": department_id,
            "sheet": IDENTITY_SHEET,
            "row": 0,
        }
        identity_rows.append(identity | {f"identity_{k}": v for k, v in read.identity.items()})
        cells += [
            (sha256, IDENTITY_SHEET, f"identity_{key}", cell)
            for key, cell in read.identity_cells.items()
        ]
        for sheet, letters in read.columns.items():
            cells += [(sha256, sheet, column, letter) for column, letter in letters.items()]
        base: dict[str, object] = {"sha256": sha256, "department_id": department_id}
        main_rows += [base | {"sheet": r.sheet, "row": r.row} | r.values for r in read.records]
        indicator_rows += [
            base | {"sheet": r.sheet, "row": r.row} | r.values for r in read.indicator_records
        ]
    main = pd.DataFrame(main_rows)
    if not main.empty:
        grade_key = plan.submission.grade_key
        grades = main[grade_key] if grade_key in main else pd.Series(None, index=main.index)
        main[f"{grade_key}_raw"] = grades
        main[grade_key] = [
            plan.grade_scale.canonical(normalise_grade(g if isinstance(g, str) else None))
            for g in grades
        ]
        main = _with_group_grades(plan, main, grade_key)
        main["initiative_key"] = main["department_id"] + "/" + main["initiative_id"].fillna("None")
    indicators = _with_parsed_actuals(plan, pd.DataFrame(indicator_rows))
    return StagedBatch(
        identity=pd.DataFrame(identity_rows),
        main=main,
        indicators=indicators,
        cells=pd.DataFrame(cells, columns=_CELL_COLUMNS),
    )


def _with_group_grades(plan: Plan, main: pd.DataFrame, grade_key: str) -> pd.DataFrame:
    """Blank the （グループで評価） grade of grouped rows and add ``grade_or_group``.

    A row graded with its group carries no grade of its own (the group's first row has it);
    ``grade_or_group`` is what a "grade present" rule checks: the grade, or the group mark.
    """
    grouped: dict[str, set[str]] = {}
    for department_id in main["department_id"].dropna().unique():
        if str(department_id) in {d.id for d in plan.departments}:
            grouped[str(department_id)] = set(group_graded_rows(plan, str(department_id)))
    member = [
        str(initiative) in grouped.get(str(department), set())
        and (not isinstance(raw, str) or raw.strip() in ("", GROUP_GRADED))
        for department, initiative, raw in zip(
            main["department_id"], main["initiative_id"], main[f"{grade_key}_raw"], strict=True
        )
    ]
    frame = main.copy()
    frame[grade_key] = [None if m else g for m, g in zip(member, frame[grade_key], strict=True)]
    frame[GRADE_OR_GROUP] = [
        GROUP_GRADED if m else g for m, g in zip(member, frame[grade_key], strict=True)
    ]
    return frame


def _with_parsed_actuals(plan: Plan, frame: pd.DataFrame) -> pd.DataFrame:
    """Add the parsed indicator values beside the text as written (vectorised)."""
    if frame.empty:
        return frame
    raw = frame["actual"].astype(object).where(frame["actual"].notna(), None)
    declared = {(i.id, m.id): m.unit for i in plan.initiatives for m in i.indicators}
    units = pd.Series(
        [
            declared.get((str(i), str(m)), "")
            for i, m in zip(frame["initiative_id"], frame["indicator_id"], strict=True)
        ],
        index=frame.index,
    )
    parsed = with_declared_units(raw, parse_numbers(raw), units)
    frame["indicator_key"] = (
        frame["department_id"]
        + "/"
        + frame["initiative_id"].fillna("None")
        + "/"
        + frame["indicator_id"].fillna("None")
    )
    value = parsed["value"].astype(float)
    frame["actual_value"] = value
    frame["actual_status"] = parsed["status"].astype(object).where(parsed["status"].notna(), None)
    frame["actual_ok"] = parsed["ok"].astype(bool)
    frame["actual_normalised"] = [
        not math.isnan(v) and text != _plain_number(v) for v, text in zip(value, raw, strict=True)
    ]
    return frame


def stack_batches(batches: list[StagedBatch]) -> StagedBatch:
    """Return several batches as one, each frame numbered by ``record_id`` from 0."""

    def stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
        frames = [f for f in frames if not f.empty]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        frame.insert(0, RECORD_ID, range(len(frame)))
        return frame

    cells = [b.cells for b in batches if not b.cells.empty]
    return StagedBatch(
        identity=stacked([b.identity for b in batches]),
        main=stacked([b.main for b in batches]),
        indicators=stacked([b.indicators for b in batches]),
        cells=pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(columns=_CELL_COLUMNS),
    )


class CellLocator:
    """Name the cell (sheet, reference) where a staged value was written."""

    def __init__(self, cells: pd.DataFrame) -> None:
        self._cells: dict[tuple[str, str, str], str] = {
            (sha, sheet, column): cell
            for sha, sheet, column, cell in cells[_CELL_COLUMNS].itertuples(index=False)
        }

    def locate(self, sha256: str, sheet: str, row: int, column: str) -> str | None:
        """Return the cell of ``column`` in the record at (sha256, sheet, row), if it has one."""
        source = _DERIVED_FROM.get(column, column.removesuffix("_raw"))
        cell = self._cells.get((sha256, sheet, source))
        if cell is None:
            return None
        return cell if any(ch.isdigit() for ch in cell) else f"{cell}{row}"


def suite_parameters(plan: Plan) -> dict[str, Any]:
    """Return the values a suite may refer to as ``{"$PARAMETER": name}``."""
    known_initiatives = [
        f"{department}/{initiative.id}"
        for initiative in plan.initiatives
        for department in initiative.departments
        if initiative.status == "active"
    ]
    known_indicators = [
        f"{department}/{initiative.id}/{indicator.id}"
        for initiative in plan.initiatives
        for department in initiative.departments
        for indicator in initiative.indicators_of(department)
    ]
    return {
        "plan_hash": [call_version(plan)],
        "grade_codes": plan.grade_scale.codes,
        "fiscal_year": [str(plan.fiscal_year.current)],
        "municipality": [plan.municipality],
        "known_initiatives": sorted(known_initiatives),
        "known_indicators": sorted(known_indicators),
    }


def validate_frame(
    frame: pd.DataFrame,
    suite_spec: dict[str, Any],
    parameters: dict[str, Any],
    cells: CellLocator,
) -> list[Finding]:
    """Validate one stacked frame with one suite and return findings per file and cell.

    Columns without a cell of their own are reported at the row's sheet.
    """
    if frame.empty:
        return []
    results = run_suite(frame, suite_spec, parameters)
    by_id = frame.set_index(RECORD_ID)
    findings: list[Finding] = []
    for outcome in results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        assert config is not None
        unexpected = outcome.result.get("unexpected_index_list")
        if unexpected is None:
            raise ConfigError(
                f"確認ルール {suite_spec.get('name')}: {config.type} {config.kwargs} を"
                f"実行できません（列名などを確認してください）: {outcome.exception_info}"
            )
        meta = config.meta or {}
        column = str(meta.get("column") or config.kwargs.get("column") or "")
        severity = str(getattr(config.severity, "value", config.severity) or "critical").lower()
        for item in unexpected:
            record_id = int(item[RECORD_ID])
            row = by_id.loc[record_id]
            found_value = row[column] if column in by_id.columns else None
            sheet = str(row["sheet"])
            cell = cells.locate(str(row["sha256"]), sheet, int(str(row["row"])), column)
            found = None if found_value is None or pd.isna(found_value) else str(found_value)
            message = str(meta.get("message_ja", config.type))
            initiative = row["initiative_id"] if "initiative_id" in by_id.columns else None
            findings.append(
                Finding(
                    sha256=str(row["sha256"]),
                    sheet=sheet,
                    cell=cell,
                    severity="critical" if severity == "critical" else "warning",
                    message=message.format(found=found or "（空欄）", cell=cell or "", sheet=sheet),
                    found=found,
                    expected=str(meta.get("expected_ja", "")),
                    rule=config.type,
                    initiative_id=None
                    if initiative is None or pd.isna(initiative)
                    else str(initiative),
                )
            )
    return dedupe_findings(findings)


def dedupe_findings(findings: list[Finding]) -> list[Finding]:
    """Return each finding once, in file, sheet, row, column order."""
    # Identity problems repeat on every row and in every suite; a department needs them once.
    unique: dict[tuple[str, str | None, str | None, str, str], Finding] = {}
    for finding in findings:
        unique.setdefault(
            (finding.sha256, finding.sheet, finding.cell, finding.rule, finding.message), finding
        )
    return sorted(unique.values(), key=_finding_order)


def _finding_order(finding: Finding) -> tuple[str, str, int, str, str]:
    cell = finding.cell or ""
    digits = "".join(ch for ch in cell if ch.isdigit())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (finding.sha256, finding.sheet or "", int(digits or 0), letters, finding.rule)


def _plain_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)
