"""The warm service in ``shiryo serve``: runs handed over by ``shiryo run``, in this process.

Prefect, the flows, Great Expectations, the parsed plan, the checked configuration and GX's
suites and validation definitions stay loaded between runs, so a coordinator's re-run after
one department's fix pays only for that file (``flows.handoff`` is the other side).

It listens on 127.0.0.1 only, answers only a request carrying its token (from a record only
its owner can read) and runs one request at a time; a second waits its turn and is told so.
Each run is the same work as ``shiryo run`` in its own process (``flows.year_run``), as a
flow run on the service's Prefect server; its lines and its flow's log lines go back to the
command that asked, and are printed here too. A command stopped with Ctrl+C stops listening,
not the run: the run finishes, as a scheduled one would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import logging
import os
import secrets
import socketserver
import threading
import traceback
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import typer

from flows.handoff import run_variables_fingerprint, services_folder
from flows.terminal import listening, said_to, say
from tasks.settings import read_code_version


class _Connection(socketserver.StreamRequestHandler):
    """One ``shiryo run``: its request line in, its lines and its exit code out."""

    server: _Listener

    def handle(self) -> None:
        try:
            request = json.loads(self.rfile.readline())
            token = str(request.pop("token", ""))
        except (ValueError, AttributeError):
            return
        if not hmac.compare_digest(token, self.server.token):
            return  # not the owner's command: say nothing
        self.server.service.execute(request, self._send)

    def _send(self, event: dict[str, Any]) -> None:
        try:
            self.wfile.write(json.dumps(event, ensure_ascii=False).encode() + b"\n")
            self.wfile.flush()
        except OSError:
            pass  # the command was stopped (Ctrl+C): the run goes on without it


class _Listener(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, service: WarmService) -> None:
        super().__init__(("127.0.0.1", 0), _Connection)
        self.service = service
        self.token = secrets.token_urlsafe(32)


_LOG_LEVEL: ContextVar[int] = ContextVar("shiryo_log_level", default=logging.INFO)
"""The least level of log line a handed-over run sends: its warnings only, to a terminal."""


class _ToListener(logging.Handler):
    """Send the log lines of a handed-over run (its flow's and steps') to its command."""

    def emit(self, record: logging.LogRecord) -> None:
        listener = listening()
        if listener is None or record.levelno < _LOG_LEVEL.get():
            return
        try:
            listener(self.format(record), True)
        except Exception:
            self.handleError(record)


class _RunFormatter(logging.Formatter):
    """Prefect's console format: ``12:00:01.234 | INFO    | Task run 'x' - message``."""

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        task_run, flow_run = (getattr(record, k, None) for k in ("task_run_name", "flow_run_name"))
        who = f"Task run {task_run!r} - " if task_run else ""
        who = who or (f"Flow run {flow_run!r} - " if flow_run else "")
        head = f"{when}.{int(record.msecs):03d} | {record.levelname:<7} | {who}"
        return head + record.getMessage()


class WarmService:
    """Run handed-over ``shiryo run``s in this process, one at a time, on ``api_url``."""

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self._turn = threading.Lock()
        self._warming = threading.Event()
        self._listener = _Listener(self)
        self._record: Path | None = None
        self._code = read_code_version()  # the code this process is about to load
        self._handler = _ToListener(logging.INFO)
        self._handler.setFormatter(_RunFormatter())

    def start(self, warm_up: Callable[[], None] | None = None) -> None:
        """Listen, record where, and load what runs need (``warm_up``) before the first."""
        logging.getLogger().addHandler(self._handler)
        threading.Thread(
            target=self._listener.serve_forever, name="shiryo-warm", daemon=True
        ).start()
        if warm_up is not None:
            threading.Thread(
                target=self._warm, args=(warm_up,), name="shiryo-warm-up", daemon=True
            ).start()
        self._record = self._write_record()

    def stop(self) -> None:
        """Stop listening and remove the record (a run under way is not waited for)."""
        if self._record is not None:
            self._record.unlink(missing_ok=True)
        self._listener.shutdown()
        self._listener.server_close()
        logging.getLogger().removeHandler(self._handler)

    def _warm(self, warm_up: Callable[[], None]) -> None:
        from tasks.errors import ShiryoError

        # A broken configuration is not the warm-up's to report: each run reports it, in
        # Japanese. Anything else is a fault, and shows.
        with self._turn, contextlib.suppress(ShiryoError):
            self._warming.set()
            try:
                warm_up()
            finally:
                self._warming.clear()

    def _write_record(self) -> Path:
        folder = services_folder()
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self._listener.server_address[1]}-{os.getpid()}.json"
        record = {
            "pid": os.getpid(),
            "port": self._listener.server_address[1],
            "token": self._listener.token,
            "api_url": self.api_url,
            "variables": run_variables_fingerprint(),
            "code": self._code,
            "started": dt.datetime.now(dt.UTC).isoformat(),
        }
        path = folder / name
        temporary = path.with_suffix(".tmp")
        # The token lets a command run code in this process: readable by its owner only.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(record, out)
        temporary.replace(path)
        return path

    def execute(self, request: dict[str, Any], send: Callable[[dict[str, Any]], None]) -> None:
        """Run one request, sending its lines and then its exit code."""

        def listener(line: str, err: bool) -> None:
            send({"line": line, "err": err})

        # A person at a terminal reads the progress lines and the warnings (flows.terminal).
        level = logging.WARNING if request.pop("terminal", False) else logging.INFO
        with said_to(listener), _log_level(level):
            if not self._turn.acquire(blocking=False):
                waiting = "起動の準備" if self._warming.is_set() else "前の実行"
                say(f"shiryo serve の{waiting}が終わるのを待っています…", err=True)
                self._turn.acquire()
            try:
                code = self._run(request)
            finally:
                self._turn.release()
        send({"exit": code})

    def _run(self, request: dict[str, Any]) -> int:
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
            temporary_settings,
        )

        from flows.foreground import in_this_process
        from flows.year_run import run_year

        if request.get("command") != "run":
            say(f"エラー: shiryo serve はこの依頼を扱えません: {request.get('command')}", err=True)
            return 2
        updates = {PREFECT_API_URL: self.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
        try:
            with temporary_settings(updates=updates):
                run_year(
                    int(request["year"]),
                    str(request["workspace"]),
                    str(request["config"]),
                    bool(request["pdf"]),
                    bool(request["new_workspace"]),
                    in_this_process,
                )
        except typer.Exit as stop:
            return int(stop.exit_code)
        except Exception:
            # What the command would have printed had it run the flow itself.
            say(traceback.format_exc(), err=True)
            return 1
        return 0


@contextlib.contextmanager
def _log_level(level: int) -> Iterator[None]:
    token = _LOG_LEVEL.set(level)
    try:
        yield
    finally:
        _LOG_LEVEL.reset(token)


def warm_up_for(config: str, location: str) -> Callable[[], None]:
    """Return the loading a served configuration's runs need, done once before the first."""

    def warm_up() -> None:
        import flows.annual_cycle  # noqa: F401  (Prefect's flows and the steps)
        from tasks.cycle.configuration import problems_before_run, warm_up_checks
        from tasks.plan.load import load_plan
        from tasks.workspace.storage import open_storage

        problems_before_run(config, None, open_storage(location))
        warm_up_checks(load_plan(config))

    return warm_up
