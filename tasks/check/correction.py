"""The correction copy (修正用の調査票): the department's own workbook, each cell to fix marked.

Beside its 差戻し票, a department whose file was sent back gets the very workbook it sent,
with the values it typed, each cell with a finding filled (red: 要修正, yellow: 注意) and the
reason as a cell comment. It fixes those cells and drops the same file in again: the hidden
identity sheet, the locked structure and the grade list are those of the call, so the
corrected file is checked like any other.
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from tasks.check.validate import Finding
from tasks.ooxml import normalise_package
from tasks.workspace.names import visible_text

_FILLS = {
    "critical": PatternFill("solid", fgColor="FFC7CE"),
    "warning": PatternFill("solid", fgColor="FFEB9C"),
}
_SEVERITY_JA = {"critical": "要修正", "warning": "注意"}
_COMMENT_SIZE = (120, 320)
"""Height and width of a comment box, in points: room for a few lines of Japanese."""


def build_correction_copy(original: bytes, findings: list[Finding]) -> bytes | None:
    """Return the department's workbook with each cell to fix marked; None when none can be.

    None for a file refused as a whole (no finding names a cell, or it cannot be opened as a
    workbook): its 差戻し票 says what to do instead. Call it only for a file the reader read
    whole (``tasks.cycle.steps``): openpyxl opens it in full, which a hostile sheet (a cell at
    XFD1048576, a huge merged range) would make take minutes and gigabytes.
    """
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.sheet and finding.cell:
            by_cell.setdefault((finding.sheet, finding.cell), []).append(finding)
    if not by_cell or not any(f.severity == "critical" for f in findings):
        return None
    try:
        workbook = load_workbook(io.BytesIO(original))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, InvalidFileException):
        return None
    for (sheet_name, cell_ref), found in sorted(by_cell.items()):
        if sheet_name not in workbook.sheetnames:
            continue
        cell = workbook[sheet_name][cell_ref]
        worst = "critical" if any(f.severity == "critical" for f in found) else "warning"
        cell.fill = _FILLS[worst]
        cell.comment = _comment(found)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return normalise_package(buffer.getvalue())


def _comment(findings: list[Finding]) -> Comment:
    """Return the reasons for one cell, each with what is expected there."""
    lines = []
    for finding in findings:
        lines.append(f"【{_SEVERITY_JA[finding.severity]}】{visible_text(finding.message)}")
        if finding.expected:
            lines.append(f"正しい入力: {visible_text(finding.expected)}")
    comment = Comment("\n".join(lines), "shiryo")
    comment.height, comment.width = _COMMENT_SIZE
    return comment
