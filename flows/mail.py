"""Reminder mail as a Prefect notification block (督促メール).

:class:`ReminderMail` is a ``NotificationBlock`` over an SMTP server: built at each run from
``reminders.yaml`` (``tasks.cycle.reminder_settings``) with the password from the
environment, never saved with its password on the server. Each department's mail is one
task run (``send-reminder-mail``) whose result is kept under a key of the day and the
message: a Retry of a run whose mail failed for one department sends that one again and
skips those already sent, and a second run on the same day sends nobody the same reminder
twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio.to_thread
from prefect import State, task
from prefect.blocks.abstract import NotificationBlock
from prefect.states import Failed
from pydantic import Field, SecretStr

from flows.steps import CACHED
from tasks.cycle.caching import fingerprint
from tasks.cycle.reminder_mail import ReminderMessage, send_mail
from tasks.cycle.reminder_settings import MailServer
from tasks.errors import MailError
from tasks.intake.ledger import japan_time
from tasks.settings import secret_from


class ReminderMail(NotificationBlock):
    """Plain-text mail through an SMTP server, to the addresses in ``to`` (and ``cc``)."""

    _block_type_name = "shiryo Reminder Mail"
    _block_type_slug = "shiryo-reminder-mail"
    _description = "督促メールを SMTP サーバーから送ります（shiryo の reminders.yaml から作ります）"

    server: dict[str, Any]
    """The mail server as ``reminders.yaml``'s ``mail`` says it (without the password)."""
    password: SecretStr | None = None
    to: list[str] = Field(min_length=1)

    def _send(self, body: str, subject: str) -> None:
        password = self.password.get_secret_value() if self.password else None
        send_mail(MailServer.model_validate(self.server), password, self.to, subject, body)

    async def notify(self, body: str, subject: str | None = None) -> None:
        """Hand one message to the mail server; a failure raises ``MailError``."""
        await anyio.to_thread.run_sync(self._send, body, subject or "")


def reminder_mail(server: MailServer, to: str) -> ReminderMail:
    """Return the block that mails one department, with the password from the environment."""
    password = secret_from(server.password_env)
    return ReminderMail(
        server=server.model_dump(),
        password=SecretStr(password) if password else None,
        to=[to],
    )


def send_reminder(server: MailServer, message: ReminderMessage) -> str | State[Any]:
    """Mail one department its reminder through the block; return what became of it.

    Mail that does not go ends the step Failed with the reason as its message (no traceback:
    the reason says it all), so that it is not cached and a Retry sends it again.
    """
    from prefect.utilities.asyncutils import run_coro_as_sync

    assert message.to is not None, "only a department with an address is mailed"
    block = reminder_mail(server, message.to)
    try:
        run_coro_as_sync(block.notify(message.body, message.subject))
    except MailError as err:
        return Failed(message=str(err))
    sent = japan_time(dt.datetime.now(dt.UTC).isoformat())
    return f"送りました（{message.to}、{sent}）"


def reminder_mail_key(_context: Any, parameters: dict[str, Any]) -> str:
    """Key one reminder on its day, its department, its address and its words."""
    server: MailServer = parameters["server"]
    message: ReminderMessage = parameters["message"]
    return fingerprint(
        [
            "reminder-mail",
            message.sent_on.isoformat(),
            message.department_id,
            message.to or "",
            message.subject,
            message.body,
            f"{server.smtp_host}:{server.port}",
        ]
    )


send_reminder_task = task(name="send-reminder-mail", cache_key_fn=reminder_mail_key, **CACHED)(
    send_reminder
)
