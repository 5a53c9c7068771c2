"""Tests of validation: suites as data, findings per file and cell, batches that go on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tasks.check.submissions import check_submissions
from tasks.check.suites import EXPECTATIONS_DIR, load_suite_spec
from tasks.plan.model import Plan
from tasks.workspace.folder import FolderStorage
from tests.helpers import archive_files, cell_of, filled_workbook


def test_every_suite_resolves_every_expectation_type() -> None:
    """It ships suites whose every expectation is a GX type with a Japanese message."""
    from great_expectations.expectations.registry import get_expectation_impl

    suites = sorted(EXPECTATIONS_DIR.glob("*.json"))
    assert suites
    for path in suites:
        spec = load_suite_spec(path.stem)
        for expectation in spec["expectations"]:
            assert get_expectation_impl(expectation["type"]) is not None
            assert expectation["meta"]["message_ja"], (path.name, expectation["type"])
            assert expectation.get("severity", "critical") in ("critical", "warning")


def test_it_reports_each_mistake_at_its_cell(tmp_path: Path, minami: Plan) -> None:
    """It names the sheet and cell of a bad grade and a blank result, and accepts the rest."""
    storage = FolderStorage(tmp_path)
    sheet_name = minami.submission.sheet_name
    grade_label, result_label = "評価", "2021年度実績（見込み）"

    def mistakes(workbook: object) -> None:
        sheet = workbook[sheet_name]  # type: ignore[index]
        sheet[cell_of(minami, workbook, "i049", grade_label)] = "Ｅ"  # type: ignore[arg-type]
        sheet[cell_of(minami, workbook, "i051", result_label)] = None  # type: ignore[arg-type]

    broken = filled_workbook(minami, "chiiki-somu", edit=mistakes)
    reference = load_workbook(io.BytesIO(broken))
    entries = archive_files(
        storage,
        {
            "broken": ("chiiki-somu", broken),
            "fine": ("shakyo", filled_workbook(minami, "shakyo", grade="ｂ")),
        },
    )
    batch = check_submissions(storage, minami, entries)
    assert batch.rejected == {"broken"}
    found = {(f.sheet, f.cell, f.found) for f in batch.findings if f.sha256 == "broken"}
    assert found == {
        (sheet_name, cell_of(minami, reference, "i049", grade_label), "Ｅ"),
        (sheet_name, cell_of(minami, reference, "i051", result_label), None),
    }
    messages = [f.message for f in batch.findings]
    assert any("評価「Ｅ」は評価の指標にありません" in m for m in messages)
    assert any("実績が空欄です" in m for m in messages)
    # The fine file's full-width lower-case grade folds to B and passes.
    fine = batch.main[batch.main["sha256"] == "fine"]
    assert set(fine["grade"]) == {"B"}


def test_it_refuses_a_file_that_claims_another_department(tmp_path: Path, minami: Plan) -> None:
    """It rejects a department's workbook dropped in another department's folder, once."""
    storage = FolderStorage(tmp_path)
    entries = archive_files(storage, {"stray": ("shakyo", filled_workbook(minami, "chiiki-somu"))})
    batch = check_submissions(storage, minami, entries)
    assert batch.rejected == {"stray"}
    identity = [f for f in batch.findings if f.rule == "expect_column_pair_values_to_be_equal"]
    assert len(identity) == 1
    assert "別の部署" in identity[0].message and identity[0].found == "chiiki-somu"


def test_one_unreadable_file_does_not_stop_the_batch(tmp_path: Path, minami: Plan) -> None:
    """It turns an unreadable file into one finding and still validates the others."""
    storage = FolderStorage(tmp_path)
    entries = archive_files(
        storage,
        {
            "csv": ("shakyo", "事業ID,評価\n".encode()),
            "good": ("chiiki-somu", filled_workbook(minami, "chiiki-somu")),
        },
    )
    batch = check_submissions(storage, minami, entries)
    assert batch.rejected == {"csv"}
    assert set(batch.main["sha256"]) == {"good"}


def test_a_new_expectation_in_json_changes_the_outcome(
    tmp_path: Path, minami: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It applies an expectation that was added only to a suite file."""
    suites = tmp_path / "expectations"
    suites.mkdir()
    for path in EXPECTATIONS_DIR.glob("*.json"):
        (suites / path.name).write_bytes(path.read_bytes())
    storage = FolderStorage(tmp_path / "ws")
    entries = archive_files(storage, {"c": ("chiiki-somu", filled_workbook(minami, "chiiki-somu"))})
    monkeypatch.setattr("tasks.check.suites.EXPECTATIONS_DIR", suites)
    assert check_submissions(storage, minami, entries).rejected == frozenset()

    spec = json.loads((suites / "hyoka.json").read_text(encoding="utf-8"))
    spec["expectations"].append(
        {
            "type": "expect_column_value_lengths_to_be_between",
            "kwargs": {"column": "comment", "min_value": 40},
            "severity": "critical",
            "meta": {"column": "comment", "message_ja": "コメントは 40 文字以上で書いてください。"},
        }
    )
    (suites / "hyoka.json").write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    batch = check_submissions(storage, minami, entries)
    assert batch.rejected == {"c"}
    assert {f.message for f in batch.findings} == {"コメントは 40 文字以上で書いてください。"}


def test_markup_typed_by_a_department_stays_inert_in_data_docs(
    tmp_path: Path, minami: Plan
) -> None:
    """It keeps a department's <script> out of the coordinator's Data Docs pages as markup."""
    from tasks.check.gx_context import publish_data_docs

    def inject(workbook: object) -> None:
        sheet = workbook[minami.submission.sheet_name]  # type: ignore[index]
        sheet[cell_of(minami, workbook, "i049", "評価")] = "<script>alert(1)</script>"  # type: ignore[arg-type]

    storage = FolderStorage(tmp_path)
    entries = archive_files(
        storage, {"x": ("chiiki-somu", filled_workbook(minami, "chiiki-somu", edit=inject))}
    )
    batch = check_submissions(storage, minami, entries)
    assert any(f.found == "<script>alert(1)</script>" for f in batch.findings)  # feedback keeps it
    publish_data_docs(storage, "datadocs/2021")
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "datadocs").rglob("*.html")]
    # GX shows the folded grade (upper case); what matters is that no page holds it as a tag.
    assert pages and not any("<script>alert(1)" in page.lower() for page in pages)
    assert any("＜SCRIPT＞ALERT(1)" in page for page in pages)
