"""Benchmark shiryo against the floor, in one run (issue 8). It never asserts a time.

    python bench/run.py --files 2000 [--per-plan 50] [--profile] [--render 300,3000]
    python bench/run.py --files 0 --render 300,3000      # (c) alone

1. Generates (or reuses, from /tmp) N filled department workbooks from cities of M
   departments, each city with its own plan (``bench/generate.py``; ``--per-plan 0`` puts
   all N departments in one plan).
2. (a) floor: python-calamine reads the same N files into one DataFrame and writes Parquet
   (``bench/floor.py``), in its own process.
3. (b) product: the real ``collect-submissions`` flow on the embedded Prefect server
   (``bench/product.py``), each run in its own process with telemetry off and a fresh
   ``PREFECT_HOME`` (its database created once by a first server start, timed apart). It runs
   on 1 file of the first city, then on all N files, city after city in one process (one
   flow run per city and workspace, as a hosted service would). The per-file cost is
   ``(work(N) − work(1)) / (N − 1)``, where a run's work is its wall time less what cannot
   depend on N and is timed in the run (process start + imports, the server's start and
   stop, the bench reading task times back): the flows and the rest of the exit. It
   includes each further city's own flow run spread over its files; as cities differ in
   size, a least-squares line through the flow runs (files, seconds) splits it into a cost
   per flow run and a cost per file within a city, for the flow and for each step. The
   1-file run is done twice (``--baseline-runs``) and the lesser kept, as it is small
   against its noise. The start-up is the 1-file run's wall time less one file's share
   (imports, server start and stop, plan, GX set-up, the plan's empty consolidation, exit).
4. (c) rendering: the Word and Excel 資料 for 300 and 3,000 initiatives (``bench/render.py``),
   each beside a bare write of the same cells and their ratio. ``--files 0`` runs (c) alone.
5. With ``--profile``, one more N-file product run under cProfile; its top functions.

With ``--hosted``, (b) measures the hosted path instead: ONE ``collect-municipalities`` flow
run over a list file of all the set's cities (``flows/municipalities.py``), as a service for
many municipalities runs, in place of one ``collect-submissions`` flow run per city; the
1-file run is the same flow over a list of one. The ratio is printed beside issue 27's
targets (≥ 0.25 × the floor at 2,000 files, peak RSS < 1 GiB per process).

Peak memory is each process's own peak RSS (``ru_maxrss``); the Prefect server's is read
from ``/proc/<pid>/status`` (VmHWM) and shown beside the flow process's. The load average
before and after is printed: on a shared 2-core machine other work skews every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.generate import (  # noqa: E402
    CACHE_ROOT,
    DEFAULT_PER_PLAN,
    INITIATIVES_PER_DEPARTMENT,
    GeneratedSet,
    generate,
)
from tasks.settings import QUIET_DEFAULTS  # noqa: E402

_QUIET = QUIET_DEFAULTS
_SCRUBBED_PREFIXES = ("PREFECT_", "GX_", "AWS_")
_PACKAGES = [
    "prefect",
    "great_expectations",
    "pandas",
    "numpy",
    "pyarrow",
    "python-calamine",
    "openpyxl",
    "docxtpl",
    "pydantic",
    "pyyaml",
]
_TASK_ORDER = ["load-plan", "take-intake", "check-submissions", "consolidate-year"]


class Bench:
    """One benchmark run: its scratch folder, environment and log of child processes."""

    def __init__(self, scratch: Path, timeout: float | None) -> None:
        self.scratch = scratch
        self.timeout = timeout
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
        self.env.update(_QUIET)
        self.env["PREFECT_HOME"] = str(scratch / "prefect-home")
        self.env["PYTHONPATH"] = str(REPO_ROOT)
        self.env["PYTHONUNBUFFERED"] = "1"
        self.runs = 0

    def fresh_home(self, label: str) -> Path:
        """Return a new PREFECT_HOME for one product run: a copy of the first-started one.

        Each run then has an empty result store (the steps' persisted results and cache
        keys never carry over from another run) without paying for creating the database.
        """
        home = self.scratch / f"prefect-home-{label}"
        shutil.copytree(self.scratch / "prefect-home", home)
        return home

    def run(
        self,
        label: str,
        module: str,
        *args: str,
        timeout: float | None = None,
        home: Path | None = None,
    ) -> tuple[dict[str, Any] | None, float]:
        """Run ``python -m module args`` in its own process; return its JSON and wall time.

        The JSON is None when the run did not finish within ``timeout`` seconds; the run
        and everything it started (the Prefect server) are then stopped.
        """
        self.runs += 1
        stem = f"{self.runs:02d}-{label}"
        env = dict(self.env)
        if home is not None:
            env["PREFECT_HOME"] = str(home)
        result = self.scratch / f"{stem}.json"
        log = self.scratch / f"{stem}.log"
        launched = time.time()
        command = [sys.executable, "-m", module, *args, "--result", str(result)]
        if module != "bench.render":
            command += ["--launched", str(launched)]
        began = time.perf_counter()
        with log.open("w", encoding="utf-8") as out:
            child = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, to stop the server with it
            )
            try:
                code = child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _stop_group(child)
                return None, time.perf_counter() - began
        wall = time.perf_counter() - began
        if code != 0 or not result.is_file():
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
            raise SystemExit(f"{label} failed (exit {code}); {log}:\n" + "\n".join(tail))
        figures: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
        return figures, wall

    def run_plain(self, label: str, module: str, *args: str) -> float:
        """Run a preparation step; return its wall time."""
        self.runs += 1
        log = self.scratch / f"{self.runs:02d}-{label}.log"
        began = time.perf_counter()
        with log.open("w", encoding="utf-8") as out:
            completed = subprocess.run(
                [sys.executable, "-m", module, *args],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if completed.returncode != 0:
            raise SystemExit(f"{label} failed (exit {completed.returncode}); see {log}")
        return time.perf_counter() - began


def _stop_group(child: subprocess.Popen[bytes]) -> None:
    """Stop a timed-out run and its children: its own process group, by its id."""
    group = os.getpgid(child.pid)
    os.killpg(group, signal.SIGTERM)
    try:
        child.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        child.wait()


def workspace_with(generated: GeneratedSet, city: str, target: Path, keys: list[str]) -> Path:
    """Return a fresh workspace whose intake holds ``keys`` of a city (hard links)."""
    for key in keys:
        source = generated.city(city) / key
        destination = target / key
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
    return target


def jobs_file(
    generated: GeneratedSet, target: Path, entries: list[dict[str, Any]], name: str
) -> Path:
    """Write the product's jobs for ``entries``: one (plan, workspace) per city, fresh."""
    jobs = []
    for city in sorted({e["city"] for e in entries}):
        keys = [e["key"] for e in entries if e["city"] == city]
        workspace = workspace_with(generated, city, target / city, keys)
        jobs.append({"config": str(generated.config(city)), "workspace": str(workspace)})
    path = target / f"{name}.jobs.json"
    path.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    return path


