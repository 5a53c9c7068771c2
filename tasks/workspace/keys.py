"""Every key of the workspace, built here and nowhere else; free of Prefect, GX and pandas.

The layout, the same on every backend (``tasks.workspace.storage``)::

    shiryo-workspace.json                says "this is a shiryo workspace" (who made it, when)
    outgoing/<fy>/<department>/<file>    submission workbooks sent to departments (調査票)
    outgoing/<fy>.json                   what each 調査票 shows, by version; those to send again
    intake/<fy>/<department>/<file>      where departments drop their filled workbooks
    archive/<fy>/<sha256>.xlsx           original bytes of every file taken, never rewritten
    ledger/<fy>.json                     every file ever seen with its status
    feedback/<fy>/<department>/<file>    feedback workbooks (差戻し票) for departments
    curated/<fy>/                        the consolidated dataset: Parquet, its xlsx and CSV
    curated/<fy>/staged/                 accepted rows of each checked batch, before merging
    reports/<fy>/                        the committee's 資料 (docx, xlsx, PDF)
    datadocs/<fy>/                       GX Data Docs of the validations, for the coordinator
    datadocs/<fy>/指摘事項一覧.html       the same findings in Japanese, per department and file
    reminders/<fy>/                      督促一覧: the departments to remind, by day (and mail sent)
    locks/collect-<fy>.json              the lease of the year's running collection
    _prefect/results/<cache key>         the cached steps' results (what a Retry skips)
    _prefect/results/configuration-<key> a configuration (plan, rules, templates) found sound

The flows, the steps and the fast no-op check (``tasks.cycle.noop``) share these; a run that
has nothing to do imports only this much.
"""

from __future__ import annotations

import datetime as dt

from tasks.plan.model import Plan

WORKSPACE_MARKER = "shiryo-workspace.json"
"""Written when a workspace is created on purpose (``tasks.workspace.presence``)."""

RESULTS_PREFIX = "_prefect/results"
"""Where the steps' persisted Prefect results are kept in the workspace, by cache key."""

EXPORT_SUFFIXES = (".xlsx", ".csv")
"""The dataset's copies for people: made from its Parquet files, never read back."""

TOP_FOLDERS = (
    "archive",
    "ledger",
    "curated",
    "feedback",
    "reports",
    "datadocs",
    "reminders",
    "locks",
    "outgoing",
    "_prefect",
)
"""The folders only shiryo writes (intake is the departments'): where a killed writer's
temporary files are swept."""


def intake_prefix(fiscal_year: int) -> str:
    """Return the folder departments drop the year's files into."""
    return f"intake/{fiscal_year}"


def intake_key(fiscal_year: int, department_id: str, filename: str) -> str:
    """Return where a department's file is dropped."""
    return f"{intake_prefix(fiscal_year)}/{department_id}/{filename}"


def submission_filename(plan: Plan, department_id: str) -> str:
    """Return the file name of a department's workbook, e.g. ``2021_健康福祉課_評価シート.xlsx``."""
    name = plan.department(department_id).name
    return f"{plan.fiscal_year.current}_{name}_{plan.submission.sheet_name}.xlsx"


def outgoing_prefix(fiscal_year: int) -> str:
    """Return the folder of the year's submission workbooks."""
    return f"outgoing/{fiscal_year}"


def outgoing_key(plan: Plan, department_id: str) -> str:
    """Return where a department's submission workbook (調査票) is written."""
    filename = submission_filename(plan, department_id)
    return f"{outgoing_prefix(plan.fiscal_year.current)}/{department_id}/{filename}"


def call_keys(plan: Plan) -> list[str]:
    """Return the keys of the year's submission workbooks, one per department."""
    return [outgoing_key(plan, d.id) for d in plan.departments]


def archive_key(fiscal_year: int, sha256: str) -> str:
    """Return where a taken file's original bytes are kept, under their hash."""
    return f"archive/{fiscal_year}/{sha256}.xlsx"


def ledger_key(fiscal_year: int) -> str:
    """Return where the year's ledger is kept."""
    return f"ledger/{fiscal_year}.json"


def call_record_key(fiscal_year: int) -> str:
    """Return where the year's call record is kept: what each department's 調査票 shows, by
    call version, and the ones to send again (``tasks.call.record``)."""
    return f"{outgoing_prefix(fiscal_year)}.json"


def feedback_prefix(fiscal_year: int) -> str:
    """Return the folder of the year's feedback workbooks."""
    return f"feedback/{fiscal_year}"


