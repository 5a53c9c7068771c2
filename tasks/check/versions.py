"""How a returned 調査票's version stands for its department, as a column the rules check.

A file of an older call version is as good as the current one when, for its department,
that version showed what the current one shows (``tasks.call.record``); the identity rules
(``expectations/identity.json``) tell the department when it did not.
"""

from __future__ import annotations

import pandas as pd

from tasks.call.record import CallRecord, version_state
from tasks.plan.load import call_version
from tasks.plan.model import Plan

CALL_VERSION_STATE = "call_version_state"
"""Staged identity column: how the file's 調査票 version stands for its department
(``tasks.call.record.version_state``): current, changed or unknown."""


def with_call_versions(
    plan: Plan, identity: pd.DataFrame, calls: CallRecord | None
) -> pd.DataFrame:
    """Return the identity rows with how each file's version stands for its department."""
    if identity.empty:
        return identity
    record = calls or CallRecord(fiscal_year=plan.fiscal_year.current)
    current = call_version(plan)
    versions = identity.get("identity_plan_hash", pd.Series(None, index=identity.index))
    frame = identity.copy()
    frame[CALL_VERSION_STATE] = [
        version_state(
            record,
            current,
            None if pd.isna(department) else str(department),
            None if pd.isna(version) else str(version),
        )
        for department, version in zip(frame["department_id"], versions, strict=True)
    ]
    return frame
