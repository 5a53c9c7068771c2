"""The coordinator's fast path: tell, without running a flow, that a run would change nothing.

A run of the cycle (``shiryo run``) does new work only when a step's cache key has no stored
result (``tasks.cycle.caching``: the key covers the plan, the code, the suites and templates and
every workspace file the step reads) or an output is missing. When intake holds no file the
ledger has not seen, none is pending, every step's result is stored under its key, every
output is there and the 調査票 were last written for this very plan (not for an edit since
undone: ``tasks.call.record``), each step would finish ``Cached``: the run is skipped.
Nothing is taken, checked or written, so exactly-once and Retry are as they were; anything
new (a file, an edited plan, suite or template, a deleted output) makes a key or a check
differ and the flows run as usual.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from tasks.call.record import call_is_current
from tasks.cycle.caching import (
    call_cache_key,
    check_cache_key,
    consolidate_cache_key,
    render_cache_key,
)
from tasks.intake.files import anything_new
from tasks.intake.ledger import load_ledger
from tasks.plan.load import load_plan, plan_for_year
from tasks.render.pdf import pdf_available
from tasks.workspace.keys import call_keys, publication_keys, report_keys, result_key
from tasks.workspace.storage import Storage, open_storage


def current_outputs(
    config: str, fiscal_year: int | None, workspace: str, pdf: bool = False
) -> list[str] | None:
    """Return the 資料's keys when a run would change nothing; None when it must run."""
    plan = plan_for_year(load_plan(config), fiscal_year)
    storage = open_storage(workspace)
    ledger = load_ledger(storage, plan.fiscal_year.current)
    if anything_new(storage, ledger) or any(e.status == "pending" for e in ledger.entries):
        return None
    with_pdf = pdf and pdf_available()
    outputs = call_keys(plan) + publication_keys(plan, with_pdf)
    if not all(storage.exists(key) for key in outputs) or not call_is_current(plan, storage):
        return None
    steps: list[tuple[Callable[[Any, dict[str, Any]], str], dict[str, Any]]] = [
        (call_cache_key, {}),
        (check_cache_key, {"reads": None}),
        (consolidate_cache_key, {}),
        (render_cache_key, {"pdf": pdf}),
    ]
    for key_fn, options in steps:
        key = key_fn(None, {"plan": plan, "storage": storage, **options})
        if not _result_stored(storage, key):
            return None
    return sorted(report_keys(plan, with_pdf))


def _result_stored(storage: Storage, key: str) -> bool:
    """Return whether a step's result is stored under ``key`` and not expired."""
    stored = result_key(key)
    if not storage.exists(stored):
        return False
    try:
        expiration = json.loads(storage.read_bytes(stored))["metadata"]["expiration"]
    except (ValueError, KeyError, TypeError):
        return False  # not a result record Prefect wrote: let the run decide
    if expiration is None:
        return True
    return dt.datetime.fromisoformat(expiration) > dt.datetime.now(dt.UTC)
