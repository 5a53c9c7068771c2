"""The configuration check (``shiryo check``): plan, suites and templates against each other.

Run by the coordinator after editing a municipality's folder, and at the start of every
collection and publication before intake takes a file: a mistake is reported as one
Japanese line naming the key, the rule or the template tag, never as a traceback after the
departments' files were taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from tasks.call.workbook import build_submission_workbook
from tasks.check.gx_context import forget_validations
from tasks.check.read import read_submission
from tasks.check.submissions import validate_staged
from tasks.check.suites import identity_suite, indicator_suite, main_suite
from tasks.check.validate import StagedBatch, stack_batches, stage_frames
from tasks.check.versions import with_call_versions
from tasks.cycle.caching import configuration_key
from tasks.errors import ConfigError, RenderError, ShiryoError
from tasks.intake.ledger import Ledger
from tasks.plan.load import load_plan, plan_for_year, resolve_config_path
from tasks.plan.model import Plan
from tasks.render.docx import render_committee_docx
from tasks.render.report import build_report_context
from tasks.render.templates import template_source
from tasks.render.xlsx import render_committee_xlsx
from tasks.workspace.keys import sound_configuration_key
from tasks.workspace.storage import Storage

_COLUMN_KWARGS = ("column", "column_A", "column_B")


def configuration_problems(config: str, fiscal_year: int | None = None) -> list[str]:
    """Return every problem of a configuration, one Japanese line each; [] when sound."""
    try:
        plan = plan_for_year(load_plan(config), fiscal_year)
    except ConfigError as err:
        return _one_line_each(str(err))
    return suite_problems(plan) + template_problems(plan)


_SOUND: set[str] = set()
"""Configurations found sound in this process (a warm ``shiryo serve`` checks each once)."""


def problems_before_run(config: str, fiscal_year: int | None, storage: Storage) -> list[str]:
    """Return the configuration's problems before a run takes any file; [] when sound.

    A configuration found sound is remembered by its content (plan, rules, templates and the
    code), in this process and in the workspace: a coordinator's next run of the same
    configuration does not check it again; any edit does.
    """
    try:
        plan = plan_for_year(load_plan(config), fiscal_year)
    except ConfigError as err:
        return _one_line_each(str(err))
    key = configuration_key(plan)  # once: it hashes the plan, the rules and the templates
    if _known(key, storage):
        return []
    problems = suite_problems(plan) + template_problems(plan)
    if not problems:
        storage.write_bytes(sound_configuration_key(key), b"[]")
        _SOUND.add(key)
    return problems


def known_sound(plan: Plan, storage: Storage) -> bool:
    """Return whether the whole configuration was found sound before (this process, or the
    workspace's marker): its rules and its templates need no check."""
    return _known(configuration_key(plan), storage)


def _known(key: str, storage: Storage) -> bool:
    if key in _SOUND or storage.exists(sound_configuration_key(key)):
        _SOUND.add(key)
        return True
    return False


def check_rules(plan: Plan, storage: Storage) -> None:
    """Raise ConfigError listing every problem of the plan's suites (before intake)."""
    if not known_sound(plan, storage):
        _raise_if(suite_problems(plan))


def check_templates(plan: Plan, storage: Storage) -> None:
    """Raise ConfigError listing every problem of the plan's templates (before rendering)."""
    if not known_sound(plan, storage):
        _raise_if(template_problems(plan))


def _raise_if(problems: list[str]) -> None:
    if problems:
        lines = "\n".join(problems)
        raise ConfigError(f"設定に誤りがあります（shiryo check で確認できます）:\n{lines}")


def suite_problems(plan: Plan) -> list[str]:
    """Return the suites' problems: unreadable files, unknown rule types, unknown columns."""
    from great_expectations.expectations.registry import get_expectation_impl

    staged = _blank_batch(plan)
    problems: list[str] = []
    builders: list[tuple[str, Callable[[], dict[str, Any]], pd.DataFrame]] = [
        ("調査票のシート", lambda: main_suite(plan), staged.main),
        ("指標のシート", lambda: indicator_suite(plan), staged.indicators),
        # With the columns the check adds to it (how the file's version stands).
        ("提出ファイルの識別情報", identity_suite, with_call_versions(plan, staged.identity, None)),
    ]
    for what, build, frame in builders:
        try:
            suite = build()
        except ConfigError as err:
            problems.append(str(err))
            continue
        for number, rule in enumerate(suite["expectations"], start=1):
            where = f"確認ルール {suite['name']}（{what}）の {number} 番目（{rule['type']}）"
            try:
                get_expectation_impl(rule["type"])  # type: ignore[no-untyped-call]
            except Exception:  # GX raises its own error types for an unknown name
                problems.append(f"{where}: そのような確認の種類（type）はありません")
                continue
            unknown = sorted(set(_columns(rule)) - set(frame.columns)) if len(frame) else []
            if unknown:
                problems.append(
                    f"{where}: 列 {', '.join(unknown)} はありません"
                    f"（使える列: {', '.join(sorted(map(str, frame.columns)))}）"
                )
    return problems


def template_problems(plan: Plan) -> list[str]:
    """Return the templates' problems, found by rendering them with an empty dataset."""
    context = build_report_context(
        plan,
        pd.DataFrame(columns=["fiscal_year", "initiative_id", "department_id"]),
        pd.DataFrame(
            columns=["fiscal_year", "initiative_id", "indicator_id", "department_id", "value"]
        ),
        pd.DataFrame(
            columns=["fiscal_year", "initiative_id", "indicator_id", "department_id", "value"]
        ),
        Ledger(fiscal_year=plan.fiscal_year.current),
    )
    problems: list[str] = []
    try:
        render_committee_docx(template_source(plan, "docx"), context)
    except RenderError as err:
        problems.append(str(err))
    try:
        render_committee_xlsx(template_source(plan, "xlsx"), context)
    except RenderError as err:
        problems.append(str(err))
    return problems


def warm_up_checks(plan: Plan) -> None:
    """Validate a blank 調査票 once, build its Data Docs pages and forget both: GX's
    first-use costs (its templates compiled among them) paid before a run."""
    validate_staged(plan, stack_batches([_blank_batch(plan)]))
    forget_validations(rehearse=True)


def config_folder(config: str) -> str:
    """Return where a configuration is read from, for the coordinator's messages."""
    return str(resolve_config_path(config))


def _blank_batch(plan: Plan) -> StagedBatch:
    """Return the staged frames of a blank call workbook: the columns a rule may name."""
    department = plan.departments[0].id
    try:
        read = read_submission(build_submission_workbook(plan, department), plan)
    except ShiryoError as err:  # the product's own workbook: a plan the reader cannot follow
        raise ConfigError(f"計画から調査票を作って読めません: {err}") from err
    return stage_frames(plan, {"0" * 64: (department, read)})


def _columns(rule: dict[str, Any]) -> list[str]:
    kwargs = rule.get("kwargs", {})
    named = [str(kwargs[k]) for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    return named + [str(c) for c in kwargs.get("column_list", []) if isinstance(c, str)]


def _one_line_each(message: str) -> list[str]:
    """Return a multi-line configuration error as one line per problem, each with its file."""
    head, *rest = message.splitlines()
    if not rest:
        return [head]
    source = head.split(": ", 1)[0]
    return [f"{source}: {line.strip()}" for line in rest]
