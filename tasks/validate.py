"""Validate a batch of submissions with Great Expectations suites stored as JSON.

All files of a run are validated together: their rows are stacked into one frame per sheet
kind and checked by one GX validation each, and the failing rows are split back per file and
cell. A suite is a list of ``type`` + ``kwargs`` + ``severity`` + ``meta``; ``meta`` holds the
Japanese message for departments (``message_ja``), what is expected (``expected_ja``) and the
column it is about (``column``). ``critical`` findings reject a file; ``warning`` ones are
reported and the file is still accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.errors import ConfigError
from tasks.gx_context import RECORD_ID, run_suite
from tasks.normalise import normalise_grade, parse_number
from tasks.plan import REPO_ROOT, Plan, plan_hash
from tasks.read import ReadSubmission
from tasks.workbook import IDENTITY_SHEET

EXPECTATIONS_DIR = REPO_ROOT / "expectations"
INDICATOR_SUITE = "indicators"
IDENTITY_SUITE = "identity"


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


FINDING_COLUMNS = ["sha256", "sheet", "cell", "severity", "message", "found", "expected", "rule"]


def load_suite_spec(name: str, directory: Path | None = None) -> dict[str, Any]:
    """Return a suite's JSON as a dict, or raise ConfigError naming the file."""
    path = (directory or EXPECTATIONS_DIR) / f"{name}.json"
    try:
        spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: 確認ルール（GX スイート）を読めません: {err}") from err
    if not isinstance(spec.get("expectations"), list):
        raise ConfigError(f"{path}: 確認ルールには expectations の一覧が必要です")
    return spec


@dataclass(frozen=True)
class StagedBatch:
    """A batch's rows, stacked for validation (each frame has a ``record_id`` column).

    ``identity``: one row per file (its folder and its embedded identity). ``main``: one row
    per row of the main sheet, text as written, grades folded (``Ａ`` → ``A``) beside the raw
    text. ``indicators``: one row per indicator row, numbers parsed beside the original text.
    """

    identity: pd.DataFrame
    main: pd.DataFrame
    indicators: pd.DataFrame


def stage_frames(plan: Plan, reads: dict[str, tuple[str | None, ReadSubmission]]) -> StagedBatch:
    """Return the batch's rows as frames ready for validation.

    ``reads`` maps each file's sha256 to (department folder, what was read).
    """
    identity_rows: list[dict[str, object]] = []
    main_rows: list[dict[str, object]] = []
    indicator_rows: list[dict[str, object]] = []
    grade_key = plan.submission.grade_key
    for sha256, (department_id, read) in sorted(reads.items()):
        identity = {f"identity_{k}": v for k, v in read.identity.items()}
        identity_rows.append(
            {
                "sha256": sha256,
                "department_id": department_id,
                "sheet": IDENTITY_SHEET,
                "row": 0,
                **identity,
            }
        )
        base: dict[str, object] = {"sha256": sha256, "department_id": department_id}
        for record in read.records:
            row = {**base, "sheet": record.sheet, "row": record.row, **record.values}
            row[f"{grade_key}_raw"] = record.values.get(grade_key)
            row[grade_key] = normalise_grade(record.values.get(grade_key))
            row["initiative_key"] = f"{department_id}/{record.values.get('initiative_id')}"
            main_rows.append(row)
        for record in read.indicator_records:
            raw = record.values.get("actual")
            parsed = parse_number(raw)
            indicator_rows.append(
                {
                    **base,
                    "sheet": record.sheet,
                    "row": record.row,
                    **record.values,
                    "indicator_key": f"{department_id}/{record.values.get('initiative_id')}/"
                    f"{record.values.get('indicator_id')}",
                    "actual_value": parsed.value,
                    "actual_status": parsed.status,
                    "actual_ok": parsed.ok,
                    "actual_normalised": parsed.value is not None
                    and raw != _plain_number(parsed.value),
                }
            )
    frames = [pd.DataFrame(rows) for rows in (identity_rows, main_rows, indicator_rows)]
    for frame in frames:
        frame.insert(0, RECORD_ID, range(len(frame)))
    return StagedBatch(identity=frames[0], main=frames[1], indicators=frames[2])


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
        "plan_hash": [plan_hash(plan)],
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
    cell_of: dict[tuple[int, str], tuple[str | None, str | None]],
) -> list[Finding]:
    """Validate one stacked frame with one suite and return findings per file and cell.

    ``cell_of`` maps (record_id, column) to (sheet, cell) for the columns that have a cell;
    other columns are reported at the row's sheet.
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
            sheet, cell = cell_of.get((record_id, column), (str(row["sheet"]), None))
            found = None if found_value is None or pd.isna(found_value) else str(found_value)
            message = str(meta.get("message_ja", config.type))
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
                )
            )
    return dedupe_findings(findings)


def cell_index(
    frame: pd.DataFrame, reads: dict[str, tuple[str | None, ReadSubmission]]
) -> dict[tuple[int, str], tuple[str | None, str | None]]:
    """Map (record_id, column) to the (sheet, cell) where that value was written."""
    index: dict[tuple[int, str], tuple[str | None, str | None]] = {}
    if frame.empty:
        return index
    for record_id, sha256, sheet, row in frame[[RECORD_ID, "sha256", "sheet", "row"]].itertuples(
        index=False
    ):
        read = reads[sha256][1]
        for column, letter in read.columns.get(sheet, {}).items():
            index[(record_id, column)] = (sheet, f"{letter}{row}")
            index[(record_id, f"{column}_raw")] = (sheet, f"{letter}{row}")
        for key, cell in read.identity_cells.items():
            index[(record_id, f"identity_{key}")] = (IDENTITY_SHEET, cell)
    # Derived columns point at the cell they were derived from.
    for (record_id, column), where in list(index.items()):
        if column == "actual":
            for derived in ("actual_value", "actual_ok", "actual_normalised", "actual_status"):
                index[(record_id, derived)] = where
        if column == "initiative_id":
            index[(record_id, "initiative_key")] = where
        if column == "indicator_id":
            index[(record_id, "indicator_key")] = where
    return index


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
