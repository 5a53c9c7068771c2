"""Suites: the base follows from the plan's fields; a municipality's rules are laid over it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.check.suites import derived_main_suite, main_suite, merge_suites, suite_path
from tasks.errors import ConfigError
from tasks.plan.load import load_plan
from tasks.settings import EXPECTATIONS_DIR, REPO_ROOT

MIDORINO = REPO_ROOT / "tests" / "data" / "midorino" / "plan.yaml"


def _rules(suite: dict[str, object]) -> list[tuple[str, str, str]]:
    return [
        (e["type"], json.dumps(e["kwargs"], ensure_ascii=False), e["severity"])
        for e in suite["expectations"]  # type: ignore[attr-defined]
    ]


def test_the_base_follows_the_plan_fields() -> None:
    """It checks required fields, the grade scale and every text's length, by the plan."""
    suite = derived_main_suite(load_plan(MIDORINO))
    rules = {(kind, kwargs) for kind, kwargs, _ in _rules(suite)}
    assert ("expect_column_values_to_not_be_null", '{"column": "jisseki"}') in rules
    assert ("expect_column_values_to_not_be_null", '{"column": "grade_or_group"}') in rules
    assert (
        "expect_column_value_lengths_to_be_between",
        '{"column": "kadai", "max_value": 300}',
    ) in rules
    assert not any(k == '{"column": "kadai"}' for _, k in rules)  # 課題 is optional
    messages = [e["meta"]["message_ja"] for e in suite["expectations"]]
    assert "「令和7年度の取組実績」が空欄です。記入してください。" in messages


@pytest.mark.parametrize(
    ("addition", "expected"),
    [
        # the same rule with another severity replaces the base one
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "a"},
                "severity": "warning",
                "meta": {"message_ja": "m"},
            },
            [("expect_column_values_to_not_be_null", '{"column": "a"}', "warning")],
        ),
        # "remove": true drops the base rule
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "a"},
                "remove": True,
            },
            [],
        ),
        # another rule is added after the base
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "b"},
                "severity": "critical",
                "meta": {"message_ja": "m"},
            },
            [
                ("expect_column_values_to_not_be_null", '{"column": "a"}', "critical"),
                ("expect_column_values_to_not_be_null", '{"column": "b"}', "critical"),
            ],
        ),
    ],
)
def test_a_municipality_adds_or_relaxes_rules(
    addition: dict[str, object], expected: list[tuple[str, str, str]]
) -> None:
    """It lays the municipality's rules over the base: replace, remove or add."""
    base = {
        "name": "base",
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "a"},
                "severity": "critical",
                "meta": {"message_ja": "m"},
            }
        ],
    }
    merged = merge_suites(base, {"expectations": [addition]})
    assert _rules(merged) == expected
    assert all("remove" not in e for e in merged["expectations"])


def test_a_suite_beside_the_plan_is_found_by_a_relative_path(tmp_path: Path) -> None:
    """It reads ``suite: rules.json`` from the plan's folder, without a second .json."""
    text = MIDORINO.read_text(encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(
        text.replace("  warning_mark: ▲\n", "  warning_mark: ▲\n  suite: rules.json\n"),
        encoding="utf-8",
    )
    rule = {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "kadai"},
        "severity": "warning",
        "meta": {"column": "kadai", "message_ja": "課題も書いてください"},
    }
    (tmp_path / "rules.json").write_text(json.dumps({"expectations": [rule]}), encoding="utf-8")
    plan = load_plan(tmp_path)
    assert plan.report.suite == str((tmp_path / "rules.json").resolve())
    assert ("expect_column_values_to_not_be_null", '{"column": "kadai"}', "warning") in _rules(
        main_suite(plan)
    )
    assert suite_path("hyoka") == EXPECTATIONS_DIR / "hyoka.json"
    assert suite_path("mine.json") == EXPECTATIONS_DIR / "mine.json"


def test_a_missing_suite_is_named(tmp_path: Path) -> None:
    """It names the suite file that cannot be read."""
    text = MIDORINO.read_text(encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(
        text.replace("  warning_mark: ▲\n", "  warning_mark: ▲\n  suite: nowhere\n"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"nowhere\.json"):
        main_suite(load_plan(tmp_path))
