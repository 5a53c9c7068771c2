"""The coordinator loop: ``shiryo run`` as a coordinator types it, timed wall to wall.

    python bench/run.py --coordinator [--files 50]

One city of about 50 departments (``bench/generate.py``), its call already sent
(``shiryo template``, spring's work), then three runs of the real command in their own
processes, each timed from launch to exit:

(c) ``city``: the city's files all new in intake;
(a) ``no-op``: again at once, nothing new;
(b) ``one fix``: one department's file replaced (the same workbook re-zipped: new bytes,
    the same cells, so it is taken and checked like a department's corrected file).

Each with a Prefect server already running (``prefect server start``, ``PREFECT_API_URL``
set) and with the embedded one (unset; its database made by an earlier start, as on a
coordinator's machine the second time). Beside them, the floor's cold time for the same
files: its process start, imports and reading (``bench/floor.py``). Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
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


def _start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    with log.open("a", encoding="utf-8") as out:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2):
                return server, api
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the Prefect server did not start; see {log}")


def loop(
    env: dict[str, str], generated: GeneratedSet, city: str, scratch: Path, repo: Path
) -> dict[str, float]:
    """Time the three cases in a fresh workspace with ``env``; return seconds by case."""
    workspace = scratch / "workspace"
    log = scratch / "runs.log"
    config = str(generated.config(city))
    year = str(FISCAL_YEAR)
    common = ["--year", year, "-w", str(workspace), "-c", config]
    _timed([*_shiryo(), "template", *common], env, log, repo)
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
    home = scratch / "prefect-home-server"
    server_env = {**base_env, "PREFECT_HOME": str(home)}
    server, api = _start_server(server_env, scratch / "server.log")
    try:
        running = {**base_env, "PREFECT_HOME": str(scratch / "home-client"), "PREFECT_API_URL": api}
        (scratch / "server").mkdir()
        figures["running server"] = loop(running, generated, city, scratch / "server", repo)
    finally:
        os.killpg(os.getpgid(server.pid), 15)
        server.wait(timeout=30)
    embedded = {**base_env, "PREFECT_HOME": str(scratch / "home-embedded")}
    (scratch / "embedded").mkdir()
    # The embedded server's database is made by its first start: a coordinator's first run.
    warm = [sys.executable, "-m", "bench.product", "--server-only"]
    warm += ["--result", str(scratch / "embedded" / "warm.json")]
    _timed(warm, embedded, scratch / "embedded" / "runs.log", repo)
    figures["embedded server"] = loop(embedded, generated, city, scratch / "embedded", repo)
    print(
        f"coordinator loop: 1 city of {files} files; floor cold (process start + imports + "
        f"read) {floor_cold:.2f} s (of it read {floor['read_seconds']:.2f} s)"
    )
    print(f"  {'':16} " + " ".join(f"{case:>9}" for case in CASES))
    for server_kind in ("running server", "embedded server"):
        row = figures[server_kind]
        print(f"  {server_kind:16} " + " ".join(f"{row[c]:8.2f}s" for c in CASES))
    return figures
