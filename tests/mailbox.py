"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that keeps what it is handed.

It may refuse some recipients (``550``, as a server does for an unknown address) and may
require a login (AUTH PLAIN/LOGIN without TLS, which aiosmtpd allows when told to).
"""

from __future__ import annotations

import email
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    mail_from: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """What an SMTP server on 127.0.0.1 was handed, and how to reach it."""

    port: int
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        """Return the messages delivered to ``address``."""
        return [r.message for r in self.received if address in r.recipients]


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(
    refuse: tuple[str, ...] = (), login: tuple[str, str] | None = None
) -> Iterator[Mailbox]:
    """Serve SMTP on a free local port while the block runs; ``login``: (user, password)."""
    mailbox = Mailbox(port=free_port(), refuse=set(refuse))
    options: dict[str, Any] = {}
    if login is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and (
                    data.login.decode(),
                    data.password.decode(),
                )
                == login
            )
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        options = {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True}
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
    with warnings.catch_warnings():
        # A login without TLS is what this server is for (on 127.0.0.1 only); aiosmtpd warns
        # of it each time a client connects.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        controller.start()
        try:
            yield mailbox
        finally:
            controller.stop()