def source_state() -> str:
    """Return the commit measured and whether the product's code had local changes.

    ``$SHIRYO_BENCH_SOURCE`` names the source instead, for a copy outside git (such as
    ``git archive HEAD`` unpacked with ``bench/`` beside it).
    """
    if os.environ.get("SHIRYO_BENCH_SOURCE"):
        return os.environ["SHIRYO_BENCH_SOURCE"]

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.rstrip()

    changed = git("status", "--porcelain", "--", "flows", "tasks", "expectations", "templates")
    files = [line[3:] for line in changed.splitlines()]
    return f"{git('rev-parse', '--short', 'HEAD')}" + (
        f" with local changes to {', '.join(files)}" if files else ""
    )


def machine() -> dict[str, str]:
    """Describe the machine and the versions the figures were taken with."""
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = []
    for name in _PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu": f"{model}, {os.cpu_count()} cores",
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": ", ".join(versions),
    }


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _mib(value: float | None) -> str:
    return f"{value:.0f} MiB" if value is not None else "n/a"


def _fmt_rate(rate: float | None) -> str:
    return f"{rate:.1f} files/s" if rate is not None else "n/a"


def profile_summary(path: Path, top: int = 15) -> list[str]:
    """Return the top functions by cumulative and by own time, and shiryo's own, a line each."""
    table = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    rows = [
        (ct, tt, nc, _function_name(file, line, func))
        for (file, line, func), (_, nc, tt, ct, _) in table.items()
    ]
    ours = [row for row in rows if row[3].startswith(("tasks/", "flows/"))]
    sections = [
        (f"top {top} by cumulative time", sorted(rows, reverse=True)),
        (f"top {top} by own time", sorted(rows, key=lambda r: r[1], reverse=True)),
        (f"top {top} of shiryo's own functions by cumulative time", sorted(ours, reverse=True)),
    ]
    lines = []
    for title, ranked in sections:
        lines.append(f"  {title} (cumulative s, own s, calls, function):")
        for ct, tt, nc, where in ranked[:top]:
            lines.append(f"    {ct:8.1f} {tt:8.1f} {nc:>10} {where}")
    return lines


