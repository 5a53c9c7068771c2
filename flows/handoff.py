"""Hand ``shiryo run`` to the warm service ``shiryo serve`` keeps, when one is live.

A coordinator's re-run after one department's fix should take seconds; importing Prefect,
the flows and Great Expectations alone takes longer. ``shiryo serve`` keeps them loaded
(``flows.warm``) and records where it listens in ``$PREFECT_HOME/shiryo-serve/``: a file per
service holding its process id, its port on 127.0.0.1, a secret token (the file is readable
by its owner only), its Prefect API, the version of the code it loaded and a fingerprint of
the variables a run depends on.

``shiryo run`` reads that record with nothing but the standard library, sends the run there
and prints what the service sends back, line by line. It runs in its own process instead when
no service is live, when asked to (``--no-serve``), or when the service would run it differently:
another Prefect server (``PREFECT_API_URL``), older code (shiryo updated since it started), or
other credentials or settings (``AWS_*``, ``SHIRYO_*``).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.terminal import explain_interruption, say
from tasks.settings import read_code_version

RUN_VARIABLE_PREFIXES = ("AWS_", "SHIRYO_")
"""Variables a run reads (S3 credentials, the task runner): a service must have the same."""

CONNECT_SECONDS = 3.0


@dataclass(frozen=True)
class ServiceRecord:
    """Where a live warm service listens (one JSON file per service)."""

    pid: int
    port: int
    token: str
    api_url: str
    variables: str
    """:func:`run_variables_fingerprint` of the service's environment."""
    code: str
    """The version of shiryo's code the service loaded (``read_code_version``)."""
    started: str
    path: Path


def services_folder() -> Path:
    """Return the folder of the service records (under Prefect's home, as Prefect finds it)."""
    home = os.environ.get("PREFECT_HOME") or "~/.prefect"
    return Path(home).expanduser() / "shiryo-serve"


def run_variables_fingerprint(environ: dict[str, str] | None = None) -> str:
    """Return a hash of the variables a run depends on (names and values)."""
    environ = dict(os.environ) if environ is None else environ
    chosen = sorted((k, v) for k, v in environ.items() if k.startswith(RUN_VARIABLE_PREFIXES))
    return hashlib.sha256(json.dumps(chosen).encode()).hexdigest()


def live_services() -> list[ServiceRecord]:
    """Return the recorded services whose process still lives, newest first."""
    records: list[ServiceRecord] = []
    folder = services_folder()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            record = ServiceRecord(path=path, **data)
        except (OSError, ValueError, TypeError):
            continue  # half written, or from another version: not one to talk to
        if _alive(record.pid):
            records.append(record)
    return sorted(records, key=lambda r: r.started, reverse=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another account's process: alive, though not ours to use
    return True


def chosen_service() -> ServiceRecord | None:
    """Return the live service to hand a run to, or None (saying why when it matters)."""
    services = live_services()
    if not services:
        return None
    api = os.environ.get("PREFECT_API_URL") or None
    if api is not None:
        services = [s for s in services if s.api_url.rstrip("/") == api.rstrip("/")]
        if not services:
            say(
                "shiryo serve は別の Prefect サーバーを使っているため、この場で実行します"
                "（PREFECT_API_URL が違います）。",
                err=True,
            )
            return None
    service = services[0]
    if service.code != read_code_version():
        say(
            "shiryo が更新されているため、この場で実行します。shiryo serve を起動し直すと、"
            "更新後の shiryo で速く実行できます。",
            err=True,
        )
        return None
    if service.variables != run_variables_fingerprint():
        say(
            "shiryo serve を起動したときと環境変数（AWS_… や SHIRYO_…）が違うため、"
            "この場で実行します。同じ設定で shiryo serve を起動し直すと速くなります。",
            err=True,
        )
        return None
    return service


def hand_off(request: dict[str, Any]) -> int | None:
    """Run ``request`` on the live service and print its lines; return its exit code, or
    None when there is no service to run it (the caller then runs it itself)."""
    service = chosen_service()
    if service is None:
        return None
    try:
        connection = socket.create_connection(("127.0.0.1", service.port), CONNECT_SECONDS)
    except OSError:
        return None  # stopping, or a record left by a killed service: run here
    sent = False
    try:
        with connection:
            connection.settimeout(None)
            message = {**request, "token": service.token}
            connection.sendall(json.dumps(message, ensure_ascii=False).encode() + b"\n")
            sent = True
            # Said once sent, inside this block: a Ctrl+C from here on is told what it stops.
            say(f"shiryo serve（プロセス {service.pid}）に実行を任せます。", err=True)
            return _relay(connection.makefile("r", encoding="utf-8"))
    except KeyboardInterrupt:
        if not sent:
            return explain_interruption("中断しました（Ctrl+C）。実行は始まっていません。")
        return explain_interruption(
            "表示を止めました（Ctrl+C）。実行は shiryo serve の中で最後まで続きます。"
            "結果は Prefect の画面か shiryo status で確かめてください。"
        )


def _relay(lines: Any) -> int:
    """Print the service's lines until its exit code."""
    for line in lines:
        event = json.loads(line)
        if "exit" in event:
            return int(event["exit"])
        say(str(event["line"]), err=bool(event.get("err")))
    say(
        "エラー: 実行の途中で shiryo serve との接続が切れました。shiryo serve が動いているか"
        "確かめ、shiryo run をもう一度実行してください（続きから正しくやり直せます）。",
        err=True,
    )
    return 1
