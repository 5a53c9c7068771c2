"""Reminder mail (督促メール): one polite Japanese message per department, handed to SMTP.

Each message says the department, the year, what is missing, the deadline and where its
調査票, 差戻し票 and 修正用の調査票 are, in the wording of ``reminders.yaml``. A message is
handed to the mail server with the standard library (``smtplib``); the Prefect notification
block of ``flows.mail`` calls :func:`send_mail`. One department's mail that fails never
stops the others: each outcome is recorded in the 督促一覧, and the run fails at its end.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, make_msgid

from tasks.cycle.reminder_settings import MailServer, ReminderSettings, render_template
from tasks.cycle.reminders import (
    NOT_SENT,
    RESUBMIT,
    Reminder,
    ReminderList,
    deadline_note,
    locator,
)
from tasks.errors import MailError
from tasks.intake.status import SENT_BACK_AFTER_ACCEPTED
from tasks.plan.fiscal_year import fiscal_year_label
from tasks.plan.model import Plan
from tasks.workspace.storage import Storage

NO_ADDRESS = "送っていません（plan.yaml に email がありません）"
UNSENT = "送れませんでした"
MAX_ROWS_NAMED = 10
"""Initiatives named one by one in a message; more are counted (ほか N 件)."""


@dataclass(frozen=True)
class ReminderMessage:
    """One department's reminder: to whom, the subject and the body."""

    department_id: str
    sent_on: dt.date
    """The day the reminder is for: the same reminder goes once a day at most."""
    to: str | None
    """The department's address (``departments[].email``); None: not mailed."""
    subject: str
    body: str


def reminder_messages(
    plan: Plan,
    reminders: ReminderList,
    settings: ReminderSettings,
    locate: Callable[[str], str],
) -> list[ReminderMessage]:
    """Return the message of each department to remind (``locate`` says where a key is)."""
    messages = []
    for reminder in reminders.reminders:
        names = {
            "municipality": plan.municipality,
            "plan_name": plan.plan_name,
            "committee": plan.committee,
            "year": fiscal_year_label(reminders.fiscal_year),
            "department": reminder.department,
            "contact": reminder.contact or "ご担当者",
            "reason": reminder.reason,
            "details": _details(plan, reminder),
            "deadline": deadline_note(reminders) if reminders.deadline else "",
            "files": "\n".join(f"・{label}: {locate(key)}" for label, key in reminder.files),
            "latest_file": reminder.latest_file,
            "signature": settings.signature.strip(),
        }
        subject = render_template(settings.message.subject, names)
        messages.append(
            ReminderMessage(
                department_id=reminder.department_id,
                sent_on=reminders.today,
                to=reminder.email,
                subject=" ".join(subject.split()),  # one header line whatever was typed
                body=render_template(settings.message.body, names),
            )
        )
    return messages


def _details(plan: Plan, reminder: Reminder) -> str:
    """Return what is missing and what to do, in the polite words of a 督促."""
    if reminder.reason == NOT_SENT:
        return (
            f"現時点で、{reminder.department}からの調査票のご提出を確認できておりません。\n"
            "お手数ですが、調査票にご記入のうえ、下記の提出先にご提出くださいますよう"
            "お願いいたします。"
        )
    if reminder.reason == RESUBMIT:
        text = (
            f"ご提出いただいた調査票（{reminder.latest_file}、{reminder.received} 受付）に"
            f"修正が必要な箇所（要修正 {reminder.blocking} 件）があり、差し戻しております。\n"
            "差戻し票の「要修正」の箇所をすべて修正のうえ、下記の提出先に再度ご提出ください。"
            "修正用の調査票（直す箇所に印と説明を付けたもの）を直して、そのままご提出いただく"
            "こともできます。"
        )
        if reminder.state == SENT_BACK_AFTER_ACCEPTED:
            text += (
                "\nなお、前にご提出いただいた調査票は受理しており、再提出をいただくまでは、"
                "そちらの内容を資料に使用します。"
            )
        return text
    label = plan.initiative_label
    parts = []
    if reminder.blank_rows:
        parts.append(
            f"ご提出いただいた調査票のうち、次の{label}に記入されていない欄があります。"
            f"ご記入のうえ、再度ご提出くださいますようお願いいたします。\n"
            + _listed(reminder.blank_rows)
        )
    if reminder.missing_rows:
        parts.append(
            f"次の{label}は調査票の配布後に追加したため、ご提出いただいた調査票に行がありません。"
            "お手数ですが、下記の新しい調査票にご記入のうえ、ご提出ください。\n"
            + _listed(reminder.missing_rows)
        )
    return "\n\n".join(parts)


