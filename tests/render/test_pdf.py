"""PDF copies of the 資料 through LibreOffice, on machines that have it."""

from __future__ import annotations

import pytest

from tasks.call.workbook import build_submission_workbook
from tasks.plan.model import Plan
from tasks.render.pdf import convert_to_pdf, pdf_available
from tests.helpers import needs


@needs(pdf_available(), "LibreOffice (soffice)")
def test_it_converts_a_workbook_to_pdf(minami: Plan) -> None:
    """It returns a PDF made by LibreOffice from an .xlsx."""
    pdf = convert_to_pdf(build_submission_workbook(minami, "chiiki-somu"), ".xlsx")
    assert pdf.startswith(b"%PDF-")


def test_it_says_so_when_libreoffice_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """It raises RenderError naming LibreOffice when soffice is not on PATH."""
    from tasks.errors import RenderError

    monkeypatch.setenv("PATH", "/nonexistent")
    assert not pdf_available()
    with pytest.raises(RenderError, match="LibreOffice"):
        convert_to_pdf(b"", ".docx")
