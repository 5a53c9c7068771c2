"""Check a batch of archived submissions: read each, validate all at once, decide per file.

What happens to each file is data in the result, never an exception: a file that cannot be
read becomes one blocking finding, and the rest of the batch goes on. The same bytes in several
folders are checked once, and several files of one department are decided, by the rules of
``tasks.check.conflicts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tasks.call.record import CallRecord, load_call_record
from tasks.check.cells import NOT_A_NUMBER_RULE, CellNote
from tasks.check.conflicts import SameBytes, choose_checked, one_department_notes
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
from tasks.check.versions import with_call_versions
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
    same_bytes: list[SameBytes] = field(default_factory=list)
    """Copies not checked: another folder's file with the same bytes was."""
    checked_notes: dict[str, str] = field(default_factory=dict)
    """By sha256: the note of a file checked for copies of it in other folders."""


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
    same_bytes: list[SameBytes] = field(default_factory=list)
    checked_notes: dict[str, str] = field(default_factory=dict)

    def skipped(self, entry: LedgerEntry) -> SameBytes | None:
        """Return why a file of the batch was not checked itself, or None if it was."""
        return next(
            (
                s
                for s in self.same_bytes
                if (s.sha256, s.source_key) == (entry.sha256, entry.source_key)
            ),
            None,
        )