def _listed(names: tuple[str, ...]) -> str:
    shown = [f"　・{name}" for name in names[:MAX_ROWS_NAMED]]
    if len(names) > MAX_ROWS_NAMED:
        shown.append(f"　ほか {len(names) - MAX_ROWS_NAMED} 件")
    return "\n".join(shown)


def unsent_outcome(error: BaseException | str) -> str:
    """Return the outcome of a department's mail that could not be sent."""
    return f"{UNSENT}: {error}"


def messages_to_send(
    plan: Plan,
    storage: Storage,
    reminders: ReminderList,
    settings: ReminderSettings,
    send: bool,
) -> list[ReminderMessage]:
    """Return the reminders to mail now: none unless asked for and set up, none without an
    address."""
    if not (send and settings.mail.configured):
        return []
    locate = locator(storage, settings.department_folder)
    return [m for m in reminder_messages(plan, reminders, settings, locate) if m.to is not None]


def mail_outcomes(
    reminders: ReminderList, sent: dict[str, str], send: bool, settings: ReminderSettings
) -> dict[str, str]:
    """Return what became of each department's reminder: the mail sent, or why none went."""
    if not (send and settings.mail.configured):
        return {}
    return {r.department_id: sent.get(r.department_id, NO_ADDRESS) for r in reminders.reminders}


def check_all_sent(outcomes: dict[str, str], reminders: ReminderList, list_location: str) -> None:
    """Raise a MailError naming every department whose mail could not be sent."""
    names = {r.department_id: r.department for r in reminders.reminders}
    unsent = [f"{names[d]}（{o}）" for d, o in outcomes.items() if o.startswith(UNSENT)]
    if unsent:
        raise MailError(
            f"{len(unsent)} 部署に督促メールを送れませんでした: {'、'.join(unsent)}。"
            f"督促一覧 {list_location} に記録しました。原因を直してから、もう一度送ってください"
            "（送れた部署には、同じ日に同じ督促を送り直しません）。"
        )


def send_mail(
    server: MailServer, password: str | None, to: list[str], subject: str, body: str
) -> None:
    """Hand one plain-text UTF-8 message to the mail server; a failure is a MailError."""
    assert server.smtp_host and server.from_address, "send_mail needs a configured server"
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = formataddr((server.from_name, server.from_address))
    message["To"] = ", ".join(to)
    if server.cc:
        message["Cc"] = ", ".join(server.cc)
    if server.reply_to:
        message["Reply-To"] = server.reply_to
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=server.from_address.rsplit("@", 1)[1])
    message.set_content(body, charset="utf-8")
    where = f"{server.smtp_host}:{server.port}"
    try:
        with _connect(server) as smtp:
            if server.username:
                smtp.login(server.username, password or "")
            refused = smtp.send_message(message, to_addrs=[*to, *server.cc])
        if refused:  # some addresses taken, some not: the reminder did not reach everyone
            raise smtplib.SMTPRecipientsRefused(refused)
    except smtplib.SMTPAuthenticationError as err:
        raise MailError(
            f"メールサーバー {where} にログインできませんでした（ユーザー {server.username}、"
            f"パスワードは環境変数 {server.password_env}）: {_reason(err)}"
        ) from err
    except (smtplib.SMTPException, OSError) as err:
        raise MailError(
            f"メールサーバー {where} に {', '.join(to)} 宛てのメールを渡せませんでした: "
            f"{_reason(err)}"
        ) from err


def _connect(server: MailServer) -> smtplib.SMTP:
    host, port, timeout = server.smtp_host or "", server.port, server.timeout_seconds
    if server.security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if server.security == "starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
    return smtp


def _reason(err: BaseException) -> str:
    """Return an SMTP or network error as the server or the system said it."""
    if isinstance(err, smtplib.SMTPResponseException):
        text = (
            err.smtp_error.decode("utf-8", "replace")
            if isinstance(err.smtp_error, bytes)
            else str(err.smtp_error)
        )
        return f"{err.smtp_code} {text}"
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{a}: {c} {m.decode('utf-8', 'replace')}" for a, (c, m) in err.recipients.items()
        )
    return str(err) or type(err).__name__
