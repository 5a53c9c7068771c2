"""The coordinator loop: ``shiryo run`` as a coordinator types it, timed wall to wall.

    python bench/run.py --coordinator [--files 50]

One city of about 50 departments (``bench/generate.py``), its call already sent
(``shiryo template``, spring's work), then three runs of the real command in their own
processes, each timed from launch to exit:

(c) ``city``: the city's files all new in intake;
(a) ``no-op``: again at once, nothing new;
(b) ``one fix``: one department's file replaced (the same workbook re-zipped: new bytes,
    the same cells, so it is taken and checked like a department's corrected file).

Each with the service the guide tells a coordinator to keep running (``shiryo serve``: its
own Prefect server and its warm service, to which ``shiryo run`` hands the run; the same
PREFECT_HOME, no PREFECT_API_URL) and with the embedded server (no service; its database
made by an earlier start, as on a coordinator's machine the second time). Beside them, the
floor's cold time for the same files: its process start, imports and reading
(``bench/floor.py``). Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from bench.generate import FISCAL_YEAR, GeneratedSet

CASES = ("city", "no-op", "one fix")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _shiryo() -> list[str]:
    script = Path(sys.executable).with_name("shiryo")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from flows.cli import app; app()"]


def _timed(command: list[str], env: dict[str, str], log: Path, cwd: Path) -> float:
    began = time.perf_counter()
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, env=env, cwd=cwd, stdout=out, stderr=out, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{command} failed (exit {done.returncode}); see {log}")
    return seconds


def _refit(source: Path, target: Path) -> None:
    """Write ``source`` again with other zip settings: new bytes, the same workbook."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as new:
        for item in old.infolist():
            new.writestr(item.filename, old.read(item.filename))


@contextmanager
def _shiryo_serve(
    env: dict[str, str], workspace: Path, config: str, log: Path, repo: Path
) -> Iterator[None]:
    """Run ``shiryo serve`` as the guide says, until its warm service has recorded itself."""
    records = Path(env["PREFECT_HOME"]) / "shiryo-serve"
    command = [*_shiryo(), "serve", "-w", str(workspace), "-c", config, "--port", str(_free_port())]
    with log.open("a", encoding="utf-8") as out:
        serve = subprocess.Popen(
            command, env=env, cwd=repo, stdout=out, stderr=out, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 300
        while not list(records.glob("*.json")):
            if serve.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"shiryo serve did not start; see {log}")
            time.sleep(0.5)
        time.sleep(WARM_UP_SECONDS)  # as a coordinator's service has been up a while
        yield
    finally:
        os.killpg(os.getpgid(serve.pid), signal.SIGINT)
        serve.wait(timeout=120)


WARM_UP_SECONDS = 20.0
"""How long the service runs before the first timed command (it loads Prefect, GX, the plan)."""


def loop(
    env: dict[str, str],
    generated: GeneratedSet,
    city: str,
    scratch: Path,
    repo: Path,
    service: bool,
) -> dict[str, float]:
    """Time the three cases in a fresh workspace with ``env`` (with ``service``: under a
    running ``shiryo serve``); return seconds by case."""
    workspace = scratch / "workspace"
    log = scratch / "runs.log"
    config = str(generated.config(city))
    year = str(FISCAL_YEAR)
    common = ["--year", year, "-w", str(workspace), "-c", config]
    _timed([*_shiryo(), "template", *common], env, log, repo)
    with (
        _shiryo_serve(env, workspace, config, scratch / "serve.log", repo)
        if service
        else nullcontext()
    ):
        return _three_runs(env, generated, city, workspace, common, log, repo)


def _three_runs(
    env: dict[str, str],
    generated: GeneratedSet,
    city: str,
    workspace: Path,
    common: list[str],
    log: Path,
    repo: Path,
) -> dict[str, float]:
    intake = generated.city(city) / "intake"
    shutil.copytree(intake, workspace / "intake")
    seconds = {"city": _timed([*_shiryo(), "run", *common], env, log, repo)}
    seconds["no-op"] = _timed([*_shiryo(), "run", *common], env, log, repo)
    first = sorted((workspace / "intake").rglob("*.xlsx"))[0]
    refitted = first.with_suffix(".tmp")
    _refit(first, refitted)
    refitted.replace(first)
    seconds["one fix"] = _timed([*_shiryo(), "run", *common], env, log, repo)
    return seconds


def coordinator_loop(
    base_env: dict[str, str], generated: GeneratedSet, scratch: Path, repo: Path
) -> dict[str, Any]:
    """Run the loop with a running server and with the embedded one; print and return it."""
    city = generated.cities[0]
    files = len(list((generated.city(city) / "intake").rglob("*.xlsx")))
    floor_result = scratch / "floor.json"
    began = time.perf_counter()
    floor_command = [sys.executable, "-m", "bench.floor", "--intake"]
    floor_command += [str(generated.city(city) / "intake"), "--out", str(scratch / "floor.parquet")]
    subprocess.run(
        [*floor_command, "--result", str(floor_result)],
        env=base_env,
        cwd=repo,
        check=True,
    )
    floor_cold = time.perf_counter() - began
    floor = json.loads(floor_result.read_text(encoding="utf-8"))
    figures: dict[str, Any] = {"files": files, "floor_cold_seconds": floor_cold, "floor": floor}
    served = {**base_env, "PREFECT_HOME": str(scratch / "home-served")}
    served.pop("PREFECT_API_URL", None)
    (scratch / "server").mkdir()
    figures["running server"] = loop(served, generated, city, scratch / "server", repo, True)
    embedded = {**base_env, "PREFECT_HOME": str(scratch / "home-embedded")}
    (scratch / "embedded").mkdir()
    # The embedded server's database is made by its first start: a coordinator's first run.
    warm = [sys.executable, "-m", "bench.product", "--server-only"]
    warm += ["--result", str(scratch / "embedded" / "warm.json")]
    _timed(warm, embedded, scratch / "embedded" / "runs.log", repo)
    figures["embedded server"] = loop(embedded, generated, city, scratch / "embedded", repo, False)
    print(
        f"coordinator loop: 1 city of {files} files; floor cold (process start + imports + "
        f"read) {floor_cold:.2f} s (of it read {floor['read_seconds']:.2f} s)"
    )
    print(f"  {'':16} " + " ".join(f"{case:>9}" for case in CASES))
    labels = {"running server": "shiryo serve", "embedded server": "embedded server"}
    for server_kind in ("running server", "embedded server"):
        row = figures[server_kind]
        print(f"  {labels[server_kind]:16} " + " ".join(f"{row[c]:8.2f}s" for c in CASES))
    fix = figures["running server"]["one fix"]
    print(f"  one fix under shiryo serve = {fix / floor_cold:.1f} × the floor's cold time")
    return figures
