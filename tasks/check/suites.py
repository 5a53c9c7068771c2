"""The validation suites of a plan: a base that follows from the plan, and the municipality's own.

The main sheet's base suite is derived from the plan's fields (``submission.fields``): every
row names one of the department's initiatives, once; a ``required`` field is filled in; a
``grade`` field holds a code of the grade scale; no text is longer than its ``max_length``.
The indicator sheet's and the identity's base suites are shipped in ``expectations/``.

A municipality adds or relaxes rules as data: the suite named by ``report.suite`` (and
``report.indicator_suite``) is a list of expectations laid over the base. One with the same
``type`` and columns as a base rule replaces it (another severity, another message); one
with ``"remove": true`` drops it; any other is added. A name is a file ``<name>.json`` in
``expectations/``; a path (ending in ``.json``) is taken as it is, relative paths having been
made absolute against the plan's folder when the plan was loaded (``tasks.plan.load``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tasks.call.workbook import field_label
from tasks.errors import ConfigError
from tasks.plan.model import Plan
from tasks.plan.parts import SubmissionField
from tasks.settings import EXPECTATIONS_DIR

IDENTITY_SUITE = "identity"
INDICATOR_SUITE = "indicators"
GRADE_OR_GROUP = "grade_or_group"
"""Staged column: the row's grade, or （グループで評価） on a row graded with its group."""

_OWN_KEYS = ("remove",)
"""Keys of a suite entry that shiryo reads and GX must not see."""


def main_suite(plan: Plan) -> dict[str, Any]:
    """Return the main sheet's suite: the base from the plan's fields, with the plan's rules."""
    base = derived_main_suite(plan)
    if plan.report.suite is None:
        return base
    return merge_suites(base, load_suite_spec(plan.report.suite))


def indicator_suite(plan: Plan) -> dict[str, Any]:
    """Return the indicator sheet's suite: the shipped base, with the plan's rules."""
    base = load_suite_spec(INDICATOR_SUITE)
    if plan.report.indicator_suite in (None, INDICATOR_SUITE):
        return base
    return merge_suites(base, load_suite_spec(plan.report.indicator_suite))


def identity_suite() -> dict[str, Any]:
    """Return the suite of every file's embedded identity (municipality, department, year)."""
    return load_suite_spec(IDENTITY_SUITE)


def derived_main_suite(plan: Plan) -> dict[str, Any]:
    """Return the main sheet's rules that follow from the plan's own fields."""
    name = plan.initiative_label
    expectations: list[dict[str, Any]] = [
        _rule(
            "expect_column_values_to_be_in_set",
            {"column": "initiative_key", "value_set": {"$PARAMETER": "known_initiatives"}},
            "initiative_id",
            f"{name}の ID「{{found}}」はこの部署の担当にありません。"
            "ID の列は変更しないでください。",
            "配布時の ID",
        ),
        _rule(
            "expect_compound_columns_to_be_unique",
            {"column_list": ["sha256", "initiative_id"]},
            "initiative_id",
            f"{name}の ID「{{found}}」の行が重複しています。同じ{name}は 1 行にまとめてください。",
            f"{name}ごとに 1 行",
        ),
    ]
    for field in plan.submission.fields:
        expectations += _field_rules(plan, field)
    return {
        "name": plan.report.name,
        "meta": {"notes": "plan.yaml の記入欄（submission.fields）から作った基本の確認ルール"},
        "expectations": expectations,
    }


def _field_rules(plan: Plan, field: SubmissionField) -> list[dict[str, Any]]:
    """Return the rules one field of the plan implies: filled in, in the scale, not too long."""
    # The label as the department sees it, braces escaped: the message is formatted again.
    label = field_label(plan, field.label).replace("{", "{{").replace("}", "}}")
    codes = "・".join(plan.grade_scale.codes)
    rules: list[dict[str, Any]] = []
    if field.kind == "grade":
        if field.required:
            rules.append(
                _rule(
                    "expect_column_values_to_not_be_null",
                    {"column": GRADE_OR_GROUP},
                    field.key,
                    f"{label}が空欄です。一覧から {codes} のいずれかを選んでください。",
                    f"{codes} のいずれか",
                )
            )
        rules.append(
            _rule(
                "expect_column_values_to_be_in_set",
                {"column": field.key, "value_set": {"$PARAMETER": "grade_codes"}},
                f"{field.key}_raw",
                f"{label}「{{found}}」は{plan.grade_scale.title}にありません。"
                f"一覧から {codes} のいずれかを選んでください。",
                f"{codes} のいずれか",
            )
        )
        return rules
    if field.required:
        rules.append(
            _rule(
                "expect_column_values_to_not_be_null",
                {"column": field.key},
                field.key,
                f"「{label}」が空欄です。記入してください。",
                label,
            )
        )
    rules.append(
        _rule(
            "expect_column_value_lengths_to_be_between",
            {"column": field.key, "max_value": field.max_length},
            field.key,
            f"「{label}」が長すぎます（{field.max_length} 文字まで）。要点をまとめてください。",
            f"{field.max_length} 文字以内",
        )
    )
    return rules


def merge_suites(base: dict[str, Any], additions: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``additions`` laid over it (replace, remove or add per rule)."""
    merged = {_rule_key(e): e for e in base["expectations"]}
    for entry in additions["expectations"]:
        key = _rule_key(entry)
        if entry.get("remove") is True:
            merged.pop(key, None)
        else:
            merged[key] = {k: v for k, v in entry.items() if k not in _OWN_KEYS}
    return {
        "name": additions.get("name", base["name"]),
        "meta": {**base.get("meta", {}), **additions.get("meta", {})},
        "expectations": list(merged.values()),
    }


def suite_path(name: str) -> Path:
    """Return the file of a suite named in the plan: a shipped name or a path to a .json."""
    if name.endswith(".json") or "/" in name:
        return Path(name) if Path(name).is_absolute() else EXPECTATIONS_DIR / name
    return EXPECTATIONS_DIR / f"{name}.json"


def load_suite_spec(name: str, directory: Path | None = None) -> dict[str, Any]:
    """Return a suite's JSON as a dict, or raise ConfigError naming the file."""
    path = suite_path(name) if directory is None else directory / f"{name}.json"
    try:
        spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: 確認ルール（GX スイート）を読めません: {err}") from err
    if not isinstance(spec, dict) or not isinstance(spec.get("expectations"), list):
        raise ConfigError(f"{path}: 確認ルールには expectations の一覧が必要です")
    for number, entry in enumerate(spec["expectations"], start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise ConfigError(f"{path}: {number} 番目のルールに type がありません")
        if not isinstance(entry.get("kwargs", {}), dict):
            raise ConfigError(f"{path}: {number} 番目のルールの kwargs は「名前: 値」の形です")
    spec.setdefault("name", path.stem)
    return spec


def _rule(
    kind: str, kwargs: dict[str, Any], column: str, message: str, expected: str
) -> dict[str, Any]:
    return {
        "type": kind,
        "kwargs": kwargs,
        "severity": "critical",
        "meta": {"column": column, "message_ja": message, "expected_ja": expected},
    }


def _rule_key(entry: dict[str, Any]) -> tuple[str, str]:
    """Return what a rule is about: its type and the columns it reads."""
    kwargs = entry.get("kwargs", {})
    columns = {
        k: kwargs[k] for k in ("column", "column_list", "column_A", "column_B") if k in kwargs
    }
    return str(entry["type"]), json.dumps(columns, sort_keys=True, ensure_ascii=False)
