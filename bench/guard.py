"""Per-file cost of the intake's defences: the package guard, the read, the intake's bookkeeping.

Prints figures, asserts nothing. The same files are measured with this checkout's code and,
with ``--before DIR`` (an export of an older commit, e.g. ``git archive dd96cf7 | tar -x -C
DIR``), with that code too, each in its own process, side by side:

    python -m bench.guard --files 300 [--before DIR]

- guard: ``tasks.check.guard.inspect_package`` (zip, XML and cell bounds) per valid file;
- read: ``tasks.check.read.read_submission`` (guard + calamine + checks) per valid file;
- intake: ``collect_new_files`` (list twice, read, hash, archive, one ledger entry) per file;
- hostile (this checkout only): the slowest file of ``tests.hostile``'s refused builds, and
  the peak RSS of reading them all.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESET = "niigata-minami"
DEPARTMENT = "kenko-fukushi"
ROUNDS = 3


def write_files(folder: Path, count: int) -> None:
    """Write ``count`` filled-in submissions of one department (distinct bytes) to ``folder``."""
    from openpyxl import load_workbook

    from tasks.call.workbook import HEADER_ROW, build_submission_workbook
    from tasks.plan.load import load_plan

    plan = load_plan(PRESET)
    blank = build_submission_workbook(plan, DEPARTMENT)
    target = folder / "intake" / str(plan.fiscal_year.current) / DEPARTMENT
    target.mkdir(parents=True)
    for number in range(count):
        workbook = load_workbook(io.BytesIO(blank))
        sheet = workbook[plan.submission.sheet_name]
        for row in range(HEADER_ROW + 1, sheet.max_row + 1):
            for column in range(9, 13):
                sheet.cell(row=row, column=column, value=f"記入 {number} {row}")
        buffer = io.BytesIO()
        workbook.save(buffer)
        (target / f"提出_{number:04d}.xlsx").write_bytes(buffer.getvalue())


def measure(folder: Path) -> dict[str, object]:
    """Return the best per-file seconds of each phase over ROUNDS rounds (this process's code)."""
    from tasks.check.guard import inspect_package
    from tasks.check.read import read_submission
    from tasks.intake.collect import collect_new_files
    from tasks.intake.ledger import Ledger
    from tasks.plan.load import load_plan
    from tasks.workspace.folder import FolderStorage

    plan = load_plan(PRESET)
    paths = sorted(folder.rglob("*.xlsx"))
    files = [p.read_bytes() for p in paths]
    best: dict[str, float] = {"guard": float("inf"), "read": float("inf"), "intake": float("inf")}
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for data in files:
            inspect_package(data)
        best["guard"] = min(best["guard"], (time.perf_counter() - started) / len(files))
        started = time.perf_counter()
        for data in files:
            read_submission(data, plan)
        best["read"] = min(best["read"], (time.perf_counter() - started) / len(files))
        with tempfile.TemporaryDirectory() as scratch:
            workspace = Path(scratch)
            os.symlink(folder / "intake", workspace / "intake")
            storage = FolderStorage(workspace)
            started = time.perf_counter()
            collect_new_files(storage, plan, Ledger(fiscal_year=2021), settle_seconds=0)
            best["intake"] = min(best["intake"], (time.perf_counter() - started) / len(files))
    return dict(best)


def measure_hostile() -> dict[str, object]:
    """Return the slowest refused build of tests.hostile and the peak RSS after all of them."""
    import resource

    from tasks.check.read import read_submission
    from tasks.errors import SubmissionError
    from tasks.plan.load import load_plan
    from tests.check.test_guard import REFUSED
    from tests.helpers import filled_workbook
    from tests.intake.test_collect_hostile import REFUSED_MORE

    plan = load_plan(PRESET)
    base = filled_workbook(plan, DEPARTMENT)
    slowest = ("", 0.0)
    for build, *_ in [*REFUSED, *REFUSED_MORE]:
        data = build(base)
        started = time.perf_counter()
        with contextlib.suppress(SubmissionError):  # refused, as it should be: only timed
            read_submission(data, plan)
        took = time.perf_counter() - started
        if took > slowest[1]:
            slowest = (build.__name__, took)
    return {
        "cases": len(REFUSED) + len(REFUSED_MORE),
        "slowest": slowest[0],
        "slowest_s": slowest[1],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(source: Path, folder: Path, hostile: bool) -> dict[str, object]:
    """Run ``measure`` (and ``measure_hostile``) in a new process on ``source``'s code."""
    code = (
        "import importlib.util, json, sys; from pathlib import Path; "
        "spec = importlib.util.spec_from_file_location('guard_bench', sys.argv[3]); "
        "bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench); "
        "out = bench.measure(Path(sys.argv[1])); "
        "out.update(bench.measure_hostile() if sys.argv[2] == '1' else {}); "
        "print(json.dumps(out))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code, str(folder), "1" if hostile else "0", __file__],
        cwd=source,
        env=os.environ | {"PYTHONPATH": str(source)},
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(shown.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    """Measure, print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--before", type=Path, help="an export of an older commit to compare")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        write_files(folder, args.files)
        # Alternate the two codes, twice, and keep each one's best: a shared machine's load
        # then weighs on both alike.
        now = _child(ROOT, folder, hostile=True)
        before = None
        if args.before:
            before = _child(args.before.resolve(), folder, hostile=False)
            again = _child(ROOT, folder, hostile=False)
            was = _child(args.before.resolve(), folder, hostile=False)
            for phase in ("guard", "read", "intake"):
                now[phase] = min(float(str(now[phase])), float(str(again[phase])))
                before[phase] = min(float(str(before[phase])), float(str(was[phase])))
    for phase in ("guard", "read", "intake"):
        line = f"{phase}: {float(str(now[phase])) * 1000:.2f} ms/file"
        if before is not None:
            was = float(str(before[phase]))
            change = float(str(now[phase])) / was - 1
            line += f" (before {was * 1000:.2f} ms/file, {change:+.1%})"
        print(line)
    print(
        f"hostile: {now['cases']} refused builds, slowest {now['slowest']} "
        f"{float(str(now['slowest_s'])):.2f} s, peak RSS {float(str(now['peak_rss_mib'])):.0f} MiB"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