def feedback_key(fiscal_year: int, folder: str, stem: str, sha256: str) -> str:
    """Return where a file's feedback workbook goes (``stem`` already safe as a name)."""
    return f"{feedback_prefix(fiscal_year)}/{folder}/差戻し票_{stem}_{sha256[:8]}.xlsx"


def correction_key(fiscal_year: int, folder: str, stem: str, sha256: str) -> str:
    """Return where a file's correction copy (修正用の調査票) goes, beside its 差戻し票."""
    return f"{feedback_prefix(fiscal_year)}/{folder}/修正用_{stem}_{sha256[:8]}.xlsx"


def curated_prefix(fiscal_year: int) -> str:
    """Return the folder of the year's dataset."""
    return f"curated/{fiscal_year}"


def staged_prefix(fiscal_year: int) -> str:
    """Return the folder of the year's staged rows."""
    return f"{curated_prefix(fiscal_year)}/staged"


def staged_key(fiscal_year: int, digest: str, kind: str) -> str:
    """Return where the accepted rows of one batch (``kind``: main or indicators) are staged."""
    return f"{staged_prefix(fiscal_year)}/{digest}.{kind}.parquet"


def consolidated_key(fiscal_year: int) -> str:
    """Return where the year's consolidated rows (Parquet) are kept."""
    return f"{curated_prefix(fiscal_year)}/consolidated.parquet"


def indicators_key(fiscal_year: int) -> str:
    """Return where the year's indicator values (Parquet) are kept."""
    return f"{curated_prefix(fiscal_year)}/indicators.parquet"


def plan_changes_key(fiscal_year: int) -> str:
    """Return where the year's changes against the previous year's plan are kept."""
    return f"{curated_prefix(fiscal_year)}/plan_changes.parquet"


def dataset_export_keys(fiscal_year: int) -> list[str]:
    """Return the keys of the year's dataset copies for people (xlsx, CSV)."""
    stem = curated_prefix(fiscal_year)
    return [f"{stem}/consolidated.xlsx", f"{stem}/consolidated.csv", f"{stem}/indicators.csv"]


def report_keys(plan: Plan, pdf: bool = False) -> list[str]:
    """Return the keys of the year's 資料 files (``pdf``: the PDFs are made too)."""
    year = plan.fiscal_year.current
    stem = f"reports/{year}/{plan.report.document_number}_{plan.report.title}_{year}年度"
    suffixes = [".docx", ".xlsx"] + ([".docx.pdf", ".xlsx.pdf"] if pdf else [])
    return [f"{stem}{suffix}" for suffix in suffixes]


def publication_keys(plan: Plan, pdf: bool = False) -> list[str]:
    """Return every key the publication writes: the 資料 and the dataset's xlsx and CSV."""
    return report_keys(plan, pdf) + dataset_export_keys(plan.fiscal_year.current)


def datadocs_prefix(fiscal_year: int) -> str:
    """Return the folder of the year's GX Data Docs."""
    return f"datadocs/{fiscal_year}"


FINDINGS_PAGE = "指摘事項一覧.html"
"""The coordinator's Japanese findings page, beside the Data Docs' ``index.html``."""


def findings_page_key(fiscal_year: int) -> str:
    """Return where the year's Japanese findings page (指摘事項一覧) is written."""
    return f"{datadocs_prefix(fiscal_year)}/{FINDINGS_PAGE}"


def reminders_prefix(fiscal_year: int) -> str:
    """Return the folder of the year's 督促一覧."""
    return f"reminders/{fiscal_year}"


def reminder_list_key(fiscal_year: int, day: dt.date, sent_at: str | None = None) -> str:
    """Return where a day's 督促一覧 goes: ``督促一覧_2022-06-24.xlsx``; with mail sent at
    ``sent_at`` (``0912``, Japan time), ``督促一覧_2022-06-24_0912送信.xlsx``, which a later
    listing of the same day never replaces."""
    sent = f"_{sent_at}送信" if sent_at else ""
    return f"{reminders_prefix(fiscal_year)}/督促一覧_{day.isoformat()}{sent}.xlsx"


def lock_key(fiscal_year: int) -> str:
    """Return where the lease of the year's collection is kept."""
    return f"locks/collect-{fiscal_year}.json"


def sound_configuration_key(fingerprint: str) -> str:
    """Return the marker of a configuration checked and found sound (``shiryo run``)."""
    return f"{RESULTS_PREFIX}/configuration-{fingerprint}"


def result_key(cache_key: str) -> str:
    """Return where a cached step's persisted result is kept."""
    return f"{RESULTS_PREFIX}/{cache_key}"