def _function_name(file: str, line: int, func: str) -> str:
    if not line:
        return func  # a builtin, e.g. "<built-in method builtins.max>"
    parts = Path(file).parts
    short = "/".join(parts[-2:]) if len(parts) > 1 else file
    name = f"{short}:{line}({func})"
    return name if len(name) < 100 else name[:97] + "…"


def run_coordinator_loop(files: int, json_path: Path | None) -> None:
    """Time ``shiryo run`` as a coordinator runs it (``bench/coordinator.py``) and print it."""
    from bench.coordinator import coordinator_loop

    print(f"source: {source_state()}")
    print(f"load average at start: {_load()}")
    generated = generate(files, files, log=print)
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"coordinator-n{files}-", dir=CACHE_ROOT))
    print(f"scratch: {scratch}")
    env = Bench(scratch, None).env
    figures = coordinator_loop(env, generated, scratch, REPO_ROOT)
    print(f"load average at end: {_load()}")
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--files", type=int, default=2000, help="N workbooks (default 2000; 0: rendering only)"
    )
    parser.add_argument(
        "--per-plan",
        type=int,
        default=DEFAULT_PER_PLAN,
        help=f"departments per city plan (default {DEFAULT_PER_PLAN}; 0: all N in one plan)",
    )
    parser.add_argument(
        "--render",
        default="300,3000",
        help="initiative counts to render, comma-separated, multiples of 20 ('' to skip)",
    )
    parser.add_argument("--profile", action="store_true", help="also profile (b) at N")
    parser.add_argument(
        "--hosted",
        action="store_true",
        help="(b) as one collect-municipalities flow run over every city (the hosted path)",
    )
    parser.add_argument(
        "--product-timeout",
        type=float,
        default=0,
        help="stop a product run after this many seconds and report it unfinished (0: never)",
    )
    parser.add_argument(
        "--baseline-runs", type=int, default=2, help="1-file runs, the lesser kept (default 2)"
    )
    parser.add_argument("--workers", type=int, default=None, help="generator processes")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch folder (and the rendered 資料)"
    )
    parser.add_argument(
        "--coordinator",
        action="store_true",
        help="time the coordinator loop instead (shiryo run on one city; default --files 50)",
    )
    args = parser.parse_args(argv)
    if args.coordinator:
        run_coordinator_loop(args.files if "--files" in (argv or sys.argv) else 50, args.json)
        return
    if args.files == 1 or args.files < 0:
        parser.error("--files must be 0 or at least 2 (the per-file cost is a difference)")
    if args.files == 0:
        run_render_only(args)
        return

    figures: dict[str, Any] = {"files": args.files, "machine": machine()}
    for key, value in figures["machine"].items():
        print(f"machine {key}: {value}")
    figures["source"] = source_state()
    print(f"source: {figures['source']}")
    print(f"load average at start: {_load()}")

    generated = generate(args.files, args.per_plan, args.workers, log=print)
    state = "cached" if generated.cached else f"generated in {generated.seconds:.1f} s"
    cities = len(generated.cities)
    shape = (
        f"1 city of {args.files} departments"
        if cities == 1
        else f"{cities} cities of {generated.per_plan} departments on average"
    )
    print(
        f"set: {args.files} workbooks from {shape} (20 initiatives each, "
        f"{args.files * INITIATIVES_PER_DEPARTMENT:,} in all; {state}) at {generated.root}"
    )
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"run-n{args.files}-", dir=CACHE_ROOT))
    print(f"scratch: {scratch}")
    bench = Bench(scratch, args.product_timeout or None)
    try:
        floor_rate = measure_floor(bench, generated, figures)
        figures["hosted"] = args.hosted
        product_rate = measure_product(
            bench, generated, args.files, figures, args.baseline_runs, args.hosted
        )
        ratio = product_rate / floor_rate if product_rate and floor_rate else None
        figures["ratio"] = ratio
        print(f"ratio: {ratio:.3f}" if ratio is not None else "ratio: n/a")
        if args.hosted:
            _print_targets(figures, product_rate, floor_rate)
        measure_render(bench, args, figures)
        if args.profile:
            profile_product(bench, generated, args.files, figures, args.hosted)
        figures["load_average_end"] = _load()
        print(f"load average at end: {figures['load_average_end']}")
    finally:
        if args.json:
            args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), "utf-8")
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def run_render_only(args: argparse.Namespace) -> None:
    """Time (c) alone: the 資料 for each size asked for, beside their bare writes."""
    print(f"source: {source_state()}")
    print(f"load average at start: {_load()}")
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="render-", dir=CACHE_ROOT))
    print(f"scratch: {scratch}")
    figures: dict[str, Any] = {"files": 0, "machine": machine(), "source": source_state()}
    try:
        measure_render(Bench(scratch, None), args, figures)
        figures["load_average_end"] = _load()
        print(f"load average at end: {figures['load_average_end']}")
    finally:
        if args.json:
            args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), "utf-8")
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def measure_floor(bench: Bench, generated: GeneratedSet, figures: dict[str, Any]) -> float | None:
    """(a) Time the floor; print and return its files per second."""
    floor, wall = bench.run(
        "floor",
        "bench.floor",
        "--intake",
        str(generated.root / "cities"),
        "--out",
        str(bench.scratch / "floor.parquet"),
    )
    assert floor is not None
    rate = floor["files"] / floor["work_seconds"] if floor["work_seconds"] > 0 else None
    figures["floor"] = {**floor, "wall_seconds": wall, "files_per_second": rate}
    print(
        f"floor: {_fmt_rate(rate)}, peak RSS {_mib(floor['peak_rss_mib'])} "
        f"({floor['files']} files, {floor['rows']:,} rows: read {floor['read_seconds']:.2f} s, "
        f"Parquet {floor['parquet_seconds']:.2f} s; process start + imports "
        f"{floor['startup_seconds']:.2f} s, not counted)"
    )
    return rate


