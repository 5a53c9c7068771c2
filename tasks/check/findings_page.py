"""The coordinator's findings page (指摘事項一覧): the 差戻し票's findings as one Japanese page.

Written beside the GX Data Docs (``datadocs/<fy>/指摘事項一覧.html``) for the same checked
files: per department, per file, each finding with its sheet, cell, 内容, 入力値, 期待される値
and 重要度, exactly as the file's 差戻し票 lists them. Static HTML: inline CSS, no script, no
address outside the page (a Content-Security-Policy says so to the browser too); every text
a department wrote is escaped, and hidden or bidi characters show as ``<U+202E>``. The same
files and findings give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from tasks.check.submissions import ROW_STATE_JA
from tasks.check.validate import Finding
from tasks.intake.ledger import STATUS_JA, LedgerEntry, japan_time
from tasks.plan.fiscal_year import fiscal_year_label
from tasks.plan.model import Plan
from tasks.workspace.keys import findings_page_key
from tasks.workspace.names import visible_text

_NO_FOLDER = "（フォルダ違い）"


@dataclass(frozen=True)
class CheckedFile:
    """One checked file as the page shows it: its ledger entry, findings and 差戻し票."""

    entry: LedgerEntry
    findings: list[Finding]
    feedback_key: str | None
    """Its 差戻し票's workspace key, or None when it has none."""


def build_findings_page(plan: Plan, files: list[CheckedFile]) -> bytes:
    """Return the 指摘事項一覧 of ``files`` as UTF-8 HTML, for ``findings_page_key``.

    It links each 差戻し票 and GX's ``index.html`` beside it by relative paths, which work
    wherever the workspace folder is opened from.
    """
    year = plan.fiscal_year.current
    root = "../" * findings_page_key(year).count("/")  # from the page to the workspace root
    title = f"{plan.municipality} {fiscal_year_label(year)} 提出ファイルの指摘事項一覧"
    ordered = _in_department_order(plan, files)
    body = [
        f"<h1>{_text(title)}</h1>",
        "<p>各部署に返す差戻し票と同じ指摘事項です。「要修正」があるファイルは差戻し、"
        "「注意」だけのファイルは受理されています。"
        '確認ルールごとの詳しい検証結果（英語）は <a href="index.html">'
        "GX Data Docs</a> にあります。</p>",
        _summary_table(plan, ordered),
    ]
    department = None
    for number, checked in enumerate(ordered, start=1):
        name = _department_name(plan, checked.entry)
        if name != department:
            body.append(f"<h2>{_text(name)}</h2>")
            department = name
        body += _file_section(number, checked, root)
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="ja">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_text(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
    return page.encode("utf-8")


def _in_department_order(plan: Plan, files: list[CheckedFile]) -> list[CheckedFile]:
    """Return the files by department in plan order (no folder last), then as received."""
    order = {d.id: i for i, d in enumerate(plan.departments)}

    def key(checked: CheckedFile) -> tuple[int, str, str, str]:
        entry = checked.entry
        rank = order.get(entry.department_id or "", len(order))
        return (rank, entry.received_at, entry.original_name, entry.source_key)

    return sorted(files, key=key)


def _department_name(plan: Plan, entry: LedgerEntry) -> str:
    if entry.department_id is None:
        return _NO_FOLDER
    return plan.department(entry.department_id).name


def _summary_table(plan: Plan, files: list[CheckedFile]) -> str:
    """Return one row per file: its department, where it is on the page, outcome, counts."""
    rows = []
    for number, checked in enumerate(files, start=1):
        blocking, warnings = _count(checked, "critical"), _count(checked, "warning")
        cells = [
            _text(_department_name(plan, checked.entry)),
            f'<a href="#file-{number}">{_text(checked.entry.original_name)}</a>',
            _text(STATUS_JA[checked.entry.status]),
        ]
        rows.append(
            ('<tr class="rejected">' if blocking else "<tr>")
            + "".join(f"<td>{cell}</td>" for cell in cells)
            + f'<td class="n">{blocking}</td><td class="n">{warnings}</td></tr>'
        )
    header = "".join(f"<th>{h}</th>" for h in ("部署", "ファイル", "結果", "要修正", "注意"))
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _count(checked: CheckedFile, severity: str) -> int:
    return sum(1 for f in checked.findings if f.severity == severity)


def _file_section(number: int, checked: CheckedFile, root: str) -> list[str]:
    """Return a file's heading, its facts and its findings table."""
    entry = checked.entry
    feedback = checked.feedback_key
    facts = [
        ("受付", _text(japan_time(entry.received_at))),
        ("結果", _text(STATUS_JA[entry.status])),
        (
            "差戻し票",
            f'<a href="{_href(root + feedback)}">{_text(feedback)}</a>' if feedback else "なし",
        ),
        *(("備考", _text(note)) for note in entry.notes),
    ]
    lines = [
        f'<h3 id="file-{number}">{_text(entry.original_name)}</h3>',
        "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
    ]
    if not checked.findings:
        lines.append("<p>指摘事項はありません。</p>")
        return lines
    header = "".join(
        f"<th>{h}</th>"
        for h in ("No.", "重要度", "シート", "セル", "内容", "入力値", "期待される値")
    )
    rows = [
        f'<tr class="{finding.severity}"><td class="n">{row}</td>'
        f'<td class="severity">{ROW_STATE_JA[finding.severity]}</td>'
        + "".join(
            f"<td>{_text(value or '')}</td>"
            for value in (
                finding.sheet,
                finding.cell,
                finding.message,
                finding.found,
                finding.expected,
            )
        )
        + "</tr>"
        for row, finding in enumerate(checked.findings, start=1)
    ]
    lines.append(
        f'<table class="findings"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return lines


def _text(value: str) -> str:
    """Return text as HTML shows it: escaped, every hidden or bidi character as ``<U+…>``."""
    return escape(visible_text(value), quote=True)


def _href(path: str) -> str:
    return escape(quote(path), quote=True)


_STYLE = (
    "body{font-family:'Noto Sans CJK JP','Yu Gothic','Meiryo',sans-serif;margin:24px;"
    "color:#222;line-height:1.5}"
    "h1{font-size:22px}h2{font-size:19px;border-bottom:2px solid #4a6fa5;margin-top:32px}"
    "h3{font-size:16px;margin-top:20px}"
    "table{border-collapse:collapse;margin:8px 0 16px}"
    "th,td{border:1px solid #999;padding:4px 8px;vertical-align:top;text-align:left;"
    "white-space:pre-wrap;overflow-wrap:anywhere}"
    "th{background:#d9e1f2;white-space:nowrap}td.n{text-align:right;white-space:nowrap}"
    "table.findings{width:100%}td.severity{white-space:nowrap;font-weight:bold}"
    "tr.critical td.severity{color:#b00020}tr.warning td.severity{color:#8a6d00}"
    "tr.rejected td{background:#fdecea}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:4px 0}"
    "dt{font-weight:bold}dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}"
)
