"""Reminder mail: the polite Japanese words, and the mail handed to a real SMTP server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tasks.cycle.reminder_mail import (
    NO_ADDRESS,
    ReminderMessage,
    check_all_sent,
    mail_outcomes,
    messages_to_send,
    reminder_messages,
    send_mail,
)
from tasks.cycle.reminder_settings import MailServer, load_reminder_settings
from tasks.cycle.reminders import build_reminder_list, locator
from tasks.cycle.steps import write_call_workbooks
from tasks.errors import MailError
from tasks.plan.load import load_plan
from tasks.plan.model import Plan
from tasks.plan.parts import Department
from tasks.workspace.storage import open_storage
from tests.cycle.test_reminders import with_deadline
from tests.helpers import filled_workbook, submit
from tests.mailbox import free_port, smtp_server

SHARE = r"\\fs01\shiryo"


def _plan() -> Plan:
    """南区 with a deadline, 健康福祉課 and 地域総務課 given an address (one a contact)."""
    plan = with_deadline(load_plan("niigata-minami"))
    contacts = {
        "kenko-fukushi": {"email": "kenko@city.example.lg.jp", "contact": "福祉係 山田"},
        "chiiki-somu": {"email": "somu@city.example.lg.jp"},
    }
    departments = [
        Department.model_validate({**d.model_dump(), **contacts.get(d.id, {})})
        for d in plan.departments
    ]
    return plan.model_copy(update={"departments": departments})


def _messages(workspace: Path, plan: Plan) -> dict[str, ReminderMessage]:
    """Return 南区's reminders on 3 July 2021: 地域総務課 sent back, every other 未提出."""
    storage = open_storage(workspace)
    write_call_workbooks(plan, storage)
    bad = filled_workbook(plan, "chiiki-somu", grade="Z")
    submit(workspace, plan, "intake/2021/chiiki-somu/提出.xlsx", bad)
    listed = build_reminder_list(plan, storage, dt.date(2021, 7, 3), 7)
    settings = load_reminder_settings("niigata-minami").model_copy(
        update={"signature": "新潟市南区 地域総務課 地域福祉係（内線 1234）"}
    )
    found = reminder_messages(plan, listed, settings, locator(storage, SHARE))
    return {m.department_id: m for m in found}


def test_a_reminder_says_what_is_missing_by_when_and_where(workspace: Path) -> None:
    """It addresses the department and its contact politely, says the year, what is missing,
    the deadline and how late, where the 調査票 is and where to drop the file."""
    plan = _plan()
    kenko = _messages(workspace, plan)["kenko-fukushi"]

    assert kenko.to == "kenko@city.example.lg.jp"
    assert kenko.sent_on == dt.date(2021, 7, 3)
    assert kenko.subject == (
        "【ご提出のお願い】2021年度（令和3年度） 南区地域福祉計画 進捗状況調査票（健康福祉課）"
    )
    body = kenko.body
    assert body.startswith("健康福祉課\n福祉係 山田 様\n\nいつもお世話になっております。")
    for expected in (
        "新潟市南区 地域福祉計画推進委員会事務局です。",
        "2021年度（令和3年度）の「南区地域福祉計画」進捗状況調査票について",
        "現時点で、健康福祉課からの調査票のご提出を確認できておりません。",
        "提出期限: 2021年6月30日（水）（期限を 3 日過ぎています）",
        rf"・調査票: {SHARE}\outgoing\2021\kenko-fukushi\2021_健康福祉課_評価シート.xlsx",
        rf"・提出先: {SHARE}\intake\2021\kenko-fukushi",
        "行き違いでご提出いただいている場合は、ご容赦ください。",
    ):
        assert expected in body
    assert body.rstrip().endswith("新潟市南区 地域総務課 地域福祉係（内線 1234）")
    assert "差戻し票" not in body


def test_a_reminder_to_resubmit_points_to_the_feedback(workspace: Path) -> None:
    """It asks a department whose file was sent back to fix the 要修正 and points to its
    差戻し票 and 修正用の調査票; without a contact it writes ご担当者."""
    plan = _plan()
    somu = _messages(workspace, plan)["chiiki-somu"]

    assert somu.subject.startswith("【再提出のお願い】")
    assert "地域総務課\nご担当者 様" in somu.body
    assert "ご提出いただいた調査票（提出.xlsx、" in somu.body
    assert "差戻し票の「要修正」の箇所をすべて修正のうえ" in somu.body
    assert rf"・差戻し票: {SHARE}\feedback\2021\chiiki-somu\差戻し票_提出_" in somu.body
    assert rf"・修正用の調査票: {SHARE}\feedback\2021\chiiki-somu\修正用_提出_" in somu.body


