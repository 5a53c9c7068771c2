"""Every preset renders its 資料 whatever departments typed: their text is data, never code.

Each preset's departments send the product's own 調査票 with one hostile text in every free-text
cell and indicator note (``tests.hostile.HOSTILE_TEXTS``: template syntax, formulas, markup,
bidi and control characters, 外字, paths). The pipeline reads, checks and merges them; the Word
and Excel 資料 and the dataset's exports must show exactly the text kept, as text, with nothing
hidden acting. The same holds for text that reaches the dataset uncleaned (written by an older
version): it is shown, never executed. Only a template at fault fails a render, and it is named.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from docx import Document
from lxml import etree
from openpyxl import load_workbook

from tasks.check.normalise import clean_text
from tasks.cycle import steps
from tasks.dataset.store import (
    INDICATOR_KEY,
    KEY,
    load_consolidated,
    load_indicator_history,
    load_indicators,
    to_csv,
)
from tasks.errors import RenderError
from tasks.intake.ledger import Ledger, load_ledger
from tasks.plan.load import list_presets, load_plan
from tasks.plan.model import Plan
from tasks.render.docx import render_committee_docx
from tasks.render.report import build_report_context
from tasks.render.xlsx import render_committee_xlsx
from tasks.settings import TEMPLATES_DIR
from tasks.workspace.keys import intake_key, report_keys
from tasks.workspace.names import visible_text
from tasks.workspace.storage import Storage, open_storage
from tests import hostile

TYPED = " ".join(sorted(hostile.HOSTILE_TEXTS, key=lambda t: not t.startswith("=")))
"""Every hostile text in one cell, the formula first: a template that shows any free-text
field shows them all."""
KEPT = clean_text(TYPED).text or ""
"""What the dataset keeps of it: the wording, without what cannot be seen."""
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module", params=list_presets())
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Run a preset's year with every department's free text hostile; render its 資料."""
    plan = load_plan(request.param)
    storage = open_storage(tmp_path_factory.mktemp(request.param))
    steps.seed_demo_history(plan, request.param, storage)
    steps.write_call_workbooks(plan, storage)
    for department in plan.departments:
        if plan.initiatives_of(department.id):
            key = intake_key(plan.fiscal_year.current, department.id, "提出.xlsx")
            storage.write_bytes(key, hostile.typed_text(plan, department.id, [TYPED]))
    steps.take_intake(plan, storage, settle_seconds=0)
    summary = steps.check_pending(plan, storage)
    steps.consolidate_year(plan, storage)
    steps.render_shiryo(plan, storage)
    return plan, storage, summary


def _docx_paragraphs(data: bytes) -> list[str]:
    """Return the text of every paragraph of the body, headers and footers, XML unescaped
    (a line break as ``\\n``, a tab as ``\\t``)."""
    shown = {f"{_W}br": "\n", f"{_W}tab": "\t"}
    texts = []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in sorted(package.namelist()):
            if re.match(r"word/(document|header\d*|footer\d*)\.xml$", name):
                root = etree.fromstring(package.read(name))
                for paragraph in root.iter(f"{_W}p"):
                    texts.append(
                        "".join(
                            (e.text or "") if e.tag == f"{_W}t" else shown.get(e.tag, "")
                            for e in paragraph.iter()
                        )
                    )
    return texts


def _xlsx_cells(data: bytes) -> list[Any]:
    workbook = load_workbook(io.BytesIO(data))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def _hidden(text: str) -> list[str]:
    return [
        c
        for c in text
        if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")
    ]


def _reports(plan: Plan, storage: Storage) -> tuple[bytes, bytes]:
    docx_key, xlsx_key = report_keys(plan)[:2]
    return storage.read_bytes(docx_key), storage.read_bytes(xlsx_key)


def test_every_department_was_accepted_with_its_text(run: Any) -> None:
    """It accepts every hostile 調査票 (the hidden characters are 注意, not 要修正)."""
    plan, storage, summary = run
    assert summary.files and {f.status for f in summary.files} == {"accepted"}
    consolidated = load_consolidated(storage, plan.fiscal_year.current)
    text_fields = [f.key for f in plan.submission.fields if f.kind == "text"]
    kept = {v for v in consolidated[text_fields].stack() if isinstance(v, str)}
    assert kept == {KEPT}


