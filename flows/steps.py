"""The pipeline's steps as Prefect tasks: a name, retries on storage faults, a cache key.

The steps themselves are plain functions (``tasks.cycle.steps``); here each gets what Prefect
adds: its name in the UI, retries only for a storage fault, and for the cached ones a content
cache key (``tasks.cycle.caching``) with a persisted result, so that a Retry skips them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State

from tasks.cycle import steps
from tasks.cycle.caching import (
    call_cache_key,
    check_cache_key,
    consolidate_cache_key,
    plan_cache_key,
    read_cache_key,
    render_cache_key,
    rules_cache_key,
    templates_cache_key,
)
from tasks.cycle.municipalities import check_together
from tasks.errors import ConfigError, CredentialsError, StorageError
from tasks.plan.load import load_plan

CACHED: dict[str, Any] = {
    "persist_result": True,
    "cache_expiration": dt.timedelta(days=400),
    "cache_result_in_memory": False,
}
"""Task options of every cached step: results persisted, kept for more than a year, and not
also kept in memory. A step's result goes straight to the next step; Prefect would
otherwise hold every persisted result in the flow run's store (up to 1,000: a long list's
reads and plans, 3.5 MiB per municipality, 1.19 GiB at 202)."""

UNCACHED: dict[str, Any] = {"cache_policy": NO_CACHE}
"""Task options of a step that always runs: no cache key is made. Prefect's default policy
pickles every input to hash it (a plan, a round's files) for a cache never used: listing
the pending files of 41 municipalities took 1.9 s with it, 0.2 s without."""


def run_name(prefix: str) -> Callable[[], str]:
    """Return a flow-run namer: ``collect-2021``, with the plan's year when none was given."""

    def name() -> str:
        from prefect.runtime import flow_run

        parameters = flow_run.parameters
        year = parameters.get("fiscal_year")
        if year is None:
            try:
                year = load_plan(parameters["config"]).fiscal_year.current
            except ConfigError:
                # The flow itself reports the broken plan; the run still needs a name.
                return f"{prefix}-plan-error"
        return f"{prefix}-{year}"

    return name


def _is_storage_fault(task: object, task_run: object, state: State[object]) -> bool:
    """Retry only what may pass by itself: a storage fault, not a bad file or template."""
    try:
        state.result()
    except CredentialsError:
        return False  # missing credentials do not come back by waiting
    except StorageError:
        return True
    except Exception:
        return False
    return False


STORAGE_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [2, 10, 30],
    "retry_condition_fn": _is_storage_fault,
}
"""Retry a step on a storage fault (S3 down, a share gone), never on a bad file or template."""

load_plan_task = task(name="load-plan", cache_key_fn=plan_cache_key, **CACHED)(steps.load_plan_step)
check_rules_task = task(name="check-rules", cache_key_fn=rules_cache_key, **CACHED)(
    steps.check_plan_rules
)
check_templates_task = task(name="check-templates", cache_key_fn=templates_cache_key, **CACHED)(
    steps.check_plan_templates
)
write_call_workbooks_task = task(
    name="write-call-workbooks", cache_key_fn=call_cache_key, **CACHED, **STORAGE_RETRIES
)(steps.write_call_workbooks)
take_intake_task = task(name="take-intake", **UNCACHED, **STORAGE_RETRIES)(steps.take_intake)
pending_batches_task = task(name="list-pending", **UNCACHED, **STORAGE_RETRIES)(
    steps.pending_batches
)
read_pending_task = task(
    name="read-submissions", cache_key_fn=read_cache_key, **CACHED, **STORAGE_RETRIES
)(steps.read_pending)
check_pending_task = task(
    name="check-submissions", cache_key_fn=check_cache_key, **CACHED, **STORAGE_RETRIES
)(steps.check_pending)
consolidate_year_task = task(
    name="consolidate-year", cache_key_fn=consolidate_cache_key, **CACHED, **STORAGE_RETRIES
)(steps.consolidate_year)
render_shiryo_task = task(
    name="render-shiryo",
    cache_key_fn=render_cache_key,
    **CACHED,
    **STORAGE_RETRIES,
)(steps.render_shiryo)
outputs_missing_task = task(name="look-for-outputs", **UNCACHED, **STORAGE_RETRIES)(
    steps.outputs_missing
)
call_outdated_task = task(name="look-for-call", **UNCACHED, **STORAGE_RETRIES)(steps.call_outdated)
check_together_task = task(name="check-together", **UNCACHED)(check_together)
"""The suites over many municipalities' files at once (``collect-municipalities``): not cached,
as what it finds goes to each municipality's cached ``check-submissions``."""
seed_demo_history_task = task(name="seed-demo-history", **UNCACHED)(steps.seed_demo_history)
drop_demo_submissions_task = task(name="drop-demo-submissions", **UNCACHED)(
    steps.drop_demo_submissions
)
