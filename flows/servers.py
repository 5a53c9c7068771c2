"""The Prefect servers the ``shiryo`` command starts: a temporary one for a run, the service's.

Each runs as a child process in its own session: Ctrl+C in the coordinator's terminal reaches
the process group in the foreground, and a server in it would stop at once, while the
command still reports the interrupted run to it (Prefect then retries for over a minute and
prints a long traceback). Out of that group, the server stays up until the command has
finished and stops it; SIGTERM and SIGHUP (a closed terminal) end the command as Ctrl+C does,
so that the server never outlives it.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from tasks.settings import environment

STOP_SECONDS = 10.0
"""How long a server gets to stop before it is killed."""


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Return whether something listens on ``port`` (a second ``shiryo serve``, say)."""
    with socket.socket() as probe:
        # As the server binds: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int, *, ui: bool) -> subprocess.Popen[bytes]:
    """Start a Prefect server on 127.0.0.1:``port`` in its own session.

    With ``ui``: ``prefect server start``, its UI and all its services (``shiryo serve``).
    Without: the API alone, as Prefect's own temporary server runs it (``shiryo run``).
    """
    url = f"http://127.0.0.1:{port}"
    if ui:
        # The UI's own pages call the API; without this they look for port 4200.
        env = {**os.environ, "PREFECT_UI_URL": url, "PREFECT_UI_API_URL": f"{url}/api"}
        command = ["-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    else:
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"}
        command = ["-m", "uvicorn", "--app-dir", _packages_folder("prefect")]
        command += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
        command += ["--log-level", "error", "--lifespan", "on"]
    return subprocess.Popen(
        [sys.executable, *command, "--port", str(port)], env=env, start_new_session=True
    )


def _packages_folder(package: str) -> str:
    """Return the folder ``package`` is installed in, without importing it (seconds, cold)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(package)
    return str(Path(spec.origin).parent.parent)


def wait_until_healthy(port: int, server: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait until the server answers its health check; False if it exited or never did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the server (a second Ctrl+C meanwhile does not leave it running)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def stopped_like_ctrl_c() -> Iterator[None]:
    """Within the block, end on SIGTERM and SIGHUP as on Ctrl+C (so cleanup runs)."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _terminate_self(_signum: int, _frame: FrameType | None) -> None:
    os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def ctrl_c_as_sigterm() -> Iterator[None]:
    """Within the block, make Ctrl+C a SIGTERM to this process (``shiryo serve``).

    Prefect's runner stops gracefully on SIGTERM. Left to asyncio, Ctrl+C cancels the
    runner's task instead, and once the warm service had run a flow in another thread of
    the process that cancellation was swallowed: the service never stopped.
    """
    previous = signal.signal(signal.SIGINT, _terminate_self)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_early: list[tuple[int, subprocess.Popen[bytes]]] = []
"""A temporary server started ahead of the command's own checks (:func:`started_early`)."""


@contextmanager
def started_early() -> Iterator[None]:
    """Unless ``PREFECT_API_URL`` names a server, start the temporary one now, for
    :func:`temporary_server` to use (``flows.foreground.in_foreground`` decides the same way).

    Its start (4–7 s of Prefect's imports) then overlaps the command's checks and its own
    import of Prefect; a command that ends without a run stops it at the block's end.
    """
    if environment().prefect_api_url is not None:
        yield
        return
    with stopped_like_ctrl_c():
        port = free_port()
        server = start_server(port, ui=False)
        _early.append((port, server))
        try:
            yield
        finally:
            if (port, server) in _early:
                _early.remove((port, server))
            stop_server(server)


def _started() -> tuple[int, subprocess.Popen[bytes]]:
    """Return the server started early if there is one, or start one now."""
    if _early:
        return _early.pop()
    port = free_port()
    return port, start_server(port, ui=False)


@contextmanager
def temporary_server(
    startup_seconds: Callable[[], float], meanwhile: Callable[[], None] | None = None
) -> Iterator[str | None]:
    """Run a temporary Prefect API for the block; yield its URL, or None if it did not start.

    ``meanwhile`` runs once while the server starts (checks, imports): the two share the
    wait instead of adding up. ``startup_seconds`` is asked after it: how long to wait.
    """
    with stopped_like_ctrl_c():
        for _attempt in range(3):
            port, server = _started()
            try:
                if meanwhile is not None:
                    meanwhile()
                    meanwhile = None
                healthy = wait_until_healthy(port, server, startup_seconds())
                if healthy or server.poll() is None:  # a server that exited lost the port
                    yield f"http://127.0.0.1:{port}/api" if healthy else None
                    return
            finally:
                stop_server(server)
        yield None
