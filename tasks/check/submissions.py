"""Check a batch of archived submissions: read each, validate all at once, decide per file.

What happens to each file is data in the result, never an exception: a file that cannot be
read becomes one blocking finding, and the rest of the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tasks.check.read import ReadSubmission, read_submission
from tasks.check.suites import identity_suite, indicator_suite, main_suite
from tasks.check.validate import (
    CellLocator,
    Finding,
    StagedBatch,
    dedupe_findings,
    stack_batches,
    stage_frames,
    suite_parameters,
    validate_frame,
)
from tasks.errors import SubmissionError
from tasks.intake.ledger import Ledger, LedgerEntry
from tasks.plan.model import Plan
from tasks.workspace.storage import Storage

_WRONG_FOLDER = (
    "部署ごとの提出フォルダ（intake/{fy}/<部署ID>/）以外に置かれたため受け付けられません。"
    "自部署のフォルダに提出してください。"
)

_UNREADABLE = (
    "このファイルは読み取り中に想定外のエラー（{kind}）が起きたため確認できませんでした。"
    "配布した調査票に入力し直して、同じフォルダに提出し直してください。"
    "繰り返す場合は事務局に連絡してください（元のファイルは保管されています）。"
)


@dataclass(frozen=True)
class ReadBatch:
    """What a set of files said: their staged rows, and a finding for each unreadable one."""

    shas: list[str]
    """Every file of the batch, read or not."""
    staged: StagedBatch
    findings: list[Finding]


@dataclass(frozen=True)
class CheckedBatch:
    """The outcome of one batch.

    ``main``/``indicators`` hold the staged rows of every file that could be read (one row per
    sheet row, keyed by sha256); ``findings`` every problem; ``rejected`` the files with a
    blocking finding.
    """

    main: pd.DataFrame
    indicators: pd.DataFrame
    findings: list[Finding]
    rejected: frozenset[str]


def read_batch(storage: Storage, plan: Plan, entries: list[LedgerEntry]) -> ReadBatch:
    """Read the archived bytes of ``entries``; a file that cannot be read is one finding."""
    findings: list[Finding] = []
    reads: dict[str, tuple[str | None, ReadSubmission]] = {}
    for entry in sorted(entries, key=lambda e: e.sha256):
        if entry.department_id is None:
            findings.append(
                _file_finding(entry.sha256, _WRONG_FOLDER.format(fy=plan.fiscal_year.current))
            )
            continue
        try:
            reads[entry.sha256] = (
                entry.department_id,
                read_submission(storage.read_bytes(entry.archive_key), plan),
            )
        except SubmissionError as err:
            findings.append(_file_finding(entry.sha256, err.message_ja, err.sheet, err.cell))
        except Exception as err:  # a reader's bug must not stop the other files: refuse this one
            findings.append(
                _file_finding(entry.sha256, _UNREADABLE.format(kind=type(err).__name__))
            )
    return ReadBatch(
        shas=sorted(e.sha256 for e in entries), staged=stage_frames(plan, reads), findings=findings
    )


def validate_batch(plan: Plan, batches: list[ReadBatch]) -> CheckedBatch:
    """Validate what was read, all batches at once: one GX run per suite."""
    staged = stack_batches([b.staged for b in batches])
    findings = [f for b in batches for f in b.findings]
    parameters = suite_parameters(plan)
    cells = CellLocator(staged.cells)
    for frame, suite in (
        (staged.identity, identity_suite()),
        (staged.main, main_suite(plan)),
        (staged.indicators, indicator_suite(plan)),
    ):
        findings += validate_frame(frame, suite, parameters, cells)
    findings = dedupe_findings(findings)
    rejected = frozenset(f.sha256 for f in findings if f.severity == "critical")
    return CheckedBatch(
        main=with_row_states(staged.main, findings),
        indicators=staged.indicators,
        findings=findings,
        rejected=rejected,
    )


ROW_STATE = "row_state"
"""Staged column: 要修正, 注意 or 問題なし for the row (its own findings and its indicators')."""
ROW_STATE_JA = {"critical": "要修正", "warning": "注意", None: "問題なし"}


def row_state(findings: list[Finding]) -> str:
    """Return a row's state from its findings: the worst severity, in Japanese."""
    severities = {f.severity for f in findings}
    worst = "critical" if "critical" in severities else "warning" if severities else None
    return ROW_STATE_JA[worst]


def with_row_states(main: pd.DataFrame, findings: list[Finding]) -> pd.DataFrame:
    """Return the main rows with each row's state, so the dataset can mark △ per row."""
    if main.empty:
        return main
    by_row: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.initiative_id is not None:
            by_row.setdefault((finding.sha256, finding.initiative_id), []).append(finding)
    frame = main.copy()
    frame[ROW_STATE] = [
        row_state(by_row.get((str(sha), str(initiative)), []))
        for sha, initiative in zip(frame["sha256"], frame["initiative_id"], strict=True)
    ]
    return frame


def check_submissions(storage: Storage, plan: Plan, entries: list[LedgerEntry]) -> CheckedBatch:
    """Read and validate the archived bytes of ``entries`` as one batch."""
    return validate_batch(plan, [read_batch(storage, plan, entries)])


def record_outcome(ledger: Ledger, batch: CheckedBatch, checked: list[LedgerEntry]) -> Ledger:
    """Return the ledger with each checked file's status, counts and first error.

    The newest accepted file of a department supersedes its older accepted ones; both stay.
    """
    by_sha: dict[str, list[Finding]] = {}
    for finding in batch.findings:
        by_sha.setdefault(finding.sha256, []).append(finding)
    checked_shas = {e.sha256 for e in checked}
    row_counts = _row_counts(batch.main)
    entries = []
    for entry in ledger.entries:
        if entry.sha256 in checked_shas and entry.status == "pending":
            found = by_sha.get(entry.sha256, [])
            blocking = [f for f in found if f.severity == "critical"]
            entry = entry.model_copy(
                update={
                    "status": "rejected" if entry.sha256 in batch.rejected else "accepted",
                    "first_error": _describe(blocking[0]) if blocking else None,
                    "blocking": len(blocking),
                    "warnings": len(found) - len(blocking),
                    "row_states": row_counts.get(entry.sha256, {}),
                }
            )
        entries.append(entry)
    latest: dict[str, int] = {}
    for position, entry in enumerate(entries):
        if entry.status in ("accepted", "superseded") and entry.department_id:
            latest[entry.department_id] = position
    entries = [
        e.model_copy(update={"status": "superseded"})
        if e.status == "accepted" and e.department_id and latest[e.department_id] != i
        else e
        for i, e in enumerate(entries)
    ]
    return ledger.model_copy(update={"entries": entries})


def _row_counts(main: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Return each file's rows by state, worst first (要修正, 注意, 問題なし)."""
    if main.empty or ROW_STATE not in main:
        return {}
    counts: dict[str, dict[str, int]] = {}
    for sha, state in zip(main["sha256"], main[ROW_STATE], strict=True):
        counts.setdefault(str(sha), dict.fromkeys(ROW_STATE_JA.values(), 0))[str(state)] += 1
    return counts


def _file_finding(
    sha256: str, message: str, sheet: str | None = None, cell: str | None = None
) -> Finding:
    return Finding(
        sha256=sha256,
        sheet=sheet,
        cell=cell,
        severity="critical",
        message=message,
        found=None,
        expected="配布した調査票（.xlsx）",
        rule="readable_workbook",
    )


def _describe(finding: Finding) -> str:
    where = "!".join(part for part in (finding.sheet, finding.cell) if part)
    return f"{where}: {finding.message}" if where else finding.message
