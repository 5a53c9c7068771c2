"""The reminder settings (reminders.yaml): found beside the plan, checked once, in Japanese."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.cycle.reminder_settings import load_reminder_settings, settings_path
from tasks.errors import ConfigError
from tasks.settings import PRESETS_DIR, REMINDERS_YAML


def _folder(tmp_path: Path, settings: str | None = None) -> Path:
    """Return a municipality's folder: 南区's plan.yaml and, if given, its reminders.yaml."""
    folder = tmp_path / "みどり野市"
    folder.mkdir()
    shutil.copy(PRESETS_DIR / "niigata-minami" / "plan.yaml", folder / "plan.yaml")
    if settings is not None:
        (folder / "reminders.yaml").write_text(settings, encoding="utf-8")
    return folder


MESSAGE = """
message:
  subject: "督促 {{ department }}"
  body: "{{ details }}"
"""


def test_the_shipped_settings_send_no_mail() -> None:
    """It ships a wording and no mail server: the list is made, nothing is mailed."""
    settings = load_reminder_settings("niigata-minami")
    assert settings_path("niigata-minami") == REMINDERS_YAML
    assert not settings.mail.configured
    assert settings.days_before == 7


def test_a_municipality_s_own_settings_sit_beside_its_plan(tmp_path: Path) -> None:
    """It reads reminders.yaml beside plan.yaml; without one, the shipped file."""
    own = _folder(tmp_path, "days_before: 3\n" + MESSAGE)
    assert settings_path(str(own)) == own / "reminders.yaml"
    assert load_reminder_settings(str(own)).days_before == 3
    (own / "reminders.yaml").unlink()
    assert settings_path(str(own)) == REMINDERS_YAML


def test_a_mail_server_defaults_its_port_to_its_security(tmp_path: Path) -> None:
    """It connects to 587 for STARTTLS, 465 for SSL and 25 without, unless told a port."""
    for security, port in (("starttls", 587), ("ssl", 465), ("none", 25)):
        mail = (
            "mail: {smtp_host: smtp.example.lg.jp, from_address: a@example.lg.jp, "
            f"security: {security}}}\n"
        )
        folder = tmp_path / security
        folder.mkdir()
        shutil.copy(PRESETS_DIR / "niigata-minami" / "plan.yaml", folder / "plan.yaml")
        (folder / "reminders.yaml").write_text(mail + MESSAGE, encoding="utf-8")
        server = load_reminder_settings(str(folder)).mail
        assert (server.configured, server.port) == (True, port)


@pytest.mark.parametrize(
    ("settings", "where", "says"),
    [
        # A name the message cannot use: stopped at load, not while sending.
        (MESSAGE.replace("details", "detail"), "message.body", "使えない名前があります"),
        # A broken Jinja tag, with its line.
        (
            MESSAGE.replace("{{ department }}", "{% if %}"),
            "message.subject",
            "書き方に誤りがあります",
        ),
        # A server without a sender.
        ("mail: {smtp_host: smtp.example.lg.jp}\n" + MESSAGE, "mail", "from_address"),
        # A copy address typed with a full-width at sign.
        (
            "mail: {smtp_host: s.example.lg.jp, from_address: a@example.lg.jp,"
            " cc: [b＠example.lg.jp]}\n" + MESSAGE,
            "mail",
            "cc の 1 番目: 「b＠example.lg.jp」はメールアドレスの形ではありません",
        ),
        # A key that does not exist.
        ("day_before: 3\n" + MESSAGE, "day_before", "知らない項目です"),
    ],
)
def test_a_mistake_names_the_file_and_the_key(
    tmp_path: Path, settings: str, where: str, says: str
) -> None:
    """It stops with one Japanese message naming the file, the key and what is wrong."""
    folder = _folder(tmp_path, settings)
    with pytest.raises(ConfigError) as raised:
        load_reminder_settings(str(folder))
    message = str(raised.value)
    assert str(folder / "reminders.yaml") in message
    assert f"場所 {where}" in message
    assert says in message
