"""Where the cycle's outputs are kept: key functions, free of Prefect, GX and pandas.

The flows, the steps and the fast no-op check (``tasks.noop``) share these; a run that has
nothing to do imports only this much.
"""

from __future__ import annotations

from tasks.intake import Ledger
from tasks.intake_files import is_system_file
from tasks.names import ledger_text
from tasks.plan import Plan
from tasks.render_pdf import pdf_available
from tasks.storage import Storage
from tasks.workbook import submission_filename

RESULTS_PREFIX = "_prefect/results"
"""Where the steps' persisted Prefect results are kept in the workspace, by cache key."""

EXPORT_SUFFIXES = (".xlsx", ".csv")
"""The dataset's copies for people: made from its Parquet files, never read back."""


def dataset_export_keys(fiscal_year: int) -> list[str]:
    """Return the keys of the year's dataset copies for people (xlsx, CSV)."""
    stem = f"curated/{fiscal_year}"
    return [f"{stem}/consolidated.xlsx", f"{stem}/consolidated.csv", f"{stem}/indicators.csv"]


def report_keys(plan: Plan, pdf: bool = False) -> list[str]:
    """Return the keys of the year's 資料 files."""
    year = plan.fiscal_year.current
    stem = f"reports/{year}/{plan.report.document_number}_{plan.report.title}_{year}年度"
    suffixes = [".docx", ".xlsx"] + ([".docx.pdf", ".xlsx.pdf"] if pdf and pdf_available() else [])
    return [f"{stem}{suffix}" for suffix in suffixes]


def publication_keys(plan: Plan, pdf: bool = False) -> list[str]:
    """Return every key the publication writes: the 資料 and the dataset's xlsx and CSV."""
    return report_keys(plan, pdf) + dataset_export_keys(plan.fiscal_year.current)


def call_keys(plan: Plan) -> list[str]:
    """Return the keys of the year's submission workbooks, one per department."""
    year = plan.fiscal_year.current
    return [f"outgoing/{year}/{d.id}/{submission_filename(plan, d.id)}" for d in plan.departments]


def anything_new(storage: Storage, ledger: Ledger) -> bool:
    """Return whether intake holds a file the ledger has not seen as it is (name, size, time)."""
    seen = {(e.source_key, e.size, e.source_mtime) for e in ledger.entries}
    return any(
        (ledger_text(o.key), o.size, o.mtime) not in seen and not is_system_file(o.key)
        for o in storage.list(f"intake/{ledger.fiscal_year}")
    )
