"""The Data Docs views compile GX's templates once per process, and render the same pages."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from tasks.plan.model import Plan
from tests.helpers import cell_of, filled_workbook, submit


def _publish(workspace: Path, plan: Plan) -> str:
    def bad_grade(workbook: object) -> None:
        sheet = workbook[plan.submission.sheet_name]  # type: ignore[index]
        sheet[cell_of(plan, workbook, "i049", "評価")] = "E"  # type: ignore[arg-type]

    data = filled_workbook(plan, "chiiki-somu", edit=bad_grade)
    summary = submit(workspace, plan, "intake/2021/chiiki-somu/提出.xlsx", data)
    assert summary.data_docs is not None
    return Path(summary.data_docs).read_text(encoding="utf-8")


def test_a_second_site_compiles_no_template(tmp_path: Path, minami: Plan) -> None:
    compiled: list[str | None] = []
    original = jinja2.Environment._compile

    def counting(self: jinja2.Environment, source: str, filename: str) -> object:
        compiled.append(filename)
        return original(self, source, filename)

    first = _publish(tmp_path / "first", minami)  # GX's templates compiled (maybe earlier)
    jinja2.Environment._compile = counting  # type: ignore[method-assign,assignment]
    try:
        second = _publish(tmp_path / "second", minami)
    finally:
        jinja2.Environment._compile = original  # type: ignore[method-assign]
    assert compiled == []
    # The same suites' pages (the index differs only by the runs' times and ids).
    suites = re.compile(r"shiryo-[a-z]+-[0-9a-f]{8}")
    assert set(suites.findall(second)) == set(suites.findall(first)) != set()
