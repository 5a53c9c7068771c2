"""Run the cycle's flows in the coordinator's own process (``shiryo run``, ``shiryo demo``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

from flows.terminal import progress_not_log_lines, say
from tasks.settings import environment

T = TypeVar("T")


def in_foreground(action: Callable[[], T], meanwhile: Callable[[], None] | None = None) -> T:
    """Run flows in this process: on the server of ``PREFECT_API_URL`` if set, else a temporary one.

    The temporary server is the command's own child out of the terminal's process group
    (``flows.servers``): Ctrl+C stops the run, reported to a server still up, then the server.

    No flow-run heartbeats: this command's own process shows whether the run lives, and each
    flow run's heartbeat thread would make its end wait up to a second. ``meanwhile`` (checks,
    imports) runs first, while a temporary server starts; so does the import of Prefect.
    """
    from flows.servers import temporary_server

    api = environment().prefect_api_url
    if api:
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        say(f"Prefect サーバー {api} を使います（PREFECT_API_URL）。", err=True)
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            # After ``meanwhile``: importing the flows sets Prefect's logging up afresh.
            return in_this_process(lambda: quietly(action), meanwhile)
    say(
        "一時的な Prefect サーバーを起動します（起動済みのサーバーを使うと速くなります:"
        " shiryo serve、または PREFECT_API_URL を設定）。",
        err=True,
    )

    def prepare() -> None:
        import prefect.settings  # noqa: F401  (1–2 s cold, while the server starts)

        if meanwhile is not None:
            meanwhile()

    with temporary_server(_startup_seconds, prepare) as url:
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
            PREFECT_UI_URL,
            temporary_settings,
        )

        if url is None:
            say("エラー: 一時的な Prefect サーバーを起動できませんでした。", err=True)
            raise typer.Exit(2)
        # No UI on this server: no "View at" address that would lead nowhere.
        updates = {
            PREFECT_API_URL: url,
            PREFECT_UI_URL: "",
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
        }
        with temporary_settings(updates=updates):
            try:
                return quietly(action)
            finally:
                send_logs()


def _startup_seconds() -> float:
    """How long a temporary server may take to start (Prefect's own setting)."""
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    return float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())


def quietly(action: Callable[[], T]) -> T:
    """Run ``action`` showing, at a terminal, its progress lines rather than every step's."""
    with progress_not_log_lines():
        return action()


def send_logs() -> None:
    """Send the run's last log lines to the server while it is still up (at exit it is not)."""
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()


def in_this_process(action: Callable[[], T], meanwhile: Callable[[], None] | None = None) -> T:
    """Run ``meanwhile``, then ``action``, on the Prefect server already set."""
    if meanwhile is not None:
        meanwhile()
    return action()
