"""The product: its real ``collect-submissions`` flow on the embedded Prefect server.

One process per measurement, as a coordinator's run (or a hosted worker's) would be: import
the flow, start the embedded server, run ``collect_submissions(fy, config, workspace,
settle_seconds=0)`` unchanged once per (plan, workspace) job, one city after another, then
read back the per-task times from the server. Writes its figures as JSON to ``--result``;
with ``--profile`` the flow calls run under cProfile (main thread: the flows and their tasks
run there; Prefect's log and event shipping threads are not seen).

Run by ``bench/run.py`` with telemetry off and a fresh ``PREFECT_HOME``:

    python -m bench.product --jobs jobs.json --result product.json

``jobs.json`` is a list of ``{"config": PLAN_DIR, "workspace": WS}``. With ``--hosted`` the
jobs become one list file (``municipalities.yaml``) and ``collect-municipalities`` collects
them all in ONE flow run (``flows/municipalities.py``), as a hosted service runs its list.
"""

from __future__ import annotations

import time

_STARTED = time.time()

import argparse  # noqa: E402
import atexit  # noqa: E402
import cProfile  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import yaml  # noqa: E402

from flows.annual_cycle import collect_submissions  # noqa: E402
from flows.municipalities import collect_municipalities  # noqa: E402


def _peak_rss_mib(pid: int) -> float | None:
    """Return a live process's peak resident set (VmHWM) in MiB, from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _task_seconds(flow_run_id: Any) -> dict[str, float]:
    """Return each task's run time in this flow run, by task name, as the server saw it."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:  # in pages: the server returns at most 200 at a time
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                offset=len(runs),
                limit=200,
            )
            runs.extend(page)
            if len(page) < 200:
                break
    seconds: dict[str, float] = {}
    for run in runs:
        if run.start_time and run.end_time:
            name = run.name.rsplit("-", 1)[0]  # "take-intake-0" → "take-intake"
            seconds[name] = seconds.get(name, 0.0) + (run.end_time - run.start_time).total_seconds()
    return seconds


def _time_server_stop(server: Any, result: Path) -> None:
    """Time the server's stop at exit and add it to the result file.

    Prefect stops the server from an exit handler registered when it started, so it runs
    after the handlers that flush logs and events to it (registered later). The same
    handler, timed: the stop waits up to 5 s for uvicorn before killing it.
    """
    atexit.unregister(server.stop)

    def stop() -> None:
        began = time.perf_counter()
        server.stop()
        if result.is_file():
            figures = json.loads(result.read_text(encoding="utf-8"))
            figures["server_stop_seconds"] = time.perf_counter() - began
            result.write_text(json.dumps(figures), encoding="utf-8")

    atexit.register(stop)


def _run_jobs(
    jobs: list[dict[str, str]], year: int, hosted: Path | None
) -> tuple[list[Any], list[float]]:
    """Run the jobs: one collect-submissions flow run each, or (``hosted``: the jobs file,
    beside which the list file is written) one collect-municipalities run over them all."""
    states = []
    flow_seconds = []
    if hosted is not None:
        listing = hosted.with_suffix(".yaml")
        listing.write_text(yaml.safe_dump({"municipalities": jobs}), encoding="utf-8")
        began = time.perf_counter()
        states.append(
            collect_municipalities(str(listing), year, settle_seconds=0, return_state=True)
        )
        return states, [time.perf_counter() - began]
    for job in jobs:
        began = time.perf_counter()
        states.append(
            collect_submissions(
                year, job["config"], job["workspace"], settle_seconds=0, return_state=True
            )
        )
        flow_seconds.append(time.perf_counter() - began)
    return states, flow_seconds


def _files(state: Any) -> list[Any]:
    """Return the files a flow run took: its summary's, or every municipality's (hosted)."""
    result = state.result(raise_on_failure=False)
    if hasattr(result, "files"):
        return list(result.files)
    outcomes = getattr(result, "outcomes", result)
    if isinstance(outcomes, BaseException):
        raise outcomes
    return [f for o in outcomes if o.summary for f in o.summary.files]


def main(argv: list[str] | None = None) -> None:
    """Run the collect flow once, timed, and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=Path, help="JSON list of {config, workspace}")
    parser.add_argument(
        "--server-only", action="store_true", help="only start and stop the embedded server"
    )
    parser.add_argument("--year", type=int, default=2021)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--launched", type=float, default=_STARTED)
    parser.add_argument(
        "--hosted", action="store_true", help="one collect-municipalities run over all jobs"
    )
    args = parser.parse_args(argv)
    imported = time.time()

    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()  # what the flow's first API call would do; timed on its own here
    server_up = time.time()
    _time_server_stop(server, args.result)
    if args.server_only:
        result = {
            "import_seconds": imported - args.launched,
            "server_seconds": server_up - imported,
        }
        args.result.write_text(json.dumps(result), encoding="utf-8")
        return
    if not args.jobs:
        parser.error("--jobs is needed to run the flow")
    jobs = json.loads(args.jobs.read_text(encoding="utf-8"))

    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    states, flow_seconds = _run_jobs(jobs, args.year, args.jobs if args.hosted else None)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    flow_done = time.time()
    readback_began = time.perf_counter()
    statuses: Counter[str] = Counter()
    tasks: Counter[str] = Counter()
    tasks_each = []
    files_each = []
    for state in states:
        files = _files(state)
        statuses.update(f.status for f in files)
        files_each.append(len(files))
        tasks_each.append(_task_seconds(state.state_details.flow_run_id))
        tasks.update(tasks_each[-1])
    readback = time.perf_counter() - readback_began
    server_pid = server.server_process.pid if server.server_process else None
    result = {
        "flows": len(states),
        "files": sum(statuses.values()),
        "statuses": dict(statuses),
        "flow_states": dict(Counter(state.type.value for state in states)),
        "import_seconds": imported - args.launched,
        "server_seconds": server_up - imported,
        "flow_seconds": flow_done - server_up,
        "flow_seconds_each": flow_seconds,
        "files_each": files_each,
        "tasks": dict(tasks),
        "tasks_each": tasks_each,
        "readback_seconds": readback,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "server_peak_rss_mib": _peak_rss_mib(server_pid) if server_pid else None,
        "finished_at": time.time(),
    }
    args.result.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
