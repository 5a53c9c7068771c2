"""What the coordinator sees in the Prefect UI after a collection run (artifacts).

Keys carry the year, the municipality and the workspace (``status-2021-<id>-<ws>``, likewise
``files-``, ``findings-``, ``findings-page-``, ``data-docs-``, ``resend-``): one server
serving several municipalities, or a run on another (a mistyped, a demo) workspace, keeps
each one's latest tables apart. The ids
are :func:`municipality_id` and :func:`workspace_id`; the contents are Japanese, as
coordinators read them, and each description names the municipality and the workspace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from flows.steps import UNCACHED
from tasks.call.record import REASONS_JA, calls_to_resend
from tasks.cycle.steps import CollectionSummary
from tasks.cycle.summary import call_outdated_note
from tasks.intake.collect import IntakeResult
from tasks.intake.ledger import STATUS_JA, LedgerEntry, load_ledger
from tasks.intake.status import build_status_rows
from tasks.plan.model import Plan
from tasks.workspace.names import markdown_text
from tasks.workspace.storage import Storage


def municipality_id(plan: Plan) -> str:
    """Return the municipality's id in artifact keys: 8 hex digits of its name's hash.

    Artifact keys take only lowercase letters, digits and dashes; a municipality's name is
    Japanese (新潟市南区), so its hash stands for it.
    """
    return hashlib.sha256(plan.municipality.encode("utf-8")).hexdigest()[:8]


def workspace_id(workspace: str) -> str:
    """Return a workspace's id in artifact keys: 8 hex digits of its location's hash.

    The location is the folder's absolute path or the ``s3://bucket/prefix`` URL, as the
    storage describes its root.
    """
    location = workspace if "://" in workspace else str(Path(workspace).resolve())
    return hashlib.sha256(location.rstrip("/").encode("utf-8")).hexdigest()[:8]


def artifact_key(plan: Plan, kind: str, fiscal_year: int, workspace: str) -> str:
    """Return the key of a collection's artifact: ``<kind>-<fy>-<municipality>-<workspace>``."""
    return f"{kind}-{fiscal_year}-{municipality_id(plan)}-{workspace_id(workspace)}"


def publish_collection_artifacts(
    plan: Plan, storage: Storage, summary: CollectionSummary, intake: IntakeResult | None = None
) -> None:
    """Show the run's per-file outcomes and every department's status as UI tables.

    Every file the run saw is a row: the checked ones, and those the intake recorded without
    checking (the same bytes again, a file that cannot be read at all), each with its note.
    """
    year = summary.fiscal_year
    workspace = storage.describe("")
    who = f"{plan.municipality}（{workspace}）"
    rows = [
        _file_row(plan, f.department_id, f.original_name, f.status, f.blocking, f.warnings)
        | {"差戻し票": f.feedback_key or "", "備考": " ／ ".join(f.notes)}
        for f in summary.files
    ]
    recorded = [*intake.duplicates, *intake.unreadable] if intake else []
    rows += [_recorded_row(plan, e) for e in recorded]
    create_table_artifact(
        key=artifact_key(plan, "files", year, workspace),
        table=rows,
        description=f"{who} {year}年度 今回の実行で確認した提出ファイル",
    )
    lines = [
        f"# {plan.municipality} {year}年度 確認結果（指摘事項）",
        f"作業フォルダ: {markdown_text(workspace)}",
        "",
        *_finding_lines(summary),
    ]
    noted = [(f.original_name, f.notes) for f in summary.files if f.notes]
    noted += [(e.original_name, tuple(e.notes)) for e in recorded if e.notes]
    if noted:
        lines += ["", "## 同時に届いたファイル・同じ内容のファイルの扱い", ""]
        lines += [
            f"- {markdown_text(name)}: {markdown_text(note)}"
            for name, notes in noted
            for note in notes
        ]
    if summary.findings_page:
        lines += ["", f"指摘事項一覧（日本語）: {markdown_text(summary.findings_page)}"]
    if summary.data_docs:
        lines += ["", f"GX Data Docs（検証結果の詳細・英語）: {markdown_text(summary.data_docs)}"]
    create_markdown_artifact(
        key=artifact_key(plan, "findings", year, workspace),
        markdown="\n".join(lines),
        description=f"{who} {year}年度 部署ごとの指摘事項",
    )
    _link_pages(plan, summary, workspace)
    _publish_resend(plan, storage, year, workspace)
    ledger = load_ledger(storage, year)
    create_table_artifact(
        key=artifact_key(plan, "status", year, workspace),
        table=build_status_rows(plan, ledger, dt.date.today()),
        description=f"{who} {year}年度 部署ごとの提出状況（shiryo status と同じ表）",
    )


