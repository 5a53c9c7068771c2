"""Validate the files of many plans together: one GX run per suite for the plans that share it.

A service that collects many municipalities would pay GX's fixed cost of a run (per
expectation configuration, not per row) once per municipality and sheet kind. Here the
frames of every plan whose suite is the same are stacked and checked in one run, each row
carrying its own plan's parameters: a rule "value in ``$PARAMETER``" is run as "(plan, value)
in the union of (plan, allowed value)" on a column tagged with the row's plan, so that what
one plan allows never lets another plan's row pass. ``sha256`` is tagged too: a rule over one
file's rows (one row per initiative) never spans two plans. Only rules that look at one row,
or at one file's rows through ``sha256``, are shared; a suite with any other rule, or a
``mostly``, runs for its plan alone (``tasks.check.submissions.validate_staged``).

The findings are split back by plan and are exactly those a run of each plan alone gives;
each plan also gets its own share of GX's result (``tasks.check.shares``) for its Data Docs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tasks.call.record import CallRecord
from tasks.check.gx_context import RECORD_ID, forget_validations, take_validations
from tasks.check.shares import CARRIED, TAG, carried_column, plan_share, untag
from tasks.check.suites import identity_suite, indicator_suite, main_suite
from tasks.check.validate import (
    CellLocator,
    Finding,
    StagedBatch,
    dedupe_findings,
    suite_parameters,
    validate_frame,
)
from tasks.check.versions import with_call_versions
from tasks.errors import ShiryoError
from tasks.plan.model import Plan

_ROW_RULES = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list",
    "expect_column_pair_values_to_be_equal",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_select_column_values_to_be_unique_within_record",
}
"""Rules that judge each row by itself: the same verdict in any stack of rows."""
_FILE_RULES = {"expect_compound_columns_to_be_unique"}
"""Rules across rows, shared only when ``sha256`` is among their columns (one file's rows)."""
_CARRIED = {"expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"}


@dataclass(frozen=True)
class PlanFrames:
    """One plan's files to check: its stacked frames and its call record."""

    plan: Plan
    staged: StagedBatch
    calls: CallRecord | None = None


@dataclass(frozen=True)
class SharedCheck:
    """One plan's share of checks run together with other plans'."""

    findings: list[Finding]
    """What ``validate_staged`` finds for this plan alone, in the same order."""
    validations: list[tuple[Any, Any]]
    """This plan's own GX results (key, result): what its Data Docs show."""


@dataclass
class _Member:
    index: int
    frame: pd.DataFrame
    suite: dict[str, Any]
    parameters: dict[str, Any]
    cells: pd.DataFrame


def validate_together(plans: list[PlanFrames]) -> list[SharedCheck | None]:
    """Validate every plan's frames, one GX run per sheet kind for the plans sharing a suite.

    Returns one share per plan, or None for a plan whose checks could not run here (its own
    run then reports the error in its own words).
    """
    findings: list[list[Finding]] = [[] for _ in plans]
    validations: list[list[tuple[Any, Any]]] = [[] for _ in plans]
    failed: set[int] = set()
    for kind in ("identity", "main", "indicators"):
        groups: dict[str, list[_Member]] = {}
        for index, item in enumerate(plans):
            member = _member(index, item, kind)
            if member is None or index in failed:
                continue
            groups.setdefault(_group_key(member), []).append(member)
        for members in groups.values():
            try:
                shares = _run_group(members)
            except ShiryoError:
                failed.update(m.index for m in members)
                continue
            for member, (found, validation) in zip(members, shares, strict=True):
                findings[member.index] += found
                validations[member.index] += validation
    return [
        None if index in failed else SharedCheck(findings[index], validations[index])
        for index in range(len(plans))
    ]


def _member(index: int, item: PlanFrames, kind: str) -> _Member | None:
    """Return a plan's frame and suite of one sheet kind, or None when it has no rows."""
    if kind == "identity":
        frame = with_call_versions(item.plan, item.staged.identity, item.calls)
        suite = identity_suite()
    elif kind == "main":
        frame, suite = item.staged.main, main_suite(item.plan)
    else:
        frame, suite = item.staged.indicators, indicator_suite(item.plan)
    if frame.empty:
        return None
    return _Member(index, frame, suite, suite_parameters(item.plan), item.staged.cells)


def _carried(rule: dict[str, Any]) -> str | None:
    """Return the parameter a rule's rows can carry (an in-set rule's value set), if any."""
    kwargs = rule.get("kwargs", {})
    value_set = kwargs.get("value_set")
    if (
        rule["type"] in _CARRIED
        and isinstance(kwargs.get("column"), str)
        and isinstance(value_set, dict)
        and set(value_set) == {"$PARAMETER"}
    ):
        return str(value_set["$PARAMETER"])
    return None


def _shareable(member: _Member) -> bool:
    """Return whether the suite's every rule keeps its verdicts in a stack of several plans."""
    for rule in member.suite["expectations"]:
        kwargs = rule.get("kwargs", {})
        columns = [kwargs.get(k) for k in ("column", "column_A", "column_B")]
        columns += list(kwargs.get("column_list", []))
        shown = rule.get("meta", {}).get("column")
        if "mostly" in kwargs or rule["type"] not in _ROW_RULES | _FILE_RULES:
            return False
        if rule["type"] in _ROW_RULES and "sha256" in [*columns, shown]:
            return False  # a rule on the file's hash itself would see the tag
        if rule["type"] in _FILE_RULES and ("sha256" not in columns or shown == "sha256"):
            return False
        name = _carried(rule)
        if name is not None:
            values = member.parameters.get(name)
            column = member.frame.get(kwargs["column"])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                return False
            if column is None or not all(isinstance(v, str) for v in column.dropna()):
                return False
    return True


def _group_key(member: _Member) -> str:
    """Return what must be equal for plans to share a run: suite, shared values, columns."""
    if not _shareable(member):
        return f"alone-{member.index}"
    # Values the rows cannot carry must be equal: those a rule other than "in the set" names.
    named = {n for r in member.suite["expectations"] if _carried(r) is None for n in _named(r)}
    shared = {k: v for k, v in member.parameters.items() if k in named}
    columns = [(str(c), str(t)) for c, t in member.frame.dtypes.items()]
    return json.dumps([member.suite, shared, columns], sort_keys=True, ensure_ascii=False)


def _named(value: Any) -> set[str]:
    """Return the parameters a rule refers to (``{"$PARAMETER": name}`` anywhere in it)."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {str(value["$PARAMETER"])}
        return {n for v in value.values() for n in _named(v)}
    if isinstance(value, list):
        return {n for v in value for n in _named(v)}
    return set()


def _run_group(members: list[_Member]) -> list[tuple[list[Finding], list[tuple[Any, Any]]]]:
    """Run one suite over the members' stacked rows; return each member's findings and share."""
    first = members[0]
    if len(members) == 1:  # nothing to share: the plan's own run, as it always was
        forget_validations()
        found = validate_frame(first.frame, first.suite, first.parameters, CellLocator(first.cells))
        return [(found, take_validations())]
    suite, parameters = _shared_suite(members)
    frames, cells = [], []
    for position, member in enumerate(members):
        frames.append(_tagged(position, member, suite))
        tagged_cells = member.cells.copy()
        tagged_cells["sha256"] = f"{position}{TAG}" + tagged_cells["sha256"].astype(str)
        cells.append(tagged_cells)
    stacked = pd.concat(frames, ignore_index=True)
    stacked[RECORD_ID] = range(len(stacked))
    forget_validations()
    found = validate_frame(stacked, suite, parameters, CellLocator(pd.concat(cells)))
    (validation,) = take_validations()
    shares = []
    for position, member in enumerate(members):
        prefix = f"{position}{TAG}"
        mine = [untag(f, position) for f in found if f.sha256.startswith(prefix)]
        rows = stacked[stacked["sha256"].str.startswith(prefix)]
        share = plan_share(validation, suite, member.suite, member.parameters, rows, position)
        shares.append((dedupe_findings(mine), [share]))
    return shares


def _shared_suite(members: list[_Member]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the suite run for the group, and its values.

    A carried rule ("value in the plan's set") is run on a column each row carries: whether
    its value is in its own plan's set (null where the value is null, which the rule skips
    alike). GX then holds no plan's set in its configuration, whose every use otherwise
    walks the whole set (a thousand initiatives per plan).
    """
    rules = []
    for rule in members[0].suite["expectations"]:
        name = _carried(rule)
        if name is None:
            rules.append(rule)
            continue
        column = rule["kwargs"]["column"]
        rules.append(
            rule
            | {
                "kwargs": rule["kwargs"]
                | {"column": carried_column(column, name), "value_set": [True]},
                "meta": {"column": column} | rule.get("meta", {}),
            }
        )
    return members[0].suite | {"expectations": rules}, dict(members[0].parameters)


def _tagged(position: int, member: _Member, suite: dict[str, Any]) -> pd.DataFrame:
    """Return a member's rows with ``sha256`` tagged with its plan and the carried columns."""
    frame = member.frame.copy()
    frame["sha256"] = f"{position}{TAG}" + frame["sha256"].astype(str)
    for rule in suite["expectations"]:
        column = rule.get("kwargs", {}).get("column")
        if isinstance(column, str) and CARRIED in column:
            source, name = column.split(CARRIED, 1)
            allowed = set(member.parameters[name])
            frame[column] = [None if pd.isna(v) else v in allowed for v in frame[source]]
    return frame
