"""Storage faults: S3 answering 500, 503 SlowDown, resets and stalls (through a proxy in front of
moto's server), and a workspace folder that disappears or cannot be written.

What must hold: a share of failing requests is absorbed by retries with backoff; a fault that
persists ends in a StorageError in Japanese naming the place; once the fault clears, the run
ends exactly as a run that never met it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from flows.annual_cycle import collect_submissions, publish_shiryo
from tasks.cycle.steps import take_intake
from tasks.errors import StorageError
from tasks.plan.model import Plan
from tasks.settings import REPO_ROOT
from tasks.workspace.folder import FolderStorage
from tasks.workspace.lock import collection_lock
from tasks.workspace.s3 import S3Storage
from tasks.workspace.storage import open_storage
from tests.conftest import FAKE_SECRET
from tests.fault_proxy import KINDS, FaultProxy
from tests.flows.test_annual_cycle_kill import template  # noqa: F401  # fixture

# Short timeouts so that a stall costs a second, not the product's thirty.
QUICK = Config(connect_timeout=1, read_timeout=1)
MIXES = {
    "500": ("500",),
    "503-slowdown": ("503",),
    "reset": ("reset",),
    "reset-after-done": ("reset-after",),
    "stall": ("stall",),
    "all-kinds": KINDS,
}


@pytest.fixture
def s3_bucket(s3_env: str) -> str:
    """A fresh bucket on moto (created directly, not through the proxy)."""
    name = f"shiryo-faults-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def proxy(s3_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A healthy proxy in front of moto; the AWS chain points at it."""
    with FaultProxy(s3_env, seed=9, stall_seconds=2) as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", running.endpoint)
        yield running


@pytest.mark.scenario
@pytest.mark.parametrize("mix", MIXES)
def test_a_share_of_failing_requests_is_retried_away(
    proxy: FaultProxy, s3_bucket: str, mix: str
) -> None:
    """It reads, writes and lists correctly while a fifth of the requests fail."""
    proxy.break_down(0.2, MIXES[mix])
    storage = S3Storage(s3_bucket, "ws", client_config=QUICK)
    written = {f"archive/2021/{n:02d}.xlsx": os.urandom(2048) for n in range(12)}
    for key, data in written.items():
        storage.write_bytes(key, data)
    assert [o.key for o in storage.list("archive/2021")] == sorted(written)
    for key, data in written.items():
        assert storage.exists(key)
        assert storage.read_bytes(key) == data
    assert sum(proxy.counts[kind] for kind in MIXES[mix]) >= 3, proxy.counts


@pytest.mark.scenario
@pytest.mark.parametrize("kind", KINDS)
def test_a_persistent_fault_fails_clearly_then_resumes(
    proxy: FaultProxy, s3_bucket: str, kind: str
) -> None:
    """It gives up with a Japanese StorageError naming the place, and works once healed."""
    storage = S3Storage(s3_bucket, "ws", client_config=QUICK)
    proxy.break_down(1.0, (kind,))
    started = time.monotonic()
    with pytest.raises(StorageError) as raised:
        storage.write_bytes("ledger/2021.json", b"{}")
    assert time.monotonic() - started < 30
    message = str(raised.value)
    assert f"s3://{s3_bucket}/ws/ledger/2021.json に書き込めません" in message
    assert "再実行してください" in message and FAKE_SECRET not in message
    assert proxy.counts[kind] == 4  # botocore's attempts, with backoff between them
    proxy.heal()
    storage.write_bytes("ledger/2021.json", b"{}")
    assert storage.read_bytes("ledger/2021.json") == b"{}"


@pytest.mark.scenario
def test_a_lock_survives_lost_answers(proxy: FaultProxy, s3_bucket: str) -> None:
    """It holds and releases the lock although S3 did the writes whose answers were lost."""
    proxy.break_down(0.5, ("reset-after",))
    workspace = f"s3://{s3_bucket}/ws"
    for _ in range(3):
        with collection_lock(open_storage(workspace), 2021, wait_seconds=5):
            pass
    proxy.heal()
    assert not open_storage(workspace).exists("locks/collect-2021.json")
    assert proxy.counts["reset-after"] >= 2


# --- The collection flow on S3 through the proxy ---------------------------------------------


def _upload(source: Path, workspace: str) -> None:
    storage = open_storage(workspace)
    for path in sorted(source.rglob("*.xlsx")):
        storage.write_bytes(path.relative_to(source).as_posix(), path.read_bytes())


def _outcome(workspace: str) -> dict[str, object]:
    """The ledger's verdicts and the dataset and 資料 bytes (times and Data Docs aside)."""
    storage = open_storage(workspace)
    ledger = json.loads(storage.read_bytes("ledger/2021.json"))
    verdicts = sorted((e["source_key"], e["sha256"], e["status"]) for e in ledger["entries"])
    outputs = {
        o.key: storage.read_bytes(o.key)
        for prefix in ("archive", "curated", "reports")
        for o in storage.list(prefix)
    }
    return {"verdicts": verdicts, **outputs}


