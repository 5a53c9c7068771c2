"""Beyond one machine: the cycle on a Prefect server backed by PostgreSQL, run by a worker on S3.

A real ``prefect server start`` on a fresh PostgreSQL database, the deployments of
``prefect.yaml`` registered with ``prefect deploy --all``, a ``prefect worker start --pool
shiryo-process`` process that runs them, and the workspace in a bucket on moto's S3 server:
the set-up of the README's "Beyond one machine", on one machine. ``.ci/run`` starts PostgreSQL
and sets ``SHIRYO_TEST_POSTGRES_URL`` (a role that may create databases).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import pytest
from moto.server import ThreadedMotoServer

from tasks.cycle.demo import load_demo, seed_history
from tasks.cycle.steps import drop_demo_submissions
from tasks.plan.load import load_plan
from tasks.settings import REPO_ROOT
from tasks.workspace.storage import open_storage
from tests.conftest import DemoRuns
from tests.helpers import needs

PRESET = "niigata-minami"
YEAR = 2021
POSTGRES_URL = os.environ.get("SHIRYO_TEST_POSTGRES_URL", "")
DEPLOYMENTS = ["call-for-submissions", "collect-submissions", "publish-shiryo", "send-reminders"]
QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}

pytestmark = [
    pytest.mark.scenario,
    needs(bool(POSTGRES_URL), "PostgreSQL (SHIRYO_TEST_POSTGRES_URL, set by .ci/run)"),
]


@dataclass(frozen=True)
class ServerCycle:
    """The cycle run by a worker on the PostgreSQL-backed server."""

    database_url: str
    flow_runs: dict[str, Any]
    """Final flow run (from the API) per deployment name."""
    objects: dict[str, bytes]
    """Every object the cycle left in the bucket, by workspace key."""
    worker_log: str


def _dsn(url: str) -> str:
    """Return a SQLAlchemy ``postgresql+asyncpg://`` URL as a plain libpq DSN for asyncpg."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _query(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    async def fetch() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(_dsn(url))
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    return asyncio.run(fetch())


