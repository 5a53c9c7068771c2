"""What the coordinator sees in the Prefect UI: artifact keys per municipality and year."""

from __future__ import annotations

import re

from flows.artifacts import artifact_key
from tasks.plan.load import load_plan

PRESET = "niigata-minami"


def test_artifact_keys_keep_two_municipalities_apart() -> None:
    """It gives each municipality its own artifact keys, in the characters Prefect takes."""
    minami = load_plan(PRESET)
    nishi = load_plan("niigata-nishi")
    keys = {artifact_key(plan, "status", 2021) for plan in (minami, nishi)}
    assert len(keys) == 2
    assert all(re.fullmatch(r"status-2021-[0-9a-f]{8}", key) for key in keys)
    assert artifact_key(minami, "status", 2021) == artifact_key(load_plan(PRESET), "status", 2021)
