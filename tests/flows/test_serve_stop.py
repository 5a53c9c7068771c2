"""``shiryo serve``'s runner stops on a signal at any moment, without a traceback.

A real Prefect runner on the test harness's server, in this process; the signals are real
ones sent to this process, as a terminal's Ctrl+C or a service manager's SIGTERM.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pytest
from prefect.runner import Runner

from flows.serve import STOP_SIGNALS, run_until_stopped

pytestmark = pytest.mark.usefixtures("prefect_server")


def _signal_when_held(sig: signal.Signals) -> Callable[[], None]:
    """Send ``sig`` to this process as soon as run_until_stopped holds it (before the
    runner has started: the moment Ctrl+C used to leave a half-built event loop)."""
    original = signal.getsignal(sig)

    def send() -> None:
        deadline = time.monotonic() + 30
        while signal.getsignal(sig) == original and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(os.getpid(), sig)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return lambda: thread.join()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_serving_stops_the_runner(
    sig: signal.Signals, capfd: pytest.CaptureFixture[str]
) -> None:
    handlers = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    started: list[bool] = []
    runner = Runner(pause_on_shutdown=False)
    begun = time.monotonic()
    run_until_stopped(runner, lambda: (started.append(runner.started), os.kill(os.getpid(), sig)))
    assert time.monotonic() - begun < 30
    assert started == [True]
    assert not runner.started
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == handlers
    _assert_quiet_on_this_server(capfd)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_before_the_runner_starts_stops_it_once_started(
    sig: signal.Signals, capfd: pytest.CaptureFixture[str]
) -> None:
    started: list[bool] = []
    runner = Runner(pause_on_shutdown=False)
    sent = _signal_when_held(sig)
    run_until_stopped(runner, lambda: started.append(runner.started))
    sent()
    assert started == [True]
    assert not runner.started
    _assert_quiet_on_this_server(capfd)


def _assert_quiet_on_this_server(capfd: pytest.CaptureFixture[str]) -> None:
    """No traceback, and the runner used the server of the caller's settings (Prefect starts
    a temporary one of its own where its settings do not reach)."""
    captured = capfd.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    assert "temporary server" not in text


def test_the_runner_uses_the_callers_settings_and_its_failure_reaches_the_caller() -> None:
    """``shiryo serve`` points Prefect at its server through temporary settings (a context):
    the runner's thread must see them. Pointed at a closed port, the runner fails, and the
    failure is raised where serving was asked for."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_CLIENT_MAX_RETRIES,
        PREFECT_RUNNER_POLL_FREQUENCY,
        temporary_settings,
    )

    from tests.live import free_port

    closed = f"http://127.0.0.1:{free_port()}/api"
    # Stop it anyway after a while: a runner on the wrong server would serve until stopped.
    stop = threading.Timer(120, os.kill, (os.getpid(), signal.SIGTERM))
    stop.start()
    with (
        temporary_settings(
            updates={
                PREFECT_API_URL: closed,
                PREFECT_CLIENT_MAX_RETRIES: 0,
                PREFECT_RUNNER_POLL_FREQUENCY: 1,
            }
        ),
        pytest.raises(Exception, match="TaskGroup"),
    ):
        try:
            run_until_stopped(Runner(pause_on_shutdown=False), lambda: None)
        finally:
            stop.cancel()
