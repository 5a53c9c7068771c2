"""The floor: read the same workbooks with python-calamine into one DataFrame, write Parquet.

No guard, no validation, no orchestration: what the hardware and the libraries allow. It reads
the main sheet (the 20 initiative rows under the header row) of every file, one process, one
core. Run by ``bench/run.py`` in its own process; writes its figures as JSON to ``--result``.

    python -m bench.floor --intake DIR --out floor.parquet --result floor.json
"""

from __future__ import annotations

import time

_STARTED = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

SHEET = "評価シート"
HEADER_ROW = 5


def read_folder(intake: Path) -> tuple[pd.DataFrame, int]:
    """Return every file's data rows as one frame (all text), and the number of files."""
    paths = sorted(intake.rglob("*.xlsx"))
    header: list[str] | None = None
    rows: list[list[object]] = []
    for path in paths:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET)
        values = sheet.to_python(skip_empty_area=False)
        header = header or ["file", *(str(v) for v in values[HEADER_ROW - 1])]
        for row in values[HEADER_ROW:]:
            rows.append([path.name, *row])
    return pd.DataFrame(rows, columns=header), len(paths)


def main(argv: list[str] | None = None) -> None:
    """Time the floor and write its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intake", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--launched", type=float, default=_STARTED)
    args = parser.parse_args(argv)
    imported = time.time()
    began = time.perf_counter()
    frame, files = read_folder(args.intake)
    read = time.perf_counter()
    frame.to_parquet(args.out, index=False, engine="pyarrow", compression="zstd")
    written = time.perf_counter()
    result = {
        "files": files,
        "rows": len(frame),
        "startup_seconds": imported - args.launched,
        "read_seconds": read - began,
        "parquet_seconds": written - read,
        "work_seconds": written - began,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    args.result.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
