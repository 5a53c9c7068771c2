"""What the coordinator sees in the Prefect UI: artifact keys per municipality, workspace, year."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.artifacts import artifact_key
from tasks.plan.load import load_plan

PRESET = "niigata-minami"


def test_artifact_keys_keep_two_municipalities_apart() -> None:
    """It gives each municipality its own artifact keys, in the characters Prefect takes."""
    minami = load_plan(PRESET)
    nishi = load_plan("niigata-nishi")
    keys = {artifact_key(plan, "status", 2021, "/srv/ws") for plan in (minami, nishi)}
    assert len(keys) == 2
    assert all(re.fullmatch(r"status-2021-[0-9a-f]{8}-[0-9a-f]{8}", key) for key in keys)
    again = artifact_key(load_plan(PRESET), "status", 2021, "/srv/ws")
    assert artifact_key(minami, "status", 2021, "/srv/ws") == again


def test_a_mistyped_workspace_never_shares_the_real_ones_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It gives each workspace its own keys, and the same workspace the same key however named."""
    plan = load_plan(PRESET)
    real, typo = tmp_path / "workspace", tmp_path / "workspase"
    key = artifact_key(plan, "status", 2021, str(real))
    assert re.fullmatch(r"status-2021-[0-9a-f]{8}-[0-9a-f]{8}", key)
    assert artifact_key(plan, "status", 2021, str(typo)) != key
    assert artifact_key(plan, "status", 2022, str(real)) != key
    monkeypatch.chdir(tmp_path)
    assert artifact_key(plan, "status", 2021, "workspace") == key


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("s3://bucket/ws", "s3://bucket/ws/", True),  # a trailing slash names the same prefix
        ("s3://bucket/ws", "s3://bucket/ws2", False),  # another prefix
        ("s3://bucket/ws", "s3://other/ws", False),  # another bucket
    ],
)
def test_s3_workspaces_are_told_apart_by_bucket_and_prefix(
    one: str, other: str, same: bool
) -> None:
    """It keys an S3 workspace by its URL."""
    plan = load_plan(PRESET)
    keys = {artifact_key(plan, "files", 2021, where) for where in (one, other)}
    assert (len(keys) == 1) is same
