"""Whether a location holds a workspace and a year: looked at, never written, on both backends."""

from __future__ import annotations

import json

import pytest

from tasks.errors import WorkspaceError
from tasks.workspace.presence import (
    is_workspace,
    mark_workspace,
    require_workspace,
    require_year,
    year_started,
)
from tasks.workspace.storage import Storage


def test_an_empty_location_is_no_workspace_until_marked(storage: Storage) -> None:
    """It refuses an empty location, writes nothing while checking, and accepts it once marked."""
    assert not is_workspace(storage)
    with pytest.raises(WorkspaceError, match="shiryo の作業フォルダではありません"):
        require_workspace(storage)
    assert storage.list("") == []
    assert mark_workspace(storage) is True
    assert is_workspace(storage)
    marker = json.loads(storage.read_bytes("shiryo-workspace.json"))
    assert "created_at" in marker and "shiryo" in marker
    assert mark_workspace(storage) is False  # already one: the marker is not rewritten
    require_workspace(storage)


@pytest.mark.parametrize(
    "key",
    [
        "ledger/2021.json",  # a workspace that has collected
        "outgoing/2021/shakyo/2021_社会福祉協議会_評価シート.xlsx",  # one that sent the call
        "curated/2020/consolidated.parquet",  # one that imported a past year
    ],
)
def test_a_workspace_from_before_the_marker_counts(storage: Storage, key: str) -> None:
    """It takes a location holding shiryo's own files as a workspace, without a marker."""
    storage.write_bytes(key, b"x")
    assert is_workspace(storage)


def test_files_of_departments_alone_make_no_workspace(storage: Storage) -> None:
    """It does not take an intake folder alone (files anyone can drop) as a workspace."""
    storage.write_bytes("intake/2021/shakyo/提出.xlsx", b"x")
    assert not is_workspace(storage)


@pytest.mark.parametrize(
    ("key", "started"),
    [
        ("ledger/2021.json", True),  # collected
        ("outgoing/2021/shakyo/調査票.xlsx", True),  # the call was sent
        ("intake/2021/shakyo/提出.xlsx", True),  # a department dropped a file
        ("ledger/2020.json", False),  # only the year before
        ("intake/20210/shakyo/提出.xlsx", False),  # a folder whose name starts like the year
    ],
)
def test_a_year_is_started_by_its_call_intake_or_ledger(
    storage: Storage, key: str, started: bool
) -> None:
    """It finds the year by its own folders only."""
    mark_workspace(storage)
    storage.write_bytes(key, b"x")
    assert year_started(storage, 2021) is started
    if not started:
        with pytest.raises(WorkspaceError, match="2021年度の調査票も提出も台帳もありません"):
            require_year(storage, 2021)
