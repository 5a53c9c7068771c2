"""The pipeline's steps: storage in, work, storage out; free of Prefect.

Each step takes the plan and the opened workspace storage, does one stage of the cycle over
the whole batch and returns a small summary. The work itself lives in the stage packages
(``tasks.intake``, ``tasks.check``, ``tasks.dataset``, ``tasks.render``); ``flows.steps``
wraps each step as a Prefect task (name, retries, cache key). Tests call either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tasks.call.issue import write_call
from tasks.call.record import call_is_current, load_call_record
from tasks.check.correction import build_correction_copy
from tasks.check.feedback import build_feedback_workbook, correction_key, feedback_key
from tasks.check.gx_context import forget_validations, keep_validations
from tasks.check.submissions import (
    ReadBatch,
    read_batch,
    record_outcome,
    validate_batch,
)
from tasks.check.together import SharedCheck
from tasks.check.validate import Finding
from tasks.cycle.configuration import check_rules, check_templates
from tasks.cycle.demo import fill_workbook, load_demo, seed_history
from tasks.cycle.docs import DocsPages, publish_docs
from tasks.dataset.merge import consolidate, plan_changes, stage_accepted
from tasks.dataset.store import (
    load_consolidated,
    load_indicator_history,
    load_indicators,
    previous_values,
    write_consolidated,
    write_dataset_exports,
)
from tasks.intake.collect import IntakeResult, collect_new_files
from tasks.intake.files import anything_new
from tasks.intake.ledger import LedgerEntry, load_ledger, save_ledger
from tasks.plan.load import load_plan, plan_for_year
from tasks.plan.model import Plan
from tasks.render.docx import render_committee_docx
from tasks.render.pdf import convert_to_pdf, pdf_available
from tasks.render.report import build_report_context
from tasks.render.templates import template_source
from tasks.render.xlsx import render_committee_xlsx
from tasks.workspace.keys import (
    call_keys,
    intake_key,
    outgoing_key,
    report_keys,
    submission_filename,
)
from tasks.workspace.storage import Storage


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file in a collection run."""

    sha256: str
    department_id: str | None
    original_name: str
    status: str
    blocking: int
    warnings: int
    feedback_key: str | None
    notes: tuple[str, ...] = ()
    """How a conflict with other files was decided (see ``LedgerEntry.notes``)."""