def measure_product(
    bench: Bench,
    generated: GeneratedSet,
    n: int,
    figures: dict[str, Any],
    baseline_runs: int = 2,
    hosted: bool = False,
) -> float | None:
    """(b) Time the product on 1 file and on N; print and return its per-file files/s.

    ``hosted``: each run is one collect-municipalities flow run over all its cities.
    """
    mode = ["--hosted"] if hosted else []
    print(
        "product: one collect-municipalities flow run over every city (hosted)"
        if hosted
        else "product: one collect-submissions flow run per city"
    )
    entries = generated.manifest()["entries"]
    expected: dict[str, int] = {}
    for entry in entries:
        outcome = "rejected" if entry["expected"] == "rejected" else "accepted"
        expected[outcome] = expected.get(outcome, 0) + 1
    first_clean = next(e for e in entries if e["expected"] == "clean")

    first, first_wall = bench.run("prefect-first-start", "bench.product", "--server-only")
    assert first is not None
    figures["prefect_first_start"] = {**first, "wall_seconds": first_wall}
    baselines = []
    for attempt in range(1, max(1, baseline_runs) + 1):
        one_jobs = jobs_file(generated, bench.scratch / f"ws-one-{attempt}", [first_clean], "one")
        one, one_wall = bench.run(
            "product-1",
            "bench.product",
            *("--jobs", str(one_jobs), *mode),
            timeout=bench.timeout,
            home=bench.fresh_home(f"one-{attempt}"),
        )
        if one is None:
            break
        baselines.append((_work(one, one_wall), one_wall, one))
    if baselines:
        _, one_wall, one = min(baselines, key=lambda b: b[0])
        figures["product_baselines"] = [{**b[2], "wall_seconds": b[1]} for b in baselines]
    if one is None:
        figures["product"] = {"unfinished_after_seconds": one_wall, "files": 1}
        print(
            f"product: did not finish 1 file within {one_wall:.0f} s on a "
            f"{generated.per_plan}-department plan; the N-file run was not started "
            f"(see bench/RESULTS.md)"
        )
        print(f"startup: > {one_wall:.0f} s (unfinished)")
        return None
    all_jobs = jobs_file(generated, bench.scratch / "ws-all", entries, "all")
    full, full_wall = bench.run(
        f"product-{n}",
        "bench.product",
        *("--jobs", str(all_jobs), *mode),
        timeout=bench.timeout,
        home=bench.fresh_home("all"),
    )
    if full is None:
        figures["product"] = {"one": {**one, "wall_seconds": one_wall}}
        print(f"product: did not finish {n} files within {full_wall:.0f} s")
        _print_startup(one, one_wall, 0.0, first)
        return None
    per_file = (_work(full, full_wall) - _work(one, one_wall)) / (n - 1)
    per_file_flow = (full["flow_seconds"] - one["flow_seconds"]) / (n - 1)
    rate = 1 / per_file if per_file > 0 else None
    figures["product"] = {
        "one": {**one, "wall_seconds": one_wall},
        "all": {**full, "wall_seconds": full_wall},
        "per_file_seconds": per_file,
        "per_file_flow_seconds": per_file_flow,
        "files_per_second": rate,
        "startup_seconds": one_wall - one["readback_seconds"] - per_file,
        "end_to_end_files_per_second": n / (full_wall - full["readback_seconds"]),
        "expected": expected,
    }
    print(
        f"product: per-file {_fmt_rate(rate)}, peak RSS {_mib(full['peak_rss_mib'])} "
        f"(flow process) + {_mib(full['server_peak_rss_mib'])} (Prefect server)"
    )
    _print_startup(one, one_wall, per_file, first)
    print(
        f"product end-to-end: {n} files in {full_wall - full['readback_seconds']:.1f} s = "
        f"{n / (full_wall - full['readback_seconds']):.2f} files/s; "
        f"{full['flows']} flow runs, {full['flow_seconds']:.1f} s in all "
        f"({_tasks(full['tasks'])}); per-file from the flows alone "
        f"{_fmt_rate(1 / per_file_flow if per_file_flow > 0 else None)}"
    )
    print(
        f"product per-file by task: {_per_file_tasks(one['tasks'], full['tasks'], n)} "
        f"(ms per file, N-file run less the 1-file run)"
    )
    print(
        f"product outcome: {_counts(full['statuses'])} (the set's design: {_counts(expected)}); "
        f"flow runs {_counts(full['flow_states'])}"
    )
    if full["flows"] > 2:
        _print_per_flow(full, figures)
    return rate