def _execute(url: str, sql: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(_dsn(url))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """Create a fresh database for this session's server and drop it afterwards."""
    assert POSTGRES_URL, "SHIRYO_TEST_POSTGRES_URL is not set: run the tests through .ci/run"
    name = f"shiryo_test_{uuid.uuid4().hex[:12]}"
    _execute(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        _execute(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _clean_environ(**extra: str) -> dict[str, str]:
    """Return this process's environment without Prefect/AWS/GX settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AWS_", "GX_"))}
    return {**env, **QUIET, **extra}


def _start_prefect(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a long-running ``prefect`` command (server, worker), its output into ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", *args],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_healthy(api: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the server did not start:\n{log.read_text()[-3000:]}")


def _prefect(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])


def _run_deployment(api: str, name: str, parameters: dict[str, Any]) -> Any:
    """Start a run of a deployment and wait until it is final; return the flow run."""
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(api) as client:
        deployment = client.read_deployment_by_name(f"{name}/{name}")
        run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            run = client.read_flow_run(run.id)
            if run.state is not None and run.state.is_final():
                return run
            time.sleep(0.5)
    raise AssertionError(f"{name}: the run did not finish in time ({run.state})")


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start moto's S3 server on 127.0.0.1; return the AWS variables every machine would set."""
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3.start()
    host, port = s3.get_host_and_port()
    no_config = str(tmp_path_factory.mktemp("aws") / "none")
    try:
        yield {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
            "AWS_CONFIG_FILE": no_config,
            "AWS_SHARED_CREDENTIALS_FILE": no_config,
        }
    finally:
        s3.stop()


@pytest.fixture(scope="module")
def server(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``prefect server start`` on the fresh database; return its API URL."""
    home = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = _clean_environ(PREFECT_HOME=str(home), PREFECT_SERVER_DATABASE_CONNECTION_URL=database)
    log = home / "server.log"
    process = _start_prefect(
        ["server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"], env, log
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_until_healthy(api, process, log)
        yield api
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def server_cycle(
    database: str, server: str, aws: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerCycle]:
    """Run call, collect and publish through a worker on the PostgreSQL server, into S3."""
    home = tmp_path_factory.mktemp("machines")
    with pytest.MonkeyPatch.context() as env:
        # Module scope runs before the autouse clean_environment: scrub AWS_* here as it does.
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            env.delenv(name)
        for name, value in aws.items():
            env.setenv(name, value)
        bucket = f"shiryo-pg-{uuid.uuid4().hex[:12]}"
        boto3.client("s3").create_bucket(Bucket=bucket)
        workspace = f"s3://{bucket}/ws"
        storage = open_storage(workspace)
        plan = load_plan(PRESET)
        seed_history(storage, plan, load_demo(PRESET))  # last year's results, as in the demo
        # prefect.yaml resolves {{ $PWD }} when deploying: the checkout the worker runs from.
        deployer = _clean_environ(
            PREFECT_HOME=str(home / "deployer"), PREFECT_API_URL=server, PWD=str(REPO_ROOT)
        )
        _prefect(["work-pool", "create", "shiryo-process", "--type", "process"], deployer)
        # The worker's machine: its own Prefect home, the server's URL, the bucket's credentials.
        worker_env = _clean_environ(
            PREFECT_HOME=str(home / "worker"),
            PREFECT_API_URL=server,
            PREFECT_WORKER_QUERY_SECONDS="1",
            **aws,
        )
        worker_log = home / "worker.log"
        worker = _start_prefect(
            ["worker", "start", "--pool", "shiryo-process"], worker_env, worker_log
        )
        try:
            _prefect(["deploy", "--all"], deployer)
            parameters = {"fiscal_year": YEAR, "config": PRESET, "workspace": workspace}
            runs = {"call-for-submissions": _run_deployment(server, DEPLOYMENTS[0], parameters)}
            # The departments answer the call.
            drop_demo_submissions(plan, PRESET, open_storage(workspace))
            for name in DEPLOYMENTS[1:]:
                runs[name] = _run_deployment(server, name, parameters)
            objects = {o.key: storage.read_bytes(o.key) for o in storage.list("")}
        finally:
            _stop(worker)
    yield ServerCycle(database, runs, objects, worker_log.read_text(errors="replace"))


@pytest.fixture(scope="module")
def embedded_reports(demo_runs: DemoRuns) -> dict[str, bytes]:
    """The same demo on the default embedded server into a folder (the session's run): its 資料."""
    run = demo_runs.get(PRESET)
    return {key: data for key, data in run.objects.items() if key.startswith(f"reports/{YEAR}/")}


def test_the_worker_completes_each_deployment(server_cycle: ServerCycle) -> None:
    """It runs the four deployments of prefect.yaml to Completed, in the worker's processes."""
    states = {name: run.state.type.value for name, run in server_cycle.flow_runs.items()}
    assert states == dict.fromkeys(DEPLOYMENTS, "COMPLETED"), server_cycle.worker_log[-3000:]
    for run in server_cycle.flow_runs.values():
        assert run.work_pool_name == "shiryo-process"
        assert str(run.id) in server_cycle.worker_log  # the worker, not the test, ran it


def test_the_runs_are_rows_in_postgresql(server_cycle: ServerCycle) -> None:
    """It records the flow runs, their task runs and the deployments in the PostgreSQL database."""
    ids = [run.id for run in server_cycle.flow_runs.values()]
    rows = _query(
        server_cycle.database_url,
        "SELECT d.name AS deployment, f.state_type::text AS state, "
        "array_agg(DISTINCT regexp_replace(t.name, '-[0-9a-f]+$', '')) AS tasks "
        "FROM flow_run f JOIN deployment d ON d.id = f.deployment_id "
        "JOIN task_run t ON t.flow_run_id = f.id "
        "WHERE f.id = ANY($1::uuid[]) GROUP BY d.name, f.state_type",
        ids,
    )
    recorded = {r["deployment"]: (r["state"], set(r["tasks"])) for r in rows}
    assert recorded == {
        "call-for-submissions": (
            "COMPLETED",
            {"load-plan", "look-for-call", "write-call-workbooks"},
        ),
        "collect-submissions": (
            "COMPLETED",
            {
                "load-plan",
                "check-rules",
                "take-intake",
                "list-pending",
                "read-submissions",
                "check-submissions",
                "consolidate-year",
                "publish-artifacts",
            },
        ),
        "publish-shiryo": (
            "COMPLETED",
            {"load-plan", "check-templates", "look-for-outputs", "render-shiryo"},
        ),
        "send-reminders": (  # no mail set up: the list only
            "COMPLETED",
            {
                "load-plan",
                "load-reminder-settings",
                "list-reminders",
                "prepare-reminder-mail",
                "write-reminder-list",
                "publish-reminder-list",
            },
        ),
    }
    pools = _query(
        server_cycle.database_url,
        "SELECT d.name, w.name AS pool FROM deployment d JOIN work_queue q "
        "ON q.id = d.work_queue_id JOIN work_pool w ON w.id = q.work_pool_id",
    )
    # prefect deploy --all also registers the many-municipality collection (not run here).
    deployed = [*DEPLOYMENTS, "collect-municipalities"]
    assert {(r["name"], r["pool"]) for r in pools} == {(d, "shiryo-process") for d in deployed}


def test_the_shiryo_are_byte_identical_to_the_embedded_servers(
    server_cycle: ServerCycle, embedded_reports: dict[str, bytes]
) -> None:
    """It renders, in the bucket, the same .docx and .xlsx bytes as the embedded server does."""
    reports = {k: v for k, v in server_cycle.objects.items() if k.startswith(f"reports/{YEAR}/")}
    assert sorted(Path(key).suffix for key in reports) == [".docx", ".xlsx"]
    assert reports.keys() == embedded_reports.keys()
    for key, data in reports.items():
        assert data == embedded_reports[key], key
