"""One plan's share of a GX run over several plans' rows (``tasks.check.together``).

A run over stacked rows yields one GX result for all the plans in it; each plan's Data Docs
must show its own rows only. Its share keeps, for each rule, only the plan's unexpected rows
(numbered as in a run of the plan alone), its own counts and percentages, its own rule as
written in its suite (the value set its own plan allows) and its suite's own name; values
carry no other plan's tag.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any

import pandas as pd

from tasks.check.gx_context import RECORD_ID, register_suite
from tasks.check.validate import Finding

TAG = "\x1f"
"""Between a plan's place in a shared run and a tagged value (control characters never
reach a staged value: the reader takes them out)."""
CARRIED = "__in__"
"""In a carried column's name, between the column and the parameter: whether the column's
value is in its own plan's value set (``tasks.check.together``)."""


def carried_column(column: str, parameter: str) -> str:
    """Return the name of the column that says whether ``column`` is in ``parameter``."""
    return f"{column}{CARRIED}{parameter}"


_PARTIAL = 20
_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")


def untag(finding: Finding, position: int) -> Finding:
    """Return a finding of a shared run as the plan's own run gives it."""
    return replace(finding, sha256=finding.sha256.removeprefix(f"{position}{TAG}"))


def _untagged(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        return value.removeprefix(prefix)
    if isinstance(value, list | tuple):
        return type(value)(_untagged(v, prefix) for v in value)
    if isinstance(value, dict):
        return {k: _untagged(v, prefix) for k, v in value.items()}
    return value


def _rule_key(kind: str, meta: dict[str, Any] | None, kwargs: dict[str, Any]) -> str:
    columns = {k: kwargs[k] for k in _COLUMN_KWARGS if k in kwargs}
    return json.dumps([kind, meta or {}, columns], sort_keys=True, ensure_ascii=False, default=str)


def plan_share(
    validation: tuple[Any, Any],
    shared_suite: dict[str, Any],
    suite: dict[str, Any],
    parameters: dict[str, Any],
    rows: pd.DataFrame,
    position: int,
) -> tuple[Any, Any]:
    """Return (key, result) of one plan's share of a shared run's result.

    ``shared_suite`` is the suite as run, ``suite`` the plan's own (rule for rule);
    ``rows`` the plan's rows in the stacked frame; ``position`` its tag.
    """
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    key, result = validation
    own = {
        _rule_key(shared["type"], shared.get("meta"), shared.get("kwargs", {})): (shared, rule)
        for shared, rule in zip(shared_suite["expectations"], suite["expectations"], strict=True)
    }
    results = []
    for outcome in result.results:
        config = outcome.expectation_config
        shared, rule = own[_rule_key(config.type, config.meta, config.kwargs)]
        results.append(_share(outcome, shared, rule, parameters, rows, f"{position}{TAG}"))
    successful = sum(1 for r in results if r.success)
    name = register_suite(suite)
    share = ExpectationSuiteValidationResult(
        success=successful == len(results),
        results=results,
        suite_name=name,
        suite_parameters=result.suite_parameters,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": successful,
            "unsuccessful_expectations": len(results) - successful,
            "success_percent": 100 * successful / len(results) if results else None,
        },
        meta=result.meta,
        batch_id=result.batch_id,
    )
    identifier = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
        run_id=key.run_id,
        batch_identifier=f"shiryo-{name}",  # as a run of the plan alone names it
    )
    return identifier, share