@dataclass(frozen=True)
class CollectionSummary:
    """The result of a collection run: one outcome per newly taken file."""

    fiscal_year: int
    files: list[FileOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data_docs: str | None = None
    """Storage location (path or URL) of the GX Data Docs index for this run."""
    findings_page: str | None = None
    """Storage location of the Japanese findings page (指摘事項一覧) beside that index."""


def load_plan_step(config: str, fiscal_year: int | None = None) -> Plan:
    """Load the plan, set to report on ``fiscal_year`` when one is given."""
    return plan_for_year(load_plan(config), fiscal_year)


def check_plan_rules(plan: Plan, storage: Storage) -> None:
    """Stop before intake when the plan's suites do not fit the plan (no file is taken)."""
    check_rules(plan, storage)


def check_plan_templates(plan: Plan, storage: Storage) -> None:
    """Stop before rendering when the plan's templates do not fit the report."""
    check_templates(plan, storage)


def write_call_workbooks(plan: Plan, storage: Storage) -> list[str]:
    """Write one submission workbook per department to ``outgoing/<fy>/<department>/``.

    After a plan edit, only the workbooks whose content changed are written again, and noted
    as to send again (``tasks.call.record``).
    """
    previous = previous_values(storage, plan.fiscal_year.before, plan.submission.result_key)
    return write_call(plan, storage, previous)


def call_outdated(plan: Plan, storage: Storage) -> bool:
    """Return whether the call must run whatever its cache says: a workbook deleted by
    hand, or ``outgoing`` last written for another version of the plan (an edit undone)."""
    return outputs_missing(storage, call_keys(plan)) or not call_is_current(plan, storage)


def take_intake(plan: Plan, storage: Storage, settle_seconds: float = 2.0) -> IntakeResult:
    """Archive complete new intake files, record them (pending or duplicate), save the ledger."""
    ledger = load_ledger(storage, plan.fiscal_year.current)
    if not anything_new(storage, ledger):
        # Nothing unseen in intake: no second look after ``settle_seconds``, no ledger write.
        # A file that arrives after this listing is taken by the next run.
        return IntakeResult(taken=[], duplicates=[], waiting=[])
    ledger, result = collect_new_files(storage, plan, ledger, settle_seconds)
    save_ledger(storage, ledger)
    return result


READ_BATCH_FILES = 200
"""Files per read task: enough that a task's own cost is small, few enough to spread out."""


def pending_batches(
    plan: Plan, storage: Storage, size: int = READ_BATCH_FILES
) -> list[list[LedgerEntry]]:
    """Return the files waiting to be checked, by sha256, in batches of about ``size``.

    Copies of the same bytes stay in one batch, which decides between them.
    """
    ledger = load_ledger(storage, plan.fiscal_year.current)
    pending = sorted((e for e in ledger.entries if e.status == "pending"), key=lambda e: e.sha256)
    batches: list[list[LedgerEntry]] = []
    for entry in pending:
        if batches and (len(batches[-1]) < size or batches[-1][-1].sha256 == entry.sha256):
            batches[-1].append(entry)
        else:
            batches.append([entry])
    return batches


def read_pending(plan: Plan, storage: Storage, entries: list[LedgerEntry]) -> ReadBatch:
    """Read a batch of archived files into staged rows (any worker can: storage in, data out)."""
    return read_batch(storage, plan, entries)


def check_pending(
    plan: Plan,
    storage: Storage,
    reads: list[ReadBatch] | None = None,
    shared: SharedCheck | None = None,
) -> CollectionSummary:
    """Validate every pending file as one batch, write feedback, stage accepted rows.

    ``reads`` are the pending files already read (by ``read_pending``, perhaps elsewhere);
    when they are not exactly the files pending now, they are read here. ``shared`` is what
    the suites found in ``reads``, run together with other municipalities' files.
    """
    year = plan.fiscal_year.current
    ledger = load_ledger(storage, year)
    pending = [e for e in ledger.entries if e.status == "pending"]
    if reads is None or sorted(s for r in reads for s in r.shas) != sorted(
        e.sha256 for e in pending
    ):
        reads, shared = [read_batch(storage, plan, pending)], None
    # A process that runs many checks (the warm service, a hosted one) never carries an
    # earlier run's validations, of this workspace or another, into this run's Data Docs.
    forget_validations()
    if shared is not None:
        keep_validations(shared.validations)  # this municipality's share of a shared run
    calls = load_call_record(storage, year)
    batch = validate_batch(plan, reads, calls, shared.findings if shared else None)
    accepted = sorted({e.sha256 for e in pending if e.sha256 not in batch.rejected})
    stage_accepted(storage, year, batch.main, batch.indicators, accepted)
    keys: dict[tuple[str, str], str | None] = {}
    # Only a file the reader read whole gets a correction copy: one the guard or the reader
    # refused (a huge sheet, formulas) is never opened again by a library that could choke.
    read_whole = set(batch.main["sha256"]) if "sha256" in batch.main else set()
    for entry in pending:
        # A copy not checked itself (its bytes were, in another folder) has only its note.
        skipped = batch.skipped(entry) is not None
        findings = [] if skipped else [f for f in batch.findings if f.sha256 == entry.sha256]
        key = feedback_key(plan, entry) if findings else None
        if key:
            storage.write_bytes(key, build_feedback_workbook(plan, entry, findings))
            if entry.sha256 in read_whole:
                _write_correction_copy(plan, storage, entry, findings)
        keys[(entry.sha256, entry.source_key)] = key
    ledger = record_outcome(ledger, batch, pending)
    save_ledger(storage, ledger)
    checked = [e for e in ledger.entries if (e.sha256, e.source_key) in keys]
    # Data Docs show what went wrong: built when there are findings, not for a clean batch.
    docs = publish_docs(plan, storage, batch, checked, keys) if batch.findings else DocsPages()
    if docs.index is None:
        forget_validations()
    return CollectionSummary(
        fiscal_year=year,
        findings=batch.findings,
        data_docs=docs.index,
        findings_page=docs.findings_page,
        files=[_outcome_of(e, keys[(e.sha256, e.source_key)]) for e in checked],
    )


def _write_correction_copy(
    plan: Plan, storage: Storage, entry: LedgerEntry, findings: list[Finding]
) -> None:
    """Write the department's own workbook with each cell to fix marked, when there is one."""
    if not entry.archive_key or not storage.exists(entry.archive_key):
        return
    copy = build_correction_copy(storage.read_bytes(entry.archive_key), findings)
    if copy is not None:
        storage.write_bytes(correction_key(plan, entry), copy)


def _outcome_of(entry: LedgerEntry, feedback: str | None) -> FileOutcome:
    return FileOutcome(
        sha256=entry.sha256,
        department_id=entry.department_id,
        original_name=entry.original_name,
        status=entry.status,
        blocking=entry.blocking,
        warnings=entry.warnings,
        feedback_key=feedback,
        notes=tuple(entry.notes),
    )


def consolidate_year(plan: Plan, storage: Storage) -> list[str]:
    """Rebuild the year's consolidated dataset from the latest accepted submissions."""
    ledger = load_ledger(storage, plan.fiscal_year.current)
    consolidated, indicators = consolidate(storage, plan, ledger)
    previous = load_consolidated(storage, plan.fiscal_year.before)
    changes = plan_changes(plan, previous)
    return write_consolidated(storage, plan.fiscal_year.current, consolidated, indicators, changes)


def build_report_context_for(plan: Plan, storage: Storage) -> dict[str, Any]:
    """Return the report context of the plan's year from the workspace's dataset."""
    year = plan.fiscal_year.current
    return build_report_context(
        plan,
        load_consolidated(storage, year),
        load_indicators(storage, year),
        load_indicator_history(storage, year),
        load_ledger(storage, year),
    )


def outputs_missing(storage: Storage, keys: list[str]) -> bool:
    """Return whether any of a step's outputs is gone (deleted by hand, a new workspace)."""
    return not all(storage.exists(key) for key in keys)


def render_shiryo(plan: Plan, storage: Storage, pdf: bool = False) -> list[str]:
    """Render the Word and Excel 資料 from the year's dataset into ``reports/<fy>/``.

    With ``pdf``, a PDF of each is made too when LibreOffice is installed.
    """
    context = build_report_context_for(plan, storage)
    docx_key, xlsx_key = report_keys(plan)[:2]
    outputs = {
        docx_key: render_committee_docx(template_source(plan, "docx"), context),
        xlsx_key: render_committee_xlsx(template_source(plan, "xlsx"), context),
    }
    if pdf and not pdf_available():
        logging.getLogger(__name__).warning(
            "LibreOffice (soffice) がないため、資料の PDF は作りませんでした。"
        )
    if pdf and pdf_available():
        outputs |= {
            f"{key}.pdf": convert_to_pdf(data, key[key.rindex(".") :])
            for key, data in list(outputs.items())
        }
    for key, data in outputs.items():
        storage.write_bytes(key, data)
    # A PDF of an earlier render would contradict the new 資料 beside it: gone, unless made now.
    for key in report_keys(plan, pdf=True)[2:]:
        if key not in outputs:
            _remove(storage, key)
    write_dataset_exports(storage, plan.fiscal_year.current)  # the dataset for people, too
    return sorted(outputs)


def _remove(storage: Storage, key: str) -> None:
    """Remove ``key`` if it is there (a conditional delete: every backend offers it)."""
    current = storage.read_versioned(key)
    if current is not None:
        storage.replace_if(key, None, current[1])


def drop_demo_submissions(plan: Plan, config: str, storage: Storage) -> list[str]:
    """Fill each department's call workbook with the preset's demo data, drop it in intake."""
    demo = load_demo(config)
    year = plan.fiscal_year.current
    keys = []
    for department in plan.departments:
        name = submission_filename(plan, department.id)
        blank = storage.read_bytes(outgoing_key(plan, department.id))
        key = intake_key(year, department.id, name)
        storage.write_bytes(key, fill_workbook(plan, demo, department.id, blank))
        keys.append(key)
    return keys


def seed_demo_history(plan: Plan, config: str, storage: Storage) -> None:
    """Write the preset's previous-year results as that year's dataset."""
    seed_history(storage, plan, load_demo(config))
