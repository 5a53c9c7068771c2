"""The call record: how a returned version stands, what to send again, and until when."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.call.record import (
    CallRecord,
    call_is_current,
    calls_to_resend,
    load_call_record,
    mark_listed,
    version_state,
)
from tasks.cycle.steps import call_outdated, write_call_workbooks
from tasks.plan.load import load_plan
from tasks.workspace.keys import call_record_key
from tasks.workspace.storage import open_storage
from tests.midorino import add_department, add_initiative_for_bosai, midorino_config

RECORD = CallRecord(
    fiscal_year=2025,
    current="v2",
    contents={
        "v1": {"shakyo": "same", "bosai": "before"},
        "v2": {"shakyo": "same", "bosai": "after"},
    },
)


@pytest.mark.parametrize(
    ("department", "version", "expected"),
    [
        ("bosai", "v2", "current"),  # the version of the plan itself
        ("shakyo", "v1", "current"),  # older, but it showed 社協 what v2 shows
        ("bosai", "v1", "changed"),  # older, and 防災安全課's rows changed since
        ("bosai", "v0", "unknown"),  # a version the record never saw
        ("kikaku", "v1", "unknown"),  # a department the older version did not have
        ("bosai", None, None),  # no version in the workbook: the identity rules say so
    ],
)
def test_a_returned_version_is_judged_for_its_own_department(
    department: str, version: str | None, expected: str | None
) -> None:
    """It calls an older version current for a department it showed the same to."""
    assert version_state(RECORD, "v2", department, version) == expected


def test_a_plan_edited_since_the_last_call_cannot_be_compared() -> None:
    """It cannot say an older version is as good when the current one was never written."""
    assert version_state(RECORD, "v3", "shakyo", "v1") == "unknown"


def test_template_listing_them_ends_the_resend(tmp_path: Path) -> None:
    """It keeps the 調査票 to send again across calls until ``shiryo template`` lists them,
    then a later edit lists only what that edit changed."""
    storage = open_storage(tmp_path / "ws")
    write_call_workbooks(load_plan(midorino_config(tmp_path / "config")), storage)
    first = load_plan(midorino_config(tmp_path / "config", add_department))
    write_call_workbooks(first, storage)
    second = load_plan(
        midorino_config(tmp_path / "config", add_department, add_initiative_for_bosai)
    )
    write_call_workbooks(second, storage)
    assert [c.department for c in calls_to_resend(second, storage)] == ["防災安全課", "企画課"]

    mark_listed(storage, 2025)

    assert calls_to_resend(second, storage) == []
    assert load_call_record(storage, 2025).contents  # what each version showed is kept
    mark_listed(storage, 2025)  # nothing to forget: the record stays as it is
    assert calls_to_resend(second, storage) == []


def test_an_edit_undone_is_written_again(tmp_path: Path) -> None:
    """It tells the call to run again when ``outgoing`` was written for another version
    (an edit undone) or before any record, though every workbook is there."""
    storage = open_storage(tmp_path / "ws")
    plan = load_plan(midorino_config(tmp_path / "config"))
    assert call_outdated(plan, storage)  # nothing written yet
    write_call_workbooks(plan, storage)
    assert call_is_current(plan, storage) and not call_outdated(plan, storage)
    edited = load_plan(midorino_config(tmp_path / "edited", add_initiative_for_bosai))
    write_call_workbooks(edited, storage)
    assert call_outdated(plan, storage)

    write_call_workbooks(plan, storage)

    assert not call_outdated(plan, storage)
    (tmp_path / "ws" / call_record_key(2025)).unlink()  # a workspace from before the record
    assert call_outdated(plan, storage)
