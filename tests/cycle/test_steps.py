"""The steps as plain functions, on an opened storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cycle.steps import render_shiryo
from tasks.plan.load import load_plan
from tasks.render.pdf import pdf_available
from tasks.settings import REPO_ROOT
from tasks.workspace.storage import open_storage
from tests.helpers import needs

MIDORINO = REPO_ROOT / "tests" / "data" / "midorino"


@pytest.mark.scenario
@needs(pdf_available(), "LibreOffice (soffice)")
def test_a_render_without_pdf_removes_the_earlier_pdfs(tmp_path: Path) -> None:
    """It leaves no PDF of an earlier 資料 beside a new one rendered without --pdf."""
    plan, storage = load_plan(MIDORINO), open_storage(tmp_path)
    with_pdf = render_shiryo(plan, storage, pdf=True)
    assert sum(key.endswith(".pdf") for key in with_pdf) == 2
    without = render_shiryo(plan, storage, pdf=False)
    reports = sorted(o.key for o in storage.list("reports"))
    assert reports == sorted(without)
    assert not any(key.endswith(".pdf") for key in reports)
