"""A fault-injecting HTTP proxy in front of moto's S3 server, on 127.0.0.1.

Every request gets a number in arrival order; a generator seeded with ``(seed, number)`` decides
whether it fails and how, so a mix is the same from run to run. The kinds of fault:

- ``500``: ``InternalError`` answered by the proxy, the request never reaches S3;
- ``503``: ``SlowDown`` (S3's throttling), the request never reaches S3;
- ``reset``: the connection is reset (RST) before the request is forwarded;
- ``reset-after``: forwarded and done by S3, then the connection is reset: the client never
  learns that its write succeeded and sends it again;
- ``stall``: nothing is answered for ``stall_seconds`` (past the client's read timeout), then
  the connection is closed.

``heal()`` stops every fault; ``counts`` tells how many requests met each.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
from collections import Counter
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

KINDS = ("500", "503", "reset", "reset-after", "stall")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
_ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
}


class FaultProxy:
    """Forward S3 requests to ``upstream``, failing a seeded share of them."""

    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 0,
        rate: float = 0.0,
        kinds: tuple[str, ...] = KINDS,
        stall_seconds: float = 3.0,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.seed, self.rate, self.kinds = seed, rate, kinds
        self.stall_seconds = stall_seconds
        self.counts: Counter[str] = Counter()
        self._number = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """Return the proxy's URL, for ``AWS_ENDPOINT_URL_S3``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def heal(self) -> None:
        """Let every later request through untouched."""
        with self._lock:
            self.rate = 0.0

    def break_down(self, rate: float = 1.0, kinds: tuple[str, ...] | None = None) -> None:
        """Fail ``rate`` of the later requests (all of them by default)."""
        with self._lock:
            self.rate = rate
            self.kinds = kinds or self.kinds

    def decide(self) -> str:
        """Return the fate of the next request: a kind of fault, or ``ok``."""
        with self._lock:
            self._number += 1
            chance = random.Random(f"{self.seed}:{self._number}")
            fate = chance.choice(self.kinds) if chance.random() < self.rate else "ok"
            self.counts[fate] += 1
            return fate


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the counts say what happened

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    chunk = self.rfile.read(size)
                    self.rfile.readline()
                    if size == 0:
                        break
                    chunks.append(chunk)
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reset(self) -> None:
            # SO_LINGER with a zero timeout turns close() into a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            upstream = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                if "Transfer-Encoding" in self.headers:
                    headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                return response.status, response.getheaders(), response.read()
            finally:
                upstream.close()

        def _handle(self) -> None:
            body = self._body()
            fate = proxy.decide()
            if fate in ("reset", "stall"):
                if fate == "stall":
                    time.sleep(proxy.stall_seconds)
                self._reset()
                return
            if fate in _ERRORS:
                status, code, message = _ERRORS[fate]
                payload = (
                    '<?xml version="1.0" encoding="UTF-8"?>'
                    f"<Error><Code>{code}</Code><Message>{message}</Message>"
                    "<RequestId>fault-proxy</RequestId></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                return
            status, headers, payload = self._forward(body)
            if fate == "reset-after":
                self._reset()
                return
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() not in ("server", "date"):
                    self.send_header(name, value)
            if not any(name.lower() == "content-length" for name, _ in headers):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def finish(self) -> None:
            with suppress(OSError):  # the connection was reset on purpose
                super().finish()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    return Handler