def _print_targets(figures: dict[str, Any], product: float | None, floor: float | None) -> None:
    """Print the hosted path's figures beside issue 27's targets (never asserted)."""
    full = figures.get("product", {}).get("all", {})
    peak = max(full.get("peak_rss_mib") or 0.0, full.get("server_peak_rss_mib") or 0.0)
    print(
        f"hosted: {_fmt_rate(product)} against the floor's {_fmt_rate(floor)} = "
        f"{product / floor if product and floor else float('nan'):.3f} × floor "
        f"(target ≥ 0.25 at 2,000 files / 41 cities, ≥ 0.2 at 10,000 / 202); peak RSS "
        f"{_mib(full.get('peak_rss_mib'))} (flow) and {_mib(full.get('server_peak_rss_mib'))} "
        f"(server), largest {peak:.0f} MiB (target < 1024 MiB per process)"
    )


def _work(run: dict[str, Any], wall: float) -> float:
    """Return a run's wall time less the parts that cannot depend on N (timed in the run)."""
    fixed = run["import_seconds"] + run["server_seconds"] + run["readback_seconds"]
    return float(wall - fixed - run.get("server_stop_seconds", 0.0))


def _print_per_flow(full: dict[str, Any], figures: dict[str, Any]) -> None:
    """Split the flows' time into a cost per flow run and a cost per file, by least squares.

    Cities differ in size, so each flow run of the N-file run is one point (its files, its
    seconds); the first flow is left out, as it pays the process's first-time costs.
    """
    files = full["files_each"][1:]
    columns: dict[str, list[float]] = {"flow": full["flow_seconds_each"][1:]}
    for name in _TASK_ORDER + sorted({k for t in full["tasks_each"] for k in t} - {*_TASK_ORDER}):
        columns[name] = [t.get(name, 0.0) for t in full["tasks_each"][1:]]
    columns["orchestration"] = [
        flow - sum(t.values())
        for flow, t in zip(columns["flow"], full["tasks_each"][1:], strict=True)
    ]
    fits = {name: _fit(files, seconds) for name, seconds in columns.items()}
    figures["product"]["per_flow_fit"] = {
        name: {"per_flow_seconds": fit[0], "per_file_seconds": fit[1]}
        for name, fit in fits.items()
        if fit is not None
    }
    if fits["flow"] is None:
        return
    per_flow, per_file = fits["flow"]
    print(
        f"per city: {per_flow:.2f} s per flow run + {per_file * 1000:.1f} ms per file in it "
        f"(within a city: {_fmt_rate(1 / per_file if per_file > 0 else None)}; least squares "
        f"over flow runs 2–{full['flows']}, {min(files)}–{max(files)} files each; the first "
        f"{full['flow_seconds_each'][0]:.1f} s)"
    )
    parts = [
        f"{name} {fit[0]:.2f} s + {fit[1] * 1000:.1f} ms"
        for name, fit in fits.items()
        if fit is not None and name != "flow"
    ]
    print(f"  per flow run + per file, by step: {'; '.join(parts)}")