def _link_pages(plan: Plan, summary: CollectionSummary, workspace: str) -> None:
    """Link the run's 指摘事項一覧 and GX Data Docs, when it made them (it had findings)."""
    pages = [
        ("findings-page", summary.findings_page, "指摘事項一覧（部署・ファイルごと、日本語）"),
        ("data-docs", summary.data_docs, "GX Data Docs（検証結果の詳細、英語）"),
    ]
    for kind, location, text in pages:
        if location:
            create_link_artifact(
                key=artifact_key(plan, kind, summary.fiscal_year, workspace),
                # A path becomes a file:// URI; an s3:// location stays as it is.
                link=location if "://" in location else Path(location).as_uri(),
                link_text=text,
                description=f"{plan.municipality} {summary.fiscal_year}年度 {text}",
            )


def _publish_resend(plan: Plan, storage: Storage, year: int, workspace: str) -> None:
    """Show the 調査票 to send again after a plan edit (or that there are none)."""
    resend = calls_to_resend(plan, storage)
    lines = [
        f"# {plan.municipality} {year}年度 送り直す調査票",
        f"作業フォルダ: {markdown_text(workspace)}",
        "",
    ]
    if resend:
        lines += [
            "配った後に内容が変わった調査票です。部署に送ってください"
            "（shiryo template を実行して表示されるまで、ここに出ます）。",
            "",
            "| 部署 | 理由 | 調査票 |",
            "| --- | --- | --- |",
        ]
        lines += [
            f"| {markdown_text(c.department)} | {REASONS_JA[c.reason]} "
            f"| {markdown_text(storage.describe(c.key))} |"
            for c in resend
        ]
    note = call_outdated_note(plan, storage)
    if note:
        lines += ["", note]
    elif not resend:
        lines.append("送り直す調査票はありません（配った調査票の内容は変わっていません）。")
    create_markdown_artifact(
        key=artifact_key(plan, "resend", year, workspace),
        markdown="\n".join(lines),
        description=f"{plan.municipality}（{workspace}） {year}年度 送り直す調査票",
    )


def _recorded_row(plan: Plan, entry: LedgerEntry) -> dict[str, str | int]:
    """Return a file the intake recorded without checking it, with its notes and reason."""
    row = _file_row(
        plan,
        entry.department_id,
        entry.original_name,
        entry.status,
        entry.blocking,
        entry.warnings,
    )
    notes = [*entry.notes, *([entry.first_error] if entry.first_error else [])]
    return row | {"差戻し票": "", "備考": " ／ ".join(notes)}


def _file_row(
    plan: Plan,
    department_id: str | None,
    name: str,
    status: str,
    blocking: int,
    warnings: int,
) -> dict[str, str | int]:
    return {
        "部署": plan.department(department_id).name if department_id else "（フォルダ違い）",
        "ファイル": name,
        "結果": STATUS_JA[status],
        "要修正": blocking,
        "注意": warnings,
    }


def _finding_lines(summary: CollectionSummary) -> list[str]:
    """Return one Markdown line per finding; a department's text in it is shown, never markup."""
    names = {f.sha256: f.original_name for f in summary.files}
    lines = []
    for finding in summary.findings:
        where = "!".join(p for p in (finding.sheet, finding.cell) if p)
        label = "要修正" if finding.severity == "critical" else "注意"
        name = names.get(finding.sha256, finding.sha256[:8])
        lines.append(
            f"- {markdown_text(name)} {markdown_text(where)} [{label}] "
            f"{markdown_text(finding.message)}"
        )
    return lines or ["指摘事項はありません。"]


publish_collection_artifacts_task = task(name="publish-artifacts", **UNCACHED)(
    publish_collection_artifacts
)
