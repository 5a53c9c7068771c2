"""The reminder mail block: a Prefect notification block over SMTP, keyed once a day."""

from __future__ import annotations

import datetime as dt

from prefect.utilities.asyncutils import run_coro_as_sync

from flows.mail import ReminderMail, reminder_mail, reminder_mail_key
from tasks.cycle.reminder_mail import ReminderMessage
from tasks.cycle.reminder_settings import MailServer
from tests.mailbox import smtp_server


def _server(port: int) -> MailServer:
    return MailServer(
        smtp_host="127.0.0.1",
        smtp_port=port,
        security="none",
        from_address="jimukyoku@city.example.lg.jp",
        cc=["kiroku@city.example.lg.jp"],
    )


def test_the_block_mails_its_recipient_and_the_copy() -> None:
    """It is a Prefect notification block whose notify hands the message to the server."""
    with smtp_server() as mailbox:
        block = reminder_mail(_server(mailbox.port), "kenko@city.example.lg.jp")
        assert isinstance(block, ReminderMail)
        assert ReminderMail.get_block_type_slug() == "shiryo-reminder-mail"
        run_coro_as_sync(block.notify("調査票のご提出をお願いいたします。", "【ご提出のお願い】"))

    (received,) = mailbox.received
    assert received.recipients == ["kenko@city.example.lg.jp", "kiroku@city.example.lg.jp"]
    assert received.message["Subject"] == "【ご提出のお願い】"


def test_a_reminder_is_keyed_on_its_day_and_its_words() -> None:
    """It keys the same reminder of the same day alike, and another day or wording apart."""
    message = ReminderMessage(
        department_id="kenko-fukushi",
        sent_on=dt.date(2021, 6, 28),
        to="kenko@city.example.lg.jp",
        subject="【ご提出のお願い】",
        body="本文",
    )
    server = _server(25)

    def key(**changes: object) -> str:
        changed = ReminderMessage(**{**message.__dict__, **changes})  # type: ignore[arg-type]
        return reminder_mail_key(None, {"server": server, "message": changed})

    assert key() == key()
    assert key(sent_on=dt.date(2021, 7, 5)) != key()  # next week's reminder goes again
    assert key(body="別の本文") != key()
    assert key(to="fukushi@city.example.lg.jp") != key()
