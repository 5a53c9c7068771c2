"""Which 調査票 a call writes again after a plan edit, on みどり野市 (none of the presets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.call.issue import workbook_content, write_call
from tasks.call.record import calls_to_resend, load_call_record
from tasks.call.workbook import PreviousValues, build_submission_workbook
from tasks.cycle.steps import write_call_workbooks
from tasks.plan.load import call_version, load_plan
from tasks.workspace.keys import outgoing_key
from tasks.workspace.storage import Storage, open_storage
from tests.midorino import (
    PlanEdit,
    add_department,
    add_initiative_for_bosai,
    change_report_only,
    midorino_config,
    raise_sodan_target,
    share_kodomo_shokudo,
)


def _sent(storage: Storage, config: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    plan = load_plan(config)
    write_call_workbooks(plan, storage)
    keys = {d.id: outgoing_key(plan, d.id) for d in plan.departments}
    return {d: storage.read_bytes(k) for d, k in keys.items()}, keys


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        # a department added mid-season: its own 調査票 to send, the six others unchanged
        ([add_department], {"kikaku": "new"}),
        # an initiative added for one department: that department's 調査票 only
        ([add_initiative_for_bosai], {"bosai": "changed"}),
        # the report section only: the call version is the same, no 調査票 touched
        ([change_report_only], {}),
        # a department added to a shared initiative: its 担当部署 column changes for the others
        ([share_kodomo_shokudo], {"kikaku": "new", "kosodate": "changed", "shakyo": "changed"}),
        # a target shown on one department's indicator sheet
        ([raise_sodan_target], {"fukushi-seisaku": "changed"}),
        # two edits at once
        ([add_department, add_initiative_for_bosai], {"kikaku": "new", "bosai": "changed"}),
    ],
)
def test_only_the_workbooks_whose_content_changed_are_written_and_listed(
    tmp_path: Path, edits: list[PlanEdit], expected: dict[str, str]
) -> None:
    """It rewrites and lists exactly the departments whose 調査票 shows something else (or
    that never had one); every other 調査票 stays byte for byte as it was sent."""
    storage = open_storage(tmp_path / "ws")
    sent, keys = _sent(storage, midorino_config(tmp_path / "config"))
    assert calls_to_resend(load_plan(tmp_path / "config"), storage) == []  # the first call

    edited = load_plan(midorino_config(tmp_path / "config", *edits))
    write_call_workbooks(edited, storage)

    listed = calls_to_resend(edited, storage)
    assert {c.department_id: c.reason for c in listed} == expected
    assert [c.key for c in listed] == [outgoing_key(edited, c.department_id) for c in listed]
    for department, data in sent.items():
        assert (storage.read_bytes(keys[department]) != data) == (department in expected)
    if "kikaku" in expected:
        assert storage.exists(outgoing_key(edited, "kikaku"))
    record = load_call_record(storage, 2025)
    assert record.current == call_version(edited)


def test_an_unchanged_workbook_is_as_good_under_either_version(tmp_path: Path) -> None:
    """It digests what a workbook shows without its embedded version: 社協's workbook under
    the plan before and after 企画課 joins shows the same, 防災安全課's does not once it has
    one more initiative."""
    before = load_plan(midorino_config(tmp_path / "before"))
    after = load_plan(midorino_config(tmp_path / "after", add_department, add_initiative_for_bosai))
    old, new = (workbook_content(build_submission_workbook(p, "shakyo")) for p in (before, after))
    assert old[0] == call_version(before) and new[0] == call_version(after)
    assert old[0] != new[0] and old[1] == new[1]
    old_bosai, new_bosai = (
        workbook_content(build_submission_workbook(p, "bosai")) for p in (before, after)
    )
    assert old_bosai[1] != new_bosai[1]


def test_a_workbook_deleted_by_hand_is_written_again_without_a_resend(tmp_path: Path) -> None:
    """It writes a deleted 調査票 again; the same content is nothing to send again, but a
    changed one is, as the record remembers what the department was given."""
    storage = open_storage(tmp_path / "ws")
    sent, keys = _sent(storage, midorino_config(tmp_path / "config"))
    (tmp_path / "ws" / keys["shakyo"]).unlink()
    (tmp_path / "ws" / keys["bosai"]).unlink()
    edited = load_plan(midorino_config(tmp_path / "config", add_initiative_for_bosai))

    write_call_workbooks(edited, storage)

    assert storage.read_bytes(keys["shakyo"]) != sent["shakyo"]  # the new version, same cells
    assert (
        workbook_content(storage.read_bytes(keys["shakyo"]))[1]
        == (workbook_content(sent["shakyo"])[1])
    )
    assert [(c.department_id, c.reason) for c in calls_to_resend(edited, storage)] == [
        ("bosai", "changed")
    ]


def test_last_years_figures_imported_after_the_call_are_a_resend(tmp_path: Path) -> None:
    """It lists a 調査票 whose prefilled last year's result changed under the same plan."""
    storage = open_storage(tmp_path / "ws")
    plan = load_plan(midorino_config(tmp_path / "config"))
    write_call_workbooks(plan, storage)
    figures = PreviousValues(
        results={("i17", "bosai"): "福祉避難所を2か所指定した。"}, indicators={}
    )

    write_call(plan, storage, figures)

    assert [(c.department_id, c.reason) for c in calls_to_resend(plan, storage)] == [
        ("bosai", "figures")
    ]
