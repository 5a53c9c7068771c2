"""Cache keys built from content, so that a retried run skips only what did not change.

Prefect's Retry re-runs the whole flow run; a task is skipped when its cache key matches a
persisted result. A key here is a hash of everything the step reads: the plan, the code, the
suites or templates, and the workspace files it consumes (by content, never by run id). When a
department drops a new file or a coordinator repairs a template, the key changes and the step
runs again; otherwise its earlier result is reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from tasks.call.record import load_call_record, version_contents
from tasks.check.suites import suite_path
from tasks.intake.ledger import load_ledger
from tasks.plan.load import plan_hash, resolve_config_path
from tasks.plan.model import Plan
from tasks.render.templates import configured_template, template_path
from tasks.settings import CODE_DIRS, REPO_ROOT, read_code_version
from tasks.workspace.keys import (
    EXPORT_SUFFIXES,
    consolidated_key,
    indicators_key,
    ledger_key,
    staged_prefix,
)
from tasks.workspace.storage import Storage, own_objects


@cache
def code_version() -> str:
    """Return a hash of the product's own code (every module under tasks/ and flows/)."""
    return read_code_version(REPO_ROOT, CODE_DIRS)


def fingerprint(parts: Iterable[bytes | str]) -> str:
    """Return a hash of several parts."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def stored_content(storage: Storage, prefixes: Iterable[str]) -> list[bytes]:
    """Return every object under the prefixes as (key, bytes) parts, sorted by key."""
    parts: list[bytes] = []
    for prefix in prefixes:
        for stored in own_objects(storage.list(prefix)):
            parts.append(stored.key.encode())
            parts.append(storage.read_bytes(stored.key))
    return parts


def repo_files(patterns: Iterable[str]) -> list[bytes]:
    """Return the repository files matching the patterns, with their names, sorted."""
    parts: list[bytes] = []
    for pattern in patterns:
        for path in sorted(REPO_ROOT.glob(pattern)):
            parts += [str(path.relative_to(REPO_ROOT)).encode(), path.read_bytes()]
    return parts


def content_key(
    step: str, reads: Callable[[Plan, Storage], list[bytes]]
) -> Callable[[Any, dict[str, Any]], str]:
    """Return a Prefect ``cache_key_fn`` for a step taking ``plan`` and ``storage``."""

    def key(_context: Any, parameters: dict[str, Any]) -> str:
        plan: Plan = parameters["plan"]
        storage: Storage = parameters["storage"]
        options = sorted(
            (k, repr(v)) for k, v in parameters.items() if k not in _CONTENT_PARAMETERS
        )
        return fingerprint(
            [
                step,
                repr(options),
                code_version(),
                plan_hash(plan),
                str(plan.fiscal_year.current),
                storage.describe(""),
                *reads(plan, storage),
            ]
        )

    return key


_CONTENT_PARAMETERS = ("plan", "storage", "entries", "reads", "shared")
"""Parameters keyed by their content elsewhere (the plan's hash, the files read), not by repr
(``shared``: what the suites found in the files read, a function of what is keyed)."""


def read_cache_key(_context: Any, parameters: dict[str, Any]) -> str:
    """Key a read of archived files on the files themselves (their names are their hashes),
    and on where each was found: copies of the same bytes are decided by folder and order."""
    plan: Plan = parameters["plan"]
    entries = parameters["entries"]
    return fingerprint(
        [
            "read",
            code_version(),
            plan_hash(plan),
            parameters["storage"].describe(""),
            *sorted(
                f"{e.sha256} {e.department_id} {e.source_key} {e.source_mtime}" for e in entries
            ),
        ]
    )


def _sightings(plan: Plan, storage: Storage) -> list[bytes]:
    """What has arrived: every ledger sighting (not its status, which checking changes)."""
    ledger = load_ledger(storage, plan.fiscal_year.current)
    return sorted(f"{e.sha256} {e.source_key} {e.source_mtime}".encode() for e in ledger.entries)


def _ledger(plan: Plan, storage: Storage) -> list[bytes]:
    key = ledger_key(plan.fiscal_year.current)
    return [storage.read_bytes(key)] if storage.exists(key) else []


def _previous_year(plan: Plan, storage: Storage) -> list[bytes]:
    previous = plan.fiscal_year.before
    keys = [consolidated_key(previous), indicators_key(previous)]
    return [part for key in keys for part in (key.encode(), _object_or_nothing(storage, key))]


def _object_or_nothing(storage: Storage, key: str) -> bytes:
    # Storage.list takes folders; a single file is read directly (absent: no bytes).
    return storage.read_bytes(key) if storage.exists(key) else b""


def _checks(plan: Plan, storage: Storage) -> list[bytes]:
    # What each 調査票 version showed decides whether an older one is as good as the current.
    calls = version_contents(load_call_record(storage, plan.fiscal_year.current))
    suites = repo_files(["expectations/*.json"]) + _own_suites(plan)
    return [*_sightings(plan, storage), calls, *suites]


def _own_suites(plan: Plan) -> list[bytes]:
    # The plan's own suites beside its plan.yaml (made absolute when the plan was loaded).
    own = [suite_path(s) for s in (plan.report.suite, plan.report.indicator_suite) if s]
    local = [p for p in own if not p.is_relative_to(REPO_ROOT)]
    return [part for path in local for part in (_shown(path).encode(), _bytes_or_nothing(path))]


def _staged(plan: Plan, storage: Storage) -> list[bytes]:
    year = plan.fiscal_year.current
    return (
        _ledger(plan, storage)
        + stored_content(storage, [staged_prefix(year)])
        + (_previous_year(plan, storage))
    )


def _dataset_and_templates(plan: Plan, storage: Storage) -> list[bytes]:
    # The dataset's xlsx and CSV are written by the render step itself: not what it reads.
    dataset: list[bytes] = []
    for stored in own_objects(storage.list("curated")):
        if not stored.key.endswith(EXPORT_SUFFIXES):
            dataset += [stored.key.encode(), storage.read_bytes(stored.key)]
    return dataset + _ledger(plan, storage) + _templates(plan)


def _templates(plan: Plan) -> list[bytes]:
    # A template the plan names is read; one built from the plan's layout is a function of
    # the plan and the code, both already in the key.
    configured = [configured_template(plan, "docx"), configured_template(plan, "xlsx")]
    paths = [template_path(c) for c in configured if c is not None]
    return [part for path in paths for part in (_shown(path).encode(), _bytes_or_nothing(path))]


def _suites(plan: Plan, _storage: Storage) -> list[bytes]:
    return repo_files(["expectations/*.json"]) + _own_suites(plan)


def _template_files(plan: Plan, _storage: Storage) -> list[bytes]:
    return _templates(plan)


def _shown(path: Path) -> str:
    # The repository's own templates by their place in it: checkouts at different paths on
    # different workers share the key.
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _bytes_or_nothing(path: Path) -> bytes:
    # A missing template is the render step's error to report, in its own words.
    try:
        return path.read_bytes()
    except OSError:
        return b""


def configuration_key(plan: Plan) -> str:
    """Key a whole configuration check (rules and templates) on what it reads."""
    parts = repo_files(["expectations/*.json"]) + _own_suites(plan) + _templates(plan)
    return fingerprint(["configuration", code_version(), plan_hash(plan), *parts])


def plan_cache_key(_context: object, parameters: dict[str, Any]) -> str:
    """Key the plan on its file's bytes and the year asked for."""
    path = resolve_config_path(parameters["config"])
    return fingerprint(["plan", code_version(), path.read_bytes(), str(parameters["fiscal_year"])])


rules_cache_key = content_key("rules", _suites)
templates_cache_key = content_key("templates", _template_files)
call_cache_key = content_key("call", _previous_year)
check_cache_key = content_key("check", _checks)
consolidate_cache_key = content_key("consolidate", _staged)
render_cache_key = content_key("render", _dataset_and_templates)