def test_the_word_shiryo_shows_the_text_exactly(run: Any) -> None:
    """It shows every department's text as written (hidden characters gone), never evaluated."""
    plan, storage, _ = run
    docx, _ = _reports(plan, storage)
    paragraphs = _docx_paragraphs(docx)
    assert any(KEPT in p for p in paragraphs), plan.report.name
    joined = "\n".join(paragraphs)
    assert "{_{ raw }_}" in joined  # docxtpl's escape stays as typed, not turned into {{
    assert not _hidden(joined)
    Document(io.BytesIO(docx))  # a valid document


def test_the_excel_shiryo_shows_the_text_as_text(run: Any) -> None:
    """It writes the text into string cells, never a formula, with nothing hidden."""
    plan, storage, _ = run
    _, xlsx = _reports(plan, storage)
    cells = _xlsx_cells(xlsx)
    holding = [c for c in cells if isinstance(c.value, str) and KEPT in c.value]
    assert holding, plan.report.name
    assert {c.data_type for c in holding} == {"s"}
    assert not any(_hidden(c.value) for c in cells if isinstance(c.value, str))


def test_the_exports_neutralise_formulas(run: Any) -> None:
    """It writes the dataset's CSV with the formula-like text quoted, and its xlsx as text."""
    plan, storage, _ = run
    year = plan.fiscal_year.current
    csv = storage.read_bytes(f"curated/{year}/consolidated.csv").decode("utf-8-sig")
    assert not _hidden(csv.replace("\r\n", "\n"))
    values = set(pd.read_csv(io.StringIO(csv), dtype=str, keep_default_na=False).stack())
    assert KEPT.startswith("=") and "'" + KEPT in values and KEPT not in values
    cells = _xlsx_cells(storage.read_bytes(f"curated/{year}/consolidated.xlsx"))
    assert {c.data_type for c in cells if c.value == KEPT} == {"s"}


RAW = "報告\u202eexe\u202c {{ 7*7 }} =1+1 \x07\x1b[31m 外字\ue000 {_{ x }_} <w:br/>"
"""Text as an older version may have kept it: hidden characters still in it."""


def test_uncleaned_text_in_the_dataset_is_shown_never_acts(run: Any) -> None:
    """It renders text holding bidi, control and private-use characters as code points."""
    plan, storage, _ = run
    year = plan.fiscal_year.current
    consolidated = load_consolidated(storage, year)
    for field in plan.submission.fields:
        if field.kind == "text":
            consolidated[field.key] = RAW
    consolidated["previous_result_text"] = RAW
    indicators = load_indicators(storage, year)
    if "original_text" in indicators:
        indicators["original_text"] = RAW
    context = build_report_context(
        plan,
        consolidated,
        indicators,
        load_indicator_history(storage, year),
        load_ledger(storage, year),
    )
    shown = visible_text(RAW)
    assert "<U+202E>" in shown and "<U+0007>" in shown and "<U+E000>" in shown
    docx = render_committee_docx(plan.report.docx_template, context)
    paragraphs = _docx_paragraphs(docx)
    assert any(shown in p for p in paragraphs) and not _hidden("\n".join(paragraphs))
    xlsx = render_committee_xlsx(plan.report.xlsx_template, context)
    values = [c.value for c in _xlsx_cells(xlsx) if isinstance(c.value, str)]
    assert any(shown in v for v in values) and not any(_hidden(v) for v in values)
    assert shown.encode("utf-8") in to_csv(consolidated)


@pytest.mark.parametrize(
    "fault",
    [
        # a string constant that prints a tag
        "{{ '{{' }}",
        # a raw block: its tags are printed as they are
        "{% raw %}{{ municipality }}{% endraw %}",
        # docxtpl's escape, which it turns into {{ after rendering
        "{_{ municipality }_}",
        # a closing mark alone in the text
        "閉じ }} だけ",
    ],
)
def test_a_template_at_fault_is_named(tmp_path: Path, fault: str) -> None:
    """It refuses a template that would leave a tag in the 資料, naming the template."""
    document = Document(str(TEMPLATES_DIR / "hyoka/shiryo.docx"))
    document.add_paragraph(fault)
    template = tmp_path / "壊れた.docx"
    document.save(str(template))
    plan = load_plan("niigata-minami")
    context = build_report_context(
        plan,
        pd.DataFrame(columns=KEY),
        pd.DataFrame(columns=INDICATOR_KEY),
        pd.DataFrame(columns=[*INDICATOR_KEY, "value"]),
        Ledger(fiscal_year=plan.fiscal_year.current),
    )
    render_committee_docx(TEMPLATES_DIR / "hyoka/shiryo.docx", context)  # the original is fine
    with pytest.raises(RenderError, match=re.escape(str(template))) as refused:
        render_committee_docx(template, context)
    assert "タグの記号" in str(refused.value)
