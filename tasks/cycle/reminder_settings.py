"""The reminder settings (督促の設定): when reminders are due, the mail server, the wording.

``reminders.yaml`` beside the municipality's plan.yaml, else the shipped
``config/reminders.yaml``. Mail is off until ``mail.smtp_host`` is set: the 督促一覧 is written
either way. The mail password is never in the file: it comes from the environment variable
``mail.password_env`` names. The subject and body are Jinja templates (plain text), checked
at load against the names a message may use, so that a typo stops here with the key named,
never in the middle of sending.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tasks.errors import ConfigError
from tasks.plan.load import resolve_config_path
from tasks.plan.parts import is_mail_address, mail_address_problem
from tasks.settings import REMINDERS_YAML, load_yaml_model

SETTINGS_FILE = "reminders.yaml"

MESSAGE_NAMES: dict[str, str] = {
    "municipality": "みどり野市",
    "plan_name": "第２期みどり野市地域福祉計画",
    "committee": "地域福祉計画推進委員会",
    "year": "2025年度（令和7年度）",
    "department": "健康福祉課",
    "contact": "ご担当者",
    "reason": "未提出",
    "details": "現時点で、健康福祉課からの調査票のご提出を確認できておりません。",
    "deadline": "提出期限: 2025年6月30日（月）（期限を 3 日過ぎています）",
    "files": "・調査票: outgoing/2025/kenko-fukushi/2025_健康福祉課_調査票.xlsx",
    "latest_file": "",
    "signature": "みどり野市 福祉総務課 地域福祉係",
}
"""Every name a reminder's subject and body may use, with an example value."""

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MailServer(_Strict):
    """The mail server reminders are handed to (SMTP), and who they come from."""

    smtp_host: str | None = None
    """None: no mail is sent (the 督促一覧 is still written)."""
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    """None: 587 for starttls, 465 for ssl, 25 for none."""
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str = "SHIRYO_SMTP_PASSWORD"
    from_address: str | None = None
    from_name: str = ""
    reply_to: str | None = None
    cc: list[str] = Field(default_factory=list)
    """Also sent a copy of every reminder (the secretariat's own address, say)."""
    timeout_seconds: float = Field(default=30, gt=0)

    @property
    def configured(self) -> bool:
        """Return whether mail is set up (a server to hand it to)."""
        return bool(self.smtp_host)

    @property
    def port(self) -> int:
        """Return the port to connect to."""
        return self.smtp_port or DEFAULT_PORTS[self.security]

    @model_validator(mode="after")
    def _check_addresses(self) -> MailServer:
        if self.smtp_host and not self.from_address:
            raise ValueError(
                "smtp_host があるときは from_address（差出人のメールアドレス）も書いてください"
            )
        named = {"from_address": self.from_address, "reply_to": self.reply_to}
        named |= {f"cc の {i + 1} 番目": a for i, a in enumerate(self.cc)}
        for key, address in named.items():
            if address is not None and not is_mail_address(address):
                raise ValueError(f"{key}: {mail_address_problem(address)}")
        return self


class MessageTemplate(_Strict):
    """A reminder's subject and body: Jinja templates over :data:`MESSAGE_NAMES`."""

    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)


class ReminderSettings(_Strict):
    """Everything ``reminders.yaml`` says."""

    days_before: int = Field(default=7, ge=0, le=366)
    """Reminders are due from this many days before the plan's deadline."""
    department_folder: str | None = None
    """The workspace as departments reach it (``\\\\fileserver\\shiryo``), in messages and the
    list; None: the workspace's own location."""
    signature: str = ""
    """The sender's block at the end of each message (課・係・電話番号)."""
    mail: MailServer = Field(default_factory=MailServer)
    message: MessageTemplate


def settings_path(config: str) -> Path:
    """Return the reminder settings of a configuration: beside its plan.yaml, else shipped."""
    beside = resolve_config_path(config).parent / SETTINGS_FILE
    return beside if beside.is_file() else REMINDERS_YAML


def load_reminder_settings(config: str) -> ReminderSettings:
    """Load and check the reminder settings; a mistake names the file and the key."""
    path = settings_path(config)
    settings = load_yaml_model(path, ReminderSettings, "督促の設定")
    for part in ("subject", "body"):
        try:
            render_template(getattr(settings.message, part), MESSAGE_NAMES)
        except TemplateError as err:
            if isinstance(err, UndefinedError):
                problem = f"使えない名前があります（{err.message}）"
            else:
                line = getattr(err, "lineno", None)
                where = f"{line} 行目: " if line else ""
                problem = f"書き方に誤りがあります（{where}{err.message}）"
            raise ConfigError(
                f"{path}: 督促の設定に 1 件の問題があります\n"
                f"  場所 message.{part}: {problem}。使える名前: {', '.join(MESSAGE_NAMES)}"
            ) from err
    return settings


def render_template(template: str, names: dict[str, str]) -> str:
    """Return a message template filled in; an unknown name is an error, never blank."""
    environment = SandboxedEnvironment(
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,  # a line holding only {% if %} leaves no blank line
        lstrip_blocks=True,
    )
    return environment.from_string(template).render(names)