def read_batch(storage: Storage, plan: Plan, entries: list[LedgerEntry]) -> ReadBatch:
    """Read the archived bytes of ``entries``; a file that cannot be read is one finding.

    Bytes held by several entries (copies in several folders) are read once and checked as
    the copy that ``tasks.check.conflicts.choose_checked`` picks.
    """
    findings: list[Finding] = []
    reads: dict[str, tuple[str | None, ReadSubmission]] = {}
    same_bytes: list[SameBytes] = []
    checked_notes: dict[str, str] = {}
    copies: dict[str, list[LedgerEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.sha256):
        copies.setdefault(entry.sha256, []).append(entry)
    for sha256, group in copies.items():
        if all(e.department_id is None for e in group):
            findings.append(
                _file_finding(sha256, _WRONG_FOLDER.format(fy=plan.fiscal_year.current))
            )
            continue
        try:
            read = read_submission(storage.read_bytes(group[0].archive_key), plan)
        except SubmissionError as err:
            findings.append(_file_finding(sha256, err.message_ja, err.sheet, err.cell))
            continue
        except Exception as err:  # a reader's bug must not stop the other files: refuse this one
            findings.append(_file_finding(sha256, _UNREADABLE.format(kind=type(err).__name__)))
            continue
        chosen, skipped, note = choose_checked(plan, group, read.identity.get("department_id"))
        reads[sha256] = (chosen.department_id, read)
        findings += [_note_finding(sha256, note) for note in read.notes]
        same_bytes += skipped
        if note is not None:
            checked_notes[sha256] = note
    return ReadBatch(
        shas=sorted(e.sha256 for e in entries),
        staged=stage_frames(plan, reads),
        findings=findings,
        same_bytes=same_bytes,
        checked_notes=checked_notes,
    )


def validate_batch(
    plan: Plan,
    batches: list[ReadBatch],
    calls: CallRecord | None = None,
    validated: list[Finding] | None = None,
) -> CheckedBatch:
    """Validate what was read, all batches at once: one GX run per suite.

    ``calls`` tells which older 調査票 show their department what the current one does;
    ``validated`` is what the suites found in these batches when they were run already,
    together with other plans' (``tasks.check.together``).
    """
    staged = stack_batches([b.staged for b in batches])
    findings = [f for b in batches for f in b.findings]
    findings += validate_staged(plan, staged, calls) if validated is None else validated
    findings = dedupe_findings(_unshadowed(findings))
    rejected = frozenset(f.sha256 for f in findings if f.severity == "critical")
    return CheckedBatch(
        main=with_row_states(staged.main, findings),
        indicators=staged.indicators,
        findings=findings,
        rejected=rejected,
        same_bytes=[s for b in batches for s in b.same_bytes],
        checked_notes={k: v for b in batches for k, v in b.checked_notes.items()},
    )


def validate_staged(
    plan: Plan, staged: StagedBatch, calls: CallRecord | None = None
) -> list[Finding]:
    """Return what the suites find in stacked frames: one GX run per suite."""
    parameters = suite_parameters(plan)
    cells = CellLocator(staged.cells)
    findings: list[Finding] = []
    for frame, suite in (
        (with_call_versions(plan, staged.identity, calls), identity_suite()),
        (staged.main, main_suite(plan)),
        (staged.indicators, indicator_suite(plan)),
    ):
        findings += validate_frame(frame, suite, parameters, cells)
    return findings


def _unshadowed(findings: list[Finding]) -> list[Finding]:
    """Drop what the suites say about a cell whose stored number is none: one finding says it."""
    broken = {(f.sha256, f.sheet, f.cell) for f in findings if f.rule == NOT_A_NUMBER_RULE}
    return [
        f
        for f in findings
        if f.rule == NOT_A_NUMBER_RULE or (f.sha256, f.sheet, f.cell) not in broken
    ]


FILE_RULE = "readable_workbook"
"""The rule of a finding that refuses a file as a whole: it was not read row by row."""

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
    calls = load_call_record(storage, plan.fiscal_year.current)
    return validate_batch(plan, [read_batch(storage, plan, entries)], calls)


def record_outcome(ledger: Ledger, batch: CheckedBatch, checked: list[LedgerEntry]) -> Ledger:
    """Return the ledger with each checked file's status, counts, first error and notes.

    The newest accepted file of a department supersedes its older accepted ones; both stay.
    A copy not checked itself (same bytes in another folder) is rejected with its note.
    """
    by_sha: dict[str, list[Finding]] = {}
    for finding in batch.findings:
        by_sha.setdefault(finding.sha256, []).append(finding)
    checked_pairs = {(e.sha256, e.source_key) for e in checked}
    row_counts = _row_counts(batch.main)
    entries = []
    for entry in ledger.entries:
        if (entry.sha256, entry.source_key) in checked_pairs and entry.status == "pending":
            entry = _outcome(entry, batch, by_sha.get(entry.sha256, []), row_counts)
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
    now_checked = [e for e in entries if (e.sha256, e.source_key) in checked_pairs]
    notes = one_department_notes(now_checked)
    entries = [
        e.model_copy(update={"notes": [*e.notes, notes[(e.sha256, e.source_key)]]})
        if (e.sha256, e.source_key) in notes
        else e
        for e in entries
    ]
    return ledger.model_copy(update={"entries": entries})


def _outcome(
    entry: LedgerEntry,
    batch: CheckedBatch,
    found: list[Finding],
    row_counts: dict[str, dict[str, int]],
) -> LedgerEntry:
    """Return a checked entry with its status, counts, first error and notes."""
    skipped = batch.skipped(entry)
    if skipped is not None:
        return entry.model_copy(
            update={
                "status": "rejected",
                "first_error": skipped.note,
                "blocking": 1,
                "notes": [*entry.notes, skipped.note],
            }
        )
    blocking = [f for f in found if f.severity == "critical"]
    checked_note = batch.checked_notes.get(entry.sha256)
    return entry.model_copy(
        update={
            "status": "rejected" if entry.sha256 in batch.rejected else "accepted",
            "first_error": _describe(blocking[0]) if blocking else None,
            "blocking": len(blocking),
            "warnings": len(found) - len(blocking),
            "row_states": row_counts.get(entry.sha256, {}),
            "notes": [*entry.notes, checked_note] if checked_note else entry.notes,
        }
    )


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
        rule=FILE_RULE,
    )


def _note_finding(sha256: str, note: CellNote) -> Finding:
    return Finding(
        sha256=sha256,
        sheet=note.sheet,
        cell=note.cell,
        severity=note.severity,
        message=note.message,
        found=note.found,
        expected=note.expected,
        rule=note.rule,
        initiative_id=note.initiative_id,
    )


def _describe(finding: Finding) -> str:
    where = "!".join(part for part in (finding.sheet, finding.cell) if part)
    return f"{where}: {finding.message}" if where else finding.message
