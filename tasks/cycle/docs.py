"""The coordinator's pages of a check: GX Data Docs and the 指摘事項一覧 beside them.

Both are written under ``datadocs/<fy>/`` for the same validations: the run's files when a
collection has findings (``tasks.cycle.steps.check_pending``), every checked file of the
year on demand (``shiryo docs``). Nothing here records anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.check.feedback import feedback_key
from tasks.check.findings_page import CheckedFile, build_findings_page
from tasks.check.gx_context import publish_data_docs
from tasks.check.submissions import CheckedBatch, check_submissions
from tasks.intake.ledger import LedgerEntry, load_ledger
from tasks.plan.fiscal_year import fiscal_year_label
from tasks.plan.model import Plan
from tasks.workspace.keys import datadocs_prefix, findings_page_key
from tasks.workspace.storage import Storage


@dataclass(frozen=True)
class DocsPages:
    """Where a publication put the GX Data Docs' index and the 指摘事項一覧 (described)."""

    index: str | None = None
    findings_page: str | None = None


def publish_docs(
    plan: Plan,
    storage: Storage,
    batch: CheckedBatch,
    entries: list[LedgerEntry],
    feedback: dict[tuple[str, str], str | None],
) -> DocsPages:
    """Publish the GX Data Docs of the validations just run and the 指摘事項一覧 beside them.

    ``entries`` are the checked files as the ledger records them; ``feedback`` their
    差戻し票's keys by (sha256, source key).
    """
    year = plan.fiscal_year.current
    title = f"{plan.municipality} {fiscal_year_label(year)} 確認結果の詳細"
    index = publish_data_docs(storage, datadocs_prefix(year), title=title)
    if index is None:
        return DocsPages()
    files = [
        CheckedFile(
            entry=entry,
            # A copy not checked itself (its bytes were, in another folder) has only its note.
            findings=[]
            if batch.skipped(entry)
            else [f for f in batch.findings if f.sha256 == entry.sha256],
            feedback_key=feedback.get((entry.sha256, entry.source_key)),
        )
        for entry in entries
    ]
    page = findings_page_key(year)
    storage.write_bytes(page, build_findings_page(plan, files))
    return DocsPages(index=storage.describe(index), findings_page=storage.describe(page))


def build_docs(plan: Plan, storage: Storage) -> DocsPages | None:
    """Validate the year's checked files again and publish their pages (``shiryo docs``).

    The 指摘事項一覧 lists every checked file with what the checks say now. Nothing is
    recorded: the ledger, feedback and dataset stay as they are. Returns where the pages
    are, or None when no file of the year has been checked yet.
    """
    year = plan.fiscal_year.current
    checked = [
        e
        for e in load_ledger(storage, year).entries
        if e.status in ("accepted", "rejected", "superseded")
    ]
    if not checked:
        return None
    batch = check_submissions(storage, plan, checked)
    feedback: dict[tuple[str, str], str | None] = {}
    for entry in checked:
        key = feedback_key(plan, entry)
        feedback[(entry.sha256, entry.source_key)] = key if storage.exists(key) else None
    pages = publish_docs(plan, storage, batch, checked, feedback)
    return pages if pages.index else None