@pytest.mark.scenario
def test_the_cycle_on_flaky_s3_ends_as_on_healthy_s3(
    prefect_server: None,
    proxy: FaultProxy,
    s3_env: str,
    template: Path,  # noqa: F811
    minami: Plan,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It fails clearly while S3 is down, and once healed, through a mix of faults, ends
    with the same ledger, dataset and 資料 as a run on healthy S3."""
    client = boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")
    healthy, flaky = (f"s3://shiryo-{name}-{uuid.uuid4().hex[:8]}/ws" for name in "ab")
    for workspace in (healthy, flaky):
        client.create_bucket(Bucket=workspace.removeprefix("s3://").split("/")[0])
    with monkeypatch.context() as direct:
        direct.setenv("AWS_ENDPOINT_URL_S3", s3_env)
        _upload(template, healthy)
        assert collect_submissions(2021, "niigata-minami", healthy, settle_seconds=0)
        publish_shiryo(2021, "niigata-minami", healthy)
    _upload(template, flaky)

    proxy.break_down(1.0, ("503",))  # S3 down: the step fails, naming the bucket
    with pytest.raises(StorageError, match=f"s3://{flaky.removeprefix('s3://')}"):
        take_intake(minami, open_storage(flaky), settle_seconds=0)
    # Faults the product's default client can retry quickly (a stall would cost 30 s each).
    proxy.break_down(0.15, ("500", "503", "reset", "reset-after"))
    collect_submissions(2021, "niigata-minami", flaky, settle_seconds=0)
    publish_shiryo(2021, "niigata-minami", flaky)
    proxy.heal()
    assert sum(proxy.counts[kind] for kind in ("500", "503", "reset", "reset-after")) >= 10

    with monkeypatch.context() as direct:
        direct.setenv("AWS_ENDPOINT_URL_S3", s3_env)
        assert _outcome(flaky) == _outcome(healthy)


# --- A folder that disappears or cannot be written --------------------------------------------


def test_a_workspace_that_disappears_is_reported_not_recreated(
    workspace: Path,
    template: Path,  # noqa: F811
    minami: Plan,
) -> None:
    """It refuses to go on in a vanished workspace instead of starting an empty one there."""
    shutil.copytree(template, workspace, dirs_exist_ok=True)
    take_intake(minami, open_storage(workspace), settle_seconds=0)
    away = workspace.with_name("unmounted")
    workspace.rename(away)  # the share drops
    storage = FolderStorage(workspace)
    for attempt in (
        lambda: storage.write_bytes("ledger/2021.json", b"{}"),
        lambda: storage.list("intake/2021"),
        lambda: storage.exists("ledger/2021.json"),
    ):
        with pytest.raises(StorageError, match="見つかりません"):
            attempt()
    with pytest.raises(StorageError, match="見つかりません"):
        take_intake(minami, open_storage(workspace), settle_seconds=0)
    assert not workspace.exists()
    away.rename(workspace)  # the share is back
    assert take_intake(minami, open_storage(workspace), settle_seconds=0).taken == []


def test_a_new_workspace_is_refused_by_collection(tmp_path: Path) -> None:
    """It does not take the lock in a workspace folder that does not exist."""
    with (
        pytest.raises(StorageError, match="見つかりません"),
        collection_lock(open_storage(tmp_path / "never-created"), 2021),
    ):
        pass
    assert not (tmp_path / "never-created").exists()


_AS_NOBODY = """
import sys
from tasks.errors import StorageError
from tasks.intake.collect import collect_new_files
from tasks.intake.ledger import load_ledger, save_ledger
from tasks.plan.load import load_plan
from tasks.workspace.folder import FolderStorage

storage = FolderStorage(sys.argv[1])
plan = load_plan("niigata-minami")
try:
    ledger, result = collect_new_files(storage, plan, load_ledger(storage, 2021), 0)
    save_ledger(storage, ledger)
except StorageError as err:
    print(err)
    sys.exit(2)
print(len(result.taken))
"""


@pytest.mark.skipif(not shutil.which("setpriv") or os.geteuid() != 0, reason="needs root")
def test_a_read_only_workspace_fails_clearly_then_resumes(template: Path) -> None:  # noqa: F811
    """It stops with a Japanese StorageError in a folder it may not write, and takes every
    file once the folder is writable again (run as an unprivileged user: root writes anywhere).
    """
    base = Path(tempfile.mkdtemp(prefix="shiryo-ro-"))
    try:
        base.chmod(0o755)
        workspace = base / "workspace"
        shutil.copytree(template, workspace)
        command = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-B",
            "-c",
            _AS_NOBODY,
            str(workspace),
        ]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HOME": str(base)}
        refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2, refused.stderr
        assert "に書き込めません" in refused.stdout and str(workspace) in refused.stdout
        assert not (workspace / "ledger").exists()
        shutil.chown(workspace, 65534, 65534)  # the share is writable again
        for path in workspace.rglob("*"):
            shutil.chown(path, 65534, 65534)
        resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        intake = len(list(workspace.glob("intake/**/*.xlsx")))
        ledger = json.loads((workspace / "ledger/2021.json").read_text(encoding="utf-8"))
        assert len(ledger["entries"]) == intake
    finally:
        shutil.rmtree(base)