def _fit(xs: list[int], ys: list[float]) -> tuple[float, float] | None:
    """Return (intercept, slope) of the least-squares line through the points, if any."""
    if len(set(xs)) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return mean_y - slope * mean_x, slope


def _print_startup(
    one: dict[str, Any], one_wall: float, per_file: float, first: dict[str, Any]
) -> None:
    wall = one_wall - one["readback_seconds"]
    print(f"startup: {wall - per_file:.1f} s")
    inside = one["import_seconds"] + one["server_seconds"] + one["flow_seconds"]
    print(
        f"  start-up = the 1-file run ({wall:.1f} s) less one file's share; of it: "
        f"process start + imports {one['import_seconds']:.1f} s, Prefect server "
        f"{one['server_seconds']:.1f} s, flow on 1 file {one['flow_seconds']:.1f} s "
        f"({_tasks(one['tasks'])}), after the flow {wall - inside:.1f} s (of it server stop "
        f"{one.get('server_stop_seconds', 0.0):.1f} s); peak RSS {_mib(one['peak_rss_mib'])} + "
        f"{_mib(one['server_peak_rss_mib'])} (server)"
    )
    print(
        f"  first server start with an empty PREFECT_HOME (database created): "
        f"{first['server_seconds']:.1f} s, not counted above"
    )