def _share(
    outcome: Any,
    shared: dict[str, Any],
    rule: dict[str, Any],
    parameters: dict[str, Any],
    rows: pd.DataFrame,
    prefix: str,
) -> Any:
    """Return one rule's result restricted to the plan's rows, as its own run words it."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )

    first, count = int(rows[RECORD_ID].iloc[0]), len(rows)
    found = dict(outcome.result or {})
    entries_all = found.get("unexpected_index_list") or []
    values_all = found.get("unexpected_list") or []
    mine = [
        (entry, value)
        for entry, value in zip(entries_all, values_all, strict=False)
        if first <= int(entry[RECORD_ID]) < first + count
    ]
    entries, values = _own_rows(mine, rule, shared, rows, prefix)
    missing = _missing(shared.get("kwargs", {}), rows)
    counts = _partial_counts(values)
    unexpected = len(entries)
    present = count - missing
    figures: dict[str, Any] = {
        "element_count": count,
        "missing_count": missing,
        "missing_percent": 100 * missing / count if count else None,
        "unexpected_count": unexpected,
        "unexpected_percent": 100 * unexpected / present if present else None,
        "unexpected_percent_nonmissing": 100 * unexpected / present if present else None,
        "unexpected_percent_total": 100 * unexpected / count if count else None,
        "unexpected_list": values,
        "unexpected_index_list": entries,
        "partial_unexpected_list": values[:_PARTIAL],
        "partial_unexpected_index_list": entries[:_PARTIAL],
        "partial_unexpected_counts": counts,
        "unexpected_index_query": f"df.filter(items={[e[RECORD_ID] for e in entries]}, axis=0)",
    }
    found |= {k: v for k, v in figures.items() if k in found}
    return ExpectationValidationResult(
        success=unexpected == 0,
        expectation_config=_own_config(outcome, rule, parameters),
        result=found,
        meta=outcome.meta,
        exception_info=outcome.exception_info,
    )


def _own_rows(
    mine: list[tuple[dict[str, Any], Any]],
    rule: dict[str, Any],
    shared: dict[str, Any],
    rows: pd.DataFrame,
    prefix: str,
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Return the plan's unexpected rows (numbered from its first) and values, untagged."""
    first = int(rows[RECORD_ID].iloc[0])
    source = rule.get("kwargs", {}).get("column")
    carried = CARRIED in str(shared.get("kwargs", {}).get("column", ""))
    by_id = rows.set_index(RECORD_ID)
    # A carried rule's rows hold a yes/no: the value itself is the source column's.
    entries = [
        {RECORD_ID: int(e[RECORD_ID]) - first}
        | {
            k.split(CARRIED)[0]: by_id.at[int(e[RECORD_ID]), source]
            if CARRIED in k
            else _untagged(v, prefix)
            for k, v in e.items()
            if k != RECORD_ID
        }
        for e, _ in mine
    ]
    values = [
        by_id.at[int(e[RECORD_ID]), source] if carried else _untagged(v, prefix) for e, v in mine
    ]
    return entries, values


def _own_config(outcome: Any, rule: dict[str, Any], parameters: dict[str, Any]) -> Any:
    """Return the rule as the plan's own run states it: its own column and value set."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    kwargs = {k: _resolved(v, parameters) for k, v in rule.get("kwargs", {}).items()}
    kwargs["batch_id"] = outcome.expectation_config.kwargs.get("batch_id")
    return ExpectationConfiguration(**(rule | {"kwargs": kwargs}))


def _missing(kwargs: dict[str, Any], rows: pd.DataFrame) -> int:
    """Return the rows a rule skips as missing: its column null, or all its columns null."""
    if isinstance(kwargs.get("column"), str):
        return int(rows[kwargs["column"]].isna().sum())
    columns = [kwargs[k] for k in ("column_A", "column_B") if k in kwargs]
    columns += list(kwargs.get("column_list", []))
    present = [c for c in columns if c in rows]
    return int(rows[present].isna().all(axis=1).sum()) if present else 0


def _partial_counts(values: list[Any]) -> list[dict[str, Any]]:
    try:
        counted = Counter(tuple(v) if isinstance(v, list) else v for v in values)
    except TypeError:  # a value GX reports that cannot be counted (a dict): no counts
        return []
    ranked = sorted(counted.items(), key=lambda item: (-item[1], str(item[0])))
    return [{"value": value, "count": n} for value, n in ranked[:_PARTIAL]]


def _resolved(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        return parameters.get(str(value["$PARAMETER"]))
    return value
