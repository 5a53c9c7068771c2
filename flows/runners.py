"""Which task runner spreads a collection run's read batches: chosen where the flow runs.

``SHIRYO_TASK_RUNNER`` in the environment of the process (or the worker) that runs the flow:

- unset or ``threads``: Prefect's thread pool, in the flow's own process (the default; a
  city's 30–60 files need nothing more);
- ``processes``: a process pool on this machine, one process per core;
- ``dask``: a temporary local Dask cluster (one worker process per core);
- ``tcp://host:8786`` (a Dask scheduler's address): an existing Dask cluster, whose workers
  may be on other machines; they need the same shiryo installed and the same workspace
  (S3, or a share mounted at the same path).
"""

from __future__ import annotations

from typing import Any

from prefect.futures import PrefectFuture
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from tasks.errors import ConfigError
from tasks.settings import TASK_RUNNER_VARIABLE, environment


def task_runner(choice: str | None = None) -> TaskRunner[PrefectFuture[Any]]:
    """Return the task runner named by ``choice`` (default: ``$SHIRYO_TASK_RUNNER``)."""
    choice = (choice if choice is not None else environment().task_runner).strip()
    runner: Any
    if choice in ("", "threads"):
        runner = ThreadPoolTaskRunner()
    elif choice == "processes":
        runner = ProcessPoolTaskRunner()
    elif choice == "dask" or choice.startswith(("tcp://", "tls://")):
        from prefect_dask.task_runners import DaskTaskRunner

        runner = DaskTaskRunner(address=None if choice == "dask" else choice)
    else:
        raise ConfigError(
            f"{TASK_RUNNER_VARIABLE}={choice!r} は使えません。threads、processes、dask、"
            "または Dask スケジューラーのアドレス（tcp://ホスト:8786）を指定してください。"
        )
    return runner  # type: ignore[no-any-return]