def test_mail_goes_only_when_asked_for_set_up_and_addressed(workspace: Path) -> None:
    """It mails nobody unless asked and set up; a department without an address is recorded."""
    plan = _plan()
    storage = open_storage(workspace)
    write_call_workbooks(plan, storage)
    listed = build_reminder_list(plan, storage, dt.date(2021, 7, 3), 7)
    shipped = load_reminder_settings("niigata-minami")
    server = MailServer(smtp_host="127.0.0.1", from_address="jimukyoku@city.example.lg.jp")
    configured = shipped.model_copy(update={"mail": server})

    assert messages_to_send(plan, storage, listed, shipped, send=True) == []
    assert messages_to_send(plan, storage, listed, configured, send=False) == []
    to_send = messages_to_send(plan, storage, listed, configured, send=True)
    assert [m.department_id for m in to_send] == ["kenko-fukushi", "chiiki-somu"]
    outcomes = mail_outcomes(listed, {"kenko-fukushi": "送りました"}, True, configured)
    assert outcomes["kenko-fukushi"] == "送りました"
    assert outcomes["shakyo"] == NO_ADDRESS
    assert mail_outcomes(listed, {}, False, configured) == {}


def _server(port: int, **options: object) -> MailServer:
    return MailServer.model_validate(
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "security": "none",
            "from_address": "jimukyoku@city.example.lg.jp",
            "from_name": "地域福祉計画推進委員会 事務局",
            **options,
        }
    )


BODY = "健康福祉課\n福祉係 山田 様\n\n調査票のご提出をお願いいたします。\n"


def test_a_reminder_reaches_the_mail_server_in_japanese() -> None:
    """It hands one UTF-8 message to the SMTP server: Japanese subject, sender's name and body
    intact, a copy to the Cc, replies to the Reply-To."""
    with smtp_server() as mailbox:
        server = _server(
            mailbox.port, cc=["kiroku@city.example.lg.jp"], reply_to="tanto@city.example.lg.jp"
        )
        send_mail(server, None, ["kenko@city.example.lg.jp"], "【ご提出のお願い】調査票", BODY)

    (received,) = mailbox.received
    assert received.mail_from == "jimukyoku@city.example.lg.jp"
    assert received.recipients == ["kenko@city.example.lg.jp", "kiroku@city.example.lg.jp"]
    message = received.message
    assert message["Subject"] == "【ご提出のお願い】調査票"
    assert message["From"].addresses[0].display_name == "地域福祉計画推進委員会 事務局"
    assert message["Cc"] == "kiroku@city.example.lg.jp"
    assert message["Reply-To"] == "tanto@city.example.lg.jp"
    assert message.get_content().replace("\r\n", "\n") == BODY  # text travels with CRLF


def test_a_server_that_needs_a_login_gets_one() -> None:
    """It logs in with the user and the password from the environment; a wrong password is
    a Japanese MailError naming the server, the user and the variable, nothing sent."""
    with smtp_server(login=("jimukyoku", "s3cret")) as mailbox:
        server = _server(mailbox.port, username="jimukyoku")
        send_mail(server, "s3cret", ["kenko@city.example.lg.jp"], "件名", BODY)
        with pytest.raises(MailError) as raised:
            send_mail(server, "wrong", ["kenko@city.example.lg.jp"], "件名", BODY)

    assert len(mailbox.received) == 1
    message = str(raised.value)
    assert f"メールサーバー 127.0.0.1:{mailbox.port} にログインできませんでした" in message
    assert "ユーザー jimukyoku" in message and "SHIRYO_SMTP_PASSWORD" in message
    assert "wrong" not in message


@pytest.mark.parametrize(
    ("refuse", "running", "says"),
    [
        # The server refuses the address (an unknown user).
        (("kenko@city.example.lg.jp",), True, "550"),
        # The address is taken, the copy refused: not everyone got it.
        (("kiroku@city.example.lg.jp",), True, "kiroku@city.example.lg.jp: 550"),
        # Nothing listens on the port.
        ((), False, "kenko@city.example.lg.jp 宛てのメールを渡せませんでした"),
    ],
)
def test_mail_that_does_not_go_is_a_mail_error(
    refuse: tuple[str, ...], running: bool, says: str
) -> None:
    """It raises a Japanese MailError naming the server and why, never a library error."""
    with smtp_server(refuse=refuse) as mailbox:
        port = mailbox.port if running else free_port()
        server = _server(port, cc=["kiroku@city.example.lg.jp"])
        with pytest.raises(MailError) as raised:
            send_mail(server, None, ["kenko@city.example.lg.jp"], "件名", BODY)
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert says in str(raised.value)


def test_mail_not_sent_fails_the_run_naming_each_department(workspace: Path) -> None:
    """It raises one MailError naming the departments whose mail did not go and the list."""
    plan = _plan()
    storage = open_storage(workspace)
    listed = build_reminder_list(plan, storage, dt.date(2021, 7, 3), 7)
    outcomes = {"kenko-fukushi": "送りました（…）", "chiiki-somu": "送れませんでした: 550"}
    with pytest.raises(MailError) as raised:
        check_all_sent(outcomes, listed, "/ws/reminders/2021/督促一覧.xlsx")
    assert "1 部署に督促メールを送れませんでした: 地域総務課（送れませんでした: 550）" in str(
        raised.value
    )
    assert "/ws/reminders/2021/督促一覧.xlsx" in str(raised.value)
    check_all_sent({"kenko-fukushi": "送りました（…）", "shakyo": NO_ADDRESS}, listed, "x")
