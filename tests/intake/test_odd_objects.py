"""Every object in intake is one visible ledger entry: odd keys, links and FIFOs included."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tasks.cycle.steps import take_intake
from tasks.intake.files import anything_new
from tasks.intake.ledger import load_ledger
from tasks.intake.status import build_status_rows
from tasks.plan.model import Plan
from tasks.workspace.names import ledger_text
from tasks.workspace.storage import open_storage
from tests.conftest import raw_s3_client
from tests.helpers import filled_workbook
from tests.workspace.test_listing import ODD_S3_KEYS

REASONS = {
    "\\": "「\\」が含まれている",
    "\x00": "NUL 文字",
}
PATHS = "「//」「/./」「/../」"


def _reason(key: str) -> str:
    return next((text for mark, text in REASONS.items() if mark in key), PATHS)


def test_odd_s3_keys_are_rejected_entries_with_their_reason(
    bucket: str, s3_env: str, minami: Plan
) -> None:
    """It records each odd key once, rejected, in its department, with what to do in Japanese."""
    raw = raw_s3_client(s3_env)
    data = filled_workbook(minami, "kenko-fukushi")
    for key in ODD_S3_KEYS:
        raw.put_object(Bucket=bucket, Key=key, Body=data)
    raw.put_object(Bucket=bucket, Key="ws/intake/2021/kenko-fukushi/", Body=b"")  # console folder
    storage = open_storage(f"s3://{bucket}/ws")

    result = take_intake(minami, storage, settle_seconds=0)

    assert result.taken == [] and result.waiting == []
    ledger = load_ledger(storage, 2021)
    by_key = {e.source_key: e for e in ledger.entries}
    assert set(by_key) == {ledger_text(k.removeprefix("ws/")) for k in ODD_S3_KEYS}
    for key, entry in by_key.items():
        assert entry.status == "rejected" and entry.archive_key == ""
        assert entry.first_error and _reason(key) in entry.first_error, key
        assert "提出し直してください" in entry.first_error
        assert "\x00" not in entry.original_name and "\x00" not in entry.first_error
    # Each is its department's, where its path resolves; all of them shown in the 提出状況.
    resolved = [e for k, e in by_key.items() if not k.endswith(("/..", "g/"))]
    assert {e.department_id for e in resolved} == {"kenko-fukushi"}
    (row,) = [
        r
        for r in build_status_rows(minami, ledger, dt.date(2021, 6, 1))
        if r["部署"] == "健康福祉課"
    ]
    assert row["備考"].count("提出し直してください") >= len(resolved)
    # Seen as they are: the next run has nothing new and changes nothing.
    assert not anything_new(storage, ledger)
    assert take_intake(minami, storage, settle_seconds=0).unreadable == []
    assert load_ledger(storage, 2021) == ledger


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        # a link to a file outside intake: never followed, never archived
        ("link.xlsx", "file-link", "リンク（シンボリックリンク）"),
        # a link to a folder: one object, never walked into
        ("linked", "folder-link", "リンク（シンボリックリンク）"),
        # a FIFO: opening it would block the run for ever
        ("fifo.xlsx", "fifo", "通常のファイルではないもの"),
    ],
)
def test_links_and_fifos_are_rejected_entries(
    workspace: Path, tmp_path: Path, minami: Plan, name: str, make: str, reason: str
) -> None:
    """It records a link or a FIFO dropped in intake as rejected, saying why."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd.xlsx").write_bytes(filled_workbook(minami, "shakyo"))
    path = workspace / "intake/2021/shakyo" / name
    path.parent.mkdir(parents=True)
    if make == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(secret if make == "folder-link" else secret / "passwd.xlsx")
    storage = open_storage(workspace)

    result = take_intake(minami, storage, settle_seconds=0)

    assert result.taken == []
    (entry,) = load_ledger(storage, 2021).entries
    assert entry.status == "rejected" and entry.department_id == "shakyo"
    assert entry.first_error and reason in entry.first_error
    assert not (workspace / "archive").exists()