def measure_render(bench: Bench, args: argparse.Namespace, figures: dict[str, Any]) -> None:
    """(c) Time the rendering of the 資料 for each size asked for."""
    figures["render"] = {}
    for size in [int(s) for s in args.render.split(",") if s.strip()]:
        departments = max(1, size // INITIATIVES_PER_DEPARTMENT)
        small = generate(departments, departments, args.workers, log=print)
        (city,) = small.cities
        workspace = workspace_with(
            small,
            city,
            bench.scratch / f"ws-render-{size}",
            [e["key"] for e in small.manifest()["entries"]],
        )
        common = ["--config", str(small.config(city)), "--workspace", str(workspace)]
        bench.run_plain(f"render-prepare-{size}", "bench.render", "prepare", *common)
        kept = ["--keep", str(bench.scratch / f"shiryo-{size}")] if args.keep else []
        render, _ = bench.run(f"render-{size}", "bench.render", "render", *common, *kept)
        assert render is not None
        figures["render"][size] = render
        print(
            f"render {render['initiatives']}: context {render['context_seconds']:.2f} s, "
            f"docx {render['docx_seconds']:.2f} s (bare python-docx tables "
            f"{render['docx_bare_seconds']:.2f} s, {_times(render, 'docx')}), "
            f"xlsx {render['xlsx_seconds']:.2f} s (bare openpyxl write-only "
            f"{render['xlsx_bare_seconds']:.2f} s, {_times(render, 'xlsx')}), "
            f"peak RSS {_mib(render['peak_rss_mib'])} ({render['submitted_rows']} submitted "
            f"rows; docx {render['docx_bytes'] / 1024:.0f} KiB, "
            f"xlsx {render['xlsx_bytes'] / 1024:.0f} KiB)"
        )


def profile_product(
    bench: Bench, generated: GeneratedSet, n: int, figures: dict[str, Any], hosted: bool = False
) -> None:
    """Run (b) on N files once more under cProfile and print its top functions."""
    entries = generated.manifest()["entries"]
    jobs = jobs_file(generated, bench.scratch / "ws-profile", entries, "profile")
    profile_path = bench.scratch / f"product-{n}.prof"
    profiled, wall = bench.run(
        f"product-{n}-profiled",
        "bench.product",
        *("--jobs", str(jobs), "--profile", str(profile_path), *(["--hosted"] if hosted else [])),
        timeout=bench.timeout,
        home=bench.fresh_home("profile"),
    )
    if profiled is None:
        print(f"profile: the profiled run did not finish within {wall:.0f} s")
        return
    kept = Path(tempfile.gettempdir()) / f"shiryo-bench-product-{n}.prof"
    shutil.copy(profile_path, kept)
    figures["profile"] = {**profiled, "wall_seconds": wall, "stats": str(kept)}
    print(
        f"profile (cProfile, main thread; wall {wall:.1f} s, flows "
        f"{profiled['flow_seconds']:.1f} s, {_tasks(profiled['tasks'])}): {kept}"
    )
    for line in profile_summary(kept):
        print(line)


def _times(render: dict[str, Any], kind: str) -> str:
    """Return a document's time as a multiple of its bare write's ("3.1× bare")."""
    bare = render[f"{kind}_bare_seconds"]
    return f"{render[f'{kind}_seconds'] / bare:.1f}× bare" if bare else "n/a"


def _tasks(seconds: dict[str, float]) -> str:
    names = _TASK_ORDER + sorted(set(seconds) - set(_TASK_ORDER))
    return ", ".join(f"{name} {seconds[name]:.1f} s" for name in names if name in seconds)


def _per_file_tasks(one: dict[str, float], full: dict[str, float], n: int) -> str:
    names = _TASK_ORDER + sorted(set(full) - set(_TASK_ORDER))
    return ", ".join(
        f"{name} {(full[name] - one.get(name, 0.0)) / (n - 1) * 1000:.1f}"
        for name in names
        if name in full
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))


if __name__ == "__main__":
    main()
